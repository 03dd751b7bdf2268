"""The validator's persisted signing state: what it last signed, and its lock (pure).

A validator must never sign two different votes for one (height, round, type), even across
a crash (design decision 5). The core outputs this state in Ready whenever it changes; the
runtime writes it durably BEFORE it sends the messages of the same Ready, and passes it back
to the core's constructor after a restart.

The guard compares (height, round, type) of a new vote with the last signed one, ordered
lexicographically with PREVOTE < PRECOMMIT (the order in which a round signs them):
  - higher: sign it;
  - equal, for the same block: re-send the identical stored vote (same timestamp, same
    signature), so a restarted node repeats itself instead of contradicting itself;
  - anything else: refuse. Earlier votes than the last one are not stored, so a vote below
    the last one is refused even if it might have been harmless.
Proposals are guarded the same way by (height, round).

The lock (lockedRound/lockedValue, validRound/validValue of Algorithm 1) is persisted with
the blocks it names, so a restarted validator still honours its lock and can re-propose its
valid value -- and with the 2f+1 prevotes that made the value valid (its proof of lock). Those
prevotes live nowhere else once their voters have moved on: without them a re-proposal with
that pol_round convinces nobody (line 28 needs them), and a simulated run (seed 1254352192)
stalled forever with two validators locked on a value whose proof had been lost in crashes.

May import: node.codec, node.errors, consensus.messages.
"""

from __future__ import annotations

import dataclasses
import enum

from consensus.messages import Vote
from node import codec
from node.errors import MalformedInput, StoreCorrupted

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: before the proof of lock was kept (read as an empty one)


def _vote_fields(v: Vote) -> list:
    return [v.type, v.height, v.round, v.block_hash, v.timestamp_ms, v.validator_index, v.signature]


class Guard(enum.Enum):
    SIGN = "sign"          # nothing conflicting was signed: sign
    RESEND = "resend"      # exactly this was signed already: send the stored one again
    REFUSE = "refuse"      # signing would contradict, or go below, what was signed


@dataclasses.dataclass(frozen=True, slots=True)
class ProposalStamp:
    """The last proposal signed (the block itself is not kept: it can be rebuilt)."""

    height: int
    round: int
    pol_round: int
    block_hash: bytes
    signature: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class SignState:
    vote: Vote | None = None
    proposal: ProposalStamp | None = None
    height: int = 0              # the height the lock fields below belong to
    locked_round: int = -1
    locked_hash: bytes = b""
    valid_round: int = -1
    valid_hash: bytes = b""
    blocks: tuple[tuple[bytes, bytes], ...] = ()   # (hash, block) of the locked and valid values
    pol: tuple[Vote, ...] = ()   # the 2f+1 prevotes for valid_hash at valid_round

    # --- the guard ------------------------------------------------------------------------
    def check_vote(self, vote_type: int, height: int, round_: int, block_hash: bytes) -> tuple[Guard, Vote | None]:
        last = self.vote
        if last is None:
            return Guard.SIGN, None
        new_key, last_key = (height, round_, vote_type), (last.height, last.round, last.type)
        if new_key > last_key:
            return Guard.SIGN, None
        if new_key == last_key and block_hash == last.block_hash:
            return Guard.RESEND, last
        return Guard.REFUSE, None

    def check_proposal(self, height: int, round_: int, pol_round: int, block_hash: bytes) -> tuple[Guard, bytes | None]:
        last = self.proposal
        if last is None or (height, round_) > (last.height, last.round):
            return Guard.SIGN, None
        if (height, round_, pol_round, block_hash) == (last.height, last.round, last.pol_round, last.block_hash):
            return Guard.RESEND, last.signature
        return Guard.REFUSE, None

    def block(self, block_hash: bytes) -> bytes | None:
        for h, b in self.blocks:
            if h == block_hash:
                return b
        return None

    # --- Save / Load -----------------------------------------------------------------------
    def encode(self) -> bytes:
        """Canonical msgpack bytes to store under one key."""
        v, p = self.vote, self.proposal
        return codec.encode(
            {
                "version": FORMAT_VERSION,
                "vote": None if v is None else _vote_fields(v),
                "proposal": None if p is None else [p.height, p.round, p.pol_round, p.block_hash, p.signature],
                "height": self.height,
                "locked": [self.locked_round, self.locked_hash],
                "valid": [self.valid_round, self.valid_hash],
                "blocks": [[h, b] for h, b in self.blocks],
                "pol": [_vote_fields(x) for x in self.pol],
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> "SignState":
        """The state stored by `encode`; StoreCorrupted when the bytes are not one (the node
        must not take part in consensus with a signing state it cannot read)."""
        try:
            d = codec.decode(data)
            if d["version"] not in READABLE_VERSIONS:
                raise StoreCorrupted(f"sign state has format version {d['version']}; this node reads {READABLE_VERSIONS}")
            vote = None if d["vote"] is None else Vote(*d["vote"])
            pol = tuple(Vote(*x) for x in d.get("pol", ())) if d["version"] >= 2 else ()
            for v in (vote, *pol):
                if v is not None and v.shape_error() is not None:
                    raise StoreCorrupted(f"sign state holds a malformed vote: {v.shape_error()}")
            proposal = None if d["proposal"] is None else ProposalStamp(*d["proposal"])
            state = cls(
                vote=vote,
                proposal=proposal,
                height=d["height"],
                locked_round=d["locked"][0],
                locked_hash=d["locked"][1],
                valid_round=d["valid"][0],
                valid_hash=d["valid"][1],
                blocks=tuple((h, b) for h, b in d["blocks"]),
                pol=pol,
            )
        except StoreCorrupted:
            raise
        except (MalformedInput, KeyError, TypeError, IndexError, ValueError) as exc:
            raise StoreCorrupted(f"sign state does not decode ({exc}); restore it from a backup or re-key the validator") from None
        if (state.locked_round >= 0) != bool(state.locked_hash) or (state.valid_round >= 0) != bool(state.valid_hash):
            raise StoreCorrupted("sign state has a lock round without a value, or a value without a round")
        return state
