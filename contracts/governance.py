"""Consortium governance: the business-day calendar and the registration policy.

calendar.set replaces one year's calendar: its holidays (days off) and the weekend days
declared working by the government's yearly day-off transfers. Terms already computed keep
their dates (a deadline, once given to an applicant, does not move); new terms use the new
calendar.

policy.set replaces the consortium policy:
- auto_register: application types registered at filing, without manual review, when every
  check passes and no earlier application waits on the object (e.g. "pledge" for bank-loan
  pledges, which Art 21.4 exempts from the signature check; "pledge.discharge");
- auto_pledge_amount_max_tiyn: a cap on pledges registered that way (None: no cap);
- require_notary_for_sale: every sale must be attested by a notary (the study's risk 4).
"""

from __future__ import annotations

from contracts import book, businessdays, keys
from contracts import payloads as P
from contracts.env import Env
from contracts.refusals import refuse
from node.interfaces import Outcome

CALENDAR = {
    "year": P.integer(2000, 2200),
    "holidays": P.listof(P.date(), 60, min_len=0, unique=True),
    "working_days": P.listof(P.date(), 20, min_len=0, unique=True),
}
POLICY = {
    "auto_register": P.listof(P.text(40), 20, min_len=0, unique=True),
    "auto_pledge_amount_max_tiyn": P.opt(P.amount()),
    "require_notary_for_sale": P.boolean(),
}


def calendar_record(p: dict) -> dict:
    year = p["year"]
    holidays = sorted(businessdays.day_from_iso(d) for d in p["holidays"])
    working = sorted(businessdays.day_from_iso(d) for d in p["working_days"])
    for d in holidays + working:
        if businessdays.date_of(d).year != year:
            refuse("POLICY_INVALID", f"{businessdays.iso(d)} is not in {year}", "Consortium policy")
    both = [d for d in holidays if d in working]
    if both:
        refuse("POLICY_INVALID", f"{businessdays.iso(both[0])} is listed both as a holiday and as a working day", "Consortium policy")
    return {"year": year, "holidays": holidays, "working_days": working, "source": "governance"}


def set_calendar(env: Env, p: dict) -> Outcome:
    rec = calendar_record(p)
    env.rec.put(keys.calendar_year(p["year"]), rec)
    env.emit("calendar.set", [], [env.official("governance")["id"]], year=p["year"],
             holidays=[businessdays.iso(d) for d in rec["holidays"]], working_days=[businessdays.iso(d) for d in rec["working_days"]])
    return Outcome("REGISTERED", f"business-day calendar of {p['year']} set", "", tuple(env.events))


def policy_record(p: dict) -> dict:
    unknown = [t for t in p["auto_register"] if t not in book.TYPES]
    if unknown:
        refuse("POLICY_INVALID", f"unknown application type(s) {', '.join(unknown)}; known: {', '.join(sorted(book.TYPES))}")
    return {"auto_register": sorted(p["auto_register"]), "auto_pledge_amount_max_tiyn": p.get("auto_pledge_amount_max_tiyn"),
            "require_notary_for_sale": p["require_notary_for_sale"]}


def set_policy(env: Env, p: dict) -> Outcome:
    rec = policy_record(p)
    env.rec.put(keys.POLICY, rec)
    env.emit("policy.set", [], [env.official("governance")["id"]], **rec)
    return Outcome("REGISTERED", "consortium registration policy set", "", tuple(env.events))

