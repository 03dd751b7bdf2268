"""Temporary stop of registration at the owner's request (Art 29).

- ground "guarantee" (29.1.1): the owner guarantees a named counterparty that nobody else's
  right or encumbrance arising on a party's will is registered first. It lasts at most 15
  business days (29.2), counted from the day after filing, and ends at the end of the last
  one (begin_block of the next local day ends it). Meanwhile only the counterparty's
  voluntary deal proceeds.
- ground "loss_risk" (29.1.2): lost title documents or another risk of losing the property;
  voluntary registrations stop until the owner cancels (29.4).
In both cases applications filed before the stop, acts of state bodies and courts, notices
and legal claims go on as usual (29.3); contracts/bars.py applies the stop.
The stop is an entry on the sheet (section 4) and the object's "stop" field points at it.
"""

from __future__ import annotations

from contracts import book, businessdays, deadlines, keys, sheet
from contracts import payloads as P
from contracts.bars import stop_in_force
from contracts.env import Env
from contracts.refusals import refuse
from node.interfaces import Outcome

STOP_BUSINESS_DAYS_MAX = 15

REQUEST = {
    "object": P.cadastral(),
    "ground": P.enum("guarantee", "loss_risk"),
    "counterparty": P.opt(P.listof(P.person(), 10, unique=True)),
    "business_days": P.opt(P.integer(1, STOP_BUSINESS_DAYS_MAX)),
    "reason": P.text(),
}
CANCEL = {"object": P.cadastral(), "reason": P.text()}


def request(env: Env, p: dict) -> Outcome:
    o = sheet.get_object(env, p["object"])
    holders = sheet.object_holders(env, o)
    missing = [h for h in holders if not env.signed_by(h)]
    if missing or not holders:
        refuse("NOT_RIGHT_HOLDER", f"every holder of {o['cn']} applies for a temporary stop; missing: {', '.join(missing) or 'no holder'}", "Art 29.1")
    if stop_in_force(env, o) is not None:
        refuse("STOP_ACTIVE", f"a temporary stop (entry {o['stop']}) is already in force on {o['cn']}")
    guarantee = p["ground"] == "guarantee"
    if guarantee and not p.get("counterparty"):
        refuse("STOP_INVALID", "a stop given as a guarantee names the counterparty it protects", "Art 29.1.1")
    if not guarantee and (p.get("counterparty") or p.get("business_days")):
        refuse("STOP_INVALID", "a stop for risk of loss has no counterparty and no term: it lasts until cancelled", "Art 29.4")
    number = book.record_immediate(env, "stop.request", [o["cn"]], holders + list(p.get("counterparty") or []), p)
    until_day = env.calendar.add_business_days(env.today, p.get("business_days") or STOP_BUSINESS_DAYS_MAX) if guarantee else None
    e = sheet.add_entry(env, [o], sheet.NOTE_SECTION, "temporary_stop", {"application": number},
                        ground=p["ground"], counterparty=p.get("counterparty"), reason=p["reason"], book_number=number,
                        until=businessdays.iso(until_day) if until_day is not None else None, until_day=until_day)
    o["stop"] = e["id"]
    sheet.put_object(env, o)
    if until_day is not None:
        deadlines.add(env, until_day + 1, "stop.end", e["id"])
    env.emit("stop.registered", [o["cn"]], holders + list(p.get("counterparty") or []), application=number, entry=e["id"],
             ground=p["ground"], until=e.get("until"), status="registered", article="Art 29")
    return Outcome("REGISTERED", f"registration on {o['cn']} stopped" + (f" until {e['until']}" if e.get("until") else " until cancelled"),
                   "Art 29", tuple(env.events))


def cancel(env: Env, p: dict) -> Outcome:
    o = sheet.get_object(env, p["object"])
    e = stop_in_force(env, o)
    if e is None:
        refuse("STOP_NOT_FOUND", f"no temporary stop is in force on {o['cn']}")
    holders = sheet.object_holders(env, o)
    if not any(env.signed_by(h) for h in holders):
        refuse("NOT_RIGHT_HOLDER", f"only a holder of {o['cn']} may cancel its temporary stop", "Art 29.4")
    number = book.record_immediate(env, "stop.cancel", [o["cn"]], holders, p)
    _end(env, e, "cancelled", {"application": number}, p["reason"])
    env.emit("stop.cancelled", [o["cn"]], holders + list(e.get("counterparty") or []), application=number, entry=e["id"],
             status="cancelled", reason=p["reason"], article="Art 29.4")
    return Outcome("REGISTERED", f"temporary stop {e['id']} on {o['cn']} cancelled", "Art 29.4", tuple(env.events))


def _end(env: Env, e: dict, status: str, by: dict, reason: str) -> None:
    sheet.end_entry(env, e, status, by, reason)
    for cn in e["objects"]:
        o = env.rec.get(keys.obj(cn))
        if o["stop"] == e["id"]:
            o["stop"] = None
            sheet.put_object(env, o)


def _stop_due(env: Env, entry_id: int, day: int) -> None:
    e = sheet.get_entry(env, entry_id)
    if e is None or e["status"] != "active":
        return
    _end(env, e, "expired", {"auto": True}, f"the term of {STOP_BUSINESS_DAYS_MAX} business days at most ended")
    holders: list[str] = []
    for cn in e["objects"]:
        holders += sheet.object_holders(env, env.rec.get(keys.obj(cn)))
    env.emit("stop.ended", e["objects"], holders + list(e.get("counterparty") or []), entry=e["id"], status="expired",
             until=e["until"], article="Art 29.2")


deadlines.register("stop.end", _stop_due)
