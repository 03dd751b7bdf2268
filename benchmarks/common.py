"""Shared helpers for the benchmark scripts: percentiles, the machine's raw Ed25519 rate and
in-process node pipeline cost (references), result tables, JSON output."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import nacl.signing


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def latency_summary(values_ms: list[float]) -> dict:
    v = sorted(values_ms)
    return {
        "count": len(v),
        "p50_ms": round(percentile(v, 50), 2),
        "p95_ms": round(percentile(v, 95), 2),
        "p99_ms": round(percentile(v, 99), 2),
        "max_ms": round(v[-1], 2) if v else None,
        "mean_ms": round(sum(v) / len(v), 2) if v else None,
    }


def ed25519_verify_rate(seconds: float = 1.0) -> float:
    """Raw single-core PyNaCl Ed25519 verifications per second on this machine, now."""
    key = nacl.signing.SigningKey(bytes(32))
    msg = b"x" * 400
    sig = key.sign(msg).signature
    vk = key.verify_key
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            vk.verify(msg, sig)
        n += 200
    return n / (time.perf_counter() - start)


REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIPELINE_REFERENCE_TXS = 3000


def node_pipeline_reference(txs: int = PIPELINE_REFERENCE_TXS, python: str = sys.executable) -> float:
    """µs of CPU per tx of one node's whole pipeline (admission, execution, commit,
    projection) in one process, now: `benchmarks.bench_node_pipeline` on a small chain
    (~4 s), run from this checkout. Unlike the Ed25519 loop it touches memory the way a node
    does (dicts of cached tree nodes, LevelDB, SQLite), so it also moves when neighbours on a
    shared machine slow memory down; measured just before a load step, it says how fast the
    machine was for that step. `python`: the interpreter to run it on (the nodes'). RuntimeError
    when the run fails."""
    run = subprocess.run([python, "-m", "benchmarks.bench_node_pipeline", "--txs", str(txs), "--json"],
                         cwd=REPO_ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"bench_node_pipeline exited {run.returncode}: {run.stderr.strip()[-500:]}")
    return float(json.loads(run.stdout)["node_us_per_tx"])


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "interpreter": os.path.realpath(sys.executable), "libpython": libpython_linkage()}


def libpython_linkage(maps_path: str = "/proc/self/maps") -> str:
    """How this interpreter carries the CPython runtime: "shared" when libpython is a shared
    library mapped into the process (a default pyenv or source build: position-independent
    code and calls through the PLT, slower), "static" when it is linked into the executable
    (what distributions ship, built with PGO and LTO as well), "unknown" off Linux. Read off
    the process's own memory map, not sysconfig, which describes how the distribution built
    its shared library, not its executable (Debian's says shared for a static binary)."""
    try:
        with open(maps_path) as maps:
            return "shared" if any("libpython" in line for line in maps) else "static"
    except OSError:
        return "unknown"


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.rjust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).rjust(widths[c]) for c in columns))


def dump_json(data: dict) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))
