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

May import: contracts (queries, keys), node.errors, node.state_tree.
"""

from __future__ import annotations

from typing import Any, Callable

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


def object_key(cn: str) -> bytes:
    from contracts import keys  # noqa: PLC0415

    return keys.obj(cn)


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
