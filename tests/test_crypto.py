"""Hashing, RFC 6962 Merkle trees, Ed25519 domain separation, canonical msgpack."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, strategies as st

from node import codec, merkle, signing
from node.errors import MalformedInput
from node.hashing import hasher


def test_hash_algorithms_named_in_genesis_are_at_least_256_bits():
    assert len(hasher("sha256")(b"x")) == 32
    assert hasher("sha3-256")(b"") == hashlib.sha3_256(b"").digest()
    with pytest.raises(ValueError, match="unknown hash algorithm"):
        hasher("md5")


def _mth(leaves):
    """RFC 6962 section 2.1 MTH, written directly from the definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


@given(st.lists(st.binary(max_size=40), max_size=40))
def test_merkle_root_matches_rfc6962_definition(leaves):
    assert merkle.root(leaves) == _mth(leaves)


def test_merkle_rfc6962_known_vector():
    # The empty tree and a one-leaf tree from RFC 6962's test data (certificate-transparency).
    assert merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.root([b""]).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


@given(st.lists(st.binary(max_size=20), min_size=1, max_size=33), st.data())
def test_inclusion_proofs_verify_and_bind_leaf_index_and_root(leaves, data):
    index = data.draw(st.integers(0, len(leaves) - 1))
    root = merkle.root(leaves)
    proof = merkle.inclusion_proof(leaves, index)
    assert merkle.verify_inclusion(leaves[index], index, len(leaves), proof, root)
    assert not merkle.verify_inclusion(leaves[index] + b"x", index, len(leaves), proof, root)
    if len(leaves) > 1:
        other = (index + 1) % len(leaves)
        if leaves[other] != leaves[index]:
            assert not merkle.verify_inclusion(leaves[index], other, len(leaves), proof, root)
    if proof:
        bad = list(proof)
        bad[0] = bytes(32)
        assert not merkle.verify_inclusion(leaves[index], index, len(leaves), bad, root)


def test_leaf_cannot_pose_as_inner_node():
    a, b = b"a", b"b"
    inner = merkle.node_hash(merkle.leaf_hash(a), merkle.leaf_hash(b))
    assert merkle.root([a, b]) == inner
    # the concatenation of the two child hashes, offered as a leaf, gives a different root
    assert merkle.root([merkle.leaf_hash(a) + merkle.leaf_hash(b)]) != inner


def test_signatures_are_domain_separated_by_tag_and_chain():
    s = signing.Signer.generate()
    sig = s.sign("tx", "chain-a", b"payload")
    assert signing.verify(s.public_key, sig, "tx", "chain-a", b"payload")
    assert not signing.verify(s.public_key, sig, "vote", "chain-a", b"payload")
    assert not signing.verify(s.public_key, sig, "tx", "chain-b", b"payload")
    assert not signing.verify(s.public_key, sig, "tx", "chain-a", b"payload!")
    assert not signing.verify(signing.Signer.generate().public_key, sig, "tx", "chain-a", b"payload")
    assert not signing.verify(s.public_key, sig[:10], "tx", "chain-a", b"payload")


def test_signer_is_deterministic_from_seed():
    a, b = signing.Signer(bytes(32)), signing.Signer(bytes(32))
    assert a.public_key == b.public_key
    assert a.sign("tx", "c", b"m") == b.sign("tx", "c", b"m")


payloads = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=10) | st.binary(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(payloads)
def test_codec_round_trips_and_is_canonical(value):
    data = codec.encode(value)
    assert codec.decode(data) == value
    assert codec.encode(codec.decode(data)) == data


def test_codec_sorts_keys_and_refuses_floats_and_non_canonical_bytes():
    assert codec.encode({"b": 1, "a": 2}) == codec.encode({"a": 2, "b": 1})
    with pytest.raises(MalformedInput, match="floats"):
        codec.encode({"amount": 1.5})
    import msgpack

    unsorted = msgpack.packb({"b": 1, "a": 2})
    with pytest.raises(MalformedInput, match="canonical"):
        codec.decode(unsorted)
    with pytest.raises(MalformedInput, match="floats"):
        codec.decode(msgpack.packb(1.0))
    with pytest.raises(MalformedInput, match="canonical"):
        codec.decode(msgpack.packb(5, use_single_float=False)[:0] + b"\xcd\x00\x05")  # 5 as uint16
    with pytest.raises(MalformedInput, match="not valid msgpack"):
        codec.decode(b"\xc1")
