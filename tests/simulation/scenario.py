"""Faults drawn from a seed (test code): everything a run does follows from its seed.

Before `heal_ms` the network loses, duplicates, delays and reorders messages (precommits
may be lost more often than the rest), partitions come and go (long ones, symmetric or
one-way; "flapping" ones that change every few hundred ms; Twins-style per-round ones, in
which each round's messages stay inside that round's groups), honest nodes crash and
restart (some between persisting and sending, some between committing and advancing), and
the Byzantine validator, when there is one, runs as twins whose split of the network is
reshuffled. From `heal_ms` on the network is reliable with small delays and every honest
node is up; the twins stay.

Two families, chosen by the seed:
  - "mixed" (3 seeds in 4): n = 4 or 7, any mix of the faults above;
  - "lock probe": n = 4 with twins, lossy precommits and many crashes right after a
    commit. A node that decides and vanishes while others hold the lock is exactly where
    a wrong lock rule breaks agreement, and random mixes reach it rarely (the negative
    control with a planted lock bug needs it).
"""

from __future__ import annotations

import dataclasses
import random

HEAL_MS_MIN, HEAL_MS_MAX = 6_000, 15_000
PARTITION_MS_MAX = 6_000
DOWN_MS_MAX = 6_000
CLOCK_SKEW_MS_MAX = 2_000
LOCK_PROBE_SHARE = 0.25


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
    family: str
    n: int
    byzantine: int | None                            # validator index run as twins
    heal_ms: int
    drop: float
    precommit_drop: float                            # extra loss of precommits only
    duplicate: float
    delay_max_ms: int
    long_delay: float
    round_partitions: bool                           # each round's messages stay in its groups
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
            f"seed={self.seed} {self.family} n={self.n}",
            f"twins=v{self.byzantine}" if self.byzantine is not None else "no twins",
            f"heal at {self.heal_ms} ms",
            f"drop={self.drop:.2f} precommit drop={self.precommit_drop:.2f} dup={self.duplicate:.2f} "
            f"delay<={self.delay_max_ms} ms long={self.long_delay:.2f}",
            f"{len(self.partitions)} partitions ({sum(not p.symmetric for p in self.partitions)} one-way)"
            + (" + per-round" if self.round_partitions else ""),
            f"{len(self.crashes)} crashes ({', '.join(c.point for c in self.crashes) or '-'})",
        ]
        return "; ".join(parts)


def _split(rng: random.Random, members: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    members = members[:]
    rng.shuffle(members)
    cut = rng.randint(1, len(members) - 1)
    return tuple(sorted(members[:cut])), tuple(sorted(members[cut:]))


def _twin_splits(rng: random.Random, honest: list[str], heal_ms: int, gap_ms: tuple[int, int]) -> tuple:
    splits, t = [], 0
    while t < heal_ms:
        side = honest[:]
        rng.shuffle(side)
        splits.append((t, tuple(sorted(side[: rng.randint(1, len(side) - 1)]))))
        t += rng.randint(*gap_ms)
    return tuple(splits)


def make_scenario(seed: int) -> Scenario:
    rng = random.Random(seed)
    if rng.random() < LOCK_PROBE_SHARE:
        return _lock_probe(seed, rng)
    return _mixed(seed, rng)


def _mixed(seed: int, rng: random.Random) -> Scenario:
    n = rng.choice((4, 7))
    byzantine = rng.randrange(n) if rng.random() < 0.5 else None
    heal_ms = rng.randint(HEAL_MS_MIN, HEAL_MS_MAX)
    honest = [f"v{i}" for i in range(n) if i != byzantine]
    everyone = honest + ([f"v{byzantine}a", f"v{byzantine}b"] if byzantine is not None else [])

    partitions = []
    if rng.random() < 0.3:
        t = 0
        while t < heal_ms - 500:
            length = rng.randint(200, 1_500)
            a, b = _split(rng, everyone)
            partitions.append(PartitionPlan(t, min(heal_ms, t + length), a, b, rng.random() < 0.7))
            t += length
    for _ in range(rng.randint(0, 3)):
        start = rng.randint(0, heal_ms - 1_000)
        a, b = _split(rng, everyone)
        partitions.append(PartitionPlan(start, min(heal_ms, start + rng.randint(500, PARTITION_MS_MAX)), a, b, rng.random() < 0.5))

    crashes = []
    for _ in range(rng.randint(0, 3)):
        at = rng.randint(0, heal_ms - 1_000)
        restart = min(heal_ms - 1, at + rng.randint(100, DOWN_MS_MAX))
        crashes.append(CrashPlan(rng.choice(honest), at, restart, rng.choice(("idle", "after_persist", "after_commit"))))

    return Scenario(
        seed=seed,
        family="mixed",
        n=n,
        byzantine=byzantine,
        heal_ms=heal_ms,
        drop=rng.choice((0.0, 0.05, 0.1, 0.2, 0.3)),
        precommit_drop=rng.choice((0.0, 0.0, 0.3, 0.6)),
        duplicate=rng.choice((0.0, 0.05, 0.2)),
        delay_max_ms=rng.choice((10, 50, 200, 600)),
        long_delay=rng.choice((0.0, 0.01, 0.05)),
        round_partitions=rng.random() < 0.15,
        partitions=tuple(partitions),
        crashes=tuple(crashes),
        twin_splits=_twin_splits(rng, honest, heal_ms, (2_000, 8_000)) if byzantine is not None else (),
        clock_skew_ms=tuple((name, rng.randint(-CLOCK_SKEW_MS_MAX, CLOCK_SKEW_MS_MAX)) for name in everyone),
    )


def _lock_probe(seed: int, rng: random.Random) -> Scenario:
    n = 4
    byzantine = rng.randrange(n)
    heal_ms = rng.randint(HEAL_MS_MIN, HEAL_MS_MAX)
    honest = [f"v{i}" for i in range(n) if i != byzantine]
    everyone = honest + [f"v{byzantine}a", f"v{byzantine}b"]
    crashes = []
    for _ in range(rng.randint(2, 6)):
        at = rng.randint(0, heal_ms - 1_000)
        crashes.append(CrashPlan(rng.choice(honest), at, min(heal_ms - 1, at + rng.randint(500, 4_000)), "after_commit"))
    return Scenario(
        seed=seed,
        family="lock-probe",
        n=n,
        byzantine=byzantine,
        heal_ms=heal_ms,
        drop=rng.uniform(0.0, 0.2),
        precommit_drop=rng.uniform(0.4, 0.7),
        duplicate=rng.choice((0.0, 0.05, 0.2)),
        delay_max_ms=rng.choice((10, 50, 200)),
        long_delay=rng.choice((0.01, 0.05)),
        round_partitions=False,
        partitions=(),
        crashes=tuple(crashes),
        twin_splits=_twin_splits(rng, honest, heal_ms, (1_000, 4_000)),
        clock_skew_ms=tuple((name, rng.randint(-CLOCK_SKEW_MS_MAX, CLOCK_SKEW_MS_MAX)) for name in everyone),
    )
