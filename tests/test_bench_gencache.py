"""benchmarks/bench_gencache.py drops what it says from where it says (numbers are not checked:
tests never depend on the machine's speed)."""

from __future__ import annotations

import json

from benchmarks import bench_gencache as bench
from node.gencache import TwoGenerationCache


def test_the_reference_pops_both_generations_and_drop_young_only_the_young():
    for young_only in (True, False):
        cache: TwoGenerationCache[int, int] = TwoGenerationCache(8)
        cache.put_many({i: i for i in range(4)})  # a full generation: rotated to the old one
        cache.put_many({i: i for i in range(4, 7)})
        if young_only:
            cache.drop_young([1, 5])
            assert 1 in cache and 5 not in cache  # the old generation keeps its copy
        else:
            bench._pop_both(cache, [1, 5])
            assert 1 not in cache and 5 not in cache


def test_json_output_names_both_figures(capsys):
    assert bench.main(["--cache", "2000", "--replaced", "50", "--blocks", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cache"] == 2000 and out["replaced_per_block"] == 50
    assert out["drop_young_ms_per_block"] >= 0 and out["reference_pop_both_ms_per_block"] >= 0
