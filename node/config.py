"""A node's configuration file (JSON): who it is, where its keys and data are, whom it talks to.

Paths in the file are relative to the file's own directory, so a cluster directory can be
moved as a whole. May import: stdlib only.
"""

from __future__ import annotations

import dataclasses
import json
import os


@dataclasses.dataclass
class PeerConfig:
    name: str
    address: str            # host:port of the peer's node-to-node gRPC service
    validator_key: str      # hex Ed25519 public key it votes with (must match its TLS cert)


@dataclasses.dataclass
class NodeConfig:
    name: str
    organisation: str
    genesis_file: str
    data_dir: str
    validator_key_file: str   # hex seed of the Ed25519 validator key
    tls_cert_file: str
    tls_key_file: str
    ca_cert_file: str
    peer_listen: str          # node-to-node gRPC (mutual TLS)
    ledger_listen: str        # client gRPC Ledger service
    http_listen: str          # client HTTP API ("" = none)
    peers: list[PeerConfig] = dataclasses.field(default_factory=list)
    log_file: str = ""
    # Test-only crash points (tests/trust): kill the process at the named point.
    crash_at: str = ""

    base_dir: str = dataclasses.field(default="", repr=False, compare=False)

    def path(self, relative: str) -> str:
        return relative if os.path.isabs(relative) else os.path.join(self.base_dir, relative)

    @classmethod
    def load(cls, file: str) -> "NodeConfig":
        with open(file) as f:
            raw = json.load(f)
        raw["peers"] = [PeerConfig(**p) for p in raw.get("peers", [])]
        cfg = cls(**raw)
        cfg.base_dir = os.path.dirname(os.path.abspath(file))
        return cfg

    def save(self, file: str) -> None:
        d = dataclasses.asdict(self)
        d.pop("base_dir")
        with open(file, "w") as f:
            json.dump(d, f, indent=2, sort_keys=True)
            f.write("\n")

    @property
    def http_port(self) -> int | None:
        return int(self.http_listen.rsplit(":", 1)[1]) if self.http_listen else None
