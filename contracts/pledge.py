"""The smart pledge contract (the pilot's flow, Art 48) and its changes, discharge and foreclosure.

Flow (the study, section 4): the bank reads the encumbrance certificate, forms the pledge,
the bank and the pledgor sign it with the hashes of the attached documents (title documents,
payment receipt), and it is filed (pledge.file). The encumbrance check runs at filing
(Art 25.1.7) and again at decision (Art 31.1.4). The registrar registers, suspends or refuses
(application.decide); where the consortium policy lists "pledge" the pledge registers at
filing if every check passes (bank-loan pledges are exempt from the signature check, Art 21.4;
electronic registration within one working day, Art 23.1-1).

Who signs (Art 22.2): the pledgee (a bank) and every pledgor; or the pledgee alone with the
pledgor's notarised consent (a notary co-signs and the consent document's hash is attached).
A pledge covers the whole object, so every right holder is a pledgor (Art 22.4).
"""

from __future__ import annotations

from fractions import Fraction

from contracts import bars, book, sheet
from contracts import payloads as P
from contracts.book import Applied, AppType
from contracts.env import Env
from contracts.refusals import refuse
from node.interfaces import Outcome

FILE = {
    "object": P.cadastral(),
    "pledgee": P.person(),
    "pledgors": P.opt(P.listof(P.person(), P.PARTIES_MAX, unique=True)),
    "amount_tiyn": P.amount(),
    "term_end": P.date(),
    "agreement": P.text(P.NAME_MAX),
    "docs": P.listof(P.DOC, P.DOCS_MAX),
    "pledgor_consent": P.opt(P.DOC),
}
CHANGE = {
    "pledge": P.ENTRY_ID,
    "amount_tiyn": P.opt(P.amount()),
    "term_end": P.opt(P.date()),
    "pledgee": P.opt(P.person()),
    "pledgors": P.opt(P.listof(P.person(), P.PARTIES_MAX, unique=True)),
    "docs": P.listof(P.DOC, P.DOCS_MAX),
    "pledgor_consent": P.opt(P.DOC),
}
DISCHARGE = {
    "pledge": P.ENTRY_ID,
    "ground": P.enum("fulfilled", "agreement_ended", "other"),
    "docs": P.opt(P.DOCS),
}
DEFAULT_NOTICE = {
    "pledge": P.ENTRY_ID,
    "overdue_since": P.date(),
    "notice": P.DOC,
}
FORECLOSE = {
    "pledge": P.ENTRY_ID,
    "acquirer": P.person(),
    "ground": P.text(),
    "docs": P.listof(P.DOC, P.DOCS_MAX),
}


def _pledge(env: Env, entry_id: int) -> dict:
    e = sheet.get_entry(env, entry_id)
    if e is None or e["type"] != "pledge" or e["status"] != "active":
        refuse("PLEDGE_NOT_FOUND", f"entry {entry_id} is not an active pledge; read the object's registration sheet")
    return e


def _pledgors_consent(env: Env, app: dict, pledgors: list[str], consent_doc: dict | None) -> None:
    """Art 22.2: each pledgor signs, or a notary attests the pledgor's consent."""
    missing = [p for p in pledgors if not env.signed_by(p)]
    if not missing:
        return
    if consent_doc is not None and env.signers_with_role("notary"):
        return
    refuse("PLEDGOR_CONSENT_MISSING",
           f"pledgor(s) {', '.join(missing)} did not sign; either they sign or a notary co-signs with their consent attached (pledgor_consent)")


# --- pledge.file -----------------------------------------------------------------------------
def file(env: Env, p: dict) -> Outcome:
    o = sheet.get_object(env, p["object"])
    pledgors = p.get("pledgors") or sheet.object_holders(env, o)
    parties = sorted(set(pledgors) | {p["pledgee"]})
    return book.file(env, "pledge", p, [o["cn"]], parties)


def _check(env: Env, app: dict, at_filing: bool):
    p = app["request"]
    o = sheet.get_object(env, p["object"])
    holders = sheet.holders_unchanged(env, app, o, at_filing)
    pledgors = sorted(p.get("pledgors") or holders)
    if pledgors != holders:
        refuse("NOT_RIGHT_HOLDER",
               f"the pledgors {', '.join(pledgors)} are not the holders of {o['cn']} ({', '.join(holders)}); every co-owner pledges (Art 22.4)")
    if at_filing:
        if not env.signed_by(p["pledgee"]):
            refuse("NOT_PLEDGEE", f"the pledgee {p['pledgee']} must sign the pledge it applies for", "Art 22.2")
        _pledgors_consent(env, app, pledgors, p.get("pledgor_consent"))
    # An earlier pledgee who co-signs consents to the further pledge.
    notify = bars.check_encumbrances(env, o, "pledge", at_filing=at_filing, consenting=app["applicants"])
    bars.check_stop(env, o, filed_number=None if at_filing else app["number"], acquirers=[p["pledgee"]], at_filing=at_filing)
    return notify


def _apply(env: Env, app: dict, notify) -> Applied:
    p = app["request"]
    o = sheet.get_object(env, p["object"])
    e = sheet.add_entry(env, [o], sheet.ENC_SECTION, "pledge", {"application": app["number"]},
                        pledgee=p["pledgee"], pledgors=app["holders_at_filing"][o["cn"]],
                        amount_tiyn=p["amount_tiyn"], term_end=p["term_end"], agreement=p["agreement"],
                        docs=p["docs"], default_notices=[], changes=[])
    bars.notify_holders(env, notify, application=app["number"], what="a further pledge was registered",
                        article="Art 31.1-1", exclude=[p["pledgee"]])
    return Applied([e["id"]], {"pledge": e["id"], "pledgee": p["pledgee"], "amount_tiyn": p["amount_tiyn"]}, [p["pledgee"]])


def _auto_ok(app: dict, policy: dict) -> bool:
    cap = policy.get("auto_pledge_amount_max_tiyn")
    return cap is None or app["request"]["amount_tiyn"] <= cap


book.register_type(AppType("pledge", _check, _apply, lambda app: 1, _auto_ok))


# --- pledge.change (Art 48.5) ----------------------------------------------------------------
def change(env: Env, p: dict) -> Outcome:
    e = _pledge(env, p["pledge"])
    parties = set(e["pledgors"]) | {e["pledgee"]} | set(p.get("pledgors") or []) | ({p["pledgee"]} if p.get("pledgee") else set())
    return book.file(env, "pledge.change", p, list(e["objects"]), sorted(parties))


def _check_change(env: Env, app: dict, at_filing: bool):
    p = app["request"]
    e = _pledge(env, p["pledge"])
    changed = [f for f in ("amount_tiyn", "term_end", "pledgee") if p.get(f) is not None and p[f] != e[f]]
    if p.get("pledgors") is not None and sorted(p["pledgors"]) != e["pledgors"]:
        changed.append("pledgors")
    if not changed:
        refuse("NOTHING_TO_CHANGE", f"the change of pledge {e['id']} changes none of amount, term, pledgee or pledgors")
    cession = p.get("pledgee") is not None and p["pledgee"] != e["pledgee"]
    if at_filing:
        if not env.signed_by(e["pledgee"]):
            refuse("NOT_PLEDGEE", f"the pledgee {e['pledgee']} must sign a change of its pledge", "Art 48.5")
        if cession and not env.signed_by(p["pledgee"]):
            refuse("SIGNATURE_MISSING", f"the assignee {p['pledgee']} must sign the cession", "Art 22.2")
        if not cession or any(p.get(f) is not None for f in ("amount_tiyn", "term_end", "pledgors")):
            # A cession alone needs no pledgor consent (Art 22.2, fourth part); other changes do.
            _pledgors_consent(env, app, sorted(set(e["pledgors"]) | set(p.get("pledgors") or [])), p.get("pledgor_consent"))
    increase = p.get("amount_tiyn") is not None and p["amount_tiyn"] > e["amount_tiyn"]
    notify = []
    for cn in e["objects"]:
        o = sheet.get_object(env, cn)
        if p.get("pledgors") is not None and sorted(p["pledgors"]) != sheet.object_holders(env, o):
            refuse("NOT_RIGHT_HOLDER", f"the new pledgors must be the holders of {cn} ({', '.join(sheet.object_holders(env, o))})")
        notify += bars.check_encumbrances(env, o, "increase" if increase else "change", at_filing=at_filing)
    return notify


def _apply_change(env: Env, app: dict, notify) -> Applied:
    p = app["request"]
    e = _pledge(env, p["pledge"])
    before = {f: e[f] for f in ("amount_tiyn", "term_end", "pledgee", "pledgors")}
    for f in ("amount_tiyn", "term_end", "pledgee"):
        if p.get(f) is not None:
            e[f] = p[f]
    if p.get("pledgors") is not None:
        e["pledgors"] = sorted(p["pledgors"])
    after = {f: e[f] for f in ("amount_tiyn", "term_end", "pledgee", "pledgors")}
    objs = [sheet.get_object(env, cn) for cn in e["objects"]]
    note = sheet.add_history_entry(env, objs, "pledge_change", {"application": app["number"]},
                                   pledge=e["id"], before=before, after=after, docs=p["docs"])
    e["changes"] = e["changes"] + [note["id"]]
    sheet.put_entry(env, e)
    bars.notify_holders(env, [x for x in notify if x["id"] != e["id"]], application=app["number"],
                        what="a pledge on the object was changed", article="Art 31.1-1", exclude=[e["pledgee"]])
    return Applied([note["id"]], {"pledge": e["id"], "before": before, "after": after}, [before["pledgee"], after["pledgee"]])


book.register_type(AppType("pledge.change", _check_change, _apply_change, lambda app: 1))


# --- pledge.discharge (Art 48.6.1, 23.2-1) ---------------------------------------------------
def discharge(env: Env, p: dict) -> Outcome:
    e = _pledge(env, p["pledge"])
    return book.file(env, "pledge.discharge", p, list(e["objects"]), sorted(set(e["pledgors"]) | {e["pledgee"]}))


def _check_discharge(env: Env, app: dict, at_filing: bool):
    e = _pledge(env, app["request"]["pledge"])
    if at_filing and not env.signed_by(e["pledgee"]):
        refuse("NOT_PLEDGEE", f"only the pledgee {e['pledgee']} may apply to discharge pledge {e['id']}")
    return None


def _apply_discharge(env: Env, app: dict, _info) -> Applied:
    p = app["request"]
    e = _pledge(env, p["pledge"])
    sheet.end_entry(env, e, "discharged", {"application": app["number"]}, p["ground"])
    return Applied([e["id"]], {"pledge": e["id"], "pledgee": e["pledgee"], "ground": p["ground"]}, [e["pledgee"]])


book.register_type(AppType("pledge.discharge", _check_discharge, _apply_discharge, lambda app: 1))


# --- notice of non-performance (Art 24.5, 31.1-1.9): recorded at once ------------------------
def default_notice(env: Env, p: dict) -> Outcome:
    e = _pledge(env, p["pledge"])
    if not env.signed_by(e["pledgee"]):
        refuse("NOT_PLEDGEE", f"only the pledgee {e['pledgee']} may give notice of non-performance under pledge {e['id']}")
    number = book.record_immediate(env, "pledge.default_notice", list(e["objects"]), e["pledgors"] + [e["pledgee"]], p)
    objs = [sheet.get_object(env, cn) for cn in e["objects"]]
    note = sheet.add_entry(env, objs, sheet.NOTE_SECTION, "default_notice", {"application": number},
                           pledge=e["id"], pledgee=e["pledgee"], overdue_since=p["overdue_since"], docs=[p["notice"]])
    e["default_notices"] = e["default_notices"] + [note["id"]]
    sheet.put_entry(env, e)
    env.emit("pledge.default_notice", e["objects"], e["pledgors"] + [e["pledgee"]], application=number,
             entry=note["id"], pledge=e["id"], overdue_since=p["overdue_since"], status="registered", article="Art 31.1-1.9")
    return Outcome("REGISTERED", f"notice of non-performance under pledge {e['id']} recorded as entry {note['id']}",
                   "Art 31.1-1.9", tuple(env.events))


# --- foreclosure (Art 48.6.2) ------------------------------------------------------------------
def foreclose(env: Env, p: dict) -> Outcome:
    e = _pledge(env, p["pledge"])
    return book.file(env, "pledge.foreclose", p, list(e["objects"]), sorted(set(e["pledgors"]) | {e["pledgee"], p["acquirer"]}))


def _check_foreclose(env: Env, app: dict, at_filing: bool):
    p = app["request"]
    e = _pledge(env, p["pledge"])
    if at_filing and not env.signed_by(e["pledgee"]):
        refuse("NOT_PLEDGEE", f"only the pledgee {e['pledgee']} may apply to foreclose pledge {e['id']}")
    if not any(sheet.existing_entry(env, n)["status"] == "active" for n in e["default_notices"]):
        refuse("NO_DEFAULT_NOTICE", f"pledge {e['id']} has no registered notice of non-performance; record one first (pledge.default_notice)")
    notify = []
    for cn in e["objects"]:
        o = sheet.get_object(env, cn)
        notify += bars.check_encumbrances(env, o, "transfer", at_filing=at_filing, acquirers=[p["acquirer"]],
                                          consenting=[e["pledgee"]])
    return notify


def _apply_foreclose(env: Env, app: dict, notify) -> Applied:
    p = app["request"]
    e = _pledge(env, p["pledge"])
    sheet.end_entry(env, e, "foreclosed", {"application": app["number"]}, p["ground"])
    entries = [e["id"]]
    for cn in e["objects"]:
        o = sheet.get_object(env, cn)
        old = sheet.current_right(env, o)
        new = sheet.replace_right(env, o, old, {p["acquirer"]: Fraction(1)}, {"application": app["number"]}, how="foreclosure")
        entries.append(new["id"])
    bars.notify_holders(env, [x for x in notify if x["id"] != e["id"]], application=app["number"],
                        what="the object passed to a new holder by foreclosure", article="Art 31.1-1")
    return Applied(entries, {"pledge": e["id"], "acquirer": p["acquirer"]}, [e["pledgee"], p["acquirer"]])


book.register_type(AppType("pledge.foreclose", _check_foreclose, _apply_foreclose, lambda app: 3))
