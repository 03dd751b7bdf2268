"""Legal claims (Art 53): recorded at once, never blocking, lapsing after three years.

A legal claim (a lawsuit filed, an appeal, an advance or preliminary agreement, a seizure
decision, ...) is registered on an interested person's application immediately (Art 23.2);
it neither suspends registrations nor encumbers the object (Art 53.3), so nothing in
contracts/bars.py looks at it. It is withdrawn by the claimant (who initiated it, so the
consent of Art 53.4.2 is the claimant's signature) or on a court's act; it is extended on
application before it lapses; otherwise it is cancelled three years after registration
(by block time: begin_block of the first block on or after the anniversary day), and the
claimant is notified ten working days before (Art 53.4).
"""

from __future__ import annotations

from contracts import book, businessdays, deadlines, keys, sheet
from contracts import payloads as P
from contracts.env import Env
from contracts.refusals import refuse
from node.interfaces import Outcome

CLAIM_YEARS = 3
NOTICE_BUSINESS_DAYS = 10
REPRESENTATIVE_ROLES = ("lawyer", "court")
INTERESTED_ROLES = ("citizen", "legal_entity", "bank", "lawyer", "court", "prosecutor", "state_body", "notary", "bankruptcy_manager")

REGISTER = {
    "object": P.cadastral(),
    "claimant": P.person(),
    "kind": P.enum("lawsuit", "appeal", "advance_agreement", "preliminary_agreement", "seizure_decision", "other"),
    "ground": P.text(),
    "docs": P.listof(P.DOC, P.DOCS_MAX),
}
WITHDRAW = {"entry": P.ENTRY_ID, "ground": P.enum("ground_lapsed", "consent", "court_act"), "reason": P.text()}
EXTEND = {"entry": P.ENTRY_ID, "reason": P.text()}


def _claim(env: Env, entry_id: int) -> dict:
    e = sheet.get_entry(env, entry_id)
    if e is None or e["section"] != sheet.CLAIM_SECTION or e["status"] != "active":
        refuse("CLAIM_NOT_FOUND", f"entry {entry_id} is not an active legal claim")
    return e


def _may_act_for(env: Env, claimant: str) -> bool:
    return env.signed_by(claimant) or bool(env.signers_with_role(*REPRESENTATIVE_ROLES))


def _schedule(env: Env, e: dict) -> None:
    lapse = e["lapse_day"]
    notice = env.calendar.sub_business_days(lapse, NOTICE_BUSINESS_DAYS)
    e["lapse"] = businessdays.iso(lapse)
    e["notice_day"] = notice
    if notice > env.today:
        deadlines.add(env, notice, "claim.notice", e["id"])
    deadlines.add(env, lapse, "claim.lapse", e["id"])


def register(env: Env, p: dict) -> Outcome:
    if not _may_act_for(env, p["claimant"]):
        refuse("NOT_CLAIMANT", f"the claimant {p['claimant']} (or their lawyer, or a court) must sign the application", "Art 53.2")
    o = sheet.get_object(env, p["object"])
    holders = sheet.object_holders(env, o)
    number = book.record_immediate(env, "claim.register", [o["cn"]], holders + [p["claimant"]], p)
    e = sheet.add_entry(env, [o], sheet.CLAIM_SECTION, "legal_claim", {"application": number},
                        claimant=p["claimant"], kind=p["kind"], ground=p["ground"], docs=p["docs"],
                        lapse_day=businessdays.add_years(env.today, CLAIM_YEARS), extensions=0)
    _schedule(env, e)
    sheet.put_entry(env, e)
    env.emit("claim.registered", [o["cn"]], holders + [p["claimant"]], application=number, entry=e["id"],
             claimant=p["claimant"], kind=p["kind"], lapse=e["lapse"], status="registered", article="Art 53, 23.2")
    return Outcome("REGISTERED", f"legal claim registered as entry {e['id']}; it lapses on {e['lapse']} unless extended",
                   "Art 53", tuple(env.events))


def withdraw(env: Env, p: dict) -> Outcome:
    e = _claim(env, p["entry"])
    if not _may_act_for(env, e["claimant"]):
        refuse("NOT_CLAIMANT", f"only the claimant {e['claimant']} (consenting) or a court may withdraw legal claim {e['id']}")
    holders = _holders(env, e)
    number = book.record_immediate(env, "claim.withdraw", list(e["objects"]), holders + [e["claimant"]], p)
    sheet.end_entry(env, e, "withdrawn", {"application": number, "ground": p["ground"]}, p["reason"])
    env.emit("claim.withdrawn", e["objects"], holders + [e["claimant"]], application=number, entry=e["id"],
             status="withdrawn", reason=p["reason"], article="Art 53.4")
    return Outcome("REGISTERED", f"legal claim {e['id']} withdrawn", "Art 53.4", tuple(env.events))


def extend(env: Env, p: dict) -> Outcome:
    e = _claim(env, p["entry"])
    if not _may_act_for(env, e["claimant"]):
        refuse("NOT_CLAIMANT", f"only the claimant {e['claimant']} may apply to extend legal claim {e['id']}")
    holders = _holders(env, e)
    number = book.record_immediate(env, "claim.extend", list(e["objects"]), holders + [e["claimant"]], p)
    e["lapse_day"] = businessdays.add_years(e["lapse_day"], CLAIM_YEARS)
    e["extensions"] += 1
    _schedule(env, e)
    sheet.put_entry(env, e)
    env.emit("claim.extended", e["objects"], holders + [e["claimant"]], application=number, entry=e["id"],
             lapse=e["lapse"], status="registered", article="Art 53.4")
    return Outcome("REGISTERED", f"legal claim {e['id']} extended; it now lapses on {e['lapse']}", "Art 53.4", tuple(env.events))


def _holders(env: Env, e: dict) -> list[str]:
    out: list[str] = []
    for cn in e["objects"]:
        o = env.rec.get(keys.obj(cn))
        out += sheet.object_holders(env, o)
    return out


def _notice_due(env: Env, entry_id: int, day: int) -> None:
    e = sheet.get_entry(env, entry_id)
    if e is None or e["status"] != "active" or e["notice_day"] != day:
        return     # withdrawn, or extended since (a later notice is scheduled)
    env.emit("claim.lapse_notice", e["objects"], [e["claimant"]], entry=e["id"], lapse=e["lapse"],
             status="active", article="Art 53.4")


def _lapse_due(env: Env, entry_id: int, day: int) -> None:
    e = sheet.get_entry(env, entry_id)
    if e is None or e["status"] != "active" or e["lapse_day"] != day:
        return
    holders = _holders(env, e)
    sheet.end_entry(env, e, "lapsed", {"auto": True}, f"not withdrawn or extended within {CLAIM_YEARS} years")
    env.emit("claim.lapsed", e["objects"], holders + [e["claimant"]], entry=e["id"], status="lapsed", article="Art 53.4")


deadlines.register("claim.notice", _notice_due)
deadlines.register("claim.lapse", _lapse_due)
