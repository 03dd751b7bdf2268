"""What dropping a block's replaced state-tree nodes from the node cache costs, per block.

    .venv/bin/python -m benchmarks.bench_gencache [--cache 400000] [--replaced 5000] [--blocks 40] [--json]

A node's state tree keeps up to 400,000 decoded nodes (node/chain.py STATE_CACHE_NODES) in a
TwoGenerationCache, and each committed block replaces ~10 nodes per tx (~5,000 for a ~480-tx
block at saturation). `StateTree.remember` drops them from the young generation
(`drop_young`); the reference beside it is what it did before, popping each from both
generations. Random 32-byte keys, as node hashes are; CPU time of the dropping only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time

from node.gencache import TwoGenerationCache


def _pop_both(cache: TwoGenerationCache, keys: list[bytes]) -> None:
    """The reference: each key popped from both generations."""
    young_pop, old_pop = cache.young.pop, cache._old.pop
    for key in keys:
        young_pop(key, None)
        old_pop(key, None)


def run(cache_size: int, replaced: int, blocks: int, young_only: bool) -> float:
    """Mean ms of CPU per block spent dropping `replaced` cached keys."""
    rng = random.Random(1)
    cache: TwoGenerationCache[bytes, tuple] = TwoGenerationCache(cache_size)
    keys = [rng.randbytes(32) for _ in range(cache_size)]
    for key in keys[: cache_size - cache_size // 40]:
        cache.put(key, (1, key))
    spent = 0.0
    for _ in range(blocks):
        gone = rng.sample(keys, replaced)
        t = time.thread_time()
        if young_only:
            cache.drop_young(gone)
        else:
            _pop_both(cache, gone)
        spent += time.thread_time() - t
        # The block's new nodes go in, as remember() puts them.
        cache.put_many({os.urandom(32): (1,) for _ in range(replaced)})
    return spent / blocks * 1e3


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=int, default=400_000)
    ap.add_argument("--replaced", type=int, default=5_000)
    ap.add_argument("--blocks", type=int, default=40)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    out = {
        "cache": args.cache,
        "replaced_per_block": args.replaced,
        "drop_young_ms_per_block": round(run(args.cache, args.replaced, args.blocks, True), 2),
        "reference_pop_both_ms_per_block": round(run(args.cache, args.replaced, args.blocks, False), 2),
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(f"dropping {args.replaced:,} replaced nodes from a {args.cache:,}-node cache, ms of CPU per block:")
        print(f"  young generation only (drop_young)   {out['drop_young_ms_per_block']:>6.2f}")
        print(f"  both generations (the reference)     {out['reference_pop_both_ms_per_block']:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
