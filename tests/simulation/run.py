"""Replay simulation seeds from the command line (test code).

    python -m tests.simulation.run --seed 1234            one seed, with its summary
    python -m tests.simulation.run --seed 1234 -v         ... and a trace of faults
    python -m tests.simulation.run --seed 1234 --bug lock with a planted bug
    python -m tests.simulation.run --fresh 50             50 new random seeds
Exit status 1 when any run breaks a property.
"""

from __future__ import annotations

import argparse
import secrets
import sys

from tests.simulation.bugs import BUGS
from tests.simulation.simulation import run_seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.simulation.run", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, action="append", default=[], help="seed to run (repeatable)")
    parser.add_argument("--fresh", type=int, default=0, help="also run this many new random seeds")
    parser.add_argument("--bug", choices=BUGS, help="plant a bug (negative control)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the fault trace")
    args = parser.parse_args(argv)
    seeds = list(args.seed) + [secrets.randbits(32) for _ in range(args.fresh)]
    if not seeds:
        parser.error("give --seed N or --fresh K")
    failed = []
    for seed in seeds:
        result = run_seed(seed, bug=args.bug, trace=print if args.verbose else None)
        print(("ok   " if result.ok else "FAIL ") + result.summary())
        if not result.ok:
            failed.append(seed)
    if failed:
        print(f"failing seeds: {' '.join(map(str, failed))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
