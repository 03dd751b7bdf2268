"""The scenarios of the benchmark report, one function each, run one after another.

Each returns a JSON-able dict of what it measured (errors, refusals and timeouts included)
and, where it drove load, keeps its Recorder for the plots. Every wait is bounded: a phase
that cannot finish records why and the run goes on.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time

import grpc
import httpx

from benchmarks.common import ed25519_verify_rate, latency_summary, node_pipeline_reference
from benchmarks.loadgen import consortium, profile
from benchmarks.loadgen.drivers import DEFAULT_GRPC_MODE, EventStream, GrpcDriver, HttpDriver
from benchmarks.loadgen.records import Recorder
from benchmarks.loadgen.runner import closed_loop, match_notifications, open_loop, run_flow
from benchmarks.loadgen.ui import Ui
from benchmarks.loadgen.workload import CheckStep, TxStep, Workload
from proto import tamga_pb2 as pb
from proto import tamga_pb2_grpc as pbg
from tests.cluster_harness import ROOT

CHAIN_ID = "tamga-local-1"
NODES = ["moj", "gov4c", "bank", "nitec"]
PLEDGES_ONLY = {"pledge": 1}


@dataclasses.dataclass
class Settings:
    quick: bool = False
    people: int = 3000
    objects: int = 30_000
    lone: int = 30
    normal_s: float = 240.0
    peak_s: float = 600.0
    normal_per_hour: float = 360.0
    peak_per_hour: float = 2000.0
    sat_clients: tuple[int, ...] = (4, 16, 64, 256, 1024, 2048)
    sat_step_s: float = 30.0
    sat_warmup_s: float = 5.0
    profile_s: float = 30.0
    recovery_down_s: float = 10.0
    recovery_load_per_s: float = 5.0
    catchup_blocks: int = 10_000
    catchup_produce_max_s: float = 480.0
    # How the generator's gRPC clients talk to the Ledger (drivers.GRPC_MODES): "stream"
    # (SubmitStream), "one" (SubmitAndWait) or "two" (Submit, then WaitTx).
    grpc_mode: str = DEFAULT_GRPC_MODE

    @classmethod
    def quick_settings(cls, **kw) -> "Settings":
        quick = dict(quick=True, people=300, objects=3000, lone=8, normal_s=30.0, peak_s=40.0, sat_clients=(4, 32, 128), sat_step_s=6.0,
                     sat_warmup_s=2.0, profile_s=6.0, recovery_down_s=3.0, catchup_blocks=300, catchup_produce_max_s=120.0)
        return cls(**{**quick, **kw})


def http_route(step, client: int) -> str:
    """Who submits where, as in the pilot: banks to their own node, the registrar to the State
    Corporation's, citizens through the e-government portal's operator (NITEC)."""
    if isinstance(step, CheckStep):
        return "bank"
    assert isinstance(step, TxStep)
    if step.label.startswith("application.decide"):
        return "gov4c"
    if step.label.startswith("pledge"):
        return "bank"
    return "nitec"


class CpuMeter:
    """CPU used by the generator and by each node process between start() and stop()."""

    def __init__(self, cluster):
        self.cluster = cluster

    def start(self) -> "CpuMeter":
        self.t0 = time.monotonic()
        self.g0 = consortium.generator_cpu_seconds()
        self.n0 = {n: (self.cluster.procs[n].pid if n in self.cluster.procs else None, self.cluster.cpu_seconds(n)) for n in self.cluster.names}
        self.m0 = {n: self.cluster.main_thread_cpu_seconds(n) for n in self.cluster.names}
        return self

    def stop(self) -> dict:
        wall = max(1e-9, time.monotonic() - self.t0)
        gen = consortium.generator_cpu_seconds() - self.g0
        nodes = {}
        main = 0.0
        for n, (pid, c0) in self.n0.items():
            same = n in self.cluster.procs and self.cluster.procs[n].pid == pid and self.cluster.alive(n)
            nodes[n] = round(self.cluster.cpu_seconds(n) - c0, 2) if same else None
            if same:
                main += self.cluster.main_thread_cpu_seconds(n) - self.m0[n]
        total = sum(v for v in nodes.values() if v is not None)
        cores = os.cpu_count() or 1
        return {
            "wall_s": round(wall, 2),
            "generator_cpu_s": round(gen, 2),
            "generator_cores": round(gen / wall, 3),
            "nodes_cpu_s": nodes,
            "nodes_cores": round(total / wall, 3),
            # Node CPU off the event loop: LevelDB compaction (what grows with the chain),
            # cadastre checkpoints, gRPC's threads (and py-spy, when one is attached).
            "nodes_off_loop_pct": round(100 * (1 - main / total), 1) if total > 0 else None,
            "machine_cores": cores,
            "machine_busy_pct": round(100 * (gen + total) / wall / cores, 1),
        }


def _summary(rec: Recorder, window=None) -> dict:
    return {
        "txs": len(rec.txs),
        "outcomes": rec.outcomes(),
        "errors": rec.codes("error"),
        "refusals": rec.codes("refused"),
        "timeouts": rec.codes("timeout"),
        "commit": rec.commit_latency(window),
        "notification": rec.notify_latency(window),
        "notifications_missing": rec.notifications_missing(),
        "by_label": rec.by_label(),
        "by_request": {k: {**v, "not_completed": dict(v["not_completed"])} for k, v in rec.request_summary().items()},
        "checks": rec.check_latency(),
    }


# --- reference -------------------------------------------------------------------------------
def reference(seconds: float) -> dict:
    """The machine's raw single-core Ed25519 verify rate, measured now (PyNaCl)."""
    return {"ed25519_verify_per_s": round(ed25519_verify_rate(seconds)), "cpus": os.cpu_count()}


def signature_bound(verify_per_s: float, cores: int, nodes: int, signatures_per_tx: float) -> float:
    """Committed tx/s if verifying signatures were all the nodes did: each node verifies each
    tx's signatures once (node/envelope.py; blocks reuse what the mempool verified), and the
    nodes share the machine's cores."""
    return cores * verify_per_s / (nodes * signatures_per_tx)


# --- lone transactions -----------------------------------------------------------------------
async def lone(ctx, n: int) -> dict:
    """One request at a time on an idle consortium: pledge.file then the decision, over HTTP
    (submit-and-wait) and over gRPC (Submit + WaitTx), 300 ms apart."""
    out = {}
    for name, driver, route in (("http", ctx.http, http_route), ("grpc", ctx.grpc, lambda step, c: "bank" if step.label.startswith("pledge") else "gov4c")):
        rec = Recorder()
        with ctx.ui.phase(f"lone registrations ({name})", n) as update:
            for i in range(n):
                flow = ctx.workload.plan(1, mix=PLEDGES_ONLY, txs_only=True)[0]
                await run_flow(flow, driver, route, rec)
                update(i + 1)
                await asyncio.sleep(0.3)
        ctx.recorders[f"lone_{name}"] = rec
        out[name] = _summary(rec)
    return out


# --- the pilot's loads: open loop over HTTP ------------------------------------------------------
async def open_phase(ctx, key: str, per_hour: float, duration_s: float) -> dict:
    rate = per_hour / 3600
    streams = await _streams(ctx)
    rec = Recorder()
    cpu = CpuMeter(ctx.cluster).start()
    expected = max(1, round(rate * duration_s))
    with ctx.ui.phase(f"{key}: {per_hour:.0f} requests/hour for {duration_s / 60:.1f} min (open loop, HTTP)", expected) as update:
        # At the pilot's rates the generator is idle: each request is planned and signed when it
        # is due, so discharges find the pledges registered earlier in the phase.
        task = asyncio.create_task(open_loop(lambda: ctx.workload.plan(1)[0], ctx.http, http_route, rec, rate_per_s=rate, duration_s=duration_s,
                                             progress=lambda d: update(d)))
        start = time.monotonic()
        while not task.done():
            await asyncio.sleep(1.0)
            done = sum(1 for r in rec.requests if r.t_end is not None)
            update(min(expected, len(rec.requests)), f"{done} done, {rec.outcomes()['applied']} applied, {time.monotonic() - start:.0f} s")
        t0, t1 = task.result()
    cpu_used = cpu.stop()
    await asyncio.sleep(3.0)  # notifications of the last commits
    match_notifications(rec, streams)
    for s in streams.values():
        await s.stop()
    ctx.recorders[key] = rec
    return {
        "requests_per_hour": per_hour,
        "duration_s": duration_s,
        "requests": len(rec.requests),
        "tx_per_hour_offered": round(len(rec.txs) / max(1e-9, t1 - t0) * 3600),
        "window": [t0, t1],
        **_summary(rec),
        "start_lag_ms": latency_summary(rec.start_lag_ms),
        "streams": {k: {"events": s.events, "reconnects": s.reconnects, "errors": s.errors[:5]} for k, s in streams.items()},
        "cpu": cpu_used,
    }


async def _streams(ctx) -> dict:
    streams = {"moj": EventStream(ctx.cluster.http_url("moj"), ctx.pop.moj, CHAIN_ID, "moj")}
    for b in ctx.pop.banks:
        streams["bank:" + b.bin] = EventStream(ctx.cluster.http_url("bank"), b, CHAIN_ID, b.name)
    for s in streams.values():
        node = "moj" if s is streams["moj"] else "bank"
        st = await ctx.http.status(node)
        await s.start(st["cadastre_height"])
    return streams


# --- saturation: closed loop over gRPC -------------------------------------------------------------
async def saturation(ctx, clients_steps, step_s: float, warmup_s: float) -> dict:
    steps = []
    best = None
    est_rate = 200.0
    for i, n in enumerate(clients_steps):
        step = await _closed_step(ctx, f"saturation N={n}", n, step_s, warmup_s, est_rate)
        steps.append(step)
        est_rate = max(est_rate, step["committed_tx_per_s"])
        grew = best is None or step["committed_tx_per_s"] > best["committed_tx_per_s"] * 1.03
        if best is None or step["committed_tx_per_s"] > best["committed_tx_per_s"]:
            best = step
        if not grew and i >= 2:
            break
    sigs = [t.signatures for k in ctx.recorders if k.startswith("saturation N=") for t in ctx.recorders[k].committed()]
    return {"steps": steps, "best": best, "signatures_per_tx": round(sum(sigs) / len(sigs), 3) if sigs else None, "grpc_mode": ctx.grpc.mode}


async def _closed_step(ctx, key: str, clients: int, step_s: float, warmup_s: float, est_rate: float, *, record: bool = True) -> dict:
    rec = Recorder()
    initial = max(clients * 2, int(est_rate * 2.5 * (step_s + 10) / 1.6))
    flows = collections.deque(ctx.workload.plan(initial, txs_only=True))
    refills = [0]

    def refill(k: int):
        refills[0] += k
        return ctx.workload.plan(k, txs_only=True)

    names = ctx.cluster.names
    route = lambda step, c: names[c % len(names)]  # noqa: E731 - spread clients over the four nodes
    reference_us = await _pipeline_reference(ctx) if getattr(ctx, "step_reference", False) else None
    # How much chain the step starts on: every step runs on the chain the ones before it
    # grew, and a node's cost per tx grows with it (the cadastre's indexes above all).
    chain_at_start = {"height": await _height(ctx, names),
                      "txs_before": sum(len(r.committed()) for r in ctx.recorders.values())}
    cpu = CpuMeter(ctx.cluster).start()
    parts0 = await _cpu_parts(ctx, names)
    with ctx.ui.phase(f"{key} (closed loop, gRPC {ctx.grpc.mode}, {step_s:.0f} s)", step_s) as update:
        task = asyncio.create_task(closed_loop(flows, ctx.grpc, route, rec, clients=clients, duration_s=step_s, refill=refill))
        start = time.monotonic()
        while not task.done():
            await asyncio.sleep(0.5)
            el = time.monotonic() - start
            recent = rec.committed_rate((time.monotonic() - 2.0, time.monotonic()))
            update(min(step_s, el), f"{recent:.0f} tx/s now, {len(rec.committed())} committed")
        t0, t1 = task.result()
    cpu_used = cpu.stop()
    parts1 = await _cpu_parts(ctx, names)
    ctx.workload.unplan(list(flows))
    window = (t0 + warmup_s, t1)
    if record:
        ctx.recorders[key] = rec
    out = {
        "clients": clients,
        "window_s": round(window[1] - window[0], 2),
        "committed_tx_per_s": round(rec.committed_rate(window), 1),
        "applied_tx_per_s": round(sum(1 for t in rec.txs if t.outcome == "applied" and window[0] <= t.t_commit < window[1]) / (window[1] - window[0]), 1),
        "commit": rec.commit_latency(window),
        "outcomes": rec.outcomes(),
        "errors": rec.codes("error"),
        "refusals": rec.codes("refused"),
        "timeouts": rec.codes("timeout"),
        "flows_planned_during_run": refills[0],
        "mix": dict(collections.Counter(t.label for t in rec.committed() if window[0] <= t.t_commit < window[1]).most_common()),
        "cpu": cpu_used,
        "cpu_by_part_us_per_tx": _per_tx_by_part(parts0, parts1, sum(1 for t in rec.committed() if t0 <= t.t_commit <= t1)),
        "chain_at_start": chain_at_start,
        "pipeline_reference_us_per_tx": reference_us,
        "t0": t0,
    }
    return out


async def _pipeline_reference(ctx) -> float | None:
    """The in-process pipeline reference (benchmarks.common.node_pipeline_reference), taken
    while the consortium is idle between steps; None, said aloud, when it could not run."""
    try:
        return round(await asyncio.to_thread(node_pipeline_reference, python=getattr(ctx, "python", sys.executable)), 1)
    except RuntimeError as exc:
        ctx.ui.say(f"[yellow]the in-process pipeline reference did not run: {exc}[/yellow]")
        return None


async def _cpu_parts(ctx, names) -> dict[str, dict[str, float] | None]:
    """Each node's CPU seconds by part (node/cpu_meter.py), None for a node that did not answer."""
    async def one(n):
        try:
            return await ctx.http.cpu_parts(n)
        except Exception:  # noqa: BLE001 - a node down or restarting: its parts are unknown
            return None
    return dict(zip(names, await asyncio.gather(*(one(n) for n in names))))


def _per_tx_by_part(before: dict, after: dict, committed: int) -> dict | None:
    """µs of CPU per committed tx in each part, the mean of the nodes read at both ends of
    the step (a node restarted in between reads less after than before, and is left out)."""
    nodes = [n for n in before if before[n] and after.get(n) and all(after[n].get(k, 0) >= v for k, v in before[n].items())]
    if not nodes or not committed:
        return None
    parts = sorted({k for n in nodes for k in after[n]})
    return {
        "nodes": len(nodes),
        "parts": {k: round(sum(after[n].get(k, 0) - before[n].get(k, 0) for n in nodes) / len(nodes) / committed * 1e6, 1) for k in parts},
    }


async def _height(ctx, names) -> int | None:
    """The head height of the first node that answers; None when none does (a bookkeeping
    column is no reason to fail a step)."""
    for n in names:
        with contextlib.suppress(httpx.HTTPError):
            return (await ctx.http.status(n))["height"]
    return None


# --- profile of one node under saturation -------------------------------------------------------------
async def profile_phase(ctx, clients: int, seconds: float, node: str = "moj") -> dict:
    spy = profile.py_spy()
    if spy is None:
        return {"ok": False, "why": "py-spy is not installed (.venv/bin/pip install py-spy)"}
    out_file = os.path.join(ctx.out, f"profile-{node}.txt")
    ctx.cluster.kill(node, signal.SIGTERM)
    # --native: the compiled modules (node/native.py) have no Python frames, so only native
    # stacks show them (and libsodium's and LevelDB's own functions). py-spy then pauses the
    # node for each sample (it cannot unwind native stacks otherwise), which slows it a little.
    ctx.cluster.start(node, wrapper=[spy, "record", "--native", "--rate", "100", "--format", "raw", "--output", out_file, "--"])
    try:
        await asyncio.to_thread(ctx.cluster.wait_ready, node, 120)
        await asyncio.to_thread(ctx.cluster.wait_api, node, 120)
        step = await _closed_step(ctx, f"profile N={clients}", clients, seconds, min(2.0, seconds / 4), ctx.best_rate, record=False)
    finally:
        await asyncio.to_thread(consortium.stop_profiled, ctx.cluster, node)
        ctx.cluster.start(node)
        await asyncio.to_thread(ctx.cluster.wait_ready, node, 120)
        await asyncio.to_thread(ctx.cluster.wait_api, node, 180)
    if not os.path.exists(out_file):
        return {"ok": False, "why": f"py-spy wrote no samples; see {ctx.cluster.dir}/{node}.stderr.log", "step": step}
    return {"ok": True, "node": node, "file": os.path.basename(out_file), "step": step, **profile.summarise(out_file)}


# --- recovery after kill -9 ---------------------------------------------------------------------------
async def recovery(ctx, down_s: float, load_per_s: float, victim: str = "nitec", bound_s: float = 90.0) -> dict:
    """Kill -9 one validator under light load, restart it, and time: restart to answering,
    restart to current (its height at the head of the others), restart to voting (its
    precommit in a commit certificate of a block decided after the restart)."""
    live = [n for n in ctx.cluster.names if n != victim]
    idx = ctx.cluster.names.index(victim)  # genesis lists validators in this order
    stubs = {n: pbg.LedgerStub(grpc.aio.insecure_channel(ctx.cluster.configs[n].ledger_listen)) for n in ctx.cluster.names}
    rec = Recorder()
    stop = asyncio.Event()

    async def load():
        i = 0
        while not stop.is_set():
            flow = ctx.workload.plan(1, txs_only=True)[0]
            asyncio.create_task(run_flow(flow, ctx.grpc, lambda step, c: live[c % len(live)], rec, i))
            i += 1
            await asyncio.sleep(1 / load_per_s)

    loader = asyncio.create_task(load())
    out: dict = {"victim": victim, "down_s": down_s, "load_requests_per_s": load_per_s}
    try:
        await asyncio.sleep(2.0)
        killed_at_height = (await stubs[victim].Status(pb.StatusRequest(), timeout=2)).height
        ctx.cluster.kill(victim)  # SIGKILL
        await asyncio.sleep(down_s)
        head_at_restart = await _max_height(stubs, live)
        t_restart = time.monotonic()
        ctx.cluster.start(victim)
        out.update(killed_at_height=killed_at_height, head_at_restart=head_at_restart, blocks_missed=head_at_restart - killed_at_height)
        t_answer = t_current = t_voting = None
        voting_height = None
        scanned = head_at_restart
        deadline = t_restart + bound_s
        while time.monotonic() < deadline and (t_current is None or t_voting is None):
            await asyncio.sleep(0.05)
            if not ctx.cluster.alive(victim):
                out["failure"] = f"{victim} exited with {ctx.cluster.procs[victim].returncode} after the restart"
                break
            try:
                st = await stubs[victim].Status(pb.StatusRequest(), timeout=1)
            except grpc.RpcError:
                continue
            now = time.monotonic()
            t_answer = t_answer or now
            head = await _max_height(stubs, live)
            if t_current is None and st.height >= head:
                t_current = now
            while t_voting is None and scanned < head:
                h = scanned + 1
                if await _signed_by(stubs["moj"], h, idx):
                    t_voting, voting_height = time.monotonic(), h
                scanned = h
        out.update(
            restart_to_answering_s=_secs(t_answer, t_restart),
            restart_to_current_s=_secs(t_current, t_restart),
            restart_to_voting_s=_secs(t_voting, t_restart),
            voting_height=voting_height,
            bound_s=bound_s,
        )
        if t_voting is None and "failure" not in out:
            out["failure"] = f"no commit certificate up to height {scanned} carries {victim}'s precommit within {bound_s:.0f} s of the restart"
    finally:
        stop.set()
        await loader
        await asyncio.sleep(3.0)
        out["load"] = {"txs": len(rec.txs), "outcomes": rec.outcomes(), "errors": rec.codes("error"), "timeouts": rec.codes("timeout"),
                       "commit": rec.commit_latency()}
        ctx.recorders["recovery"] = rec
    return out


async def _max_height(stubs, names) -> int:
    hs = []
    for n in names:
        with contextlib.suppress(grpc.RpcError):
            hs.append((await stubs[n].Status(pb.StatusRequest(), timeout=1)).height)
    return max(hs) if hs else 0


async def _signed_by(stub, height: int, index: int) -> bool:
    """Does the certificate moj stored for `height`, or the one the next block carries, hold
    a precommit of validator `index`?"""
    got = await stub.GetBlock(pb.GetBlockRequest(height=height), timeout=5)
    if any(s.validator_index == index for s in pb.CommitCertificate.FromString(got.commit).signatures):
        return True
    block = pb.Block.FromString(got.block)
    if block.last_commit:
        # The last commit of block h names the precommits for h-1 the proposer of h gathered.
        return any(s.validator_index == index for s in pb.CommitCertificate.FromString(block.last_commit).signatures)
    return False


def _secs(t, t0) -> float | None:
    return None if t is None else round(t - t0, 3)


# --- the auditor -------------------------------------------------------------------------------------------
def chain_verify(data_dir: str, code_root: str = ROOT, timeout_s: float = 1200.0) -> dict:
    """`tamga chain verify --json` over a stopped node's store, as an auditor runs it."""
    start = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-m", "cli.main", "chain", "verify", "--data-dir", data_dir, "--json"], cwd=code_root,
                           capture_output=True, text=True, timeout=timeout_s, env={**os.environ, **consortium.node_env(code_root)})
    except subprocess.TimeoutExpired:
        return {"ok": False, "why": f"did not finish within {timeout_s:.0f} s"}
    wall = time.monotonic() - start
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        return {"ok": False, "exit": p.returncode, "why": (p.stderr or p.stdout)[-2000:]}
    secs = rep.get("seconds") or 0
    return {
        "ok": bool(rep.get("ok")), "exit": p.returncode, "blocks": rep.get("blocks"), "txs": rep.get("txs"), "seconds": secs, "wall_s": round(wall, 2),
        "tx_per_s": round(rep["txs"] / secs, 1) if secs else None, "blocks_per_s": round(rep["blocks"] / secs, 1) if secs else None,
        "findings": rep.get("findings", [])[:10],
    }


# --- catch-up after missing many blocks ------------------------------------------------------------------
# Empty blocks as fast as three nodes agree. Short timeouts: with a validator down, a quarter of
# the heights wait out the absent proposer's propose timeout (1 s by default, ~1 block/s); and
# a short gossip interval, because a node that decides through a peer's message sleeps until
# its next timer before it proposes an empty block (see the report's "what went wrong").
CATCHUP_CONSENSUS = {
    "empty_block_interval_ms": 1, "gossip_interval_ms": 20,
    "timeout_propose_ms": 30, "timeout_propose_delta_ms": 10,
    "timeout_prevote_ms": 30, "timeout_prevote_delta_ms": 10,
    "timeout_precommit_ms": 30, "timeout_precommit_delta_ms": 10,
}

async def catchup(out_dir: str, blocks: int, produce_max_s: float, ui: Ui, victim: str = "nitec", freezer: str = "bank", code_root: str = ROOT) -> dict:
    """A separate consortium whose genesis sets empty_block_interval_ms to 1 (and short
    timeouts, CATCHUP_CONSENSUS), so the three live nodes write empty blocks as fast as they agree. The victim is stopped at the start;
    once the others are `blocks` ahead, a second node is stopped so the head stands still (two
    of four cannot commit), and the victim restarts: catch-up = blocks it fetched, checked
    (commit certificates) and re-executed per second until it is at that head. Its return
    completes the quorum, so the time until blocks are committed again is measured too."""
    directory = os.path.join(out_dir, "catchup-cluster")
    cluster, _ = consortium.create(directory, people=1, objects=0, register=False, consensus=CATCHUP_CONSENSUS, code_root=code_root)
    out: dict = {"blocks_target": blocks, "victim": victim, "consensus": CATCHUP_CONSENSUS}
    try:
        await asyncio.to_thread(consortium.start, cluster)
        victim_h = cluster.height(victim)
        cluster.kill(victim)
        h0 = cluster.height("moj")
        t0 = time.monotonic()
        with ui.phase(f"catch-up: the others write {blocks} blocks without {victim}", blocks) as update:
            while True:
                await asyncio.sleep(0.5)
                h = cluster.height("moj")
                update(min(blocks, h - h0), f"height {h}")
                if h - h0 >= blocks or time.monotonic() - t0 > produce_max_s:
                    break
        produced_s = time.monotonic() - t0
        cluster.kill(freezer, signal.SIGTERM)
        await asyncio.sleep(1.0)
        head = max(cluster.height(n) for n in cluster.names if cluster.alive(n))
        victim_start = victim_h
        out.update(produced_blocks=head - h0, produce_s=round(produced_s, 1), produce_blocks_per_s=round((head - h0) / produced_s, 1), head=head)
        if head - h0 < blocks:
            out["note"] = f"the three nodes wrote {head - h0} blocks in the {produce_max_s:.0f} s allowed, fewer than {blocks}"
        t_restart = time.monotonic()
        cluster.start(victim)
        t_caught = None
        with ui.phase(f"catch-up: {victim} fetches {head - victim_start} blocks", head) as update:
            deadline = t_restart + 1800
            while time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                if not cluster.alive(victim):
                    out["failure"] = f"{victim} exited with {cluster.procs[victim].returncode}"
                    break
                with contextlib.suppress(grpc.RpcError):
                    victim_h = cluster.height(victim)
                    update(victim_h, f"height {victim_h}")
                    if victim_h >= head:
                        t_caught = time.monotonic()
                        break
        if t_caught is None:
            out.setdefault("failure", f"{victim} did not reach height {head} (at {victim_h})")
        else:
            secs = t_caught - t_restart
            out.update(catchup_s=round(secs, 2), catchup_blocks=head - victim_start, catchup_blocks_per_s=round((head - victim_start) / secs, 1))
            t_live = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with contextlib.suppress(grpc.RpcError):
                    if cluster.height("moj") > head:
                        t_live = time.monotonic()
                        break
                await asyncio.sleep(0.05)
            out["restart_to_commits_again_s"] = _secs(t_live, t_restart)
        log = cluster.log(victim)
        out["victim_log_caught_up"] = [line for line in log.splitlines() if '"caught up"' in line or "caught up" in line][-3:]
    finally:
        await asyncio.to_thread(cluster.stop_all)
    out["verify"] = chain_verify(cluster.data_dir(victim), code_root)
    return out
