"""Tests of node/state_tree.py: the authenticated state tree, on LevelDB and in memory.

Roots are checked against a reference written here straight from the hash definitions, so
the tree's incremental updates are compared with a from-scratch computation.
"""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node import schema
from node.errors import MalformedInput, NotFound, StoreCorrupted
from node.hashing import hasher, sha256
from node.kv import LevelDBStore, MemoryStore
from node.state_tree import (
    EMPTY_ROOT,
    StateProof,
    StateTree,
    decode_node,
    encode_internal,
    encode_leaf,
    internal_children,
    internal_heights,
    stored_internal,
    verify_proof,
)

BACKENDS = ["leveldb", "memory"]
HYP = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- fixtures ----------------------------------------------------------------------------
@pytest.fixture(params=BACKENDS)
def make_kv(request, tmp_path):
    """A factory of fresh, empty stores of one backend (a new one per call, so hypothesis
    examples never share nodes)."""
    opened = []
    counter = itertools.count()

    def make():
        if request.param == "leveldb":
            kv = LevelDBStore(tmp_path / f"db{next(counter)}")
        else:
            kv = MemoryStore()
        opened.append(kv)
        # A hypothesis test asks for up to two stores per example: close older ones so that
        # a hundred examples do not hold a hundred open databases.
        while len(opened) > 3:
            opened.pop(0).close()
        return kv

    yield make
    for kv in opened:
        kv.close()


@pytest.fixture
def kv(make_kv):
    return make_kv()


# --- helpers -----------------------------------------------------------------------------
def nibble(kh: bytes, depth: int) -> int:
    b = kh[depth // 2]
    return b >> 4 if depth % 2 == 0 else b & 0x0F


def ref_root(state: dict, h=sha256) -> bytes:
    """The root of `state` computed from scratch, straight from the definitions."""

    def node(entries, depth):
        if len(entries) == 1:
            kh, vh = entries[0]
            return h(b"\x00" + kh + vh)
        groups: dict[int, list] = {}
        for e in entries:
            groups.setdefault(nibble(e[0], depth), []).append(e)
        bitmap = sum(1 << n for n in groups)
        return h(b"\x01" + bitmap.to_bytes(2, "big") + b"".join(node(groups[n], depth + 1) for n in sorted(groups)))

    entries = sorted((h(k), h(v)) for k, v in state.items())
    return node(entries, 0) if entries else bytes(32)


NODE_KEY_LEN = len(schema.tree_node(0, bytes(32)))
HEIGHTS = itertools.count(1)  # block heights for the helpers' updates (any will do, ascending)


def node_records(records: dict) -> dict[bytes, bytes]:
    """The tree nodes among what update returned, by store key (without the root's entry)."""
    return {k: v for k, v in records.items() if k.startswith(schema.TREE_NODE_PREFIX)}


def node_hash_of(store_key: bytes) -> bytes:
    return store_key[NODE_KEY_LEN - 32:]


def height_of(store_key: bytes) -> int:
    return schema.read_u64(store_key[len(schema.TREE_NODE_PREFIX):len(schema.TREE_NODE_PREFIX) + 8])


def commit(tree: StateTree, kv, root: bytes, updates: dict, height: int | None = None) -> bytes:
    """Update, check what update returned, write it as the chain would, return the root."""
    height = next(HEIGHTS) if height is None else height
    new_root, nodes = tree.update(root, updates, height=height)
    for k, v in nodes.items():
        assert isinstance(v, bytes)
        if k.startswith(schema.TREE_NODE_PREFIX):
            assert len(k) == NODE_KEY_LEN and height_of(k) == height, "a new node is stored under its block's height"
        else:
            assert k == schema.tree_root(new_root) and new_root != root and len(v) == 8
    assert (schema.tree_root(new_root) in nodes) == (new_root not in (root, EMPTY_ROOT))
    kv.write(nodes)
    tree.remember(nodes)
    reachable = set(tree.node_hashes(new_root))
    assert {node_hash_of(k) for k in node_records(nodes)} <= reachable, "update returned unreachable nodes"
    return new_root


def apply(model: dict, updates: dict) -> dict:
    out = dict(model)
    for k, v in updates.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def build(kv, state: dict, tree: StateTree | None = None) -> tuple[StateTree, bytes]:
    tree = tree or StateTree(kv)
    return tree, commit(tree, kv, EMPTY_ROOT, state)


def stored_nodes(kv) -> dict[bytes, bytes]:
    """Stored node records by node hash (a node stored at two heights holds the same bytes)."""
    return {node_hash_of(k): v for k, v in kv.iterate(schema.TREE_NODE_PREFIX)}


def stored_keys(kv) -> dict[bytes, bytes]:
    """The store key of each stored node, by node hash."""
    return {node_hash_of(k): k for k, _ in kv.iterate(schema.TREE_NODE_PREFIX)}


def keys_with_nibbles(first: list[int], count: int = 1, start: int = 0) -> list[bytes]:
    """Keys whose hashes start with the nibbles in `first` (found by counting, deterministic)."""
    out = []
    for i in itertools.count(start):
        k = b"k%d" % i
        kh = sha256(k)
        if all(nibble(kh, d) == n for d, n in enumerate(first)):
            out.append(k)
            if len(out) == count:
                return out


KEYS = st.sampled_from([b"k%d" % i for i in range(40)] + [b"", b"\x00", b"parcel/01:001:002:0034"])
VALUES = st.binary(max_size=6)
BATCH = st.dictionaries(KEYS, st.one_of(st.none(), VALUES), max_size=12)
STATE = st.dictionaries(KEYS, VALUES, max_size=30)


# --- shape and hashes --------------------------------------------------------------------
def test_empty_tree(kv):
    tree = StateTree(kv)
    assert EMPTY_ROOT == bytes(32)
    assert tree.get(EMPTY_ROOT, b"anything") is None
    assert list(tree.items(EMPTY_ROOT)) == []
    assert list(tree.node_hashes(EMPTY_ROOT)) == []
    assert tree.update(EMPTY_ROOT, {}, height=1) == (EMPTY_ROOT, {})
    assert tree.update(EMPTY_ROOT, {b"a": None}, height=1) == (EMPTY_ROOT, {})
    proof = tree.prove(EMPTY_ROOT, b"a")
    assert proof.value is None and proof.levels == () and verify_proof(EMPTY_ROOT, proof)
    assert not verify_proof(sha256(b"x"), proof)


def test_single_key_root_is_its_leaf(kv):
    tree, root = build(kv, {b"key": b"value"})
    assert root == sha256(b"\x00" + sha256(b"key") + sha256(b"value"))
    assert stored_nodes(kv) == {root: encode_leaf(b"key", b"value")}


def test_internal_node_hash_and_encoding(kv):
    # Two keys whose hashes start with nibbles 3 and 10: one internal node with two leaves.
    (a,) = keys_with_nibbles([3])
    (b,) = keys_with_nibbles([10])
    tree, root = build(kv, {a: b"1", b: b"2"})
    la = sha256(b"\x00" + sha256(a) + sha256(b"1"))
    lb = sha256(b"\x00" + sha256(b) + sha256(b"2"))
    bitmap = (1 << 3) | (1 << 10)
    assert root == sha256(b"\x01" + bitmap.to_bytes(2, "big") + la + lb)
    children = [None] * 16
    children[3], children[10] = la, lb
    assert encode_internal(children) == b"\x01" + bitmap.to_bytes(2, "big") + la + lb
    # Stored: the hash preimage, then where each child is stored (this build's height).
    at = height_of(stored_keys(kv)[root])
    assert stored_nodes(kv)[root] == stored_internal(encode_internal(children), schema.u64(at) * 2)
    assert internal_heights(decode_node(stored_nodes(kv)[root])) == [at if c else None for c in children]


def test_keys_sharing_a_prefix_hang_below_single_child_internal_nodes(kv):
    # Two keys sharing their first two nibbles: root and its one child are internal nodes
    # with a single child; the leaves split at the third nibble.
    a, b = keys_with_nibbles([5, 7], count=2)
    tree, root = build(kv, {a: b"1", b: b"2"})
    assert root == ref_root({a: b"1", b: b"2"})
    node = decode_node(stored_nodes(kv)[root])
    assert [i for i, c in enumerate(internal_children(node)) if c] == [5]
    assert len(tree.prove(root, a).levels) == 3
    # Deleting one collapses the whole chain: the other leaf becomes the root.
    root2 = commit(tree, kv, root, {b: None})
    assert root2 == ref_root({a: b"1"}) == sha256(b"\x00" + sha256(a) + sha256(b"1"))


def test_known_root_vector(kv):
    # Pinned so that a change to the hashing or shape of the tree cannot go unnoticed.
    state = {b"a": b"1", b"b": b"2", b"c": b"3"}
    tree, root = build(kv, state)
    assert root.hex() == "05fe94f3fdda5daa273b7aa5efccf10003fde5edde53514b1d45d41e8b6bd0ea"
    assert root == ref_root(state)


def test_hash_function_is_injectable(kv):
    sha3 = hasher("sha3-256")
    state = {b"k%d" % i: b"v%d" % i for i in range(50)}
    tree = StateTree(kv, hash_fn=sha3)
    root = commit(tree, kv, EMPTY_ROOT, state)
    assert root == ref_root(state, sha3) != ref_root(state)
    proof = tree.prove(root, b"k7")
    assert verify_proof(root, proof, sha3)
    assert not verify_proof(root, proof)  # checked with SHA-256 it fails
    assert StateTree(kv, hash_fn=sha3).get(root, b"k7") == b"v7"
    with pytest.raises(StoreCorrupted):
        StateTree(kv).get(root, b"k7")  # nodes do not match their SHA-256 hashes
    with pytest.raises(ValueError):
        StateTree(kv, hash_fn=lambda b: hashlib.sha512(b).digest())


# --- against the model -------------------------------------------------------------------
@HYP
@given(batches=st.lists(BATCH, min_size=1, max_size=8))
def test_sequence_of_blocks_matches_model(make_kv, batches):
    kv = make_kv()
    tree = StateTree(kv)
    root, model = EMPTY_ROOT, {}
    history = [(root, model)]
    for updates in batches:
        root = commit(tree, kv, root, updates)
        model = apply(model, updates)
        history.append((root, model))
        assert root == ref_root(model)
        for k in {*model, *updates, b"never-set"}:
            assert tree.get(root, k) == model.get(k)
        assert list(tree.items(root)) == sorted(model.items(), key=lambda kv_: sha256(kv_[0]))
    # Every old root still reads as it was, also through a tree with a cold cache.
    cold = StateTree(kv, cache_size=0)
    for old_root, old_model in history:
        assert dict(cold.items(old_root)) == old_model
        for k in old_model:
            assert cold.get(old_root, k) == old_model[k]


@HYP
@given(state=STATE, data=st.data())
def test_root_is_independent_of_order_and_batching(make_kv, state, data):
    one_batch = build(make_kv(), state)[1]
    pairs = data.draw(st.permutations(sorted(state.items())))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(pairs)), max_size=6)))
    kv = make_kv()
    tree, root = StateTree(kv), EMPTY_ROOT
    for lo, hi in zip([0, *cuts], [*cuts, len(pairs)]):
        root = commit(tree, kv, root, dict(pairs[lo:hi]))
    assert root == one_batch == ref_root(state)


@HYP
@given(keep=STATE, extra=STATE, data=st.data())
def test_history_independence_under_deletes(make_kv, keep, extra, data):
    """Adding keys and deleting them again leaves exactly the tree of the remaining keys."""
    extra = {k: v for k, v in extra.items() if k not in keep}
    kv = make_kv()
    tree = StateTree(kv)
    root = commit(tree, kv, EMPTY_ROOT, {**keep, **extra})
    doomed = data.draw(st.permutations(sorted(extra)))
    cut = data.draw(st.integers(0, len(doomed)))
    for part in (doomed[:cut], doomed[cut:]):
        root = commit(tree, kv, root, dict.fromkeys(part))
    fresh_kv = make_kv()
    fresh_root = build(fresh_kv, keep)[1]
    assert root == fresh_root == ref_root(keep)
    assert set(tree.node_hashes(root)) == set(StateTree(fresh_kv).node_hashes(fresh_root))
    # Deleting everything gives the empty root back.
    assert commit(tree, kv, root, dict.fromkeys(keep)) == EMPTY_ROOT


def test_deletes_and_inserts_in_one_batch(kv):
    state = {b"k%d" % i: b"v" for i in range(300)}
    tree, root = build(kv, state)
    updates = {**{b"k%d" % i: None for i in range(0, 300, 2)}, **{b"n%d" % i: b"new" for i in range(100)}, b"k1": b"changed"}
    root = commit(tree, kv, root, updates)
    assert root == ref_root(apply(state, updates))


def test_update_with_no_effective_change_returns_same_root_and_no_nodes(kv):
    state = {b"k%d" % i: b"v%d" % i for i in range(200)}
    tree, root = build(kv, state)
    before = stored_nodes(kv)
    noop = {b"k3": b"v3", b"k150": b"v150", b"absent": None, b"also-absent": None}
    assert tree.update(root, noop, height=7) == (root, {})
    assert tree.update(root, {}, height=7) == (root, {})
    assert stored_nodes(kv) == before


def test_update_does_not_write_and_reads_only_committed_nodes(kv):
    tree, root = build(kv, {b"a": b"1", b"b": b"2"})
    before = stored_nodes(kv)
    new_root, nodes = tree.update(root, {b"c": b"3"}, height=next(HEIGHTS))
    assert stored_nodes(kv) == before and nodes
    with pytest.raises(NotFound):
        tree.get(new_root, b"c")  # not committed: not readable
    with pytest.raises(NotFound):
        tree.update(new_root, {b"d": b"4"}, height=next(HEIGHTS))
    kv.write(nodes)
    assert tree.get(new_root, b"c") == b"3"


def test_resetting_an_old_value_is_harmless(kv):
    tree, root0 = build(kv, {b"a": b"1", b"b": b"2"})
    root1 = commit(tree, kv, root0, {b"a": b"changed"})
    root2, nodes = tree.update(root1, {b"a": b"1"}, height=next(HEIGHTS))
    assert root2 == root0
    stored = stored_nodes(kv)
    for k, v in node_records(nodes).items():  # a node made again has the bytes stored before,
        assert stored[node_hash_of(k)][:3] == v[:3]  # apart from where its children are
        assert decode_node(stored[node_hash_of(k)])[:3] == decode_node(v)[:3]
    kv.write(nodes)
    assert StateTree(kv, cache_size=0).get(root2, b"a") == b"1"
    assert StateTree(kv, cache_size=0).get(root1, b"a") == b"changed"


# --- storage keys: by height first ------------------------------------------------------------
def test_each_blocks_nodes_sort_after_all_older_ones_and_read_back_cold(kv):
    """Nodes are stored under (height, hash), so LevelDB's compactions can move a block's
    tables down the levels whole instead of merging them into older ones."""
    tree = StateTree(kv)
    model: dict = {}
    roots = {}
    root = EMPTY_ROOT
    for height in range(1, 8):
        updates = {b"k%d" % (i * height % 97): b"v%d" % height for i in range(30)}
        updates[b"k%d" % height] = None
        root = commit(tree, kv, root, updates, height=height)
        model = apply(model, updates)
        roots[height] = (root, dict(model))
    stored = [height_of(k) for k, _ in kv.iterate(schema.TREE_NODE_PREFIX)]
    assert stored == sorted(stored) and set(stored) == set(range(1, 8))
    cold = StateTree(kv, cache_size=0)
    for height, (root, state) in roots.items():
        assert schema.read_u64(kv.get(schema.tree_root(root))) <= height
        assert dict(cold.items(root)) == state


def test_tree_nodes_are_the_last_table_of_the_key_space():
    """New nodes are then the largest keys of the whole store, which is what lets LevelDB
    move their tables down whole (node/schema.py): a table added after them would undo it."""
    others = [v for name, v in vars(schema).items() if isinstance(v, bytes) and v.startswith(schema.VERSION) and (name.endswith("_PREFIX") or name.startswith("META_"))]  # LevelDB keys, not state keys
    others.remove(schema.TREE_NODE_PREFIX)
    assert len(others) >= 10  # the filter finds the tables
    for prefix in others:
        assert prefix < schema.TREE_NODE_PREFIX and not schema.TREE_NODE_PREFIX.startswith(prefix[:3]), prefix
        # Any key of another table, however long, sorts before every tree node.
        assert prefix + b"\xff" * 64 < schema.tree_node(0, bytes(32))


def test_a_leaf_moved_up_by_a_delete_is_found_where_it_was_stored(kv):
    (a,) = keys_with_nibbles([2])
    (b,) = keys_with_nibbles([9])
    tree = StateTree(kv)
    root1 = commit(tree, kv, EMPTY_ROOT, {a: b"1", b: b"2"}, height=1)
    new_root, records = tree.update(root1, {b: None}, height=2)
    # The new root is a's leaf, stored at height 1: nothing new but where to find the root.
    assert new_root == sha256(b"\x00" + sha256(a) + sha256(b"1"))
    assert records == {schema.tree_root(new_root): schema.u64(1)}
    kv.write(records)
    assert StateTree(kv, cache_size=0).get(new_root, a) == b"1"
    # A key added next to a lone root leaf: the new root points at the old leaf's height.
    root3 = commit(tree, kv, new_root, {b: b"3"}, height=3)
    node = decode_node(stored_nodes(kv)[root3])
    assert internal_heights(node)[2] == 1 and internal_heights(node)[9] == 3
    assert dict(StateTree(kv, cache_size=0).items(root3)) == {a: b"1", b: b"3"}


def test_a_wrong_root_height_is_store_damage_not_another_state(kv):
    tree, root = build(kv, {b"k%d" % i: b"v" for i in range(50)})
    kv.write({schema.tree_root(root): schema.u64(10**6)})
    with pytest.raises(StoreCorrupted, match="missing") as e:
        StateTree(kv).get(root, b"k1")
    assert e.value.details["node"] == root.hex()
    kv.write({schema.tree_root(root): b"\x00\x01"})
    with pytest.raises(StoreCorrupted, match="8 bytes"):
        StateTree(kv).get(root, b"k1")


# --- cost is bounded by the path, not the state --------------------------------------------
@pytest.mark.parametrize("size", [300, 3000])
def test_one_write_touches_only_its_path(kv, size):
    state = {b"k%d" % i: b"v" for i in range(size)}
    tree, root = build(kv, state)
    for key in (b"k17", b"k%d" % (size - 1)):
        depth = len(tree.prove(root, key).levels)
        assert depth <= 4
        cold = StateTree(kv, cache_size=0)
        new_root, nodes = cold.update(root, {key: b"changed"}, height=next(HEIGHTS))
        assert cold.store_reads == depth + 1  # the path's internal nodes and the leaf
        assert len(node_records(nodes)) == depth + 1  # each rebuilt once
        assert len(nodes) == depth + 2  # and the new root's height
        assert new_root == ref_root({**state, key: b"changed"})


def test_shared_upper_nodes_are_rebuilt_once_per_batch(kv):
    state = {b"k%d" % i: b"v" for i in range(2000)}
    tree, root = build(kv, state)
    updates = {b"k%d" % i: b"w" for i in range(0, 2000, 20)}  # 100 modifications
    positions = set()  # internal nodes on the written paths, by their nibble prefix
    for k in updates:
        depth = len(tree.prove(root, k).levels)
        positions.update(sha256(k).hex()[:d] for d in range(depth))
    assert "" in positions and len(positions) < 100 * 3  # the paths share their upper nodes
    cold = StateTree(kv, cache_size=0)
    _, nodes = cold.update(root, updates, height=next(HEIGHTS))
    internal = sum(1 for v in node_records(nodes).values() if v[0] == 1)
    leaves = sum(1 for v in node_records(nodes).values() if v[0] == 0)
    assert (internal, leaves) == (len(positions), len(updates))
    assert cold.store_reads == len(positions) + len(updates)  # each node on the paths read once


# --- cache ---------------------------------------------------------------------------------
def test_cache_is_bounded_and_remember_warms_it(kv):
    state = {b"k%d" % i: b"v" for i in range(500)}
    small = StateTree(kv, cache_size=8)
    root = commit(small, kv, EMPTY_ROOT, state)
    for k in state:
        small.get(root, k)
    assert len(small._cache) <= 8

    tree = StateTree(kv)
    new_root, nodes = tree.update(root, {b"k1": b"w", b"fresh": b"x"}, height=next(HEIGHTS))
    kv.write(nodes)
    tree.remember(nodes)
    reads = tree.store_reads
    assert tree.get(new_root, b"k1") == b"w" and tree.get(new_root, b"fresh") == b"x"
    assert tree.store_reads == reads  # the new path came from the cache
    # remember() checks nodes it did not build itself.
    other = StateTree(kv)
    with pytest.raises(StoreCorrupted):
        other.remember({schema.tree_node(1, b"\x07" * 32): encode_leaf(b"a", b"b")})
    other.remember(nodes)  # genuine nodes are accepted
    assert other.get(new_root, b"fresh") == b"x" and other.store_reads == 0

    # Two candidate blocks prepared on one root, the first one committed: its nodes are
    # remembered as built, without reading or re-checking anything.
    third = StateTree(kv)
    h = next(HEIGHTS)
    root_a, nodes_a = third.update(new_root, {b"k2": b"a"}, height=h)
    root_b, nodes_b = third.update(new_root, {b"k2": b"b"}, height=h)
    kv.write(nodes_a)
    checked = third.nodes_checked
    third.remember(nodes_a)
    assert third.nodes_checked == checked  # nothing decoded or hash-checked again
    reads = third.store_reads
    assert third.get(root_a, b"k2") == b"a" and third.store_reads == reads
    assert root_b != root_a and nodes_b


def test_when_a_later_candidate_commits_only_its_nodes_enter_the_cache(kv):
    """Round 0's candidate is prepared, round 1's commits: remember(root=...) takes the
    committed update's nodes, never the abandoned one's (their records were never written,
    so a cached one would point at children the store does not have)."""
    tree = StateTree(kv)
    root = commit(tree, kv, EMPTY_ROOT, {b"k%d" % i: b"v" for i in range(200)})
    h = next(HEIGHTS)
    root_a, nodes_a = tree.update(root, {b"k7": b"round 0", b"only-a": b"x"}, height=h)
    root_b, nodes_b = tree.update(root, {b"k7": b"round 1"}, height=h)
    kv.write(nodes_b)
    tree.remember(nodes_b, root=root_b)
    a_only = {node_hash_of(k) for k in node_records(nodes_a)} - {node_hash_of(k) for k in node_records(nodes_b)}
    assert a_only and not a_only & set(tree._cache)
    assert {node_hash_of(k) for k in node_records(nodes_b)} <= set(tree._cache)
    reads = tree.store_reads
    assert tree.get(root_b, b"k7") == b"round 1" and tree.get(root_b, b"only-a") is None
    assert tree.store_reads == reads
    assert StateTree(kv, cache_size=0).get(root_b, b"k7") == b"round 1"


def test_remember_with_root_drops_the_nodes_that_update_replaced(kv):
    """Committing a block evicts the path nodes it replaced from the cache's young generation
    (where all of them are here), so the cache keeps live nodes rather than filling with dead
    ones; older states still read correctly from the store."""
    state = {b"k%d" % i: b"v%d" % i for i in range(300)}
    tree = StateTree(kv)
    root = commit(tree, kv, EMPTY_ROOT, state)
    for k in state:  # every node of the tree is now cached
        assert tree.get(root, k) == state[k]
    before = set(tree._cache)
    new_root, nodes = tree.update(root, {b"k1": b"changed", b"k2": None, b"new": b"x"}, height=next(HEIGHTS))
    kv.write(nodes)
    tree.remember(nodes, root=new_root)
    new_hashes = {node_hash_of(key) for key in node_records(nodes)}
    dropped = before - set(tree._cache)
    # The old root, the old leaves of k1 and k2 and the internal nodes above them are gone;
    # nothing the new tree still uses was dropped.
    assert root in dropped and len(dropped) >= 3
    assert new_hashes <= set(tree._cache)
    reads = tree.store_reads
    expected = {**state, b"k1": b"changed", b"new": b"x"}
    del expected[b"k2"]
    for k, v in expected.items():
        assert tree.get(new_root, k) == v
    assert tree.get(new_root, b"k2") is None
    assert tree.store_reads == reads  # the whole new tree is served from the cache
    # The old state is intact: read from the store.
    assert tree.get(root, b"k1") == b"v1" and tree.get(root, b"k2") == b"v2"
    assert tree.store_reads > reads
    # Without the root (a caller that does not say what it committed) nothing is dropped.
    other = StateTree(kv)
    r2, n2 = other.update(new_root, {b"k3": b"y"}, height=next(HEIGHTS))
    for k in expected:
        other.get(new_root, k)
    cached = set(other._cache)
    other.remember(n2)
    assert cached <= set(other._cache)


# --- proofs ------------------------------------------------------------------------------
@pytest.fixture
def proven(kv):
    """A tree of 300 keys and one proof of each kind: inclusion, absence at an empty slot,
    absence at another key's leaf."""
    state = {b"k%d" % i: b"value %d" % i for i in range(300)}
    tree, root = build(kv, state)
    proofs = {"inclusion": tree.prove(root, b"k42")}
    for i in itertools.count():
        p = tree.prove(root, b"absent%d" % i)
        kind = "absent-slot" if p.leaf is None else "absent-leaf"
        proofs.setdefault(kind, p)
        if len(proofs) == 3:
            break
    return tree, root, state, proofs


def test_proofs_verify_for_present_and_absent_keys(proven):
    tree, root, state, proofs = proven
    assert proofs["inclusion"].value == b"value 42" and proofs["inclusion"].present
    for k, v in state.items():
        p = tree.prove(root, k)
        assert p.value == v and p.leaf is None and verify_proof(root, p)
    kinds = set()
    for i in range(300):
        p = tree.prove(root, b"absent%d" % i)
        assert p.value is None and not p.present and verify_proof(root, p)
        kinds.add(p.leaf is None)
        if p.leaf is not None:
            # An absence proof shows only hashes of the neighbouring record.
            assert p.leaf[0] in {sha256(k) for k in state} and b"value" not in p.leaf[1]
    assert kinds == {True, False}


def test_proof_round_trips_through_json(proven):
    tree, root, _, proofs = proven
    for p in proofs.values():
        d = json.loads(json.dumps(p.to_dict()))
        assert StateProof.from_dict(d) == p
        assert verify_proof(root, StateProof.from_dict(d))


def _byte_tampers(proof: StateProof):
    """Every single-byte change (xor 0x01 and xor 0x80) of every field of the proof."""

    def flips(b: bytes):
        for i in range(len(b)):
            for x in (0x01, 0x80):
                yield b[:i] + bytes([b[i] ^ x]) + b[i + 1:]

    r = lambda **kw: StateProof(**{**dataclasses_asdict(proof), **kw})
    for k in flips(proof.key):
        yield r(key=k)
    if proof.value is not None:
        for v in flips(proof.value):
            yield r(value=v)
    for li, (bitmap, siblings) in enumerate(proof.levels):
        for bm in flips(bitmap.to_bytes(2, "big")):
            yield r(levels=proof.levels[:li] + ((int.from_bytes(bm, "big"), siblings),) + proof.levels[li + 1:])
        for si, s in enumerate(siblings):
            for s2 in flips(s):
                sib = siblings[:si] + (s2,) + siblings[si + 1:]
                yield r(levels=proof.levels[:li] + ((bitmap, sib),) + proof.levels[li + 1:])
    if proof.leaf is not None:
        for kh in flips(proof.leaf[0]):
            yield r(leaf=(kh, proof.leaf[1]))
        for vh in flips(proof.leaf[1]):
            yield r(leaf=(proof.leaf[0], vh))


def dataclasses_asdict(p: StateProof) -> dict:
    return {"key": p.key, "value": p.value, "levels": p.levels, "leaf": p.leaf}


@pytest.mark.parametrize("kind", ["inclusion", "absent-slot", "absent-leaf"])
def test_proof_fails_under_any_single_byte_tamper(proven, kind):
    _, root, _, proofs = proven
    proof = proofs[kind]
    assert verify_proof(root, proof)
    count = 0
    for bad in _byte_tampers(proof):
        assert not verify_proof(root, bad), bad
        count += 1
    assert count > 100
    # Structural tampers: a level dropped or added, a sibling dropped, the wrong root.
    assert not verify_proof(root, StateProof(proof.key, proof.value, proof.levels[1:], proof.leaf))
    assert not verify_proof(root, StateProof(proof.key, proof.value, proof.levels + proof.levels[-1:], proof.leaf))
    bitmap, siblings = proof.levels[-1]
    assert not verify_proof(root, StateProof(proof.key, proof.value, proof.levels[:-1] + ((bitmap, siblings[1:]),), proof.leaf))
    assert not verify_proof(sha256(root), proof)


def test_proof_kinds_cannot_be_swapped_or_reused_for_another_key(proven):
    tree, root, _, proofs = proven
    inc, slot, leaf = proofs["inclusion"], proofs["absent-slot"], proofs["absent-leaf"]
    # Inclusion presented as absence (with or without the key's own leaf as "the other").
    assert not verify_proof(root, StateProof(inc.key, None, inc.levels))
    assert not verify_proof(root, StateProof(inc.key, None, inc.levels, (sha256(inc.key), sha256(inc.value))))
    assert not verify_proof(root, StateProof(inc.key, inc.value, inc.levels, (sha256(inc.key), sha256(inc.value))))
    # ... or with the key's own node slipped in among the last level's siblings, so that
    # the last node hashes right but the key's slot is claimed empty.
    for p, own in ((inc, sha256(b"\x00" + sha256(inc.key) + sha256(inc.value))), (leaf, sha256(b"\x00" + leaf.leaf[0] + leaf.leaf[1]))):
        bitmap, siblings = p.levels[-1]
        n = nibble(sha256(p.key), len(p.levels) - 1)
        pos = (bitmap & ((1 << n) - 1)).bit_count()
        full = p.levels[:-1] + ((bitmap, siblings[:pos] + (own,) + siblings[pos:]),)
        assert not verify_proof(root, StateProof(p.key, None, full))
    # Absence presented as inclusion.
    for p in (slot, leaf):
        assert not verify_proof(root, StateProof(p.key, b"forged", p.levels))
        assert not verify_proof(root, StateProof(p.key, b"", p.levels, p.leaf))
    # A proof relabelled for another key, present or absent.
    assert not verify_proof(root, StateProof(b"k43", inc.value, inc.levels))
    assert not verify_proof(root, StateProof(b"k43", None, slot.levels))
    assert not verify_proof(root, StateProof(b"k43", None, leaf.levels, leaf.leaf))
    # An absence proof naming the other leaf for a key outside that leaf's prefix.
    other = next(b"x%d" % i for i in itertools.count() if sha256(b"x%d" % i).hex()[0] != sha256(leaf.key).hex()[0])
    assert not verify_proof(root, StateProof(other, None, leaf.levels, leaf.leaf))
    # The state after a change no longer accepts the old proof of the old value.
    new_root, nodes = tree.update(root, {inc.key: b"new"}, height=next(HEIGHTS))
    assert not verify_proof(new_root, inc)


@HYP
@given(state=STATE, key=KEYS)
def test_random_proofs_match_the_model(make_kv, state, key):
    kv = make_kv()
    tree, root = build(kv, state)
    proof = tree.prove(root, key)
    assert proof.key == key and proof.value == state.get(key)
    assert verify_proof(root, proof)
    assert verify_proof(root, StateProof.from_dict(json.loads(json.dumps(proof.to_dict()))))


def test_malformed_proofs_are_rejected_not_raised(proven):
    _, root, _, proofs = proven
    p = proofs["inclusion"]
    for bad in (
        StateProof("k42", p.value, p.levels),
        StateProof(p.key, 42, p.levels),
        StateProof(p.key, p.value, ((1 << 16, ()),)),
        StateProof(p.key, p.value, (("ffff", ()),)),
        StateProof(p.key, p.value, ((p.levels[0][0], ("short",)),)),
        StateProof(p.key, None, p.levels, ("not", "hashes")),
        StateProof(p.key, None, p.levels, (b"x" * 32,)),
    ):
        assert verify_proof(root, bad) is False
    assert verify_proof(b"short", p) is False
    assert verify_proof(root, "not a proof") is False
    for bad_dict in (
        None,
        [],
        {"key": "zz", "value": None, "levels": []},
        {"key": "00", "value": None, "levels": "x"},
        {"key": "00", "value": None, "levels": [{"bitmap": "0001"}]},
        {"key": "00", "value": None, "levels": [{"bitmap": "01", "siblings": []}]},
        {"key": "00", "value": None, "levels": [{"bitmap": "0001", "siblings": ["00"]}]},
        {"key": "00", "value": None, "levels": [], "leaf": {"key_hash": "00"}},
        {"key": "00", "value": None, "levels": [{"bitmap": "0001", "siblings": []}] * 65},
    ):
        with pytest.raises(MalformedInput):
            StateProof.from_dict(bad_dict)


# --- tampering with the store ----------------------------------------------------------------
def test_a_flipped_byte_in_any_stored_node_is_detected_on_read(kv):
    state = {b"k%d" % i: b"v%d" % i for i in range(20)}
    tree, root = build(kv, state)
    nodes = stored_nodes(kv)
    keys = stored_keys(kv)
    assert len(nodes) > 20
    checked = 0
    for nh, data in nodes.items():
        node = decode_node(data)
        hashed = len(node[2]) if node[0] == 1 else len(data)  # internal: heights follow the preimage
        for i in range(len(data)):
            for x in (0x01, 0x80):
                kv.write({keys[nh]: data[:i] + bytes([data[i] ^ x]) + data[i + 1:]})
                with pytest.raises(StoreCorrupted) as e:
                    list(StateTree(kv).items(root))  # a fresh tree: nothing cached
                if i < hashed:
                    assert nh.hex() in str(e.value) and e.value.details["node"] == nh.hex()
                else:
                    # A child's height is not hashed: a changed one leads nowhere, never to
                    # another node (any copy found there has the child's own hash).
                    child = internal_children(node)[[n for n, h in enumerate(internal_heights(node)) if h is not None][(i - hashed) // 8]]
                    assert e.value.details["node"] == child.hex() and "missing" in e.value.message
                checked += 1
        # A truncated node and one that is gone are noticed too.
        for broken in (data[:-1], data[:2]):
            kv.write({keys[nh]: broken})
            with pytest.raises(StoreCorrupted):
                list(StateTree(kv).items(root))
        kv.write({keys[nh]: data})
    assert checked > 1000
    assert dict(StateTree(kv).items(root)) == state


def test_tampered_node_is_detected_by_get_prove_and_update(kv):
    state = {b"k%d" % i: b"v%d" % i for i in range(200)}
    tree, root = build(kv, state)
    leaf = tree.prove(root, b"k5")
    leaf_hash = sha256(b"\x00" + sha256(b"k5") + sha256(b"v5"))
    leaf_key = stored_keys(kv)[leaf_hash]
    kv.write({leaf_key: encode_leaf(b"k5", b"forged")})
    for call in (
        lambda t: t.get(root, b"k5"),
        lambda t: t.prove(root, b"k5"),
        lambda t: t.update(root, {b"k5": b"x"}, height=next(HEIGHTS)),
        lambda t: list(t.node_hashes(root)),
    ):
        with pytest.raises(StoreCorrupted, match=leaf_hash.hex()):
            call(StateTree(kv))
    assert leaf.value == b"v5"
    kv.write({}, deletes=[leaf_key])
    with pytest.raises(StoreCorrupted, match="missing"):
        StateTree(kv).get(root, b"k5")


def test_unknown_root_is_not_found(kv):
    tree, root = build(kv, {b"a": b"1"})
    for call in (tree.get, tree.prove):
        with pytest.raises(NotFound):
            call(b"\x05" * 32, b"a")
    with pytest.raises(NotFound):
        list(tree.items(b"\x05" * 32))
    with pytest.raises(NotFound):
        tree.update(b"\x05" * 32, {b"a": b"2"}, height=next(HEIGHTS))


# --- bad input -------------------------------------------------------------------------------
def test_bad_input_gets_typed_errors_and_changes_nothing(kv):
    tree, root = build(kv, {b"a": b"1"})
    before = stored_nodes(kv)
    for bad in (
        lambda: tree.update(root, {"a": b"1"}, height=next(HEIGHTS)),
        lambda: tree.update(root, {b"a": "1"}, height=next(HEIGHTS)),
        lambda: tree.update(root, {b"a": 1}, height=next(HEIGHTS)),
        lambda: tree.update(root, [(b"a", b"1")], height=next(HEIGHTS)),
        lambda: tree.update(root[:31], {b"a": b"1"}, height=next(HEIGHTS)),
        lambda: tree.update("00" * 32, {b"a": b"1"}, height=next(HEIGHTS)),
        lambda: tree.get(root, "a"),
        lambda: tree.prove(root, None),
        lambda: tree.get(root.hex(), b"a"),
        lambda: tree.update(root, {b"a": b"2"}, height=-1),
        lambda: tree.update(root, {b"a": b"2"}, height=1 << 64),
        lambda: tree.update(root, {b"a": b"2"}, height="3"),
    ):
        with pytest.raises(MalformedInput):
            bad()
    assert stored_nodes(kv) == before
    assert tree.get(root, b"a") == b"1"


# --- iteration ---------------------------------------------------------------------------------
def test_node_hashes_are_exactly_the_nodes_of_a_fresh_build(kv):
    state = {b"k%d" % i: b"v%d" % i for i in range(400)}
    tree, root = build(kv, state)
    hashes = list(tree.node_hashes(root))
    assert hashes[0] == root and len(hashes) == len(set(hashes))
    assert set(hashes) == set(stored_nodes(kv))
    # After more blocks the store also holds old versions; the reachable set is a subset.
    root2 = commit(tree, kv, root, {b"k1": b"x", b"k2": None})
    assert set(tree.node_hashes(root2)) < set(stored_nodes(kv))
    assert sum(1 for _ in tree.items(root2)) == 399
