"""In-process notification of commits: who waits for a tx, who follows the chain.

The engine calls `committed(height, tx_ids)` after each commit is durable; the Ledger
service, the HTTP API, the cadastre projection and webhooks wait on it. RecentTxs keeps the
txs of the last few committed blocks in memory, so that answering a waiter does not load
and parse a whole block and its receipts from the store for one tx.
May import: asyncio, stdlib.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any, Callable, Iterable, NamedTuple, Sequence

RECENT_TXS_MAX = 8192


class CommittedTx(NamedTuple):
    """One committed tx as the store would give it (node/chain.py Chain.tx)."""

    height: int
    index: int
    envelope: bytes
    receipt: Any            # the pb.Receipt the block's execution produced (not copied)


class RecentTxs:
    """tx id -> CommittedTx for the txs of the last committed blocks, at most about
    `max_txs` of them (whole blocks are dropped, oldest first; the newest block is always
    kept). Filled only after a block is durable, so it never answers for a tx the store
    would not have; a miss means "ask the store"."""

    def __init__(self, max_txs: int = RECENT_TXS_MAX):
        assert max_txs > 0
        self.max_txs = max_txs
        self._txs: dict[bytes, CommittedTx] = {}
        self._blocks: collections.deque[list[bytes]] = collections.deque()

    def __len__(self) -> int:
        return len(self._txs)

    def add_block(self, height: int, tx_ids: Sequence[bytes], envelopes: Sequence[bytes], receipts: Sequence[Any]) -> None:
        assert len(tx_ids) == len(envelopes) == len(receipts), "one receipt per tx"
        txs = self._txs
        for i, tx_id in enumerate(tx_ids):
            txs[tx_id] = CommittedTx(height, i, envelopes[i], receipts[i])
        self._blocks.append(list(tx_ids))
        while len(txs) > self.max_txs and len(self._blocks) > 1:
            for tx_id in self._blocks.popleft():
                txs.pop(tx_id, None)

    def get(self, tx_id: bytes) -> CommittedTx | None:
        return self._txs.get(tx_id)


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
        fut = self.watch_tx(tx_id)
        try:
            height = committed_at(tx_id)
            if height is not None:
                return height
            # A timer that fails the future instead of asyncio.wait_for: same outcome, but
            # about half the cost on a path every submitted tx takes.
            timer = fut.get_loop().call_later(timeout_s, _expire, fut)
            try:
                return await fut
            finally:
                timer.cancel()
        finally:
            self.unwatch_tx(tx_id, fut)

    def watch_tx(self, tx_id: bytes) -> asyncio.Future:
        """A future that gets the height `tx_id` commits at; for callers that do not await it
        (SubmitStream). Call unwatch_tx once done with it."""
        fut = asyncio.get_running_loop().create_future()
        waiters = self._tx_waiters.get(tx_id)
        if waiters is None:
            self._tx_waiters[tx_id] = [fut]
        else:
            waiters.append(fut)
        return fut

    def unwatch_tx(self, tx_id: bytes, fut: asyncio.Future) -> None:
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


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError())
