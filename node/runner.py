"""One node process: store, chain, mempool, engine (solo or BFT), gRPC services, HTTP API.

`tamga node run --config FILE` builds a NodeRuntime and runs it until SIGINT/SIGTERM.
Startup checks the store before taking part (node/startup_check.py): a node whose store
fails them refuses to start with a clear message instead of signing anything built on
damaged data.
May import: everything in node/, consensus/, cadastre/, api/, proto/.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from typing import Callable, Sequence

import grpc

from node import crash, native
from node.apps import executor_for
from node.chain import Chain, PreparedBlock
from node.config import NodeConfig
from node.cpu_meter import CpuMeter
from node.errors import TamgaError
from node.envelope import EnvelopeVerifier
from node.genesis import Genesis
from node.hub import CommitHub, CommittedTx, RecentTxs
from node.interfaces import VerifiedTx
from node.kv import open_node_store
from node.ledger_service import LedgerServicer, add_ledger_service
from node.logs import fields
from node.mempool import Mempool
from node.peers import GRPC_OPTIONS
from node.pki import verifier_for
from node.signing import Signer
from proto import tamga_pb2 as pb

log = logging.getLogger("tamga.node")

CommitListener = Callable[[PreparedBlock], None]


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class NodeRuntime:
    def __init__(self, config: NodeConfig, *, now_ms: Callable[[], int] = wall_clock_ms):
        self.config = config
        self.now_ms = now_ms
        crash.arm(config.crash_at or os.environ.get("TAMGA_CRASH_AT", ""))
        with open(config.path(config.genesis_file), "rb") as f:
            self.genesis = Genesis.from_json(f.read())
        with open(config.path(config.validator_key_file)) as f:
            self.signer = Signer(bytes.fromhex(f.read().strip()))
        self.kv = open_node_store(os.path.join(config.path(config.data_dir), "db"))
        self.executor = executor_for(self.genesis.app)
        self.chain = Chain(self.kv, self.genesis, self.executor)
        self.certificates = verifier_for(self.genesis.ca_certificate_pem.encode())
        self.envelopes = EnvelopeVerifier(self.genesis.chain_id, self.certificates)
        self.mempool = Mempool(self.chain, self.envelopes, self.executor, now_ms=now_ms)
        self.hub = CommitHub(self.chain.head.height)
        self.recent = RecentTxs()
        self.cpu = CpuMeter()  # created on the thread that runs the event loop
        self.moj_bin = str(self.genesis.app_state.get("authorities", {}).get("MOJ", ""))
        # Called after one or more blocks committed, with the last of them (see
        # _schedule_commit_listeners); each catches up from its own cursor.
        self.commit_listeners: list[CommitListener] = []
        self._listeners_due: PreparedBlock | None = None
        self.engine = self._make_engine()
        self._grpc: grpc.aio.Server | None = None
        self._http_task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self.started_ms = now_ms()

    def _make_engine(self):
        if len(self.genesis.validators) == 1:
            from node.solo_engine import SoloEngine

            return SoloEngine(self)
        from node.bft_engine import BftEngine
        from node.peers import check_own_identity

        # Refuse to start with a TLS certificate that names another key than the one this
        # node votes with: peers would attribute its messages to someone else.
        check_own_identity(self.config, self.now_ms())

        return BftEngine(self)

    # --- what services call ------------------------------------------------------------
    def submit(self, envelope: bytes) -> VerifiedTx:
        with self.cpu.stage("admission"):
            return self._admit(envelope)

    def submit_many(self, envelopes: Sequence[bytes], *, announce: bool = True) -> list[VerifiedTx | TamgaError]:
        """Admit each envelope, in order: its VerifiedTx, or the typed error that refused it.
        For a batch (a client's SubmitStream message, a peer's gossip): the CPU meter is read
        once per batch, not twice per tx (a reading is a system call). `announce=False` for
        txs a peer gossiped: they are not passed on to the engine to gossip again."""
        out: list[VerifiedTx | TamgaError] = []
        with self.cpu.stage("admission"):
            for envelope in envelopes:
                try:
                    out.append(self._admit(envelope, announce))
                except TamgaError as err:
                    out.append(err)
        return out

    def _admit(self, envelope: bytes, announce: bool = True) -> VerifiedTx:
        tx = self.mempool.add(envelope)
        if announce:
            self.engine.tx_added(tx)
        return tx

    def on_committed(self, prepared: PreparedBlock) -> None:
        """Called by the engine after the block's batch is durable (crash point 2 passed)."""
        self.mempool.remove_committed(prepared.txs)
        tx_ids = [tx.tx_id for tx in prepared.txs]
        # Scheduled before the waiters are woken, so that a client told its tx committed
        # reads a cadastre that holds it (callbacks run in the order they were scheduled).
        self._schedule_commit_listeners(prepared)
        # Before waking the waiters, so they are answered from memory (committed_tx).
        self.recent.add_block(prepared.height, tx_ids, [tx.envelope for tx in prepared.txs], prepared.execution.receipts)
        self.hub.committed(prepared.height, tx_ids)
        crash.point("after_apply", txs=len(prepared.txs))
        log.info(
            "committed",
            extra=fields(height=prepared.height, txs=len(prepared.txs), hash=prepared.block_hash.hex()[:16], state_root=prepared.execution.state_root.hex()[:16]),
        )

    def _schedule_commit_listeners(self, prepared: PreparedBlock) -> None:
        """Run the commit listeners (the cadastre projection) after the engine's step, not in
        it: the votes and the next proposal this commit leads to go out first, and the other
        validators work on them while this node projects. Commits before the listeners ran
        are coalesced; a listener catches up from its own cursor to the head."""
        if self._listeners_due is None:
            asyncio.get_running_loop().call_soon(self._run_commit_listeners)
        self._listeners_due = prepared

    def _run_commit_listeners(self) -> None:
        prepared, self._listeners_due = self._listeners_due, None
        assert prepared is not None, "listeners run once per scheduling"
        with self.cpu.stage("cadastre"):
            for listener in self.commit_listeners:
                listener(prepared)
        crash.point("after_projection", txs=len(prepared.txs))

    def committed_tx(self, tx_id: bytes) -> CommittedTx:
        """A committed tx: from the recent-commit index, else from the store (NotFound if
        it is not committed)."""
        hit = self.recent.get(tx_id)
        if hit is not None:
            return hit
        return CommittedTx(*self.chain.tx(tx_id))

    def committed_location(self, tx_id: bytes) -> tuple[int, int] | None:
        """(height, index in its block) of a committed tx, or None."""
        hit = self.recent.get(tx_id)
        if hit is not None:
            return hit.height, hit.index
        return self.chain.tx_location(tx_id)

    def committed_height(self, tx_id: bytes) -> int | None:
        """The height `tx_id` committed at, or None."""
        loc = self.committed_location(tx_id)
        return None if loc is None else loc[0]

    def fatal(self, err: Exception) -> None:
        """The node's own store is damaged (StoreCorrupted): stop at once, before signing
        anything built on it. Exit code 3; the message says how to restore the node."""
        log.critical("refusing to take part: %s", getattr(err, "message", str(err)), extra=fields(node=self.config.name))
        logging.shutdown()
        os._exit(3)

    def node_status(self) -> pb.NodeStatus:
        head = self.chain.head
        eng = self.engine.status()
        return pb.NodeStatus(
            chain_id=self.genesis.chain_id,
            height=head.height,
            head_hash=head.block_hash,
            state_root=head.state_root,
            round=eng.get("round", 0),
            mempool_size=len(self.mempool),
            peers=eng.get("peers", []),
            node_name=self.config.name,
        )

    def status_dict(self) -> dict:
        head = self.chain.head
        return {
            "node": self.config.name,
            "organisation": self.config.organisation,
            "chain_id": self.genesis.chain_id,
            "height": head.height,
            "head_hash": head.block_hash.hex(),
            "state_root": head.state_root.hex(),
            "block_time_ms": head.time_ms,
            "mempool": len(self.mempool),
            # Whether the hot modules run compiled (node/native.py), and from which build or why not.
            "native": native.status(),
            **self.engine.status(),
        }

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        self._grpc = grpc.aio.server(options=GRPC_OPTIONS)
        self._ledger = LedgerServicer(self)
        add_ledger_service(self._ledger, self._grpc)
        self._grpc.add_insecure_port(self.config.ledger_listen)
        await self._grpc.start()
        await self.engine.start()
        if self.config.http_listen:
            self._http_task = asyncio.create_task(self._serve_http(), name="http")
        log.info(
            "node started",
            extra=fields(node=self.config.name, height=self.chain.head.height, ledger=self.config.ledger_listen, peer=self.config.peer_listen, http=self.config.http_listen,
                         compiled=native.status()["compiled"]),
        )

    async def _serve_http(self) -> None:
        try:
            from api.app import create_app
        except ImportError:
            log.warning("HTTP API not available in this build")
            return
        import uvicorn

        host, port = self.config.http_listen.rsplit(":", 1)
        server = uvicorn.Server(uvicorn.Config(create_app(self), host=host, port=int(port), log_level="warning", lifespan="on"))
        server.install_signal_handlers = lambda: None  # the runtime owns the signals
        self._http_server = server
        await server.serve()

    async def stop(self) -> None:
        await self.engine.stop()
        if self._http_task:
            # Ask uvicorn to finish (lifespan shutdown closes the cadastre and webhook sender)
            # rather than cancelling it mid-request.
            server = getattr(self, "_http_server", None)
            if server is not None:
                server.should_exit = True
                try:
                    await asyncio.wait_for(asyncio.shield(self._http_task), 5)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    self._http_task.cancel()
            else:
                self._http_task.cancel()
        if self._grpc:
            self._ledger.end_streams()
            await self._grpc.stop(grace=0.5)
        self.kv.close()

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stopping.set)
        await self.start()
        await self._stopping.wait()
        log.info("stopping", extra=fields(node=self.config.name))
        await self.stop()
