"""Payload schemas: a small declarative checker for decoded canonical-msgpack payloads (pure).

A schema is a dict of field name -> Field. `check(schema, payload)` raises
node.errors.InvalidPayload naming the field path and what is wrong, so a bank's developer
can fix the request; unknown fields are refused, so a typo never silently drops a value.
Every list and string has a named maximum (TigerBeetle's "a limit on everything").
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Callable

from node import identity as ids
from node.errors import InvalidIdentifier, InvalidPayload

TEXT_MAX = 500
NAME_MAX = 120
DOCS_MAX = 20
PARTIES_MAX = 50
AMOUNT_TIYN_MAX = 10**17          # 1e15 tenge: far above any deal, well inside uint64
AREA_DM2_MAX = 10**13             # 100,000 km^2 in square decimetres
SHARE_DENOMINATOR_MAX = 10**9
DIGEST_SIZE = 32

# Region-district-quarter-plot, e.g. 21-320-030-406; a building or a premises adds ":n"
# (and ":n:m"), e.g. 21-320-030-406:1:25.
CADASTRAL_RE = re.compile(r"\d{2}-\d{3}-\d{3}-\d{3,4}(:\d{1,4}){0,2}")

OBJECT_TYPES = ("land", "building", "structure", "apartment", "premises")
RIGHT_TYPES = ("ownership", "economic_management", "operational_management", "land_use", "easement")
COMMON_TYPES = ("shared", "joint")


class Field:
    def __init__(self, check: Callable[[Any, str], None], optional: bool = False):
        self.check = check
        self.optional = optional


def _fail(path: str, what: str) -> None:
    raise InvalidPayload(f"{path}: {what}")


def opt(field: Field) -> Field:
    return Field(field.check, optional=True)


def check(schema: dict[str, Field], payload: Any, path: str = "payload") -> None:
    if not isinstance(payload, dict):
        _fail(path, f"must be a map, got {type(payload).__name__}")
    for name in payload:
        if name not in schema:
            _fail(path, f"unknown field {name!r}; allowed: {', '.join(sorted(schema))}")
    for name, field in schema.items():
        value = payload.get(name)
        if value is None:
            if not field.optional:
                _fail(f"{path}.{name}", "is required")
            continue
        field.check(value, f"{path}.{name}")


# --- field kinds -----------------------------------------------------------------------------
def integer(lo: int = 0, hi: int = 2**63 - 1) -> Field:
    def c(v: Any, p: str) -> None:
        if not isinstance(v, int) or isinstance(v, bool):
            _fail(p, f"must be an integer, got {type(v).__name__}")
        if not lo <= v <= hi:
            _fail(p, f"must be between {lo} and {hi}, got {v}")
    return Field(c)


def amount() -> Field:
    """Money in integer tiyn (1 tenge = 100 tiyn)."""
    return integer(1, AMOUNT_TIYN_MAX)


def boolean() -> Field:
    def c(v: Any, p: str) -> None:
        if not isinstance(v, bool):
            _fail(p, "must be true or false")
    return Field(c)


def text(max_len: int = TEXT_MAX, min_len: int = 1) -> Field:
    def c(v: Any, p: str) -> None:
        if not isinstance(v, str):
            _fail(p, f"must be text, got {type(v).__name__}")
        if not min_len <= len(v) <= max_len:
            _fail(p, f"must be {min_len}..{max_len} characters long, got {len(v)}")
    return Field(c)


def enum(*values: str) -> Field:
    def c(v: Any, p: str) -> None:
        if v not in values:
            _fail(p, f"must be one of {', '.join(values)}; got {v!r}")
    return Field(c)


def digest() -> Field:
    def c(v: Any, p: str) -> None:
        if not isinstance(v, bytes) or len(v) != DIGEST_SIZE:
            _fail(p, f"must be a {DIGEST_SIZE}-byte SHA-256 digest")
    return Field(c)


def date() -> Field:
    def c(v: Any, p: str) -> None:
        if not isinstance(v, str) or len(v) != 10:
            _fail(p, "must be a date YYYY-MM-DD")
        try:
            d = datetime.date.fromisoformat(v)
        except ValueError:
            _fail(p, f"{v!r} is not a valid date YYYY-MM-DD")
        if not 1900 <= d.year <= 2200:
            _fail(p, f"year {d.year} is out of range")
    return Field(c)


def cadastral() -> Field:
    def c(v: Any, p: str) -> None:
        if not isinstance(v, str) or CADASTRAL_RE.fullmatch(v) is None:
            _fail(p, f"{v!r} is not a cadastral number like 21-320-030-406 (or 21-320-030-406:1:25)")
    return Field(c)


def person() -> Field:
    """An IIN or a BIN with a valid check digit."""
    def c(v: Any, p: str) -> None:
        try:
            ids.validate_person_id(v)
        except InvalidIdentifier as exc:
            _fail(p, exc.message)
    return Field(c)


def authority() -> Field:
    """The body imposing an encumbrance: a BIN, or an IIN of a private bailiff."""
    return person()


def share() -> Field:
    """A fraction [numerator, denominator] with 0 < n <= d."""
    def c(v: Any, p: str) -> None:
        if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v)):
            _fail(p, "must be [numerator, denominator] of integers")
        n, d = v
        if not (0 < n <= d <= SHARE_DENOMINATOR_MAX):
            _fail(p, f"must satisfy 0 < numerator <= denominator <= {SHARE_DENOMINATOR_MAX}, got {n}/{d}")
    return Field(c)


def listof(item: Field, max_len: int, min_len: int = 1, unique: bool = False) -> Field:
    def c(v: Any, p: str) -> None:
        if not isinstance(v, list):
            _fail(p, "must be a list")
        if not min_len <= len(v) <= max_len:
            _fail(p, f"must have {min_len}..{max_len} items, got {len(v)}")
        for i, x in enumerate(v):
            item.check(x, f"{p}[{i}]")
        if unique:
            seen: list = []
            for x in v:
                if x in seen:
                    _fail(p, f"lists {x!r} twice")
                seen.append(x)
    return Field(c)


def record(schema: dict[str, Field]) -> Field:
    def c(v: Any, p: str) -> None:
        check(schema, v, p)
    return Field(c)


def mapping(value: Field, max_len: int) -> Field:
    def c(v: Any, p: str) -> None:
        if not isinstance(v, dict) or len(v) > max_len:
            _fail(p, f"must be a map of at most {max_len} entries")
        for k, x in v.items():
            value.check(x, f"{p}.{k}")
    return Field(c)


# --- shared shapes ----------------------------------------------------------------------------
DOC = record({"name": text(NAME_MAX), "sha256": digest()})
DOCS = listof(DOC, DOCS_MAX, min_len=0)
ACT = record({                       # a court's or state body's act
    "number": text(NAME_MAX),
    "date": date(),
    "sha256": digest(),
    "issuer": opt(text(NAME_MAX)),
})
HOLDER = record({"id": person(), "share": share()})
HOLDERS = listof(HOLDER, PARTIES_MAX)
ENTRY_ID = integer(1)
APPLICATION_NUMBER = integer(1)

IDENT_SCHEMA = {                     # identification characteristics, Art 1.12
    "address": text(TEXT_MAX),
    "address_code": opt(text(40)),
    "form_of_property": opt(enum("private", "state")),
    "purpose": opt(text(NAME_MAX)),
    "land_category": opt(text(NAME_MAX)),
    "region": opt(text(NAME_MAX)),
    "floors": opt(integer(0, 300)),
    "components": opt(integer(0, 10_000)),
    "area_total_dm2": integer(1, AREA_DM2_MAX),
    "area_living_dm2": opt(integer(0, AREA_DM2_MAX)),
    "area_useful_dm2": opt(integer(0, AREA_DM2_MAX)),
}
IDENT = record(IDENT_SCHEMA)
IDENT_FIELDS_NON_SUBSTANTIVE = ("address", "address_code", "floors", "components", "region")
IDENT_FIELDS_SUBSTANTIVE = (   # with the holders of a right: need consent or a court (Art 32.3)
"form_of_property", "purpose", "land_category", "area_total_dm2", "area_living_dm2", "area_useful_dm2")

LOADED_RIGHT = record({
    "type": enum(*RIGHT_TYPES),
    "holders": HOLDERS,
    "common": opt(enum(*COMMON_TYPES)),
    "accrued": opt(date()),           # Art 56.2: date of accrual from the right-stating document
    "docs": opt(DOCS),
})
LOADED_ENCUMBRANCE = record({
    "type": enum("pledge", "arrest", "prohibition", "restriction", "lease", "easement", "trust_management", "land_use_instruction"),
    "beneficiary": person(),          # pledgee, lessee, trustee, or the imposing authority
    "amount_tiyn": opt(amount()),
    "until": opt(date()),
    "accrued": opt(date()),
    "note": opt(text()),
})
LOADED_OBJECT = record({
    "cn": cadastral(),
    "type": enum(*OBJECT_TYPES),
    "ident": IDENT,
    "parent": opt(cadastral()),
    "rights": listof(LOADED_RIGHT, 5),
    "encumbrances": opt(listof(LOADED_ENCUMBRANCE, 20, min_len=0)),
})
assert sorted(IDENT_FIELDS_NON_SUBSTANTIVE + IDENT_FIELDS_SUBSTANTIVE) == sorted(IDENT_SCHEMA)
