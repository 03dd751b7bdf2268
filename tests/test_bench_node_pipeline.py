"""benchmarks/bench_node_pipeline.py runs end to end on a small chain and reports every stage,
overall and per window of blocks as the chain grows (numbers are not checked: tests never
depend on the machine's speed, only on the benchmark measuring what it says)."""

from __future__ import annotations

from benchmarks import bench_node_pipeline as bench

STAGES = ["admission (x2 nodes)", "build (proposer)", "validate (peer)", "commit (synced batch)", "projection"]


def test_pipeline_benchmark_reports_each_stage_and_its_growth_windows():
    seen = []
    result = bench.run(txs=240, block_txs=20, people=60, objects=120, profile=None, every=2, on_window=seen.append)
    assert list(result["us_per_tx"]) == STAGES
    assert all(v > 0 for v in result["us_per_tx"].values())
    # 120 filings, 20 a block, each block also carrying the decisions on the previous one's:
    # 7 blocks, so a window after blocks 2, 4 and 6.
    assert 120 < result["txs"] <= 240
    assert seen == result["growth"]
    assert [w["height"] for w in seen] == [2, 4, 6]
    assert all(list(w["us_per_tx"]) == STAGES and all(v > 0 for v in w["us_per_tx"].values()) for w in seen)
    assert seen[-1]["txs_so_far"] <= result["txs"]


def test_pipeline_benchmark_checkpoints_the_cadastre_wal_every_so_many_blocks():
    result = bench.run(txs=120, block_txs=20, people=60, objects=120, profile=None, checkpoint_every=3)
    assert result["checkpoint_every"] == 3
    assert result["blocks"] >= 3
    assert result["checkpoints"] == result["blocks"] // 3
    # Each checkpoint copied the pages the blocks before it wrote into the database file.
    assert result["checkpointed_pages"] > 0
    assert result["wal_bytes"] > 0


def test_the_pipeline_reference_is_one_nodes_cpu_per_tx_measured_now():
    """benchmarks.common.node_pipeline_reference runs the benchmark in a process of its own and
    returns its whole-pipeline figure; a run that fails says why."""
    import subprocess

    import pytest

    from benchmarks import common

    us = common.node_pipeline_reference(txs=120)
    assert 0 < us < 10**6
    real_run = subprocess.run

    def failing(cmd, **kw):
        return real_run(cmd[:3] + ["--no-such-option"], **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(common.subprocess, "run", failing)
    try:
        with pytest.raises(RuntimeError, match="bench_node_pipeline exited 2"):
            common.node_pipeline_reference(txs=120)
    finally:
        mp.undo()


def test_pipeline_benchmark_runs_on_either_store_layout():
    """`--store one` (one LevelDB, as before the split) is there to compare layouts; both
    commit the same blocks."""
    txs = {}
    for store in ("split", "one"):
        result = bench.run(txs=60, block_txs=20, people=40, objects=80, profile=None, store=store)
        assert result["store"] == store and result["us_per_tx"]["commit (synced batch)"] > 0
        txs[store] = result["txs"]
    assert txs["split"] == txs["one"]


def test_the_thread_clock_leaves_out_time_the_stage_spent_waiting(monkeypatch):
    """`--clock thread` counts this thread's CPU, so time a stage spends off the CPU (here a
    50 ms sleep in each block's projection, standing in for other processes holding the
    cores) is left out; the wall clock counts it."""
    import time

    from cadastre.projection import Projection

    class SlowProjection:
        """A Projection whose listener first sleeps (the class itself may be compiled,
        node/native.py, and then cannot be patched)."""

        def __init__(self, *args, **kwargs):
            self._projection = Projection(*args, **kwargs)

        def listener(self, prepared):
            time.sleep(0.05)
            return self._projection.listener(prepared)

        def __getattr__(self, name):
            return getattr(self._projection, name)

    monkeypatch.setattr(bench, "Projection", SlowProjection)
    sleep_us_per_tx = {}
    for clock in ("wall", "thread"):
        result = bench.run(txs=60, block_txs=20, people=40, objects=80, profile=None, clock_name=clock)
        assert result["clock"] == clock
        sleep_us_per_tx[clock] = 0.05 * result["blocks"] / result["txs"] * 1e6
        if clock == "wall":
            assert result["us_per_tx"]["projection"] >= sleep_us_per_tx[clock]
        else:
            # The projection's own work is ~100 µs per tx; the sleep alone would be ~30 times that.
            assert result["us_per_tx"]["projection"] < sleep_us_per_tx[clock]


def test_certificates_are_checked_before_timing_unless_asked_for_cold():
    """By default every signer's certificate is checked once before the stages are timed, as
    in a node that has run a while; `--cold-certificates` leaves that to admission, as in a
    node just started, and the run says how many were checked inside the stages."""
    warm = bench.run(txs=60, block_txs=20, people=40, objects=80, profile=None)
    cold = bench.run(txs=60, block_txs=20, people=40, objects=80, profile=None, warm_certificates=False)
    assert warm["warm_certificates"] is True and warm["certificates_checked_in_stages"] == 0
    assert cold["warm_certificates"] is False
    # Each filing is signed by its bank and the owners of one object: more than a few of the
    # 40 people and both banks are seen for the first time inside admission.
    assert cold["certificates_checked_in_stages"] > 10
    assert warm["txs"] == cold["txs"]


def test_cold_certificates_is_a_command_line_option(capsys):
    assert bench.main(["--txs", "40", "--block-txs", "20", "--people", "30", "--objects", "60", "--cold-certificates", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["warm_certificates"] is False and out["certificates_checked_in_stages"] > 0


def test_concurrent_copies_report_the_mean_of_each_stage(capsys):
    """`--concurrent N` runs N copies at once, each in a process of its own timing its stages
    by its thread's CPU, and reports the mean per stage and each copy's whole figure."""
    import json

    assert bench.main(["--txs", "40", "--block-txs", "20", "--people", "30", "--objects", "60", "--concurrent", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["concurrent"] == 2 and out["clock"] == "thread"
    assert sorted(out["us_per_tx"]) == sorted(STAGES) and all(v > 0 for v in out["us_per_tx"].values())
    each = out["node_us_per_tx_each"]
    assert len(each) == 2 and min(each) <= out["node_us_per_tx"] <= max(each)


def test_concurrent_refuses_what_a_copy_cannot_report(capsys):
    import pytest

    for bad in (["--concurrent", "0"], ["--concurrent", "2", "--every", "2"], ["--concurrent", "2", "--profile", "x.prof"]):
        with pytest.raises(SystemExit) as exc:
            bench.main(["--txs", "40", *bad])
        assert exc.value.code == 2
        assert "--concurrent" in capsys.readouterr().err


def test_a_failing_copy_fails_the_concurrent_run_and_says_why(monkeypatch, capsys):
    real_popen = bench.subprocess.Popen

    def failing(cmd, **kw):
        return real_popen(cmd + ["--no-such-option"], **kw)

    monkeypatch.setattr(bench.subprocess, "Popen", failing)
    assert bench.main(["--txs", "40", "--concurrent", "2", "--json"]) == 1
    assert "a copy of bench_node_pipeline exited 2" in capsys.readouterr().err
