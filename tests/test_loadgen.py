"""The load generator against a real 4-node consortium, for a few seconds: it counts what the
ledger says. Deliberately bad requests are mixed in -- decisions on applications that do not
exist (committed, refused) and envelopes whose signature does not verify (refused at the
door) -- and every count the generator reports is checked against the chain itself, so a
generator that hid a refusal, an error or a commit would fail here. No speed is asserted."""

from __future__ import annotations

import asyncio
import collections

import pytest

from benchmarks.loadgen import consortium, phases
from benchmarks.loadgen.drivers import EventStream, GrpcDriver, HttpDriver
from benchmarks.loadgen.records import Recorder
from benchmarks.loadgen.runner import closed_loop, match_notifications, open_loop
from benchmarks.loadgen.workload import Workload
from proto import tamga_pb2 as pb

pytestmark = pytest.mark.processes

MIX = {"pledge": 6, "discharge": 2, "sale": 2, "claim": 2, "check": 2}


def planned(wl: Workload, n: int, **kw):
    """n flows by the mix, with two of each deliberately bad kind among the first ones."""
    bad = wl.plan(2, mix={"bad_refused": 1}) + wl.plan(2, mix={"bad_error": 1})
    good = wl.plan(n, **kw)
    return good[:1] + bad[:2] + good[1:2] + bad[2:] + good[2:]


@pytest.fixture
def consortium_4(tmp_path):
    cluster, pop = consortium.create(str(tmp_path / "cluster"), people=60, objects=300)
    consortium.start(cluster)
    yield cluster, pop
    cluster.stop_all()


def chain_receipts(cluster, node: str = "moj") -> dict[bytes, tuple[int, str, str]]:
    """tx id -> (height, status, code) for every tx in every block of the node's chain."""
    out = {}
    stub = cluster.ledger(node)
    head = cluster.height(node)
    for h in range(1, head + 1):
        got = stub.GetBlock(pb.GetBlockRequest(height=h), timeout=10)
        for r in pb.ReceiptList.FromString(got.receipts).receipts:
            out[r.tx_id] = (h, r.status, r.code)
    return out


def test_counts_commits_refusals_and_errors_as_the_chain_records_them(consortium_4):
    cluster, pop = consortium_4
    wl = Workload(pop, phases.CHAIN_ID, mix=MIX)

    async def drive():
        http = HttpDriver({n: cluster.http_url(n) for n in cluster.names}, phases.CHAIN_ID)
        grpc_ = GrpcDriver({n: cluster.configs[n].ledger_listen for n in cluster.names})
        streams = {"moj": EventStream(cluster.http_url("moj"), pop.moj, phases.CHAIN_ID, "moj")}
        for b in pop.banks:
            streams["bank:" + b.bin] = EventStream(cluster.http_url("bank"), b, phases.CHAIN_ID, b.name)
        for s in streams.values():
            await s.start(0)
        try:
            rec_open = Recorder()
            await open_loop(planned(wl, 60), http, phases.http_route, rec_open, rate_per_s=8, duration_s=4, poisson=False)
            rec_closed = Recorder()
            names = cluster.names
            meter = phases.CpuMeter(cluster).start()
            await closed_loop(collections.deque(planned(wl, 400, txs_only=True)), grpc_, lambda step, c: names[c % 4], rec_closed, clients=8, duration_s=3)
            cpu = meter.stop()
            # Each node's event-loop thread is part of its process's CPU, never more.
            assert all(v is not None and v > 0 for v in cpu["nodes_cpu_s"].values()), cpu
            assert 0 <= cpu["nodes_off_loop_pct"] < 100, cpu
            assert all(0 < cluster.main_thread_cpu_seconds(n) <= cluster.cpu_seconds(n) for n in names)
            await asyncio.sleep(2.0)
            for rec in (rec_open, rec_closed):
                match_notifications(rec, streams)
            return rec_open, rec_closed
        finally:
            for s in streams.values():
                await s.stop()
            await http.close()
            await grpc_.close()

    rec_open, rec_closed = asyncio.run(drive())
    on_chain = chain_receipts(cluster)
    for rec in (rec_open, rec_closed):
        outcomes = rec.outcomes()
        assert outcomes["unfinished"] == 0 and outcomes["timeout"] == 0, outcomes
        # Every tx the generator counts as committed is in a block with the status it reported ...
        for t in rec.committed():
            height, status, code = on_chain[t.tx_id]
            assert (t.height, t.outcome, t.code) == (height, status, code)
        # ... every error is a tx the chain never took ...
        errors = [t for t in rec.txs if t.outcome == "error"]
        assert errors and all(t.flow == "bad_error" and "BAD_SIGNATURE" in t.code for t in errors)
        # ... and the deliberately bad decisions are counted as refused, with the contract's code.
        refused = [t for t in rec.txs if t.outcome == "refused"]
        assert refused and {t.code for t in refused} == {"APPLICATION_NOT_FOUND"}
        assert len(refused) == sum(1 for t in rec.txs if t.flow == "bad_refused")
        assert sum(outcomes.values()) == len(rec.txs)
        assert rec.codes("refused") == {"APPLICATION_NOT_FOUND": len(refused)}
    # The flows went all the way: pledges registered (filing and decision both committed).
    decided = [t for t in rec_open.txs + rec_closed.txs if t.label == "application.decide (pledge)" and t.outcome == "applied"]
    assert decided and all(t.code == "REGISTERED" for t in decided)
    # Every applied tx of the open loop (HTTP) was notified to the party it concerns.
    assert rec_open.notifications_missing() == 0
    assert all(t.t_notified is not None for t in rec_open.txs if t.outcome == "applied")
    # No tx reached the chain that the generator does not know of.
    known = {t.tx_id for rec in (rec_open, rec_closed) for t in rec.txs if t.tx_id}
    assert set(on_chain) <= known
    assert wl.retired == {}


def test_the_reports_cpu_per_committed_tx_counts_every_node_and_every_commit_of_the_step():
    from benchmarks.loadgen.report import _cpu_per_tx

    step = {"cpu": {"nodes_cpu_s": {"a": 1.5, "b": 1.5, "c": 2.0, "d": 1.0}}, "outcomes": {"applied": 2900, "refused": 100}}
    assert _cpu_per_tx(step) == "2.00 ms"  # 6 CPU-s over 3,000 committed txs (refusals are committed too)
    restarted = {"cpu": {"nodes_cpu_s": {"a": 1.5, "b": None, "c": 2.0, "d": 1.0}}, "outcomes": {"applied": 3000, "refused": 0}}
    assert _cpu_per_tx(restarted) == "n/a"  # a node's CPU is unknown: no figure rather than a low one
    assert _cpu_per_tx({"cpu": {"nodes_cpu_s": {"a": 1.0}}, "outcomes": {"applied": 0, "refused": 0}}) == "n/a"


def test_cpu_by_part_is_the_mean_over_the_nodes_read_at_both_ends_per_committed_tx():
    from benchmarks.loadgen.report import _cpu_parts_table

    before = {"a": {"admission": 1.0, "commit": 0.5}, "b": {"admission": 2.0, "commit": 0.5}, "c": None, "d": {"admission": 9.0, "commit": 1.0}}
    after = {"a": {"admission": 1.3, "commit": 0.6}, "b": {"admission": 2.1, "commit": 0.7}, "c": {"admission": 5.0, "commit": 1.0},
             "d": {"admission": 0.1, "commit": 0.0}}  # c did not answer at the start; d restarted (its counters began again)
    got = phases._per_tx_by_part(before, after, committed=1000)
    assert got == {"nodes": 2, "parts": {"admission": 200.0, "commit": 150.0}}  # (0.3 + 0.1) / 2 nodes / 1000 txs, (0.1 + 0.2) / 2 / 1000
    assert phases._per_tx_by_part(before, after, committed=0) is None
    assert phases._per_tx_by_part({"a": None}, {"a": {"admission": 1.0}}, committed=10) is None
    lines = []
    _cpu_parts_table(lines.append, [{"clients": 4, "cpu_by_part_us_per_tx": got, "pipeline_reference_us_per_tx": 250.0},
                                    {"clients": 16, "cpu_by_part_us_per_tx": None},
                                    {"clients": 64, "cpu_by_part_us_per_tx": got}])
    # The columns are the parts the steps have, in the pipeline's order; the node's total next
    # to the in-process pipeline measured before the step, and their ratio.
    assert lines[1] == "| clients N | admission | commit | total | in-process reference | total ÷ reference |"
    assert lines[3] == "| 4 | 200 | 150 | 350 | 250 | 1.40 |"
    assert lines[4] == "| 16 | n/a | n/a | n/a | – | n/a |"
    assert lines[5].endswith("| 350 | – | n/a |")  # no reference taken (benchmarks.ab, older results)
    # Nodes that tell their threads apart next to nodes that report them as one part (an older
    # version in benchmarks.ab): both kinds of column, a dash where a step has no such part.
    lines = []
    new_nodes = {"nodes": 4, "parts": {"admission": 100.0, "grpc_threads": 5.0, "checkpoint_thread": 3.0, "other_threads": 20.0}}
    old_nodes = {"nodes": 4, "parts": {"admission": 110.0, "threads": 30.0}}
    _cpu_parts_table(lines.append, [{"clients": 1024, "cpu_by_part_us_per_tx": new_nodes}, {"clients": 1024, "cpu_by_part_us_per_tx": old_nodes}])
    assert lines[1] == ("| clients N | admission | gRPC threads | cadastre checkpoints | LevelDB compaction (other threads) | other threads "
                        "| total | in-process reference | total ÷ reference |")
    assert lines[3] == "| 1024 | 100 | 5 | 3 | 20 | – | 128 | – | n/a |"
    assert lines[4] == "| 1024 | 110 | – | – | – | 30 | 140 | – | n/a |"
    lines = []
    _cpu_parts_table(lines.append, [{"clients": 4}])  # results from before the column: no table
    assert lines == []


def test_a_saturation_step_records_the_chain_it_started_on(consortium_4):
    """Each closed-loop step of the report says how long the chain was when it began (the
    steps run one after another on one chain, and a node's cost per tx grows with it)."""
    import types

    from benchmarks.loadgen.report import _chain_at_start
    from benchmarks.loadgen.ui import Ui

    cluster, pop = consortium_4

    async def drive():
        ctx = types.SimpleNamespace(
            cluster=cluster, pop=pop, workload=Workload(pop, phases.CHAIN_ID, mix={"pledge": 1}), recorders={}, ui=Ui(quiet=True),
            http=HttpDriver({n: cluster.http_url(n) for n in cluster.names}, phases.CHAIN_ID),
            grpc=GrpcDriver({n: cluster.configs[n].ledger_listen for n in cluster.names}))
        try:
            first = await phases._closed_step(ctx, "saturation N=4", 4, 3.0, 0.5, 20.0)
            ctx.step_reference = True  # as the report does: the in-process reference before the step
            second = await phases._closed_step(ctx, "saturation N=8", 8, 3.0, 0.5, 20.0)
            # The pilot-rate phase runs on the same consortium (and once broke on a name only
            # the closed-loop step defines).
            pilot = await phases.open_phase(ctx, "normal", 3600.0, 3.0)
        finally:
            await ctx.http.close()
            await ctx.grpc.close()
        return ctx, first, second, pilot

    ctx, first, second, pilot = asyncio.run(drive())
    assert pilot["requests_per_hour"] == 3600.0 and sum(pilot["outcomes"].values()) >= 1
    assert first["chain_at_start"]["txs_before"] == 0
    assert first["pipeline_reference_us_per_tx"] is None and second["pipeline_reference_us_per_tx"] > 0
    committed_in_first = len(ctx.recorders["saturation N=4"].committed())
    assert committed_in_first > 0
    assert second["chain_at_start"]["txs_before"] == committed_in_first
    # The first step's blocks lie between the two starts (moj may trail the node that
    # answered a client by a block, hence no exact bound).
    assert 0 <= first["chain_at_start"]["height"] < second["chain_at_start"]["height"]
    assert _chain_at_start(second) == f"{second['chain_at_start']['height']:,} / {committed_in_first:,}"
    assert _chain_at_start({}) == "n/a"  # results of a report from before the column
    # Every node answered /metrics at both ends: where their CPU went, per committed tx.
    by_part = second["cpu_by_part_us_per_tx"]
    assert by_part["nodes"] == 4
    for part in ("admission", "build", "validate", "commit", "cadastre", "loop_other"):
        assert by_part["parts"][part] > 0, part
    # Off the loop, by kind (gRPC's threads, the checkpointer, LevelDB's compaction): each
    # reported, and together more than nothing (a short step may leave one at zero ticks).
    off_loop = ("grpc_threads", "checkpoint_thread", "other_threads")
    assert set(off_loop) <= set(by_part["parts"]) and sum(by_part["parts"][p] for p in off_loop) > 0
    assert _chain_at_start({"chain_at_start": {"height": None, "txs_before": 1200}}) == "? / 1,200"  # no node answered


def test_the_chain_height_a_step_starts_on_comes_from_the_first_node_that_answers():
    import types

    import httpx

    class Http:
        def __init__(self, answers):
            self.answers = answers

        async def status(self, node):
            if self.answers.get(node) is None:
                raise httpx.ConnectError(f"{node} is down")
            return {"height": self.answers[node]}

    ctx = types.SimpleNamespace(http=Http({"moj": None, "gov4c": 42}))
    assert asyncio.run(phases._height(ctx, ["moj", "gov4c"])) == 42
    ctx = types.SimpleNamespace(http=Http({}))
    assert asyncio.run(phases._height(ctx, ["moj", "gov4c"])) is None
