"""benchmarks/bench_sheet_history.py stores a version per change of a sheet of the history asked
for (its timings are not checked: tests never depend on the machine's speed)."""

from __future__ import annotations

import json

from benchmarks import bench_sheet_history as bench
from cadastre import records, source
from contracts import keys
from node.codec import decode_trusted


def test_the_sheet_holds_the_history_asked_for_and_the_projection_reads_it_whole():
    state = bench._state(7)
    recs = source.sheet_records(state, bench.CN)
    assert sorted(recs.entries) == list(range(1, 8))
    assert decode_trusted(state[keys.entry(1)])["section"] == "rights"
    assert {decode_trusted(state[keys.entry(i)])["status"] for i in range(2, 8)} == {"ended"}
    assert len(records.decode(records.encode_sorted(recs.pairs))) == 8  # seven entries and the object


def test_every_change_makes_a_version_and_a_longer_history_a_larger_one(capsys):
    assert bench.main(["--history", "1,6", "--touches", "3", "--json"]) == 0
    short, long_ = json.loads(capsys.readouterr().out)["results"]
    assert (short["history"], long_["history"]) == (1, 6) and short["touches"] == long_["touches"] == 3
    assert long_["version_bytes"] > 3 * short["version_bytes"] > 0
    assert short["us_per_touch"] >= 0 and long_["us_per_touch"] >= 0
