"""Who may learn what from the legal cadastre (Art 17 of the Law; Order 1382, appendix 2).

Pure functions of the caller (what their EDS certificate binds), the ground they state and
any consent they carry, and the facts of the object or person asked about:

- Open to anyone (Art 17.3-1, 17.3-2): registered encumbrances (pledges among them), legal
  claims, and rights of legal entities. An object's public view shows those and withholds
  rights of individuals, the identification characteristics beyond type and address, the
  notes and the history. A legal entity's holdings are open too.
- An object's full sheet and an individual's holdings (Art 17.3): the right holder (or the
  person themself); the motivated request of a listed requester (lawyer, court, law
  enforcement and prosecutors, bailiff, tax and other state bodies, notary, bankruptcy or
  financial manager, guardianship body) with the ground stated; an heir naming the holder
  they inherit from, with the ground; anyone with the holder's written consent.
- The registering body (registrar, senior registrar) maintains the cadastre (Art 11) and
  sees everything.
- Personal data beyond name and date of birth never leaves (Art 17.1): see redact.py.

The API records every decision, given or refused, in the book of requests (Art 16).
May import: node.errors, node.identity, node.interfaces.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

from node import identity
from node.errors import TamgaError
from node.interfaces import Credential

GROUND_CHARS_MIN = 5
GROUND_CHARS_MAX = 500

# Art 17.3's list of requesters entitled on a motivated request, by certificate role.
LISTED_REQUESTERS: dict[str, str] = {
    "lawyer": "Art 17.3.1",
    "court": "Art 17.3.2",
    "law_enforcement": "Art 17.3.2",
    "prosecutor": "Art 17.3.2",
    "bailiff": "Art 17.3.3",
    "tax_body": "Art 17.3.4",
    "state_body": "Art 17.3.4",
    "notary": "Art 17.3.5",
    "bankruptcy_manager": "Art 17.3.6, 17.3.6-1",
    "guardianship_body": "Art 17.3.7",
}
# Art 17.2: copies of documents (the book of documents' records) on motivated requests.
DOCUMENT_REQUESTERS = ("court", "law_enforcement", "prosecutor", "state_body", "tax_body", "bankruptcy_manager", "bailiff")
REGISTERING_BODY = ("registrar", "senior_registrar")
LEDGER_READERS = ("registrar", "senior_registrar", "auditor", "validator", "bank")

FULL = "full"
PUBLIC = "public"


class AccessDenied(TamgaError):
    code = "ACCESS_DENIED"
    http_status = 403


class GroundRequired(TamgaError):
    code = "GROUND_REQUIRED"
    http_status = 403


class InvalidGround(TamgaError):
    code = "INVALID_GROUND"
    http_status = 400


@dataclasses.dataclass(frozen=True)
class Caller:
    """An authenticated caller and what they state with the request."""

    credential: Credential
    ground: str | None = None
    heir_of: str | None = None
    consent_from: str | None = None      # the holder whose verified consent the caller carries
    consent_subject: str | None = None   # the object or person that consent covers

    @property
    def ids(self) -> set[str]:
        return {i for i in (self.credential.iin, self.credential.bin) if i}

    @property
    def is_registering_body(self) -> bool:
        return self.credential.has_role(*REGISTERING_BODY)

    def listed_role(self) -> str | None:
        for role in sorted(LISTED_REQUESTERS):
            if self.credential.has_role(role):
                return role
        return None


@dataclasses.dataclass(frozen=True)
class Access:
    level: str           # FULL or PUBLIC
    basis: str           # holder, registering_body, listed_requester:<role>, heir, consent, open
    article: str


def check_ground(ground: str | None) -> str | None:
    """A stated ground, trimmed; InvalidGround when it is too short or too long."""
    if ground is None:
        return None
    g = ground.strip()
    if not g:
        return None
    if len(g) < GROUND_CHARS_MIN or len(g) > GROUND_CHARS_MAX:
        raise InvalidGround(f"the ground of a request must be {GROUND_CHARS_MIN}-{GROUND_CHARS_MAX} characters (a case or proceedings number and what it is about)")
    return g


def _full_by_statement(caller: Caller, holders: set[str], subject: str) -> Access | None:
    """Full access on a listed requester's ground, an heir's ground, or a holder's consent."""
    role = caller.listed_role()
    if role is not None and caller.ground:
        return Access(FULL, f"listed_requester:{role}", LISTED_REQUESTERS[role])
    if caller.heir_of and caller.ground and caller.heir_of in holders:
        return Access(FULL, "heir", "Art 17.3.5")
    if caller.consent_from and caller.consent_subject == subject and caller.consent_from in holders:
        return Access(FULL, "consent", "Art 17.3.8")
    return None


def object_access(caller: Caller, cn: str, holders: Iterable[str], *, want_full: bool) -> Access:
    """What `caller` may see of object `cn`, whose active rights are held by `holders`.

    With want_full, a caller not entitled to the full sheet is refused (AccessDenied or
    GroundRequired) instead of being given the public view."""
    holder_set = set(holders)
    if caller.ids & holder_set:
        return Access(FULL, "holder", "Art 17.3")
    if caller.is_registering_body:
        return Access(FULL, "registering_body", "Art 11")
    found = _full_by_statement(caller, holder_set, cn)
    if found is not None:
        return found
    if want_full:
        role = caller.listed_role()
        if role is not None:
            raise GroundRequired(
                f"a {role} receives the full registration sheet on a motivated request ({LISTED_REQUESTERS[role]}): state the ground in the X-Tamga-Ground header",
                details={"article": LISTED_REQUESTERS[role]},
            )
        raise AccessDenied(
            f"the full registration sheet of {cn} is given to its right holder, to the requesters Art 17.3 lists on a stated ground, "
            "or with the holder's written consent; encumbrances, legal claims and rights of legal entities are open to anyone (Art 17.3-1, 17.3-2)",
            details={"article": "Art 17.3"},
        )
    return Access(PUBLIC, "open", "Art 17.3-1, 17.3-2")


def holdings_access(caller: Caller, person_id: str) -> Access:
    """Whether `caller` may see the generalised data on `person_id`'s rights (Art 17.3)."""
    if identity.is_bin(person_id):
        return Access(FULL, "open", "Art 17.3-2")
    if person_id in caller.ids:
        return Access(FULL, "holder", "Art 17.3")
    if caller.is_registering_body:
        return Access(FULL, "registering_body", "Art 11")
    found = _full_by_statement(caller, {person_id}, person_id)
    if found is not None:
        return found
    role = caller.listed_role()
    if role is not None:
        raise GroundRequired(
            f"a {role} receives a person's holdings on a motivated request ({LISTED_REQUESTERS[role]}): state the ground in the X-Tamga-Ground header",
            details={"article": LISTED_REQUESTERS[role]},
        )
    raise AccessDenied(
        "the holdings of an individual are given to that person, to the requesters Art 17.3 lists on a stated ground, or with the person's written consent",
        details={"article": "Art 17.3"},
    )


def application_access(caller: Caller, parties: Iterable[str]) -> Access:
    """An application in the book of documents: its applicants and parties, the registering
    body, and on a motivated request the bodies of Art 17.2."""
    if caller.ids & set(parties):
        return Access(FULL, "party", "Art 17.3")
    if caller.is_registering_body:
        return Access(FULL, "registering_body", "Art 11")
    role = next((r for r in DOCUMENT_REQUESTERS if caller.credential.has_role(r)), None)
    if role is not None:
        if caller.ground:
            return Access(FULL, f"listed_requester:{role}", "Art 17.2")
        raise GroundRequired(f"a {role} receives the documents of an application on a motivated request (Art 17.2): state the ground in the X-Tamga-Ground header")
    raise AccessDenied("an application's record is given to its applicants and parties, the registering body, and the bodies Art 17.2 lists on a stated ground")


def require_any_role(caller: Caller, roles: Iterable[str], what: str) -> None:
    roles = tuple(roles)
    if not caller.credential.has_role(*roles):
        raise AccessDenied(f"{what} is for {', '.join(roles)}; the certificate of {caller.credential.name} has role(s) {', '.join(caller.credential.roles) or 'none'}")
