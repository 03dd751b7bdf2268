"""Refusal reason codes, each with the article of law it rests on (pure).

`refuse(CODE, message)` raises node.errors.Refusal with the code's default article; a
caller that knows a more precise article passes it. The table is the single source for
contracts/README.md and for the API's documentation of refusals.
"""

from __future__ import annotations

from typing import NoReturn

from node.errors import Refusal

# code -> (article, what it means)
CODES: dict[str, tuple[str, str]] = {
    # objects and the register
    "OBJECT_NOT_FOUND": ("Art 3.2", "no registered object with this cadastral number"),
    "OBJECT_EXISTS": ("Art 1.14", "a cadastral number is unique in the country"),
    "OBJECT_INACTIVE": ("Art 49.4, 54", "the object was divided, merged or terminated"),
    "NOT_HOMOGENEOUS": ("Art 49.2.1", "objects to merge must carry homogeneous rights"),
    "RIGHT_NOT_FOUND": ("Art 14.2.2", "no such active right on the object"),
    "SHARES_INVALID": ("Art 14.2.2, 22.5", "shares of a right must be positive and sum to one"),
    # who applies
    "NOT_RIGHT_HOLDER": ("Art 21.1", "the applicant does not hold the right being disposed of"),
    "SIGNATURE_MISSING": ("Art 22.2", "without notarial attestation every participant must sign"),
    "SPOUSE_CONSENT_MISSING": ("Art 22.6", "a married party's spouse must consent"),
    "PLEDGOR_CONSENT_MISSING": ("Art 22.2", "a pledgee applying alone needs the pledgor's notarised consent"),
    "NOTARY_REQUIRED": ("Art 22.1, 24.2", "the deal must be attested by a notary"),
    "NOT_PLEDGEE": ("Art 48.6.1", "only the pledgee may apply for this"),
    "NOT_IMPOSING_AUTHORITY": ("Art 22.8", "only the imposing authority or a court may lift an encumbrance it imposed"),
    "NOT_CLAIMANT": ("Art 53.4", "only the claimant, with consent, or a court may withdraw or extend a legal claim"),
    "NOT_APPLICANT": ("Art 27.6", "only an applicant may withdraw an application"),
    "SELF_SERVICE": ("Order 1382", "an official may not act on their own identity or property"),
    # the book and the decision
    "APPLICATION_NOT_FOUND": ("Art 13", "no application with this number in the book"),
    "APPLICATION_CLOSED": ("Art 30.2", "the application was already decided or withdrawn"),
    "PRIORITY": ("Art 13.2, 21.5", "an earlier application on the same object must be decided first"),
    "ALREADY_SUSPENDED": ("Art 27.3", "a registration is suspended at most once, for at most one month"),
    "SUSPENSION_EXPIRED": ("Art 27.3, 31.1.6", "the grounds of suspension were not removed within one month"),
    "DECISION_INCOMPLETE": ("Art 27.5, 31.3", "a suspension or refusal must state its reason and article"),
    # encumbrances, stops, claims
    "ENCUMBRANCE_EXCLUDES": ("Art 31.1.4", "an encumbrance excludes this registration"),
    "ENCUMBRANCE_NOT_FOUND": ("Art 14.2.3", "no such active encumbrance"),
    "TEMPORARY_STOP": ("Art 29.2", "registration is temporarily stopped at the owner's request"),
    "STOP_ACTIVE": ("Art 29", "a temporary stop is already in force on the object"),
    "STOP_INVALID": ("Art 29.1", "a guarantee stop names its counterparty; a risk-of-loss stop has no term"),
    "STOP_NOT_FOUND": ("Art 29", "no temporary stop in force on the object"),
    "CLAIM_NOT_FOUND": ("Art 53", "no such active legal claim"),
    "PLEDGE_NOT_FOUND": ("Art 48", "no such active pledge"),
    "NO_DEFAULT_NOTICE": ("Art 48.6.2, 31.1-1.9", "foreclosure needs a registered notice of non-performance"),
    "AMOUNT_INCREASE_EXCLUDED": ("Art 31.1-1.8", "raising a pledge's amount is excluded by the encumbrance"),
    # court acts and corrections
    "ENTRY_NOT_FOUND": ("Art 33", "no such entry in the registration sheet"),
    "ENTRY_NOT_CANCELLABLE": ("Art 33", "the entry is not active or has been superseded by later entries"),
    "JUDICIAL_ENCUMBRANCE": ("Art 44.1", "an encumbrance arising from a judicial act stands in the way"),
    "CORRECTION_NEEDS_CONSENT": ("Art 32.3", "a substantive correction needs every interested person's consent or a court act"),
    "NOTHING_TO_CORRECT": ("Art 32", "the correction changes nothing"),
    "NOTHING_TO_CHANGE": ("Art 48.5", "the change of a pledge changes none of its terms"),
    # settlement tokens
    "INSUFFICIENT_FUNDS": ("Settlement rules", "the payer's available token balance is too low"),
    "SUPPLY_LIMIT": ("Settlement rules", "the issue would exceed the token supply limit"),
    "SETTLEMENT_MISMATCH": ("Settlement rules", "payments must sum to the price"),
    # identity
    "KEY_NOT_PERSONS": ("Design decision 4", "the certificate is bound to another person"),
    "KEY_ALREADY_REVOKED": ("Design decision 4", "the certificate is already revoked"),
    "KEY_ALREADY_BOUND": ("Design decision 4", "the new certificate is already bound to a person"),
    "CERTIFICATE_REVOKED": ("Design decision 4", "a signer's certificate has been revoked"),
    # governance
    "POLICY_INVALID": ("Consortium policy", "the policy names an unknown application type"),
    # anything the stateless checks refuse when a proposer includes an unchecked tx
    "UNKNOWN_KIND": ("", "the transaction kind is not known"),
    "INVALID_PAYLOAD": ("", "the payload does not match the kind's schema"),
    "WRONG_ROLE": ("", "no signer has the role this kind needs"),
    "INVALID_IDENTIFIER": ("", "an IIN or BIN fails its check"),
}


def article(code: str) -> str:
    return CODES[code][0]


def refuse(code: str, message: str, article_: str | None = None, details: dict | None = None) -> NoReturn:
    assert code in CODES, f"unknown refusal code {code}"
    raise Refusal(code, message, article_ if article_ is not None else CODES[code][0], details)
