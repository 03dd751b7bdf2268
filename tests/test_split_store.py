"""A node's store as two LevelDBs (node/split_store.py): the same keys and order as one store,
history keyed by height first, crash between the two writes recovered, damage reported."""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import given, settings, strategies as st

from node import schema
from node.errors import StoreCorrupted
from node.kv import LevelDBStore, MemoryStore, open_node_store
from node.split_store import SplitStore, history_key, node_key
from node.verify import verify_store
from tests.ledger_support import SoloNode

HISTORY_TABLES = (schema.BLOCK_PREFIX, schema.COMMIT_PREFIX, schema.RECEIPTS_PREFIX, schema.TREE_NODE_PREFIX)

heights = st.integers(0, 6).map(schema.u64) | st.binary(max_size=9)
node_keys = st.one_of(
    st.builds(lambda t, h, rest: t + h + rest, st.sampled_from(HISTORY_TABLES), heights, st.binary(max_size=3)),
    st.builds(lambda t, rest: t + rest, st.sampled_from((schema.TX_PREFIX, schema.HASH_PREFIX, schema.TREE_ROOT_PREFIX, schema.PRIVATE_PREFIX)), st.binary(max_size=4)),
    st.builds(lambda rest: schema.FOREIGN_PREFIX + rest, st.binary(max_size=10)),
    st.sampled_from((schema.META_HEAD, schema.META_GENESIS, schema.META_FORMAT)),
    st.binary(max_size=5),
)
prefixes = st.one_of(
    st.sampled_from((b"", schema.VERSION, *HISTORY_TABLES, schema.FOREIGN_PREFIX, schema.TX_PREFIX, b"\x01m/")),
    st.builds(lambda t, h: t + h, st.sampled_from(HISTORY_TABLES), st.integers(0, 6).map(lambda n: schema.u64(n)[: 4 + n % 5])),
)


def split_memory() -> SplitStore:
    return SplitStore(MemoryStore(), MemoryStore())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(node_keys, st.binary(max_size=3) | st.none()), max_size=40), prefixes, st.none() | node_keys, st.booleans())
def test_split_store_reads_and_iterates_like_one_store(ops, prefix, start, reverse):
    """Any keys, the node's and odd ones: gets, and iteration by prefix, from a start, in
    both directions, are exactly those of one ordered store."""
    split, one = split_memory(), MemoryStore()
    for key, value in ops:
        puts, dels = ({}, [key]) if value is None else ({key: value}, [])
        split.write(puts, dels)
        one.write(puts, dels)
    for key, _ in ops:
        assert split.get(key) == one.get(key)
    assert list(split.iterate(prefix, start=start, reverse=reverse)) == list(one.iterate(prefix, start=start, reverse=reverse))


@given(node_keys)
def test_history_keys_map_back_to_the_node_keys(key):
    physical = history_key(key)
    if physical is not None:
        assert node_key(physical) == key


def test_history_is_keyed_by_height_first_and_the_rest_goes_to_the_index():
    store = split_memory()
    node_hash = bytes(range(32))
    store.write({schema.block(7): b"B", schema.commit(7): b"C", schema.receipts(7): b"R", schema.tree_node(7, node_hash): b"N",
                 schema.tx(b"\xaa" * 32): schema.tx_location(7, 0), schema.META_HEAD: b"head"})
    assert [k for k, _ in store.history.iterate()] == [schema.u64(7) + b"b", schema.u64(7) + b"c", schema.u64(7) + b"r", schema.u64(7) + b"z" + node_hash]
    assert [k for k, _ in store.index.iterate()] == [schema.META_HEAD, schema.tx(b"\xaa" * 32)]


def test_history_is_written_before_the_index(monkeypatch):
    """A commit's records go to the history first: if the process dies before the index write
    (which holds the head), the index never names records that are not on disk."""
    store, order = split_memory(), []
    for name in ("history", "index"):
        part = getattr(store, name)
        monkeypatch.setattr(part, "write", lambda puts, deletes=(), *, sync=True, _n=name, _w=part.write: (order.append(_n), _w(puts, deletes, sync=sync)))
    store.write({schema.block(1): b"B", schema.META_HEAD: b"H"})
    assert order == ["history", "index"]


class _Crash(Exception):
    pass


def _commit_history_only(node: SoloNode, kv: SplitStore, alice) -> int:
    """Seal a block with the process 'dying' between the history and index writes."""
    node.submit("note.put", {"key": "lost", "value": b"v"}, alice)
    real = kv.index.write

    def die_on_the_commit(puts, deletes=(), *, sync=True):
        if schema.META_HEAD in puts:
            raise _Crash
        real(puts, deletes, sync=sync)

    kv.index.write = die_on_the_commit
    with pytest.raises(_Crash):
        node.sealer.seal()
    return node.chain.head.height + 1


def _seal_notes(node: SoloNode, alice, keys) -> SoloNode:
    """One block per key, each putting a note under it."""
    for key in keys:
        node.submit("note.put", {"key": key, "value": b"v"}, alice)
        node.sealer.seal()
    return node


def test_a_crash_between_the_two_writes_is_undone_when_the_chain_opens(tmp_path, test_pki, alice):
    path = tmp_path / "db"
    kv = open_node_store(path)
    node = _seal_notes(SoloNode(kv, test_pki), alice, ["k0", "k1", "k2"])
    head = node.chain.head
    lost = _commit_history_only(node, kv, alice)
    kv.close()
    kv = open_node_store(path)
    assert any(k.startswith(schema.u64(lost)) for k, _ in kv.history.iterate())  # the half-written block is on disk
    # The auditor, who changes nothing, passes over that height: the store is sound.
    report = verify_store(kv)
    assert report.ok and report.head_height == head.height, report.findings
    again = SoloNode(kv, test_pki, validator=node.validator, genesis=node.genesis)
    assert again.chain.head == head
    assert not any(k.startswith(schema.u64(lost)) for k, _ in kv.history.iterate())
    again.submit("note.put", {"key": "after", "value": b"w"}, alice)
    again.sealer.seal()
    assert again.chain.head.height == lost and again.chain.state().get(b"note/after") == b"w"
    report = verify_store(kv)
    assert report.ok, report.findings
    kv.close()


def test_history_beyond_the_next_height_is_kept_and_refused(tmp_path, test_pki, alice):
    """No crash leaves records two heights above the head: the head was altered. The node
    refuses to start and deletes nothing (the records are evidence)."""
    path = tmp_path / "db"
    kv = open_node_store(path)
    node = _seal_notes(SoloNode(kv, test_pki), alice, ["k0", "k1"])
    head_of_2 = kv.get(schema.META_HEAD)
    _seal_notes(node, alice, ["k2", "k3"])
    kv.write({schema.META_HEAD: head_of_2})  # the head rolled back from 4 to 2: history at 3 and 4
    kv.close()
    kv = open_node_store(path)
    report = verify_store(kv)  # the auditor sees it too: records no replay up to height 2 makes
    assert not report.ok and any(f.height == 4 and "receipts 4" in f.what for f in report.findings), report.findings
    before = list(kv.history.iterate())
    with pytest.raises(StoreCorrupted, match="beyond height"):
        SoloNode(kv, test_pki, validator=node.validator, genesis=node.genesis)
    assert list(kv.history.iterate()) == before
    kv.close()


def test_a_foreign_record_in_the_history_is_reported_by_the_auditor(kv_split_chain):
    kv = kv_split_chain
    kv.history.write({b"\x00" * 8 + b"q" + b"junk": b"x"})
    report = verify_store(kv)
    assert not report.ok and any("foreign history record" in f.what for f in report.findings), report.findings


@pytest.fixture
def kv_split_chain(tmp_path, test_pki, alice):
    kv = open_node_store(tmp_path / "db")
    _seal_notes(SoloNode(kv, test_pki), alice, ["k0", "k1"])
    assert verify_store(kv).ok
    yield kv
    kv.close()


def test_a_store_from_before_the_split_opens_as_one_leveldb(tmp_path, test_pki, alice):
    """Stores written before the split hold the same keys in one LevelDB: a node keeps
    reading and extending them as they are."""
    path = tmp_path / "db"
    old = LevelDBStore(path)
    node = _seal_notes(SoloNode(old, test_pki), alice, ["k"])
    head = node.chain.head
    old.close()
    kv = open_node_store(path)
    assert isinstance(kv, LevelDBStore) and not os.path.exists(path / "index")
    again = SoloNode(kv, test_pki, validator=node.validator, genesis=node.genesis)
    assert again.chain.head == head
    again.submit("note.put", {"key": "k2", "value": b"w"}, alice)
    again.sealer.seal()
    assert verify_store(kv).ok
    kv.close()


def test_opening_a_missing_store_without_create_is_refused(tmp_path):
    with pytest.raises(StoreCorrupted, match="holds no Tamga store"):
        open_node_store(tmp_path / "nothing", create=False)
    assert not os.path.exists(tmp_path / "nothing")


@pytest.fixture
def alice(test_pki):
    return test_pki.party("Alice")


def _config(data_dir) -> "NodeConfig":
    from node.config import NodeConfig

    return NodeConfig(name="n", organisation="o", genesis_file="g", data_dir=str(data_dir), validator_key_file="k", tls_cert_file="c",
                      tls_key_file="k", ca_cert_file="ca", peer_listen="", ledger_listen="", http_listen="")


@pytest.mark.parametrize("layout", ["split", "before the split"])
def test_resync_keeps_the_sign_state_even_when_the_history_does_not_open(tmp_path, layout):
    """`tamga node resync` keeps the validator-private records; in a split store they are in
    the index, so a history LevelDB too damaged to open does not lose them."""
    from node.resync import resync

    db = tmp_path / "data" / "db"
    kv = open_node_store(db) if layout == "split" else LevelDBStore(db)
    sign_state = {schema.private("sign-state"): b"last vote", schema.block(1): b"block"}
    kv.write(sign_state)
    kv.close()
    if layout == "split":
        os.remove(db / "history" / "CURRENT")  # LevelDB refuses to open it now
        for create in (False, True):  # a node starting on it must not make a new, empty history either
            with pytest.raises(StoreCorrupted):
                open_node_store(db, create=create)
    out = resync(_config(tmp_path / "data"))
    assert out["private_records_kept"] == 1 and os.path.isdir(out["damaged_store_moved_to"])
    fresh = open_node_store(db, create=False)
    assert isinstance(fresh, SplitStore)  # a store from before the split comes back split
    assert list(fresh.iterate()) == [(schema.private("sign-state"), b"last vote")]
    fresh.close()


def _tables(directory) -> list[str]:
    return [name for name in os.listdir(directory) if name.endswith(".ldb")]


def test_the_history_flushes_small_memtables_and_the_index_keeps_large_ones(tmp_path):
    """The history LevelDB writes its memtable out every 16 MiB (kv.HISTORY_WRITE_BUFFER_BYTES:
    a smaller skip list costs each insert less), the index every 128 MiB. plyvel cannot report
    a database's options, so this watches what LevelDB does: 24 MiB written to each, the
    history has a table file and the index none."""
    from node.kv import HISTORY_DIR, HISTORY_WRITE_BUFFER_BYTES, INDEX_DIR, LEVELDB_WRITE_OPTIONS

    written = 24 << 20
    assert HISTORY_WRITE_BUFFER_BYTES < written < LEVELDB_WRITE_OPTIONS["write_buffer_size"]
    kv = open_node_store(tmp_path / "db")
    value = bytes(range(256)) * 256  # 64 KiB
    batches = written // (8 * len(value))
    try:
        # The index first: LevelDB flushes memtables on one background thread, in the order
        # they filled, so had the index's filled too, its table would be written before the
        # history's appears.
        for b in range(batches):
            kv.write({schema.tx(b.to_bytes(4, "big") + bytes([i]) * 28): value for i in range(8)}, sync=False)
        for b in range(batches):
            kv.write({schema.tree_node(b + 1, bytes([i]) * 32): value for i in range(8)}, sync=False)
        history, index = tmp_path / "db" / HISTORY_DIR, tmp_path / "db" / INDEX_DIR
        deadline = time.monotonic() + 60
        while not _tables(history):
            assert time.monotonic() < deadline, "the history wrote no table after 24 MiB: its memtable is larger than 16 MiB"
            time.sleep(0.05)
        assert _tables(index) == []
    finally:
        kv.close()
