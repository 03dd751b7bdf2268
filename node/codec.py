"""Canonical msgpack: the one encoding of structured data that is hashed or signed (pure).

Canonical means one value has one encoding: map keys are strings sorted by their UTF-8
bytes, integers use the shortest form, and floats are refused (design decision 6: money is
integer tiyn, areas integer square decimetres). `decode` refuses any encoding that is not
canonical, so two different byte strings never carry the same payload.
"""

from __future__ import annotations

from typing import Any

import msgpack
import ormsgpack

from node.errors import MalformedInput

PAYLOAD_DEPTH_MAX = 32


_SCALARS = frozenset({type(None), bool, int, str, bytes})
INT_MIN, INT_MAX = -(2**63), 2**64 - 1  # what msgpack can carry
_SCALAR_BASES: tuple[type, ...] = (bool, int, str, bytes)  # what a subclass of each is encoded as


def _canonical(value: Any, depth: int = 0) -> Any:
    # Exact-type dispatch first: this runs for every record a contract writes, so the common
    # cases must not pay for isinstance chains. Keys are sorted as str: UTF-8 preserves code
    # point order, so this is the order of their UTF-8 bytes.
    if depth > PAYLOAD_DEPTH_MAX:
        raise MalformedInput(f"value nested deeper than {PAYLOAD_DEPTH_MAX} levels")
    t = type(value)
    if t in _SCALARS:
        if t is int and not INT_MIN <= value <= INT_MAX:
            raise MalformedInput(f"integer {value} does not fit in 64 bits")
        return value
    if t is dict:
        for k in value:
            if type(k) is not str:
                raise MalformedInput(f"map keys must be strings, got {type(k).__name__}")
        d = depth + 1
        return {k: _canonical(value[k], d) for k in sorted(value)}
    if t is list or t is tuple:
        d = depth + 1
        return [_canonical(v, d) for v in value]
    if isinstance(value, float):
        raise MalformedInput("floats are not allowed; use integers (tiyn, square decimetres)")
    # Subclasses (an IntEnum, a str subclass) are encoded as their base value.
    for base in _SCALAR_BASES:
        if isinstance(value, base):
            return _canonical(base(value), depth)
    if isinstance(value, (list, tuple)):
        return _canonical(list(value), depth)
    if isinstance(value, dict):
        return _canonical(dict(value), depth)
    raise MalformedInput(f"cannot encode a {type(value).__name__}")


def encode(value: Any) -> bytes:
    """The canonical bytes of `value` (dicts, lists, str, bytes, int, bool, None)."""
    return msgpack.packb(_canonical(value), use_bin_type=True)


# ormsgpack (Rust) writes the same bytes as `encode` for every value `encode` accepts: keys
# sorted by code point (= UTF-8 byte order), shortest integers, str/bin types as msgpack's
# use_bin_type (tests/test_codec_fast.py compares the two over generated values). It refuses
# non-str keys and integers beyond 64 bits by itself; the passthrough options make it refuse
# dataclasses, datetimes and UUIDs, which it would otherwise encode. It does NOT refuse
# floats and does not limit depth, hence "trusted" below.
_FAST_OPTIONS = ormsgpack.OPT_SORT_KEYS | ormsgpack.OPT_PASSTHROUGH_DATACLASS | ormsgpack.OPT_PASSTHROUGH_DATETIME | ormsgpack.OPT_PASSTHROUGH_UUID


def encode_trusted(value: Any) -> bytes:
    """The canonical bytes of a value this node's own code built (contract records, events,
    heads), about ten times faster than `encode`. Callers must not put floats in: contracts/
    and consensus/ cannot make one (no float literals, `/`, float() or math: enforced by
    tests/test_determinism_lint.py), and every payload they copy from came through `decode`,
    which refuses floats. Depth is bounded by the same payload checks."""
    try:
        return ormsgpack.packb(value, option=_FAST_OPTIONS)
    except TypeError:
        return encode(value)  # raises MalformedInput with the precise reason


def decode(data: bytes) -> Any:
    """Decode canonical msgpack; raise MalformedInput for anything else.

    ormsgpack decodes (it refuses non-str map keys, ext types, invalid UTF-8 and nesting
    beyond its own limit) and re-encodes with the options that make `encode`'s bytes (see
    above); any other bytes for the same value (keys out of order, a longer integer form,
    trailing bytes, a repeated key) differ. What ormsgpack accepts and canonical msgpack does
    not, floats and nesting deeper than PAYLOAD_DEPTH_MAX, `_check_decoded` refuses. About
    three times faster than unpacking with msgpack and re-encoding through `encode`, which
    every submitted tx's payload went through on every node."""
    try:
        value = ormsgpack.unpackb(data)
    except (ValueError, TypeError) as exc:
        raise MalformedInput(f"payload is not valid msgpack: {exc}") from None
    _check_decoded(value, 0)
    if ormsgpack.packb(value, option=_FAST_OPTIONS) != data:
        raise MalformedInput("payload is not in canonical form (sorted keys, shortest integers, no floats)")
    return value


def _check_decoded(value: Any, depth: int) -> None:
    """Refuse floats and nesting deeper than PAYLOAD_DEPTH_MAX in a value ormsgpack decoded
    (its other types are the canonical ones: None, bool, int, str, bytes, dict, list)."""
    t = type(value)
    if t is dict:
        value = value.values()
    elif t is not list:
        if t is float:
            raise MalformedInput("floats are not allowed; use integers (tiyn, square decimetres)")
        return
    if depth >= PAYLOAD_DEPTH_MAX and value:  # its members would lie deeper than the limit
        raise MalformedInput(f"value nested deeper than {PAYLOAD_DEPTH_MAX} levels")
    for v in value:
        if type(v) in _SCALARS:
            continue
        _check_decoded(v, depth + 1)


def decode_trusted(data: bytes) -> Any:
    """Decode bytes this node itself encoded and read back through a hash-checked path (the
    state tree checks every node it loads), skipping the canonical re-encoding check that
    `decode` does for input from outside. Still strict about msgpack itself."""
    try:
        # ormsgpack decodes to the same values as msgpack (str keys only, lists for arrays)
        # in about half the time; contracts read ~9 records per tx.
        return ormsgpack.unpackb(data)
    except (ValueError, TypeError) as exc:
        raise MalformedInput(f"stored record is not valid msgpack: {exc}") from None
