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
May import: gc.
"""

from __future__ import annotations

import gc


def settle_after_startup() -> int:
    """Collect once and freeze the survivors; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
