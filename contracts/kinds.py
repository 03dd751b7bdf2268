"""Every transaction kind: its payload schema, the signer roles it needs, and its handler.

`required_roles` is a list of role groups: for each group at least one signer must hold one of
its roles (checked statelessly by check_tx, from the certificates). Who exactly must sign
(the holder, the pledgee, the imposing authority, ...) depends on the state and is checked by
the handler, which refuses with a reason code and an article.

`TABLE` is the single source for contracts/README.md, the API's documentation and
contracts/builders.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from contracts import authority, book, claims, corrections, court, governance, keyrecovery, objects, pledge, sale, settlement, stops
from contracts import payloads as P
from contracts.env import Env
from node.errors import WrongRole
from node.interfaces import Outcome, VerifiedTx

PARTY_ROLES = ("citizen", "legal_entity", "bank")
APPLICANT_ROLES = PARTY_ROLES + ("notary", "bankruptcy_manager", "guardianship_body", "lawyer")
REGISTRAR = book.REGISTRAR_ROLES


@dataclasses.dataclass(frozen=True)
class Kind:
    name: str
    roles: tuple[tuple[str, ...], ...]
    schema: dict[str, P.Field]
    handler: Callable[[Env, dict], Outcome]
    signers: str                       # who signs, in words (docs and API)
    articles: str
    extra: Callable[[VerifiedTx], None] | None = None


def _notary_if_notarised(tx: VerifiedTx) -> None:
    if tx.payload.get("notarised") and not tx.signers_with_role("notary"):
        raise WrongRole("a sale marked notarised must be co-signed by a notary")


def _kinds() -> list[Kind]:
    return [
        Kind("register.load", (REGISTRAR,), objects.LOAD, objects.load,
             "a registrar (systematic registration)", "Art 56, 57"),
        Kind("pledge.file", (("bank",),), pledge.FILE, pledge.file,
             "the pledgee bank and every pledgor; or the bank and a notary with the pledgor's consent", "Art 22.2, 48"),
        Kind("pledge.change", (("bank",),), pledge.CHANGE, pledge.change,
             "the pledgee and the pledgors; for a cession the old and the new pledgee", "Art 48.5, 22.2"),
        Kind("pledge.discharge", (("bank",),), pledge.DISCHARGE, pledge.discharge, "the pledgee", "Art 48.6.1, 23.2-1"),
        Kind("pledge.default_notice", (("bank",),), pledge.DEFAULT_NOTICE, pledge.default_notice,
             "the pledgee", "Art 24.5, 31.1-1.9"),
        Kind("pledge.foreclose", (("bank",),), pledge.FORECLOSE, pledge.foreclose, "the pledgee", "Art 48.6.2"),
        Kind("sale.file", (PARTY_ROLES,), sale.FILE, sale.file,
             "all sellers, buyers and co-holders (spouses consenting); or a notary and one party", "Art 22, 31", _notary_if_notarised),
        Kind("transfer.inherit", (("notary",), PARTY_ROLES), sale.INHERIT, sale.inherit,
             "the notary who issued the certificate and an heir", "Art 45, 22.1"),
        Kind("transfer.reorganise", (("legal_entity", "bank"),), sale.REORGANISE, sale.reorganise,
             "the legal successor", "Art 46"),
        Kind("application.decide", (REGISTRAR,), {
            "number": P.APPLICATION_NUMBER,
            "decision": P.enum("register", "suspend", "refuse"),
            "reason": P.opt(P.text()),
            "article": P.opt(P.text(P.NAME_MAX)),
            "ground": P.opt(P.text(P.NAME_MAX)),
        }, book.decide, "a registrar who is not a party", "Art 20, 27, 30, 31"),
        Kind("application.withdraw", (APPLICANT_ROLES,), {"number": P.APPLICATION_NUMBER, "reason": P.opt(P.text())},
             book.withdraw, "an applicant", "Art 27.6"),
        Kind("encumbrance.impose", (authority.AUTHORITY_ROLES,), authority.IMPOSE, authority.impose,
             "the imposing court, bailiff or state body", "Art 5.4-5, 22.8, 23.2"),
        Kind("encumbrance.lift", (authority.AUTHORITY_ROLES,), authority.LIFT, authority.lift,
             "the authority that imposed it, or a court (never a registrar)", "Art 22.8, 23.2-1"),
        Kind("claim.register", (claims.INTERESTED_ROLES,), claims.REGISTER, claims.register,
             "the claimant (or their lawyer, or a court)", "Art 53, 23.2"),
        Kind("claim.withdraw", (claims.INTERESTED_ROLES,), claims.WITHDRAW, claims.withdraw,
             "the claimant, or a court", "Art 53.4"),
        Kind("claim.extend", (claims.INTERESTED_ROLES,), claims.EXTEND, claims.extend, "the claimant", "Art 53.4"),
        Kind("stop.request", (PARTY_ROLES,), stops.REQUEST, stops.request, "every holder of the object", "Art 29"),
        Kind("stop.cancel", (PARTY_ROLES,), stops.CANCEL, stops.cancel, "a holder of the object", "Art 29.4"),
        Kind("court.cancel_entry", (("court",),), court.CANCEL, court.cancel_entry, "a court", "Art 33, 44.4"),
        Kind("court.transfer", (("court",),), court.TRANSFER, court.transfer, "a court", "Art 44.1"),
        Kind("correction.apply", (REGISTRAR,), corrections.APPLY, corrections.apply,
             "a registrar; for substantive corrections also every interested person, or a court", "Art 32"),
        Kind("object.divide", (PARTY_ROLES,), objects.DIVIDE, objects.divide, "every holder (and consenting pledgees)", "Art 49"),
        Kind("object.merge", (PARTY_ROLES,), objects.MERGE, objects.merge, "every holder (and consenting pledgees)", "Art 49"),
        Kind("object.terminate", (PARTY_ROLES,), objects.TERMINATE, objects.terminate, "every holder", "Art 54"),
        Kind("token.issue", (("token_issuer",),), settlement.ISSUE, settlement.issue, "the token issuer", "Settlement rules"),
        Kind("token.redeem", (("token_issuer",),), settlement.REDEEM, settlement.redeem,
             "the token issuer and the holder", "Settlement rules"),
        Kind("token.transfer", (PARTY_ROLES,), settlement.TRANSFER, settlement.transfer, "the payer", "Settlement rules"),
        Kind("identity.replace_key", (("identity_officer",),), keyrecovery.REPLACE, keyrecovery.replace_key,
             "an identity officer (not for themself)", "Design decision 4"),
        Kind("calendar.set", (("governance",),), governance.CALENDAR, governance.set_calendar, "governance", "Art 23, 27, 29, 53"),
        Kind("policy.set", (("governance",),), governance.POLICY, governance.set_policy, "governance", "Art 21.4, 23.1-1"),
    ]


TABLE: dict[str, Kind] = {k.name: k for k in _kinds()}


def describe() -> list[dict[str, Any]]:
    """The kinds with their required roles, for documentation and the API."""
    return [{"kind": k.name, "roles": [list(g) for g in k.roles], "signers": k.signers, "articles": k.articles,
             "fields": sorted(k.schema)} for k in TABLE.values()]
