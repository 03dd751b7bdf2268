"""What an object's history costs the cadastre projection each time the object changes.

    .venv/bin/python -m benchmarks.bench_sheet_history [--history 1,10,50,200] [--touches 300] [--json]

Entries are never deleted (contracts/sheet.py: an ended or cancelled entry stays in the
history of the registration sheet, Art 14), and the projection stores each version of a
sheet as the blob of all the records it is derived from (cadastre/records.py). So each
change to an object reads all its entries from the state, encodes them, compares the blob
with the previous version's and stores it whole: work and bytes that grow with the object's
history, where the change itself is one entry.
The benchmark register's objects gather a few entries each; a plot with decades of sales,
pledges and discharges gathers hundreds.

For each history length k: one object whose sheet holds one right and k-1 ended pledges
(records shaped like the contracts', ~0.3 KB each), touched `--touches` times through
Projection._project_objects, each touch changing one entry (so each makes a version and k
stays the same), one SQLite transaction per touch as a block's. Prints µs of this thread's
CPU per touch and the bytes of one stored version. Numbers only: nothing here asserts on
timings.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from benchmarks.common import dump_json, machine
from cadastre.projection import Projection
from contracts import keys
from node.codec import encode_trusted

CN = "01:011:001:001"
HOLDER = "850101300123"
BANK = "991203300031"


def _right(entry_id: int) -> dict:
    return {
        "id": entry_id, "section": "rights", "type": "ownership", "objects": [CN], "status": "active",
        "registered": {"height": 1, "time_ms": 1_700_000_000_000, "day": "2023-11-14"},
        "basis": {"application": 1, "act": "sale and purchase agreement"},
        "holders": [{"id": HOLDER, "name": "Aigerim Seitkali", "share": [1, 1]}],
    }


def _ended_pledge(entry_id: int, version: int = 0) -> dict:
    return {
        "id": entry_id, "section": "encs", "type": "pledge", "objects": [CN], "status": "ended",
        "registered": {"height": 10 + entry_id, "time_ms": 1_700_000_000_000 + entry_id, "day": "2023-11-15"},
        "basis": {"application": 100 + entry_id, "act": "pledge agreement"},
        "pledgee": {"id": BANK, "name": "ForteBank JSC"},
        "pledgors": [{"id": HOLDER, "name": "Aigerim Seitkali"}],
        "secured": {"amount": 25_000_000 + version, "currency": "KZT"},
        "ended": {"height": 20 + entry_id, "time_ms": 1_700_000_100_000 + entry_id, "day": "2023-12-01", "status": "discharged",
                  "by": 200 + entry_id, "reason": "the secured obligation was paid in full"},
    }


def _state(history: int) -> dict[bytes, bytes]:
    """The records of one object with `history` entries: entry 1 its ownership, the rest
    ended pledges."""
    records = {keys.entry(1): encode_trusted(_right(1))}
    for i in range(2, history + 1):
        records[keys.entry(i)] = encode_trusted(_ended_pledge(i))
    obj = {
        "cn": CN, "type": "apartment", "ident": {"address": "Astana, Mangilik El 55, apt 12", "area_m2": 74.5},
        "parent": None, "children": [], "status": "active", "rights": [1], "encs": [], "claims": [], "notes": [],
        "history": list(range(1, history + 1)), "pending": [], "stop": None,
    }
    records[keys.obj(CN)] = encode_trusted(obj)
    return records


def run(history: int, touches: int) -> dict:
    assert history >= 1 and touches >= 1
    records = _state(history)
    with tempfile.TemporaryDirectory() as tmp:
        projection = Projection(os.path.join(tmp, "cadastre.sqlite"))
        db = projection.db
        spent = 0.0
        # The last entry changes on every touch (the ownership itself when it is the only one).
        changing = keys.entry(history)
        for touch in range(touches + 1):
            if touch:
                records[changing] = encode_trusted(_ended_pledge(history, touch) if history > 1 else {**_right(1), "basis": {"application": touch}})
            db.execute("BEGIN IMMEDIATE")
            t = time.thread_time()
            projection._project_objects(records, [CN], touch + 1)
            if touch:  # the first touch makes the object's first version: not timed
                spent += time.thread_time() - t
            db.execute("COMMIT")
        (versions, version_bytes), = db.execute("SELECT COUNT(*), MAX(LENGTH(records)) FROM p_object_versions WHERE cn = ?", (CN,))
        projection.close()
    assert versions == touches + 1, f"{versions} versions stored for {touches + 1} touches"
    return {"history": history, "touches": touches, "us_per_touch": round(spent / touches * 1e6, 1), "version_bytes": version_bytes}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--history", default="1,10,50,200", help="history lengths (entries on the sheet), comma-separated")
    ap.add_argument("--touches", type=int, default=300, help="changes to the object per history length")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    results = [run(int(k), args.touches) for k in args.history.split(",")]
    if args.json:
        dump_json({"results": results, "machine": machine()})
        return 0
    print("entries on the sheet   µs of CPU per change   bytes per stored version")
    for r in results:
        print(f"{r['history']:>20,}   {r['us_per_touch']:>20,.1f}   {r['version_bytes']:>24,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
