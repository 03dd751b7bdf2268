"""The LevelDB store and its in-memory twin pass the same suite."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from node.kv import MemoryStore


def test_get_put_delete_and_atomic_batch(kv):
    assert kv.get(b"a") is None
    kv.write({b"a": b"1", b"b": b"2"})
    assert kv.get(b"a") == b"1"
    kv.write({b"c": b"3"}, deletes=[b"a"])
    assert kv.get(b"a") is None and kv.get(b"c") == b"3"


def test_iteration_is_ordered_and_respects_prefix_and_start(kv):
    kv.write({b"p/2": b"", b"p/1": b"", b"q/1": b"", b"o/9": b"", b"p/3": b""})
    assert [k for k, _ in kv.iterate(b"p/")] == [b"p/1", b"p/2", b"p/3"]
    assert [k for k, _ in kv.iterate(b"p/", reverse=True)] == [b"p/3", b"p/2", b"p/1"]
    assert [k for k, _ in kv.iterate(b"p/", start=b"p/2")] == [b"p/2", b"p/3"]
    assert [k for k, _ in kv.iterate()] == [b"o/9", b"p/1", b"p/2", b"p/3", b"q/1"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=4), st.binary(max_size=4) | st.none()), max_size=30))
def test_memory_store_matches_a_dict_model(ops):
    store, model = MemoryStore(), {}
    for k, v in ops:
        if v is None:
            store.write({}, deletes=[k])
            model.pop(k, None)
        else:
            store.write({k: v})
            model[k] = v
    assert list(store.iterate()) == sorted(model.items())


def test_leveldb_reports_its_compactions_per_level(tmp_path):
    from node.kv import LevelDBStore

    store = LevelDBStore(tmp_path / "db")
    assert store.compaction_stats() == {}  # nothing flushed yet: no level has held a file
    store.write({b"k%05d" % i: b"v" * 100 for i in range(2000)})
    store._db.compact_range()  # flush the memtable and compact, as LevelDB would when it fills
    stats = store.compaction_stats()
    assert stats and sum(row["files"] for row in stats.values()) >= 1
    assert set(next(iter(stats.values()))) == {"files", "size_mb", "seconds", "read_mb", "written_mb"}
    store.close()
    assert store.compaction_stats() == {}
    assert MemoryStore().compaction_stats() == {}
