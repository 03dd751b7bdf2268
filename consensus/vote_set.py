"""The votes of one (height, round, type), with running power tallies (pure).

Adding a vote is O(1): the set keeps the power behind each block hash and remembers the
first hash (or nil) to reach a quorum, so the state machine asks "is there 2f+1 for X?"
without scanning. Only signature-checked votes are added; the caller checks.

Equivocation. A validator's first vote is the one counted in "2f+1 votes for anything"
(lines 34, 47) and re-broadcast. A validly signed conflicting vote of the same validator is
evidence; it is also counted towards the tally of *its own* block (`add_conflicting`),
because Algorithm 1 counts distinct signers per value: without that, twins that showed
one half of the network a prevote for B and the other half a prevote for nil can make a
proof-of-lock for B unprovable to half of the validators, and validators locked on B then
never agree with the rest again (a deadlock the simulation found). Safety does not suffer:
two 2f+1 tallies for different blocks in one round share at least f+1 signers, so an
honest validator would have signed both. Nobody is counted twice for one block, and the
"anything" tally counts every validator once.

May import: consensus.messages, consensus.validators.
"""

from __future__ import annotations

import enum

from consensus.messages import Vote
from consensus.validators import ValidatorSet


class Added(enum.Enum):
    NEW = "new"
    DUPLICATE = "duplicate"      # this validator's vote for this block is already here
    CONFLICT = "conflict"        # this validator already voted for another block first


class VoteSet:
    __slots__ = ("validators", "votes", "by_hash", "power_by_hash", "total_power", "quorum_hash")

    def __init__(self, validators: ValidatorSet):
        self.validators = validators
        self.votes: dict[int, Vote] = {}                      # validator index -> first vote
        self.by_hash: dict[bytes, dict[int, Vote]] = {}       # block hash (b"" = nil) -> signer -> vote
        self.power_by_hash: dict[bytes, int] = {}             # block hash -> power of its signers
        self.total_power = 0                                  # power of validators that voted (once each)
        self.quorum_hash: bytes | None = None                 # first hash (or nil) with 2f+1

    def get(self, validator_index: int) -> Vote | None:
        """The validator's first vote here."""
        return self.votes.get(validator_index)

    def has_vote_for(self, validator_index: int, block_hash: bytes) -> bool:
        signers = self.by_hash.get(block_hash)
        return signers is not None and validator_index in signers

    def add(self, vote: Vote) -> Added:
        """Count `vote` as its validator's first vote, unless it already voted here."""
        existing = self.votes.get(vote.validator_index)
        if existing is not None:
            return Added.DUPLICATE if self.has_vote_for(vote.validator_index, vote.block_hash) else Added.CONFLICT
        self.votes[vote.validator_index] = vote
        self.total_power += self.validators.power(vote.validator_index)
        self._tally(vote)
        return Added.NEW

    def add_conflicting(self, vote: Vote) -> None:
        """Count an equivocating validator's other (signature-checked) vote towards its own
        block only; see the module docstring."""
        assert vote.validator_index in self.votes and not self.has_vote_for(vote.validator_index, vote.block_hash)
        self._tally(vote)

    def _tally(self, vote: Vote) -> None:
        self.by_hash.setdefault(vote.block_hash, {})[vote.validator_index] = vote
        tally = self.power_by_hash.get(vote.block_hash, 0) + self.validators.power(vote.validator_index)
        self.power_by_hash[vote.block_hash] = tally
        if self.quorum_hash is None and tally >= self.validators.quorum_power:
            self.quorum_hash = vote.block_hash

    def has_quorum_any(self) -> bool:
        """2f+1 votes, for anything (Algorithm 1 lines 34 and 47)."""
        return self.total_power >= self.validators.quorum_power

    def power_for(self, block_hash: bytes) -> int:
        return self.power_by_hash.get(block_hash, 0)

    def has_quorum_for(self, block_hash: bytes) -> bool:
        return self.power_by_hash.get(block_hash, 0) >= self.validators.quorum_power

    def votes_for(self, block_hash: bytes) -> list[Vote]:
        """The votes for `block_hash`, ordered by validator index."""
        signers = self.by_hash.get(block_hash, {})
        return [signers[i] for i in sorted(signers)]
