"""A trivial application for the simulation: blocks are canonical msgpack maps (test code).

A block names its height, BFT time, proposer, round, previous block hash and last commit;
`validate` checks all of them against the node's own committed chain, so an honest node
never votes for a block that does not extend its chain.
"""

from __future__ import annotations

from typing import Callable

from consensus.bft_time import bft_time
from consensus.block_source import BlockMeta
from consensus.messages import CommitCertificate
from consensus.validators import ValidatorSet
from node import codec
from node.errors import MalformedInput
from node.hashing import ZERO_HASH, sha256


def make_block(chain_id: str, height: int, time_ms: int, proposer: str, round_: int, prev_hash: bytes, last_commit: bytes) -> bytes:
    return codec.encode(
        {
            "chain_id": chain_id,
            "height": height,
            "time_ms": time_ms,
            "proposer": proposer,
            "round": round_,
            "prev_hash": prev_hash,
            "last_commit": last_commit,
        }
    )


def read_block(block: bytes) -> dict | None:
    try:
        d = codec.decode(block)
    except MalformedInput:
        return None
    if not isinstance(d, dict) or not isinstance(d.get("time_ms"), int) or not isinstance(d.get("height"), int):
        return None
    return d


class SimBlockSource:
    """One node's block builder/validator. `chain` answers the node's committed block
    hash at a height (None when not committed); `cert_ok` checks a certificate."""

    def __init__(
        self,
        chain_id: str,
        tag: str,
        validators: ValidatorSet,
        genesis_time_ms: int,
        chain: Callable[[int], bytes | None],
        cert_ok: Callable[[CommitCertificate], bool],
    ):
        self.chain_id = chain_id
        self.tag = tag
        self.validators = validators
        self.genesis_time_ms = genesis_time_ms
        self.chain = chain
        self.cert_ok = cert_ok
        self.validations = 0

    def block_time(self, last_commit: CommitCertificate | None) -> int:
        return self.genesis_time_ms if last_commit is None else bft_time(last_commit.signatures, self.validators)

    def propose(self, height: int, round_: int, last_commit: CommitCertificate | None) -> bytes:
        prev_hash = ZERO_HASH if height == 1 else self.chain(height - 1)
        assert prev_hash is not None, f"{self.tag} proposes at {height} without block {height - 1}"
        return make_block(
            self.chain_id,
            height,
            self.block_time(last_commit),
            self.tag,
            round_,
            prev_hash,
            b"" if last_commit is None else last_commit.encode(),
        )

    def inspect(self, block: bytes) -> BlockMeta | None:
        d = read_block(block)
        return None if d is None else BlockMeta(sha256(block), d["time_ms"])

    def validate(self, height: int, block: bytes) -> bool:
        self.validations += 1
        d = read_block(block)
        if d is None or d.get("chain_id") != self.chain_id or d["height"] != height:
            return False
        if height == 1:
            return d.get("prev_hash") == ZERO_HASH and d.get("last_commit") == b"" and d["time_ms"] == self.genesis_time_ms
        prev = self.chain(height - 1)
        if prev is None or d.get("prev_hash") != prev:
            return False
        try:
            last_commit = CommitCertificate.decode(d.get("last_commit", b""))
        except MalformedInput:
            return False
        if last_commit.height != height - 1 or last_commit.block_hash != prev or not self.cert_ok(last_commit):
            return False
        return d["time_ms"] == self.block_time(last_commit)
