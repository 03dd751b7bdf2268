"""BFT time: a block's time from the previous block's commit, as CometBFT does (pure).

Block h+1's time is the power-weighted median of the timestamps of the precommits in
block h's commit certificate. No single validator's clock decides it, and it is strictly
monotonic because of the vote rule in the state machine: an honest validator's vote for a
block B carries timestamp_ms >= time(B) + 1. Proof: the signers of a certificate hold more
than 2/3 of the power and the faulty less than 1/3, so faulty signers hold less than half of
the signers' power. The median t is the smallest timestamp whose cumulative power (in
timestamp order) is more than half of the signers' power; if t were below every honest
timestamp, that cumulative power would be faulty power only, which is less than half. So
t >= the smallest honest timestamp >= time(B) + 1 > time(B). (An even split therefore takes
the upper median; CometBFT's "at least half" could pick the one faulty timestamp of three
signers.)

May import: nothing of Tamga beyond duck-typed arguments.
"""

from __future__ import annotations

from typing import Any, Sequence


def bft_time(commit_sigs: Sequence[Any], validators: Any) -> int:
    """The power-weighted median of `commit_sigs`' timestamps.

    `commit_sigs`: objects with `validator_index` and `timestamp_ms` (consensus.messages
    CommitSig or proto CommitSig) from a verified certificate: distinct validators.
    `validators`: indexable by validator index, items with `power` (a ValidatorSet, or a
    list of node.genesis.Validator).
    """
    assert commit_sigs, "bft_time of an empty commit"
    pairs = sorted((s.timestamp_ms, s.validator_index) for s in commit_sigs)
    assert len({i for _, i in pairs}) == len(pairs), "bft_time needs distinct validators"
    powers = [validators[i].power for _, i in pairs]
    signed_power = sum(powers)
    cumulative = 0
    for (timestamp_ms, _), power in zip(pairs, powers):
        cumulative += power
        if cumulative * 2 > signed_power:
            return timestamp_ms
    raise AssertionError("unreachable: cumulative power reaches the whole signed power")
