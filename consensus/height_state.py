"""What the core knows about the height it is deciding: votes, proposals, blocks (pure).

Everything here is dropped when the height is decided and the runtime advances. Bounded:
votes are kept for rounds up to ROUNDS_AHEAD_MAX ahead of the node's round, proposals one
per round plus blocks that some quorum asks for.

May import: consensus.block_source, consensus.messages, consensus.ready, consensus.validators,
consensus.vote_set.
"""

from __future__ import annotations

from consensus.block_source import BlockMeta
from consensus.messages import PRECOMMIT, Proposal, Vote
from consensus.ready import Decision
from consensus.validators import ValidatorSet
from consensus.vote_set import Added, VoteSet


class HeightState:
    __slots__ = (
        "height",
        "validators",
        "votes",
        "proposals",
        "blocks",
        "proposal_for_block",
        "validity",
        "wanted",
        "precommit_quorums",
        "max_round",
        "skip_dirty",
        "prevote_timeout_rounds",
        "precommit_timeout_rounds",
        "quorum_prevote_rounds",
        "evidence_keys",
        "pending_conflicts",
        "decision",
    )

    def __init__(self, height: int, validators: ValidatorSet):
        self.height = height
        self.validators = validators
        self.votes: dict[tuple[int, int], VoteSet] = {}            # (round, type) -> votes
        self.proposals: dict[int, dict[bytes, Proposal]] = {}      # round -> block hash -> proposal
        self.blocks: dict[bytes, tuple[bytes, BlockMeta]] = {}     # block hash -> (block, meta)
        self.proposal_for_block: dict[bytes, Proposal] = {}        # first proposal that carried it
        self.validity: dict[bytes, bool] = {}                      # BlockSource.validate, cached
        self.wanted: dict[bytes, None] = {}                        # hashes with 2f+1 votes somewhere
        self.precommit_quorums: dict[bytes, int] = {}              # hash -> round with 2f+1 precommits
        self.max_round: dict[int, int] = {}                        # validator -> highest round seen
        self.skip_dirty = False                                    # max_round moved past our round
        # Rules of Algorithm 1 that fire "for the first time" only, by round (membership only).
        self.prevote_timeout_rounds: set[int] = set()
        self.precommit_timeout_rounds: set[int] = set()
        self.quorum_prevote_rounds: set[int] = set()               # line 36 done
        self.evidence_keys: set[tuple[int, int, int]] = set()      # (validator, round, type)
        # Conflicting votes for blocks not held yet: counted when the block arrives.
        self.pending_conflicts: dict[bytes, list[Vote]] = {}
        self.decision: Decision | None = None

    def vote_set(self, round_: int, vote_type: int) -> VoteSet:
        key = (round_, vote_type)
        vs = self.votes.get(key)
        if vs is None:
            vs = self.votes[key] = VoteSet(self.validators)
        return vs

    def count_vote(self, vote: Vote) -> Added:
        """Add a signature-checked vote and keep the quorum indexes current."""
        vs = self.vote_set(vote.round, vote.type)
        added = vs.add(vote)
        if added is Added.NEW:
            self.note_round(vote.validator_index, vote.round)
            self._note_quorum(vs, vote)
        return added

    def count_conflicting(self, vote: Vote) -> None:
        """Count an equivocator's other vote towards its own block (see vote_set.py)."""
        vs = self.vote_set(vote.round, vote.type)
        vs.add_conflicting(vote)
        self._note_quorum(vs, vote)

    def _note_quorum(self, vs: VoteSet, vote: Vote) -> None:
        if vote.block_hash and vs.has_quorum_for(vote.block_hash):
            self.wanted[vote.block_hash] = None
            if vote.type == PRECOMMIT:  # a block that, once held, is decided
                self.precommit_quorums.setdefault(vote.block_hash, vote.round)

    def add_proposal(self, proposal: Proposal, meta: BlockMeta) -> None:
        self.proposals.setdefault(proposal.round, {})[meta.hash] = proposal
        self.blocks.setdefault(meta.hash, (proposal.block, meta))
        self.proposal_for_block.setdefault(meta.hash, proposal)
        self.note_round(proposal.proposer_index, proposal.round)
        for vote in self.pending_conflicts.pop(meta.hash, []):
            if not self.vote_set(vote.round, vote.type).has_vote_for(vote.validator_index, vote.block_hash):
                self.count_conflicting(vote)

    def hold_conflict(self, vote: Vote, limit: int) -> bool:
        """Keep a signature-checked conflicting vote for a block not held yet (at most
        `limit` per height); False when full."""
        if sum(len(v) for v in self.pending_conflicts.values()) >= limit:
            return False
        held = self.pending_conflicts.setdefault(vote.block_hash, [])
        if vote not in held:
            held.append(vote)
        return True

    def note_round(self, validator_index: int, round_: int) -> None:
        if round_ > self.max_round.get(validator_index, -1):
            self.max_round[validator_index] = round_
            self.skip_dirty = True

    def skip_target(self, current_round: int) -> int:
        """The highest round R > current_round such that validators with more than 1/3 of
        the power have sent messages of round R or later (Algorithm 1 line 55: f+1 of
        them means at least one correct validator is there). -1 when there is none."""
        ahead = sorted(((r, i) for i, r in self.max_round.items() if r > current_round), reverse=True)
        power = 0
        for r, i in ahead:
            power += self.validators.power(i)
            if power >= self.validators.one_third_power:
                return r
        return -1
