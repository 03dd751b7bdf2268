"""Benchmark: how much CPU LevelDB's compaction thread spends on a node's writes, by key layout.

A node writes ~5.8 KB per committed tx into its LevelDB store (measured in the in-process
pipeline at 500-tx blocks): ~12 state-tree nodes of ~340 bytes, its share of the block
(~0.9 KB) and of the receipts (~0.3 KB), and one tx-index record keyed by the tx id; per
block also the commit certificate, the block-hash index, the state root's height and the
head. This replays records of those sizes and counts, block by block, into the node's own
LevelDB store (node/kv.py, with its options), once per key layout, and reports the CPU the process
spent off its main thread (LevelDB's compaction thread: memtables written out, tables merged
down the levels) and the bytes compactions wrote per level (LevelDB's own statistics).

    .venv/bin/python -m benchmarks.bench_store_compaction [--blocks 400] [--txs-per-block 500] [--json]

Layouts
- node       the node's keys (node/schema.py) into the node's store as it opens it
             (node.kv.open_node_store: history by height first and a small index, two LevelDBs)
- schema     the same keys in one LevelDB, as nodes stored them before the split (tables
             first: b/, c/, h/, m/, r/, s/, t/, then the tree nodes under z/ by height)
- height     blocks, commits, receipts and tree nodes keyed by height first (one range per
             block, each after the last), the random-keyed indexes as today, sorting before them
- height-after   the same, with the random-keyed indexes sorting after the height range
- height-only    height-first keys and no random-keyed index at all: the part the node's
             store keeps in its big LevelDB
- tables-only    the schema's keys without the random-keyed indexes: the tables still
             interleave heights (b/, c/, r/, z/), so a flushed table spans the older ones
Record contents are seeded random bytes (incompressible, as hashes are; the store runs without
compression). Nothing is asserted: it prints numbers.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import struct
import sys
import tempfile
import time

from benchmarks.bench_state_tree import Progress
from node import schema
from node.hashing import sha256
from node.interfaces import KeyValueStore
from node.kv import LevelDBStore, open_node_store

LAYOUTS = ("node", "schema", "height", "height-after", "height-only", "tables-only")
TREE_NODES_PER_TX = 12
TREE_NODE_BYTES = 340
BLOCK_BYTES_PER_TX = 924
RECEIPT_BYTES_PER_TX = 330


def block_records(layout: str, height: int, txs: int, rnd: random.Random) -> dict[bytes, bytes]:
    """The records one block of `txs` transactions writes, keyed as `layout` keys them."""
    h = schema.u64(height)
    nodes = [sha256(h + struct.pack(">I", i)) for i in range(TREE_NODES_PER_TX * txs)]
    tx_ids = [sha256(b"tx" + h + struct.pack(">I", i)) for i in range(txs)]
    block_hash, root = sha256(b"block" + h), sha256(b"root" + h)
    out: dict[bytes, bytes] = {}
    if layout in ("node", "schema", "tables-only"):
        out[schema.block(height)] = rnd.randbytes(BLOCK_BYTES_PER_TX * txs)
        out[schema.commit(height)] = rnd.randbytes(400)
        out[schema.receipts(height)] = rnd.randbytes(RECEIPT_BYTES_PER_TX * txs)
        for nh in nodes:
            out[schema.tree_node(height, nh)] = rnd.randbytes(TREE_NODE_BYTES)
    else:
        first = b"\x01" if layout == "height-after" else b"\x02"
        out[first + h + b"b"] = rnd.randbytes(BLOCK_BYTES_PER_TX * txs)
        out[first + h + b"c"] = rnd.randbytes(400)
        out[first + h + b"r"] = rnd.randbytes(RECEIPT_BYTES_PER_TX * txs)
        for nh in nodes:
            out[first + h + b"z" + nh] = rnd.randbytes(TREE_NODE_BYTES)
    if layout in ("height-only", "tables-only"):
        return out
    # The random-keyed indexes: under the schema's own keys, or moved after the height range.
    index = {schema.tx(t): schema.tx_location(height, i) for i, t in enumerate(tx_ids)}
    index[schema.height_of_hash(block_hash)] = h
    index[schema.tree_root(root)] = h
    index[schema.META_HEAD] = h + block_hash
    if layout == "height-after":
        index = {b"\x03" + k: v for k, v in index.items()}
    out.update(index)
    return out


def _settle(store: KeyValueStore, timeout_s: float = 60.0) -> None:
    """Wait until the compaction thread has nothing left to do: LevelDB's statistics stop changing."""
    last, still_since, end = None, time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() < end:
        stats = store.compaction_stats()
        if stats != last:
            last, still_since = stats, time.monotonic()
        elif time.monotonic() - still_since >= 1.0:
            return
        time.sleep(0.2)


def run_layout(layout: str, blocks: int, txs: int, seed: int, progress: Progress) -> dict:
    tmp = tempfile.mkdtemp(prefix=f"tamga-compaction-{layout}-")
    try:
        # The node's own store, with its options: split as a node opens it, or one LevelDB.
        store = open_node_store(tmp) if layout == "node" else LevelDBStore(tmp)
        rnd = random.Random(seed)
        written = 0
        main0, proc0, wall0 = time.thread_time(), time.process_time(), time.perf_counter()
        task = progress.task(layout, blocks)
        for height in range(1, blocks + 1):
            records = block_records(layout, height, txs, rnd)
            written += sum(len(k) + len(v) for k, v in records.items())
            store.write(records, sync=False)  # a node syncs; that waits on the disk, not on compaction
            progress.advance(task, 1)
        _settle(store)
        main, proc = time.thread_time() - main0, time.process_time() - proc0
        levels = store.compaction_stats()
        store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    compaction_s = max(0.0, proc - main)
    return {
        "layout": layout,
        "txs": blocks * txs,
        "written_mb": round(written / 2**20, 1),
        "compaction_cpu_s": round(compaction_s, 2),
        "compaction_us_per_tx": round(compaction_s / (blocks * txs) * 1e6, 1),
        "compaction_written_mb": round(sum(v["written_mb"] for v in levels.values()), 1),
        "wall_s": round(time.perf_counter() - wall0, 1),
        "levels": levels,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=400)
    ap.add_argument("--txs-per-block", type=int, default=500)
    ap.add_argument("--layouts", default=",".join(LAYOUTS), help=f"comma-separated, of {', '.join(LAYOUTS)}")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    layouts = [x for x in args.layouts.split(",") if x]
    unknown = [x for x in layouts if x not in LAYOUTS]
    if unknown:
        ap.error(f"unknown layout(s) {unknown}; choose from {', '.join(LAYOUTS)}")
    if args.blocks < 1 or args.txs_per_block < 1:
        ap.error("--blocks and --txs-per-block must be at least 1")
    with Progress(enabled=not args.quiet and not args.json and sys.stderr.isatty()) as progress:
        results = [run_layout(layout, args.blocks, args.txs_per_block, args.seed, progress) for layout in layouts]
    if args.json:
        print(json.dumps({"blocks": args.blocks, "txs_per_block": args.txs_per_block, "results": results}, indent=2))
        return 0
    print(f"{args.blocks} blocks of {args.txs_per_block} txs, ~{results[0]['written_mb']:,.0f} MB written per layout; "
          "CPU of LevelDB's compaction thread (the process's CPU off its main thread):")
    print(f"{'layout':<14} {'compaction CPU s':>17} {'µs per tx':>10} {'compactions wrote MB':>21}")
    for r in results:
        print(f"{r['layout']:<14} {r['compaction_cpu_s']:>17.2f} {r['compaction_us_per_tx']:>10.1f} {r['compaction_written_mb']:>21,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
