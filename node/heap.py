"""Garbage-collector settings for a long-running node process.

A node holds its genesis document (a register of tens of thousands of objects as dicts and
lists) and fills caches at start, then runs for months. CPython's full collections traverse
every tracked container each time: under saturation a node made 9 full collections in 40 s,
the longest 975 ms, and a paused validator neither votes nor answers, so the whole
consortium waited. Once start-up is done, `gc.freeze()` moves what it built to the
permanent generation, which collections never traverse again (reference counting still
frees those objects when they are dropped; what start-up builds -- the genesis, modules,
caches -- does not turn into cyclic garbage later). In the same 30 s run with it, each
node made at most one full collection, of at most 0.25 s.

The collector still ran ~1,600 young-generation passes and a dozen full ones in 70 s of
saturation, about 2 s of a node's 31 s of CPU (6 %), and every full one (70 ms of CPU each)
found nothing to free: the tracked objects that outlive a young collection are txs waiting
in the mempool and blocks in flight, which reference counting frees a second later. A
threshold of 20,000 net new containers (instead of 700) lets them die before a pass looks
at them: ~20 passes in the same run, and cyclic garbage (asyncio's exceptions with their
tracebacks) is still collected, a little later.
May import: gc.
"""

from __future__ import annotations

import gc


YOUNG_THRESHOLD = 20_000   # net new tracked containers between young collections (CPython: 700)
OLDER_THRESHOLDS = (20, 20)  # young passes per middle pass, middle passes per full one (10, 10)


def settle_after_startup() -> int:
    """Collect once, freeze the survivors and space out later collections; returns how
    many objects were frozen."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    return gc.get_freeze_count()
