"""A node's store as two LevelDBs: the history, keyed by height first, and a small index.

Why two. Nearly everything a node writes belongs to one height: the block, its commit
certificate, its receipts and the state-tree nodes it created (~5.8 KB per tx). The rest is
keyed by something random: the tx index (tx id -> location), block hash -> height, state
root -> height, the head and the validator's sign state. In one LevelDB, every memtable it
flushes then spans the whole key space, overlaps the older tables below it and is merged
into them, i.e. written again; under saturation that merge cost each node 112-139 µs of CPU
per tx at N=2048 (stop 22's full reports). With the history in a LevelDB of its own, keyed
u64(height) + tag, each flushed table lies wholly after every older one and is moved down
the levels without being rewritten: `benchmarks.bench_store_compaction` measured the
compaction thread at 15.1 µs per tx for this store against 23.3 for one LevelDB (200,000
txs' worth of records; 10.5-13.9 for the history alone).

The keys the rest of the node sees do not change (node/schema.py builds them): this class
maps them. A block/commit/receipts key `<table>/u64(h)` lives in the history as
`u64(h) + tag`, a tree node `z/u64(h) + hash` as `u64(h) + b"z" + hash`; every other key
lives in the index under its own bytes. A history record whose bytes do not have that form
(only an insider writing into the LevelDB by hand makes one) is shown under
schema.FOREIGN_PREFIX, so that `tamga chain verify` still reports it.

Crash safety. A batch that touches both is written to the history first, then to the index,
which holds the head: the index never points at history that is not on disk. A crash
between the two leaves one height of history above the head, which no reader looks at (the
head says where the chain ends) and which `drop_history_above` deletes when the chain
opens; the block is decided again or fetched from a peer, byte for byte the same. History
further above the head is no crash's doing: the node refuses to start and deletes nothing.

May import: node.errors, node.interfaces, node.schema.
"""

from __future__ import annotations

import heapq
from typing import Iterator, Mapping

from node import schema
from node.errors import StoreCorrupted
from node.interfaces import KeyValueStore

_TAG_OF_TABLE = {
    schema.BLOCK_PREFIX: b"b",
    schema.COMMIT_PREFIX: b"c",
    schema.RECEIPTS_PREFIX: b"r",
    schema.TREE_NODE_PREFIX: b"z",
}
_TABLE_OF_TAG = {tag: table for table, tag in _TAG_OF_TABLE.items()}
_TABLE_LEN = len(schema.BLOCK_PREFIX)
assert all(len(t) == _TABLE_LEN for t in _TAG_OF_TABLE) and len(schema.FOREIGN_PREFIX) == _TABLE_LEN
_HEIGHT_LEN = 8


def history_key(key: bytes) -> bytes | None:
    """Where a node's key lives in the history LevelDB, or None when it lives in the index."""
    tag = _TAG_OF_TABLE.get(key[:_TABLE_LEN])
    if tag is not None:
        if len(key) < _TABLE_LEN + _HEIGHT_LEN:
            return None
        return key[_TABLE_LEN:_TABLE_LEN + _HEIGHT_LEN] + tag + key[_TABLE_LEN + _HEIGHT_LEN:]
    if key.startswith(schema.FOREIGN_PREFIX) and not _well_formed(key[_TABLE_LEN:]):
        return key[_TABLE_LEN:]
    return None


def node_key(physical: bytes) -> bytes:
    """The node's key for a history record (the inverse of history_key)."""
    if _well_formed(physical):
        return _TABLE_OF_TAG[physical[_HEIGHT_LEN:_HEIGHT_LEN + 1]] + physical[:_HEIGHT_LEN] + physical[_HEIGHT_LEN + 1:]
    return schema.FOREIGN_PREFIX + physical


def _well_formed(physical: bytes) -> bool:
    return len(physical) > _HEIGHT_LEN and physical[_HEIGHT_LEN:_HEIGHT_LEN + 1] in _TABLE_OF_TAG


class SplitStore(KeyValueStore):
    """The history and index stores behind one KeyValueStore (see the module docstring)."""

    may_hold_next_height = True

    def __init__(self, history: KeyValueStore, index: KeyValueStore, path: str = ""):
        self.history = history
        self.index = index
        self.path = path  # the directory holding both, for messages

    def get(self, key: bytes) -> bytes | None:
        physical = history_key(key)
        return self.index.get(key) if physical is None else self.history.get(physical)

    def write(self, puts: Mapping[bytes, bytes], deletes=(), *, sync: bool = True) -> None:
        h_puts: dict[bytes, bytes] = {}
        i_puts: dict[bytes, bytes] = {}
        h_dels: list[bytes] = []
        i_dels: list[bytes] = []
        # history_key inlined for the common cases: a commit writes ~14 records per tx, and
        # the call cost a third of the mapping (0.37 against 0.27 µs a key).
        tag_of = _TAG_OF_TABLE.get
        start, end = _TABLE_LEN, _TABLE_LEN + _HEIGHT_LEN
        for k, v in puts.items():
            tag = tag_of(k[:start])
            if tag is not None and len(k) >= end:
                h_puts[k[start:end] + tag + k[end:]] = v
                continue
            physical = history_key(k)  # a short or foreign key: the general rule
            if physical is None:
                i_puts[k] = v
            else:
                h_puts[physical] = v
        for k in deletes:
            physical = history_key(k)
            if physical is None:
                i_dels.append(k)
            else:
                h_dels.append(physical)
        # History first: the index (with the head) must never name records not yet on disk.
        if h_puts or h_dels:
            self.history.write(h_puts, h_dels, sync=sync)
        if i_puts or i_dels:
            self.index.write(i_puts, i_dels, sync=sync)

    def iterate(self, prefix: bytes = b"", *, start: bytes | None = None, reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        sources = [self.index.iterate(prefix, start=start, reverse=reverse)]
        for table in (*_TAG_OF_TABLE, schema.FOREIGN_PREFIX):
            if table.startswith(prefix) or prefix.startswith(table):
                sources.append(self._history_table(table, prefix, start, reverse))
        if len(sources) == 1:
            return sources[0]
        return heapq.merge(*sources, key=lambda kv: kv[0], reverse=reverse)

    def _history_table(self, table: bytes, prefix: bytes, start: bytes | None, reverse: bool) -> Iterator[tuple[bytes, bytes]]:
        if reverse:
            # Nothing in the node iterates the history backwards; a test or a tool may, on a
            # small store, so this stays simple rather than fast.
            items = [kv for kv in self._history_table(table, prefix, None, False) if start is None or kv[0] <= start]
            yield from reversed(items)
            return
        low = max(prefix, start) if start is not None else prefix
        for key, value in self._table_items(table, low):
            if not key.startswith(prefix):
                if key > prefix:
                    return
                continue
            if start is None or key >= start:
                yield key, value

    def _table_items(self, table: bytes, low: bytes) -> Iterator[tuple[bytes, bytes]]:
        """The history records of one table as node keys, in key order, from about `low`."""
        if table == schema.FOREIGN_PREFIX:
            yield from self._foreign_items()
            return
        if low[:_TABLE_LEN] > table:
            return
        tag = _TAG_OF_TABLE[table]
        if low[:_TABLE_LEN] == table:
            rest = low[_TABLE_LEN:]
            seek = rest[:_HEIGHT_LEN].ljust(_HEIGHT_LEN, b"\0") + tag + rest[_HEIGHT_LEN:]
        else:
            seek = bytes(_HEIGHT_LEN) + tag
        # A table's records at one height are contiguous (u64(h) + tag ...); between heights
        # lie the other tables' records, skipped by seeking to the next height's run rather
        # than read: a block's ~6,000 tree nodes sit between two blocks.
        while seek is not None:
            after, seek = seek, None
            for physical, value in self.history.iterate(start=after):
                if len(physical) < _HEIGHT_LEN:
                    continue  # a foreign record shorter than a height: step past it
                h, t = physical[:_HEIGHT_LEN], physical[_HEIGHT_LEN:_HEIGHT_LEN + 1]
                if t == tag:
                    yield table + h + physical[_HEIGHT_LEN + 1:], value
                    continue
                if t < tag:  # an earlier table (or a bare height) at this height
                    seek = h + tag
                else:
                    height = schema.read_u64(h)
                    if height + 1 < 1 << 64:
                        seek = schema.u64(height + 1) + tag
                break

    def _foreign_items(self) -> Iterator[tuple[bytes, bytes]]:
        """History records that are not of the form u64(h) + tag, seeking past each table's
        run rather than reading it: there are none unless someone wrote them by hand."""
        seek: bytes | None = b""
        while seek is not None:
            after, seek = seek, None
            for physical, value in self.history.iterate(start=after):
                if not _well_formed(physical):
                    yield schema.FOREIGN_PREFIX + physical, value
                    continue
                run = physical[:_HEIGHT_LEN + 1]
                seek = run[:-1] + bytes([run[-1] + 1])  # past every key starting with this run
                break

    def drop_history_above(self, height: int) -> int:
        """Delete the history records of height `height` + 1, which a crash between the two
        writes of a commit leaves behind; the number deleted. Blocks are committed one at a
        time, so a crash leaves at most one height: records above that mean the head record
        was altered or lost, and are kept, as evidence, with StoreCorrupted raised."""
        if height + 1 >= 1 << 64:
            return 0
        next_height = schema.u64(height + 1)
        above = [k for k, _ in self.history.iterate(start=next_height)]
        if not above:
            return 0
        if any(k[:_HEIGHT_LEN] != next_height for k in above):
            raise StoreCorrupted(
                f"the store at {self.path or 'this path'} holds history beyond height {height + 1}, past its head at height {height}; "
                "no crash leaves that (the head record was altered or lost). Set it aside with `tamga node resync --config FILE`"
            )
        self.history.write({}, above, sync=True)
        return len(above)

    def compaction_stats(self) -> dict[int, dict[str, float]]:
        out: dict[int, dict[str, float]] = {}
        for store in (self.history, self.index):
            for level, row in store.compaction_stats().items():
                have = out.setdefault(level, dict.fromkeys(row, 0.0))
                for name, value in row.items():
                    have[name] = have.get(name, 0.0) + value
        return out

    def close(self) -> None:
        self.history.close()
        self.index.close()
