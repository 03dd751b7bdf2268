"""The ordered validator set of one height: powers, quorums, proposer rotation (pure).

A validator is named everywhere by its index in this list (votes carry validator_index).
Quorum is "more than 2/3 of the total power" and the "f+1" threshold is "more than 1/3":
with n = 3f+1 validators of equal power these are 2f+1 and f+1 votes.

Proposer rotation is round-robin by index: proposer(height, round) = (height + round) mod n.
It ignores power on purpose: the consortium runs equal-power validators, and a rotation that
every reader can compute in their head is worth more than weighted fairness here.

May import: node.codec, node.errors, node.hashing, node.signing.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from node import codec
from node.errors import MalformedInput
from node.hashing import sha256
from node.signing import PUBLIC_KEY_SIZE

POWER_MAX = 2**40            # keeps total power and its products far inside int64
VALIDATORS_MAX = 1024


@dataclasses.dataclass(frozen=True, slots=True)
class Validator:
    public_key: bytes        # Ed25519, 32 bytes
    power: int = 1


class ValidatorSet:
    """An immutable, ordered list of validators with precomputed thresholds."""

    __slots__ = ("validators", "total_power", "quorum_power", "one_third_power", "_index", "_hash")

    def __init__(self, validators: Iterable[Validator]):
        self.validators: tuple[Validator, ...] = tuple(validators)
        if not self.validators:
            raise MalformedInput("the validator set is empty")
        if len(self.validators) > VALIDATORS_MAX:
            raise MalformedInput(f"the validator set has {len(self.validators)} members; at most {VALIDATORS_MAX}")
        self._index: dict[bytes, int] = {}
        for i, v in enumerate(self.validators):
            if not isinstance(v.public_key, bytes) or len(v.public_key) != PUBLIC_KEY_SIZE:
                raise MalformedInput(f"validator #{i} has no {PUBLIC_KEY_SIZE}-byte Ed25519 public key")
            if not isinstance(v.power, int) or isinstance(v.power, bool) or not 1 <= v.power <= POWER_MAX:
                raise MalformedInput(f"validator #{i} has power {v.power!r}; it must be an integer 1..{POWER_MAX}")
            if v.public_key in self._index:
                raise MalformedInput(f"validator #{i} repeats the key of validator #{self._index[v.public_key]}")
            self._index[v.public_key] = i
        self.total_power = sum(v.power for v in self.validators)
        # Smallest power strictly more than 2/3 (resp. 1/3) of the total, in integers.
        self.quorum_power = self.total_power * 2 // 3 + 1
        self.one_third_power = self.total_power // 3 + 1
        self._hash: bytes | None = None

    @classmethod
    def of(cls, members: Iterable[Any]) -> "ValidatorSet":
        """Build from any objects with `public_key` and `power` (e.g. node.genesis.Validator)."""
        return cls(Validator(m.public_key, m.power) for m in members)

    def __len__(self) -> int:
        return len(self.validators)

    def __getitem__(self, index: int) -> Validator:
        return self.validators[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValidatorSet) and self.validators == other.validators

    def __hash__(self) -> int:
        # From the set's own SHA-256, not hash(): the same in every process.
        return int.from_bytes(self.hash()[:8], "big")

    def index_of(self, public_key: bytes) -> int | None:
        return self._index.get(public_key)

    def power(self, index: int) -> int:
        return self.validators[index].power

    def proposer(self, height: int, round_: int) -> int:
        """Index of the proposer of (height, round): round-robin, (height + round) mod n."""
        return (height + round_) % len(self.validators)

    def has_quorum(self, power: int) -> bool:
        return power >= self.quorum_power

    def hash(self) -> bytes:
        """SHA-256 of the canonical msgpack of [[public_key, power], ...] in index order:
        the validator_set_hash a block header commits to."""
        if self._hash is None:
            self._hash = sha256(codec.encode([[v.public_key, v.power] for v in self.validators]))
        return self._hash

    def __repr__(self) -> str:
        return f"ValidatorSet(n={len(self)}, total_power={self.total_power})"
