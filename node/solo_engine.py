"""The engine of a one-validator chain: seal a block whenever txs are pending.

May import: asyncio, node.*.
"""

from __future__ import annotations

import asyncio
import logging

from node import crash
from node.errors import StoreCorrupted
from node.solo import SoloSealer

log = logging.getLogger("tamga.solo")


class SoloEngine:
    def __init__(self, runtime):
        self.rt = runtime
        self.sealer = SoloSealer(runtime.chain, runtime.mempool, runtime.signer, now_ms=runtime.now_ms)
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def tx_added(self, tx) -> None:
        self._wake.set()

    def status(self) -> dict:
        return {"engine": "solo", "round": 0, "peers": []}

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="solo-sealer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _run(self) -> None:
        interval_s = int(self.rt.genesis.consensus["block_interval_ms"]) / 1000
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Let a burst of submissions gather into one block.
            await asyncio.sleep(interval_s)
            try:
                self._seal_pending()
            except StoreCorrupted as err:
                self.rt.fatal(err)

    def _seal_pending(self) -> None:
        while len(self.rt.mempool):
            crash.point("after_decision", txs=len(self.rt.mempool))
            with self.rt.cpu.stage("build"):  # a seal builds the block and writes it: one call
                prepared = self.sealer.seal()
            if prepared is None:
                break
            crash.point("after_block_write", txs=len(prepared.txs))
            with self.rt.cpu.stage("commit"):
                self.rt.on_committed(prepared)
