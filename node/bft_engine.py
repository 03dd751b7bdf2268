"""The runtime that drives the pure consensus core over the peer transport.

Order of work on every Ready (consensus/ready.py, after etcd raft):
  1. persist the sign state (synced) before anything that depends on it is sent;
  2. send the messages;
  3. on a decision: commit the block with its certificate in one synced batch, apply it
     (mempool, notifications, projection);
  4. advance the core to the next height — at once when txs are pending or a peer is
     already there, otherwise after `empty_block_interval_ms`, so an idle consortium does
     not write a stream of empty blocks.
Transactions a client submits here are gossiped to every peer in batches; transactions a
peer gossips are verified once on arrival (node/mempool.py) and never re-gossiped (the mesh
is complete). A node that learns it is behind fetches blocks from a peer, checks each commit
certificate, re-executes each block and rejoins consensus at the new head.
May import: asyncio, consensus.*, node.*, proto.
"""

from __future__ import annotations

import asyncio
import logging
import time

from consensus.block_source import BlockMeta
from consensus.messages import CommitCertificate, Status, from_peer_message, to_peer_message
from consensus.sign_state import SignState
from consensus.state_machine import ConsensusCore
from consensus.timeouts import TimeoutConfig
from consensus.validators import ValidatorSet
from google.protobuf.message import DecodeError
from node import crash, schema
from node.errors import InvalidBlock, StoreCorrupted, TamgaError
from node.logs import fields
from node.peers import PeerTransport
from proto import tamga_pb2 as pb

log = logging.getLogger("tamga.bft")

SIGN_STATE_KEY = schema.private("sign_state")
EVIDENCE_PREFIX = "evidence/"
TX_GOSSIP_BATCH_MAX = 500
# Gossip is sent at once when none was sent for this long, so a lone tx loses no time;
# under load, txs arriving within it go in one batch. Every peer message costs each
# receiver a gRPC read and an event-loop turn, which at hundreds of one-tx batches per
# second cost more CPU than verifying the txs in them.
TX_GOSSIP_INTERVAL_MS = 20
SYNC_BATCH_BLOCKS = 200
EMPTY_BLOCK_INTERVAL_MS_DEFAULT = 5_000


class ChainBlockSource:
    """The consensus core's view of the application: build and check blocks on the chain."""

    def __init__(self, engine: "BftEngine"):
        self.e = engine

    def propose(self, height: int, round_: int, last_commit: CommitCertificate | None) -> bytes:
        rt = self.e.rt
        params = rt.genesis.consensus
        assert height == rt.chain.head.height + 1, "asked to propose on a head we do not have"
        with rt.cpu.stage("build"):
            txs = rt.mempool.reap(int(params["block_txs_max"]), rt.chain.tx_bytes_budget())
            prepared = rt.chain.build_block(txs, rt.signer.public_key, last_commit.encode() if last_commit else b"")
            return prepared.block_bytes

    def inspect(self, block: bytes) -> BlockMeta | None:
        try:
            header_bytes = pb.Block.FromString(block).header
            header = pb.BlockHeader.FromString(header_bytes)
        except DecodeError:
            return None
        return BlockMeta(self.e.rt.chain.hash(header_bytes), header.time_ms)

    def validate(self, height: int, block: bytes) -> bool:
        rt = self.e.rt
        if height != rt.chain.head.height + 1:
            return False
        with rt.cpu.stage("validate"):
            try:
                rt.chain.validate_block(block, rt.mempool.verify_for_block)
                return True
            except InvalidBlock as err:
                log.warning("invalid proposal", extra=fields(height=height, reason=err.message))
                return False


class BftEngine:
    def __init__(self, runtime):
        self.rt = runtime
        chain = runtime.chain
        self.validators = ValidatorSet.of(runtime.genesis.validators)
        self.config = TimeoutConfig(**{k: int(v) for k, v in runtime.genesis.consensus.items() if k in TimeoutConfig.__dataclass_fields__})
        self.empty_block_interval_ms = int(runtime.genesis.consensus.get("empty_block_interval_ms", EMPTY_BLOCK_INTERVAL_MS_DEFAULT))
        raw = chain.kv.get(SIGN_STATE_KEY)
        sign_state = SignState.decode(raw) if raw else None
        head = chain.head
        self.core = ConsensusCore(
            chain_id=chain.chain_id,
            signer=runtime.signer,
            block_source=ChainBlockSource(self),
            height=head.height + 1,
            validators=self.validators,
            prev_block_time_ms=head.time_ms,
            last_commit=CommitCertificate.decode(chain.commit_bytes(head.height)) if head.height else None,
            now_ms=runtime.now_ms(),
            sign_state=sign_state,
            config=self.config,
        )
        self.peer_index = {}
        for p in runtime.config.peers:
            idx = self.validators.index_of(bytes.fromhex(p.validator_key))
            if idx is not None:
                self.peer_index[p.name] = idx
        self.peer_name = {i: n for n, i in self.peer_index.items()}
        self.transport = PeerTransport(runtime.config, runtime.certificates, self._on_peer_message, self._sync_source, self._status, is_revoked=chain.is_revoked, now_ms=runtime.now_ms)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._gossip_batch: list[bytes] = []
        self._gossip_scheduled = False
        self._gossip_sent_at = 0.0
        self._decided_at_ms: int | None = None
        self._peer_heights: dict[str, int] = {}
        self._sync_from: str | None = None
        self._syncing = False
        self.stats = {"gossip_txs_in": 0, "gossip_txs_refused": 0, "messages_in": 0, "messages_malformed": 0, "blocks_synced": 0, "evidence": 0}

    # --- engine interface used by the runtime ------------------------------------------
    def tx_added(self, tx) -> None:
        self._gossip_batch.append(tx.envelope)
        if len(self._gossip_batch) >= TX_GOSSIP_BATCH_MAX:
            self._flush_gossip()
        elif not self._gossip_scheduled:
            self._gossip_scheduled = True
            loop = asyncio.get_running_loop()
            # call_soon even when due now: txs submitted in the same loop turn share a batch.
            due = max(0.0, self._gossip_sent_at + TX_GOSSIP_INTERVAL_MS / 1000 - loop.time())
            loop.call_later(due, self._flush_gossip) if due else loop.call_soon(self._flush_gossip)
        self._wake_for_txs()

    def status(self) -> dict:
        return {
            "engine": "bft",
            "round": self.core.round,
            "step": self.core.step_name,
            "validator_index": self.core.validator_index,
            "peers": [name for name, st in self.transport.peers.items() if st.connected],
            "peer_heights": dict(self._peer_heights),
            "stats": {**self.stats, **{f"core_{k}": v for k, v in self.core.stats.items()}},
        }

    async def start(self) -> None:
        await self.transport.start()
        self._tasks.append(asyncio.create_task(self._drive(), name="consensus"))
        self._tasks.append(asyncio.create_task(self._initial_sync(), name="initial-sync"))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await self.transport.stop()

    def _wake_for_txs(self) -> None:
        # New txs matter to the drive loop only when it waits for some to start the next
        # height; otherwise each would cost a loop turn (a timer and a task) for nothing.
        if self.core.decided:
            self._wake.set()

    # --- the loop ----------------------------------------------------------------------
    async def _drive(self) -> None:
        self._apply_ready()
        while True:
            now = self.rt.now_ms()
            wait_ms = max(0, self.core.next_deadline_ms() - now)
            if self.core.decided and self._decided_at_ms is not None:
                wait_ms = min(wait_ms, max(0, self._decided_at_ms + self.empty_block_interval_ms - now))
            try:
                await asyncio.wait_for(self._wake.wait(), wait_ms / 1000)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            try:
                self.core.tick(self.rt.now_ms())
                self._apply_ready()
                self._maybe_advance()
            except StoreCorrupted as err:
                self.rt.fatal(err)

    def _on_peer_message(self, peer: str, msg: pb.PeerMessage) -> None:
        try:
            self._handle_peer_message(peer, msg)
        except StoreCorrupted as err:
            self.rt.fatal(err)

    def _handle_peer_message(self, peer: str, msg: pb.PeerMessage) -> None:
        if msg.WhichOneof("msg") == "txs":
            # Not announced again: peers' txs are never re-gossiped (see the module docstring).
            admitted = self.rt.submit_many(msg.txs.envelopes, announce=False)
            refused = sum(isinstance(tx, TamgaError) for tx in admitted)
            self.stats["gossip_txs_in"] += len(admitted) - refused
            self.stats["gossip_txs_refused"] += refused
            self._wake_for_txs()
            return
        self.stats["messages_in"] += 1
        try:
            m = from_peer_message(msg)
        except TamgaError:
            self.stats["messages_malformed"] += 1
            return
        if m is None:
            return
        if isinstance(m, Status):
            self._peer_heights[peer] = m.height
        elif m.height > self.core.height and self.core.decided:
            # A peer already works on the next height: follow without waiting for txs.
            self._advance()
        self.core.step(m, peer=self.peer_index.get(peer))
        self._apply_ready()
        self._maybe_advance()

    def _apply_ready(self) -> None:
        while True:
            ready = self.core.ready()
            if ready.is_empty():
                return
            if ready.sign_state is not None:
                # Persist before sending: a restarted validator must never sign against it.
                self.rt.kv.write({SIGN_STATE_KEY: ready.sign_state.encode()}, sync=True)
            for out in ready.messages:
                pm = to_peer_message(out.message)
                if out.to is None:
                    self.transport.broadcast(pm)
                elif out.to in self.peer_name:
                    self.transport.send(self.peer_name[out.to], pm)
            for ev in ready.evidence:
                self.stats["evidence"] += 1
                key = schema.private(f"{EVIDENCE_PREFIX}{ev.first.height:020d}/{ev.first.validator_index}/{ev.first.round}/{ev.first.type}")
                self.rt.kv.write({key: ev.to_proto().SerializeToString()}, sync=True)
                log.warning("equivocation evidence", extra=fields(height=ev.first.height, validator=ev.first.validator_index))
            for hint in ready.peers_ahead:
                name = self.peer_name.get(hint.peer)
                if name:
                    self._peer_heights[name] = max(self._peer_heights.get(name, 0), hint.height)
                    self._start_sync(name)
            if ready.decision is not None:
                self._commit_decision(ready.decision)

    def _commit_decision(self, decision) -> None:
        rt = self.rt
        if decision.height != rt.chain.head.height + 1:
            return  # block sync got there first
        # Validated when the proposal came (the prepared block is cached): what this costs is
        # the synced batch and on_committed.
        with rt.cpu.stage("commit"):
            prepared = rt.chain.validate_block(decision.block, rt.mempool.verify_for_block)
            crash.point("after_decision", txs=len(prepared.txs))
            rt.chain.commit(prepared, decision.certificate.encode())
            crash.point("after_block_write", txs=len(prepared.txs))
            rt.on_committed(prepared)
        self._decided_at_ms = rt.now_ms()
        # The drive loop may be parked on a timer set before this decision (it came in a
        # peer's message): wake it so the next height starts when it should.
        self._wake.set()

    def _maybe_advance(self) -> None:
        if not self.core.decided:
            return
        idle_over = self._decided_at_ms is not None and self.rt.now_ms() >= self._decided_at_ms + self.empty_block_interval_ms
        if len(self.rt.mempool) or idle_over:
            self._advance()

    def _advance(self) -> None:
        head = self.rt.chain.head
        if self.core.height > head.height:
            return  # still deciding the next height
        last_commit = CommitCertificate.decode(self.rt.chain.commit_bytes(head.height))
        self.core.advance_height(head.height + 1, self.validators, head.time_ms, last_commit)
        self._decided_at_ms = None
        self._apply_ready()

    # --- transaction gossip ------------------------------------------------------------
    def _flush_gossip(self) -> None:
        self._gossip_scheduled = False
        if not self._gossip_batch:
            return
        batch, self._gossip_batch = self._gossip_batch, []
        self._gossip_sent_at = asyncio.get_running_loop().time()
        self.transport.broadcast(pb.PeerMessage(txs=pb.TxBatch(envelopes=batch)))

    # --- block sync --------------------------------------------------------------------
    def _sync_source(self, from_height: int, count: int) -> list[tuple[bytes, bytes]]:
        chain = self.rt.chain
        out = []
        for h in range(max(1, from_height), min(chain.head.height, from_height + count - 1) + 1):
            out.append((chain.block_bytes(h), chain.commit_bytes(h)))
        return out

    def _status(self) -> pb.PeerStatus:
        head = self.rt.chain.head
        return pb.PeerStatus(height=head.height, round=self.core.round, head_hash=head.block_hash)

    async def _initial_sync(self) -> None:
        """At start, ask every peer where it is and catch up from the highest."""
        statuses = await asyncio.gather(*(self._ask_status(p) for p in self.transport.peers), return_exceptions=True)
        best = max(((s.height, p) for p, s in zip(self.transport.peers, statuses) if isinstance(s, pb.PeerStatus)), default=None)
        if best and best[0] > self.rt.chain.head.height:
            self._start_sync(best[1])

    async def _ask_status(self, peer: str) -> pb.PeerStatus:
        st = await self.transport.peer_status(peer)
        self._peer_heights[peer] = st.height
        return st

    def _start_sync(self, peer: str) -> None:
        if self._syncing:
            return
        self._syncing = True
        self._tasks.append(asyncio.create_task(self._sync(peer), name=f"sync-{peer}"))

    async def _sync(self, peer: str) -> None:
        rt = self.rt
        started = time.perf_counter()
        first = rt.chain.head.height
        try:
            while True:
                batch = await self.transport.fetch_blocks(peer, rt.chain.head.height + 1, SYNC_BATCH_BLOCKS)
                if not batch:
                    break
                for block, commit in batch:
                    if pb.BlockHeader.FromString(pb.Block.FromString(block).header).height != rt.chain.head.height + 1:
                        continue
                    prepared = rt.chain.validate_block(block, rt.mempool.verify_for_block)
                    rt.chain.commit(prepared, commit)  # checks the commit certificate
                    rt.on_committed(prepared)
                    self.stats["blocks_synced"] += 1
                    await asyncio.sleep(0)  # keep serving while catching up
                if len(batch) < SYNC_BATCH_BLOCKS:
                    break
            if rt.chain.head.height > first:
                log.info("caught up", extra=fields(peer=peer, blocks=rt.chain.head.height - first, seconds=round(time.perf_counter() - started, 2), height=rt.chain.head.height))
                if self.core.height <= rt.chain.head.height:
                    last_commit = CommitCertificate.decode(rt.chain.commit_bytes(rt.chain.head.height))
                    self.core.advance_height(rt.chain.head.height + 1, self.validators, rt.chain.head.time_ms, last_commit)
                    self._decided_at_ms = None
                    self._apply_ready()
        except StoreCorrupted as err:
            self.rt.fatal(err)
        except (TamgaError, DecodeError, OSError) as err:
            log.warning("block sync failed", extra=fields(peer=peer, error=str(err)))
        except Exception as err:  # grpc errors: the peer went away; try again on the next hint
            log.warning("block sync interrupted", extra=fields(peer=peer, error=type(err).__name__))
        finally:
            self._syncing = False
            self._wake.set()
