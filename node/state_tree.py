"""The authenticated ledger state: a 16-ary sparse Merkle tree kept in a KeyValueStore.

What it is for: the ledger state is key-value records under one state root (written into
every block header, design decision 3). The root is updated once per block from the batch
of writes, at a cost that grows with the batch and log16(size of the state), never with the
size of the state itself; and it yields proofs of a key's value, or of its absence, that
anyone holding the root can check without the store (`verify_proof`).

May import: node.errors, node.gencache, node.hashing, node.interfaces, node.schema. Pure and
deterministic: no clock, no randomness; the only I/O is through the KeyValueStore handed in.

Shape (after Diem/Aptos's Jellyfish Merkle tree)
- The path of a key is the 64 nibbles of key_hash = H(key), high nibble of each byte first.
- A subtree holding no key is absent, one holding exactly one key is that key's leaf (paths
  are compressed), one holding two or more keys is an internal node with up to 16 children.
  The tree is therefore a function of its set of keys alone (history independence): the
  order of writes, how they were batched, and any deletes in between leave no trace, which
  is what lets every node compare roots after re-executing a block.

Hashes (domain separated, so a leaf can never pass for an internal node; H is injectable and
SHA-256 by default; digests must be 32 bytes)
- leaf:      H(0x00 || H(key) || H(value))
- internal:  H(0x01 || bitmap || child hashes of the present children in nibble order),
             bitmap = 2 bytes big-endian, bit i (value 1 << i) set when child i is present.
- empty tree: EMPTY_ROOT = 32 zero bytes. It is no node's hash (that would need a preimage
  of zero under H), so it cannot be confused with a tree holding something.

Storage: a node is stored under schema.tree_node(height, node_hash), the height of the
block whose update created it, and is never overwritten or deleted, so the state at any past
height is read at that height's root. Each internal node keeps its children's heights next
to their hashes, and schema.tree_root(root) gives the height a root was stored at. Why the
height comes first: LevelDB sorts by key, and hash-keyed nodes landed all over the key
space, so compactions kept merging new nodes into old tables (Jellyfish's NodeKey puts the
version first for the same reason). Measured with bench_state_tree at 10^6 records: commit
of a 1,000-write block 4.7 ms instead of 13 ms, a cold update 45-53 ms instead of 63-79 ms;
a hot update (all nodes cached) costs ~15 % more for the heights it splices.
Encodings (no pickle, one tag byte first):
- leaf:     0x00 || len(key) as 4 bytes big-endian || key || value
- internal: 0x01 || bitmap || child hashes || child heights (8 bytes big-endian each, same
            order). The part before the heights is exactly the hash preimage; the heights
            are where to find the children, not what they are, so they are not hashed: a
            wrong height finds no node (StoreCorrupted), never a different one.
Every node read from the store is checked against the hash it was looked up by; a mismatch
(a record tampered with, or bit rot) raises StoreCorrupted naming the node. Checked nodes
are kept decoded in a bounded cache (two generations, node/gencache.py) so the upper levels
are not re-read per block.

In memory a decoded node is a plain tuple (no per-node objects):
- leaf:     (LEAF, key_hash, key, value)
- internal: (INTERNAL, bitmap, encoding, heights). Child hashes stay inside the encoding
  (the hash preimage) and are sliced out when needed (child i is at 3 + 32 * popcount(bitmap
  below bit i), its height at 8 * that popcount in `heights`), which halves the cache's
  memory against a tuple of 16 separate hashes, makes decoding free, and lets an update
  splice the changed children into the old bytes.
"""

from __future__ import annotations

import bisect
import dataclasses
import struct
from operator import itemgetter
from typing import Any, Callable, Iterator, Mapping

from node import schema
from node.errors import MalformedInput, NotFound, StoreCorrupted
from node.gencache import TwoGenerationCache
from node.hashing import sha256
from node.interfaces import KeyValueStore

HashFn = Callable[[bytes], bytes]

HASH_LEN = 32
EMPTY_ROOT = bytes(HASH_LEN)
MAX_DEPTH = 2 * HASH_LEN  # nibbles in a key hash
KEY_LEN_MAX = 0xFFFFFFFF  # the leaf encoding carries the key length in 4 bytes

LEAF = 0
INTERNAL = 1
_LEAF_TAG = b"\x00"
_INTERNAL_TAG = b"\x01"
_NODE_PREFIX = schema.TREE_NODE_PREFIX
_NODE_KEY_LEN = len(schema.tree_node(0, EMPTY_ROOT))
_ROOT_PREFIX = schema.TREE_ROOT_PREFIX
HEIGHT_LEN = 8
ROOT_HEIGHTS_KEPT = 4096
_U32 = struct.Struct(">I")
_HEX = {c: int(c, 16) for c in "0123456789abcdef"}
_BY_HASH = itemgetter(0)
_BELOW = tuple((1 << n) - 1 for n in range(16))  # bits of the children before child n


# --- encoding ----------------------------------------------------------------------------
def encode_leaf(key: bytes, value: bytes) -> bytes:
    return _LEAF_TAG + _U32.pack(len(key)) + key + value


def encode_internal(children) -> bytes:
    """The hash preimage of an internal node; `children` has 16 entries (hash or None).
    The stored record is this followed by the children's heights (`stored_internal`)."""
    bitmap = 0
    present = []
    for i, child in enumerate(children):
        if child is not None:
            bitmap |= 1 << i
            present.append(child)
    return _INTERNAL_TAG + bitmap.to_bytes(2, "big") + b"".join(present)


def stored_internal(encoding: bytes, heights: bytes) -> bytes:
    """The stored record of an internal node: its hash preimage, then its children's heights."""
    return encoding + heights


def leaf_hash(key_hash: bytes, value_hash: bytes, hash_fn: HashFn = sha256) -> bytes:
    return hash_fn(_LEAF_TAG + key_hash + value_hash)


def decode_node(data: bytes, hash_fn: HashFn = sha256) -> tuple:
    """Decode a stored node into its tuple form; MalformedInput when the bytes are not a node.

    This checks structure only; `node_hash` gives the hash to compare with."""
    if not data:
        raise MalformedInput("state tree node is empty")
    tag = data[0]
    if tag == 0:
        if len(data) < 5:
            raise MalformedInput("state tree leaf is shorter than its header")
        (key_len,) = _U32.unpack_from(data, 1)
        if 5 + key_len > len(data):
            raise MalformedInput("state tree leaf's key runs past its end")
        key = data[5:5 + key_len]
        return (LEAF, hash_fn(key), key, data[5 + key_len:])
    if tag == 1:
        if len(data) < 3:
            raise MalformedInput("state tree internal node is shorter than its bitmap")
        bitmap = (data[1] << 8) | data[2]
        end = 3 + HASH_LEN * bitmap.bit_count()
        if bitmap == 0 or len(data) != end + HEIGHT_LEN * bitmap.bit_count():
            raise MalformedInput("state tree internal node's bitmap does not match its children")
        data = bytes(data)
        return (INTERNAL, bitmap, data[:end], data[end:])
    raise MalformedInput(f"state tree node has unknown tag {tag}")


def _slots(bitmap: int, present: list) -> list:
    """The 16 child slots of an internal node: `present` (in nibble order) where the bitmap
    has a child, None elsewhere."""
    it = iter(present)
    return [next(it) if bitmap >> n & 1 else None for n in range(16)]


def internal_children(node: tuple) -> list[bytes | None]:
    """The 16 child slots (hash or None) of a decoded internal node."""
    data = node[2]
    return _slots(node[1], [data[off:off + HASH_LEN] for off in range(3, len(data), HASH_LEN)])


def internal_heights(node: tuple) -> list[int | None]:
    """The 16 child slots' heights (None where no child) of a decoded internal node."""
    heights = node[3]
    return _slots(node[1], [schema.read_u64(heights[off:off + HEIGHT_LEN]) for off in range(0, len(heights), HEIGHT_LEN)])


def _child(node: tuple, n: int) -> tuple[bytes, bytes] | None:
    """(hash, height as stored: 8 bytes) of child n of an internal node, or None."""
    bitmap = node[1]
    if not bitmap >> n & 1:
        return None
    i = (bitmap & _BELOW[n]).bit_count()
    off = 3 + HASH_LEN * i
    return node[2][off:off + HASH_LEN], node[3][HEIGHT_LEN * i:HEIGHT_LEN * (i + 1)]


def _all_children(node: tuple) -> list[tuple[bytes, bytes]]:
    data, heights = node[2], node[3]
    return [(data[3 + HASH_LEN * i:3 + HASH_LEN * (i + 1)], heights[HEIGHT_LEN * i:HEIGHT_LEN * (i + 1)]) for i in range(len(heights) // HEIGHT_LEN)]


def node_hash(node: tuple, hash_fn: HashFn = sha256) -> bytes:
    """The hash of a decoded node."""
    if node[0] == LEAF:
        return hash_fn(_LEAF_TAG + node[1] + hash_fn(node[3]))
    return hash_fn(node[2])


# --- proofs ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class StateProof:
    """A key's value, or its absence, under a state root.

    `levels` runs from the root down the key's path: for each internal node passed, its
    bitmap and the hashes of its present children other than the one on the path (in nibble
    order). The path then ends in one of three ways:
    - `value` is not None: the key's own leaf (inclusion);
    - `value` is None and `leaf` is None: an empty slot in the last level's bitmap, or an
      empty tree when there are no levels (absence);
    - `value` is None and `leaf` = (key_hash, value_hash) of another leaf sitting where the
      key would be (absence). Only hashes of that other record are disclosed, never its
      key or value.
    """

    # Typed as Any on purpose: a proof is outside data, and verify_proof answers False for a
    # malformed one. Compiled (node/native.py), typed fields would make the constructor
    # raise TypeError instead. What they hold when well formed:
    key: Any  # bytes
    value: Any  # bytes | None
    levels: Any  # tuple[tuple[int, tuple[bytes, ...]], ...]
    leaf: Any = None  # tuple[bytes, bytes] | None

    @property
    def present(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict:
        return {
            "key": self.key.hex(),
            "value": None if self.value is None else self.value.hex(),
            "levels": [
                {"bitmap": bitmap.to_bytes(2, "big").hex(), "siblings": [s.hex() for s in siblings]}
                for bitmap, siblings in self.levels
            ],
            "leaf": None if self.leaf is None else {"key_hash": self.leaf[0].hex(), "value_hash": self.leaf[1].hex()},
        }

    @classmethod
    def from_dict(cls, d) -> "StateProof":
        """Parse `to_dict` output; MalformedInput names the first field that is wrong."""
        if not isinstance(d, Mapping):
            raise MalformedInput("state proof must be an object")
        key = _hex_field(d.get("key"), "key")
        value = None if d.get("value") is None else _hex_field(d["value"], "value")
        raw_levels = d.get("levels")
        if not isinstance(raw_levels, list) or len(raw_levels) > MAX_DEPTH:
            raise MalformedInput(f"state proof 'levels' must be a list of at most {MAX_DEPTH} levels")
        levels = []
        for i, level in enumerate(raw_levels):
            if not isinstance(level, Mapping) or not isinstance(level.get("siblings"), list):
                raise MalformedInput(f"state proof level {i} must have 'bitmap' and a 'siblings' list")
            bitmap = _hex_field(level.get("bitmap"), f"levels[{i}].bitmap", 2)
            siblings = tuple(_hex_field(s, f"levels[{i}].siblings", HASH_LEN) for s in level["siblings"])
            levels.append((int.from_bytes(bitmap, "big"), siblings))
        leaf = d.get("leaf")
        if leaf is not None:
            if not isinstance(leaf, Mapping):
                raise MalformedInput("state proof 'leaf' must be null or an object")
            leaf = (_hex_field(leaf.get("key_hash"), "leaf.key_hash", HASH_LEN), _hex_field(leaf.get("value_hash"), "leaf.value_hash", HASH_LEN))
        return cls(key=key, value=value, levels=tuple(levels), leaf=leaf)


def _hex_field(s, name: str, length: int | None = None) -> bytes:
    if not isinstance(s, str):
        raise MalformedInput(f"state proof field {name} must be a hex string")
    try:
        b = bytes.fromhex(s)
    except ValueError:
        raise MalformedInput(f"state proof field {name} is not valid hex") from None
    if length is not None and len(b) != length:
        raise MalformedInput(f"state proof field {name} must be {length} bytes, not {len(b)}")
    return b


def verify_proof(root: Any, proof: Any, hash_fn: HashFn = sha256) -> bool:
    """True when `proof` shows proof.key holding proof.value (or absent, value None) under
    `root`. Pure: needs no store. Anything malformed is simply False.

    The caller must still check that proof.key is the key it asked about."""
    try:
        return _verify(root, proof, hash_fn)
    except (TypeError, ValueError, AttributeError, IndexError, OverflowError):
        return False


def _verify(root: Any, proof: Any, hash_fn: HashFn) -> bool:
    if not isinstance(root, bytes) or len(root) != HASH_LEN or not isinstance(proof, StateProof):
        return False
    key, value, levels, leaf = proof.key, proof.value, proof.levels, proof.leaf
    if not isinstance(key, bytes) or not (value is None or isinstance(value, bytes)):
        return False
    if not isinstance(levels, (tuple, list)) or len(levels) > MAX_DEPTH:
        return False
    depth = len(levels)
    kh = hash_fn(key)
    hx = kh.hex()
    if value is not None:
        if leaf is not None:
            return False
        node = leaf_hash(kh, hash_fn(value), hash_fn)
    elif leaf is not None:
        other_kh, other_vh = leaf
        if not (isinstance(other_kh, bytes) and isinstance(other_vh, bytes)):
            return False
        if len(other_kh) != HASH_LEN or len(other_vh) != HASH_LEN or other_kh == kh:
            return False
        # A leaf stands at the end of its own key hash's path: it must share ours so far.
        if other_kh.hex()[:depth] != hx[:depth]:
            return False
        node = leaf_hash(other_kh, other_vh, hash_fn)
    else:
        if depth == 0:
            return root == EMPTY_ROOT
        node = None  # the key's slot in the last level is empty
    for d in range(depth - 1, -1, -1):
        bitmap, siblings = levels[d]
        if not isinstance(bitmap, int) or not 0 < bitmap < 1 << 16:
            return False
        if not all(isinstance(s, bytes) and len(s) == HASH_LEN for s in siblings):
            return False
        n = _HEX[hx[d]]
        if node is None:
            if bitmap >> n & 1 or len(siblings) != bitmap.bit_count():
                return False
            children = tuple(siblings)
        else:
            if not bitmap >> n & 1 or len(siblings) != bitmap.bit_count() - 1:
                return False
            pos = (bitmap & ((1 << n) - 1)).bit_count()
            children = tuple(siblings[:pos]) + (node,) + tuple(siblings[pos:])
        node = hash_fn(_INTERNAL_TAG + bitmap.to_bytes(2, "big") + b"".join(children))
    return node == root


# --- the tree ----------------------------------------------------------------------------
class StateTree:
    """Reads, proves and updates state trees stored in `kv`. Holds no root of its own: every
    call names the root it works at, so any past state stays readable.

    `update` never writes: it returns the new nodes for the caller to put in the block's
    atomic batch. Safe to share between threads: the only shared mutable state is the cache.
    `store_reads` counts nodes read from the store (cache misses), for metrics."""

    def __init__(self, kv: KeyValueStore, hash_fn: HashFn = sha256, cache_size: int = 100_000):
        if len(hash_fn(b"")) != HASH_LEN:
            raise ValueError(f"the state tree needs a {HASH_LEN}-byte hash function")
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self._kv = kv
        self._hash = hash_fn
        # Two generations rather than an LRU: a hit is one dict lookup (see node/gencache.py).
        self._cache: TwoGenerationCache[bytes, tuple] | None = TwoGenerationCache(max(2, cache_size)) if cache_size else None
        # Heights roots are stored at (8 bytes), so reads at the head's root, which come
        # once per state key a tx touches, do not read schema.tree_root each time.
        self._root_at: dict[bytes, bytes] = {}
        # Per new root of a recent update: the nodes it made (decoded) and the hashes of the
        # nodes it replaced, for remember(). Several candidate blocks may be prepared before
        # one commits, so this holds a few; remember() clears it.
        self._made: dict[bytes, tuple[dict[bytes, tuple], list[bytes]]] = {}
        self.store_reads = 0
        self.nodes_checked = 0  # nodes decoded and hash-checked (store reads, remembered foreign nodes)

    # --- reading -------------------------------------------------------------------------
    # The public methods check their arguments themselves (MalformedInput, bad input is not
    # a crash): they take Any, or a compiled build would raise TypeError before the check.
    def get(self, root: Any, key: Any) -> bytes | None:
        """The value of `key` in the state at `root`, or None."""
        _check_root(root)
        _check_key(key)
        if root == EMPTY_ROOT:
            return None
        hx = self._hash(key).hex()
        node = self._load_root(root)[0]
        depth = 0
        while node[0] == INTERNAL:
            child = _child(node, _HEX[hx[depth]])
            if child is None:
                return None
            node = self._load(*child)
            depth += 1
        return node[3] if node[2] == key else None

    def prove(self, root: Any, key: Any) -> StateProof:
        """A proof of `key`'s value, or of its absence, under `root` (see StateProof)."""
        _check_root(root)
        _check_key(key)
        if root == EMPTY_ROOT:
            return StateProof(key=key, value=None, levels=())
        hx = self._hash(key).hex()
        node = self._load_root(root)[0]
        levels = []
        depth = 0
        while node[0] == INTERNAL:
            bitmap, data = node[1], node[2]
            n = _HEX[hx[depth]]
            child = _child(node, n)
            if child is None:
                rest = data[3:]
            else:
                off = 3 + HASH_LEN * (bitmap & _BELOW[n]).bit_count()
                rest = data[3:off] + data[off + HASH_LEN:]
            levels.append((bitmap, tuple(rest[i:i + HASH_LEN] for i in range(0, len(rest), HASH_LEN))))
            if child is None:
                return StateProof(key=key, value=None, levels=tuple(levels))
            node = self._load(*child)
            depth += 1
        if node[2] == key:
            return StateProof(key=key, value=node[3], levels=tuple(levels))
        return StateProof(key=key, value=None, levels=tuple(levels), leaf=(node[1], self._hash(node[3])))

    def items(self, root: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) at `root`, in key-hash order. Walks the whole state, so it
        reads around the cache rather than flushing the hot upper levels out of it."""
        for node in self._walk(root):
            if node[0] == LEAF:
                yield node[2], node[3]

    def node_hashes(self, root: bytes) -> Iterator[bytes]:
        """The hash of every node reachable from `root`, parents before children."""
        _check_root(root)
        if root == EMPTY_ROOT:
            return
        yield root
        for node in self._walk(root):
            if node[0] == INTERNAL:
                yield from (nh for nh, _ in _all_children(node))

    def _walk(self, root: bytes) -> Iterator[tuple]:
        _check_root(root)
        if root == EMPTY_ROOT:
            return
        stack = [self._load_root(root, cache=False)[0]]
        while stack:
            node = stack.pop()
            yield node
            if node[0] == INTERNAL:
                for nh, height in reversed(_all_children(node)):
                    stack.append(self._load(nh, height, cache=False))

    # --- updating ------------------------------------------------------------------------
    def update(self, root: Any, updates: Any, *, height: Any) -> tuple[bytes, dict[bytes, bytes]]:
        """Apply the writes of the block at `height` (value None deletes) to the state at `root`.

        Returns (new_root, new_nodes): new_nodes maps store keys to records for the caller to
        write in the block's atomic batch (the new nodes under schema.tree_node(height, hash),
        and the new root's schema.tree_root entry); nothing is written here. Only nodes on the
        paths of the written keys are read or rebuilt, each once. Writes that change nothing
        return `root` and no records. A node whose hash is already stored (a record set back
        to an earlier value) is stored again at `height`; the parent points at that copy."""
        _check_root(root)
        if not isinstance(updates, Mapping):
            raise MalformedInput("state updates must be a mapping of key to value (or None to delete)")
        if not isinstance(height, int) or not 0 <= height < 1 << 64:
            raise MalformedInput("a state update's height is an integer in [0, 2**64)")
        if not updates:
            return root, {}
        h = self._hash
        items = []
        for key, value in updates.items():
            _check_key(key)
            if value is not None and not isinstance(value, bytes):
                raise MalformedInput(f"state value for key {key[:64].hex()} must be bytes or None, not {type(value).__name__}")
            kh = h(key)
            items.append((kh, key, value, kh.hex()))
        items.sort(key=_BY_HASH)
        # New nodes as the update makes them: their store records and, for the cache, decoded.
        out: dict[bytes, bytes] = {}
        made: dict[bytes, tuple] = {}
        replaced: list[bytes] = []  # hashes of the nodes this update replaces
        at = schema.u64(height)
        if root == EMPTY_ROOT:
            inserts = [it for it in items if it[2] is not None]
            res = self._build(inserts, 0, len(inserts), 0, out, made, at) if inserts else None
        else:
            root_node, root_at = self._load_root(root)
            res = self._apply(root_node, root, root_at, 0, items, 0, len(items), out, made, replaced, at)
        new_root = EMPTY_ROOT if res is None else res[0]
        if self._cache is not None:
            if len(self._made) >= 64:  # candidates that never committed
                self._made.clear()
            self._made[new_root] = (made, replaced)
        if new_root != root and res is not None:
            out[schema.tree_root(new_root)] = res[2]
        return new_root, out

    def remember(self, new_nodes: Mapping[bytes, bytes], *, root: bytes | None = None) -> None:
        """Put nodes the caller has just committed into the cache (optional: warms it so the
        next block does not re-read what this one wrote). Nodes from recent `update`s are
        taken as decoded there; any others are checked like a read from the store.

        With `root` (the new root the update made), the nodes that update replaced are
        dropped from the cache's young generation first: only older states still reach them,
        and a cache full of dead path nodes had evicted the live ones (state-tree reads under
        load went to LevelDB ever more often as the chain grew). Those in the old generation
        go at its next rotation (TwoGenerationCache.drop_young says why not sooner)."""
        cache = self._cache
        if cache is None:
            return
        made, replaced = self._made.get(root, (None, ())) if root is not None else (None, ())
        cache.drop_young(replaced)
        root_key = schema.tree_root(root) if root is not None else None
        if made is not None and len(new_nodes) - (root_key in new_nodes) == len(made):
            # The records of the update that made `root`: its decoded nodes go in at once.
            cache.put_many(made)
            assert root is not None and root_key is not None, "made is looked up only by a root"
            if root_key in new_nodes:
                self._note_root_height(root, new_nodes[root_key])
        else:
            recent = [m for m, _ in self._made.values()]
            for store_key, data in new_nodes.items():
                if len(store_key) != _NODE_KEY_LEN or not store_key.startswith(_NODE_PREFIX):
                    if store_key.startswith(_ROOT_PREFIX):
                        self._note_root_height(store_key[len(_ROOT_PREFIX):], data)
                    continue
                nh = store_key[_NODE_KEY_LEN - HASH_LEN:]
                node = next((m[nh] for m in recent if nh in m), None)
                if node is None:
                    node = self._check(nh, data)
                cache.put(nh, node)
        self._made.clear()

    def _apply(self, node: tuple, nh: bytes, nat: bytes, depth: int, items: list, lo: int, hi: int, out: dict, made: dict, replaced: list, at: bytes):
        """The subtree `node` (hash nh, stored at height nat, at `depth`) after items[lo:hi],
        which all lie under it; new nodes are stored at height `at`.
        Returns (hash, is_leaf, height stored at), or None when nothing is left."""
        if node[0] == LEAF:
            return self._merge_leaf(node, nh, nat, depth, items, lo, hi, out, made, replaced, at)
        bitmap, data, heights = node[1], node[2], node[3]
        changes: list[tuple] = []  # (nibble, new child hash or None, new child is a leaf, its height), nibbles ascending
        i = lo
        while i < hi:
            c = items[i][3][depth]
            j = i + 1
            while j < hi and items[j][3][depth] == c:
                j += 1
            n = _HEX[c]
            if bitmap >> n & 1:
                k = (bitmap & _BELOW[n]).bit_count()
                off = 3 + HASH_LEN * k
                child = data[off:off + HASH_LEN]
                child_at = heights[HEIGHT_LEN * k:HEIGHT_LEN * (k + 1)]
                res = self._apply(self._load(child, child_at), child, child_at, depth + 1, items, i, j, out, made, replaced, at)
                if res is None:
                    changes.append((n, None, False, None))
                elif res[0] != child or res[2] != child_at:
                    changes.append((n, res[0], res[1], res[2]))
            else:
                inserts = [it for it in items[i:j] if it[2] is not None]
                if inserts:
                    res = self._build(inserts, 0, len(inserts), depth + 1, out, made, at)
                    changes.append((n, res[0], res[1], res[2]))
            i = j
        if not changes:
            return nh, False, nat
        replaced.append(nh)
        # Splice the changes into the old encoding and heights; each offset is taken from
        # the bitmap as it stands after the changes before it.
        for n, new, _, new_at in changes:
            k = (bitmap & _BELOW[n]).bit_count()
            off = 3 + HASH_LEN * k
            hoff = HEIGHT_LEN * k
            if not bitmap >> n & 1:
                data = data[:off] + new + data[off:]
                heights = heights[:hoff] + new_at + heights[hoff:]
                bitmap |= 1 << n
            elif new is None:
                data = data[:off] + data[off + HASH_LEN:]
                heights = heights[:hoff] + heights[hoff + HEIGHT_LEN:]
                bitmap ^= 1 << n
            else:
                data = data[:off] + new + data[off + HASH_LEN:]
                heights = heights[:hoff] + new_at + heights[hoff + HEIGHT_LEN:]
        if not bitmap:
            return None
        if not bitmap & (bitmap - 1):
            # One child left: if it is a leaf, this subtree holds one key and the leaf moves
            # up in its place (canonical shape, so deletes leave no trace).
            only = data[3:]
            n = bitmap.bit_length() - 1
            kind = [is_leaf for m, new, is_leaf, _ in changes if m == n]
            if kind[0] if kind else self._load(only, heights)[0] == LEAF:
                return only, True, heights
        return self._emit_internal(bitmap, _INTERNAL_TAG + bitmap.to_bytes(2, "big") + data[3:], heights, out, made, at)

    def _merge_leaf(self, node: tuple, nh: bytes, nat: bytes, depth: int, items: list, lo: int, hi: int, out: dict, made: dict, replaced: list, at: bytes):
        """The subtree that was the single leaf `node` (stored at height nat), after items[lo:hi]."""
        existing_kh = node[1]
        entries = []
        keep_existing = True
        for i in range(lo, hi):
            it = items[i]
            if it[0] == existing_kh:
                if it[2] is None:
                    keep_existing = False
                elif it[2] != node[3]:
                    keep_existing = False
                    entries.append(it)
            elif it[2] is not None:
                entries.append(it)
        if not keep_existing:
            replaced.append(nh)
        elif not entries:
            return nh, True, nat
        else:
            # The kept leaf is already stored: an entry with key None carries its hash and
            # the height it is stored at.
            bisect.insort(entries, (existing_kh, None, (nh, nat), existing_kh.hex()), key=_BY_HASH)
        if not entries:
            return None
        return self._build(entries, 0, len(entries), depth, out, made, at)

    def _build(self, entries: list, lo: int, hi: int, depth: int, out: dict, made: dict, at: bytes):
        """A new subtree at `depth` holding entries[lo:hi] (sorted, at least one), its new
        nodes stored at height `at`. Returns (hash, is_leaf, height stored at)."""
        if hi - lo == 1:
            kh, key, value, _ = entries[lo]
            if key is None:
                return value[0], True, value[1]
            return self._emit_leaf(kh, key, value, out, made, at), True, at
        assert depth < MAX_DEPTH, "two state keys with one hash"
        bitmap = 0
        parts = []
        heights = []
        i = lo
        while i < hi:
            c = entries[i][3][depth]
            j = i + 1
            while j < hi and entries[j][3][depth] == c:
                j += 1
            bitmap |= 1 << _HEX[c]
            res = self._build(entries, i, j, depth + 1, out, made, at)
            parts.append(res[0])
            heights.append(res[2])
            i = j
        return self._emit_internal(bitmap, _INTERNAL_TAG + bitmap.to_bytes(2, "big") + b"".join(parts), b"".join(heights), out, made, at)

    def _emit_internal(self, bitmap: int, enc: bytes, heights: bytes, out: dict, made: dict, at: bytes):
        """A new internal node (hash preimage `enc`, its children's `heights`) stored at
        height `at`: its record into `out`, decoded into `made`. Returns (hash, is_leaf,
        height stored at) as _apply and _build do."""
        nh = self._hash(enc)
        out[_NODE_PREFIX + at + nh] = stored_internal(enc, heights)
        made[nh] = (INTERNAL, bitmap, enc, heights)
        return nh, False, at

    def _emit_leaf(self, kh: bytes, key: bytes, value: bytes, out: dict, made: dict, at: bytes) -> bytes:
        h = self._hash
        nh = h(_LEAF_TAG + kh + h(value))
        out[_NODE_PREFIX + at + nh] = _LEAF_TAG + _U32.pack(len(key)) + key + value
        made[nh] = (LEAF, kh, key, value)
        return nh

    # --- loading -------------------------------------------------------------------------
    def _load_root(self, root: bytes, cache: bool = True) -> tuple[tuple, bytes]:
        """The root node and the height (8 bytes) it is stored at."""
        at = self._root_at.get(root)
        if at is None:
            at = self._kv.get(schema.tree_root(root))
            if at is None:
                # A root nobody committed here is a caller's mistake, not damage to the store.
                raise NotFound(f"state root {root.hex()} is not in this store", details={"root": root.hex()})
            if len(at) != HEIGHT_LEN:
                raise StoreCorrupted(f"the height recorded for state root {root.hex()} is not {HEIGHT_LEN} bytes", details={"root": root.hex()})
            self._note_root_height(root, at)
        return self._load(root, at, cache), at

    def _load(self, nh: bytes, at: bytes, cache: bool = True) -> tuple:
        """The node `nh`, stored at height `at` (8 bytes big-endian, as parents keep it)."""
        c = self._cache
        if c is not None:
            node = c.young.get(nh) or c.get(nh)
            if node is not None:
                return node
        data = self._kv.get(_NODE_PREFIX + at + nh)
        self.store_reads += 1
        if data is None:
            height = schema.read_u64(at)
            raise StoreCorrupted(f"state tree node {nh.hex()} is missing from the store (looked for it at height {height})", details={"node": nh.hex(), "height": height})
        node = self._check(nh, data)
        if cache:
            self._remember(nh, node)
        return node

    def _note_root_height(self, root: bytes, at: bytes) -> None:
        if len(self._root_at) >= ROOT_HEIGHTS_KEPT:
            self._root_at.clear()
        self._root_at[root] = at

    def _check(self, nh: bytes, data: bytes) -> tuple:
        self.nodes_checked += 1
        try:
            node = decode_node(data, self._hash)
        except MalformedInput as e:
            raise StoreCorrupted(f"state tree node {nh.hex()} does not decode: {e.message}", details={"node": nh.hex()}) from None
        if node_hash(node, self._hash) != nh:
            raise StoreCorrupted(f"state tree node {nh.hex()} does not match its hash: the stored record was altered", details={"node": nh.hex()})
        return node

    def _remember(self, nh: bytes, node: tuple) -> None:
        if self._cache is not None:
            self._cache.put(nh, node)


def _check_root(root) -> None:
    if not isinstance(root, bytes) or len(root) != HASH_LEN:
        raise MalformedInput(f"a state root is {HASH_LEN} bytes")


def _check_key(key) -> None:
    if not isinstance(key, bytes):
        raise MalformedInput(f"state keys are bytes, not {type(key).__name__}")
    if len(key) > KEY_LEN_MAX:
        raise MalformedInput("state key is too long")
