"""Virtual time and a faulty network (test code).

One heap of events ordered by (time, sequence number): the simulation is a deterministic
function of its seed. The network decides, per message and per link, whether it is
blocked by a partition, dropped, duplicated, and how long each copy takes (different delays
reorder messages).
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from typing import Any, Callable


class Clock:
    """The virtual clock and event queue."""

    def __init__(self) -> None:
        self.now_ms = 0
        self._heap: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0

    def at(self, time_ms: int, fn: Callable[..., None], *args: Any) -> None:
        assert time_ms >= self.now_ms
        self._seq += 1
        heapq.heappush(self._heap, (time_ms, self._seq, fn, args))

    def run_until(self, end_ms: int, stop: Callable[[], bool] = lambda: False) -> None:
        while self._heap and self._heap[0][0] <= end_ms:
            time_ms, _, fn, args = heapq.heappop(self._heap)
            self.now_ms = time_ms
            fn(*args)
            if stop():
                return
        self.now_ms = max(self.now_ms, end_ms)


@dataclasses.dataclass
class LinkFaults:
    drop: float = 0.0                 # probability a copy is lost
    extra_drop: float = 0.0           # ... more for messages `lossy` picks out
    duplicate: float = 0.0            # probability a message is sent twice
    delay_min_ms: int = 1
    delay_max_ms: int = 50
    long_delay: float = 0.0           # probability of a delay up to long_delay_max_ms
    long_delay_max_ms: int = 3000


@dataclasses.dataclass(frozen=True)
class Partition:
    """Between start and end, messages from a node in `src` to a node in `dst` are lost.
    Symmetric partitions list both directions."""

    start_ms: int
    end_ms: int
    src: frozenset[str]
    dst: frozenset[str]
    symmetric: bool

    def blocks(self, now_ms: int, a: str, b: str) -> bool:
        if not self.start_ms <= now_ms < self.end_ms:
            return False
        if a in self.src and b in self.dst:
            return True
        return self.symmetric and a in self.dst and b in self.src


class Network:
    def __init__(
        self,
        clock: Clock,
        rng: random.Random,
        faults: LinkFaults,
        lossy: Callable[[Any], bool] = lambda m: False,
        cut: Callable[[str, str, Any], bool] = lambda a, b, m: False,
    ):
        self.clock = clock
        self.rng = rng
        self.faults = faults
        self.lossy = lossy      # messages that suffer faults.extra_drop
        self.cut = cut          # (src, dst, message) -> lost: the per-round partitions
        self.partitions: list[Partition] = []
        self.sent = 0
        self.delivered = 0
        self.dropped = 0
        self.duplicated = 0

    def blocked(self, a: str, b: str) -> bool:
        return any(p.blocks(self.clock.now_ms, a, b) for p in self.partitions)

    def transmit(self, src: str, dst: str, deliver: Callable[..., None], *args: Any) -> None:
        """Send one message from node `src` to node `dst`; `deliver(*args)` runs on arrival
        (args[0] is the message, for `lossy`)."""
        self.sent += 1
        if self.blocked(src, dst) or self.cut(src, dst, args[0]):
            self.dropped += 1
            return
        f = self.faults
        if f.extra_drop and self.lossy(args[0]) and self.rng.random() < f.extra_drop:
            self.dropped += 1
            return
        copies = 2 if f.duplicate and self.rng.random() < f.duplicate else 1
        self.duplicated += copies - 1
        for _ in range(copies):
            if f.drop and self.rng.random() < f.drop:
                self.dropped += 1
                continue
            if f.long_delay and self.rng.random() < f.long_delay:
                delay = self.rng.randint(f.delay_max_ms, max(f.delay_max_ms, f.long_delay_max_ms))
            else:
                delay = self.rng.randint(f.delay_min_ms, f.delay_max_ms)
            self.delivered += 1
            self.clock.at(self.clock.now_ms + delay, deliver, *args)
