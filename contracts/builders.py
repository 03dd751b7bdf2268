"""Client-side builders: one function per transaction kind, returning (kind, payload).

The demo, the load generator and the tests build payloads here, so they agree with the
schemas the executor checks. Optional arguments left as None are left out of the payload.
Amounts are integer tiyn, areas integer square decimetres, dates "YYYY-MM-DD", document
hashes 32-byte SHA-256 digests (`doc(name, content)` makes one).

KINDS lists every kind with the roles its signers need (the same table check_tx uses).
"""

from __future__ import annotations

import hashlib
from typing import Any

from contracts.kinds import describe

KINDS: list[dict[str, Any]] = describe()
Tx = tuple[str, dict]


def _p(**fields: Any) -> dict:
    return {k: v for k, v in fields.items() if v is not None}


def doc(name: str, content: bytes) -> dict:
    """An attached document: its name and the SHA-256 of its content (the content goes to the document store)."""
    return {"name": name, "sha256": hashlib.sha256(content).digest()}


def act(number: str, date: str, content: bytes, issuer: str | None = None) -> dict:
    """A court's or state body's act."""
    return _p(number=number, date=date, sha256=hashlib.sha256(content).digest(), issuer=issuer)


def holder(person_id: str, num: int = 1, den: int = 1) -> dict:
    return {"id": person_id, "share": [num, den]}


def ident(address: str, area_total_dm2: int, **more: Any) -> dict:
    """Identification characteristics (Art 1.12): address, areas and the optional rest."""
    return _p(address=address, area_total_dm2=area_total_dm2, **more)


def loaded_object(cn: str, type_: str, ident_: dict, rights: list[dict], parent: str | None = None,
                  encumbrances: list[dict] | None = None) -> dict:
    """An object for systematic registration; rights: [{"type", "holders", "common"?}]."""
    return _p(cn=cn, type=type_, ident=ident_, parent=parent, rights=rights, encumbrances=encumbrances)


def ownership(*holders: dict, common: str | None = None, accrued: str | None = None) -> dict:
    return _p(type="ownership", holders=list(holders), common=common, accrued=accrued)


# --- register -----------------------------------------------------------------------------
def register_load(objects: list[dict], source: str) -> Tx:
    return "register.load", {"objects": objects, "source": source}


# --- pledge -------------------------------------------------------------------------------
def pledge_file(object_: str, pledgee: str, amount_tiyn: int, term_end: str, agreement: str, docs: list[dict],
                pledgors: list[str] | None = None, pledgor_consent: dict | None = None) -> Tx:
    return "pledge.file", _p(object=object_, pledgee=pledgee, amount_tiyn=amount_tiyn, term_end=term_end,
                             agreement=agreement, docs=docs, pledgors=pledgors, pledgor_consent=pledgor_consent)


def pledge_change(pledge: int, docs: list[dict], amount_tiyn: int | None = None, term_end: str | None = None,
                  pledgee: str | None = None, pledgors: list[str] | None = None, pledgor_consent: dict | None = None) -> Tx:
    return "pledge.change", _p(pledge=pledge, docs=docs, amount_tiyn=amount_tiyn, term_end=term_end, pledgee=pledgee,
                               pledgors=pledgors, pledgor_consent=pledgor_consent)


def pledge_discharge(pledge: int, ground: str = "fulfilled", docs: list[dict] | None = None) -> Tx:
    return "pledge.discharge", _p(pledge=pledge, ground=ground, docs=docs)


def pledge_default_notice(pledge: int, overdue_since: str, notice: dict) -> Tx:
    return "pledge.default_notice", {"pledge": pledge, "overdue_since": overdue_since, "notice": notice}


def pledge_foreclose(pledge: int, acquirer: str, ground: str, docs: list[dict]) -> Tx:
    return "pledge.foreclose", {"pledge": pledge, "acquirer": acquirer, "ground": ground, "docs": docs}


# --- transfers ----------------------------------------------------------------------------
def seller(person_id: str, num: int = 1, den: int = 1, spouse: str | None = None, receive_tiyn: int | None = None) -> dict:
    return _p(id=person_id, share=[num, den], spouse=spouse, receive_tiyn=receive_tiyn)


def buyer(person_id: str, num: int = 1, den: int = 1, spouse: str | None = None, pay_tiyn: int | None = None) -> dict:
    return _p(id=person_id, share=[num, den], spouse=spouse, pay_tiyn=pay_tiyn)


def sale_file(object_: str, sellers: list[dict], buyers: list[dict], price_tiyn: int, docs: list[dict],
              settlement: str = "off_ledger", notarised: bool | None = None, right: int | None = None,
              common: str | None = None, consents: list[dict] | None = None) -> Tx:
    return "sale.file", _p(object=object_, sellers=sellers, buyers=buyers, price_tiyn=price_tiyn, docs=docs,
                           settlement=settlement, notarised=notarised, right=right, common=common, consents=consents)


def transfer_inherit(object_: str, deceased: str, heirs: list[dict], certificate: dict, certificate_number: str,
                     right: int | None = None) -> Tx:
    return "transfer.inherit", _p(object=object_, deceased=deceased, heirs=heirs, certificate=certificate,
                                  certificate_number=certificate_number, right=right)


def transfer_reorganise(from_: str, to: str, form: str, objects: list[str], act_doc: dict, pledges: list[int] | None = None) -> Tx:
    return "transfer.reorganise", _p(**{"from": from_}, to=to, form=form, objects=objects, act=act_doc, pledges=pledges)


# --- the book -----------------------------------------------------------------------------
def application_decide(number: int, decision: str, reason: str | None = None, article: str | None = None,
                       ground: str | None = None) -> Tx:
    return "application.decide", _p(number=number, decision=decision, reason=reason, article=article, ground=ground)


def application_withdraw(number: int, reason: str | None = None) -> Tx:
    return "application.withdraw", _p(number=number, reason=reason)


# --- state encumbrances, claims, stops ------------------------------------------------------
def encumbrance_impose(objects: list[str], type_: str, authority: str, act_: dict, ground: str,
                       in_favour_of: str | None = None) -> Tx:
    return "encumbrance.impose", _p(objects=objects, type=type_, authority=authority, act=act_, ground=ground, in_favour_of=in_favour_of)


def encumbrance_lift(entry: int, act_: dict, reason: str) -> Tx:
    return "encumbrance.lift", {"entry": entry, "act": act_, "reason": reason}


def claim_register(object_: str, claimant: str, kind: str, ground: str, docs: list[dict]) -> Tx:
    return "claim.register", {"object": object_, "claimant": claimant, "kind": kind, "ground": ground, "docs": docs}


def claim_withdraw(entry: int, ground: str, reason: str) -> Tx:
    return "claim.withdraw", {"entry": entry, "ground": ground, "reason": reason}


def claim_extend(entry: int, reason: str) -> Tx:
    return "claim.extend", {"entry": entry, "reason": reason}


def stop_request(object_: str, ground: str, reason: str, counterparty: list[str] | None = None,
                 business_days: int | None = None) -> Tx:
    return "stop.request", _p(object=object_, ground=ground, reason=reason, counterparty=counterparty, business_days=business_days)


def stop_cancel(object_: str, reason: str) -> Tx:
    return "stop.cancel", {"object": object_, "reason": reason}


# --- courts and corrections ---------------------------------------------------------------
def court_cancel_entry(entry: int, act_: dict, reason: str) -> Tx:
    return "court.cancel_entry", {"entry": entry, "act": act_, "reason": reason}


def court_transfer(object_: str, holders: list[dict], act_: dict, lift: list[int] | None = None, right: int | None = None,
                   common: str | None = None, right_type: str | None = None) -> Tx:
    return "court.transfer", _p(object=object_, holders=holders, act=act_, lift=lift, right=right, common=common, right_type=right_type)


def correction_apply(object_: str, reason: str, ident: dict | None = None, holders: list[dict] | None = None,
                     right: int | None = None, act_: dict | None = None) -> Tx:
    return "correction.apply", _p(object=object_, reason=reason, ident=ident, holders=holders, right=right, act=act_)


# --- objects ------------------------------------------------------------------------------
def new_object(cn: str, type_: str, ident_: dict) -> dict:
    return {"cn": cn, "type": type_, "ident": ident_}


def object_divide(object_: str, into: list[dict], docs: list[dict]) -> Tx:
    return "object.divide", {"object": object_, "into": into, "docs": docs}


def object_merge(objects: list[str], into: dict, docs: list[dict]) -> Tx:
    return "object.merge", {"objects": objects, "into": into, "docs": docs}


def object_terminate(object_: str, ground: str, act_: dict) -> Tx:
    return "object.terminate", {"object": object_, "ground": ground, "act": act_}


# --- settlement tokens --------------------------------------------------------------------
def token_issue(to: str, amount_tiyn: int, ref: str) -> Tx:
    return "token.issue", {"to": to, "amount_tiyn": amount_tiyn, "ref": ref}


def token_redeem(holder_: str, amount_tiyn: int, ref: str) -> Tx:
    return "token.redeem", {"holder": holder_, "amount_tiyn": amount_tiyn, "ref": ref}


def token_transfer(from_: str, to: str, amount_tiyn: int, memo: str | None = None) -> Tx:
    return "token.transfer", _p(**{"from": from_}, to=to, amount_tiyn=amount_tiyn, memo=memo)


# --- identity and governance --------------------------------------------------------------
def identity_replace_key(person: str, old_fingerprint: bytes, new_fingerprint: bytes, method: str, document: dict,
                         reason: str = "lost") -> Tx:
    return "identity.replace_key", {"person": person, "old_fingerprint": old_fingerprint, "new_fingerprint": new_fingerprint,
                                    "verification": {"method": method, "document": document}, "reason": reason}


def calendar_set(year: int, holidays: list[str], working_days: list[str] | None = None) -> Tx:
    return "calendar.set", {"year": year, "holidays": holidays, "working_days": working_days or []}


def policy_set(auto_register: list[str], require_notary_for_sale: bool = False, auto_pledge_amount_max_tiyn: int | None = None) -> Tx:
    return "policy.set", _p(auto_register=auto_register, require_notary_for_sale=require_notary_for_sale,
                            auto_pledge_amount_max_tiyn=auto_pledge_amount_max_tiyn)
