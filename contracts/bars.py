"""What stands in the way of a registration: excluding encumbrances and temporary stops.

Art 31.1.4 refuses a registration while an encumbrance excludes it (Art 25.1.7 refuses to
accept the documents at filing on the same ground), except the cases of Art 31.1-1. How we
read the exceptions, per purpose of the registration:

- "pledge" (a new pledge): an arrest, prohibition or restriction excludes it; an earlier
  pledge excludes it unless its pledgee consents (signs); use encumbrances do not.
- "transfer" (sale, reorganisation, foreclosure to a third person): state encumbrances
  exclude; a pledge excludes unless its pledgee consents, or the acquirer is that pledgee and
  no other encumbrance stands (31.1-1.1); leases, easements, trust management and land-use
  instructions do not exclude (31.1-1.4, 4-1).
- "share" (a share in common property, 31.1-1.5): a pledge does not exclude it; state
  encumbrances still do. We read 31.1-1.1, 4, 4-1, 5 and 8 as lifting the bar of a pledge or
  use right, not of an arrest or prohibition: those secure enforcement, and letting a share
  or the whole object pass would defeat them. Only inheritance (31.1-1.2) and court acts
  (Art 33.1-1, 44.1) pass an arrest.
- "inheritance" (31.1-1.2): nothing excludes it.
- "change" (pledge change not raising the amount, cession: 31.1-1.8, 10): nothing excludes.
- "increase" (pledge change raising the amount): state encumbrances exclude.
- "reshape" (division, merger: Art 49.2.4): like "transfer".
- "succession" (reorganisation, Art 46): state encumbrances exclude; a pledge follows the
  object to the successor without the pledgee's consent, and the pledgee is notified.
- "terminate" (Art 54): state encumbrances exclude; pledges end with the object (Art 48.3).
- "court" (Art 44.1): only an encumbrance arising from a judicial act (imposed by a court or
  a bailiff) excludes, unless the same act lifts it.

After a registration passes an encumbrance, the pledgee or the imposing body is notified
(Art 31.1-1, last part: within 7 business days; we notify in the same block), so each check
returns the encumbrances whose holders must be told.
"""

from __future__ import annotations

from typing import Sequence

from contracts import sheet
from contracts.businessdays import iso
from contracts.env import Env
from contracts.refusals import refuse

JUDICIAL_ROLES = ("court", "bailiff")


def _bar(e: dict, cn: str, at_filing: bool, why: str = "") -> None:
    what = e["type"] + (f" imposed by {e['authority']}" if e.get("authority") else "") + (f" in favour of {e['pledgee']}" if e.get("pledgee") else "")
    refuse("ENCUMBRANCE_EXCLUDES",
           f"object {cn} carries entry {e['id']} ({what}) which excludes this registration{why}",
           "Art 25.1.7" if at_filing else "Art 31.1.4", {"entry": e["id"]})


def check_encumbrances(env: Env, o: dict, purpose: str, *, at_filing: bool, acquirers: Sequence[str] = (),
                       consenting: Sequence[str] = (), lifting: Sequence[int] = ()) -> list[dict]:
    """Refuse if an encumbrance on `o` excludes a registration for `purpose`; return the
    encumbrances that stay and whose holder must be notified."""
    encs = sheet.section_entries(env, o, sheet.ENC_SECTION)
    notify: list[dict] = []
    cn = o["cn"]
    for e in encs:
        t = e["type"]
        state_imposed = t in sheet.STATE_ENCUMBRANCES
        if purpose in ("inheritance", "change"):
            notify.append(e)
        elif purpose == "court":
            if state_imposed and e.get("imposed_role") in JUDICIAL_ROLES and e["id"] not in lifting:
                refuse("JUDICIAL_ENCUMBRANCE",
                       f"object {cn} is under {t} (entry {e['id']}) imposed by {e['authority']} on a judicial act; the court act must lift it",
                       "Art 44.1", {"entry": e["id"]})
            if e["id"] not in lifting:
                notify.append(e)
        elif state_imposed:
            if purpose == "increase":
                refuse("AMOUNT_INCREASE_EXCLUDED",
                       f"object {cn} is under {t} (entry {e['id']}); a pledge's amount cannot be raised while it stands",
                       "Art 31.1-1.8", {"entry": e["id"]})
            _bar(e, cn, at_filing, "; only the imposing authority or a court can lift it")
        elif t == "pledge":
            pledgee = e["pledgee"]
            if purpose in ("share", "increase", "terminate", "succession"):
                notify.append(e)
            elif pledgee in consenting:
                notify.append(e)
            elif purpose == "transfer" and acquirers and all(a == pledgee for a in acquirers) and len(encs) == 1:
                notify.append(e)     # Art 31.1-1.1: the pledgee acquires, nothing else stands
            else:
                _bar(e, cn, at_filing, f"; the pledgee {pledgee} must consent by signing")
        else:
            notify.append(e)         # use rights and instructions do not exclude (31.1-1.4, 4-1)
    return notify


def stop_in_force(env: Env, o: dict) -> dict | None:
    if o["stop"] is None:
        return None
    e = sheet.get_entry(env, o["stop"])
    assert e is not None
    return e if e["status"] == "active" else None


def check_stop(env: Env, o: dict, *, filed_number: int | None, acquirers: list[str], at_filing: bool) -> None:
    """Art 29: during a temporary stop only the named counterparty's voluntary registration
    proceeds; applications filed before the stop and acts not depending on the holder's will
    go on (29.3). `filed_number` is the application's book number (None: filed now)."""
    e = stop_in_force(env, o)
    if e is None:
        return
    if filed_number is not None and filed_number < e["book_number"]:
        return
    counterparty = e.get("counterparty") or []
    if e["ground"] == "guarantee" and acquirers and all(a in counterparty for a in acquirers):
        return
    until = f" until {e['until']}" if e.get("until") else " until the owner cancels it"
    refuse("TEMPORARY_STOP",
           f"registration on {o['cn']} is stopped at the owner's request{until} (entry {e['id']})"
           + (f"; only {', '.join(counterparty)} may acquire meanwhile" if counterparty else ""),
           "Art 29.2" if e["ground"] == "guarantee" else "Art 29.4", {"entry": e["id"]})


def notify_holders(env: Env, encs: list[dict], *, application: int | None, what: str, article: str,
                   exclude: Sequence[str] = ()) -> None:
    """Tell each pledgee or imposing body that a registration passed their encumbrance
    (Art 31.1-1 last part, 33.1-1: within 7 business days; we tell them in the same block)."""
    due = env.calendar.add_business_days(env.today, 7)
    for e in encs:
        who = sheet.beneficiary(e)
        if who is None or who in exclude:
            continue
        env.emit("encumbrance.notice", e["objects"], [who], application=application, entry=e["id"],
                 encumbrance=e["type"], reason=what, article=article, notice_due=iso(due))
