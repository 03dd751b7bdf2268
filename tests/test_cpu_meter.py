"""The CPU meter: stages charged with the CPU used between a reading and `add`, the event
loop's and the process's clocks, and a real node's /metrics exposing each part."""

from __future__ import annotations

import threading

import pytest

from contracts import builders as B
from node.cpu_meter import CHECKPOINT_THREAD, STAGES, CpuMeter, ThreadParts, name_os_thread, read_threads
from tests.cadastre_support import CN, api_node  # noqa: F401  (api_node is a fixture)


def test_stages_are_charged_what_the_clock_advanced_between_reading_and_add():
    now = [10.0]
    meter = CpuMeter(clock=lambda: now[0])
    started = meter.clock()
    now[0] = 10.25
    meter.add("admission", started)
    started = meter.clock()
    now[0] = 11.0
    meter.add("cadastre", started)
    meter.add("admission", meter.clock())   # nothing used: nothing charged
    assert meter.seconds == {**dict.fromkeys(STAGES, 0.0), "admission": 0.25, "cadastre": 0.75}


def test_an_unknown_stage_is_a_programming_error():
    meter = CpuMeter(clock=lambda: 0.0)
    with pytest.raises(KeyError):
        meter.add("compaction", 0.0)


def _burn(seconds: float) -> None:
    import time

    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_event_loop_clock_counts_only_the_creating_thread():
    meter = CpuMeter()
    before = meter.snapshot()
    worker = threading.Thread(target=_burn, args=(0.2,))
    worker.start()
    worker.join()
    mid = meter.snapshot()
    _burn(0.1)
    after = meter.snapshot()
    assert before["event_loop"] is not None, "Linux has per-thread CPU clocks"
    # Another thread's CPU shows in the process, not in the event loop's clock.
    assert mid["process"] - before["process"] >= 0.19
    assert mid["event_loop"] - before["event_loop"] < 0.05
    assert after["event_loop"] - mid["event_loop"] >= 0.09


def test_snapshot_is_readable_from_another_thread():
    meter = CpuMeter()
    _burn(0.05)
    seen = []
    t = threading.Thread(target=lambda: seen.append(meter.snapshot()))
    t.start()
    t.join()
    assert seen[0]["event_loop"] >= 0.04 and set(seen[0]["stages"]) == set(STAGES)


@pytest.mark.anyio
async def test_node_metrics_show_cpu_by_part(api_node):  # noqa: F811
    node = api_node
    p = node.people
    await node.submit(B.claim_register(CN, p.stranger.iin, "lawsuit", "case 2-1/2026", [B.doc("c.pdf", b"x")]), p.stranger)
    text = (await node.client().get("/metrics")).text
    parts = {}
    for line in text.splitlines():
        if line.startswith("tamga_cpu_seconds_total{"):
            label, value = line.split("} ")
            parts[label.split('"')[1]] = float(value)
    # Linux: the threads off the event loop by kind (gRPC's, the checkpointer, LevelDB's).
    assert set(parts) == {*STAGES, "loop_other", "grpc_threads", "checkpoint_thread", "other_threads"}
    # The submission was admitted, sealed, committed and projected on this node.
    assert parts["admission"] > 0 and parts["build"] > 0 and parts["commit"] > 0 and parts["cadastre"] > 0
    assert parts["validate"] == 0.0  # a single validator validates no one's proposals
    snap = node.rt.cpu.snapshot()
    assert sum(parts.values()) == pytest.approx(snap["process"], rel=0.05)


@pytest.mark.anyio
async def test_a_batch_is_admitted_under_one_meter_reading_and_each_refusal_stays_in_its_place(api_node):  # noqa: F811
    from node.errors import MalformedInput, TamgaError

    node = api_node
    good = _claims(node, 2, 2)
    rt = node.rt
    readings = []
    real_clock = rt.cpu.clock
    rt.cpu.clock = lambda: readings.append(1) or real_clock()
    before = rt.cpu.seconds["admission"]
    try:
        got = rt.submit_many([good[0], b"not an envelope", good[1], good[0]])
    finally:
        rt.cpu.clock = real_clock
    assert len(readings) == 2  # one reading as the batch starts, one as it ends: not per tx
    assert rt.cpu.seconds["admission"] > before
    assert [type(x).__name__ for x in got[:1]] == ["VerifiedTx"] and got[2].tx_id != got[0].tx_id
    assert isinstance(got[1], MalformedInput)
    assert isinstance(got[3], TamgaError) and got[3].code == "DUPLICATE_TX"  # already pending: refused, nothing changed
    assert rt.mempool.get(got[0].tx_id) is not None and rt.mempool.get(got[2].tx_id) is not None


@pytest.mark.anyio
async def test_a_peers_gossiped_batch_is_admitted_without_being_announced_again(api_node):  # noqa: F811
    """Txs a peer gossiped go into the mempool but not back to the engine (which would gossip
    them again); a client's txs are announced."""
    node = api_node
    envs = _claims(node, 3, 2)
    rt = node.rt
    announced = []
    real_added = rt.engine.tx_added
    rt.engine.tx_added = lambda tx: announced.append(tx.tx_id) or real_added(tx)
    try:
        gossiped = rt.submit_many([envs[0]], announce=False)
        submitted = rt.submit_many([envs[1]])
    finally:
        rt.engine.tx_added = real_added
    assert rt.mempool.get(gossiped[0].tx_id) is not None and rt.mempool.get(submitted[0].tx_id) is not None
    assert announced == [submitted[0].tx_id]


def _claims(node, series: int, n: int) -> list[bytes]:
    """`n` distinct signed legal-claim envelopes (case numbers `series`-0, `series`-1, ...)."""
    p = node.people
    return [node.envelope(B.claim_register(CN, p.stranger.iin, "lawsuit", f"case {series}-{i}/2026", [B.doc("c.pdf", b"x")]), p.stranger)
            for i in range(n)]


def _fake_task(root, tid: int, name: str, utime: int, stime: int) -> None:
    d = root / str(tid)
    d.mkdir()
    # The fields after the name, as the kernel writes them; utime and stime are the 14th and 15th.
    rest = ["S"] + ["0"] * 10 + [str(utime), str(stime)] + ["0"] * 30
    (d / "stat").write_text(f"{tid} ({name}) " + " ".join(rest) + "\n")


def test_other_threads_are_told_apart_by_name_and_the_event_loop_is_left_out(tmp_path):
    import os

    tick = os.sysconf("SC_CLK_TCK")
    _fake_task(tmp_path, 100, "python3", 500 * tick, 0)             # the event loop: measured by its own clock
    _fake_task(tmp_path, 101, "event_engine", 2 * tick, tick)       # gRPC
    _fake_task(tmp_path, 102, "grpc_global_tim", 0, tick)           # gRPC
    _fake_task(tmp_path, 103, CHECKPOINT_THREAD, tick, tick)        # the cadastre's checkpointer
    _fake_task(tmp_path, 104, "python3", 7 * tick, 0)               # unnamed: LevelDB's compaction
    _fake_task(tmp_path, 105, "a (b) c", 3 * tick, 0)               # a name with spaces and parentheses
    assert read_threads(100, str(tmp_path)) == {
        "101": ("grpc_threads", 3.0), "102": ("grpc_threads", 1.0), "103": ("checkpoint_thread", 2.0),
        "104": (None, 7.0), "105": (None, 3.0)}
    parts = ThreadParts(100, str(tmp_path)).read(off_loop_seconds=16.0)
    assert parts == {"grpc_threads": 4.0, "checkpoint_thread": 2.0, "other_threads": 10.0}
    assert read_threads(100, str(tmp_path / "missing")) is None  # no /proc: not told apart
    assert ThreadParts(100, str(tmp_path / "missing")).read(1.0) is None


def test_thread_parts_never_go_down_when_a_thread_ends_or_ticks_round(tmp_path):
    """They are Prometheus counters: a drop reads as a restart of the node."""
    import os
    import shutil

    tick = os.sysconf("SC_CLK_TCK")
    _fake_task(tmp_path, 101, "event_engine", 3 * tick, 0)
    _fake_task(tmp_path, 102, "event_engine", 2 * tick, 0)
    parts = ThreadParts(100, str(tmp_path))
    assert parts.read(off_loop_seconds=6.0) == {"grpc_threads": 5.0, "checkpoint_thread": 0.0, "other_threads": 1.0}
    shutil.rmtree(tmp_path / "102")               # gRPC's pool shrank: thread 102 ended
    (tmp_path / "101" / "stat").unlink()
    (tmp_path / "101").rmdir()
    _fake_task(tmp_path, 101, "event_engine", 4 * tick, 0)
    _fake_task(tmp_path, 102, "python3", 1 * tick, 0)  # its id now names another, unnamed thread
    got = parts.read(off_loop_seconds=7.0)
    assert got["grpc_threads"] == 6.0               # 4 of the living thread + the 2 the ended one had used
    assert got["other_threads"] == 1.0              # 7 - 6 = 1: not below what it was
    # The process clock read a little behind the ticks: the remainder holds, it does not drop.
    assert parts.read(off_loop_seconds=6.5)["other_threads"] == 1.0


def test_a_named_thread_shows_under_its_name_with_the_cpu_it_used():
    import os

    if not os.path.isdir("/proc/self/task"):
        assert read_threads(threading.get_native_id()) is None
        return
    meter = CpuMeter()
    before = meter.snapshot()["threads"]
    seen = []

    def work():
        name_os_thread(CHECKPOINT_THREAD)
        _burn(0.3)
        # Read while this thread still runs: a thread that has ended is gone from /proc/self/task.
        seen.append(meter.snapshot()["threads"])

    t = threading.Thread(target=work)
    t.start()
    t.join(timeout=5)
    assert before["checkpoint_thread"] == 0.0
    assert seen[0]["checkpoint_thread"] >= 0.25


def test_the_checkpointer_names_its_thread(tmp_path):
    import os
    import sqlite3

    from cadastre.checkpoint import WalCheckpointer

    path = str(tmp_path / "c.sqlite")
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").fetchone()
    ckpt = WalCheckpointer(path)
    try:
        ckpt.poke()
        assert ckpt.wait_idle(5.0)
        if os.path.isdir("/proc/self/task"):
            tid = ckpt._thread.native_id
            with open(f"/proc/self/task/{tid}/comm") as f:
                assert f.read().strip() == CHECKPOINT_THREAD
    finally:
        ckpt.close()
