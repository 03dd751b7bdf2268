"""The insider abuses the study lists (issue 7.4; the paper, section 4), each blocked or
detected, on a real node: real certificates and signatures, envelopes, the mempool, the
state tree on LevelDB.

1. a support employee rewrites an owner in one node's database — detected;
2. a registrar lifts an arrest — blocked (Art 22.8: only the imposing body or a court);
3. a fictitious sale without the owner's signature — blocked (Art 22);
4. forged documents — detected: the ledger keeps each document's hash (Art 15);
5. a manual "correction" of a substantive right without consent or court act — blocked (Art 32);
6. a single operator commits a block alone — refused by every other node and the auditor."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib

import pytest

from contracts import RegistryExecutor, builders as B, keys, queries
from node import codec, identity, schema, signing
from node.chain import Chain, Head
from node.errors import InvalidBlock, StoreCorrupted, WrongRole
from node.genesis import Validator
from node.interfaces import KeyValueStore
from node.kv import MemoryStore, open_node_store
from node.startup_check import check_store
from node.verify import verify_store
from proto import tamga_pb2 as pb
from tests.contracts_support import land
from tests.ledger_support import SoloNode, TestPKI, solo_genesis

CN = "21-320-030-406"
TITLE = b"%PDF title deed 21-320-030-406, owner Aigerim Bekova"


@dataclasses.dataclass
class World:
    node: SoloNode
    kv: KeyValueStore
    owner: object
    buyer: object
    bank: object
    registrar: object
    bailiff: object
    court: object
    owner_iin: str
    bank_bin: str


def _party(test_pki: TestPKI, name, roles, when, serial, organisation=None, org_serial=None):
    iin = identity.make_iin(when, "F", serial)
    bin_ = identity.make_bin(datetime.date(2001, 1, 1), org_serial) if org_serial else None
    return test_pki.party(name, roles, iin=iin, bin=bin_, organisation=organisation), iin, bin_


@pytest.fixture
def world(tmp_path, test_pki):
    owner, owner_iin, _ = _party(test_pki, "Aigerim Bekova", ("citizen",), datetime.date(1985, 4, 12), 77)
    buyer, _, _ = _party(test_pki, "Daniyar Sadykov", ("citizen",), datetime.date(1990, 9, 1), 78)
    bank, _, bank_bin = _party(test_pki, "ForteBank officer", ("bank",), datetime.date(1979, 1, 1), 5, "ForteBank JSC", 12)
    registrar, _, _ = _party(test_pki, "Registrar", ("registrar",), datetime.date(1990, 2, 2), 9, "Government for Citizens", 1)
    bailiff, _, _ = _party(test_pki, "Bailiff", ("bailiff",), datetime.date(1982, 3, 3), 11, "Bailiffs of Astana", 33)
    court, _, _ = _party(test_pki, "Judge", ("court",), datetime.date(1970, 5, 5), 13, "Astana city court", 44)
    genesis = solo_genesis(test_pki, signing.Signer(bytes(range(32))), app="tamga-registry/1", app_state={"register": [land(CN, B.holder(owner_iin))]})
    kv = open_node_store(tmp_path / "db")
    node = SoloNode(kv, test_pki, genesis=genesis, executor=RegistryExecutor())
    # the bank's pledge with the title deed's hash in the registration file
    node.submit(*B.pledge_file(CN, bank_bin, 5_000_000_00, "2036-01-01", "loan 7", [B.doc("title.pdf", TITLE)]), bank, owner)
    node.sealer.seal()
    number = queries.read_object(node.chain.state(), CN)["pending_applications"][0]
    node.submit(*B.application_decide(number, "register"), registrar)
    node.sealer.seal()
    yield World(node, kv, owner, buyer, bank, registrar, bailiff, court, owner_iin, bank_bin)
    kv.close()


def _holders(w: World) -> list[str]:
    return [h["id"] for h in queries.read_object(w.node.chain.state(), CN)["rights"][0]["holders"]]


def test_1_support_employee_rewriting_an_owner_is_detected(world: World):
    w = world
    right_id = queries.read_object(w.node.chain.state(), CN)["rights"][0]["id"]
    key = keys.entry(right_id)
    record = codec.decode_trusted(w.node.chain.state().get(key))
    forged = dict(record, holders=[{"id": "880101300017", "share": [1, 1]}])
    # (a) rewriting the stored record in place: the tree node no longer matches its hash
    leaf_key = next(k for k, v in w.kv.iterate(schema.TREE_NODE_PREFIX) if key in v and v.endswith(codec.encode(record)))
    original = w.kv.get(leaf_key)
    w.kv.write({leaf_key: original.replace(codec.encode(record), codec.encode(forged))})
    fresh = Chain(w.kv, w.node.genesis, RegistryExecutor())
    with pytest.raises(StoreCorrupted):
        queries.read_object(fresh.state(), CN)
    report = verify_store(w.kv)
    assert not report.ok and "state-tree node" in report.findings[0].what
    w.kv.write({leaf_key: original})
    # (b) rebuilding the tree around the forged record and moving the head's state root:
    # the head no longer matches the block the validators signed
    fresh = Chain(w.kv, w.node.genesis, RegistryExecutor())
    root, nodes = fresh.tree.update(fresh.head.state_root, {key: codec.encode(forged)}, height=fresh.head.height)
    head = fresh.head
    w.kv.write({**nodes, schema.META_HEAD: Head(head.height, head.block_hash, head.time_ms, root).encode()})
    tampered = Chain(w.kv, w.node.genesis, RegistryExecutor())
    assert [h["id"] for h in queries.read_object(tampered.state(), CN)["rights"][0]["holders"]] == ["880101300017"]
    with pytest.raises(StoreCorrupted, match="state root"):
        check_store(tampered)
    assert not verify_store(w.kv).ok


def test_2_registrar_cannot_lift_an_arrest(world: World):
    w = world
    w.node.submit(*B.encumbrance_impose([CN], "arrest", party_cred(w.bailiff).bin, B.act("2-5/2026", "2026-01-10", b"ruling"), "enforcement of judgment"), w.bailiff)
    w.node.sealer.seal()
    cert = queries.encumbrance_certificate(w.node.chain.state(), CN)
    entry = cert["arrests"][0]["entry"]
    with pytest.raises(WrongRole):
        w.node.submit(*B.encumbrance_lift(entry, B.act("x", "2026-01-11", b"x"), "the owner asked nicely"), w.registrar)
    # not even by wrapping it with another party's signature
    with pytest.raises(WrongRole):
        w.node.submit(*B.encumbrance_lift(entry, B.act("x", "2026-01-11", b"x"), "lift"), w.registrar, w.owner)
    assert queries.encumbrance_certificate(w.node.chain.state(), CN)["excluding"]
    # the court can
    w.node.submit(*B.encumbrance_lift(entry, B.act("2-6/2026", "2026-01-12", b"court ruling"), "judgment set aside"), w.court)
    w.node.sealer.seal()
    assert not queries.encumbrance_certificate(w.node.chain.state(), CN)["arrests"]


def party_cred(party):
    """What the party's certificate binds (IIN, BIN, roles)."""
    return _VERIFIER[0].credential(party.cert)


_VERIFIER: list = []


@pytest.fixture(autouse=True)
def _verifier(test_pki):
    _VERIFIER[:] = [test_pki.verifier]


def test_3_fictitious_sale_without_the_owners_signature_is_refused(world: World):
    w = world
    sale = B.sale_file(CN, [B.seller(w.owner_iin)], [B.buyer(party_cred(w.buyer).iin)], 30_000_000_00, [B.doc("contract.pdf", b"sale")])
    # signed by the buyer alone, and by the buyer with a registrar "vouching": both refused
    for signers in ((w.buyer,), (w.buyer, w.registrar)):
        try:
            tx = w.node.submit(*sale, *signers)
        except WrongRole:
            continue
        w.node.sealer.seal()
        receipt = w.node.chain.tx(tx.tx_id)[3]
        assert receipt.status == "refused", receipt
        assert receipt.article
    assert _holders(w) == [w.owner_iin]


def test_4_forged_document_does_not_match_the_registration_file(world: World):
    w = world
    pledge = queries.read_object(w.node.chain.state(), CN)["encumbrances"]["pledges"][0]
    recorded = {d["name"]: d["sha256"] for d in pledge["docs"]}
    assert recorded["title.pdf"] == hashlib.sha256(TITLE).digest()
    forged = TITLE.replace(b"Aigerim Bekova", b"Someone Else")
    assert hashlib.sha256(forged).digest() != recorded["title.pdf"]


def test_5_substantive_correction_without_consent_or_court_act_is_refused(world: World):
    w = world
    tx = w.node.submit(*B.correction_apply(CN, "typing error", holders=[B.holder(party_cred(w.buyer).iin)]), w.registrar)
    w.node.sealer.seal()
    receipt = w.node.chain.tx(tx.tx_id)[3]
    assert receipt.status == "refused" and "32" in receipt.article, receipt
    assert _holders(w) == [w.owner_iin]


def test_6_a_single_operator_cannot_commit_a_block_alone(test_pki: TestPKI):
    keys4 = [signing.Signer(bytes([i]) * 32) for i in range(4)]
    genesis = dataclasses.replace(
        solo_genesis(test_pki, keys4[0]),
        validators=tuple(Validator(f"v{i}", k.public_key, 1) for i, k in enumerate(keys4)),
    )
    from node.envelope import EnvelopeVerifier, build_envelope
    from node.generic_executor import GenericExecutor

    rogue, honest = Chain(MemoryStore(), genesis, GenericExecutor()), Chain(MemoryStore(), genesis, GenericExecutor())
    verifier = EnvelopeVerifier(genesis.chain_id, test_pki.verifier)
    alice = test_pki.party("Alice")
    tx = verifier.verify(build_envelope(genesis.chain_id, "note.put", {"key": "owner", "value": b"rogue"}, [alice.pair], 1))
    prepared = rogue.build_block([tx], keys4[2].public_key)
    ts = prepared.header.time_ms + 1
    sign = lambda k: k.sign("vote", genesis.chain_id, signing.vote_sign_bytes(pb.PRECOMMIT, 1, 0, prepared.block_hash, ts))  # noqa: E731
    alone = pb.CommitCertificate(height=1, round=0, block_hash=prepared.block_hash)
    alone.signatures.add(validator_index=2, timestamp_ms=ts, signature=sign(keys4[2]))
    with pytest.raises(InvalidBlock, match="needs 3"):
        rogue.commit(prepared, alone.SerializeToString())
    # counting its own signature three times does not help either
    thrice = pb.CommitCertificate(height=1, round=0, block_hash=prepared.block_hash)
    for _ in range(3):
        thrice.signatures.add(validator_index=2, timestamp_ms=ts, signature=sign(keys4[2]))
    with pytest.raises(InvalidBlock, match="twice"):
        rogue.commit(prepared, thrice.SerializeToString())
    # an honest node syncing it refuses it too
    on_honest = honest.validate_block(prepared.block_bytes, verifier.verify)
    with pytest.raises(InvalidBlock):
        honest.commit(on_honest, alone.SerializeToString())
    assert honest.head.height == 0 and rogue.head.height == 0
