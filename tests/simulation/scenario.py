"""Faults drawn from a seed (test code): everything a run does follows from its seed.

Before `heal_ms` the network loses, duplicates, delays and reorders messages, partitions
come and go (symmetric, or one-way), honest nodes crash and restart (some between
persisting and sending, some between committing and advancing), and the Byzantine
validator, when there is one, runs as twins whose split of the network is reshuffled.
From `heal_ms` on the network is reliable with small delays and everyone is up; the twins
stay.
"""

from __future__ import annotations

import dataclasses
import random

HEAL_MS_MIN, HEAL_MS_MAX = 6_000, 15_000
PARTITION_MS_MAX = 6_000
DOWN_MS_MAX = 6_000
CLOCK_SKEW_MS_MAX = 2_000


@dataclasses.dataclass(frozen=True)
class PartitionPlan:
    start_ms: int
    end_ms: int
    side_a: tuple[str, ...]
    side_b: tuple[str, ...]
    symmetric: bool


@dataclasses.dataclass(frozen=True)
class CrashPlan:
    node: str
    at_ms: int
    restart_ms: int
    point: str          # "idle", "after_persist" or "after_commit"


@dataclasses.dataclass(frozen=True)
class Scenario:
    seed: int
    n: int
    byzantine: int | None                            # validator index run as twins
    heal_ms: int
    drop: float
    duplicate: float
    delay_max_ms: int
    long_delay: float
    partitions: tuple[PartitionPlan, ...]
    crashes: tuple[CrashPlan, ...]
    twin_splits: tuple[tuple[int, tuple[str, ...]], ...]   # (at_ms, honest nodes that see twin "a")
    clock_skew_ms: tuple[tuple[str, int], ...]              # each node's wall clock offset

    def names(self) -> list[str]:
        out = []
        for i in range(self.n):
            out += [f"v{i}a", f"v{i}b"] if i == self.byzantine else [f"v{i}"]
        return out

    def honest_names(self) -> list[str]:
        return [f"v{i}" for i in range(self.n) if i != self.byzantine]

    def describe(self) -> str:
        parts = [
            f"seed={self.seed} n={self.n}",
            f"twins=v{self.byzantine}" if self.byzantine is not None else "no twins",
            f"heal at {self.heal_ms} ms",
            f"drop={self.drop:.2f} dup={self.duplicate:.2f} delay<={self.delay_max_ms} ms long={self.long_delay:.2f}",
            f"{len(self.partitions)} partitions ({sum(not p.symmetric for p in self.partitions)} one-way)",
            f"{len(self.crashes)} crashes ({', '.join(c.point for c in self.crashes) or '-'})",
        ]
        return "; ".join(parts)


def make_scenario(seed: int) -> Scenario:
    rng = random.Random(seed)
    n = rng.choice((4, 7))
    byzantine = rng.randrange(n) if rng.random() < 0.5 else None
    heal_ms = rng.randint(HEAL_MS_MIN, HEAL_MS_MAX)
    honest = [f"v{i}" for i in range(n) if i != byzantine]
    everyone = honest + ([f"v{byzantine}a", f"v{byzantine}b"] if byzantine is not None else [])

    partitions = []
    for _ in range(rng.randint(0, 3)):
        start = rng.randint(0, heal_ms - 1_000)
        end = min(heal_ms, start + rng.randint(500, PARTITION_MS_MAX))
        members = everyone[:]
        rng.shuffle(members)
        cut = rng.randint(1, len(members) - 1)
        partitions.append(
            PartitionPlan(start, end, tuple(sorted(members[:cut])), tuple(sorted(members[cut:])), rng.random() < 0.5)
        )

    crashes = []
    for _ in range(rng.randint(0, 3)):
        at = rng.randint(0, heal_ms - 1_000)
        restart = min(heal_ms - 1, at + rng.randint(100, DOWN_MS_MAX))
        crashes.append(CrashPlan(rng.choice(honest), at, restart, rng.choice(("idle", "after_persist", "after_commit"))))

    twin_splits = []
    if byzantine is not None:
        for k in range(rng.randint(1, 3)):
            at = 0 if k == 0 else rng.randint(0, heal_ms)
            side = honest[:]
            rng.shuffle(side)
            twin_splits.append((at, tuple(sorted(side[: rng.randint(1, len(side) - 1)]))))
        twin_splits.sort()

    return Scenario(
        seed=seed,
        n=n,
        byzantine=byzantine,
        heal_ms=heal_ms,
        drop=rng.choice((0.0, 0.05, 0.1, 0.2, 0.3)),
        duplicate=rng.choice((0.0, 0.05, 0.2)),
        delay_max_ms=rng.choice((10, 50, 200, 600)),
        long_delay=rng.choice((0.0, 0.01, 0.05)),
        partitions=tuple(partitions),
        crashes=tuple(crashes),
        twin_splits=tuple(twin_splits),
        clock_skew_ms=tuple((name, rng.randint(-CLOCK_SKEW_MS_MAX, CLOCK_SKEW_MS_MAX)) for name in everyone),
    )
