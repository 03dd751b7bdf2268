"""A bounded cache in two generations: the cheap stand-in for an LRU on hot paths.

What it is for: the state tree keeps hundreds of thousands of decoded nodes in memory and
touches thousands per block. An OrderedDict LRU pays a reordering on every hit and a linked
list unlink on every removal; measured on a node under saturation, keeping it cost ~5 % of
the main thread. Here a hit in the young generation is one dict lookup, a hit in the old
generation moves the entry to the young one, and when the young generation is full it
becomes the old one and the previous old one is dropped whole. What was used within the last
generation survives, as with an LRU; the difference is only in what is evicted first among
entries nobody used lately.

May import: the standard library only. Not thread-safe beyond what the GIL gives a dict: a
reader racing a rotation may miss an entry, never get a wrong one.
"""

from __future__ import annotations

import itertools
from typing import Generic, Hashable, Iterable, Iterator, Mapping, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TwoGenerationCache(Generic[K, V]):
    """At most `size` entries (size >= 2), half in each generation. `young` is public so a hot loop can read it
    directly (`cache.young.get(k)`, then `cache.get(k)` on a miss)."""

    def __init__(self, size: int):
        assert size >= 2, "a cache needs room for one entry per generation; callers skip a smaller one"
        self._half = size // 2
        self.young: dict[K, V] = {}
        self._old: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        value = self.young.get(key)
        if value is not None:
            return value
        value = self._old.pop(key, None)
        if value is not None:
            self._put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        # A stale copy left in the old generation is shadowed by this one and goes at the
        # next rotation; it costs room, never a wrong answer.
        self._put(key, value)

    def put_many(self, items: Mapping[K, V]) -> None:
        """Put every entry of `items` (one C-level update, for a block's worth of nodes)."""
        self.young.update(items)
        if len(self.young) >= self._half:
            self._rotate()

    def drop_young(self, keys: Iterable[K]) -> None:
        """Drop `keys` from the young generation only. For entries that are still right but no
        longer wanted (the state tree's replaced nodes: keyed by their hash, so never wrong):
        out of the young generation they stop filling it, which is what brings a rotation
        early; in the old one they take room the next rotation frees anyway, and popping them
        there too cost a random lookup in a large dict each: 3.7-3.8 ms of CPU per block
        against 1.2 for 5,000 keys of a 400,000-entry cache, the replaced nodes of a ~480-tx
        block (`python -m benchmarks.bench_gencache`), ~5 µs per tx per node.
        Only for keys that always name the same value: a copy in the old generation that a
        later put had shadowed is visible again once the young one is dropped."""
        young_pop = self.young.pop
        for key in keys:
            young_pop(key, None)

    def _put(self, key: K, value: V) -> None:
        young = self.young
        young[key] = value
        if len(young) >= self._half:  # full: it becomes the old generation as it is
            self._rotate()

    def _rotate(self) -> None:
        young = self.young
        if len(young) > self._half:
            # A batch larger than a generation: keep its newest entries only, so the bound holds.
            young = dict(itertools.islice(young.items(), len(young) - self._half, None))
        self._old = young
        self.young = {}

    def __len__(self) -> int:
        return len(self.young) + len(self._old)

    def __contains__(self, key: object) -> bool:
        return key in self.young or key in self._old

    def __iter__(self) -> Iterator[K]:
        return itertools.chain(list(self.young), list(self._old))
