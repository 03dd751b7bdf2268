"""The people of `tamga demo`, each with an EDS key and a certificate the demo issues with the
local consortium's CA key (DIR/ca/ca.key, written by `tamga cluster init` for this purpose;
in production certificates come from the national certification authority).

Fixed officials -- a ForteBank loan officer (the bank's BIN), a registrar of the State
Corporation, a private bailiff, a judge, the settlement token issuer, the Ministry of
Justice's legal cadastre system -- and, per run, the pledgor who owns the objects in the
demo register and two buyers.
May import: node (identity, pki, signing), api.client_auth, cli.demo_register, httpx.
"""

from __future__ import annotations

import dataclasses
import datetime

import httpx

from api.client_auth import EdsAuth
from cli.demo_register import person_name
from node import identity, pki, signing

CERT_DAYS = 30
D = datetime.date


@dataclasses.dataclass
class Person:
    key: str                  # how the demo refers to them: "bank", "registrar", ...
    name: str
    roles: tuple[str, ...]
    iin: str | None
    bin: str | None
    organisation: str | None
    signer: signing.Signer
    cert: bytes               # DER

    @property
    def id(self) -> str:
        """Whom they act as: the organisation's BIN for officials of a body, else the IIN."""
        return self.bin or self.iin  # type: ignore[return-value]

    @property
    def pair(self) -> tuple[signing.Signer, bytes]:
        return self.signer, self.cert

    @property
    def fingerprint(self) -> str:
        return pki.fingerprint(self.cert).hex()

    def describe(self) -> str:
        ids = ", ".join(x for x in (f"IIN {self.iin}" if self.iin else "", f"BIN {self.bin}" if self.bin else "") if x)
        org = f" ({self.organisation})" if self.organisation else ""
        return f"{self.name}{org}, {ids}, role {', '.join(self.roles)}"

    def to_dict(self) -> dict:
        return {"name": self.name, "roles": list(self.roles), "iin": self.iin, "bin": self.bin, "organisation": self.organisation,
                "certificate_sha256": self.fingerprint}

    def client(self, base_url: str, chain_id: str, timeout_s: float) -> httpx.Client:
        """An HTTP client whose every request is signed with this person's EDS."""
        return httpx.Client(base_url=base_url, auth=EdsAuth(self.signer, self.cert, chain_id), timeout=timeout_s)


# Bodies (BINs) the demo's officials work for. The bank, the State Corporation and the Ministry
# are the consortium's operators (node/cluster.py OPERATORS); the others are fixed here.
COURT = ("Specialised inter-district economic court of Astana", identity.make_bin(D(1996, 1, 1), 8008))
NATIONAL_BANK = ("National Bank of Kazakhstan (settlement token issuer)", identity.make_bin(D(1993, 5, 1), 8201))


class Cast:
    """Issues the demo's certificates."""

    def __init__(self, ca: pki.CertificateAuthority, operators: dict[str, tuple[str, str]], now: datetime.datetime):
        self.ca = ca
        self.operators = operators          # "moj" / "gov4c" / "bank" -> (organisation, BIN)
        self.now = now

    def issue(self, key: str, name: str, roles: tuple[str, ...], *, iin: str | None = None, bin: str | None = None,
              organisation: str | None = None) -> Person:
        signer = signing.Signer.generate()
        cert = self.ca.issue_eds(signer.public_key, name=name, roles=roles, iin=iin, bin=bin, organisation=organisation,
                                 not_before=self.now - datetime.timedelta(days=1), not_after=self.now + datetime.timedelta(days=CERT_DAYS))
        return Person(key, name, roles, iin, bin, organisation, signer, cert)

    def officials(self) -> dict[str, Person]:
        bank_org, bank_bin = self.operators["bank"]
        gov_org, gov_bin = self.operators["gov4c"]
        moj_org, moj_bin = self.operators["moj"]
        return {
            "bank": self.issue("bank", "Zhanna Seitkali", ("bank",), iin=identity.make_iin(D(1987, 3, 14), "F", 501),
                               bin=bank_bin, organisation=bank_org),
            "registrar": self.issue("registrar", "Aliya Sadykova", ("registrar",), iin=identity.make_iin(D(1982, 6, 6), "F", 502),
                                    bin=gov_bin, organisation=gov_org),
            "bailiff": self.issue("bailiff", "Yerlan Zhaksylykov", ("bailiff",), iin=identity.make_iin(D(1979, 11, 2), "M", 503)),
            "court": self.issue("court", "Marat Akhmetov", ("court",), iin=identity.make_iin(D(1970, 7, 7), "M", 504),
                                bin=COURT[1], organisation=COURT[0]),
            "issuer": self.issue("issuer", "Dinara Omarova", ("token_issuer",), iin=identity.make_iin(D(1984, 2, 20), "M", 505),
                                 bin=NATIONAL_BANK[1], organisation=NATIONAL_BANK[0]),
            "moj": self.issue("moj", "Legal cadastre information system", ("state_body",), bin=moj_bin, organisation=moj_org),
        }

    def citizen(self, key: str, iin: str) -> Person:
        return self.issue(key, person_name(iin), ("citizen",), iin=iin)


def buyer_iin(run: int, which: int) -> str:
    """A buyer's IIN for the demo's run number `run` (which: 0 the buyer, 1 the second buyer)."""
    return identity.make_iin(D(1990 + which, 1 + run % 12, 1 + run % 28), "M" if which else "F", 7000 + 2 * run + which)
