"""Benchmark of node/state_tree.py: does one block's state update cost stay flat as the state grows?

Builds a state of N records (in batches written to the store, as blocks would be), and at
each size measures blocks of B random writes (half modifications of existing records, half
new records), each updated, committed in one synced batch and remembered, as the chain does.

    .venv/bin/python benchmarks/bench_state_tree.py                       # 10^4, 10^5, 10^6 on LevelDB
    .venv/bin/python benchmarks/bench_state_tree.py --sizes 10000,100000 --backend memory --json

Sizes are reached cumulatively in one store (the state for 10^5 is the one for 10^4 plus
90,000 records), so the largest size sets the total build time. The measured blocks are
committed too, so each size's state is larger by a few thousand records than its label.

Columns
- update ms   median time of StateTree.update for one block (warm cache, as in a running node)
- cold ms     the first block after a restart: a new StateTree with an empty cache
- commit ms   median time of writing the block's new nodes in one synced batch
- nodes, KiB  new nodes per block and their encoded size
- reads       store reads (cache misses) per update, warm median and cold
- hot ms/reads  the same for blocks whose keys were read (StateTree.get, untimed) just
              before the update, as executing the block's transactions does in a node
- depth       mean number of internal nodes on a key's path (proof levels)
- get us      mean time of one StateTree.get of a random existing key, warm
- proof B     mean size of one inclusion proof as JSON
This is a script, not a test: nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from node.hashing import sha256  # noqa: E402
from node.kv import LevelDBStore, MemoryStore  # noqa: E402
from node.state_tree import EMPTY_ROOT, StateTree, verify_proof  # noqa: E402


def key_of(i: int) -> bytes:
    return b"cadastre/parcel/%010d" % i


def value_of(key: bytes, version: int, size: int) -> bytes:
    seed = sha256(key + version.to_bytes(4, "big"))
    return (seed * (size // 32 + 1))[:size]


class Progress:
    """A progress bar on a terminal (rich), silence otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._progress = None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

            # On stderr, so that `--json > file` stays clean JSON.
            self._progress = RichProgress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def task(self, description: str, total: int):
        return self._progress.add_task(description, total=total) if self._progress else None

    def advance(self, task, n: int) -> None:
        if self._progress is not None and task is not None:
            self._progress.advance(task, n)


def dir_size(path: str) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    return total


def run(args) -> list[dict]:
    rng = random.Random(args.seed)
    tmp = None
    if args.backend == "leveldb":
        path = args.dir or tempfile.mkdtemp(prefix="tamga-bench-state-")
        tmp = None if args.dir else path
        kv = LevelDBStore(os.path.join(path, "db"))
    else:
        path = None
        kv = MemoryStore()
    tree = StateTree(kv, cache_size=args.cache_size)
    root = EMPTY_ROOT
    built = 0  # records key_of(0 .. built-1) exist
    extra = 0  # records inserted by measured blocks: key b"new/..."
    height = 0  # each update is a block's: its nodes are stored under its height
    build_seconds = 0.0
    rows = []
    try:
        with Progress(sys.stderr.isatty() and not args.quiet) as progress:
            for size in args.sizes:
                # --- build up to `size` records, in batches written like blocks ---------------
                task = progress.task(f"building {size:,} records", size)
                progress.advance(task, built)
                t0 = time.perf_counter()
                while built < size:
                    n = min(args.build_batch, size - built)
                    batch = {key_of(i): value_of(key_of(i), 0, args.value_size) for i in range(built, built + n)}
                    height += 1
                    root, nodes = tree.update(root, batch, height=height)
                    kv.write(nodes, sync=False)
                    tree.remember(nodes)
                    built += n
                    progress.advance(task, n)
                build_seconds += time.perf_counter() - t0

                # --- measured blocks ---------------------------------------------------------
                def make_block(version: int) -> dict:
                    nonlocal extra
                    block = {}
                    for i in rng.sample(range(built), args.block // 2):
                        block[key_of(i)] = value_of(key_of(i), version, args.value_size)
                    for _ in range(args.block - len(block)):
                        k = b"new/parcel/%010d" % extra
                        extra += 1
                        block[k] = value_of(k, version, args.value_size)
                    return block

                def commit(t: StateTree, block: dict, read_first: bool = False) -> dict:
                    nonlocal root, height
                    if read_first:
                        for k in block:
                            t.get(root, k)
                    reads = t.store_reads
                    height += 1
                    u0 = time.perf_counter()
                    new_root, nodes = t.update(root, block, height=height)
                    u1 = time.perf_counter()
                    kv.write(nodes, sync=True)
                    u2 = time.perf_counter()
                    t.remember(nodes)
                    root = new_root
                    return {
                        "update_ms": (u1 - u0) * 1e3,
                        "commit_ms": (u2 - u1) * 1e3,
                        "nodes": len(nodes),
                        "bytes": sum(len(v) for v in nodes.values()),
                        "reads": t.store_reads - reads,
                    }

                task = progress.task(f"blocks at {size:,}", 2 * args.blocks + 1)
                cold_tree = StateTree(kv, cache_size=args.cache_size)  # a restarted node: nothing cached
                cold = commit(cold_tree, make_block(1))
                progress.advance(task, 1)
                warm = []
                for b in range(args.blocks):
                    warm.append(commit(tree, make_block(2 + b)))
                    progress.advance(task, 1)
                hot = []
                for b in range(args.blocks):
                    hot.append(commit(tree, make_block(2 + args.blocks + b), read_first=True))
                    progress.advance(task, 1)

                # --- reads and proofs at this size -----------------------------------------------
                sample = [key_of(i) for i in rng.sample(range(built), min(1000, built))]
                g0 = time.perf_counter()
                for k in sample:
                    tree.get(root, k)
                get_us = (time.perf_counter() - g0) / len(sample) * 1e6
                proofs = [tree.prove(root, k) for k in sample[:200]]
                assert all(verify_proof(root, p) for p in proofs)
                depth = statistics.mean(len(p.levels) for p in proofs)
                proof_bytes = statistics.mean(len(json.dumps(p.to_dict())) for p in proofs)

                med = lambda field: statistics.median(w[field] for w in warm)  # noqa: E731
                rows.append({
                    "size": size,
                    "records": built + extra,
                    "backend": args.backend,
                    "block_writes": args.block,
                    "build_s": round(build_seconds, 2),
                    "update_ms": round(med("update_ms"), 2),
                    "update_ms_min": round(min(w["update_ms"] for w in warm), 2),
                    "update_ms_max": round(max(w["update_ms"] for w in warm), 2),
                    "cold_update_ms": round(cold["update_ms"], 2),
                    "commit_ms": round(med("commit_ms"), 2),
                    "nodes_per_block": med("nodes"),
                    "kib_per_block": round(med("bytes") / 1024, 1),
                    "reads_per_update": med("reads"),
                    "cold_reads": cold["reads"],
                    "hot_update_ms": round(statistics.median(w["update_ms"] for w in hot), 2),
                    "hot_reads": statistics.median(w["reads"] for w in hot),
                    "cache_size": args.cache_size,
                    "depth": round(depth, 2),
                    "get_us": round(get_us, 1),
                    "proof_bytes": round(proof_bytes),
                    "store_mib": round(dir_size(path) / 2**20, 1) if path else None,
                })
                if not args.json:
                    print_row(rows[-1], header=len(rows) == 1)
    finally:
        kv.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return rows


COLUMNS = [
    ("size", "records", "{:,}"),
    ("build_s", "build s", "{:.1f}"),
    ("update_ms", "update ms", "{:.1f}"),
    ("cold_update_ms", "cold ms", "{:.1f}"),
    ("commit_ms", "commit ms", "{:.1f}"),
    ("nodes_per_block", "nodes", "{:,.0f}"),
    ("kib_per_block", "KiB", "{:,.0f}"),
    ("reads_per_update", "reads", "{:,.0f}"),
    ("cold_reads", "cold reads", "{:,}"),
    ("hot_update_ms", "hot ms", "{:.1f}"),
    ("hot_reads", "hot reads", "{:,.0f}"),
    ("depth", "depth", "{:.2f}"),
    ("get_us", "get us", "{:.1f}"),
    ("proof_bytes", "proof B", "{:,}"),
]


def print_row(row: dict, header: bool) -> None:
    widths = [max(len(title), 10) for _, title, _ in COLUMNS]
    if header:
        print(f"state tree, backend {row['backend']}, blocks of {row['block_writes']:,} writes (half new records), node cache {row['cache_size']:,}")
        print("  ".join(title.rjust(w) for (_, title, _), w in zip(COLUMNS, widths)))
    print("  ".join(fmt.format(row[field]).rjust(w) for (field, _, fmt), w in zip(COLUMNS, widths)), flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated state sizes (default 10^4,10^5,10^6)")
    p.add_argument("--backend", choices=["leveldb", "memory"], default="leveldb")
    p.add_argument("--dir", help="LevelDB directory (default: a temporary one, removed afterwards)")
    p.add_argument("--block", type=int, default=1000, help="writes per measured block (default 1000)")
    p.add_argument("--blocks", type=int, default=5, help="warm blocks measured per size (default 5)")
    p.add_argument("--build-batch", type=int, default=50_000, help="records per build batch (default 50000)")
    p.add_argument("--value-size", type=int, default=256, help="bytes per record value (default 256)")
    p.add_argument("--cache-size", type=int, default=100_000, help="StateTree node cache size (default 100000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    args.sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    if args.sizes[0] < args.block:
        p.error("every size must be at least --block")
    rows = run(args)
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
