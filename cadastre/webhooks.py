"""Webhook registrations and the outbox of deliveries (node-local SQLite tables).

The projection queues a delivery for every event of a block addressed to a registered
system, in the same transaction that projects the block (cadastre/projection.py), so a
delivery exists exactly when the block is projected and survives any restart. The sender
(api/webhooks.py) takes due deliveries, POSTs them signed by the node, and marks them
delivered or schedules the next attempt with exponential back-off. Nothing is dropped: a
delivery that keeps failing is retried at the longest interval until it succeeds or its
webhook is removed.

May import: cadastre (canon, records), node.errors, sqlite3.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from urllib.parse import urlsplit

from cadastre import canon, records
from node.errors import InvalidPayload, NotFound

BACKOFF_BASE_MS = 1_000
BACKOFF_MAX_MS = 15 * 60_000
URL_CHARS_MAX = 2000
WEBHOOKS_PER_OWNER_MAX = 20
KINDS_MAX = 50
ERROR_CHARS_MAX = 300


@dataclasses.dataclass(frozen=True)
class Delivery:
    id: int
    webhook_id: int
    url: str
    height: int
    seq: int
    body: bytes
    attempts: int


def backoff_ms(attempts: int) -> int:
    """Delay before attempt `attempts + 1`: 1 s, 2 s, 4 s, ... capped at 15 minutes."""
    return min(BACKOFF_BASE_MS * (1 << min(attempts, 30)), BACKOFF_MAX_MS)


def check_url(url: str) -> str:
    if not isinstance(url, str) or len(url) > URL_CHARS_MAX:
        raise InvalidPayload(f"url must be a string of at most {URL_CHARS_MAX} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidPayload(f"url {url!r} must be an absolute http(s) URL")
    return url


def register(db: sqlite3.Connection, *, owner_id: str, owner_name: str, url: str, recipients: list[str], kinds: list[str], now_ms: int, from_height: int) -> int:
    n = db.execute("SELECT COUNT(*) FROM l_webhooks WHERE owner_id = ? AND active = 1", (owner_id,)).fetchone()[0]
    if n >= WEBHOOKS_PER_OWNER_MAX:
        raise InvalidPayload(f"{owner_id} already has {n} webhooks; remove one first (limit {WEBHOOKS_PER_OWNER_MAX})")
    cur = db.execute(
        "INSERT INTO l_webhooks (owner_id, owner_name, url, recipients, kinds, created_ms, active, from_height) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
        (owner_id, owner_name, check_url(url), canon.dumps(sorted(set(recipients))), canon.dumps(sorted(set(kinds))), now_ms, from_height),
    )
    return int(cur.lastrowid)


def backfill(db: sqlite3.Connection, webhook_id: int, chain_id: str, from_height: int, to_height: int) -> int:
    """Queue the already-projected events of heights from_height..to_height for a new webhook
    (later heights are queued by the projection as they come)."""
    from cadastre.projection import delivery_body  # noqa: PLC0415 - avoid an import cycle

    hook = get(db, webhook_id)
    wanted, kinds = set(hook["recipients"]), set(hook["kinds"])
    n = 0
    for height, seq, tx_id, kind, data, recipients in db.execute(
        "SELECT height, seq, tx_id, kind, data, recipients FROM p_events WHERE height >= ? AND height <= ? ORDER BY height, seq", (from_height, to_height)
    ).fetchall():
        if (kinds and kind not in kinds) or not wanted.intersection(canon.loads(recipients)):
            continue
        db.execute(
            "INSERT OR IGNORE INTO l_outbox (webhook_id, height, seq, body, status, attempts, next_attempt_ms) VALUES (?, ?, ?, ?, 'pending', 0, 0)",
            (webhook_id, height, seq, delivery_body(chain_id, height, seq, tx_id, kind, records.event_json(data), recipients, webhook_id)),
        )
        n += 1
    return n


def _hook_dict(row) -> dict:
    hid, owner_id, owner_name, url, recipients, kinds, created_ms, active, from_height = row
    return {"id": hid, "owner_id": owner_id, "owner_name": owner_name, "url": url, "recipients": canon.loads(recipients), "kinds": canon.loads(kinds), "created_ms": created_ms, "active": bool(active), "from_height": from_height}


def get(db: sqlite3.Connection, webhook_id: int) -> dict:
    row = db.execute("SELECT id, owner_id, owner_name, url, recipients, kinds, created_ms, active, from_height FROM l_webhooks WHERE id = ?", (webhook_id,)).fetchone()
    if row is None:
        raise NotFound(f"no webhook {webhook_id}")
    return _hook_dict(row)


def of_owner(db: sqlite3.Connection, owner_id: str) -> list[dict]:
    rows = db.execute("SELECT id, owner_id, owner_name, url, recipients, kinds, created_ms, active, from_height FROM l_webhooks WHERE owner_id = ? AND active = 1 ORDER BY id", (owner_id,)).fetchall()
    return [_hook_dict(r) for r in rows]


def deactivate(db: sqlite3.Connection, webhook_id: int) -> None:
    db.execute("UPDATE l_webhooks SET active = 0 WHERE id = ?", (webhook_id,))
    db.execute("DELETE FROM l_outbox WHERE webhook_id = ? AND status = 'pending'", (webhook_id,))


def due(db: sqlite3.Connection, now_ms: int, limit: int = 100) -> list[Delivery]:
    rows = db.execute(
        "SELECT o.id, o.webhook_id, w.url, o.height, o.seq, o.body, o.attempts FROM l_outbox o JOIN l_webhooks w ON w.id = o.webhook_id"
        " WHERE o.status = 'pending' AND o.next_attempt_ms <= ? AND w.active = 1 ORDER BY o.next_attempt_ms, o.id LIMIT ?",
        (now_ms, limit),
    ).fetchall()
    return [Delivery(*r) for r in rows]


def next_due_ms(db: sqlite3.Connection) -> int | None:
    row = db.execute("SELECT MIN(next_attempt_ms) FROM l_outbox WHERE status = 'pending'").fetchone()
    return row[0]


def mark_delivered(db: sqlite3.Connection, delivery_id: int, now_ms: int) -> None:
    db.execute("UPDATE l_outbox SET status = 'delivered', delivered_ms = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?", (now_ms, delivery_id))


def mark_failed(db: sqlite3.Connection, delivery_id: int, attempts_before: int, now_ms: int, error: str) -> int:
    """Schedule the next attempt; the time it is due."""
    due_ms = now_ms + backoff_ms(attempts_before)
    db.execute("UPDATE l_outbox SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ? WHERE id = ?", (due_ms, error[:ERROR_CHARS_MAX], delivery_id))
    return due_ms


def deliveries(db: sqlite3.Connection, webhook_id: int, *, status: str | None = None, limit: int = 100) -> list[dict]:
    q = "SELECT id, height, seq, status, attempts, next_attempt_ms, last_error, delivered_ms FROM l_outbox WHERE webhook_id = ?"
    args: list = [webhook_id]
    if status:
        q += " AND status = ?"
        args.append(status)
    q += " ORDER BY id LIMIT ?"
    args.append(max(1, min(limit, 500)))
    cols = ("id", "height", "seq", "status", "attempts", "next_attempt_ms", "last_error", "delivered_ms")
    return [dict(zip(cols, r)) for r in db.execute(q, args).fetchall()]


def pending_count(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM l_outbox WHERE status = 'pending'").fetchone()[0]
