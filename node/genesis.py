"""The genesis document: what every node of one chain must agree on before block 1.

Chain id, genesis time, the hash algorithm (design decision 3), the consortium CA
certificate, the validator set, consensus timeouts, the application name and its initial
state. Stored as canonical JSON (sorted keys, no spaces); its hash identifies the chain
configuration and is checked against the copy in each node's store at start.
May import: node.hashing, node.codec, node.errors.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from node import codec
from node.errors import MalformedInput
from node.hashing import hasher


@dataclasses.dataclass(frozen=True)
class Validator:
    name: str
    public_key: bytes     # Ed25519, 32 bytes
    power: int = 1
    organisation: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "public_key": self.public_key.hex(), "power": self.power, "organisation": self.organisation}

    @classmethod
    def from_dict(cls, d: dict) -> "Validator":
        return cls(d["name"], bytes.fromhex(d["public_key"]), int(d.get("power", 1)), d.get("organisation", ""))


def validator_set_hash(validators: list[Validator] | tuple[Validator, ...], hash_fn=None) -> bytes:
    """Hash of the ordered validator set: H(canonical msgpack of [[public_key, power], ...])."""
    data = codec.encode([[v.public_key, v.power] for v in validators])
    return (hash_fn or (lambda b: hashlib.sha256(b).digest()))(data)


DEFAULT_CONSENSUS = {
    # CometBFT's default. At saturation on a loaded 2-core machine a 500-tx proposal
    # sometimes took over 1 s to build and arrive: 5 of 97 heights of a 60 s run were
    # decided in round 1, each after ~2 s instead of ~0.6, which idled the nodes for 11 % of
    # the run (with 3 s: none). The price is paid only when a proposer is down: its turns
    # then wait 3 s instead of 1 s.
    "timeout_propose_ms": 3000,
    "timeout_propose_delta_ms": 500,
    "timeout_prevote_ms": 500,
    "timeout_prevote_delta_ms": 250,
    "timeout_precommit_ms": 500,
    "timeout_precommit_delta_ms": 250,
    "block_interval_ms": 100,
    # A proposer executes its block before sending it, and the others wait timeout_propose_ms
    # for it: 2,000 registry txs took over a second on a loaded 2-core machine, so round 0
    # often timed out and the height was decided (re-executed) in round 1. 500 txs build in
    # ~0.3 s there, and smaller blocks let admission of the next txs overlap consensus on
    # these (benchmarks: 727 -> 829 committed tx/s at N=1024).
    "block_txs_max": 500,
    "block_bytes_max": 16 * 1024 * 1024,
}


@dataclasses.dataclass(frozen=True)
class Genesis:
    chain_id: str
    genesis_time_ms: int
    ca_certificate_pem: str
    validators: tuple[Validator, ...]
    hash_algorithm: str = "sha256"
    app: str = "tamga-registry/1"
    consensus: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_CONSENSUS))
    app_state: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        hasher(self.hash_algorithm)  # refuses unknown or short algorithms
        assert self.validators, "genesis needs at least one validator"

    @property
    def hash_fn(self):
        return hasher(self.hash_algorithm)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "genesis_time_ms": self.genesis_time_ms,
            "hash_algorithm": self.hash_algorithm,
            "ca_certificate_pem": self.ca_certificate_pem,
            "validators": [v.to_dict() for v in self.validators],
            "app": self.app,
            "consensus": self.consensus,
            "app_state": self.app_state,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> "Genesis":
        try:
            d = json.loads(data)
            return cls(
                chain_id=d["chain_id"],
                genesis_time_ms=int(d["genesis_time_ms"]),
                ca_certificate_pem=d["ca_certificate_pem"],
                validators=tuple(Validator.from_dict(v) for v in d["validators"]),
                hash_algorithm=d.get("hash_algorithm", "sha256"),
                app=d.get("app", "tamga-registry/1"),
                consensus={**DEFAULT_CONSENSUS, **d.get("consensus", {})},
                app_state=d.get("app_state", {}),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise MalformedInput(f"genesis document is invalid: {exc}") from None

    @property
    def hash(self) -> bytes:
        return self.hash_fn(self.to_json())

    @property
    def validator_set_hash(self) -> bytes:
        return validator_set_hash(self.validators, self.hash_fn)
