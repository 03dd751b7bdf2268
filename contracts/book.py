"""The book of documents received (Art 13, 26) and the registrar's decision (Art 20, 27, 30, 31).

Every application gets the next number from one counter in state (reg/m/seq/application), so
the number is its filing order (Art 13.2: priority by date, hour and minute of filing; block
height and position inside the block break ties, and the counter encodes both). The record
also keeps the block height and time of filing (Art 26.1).

An application type (pledge, sale, division, ...) supplies:
- check(env, app, at_filing) -> info: the legal checks, run at filing (refusal to accept,
  Art 25) and again at decision (refusal, Art 31); raises Refusal.
- apply(env, app, info) -> Applied: the entries it makes when registered.
- optional on_file / on_close hooks (the sale locks and unlocks the buyer's tokens).

Lifecycle: filed -> registered | suspended | refused | withdrawn; suspended -> registered |
refused | withdrawn, and refused automatically one month after suspension (Art 27.3). An
application is decided only when no earlier application on any of its objects is still open
(Art 13.2, 21.5); withdrawing loses priority (Art 27.6). Registration without manual review
happens at filing when the consortium policy lists the type and every check passes.

Registration-type actions that take effect at once (state encumbrances and legal claims,
Art 23.2; court acts; corrections) are also entered in the book, as `record_immediate`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

from contracts import businessdays, deadlines, keys, sheet
from contracts.env import Env
from contracts.refusals import article, refuse
from node.interfaces import Outcome

REGISTRAR_ROLES: tuple[str, ...] = ("registrar", "senior_registrar")

DEFAULT_POLICY = {
    "auto_register": ["pledge.discharge"],
    "auto_pledge_amount_max_tiyn": None,
    "require_notary_for_sale": False,
}


@dataclasses.dataclass
class Applied:
    entries: list[int]
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    recipients: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class AppType:
    name: str
    check: Callable[[Env, dict, bool], Any]
    apply: Callable[[Env, dict, Any], Applied]
    term_business_days: Callable[[dict], int]
    auto_ok: Callable[[dict, dict], bool] = lambda app, policy: True
    on_file: Callable[[Env, dict], None] | None = None
    on_close: Callable[[Env, dict], dict | None] | None = None
    voluntary: bool = True         # arises on the will of the holder (Art 29.3 distinction)


TYPES: dict[str, AppType] = {}


def register_type(t: AppType) -> None:
    assert t.name not in TYPES, t.name
    TYPES[t.name] = t


def policy(env: Env) -> dict:
    return env.rec.get(keys.POLICY) or DEFAULT_POLICY


def get_app(env: Env, number: int) -> dict:
    app = env.rec.get(keys.application(number))
    if app is None:
        refuse("APPLICATION_NOT_FOUND", f"no application number {number} in the book of documents received")
    return app


def put_app(env: Env, app: dict) -> None:
    env.rec.put(keys.application(app["number"]), app)


def _recipients(app: dict, extra: Sequence[str] = ()) -> list[str]:
    return list(app["applicants"]) + list(app["parties"]) + list(extra)


# --- filing ------------------------------------------------------------------------------------
def file(env: Env, type_name: str, request: dict, objects: list[str], parties: list[str],
         *, notarised: bool = False) -> Outcome:
    """Enter an application in the book and, where policy allows, register it at once."""
    t = TYPES[type_name]
    assert env.tx is not None
    number = env.rec.next_seq(keys.SEQ_APPLICATION)
    app = {
        "number": number, "type": type_name, "objects": objects, "request": request,
        "applicants": env.signer_ids(), "parties": sorted(set(parties)),
        "filed": env.stamp(), "tx": env.tx.tx_id, "status": "filed", "notarised": notarised,
    }
    info = t.check(env, app, True)
    deadline = env.calendar.add_business_days(env.today, t.term_business_days(app))
    app["deadline"] = businessdays.iso(deadline)
    if t.on_file is not None:
        t.on_file(env, app)
    for cn in objects:
        o = sheet.get_object(env, cn)
        o["pending"].append(number)
        sheet.put_object(env, o)
    put_app(env, app)
    deadlines.add(env, deadline + 1, "application.overdue", number)
    env.emit("application.filed", objects, _recipients(app), application=number, type=type_name,
             status="filed", deadline=app["deadline"], filed=app["filed"])
    pol = policy(env)
    if type_name in pol["auto_register"] and t.auto_ok(app, pol) and _first_in_line(env, app):
        _register(env, app, info, {"auto": True, "policy": "auto_register"})
        return Outcome("REGISTERED", f"application {number} registered without manual review under the consortium policy",
                       "Art 21.4, 23.1-1", tuple(env.events))
    return Outcome("FILED", f"application {number} entered in the book; decision due by {app['deadline']}",
                   "Art 13, 26", tuple(env.events))


def record_immediate(env: Env, type_name: str, objects: list[str], parties: list[str], request: dict) -> int:
    """Book entry for a registration that takes effect at once (Art 23.2): filed and registered."""
    assert env.tx is not None
    number = env.rec.next_seq(keys.SEQ_APPLICATION)
    app = {
        "number": number, "type": type_name, "objects": objects, "request": request,
        "applicants": env.signer_ids(), "parties": sorted(set(parties)),
        "filed": env.stamp(), "tx": env.tx.tx_id, "status": "registered", "notarised": False,
        "decision": {"status": "registered", "immediate": True, **env.stamp()},
    }
    put_app(env, app)
    return number


def _first_in_line(env: Env, app: dict) -> bool:
    for cn in app["objects"]:
        o = env.rec.get(keys.obj(cn))
        if o is None or not o["pending"] or o["pending"][0] != app["number"]:
            return False
    return True


def _remove_pending(env: Env, app: dict) -> None:
    for cn in app["objects"]:
        o = env.rec.get(keys.obj(cn))
        if o is not None and app["number"] in o["pending"]:
            o["pending"].remove(app["number"])
            sheet.put_object(env, o)


def _register(env: Env, app: dict, info: Any, by: dict) -> None:
    t = TYPES[app["type"]]
    applied = t.apply(env, app, info)
    _remove_pending(env, app)
    app["status"] = "registered"
    app["entries"] = applied.entries
    app["decision"] = {"status": "registered", "by": by, **env.stamp()}
    put_app(env, app)
    # New objects (division, merger) are listed too, so the cadastre re-reads them.
    objects = app["objects"] + [cn for cn in applied.data.get("objects_new", []) if cn not in app["objects"]]
    env.emit("application.registered", objects, _recipients(app, applied.recipients),
             application=app["number"], type=app["type"], status="registered", entries=applied.entries,
             auto=bool(by.get("auto")), **applied.data)


def close(env: Env, app: dict, status: str, by: dict, reason: str, article_: str) -> None:
    """Refuse or withdraw: the application loses its place (Art 27.6) and any lock is released."""
    assert app["status"] in ("filed", "suspended"), app["status"]
    t = TYPES[app["type"]]
    _remove_pending(env, app)
    app["status"] = status
    app["decision"] = {"status": status, "by": by, "reason": reason, "article": article_, **env.stamp()}
    extra = t.on_close(env, app) if t.on_close is not None else None
    put_app(env, app)
    env.emit(f"application.{status}", app["objects"], _recipients(app), application=app["number"],
             type=app["type"], status=status, reason=reason, article=article_, **(extra or {}))


# --- the registrar's decision ------------------------------------------------------------------
def decide(env: Env, p: dict) -> Outcome:
    app = get_app(env, p["number"])
    who = env.official(*REGISTRAR_ROLES)
    for s in env.signers_with_role(*REGISTRAR_ROLES):
        # The study's insider risk: a registrar deciding a deal they are party to.
        if s.iin and (s.iin in app["applicants"] or s.iin in app["parties"]):
            refuse("SELF_SERVICE", f"registrar {s.name} is a party to application {app['number']}; another registrar must decide it")
    if app["status"] not in ("filed", "suspended"):
        refuse("APPLICATION_CLOSED", f"application {app['number']} is already {app['status']}")
    decision = p["decision"]
    if decision != "register" and not (p.get("reason") and p.get("article")):
        refuse("DECISION_INCOMPLETE", f"a decision to {decision} must state the reason and the article of law it rests on")
    n = app["number"]
    if decision == "register":
        for cn in app["objects"]:
            o = env.rec.get(keys.obj(cn))
            if o is not None and o["pending"] and o["pending"][0] != n:
                refuse("PRIORITY", f"application {o['pending'][0]} on {cn} was filed earlier and must be decided first")
        info = TYPES[app["type"]].check(env, app, False)
        _register(env, app, info, who)
        return Outcome("REGISTERED", f"application {n} registered", "Art 20.1.3, 34.1-1", tuple(env.events))
    if decision == "suspend":
        if app["status"] == "suspended" or "suspension" in app:
            refuse("ALREADY_SUSPENDED", f"application {n} was already suspended; register or refuse it")
        until = businessdays.add_months(env.today, 1)
        app["status"] = "suspended"
        app["suspension"] = {"by": who, "reason": p["reason"], "article": p["article"], "ground": p.get("ground"),
                             "until": businessdays.iso(until), **env.stamp()}
        put_app(env, app)
        deadlines.add(env, until + 1, "application.suspension", n)
        env.emit("application.suspended", app["objects"], _recipients(app), application=n, type=app["type"],
                 status="suspended", reason=p["reason"], article=p["article"], until=app["suspension"]["until"])
        return Outcome("SUSPENDED", f"application {n} suspended until {app['suspension']['until']}: {p['reason']}",
                       p["article"], tuple(env.events))
    assert decision == "refuse"
    close(env, app, "refused", who, p["reason"], p["article"])
    return Outcome("REFUSED", f"application {n} refused: {p['reason']}", p["article"], tuple(env.events))


def withdraw(env: Env, p: dict) -> Outcome:
    app = get_app(env, p["number"])
    if not any(env.signed_by(a) for a in app["applicants"]):
        refuse("NOT_APPLICANT", f"only an applicant of application {app['number']} ({', '.join(app['applicants'])}) may withdraw it")
    if app["status"] not in ("filed", "suspended"):
        refuse("APPLICATION_CLOSED", f"application {app['number']} is already {app['status']}")
    close(env, app, "withdrawn", {"id": env.signer_ids()[0]}, p.get("reason") or "withdrawn by the applicant", "Art 27.6")
    return Outcome("WITHDRAWN", f"application {app['number']} withdrawn; its priority is lost", "Art 27.6", tuple(env.events))


# --- deadlines ---------------------------------------------------------------------------------
def _suspension_due(env: Env, number: int, day: int) -> None:
    app = env.rec.get(keys.application(number))
    if app is None or app["status"] != "suspended":
        return
    close(env, app, "refused", {"auto": True}, "the grounds of suspension were not removed within one month",
          article("SUSPENSION_EXPIRED"))


def _overdue(env: Env, number: int, day: int) -> None:
    app = env.rec.get(keys.application(number))
    if app is None or app["status"] != "filed":
        return
    env.emit("application.overdue", app["objects"], _recipients(app), application=number, type=app["type"],
             status="filed", deadline=app["deadline"], article="Art 23")


deadlines.register("application.suspension", _suspension_due)
deadlines.register("application.overdue", _overdue)
