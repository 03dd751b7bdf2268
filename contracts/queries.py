"""Read helpers over the contract state, for the cadastre projection and the API (pure).

Every function takes any object with `.get(key: bytes) -> bytes | None` (a StateView, the
node's state at a height, a dict's .get wrapper) and returns plain dicts and lists of str,
int, bool, None and bytes (document digests), or None when the thing does not exist. They
never write. The shapes below are a stable interface: add fields, never rename or remove.

read_object(state, cn) -> the registration sheet (Art 14):
    {"cadastral_number", "type", "status", "parent", "children",
     "identification": {...}                          section 1 (Art 1.12)
     "rights": [entry]                                section 2, active rights
     "encumbrances": {"pledges": [entry], "other": [entry]}   section 3, pledges apart
     "claims_and_transactions": {"claims": [entry], "notes": [entry]}   section 4
     "temporary_stop": entry | None,
     "pending_applications": [number],                in filing order
     "history": [entry]}                              every entry, cancelled ones included
  An entry: {"id", "section", "type", "status", "objects", "registered": {height, time_ms,
  day}, "basis", ...} plus by type: holders [{id, share: [n, d]}] and common (rights);
  pledgee, pledgors, amount_tiyn, term_end, agreement, docs (pledges); authority, act,
  ground, imposed_role (arrests ...); claimant, kind, lapse (claims); "ended" when it is no longer active.
encumbrance_certificate(state, cn) -> what a bank asks for before a pledge:
    {"cadastral_number", "status", "encumbered", "excluding", "pledges", "arrests",
     "other_encumbrances", "claims", "temporary_stop", "pending_applications", "holders"}
holdings(state, person_id) -> [{"cadastral_number", "type", "address", "rights":
    [{"entry", "type", "share": [n, d]}]}]
application(state, number) -> the book record: {"number", "type", "status", "objects",
    "applicants", "parties", "filed", "deadline", "request", "decision", "suspension", ...}
entry(state, entry_id), wallet(state, person_id), token_supply(state),
person_keys(state, person_id), is_business_day(state, "YYYY-MM-DD"), policy(state)
"""

from __future__ import annotations

from typing import Any, Protocol

from contracts import book, businessdays, keys
from node.codec import decode_trusted as decode  # state is hash-checked by the tree (or a proof)


class Readable(Protocol):
    def get(self, key: bytes) -> bytes | None: ...


def _get(state: Readable, key: bytes) -> Any:
    raw = state.get(key)
    return decode(raw) if raw is not None else None


def entry(state: Readable, entry_id: int) -> dict | None:
    return _get(state, keys.entry(entry_id))


def _entries(state: Readable, ids: list[int]) -> list[dict]:
    out = []
    for i in ids:
        e = entry(state, i)
        assert e is not None, f"index names missing entry {i}"
        out.append(e)
    return out


def read_object(state: Readable, cadastral_number: str) -> dict | None:
    o = _get(state, keys.obj(cadastral_number))
    if o is None:
        return None
    encs = _entries(state, o["encs"])
    return {
        "cadastral_number": o["cn"],
        "type": o["type"],
        "status": o["status"],
        "parent": o["parent"],
        "children": o["children"],
        "identification": o["ident"],
        "rights": _entries(state, o["rights"]),
        "encumbrances": {"pledges": [e for e in encs if e["type"] == "pledge"],
                         "other": [e for e in encs if e["type"] != "pledge"]},
        "claims_and_transactions": {"claims": _entries(state, o["claims"]), "notes": _entries(state, o["notes"])},
        "temporary_stop": _active_stop(state, o),
        "pending_applications": list(o["pending"]),
        "history": _entries(state, o["history"]),
    }


def _active_stop(state: Readable, o: dict) -> dict | None:
    if o["stop"] is None:
        return None
    e = entry(state, o["stop"])
    return e if e is not None and e["status"] == "active" else None


def encumbrance_certificate(state: Readable, cadastral_number: str) -> dict | None:
    """The certificate of presence or absence of encumbrances (what the bank reads before a pledge)."""
    o = _get(state, keys.obj(cadastral_number))
    if o is None:
        return None
    encs = _entries(state, o["encs"])
    state_imposed = [e for e in encs if e["type"] in ("arrest", "prohibition", "restriction")]
    pledges = [e for e in encs if e["type"] == "pledge"]
    holders: list[dict] = []
    for r in _entries(state, o["rights"]):
        holders += [{"id": h["id"], "share": h["share"], "right": r["type"], "entry": r["id"]} for h in r["holders"]]
    stop = _active_stop(state, o)
    return {
        "cadastral_number": o["cn"],
        "status": o["status"],
        "encumbered": bool(encs),
        # An arrest, prohibition or restriction bars a pledge or a sale outright (Art 31.1.4).
        "excluding": bool(state_imposed),
        "pledges": [{"entry": e["id"], "pledgee": e["pledgee"], "amount_tiyn": e.get("amount_tiyn"), "term_end": e.get("term_end"),
                     "registered": e["registered"]} for e in pledges],
        "arrests": [{"entry": e["id"], "type": e["type"], "authority": e["authority"], "act": e.get("act"),
                     "registered": e["registered"]} for e in state_imposed],
        "other_encumbrances": [{"entry": e["id"], "type": e["type"], "beneficiary": e.get("beneficiary"),
                                "registered": e["registered"]} for e in encs if e["type"] != "pledge" and e not in state_imposed],
        "claims": [{"entry": e["id"], "claimant": e["claimant"], "kind": e["kind"], "lapse": e["lapse"]}
                   for e in _entries(state, o["claims"])],
        "temporary_stop": None if stop is None else {"entry": stop["id"], "ground": stop["ground"],
                                                     "counterparty": stop.get("counterparty"), "until": stop.get("until")},
        "pending_applications": list(o["pending"]),
        "holders": holders,
    }


def holdings(state: Readable, person_id: str) -> list[dict]:
    out = []
    for cn in _get(state, keys.holdings(person_id)) or []:
        o = _get(state, keys.obj(cn))
        assert o is not None
        rights = []
        for r in _entries(state, o["rights"]):
            for h in r["holders"]:
                if h["id"] == person_id:
                    rights.append({"entry": r["id"], "type": r["type"], "share": h["share"]})
        out.append({"cadastral_number": cn, "type": o["type"], "address": o["ident"].get("address"), "rights": rights})
    return out


def application(state: Readable, number: int) -> dict | None:
    return _get(state, keys.application(number))


def wallet(state: Readable, person_id: str) -> dict:
    return _get(state, keys.wallet(person_id)) or {"available": 0, "locked": 0}


def token_supply(state: Readable) -> int:
    return _get(state, keys.TOKEN_SUPPLY) or 0


def person_keys(state: Readable, person_id: str) -> dict | None:
    return _get(state, keys.person_keys(person_id))


def policy(state: Readable) -> dict:
    return _get(state, keys.POLICY) or book.DEFAULT_POLICY


def is_business_day(state: Readable, date_iso: str) -> bool:
    return businessdays.Calendar(state.get).is_business_day(businessdays.day_from_iso(date_iso))
