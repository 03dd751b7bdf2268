"""Test support for the ledger core: a consortium PKI, parties with EDS keys, chains on
either storage backend. Real keys, real certificates, real signatures."""

from __future__ import annotations

import dataclasses
import datetime
import itertools

from node import envelope, identity, pki, signing
from node.chain import Chain
from node.envelope import EnvelopeVerifier
from node.genesis import Genesis, Validator
from node.generic_executor import GenericExecutor
from node.mempool import Mempool
from node.solo import SoloSealer

GENESIS_TIME = datetime.datetime(2026, 1, 5, 4, 0, tzinfo=datetime.timezone.utc)
GENESIS_TIME_MS = int(GENESIS_TIME.timestamp() * 1000)
CHAIN_ID = "tamga-test-1"


@dataclasses.dataclass
class Party:
    """Someone who signs: their EDS key and certificate."""

    signer: signing.Signer
    cert: bytes
    name: str

    @property
    def pair(self) -> tuple[signing.Signer, bytes]:
        return (self.signer, self.cert)


class TestPKI:
    """A consortium CA and helpers to issue EDS certificates for any role."""

    __test__ = False  # not a test class

    def __init__(self) -> None:
        self.ca = pki.CertificateAuthority.create("Tamga Test Root CA", GENESIS_TIME)
        self.verifier = self.ca.verifier()
        self._serial = itertools.count(1)

    def party(self, name: str, roles=("citizen",), *, iin: str | None = None, bin: str | None = None, organisation: str | None = None, days: int = 3650, not_before: datetime.datetime | None = None) -> Party:
        n = next(self._serial)
        if iin is None and bin is None:
            iin = identity.make_iin(datetime.date(1980, 1, 1 + n % 28), "M", n)
        signer = signing.Signer.generate()
        start = not_before or GENESIS_TIME - datetime.timedelta(days=1)
        cert = self.ca.issue_eds(signer.public_key, name=name, roles=roles, iin=iin, bin=bin, organisation=organisation, not_before=start, not_after=start + datetime.timedelta(days=days))
        return Party(signer, cert, name)


def solo_genesis(test_pki: TestPKI, validator: signing.Signer, app: str = "tamga-generic/1", app_state: dict | None = None) -> Genesis:
    return Genesis(
        chain_id=CHAIN_ID,
        genesis_time_ms=GENESIS_TIME_MS,
        ca_certificate_pem=test_pki.ca.cert_pem.decode(),
        validators=(Validator("solo", validator.public_key, 1, "Ministry of Justice"),),
        app=app,
        app_state=app_state or {},
    )


class SoloNode:
    """A one-validator chain with its mempool and sealer, on the given store."""

    def __init__(self, kv, test_pki: TestPKI, *, validator: signing.Signer | None = None, genesis: Genesis | None = None, executor=None, now_ms=None):
        self.validator = validator or signing.Signer(bytes(range(32)))
        self.genesis = genesis or solo_genesis(test_pki, self.validator)
        self.executor = executor or GenericExecutor()
        self.chain = Chain(kv, self.genesis, self.executor)
        self.clock = now_ms or (lambda: GENESIS_TIME_MS + 60_000)
        self.mempool = Mempool(self.chain, EnvelopeVerifier(self.genesis.chain_id, test_pki.verifier), self.executor, now_ms=self.clock)
        self.sealer = SoloSealer(self.chain, self.mempool, self.validator, now_ms=self.clock)
        self._nonce = itertools.count(1)

    def envelope(self, kind: str, payload: dict, *parties: Party) -> bytes:
        return envelope.build_envelope(self.genesis.chain_id, kind, payload, [p.pair for p in parties], next(self._nonce))

    def submit(self, kind: str, payload: dict, *parties: Party):
        return self.mempool.add(self.envelope(kind, payload, *parties))
