"""node/heap.py: what start-up built is frozen out of the collector's way."""

from __future__ import annotations

import gc

from node import heap


def test_settle_freezes_what_is_alive_and_new_objects_stay_collectable():
    survivor = [{"register": i} for i in range(1000)]
    thresholds = gc.get_threshold()
    try:
        frozen = heap.settle_after_startup()
        assert frozen >= len(survivor)
        assert gc.get_freeze_count() == frozen
        assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, *heap.OLDER_THRESHOLDS)
        # Objects made afterwards are still collected: a cycle made now is freed.
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    assert survivor[999] == {"register": 999}
