"""What leaves the cadastre: the public view of a sheet and the personal-data filter.

Art 17.1: information disclosing personal data cannot be provided, except the data that
identify a right holder -- surname, name, patronymic and date of birth. An IIN encodes the
date of birth and sex and is itself personal data, so every IIN in an answer is replaced by
the date of birth it encodes, except the caller's own. BINs (legal entities) are not personal
data and stay. The registering body's own staff see records unfiltered (Art 11).

Works on the JSON form of sheets (cadastre.canon.jsonable). Pure; may import cadastre.facts,
node.identity, node.errors.
"""

from __future__ import annotations

import datetime
from typing import Any, Iterable

from cadastre import facts
from node import identity
from node.errors import InvalidIdentifier

_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


def is_iin(value: str) -> bool:
    if len(value) != 12 or not value.isdigit() or identity.is_bin(value):
        return False
    try:
        identity.validate_iin(value)
        return True
    except InvalidIdentifier:
        return False


def birth_date(iin: str) -> str:
    year = _CENTURY[int(iin[6])] + int(iin[0:2])
    return datetime.date(year, int(iin[2:4]), int(iin[4:6])).isoformat()


def masked(iin: str) -> str:
    return f"withheld (born {birth_date(iin)})"


def personal_data(value: Any, keep: Iterable[str] = ()) -> Any:
    """`value` with every IIN except those in `keep` replaced by its date of birth (Art 17.1)."""
    keep_set = set(keep)

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return masked(v) if v not in keep_set and is_iin(v) else v
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    return walk(value)


def _individual(entry: dict) -> bool:
    return any(not identity.is_bin(pid) for pid in facts.holder_ids(entry))


def public_view(sheet: dict) -> dict:
    """The part of a sheet open to anyone (Art 17.3-1, 17.3-2): the object's type, status and
    address; rights of legal entities; encumbrances; legal claims. The rest is counted as
    withheld so the reader knows the view is partial."""
    ident = facts.identification(sheet)
    rights = facts.rights(sheet)
    shown_rights = [e for e in rights if not _individual(e)]
    encs = sheet.get("encumbrances") or {}
    return {
        "cadastral_number": sheet.get("cadastral_number"),
        "type": sheet.get("type"),
        "status": sheet.get("status"),
        "address": facts.address_of(ident),
        "rights_of_legal_entities": shown_rights,
        "encumbrances": {"pledges": list(encs.get("pledges") or []), "other": list(encs.get("other") or [])},
        "legal_claims": facts.claims(sheet),
        "temporary_stop": sheet.get("temporary_stop"),
        "withheld": {
            "rights_of_individuals": len(rights) - len(shown_rights),
            "identification_characteristics": True,
            "notes": len(facts.notes(sheet)),
            "history": len(facts.history(sheet)),
            "article": "Art 17.3: given to the right holder, listed requesters on a stated ground, or with the holder's consent",
        },
    }
