"""Court acts: cancellation of an entry (Art 33, 44.4) and a right established by a court (Art 44.1).

The study's open risk 1: a sale made on the ledger is later declared invalid. History is
immutable, so the reversal is a new transaction signed by a court (court.cancel_entry):
- the cancelled entry stays in history with status "cancelled" and the act that cancelled it;
- the right it replaced is restored as a new entry (basis: the court act, "restores": the
  prior entry), so the sheet reads prior holder -> invalid sale (cancelled) -> restored;
- a payment settled in tokens goes back from seller to buyer (as far as the seller's balance
  allows; any shortfall is reported for enforcement);
- existing encumbrances do not stop it (Art 33.1-1) and stay; their pledgees and imposing
  bodies are notified (within 7 business days; we do it in the same block).
Only the current entry of a right can be cancelled: if the buyer has resold, the court act
names the later entries first (newest first), each a transaction of its own.

court.transfer registers a right a court decision establishes (Art 44.1): the registrar
cannot refuse it except for an encumbrance arising from a judicial act, which the same act may
lift ("lift"); pledges and use rights stay and their holders are notified. This is how an
arrested object changes hands: by court act.
"""

from __future__ import annotations

from contracts import bars, book, keys, settlement, sheet
from contracts import payloads as P
from contracts.env import Env
from contracts.refusals import refuse
from node.interfaces import Outcome

CANCEL = {"entry": P.ENTRY_ID, "act": P.ACT, "reason": P.text()}
TRANSFER = {
    "object": P.cadastral(),
    "right": P.opt(P.ENTRY_ID),
    "right_type": P.opt(P.enum(*P.RIGHT_TYPES)),
    "holders": P.HOLDERS,
    "common": P.opt(P.enum(*P.COMMON_TYPES)),
    "act": P.ACT,
    "lift": P.opt(P.listof(P.ENTRY_ID, 20, min_len=0, unique=True)),
}


def cancel_entry(env: Env, p: dict) -> Outcome:
    e = sheet.get_entry(env, p["entry"])
    if e is None or e["section"] not in (sheet.RIGHT_SECTION, sheet.ENC_SECTION, sheet.CLAIM_SECTION, sheet.NOTE_SECTION):
        refuse("ENTRY_NOT_FOUND", f"no entry {p['entry']} in the registration sheets")
    if e["status"] != "active":
        later = f"; it was replaced by entry {e['replaced_by']}, which the act must cancel first" if e.get("replaced_by") else ""
        refuse("ENTRY_NOT_CANCELLABLE", f"entry {e['id']} is {e['status']}{later}")
    court = env.official("court")
    objs = [env.rec.get(keys.obj(cn)) for cn in e["objects"]]
    holders: list[str] = []
    for o in objs:
        holders += sheet.object_holders(env, o)
    basis = {"act": p["act"], "court": court}
    data: dict = {"cancelled": e["id"]}
    recipients = list(holders)
    if e["section"] == sheet.RIGHT_SECTION:
        prior = sheet.get_entry(env, e["replaces"]) if e.get("replaces") else None
        if prior is None:
            refuse("ENTRY_NOT_CANCELLABLE",
                   f"entry {e['id']} replaced no earlier right, so there is nobody to restore; register the right the court establishes with court.transfer")
        assert len(objs) == 1 and objs[0]["status"] == "active", "a right entry is on one active object"
        o = objs[0]
        number = book.record_immediate(env, "court.cancel_entry", [o["cn"]], holders + [h["id"] for h in prior["holders"]], p)
        basis["application"] = number
        restored = sheet.replace_right(env, o, e, sheet.holders_map(prior), basis, how="court_cancellation",
                                       common=prior.get("common"), restores=prior["id"])
        # The restored entry continues the prior one: cancelling it later (an earlier sale found
        # invalid too) goes back to what the prior entry replaced, and refunds the prior's payment.
        if prior.get("replaces"):
            restored["replaces"] = prior["replaces"]
        else:
            del restored["replaces"]
        origin = prior.get("origin_application") or prior["basis"].get("application")
        if origin is not None:
            restored["origin_application"] = origin
        sheet.put_entry(env, restored)
        e = sheet.existing_entry(env, e["id"])
        e["status"] = "cancelled"         # replace_right closed it as "terminated"; a cancellation it is
        e["ended"]["how"] = "court_cancellation"
        sheet.put_entry(env, e)
        data["restored"] = restored["id"]
        recipients += [h["id"] for h in prior["holders"]]
        refund = _refund(env, e)
        if refund is not None:
            data["refund"] = refund
        notify = sheet.section_entries(env, o, sheet.ENC_SECTION)
    else:
        number = book.record_immediate(env, "court.cancel_entry", list(e["objects"]), holders, p)
        basis["application"] = number
        sheet.end_entry(env, e, "cancelled", basis, p["reason"])
        who = sheet.beneficiary(e) or e.get("claimant")
        if who:
            recipients.append(who)
        notify = []
    note = sheet.add_history_entry(env, [env.rec.get(keys.obj(cn)) for cn in e["objects"]], "cancellation", basis,
                                   cancelled=e["id"], reason=p["reason"])
    bars.notify_holders(env, notify, application=number, what=f"entry {e['id']} was cancelled by a court act",
                        article="Art 33.1-1")
    env.emit("entry.cancelled", e["objects"], recipients, application=number, entry=note["id"], status="cancelled",
             reason=p["reason"], article="Art 33", **data)
    return Outcome("REGISTERED", f"entry {e['id']} cancelled on court act {p['act']['number']}", "Art 33", tuple(env.events))


def _refund(env: Env, e: dict) -> dict | None:
    number = e.get("origin_application") or e["basis"].get("application")
    if number is None:
        return None
    app = env.rec.get(keys.application(number))
    if app is None or not app.get("settled") or app.get("refunded"):
        return None
    payments = [(pid, a) for pid, a in app["settled"]["payments"]]
    receipts = [(pid, a) for pid, a in app["settled"]["receipts"]]
    shortfalls = settlement.refund(env, payments, receipts)
    app["refunded"] = {"shortfalls": shortfalls, **env.stamp()}
    env.rec.put(keys.application(number), app)
    env.emit("settlement.refunded", e["objects"], [pid for pid, _ in payments + receipts], application=number,
             payments=app["settled"]["payments"], shortfalls=shortfalls, article="Art 33")
    return {"application": number, "shortfalls": shortfalls}


def transfer(env: Env, p: dict) -> Outcome:
    o = sheet.get_object(env, p["object"])
    new = sheet.check_shares(p["holders"], "holders")
    lift = list(p.get("lift") or [])
    for eid in lift:
        x = sheet.get_entry(env, eid)
        if x is None or eid not in o["encs"] or x["type"] not in sheet.STATE_ENCUMBRANCES:
            refuse("ENCUMBRANCE_NOT_FOUND", f"entry {eid} is not an active arrest, prohibition or restriction on {o['cn']}")
    notify = bars.check_encumbrances(env, o, "court", at_filing=False, lifting=lift)
    court = env.official("court")
    before = sheet.object_holders(env, o)
    number = book.record_immediate(env, "court.transfer", [o["cn"]], before + list(new), p)
    basis = {"application": number, "act": p["act"], "court": court}
    for eid in lift:
        sheet.end_entry(env, sheet.existing_entry(env, eid), "lifted", basis, "lifted by the court act establishing the right")
    if o["rights"]:
        old = sheet.current_right(env, o, p.get("right"))
        entry = sheet.replace_right(env, o, old, new, basis, how="court_decision", common=p.get("common"))
    else:
        entry = sheet.add_entry(env, [o], sheet.RIGHT_SECTION, p.get("right_type") or "ownership", basis,
                                holders=sheet.holders_list(new), common=p.get("common") if len(new) > 1 else None,
                                how="court_decision")
        sheet.update_holdings(env, o["cn"], before, sheet.object_holders(env, o))
    bars.notify_holders(env, notify, application=number, what="a right established by a court act was registered",
                        article="Art 44.1")
    env.emit("right.registered", [o["cn"]], before + list(new) + [court["id"]], application=number, entry=entry["id"],
             how="court_decision", lifted=lift or None, status="registered", article="Art 44.1")
    return Outcome("REGISTERED", f"right established by court act {p['act']['number']} registered as entry {entry['id']}",
                   "Art 44.1", tuple(env.events))

