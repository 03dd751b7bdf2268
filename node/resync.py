"""Restoring a node whose store is damaged: set the store aside and start empty, keeping
what must survive, so the node re-syncs every block from its peers on its next start.

Kept: the validator-private records (the persisted sign state, so the node still never
signs against a vote it sent before; equivocation evidence) and, in the cadastre database,
the local tables (the book of information requests, webhook registrations and the outbox
cursor). Dropped: every replicated record, and the cadastre's projection tables, which are
rebuilt as the blocks arrive. The damaged store is moved, never deleted: it is evidence.
May import: node.*, cadastre.projection.
"""

from __future__ import annotations

import datetime
import os
import shutil

from node import schema
from node.config import NodeConfig
from node.kv import INDEX_DIR, LevelDBStore, has_index, open_node_store


def resync(config: NodeConfig, now: datetime.datetime | None = None) -> dict:
    data_dir = config.path(config.data_dir)
    db_path = os.path.join(data_dir, "db")
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    kept: dict[bytes, bytes] = {}
    moved_to = None
    if os.path.exists(db_path):
        kept = _private_records(db_path)
        moved_to = os.path.join(data_dir, f"db.damaged-{stamp}")
        shutil.move(db_path, moved_to)
    fresh = open_node_store(db_path)
    try:
        if kept:
            fresh.write(kept, sync=True)
    finally:
        fresh.close()
    cadastre_path = os.path.join(data_dir, "cadastre.sqlite")
    if os.path.exists(cadastre_path):
        from cadastre.projection import Projection

        projection = Projection(cadastre_path)
        try:
            projection.drop()
        finally:
            projection.close()
    return {"damaged_store_moved_to": moved_to, "private_records_kept": len(kept), "cadastre_projection_dropped": os.path.exists(cadastre_path)}


def _private_records(db_path: str) -> dict[bytes, bytes]:
    """The validator-private records of a store, read from the LevelDB that holds them: the
    index of a split store (node/split_store.py), so that a history too damaged for LevelDB
    to open does not cost the sign state; or the one LevelDB of a store from before the split."""
    old = LevelDBStore(os.path.join(db_path, INDEX_DIR) if has_index(db_path) else db_path, create=False)
    try:
        return dict(old.iterate(schema.PRIVATE_PREFIX))
    finally:
        old.close()
