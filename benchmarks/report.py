"""The benchmark report: one command creates a fresh consortium of four node processes,
drives it through its public APIs with EDS-signed requests, and writes report.md with PNG
plots into benchmarks/results/<timestamp>/ (or --out DIR).

    .venv/bin/python -m benchmarks.report [--quick] [--out DIR] [--json] [--phases lone,normal,...] [--grpc-mode stream|one|two]
        [--sat-clients 4,16,64,256,1024,2048]

How throughput changes as the chain grows, on a fresh consortium at one N:
    .venv/bin/python -m benchmarks.report --phases saturation --sat-clients 1024,1024,1024

Phases, in order (default durations; --quick shortens every one, for a look in ~4 minutes):
  reference   raw Ed25519 verify rate of this machine (2 s)
  lone        30 lone pledge registrations over HTTP and 30 over gRPC, one at a time (~1 min)
  normal      the pilot's normal load, 360 requests/hour, open loop over HTTP (4 min, ~24 requests)
  peak        the pilot's peak, 2,000 requests/hour, open loop over HTTP (10 min, ~330 requests)
  saturation  closed loop over gRPC, N = 4, 16, 64, 256, 1024 clients, 30 s each, until
              committed tx/s stops growing (2-3 min); before each step, while the consortium
              idles, one node's pipeline in one process (`bench_node_pipeline --txs 3000`,
              ~4 s) as a reference for how fast the machine is at that moment
The generator's gRPC clients use --grpc-mode: "stream" (default: one SubmitStream per node
carrying every client's envelopes), "one" (SubmitAndWait per tx) or "two" (Submit then
WaitTx per tx, as before SubmitAndWait existed); the report states which.
  profile     one node restarted under py-spy, 30 s at the best N (~1 min)
  recovery    kill -9 of one validator under light load, restart, time to voting (~30 s)
  verify      `tamga chain verify` over the whole chain of a stopped node (~1-2 min)
  catchup     a second consortium writes 10,000 empty blocks without one node (~6 min), which
              then catches up
The default run takes about 25 minutes on the 2-core machine. Needs the `bench` extra
(matplotlib) for the plots and py-spy for the profile (`.venv/bin/pip install matplotlib py-spy`);
without them the report says what is missing and the rest still runs.
Not a test: it reports numbers beside the pilot's figures and the targets; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import json
import os
import sys
import time
import traceback

from benchmarks.common import machine
from benchmarks.loadgen import consortium, phases
from benchmarks.loadgen import report as writer
from benchmarks.loadgen.drivers import DEFAULT_GRPC_MODE, GRPC_MODES, GrpcDriver, HttpDriver
from benchmarks.loadgen.phases import CHAIN_ID, Settings
from benchmarks.loadgen.ui import Ui
from benchmarks.loadgen.workload import Workload

ALL_PHASES = ["lone", "normal", "peak", "saturation", "profile", "recovery", "verify", "catchup"]


@dataclasses.dataclass
class Context:
    settings: Settings
    out: str
    ui: Ui
    cluster: consortium.BenchCluster | None = None
    pop: object = None
    workload: Workload | None = None
    http: HttpDriver | None = None
    grpc: GrpcDriver | None = None
    recorders: dict = dataclasses.field(default_factory=dict)
    best_rate: float = 200.0
    t_run0: float = 0.0
    code_root: str = ""
    step_reference: bool = False   # measure benchmarks.common.node_pipeline_reference before each saturation step
    python: str = sys.executable   # the interpreter the nodes (and the reference) run on


async def run(settings: Settings, out: str, ui: Ui, only: list[str], worktree: bool = False) -> dict:
    ctx = Context(settings, out, ui, t_run0=time.monotonic(), step_reference=True)
    results: dict = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
                     "settings": dataclasses.asdict(settings), "phases_run": only, "phase_seconds": {}}
    ui.say("measuring the raw Ed25519 verify rate of this machine ...")
    results["reference"] = phases.reference(2.0)
    ui.say(f"  {results['reference']['ed25519_verify_per_s']:,} verifications/s on one core")

    t = time.monotonic()
    if worktree:
        results["code"] = consortium.working_tree()
    else:
        results["code"] = consortium.code_snapshot(os.path.join(out, "code"))
    ctx.code_root = results["code"]["root"]
    ui.say(f"nodes run the code of {results['code']['commit']}, {results['code']['native']}")
    ui.say(f"creating a consortium of 4 nodes with {settings.objects:,} objects owned by {settings.people:,} people ...")
    await open_consortium(ctx)
    results["phase_seconds"]["setup"] = round(time.monotonic() - t, 1)
    results["consensus"] = _consensus(ctx.cluster)
    results["grpc_mode"] = settings.grpc_mode
    ui.say(f"gRPC load goes through {_GRPC_MODE_WORDS[settings.grpc_mode]} (--grpc-mode {settings.grpc_mode})")
    cluster_stopped = False
    try:
        for name in ALL_PHASES:
            if name not in only:
                continue
            t = time.monotonic()
            try:
                if name == "lone":
                    results["lone"] = await phases.lone(ctx, settings.lone)
                elif name == "normal":
                    results["normal"] = await phases.open_phase(ctx, "normal", settings.normal_per_hour, settings.normal_s)
                elif name == "peak":
                    results["peak"] = await phases.open_phase(ctx, "peak", settings.peak_per_hour, settings.peak_s)
                elif name == "saturation":
                    results["saturation"] = await phases.saturation(ctx, settings.sat_clients, settings.sat_step_s, settings.sat_warmup_s)
                    best = results["saturation"]["best"]
                    ctx.best_rate = max(ctx.best_rate, best["committed_tx_per_s"])
                elif name == "profile":
                    # Without a saturation phase, the next-to-last step's N (the default steps' last
                    # one overshoots), or the only one given.
                    fallback_n = settings.sat_clients[-2] if len(settings.sat_clients) > 1 else settings.sat_clients[0]
                    best_n = (results.get("saturation") or {}).get("best", {}).get("clients", fallback_n)
                    results["profile"] = await phases.profile_phase(ctx, best_n, settings.profile_s)
                elif name == "recovery":
                    results["recovery"] = await phases.recovery(ctx, settings.recovery_down_s, settings.recovery_load_per_s)
                elif name == "verify":
                    await asyncio.to_thread(ctx.cluster.stop_all)
                    cluster_stopped = True
                    ui.say("the auditor: tamga chain verify over the whole chain of moj ...")
                    results["verify"] = await asyncio.to_thread(phases.chain_verify, ctx.cluster.data_dir("moj"), ctx.code_root)
                elif name == "catchup":
                    if not cluster_stopped:
                        await asyncio.to_thread(ctx.cluster.stop_all)
                        cluster_stopped = True
                    results["catchup"] = await phases.catchup(out, settings.catchup_blocks, settings.catchup_produce_max_s, ui, code_root=ctx.code_root)
            except Exception as exc:  # noqa: BLE001 - a failed phase is reported, the run goes on
                results[name] = {"failed": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-4000:]}
                ui.say(f"[red]phase {name} failed: {exc}[/red]")
            results["phase_seconds"][name] = round(time.monotonic() - t, 1)
    finally:
        await close_consortium(ctx, stop=not cluster_stopped)
    results["node_logs"] = _log_findings(ctx.cluster)
    results["generator"] = {"signatures_made": ctx.workload.signatures, "objects_retired": len(ctx.workload.retired),
                            "retired_why": _count(ctx.workload.retired.values()), "flows_substituted": ctx.workload.substituted}
    results["total_seconds"] = round(time.monotonic() - ctx.t_run0, 1)
    results["headline"] = writer.headline(results)
    results["headline"]["grpc_mode"] = settings.grpc_mode
    writer.write(out, results, ctx.recorders, ctx.t_run0)
    return results


async def open_consortium(ctx: Context, env: dict | None = None) -> None:
    """A fresh consortium in ctx.out/cluster running ctx.code_root (`env` added to its nodes'
    environment), started, and the generator's workload and drivers for it, all into ctx."""
    s = ctx.settings
    ctx.cluster, ctx.pop = consortium.create(os.path.join(ctx.out, "cluster"), people=s.people, objects=s.objects, code_root=ctx.code_root)
    ctx.cluster.env.update(env or {})
    ctx.cluster.python = ctx.python
    try:
        await asyncio.to_thread(consortium.start, ctx.cluster)
    except BaseException:
        await asyncio.to_thread(ctx.cluster.stop_all)
        raise
    ctx.workload = Workload(ctx.pop, CHAIN_ID)
    ctx.http = HttpDriver({n: ctx.cluster.http_url(n) for n in ctx.cluster.names}, CHAIN_ID)
    ctx.grpc = GrpcDriver({n: ctx.cluster.configs[n].ledger_listen for n in ctx.cluster.names}, mode=s.grpc_mode)


async def close_consortium(ctx: Context, *, stop: bool = True) -> None:
    """Close the generator's drivers and (unless it is already down) stop the consortium."""
    if ctx.http:
        await ctx.http.close()
    if ctx.grpc:
        await ctx.grpc.close()
    if stop and ctx.cluster is not None:
        await asyncio.to_thread(ctx.cluster.stop_all)


def _consensus(cluster) -> dict:
    with open(cluster.layout.genesis_file) as f:
        return json.load(f)["consensus"]


_GRPC_MODE_WORDS = {"stream": "SubmitStream (one stream per node, many envelopes per message)", "one": "SubmitAndWait (one call per tx)",
                    "two": "Submit then WaitTx (two calls per tx)"}


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _log_findings(cluster) -> dict:
    """Warnings and errors the nodes logged (their stderr), counted by message."""
    out = {}
    for name in cluster.names:
        counts: dict = {}
        try:
            text = cluster.log(name)
        except OSError:
            continue
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                if "Traceback" in line or "Error" in line:
                    counts[line.strip()[:160]] = counts.get(line.strip()[:160], 0) + 1
                continue
            level = str(rec.get("level", "")).upper()
            if level in ("WARNING", "ERROR", "CRITICAL"):
                key = f"{level} {rec.get('msg') or rec.get('message')}"
                counts[key] = counts.get(key, 0) + 1
        out[name] = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:15])
    return out


def _clients_steps(text: str) -> tuple[int, ...]:
    """--sat-clients: positive client counts, comma-separated."""
    try:
        steps = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of client counts, e.g. 4,16,64") from None
    if not steps or min(steps) < 1:
        raise argparse.ArgumentTypeError(f"client counts must be at least 1, got {text!r}")
    return steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorten every phase (a look in a few minutes; too few samples for a p99)")
    ap.add_argument("--out", help="directory for report.md, the plots and results.json (default benchmarks/results/<timestamp>)")
    ap.add_argument("--json", action="store_true", help="print the headline figures as JSON on stdout")
    ap.add_argument("--phases", default=",".join(ALL_PHASES), help=f"comma-separated subset of {','.join(ALL_PHASES)}")
    ap.add_argument("--grpc-mode", choices=GRPC_MODES, default=DEFAULT_GRPC_MODE,
                    help="how the generator's gRPC clients submit: stream = SubmitStream, one = SubmitAndWait, two = Submit then WaitTx (default %(default)s)")
    ap.add_argument("--worktree", action="store_true", help="run the nodes from the working tree (default: a snapshot of git HEAD, so edits made during the run do not mix in)")
    ap.add_argument("--sat-clients", type=_clients_steps, help="comma-separated N of the saturation steps, run in order (default "
                    "4,16,64,256,1024,2048); one N repeated, e.g. 1024,1024,1024, shows how throughput changes as the chain grows")
    args = ap.parse_args()
    only = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = [p for p in only if p not in ALL_PHASES]
    if unknown:
        ap.error(f"unknown phases {unknown}; choose from {ALL_PHASES}")
    settings = Settings.quick_settings(grpc_mode=args.grpc_mode) if args.quick else Settings(grpc_mode=args.grpc_mode)
    if args.sat_clients:
        settings = dataclasses.replace(settings, sat_clients=args.sat_clients)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.abspath(args.out or os.path.join(root, "benchmarks", "results", datetime.datetime.now().strftime("%Y%m%d-%H%M%S")))
    os.makedirs(out, exist_ok=True)
    ui = Ui(quiet=False)
    results = asyncio.run(run(settings, out, ui, only, args.worktree))
    if args.json:
        print(json.dumps(results["headline"], indent=2, sort_keys=True))
    else:
        writer.print_headline(results["headline"], out)


if __name__ == "__main__":
    sys.exit(main())
