"""Commit certificates: checking that 2f+1 validators precommitted a block, and BFT time.

Pure (used by the chain, block sync, the auditor's verifier and extract verification).
May import: node.errors, node.genesis, node.signing, proto.
"""

from __future__ import annotations

from typing import Sequence

from google.protobuf.message import DecodeError

from node import signing
from node.errors import InvalidBlock
from node.genesis import Validator
from proto import tamga_pb2 as pb

PRECOMMIT = pb.PRECOMMIT


def quorum_power(validators: Sequence[Validator]) -> int:
    """The smallest power that is more than two thirds of the total."""
    total = sum(v.power for v in validators)
    return total * 2 // 3 + 1


def decode_commit(data: bytes) -> pb.CommitCertificate:
    try:
        return pb.CommitCertificate.FromString(data)
    except DecodeError as exc:
        raise InvalidBlock(f"commit certificate does not decode: {exc}") from None


def verify_commit(
    chain_id: str,
    validators: Sequence[Validator],
    height: int,
    block_hash: bytes,
    commit: pb.CommitCertificate,
) -> None:
    """Raise InvalidBlock unless `commit` holds valid precommits for `block_hash` at
    `height` from distinct validators whose power is more than 2/3 of the total."""
    if commit.height != height:
        raise InvalidBlock(f"commit certificate is for height {commit.height}, expected {height}")
    if commit.block_hash != block_hash:
        raise InvalidBlock(f"commit certificate at height {height} is for another block")
    seen: set[int] = set()
    power = 0
    for sig in commit.signatures:
        if sig.validator_index >= len(validators):
            raise InvalidBlock(f"commit at height {height} names validator #{sig.validator_index}, which does not exist")
        if sig.validator_index in seen:
            raise InvalidBlock(f"commit at height {height} counts validator #{sig.validator_index} twice")
        seen.add(sig.validator_index)
        v = validators[sig.validator_index]
        msg = signing.vote_sign_bytes(PRECOMMIT, height, commit.round, block_hash, sig.timestamp_ms)
        if not signing.verify(v.public_key, sig.signature, "vote", chain_id, msg):
            raise InvalidBlock(f"precommit of validator {v.name} at height {height} has a bad signature")
        power += v.power
    if power < quorum_power(validators):
        raise InvalidBlock(f"commit at height {height} has power {power}; it needs {quorum_power(validators)}")


def bft_time(commit: pb.CommitCertificate, validators: Sequence[Validator]) -> int:
    """Power-weighted median of the precommit timestamps (CometBFT's BFT time): no single
    validator's clock decides a block's time, and with honest votes it is monotonic."""
    pairs = sorted((s.timestamp_ms, validators[s.validator_index].power) for s in commit.signatures)
    assert pairs, "bft_time of an empty commit"
    # Half of the whole set's power, not of the signers': with more than 2/3 signing, the
    # chosen timestamp has honest timestamps on both sides of it.
    remaining = sum(v.power for v in validators) // 2
    for ts, p in pairs:
        if remaining <= p:
            return ts
        remaining -= p
    return pairs[-1][0]
