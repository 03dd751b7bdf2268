"""Reading the projection: sheets as of now or any height, history, the book of documents,
holdings, search, txs and events. Every function returns JSON-ready values; access rules
and the personal-data filter are applied by the caller (api/) with access.py and redact.py.

Sheets, entries, applications and event data are stored as the ledger records they come
from (cadastre/records.py) and shown here through the contracts' views, in their JSON form.

May import: cadastre (canon, records, schema), node.errors, sqlite3.
"""

from __future__ import annotations

import re
import sqlite3

from cadastre import canon, records
from node.errors import InvalidPayload, NotFound

PAGE_MAX = 500
SEARCH_CHARS_MAX = 200


def _page(limit: int) -> int:
    return max(1, min(int(limit), PAGE_MAX))


def object_row(db: sqlite3.Connection, cn: str, height: int | None = None) -> tuple[dict, dict, int]:
    """(sheet, certificate of encumbrances, height of that version) of `cn`, now or as of
    `height`; NotFound when the object did not exist then."""
    if height is None:
        row = db.execute("SELECT records, height FROM p_object_versions WHERE cn = ? ORDER BY height DESC LIMIT 1", (cn,)).fetchone()
    else:
        row = db.execute(
            "SELECT records, height FROM p_object_versions WHERE cn = ? AND height <= ? ORDER BY height DESC LIMIT 1", (cn, height)
        ).fetchone()
    if row is None:
        when = "" if height is None else f" at height {height}"
        raise NotFound(f"no object with cadastral number {cn} is registered{when}; check the number (format like 21-320-030-406)")
    sheet, cert = records.sheet_and_certificate(cn, row[0])
    return sheet, cert, row[1]


def object_exists(db: sqlite3.Connection, cn: str) -> bool:
    return db.execute("SELECT 1 FROM p_objects WHERE cn = ?", (cn,)).fetchone() is not None


def holders_of(db: sqlite3.Connection, cn: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT person_id FROM p_holders WHERE cn = ? ORDER BY person_id", (cn,))]


def versions(db: sqlite3.Connection, cn: str) -> list[int]:
    """Heights at which the sheet of `cn` changed."""
    return [r[0] for r in db.execute("SELECT height FROM p_object_versions WHERE cn = ? ORDER BY height", (cn,))]


def history(db: sqlite3.Connection, cn: str) -> list[dict]:
    """Every entry ever made on the sheet of `cn`, cancelled and ended ones included."""
    row = db.execute("SELECT records FROM p_object_versions WHERE cn = ? ORDER BY height DESC LIMIT 1", (cn,)).fetchone()
    if row is None:
        return []
    # The sheet's history as of its current version (entries are never taken out of it), in
    # entry order; an entry moved onto a merged object from two parents appears once.
    by_id = {e["id"]: e for e in records.sheet(cn, row[0])["history"] if isinstance(e.get("id"), int)}
    return [by_id[i] for i in sorted(by_id)]


def holdings(db: sqlite3.Connection, person_id: str) -> list[dict]:
    """The objects in which `person_id` holds an active right, with that right and share."""
    out = []
    for cn, type_, address, blob in db.execute(
        "SELECT o.cn, o.type, o.address, (SELECT v.records FROM p_object_versions v WHERE v.cn = o.cn ORDER BY v.height DESC LIMIT 1)"
        " FROM p_holders h JOIN p_objects o ON o.cn = h.cn WHERE h.person_id = ? ORDER BY o.cn",
        (person_id,),
    ):
        sheet = records.sheet(cn, blob)
        rights = []
        for e in sheet.get("rights") or []:
            for h in e.get("holders") or []:
                if h.get("id") == person_id:
                    rights.append({"entry": e.get("id"), "type": e.get("type"), "share": h.get("share"), "common": e.get("common")})
        out.append({"cadastral_number": cn, "type": type_, "address": address, "rights": rights})
    return out


_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


def search(db: sqlite3.Connection, *, cadastral_number: str | None = None, address: str | None = None, limit: int = 50) -> list[dict]:
    """Objects whose cadastral number starts with the given prefix, or whose address holds all
    the given words. Returns identification only (number, type, status, address, encumbered)."""
    limit = _page(limit)
    if cadastral_number:
        if len(cadastral_number) > SEARCH_CHARS_MAX or not re.fullmatch(r"[0-9:\-]+", cadastral_number):
            raise InvalidPayload("cadastral_number must be digits, '-' and ':' (a number or its beginning, like 21-320-030)")
        hi = cadastral_number + "\U0010ffff"
        rows = db.execute(
            "SELECT cn, type, status, address FROM p_objects WHERE cn >= ? AND cn < ? ORDER BY cn LIMIT ?", (cadastral_number, hi, limit)
        ).fetchall()
    elif address:
        if len(address) > SEARCH_CHARS_MAX:
            raise InvalidPayload(f"address must be at most {SEARCH_CHARS_MAX} characters")
        words = _FTS_TOKEN.findall(address)
        if not words:
            raise InvalidPayload("address must contain at least one word or number")
        match = " ".join('"' + w.replace('"', "") + '"' for w in words[:10])
        rows = db.execute(
            "SELECT o.cn, o.type, o.status, o.address FROM p_address a JOIN p_objects o ON o.cn = a.cn"
            " WHERE p_address MATCH ? ORDER BY o.cn LIMIT ?",
            (match, limit),
        ).fetchall()
    else:
        raise InvalidPayload("give cadastral_number or address to search by (or use /v1/persons/{id}/holdings for IIN/BIN)")
    return [{"cadastral_number": r[0], "type": r[1], "status": r[2], "address": r[3], "encumbered": _encumbered(db, r[0])} for r in rows]


def _encumbered(db: sqlite3.Connection, cn: str) -> bool:
    """Whether the current version of `cn` is encumbered (as its certificate of encumbrances says)."""
    row = db.execute("SELECT records FROM p_object_versions WHERE cn = ? ORDER BY height DESC LIMIT 1", (cn,)).fetchone()
    assert row is not None, f"object {cn} has no version"
    return records.encumbered(cn, row[0])


# --- book of documents received (Art 13) ---------------------------------------------------
def application(db: sqlite3.Connection, number: int) -> dict:
    row = db.execute("SELECT records FROM p_applications WHERE number = ?", (number,)).fetchone()
    if row is None:
        raise NotFound(f"no application number {number} in the book of documents received")
    return records.application(number, row[0])


def applications(db: sqlite3.Connection, *, status: str | None = None, cn: str | None = None, after: int = 0, limit: int = 100) -> list[dict]:
    """The book in filing order (Art 13.2), optionally by status or object."""
    limit = _page(limit)
    if cn is not None:
        q = "SELECT a.number, a.records FROM p_application_objects x JOIN p_applications a ON a.number = x.number WHERE x.cn = ? AND a.number > ?"
        args: list = [cn, after]
        if status:
            q += " AND a.status = ?"
            args.append(status)
        q += " ORDER BY a.number LIMIT ?"
    else:
        q = "SELECT number, records FROM p_applications WHERE number > ?"
        args = [after]
        if status:
            q += " AND status = ?"
            args.append(status)
        q += " ORDER BY number LIMIT ?"
    args.append(limit)
    return [records.application(n, blob) for n, blob in db.execute(q, args)]


def application_of_tx(db: sqlite3.Connection, tx_id: bytes, height: int) -> dict | None:
    """The application tx `tx_id`, committed at `height`, filed (None if it filed none)."""
    row = db.execute("SELECT number, records FROM p_applications WHERE filed_height = ? AND tx_id = ? ORDER BY number LIMIT 1", (height, tx_id)).fetchone()
    return None if row is None else records.application(row[0], row[1])


# --- txs and events --------------------------------------------------------------------------
_TX_COLS = ("tx_id", "height", "index", "kind", "signers", "status", "code", "message", "article", "memo")


def tx(db: sqlite3.Connection, height: int, index: int) -> dict | None:
    """The committed tx at position (height, index), None if not projected yet. A tx id's
    position comes from the chain's tx index (NodeRuntime.committed_location)."""
    row = db.execute("SELECT tx_id, height, idx, kind, signers, status, code, message, article, memo FROM p_txs WHERE height = ? AND idx = ?", (height, index)).fetchone()
    if row is None:
        return None
    d = dict(zip(_TX_COLS, row))
    d["tx_id"] = d["tx_id"].hex()
    d["signers"] = canon.loads(d["signers"])
    return d


def tx_events(db: sqlite3.Connection, tx_id: bytes, height: int) -> list[dict]:
    """The events of tx `tx_id`, committed at `height`."""
    return [
        {"height": h, "seq": s, "kind": k, "data": canon.normal(records.event_data(d)), "recipients": canon.loads(r)}
        # A tx's events are all at its block's height: the key's first column, not a scan.
        for h, s, k, d, r in db.execute(
            "SELECT height, seq, kind, data, recipients FROM p_events WHERE height = ? AND tx_id = ? ORDER BY height, seq",
            (height, tx_id),
        )
    ]


def _event_dicts(rows) -> list[dict]:
    return [
        {"height": h, "seq": s, "tx_id": t.hex() if t else None, "kind": k, "data": canon.normal(records.event_data(d)), "recipients": canon.loads(r)}
        for h, s, t, k, d, r in rows
    ]


def events_after(db: sqlite3.Connection, height: int, seq: int, limit: int = 500) -> list[dict]:
    """Events after position (height, seq), in chain order."""
    rows = db.execute(
        "SELECT height, seq, tx_id, kind, data, recipients FROM p_events WHERE (height, seq) > (?, ?) ORDER BY height, seq LIMIT ?",
        (height, seq, _page(limit)),
    ).fetchall()
    return _event_dicts(rows)


def events_for(db: sqlite3.Connection, recipients: set[str], height: int, seq: int, limit: int = 100, until_height: int | None = None) -> list[dict]:
    """Events addressed to any of `recipients` after position (height, seq), in chain order,
    found through the recipients index (never a scan of everyone's events)."""
    if not recipients:
        return []
    top = 2**62 if until_height is None else until_height
    marks = ",".join("?" * len(recipients))
    rows = db.execute(
        f"SELECT e.height, e.seq, e.tx_id, e.kind, e.data, e.recipients FROM p_events e WHERE (e.height, e.seq) IN ("
        f" SELECT DISTINCT height, seq FROM p_event_recipients WHERE recipient IN ({marks}) AND (height, seq) > (?, ?) AND height <= ?"
        f" ORDER BY height, seq LIMIT ?) ORDER BY e.height, e.seq",
        (*sorted(recipients), height, seq, top, _page(limit)),
    ).fetchall()
    return _event_dicts(rows)


def block(db: sqlite3.Connection, height: int) -> dict | None:
    row = db.execute("SELECT height, hash, time_ms, txs, state_root, proposer FROM p_blocks WHERE height = ?", (height,)).fetchone()
    if row is None:
        return None
    return {"height": row[0], "hash": row[1].hex(), "time_ms": row[2], "txs": row[3], "state_root": row[4].hex(), "proposer": row[5].hex()}


def counts(db: sqlite3.Connection) -> dict:
    return {
        "objects": db.execute("SELECT COUNT(*) FROM p_objects").fetchone()[0],
        "applications": db.execute("SELECT COUNT(*) FROM p_applications").fetchone()[0],
        "txs": db.execute("SELECT COUNT(*) FROM p_txs").fetchone()[0],
    }
