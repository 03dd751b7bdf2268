"""Canonical JSON for the cadastre: one text for one value, so rows and extracts compare byte
for byte (the rebuilt projection must equal the incremental one; an extract's bytes are
checked as written).

Ledger records are canonical msgpack (node/codec.py) and may hold bytes; in JSON bytes become
lowercase hex strings. Keys are sorted, no spaces, UTF-8 kept as is. May import: stdlib.
"""

from __future__ import annotations

import json
from typing import Any


def jsonable(value: Any) -> Any:
    """`value` with bytes turned into hex and tuples into lists (dict keys must be strings)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    assert value is None or isinstance(value, (str, int, bool)), f"not JSON-able: {type(value).__name__}"
    return value


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def dumps(value: Any) -> str:
    # json's own walk with a hook for bytes (tuples already serialise as lists): the same text
    # as dumping jsonable(value), without building the copy.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default, allow_nan=False)


def dumps_strings(items) -> str:
    """dumps(list(items)) for a sequence of strings, without json's machinery when every one
    is ASCII letters and digits (IINs, BINs: nothing to escape)."""
    for x in items:
        if not (x.isascii() and x.isalnum()):
            return dumps(list(items))
    return '["' + '","'.join(items) + '"]' if items else "[]"


def loads(text: str | bytes | None) -> Any:
    return None if text is None else json.loads(text)


def normal(value: Any) -> Any:
    """`value` in its JSON form, exactly as loads(dumps(value)) gives it (bytes as hex, keys
    in sorted order): what a reader gets for a value the cadastre stored as text."""
    return json.loads(dumps(value))
