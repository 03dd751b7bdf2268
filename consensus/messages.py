"""The consensus messages as frozen dataclasses, and their protobuf form (pure).

The core works on these dataclasses; the runtime sends `proto.tamga_pb2` messages over gRPC
and converts at the edge with `to_peer_message` / `from_peer_message`. `from_proto` refuses
anything out of shape with node.errors.MalformedInput; the core checks shape again
(`shape_error`) because a runtime may also build the dataclasses directly.

May import: node.errors, node.signing, node.hashing, proto.tamga_pb2.
"""

from __future__ import annotations

import dataclasses

from node import signing
from node.errors import MalformedInput
from node.hashing import HASH_SIZE
from proto import tamga_pb2 as pb

PREVOTE = pb.PREVOTE          # 1
PRECOMMIT = pb.PRECOMMIT      # 2
VOTE_TYPES = (PREVOTE, PRECOMMIT)
NIL = b""                     # the block hash of a nil vote

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _hash_error(block_hash: bytes, *, nil_ok: bool) -> str | None:
    if not isinstance(block_hash, bytes):
        return "block hash is not bytes"
    if len(block_hash) == HASH_SIZE or (nil_ok and block_hash == NIL):
        return None
    return f"block hash has {len(block_hash)} bytes; expected {HASH_SIZE}{' or none (nil)' if nil_ok else ''}"


@dataclasses.dataclass(frozen=True, slots=True)
class Vote:
    """A signed prevote or precommit. `block_hash` is empty for nil."""

    type: int
    height: int
    round: int
    block_hash: bytes
    timestamp_ms: int
    validator_index: int
    signature: bytes = b""

    def sign_bytes(self) -> bytes:
        return signing.vote_sign_bytes(self.type, self.height, self.round, self.block_hash, self.timestamp_ms)

    def shape_error(self) -> str | None:
        """Why this vote cannot be a vote at all, or None."""
        if self.type not in VOTE_TYPES:
            return f"vote type {self.type} is neither PREVOTE (1) nor PRECOMMIT (2)"
        if not (1 <= self.height <= UINT64_MAX and 0 <= self.round <= UINT32_MAX):
            return f"vote height {self.height} / round {self.round} out of range"
        if not (0 <= self.validator_index <= UINT32_MAX and INT64_MIN <= self.timestamp_ms <= INT64_MAX):
            return "vote validator index or timestamp out of range"
        if len(self.signature) != signing.SIGNATURE_SIZE:
            return f"vote signature has {len(self.signature)} bytes; expected {signing.SIGNATURE_SIZE}"
        return _hash_error(self.block_hash, nil_ok=True)

    def to_proto(self) -> pb.Vote:
        return pb.Vote(
            type=self.type,
            height=self.height,
            round=self.round,
            block_hash=self.block_hash,
            timestamp_ms=self.timestamp_ms,
            validator_index=self.validator_index,
            signature=self.signature,
        )

    @classmethod
    def from_proto(cls, m: pb.Vote) -> "Vote":
        vote = cls(m.type, m.height, m.round, m.block_hash, m.timestamp_ms, m.validator_index, m.signature)
        _raise_if(vote.shape_error())
        return vote


@dataclasses.dataclass(frozen=True, slots=True)
class Proposal:
    """A proposer's signed block for (height, round). `pol_round` is the round of the
    proof-of-lock (2f+1 prevotes) of a re-proposed block, -1 for a fresh one. The signature
    covers the block's hash, which only the application can compute (BlockSource.inspect)."""

    height: int
    round: int
    pol_round: int
    block: bytes
    proposer_index: int
    signature: bytes = b""

    def sign_bytes(self, block_hash: bytes) -> bytes:
        return signing.proposal_sign_bytes(self.height, self.round, self.pol_round, block_hash)

    def shape_error(self) -> str | None:
        if not (1 <= self.height <= UINT64_MAX and 0 <= self.round <= UINT32_MAX):
            return f"proposal height {self.height} / round {self.round} out of range"
        if not (-1 <= self.pol_round < self.round):
            return f"proposal pol_round {self.pol_round} must be -1 or below its round {self.round}"
        if not (0 <= self.proposer_index <= UINT32_MAX):
            return "proposal proposer index out of range"
        if not isinstance(self.block, bytes) or not self.block:
            return "proposal carries no block"
        if len(self.signature) != signing.SIGNATURE_SIZE:
            return f"proposal signature has {len(self.signature)} bytes; expected {signing.SIGNATURE_SIZE}"
        return None

    def to_proto(self) -> pb.Proposal:
        return pb.Proposal(
            height=self.height,
            round=self.round,
            pol_round=self.pol_round,
            block=self.block,
            proposer_index=self.proposer_index,
            signature=self.signature,
        )

    @classmethod
    def from_proto(cls, m: pb.Proposal) -> "Proposal":
        proposal = cls(m.height, m.round, m.pol_round, m.block, m.proposer_index, m.signature)
        _raise_if(proposal.shape_error())
        return proposal


@dataclasses.dataclass(frozen=True, slots=True)
class Status:
    """A peer's position: its last committed height (0 before the first block), its round
    and its head hash. Unsigned: the runtime says which peer sent it (mutual TLS)."""

    height: int
    round: int
    head_hash: bytes = b""

    def shape_error(self) -> str | None:
        if not (0 <= self.height <= UINT64_MAX and 0 <= self.round <= UINT32_MAX):
            return "status height or round out of range"
        return _hash_error(self.head_hash, nil_ok=True)

    def to_proto(self) -> pb.PeerStatus:
        return pb.PeerStatus(height=self.height, round=self.round, head_hash=self.head_hash)

    @classmethod
    def from_proto(cls, m: pb.PeerStatus) -> "Status":
        status = cls(m.height, m.round, m.head_hash)
        _raise_if(status.shape_error())
        return status


@dataclasses.dataclass(frozen=True, slots=True)
class CommitSig:
    validator_index: int
    timestamp_ms: int
    signature: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class CommitCertificate:
    """2f+1 precommits for one block: the proof that the validators committed it.
    Signatures are ordered by validator index."""

    height: int
    round: int
    block_hash: bytes
    signatures: tuple[CommitSig, ...]

    def votes(self) -> tuple[Vote, ...]:
        """The precommits this certificate was built from, exactly as they were signed."""
        return tuple(
            Vote(PRECOMMIT, self.height, self.round, self.block_hash, s.timestamp_ms, s.validator_index, s.signature)
            for s in self.signatures
        )

    def to_proto(self) -> pb.CommitCertificate:
        return pb.CommitCertificate(
            height=self.height,
            round=self.round,
            block_hash=self.block_hash,
            signatures=[
                pb.CommitSig(validator_index=s.validator_index, timestamp_ms=s.timestamp_ms, signature=s.signature)
                for s in self.signatures
            ],
        )

    @classmethod
    def from_proto(cls, m: pb.CommitCertificate) -> "CommitCertificate":
        _raise_if(_hash_error(m.block_hash, nil_ok=False))
        if m.height < 1:
            raise MalformedInput("commit certificate height must be at least 1")
        return cls(
            m.height,
            m.round,
            m.block_hash,
            tuple(CommitSig(s.validator_index, s.timestamp_ms, s.signature) for s in m.signatures),
        )

    def encode(self) -> bytes:
        """Deterministic protobuf bytes (what a block's last_commit field and the store hold)."""
        return self.to_proto().SerializeToString(deterministic=True)

    @classmethod
    def decode(cls, data: bytes) -> "CommitCertificate":
        try:
            m = pb.CommitCertificate.FromString(data)
        except Exception as exc:  # protobuf raises DecodeError and others for garbage
            raise MalformedInput(f"commit certificate does not decode: {exc}") from None
        return cls.from_proto(m)


@dataclasses.dataclass(frozen=True, slots=True)
class Evidence:
    """Two validly signed votes of one validator for one height, round and type, for
    different blocks."""

    first: Vote
    second: Vote

    def __post_init__(self) -> None:
        a, b = self.first, self.second
        assert (a.type, a.height, a.round, a.validator_index) == (b.type, b.height, b.round, b.validator_index)
        assert a.block_hash != b.block_hash

    def to_proto(self) -> pb.Evidence:
        return pb.Evidence(first=self.first.to_proto(), second=self.second.to_proto())

    @classmethod
    def from_proto(cls, m: pb.Evidence) -> "Evidence":
        a, b = Vote.from_proto(m.first), Vote.from_proto(m.second)
        if (a.type, a.height, a.round, a.validator_index) != (b.type, b.height, b.round, b.validator_index):
            raise MalformedInput("evidence votes are for different validators, heights, rounds or types")
        if a.block_hash == b.block_hash:
            raise MalformedInput("evidence votes do not conflict")
        return cls(a, b)


Message = Vote | Proposal | Status


def to_peer_message(msg: Message) -> pb.PeerMessage:
    if isinstance(msg, Vote):
        return pb.PeerMessage(vote=msg.to_proto())
    if isinstance(msg, Proposal):
        return pb.PeerMessage(proposal=msg.to_proto())
    assert isinstance(msg, Status), f"not a consensus message: {type(msg).__name__}"
    return pb.PeerMessage(status=msg.to_proto())


def from_peer_message(m: pb.PeerMessage) -> Message | None:
    """The consensus message inside a PeerMessage; None when it carries something else
    (transactions). Raises MalformedInput when the message is out of shape."""
    kind = m.WhichOneof("msg")
    if kind == "vote":
        return Vote.from_proto(m.vote)
    if kind == "proposal":
        return Proposal.from_proto(m.proposal)
    if kind == "status":
        return Status.from_proto(m.status)
    return None


def _raise_if(error: str | None) -> None:
    if error is not None:
        raise MalformedInput(error)
