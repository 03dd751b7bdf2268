"""Arrests, prohibitions and restrictions imposed by courts, bailiffs and state bodies.

Registered at once, on the application of the imposing body (Art 9.4, 22.8, 23.2), with no
registrar in between; a temporary stop does not hold them up (Art 29.3). Lifted only by the
body that imposed them or by a court: a registrar has no way to lift one (check_tx refuses a
registrar's signature outright, and the contract refuses any authority but the imposing one),
which closes one of the insider abuses the study names.
"""

from __future__ import annotations

from contracts import book, keys, sheet
from contracts import payloads as P
from contracts.env import Env
from contracts.refusals import refuse
from node.interfaces import Outcome

AUTHORITY_ROLES = ("court", "bailiff", "prosecutor", "state_body", "law_enforcement", "tax_body")
OBJECTS_PER_ACT_MAX = 100

IMPOSE = {
    "objects": P.listof(P.cadastral(), OBJECTS_PER_ACT_MAX, unique=True),
    "type": P.enum("arrest", "prohibition", "restriction"),
    "authority": P.authority(),
    "act": P.ACT,
    "ground": P.text(),
    "in_favour_of": P.opt(P.person()),
}
LIFT = {
    "entry": P.ENTRY_ID,
    "act": P.ACT,
    "reason": P.text(),
}


def _acting_role(env: Env) -> str:
    s = env.signers_with_role(*AUTHORITY_ROLES)[0]
    return next(r for r in AUTHORITY_ROLES if r in s.roles)


def impose(env: Env, p: dict) -> Outcome:
    if not env.signed_by(p["authority"]):
        refuse("NOT_IMPOSING_AUTHORITY", f"the act must be signed by the imposing authority {p['authority']} itself", "Art 22.8")
    objs = [sheet.get_object(env, cn) for cn in p["objects"]]
    holders: list[str] = []
    pledgees: list[str] = []
    for o in objs:
        holders += sheet.object_holders(env, o)
        pledgees += [e["pledgee"] for e in sheet.section_entries(env, o, sheet.ENC_SECTION) if e["type"] == "pledge"]
    number = book.record_immediate(env, "encumbrance.impose", p["objects"], holders + [p["authority"]], p)
    e = sheet.add_entry(env, objs, sheet.ENC_SECTION, p["type"], {"application": number, "act": p["act"]},
                        authority=p["authority"], imposed_role=_acting_role(env), imposed_by=env.official(*AUTHORITY_ROLES),
                        act=p["act"], ground=p["ground"], in_favour_of=p.get("in_favour_of"))
    env.emit("encumbrance.imposed", p["objects"], holders + pledgees + [p["authority"]], application=number,
             entry=e["id"], encumbrance=p["type"], authority=p["authority"], status="registered", article="Art 23.2")
    return Outcome("REGISTERED", f"{p['type']} registered as entry {e['id']} on {', '.join(p['objects'])}", "Art 23.2", tuple(env.events))


def lift(env: Env, p: dict) -> Outcome:
    e = sheet.get_entry(env, p["entry"])
    if e is None or e["section"] != sheet.ENC_SECTION or e["type"] not in sheet.STATE_ENCUMBRANCES or e["status"] != "active":
        refuse("ENCUMBRANCE_NOT_FOUND", f"entry {p['entry']} is not an active arrest, prohibition or restriction")
    if not env.signed_by(e["authority"]) and not env.signers_with_role("court"):
        refuse("NOT_IMPOSING_AUTHORITY",
               f"entry {e['id']} was imposed by {e['authority']}; only that authority or a court may lift it")
    holders: list[str] = []
    for cn in e["objects"]:
        o = env.rec.get(keys.obj(cn))
        holders += sheet.object_holders(env, o)
    number = book.record_immediate(env, "encumbrance.lift", list(e["objects"]), holders + [e["authority"]], p)
    sheet.end_entry(env, e, "lifted", {"application": number, "act": p["act"], **env.official(*AUTHORITY_ROLES)}, p["reason"])
    env.emit("encumbrance.lifted", e["objects"], holders + [e["authority"]], application=number, entry=e["id"],
             encumbrance=e["type"], authority=e["authority"], status="lifted", reason=p["reason"], article="Art 23.2-1")
    return Outcome("REGISTERED", f"{e['type']} entry {e['id']} lifted", "Art 23.2-1", tuple(env.events))
