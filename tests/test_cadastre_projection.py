"""The cadastre projection on a real chain (LevelDB, registration contracts): the four
sections as of now and as of any height, the history with ended entries, the book of
documents with states and deadlines, holdings, search; idempotence; catch-up from the chain;
and `tamga cadastre rebuild` reproducing the incrementally built projection exactly."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from cadastre import reads
from cadastre.projection import Projection
from cli.cadastre_cmd import cadastre as cadastre_cli
from cli.cadastre_cmd import digest
from contracts import builders as B
from node.errors import InvalidPayload, NotFound, StoreCorrupted
from node.kv import open_node_store
from node.signing import Signer
from tests.cadastre_support import CN, CN2, CN3, People, application_of, pledge, seal, solo_registry


class History:
    """A chain with a registered and later discharged pledge, a refusal and a legal claim,
    projected block by block as the node does."""

    def __init__(self, tmp_path, test_pki):
        self.people = p = People(test_pki)
        self.kv = open_node_store(tmp_path / "db")
        self.node = solo_registry(self.kv, test_pki, p)
        self.path = str(tmp_path / "cadastre.sqlite")
        self.proj = Projection(self.path)
        self.proj.bind(self.node.chain)
        self.proj.catch_up()
        self.h = {}
        self.prepared = {}
        _, r = self.step("filed", pledge(p), p.bank, p.owner)
        self.app = application_of(r)
        _, r = self.step("registered", B.application_decide(self.app, "register"), p.registrar)
        self.pledge_entry = reads.object_row(self.proj.db, CN)[1]["pledges"][0]["entry"]
        _, self.refused = self.step("refused", pledge(p, "21-320-030-999"), p.bank, p.owner)
        self.step("claim", B.claim_register(CN2, p.stranger.iin, "lawsuit", "ownership dispute, case 2-77/2026", [B.doc("claim.pdf", b"c")]), p.stranger)
        self.step("discharged", B.pledge_discharge(self.pledge_entry), p.bank)

    def step(self, name, built, *parties):
        prepared, receipt = seal(self.node, built, *parties)
        self.proj.listener(prepared)
        self.h[name] = prepared.height
        self.prepared[name] = prepared
        return prepared, receipt

    def close(self):
        self.proj.close()
        self.kv.close()


@pytest.fixture
def hist(tmp_path, test_pki):
    h = History(tmp_path, test_pki)
    yield h
    h.close()


def test_sheet_now_and_as_of_any_height(hist):
    db = hist.proj.db
    sheet_now, cert_now, _ = reads.object_row(db, CN)
    assert sheet_now["encumbrances"]["pledges"] == [] and cert_now["encumbered"] is False
    sheet_then, cert_then, version = reads.object_row(db, CN, hist.h["registered"])
    assert version == hist.h["registered"]
    assert [e["id"] for e in sheet_then["encumbrances"]["pledges"]] == [hist.pledge_entry]
    assert cert_then["encumbered"] is True and cert_then["pledges"][0]["pledgee"] == hist.people.bank_bin
    # As of a height between changes: the latest version at or below it.
    assert reads.object_row(db, CN, hist.h["claim"])[2] == hist.h["registered"]
    # At genesis the sheet has its loaded right and no pending application.
    at0 = reads.object_row(db, CN, 0)[0]
    assert at0["pending_applications"] == [] and at0["rights"][0]["holders"] == [{"id": hist.people.owner.iin, "share": [1, 1]}]
    assert reads.object_row(db, CN, hist.h["filed"])[0]["pending_applications"] == [hist.app]
    assert reads.versions(db, CN) == [0, hist.h["filed"], hist.h["registered"], hist.h["discharged"]]
    with pytest.raises(NotFound):
        reads.object_row(db, "99-999-999-999")


def test_four_sections_match_the_contracts_view_at_every_height(hist):
    from contracts import queries
    from cadastre import canon

    chain = hist.node.chain
    for height in range(1, chain.head.height + 1):
        _, header = chain.block(height)
        state = chain.state(header.state_root)
        for cn in (CN, CN2, CN3):
            assert reads.object_row(hist.proj.db, cn, height)[0] == canon.loads(canon.dumps(queries.read_object(state, cn)))


def test_a_sheet_is_made_only_from_the_records_stored_for_it(hist):
    """Sheets are stored as the ledger records they are derived from; the contracts' view run
    on them may read nothing else (a record set out of date with the views fails loudly)."""
    from cadastre import records
    from contracts import keys

    blob = hist.proj.db.execute("SELECT records FROM p_object_versions WHERE cn = ? ORDER BY height DESC LIMIT 1", (CN,)).fetchone()[0]
    values = records.decode(blob)
    assert keys.obj(CN) in values and any(k.startswith(keys.ENTRY_PREFIX) for k in values)
    assert records.encode(values) == blob   # one record set, one blob
    assert records.sheet_and_certificate(CN, blob) == reads.object_row(hist.proj.db, CN)[:2]
    del values[max(k for k in values if k.startswith(keys.ENTRY_PREFIX))]
    with pytest.raises(AssertionError, match="stored no record"):
        records.sheet_and_certificate(CN, records.encode(values))


def test_history_keeps_ended_entries(hist):
    entries = {e["id"]: e for e in reads.history(hist.proj.db, CN)}
    pledge_e = entries[hist.pledge_entry]
    assert pledge_e["type"] == "pledge" and pledge_e["status"] != "active"
    assert pledge_e["ended"]["height"] == hist.h["discharged"]
    assert pledge_e["registered"]["height"] == hist.h["registered"]
    assert [e["id"] for e in reads.history(hist.proj.db, CN)] == sorted(entries)


def test_book_of_documents_with_states_and_deadlines(hist):
    db = hist.proj.db
    app = reads.application(db, hist.app)
    assert app["status"] == "registered" and app["type"] == "pledge" and app["deadline"]
    assert app["filed"]["height"] == hist.h["filed"] and app["decision"]["status"] == "registered"
    book = reads.applications(db)
    assert [a["number"] for a in book] == sorted(a["number"] for a in book)          # filing order, Art 13.2
    assert hist.app in [a["number"] for a in reads.applications(db, cn=CN)]
    assert reads.applications(db, status="filed") == []
    # The registration of the claim (Art 23.2: at once) is in the book too.
    assert any(a["type"].startswith("claim") for a in reads.applications(db, cn=CN2))


def test_refusals_and_receipts_are_projected(hist):
    db = hist.proj.db
    refused = reads.tx(db, *hist.node.chain.tx_location(hist.refused.tx_id))
    assert refused["status"] == "refused" and refused["code"] == hist.refused.code == "OBJECT_NOT_FOUND"
    assert refused["message"] and refused["kind"] == "pledge.file"
    assert {s["bin"] for s in refused["signers"]} >= {hist.people.bank_bin}
    filed = reads.application_of_tx(db, _tx_id(hist, "filed"), hist.h["filed"])
    assert filed["number"] == hist.app
    # Only the tx that filed it, and only at its own height.
    assert reads.application_of_tx(db, _tx_id(hist, "filed"), hist.h["filed"] + 1) is None
    assert reads.application_of_tx(db, hist.refused.tx_id, hist.h["filed"]) is None


def _tx_id(hist, name):
    return hist.node.chain.receipts(hist.h[name]).receipts[0].tx_id


def test_holdings_and_search(hist):
    db, p = hist.proj.db, hist.people
    assert [h["cadastral_number"] for h in reads.holdings(db, p.owner.iin)] == [CN, CN2]
    (co,) = reads.holdings(db, p.co_owner.iin)
    assert co["cadastral_number"] == CN2 and [(r["type"], r["share"], r["common"]) for r in co["rights"]] == [("ownership", [1, 2], "shared")]
    assert [h["cadastral_number"] for h in reads.holdings(db, p.company_bin)] == [CN3]
    assert reads.holdings(db, p.stranger.iin) == []
    assert [r["cadastral_number"] for r in reads.search(db, cadastral_number="21-320-030")] == [CN, CN2]
    assert [r["cadastral_number"] for r in reads.search(db, address="astana")] == [CN3, CN]
    assert [r["cadastral_number"] for r in reads.search(db, address="Mangilik El 12")] == [CN]
    assert reads.search(db, address="Shymkent") == []
    for bad in ({}, {"cadastral_number": "21'; DROP TABLE p_objects; --"}, {"address": "..."}):
        with pytest.raises(InvalidPayload):
            reads.search(db, **bad)


def test_applying_a_block_twice_changes_nothing(hist):
    before = list(hist.proj.dump())
    assert hist.proj.apply_block(hist.proj.height) is False
    assert hist.proj.catch_up() == 0
    assert hist.proj.apply_block(hist.proj.height, force=True) is True
    assert list(hist.proj.dump()) == before


def test_catch_up_from_the_chain_when_blocks_were_missed(hist, tmp_path):
    """A projection started late (or that missed commits) catches up from blocks + receipts."""
    late = Projection(str(tmp_path / "late.sqlite"))
    late.bind(hist.node.chain)
    assert late.height == -1
    assert late.catch_up() == hist.node.chain.head.height
    assert list(late.dump()) == list(hist.proj.dump())
    late.close()


def test_rebuild_equals_the_incremental_projection(hist):
    """`tamga cadastre rebuild` drops the projection and rebuilds it from the chain; the book
    of requests (node-local) survives."""
    from cadastre import requests_book

    requests_book.record(hist.proj.db, time_ms=1, head_height=1, requester=requests_book.ANONYMOUS, action="t", subject=CN, outcome="refused", http_status=401)
    incremental = list(hist.proj.dump())
    expected_digest = digest(hist.proj)
    hist.proj.close()
    hist.kv.close()
    data_dir = str(hist.kv.path).rsplit("/", 1)[0]
    result = CliRunner().invoke(cadastre_cli, ["rebuild", "--data-dir", data_dir, "--json"])
    assert result.exit_code == 0, result.output
    assert expected_digest in result.output
    rebuilt = Projection(hist.path)
    assert list(rebuilt.dump()) == incremental
    assert requests_book.count(rebuilt.db) == 1
    rebuilt.close()
    # The fixture's teardown closes these again; reopen so it can.
    hist.kv = open_node_store(hist.kv.path)
    hist.proj = Projection(hist.path)


def test_a_block_just_committed_is_projected_from_its_verified_txs_with_the_same_rows(hist):
    """The commit listener hands the projection the block the node just committed: it takes
    kind, memo and signers from the txs the node verified (no second parse of each envelope);
    a block it gets no such txs for is read from the store. Both give the same p_txs rows."""
    chain = hist.node.chain
    for name, height in hist.h.items():
        verified = hist.prepared[name].txs
        assert hist.prepared[name].height == height
        block, _ = chain.block(height)
        receipts = chain.receipts(height).receipts
        from_memory = [hist.proj._verified_tx_row(height, i, tx, r) for i, (tx, r) in enumerate(zip(verified, receipts))]
        from_store = [hist.proj._tx_row(height, i, env, r) for i, (env, r) in enumerate(zip(block.txs, receipts))]
        assert from_memory == from_store
        stored = hist.proj.db.execute("SELECT * FROM p_txs WHERE height = ? ORDER BY idx", (height,)).fetchall()
        assert stored == from_store
    # The listener path takes the verified txs; re-applying without them parses the store.
    counts = lambda: (hist.proj.tx_rows_verified, hist.proj.tx_rows_parsed)  # noqa: E731
    memory0, store0 = counts()
    prepared, _ = hist.step("claim 2", B.claim_register(CN3, hist.people.stranger.iin, "lawsuit", "case 2-78/2026", [B.doc("c2.pdf", b"d")]), hist.people.stranger)
    assert counts() == (memory0 + len(prepared.txs), store0)
    rows = hist.proj.db.execute("SELECT * FROM p_txs WHERE height = ?", (prepared.height,)).fetchall()
    assert hist.proj.apply_block(prepared.height, force=True)
    assert counts() == (memory0 + len(prepared.txs), store0 + len(prepared.txs))
    assert hist.proj.db.execute("SELECT * FROM p_txs WHERE height = ?", (prepared.height,)).fetchall() == rows


def test_a_database_from_another_chain_is_refused(hist, tmp_path, test_pki):
    other_kv = open_node_store(tmp_path / "other")
    other = solo_registry(other_kv, test_pki, People(test_pki), validator=Signer(bytes(range(1, 33))))
    with pytest.raises(StoreCorrupted):
        Projection(hist.path).bind(other.chain)
    other_kv.close()


def test_database_is_sqlite_in_wal_mode(hist):
    assert hist.proj.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert isinstance(hist.proj.db, sqlite3.Connection)


def test_rebuild_refuses_a_store_the_node_holds_open(hist):
    data_dir = str(hist.kv.path).rsplit("/", 1)[0]
    result = CliRunner().invoke(cadastre_cli, ["rebuild", "--data-dir", data_dir])
    assert result.exit_code == 2 and "stop the node first" in result.output
    missing = CliRunner().invoke(cadastre_cli, ["rebuild", "--data-dir", data_dir + "/nowhere"])
    assert missing.exit_code == 2 and "no Tamga store" in missing.output


def test_cadastre_status_command(hist):
    result = CliRunner().invoke(cadastre_cli, ["status", "--data-dir", str(hist.kv.path).rsplit("/", 1)[0], "--json"])
    assert result.exit_code == 0
    import json

    report = json.loads(result.output)
    assert report["height"] == hist.node.chain.head.height and report["objects"] == 3 and report["digest"] == digest(hist.proj)


def test_a_projection_of_another_schema_is_dropped_and_rebuilt(tmp_path):
    """A node restarted on code with another table layout rebuilds its projection instead of
    failing on every block; the node-local tables (book of requests, webhooks) are kept."""
    from cadastre.projection import Projection

    path = str(tmp_path / "cadastre.sqlite")
    p = Projection(path)
    p.db.execute("INSERT OR REPLACE INTO p_meta (key, value) VALUES ('schema', 'old-layout')")
    p.db.execute("INSERT OR REPLACE INTO p_meta (key, value) VALUES ('height', '41')")
    p.db.execute("DROP TABLE p_objects")
    p.db.execute("CREATE TABLE p_objects (cn TEXT PRIMARY KEY, a, b, c, d, e, f, g)")
    p.db.execute("INSERT OR REPLACE INTO l_meta (key, value) VALUES ('outbox_height', '41')")
    p.close()
    again = Projection(path)
    try:
        fresh = Projection(str(tmp_path / "fresh.sqlite"))
        assert again.db.execute("PRAGMA table_info(p_objects)").fetchall() == fresh.db.execute("PRAGMA table_info(p_objects)").fetchall()
        fresh.close()
        assert again.height == -1          # the next catch-up rebuilds from genesis
        assert again.outbox_height == 41   # nothing is sent twice
    finally:
        again.close()


def test_canonical_json_of_string_lists_takes_no_shortcut_it_should_not():
    from cadastre import canon

    for items in ([], ["871105300123"], ["a", "B1"], ["a b"], ["é"], ['x"'], ["\\"], [""]):
        assert canon.dumps_strings(items) == canon.dumps(list(items)), items


def test_a_new_cadastre_uses_8_kib_pages_and_an_old_one_keeps_its_own(tmp_path):
    from cadastre.projection import PAGE_BYTES, connect

    new = Projection(str(tmp_path / "new.sqlite"))
    assert new.db.execute("PRAGMA page_size").fetchone()[0] == PAGE_BYTES == 8192
    new.close()
    # A database made before (SQLite's 4 KiB pages) opens as it is and is written as before.
    old_path = str(tmp_path / "old.sqlite")
    made = sqlite3.connect(old_path)
    made.execute("PRAGMA page_size=4096")
    made.execute("CREATE TABLE t (x)")
    made.close()
    old = Projection(old_path)
    assert old.db.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert old.height == -1 and old.db.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    old.close()
    assert connect(old_path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
