"""The book of record of information requests (Art 16): every request for cadastre
information, answered or refused, with who asked, on what ground, and what was given.

Written by the API through the projection's connection (the one writer); a request is not a
ledger transaction, so the book is node-local and survives `tamga cadastre rebuild`.
May import: cadastre.canon, sqlite3.
"""

from __future__ import annotations

import dataclasses
import sqlite3

from cadastre import canon

GIVEN = "given"
REFUSED = "refused"
PAGE_MAX = 500


@dataclasses.dataclass(frozen=True)
class Requester:
    id: str | None            # IIN/BIN the certificate binds (BIN first), None when unauthenticated
    name: str | None
    roles: tuple[str, ...]
    certificate: str | None   # fingerprint (hex)


ANONYMOUS = Requester(None, None, (), None)


def record(
    db: sqlite3.Connection,
    *,
    time_ms: int,
    head_height: int,
    requester: Requester,
    action: str,
    subject: str | None,
    outcome: str,
    http_status: int,
    ground: str | None = None,
    basis: str | None = None,
    given: str | None = None,
    code: str | None = None,
    article: str | None = None,
) -> int:
    """Append one request to the book; its number."""
    assert outcome in (GIVEN, REFUSED)
    cur = db.execute(
        "INSERT INTO l_requests (time_ms, head_height, requester_id, requester_name, requester_roles, certificate, ground, basis, action, subject, outcome, given, code, article, http_status)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (time_ms, head_height, requester.id, requester.name, canon.dumps(list(requester.roles)), requester.certificate, ground, basis, action, subject, outcome, given, code, article, http_status),
    )
    return int(cur.lastrowid)


_COLUMNS = ("id", "time_ms", "head_height", "requester_id", "requester_name", "requester_roles", "certificate", "ground", "basis", "action", "subject", "outcome", "given", "code", "article", "http_status")


def entries(db: sqlite3.Connection, *, subject: str | None = None, requester_id: str | None = None, after_id: int = 0, limit: int = 100) -> list[dict]:
    """Requests in the book, oldest first, optionally about one subject or by one requester."""
    limit = max(1, min(limit, PAGE_MAX))
    where, args = ["id > ?"], [after_id]
    if subject is not None:
        where.append("subject = ?")
        args.append(subject)
    if requester_id is not None:
        where.append("requester_id = ?")
        args.append(requester_id)
    rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM l_requests WHERE {' AND '.join(where)} ORDER BY id LIMIT ?", (*args, limit)).fetchall()
    out = []
    for row in rows:
        d = dict(zip(_COLUMNS, row))
        d["requester_roles"] = canon.loads(d["requester_roles"])
        out.append(d)
    return out


def count(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM l_requests").fetchone()[0]
