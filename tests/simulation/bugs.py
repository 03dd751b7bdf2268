"""Planted bugs for the negative control (test code; never used by the node).

The simulation must catch each of them on some seed of a fixed list; that is how we know
its checker can fail.
"""

from __future__ import annotations

from consensus.state_machine import ConsensusCore
from consensus.validators import Validator, ValidatorSet


class QuorumOf2fSet(ValidatorSet):
    """A quorum of 2f (of n = 3f+1 equal-power validators) instead of 2f+1."""

    def __init__(self, validators: list[Validator]):
        super().__init__(validators)
        self.quorum_power = 2 * ((self.total_power - 1) // 3)


class IgnoreLockCore(ConsensusCore):
    """Behaves as if it never locked: prevotes for any valid proposal whatever it is locked
    on (lines 23 and 29 dropped), and proposes a fresh block instead of its valid value
    (line 15 dropped)."""

    def _lock_allows(self, block_hash: bytes, pol_round: int) -> bool:
        if not super()._lock_allows(block_hash, pol_round):
            self._count("planted_lock_ignored")  # the bug changed a vote
        return True

    def _value_to_repropose(self):  # type: ignore[no-untyped-def]
        if super()._value_to_repropose() is not None:
            self._count("planted_lock_ignored")  # the bug changed a proposal
        return None


BUGS = ("quorum", "lock")
