"""cadastre/checkpoint.py: a node's projection leaves WAL checkpoints to a thread of its own
instead of running them inside the COMMIT on the event loop, and the database it leaves is
whole and identical to one projected the default way."""

from __future__ import annotations

import os
import sqlite3

from cadastre.checkpoint import CHECKPOINT_INTERVAL_S, WalCheckpointer
from cadastre.projection import Projection, connect
from contracts import builders as B
from node.kv import open_node_store
from tests.cadastre_support import CN2, People, pledge, seal, solo_registry


def _wal_frames(path: str) -> int:
    """Bytes in the write-ahead log file (0 when there is none)."""
    return os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0


def _table_and_checkpointer(tmp_path, *, interval_s: float):
    """A database whose writer leaves checkpoints to a WalCheckpointer (as a node's does),
    with one table to fill."""
    path = str(tmp_path / "c.sqlite")
    db = connect(path)
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)")
    return path, db, WalCheckpointer(path, interval_s=interval_s)


def test_checkpointer_copies_the_log_into_the_database_and_stops_cleanly(tmp_path):
    path, db, cp = _table_and_checkpointer(tmp_path, interval_s=0.05)
    for i in range(200):
        db.execute("INSERT INTO t VALUES (?, ?)", (i, os.urandom(2000)))
    # Nothing checkpoints on its own: the rows are only in the log so far.
    size_before = os.path.getsize(path)
    assert _wal_frames(path) > 200 * 2000
    cp.poke()
    assert cp.wait_idle(10)
    assert cp.checkpoints >= 1 and cp.last_error is None
    assert os.path.getsize(path) > size_before + 200 * 2000  # the pages reached the database file
    # Several pokes during one pause make one more checkpoint, not one each.
    n = cp.checkpoints
    for i in range(200, 210):
        db.execute("INSERT INTO t VALUES (?, ?)", (i, b"x"))
        cp.poke()
    assert cp.wait_idle(10)
    assert 1 <= cp.checkpoints - n <= 2
    cp.close()
    db.close()
    # A reader that opens the file alone sees every row.
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM t").fetchone()[0] == 210


def test_closing_does_not_wait_out_the_interval_and_checkpoints_the_last_writes(tmp_path):
    path, db, cp = _table_and_checkpointer(tmp_path, interval_s=3600)
    db.execute("INSERT INTO t VALUES (0, x'00')")
    cp.poke()
    assert cp.wait_idle(10)  # the first poke is served at once; the thread now pauses an hour
    first = cp.checkpoints
    size_before = os.path.getsize(path)
    for i in range(1, 101):
        db.execute("INSERT INTO t VALUES (?, ?)", (i, os.urandom(2000)))
    cp.poke()
    assert not cp.wait_idle(0.2)  # within the pause: not yet
    cp.close()  # returns long before the hour is out (the test's timeout would stop it)
    assert cp.checkpoints == first + 1
    assert os.path.getsize(path) > size_before + 100 * 2000  # the last writes reached the file
    db.close()


def test_a_node_projection_checkpoints_in_the_background_with_the_same_result(tmp_path, test_pki):
    p = People(test_pki)
    kv = open_node_store(tmp_path / "db")
    node = solo_registry(kv, test_pki, p)
    background = Projection(str(tmp_path / "bg.sqlite"), background_checkpoints=True)
    inline = Projection(str(tmp_path / "inline.sqlite"))
    assert background.checkpointer is not None and inline.checkpointer is None
    assert background.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    for proj in (background, inline):
        proj.bind(node.chain)
        proj.catch_up()
    for built, parties in [(pledge(p), (p.bank, p.owner)), (B.claim_register(CN2, p.stranger.iin, "lawsuit", "case 2-1/2026", [B.doc("c.pdf", b"c")]), (p.stranger,))]:
        prepared, _ = seal(node, built, *parties)
        background.listener(prepared)
        inline.listener(prepared)
    # The later pokes are served after the first checkpoint's pause (CHECKPOINT_INTERVAL_S).
    assert background.checkpointer.wait_idle(CHECKPOINT_INTERVAL_S + 25)
    assert background.checkpointer.checkpoints >= 1 and background.checkpointer.last_error is None
    tables = [r[0] for r in inline.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'p_%' AND name NOT LIKE 'p_address%'")]
    for t in tables:
        assert background.db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() == inline.db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall(), t
    background.close()
    inline.close()
    kv.close()
