"""A hand-driven cluster for scripted consensus scenarios (test code).

Like etcd raft's interaction tests: the test decides which message reaches whom and when
time moves; nothing happens on its own. Each node's Ready is applied in the documented
order (persist, send into the shared outbox, commit, record evidence); advancing to the
next height is left to the test.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from consensus.messages import NIL, PRECOMMIT, PREVOTE, CommitCertificate, Message, Proposal, Vote
from consensus.ready import Decision, Ready
from consensus.sign_state import SignState
from consensus.state_machine import ConsensusCore
from consensus.timeouts import TimeoutConfig
from consensus.validators import Validator, ValidatorSet
from node.hashing import sha256
from node.signing import Signer
from tests.simulation.app import SimBlockSource

CHAIN_ID = "tamga-test"
GENESIS_MS = 1_800_000_000_000
TIMEOUTS = TimeoutConfig(
    timeout_propose_ms=1000,
    timeout_propose_delta_ms=500,
    timeout_prevote_ms=1000,
    timeout_prevote_delta_ms=500,
    timeout_precommit_ms=1000,
    timeout_precommit_delta_ms=500,
    gossip_interval_ms=10_000_000,   # out of the way unless a test moves time that far
    catchup_interval_ms=0,
)


@dataclasses.dataclass
class Envelope:
    src: int
    dst: int
    message: Message


def signer_of(i: int) -> Signer:
    return Signer(sha256(f"tamga-unit-validator-{i}".encode()))


class Cluster:
    def __init__(self, n: int = 4, *, core_class: type[ConsensusCore] = ConsensusCore, timeouts: TimeoutConfig = TIMEOUTS):
        self.n = n
        self.core_class = core_class
        self.timeouts = timeouts
        self.signers = [signer_of(i) for i in range(n)]
        self.validators = ValidatorSet(Validator(s.public_key, 1) for s in self.signers)
        self.now_ms = GENESIS_MS
        self.chains: list[list[bytes]] = [[] for _ in range(n)]          # committed hashes
        self.persisted: list[bytes | None] = [None] * n                  # encoded sign states
        self.decisions: list[list[Decision]] = [[] for _ in range(n)]
        self.evidence: list[list] = [[] for _ in range(n)]
        self.readies: list[list[Ready]] = [[] for _ in range(n)]
        self.outbox: list[Envelope] = []
        self.sources = [self._source(i) for i in range(n)]
        self.cores: list[ConsensusCore | None] = [None] * n
        for i in range(n):
            self.start(i)

    def _source(self, i: int) -> SimBlockSource:
        def chain(height: int) -> bytes | None:
            c = self.chains[i]
            return c[height - 1] if 1 <= height <= len(c) else None

        return SimBlockSource(CHAIN_ID, f"v{i}", self.validators, GENESIS_MS, chain, lambda cert: True)

    # --- nodes --------------------------------------------------------------------------
    def start(self, i: int, *, sign_state: SignState | None = None, last_commit: CommitCertificate | None = None) -> ConsensusCore:
        state = sign_state
        if state is None and self.persisted[i] is not None:
            state = SignState.decode(self.persisted[i])
        height = len(self.chains[i]) + 1
        core = self.core_class(
            chain_id=CHAIN_ID,
            signer=self.signers[i],
            block_source=self.sources[i],
            height=height,
            validators=self.validators,
            prev_block_time_ms=GENESIS_MS,
            last_commit=last_commit,
            now_ms=self.now_ms,
            sign_state=state,
            config=self.timeouts,
        )
        self.cores[i] = core
        self.collect(i)
        return core

    def crash(self, i: int) -> None:
        self.cores[i] = None
        self.outbox = [e for e in self.outbox if e.dst != i]

    def core(self, i: int) -> ConsensusCore:
        core = self.cores[i]
        assert core is not None, f"node {i} is down"
        return core

    def collect(self, i: int) -> Ready:
        ready = self.core(i).ready()
        self.readies[i].append(ready)
        if ready.sign_state is not None:
            self.persisted[i] = ready.sign_state.encode()
        for out in ready.messages:
            for dst in range(self.n) if out.to is None else (out.to,):
                if dst != i:
                    self.outbox.append(Envelope(i, dst, out.message))
        self.evidence[i].extend(ready.evidence)
        if ready.decision is not None:
            self.decisions[i].append(ready.decision)
            self.chains[i].append(ready.decision.block_hash)
        return ready

    # --- the network, by hand -------------------------------------------------------------
    def deliver(self, keep: Callable[[Envelope], bool] = lambda e: True, *, drop_rest: bool = False) -> int:
        """Deliver, in order, every pending message `keep` accepts, and what those produce,
        until none is left; with drop_rest, discard the others. Returns how many."""
        count = 0
        while True:
            pending = [e for e in self.outbox if keep(e) and self.cores[e.dst] is not None]
            self.outbox = [] if drop_rest else [e for e in self.outbox if not (keep(e) and self.cores[e.dst] is not None)]
            if not pending:
                return count
            for e in pending:
                self.step(e.dst, e.message, e.src)
                count += 1

    def step(self, dst: int, message: Message, peer: int | None = None) -> Ready:
        core = self.core(dst)
        core.tick(self.now_ms)
        core.step(message, peer=peer)
        return self.collect(dst)

    def drop(self, keep: Callable[[Envelope], bool] = lambda e: False) -> None:
        self.outbox = [e for e in self.outbox if keep(e)]

    def advance_time(self, ms: int) -> None:
        self.now_ms += ms
        for i, core in enumerate(self.cores):
            if core is not None:
                core.tick(self.now_ms)
                self.collect(i)

    def advance_height(self, i: int) -> None:
        d = self.decisions[i][-1]
        meta = self.sources[i].inspect(d.block)
        assert meta is not None
        self.core(i).advance_height(d.height + 1, self.validators, meta.time_ms, d.certificate)
        self.collect(i)

    # --- looking at what was said ---------------------------------------------------------
    def sent_votes(self, i: int, vote_type: int, round_: int, height: int = 1) -> list[Vote]:
        out = []
        for ready in self.readies[i]:
            for o in ready.messages:
                m = o.message
                if isinstance(m, Vote) and m.validator_index == i and (m.type, m.round, m.height) == (vote_type, round_, height):
                    out.append(m)
        return out

    def vote_of(self, i: int, vote_type: int, round_: int, height: int = 1) -> bytes | None:
        """The block hash node i voted for (NIL for nil), None when it did not vote."""
        votes = {v.block_hash for v in self.sent_votes(i, vote_type, round_, height)}
        assert len(votes) <= 1, f"node {i} sent conflicting votes"
        return next(iter(votes)) if votes else None

    def proposal(self, round_: int, height: int = 1) -> Proposal:
        for ready in self.readies[self.validators.proposer(height, round_)]:
            for o in ready.messages:
                if isinstance(o.message, Proposal) and (o.message.height, o.message.round) == (height, round_):
                    return o.message
        raise AssertionError(f"no proposal for height {height} round {round_}")

    def block_hash(self, proposal: Proposal) -> bytes:
        meta = self.sources[0].inspect(proposal.block)
        assert meta is not None
        return meta.hash

    def sign_vote(self, i: int, vote_type: int, round_: int, block_hash: bytes, height: int = 1, timestamp_ms: int | None = None) -> Vote:
        """A vote as validator i would sign it (for scripting a Byzantine validator)."""
        ts = self.now_ms if timestamp_ms is None else timestamp_ms
        v = Vote(vote_type, height, round_, block_hash, ts, i)
        return dataclasses.replace(v, signature=self.signers[i].sign("vote", CHAIN_ID, v.sign_bytes()))


def is_vote(vote_type: int, round_: int | None = None) -> Callable[[Envelope], bool]:
    return lambda e: isinstance(e.message, Vote) and e.message.type == vote_type and (round_ is None or e.message.round == round_)


def is_proposal(e: Envelope) -> bool:
    return isinstance(e.message, Proposal)


__all__ = ["Cluster", "Envelope", "is_vote", "is_proposal", "NIL", "PREVOTE", "PRECOMMIT", "signer_of", "CHAIN_ID"]
