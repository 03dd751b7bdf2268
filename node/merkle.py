"""RFC 6962 Merkle trees with inclusion proofs (pure).

Leaves are hashed as H(0x00 || data) and inner nodes as H(0x01 || left || right), so a leaf
can never be passed off as an inner node. The tree of an odd number of leaves splits at the
largest power of two below n, exactly as RFC 6962 section 2.1 defines MTH.
"""

from __future__ import annotations

from typing import Callable, Sequence

from node.hashing import sha256

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes, h: Callable[[bytes], bytes] = sha256) -> bytes:
    return h(LEAF_PREFIX + data)


def node_hash(left: bytes, right: bytes, h: Callable[[bytes], bytes] = sha256) -> bytes:
    return h(NODE_PREFIX + left + right)


def empty_root(h: Callable[[bytes], bytes] = sha256) -> bytes:
    return h(b"")


def _split(n: int) -> int:
    """Largest power of two strictly below n (n >= 2)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def root(leaves: Sequence[bytes], h: Callable[[bytes], bytes] = sha256) -> bytes:
    """MTH(D[n]) of RFC 6962 over the raw leaf data."""
    if not leaves:
        return empty_root(h)
    level = [leaf_hash(x, h) for x in leaves]
    return _root_of_hashes(level, h)


def _root_of_hashes(hashes: Sequence[bytes], h: Callable[[bytes], bytes]) -> bytes:
    n = len(hashes)
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(_root_of_hashes(hashes[:k], h), _root_of_hashes(hashes[k:], h), h)


def inclusion_proof(leaves: Sequence[bytes], index: int, h: Callable[[bytes], bytes] = sha256) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962: the audit path of leaf `index`, leaf-side first."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} out of range 0..{len(leaves) - 1}")
    hashes = [leaf_hash(x, h) for x in leaves]
    return _path(index, hashes, h)


def _path(m: int, hashes: Sequence[bytes], h: Callable[[bytes], bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return _path(m, hashes[:k], h) + [_root_of_hashes(hashes[k:], h)]
    return _path(m - k, hashes[k:], h) + [_root_of_hashes(hashes[:k], h)]


def verify_inclusion(
    leaf: bytes,
    index: int,
    size: int,
    proof: Sequence[bytes],
    expected_root: bytes,
    h: Callable[[bytes], bytes] = sha256,
) -> bool:
    """True when `proof` shows that `leaf` is at `index` of a tree of `size` with `expected_root`.

    The verification algorithm of RFC 9162 section 2.1.3.2.
    """
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash(leaf, h)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r, h)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p, h)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root
