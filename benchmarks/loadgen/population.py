"""Who the load generator signs for, and the register they own.

People (citizens) own the objects of a demo register loaded at genesis (systematic
registration, Chapter 6); a fifth of the objects are in shared ownership of two people, so
pledges and sales carry three signatures. Banks file pledges; a registrar of the State
Corporation decides applications; the Ministry of Justice's system follows every event.
Keys are generated here; certificates are issued with the consortium CA's key (ca/ca.key
of a local cluster), as the national CA would issue EDS certificates.
"""

from __future__ import annotations

import dataclasses
import datetime
import random

from contracts import builders as B
from node import identity, pki, signing


@dataclasses.dataclass
class Party:
    name: str
    roles: tuple[str, ...]
    iin: str | None
    bin: str | None
    signer: signing.Signer
    cert: bytes = b""
    organisation: str | None = None

    @property
    def pair(self) -> tuple[signing.Signer, bytes]:
        assert self.cert, f"{self.name} has no certificate yet"
        return (self.signer, self.cert)

    @property
    def id(self) -> str:
        """The IIN or BIN rights and pledges are recorded under."""
        return self.bin if "bank" in self.roles and self.bin else (self.iin or self.bin or "")


def cadastral(i: int) -> str:
    """A distinct cadastral number for object i (region-district-quarter-plot)."""
    return f"{1 + i % 17:02d}-{i // 17 % 1000:03d}-{i // 17000 % 1000:03d}-{100 + i // 17_000_000:03d}"


class Population:
    """Everyone the generator signs for. `issue(ca)` gives each a certificate."""

    def __init__(self, people: int, objects: int, *, bank_bins: list[str], registrar_bin: str, moj_bin: str, seed: int = 7):
        rnd = random.Random(seed)
        seen: set[str] = set()

        def iin(i: int, sex: str) -> str:
            birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=(i * 37) % 18000)
            serial = 1 + i // 18000 * 500
            while True:
                v = identity.make_iin(birth, sex, serial)
                if v not in seen:
                    seen.add(v)
                    return v
                serial += 1

        self.people = [Party(f"Citizen {i}", ("citizen",), iin(i, "MF"[i % 2]), None, signing.Signer.generate()) for i in range(people)]
        self.banks = [
            Party(f"Loans desk of bank {b}", ("bank",), iin(people + k, "F"), b, signing.Signer.generate(), organisation=f"Bank {b}")
            for k, b in enumerate(bank_bins)
        ]
        self.registrar = Party("Registrar of the State Corporation", ("registrar",), iin(people + 50, "F"), registrar_bin, signing.Signer.generate(),
                               organisation="State Corporation Government for Citizens")
        self.moj = Party("Legal cadastre IS of the Ministry of Justice", ("state_body",), iin(people + 51, "M"), moj_bin, signing.Signer.generate(),
                         organisation="Ministry of Justice")
        self.by_id = {p.iin: p for p in self.people}
        # The register: object i belongs to person i % people; every fifth is shared with a second person.
        self.objects: list[dict] = []
        self.holders: dict[str, list[str]] = {}
        for i in range(objects):
            cn = cadastral(i)
            owner = self.people[i % people]
            if i % 5 == 0 and people > 1:
                other = self.people[(i % people + 1 + rnd.randrange(people - 1)) % people]
                ids = sorted([owner.iin, other.iin])
                right = B.ownership(B.holder(ids[0], 1, 2), B.holder(ids[1], 1, 2), common="shared")
            else:
                ids = [owner.iin]
                right = B.ownership(B.holder(owner.iin))
            kind = "apartment" if i % 3 else "land"
            ident = B.ident(f"Astana, street {i % 997}, {i}", 450_000 + i % 900_000, floors=9 if kind == "apartment" else None)
            self.objects.append(B.loaded_object(cn, kind, ident, [right]))
            self.holders[cn] = ids

    @property
    def everyone(self) -> list[Party]:
        return [*self.people, *self.banks, self.registrar, self.moj]

    def issue(self, ca: pki.CertificateAuthority, now: datetime.datetime | None = None, days: int = 30) -> None:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        for p in self.everyone:
            p.cert = ca.issue_eds(p.signer.public_key, name=p.name, roles=p.roles, iin=p.iin, bin=p.bin, organisation=p.organisation,
                                  not_before=now - datetime.timedelta(days=1), not_after=now + datetime.timedelta(days=days))
