"""Shared helpers for the benchmark scripts: percentiles, the machine's raw Ed25519 rate,
result tables, JSON output."""

from __future__ import annotations

import json
import os
import platform
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


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.rjust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).rjust(widths[c]) for c in columns))


def dump_json(data: dict) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))
