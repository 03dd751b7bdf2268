"""Two versions of the nodes compared under saturation, run alternately or together.

    .venv/bin/python -m benchmarks.ab A B [--rounds 3] [--clients 1024] [--steps 2] [--together] [--json]
        [--python-a PATH] [--python-b PATH]

A and B are versions of the nodes' code: a git ref (a commit hash, a branch, a tag, HEAD~1)
or `worktree`, each optionally followed by `:NAME=VALUE[,NAME=VALUE...]`, environment
settings for the node processes (`HEAD` against `HEAD:PYTHONHASHSEED=0`, say).
`--python-a`/`--python-b PATH` run that version's nodes (and its in-process reference) on
another interpreter, a venv's python with Tamga's dependencies installed: `HEAD HEAD
--python-b /tmp/osvenv/bin/python` compares two builds of CPython on the same code.

Why: on this shared 2-core machine one version's throughput at saturation differs by 10-30 %
from run to run, even minutes apart (the same commit's first N=1024 step did 758 to 951 tx/s
in six runs within an hour on 2026-11-27), far more than most changes are worth. A change
shows only when both versions run close together in time, more than once, each B compared
with the A of its round. By default they take turns (A B, then B A, ...); with --together
both run at the same time, each on its own consortium, so that whatever the machine does
meanwhile happens to both (each then gets about half the machine: only the ratio counts).
Every run gets a fresh consortium (the report's: 4 nodes, 30,000 objects owned by 3,000
people, from a snapshot of its version's code) and `--steps` closed-loop gRPC steps of
N=`--clients`. The chain grows from step to step and a node's cost per tx with it, so step k
of B is compared with step k of A. The figure compared is the nodes' CPU per committed tx,
which does not depend on how the load lined up with a step's window; tx/s is shown too, and
so is the machine's raw Ed25519 verify rate before each run. Taking turns, each step first
measures one node's pipeline in one process (`benchmarks.common.node_pipeline_reference`,
~4 s, the generator's checkout) and the comparison adds the ratio B/A of CPU per tx per node
over that reference, which takes out how fast the machine was at each step (the Ed25519 rate
does not follow it: 2026-11-27 saw a ~45 % swing within a minute that only the pipeline
reference showed). On a steady machine the reference's own spread (338-397 µs over six runs
within ten minutes) makes that ratio wider than the plain CPU-per-tx one; it is for runs
between which the machine swung by more. Together, the reference would carry the other
consortium's load: none.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import json
import os
import shutil
import statistics
import sys
import time

from benchmarks.loadgen import consortium, phases
from benchmarks.loadgen.phases import Settings
from benchmarks.loadgen.report import cpu_ms_per_tx
from benchmarks.loadgen.ui import Ui
from benchmarks.report import Context, close_consortium, open_consortium

WORKTREE = "worktree"


@dataclasses.dataclass(frozen=True)
class Variant:
    spec: str           # as given on the command line: the label in the output
    ref: str            # a git ref, or WORKTREE
    env: dict[str, str]
    python: str = sys.executable  # the interpreter its nodes run on (--python-a/--python-b)


def parse_variant(spec: str) -> Variant:
    """`REF` or `REF:NAME=VALUE,...` (git ref names cannot hold a colon)."""
    ref, _, settings = spec.partition(":")
    if not ref:
        raise argparse.ArgumentTypeError(f"{spec!r}: name a git ref or {WORKTREE} before the colon")
    env = {}
    for item in filter(None, settings.split(",")):
        name, eq, value = item.partition("=")
        if not eq or not name.isidentifier():
            raise argparse.ArgumentTypeError(f"{spec!r}: {item!r} is not NAME=VALUE")
        env[name] = value
    return Variant(spec, ref, env)


def schedule(rounds: int) -> list[tuple[int, str]]:
    """(round, which) in run order: A B, then B A, ... so that neither version always runs
    first, on the cooler or the warmer machine."""
    order = []
    for r in range(rounds):
        order += [(r, "A"), (r, "B")] if r % 2 == 0 else [(r, "B"), (r, "A")]
    return order


def compare(runs: list[dict]) -> list[dict]:
    """Per step: each version's CPU per tx and tx/s over the rounds, and the paired ratios
    B/A (B's round against A's same round)."""
    by = {(r["round"], r["which"]): r for r in runs}
    rounds = sorted({r["round"] for r in runs})
    steps = min(len(r["steps"]) for r in runs)
    out = []
    for k in range(steps):
        row: dict = {"step": k + 1}
        for which in ("A", "B"):
            cpu = [by[(r, which)]["steps"][k]["cpu_ms_per_tx"] for r in rounds if (r, which) in by]
            rate = [by[(r, which)]["steps"][k]["committed_tx_per_s"] for r in rounds if (r, which) in by]
            row[which] = {"cpu_ms_per_tx": _spread([c for c in cpu if c is not None]), "committed_tx_per_s": _spread(rate)}
        pairs = [(by[(r, "A")]["steps"][k], by[(r, "B")]["steps"][k]) for r in rounds if (r, "A") in by and (r, "B") in by]
        row["b_over_a"] = {
            "cpu_ms_per_tx": _spread([b["cpu_ms_per_tx"] / a["cpu_ms_per_tx"] for a, b in pairs if a["cpu_ms_per_tx"] and b["cpu_ms_per_tx"]], 3),
            "cpu_over_reference": _spread([b["cpu_over_reference"] / a["cpu_over_reference"] for a, b in pairs
                                           if a.get("cpu_over_reference") and b.get("cpu_over_reference")], 3),
            "committed_tx_per_s": _spread([b["committed_tx_per_s"] / a["committed_tx_per_s"] for a, b in pairs if a["committed_tx_per_s"]], 3),
        }
        row["parts_b_minus_a_us"] = _part_differences(pairs)
        out.append(row)
    return out


def _part_differences(pairs: list[tuple[dict, dict]]) -> dict[str, dict] | None:
    """Per part of a node's CPU, B's µs per tx minus A's in each round's pair (parts both have)."""
    both = [(a["parts_us_per_tx"], b["parts_us_per_tx"]) for a, b in pairs if a.get("parts_us_per_tx") and b.get("parts_us_per_tx")]
    if not both:
        return None
    names = sorted(set.intersection(*(set(a) & set(b) for a, b in both)))
    return {n: _spread([b[n] - a[n] for a, b in both], 1) for n in names}


def _spread(values: list[float], digits: int = 2) -> dict | None:
    if not values:
        return None
    return {"mean": round(statistics.fmean(values), digits), "min": round(min(values), digits), "max": round(max(values), digits), "n": len(values)}


def snapshots(a: Variant, b: Variant, out: str) -> dict[str, dict]:
    """Each version's code, extracted once (ValueError for a ref that names no commit)."""
    codes = {}
    for which, v in (("A", a), ("B", b)):
        if v.ref == WORKTREE:
            codes[which] = consortium.working_tree(v.python)
        else:
            codes[which] = consortium.code_snapshot(os.path.join(out, f"code-{which}"), v.ref, v.python)
    return codes


async def _open(variant: Variant, code: dict, out: str, settings: Settings, ui: Ui, *, step_reference: bool = False) -> Context:
    """A fresh consortium of `variant`, started, with the generator's drivers for it. With
    `step_reference`, each step first measures the in-process pipeline reference."""
    ctx = Context(settings, out, ui, t_run0=time.monotonic(), code_root=code["root"], step_reference=step_reference, python=variant.python)
    await open_consortium(ctx, variant.env)
    return ctx


async def _close(ctx: Context) -> None:
    """Stop the consortium and delete its store (a run writes ~1 GB)."""
    await close_consortium(ctx)
    shutil.rmtree(os.path.join(ctx.out, "cluster"), ignore_errors=True)


async def _steps(ctx: Context, variant: Variant, clients: int, steps: int) -> list[dict]:
    done = []
    est_rate = 200.0
    for k in range(steps):
        st = await phases._closed_step(ctx, f"{variant.spec} step {k + 1}/{steps} N={clients}", clients, ctx.settings.sat_step_s, ctx.settings.sat_warmup_s, est_rate)
        est_rate = max(est_rate, st["committed_tx_per_s"])
        ms = cpu_ms_per_tx(st)
        ref = st.get("pipeline_reference_us_per_tx")
        done.append({
            "committed_tx_per_s": st["committed_tx_per_s"],
            "cpu_ms_per_tx": None if ms is None else round(ms, 3),
            # A node's CPU per tx over the in-process reference measured just before the
            # step: what the machine's speed at that moment does not explain.
            "reference_us_per_tx": ref,
            "cpu_over_reference": None if ms is None or not ref else round(1000 * ms / len(ctx.cluster.names) / ref, 3),
            "nodes_cores": st["cpu"]["nodes_cores"],
            # Where a node's CPU went (µs per tx by part, the mean of the nodes), to tell which
            # part a change moved.
            "parts_us_per_tx": (st.get("cpu_by_part_us_per_tx") or {}).get("parts"),
            "commit_p50_ms": st["commit"].get("p50_ms"),
            "not_committed": {o: st["outcomes"][o] for o in ("error", "timeout")},
        })
    return done


async def run_alone(variant: Variant, code: dict, out: str, settings: Settings, ui: Ui, clients: int, steps: int) -> dict:
    """One version on its own consortium through `steps` saturation steps."""
    reference = phases.reference(2.0)["ed25519_verify_per_s"]
    # Alone on the machine, a step can take the in-process reference first (together, the
    # other consortium's load would be in it).
    ctx = await _open(variant, code, out, settings, ui, step_reference=True)
    try:
        return {"ed25519_verify_per_s": reference, "steps": await _steps(ctx, variant, clients, steps)}
    finally:
        await _close(ctx)


async def run_together(variants: dict[str, Variant], codes: dict[str, dict], outs: dict[str, str], settings: Settings, ui: Ui,
                       clients: int, steps: int) -> dict[str, dict]:
    """Both versions at once, each on its own consortium (eight nodes on the machine), so
    that whatever the machine does meanwhile happens to both. Each gets about half of what
    it would alone; only their ratio means something. `variants` is in start order."""
    reference = phases.reference(2.0)["ed25519_verify_per_s"]
    ctxs: dict[str, Context] = {}
    try:
        # One after the other: a consortium picks free ports, which the other's are only
        # once it has started.
        for which, v in variants.items():
            ctxs[which] = await _open(v, codes[which], outs[which], settings, ui)
        results = await asyncio.gather(*(_steps(ctxs[w], variants[w], clients, steps) for w in variants))
        return {w: {"ed25519_verify_per_s": reference, "steps": r} for w, r in zip(variants, results)}
    finally:
        for ctx in ctxs.values():
            await _close(ctx)


async def run(a: Variant, b: Variant, codes: dict[str, dict], *, rounds: int, clients: int, steps: int, out: str, ui: Ui, settings: Settings,
              together: bool = False) -> dict:
    for which, v in (("A", a), ("B", b)):
        ui.say(f"{which} = {v.spec}: code of {codes[which]['commit']}" + (f", env {v.env}" if v.env else "") + f", on {v.python}, {codes[which]['native']}")
    versions = {"A": a, "B": b}
    runs = []
    if together:
        ui.tty = False  # two progress bars at once: plain lines instead
        order = schedule(rounds)
        for r in range(rounds):
            first = [w for rr, w in order if rr == r]
            ui.say(f"round {r + 1}/{rounds}: A and B together ({first[0]} started first)")
            got = await run_together({w: versions[w] for w in first}, codes, {w: os.path.join(out, f"round-{r + 1}-{w}") for w in first},
                                     settings, ui, clients, steps)
            for w in ("A", "B"):
                runs.append({"round": r, "which": w, **got[w]})
                _say_run(ui, w, got[w])
    else:
        order = schedule(rounds)
        for i, (r, which) in enumerate(order):
            ui.say(f"run {i + 1}/{len(order)}: round {r + 1}, {which} = {versions[which].spec}")
            res = await run_alone(versions[which], codes[which], os.path.join(out, f"run-{i + 1}"), settings, ui, clients, steps)
            runs.append({"round": r, "which": which, **res})
            _say_run(ui, which, res)
    return {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "A": {"spec": a.spec, "commit": codes["A"]["commit"], "env": a.env, "python": a.python, "native": codes["A"]["native"]},
        "B": {"spec": b.spec, "commit": codes["B"]["commit"], "env": b.env, "python": b.python, "native": codes["B"]["native"]},
        "clients": clients, "steps": steps, "rounds": rounds, "step_s": settings.sat_step_s, "together": together,
        "runs": runs,
        "comparison": compare(runs),
    }


def _say_run(ui: Ui, which: str, res: dict) -> None:
    ui.say(f"   {which}: " + "; ".join(f"step {k + 1}: {s['committed_tx_per_s']} tx/s, {s['cpu_ms_per_tx']} ms CPU/tx"
                                       + (f" (reference {s['reference_us_per_tx']} µs)" if s.get("reference_us_per_tx") else "")
                                       for k, s in enumerate(res["steps"]))
           + f" (Ed25519 {res['ed25519_verify_per_s']:,.0f}/s)")


def print_result(res: dict) -> None:
    print(f"A = {res['A']['spec']} ({res['A']['commit'][:12]}{_on(res['A'])}), B = {res['B']['spec']} ({res['B']['commit'][:12]}{_on(res['B'])}); "
          f"N={res['clients']}, {res['rounds']} rounds of {res['steps']} steps of {res['step_s']:.0f} s"
          + (", A and B at the same time" if res.get("together") else ""))
    for r in res["runs"]:
        steps = "  ".join(f"{s['committed_tx_per_s']:7.1f} tx/s {s['cpu_ms_per_tx'] or float('nan'):5.2f} ms" for s in r["steps"])
        print(f"  round {r['round'] + 1} {r['which']}: {steps}   Ed25519 {r['ed25519_verify_per_s']:,.0f}/s")
    for row in res["comparison"]:
        ratio = row["b_over_a"]["cpu_ms_per_tx"]
        rate = row["b_over_a"]["committed_tx_per_s"]
        print(f"step {row['step']}: CPU per tx B/A {_fmt(ratio)}; tx/s B/A {_fmt(rate)}")
        if row["b_over_a"].get("cpu_over_reference"):
            print(f"        CPU per tx over the in-process reference B/A {_fmt(row['b_over_a']['cpu_over_reference'])}")
        if row.get("parts_b_minus_a_us"):
            print("        µs per tx per node, B - A: " + ", ".join(f"{n} {d['mean']:+.1f} ({d['min']:+.1f}..{d['max']:+.1f})"
                                                                   for n, d in row["parts_b_minus_a_us"].items()))


def _on(version: dict) -> str:
    """Where the interpreters differ, which one a version ran on."""
    python = version.get("python")
    return f", on {python}" if python and python != sys.executable else ""


def _fmt(s: dict | None) -> str:
    return "n/a" if s is None else f"{s['mean']:.3f} (min {s['min']:.3f}, max {s['max']:.3f}, {s['n']} pairs)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=parse_variant, metavar="A", help="the version compared against: a git ref or worktree, [:NAME=VALUE,...]")
    ap.add_argument("b", type=parse_variant, metavar="B", help="the version compared")
    ap.add_argument("--rounds", type=int, default=3, help="pairs of runs (default %(default)s)")
    ap.add_argument("--clients", type=int, default=1024, help="closed-loop clients N (default %(default)s)")
    ap.add_argument("--steps", type=int, default=2, help="saturation steps per run, each on the chain the one before grew (default %(default)s)")
    ap.add_argument("--step-s", type=float, default=Settings.sat_step_s, help="seconds per step (default %(default)s)")
    ap.add_argument("--python-a", default=sys.executable, metavar="PATH",
                    help="the interpreter A's nodes run on, with Tamga's dependencies installed (default: this one)")
    ap.add_argument("--python-b", default=sys.executable, metavar="PATH", help="the interpreter B's nodes run on (default: this one)")
    ap.add_argument("--out", help="directory for ab.json (default benchmarks/results/ab-<time>)")
    ap.add_argument("--together", action="store_true", help="run A and B at the same time, each on its own consortium, instead of one after the other")
    ap.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.steps < 1 or args.clients < 1 or args.step_s <= Settings.sat_warmup_s:
        ap.error(f"--rounds, --steps and --clients must be at least 1, and --step-s more than the {Settings.sat_warmup_s:.0f} s warm-up")
    for flag, path in (("--python-a", args.python_a), ("--python-b", args.python_b)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            ap.error(f"{flag} {path}: not an executable file")
    args.a = dataclasses.replace(args.a, python=args.python_a)
    args.b = dataclasses.replace(args.b, python=args.python_b)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.abspath(args.out or os.path.join(root, "benchmarks", "results", datetime.datetime.now().strftime("ab-%Y%m%d-%H%M%S")))
    os.makedirs(out, exist_ok=True)
    settings = dataclasses.replace(Settings(), sat_step_s=args.step_s)
    try:
        codes = snapshots(args.a, args.b, out)
    except ValueError as exc:  # a ref that names no commit
        print(f"error: {exc}", file=sys.stderr)
        return 2
    res = asyncio.run(run(args.a, args.b, codes, rounds=args.rounds, clients=args.clients, steps=args.steps, out=out, ui=Ui(quiet=args.json), settings=settings,
                        together=args.together))
    with open(os.path.join(out, "ab.json"), "w") as f:
        json.dump(res, f, indent=2, sort_keys=True)
    if args.json:
        print(json.dumps(res, indent=2, sort_keys=True))
    else:
        print_result(res)
        print(f"(all figures in {os.path.join(out, 'ab.json')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
