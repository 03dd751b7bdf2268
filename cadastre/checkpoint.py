"""Copying the cadastre's write-ahead log into its database file, off the node's event loop.

In WAL mode SQLite appends each committed transaction to the -wal file; a checkpoint later
copies those pages into the database file and syncs both. By default the writer does that
itself, inside the COMMIT that pushes the log past 1,000 pages: on a node that is the event
loop, which then neither votes nor answers while it writes and syncs megabytes (under load
about every second block, and the more, the larger the database). With a checkpointer the
writer's connection turns that off (`PRAGMA wal_autocheckpoint=0`) and this thread does it
on a connection of its own. Python's sqlite3 releases the GIL while SQLite works, so the loop
runs meanwhile. A PASSIVE checkpoint never blocks the writer or readers: it copies what no
reader still needs and the rest waits for the next one.

The thread is named in the kernel (node.cpu_meter.CHECKPOINT_THREAD), so its CPU shows apart
from LevelDB's compactions in the node's metrics and in `top -H`.

May import: sqlite3, threading, logging, node.cpu_meter.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from node.cpu_meter import CHECKPOINT_THREAD, name_os_thread

log = logging.getLogger("tamga.cadastre")

# At most one checkpoint per interval: each syncs the log and the database file, and copies
# every page written since the last one, once however many blocks rewrote it (the tails of
# the per-recipient and per-block tables, the indexes' upper pages). At saturation 5 s is ~10
# blocks and a WAL of ~55 MB; one checkpoint every 10 blocks instead of every 2 cut the
# projection's CPU per tx by 5-7 % (`benchmarks.bench_node_pipeline --checkpoint-every`).
# Stopping does not wait for the interval: close() wakes the pause and checkpoints once more.
CHECKPOINT_INTERVAL_S = 5.0


class WalCheckpointer:
    """Checkpoints the WAL of the database at `path` on a thread, when poked."""

    def __init__(self, path: str, *, interval_s: float = CHECKPOINT_INTERVAL_S):
        self.path = path
        self.interval_s = interval_s
        self.checkpoints = 0
        self.last_error: str | None = None
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._cv = threading.Condition()
        self._poked = 0      # pokes so far
        self._done = 0       # pokes a finished checkpoint has covered
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="cadastre-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """The writer committed: checkpoint soon (pokes within one interval make one)."""
        with self._cv:
            self._poked += 1
            self._cv.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """True once every poke made before this call has been checkpointed."""
        with self._cv:
            target = self._poked
            return self._cv.wait_for(lambda: self._done >= target, timeout_s)

    def close(self) -> None:
        """Stop the thread after a last checkpoint."""
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        self._thread.join()
        self._db.close()

    def _run(self) -> None:
        name_os_thread(CHECKPOINT_THREAD)
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._poked > self._done or self._stopping)
                target, stopping = self._poked, self._stopping
            self._checkpoint()
            with self._cv:
                self._done = target
                self._cv.notify_all()
                if stopping:
                    return
                # Pokes during this pause are served by one checkpoint after it.
                self._cv.wait_for(lambda: self._stopping, self.interval_s)

    def _checkpoint(self) -> None:
        try:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
            self.last_error = None
        except sqlite3.Error as exc:
            # The database is still correct (the log keeps the pages); the next poke retries.
            self.last_error = str(exc)
            log.warning("cadastre checkpoint failed: %s", exc)
