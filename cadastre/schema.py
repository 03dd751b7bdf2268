"""The SQLite schema of the cadastre: projection tables (derived from the chain, dropped and
rebuilt by `tamga cadastre rebuild`) and node-local tables (kept across a rebuild).

Projection tables (prefix p_), every row a function of the committed blocks alone:
- p_meta               cursor: the last applied height; the chain it was built from
- p_blocks             height, hash, time, tx count, state root
- p_txs                every committed tx by its position (height, index): kind, signers,
                       receipt (applied/refused, code, message, article) -- refusals to
                       accept (Art 25) live only here. A tx id is resolved to its position
                       by the chain's own tx index, not here
- p_events             every event of every receipt and block, in order, with recipients;
                       its data as committed (canonical msgpack; JSON when read)
- p_event_recipients   who each event is addressed to (a person's notifications by index)
- p_objects            one row per object: search columns (type, status, address); whether
                       it is encumbered is read from its current version (it changes with
                       most registrations, the columns above almost never)
- p_object_versions    the ledger records the registration sheet (Art 14) and certificate
                       of encumbrances of an object are derived from (cadastre/records.py),
                       one row per height at which they changed: the sheet "as of any
                       height" is the contracts' view of the latest version at or below
                       it, the current one is the latest version; its history (every
                       entry ever made on the sheet, cancelled and ended ones included:
                       the study's risk 1, a reversed sale stays visible) is the current
                       version's
- p_holders            who holds a right in which object now (holdings, search by IIN/BIN)
- p_applications       the book of documents received (Art 13, 26): filing order, state,
                       deadline, filing tx (found by its height: numbers and filing
                       heights rise together, so that index only grows at its end);
                       the application's ledger record (with the decision, its reasons
                       and articles), shown through the contracts' view when read
- p_application_objects  which applications concern which objects
- p_object_ids         a small integer per object, in order of first appearance: the rowid
                       of its row in p_address (FTS5 finds rows fast only by rowid)
- p_address            full-text index over addresses (FTS5)

Tables holding a sheet's records (a kilobyte or more a row) are rowid tables with their key as a separate
index: a WITHOUT ROWID table spills any row over ~1 KB into an overflow page of its own,
which quadrupled the database (4.7 KB per 1.2 KB sheet).

Local tables (prefix l_), written by this node's API and never derivable from the chain:
- l_meta               the outbox cursor (the last height whose notifications were queued)
- l_requests           the book of information requests (Art 16): who asked, on what
                       ground, what was given or why it was refused
- l_webhooks           registered bank / Ministry systems
- l_outbox             webhook deliveries, queued in the same SQLite transaction as the
                       block's projection, so none is lost across a restart

May import: stdlib.
"""

from __future__ import annotations

# 2: records instead of the views' JSON (sheets, applications, event data); history from the
# current version (no p_entries); no write-only columns (p_events.objects,
# p_applications.objects/applicants, p_objects.height) or indexes (p_txs_height).
# 3: no p_objects.encumbered (a random page write for every pledge registered or discharged).
# 4: p_txs keyed by (height, idx), applications found by filing height: no index keyed by a
# tx id, whose random keys dirtied a page of each index for every tx (over a third of the
# WAL a block wrote, and the part that grew with the database).
SCHEMA_VERSION = 4

PROJECTION_DDL = """
CREATE TABLE IF NOT EXISTS p_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS p_blocks (
    height INTEGER PRIMARY KEY, hash BLOB NOT NULL, time_ms INTEGER NOT NULL,
    txs INTEGER NOT NULL, state_root BLOB NOT NULL, proposer BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS p_txs (
    height INTEGER NOT NULL, idx INTEGER NOT NULL, tx_id BLOB NOT NULL, kind TEXT NOT NULL,
    signers TEXT NOT NULL, status TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,
    article TEXT NOT NULL, memo TEXT NOT NULL, PRIMARY KEY (height, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS p_events (
    height INTEGER NOT NULL, seq INTEGER NOT NULL, tx_id BLOB, kind TEXT NOT NULL,
    data BLOB NOT NULL, recipients TEXT NOT NULL,
    PRIMARY KEY (height, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS p_event_recipients (
    recipient TEXT NOT NULL, height INTEGER NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (recipient, height, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS p_objects (
    cn TEXT PRIMARY KEY, type TEXT, status TEXT, address TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS p_object_versions (
    cn TEXT NOT NULL, height INTEGER NOT NULL, records BLOB NOT NULL,
    PRIMARY KEY (cn, height));
CREATE TABLE IF NOT EXISTS p_holders (
    person_id TEXT NOT NULL, cn TEXT NOT NULL, PRIMARY KEY (person_id, cn)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS p_holders_cn ON p_holders (cn);
CREATE TABLE IF NOT EXISTS p_applications (
    number INTEGER PRIMARY KEY, type TEXT, status TEXT, filed_height INTEGER,
    filed_time_ms INTEGER, deadline TEXT, tx_id BLOB, updated_height INTEGER NOT NULL,
    records BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS p_applications_filed ON p_applications (filed_height);
CREATE INDEX IF NOT EXISTS p_applications_status ON p_applications (status, number);
CREATE TABLE IF NOT EXISTS p_application_objects (
    cn TEXT NOT NULL, number INTEGER NOT NULL, PRIMARY KEY (cn, number)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS p_object_ids (cn TEXT PRIMARY KEY, rid INTEGER NOT NULL UNIQUE) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS p_address USING fts5 (cn UNINDEXED, address, tokenize = 'unicode61');
"""

PROJECTION_TABLES = (
    "p_meta", "p_blocks", "p_txs", "p_events", "p_event_recipients", "p_objects", "p_object_versions",
    "p_holders", "p_applications", "p_application_objects", "p_object_ids", "p_address",
)

LOCAL_DDL = """
CREATE TABLE IF NOT EXISTS l_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS l_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL, head_height INTEGER NOT NULL,
    requester_id TEXT, requester_name TEXT, requester_roles TEXT, certificate TEXT,
    ground TEXT, basis TEXT, action TEXT NOT NULL, subject TEXT, outcome TEXT NOT NULL,
    given TEXT, code TEXT, article TEXT, http_status INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS l_requests_subject ON l_requests (subject, id);
CREATE INDEX IF NOT EXISTS l_requests_requester ON l_requests (requester_id, id);
CREATE TABLE IF NOT EXISTS l_webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, owner_id TEXT NOT NULL, owner_name TEXT NOT NULL,
    url TEXT NOT NULL, recipients TEXT NOT NULL, kinds TEXT NOT NULL, created_ms INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1, from_height INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS l_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, webhook_id INTEGER NOT NULL, height INTEGER NOT NULL,
    seq INTEGER NOT NULL, body BLOB NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL, last_error TEXT, delivered_ms INTEGER,
    UNIQUE (webhook_id, height, seq));
CREATE INDEX IF NOT EXISTS l_outbox_due ON l_outbox (status, next_attempt_ms);
"""

LOCAL_TABLES = ("l_meta", "l_requests", "l_webhooks", "l_outbox")
