"""Ledger records as the cadastre stores them, and the views run on them when read.

The projection stores, for each version of a registration sheet and for each application in
the book, the raw ledger records (canonical msgpack, exactly as in the state tree) that the
contracts' views read at that block's root -- not the views' output. Reading a sheet as of
any height runs the same views (contracts/queries.py, through cadastre.source) on those
records. The views are pure functions of the records they read, so the result is what they
gave at that height, byte for byte, while the projection does no view work and no JSON
encoding on the commit path (design decision 8 is unchanged: the records come from the
state at a committed block's root).

A record set is stored as one blob: canonical msgpack of [key, value, key, value, ...] in
key order, a value being bytes or nil (a key read and found absent). Two equal sets of
records have equal blobs, so "did the sheet change" is a comparison of bytes.

May import: cadastre (canon, source), node (codec, errors).
"""

from __future__ import annotations

from typing import Any

from cadastre import canon, source
from node import codec
from node.errors import MalformedInput, StoreCorrupted

Values = dict[bytes, "bytes | None"]


def encode(values: Values) -> bytes:
    """The blob of a record set (keys sorted, so one set has one blob)."""
    flat: list = []
    for k in sorted(values):
        flat.append(k)
        flat.append(values[k])
    return codec.encode_trusted(flat)


def encode_sorted(pairs: list) -> bytes:
    """The blob of [key, value, ...] the caller already has in key order."""
    return codec.encode_trusted(pairs)


def decode(blob: bytes) -> Values:
    try:
        flat = codec.decode_trusted(blob)
    except MalformedInput as exc:
        raise StoreCorrupted(f"a stored record set of the cadastre does not decode: {exc}") from None
    assert isinstance(flat, list) and len(flat) % 2 == 0, "a record set is a flat list of key, value pairs"
    return dict(zip(flat[0::2], flat[1::2]))


class StoredState:
    """A read-only state answering only from stored records. A view that reads any other key
    means the projection stored the wrong set: a broken invariant, never silently absent."""

    def __init__(self, values: Values):
        self._values = values

    def get(self, key: bytes) -> bytes | None:
        try:
            return self._values[key]
        except KeyError:
            raise AssertionError(
                f"the cadastre stored no record {key!r} for this view: cadastre/source.py's record sets are out of date with contracts/queries.py"
            ) from None


def sheet_and_certificate(cn: str, blob: bytes) -> tuple[dict, dict]:
    """The sheet and certificate of encumbrances of `cn` in their JSON form (as canon.loads
    returns them), from a stored version's records."""
    state = StoredState(decode(blob))
    sheet = source.read_object(state, cn)
    cert = source.encumbrance_certificate(state, cn)
    assert sheet is not None and cert is not None, f"a stored version of {cn} has no object record"
    return canon.normal(sheet), canon.normal(cert)


def sheet(cn: str, blob: bytes) -> dict:
    s = source.read_object(StoredState(decode(blob)), cn)
    assert s is not None, f"a stored version of {cn} has no object record"
    return canon.normal(s)


def encumbered(cn: str, blob: bytes) -> bool:
    """Whether the certificate of encumbrances of a stored version says "encumbered" (read off
    the object record as source.sheet_index does, without building the certificate)."""
    values = decode(blob)
    raw = values.get(source.object_key(cn))
    assert raw is not None, f"a stored version of {cn} has no object record"
    return source.sheet_index(_decode_record(raw))[4]


def application(number: int, blob: bytes) -> dict:
    app = source.application(StoredState(decode(blob)), number)
    assert app is not None, f"the stored record of application {number} is absent"
    return canon.normal(app)


def event_data(raw: bytes) -> dict:
    """A committed event's data as the projection shows it: a dict ({} when empty; a value
    that is not a map is shown as {"value": ...})."""
    data = _decode_record(raw) if raw else {}
    return data if isinstance(data, dict) else {"value": data}


def event_json(raw: bytes) -> str:
    return canon.dumps(event_data(raw))


def _decode_record(raw: bytes) -> Any:
    try:
        # Stored records were produced by this node's own execution and read from the
        # hash-checked state tree or a committed receipt: no canonical re-check needed.
        return codec.decode_trusted(raw)
    except MalformedInput as exc:
        raise StoreCorrupted(f"a stored record of the cadastre does not decode: {exc}") from None
