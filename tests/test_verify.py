"""`tamga chain verify`: a sound chain passes; any single-byte corruption of any stored
block, tx or state record — value or key — is detected and its height named."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from node import schema
from node.kv import open_node_store
from node.pki import fingerprint
from node.verify import verify_store
from tests.ledger_support import SoloNode, TestPKI

BLOCKS = 6


def build_chain(kv, test_pki: TestPKI) -> SoloNode:
    node = SoloNode(kv, test_pki)
    alice, bob = test_pki.party("Alice"), test_pki.party("Bob")
    officer = test_pki.party("Officer", roles=("identity_officer",))
    for h in range(BLOCKS):
        node.submit("note.put", {"key": f"k{h}", "value": bytes([h]) * 8}, alice)
        node.submit("note.put", {"key": f"shared", "value": bytes([h])}, bob)
        if h == 2:
            node.submit("note.delete", {"key": "k0"}, alice)
            node.submit("note.delete", {"key": "nope"}, alice)  # refused
        if h == 4:
            node.submit("pki.revoke", {"fingerprint": fingerprint(test_pki.party("Carol").cert)}, officer)
        node.sealer.seal()
    return node


def test_sound_chain_verifies(kv, test_pki):
    node = build_chain(kv, test_pki)
    report = verify_store(kv)
    assert report.ok, report.findings
    assert report.blocks == BLOCKS and report.head_height == BLOCKS
    assert report.txs == sum(len(node.chain.block(h)[0].txs) for h in range(1, BLOCKS + 1))


@pytest.fixture(scope="module")
def corrupted_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("verify") / "db"
    kv = open_node_store(path)
    build_chain(kv, TestPKI())
    records = [(k, v) for prefix in schema.REPLICATED_PREFIXES for k, v in kv.iterate(prefix)]
    yield kv, records
    kv.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_single_byte_corruption_is_detected(corrupted_store, data):
    kv, records = corrupted_store
    key, value = records[data.draw(st.integers(0, len(records) - 1), label="record")]
    in_key = data.draw(st.booleans(), label="flip in key") if value else True
    target = key if in_key else value
    pos = data.draw(st.integers(0, len(target) - 1), label="position")
    xor = data.draw(st.integers(1, 255), label="xor")
    flipped = target[:pos] + bytes([target[pos] ^ xor]) + target[pos + 1:]
    overwritten = kv.get(flipped) if in_key else None  # a flipped key may hit another record
    try:
        if in_key:
            kv.write({flipped: value}, deletes=[key])
        else:
            kv.write({key: flipped})
        report = verify_store(kv)
        assert not report.ok, f"corruption of {key!r} at {'key' if in_key else 'value'} byte {pos} went unnoticed"
        assert report.first_bad_height is not None
        h = schema.height_from_key(key)
        if h is not None and key.startswith(schema.BLOCK_PREFIX):
            assert report.first_bad_height <= h
    finally:
        if in_key:
            kv.write({key: value}, deletes=[flipped])
            if overwritten is not None:
                kv.write({flipped: overwritten})
        else:
            kv.write({key: value})
    assert verify_store(kv).ok


def test_a_store_of_another_format_is_one_finding_not_a_list_of_foreign_records(kv, test_pki):
    build_chain(kv, test_pki)
    kv.write({}, deletes=[schema.META_FORMAT])
    report = verify_store(kv)
    assert not report.ok and report.head_height == BLOCKS
    assert [f.what for f in report.findings] == ["the store is in format 1; this version of Tamga audits format 2"]
    kv.write({schema.META_FORMAT: schema.STORE_FORMAT})
    assert verify_store(kv).ok


def test_deleted_record_and_truncated_tail_are_named(kv, test_pki):
    build_chain(kv, test_pki)
    raw = kv.get(schema.block(3))
    kv.write({}, deletes=[schema.block(3)])
    report = verify_store(kv)
    assert not report.ok and report.first_bad_height == 3
    kv.write({schema.block(3): raw})
    some_tx = next(k for k, _ in kv.iterate(schema.TX_PREFIX))
    loc = kv.get(some_tx)
    kv.write({}, deletes=[some_tx])
    report = verify_store(kv)
    assert not report.ok and report.first_bad_height == schema.read_tx_location(loc)[0]
    assert "missing" in report.findings[0].what


def test_cli_verify_exit_codes_and_json(tmp_path, test_pki):
    from cli.main import cli

    kv = open_node_store(tmp_path / "db")
    build_chain(kv, test_pki)
    kv.close()
    runner = CliRunner()
    ok = runner.invoke(cli, ["chain", "verify", "--data-dir", str(tmp_path / "db"), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ok"] is True
    kv = open_node_store(tmp_path / "db")
    block = kv.get(schema.block(2))
    kv.write({schema.block(2): block[:-1] + bytes([block[-1] ^ 1])})
    kv.close()
    bad = runner.invoke(cli, ["chain", "verify", "--data-dir", str(tmp_path / "db")])
    assert bad.exit_code == 1
    assert "height 2" in bad.output


def test_startup_check_passes_a_sound_store_and_names_damaged_blocks(kv, test_pki):
    from node.errors import StoreCorrupted
    from node.startup_check import check_store

    node = build_chain(kv, test_pki)
    check_store(node.chain, deep=True)
    for key in (schema.receipts(2), schema.commit(3), schema.height_of_hash(node.chain.hash(node.chain.block(4)[0].header))):
        saved = kv.get(key)
        kv.write({key: saved[:-1] + bytes([saved[-1] ^ 1])})
        with pytest.raises(StoreCorrupted, match="resync") as info:
            check_store(node.chain)
        assert info.value.details["height"] in (2, 3, 4)
        kv.write({key: saved})
    check_store(node.chain)
