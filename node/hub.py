"""In-process notification of commits: who waits for a tx, who follows the chain.

The engine calls `committed(height, tx_ids)` after each commit is durable; the Ledger
service, the HTTP API, the cadastre projection and webhooks wait on it.
May import: asyncio, stdlib.
"""

from __future__ import annotations

import asyncio
from typing import Callable, Iterable


class CommitHub:
    def __init__(self, height: int = 0):
        self.height = height
        self._changed = asyncio.Event()
        self._tx_waiters: dict[bytes, list[asyncio.Future]] = {}

    def committed(self, height: int, tx_ids: Iterable[bytes]) -> None:
        assert height >= self.height, "commits are announced in order"
        self.height = height
        for tx_id in tx_ids:
            for fut in self._tx_waiters.pop(tx_id, ()):
                if not fut.done():
                    fut.set_result(height)
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_tx(self, tx_id: bytes, timeout_s: float, committed_at: Callable[[bytes], int | None]) -> int:
        """Wait until `tx_id` is committed; its height, or asyncio.TimeoutError.

        `committed_at` looks the tx up in the store; it is asked after the waiter is
        registered, so a commit between the two cannot be missed."""
        fut = asyncio.get_running_loop().create_future()
        self._tx_waiters.setdefault(tx_id, []).append(fut)
        try:
            height = committed_at(tx_id)
            if height is not None:
                return height
            return await asyncio.wait_for(fut, timeout_s)
        finally:
            waiters = self._tx_waiters.get(tx_id)
            if waiters and fut in waiters:
                waiters.remove(fut)
                if not waiters:
                    del self._tx_waiters[tx_id]

    async def wait_height_above(self, height: int, timeout_s: float | None = None) -> int:
        """Return as soon as the committed height exceeds `height`."""
        while self.height <= height:
            changed = self._changed
            if timeout_s is None:
                await changed.wait()
            else:
                await asyncio.wait_for(changed.wait(), timeout_s)
        return self.height
