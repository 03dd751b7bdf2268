"""A stand-in for another node sharing the machine's cores: it touches a large working set in
short bursts and sleeps in between, so the scheduler switches it in and out as it does a
node's event loop.

    .venv/bin/python -m benchmarks.cpu_neighbour SECONDS [--burst-ms 2] [--sleep-ms 1] [--mb 200]

Run three beside `benchmarks.bench_node_pipeline --clock thread` to see how much sharing the
cores with other memory-hungry processes inflates a node's own CPU per tx (stop 24: +7 %).
"""

from __future__ import annotations

import argparse
import random
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("seconds", type=float)
    ap.add_argument("--burst-ms", type=float, default=2.0)
    ap.add_argument("--sleep-ms", type=float, default=1.0)
    ap.add_argument("--mb", type=int, default=200, help="working set, roughly (64-byte objects, ~100 B each in CPython)")
    args = ap.parse_args(argv)
    n = args.mb * 10_000
    data = {i: bytes(64) for i in range(n)}
    rng = random.Random(1)
    end = time.monotonic() + args.seconds
    burst, pause = args.burst_ms / 1000, args.sleep_ms / 1000
    while time.monotonic() < end:
        t = time.perf_counter()
        while time.perf_counter() - t < burst:
            for _ in range(200):
                data.get(rng.randrange(n))
        time.sleep(pause)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
