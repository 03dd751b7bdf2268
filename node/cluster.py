"""Creating a local consortium: CA, validator keys, TLS certificates, genesis, node configs.

`tamga cluster init --nodes 4 --out DIR` calls `init_cluster`. The default consortium is the
four operators the study names: Ministry of Justice, the State Corporation "Government for
Citizens", a bank (ForteBank ran the pilot) and National Information Technologies.
The CA key is written to DIR/ca/ so the demo can issue identities; in production the CA is
the national certification authority and its key never leaves it.
May import: node.config, node.genesis, node.identity, node.pki, node.signing.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import shutil

from node import identity, pki, signing
from node.config import NodeConfig, PeerConfig
from node.genesis import DEFAULT_CONSENSUS, Genesis, Validator

OPERATORS = [
    ("moj", "Ministry of Justice of the Republic of Kazakhstan", identity.make_bin(datetime.date(1996, 5, 1), 1001)),
    ("gov4c", "NJSC State Corporation \"Government for Citizens\"", identity.make_bin(datetime.date(2016, 3, 1), 2002)),
    ("bank", "ForteBank JSC", identity.make_bin(datetime.date(1999, 12, 1), 3003)),
    ("nitec", "JSC National Information Technologies", identity.make_bin(datetime.date(2000, 6, 1), 4004)),
    ("ktc", "Kazakhtelecom JSC", identity.make_bin(datetime.date(1994, 6, 1), 5005)),
    ("bank2", "Second-tier Bank JSC", identity.make_bin(datetime.date(2001, 2, 1), 6006)),
    ("node7", "Independent operator 7", identity.make_bin(datetime.date(2002, 2, 1), 7007)),
]


@dataclasses.dataclass
class ClusterLayout:
    out: str
    nodes: list[str]            # config file paths
    genesis_file: str
    ca_cert_file: str
    ca_key_file: str


def ports(base_port: int, index: int) -> dict[str, str]:
    return {
        "http_listen": f"127.0.0.1:{base_port + index}",
        "ledger_listen": f"127.0.0.1:{base_port + 100 + index}",
        "peer_listen": f"127.0.0.1:{base_port + 200 + index}",
    }


def init_cluster(
    out: str,
    nodes: int = 4,
    *,
    base_port: int = 7001,
    chain_id: str = "tamga-local-1",
    app: str = "tamga-registry/1",
    now: datetime.datetime | None = None,
    consensus: dict | None = None,
    app_state: dict | None = None,
) -> ClusterLayout:
    assert 1 <= nodes <= len(OPERATORS), f"between 1 and {len(OPERATORS)} nodes"
    now = now or datetime.datetime.now(datetime.timezone.utc)
    os.makedirs(os.path.join(out, "ca"), exist_ok=True)
    ca = pki.CertificateAuthority.create("Tamga Consortium Root CA", now)
    ca_cert = os.path.join(out, "ca", "ca.pem")
    ca_key = os.path.join(out, "ca", "ca.key")
    _write(ca_cert, ca.cert_pem)
    _write(ca_key, ca.key_pem, private=True)

    operators = OPERATORS[:nodes]
    keys = [signing.Signer.generate() for _ in operators]
    validators = tuple(Validator(name, k.public_key, 1, org) for (name, org, _), k in zip(operators, keys))
    genesis = Genesis(
        chain_id=chain_id,
        genesis_time_ms=int(now.timestamp() * 1000),
        ca_certificate_pem=ca.cert_pem.decode(),
        validators=validators,
        app=app,
        consensus={**DEFAULT_CONSENSUS, **(consensus or {})},
        app_state=app_state or {},
    )
    genesis_file = os.path.join(out, "genesis.json")
    with open(genesis_file, "w") as f:
        json.dump(genesis.to_dict(), f, indent=2, sort_keys=True)
        f.write("\n")

    configs = []
    for i, ((name, org, bin_), key) in enumerate(zip(operators, keys)):
        node_dir = os.path.join(out, "nodes", name)
        os.makedirs(node_dir, exist_ok=True)
        tls_key = pki.new_tls_key()
        tls_pem = ca.issue_tls(
            tls_key,
            name=name,
            validator_key=key.public_key,
            hosts=[f"{name}.tamga", "localhost"],  # peers check the name (node/peers.py)
            bin=bin_,
            organisation=org,
            not_before=now - datetime.timedelta(days=1),
            not_after=now + datetime.timedelta(days=365 * 5),
        )
        _write(os.path.join(node_dir, "validator.key"), key.seed.hex().encode() + b"\n", private=True)
        _write(os.path.join(node_dir, "tls.pem"), tls_pem)
        _write(os.path.join(node_dir, "tls.key"), pki.private_key_pem(tls_key), private=True)
        peers = [
            PeerConfig(other, ports(base_port, j)["peer_listen"], k2.public_key.hex())
            for j, ((other, _, _), k2) in enumerate(zip(operators, keys))
            if j != i
        ]
        cfg = NodeConfig(
            name=name,
            organisation=org,
            genesis_file="../../genesis.json",
            data_dir="data",
            validator_key_file="validator.key",
            tls_cert_file="tls.pem",
            tls_key_file="tls.key",
            ca_cert_file="../../ca/ca.pem",
            peers=peers,
            log_file="node.log",
            **ports(base_port, i),
        )
        path = os.path.join(node_dir, "config.json")
        cfg.save(path)
        configs.append(path)
    # Every node keeps its peers' TLS certificates (CA-issued, naming their validator keys):
    # verifiable extracts carry them so that anyone holding the CA certificate can check
    # who signed a commit.
    for name, _, _ in operators:
        peers_dir = os.path.join(out, "nodes", name, "peers")
        os.makedirs(peers_dir, exist_ok=True)
        for other, _, _ in operators:
            if other != name:
                shutil.copyfile(os.path.join(out, "nodes", other, "tls.pem"), os.path.join(peers_dir, f"{other}.pem"))
    return ClusterLayout(out, configs, genesis_file, ca_cert, ca_key)


def _write(path: str, data: bytes, private: bool = False) -> None:
    with open(path, "wb") as f:
        f.write(data)
    if private:
        os.chmod(path, 0o600)
