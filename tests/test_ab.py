"""benchmarks.ab: two versions of the nodes run alternately under saturation and compared pair
by pair. The arithmetic and the run order are checked on made-up runs; one short real run
(two fresh 4-node consortia, one step each) checks that every run is measured, that each
version's environment reaches its nodes, and that nothing is left behind. No speed is
asserted."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import subprocess
import sys

import pytest

from benchmarks import ab
from benchmarks.loadgen import consortium
from benchmarks.loadgen.phases import Settings
from benchmarks.loadgen.ui import Ui
from tests.cluster_harness import ROOT


def test_a_version_is_a_git_ref_or_the_worktree_with_optional_environment_for_its_nodes():
    assert ab.parse_variant("HEAD") == ab.Variant("HEAD", "HEAD", {})
    v = ab.parse_variant("HEAD~1:TAMGA_X=1,PYTHONHASHSEED=0")
    assert (v.ref, v.env) == ("HEAD~1", {"TAMGA_X": "1", "PYTHONHASHSEED": "0"})
    assert ab.parse_variant("worktree:A=") .env == {"A": ""}
    for bad in (":X=1", "HEAD:X", "HEAD:1X=2", "HEAD:X=1,=2"):
        with pytest.raises(argparse.ArgumentTypeError):
            ab.parse_variant(bad)


def test_the_versions_take_turns_at_running_first():
    assert ab.schedule(3) == [(0, "A"), (0, "B"), (1, "B"), (1, "A"), (2, "A"), (2, "B")]
    assert ab.schedule(1) == [(0, "A"), (0, "B")]


def _run(r, which, *steps):
    return {"round": r, "which": which, "ed25519_verify_per_s": 18000.0,
            "steps": [{"committed_tx_per_s": rate, "cpu_ms_per_tx": cpu} for rate, cpu in steps]}


def test_each_b_is_compared_with_the_a_of_its_own_round_step_by_step():
    runs = [
        _run(0, "A", (800.0, 2.0), (700.0, 2.5)),
        _run(0, "B", (880.0, 1.8), (700.0, 2.25)),
        # Round 2 ran on a slower machine: both versions lost, the ratio did not.
        _run(1, "B", (440.0, 3.6), (350.0, 4.5)),
        _run(1, "A", (400.0, 4.0), (350.0, 5.0)),
    ]
    step1, step2 = ab.compare(runs)
    assert step1["b_over_a"]["cpu_ms_per_tx"] == {"mean": 0.9, "min": 0.9, "max": 0.9, "n": 2}
    assert step1["b_over_a"]["committed_tx_per_s"] == {"mean": 1.1, "min": 1.1, "max": 1.1, "n": 2}
    assert step1["A"]["cpu_ms_per_tx"] == {"mean": 3.0, "min": 2.0, "max": 4.0, "n": 2}
    assert step2["b_over_a"]["cpu_ms_per_tx"]["mean"] == 0.9
    assert step2["b_over_a"]["committed_tx_per_s"]["mean"] == 1.0
    assert step1["b_over_a"]["cpu_over_reference"] is None  # no reference taken (--together)
    # A step whose CPU figure is unknown (a node restarted) drops out of the pairs.
    runs[0]["steps"][0]["cpu_ms_per_tx"] = None
    assert ab.compare(runs)[0]["b_over_a"]["cpu_over_reference"] is None
    assert ab.compare(runs)[0]["b_over_a"]["cpu_ms_per_tx"]["n"] == 1


def test_the_ratio_over_the_reference_takes_out_the_machines_speed_at_each_step():
    runs = [_run(0, "A", (800.0, 2.0)), _run(0, "B", (600.0, 2.4)), _run(1, "B", (880.0, 1.8)), _run(1, "A", (800.0, 2.0))]
    # Round 1's B met a machine 25 % slower (its reference), round 2's did not: B is 10 % cheaper.
    for run, over in zip(runs, (1.0, 0.9, 0.9, 1.0)):
        run["steps"][0]["cpu_over_reference"] = over
    (step,) = ab.compare(runs)
    assert step["b_over_a"]["cpu_ms_per_tx"] == {"mean": 1.05, "min": 0.9, "max": 1.2, "n": 2}
    assert step["b_over_a"]["cpu_over_reference"] == {"mean": 0.9, "min": 0.9, "max": 0.9, "n": 2}


def test_parts_of_the_cpu_are_compared_pair_by_pair_where_both_versions_report_them():
    runs = [_run(0, "A", (800.0, 2.0)), _run(0, "B", (800.0, 2.0)), _run(1, "B", (800.0, 2.0)), _run(1, "A", (800.0, 2.0))]
    parts = ({"commit": 60.0, "threads": 150.0}, {"commit": 70.0, "other_threads": 30.0, "grpc_threads": 9.0},
             {"commit": 64.0, "other_threads": 20.0, "grpc_threads": 8.0}, {"commit": 58.0, "threads": 140.0})
    for run, p in zip(runs, parts):
        run["steps"][0]["parts_us_per_tx"] = p
    (step,) = ab.compare(runs)
    # Only parts both versions report (an older A has the single "threads" part).
    assert step["parts_b_minus_a_us"] == {"commit": {"mean": 8.0, "min": 6.0, "max": 10.0, "n": 2}}
    runs[0]["steps"][0]["parts_us_per_tx"] = None  # a step without the figure drops out
    assert ab.compare(runs)[0]["parts_b_minus_a_us"]["commit"]["n"] == 1
    for run in runs:
        run["steps"][0].pop("parts_us_per_tx")
    assert ab.compare(runs)[0]["parts_b_minus_a_us"] is None


def test_a_snapshot_is_of_the_commit_the_ref_names_and_a_bad_ref_is_refused(tmp_path):
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    got = consortium.code_snapshot(str(tmp_path / "code"), "HEAD")
    assert got["commit"] == head
    assert os.path.isfile(tmp_path / "code" / "node" / "runner.py")
    with pytest.raises(ValueError, match="names no commit"):
        consortium.code_snapshot(str(tmp_path / "nope"), "no-such-branch-anywhere")
    out = tmp_path / "cli"
    assert ab.main(["HEAD", "no-such-branch-anywhere", "--out", str(out)]) == 2
    assert not (out / "ab.json").exists()


def test_an_interpreter_that_cannot_run_is_refused_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "cli"
    with pytest.raises(SystemExit) as stopped:
        ab.main(["HEAD", "HEAD", "--python-b", str(tmp_path / "no-python"), "--out", str(out)])
    assert stopped.value.code == 2
    assert f"--python-b {tmp_path / 'no-python'}: not an executable file" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.processes
def test_a_short_real_comparison_measures_every_run_and_cleans_up(tmp_path, monkeypatch):
    seen_env = []
    real_start = consortium.start

    def start(cluster, timeout_s=180.0):
        seen_env.append(dict(cluster.env))
        real_start(cluster, timeout_s)

    monkeypatch.setattr(consortium, "start", start)
    # B's nodes run on "another interpreter": this one behind a wrapper that logs each start.
    calls = tmp_path / "wrapper-calls"
    wrapper = tmp_path / "other-python"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    a = ab.parse_variant("worktree")
    b = dataclasses.replace(ab.parse_variant("worktree:TAMGA_AB_MARK=b"), python=str(wrapper))
    settings = Settings.quick_settings(people=60, objects=300, sat_step_s=3.0, sat_warmup_s=0.5)
    out = str(tmp_path)
    res = asyncio.run(ab.run(a, b, ab.snapshots(a, b, out), rounds=1, clients=4, steps=1, out=out, ui=Ui(quiet=True), settings=settings))
    assert [(r["round"], r["which"]) for r in res["runs"]] == [(0, "A"), (0, "B")]
    assert seen_env == [{}, {"TAMGA_AB_MARK": "b"}]
    # B's four nodes, B's step reference and the compile of B's hot modules (node/native.py,
    # for B's interpreter's ABI) ran on B's interpreter, A's nothing.
    started = calls.read_text().splitlines()
    assert sum("cli.main node run" in c for c in started) == 4
    assert sum("benchmarks.bench_node_pipeline" in c for c in started) == 1
    assert sum("node.native build" in c for c in started) == 1
    assert len(started) == 6
    assert res["B"]["python"] == str(wrapper) and res["A"]["python"] == sys.executable
    for r in res["runs"]:
        (step,) = r["steps"]
        assert step["committed_tx_per_s"] > 0 and step["cpu_ms_per_tx"] > 0
        assert step["not_committed"] == {"error": 0, "timeout": 0}
        assert r["ed25519_verify_per_s"] > 0
        # Taking turns, the step measured the in-process reference first.
        assert step["reference_us_per_tx"] > 0 and step["cpu_over_reference"] > 0
    (row,) = res["comparison"]
    assert row["b_over_a"]["cpu_ms_per_tx"]["n"] == 1
    assert row["b_over_a"]["cpu_over_reference"]["n"] == 1
    json.dumps(res)  # what ab.json holds
    # Each run's consortium (~1 GB at full size) is deleted when it is done.
    assert not any(os.path.exists(os.path.join(out, f"run-{i}", "cluster")) for i in (1, 2))


@pytest.mark.processes
def test_together_runs_both_versions_at_once_on_consortia_of_their_own(tmp_path, monkeypatch):
    started = []
    real_start = consortium.start

    def start(cluster, timeout_s=180.0):
        started.append((dict(cluster.env), cluster.base_port))
        real_start(cluster, timeout_s)

    monkeypatch.setattr(consortium, "start", start)
    a, b = ab.parse_variant("worktree"), ab.parse_variant("worktree:TAMGA_AB_MARK=b")
    settings = Settings.quick_settings(people=60, objects=300, sat_step_s=3.0, sat_warmup_s=0.5)
    out = str(tmp_path)
    res = asyncio.run(ab.run(a, b, ab.snapshots(a, b, out), rounds=2, clients=4, steps=1, out=out, ui=Ui(quiet=True), settings=settings,
                             together=True))
    assert res["together"] is True
    # Round 1 starts A first, round 2 B first; the two consortia of a round never share ports.
    assert [env for env, _ in started] == [{}, {"TAMGA_AB_MARK": "b"}, {"TAMGA_AB_MARK": "b"}, {}]
    assert started[0][1] != started[1][1] and started[2][1] != started[3][1]
    assert sorted((r["round"], r["which"]) for r in res["runs"]) == [(0, "A"), (0, "B"), (1, "A"), (1, "B")]
    for r in res["runs"]:
        (step,) = r["steps"]
        assert step["committed_tx_per_s"] > 0 and step["cpu_ms_per_tx"] > 0
        assert step["not_committed"] == {"error": 0, "timeout": 0}
        assert step["reference_us_per_tx"] is None  # the other consortium's load would be in it
    assert res["comparison"][0]["b_over_a"]["cpu_ms_per_tx"]["n"] == 2
    assert not any(os.path.exists(os.path.join(out, f"round-{r}-{w}", "cluster")) for r in (1, 2) for w in "AB")
