"""Building and checking commit certificates (pure).

`verify_commit` is what block sync and block validation use to accept a block committed by
others: precommits from distinct validators, each with a valid signature over
("vote", chain id, vote sign bytes), for the named block, with more than 2/3 of the power.

May import: node.errors, node.signing, consensus.messages, consensus.validators.
"""

from __future__ import annotations

from typing import Iterable

from consensus.messages import PRECOMMIT, CommitCertificate, CommitSig, Vote
from consensus.validators import ValidatorSet
from node import signing
from node.errors import InvalidBlock


def certificate_from_votes(height: int, round_: int, block_hash: bytes, votes: Iterable[Vote]) -> CommitCertificate:
    """A certificate from precommits for `block_hash` (ordered by validator index)."""
    sigs = []
    for v in sorted(votes, key=lambda v: v.validator_index):
        assert (v.type, v.height, v.round, v.block_hash) == (PRECOMMIT, height, round_, block_hash)
        sigs.append(CommitSig(v.validator_index, v.timestamp_ms, v.signature))
    return CommitCertificate(height, round_, block_hash, tuple(sigs))


def verify_commit(
    cert: CommitCertificate,
    validators: ValidatorSet,
    chain_id: str,
    *,
    height: int | None = None,
    block_hash: bytes | None = None,
) -> None:
    """Raise InvalidBlock unless `cert` proves that `validators` committed its block.
    With `height` / `block_hash`, also require that it certifies that height / block."""
    where = f"commit certificate of height {cert.height}"
    if height is not None and cert.height != height:
        raise InvalidBlock(f"{where} was given for height {height}")
    if block_hash is not None and cert.block_hash != block_hash:
        raise InvalidBlock(f"{where} is for block {cert.block_hash.hex()[:16]}, not {block_hash.hex()[:16]}")
    if not cert.block_hash:
        raise InvalidBlock(f"{where} certifies nil; a commit is always for a block")
    power = 0
    previous = -1
    for vote in cert.votes():
        if vote.validator_index >= len(validators):
            raise InvalidBlock(f"{where} names validator #{vote.validator_index}; the set has {len(validators)}")
        if vote.validator_index <= previous:
            raise InvalidBlock(f"{where} lists validator #{vote.validator_index} out of order or twice")
        previous = vote.validator_index
        key = validators[vote.validator_index].public_key
        if not signing.verify(key, vote.signature, "vote", chain_id, vote.sign_bytes()):
            raise InvalidBlock(f"{where}: the precommit of validator #{vote.validator_index} has a bad signature")
        power += validators.power(vote.validator_index)
    if not validators.has_quorum(power):
        raise InvalidBlock(
            f"{where} carries power {power} of {validators.total_power}; it needs {validators.quorum_power} (more than 2/3)"
        )
