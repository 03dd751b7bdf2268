"""benchmarks/bench_store_compaction.py writes what it says in each key layout (numbers are not
checked: tests never depend on the machine's speed, only on the benchmark measuring the thing
it names)."""

from __future__ import annotations

import random

import pytest

from benchmarks import bench_store_compaction as bench
from node import schema


def _records(layout: str, height: int, txs: int = 10) -> dict[bytes, bytes]:
    return bench.block_records(layout, height, txs, random.Random(height))


def test_the_schema_layout_uses_the_nodes_own_keys_and_sizes():
    recs = _records("schema", 7)
    assert schema.block(7) in recs and schema.commit(7) in recs and schema.receipts(7) in recs and schema.META_HEAD in recs
    nodes = [k for k in recs if k.startswith(schema.TREE_NODE_PREFIX)]
    assert len(nodes) == bench.TREE_NODES_PER_TX * 10 and all(len(recs[k]) == bench.TREE_NODE_BYTES for k in nodes)
    assert len([k for k in recs if k.startswith(schema.TX_PREFIX)]) == 10  # one tx-index record per tx
    assert len(recs[schema.block(7)]) == bench.BLOCK_BYTES_PER_TX * 10


def test_height_first_layouts_put_each_block_after_the_last_and_the_indexes_where_they_say():
    def height_keys(layout, h):
        return {k for k in _records(layout, h) if k[1:9] == schema.u64(h)}

    for layout in ("height", "height-after", "height-only"):
        a, b = height_keys(layout, 41), height_keys(layout, 42)
        assert len(a) == bench.TREE_NODES_PER_TX * 10 + 3  # tree nodes, block, commit, receipts
        assert max(a) < min(b), layout  # a block's range starts after the one before it ends
    only = _records("height-only", 42)
    assert set(only) == height_keys("height-only", 42)  # no random-keyed index at all
    before, after = _records("height", 42), _records("height-after", 42)
    index_before = set(before) - height_keys("height", 42)
    index_after = set(after) - height_keys("height-after", 42)
    assert len(index_before) == len(index_after) == 10 + 3  # tx ids, block hash, state root, head
    assert max(index_before) < min(height_keys("height", 1))      # sorting before every height range
    assert min(index_after) > max(height_keys("height-after", 10**9))  # ... or after it


def test_the_node_layout_writes_the_schema_keys_and_tables_only_drops_the_random_ones():
    assert _records("node", 7) == _records("schema", 7)  # the same records; the store places them
    tables = _records("tables-only", 7)
    assert set(tables) == {k for k in _records("schema", 7) if schema.history_height(k) == 7}


def test_the_node_layout_runs_through_the_nodes_split_store(tmp_path, monkeypatch):
    """`node` writes through open_node_store: history and index, two LevelDBs."""
    opened = []
    real = bench.open_node_store
    monkeypatch.setattr(bench, "open_node_store", lambda path: opened.append(path) or real(path))
    with bench.Progress(enabled=False) as progress:
        r = bench.run_layout("node", blocks=2, txs=5, seed=1, progress=progress)
    assert r["layout"] == "node" and r["txs"] == 10 and len(opened) == 1


def test_a_small_run_reports_the_compaction_cpu_and_what_the_levels_wrote():
    with bench.Progress(enabled=False) as progress:
        r = bench.run_layout("schema", blocks=3, txs=10, seed=1, progress=progress)
    assert r["layout"] == "schema" and r["txs"] == 30
    expected = sum(len(k) + len(v) for h in range(1, 4) for k, v in bench.block_records("schema", h, 10, random.Random(0)).items())
    assert r["written_mb"] == round(expected / 2**20, 1)
    assert r["compaction_cpu_s"] >= 0 and r["compaction_us_per_tx"] >= 0
    assert isinstance(r["levels"], dict)


def test_an_unknown_layout_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--layouts", "schema,sideways"])
    assert exc.value.code == 2
    assert "sideways" in capsys.readouterr().err
