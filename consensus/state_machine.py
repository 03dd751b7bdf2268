"""Tendermint's algorithm (Buchman, Kwon, Milosevic 2018, Algorithm 1) as a pure state machine.

The runtime drives a ConsensusCore with three inputs and takes one output:
    core.tick(now_ms)               time passes (virtual ms; fires due timeouts, gossip)
    core.step(message, peer=i)      a Vote, Proposal or Status received from validator i's peer
    core.ready() -> Ready           what to persist, send, commit (see consensus/ready.py)
    core.advance_height(h + 1, validators, prev_block_time_ms, last_commit)
                                    after the decided block h is stored and applied
Nothing here reads a clock, a file, the network or randomness.

Rules (line numbers of Algorithm 1): 11 StartRound, 22/28 prevote on a proposal (with its
proof-of-lock round), 34 prevote timeout, 36 lock and precommit on 2f+1 prevotes, 44
precommit nil, 47 precommit timeout, 49 decide on 2f+1 precommits in any round, 55 skip to
a round that f+1 validators are in, 57/61/65 timeouts. Two generalisations, both as in
CometBFT: a block is known by its hash whichever proposal brought it (the hash binds the
value, so rules 36 and 49 do not need that round's proposal), and rule 55 counts each
validator's highest round seen rather than messages of one round.

Gossip (Tendermint's liveness needs every message eventually delivered): every
gossip_interval_ms the core re-broadcasts a Status, its own votes of the current round and
the round's proposal (with its proof-of-lock prevotes) to peers that have not voted for
it; a peer heard from at the height just decided gets that height's proposal and
precommits, so it can decide too; a peer whose Status shows it in the same earlier round
of this height at two gossips running is sent every vote held for that round. Peers that
have committed a height this node has not are reported in Ready.peers_ahead (for block
sync when the gap is more than one block).

Equivocation: a validator's first vote in a (round, type) is the one counted overall; a
validly signed conflicting one is output as Evidence and counts only towards its own
block's tally (vote_set.py explains why Algorithm 1 needs that for liveness).

May import: node.errors, node.signing, and consensus modules.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from consensus.block_source import BlockMeta, BlockSource
from consensus.commit import certificate_from_votes
from consensus.height_state import HeightState
from consensus.messages import NIL, PRECOMMIT, PREVOTE, CommitCertificate, Evidence, Message, Proposal, Status, Vote
from consensus.ready import Decision, Outbound, PeerAhead, Ready
from consensus.sign_state import Guard, ProposalStamp, SignState
from consensus.timeouts import Timeout, TimeoutConfig, Timers
from consensus.validators import ValidatorSet
from consensus.vote_set import Added
from node import signing

# Votes and proposals more than this many rounds ahead of ours are not stored (each one
# would open a new vote set), only noted for the round-skip rule.
ROUNDS_AHEAD_MAX = 32
# Messages for the next height, held until the runtime advances to it. They cannot be
# verified yet (the next validator set is not known), so proposals, which carry whole
# blocks, are held only from the expected proposer, one per round, a few in all.
FUTURE_MESSAGES_MAX = 1024
FUTURE_PROPOSALS_MAX = 4
# Conflicting votes for blocks not yet held, kept per height until the block comes.
PENDING_CONFLICTS_MAX = 64
# A pass over the rules changes round, step or decision; more passes than this per input is a bug.
RULE_PASSES_MAX = 10_000


class Step(enum.IntEnum):
    PROPOSE = 0
    PREVOTE = 1
    PRECOMMIT = 2


@dataclasses.dataclass(frozen=True, slots=True)
class _Catchup:
    """The latest decided height's proof, for peers still deciding it."""

    height: int
    round: int
    proposal: Proposal | None
    votes: tuple[Vote, ...]


class ConsensusCore:
    """One validator's (or observer's) consensus state machine. Not thread-safe; the
    runtime calls it from one task."""

    def __init__(
        self,
        *,
        chain_id: str,
        signer: signing.Signer | None,
        block_source: BlockSource,
        height: int,
        validators: ValidatorSet,
        prev_block_time_ms: int,
        last_commit: CommitCertificate | None,
        now_ms: int,
        sign_state: SignState | None = None,
        config: TimeoutConfig = TimeoutConfig(),
    ):
        """Start deciding `height`. `prev_block_time_ms` is the time of block height-1 (the
        genesis time at height 1) and `last_commit` its certificate (None at height 1).
        After a restart pass the last persisted `sign_state`: the core then resumes the
        round it had signed in, keeps its lock and never contradicts what it signed.
        `signer` None makes an observer that decides but never signs."""
        assert height >= 1
        self.chain_id = chain_id
        self.config = config
        self._signer = signer
        self._source = block_source
        self._now_ms = now_ms
        self._timers = Timers()
        self._sign_state = sign_state if sign_state is not None else SignState()
        self._sign_state_dirty = False
        self._out: list[Outbound] = []
        self._decision_out: Decision | None = None
        self._evidence_out: list[Evidence] = []
        self._hints_out: list[PeerAhead] = []
        self._hinted: dict[int, int] = {}                  # peer -> highest height hinted
        self._future: dict[tuple[Any, ...], tuple[Message, int | None]] = {}
        self._catchup: _Catchup | None = None
        self._catchup_sent_ms: dict[int, int] = {}         # peer -> when last answered
        self._peer_status: dict[int, tuple[int, int]] = {}  # peer -> (committed, round), last Status
        self._peer_status_gossiped: dict[int, tuple[int, int]] = {}  # ... as at the last gossip
        self._next_gossip_ms = now_ms + config.gossip_interval_ms
        self.stats: dict[str, int] = {}
        self._enter_height(height, validators, prev_block_time_ms, last_commit)
        if sign_state is not None:
            self._resume()
        else:
            self._start_round(0)
        self._progress()

    # ===================================================================== public API ====
    @property
    def height(self) -> int:
        return self._h.height

    @property
    def round(self) -> int:
        return self._round

    @property
    def step_name(self) -> str:
        return "decided" if self._h.decision is not None else self._step.name.lower()

    @property
    def validators(self) -> ValidatorSet:
        return self._h.validators

    @property
    def validator_index(self) -> int | None:
        """This node's index in the current validator set, None for an observer."""
        return self._my_index

    @property
    def decided(self) -> bool:
        return self._h.decision is not None

    @property
    def sign_state(self) -> SignState:
        return self._sign_state

    def next_deadline_ms(self) -> int:
        """When tick() next has something to do (a timeout or gossip)."""
        deadline = self._timers.next_deadline_ms()
        return self._next_gossip_ms if deadline is None else min(deadline, self._next_gossip_ms)

    def tick(self, now_ms: int) -> None:
        """Time is now `now_ms` (virtual ms; a smaller value than before is ignored)."""
        if now_ms > self._now_ms:
            self._now_ms = now_ms
        while (due := self._timers.pop_due(self._now_ms)) is not None:
            self._on_timeout(*due)
            self._progress()
        if self._now_ms >= self._next_gossip_ms:
            self._next_gossip_ms = self._now_ms + self.config.gossip_interval_ms
            self._gossip()

    def step(self, message: Message, peer: int | None = None) -> None:
        """A consensus message received from the peer of validator `peer` (None when the
        runtime cannot tell). Invalid messages are dropped and counted in `stats`."""
        self._dispatch(message, peer)
        self._progress()

    def ready(self) -> Ready:
        """Everything produced since the last call; apply it in the documented order."""
        persist = self._sign_state if (self._sign_state_dirty and self._my_index is not None) else None
        out = Ready(
            sign_state=persist,
            messages=tuple(self._out),
            decision=self._decision_out,
            evidence=tuple(self._evidence_out),
            peers_ahead=tuple(self._hints_out),
        )
        self._sign_state_dirty = False
        self._out, self._decision_out, self._evidence_out, self._hints_out = [], None, [], []
        return out

    def advance_height(
        self,
        height: int,
        validators: ValidatorSet,
        prev_block_time_ms: int,
        last_commit: CommitCertificate | None,
    ) -> None:
        """Block height-1 is committed (decided here, or fetched by block sync): start
        deciding `height` with `validators`."""
        assert height > self._h.height, f"advance_height({height}) from height {self._h.height}"
        if self._catchup is not None and self._catchup.height != height - 1:
            self._catchup = None
        self._timers.drop_below(height)
        self._enter_height(height, validators, prev_block_time_ms, last_commit)
        self._start_round(0)
        buffered, self._future = self._future, {}
        for message, peer in buffered.values():
            if message.height >= height:  # Status is never buffered
                self._dispatch(message, peer)
        self._progress()

    # ================================================================== height, round ====
    def _enter_height(
        self, height: int, validators: ValidatorSet, prev_block_time_ms: int, last_commit: CommitCertificate | None
    ) -> None:
        assert last_commit is None or last_commit.height == height - 1
        self._h = HeightState(height, validators)
        self._prev_block_time_ms = prev_block_time_ms
        self._last_commit = last_commit
        self._my_index = None if self._signer is None else validators.index_of(self._signer.public_key)
        self._round = 0
        self._step = Step.PROPOSE
        if self._sign_state.height != height:
            # Locks belong to one height; the old ones need not be persisted away (a restart
            # ignores a lock of another height), so this does not mark the state dirty.
            self._sign_state = dataclasses.replace(
                self._sign_state, height=height, locked_round=-1, locked_hash=b"", valid_round=-1, valid_hash=b"", blocks=(), pol=()
            )

    def _resume(self) -> None:
        """Restart within a height: resume at the latest round signed in or locked, with
        the lock, and repeat the last vote (identically) if it was of that round."""
        st, h = self._sign_state, self._h
        for block_hash, block in st.blocks:
            meta = self._source.inspect(block)
            if meta is not None and meta.hash == block_hash:
                h.blocks[block_hash] = (block, meta)
        # The proof of lock of the valid value: signature-checked when they arrived, and the
        # only copy left if their voters moved on; gossip sends them with a re-proposal.
        for vote in st.pol:
            if vote.height == h.height:
                h.count_vote(vote)
        vote = st.vote if (st.vote is not None and st.vote.height == h.height) else None
        proposal = st.proposal if (st.proposal is not None and st.proposal.height == h.height) else None
        round_ = max(
            0,
            st.locked_round,
            st.valid_round,
            -1 if vote is None else vote.round,
            -1 if proposal is None else proposal.round,
        )
        self._start_round(round_)
        if vote is not None and vote.round == round_ and self._my_index == vote.validator_index:
            h.count_vote(vote)
            self._step = Step(max(self._step, Step.PREVOTE if vote.type == PREVOTE else Step.PRECOMMIT))
            self._send(None, vote)
            self._count("sign_resent_vote")
        self._count("resumed")

    def _start_round(self, round_: int) -> None:
        """Algorithm 1 line 11. The propose timeout is scheduled for the proposer too: a
        restarted proposer that may not re-sign its proposal then still moves on."""
        self._round = round_
        self._step = Step.PROPOSE
        self._schedule(Timeout.PROPOSE)
        if self._my_index is not None and self._h.validators.proposer(self._h.height, round_) == self._my_index:
            self._propose()

    def _propose(self) -> None:
        h, st, round_ = self._h, self._sign_state, self._round
        stamp = st.proposal
        if stamp is not None and (stamp.height, stamp.round) == (h.height, round_) and stamp.block_hash in h.blocks:
            # Restarted after proposing in this round: propose the very same again.
            block, meta = h.blocks[stamp.block_hash]
            pol_round = stamp.pol_round
        elif (valid := self._value_to_repropose()) is not None:
            block, meta, pol_round = valid
        else:
            block = self._source.propose(h.height, round_, self._last_commit)
            inspected = self._source.inspect(block)
            assert inspected is not None, "the block source cannot inspect the block it built"
            meta, pol_round = inspected, -1
        guard, signature = st.check_proposal(h.height, round_, pol_round, meta.hash)
        if guard is Guard.REFUSE:
            self._count("sign_refused_proposal")
            return
        if guard is Guard.RESEND:
            self._count("sign_resent_proposal")
        if guard is Guard.SIGN:
            assert self._signer is not None and self._my_index is not None
            sign_bytes = signing.proposal_sign_bytes(h.height, round_, pol_round, meta.hash)
            signature = self._signer.sign("proposal", self.chain_id, sign_bytes)
            stamp = ProposalStamp(h.height, round_, pol_round, meta.hash, signature)
            self._set_sign_state(proposal=stamp)
        assert signature is not None and self._my_index is not None
        proposal = Proposal(h.height, round_, pol_round, block, self._my_index, signature)
        h.add_proposal(proposal, meta)
        self._send(None, proposal)
        if pol_round >= 0:
            for v in h.vote_set(pol_round, PREVOTE).votes_for(meta.hash):
                self._send(None, v)

    # ====================================================================== the rules ====
    def _progress(self) -> None:
        for _ in range(RULE_PASSES_MAX):
            if not self._apply_rules():
                return
        raise AssertionError("consensus rules did not settle")

    def _apply_rules(self) -> bool:
        """Apply the first rule whose condition holds; True when one changed the state."""
        h = self._h
        if h.decision is not None:
            return False
        # Line 49: 2f+1 precommits for a block in any round, and the block.
        for block_hash, round_ in h.precommit_quorums.items():
            if block_hash in h.blocks and self._valid(block_hash):
                self._decide(block_hash, round_)
                return True
        # Line 55: validators with more than 1/3 of the power are in a later round.
        if h.skip_dirty:
            h.skip_dirty = False
            target = h.skip_target(self._round)
            if target > self._round:
                self._count("round_skips")
                self._start_round(target)
                return True
        round_ = self._round
        # Lines 22 and 28: the round's proposal, fresh or with its proof-of-lock.
        if self._step is Step.PROPOSE:
            for block_hash, p in h.proposals.get(round_, {}).items():
                if p.pol_round >= 0:
                    pol = h.votes.get((p.pol_round, PREVOTE))
                    if pol is None or not pol.has_quorum_for(block_hash):
                        continue  # line 28 waits for the 2f+1 prevotes of pol_round
                ok = self._lock_allows(block_hash, p.pol_round) and self._valid(block_hash)
                self._vote(PREVOTE, block_hash if ok else NIL)
                self._step = Step.PREVOTE
                return True
        prevotes = h.votes.get((round_, PREVOTE))
        if prevotes is not None and self._step >= Step.PREVOTE:
            # Line 34: 2f+1 prevotes for anything, for the first time.
            if self._step is Step.PREVOTE and round_ not in h.prevote_timeout_rounds and prevotes.has_quorum_any():
                h.prevote_timeout_rounds.add(round_)
                self._schedule(Timeout.PREVOTE)
            # Line 36: 2f+1 prevotes for a block we hold and find valid, for the first time.
            quorum_hash = prevotes.quorum_hash
            if (
                quorum_hash
                and round_ not in h.quorum_prevote_rounds
                and quorum_hash in h.blocks
                and self._valid(quorum_hash)
            ):
                h.quorum_prevote_rounds.add(round_)
                if self._step is Step.PREVOTE:
                    self._set_lock(quorum_hash, round_)
                    self._vote(PRECOMMIT, quorum_hash)
                    self._step = Step.PRECOMMIT
                else:
                    self._set_valid(quorum_hash, round_)
                return True
            # Line 44: 2f+1 prevotes for nil.
            if self._step is Step.PREVOTE and prevotes.has_quorum_for(NIL):
                self._vote(PRECOMMIT, NIL)
                self._step = Step.PRECOMMIT
                return True
        # Line 47: 2f+1 precommits for anything, for the first time.
        precommits = h.votes.get((round_, PRECOMMIT))
        if precommits is not None and round_ not in h.precommit_timeout_rounds and precommits.has_quorum_any():
            h.precommit_timeout_rounds.add(round_)
            self._schedule(Timeout.PRECOMMIT)
        return False

    def _value_to_repropose(self) -> tuple[bytes, BlockMeta, int] | None:
        """Line 15: the valid value (block, meta, its round) a proposer must propose again."""
        st, h = self._sign_state, self._h
        if 0 <= st.valid_round < self._round and st.valid_hash in h.blocks:
            block, meta = h.blocks[st.valid_hash]
            return block, meta, st.valid_round
        return None

    def _lock_allows(self, block_hash: bytes, pol_round: int) -> bool:
        """May this validator prevote `block_hash` proposed with `pol_round`? Line 23: not
        locked, or locked on it; line 29: locked no later than the proof-of-lock round."""
        st = self._sign_state
        if st.locked_hash == block_hash:
            return True
        if pol_round < 0:
            return st.locked_round == -1
        return st.locked_round <= pol_round

    def _on_timeout(self, kind: Timeout, height: int, round_: int) -> None:
        """Lines 57, 61, 65: a timeout acts only if nothing has moved on since it was set."""
        if height != self._h.height or round_ != self._round or self._h.decision is not None:
            return
        if kind is Timeout.PROPOSE and self._step is Step.PROPOSE:
            self._vote(PREVOTE, NIL)
            self._step = Step.PREVOTE
        elif kind is Timeout.PREVOTE and self._step is Step.PREVOTE:
            self._vote(PRECOMMIT, NIL)
            self._step = Step.PRECOMMIT
        elif kind is Timeout.PRECOMMIT:
            self._start_round(round_ + 1)

    def _decide(self, block_hash: bytes, round_: int) -> None:
        h = self._h
        votes = h.vote_set(round_, PRECOMMIT).votes_for(block_hash)
        certificate = certificate_from_votes(h.height, round_, block_hash, votes)
        decision = Decision(h.height, round_, h.blocks[block_hash][0], block_hash, certificate)
        h.decision = self._decision_out = decision
        self._catchup = _Catchup(h.height, round_, h.proposal_for_block.get(block_hash), tuple(votes))
        self._count("decisions")

    def _valid(self, block_hash: bytes) -> bool:
        h = self._h
        valid = h.validity.get(block_hash)
        if valid is None:
            valid = h.validity[block_hash] = bool(self._source.validate(h.height, h.blocks[block_hash][0]))
            if not valid:
                self._count("invalid_blocks")
        return valid

    # ================================================================ signing, output ====
    def _vote(self, vote_type: int, block_hash: bytes) -> None:
        """Sign and broadcast a vote of the current round, unless the sign state forbids
        it (then the step still advances: the algorithm has "sent" it, and a conflicting
        vote was already sent before a restart)."""
        if self._my_index is None:
            return
        h = self._h
        guard, vote = self._sign_state.check_vote(vote_type, h.height, self._round, block_hash)
        if guard is Guard.REFUSE:
            self._count("sign_refused_vote")
            return
        if guard is Guard.RESEND:
            self._count("sign_resent_vote")
        if guard is Guard.SIGN:
            assert self._signer is not None
            # BFT time: later than the previous block and than the block voted for, so that
            # the median of a commit's timestamps is later than the block it commits.
            timestamp_ms = max(self._now_ms, self._prev_block_time_ms + 1)
            if block_hash:
                timestamp_ms = max(timestamp_ms, h.blocks[block_hash][1].time_ms + 1)
            unsigned = Vote(vote_type, h.height, self._round, block_hash, timestamp_ms, self._my_index)
            vote = dataclasses.replace(unsigned, signature=self._signer.sign("vote", self.chain_id, unsigned.sign_bytes()))
            self._set_sign_state(vote=vote)
        assert vote is not None
        h.count_vote(vote)
        self._send(None, vote)

    def _set_lock(self, block_hash: bytes, round_: int) -> None:
        block = self._h.blocks[block_hash][0]
        self._set_sign_state(
            locked_round=round_, locked_hash=block_hash, valid_round=round_, valid_hash=block_hash, blocks=((block_hash, block),),
            pol=self._proof_of_lock(block_hash, round_),
        )

    def _set_valid(self, block_hash: bytes, round_: int) -> None:
        st = self._sign_state
        blocks = [(block_hash, self._h.blocks[block_hash][0])]
        if st.locked_hash and st.locked_hash != block_hash:
            locked = self._h.blocks.get(st.locked_hash)
            locked_block = locked[0] if locked is not None else st.block(st.locked_hash)
            if locked_block is not None:
                blocks.insert(0, (st.locked_hash, locked_block))
        self._set_sign_state(valid_round=round_, valid_hash=block_hash, blocks=tuple(blocks), pol=self._proof_of_lock(block_hash, round_))

    def _proof_of_lock(self, block_hash: bytes, round_: int) -> tuple[Vote, ...]:
        pol = tuple(self._h.vote_set(round_, PREVOTE).votes_for(block_hash))
        assert self._h.validators.has_quorum(sum(self._h.validators.power(v.validator_index) for v in pol)), "a value became valid without 2f+1 prevotes"
        return pol

    def _set_sign_state(self, **changes: Any) -> None:
        self._sign_state = dataclasses.replace(self._sign_state, **changes)
        self._sign_state_dirty = True

    def _send(self, to: int | None, message: Message) -> None:
        self._out.append(Outbound(to, message))

    def _schedule(self, kind: Timeout) -> None:
        deadline = self._now_ms + self.config.duration_ms(kind, self._round)
        self._timers.schedule(deadline, kind, self._h.height, self._round)

    def _count(self, name: str) -> None:
        self.stats[name] = self.stats.get(name, 0) + 1

    # ========================================================================= inputs ====
    def _dispatch(self, message: Message, peer: int | None) -> None:
        if isinstance(message, Vote):
            self._on_vote(message, peer)
        elif isinstance(message, Proposal):
            self._on_proposal(message, peer)
        elif isinstance(message, Status):
            self._on_status(message, peer)
        else:
            self._count("dropped_malformed")

    def _on_vote(self, vote: Vote, peer: int | None) -> None:
        h = self._h
        if vote.shape_error() is not None:
            self._count("dropped_malformed")
            return
        sender = vote.validator_index if peer is None else peer
        if vote.height != h.height or h.decision is not None:
            self._other_height(vote, sender)
            return
        if vote.validator_index >= len(h.validators):
            self._count("dropped_non_validator")
            return
        if vote.round > self._round + ROUNDS_AHEAD_MAX:
            if self._verify_vote(vote):
                h.note_round(vote.validator_index, vote.round)
            self._count("dropped_far_round")
            return
        vs = h.votes.get((vote.round, vote.type))
        existing = None if vs is None else vs.get(vote.validator_index)
        if existing is not None:
            if vs.has_vote_for(vote.validator_index, vote.block_hash):
                self._count("duplicates")  # nothing new, and no signature to check
                return
            key = (vote.validator_index, vote.round, vote.type)
            pending = h.pending_conflicts.get(vote.block_hash)
            if pending is not None and vote in pending:
                self._count("duplicates")
                return
        if not self._verify_vote(vote):
            self._count("dropped_bad_signature")
            return
        if existing is None:
            assert h.count_vote(vote) is Added.NEW
            return
        # Equivocation: keep the proof once; the first vote stays the counted one.
        if key not in h.evidence_keys:
            h.evidence_keys.add(key)
            self._evidence_out.append(Evidence(existing, vote))
            self._count("equivocations")
        if not vote.block_hash or vote.block_hash in h.blocks:
            h.count_conflicting(vote)
        elif not h.hold_conflict(vote, PENDING_CONFLICTS_MAX):
            self._count("dropped_conflicts_full")

    def _on_proposal(self, proposal: Proposal, peer: int | None) -> None:
        h = self._h
        if proposal.shape_error() is not None:
            self._count("dropped_malformed")
            return
        sender = proposal.proposer_index if peer is None else peer
        if proposal.height != h.height or h.decision is not None:
            self._other_height(proposal, sender)
            return
        if proposal.proposer_index != h.validators.proposer(h.height, proposal.round):
            self._count("dropped_wrong_proposer")
            return
        if proposal.round > self._round + ROUNDS_AHEAD_MAX:
            self._count("dropped_far_round")
            return
        held = h.proposals.get(proposal.round)
        if held is not None and any(p == proposal for p in held.values()):
            self._count("duplicates")
            return
        meta = self._source.inspect(proposal.block)
        if meta is None:
            self._count("dropped_malformed")
            return
        if held is not None and (meta.hash in held or not self._wanted(meta.hash)):
            # One proposal per round, and another only when some quorum asks for its block.
            self._count("dropped_extra_proposal")
            return
        key = h.validators[proposal.proposer_index].public_key
        if not signing.verify(key, proposal.signature, "proposal", self.chain_id, proposal.sign_bytes(meta.hash)):
            self._count("dropped_bad_signature")
            return
        h.add_proposal(proposal, meta)

    def _wanted(self, block_hash: bytes) -> bool:
        st = self._sign_state
        if block_hash in self._h.blocks:
            return False
        return block_hash in self._h.wanted or block_hash == st.locked_hash or block_hash == st.valid_hash

    def _on_status(self, status: Status, peer: int | None) -> None:
        if status.shape_error() is not None:
            self._count("dropped_malformed")
            return
        if peer is None or not 0 <= peer < len(self._h.validators):
            self._count("dropped_non_validator")
            return
        self._peer_status[peer] = (status.height, status.round)
        self._peer_position(status.height, peer, catchup=True)

    def _other_height(self, message: Vote | Proposal, sender: int) -> None:
        """A message for a height other than the one being decided."""
        h = self._h
        if message.height == h.height + 1:
            if isinstance(message, Vote):
                key: tuple[Any, ...] = ("vote", message.signature)
                room = len(self._future) < FUTURE_MESSAGES_MAX
            else:
                key = ("proposal", message.round)
                room = (
                    message.proposer_index == h.validators.proposer(message.height, message.round)
                    and message.round <= ROUNDS_AHEAD_MAX
                    and sum(k[0] == "proposal" for k in self._future) < FUTURE_PROPOSALS_MAX
                )
            if room and key not in self._future:
                self._future[key] = (message, sender)
                self._count("buffered_next_height")
            else:
                self._count("dropped_next_height")
        elif message.height > h.height + 1:
            # Only a hint; but do not let a forged message start block sync.
            if isinstance(message, Vote) and message.validator_index < len(h.validators) and self._verify_vote(message):
                self._peer_position(message.height - 1, sender)
            self._count("dropped_future_height")
            return
        else:
            self._count("dropped_old_height")
            # A message of the decided height is mostly a late one from a peer that decided
            # too; only one from a later round than the decision shows the peer is stuck
            # there. (Its Status says so anyway, within a gossip interval.)
            c = self._catchup
            if c is not None and message.height == c.height and message.round > c.round and 0 <= sender < len(h.validators):
                self._send_catchup(sender)
            return
        if 0 <= sender < len(h.validators):
            self._peer_position(message.height - 1, sender)

    def _peer_position(self, peer_committed: int, peer: int, *, catchup: bool = False) -> None:
        """Peer `peer` has committed `peer_committed`: help it, or ask the runtime for sync."""
        h = self._h
        if catchup and self._catchup is not None and peer_committed + 1 == self._catchup.height:
            self._send_catchup(peer)
        our_committed = h.height if h.decision is not None else h.height - 1
        if peer_committed > our_committed and peer_committed > self._hinted.get(peer, -1):
            self._hinted[peer] = peer_committed
            self._hints_out.append(PeerAhead(peer, peer_committed))

    def _send_catchup(self, peer: int) -> None:
        """Votes first: they make the receiver want the block the proposal then brings."""
        last = self._catchup_sent_ms.get(peer)
        if peer == self._my_index or (last is not None and self._now_ms - last < self.config.catchup_interval_ms):
            return
        self._catchup_sent_ms[peer] = self._now_ms
        assert self._catchup is not None
        for v in self._catchup.votes:
            self._send(peer, v)
        if self._catchup.proposal is not None:
            self._send(peer, self._catchup.proposal)
        self._count("catchups_sent")

    def _verify_vote(self, vote: Vote) -> bool:
        key = self._h.validators[vote.validator_index].public_key
        return signing.verify(key, vote.signature, "vote", self.chain_id, vote.sign_bytes())

    # ========================================================================= gossip ====
    def _gossip(self) -> None:
        h = self._h
        committed = h.height if h.decision is not None else h.height - 1
        if h.decision is not None:
            head = h.decision.block_hash
        else:
            head = b"" if self._last_commit is None else self._last_commit.block_hash
        self._send(None, Status(committed, self._round, head))
        if h.decision is not None or self._my_index is None:
            return
        for vote_type in (PREVOTE, PRECOMMIT):
            vs = h.votes.get((self._round, vote_type))
            own = None if vs is None else vs.get(self._my_index)
            if own is not None:
                self._send(None, own)
        self._relay_to_lingering_peers()
        prevotes = h.votes.get((self._round, PREVOTE))
        precommits = h.votes.get((self._round, PRECOMMIT))
        for block_hash, proposal in h.proposals.get(self._round, {}).items():
            pol = h.vote_set(proposal.pol_round, PREVOTE).votes_for(block_hash) if proposal.pol_round >= 0 else []
            for peer in range(len(h.validators)):
                if peer == self._my_index or self._has_block(prevotes, peer, block_hash) or self._has_block(precommits, peer, block_hash):
                    continue  # it voted for this block, so it has it
                self._send(peer, proposal)
                for v in pol:
                    self._send(peer, v)

    def _relay_to_lingering_peers(self) -> None:
        """A peer whose Status showed it in the same round of this height at the last
        gossip too may be missing votes of that round that the others have stopped
        re-broadcasting (they moved on, or a voter restarted and lost its vote): send it
        every vote held for its round. Tendermint's liveness assumes such relaying."""
        h = self._h
        previous, self._peer_status_gossiped = self._peer_status_gossiped, dict(self._peer_status)
        for peer, (committed, round_) in self._peer_status.items():
            if committed != h.height - 1 or round_ > self._round or previous.get(peer) != (committed, round_):
                continue
            for vote_type in (PREVOTE, PRECOMMIT):
                vs = h.votes.get((round_, vote_type))
                if vs is None:
                    continue
                for vote in vs.votes.values():
                    if vote.validator_index != peer:
                        self._send(peer, vote)
            self._count("relays")

    @staticmethod
    def _has_block(votes: Any, peer: int, block_hash: bytes) -> bool:
        vote = None if votes is None else votes.get(peer)
        return vote is not None and vote.block_hash == block_hash
