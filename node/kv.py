"""Key-value stores: LevelDB through plyvel, and the in-memory twin the tests run too.

Both implement node.interfaces.KeyValueStore and pass the same test suite
(tests/test_kv.py). A node's store is two LevelDBs behind node.split_store.SplitStore;
`open_node_store` opens it (or a store from before the split, one LevelDB).
May import: plyvel, node.interfaces, node.errors, node.split_store.
"""

from __future__ import annotations

import bisect
import os
from typing import Iterator, Mapping

from node.errors import StoreCorrupted, TamgaError
from node.interfaces import KeyValueStore


# Most of what a node writes is state-tree nodes and signed envelopes: hashes and
# signatures, which snappy cannot shrink but still tries to, in LevelDB's background
# compaction thread, which under load used as much CPU as the node's own work. Compression is
# a per-block flag in the table format, so stores written with the old options stay readable.
# Large memtables mean fewer, larger flushes (LevelDB's default is 4 MiB): in a 2 x 30 s
# saturation run the compaction thread of one node took 113 then 264 ticks with 32 MiB ones
# and 27 then 111 with 128 MiB (measured on the store of one LevelDB, before the split; the
# split store's index and a store from before the split keep 128 MiB, its history does not,
# below). The price is a longer log to replay after a crash: ~1 s for a full 128 MiB one.
# Table files stay small (4 MiB): state-tree nodes are keyed by height first and are the last
# table of the key space (node/schema.py), so most tables below level 0 hold one stretch of
# heights, overlap nothing in the next level and are moved down whole. Files of 64 MiB each spanned everything newer than the level
# below, and every compaction rewrote them: with 64 MiB files the compaction thread took 47,
# 102 and 303 ticks in three 30 s saturation steps, with 4 MiB ones 24, 93 and 167.
LEVELDB_WRITE_OPTIONS = {"compression": None, "write_buffer_size": 128 << 20, "max_file_size": 4 << 20}
# The history LevelDB of a split store (node/split_store.py) takes nearly all of a node's
# bytes (~5.8 KB and ~13 records per tx) in keys that only grow (height first), so its
# flushed memtables are moved down the levels without being rewritten, whatever their size:
# a large memtable saves it no compaction. It costs every write instead: each record is
# inserted into the memtable's skip list, and the larger the list, the more of the levels a
# search walks through miss the CPU's caches, most of all with four nodes sharing them.
# Four bench_node_pipeline processes run at once (--txs 20000 --clock thread, 2 cores), the
# synced commit took 31-37 µs per tx with 16 MiB against 39-60 with 128 MiB; in fresh
# consortia taking turns (`benchmarks.ab`, two pairs of three N=1024 steps) the nodes' CPU per
# tx was 3.5 % lower in the first two steps (commit -7 to -10 µs per tx per node, LevelDB's
# compaction thread -4 to -7) and within the spread in the third. bench_store_compaction
# replaying 200,000 txs: its compactions wrote 1,122 MB against 1,097.
HISTORY_WRITE_BUFFER_BYTES = 16 << 20


class StoreLocked(TamgaError):
    code = "STORE_LOCKED"
    http_status = 503


class LevelDBStore(KeyValueStore):
    """A LevelDB database directory. Batches are atomic (transaction=True) and synced."""

    def __init__(self, path: str | os.PathLike, *, create: bool = True, write_buffer_bytes: int | None = None):
        import plyvel  # imported here so pure modules never pull it in

        self.path = os.fspath(path)
        if create:
            os.makedirs(self.path, exist_ok=True)
        # A bloom filter saves a disk read for most absent keys (tree nodes, tx index) and the
        # block cache keeps the upper state-tree levels hot; paranoid checks make LevelDB
        # itself report corruption it can see.
        try:
            options = dict(LEVELDB_WRITE_OPTIONS)
            if write_buffer_bytes is not None:
                options["write_buffer_size"] = write_buffer_bytes
            self._db = plyvel.DB(self.path, create_if_missing=create, paranoid_checks=True, bloom_filter_bits=10, lru_cache_size=64 << 20,
                                 **options)
        except plyvel.CorruptionError as exc:
            raise StoreCorrupted(f"LevelDB at {self.path} reports corruption ({exc}); restore the node with `tamga node resync`") from None
        except plyvel.Error as exc:
            if "lock" in str(exc).lower():
                raise StoreLocked(f"LevelDB at {self.path} is in use by another process (is the node still running?)") from None
            raise StoreCorrupted(f"LevelDB at {self.path} cannot be opened ({exc})") from None
        self._errors = (plyvel.CorruptionError, plyvel.IOError)

    def get(self, key: bytes) -> bytes | None:
        try:
            return self._db.get(key)
        except self._errors as exc:
            raise StoreCorrupted(f"LevelDB at {self.path} failed a read ({exc}); restore the node with `tamga node resync`") from None

    def iterate(self, prefix: bytes = b"", *, start: bytes | None = None, reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        try:
            yield from self._iterate(prefix, start, reverse)
        except self._errors as exc:
            raise StoreCorrupted(f"LevelDB at {self.path} failed a read ({exc}); restore the node with `tamga node resync`") from None

    def _iterate(self, prefix: bytes, start: bytes | None, reverse: bool) -> Iterator[tuple[bytes, bytes]]:
        if start is None:
            yield from self._db.iterator(prefix=prefix, reverse=reverse) if prefix else self._db.iterator(reverse=reverse)
            return
        it = self._db.iterator(start=start, reverse=reverse) if not reverse else self._db.iterator(stop=start, include_stop=True, reverse=True)
        for k, v in it:
            if not k.startswith(prefix):
                if reverse or k > prefix:
                    break
                continue
            yield k, v

    def write(self, puts: Mapping[bytes, bytes], deletes=(), *, sync: bool = True) -> None:
        with self._db.write_batch(transaction=True, sync=sync) as wb:
            for k in deletes:
                wb.delete(k)
            for k, v in puts.items():
                wb.put(k, v)

    def compaction_stats(self) -> dict[int, dict[str, float]]:
        # LevelDB's own table ("Level Files Size(MB) Time(sec) Read(MB) Write(MB)" rows); a
        # level appears once it has held a file. Compaction runs on LevelDB's thread, out of
        # sight of Python profilers: this is how an operator sees it.
        if self._db.closed:  # a scrape racing the node's shutdown
            return {}
        text = (self._db.get_property(b"leveldb.stats") or b"").decode()
        out: dict[int, dict[str, float]] = {}
        for line in text.splitlines():
            cols = line.split()
            if len(cols) == 6 and cols[0].isdigit():
                out[int(cols[0])] = dict(zip(("files", "size_mb", "seconds", "read_mb", "written_mb"), map(float, cols[1:])))
        return out

    def close(self) -> None:
        if not self._db.closed:
            self._db.close()


HISTORY_DIR = "history"
INDEX_DIR = "index"


def has_index(path: str | os.PathLike) -> bool:
    """Whether `path` holds the index LevelDB of a split store (written second, so present
    only once the history was created)."""
    return os.path.exists(os.path.join(path, INDEX_DIR, "CURRENT"))


def is_node_store(path: str | os.PathLike) -> bool:
    """Whether `path` holds a node's store: the two LevelDBs, or one from before the split."""
    return has_index(path) or os.path.exists(os.path.join(path, "CURRENT"))


def find_node_store(data_dir: str | os.PathLike) -> str | None:
    """The store of a node's data directory (its `db`), or the directory itself when it is
    one; None when neither holds a store."""
    return next((p for p in (os.path.join(data_dir, "db"), os.fspath(data_dir)) if is_node_store(p)), None)


def open_node_store(path: str | os.PathLike, *, create: bool = True) -> KeyValueStore:
    """A node's store at `path` (a data directory's `db`): history and index LevelDBs in two
    subdirectories (node/split_store.py), created when missing. A store written before the
    split is one LevelDB holding the same keys, and is opened as it is."""
    from node.split_store import SplitStore

    path = os.fspath(path)
    if os.path.exists(os.path.join(path, "CURRENT")):
        return LevelDBStore(path, create=False)
    if not create and not is_node_store(path):
        raise StoreCorrupted(f"{path} holds no Tamga store (no {INDEX_DIR}/CURRENT file)")
    # The history is created first, so once the index exists a missing history is damage:
    # opened without create, LevelDB refuses it instead of starting an empty one over the
    # remains (and deleting the files it no longer lists).
    history = LevelDBStore(os.path.join(path, HISTORY_DIR), create=create and not has_index(path), write_buffer_bytes=HISTORY_WRITE_BUFFER_BYTES)
    try:
        index = LevelDBStore(os.path.join(path, INDEX_DIR), create=create)
    except BaseException:
        history.close()
        raise
    return SplitStore(history, index, path)


class MemoryStore(KeyValueStore):
    """The in-memory twin: a dict, with a sorted key list rebuilt lazily for iteration
    (writes are O(1); the first iteration after writes sorts once)."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._keys: list[bytes] | None = []

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def _sorted(self) -> list[bytes]:
        if self._keys is None:
            self._keys = sorted(self._data)
        return self._keys

    def iterate(self, prefix: bytes = b"", *, start: bytes | None = None, reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        keys = self._sorted()
        if reverse:
            hi = bisect.bisect_right(keys, start) if start is not None else len(keys)
            for i in range(hi - 1, -1, -1):
                k = keys[i]
                if k.startswith(prefix):
                    yield k, self._data[k]
                elif k < prefix:
                    break
            return
        lo = bisect.bisect_left(keys, max(prefix, start) if start is not None else prefix)
        for k in keys[lo:]:
            if not k.startswith(prefix):
                break
            if k in self._data:
                yield k, self._data[k]

    def write(self, puts: Mapping[bytes, bytes], deletes=(), *, sync: bool = True) -> None:
        for k in deletes:
            if self._data.pop(k, None) is not None:
                self._keys = None
        for k, v in puts.items():
            assert isinstance(k, bytes) and isinstance(v, bytes)
            if k not in self._data:
                self._keys = None
            self._data[k] = v

    def __len__(self) -> int:
        return len(self._data)
