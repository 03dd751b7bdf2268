"""What the projection indexes out of a sheet the contracts' views return: search columns,
holders, the entries of its history, whether it is encumbered.

The one module that knows the shape of contracts/queries.py's results (a stable interface:
fields are added, never renamed or removed). Pure; may import stdlib.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class ObjectFacts:
    type: str | None
    status: str | None
    address: str | None
    holders: tuple[str, ...]        # IIN/BIN of everyone holding an active right
    encumbered: bool
    entries: tuple[dict, ...]       # every entry of the history, ended ones included


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


def object_facts(sheet: dict, certificate: dict | None) -> ObjectFacts:
    ident = identification(sheet)
    holders = sorted({pid for e in rights(sheet) for pid in holder_ids(e)})
    if certificate is not None and isinstance(certificate.get("encumbered"), bool):
        encumbered = certificate["encumbered"]
    else:
        encumbered = bool(encumbrances(sheet))
    return ObjectFacts(
        type=_str(sheet.get("type")),
        status=_str(sheet.get("status")),
        address=address_of(ident),
        holders=tuple(holders),
        encumbered=encumbered,
        entries=tuple(history(sheet)),
    )


def entry_row(e: dict) -> tuple[int | None, str | None, str | None, str | None, int | None, int | None]:
    """(id, section, type, status, registered height, ended height) of a history entry."""
    reg = e.get("registered") if isinstance(e.get("registered"), dict) else {}
    ended = e.get("ended") if isinstance(e.get("ended"), dict) else {}
    return (
        e.get("id") if isinstance(e.get("id"), int) else None,
        _str(e.get("section")),
        _str(e.get("type")),
        _str(e.get("status")),
        reg.get("height") if isinstance(reg.get("height"), int) else None,
        ended.get("height") if isinstance(ended.get("height"), int) else None,
    )


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None
