"""The registration sheet (Art 14): objects, entries, holders and shares, holdings index.

Object record (reg/o/<cn>):
    {"cn", "type", "ident" (section 1, Art 1.12), "parent", "children", "status":
     "active" | "divided" | "merged" | "terminated",
     "rights": [entry ids]        section 2, active rights
     "encs": [entry ids]          section 3, active encumbrances (pledges among them)
     "claims": [entry ids]        section 4, active legal claims
     "notes": [entry ids]         section 4, transactions creating no right (notices ...)
     "history": [entry ids]       every entry ever made on the sheet, in order
     "pending": [numbers]         applications not yet decided, in filing order (Art 13.2)
     "stop": entry id | None}     a temporary stop (Art 29)

Entry record (reg/e/<id>): {"id", "section", "type", "objects", "status", "registered"
(height, time, day), "basis" (application number, act or load), ... type-specific fields};
when it ends: "ended" {height, time_ms, day, status, by, reason}. Entries are never deleted:
a cancelled or terminated entry stays visible in history (the study's risk 1).

Shares are exact fractions [n, d] (fractions.Fraction in arithmetic, never floats); every
active right's shares sum to one and every active right has a holder.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterable

from contracts import keys
from contracts.env import Env
from contracts.refusals import refuse

RIGHT_SECTION = "rights"
ENC_SECTION = "encs"
CLAIM_SECTION = "claims"
NOTE_SECTION = "notes"

STATE_ENCUMBRANCES = ("arrest", "prohibition", "restriction")
USE_ENCUMBRANCES = ("lease", "easement", "trust_management", "land_use_instruction")


# --- objects -----------------------------------------------------------------------------------
def new_object(cn: str, type_: str, ident: dict, parent: str | None) -> dict:
    return {
        "cn": cn, "type": type_, "ident": ident, "parent": parent, "children": [],
        "status": "active", "rights": [], "encs": [], "claims": [], "notes": [],
        "history": [], "pending": [], "stop": None,
    }


def get_object(env: Env, cn: str, *, active: bool = True) -> dict:
    o = env.rec.get(keys.obj(cn))
    if o is None:
        refuse("OBJECT_NOT_FOUND", f"no object with cadastral number {cn} is registered; check the number or load it by systematic registration first")
    if active and o["status"] != "active":
        refuse("OBJECT_INACTIVE", f"object {cn} is {o['status']}" + (f" into {', '.join(o['children'])}" if o["children"] else "") + "; apply on the current object")
    return o


def put_object(env: Env, o: dict) -> None:
    env.rec.put(keys.obj(o["cn"]), o)


# --- entries -----------------------------------------------------------------------------------
def get_entry(env: Env, entry_id: int) -> dict | None:
    return env.rec.get(keys.entry(entry_id))


def existing_entry(env: Env, entry_id: int) -> dict:
    """An entry the caller knows is registered (an id read off a sheet or an entry, or one
    the checks before found): its absence is a broken invariant, not bad input."""
    e = get_entry(env, entry_id)
    assert e is not None, f"entry {entry_id} is referred to but not registered"
    return e


def put_entry(env: Env, e: dict) -> None:
    env.rec.put(keys.entry(e["id"]), e)


def add_entry(env: Env, objects: list[dict], section: str, type_: str, basis: dict, **fields: Any) -> dict:
    """Create an active entry on the sheets of `objects` and index it there."""
    eid = env.rec.next_seq(keys.SEQ_ENTRY)
    e = {"id": eid, "section": section, "type": type_, "objects": [o["cn"] for o in objects],
         "status": "active", "registered": env.stamp(), "basis": basis}
    for k, v in fields.items():
        if v is not None:
            e[k] = v
    put_entry(env, e)
    for o in objects:
        o[section].append(eid)
        o["history"].append(eid)
        put_object(env, o)
    return e


def add_history_entry(env: Env, objects: list[dict], type_: str, basis: dict, **fields: Any) -> dict:
    """An entry that is a record only (correction, cancellation): in history, not in a section."""
    eid = env.rec.next_seq(keys.SEQ_ENTRY)
    e = {"id": eid, "section": NOTE_SECTION, "type": type_, "objects": [o["cn"] for o in objects],
         "status": "recorded", "registered": env.stamp(), "basis": basis}
    for k, v in fields.items():
        if v is not None:
            e[k] = v
    put_entry(env, e)
    for o in objects:
        o["history"].append(eid)
        put_object(env, o)
    return e


def end_entry(env: Env, e: dict, status: str, by: dict, reason: str | None = None) -> None:
    """Close an active entry (terminated, cancelled, lifted, discharged, lapsed, ...) and take
    it out of its section on every object it is on; it stays in history."""
    assert e["status"] == "active", (e["id"], e["status"])
    e["status"] = status
    ended = dict(env.stamp())
    ended["by"] = by
    if reason:
        ended["reason"] = reason
    e["ended"] = ended
    put_entry(env, e)
    for cn in e["objects"]:
        o = env.rec.get(keys.obj(cn))
        assert o is not None
        if e["id"] in o[e["section"]]:
            o[e["section"]].remove(e["id"])
            put_object(env, o)


def section_entries(env: Env, o: dict, section: str) -> list[dict]:
    out = []
    for eid in o[section]:
        e = get_entry(env, eid)
        assert e is not None and e["status"] == "active", (o["cn"], eid)
        out.append(e)
    return out


# --- holders and shares ------------------------------------------------------------------------
def holders_map(e: dict) -> dict[str, Fraction]:
    return {h["id"]: Fraction(h["share"][0], h["share"][1]) for h in e["holders"]}


def holders_list(m: dict[str, Fraction]) -> list[dict]:
    """Canonical holder list: sorted by id, zero shares dropped, fractions in lowest terms."""
    out = []
    for pid in sorted(m):
        f = m[pid]
        assert f >= 0, (pid, f)
        if f:
            out.append({"id": pid, "share": [f.numerator, f.denominator]})
    return out


def check_shares(holders: list[dict], what: str) -> dict[str, Fraction]:
    """Validate a payload's holder list: distinct persons, shares summing to exactly one."""
    m: dict[str, Fraction] = {}
    for h in holders:
        if h["id"] in m:
            refuse("SHARES_INVALID", f"{what}: {h['id']} is listed twice; give one share per person")
        m[h["id"]] = Fraction(h["share"][0], h["share"][1])
    total = sum(m.values(), Fraction(0))
    if total != 1:
        refuse("SHARES_INVALID", f"{what}: shares sum to {total}, not 1")
    return m


def current_right(env: Env, o: dict, right_id: int | None = None) -> dict:
    """The right a deal is about: the one named, else the object's first active right."""
    if right_id is not None:
        if right_id not in o["rights"]:
            refuse("RIGHT_NOT_FOUND", f"entry {right_id} is not an active right on {o['cn']}; read the registration sheet for the current entry")
        e = get_entry(env, right_id)
        assert e is not None
        return e
    if not o["rights"]:
        refuse("RIGHT_NOT_FOUND", f"object {o['cn']} has no registered right to dispose of")
    e = get_entry(env, o["rights"][0])
    assert e is not None
    return e


def object_holders(env: Env, o: dict) -> list[str]:
    ids: list[str] = []
    for e in section_entries(env, o, RIGHT_SECTION):
        for h in e["holders"]:
            if h["id"] not in ids:
                ids.append(h["id"])
    return sorted(ids)


def holders_unchanged(env: Env, app: dict, o: dict, at_filing: bool) -> list[str]:
    """The holders who applied (or consented) at filing must still be the holders at decision:
    snapshot them in the application at filing and compare at decision."""
    now = object_holders(env, o)
    snap = app.setdefault("holders_at_filing", {})
    if at_filing:
        snap[o["cn"]] = now
    elif snap.get(o["cn"]) != now:
        refuse("NOT_RIGHT_HOLDER",
               f"the holders of {o['cn']} changed since application {app['number']} was filed "
               f"({', '.join(snap.get(o['cn']) or [])} -> {', '.join(now)}); the current holders must apply again", "Art 31.1.1")
    return now


def detach_entry(env: Env, e: dict, o: dict, status: str, by: dict, reason: str | None = None) -> None:
    """Take entry `e` off object `o` (terminated with it); an entry on other objects too (a
    pledge carried to the parts of a divided plot) stays active on those."""
    if e["objects"] == [o["cn"]]:
        end_entry(env, e, status, by, reason)
        return
    e["objects"] = [cn for cn in e["objects"] if cn != o["cn"]]
    put_entry(env, e)
    o[e["section"]].remove(e["id"])
    put_object(env, o)


def replace_right(env: Env, o: dict, old: dict, new_holders: dict[str, Fraction], basis: dict,
                  *, how: str, common: str | None = None, **fields: Any) -> dict:
    """End right `old` (status `how`-terminated) and enter the same right with new holders.

    The new entry names the one it replaces, so a court can later cancel it and restore the
    prior holders (Art 33)."""
    assert sum(new_holders.values(), Fraction(0)) == 1, new_holders
    before = object_holders(env, o)
    end_entry(env, old, "terminated", {"how": how, **basis})
    holders = holders_list(new_holders)
    if common is None:
        common = old.get("common") if len(holders) > 1 else None
    new = add_entry(env, [o], RIGHT_SECTION, old["type"], basis, holders=holders,
                    common=common if len(holders) > 1 else None, replaces=old["id"], how=how, **fields)
    old["replaced_by"] = new["id"]
    put_entry(env, old)
    update_holdings(env, o["cn"], before, object_holders(env, o))
    return new


# --- holdings index ----------------------------------------------------------------------------
def update_holdings(env: Env, cn: str, before: Iterable[str], after: Iterable[str]) -> None:
    before_l, after_l = list(before), list(after)
    for pid in before_l:
        if pid not in after_l:
            lst = env.rec.get(keys.holdings(pid)) or []
            if cn in lst:
                lst = [x for x in lst if x != cn]
                if lst:
                    env.rec.put(keys.holdings(pid), lst)
                else:
                    env.rec.delete(keys.holdings(pid))
    for pid in after_l:
        if pid not in before_l:
            lst = list(env.rec.get(keys.holdings(pid)) or [])
            if cn not in lst:
                lst.append(cn)
                lst.sort()
                env.rec.put(keys.holdings(pid), lst)


# --- encumbrance views -------------------------------------------------------------------------
def beneficiary(e: dict) -> str | None:
    """Whom an encumbrance favours or who imposed it: the one to notify (Art 31.1-1, 33.1-1)."""
    return e.get("pledgee") or e.get("authority") or e.get("beneficiary")


def beneficiaries(encs: list[dict]) -> list[str]:
    """The beneficiary of each of `encs` that has one, in order."""
    return [b for b in map(beneficiary, encs) if b]
