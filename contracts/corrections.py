"""Correction of registration errors (Art 32).

- Non-substantive (32.2): details that change neither the ownership nor the nature or
  content of a right: the address, address code, floors, number of components, region. A
  registrar corrects them alone, and every interested person (holders, pledgees, imposing
  bodies) is notified.
- Substantive (32.3): anything else: areas, designated purpose, land category, form of
  property, and the holders and shares of a right. These need the consent of every
  interested person (they co-sign) or a court act (a court co-signs, 32.2 second part).
Every correction is its own entry in history with the reason and the values before and after:
the study's insider risk of a support employee quietly rewriting owners or areas becomes a
signed, visible, consented entry instead.
"""

from __future__ import annotations

from contracts import book, sheet
from contracts import payloads as P
from contracts.env import Env
from contracts.refusals import refuse
from node.errors import InvalidPayload
from node.interfaces import Outcome

def _ident_changes() -> P.Field:
    """A map of identification characteristics to their corrected values, each checked as in IDENT."""
    def c(v, path):
        if not isinstance(v, dict) or not 1 <= len(v) <= len(P.IDENT_SCHEMA):
            raise InvalidPayload(f"{path}: must map 1..{len(P.IDENT_SCHEMA)} identification characteristics to new values")
        for k, x in v.items():
            f = P.IDENT_SCHEMA.get(k)
            if f is None:
                raise InvalidPayload(f"{path}: {k!r} is not an identification characteristic (Art 1.12); known: {', '.join(sorted(P.IDENT_SCHEMA))}")
            f.check(x, f"{path}.{k}")
    return P.Field(c)


APPLY = {
    "object": P.cadastral(),
    "reason": P.text(),
    "ident": P.opt(_ident_changes()),
    "right": P.opt(P.ENTRY_ID),
    "holders": P.opt(P.HOLDERS),
    "act": P.opt(P.ACT),
}


def apply(env: Env, p: dict) -> Outcome:
    o = sheet.get_object(env, p["object"])
    changes = dict(p.get("ident") or {})
    new_ident = dict(o["ident"])
    new_ident.update(changes)
    changed = sorted(k for k in changes if o["ident"].get(k) != changes[k])
    right = None
    new_holders = None
    if p.get("holders") is not None:
        right = sheet.current_right(env, o, p.get("right"))
        new_holders = sheet.check_shares(p["holders"], "holders")
        if new_holders == sheet.holders_map(right):
            new_holders = None
    if not changed and new_holders is None:
        refuse("NOTHING_TO_CORRECT", f"the correction changes nothing on {o['cn']}")
    substantive = new_holders is not None or any(k in P.IDENT_FIELDS_SUBSTANTIVE for k in changed)
    holders = sheet.object_holders(env, o)
    encs = sheet.section_entries(env, o, sheet.ENC_SECTION)
    interested = sorted(set(holders) | set(new_holders or {}) | set(sheet.beneficiaries(encs)))
    court = bool(env.signers_with_role("court"))
    if substantive:
        missing = [x for x in interested if not env.signed_by(x)]
        if missing and not (court and p.get("act")):
            refuse("CORRECTION_NEEDS_CONSENT",
                   f"this correction changes the content of a right ({', '.join(changed) or 'holders'}); it needs the consent of "
                   f"{', '.join(missing)} (co-signing) or a court act (a court co-signs with the act)")
    registrar = env.official(*book.REGISTRAR_ROLES)
    number = book.record_immediate(env, "correction.apply", [o["cn"]], interested, p)
    basis = {"application": number, "registrar": registrar, "act": p.get("act")}
    before = {k: o["ident"].get(k) for k in changed}
    after = {k: changes[k] for k in changed}
    if new_holders is not None:
        assert right is not None, "new holders are given for a right (current_right above)"
        before["holders"] = right["holders"]
        after["holders"] = sheet.holders_list(new_holders)
    note = sheet.add_history_entry(env, [o], "correction", basis, reason=p["reason"], substantive=substantive,
                                   before=before, after=after)
    if changed:
        o["ident"] = new_ident
        sheet.put_object(env, o)
    entries = [note["id"]]
    if new_holders is not None:
        assert right is not None
        entries.append(sheet.replace_right(env, o, right, new_holders, basis, how="correction")["id"])
    env.emit("correction.applied", [o["cn"]], interested, application=number, entry=note["id"], entries=entries,
             substantive=substantive, fields=changed + (["holders"] if new_holders is not None else []),
             reason=p["reason"], status="registered", article="Art 32.3" if substantive else "Art 32.2")
    return Outcome("REGISTERED", f"correction entered as entry {note['id']} on {o['cn']}; interested persons notified",
                   "Art 32.3" if substantive else "Art 32.2", tuple(env.events))

