"""One simulated node: what the runtime does with the consensus core (test code).

Applies each Ready in the documented order — persist the sign state, send, commit the
decided block to the node's log, then advance — and can crash between any two of those
steps ("crash points", as CometBFT's libs/fail). A restart builds a new core from what is
on "disk": the last persisted sign state and the committed-blocks log. Block sync: on a
PeerAhead hint (or when stuck one block behind) the node asks that peer for committed
blocks and accepts each one only with a valid certificate and a valid block.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from consensus.messages import CommitCertificate, Message, Vote
from consensus.sign_state import SignState
from node.hashing import sha256
from node.signing import Signer
from tests.simulation.app import SimBlockSource, read_block

if TYPE_CHECKING:
    from tests.simulation.simulation import Simulation

SYNC_RETRY_MS = 1500            # ask again when a sync answer did not come
SYNC_STUCK_MS = 4000            # one block behind for this long: sync instead of waiting
SYNC_BATCH_MAX = 20             # blocks per sync answer


@dataclasses.dataclass(frozen=True)
class Committed:
    height: int
    block_hash: bytes
    block: bytes
    certificate: CommitCertificate
    time_ms: int


@dataclasses.dataclass
class Disk:
    """What survives a crash."""

    sign_state: bytes | None = None
    log: list[Committed] = dataclasses.field(default_factory=list)


class SimNode:
    def __init__(self, sim: "Simulation", name: str, index: int, signer: Signer, honest: bool):
        self.sim = sim
        self.name = name
        self.index = index
        self.signer = signer
        self.honest = honest
        self.disk = Disk()
        self.core = None
        self.crash_point: str | None = None     # armed: "after_persist" or "after_commit"
        self.wake_at: int | None = None
        self.wake_token = 0
        self.best_hint = (0, -1)                # (peer's committed height, peer index)
        self.sync_next_ms = 0
        self.sync_check_scheduled = False
        self.last_commit_ms = 0
        self.crashes = 0
        self.syncs = 0
        self.source = SimBlockSource(
            sim.chain_id, name, sim.node_validators, sim.genesis_time_ms, self.hash_at, sim.node_cert_ok
        )

    # --- disk -------------------------------------------------------------------------
    @property
    def up(self) -> bool:
        return self.core is not None

    @property
    def committed_height(self) -> int:
        return len(self.disk.log)

    def hash_at(self, height: int) -> bytes | None:
        log = self.disk.log
        return log[height - 1].block_hash if 1 <= height <= len(log) else None

    def _head(self) -> tuple[int, CommitCertificate | None]:
        log = self.disk.log
        return (self.sim.genesis_time_ms, None) if not log else (log[-1].time_ms, log[-1].certificate)

    # --- life -------------------------------------------------------------------------
    def start(self) -> None:
        assert self.core is None
        prev_time, last_commit = self._head()
        state = None if self.disk.sign_state is None else SignState.decode(self.disk.sign_state)
        self.core = self.sim.core_class(
            chain_id=self.sim.chain_id,
            signer=self.signer,
            block_source=self.source,
            height=self.committed_height + 1,
            validators=self.sim.node_validators,
            prev_block_time_ms=prev_time,
            last_commit=last_commit,
            now_ms=self.sim.now_for(self),
            sign_state=state,
            config=self.sim.timeouts,
        )
        self.last_commit_ms = self.sim.clock.now_ms
        self._after_input()

    def crash(self) -> None:
        if self.core is not None:
            self.sim.absorb_stats(self.core.stats)
        self.core = None
        self.crash_point = None
        self.wake_at = None
        self.wake_token += 1
        self.crashes += 1

    # --- inputs -----------------------------------------------------------------------
    def receive(self, message: Message, sender: int) -> None:
        if self.core is None:
            return
        self.core.tick(self.sim.now_for(self))
        self.core.step(message, peer=sender)
        self._after_input()

    def wake(self, token: int) -> None:
        if self.core is None or token != self.wake_token:
            return
        self.wake_at = None
        self.core.tick(self.sim.now_for(self))
        self._after_input()

    def _after_input(self) -> None:
        core = self.core
        assert core is not None
        ready = core.ready()
        # 1. persist
        if ready.sign_state is not None:
            self.disk.sign_state = ready.sign_state.encode()
        if self.crash_point == "after_persist" and ready.messages:
            self.sim.note(f"{self.name} crashes after persisting, before sending {len(ready.messages)} messages")
            self.crash()
            return
        # 2. send
        for out in ready.messages:
            self.sim.send(self, out.to, out.message)
        for evidence in ready.evidence:
            self.sim.checker.on_evidence(self, evidence)
        for hint in ready.peers_ahead:
            if hint.height > self.best_hint[0]:
                self.best_hint = (hint.height, hint.peer)
        # 3. commit
        if ready.decision is not None:
            d = ready.decision
            self.commit(d.height, d.block, d.certificate, "consensus")
            if self.crash_point == "after_commit":
                self.sim.note(f"{self.name} crashes after committing {d.height}, before advancing")
                self.crash()
                return
            # 4. advance (after a pause, as CometBFT's timeout_commit)
            self.sim.clock.at(self.sim.clock.now_ms + self.sim.commit_delay_ms, self.advance_core)
        self._maybe_sync()
        self._schedule_wake()

    def _schedule_wake(self) -> None:
        assert self.core is not None
        # The core's deadlines are on this node's (skewed) wall clock.
        deadline = max(self.core.next_deadline_ms() - self.sim.now_for(self) + self.sim.clock.now_ms, self.sim.clock.now_ms)
        if deadline != self.wake_at:
            self.wake_at = deadline
            self.wake_token += 1
            self.sim.clock.at(deadline, self.wake, self.wake_token)

    def advance_core(self) -> None:
        core = self.core
        if core is None or core.height > self.committed_height:
            return
        prev_time, last_commit = self._head()
        core.advance_height(self.committed_height + 1, self.sim.node_validators, prev_time, last_commit)
        self._after_input()

    # --- the chain --------------------------------------------------------------------
    def commit(self, height: int, block: bytes, certificate: CommitCertificate, how: str) -> None:
        block_hash = sha256(block)
        if height <= self.committed_height:
            self.sim.checker.on_recommit(self, height, block_hash)
            return
        assert height == self.committed_height + 1, f"{self.name} commits {height} after {self.committed_height}"
        d = read_block(block)
        time_ms = -1 if d is None else d["time_ms"]
        self.sim.checker.on_commit(self, height, block, block_hash, certificate, time_ms, how)
        self.disk.log.append(Committed(height, block_hash, block, certificate, time_ms))
        self.last_commit_ms = self.sim.clock.now_ms

    # --- block sync -------------------------------------------------------------------
    def _maybe_sync(self) -> None:
        hinted, peer = self.best_hint
        behind = hinted - self.committed_height
        if behind <= 0 or self.core is None:
            return
        now = self.sim.clock.now_ms
        stuck = now - self.last_commit_ms >= SYNC_STUCK_MS
        if (behind >= 2 or stuck) and now >= self.sync_next_ms:
            self.sync_next_ms = now + SYNC_RETRY_MS
            self.syncs += 1
            self.sim.send_sync_request(self, peer, self.committed_height + 1)
        if not self.sync_check_scheduled:
            self.sync_check_scheduled = True
            self.sim.clock.at(now + SYNC_RETRY_MS, self._sync_check)

    def _sync_check(self) -> None:
        self.sync_check_scheduled = False
        if self.core is not None:
            self._maybe_sync()

    def serve_sync(self, from_height: int) -> list[Committed]:
        return self.disk.log[from_height - 1 : from_height - 1 + SYNC_BATCH_MAX]

    def on_sync_answer(self, entries: list[Committed]) -> None:
        if self.core is None:
            return
        for e in entries:
            if e.height != self.committed_height + 1:
                continue
            if not self.sim.node_cert_ok(e.certificate) or e.certificate.height != e.height:
                self.sim.note(f"{self.name} refuses synced block {e.height}: bad certificate")
                return
            if sha256(e.block) != e.certificate.block_hash or not self.source.validate(e.height, e.block):
                self.sim.note(f"{self.name} refuses synced block {e.height}: invalid block")
                return
            self.commit(e.height, e.block, e.certificate, "sync")
        self.advance_core()


def own_vote(node: SimNode, message: Message) -> Vote | None:
    return message if isinstance(message, Vote) and message.validator_index == node.index else None
