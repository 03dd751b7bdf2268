"""The fast encoder (ormsgpack) must write exactly the canonical bytes of node/codec.encode.

Contracts write every record through `codec.encode_trusted`; if the two encoders ever
disagreed on one value, nodes would still agree with each other, but the auditor's replay
and any client recomputing a record hash with `encode` would not. So they are compared over
generated values, with the edges of every msgpack size class (fixint/uint8/16/32/64, negative
ints, str8/16/32, bin8/16/32, fixarray/array16, fixmap/map16) and non-ASCII keys whose
UTF-8 order is the sort order.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum

import pytest
from hypothesis import given, settings, strategies as st

from node import codec
from node.errors import MalformedInput

EDGE_INTS = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1,
             -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**63)]
keys = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
scalars = (st.none() | st.booleans() | st.sampled_from(EDGE_INTS) | st.integers(-(2**63), 2**64 - 1)
           | st.text(max_size=40) | st.binary(max_size=40)
           | st.sampled_from([31, 32, 255, 256, 65535, 65536]).map(lambda n: "ж" * n)
           | st.sampled_from([255, 256, 65535, 65536]).map(lambda n: b"\xcb" * n))
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=17) | st.lists(children, max_size=3).map(tuple) | st.dictionaries(keys, children, max_size=17),
    max_leaves=60,
)


@settings(max_examples=400)
@given(values)
def test_fast_encoder_writes_the_canonical_bytes(value):
    fast = codec.encode_trusted(value)
    assert fast == codec.encode(value)
    assert codec.decode(fast) == codec.decode(codec.encode(value))


class Kind(enum.IntEnum):
    PLEDGE = 3


def test_subclasses_encode_as_their_base_value_in_both():
    v = {"k": Kind.PLEDGE, "flag": True}
    assert codec.encode_trusted(v) == codec.encode(v) == codec.encode({"k": 3, "flag": True})


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize("bad, why", [
    ({1: 2}, "map keys"),
    (2**64, "64 bits"),
    (-(2**63) - 1, "64 bits"),
    (datetime.datetime(2026, 1, 1), "cannot encode"),
    (Point(1), "cannot encode"),
    (object(), "cannot encode"),
])
def test_fast_encoder_refuses_what_encode_refuses_with_the_same_error(bad, why):
    with pytest.raises(MalformedInput, match=why):
        codec.encode_trusted({"v": bad})
    with pytest.raises(MalformedInput, match=why):
        codec.encode({"v": bad})


@settings(max_examples=300)
@given(values)
def test_trusted_decoder_reads_what_the_strict_decoder_reads(value):
    data = codec.encode(value)
    assert codec.decode_trusted(data) == codec.decode(data)


@pytest.mark.parametrize("data", [b"\xc1", b"\x81\x01\x02", b"\x92\x01"])
def test_trusted_decoder_refuses_bad_msgpack_with_a_typed_error(data):
    with pytest.raises(MalformedInput, match="not valid msgpack"):
        codec.decode_trusted(data)


# --- the strict decoder: ormsgpack plus a re-encoding check ------------------------------
def reference_decode(data: bytes):
    """What `decode` accepted before it used ormsgpack: msgpack unpacks, `encode` re-encodes
    (refusing floats, non-str keys, other types, deep nesting), and the bytes must match."""
    import msgpack

    try:
        value = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except Exception:
        return "refused"
    try:
        if codec.encode(value) != data:
            return "refused"
    except MalformedInput:
        return "refused"
    return value


def decoded(data: bytes):
    try:
        return codec.decode(data)
    except MalformedInput:
        return "refused"


@settings(max_examples=400)
@given(values)
def test_strict_decoder_accepts_exactly_the_canonical_bytes_of_a_value(value):
    data = codec.encode(value)
    assert codec.decode(data) == reference_decode(data)
    # Any other byte string for the same value is refused: one byte changed or added.
    assert decoded(data + b"\xc0") == "refused"


@settings(max_examples=600)
@given(st.binary(max_size=64) | values.map(codec.encode).flatmap(
    lambda b: st.tuples(st.just(b), st.integers(0, max(0, len(b) - 1)), st.integers(0, 255)).map(
        lambda t: t[0][:t[1]] + bytes([t[2]]) + t[0][t[1] + 1:])))
def test_strict_decoder_agrees_with_the_reference_on_any_bytes(data):
    # Random bytes and canonical encodings with one byte overwritten: floats, other
    # integer widths, ext types, bad UTF-8, truncations all come up.
    assert decoded(data) == reference_decode(data)


@pytest.mark.parametrize("depth", [31, 32, 33, 34])
@pytest.mark.parametrize("inner", [b"\xc0", b"\x90", b"\x80", b""])
def test_strict_decoder_draws_the_depth_limit_where_the_reference_does(depth, inner):
    for opener in (b"\x91", b"\x81\xa1a"):
        if not inner:  # the innermost container empty
            data = opener * (depth - 1) + (b"\x90" if opener == b"\x91" else b"\x80")
        else:
            data = opener * depth + inner
        assert decoded(data) == reference_decode(data), (depth, inner, opener)


@pytest.mark.parametrize("data", [b"\xcb" + bytes(8), b"\xca" + bytes(4), b"\x81\xa1a\xcb" + bytes(8), b"\x91\xcb" + bytes(8)])
def test_strict_decoder_refuses_floats_by_name(data):
    with pytest.raises(MalformedInput, match="floats are not allowed"):
        codec.decode(data)
