"""The projection: committed blocks and receipts into the cadastre's SQLite tables.

Design decision 8: it reads only committed blocks, receipts and the state at a block's
root; it keeps its own cursor (the last applied height, in p_meta) and catches up from the
chain on start and after every commit, so it never depends on being called for every block.

For each block, in ONE SQLite transaction:
- the block, every tx with its receipt, every event (receipts' then the block's own);
- for every object an event names (data["objects"]), the ledger records its sheet and
  certificate of encumbrances are derived from, read at the block's state root
  (source.sheet_records): a version row for (object, height) is written when they differ
  from the previous version's (a comparison of bytes; the latest version of recently
  projected objects is kept in memory), and the index rows (search columns, holders,
  address) wherever what they hold changed. The sheet itself is made by
  contracts/queries.py's views from those records when it is read (records.py), so the
  commit path does no view work and no JSON;
- for every application an event names (data["application"]), its record in the book of
  documents received;
Rows are written per table with executemany, once per block.
- webhook deliveries for the block's events (the outbox), when the block is above the
  outbox cursor -- a rebuild re-projects old blocks without sending anything twice;
- the cursor.
Applying a height at or below the cursor does nothing; re-applying it by force writes the
same rows again (every write is an upsert keyed by height; an unchanged sheet's version row
at that height is deleted), so the result is identical.

One writer: the node's event loop (as a commit listener) or `tamga cadastre rebuild`.
SQLite in WAL mode, so readers never block it.

May import: cadastre, node, contracts (through cadastre.source), proto, sqlite3.
"""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import time
from typing import Any, Callable, Iterable, Sequence

from cadastre import canon, facts, records, schema, source
from cadastre.checkpoint import WalCheckpointer
from node import codec
from node.errors import MalformedInput, StoreCorrupted, TamgaError
from node.interfaces import Credential, VerifiedTx
from node.pki import CertificateVerifier, verifier_for
from proto import tamga_pb2 as pb

log = logging.getLogger("tamga.cadastre")

SIGNER_CACHE_MAX = 10_000   # signers' JSON by certificate fingerprint; the consortium has far fewer
LATEST_CACHE_MAX = 10_000   # latest sheet versions kept in memory (~1 KB each)
PREVIOUS_VERSION = "SELECT height, records FROM p_object_versions WHERE cn = ? AND height < ? ORDER BY height DESC LIMIT 1"
# A writer's page cache (KiB): the projection updates rows all over its tables (objects,
# applications by number, recipients); SQLite's default of 2 MB misses on most of them.
CACHE_KIB = 32 * 1024
MMAP_BYTES = 1 << 30
PAGE_BYTES = 8192


def _upsert(table: str, key: tuple[str, ...], cols: tuple[str, ...]) -> str:
    # An upsert, not INSERT OR REPLACE: REPLACE deletes the row and inserts it again, which
    # rewrites every index of the table; an update touches only indexes whose columns changed.
    rest = [c for c in cols if c not in key]
    return (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in rest))


UPSERT_TX = _upsert("p_txs", ("height", "idx"), ("height", "idx", "tx_id", "kind", "signers", "status", "code", "message", "article", "memo"))
UPSERT_OBJECT = _upsert("p_objects", ("cn",), ("cn", "type", "status", "address"))
UPSERT_APPLICATION = _upsert("p_applications", ("number",), ("number", "type", "status", "filed_height", "filed_time_ms", "deadline", "tx_id", "updated_height", "records"))

Progress = Callable[[int, int], None]


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with WAL journaling."""
    if path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # 8 KiB pages instead of SQLite's 4 KiB: the projection appends every block's rows to a
    # dozen tables and indexes, and with pages twice the size it splits and writes half as
    # many (51,000 instead of 91,000 checkpointed for 54,668 txs) for 12 % more bytes. Run
    # side by side in one machine (`bench_node_pipeline`, 60,000 txs, both variants at once
    # so that both see the same machine), the projection took 6-9 % less CPU per tx; 16 KiB
    # was no better than 8. It applies to a new database only (an existing one keeps its
    # page size until a rebuild).
    db.execute(f"PRAGMA page_size={PAGE_BYTES}")
    db.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode may lose the last transactions on power loss, never corrupt: the
    # cursor then simply lags and catch-up re-applies those blocks (and re-queues their
    # webhook deliveries, whose cursor lives in the same lost transaction).
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=OFF")
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    # Pages beyond the page cache are read through a memory map instead of a read() call
    # that copies each one: the database passes 100 MB within minutes of saturation, and in
    # the second saturation step of a pair of runs the four nodes' system time fell from
    # ~1,000 to ~890 ticks with it. Address space only: the kernel pages the file in and out.
    db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    return db


class Projection:
    """The cadastre database of one node. Not thread-safe: one task writes and reads."""

    def __init__(self, path: str, *, now_ms: Callable[[], int] = lambda: int(time.time() * 1000), background_checkpoints: bool = False):
        self.path = path
        self.now_ms = now_ms
        self.db = connect(path)
        # A node's projection writes on the event loop: its WAL is copied into the database
        # by a thread of its own instead of inside a COMMIT (cadastre/checkpoint.py).
        self.checkpointer: WalCheckpointer | None = None
        if background_checkpoints and path != ":memory:":
            self.db.execute("PRAGMA wal_autocheckpoint=0")
            self.checkpointer = WalCheckpointer(path)
        self._drop_if_other_schema()
        self.db.executescript(schema.PROJECTION_DDL + schema.LOCAL_DDL)
        self._certs: CertificateVerifier | None = None  # the process-wide verifier of the chain's CA, set by bind()
        self._chain: Any = None  # the node.chain.Chain (or a stand-in with its reads) bound by bind()
        self._signers: dict[bytes, str] = {}  # certificate fingerprint -> signer JSON
        # cn -> its latest version in the database (only ever written with it, in the same
        # transaction; emptied when one rolls back or the tables are dropped).
        self._latest: dict[str, _Version] = {}
        # p_txs rows made from the txs as the node verified them (a block just committed) and
        # from envelopes parsed out of the store (catching up, rebuilding).
        self.tx_rows_verified = 0
        self.tx_rows_parsed = 0
        self.blocks_applied = 0
        # Called with (height, outbox rows queued) after each applied block: the webhook
        # worker wakes on it.
        self.on_applied: list[Callable[[int, int], None]] = []

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.db.close()

    def _drop_if_other_schema(self) -> None:
        """A database projected by code with another table layout is dropped (its projection
        tables only) and rebuilt from the chain by the next catch-up, instead of failing on
        every block."""
        try:
            row = self.db.execute("SELECT value FROM p_meta WHERE key = 'schema'").fetchone()
        except sqlite3.OperationalError:
            return  # a new database
        if row is None or row[0] == str(schema.SCHEMA_VERSION):
            return
        log.warning("cadastre schema %s found, this node projects schema %s: rebuilding the projection from the chain", row[0], schema.SCHEMA_VERSION)
        self.db.execute("BEGIN IMMEDIATE")
        for t in schema.PROJECTION_TABLES:
            self.db.execute(f"DROP TABLE IF EXISTS {t}")
        self.db.execute("COMMIT")

    # --- meta ------------------------------------------------------------------------------
    def _meta(self, table: str, key: str) -> str | None:
        row = self.db.execute(f"SELECT value FROM {table} WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, table: str, key: str, value) -> None:
        self.db.execute(f"INSERT OR REPLACE INTO {table} (key, value) VALUES (?, ?)", (key, str(value)))

    @property
    def height(self) -> int:
        """The last applied height; -1 before genesis has been projected."""
        v = self._meta("p_meta", "height")
        return -1 if v is None else int(v)

    @property
    def outbox_height(self) -> int:
        v = self._meta("l_meta", "outbox_height")
        return -1 if v is None else int(v)

    # --- binding to a chain ------------------------------------------------------------------
    def bind(self, chain) -> None:
        """Attach to `chain`; refuse a database built from another chain's genesis."""
        genesis_hash = chain.genesis.hash.hex()
        stored = self._meta("p_meta", "genesis")
        local = self._meta("l_meta", "genesis")
        for found in (stored, local):
            if found is not None and found != genesis_hash:
                raise StoreCorrupted(
                    f"the cadastre database {self.path} was built from another chain (genesis {found[:16]}...); "
                    "move it away or run `tamga cadastre rebuild`"
                )
        self._chain = chain
        self._signers.clear()
        self._certs = verifier_for(chain.genesis.ca_certificate_pem.encode())
        self.db.execute("BEGIN IMMEDIATE")
        self._set_meta("p_meta", "genesis", genesis_hash)
        self._set_meta("l_meta", "genesis", genesis_hash)
        self._set_meta("p_meta", "schema", schema.SCHEMA_VERSION)
        self.db.execute("COMMIT")
        if self.height > chain.head.height:
            raise StoreCorrupted(f"the cadastre is at height {self.height} but the chain only at {chain.head.height}; rebuild it")

    @property
    def chain(self) -> Any:
        assert self._chain is not None, "bind() the projection to a chain first"
        return self._chain

    # --- applying ----------------------------------------------------------------------------
    def listener(self, prepared) -> None:
        """NodeRuntime.commit_listeners entry: catch up to the chain's head."""
        self.catch_up(latest=prepared)

    def catch_up(self, progress: Progress | None = None, *, latest=None) -> int:
        """Apply every committed block above the cursor; the number applied. `latest` is the
        PreparedBlock the node just committed, if the caller has it: that block's txs are then
        taken as this node verified them instead of parsed again from the store."""
        chain = self.chain
        applied = 0
        target = chain.head.height
        if self.height < 0:
            self.apply_genesis()
        while self.height < target:
            height = self.height + 1
            self.apply_block(height, verified=latest.txs if latest is not None and latest.height == height else None)
            applied += 1
            if progress is not None:
                progress(self.height, target)
        return applied

    def apply_genesis(self) -> None:
        """Project the objects and applications genesis loaded (systematic registration)."""
        chain = self.chain
        root = chain.genesis_state()[0] if chain.head.height else chain.head.state_root
        state = chain.state(root)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if source.available():
                prefix = source.object_prefix()
                app_prefix = source.application_prefix()
                cns, numbers = [], []
                for key, _ in chain.tree.items(root):
                    if key.startswith(prefix):
                        cns.append(key[len(prefix):].decode())
                    elif key.startswith(app_prefix) and len(key) == len(app_prefix) + 8:
                        numbers.append(int.from_bytes(key[len(app_prefix):], "big"))
                self._project_objects(state, sorted(cns), 0)
                self._project_applications(state, sorted(numbers), 0)
            self._set_meta("p_meta", "height", 0)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            self._latest.clear()
            raise

    def apply_block(self, height: int, *, force: bool = False, verified: Sequence[VerifiedTx] | None = None) -> bool:
        """Project block `height`; False when it was already applied (and not forced).
        `verified`: the block's txs as this node verified them, in block order (optional)."""
        if height <= self.height and not force:
            return False
        # Forcing is for re-applying the last block (it must change nothing); an older one
        # would put a past sheet in the "current" rows.
        assert height == self.height + 1 or (force and height == self.height), f"blocks are applied in order: cursor {self.height}, asked {height}"
        chain = self.chain
        block, header = chain.block(height)
        results = chain.receipts(height)
        state = chain.state(header.state_root)
        assert len(results.receipts) == len(block.txs), f"height {height}: {len(block.txs)} txs but {len(results.receipts)} receipts"
        queued = 0
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT OR REPLACE INTO p_blocks VALUES (?, ?, ?, ?, ?, ?)",
                (height, chain.hash(block.header), header.time_ms, len(block.txs), header.state_root, header.proposer),
            )
            tx_rows = []
            events: list[tuple[bytes | None, pb.Event]] = []
            # The block just committed: its txs are in memory as verified, no second parse.
            assert verified is None or len(verified) == len(block.txs), f"height {height}: the chain remembers {len(verified)} txs of {len(block.txs)}"
            for idx, (env_bytes, receipt) in enumerate(zip(block.txs, results.receipts)):
                tx_rows.append(self._tx_row(height, idx, env_bytes, receipt) if verified is None else self._verified_tx_row(height, idx, verified[idx], receipt))
                tx_id = receipt.tx_id
                events.extend((tx_id, ev) for ev in receipt.events)
            events.extend((None, ev) for ev in results.block_events)
            db.executemany(UPSERT_TX, tx_rows)
            if verified is None:
                self.tx_rows_parsed += len(tx_rows)
            else:
                self.tx_rows_verified += len(tx_rows)
            objects: set[str] = set()
            applications: set[int] = set()
            rows = []
            recipient_rows = []
            decode = codec.decode_trusted
            dumps_strings = canon.dumps_strings
            for seq, (tx_id, ev) in enumerate(events):
                raw = ev.data
                try:
                    # Committed event data was produced by this node's own execution
                    # (results root): no need to re-check that it is canonical.
                    data = decode(raw) if raw else {}
                except MalformedInput as exc:
                    raise StoreCorrupted(f"a committed event's data at height {height} does not decode: {exc}") from None
                if not isinstance(data, dict):
                    data = {"value": data}
                objs = data.get("objects")
                if objs:
                    objects.update(o for o in objs if isinstance(o, str))
                number = data.get("application")
                if isinstance(number, int) and not isinstance(number, bool):
                    applications.add(number)
                recipients = ev.recipients
                rows.append((height, seq, tx_id, ev.kind, raw, dumps_strings(recipients)))
                if recipients:
                    recipient_rows += [(r, height, seq) for r in sorted(set(recipients))]
            db.executemany("INSERT OR REPLACE INTO p_events VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.executemany("INSERT OR REPLACE INTO p_event_recipients VALUES (?, ?, ?)", recipient_rows)
            if source.available():
                self._project_objects(state, sorted(objects), height)
                self._project_applications(state, sorted(applications), height)
            if height > self.outbox_height:
                queued = self._queue_deliveries(height, rows)
                self._set_meta("l_meta", "outbox_height", height)
            if height > self.height:
                self._set_meta("p_meta", "height", height)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._latest.clear()
            raise
        self.blocks_applied += 1
        if self.checkpointer is not None:
            self.checkpointer.poke()
        for cb in self.on_applied:
            cb(height, queued)
        return True

    def _tx_row(self, height: int, idx: int, env_bytes: bytes, receipt: pb.Receipt) -> tuple:
        try:
            env = pb.Envelope.FromString(env_bytes)
            body = pb.TxBody.FromString(env.body)
            signers = ",".join([self._signer_json(sig.certificate) for sig in env.signatures])
        except Exception as exc:  # a committed envelope was verified before it was committed
            raise StoreCorrupted(f"committed tx {receipt.tx_id.hex()} at height {height} does not decode: {exc}") from None
        return (height, idx, receipt.tx_id, body.kind, "[" + signers + "]", receipt.status, receipt.code, receipt.message, receipt.article, body.memo)

    def _verified_tx_row(self, height: int, idx: int, tx: VerifiedTx, receipt: pb.Receipt) -> tuple:
        """The same row as `_tx_row`, from the tx as this node verified it."""
        assert tx.tx_id == receipt.tx_id, f"height {height} index {idx}: remembered tx {tx.tx_id.hex()} is not the block's {receipt.tx_id.hex()}"
        signers = ",".join([self._credential_json(cred) for cred in tx.signers])
        return (height, idx, receipt.tx_id, tx.kind, "[" + signers + "]", receipt.status, receipt.code, receipt.message, receipt.article, tx.memo)

    def _credential_json(self, cred: Credential) -> str:
        """The JSON of a signer as p_txs shows it; a function of the certificate (named by
        its fingerprint), so computed once per signer."""
        text = self._signers.get(cred.fingerprint)
        if text is None:
            text = canon.dumps({"name": cred.name, "iin": cred.iin, "bin": cred.bin, "roles": list(cred.roles), "fingerprint": cred.fingerprint})
            if len(self._signers) >= SIGNER_CACHE_MAX:
                self._signers.clear()
            self._signers[cred.fingerprint] = text
        return text

    def _signer_json(self, certificate: bytes) -> str:
        """The same, from a certificate's bytes (the process's verifier caches its parse)."""
        assert self._certs is not None
        return self._credential_json(self._certs.credential(certificate))

    def _project_objects(self, state, cns: list[str], height: int) -> None:
        """The sheets of `cns` at `height`: a version row when their records changed since
        their previous version, and the index rows (p_objects, p_holders, p_address) where
        what they hold changed."""
        db = self.db
        latest = self._latest
        versions, objects, holder_dels, holder_rows = [], [], [], []
        for cn in cns:
            recs = source.sheet_records(state, cn)
            if recs is None:
                continue  # named in an event but never registered (a refused filing, say)
            blob = records.encode_sorted(recs.pairs)
            prev = latest.get(cn)
            if prev is None or prev.height >= height:  # not cached, or a forced re-apply
                row = db.execute(PREVIOUS_VERSION, (cn, height)).fetchone()
                prev = None if row is None else _Version.stored(cn, row[0], row[1])
            if prev is not None and prev.blob == blob:
                # Named in an event but unchanged: no new version (and none left by a forced
                # re-apply); the index rows are those of the previous version already.
                db.execute("DELETE FROM p_object_versions WHERE cn = ? AND height = ?", (cn, height))
                continue
            new = _Version(height, blob, recs.obj, recs.entries)
            versions.append((cn, height, blob))
            if prev is None or prev.search != new.search:
                objects.append((cn, *new.search))
            if prev is None or prev.rights != new.rights:
                holders = new.holders()
                if prev is None or holders != prev.holders():
                    holder_dels.append((cn,))
                    holder_rows += [(pid, cn) for pid in holders]
            else:
                new.carry_holders(prev)
            address = new.search[2]
            if prev is None or address != prev.search[2]:
                rid = self._object_rid(cn)
                db.execute("DELETE FROM p_address WHERE rowid = ?", (rid,))
                if address:
                    db.execute("INSERT INTO p_address (rowid, cn, address) VALUES (?, ?, ?)", (rid, cn, address))
            latest.pop(cn, None)
            if len(latest) >= LATEST_CACHE_MAX:
                for old in list(itertools.islice(latest, LATEST_CACHE_MAX // 8)):
                    del latest[old]
            latest[cn] = new
        db.executemany("INSERT OR REPLACE INTO p_object_versions VALUES (?, ?, ?)", versions)
        db.executemany(UPSERT_OBJECT, objects)
        db.executemany("DELETE FROM p_holders WHERE cn = ?", holder_dels)
        db.executemany("INSERT OR IGNORE INTO p_holders VALUES (?, ?)", holder_rows)

    def _object_rid(self, cn: str) -> int:
        row = self.db.execute("SELECT rid FROM p_object_ids WHERE cn = ?", (cn,)).fetchone()
        if row is not None:
            return row[0]
        rid = self.db.execute("SELECT COALESCE(MAX(rid), 0) + 1 FROM p_object_ids").fetchone()[0]
        self.db.execute("INSERT INTO p_object_ids VALUES (?, ?)", (cn, rid))
        return rid

    def _project_applications(self, state, numbers: list[int], height: int) -> None:
        rows, links = [], []
        for number in numbers:
            app, pairs = source.application_record(state, number)
            if app is None:
                continue
            get = app.get
            filed = get("filed")
            if not isinstance(filed, dict):
                filed = {}
            tx = get("tx")
            rows.append((
                number, _j(get("type")), _j(get("status")), filed.get("height"), filed.get("time_ms"), _j(get("deadline")),
                tx if type(tx) is bytes else bytes(tx) if isinstance(tx, bytearray) else bytes.fromhex(tx) if isinstance(tx, str) else None,
                height, records.encode_sorted(pairs),
            ))
            objects = get("objects")
            if objects:
                links += [(o, number) for o in map(_j, objects) if isinstance(o, str)]
        self.db.executemany(UPSERT_APPLICATION, rows)
        self.db.executemany("INSERT OR IGNORE INTO p_application_objects VALUES (?, ?)", links)

    # --- webhooks outbox ---------------------------------------------------------------------
    def _queue_deliveries(self, height: int, event_rows: list[tuple]) -> int:
        hooks = self.db.execute("SELECT id, recipients, kinds, from_height FROM l_webhooks WHERE active = 1").fetchall()
        if not hooks or not event_rows:
            return 0
        chain = self.chain
        queued = 0
        for hook_id, recipients, kinds, from_height in hooks:
            if height < from_height:
                continue
            wanted = set(canon.loads(recipients))
            kind_set = set(canon.loads(kinds))
            for (_, seq, tx_id, kind, data, ev_recipients) in event_rows:
                if kind_set and kind not in kind_set:
                    continue
                if not wanted.intersection(canon.loads(ev_recipients)):
                    continue
                body = delivery_body(chain.chain_id, height, seq, tx_id, kind, records.event_json(data), ev_recipients, hook_id)
                self.db.execute(
                    "INSERT OR IGNORE INTO l_outbox (webhook_id, height, seq, body, status, attempts, next_attempt_ms) VALUES (?, ?, ?, ?, 'pending', 0, 0)",
                    (hook_id, height, seq, body),
                )
                queued += 1
        return queued

    # --- rebuilding ----------------------------------------------------------------------------
    def drop(self) -> None:
        """Drop every projection table (never the local ones: the book of requests stays)."""
        self._latest.clear()
        self.db.execute("BEGIN IMMEDIATE")
        for t in schema.PROJECTION_TABLES:
            self.db.execute(f"DROP TABLE IF EXISTS {t}")
        self.db.execute("COMMIT")
        self.db.executescript(schema.PROJECTION_DDL)

    def rebuild(self, progress: Progress | None = None) -> int:
        chain = self.chain
        self.drop()
        self.db.execute("BEGIN IMMEDIATE")
        self._set_meta("p_meta", "genesis", chain.genesis.hash.hex())
        self._set_meta("p_meta", "schema", schema.SCHEMA_VERSION)
        self.db.execute("COMMIT")
        return self.catch_up(progress)

    # --- dumps (tests and operators compare projections) ------------------------------------
    def dump(self) -> Iterable[tuple[str, tuple]]:
        """Every projection row, table by table, in primary-key order."""
        for t in schema.PROJECTION_TABLES:
            order = "rowid" if t == "p_address" else "1, 2" if t not in ("p_meta",) else "key"
            cols = "rowid, *" if t == "p_address" else "*"
            for row in self.db.execute(f"SELECT {cols} FROM {t} ORDER BY {order}"):
                yield t, tuple(row)


def _j(v):
    """A scalar of a record as its JSON form shows it (bytes as hex)."""
    return v.hex() if type(v) is bytes or isinstance(v, bytearray) else v


def _address(ident) -> str | None:
    """The search address of a sheet's identification (section 1) as facts.address_of finds
    it in the sheet's JSON form."""
    if not isinstance(ident, dict):
        return None
    a = ident.get("address")
    if type(a) is str:
        return a
    if isinstance(a, (bytes, bytearray)):
        return a.hex()
    if isinstance(a, dict) and any(isinstance(v, (bytes, bytearray)) for v in a.values()):
        ident = {"address": canon.jsonable(a)}
    return facts.address_of(ident)


class _Version:
    """One version of a sheet as the projection compares it with the next: its records'
    blob, its search columns (type, status, address) and its active rights (ids and
    records). The latest version of recently projected objects stays in memory
    (Projection._latest), so a busy object's next version is compared without reading the
    database."""

    __slots__ = ("height", "blob", "search", "rights", "_holders")

    def __init__(self, height: int, blob: bytes, obj: dict, entries: dict):
        type_, status, ident, rights_ids, _ = source.sheet_index(obj)
        self.height = height
        self.blob = blob
        self.search = (type_, status, _address(ident))
        self.rights = tuple([(i, entries[i]) for i in rights_ids])
        self._holders: list[str] | None = None

    @classmethod
    def stored(cls, cn: str, height: int, blob: bytes) -> "_Version":
        values = records.decode(blob)
        object_record = values[source.object_key(cn)]
        assert object_record is not None, f"a stored version of {cn} holds the object's record"
        obj = codec.decode_trusted(object_record)
        return cls(height, blob, obj, {i: values.get(source.entry_key(i)) for i in obj["rights"]})

    def holders(self) -> list[str]:
        """Everyone holding an active right (section 2), sorted: the holder ids of the sheet's
        "rights" entries in their JSON form."""
        if self._holders is None:
            out: set[str] = set()
            for i, raw in self.rights:
                assert raw is not None, f"an active right {i} has no entry record"
                e = codec.decode_trusted(raw)
                out.update(facts.holder_ids({"holders": canon.jsonable(e.get("holders") or [])}))
            self._holders = sorted(out)
        return self._holders

    def carry_holders(self, prev: "_Version") -> None:
        """Same rights, same records: same holders."""
        self._holders = prev._holders


def delivery_body(chain_id: str, height: int, seq: int, tx_id: bytes | None, kind: str, data_json: str, recipients_json: str, hook_id: int) -> bytes:
    """The bytes POSTed to a webhook (signed by the node when sent; identical on every retry)."""
    return (
        '{"chain_id":' + canon.dumps(chain_id) + ',"event":{"data":' + data_json + ',"kind":' + canon.dumps(kind)
        + ',"recipients":' + recipients_json + '},"height":' + str(height) + ',"id":' + canon.dumps(f"{height}-{seq}")
        + ',"seq":' + str(seq) + ',"tx_id":' + canon.dumps(tx_id.hex() if tx_id else None) + ',"webhook":' + str(hook_id) + "}"
    ).encode()


__all__ = ["Projection", "connect", "delivery_body", "TamgaError"]
