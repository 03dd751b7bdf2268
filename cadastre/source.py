"""Reading registration records out of a ledger state: the one door from the cadastre into
the contracts' record layout.

The contracts own the record layout (contracts/keys.py, contracts/sheet.py) and the views of
it (contracts/queries.py): the registration sheet's four sections with its history, the
certificate of encumbrances, a person's holdings, an application of the book of documents.
The cadastre never decodes records itself; it calls those views on:
- the chain's state at a block's root (projection, extracts at the node), or
- a ProvenState built from an extract's proofs (offline verification), which answers only
  the keys it has proofs for, so the verifier re-derives exactly what the node showed.

RecordingState wraps a state and records every key read, so an extract proves precisely the
records its sheet was derived from (including absent ones).

The projection stores the records a sheet is derived from, not the sheet (cadastre/
records.py), and indexes a few of their fields. sheet_records() below is the one place that
knows which records read_object and encumbrance_certificate read (the object record and the
entries it indexes) and sheet_index() which of their fields the indexes take; both mirror
contracts/queries.py. A view run on the stored records refuses any key not stored, so if the
views ever read more, the cadastre's tests fail instead of a sheet silently losing a part.

May import: contracts (queries, keys), node.codec, node.errors, node.state_tree.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from node import codec
from node.errors import MalformedInput, NotFound, TamgaError

Reader = Callable[[bytes], "bytes | None"]


class ViewUnavailable(TamgaError):
    """This node runs an application without the registration views (e.g. the generic one)."""

    code = "CADASTRE_UNAVAILABLE"
    http_status = 404


def _queries():
    try:
        from contracts import queries  # noqa: PLC0415 - optional until the registry app is present
    except ImportError:
        raise ViewUnavailable("this node's application has no registration views (contracts/queries.py)") from None
    return queries


def available() -> bool:
    try:
        _queries()
        return True
    except ViewUnavailable:
        return False


class RecordingState:
    """A read-only state that remembers every key read, in first-read order."""

    def __init__(self, state):
        self._state = state
        self.keys: list[bytes] = []
        self._seen: set[bytes] = set()

    def get(self, key: bytes) -> bytes | None:
        if key not in self._seen:
            self._seen.add(key)
            self.keys.append(key)
        return self._state.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        raise AssertionError("views never write")

    def delete(self, key: bytes) -> None:
        raise AssertionError("views never write")


class CachedState:
    """A read-only state that reads each key from the tree once (the sheet and the
    certificate of encumbrances read the same records)."""

    def __init__(self, state):
        self._state = state
        self._cache: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key not in self._cache:
            self._cache[key] = self._state.get(key)
        return self._cache[key]


class UnprovenRead(MalformedInput):
    code = "EXTRACT_INCOMPLETE"


class ProvenState:
    """A state that knows only proven records: reading any other key is an error, so a view
    run on it either reproduces what the node derived or fails."""

    def __init__(self, values: dict[bytes, bytes | None]):
        self._values = values
        self.read: set[bytes] = set()

    def get(self, key: bytes) -> bytes | None:
        if key not in self._values:
            raise UnprovenRead(f"the extract holds no proof for state key {key!r}")
        self.read.add(key)
        return self._values[key]

    def set(self, key: bytes, value: bytes) -> None:
        raise AssertionError("views never write")

    def delete(self, key: bytes) -> None:
        raise AssertionError("views never write")


def _call(fn, *args) -> Any:
    """A view's result; None when the thing does not exist (the views refuse with a typed error)."""
    try:
        return fn(*args)
    except NotFound:
        return None
    except TamgaError as err:
        if err.code.endswith("NOT_FOUND"):
            return None
        raise


def read_object(state, cn: str) -> dict | None:
    """The registration sheet of object `cn` (four sections + history), or None."""
    return _call(_queries().read_object, state, cn)


def encumbrance_certificate(state, cn: str) -> dict | None:
    """The certificate of presence or absence of encumbrances of `cn`, or None."""
    return _call(_queries().encumbrance_certificate, state, cn)


def holdings(state, person_id: str) -> Any:
    return _call(_queries().holdings, state, person_id)


def application(state, number: int) -> dict | None:
    return _call(_queries().application, state, number)


def application_record(state, number: int) -> tuple[dict | None, list]:
    """The application `number` as the book's view gives it (contracts/queries.py: the
    record at keys.application(number), decoded) and the records it is read from, as a flat
    [key, value] list."""
    key = _keys().application(number)
    raw = state.get(key)
    return (None if raw is None else codec.decode_trusted(raw)), [key, raw]


# The object record's lists of entry ids that read_object and encumbrance_certificate resolve
# (contracts/sheet.py: sections, history) and its single entry reference (the stop).
_ENTRY_LISTS = ("rights", "encs", "claims", "notes", "history")


class SheetRecords:
    """The records the sheet and the certificate of encumbrances of one object are derived
    from, in key order as a flat [key, value, ...] list; with the object record decoded and
    the entries it indexes by id (raw; None for an absent one)."""

    __slots__ = ("obj", "entries", "pairs")

    def __init__(self, obj: dict, entries: dict[int, bytes | None], pairs: list):
        self.obj, self.entries, self.pairs = obj, entries, pairs


def sheet_records(state, cn: str) -> SheetRecords | None:
    """The records of object `cn`'s sheet at `state`, or None when it is not registered."""
    keys = _keys()
    okey = keys.obj(cn)
    raw = state.get(okey)
    if raw is None:
        return None
    o = codec.decode_trusted(raw)
    ids = set(o["history"])
    ids.update(o["rights"], o["encs"], o["claims"], o["notes"])
    stop = o["stop"]
    if stop is not None:
        ids.add(stop)
    entries: dict[int, bytes | None] = {}
    pairs: list = []
    entry_key = keys.entry
    get = state.get
    for i in sorted(ids):
        k = entry_key(i)
        v = entries[i] = get(k)
        # The views assert that indexed entries exist (only the stop may point at none).
        assert v is not None or i == stop, f"object {cn} indexes missing entry {i}"
        pairs.append(k)
        pairs.append(v)
    # Entry keys (reg/e/...) sort before object keys (reg/o/...): the object record goes last.
    pairs.append(okey)
    pairs.append(raw)
    return SheetRecords(o, entries, pairs)


def sheet_index(o: dict) -> tuple:
    """What the projection indexes of a sheet, in the JSON form of the view's fields: (type,
    status, identification, ids of the active rights (section 2), encumbered (section 3, as
    the certificate of encumbrances says)). read_object: "type", "status", "identification"
    <- o["ident"], "rights" <- o["rights"] resolved; encumbrance_certificate: "encumbered"
    <- bool(o["encs"] resolved)."""
    return _json_str(o["type"]), _json_str(o["status"]), o["ident"], o["rights"], bool(o["encs"])


def _json_str(v: Any) -> str | None:
    """A field the indexes keep only when it is a string in the sheet's JSON form (bytes are hex there)."""
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    return v if isinstance(v, str) else None


def entry_key(entry_id: int) -> bytes:
    return _keys().entry(entry_id)


@functools.cache
def _keys():
    from contracts import keys  # noqa: PLC0415

    # Entry keys (reg/e/...) sort before object keys (reg/o/...): sheet_records relies on it.
    assert keys.ENTRY_PREFIX < keys.OBJECT_PREFIX
    return keys


def object_key(cn: str) -> bytes:
    return _keys().obj(cn)


def object_prefix() -> bytes:
    from contracts import keys  # noqa: PLC0415

    return keys.OBJECT_PREFIX


def application_prefix() -> bytes:
    from contracts import keys  # noqa: PLC0415

    return keys.APPLICATION_PREFIX


VIEWS: dict[str, Callable[[Any, str], Any]] = {
    "sheet": read_object,
    "encumbrances": encumbrance_certificate,
}
