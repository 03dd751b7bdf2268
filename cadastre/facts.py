"""Reading a sheet the contracts' views return: its sections, history, holders, parties and
search address (the API's access rules, redaction, printable extracts and the projection's
indexes use these).

The one module that knows the shape of contracts/queries.py's results (a stable interface:
fields are added, never renamed or removed). Pure; may import stdlib.
"""

from __future__ import annotations


def identification(sheet: dict) -> dict:
    v = sheet.get("identification")
    return v if isinstance(v, dict) else {}


def rights(sheet: dict) -> list[dict]:
    return list(sheet.get("rights") or [])


def encumbrances(sheet: dict) -> list[dict]:
    """Section 3, pledges first (Art 14.2.3: pledges shown apart)."""
    e = sheet.get("encumbrances") or {}
    return list(e.get("pledges") or []) + list(e.get("other") or [])


def claims(sheet: dict) -> list[dict]:
    return list((sheet.get("claims_and_transactions") or {}).get("claims") or [])


def notes(sheet: dict) -> list[dict]:
    return list((sheet.get("claims_and_transactions") or {}).get("notes") or [])


def history(sheet: dict) -> list[dict]:
    return list(sheet.get("history") or [])


def holder_ids(entry: dict) -> list[str]:
    out = []
    for h in entry.get("holders") or []:
        pid = h.get("id") if isinstance(h, dict) else h
        if isinstance(pid, str):
            out.append(pid)
    return out


PARTY_FIELDS = ("pledgee", "authority", "beneficiary", "claimant")


def parties(sheet: dict) -> set[str]:
    """Everyone an active entry of the sheet names: right holders, pledgees and pledgors,
    imposing authorities, beneficiaries, claimants."""
    out: set[str] = set()
    active = rights(sheet) + encumbrances(sheet) + claims(sheet) + notes(sheet)
    for e in active:
        out.update(holder_ids(e))
        for f in PARTY_FIELDS:
            if isinstance(e.get(f), str):
                out.add(e[f])
        out.update(p for p in e.get("pledgors") or [] if isinstance(p, str))
    return out


def address_of(ident: dict) -> str | None:
    a = ident.get("address")
    if isinstance(a, str):
        return a
    if isinstance(a, dict):
        return ", ".join(str(a[k]) for k in sorted(a) if isinstance(a[k], (str, int)))
    return None
