"""Commit certificates on the node's side: protobuf in, the consensus core's rules applied.

The rules themselves — 2f+1 power of distinct validators with valid precommit signatures,
and BFT time as the power-weighted median of the precommit timestamps — live once, in
consensus/commit.py and consensus/bft_time.py; this module adapts the node's protobuf
certificates and genesis validators to them, for the chain, block sync, the auditor's
verifier and extract verification.
May import: consensus (pure), node.errors, node.genesis, proto.
"""

from __future__ import annotations

import functools
from typing import Sequence

from google.protobuf.message import DecodeError

from consensus import bft_time as _bft_time
from consensus.commit import verify_commit as _verify_commit
from consensus.messages import CommitCertificate
from consensus.validators import ValidatorSet
from node.errors import InvalidBlock, MalformedInput
from node.genesis import Validator
from proto import tamga_pb2 as pb


@functools.lru_cache(maxsize=16)
def validator_set(validators: tuple[Validator, ...]) -> ValidatorSet:
    return ValidatorSet.of(validators)


def quorum_power(validators: Sequence[Validator]) -> int:
    """The smallest power that is more than two thirds of the total."""
    return validator_set(tuple(validators)).quorum_power


def decode_commit(data: bytes) -> pb.CommitCertificate:
    try:
        return pb.CommitCertificate.FromString(data)
    except DecodeError as exc:
        raise InvalidBlock(f"commit certificate does not decode: {exc}") from None


def verify_commit(chain_id: str, validators: Sequence[Validator], height: int, block_hash: bytes, commit: pb.CommitCertificate) -> None:
    """Raise InvalidBlock unless `commit` holds valid precommits for `block_hash` at
    `height` from distinct validators whose power is more than 2/3 of the total."""
    try:
        cert = CommitCertificate.from_proto(commit)
    except MalformedInput as err:
        raise InvalidBlock(f"commit certificate at height {height} is malformed: {err.message}") from None
    _verify_commit(cert, validator_set(tuple(validators)), chain_id, height=height, block_hash=block_hash)


def bft_time(commit: pb.CommitCertificate, validators: Sequence[Validator]) -> int:
    """Block time of the block after the one `commit` certifies (consensus/bft_time.py)."""
    return _bft_time.bft_time(commit.signatures, validators)
