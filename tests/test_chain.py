"""One node sealing blocks: envelopes verified once, replay protection, typed refusals of bad
input, headers that commit to everything, atomic synced commits, restart, revocation."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import example, given, settings, strategies as st

from node import codec, envelope, merkle, schema
from node.chain import Chain, receipt_list_bytes
from node.errors import (
    BadSignature,
    CertificateExpired,
    CertificateRevoked,
    DuplicateTx,
    InvalidBlock,
    InvalidPayload,
    MalformedInput,
    StoreCorrupted,
    TooLarge,
    UnknownKind,
    UntrustedCertificate,
    WrongChain,
    WrongRole,
)
from node.genesis import Genesis
from node.generic_executor import GenericExecutor
from node.kv import MemoryStore, open_node_store
from proto import tamga_pb2 as pb
from tests.ledger_support import GENESIS_TIME_MS, SoloNode, TestPKI


@pytest.fixture
def node(kv, test_pki):
    return SoloNode(kv, test_pki)


@pytest.fixture
def alice(test_pki):
    return test_pki.party("Alice")


def test_sealed_block_header_commits_to_everything(node: SoloNode, alice):
    tx = node.submit("note.put", {"key": "k1", "value": b"v1"}, alice)
    b1 = node.sealer.seal()
    tx2 = node.submit("note.put", {"key": "k2", "value": b"v2"}, alice)
    b2 = node.sealer.seal()
    block, header = node.chain.block(2)
    assert header.chain_id == node.genesis.chain_id
    assert header.height == 2
    assert header.prev_hash == b1.block_hash
    assert header.tx_root == merkle.root([tx2.envelope])
    assert header.state_root == node.chain.head.state_root
    assert header.validator_set_hash == node.genesis.validator_set_hash
    assert header.proposer == node.validator.public_key
    assert header.last_commit_hash == node.chain.hash(node.chain.commit_bytes(1))
    assert block.last_commit == node.chain.commit_bytes(1)
    assert node.chain.hash(block.header) == b2.block_hash == node.chain.head.block_hash
    # block 1 links to the genesis document itself
    assert node.chain.block(1)[1].prev_hash == node.genesis.hash
    # block time is BFT time from the previous commit's votes and increases
    assert node.chain.block(1)[1].time_ms == GENESIS_TIME_MS
    assert header.time_ms > node.chain.block(1)[1].time_ms
    # tx index and receipt
    height, index, env, receipt = node.chain.tx(tx.tx_id)
    assert (height, index, env) == (1, 0, tx.envelope)
    assert receipt.status == "applied" and receipt.code == "STORED"
    assert node.chain.state().get(b"note/k2") == b"v2"


def test_tx_id_is_accepted_once(node: SoloNode, alice):
    env = node.envelope("note.put", {"key": "k", "value": b"v"}, alice)
    node.mempool.add(env)
    with pytest.raises(DuplicateTx, match="already pending"):
        node.mempool.add(env)
    node.sealer.seal()
    assert node.mempool.lookup(env) is None and len(node.mempool) == 0
    assert not node.mempool._envelope_hash, "a committed tx leaves nothing behind in the mempool"
    with pytest.raises(DuplicateTx, match="already committed"):
        node.mempool.add(env)
    # the same body re-signed in another envelope is the same tx id: still refused
    body = pb.Envelope.FromString(env).body
    with pytest.raises(DuplicateTx):
        node.mempool.add(envelope.sign_body(node.genesis.chain_id, body, [alice.pair]))



def test_the_mempool_marks_what_it_admits_and_changes_nothing_else(node: SoloNode, alice):
    env = node.envelope("note.put", {"key": "k", "value": b"v"}, alice)
    verified = node.mempool.verifier.verify(env)
    assert not verified.admitted
    admitted = node.mempool.add(env)
    assert admitted.admitted
    # Every other field as verified: as_admitted() is dataclasses.replace, done by hand.
    assert admitted == dataclasses.replace(verified, admitted=True)
    assert verified.as_admitted() == dataclasses.replace(verified, admitted=True)
def _assert_nothing_stored(node: SoloNode, head_before):
    assert len(node.mempool) == 0
    assert node.sealer.seal() is None
    assert node.chain.head == head_before


def test_bad_input_is_refused_with_typed_errors_and_nothing_is_stored(node: SoloNode, alice, test_pki: TestPKI):
    head = node.chain.head
    chain_id = node.genesis.chain_id
    good = node.envelope("note.put", {"key": "k", "value": b"v"}, alice)
    env = pb.Envelope.FromString(good)

    cases = []
    cases.append((MalformedInput, b"\xff\xff\xff garbage"))
    cases.append((TooLarge, b"\x0a" + b"\x00" * (envelope.ENVELOPE_BYTES_MAX + 1)))
    foreign = TestPKI().party("Mallory")
    cases.append((UntrustedCertificate, node.envelope("note.put", {"key": "k", "value": b"v"}, foreign)))
    forged = pb.Envelope(body=env.body)
    forged.signatures.add(certificate=alice.cert, signature=bytes(64))
    cases.append((BadSignature, forged.SerializeToString()))
    # a signature by someone else's key under alice's certificate
    mallory = test_pki.party("Mallory")
    swapped = pb.Envelope(body=env.body)
    swapped.signatures.add(certificate=alice.cert, signature=mallory.signer.sign("tx", chain_id, env.body))
    cases.append((BadSignature, swapped.SerializeToString()))
    cases.append((BadSignature, pb.Envelope(body=env.body).SerializeToString()))
    cases.append((WrongChain, envelope.build_envelope("other-chain", "note.put", {"key": "k", "value": b"v"}, [alice.pair], 1)))
    cases.append((UnknownKind, node.envelope("pledge.nonsense", {}, alice)))
    cases.append((InvalidPayload, node.envelope("note.put", {"key": 5}, alice)))
    cases.append((WrongRole, node.envelope("pki.revoke", {"fingerprint": bytes(32)}, alice)))
    expired = test_pki.party("Expired", days=1)
    cases.append((CertificateExpired, node.envelope("note.put", {"key": "k", "value": b"v"}, expired)))
    non_canonical = pb.TxBody(chain_id=chain_id, kind="note.put", payload=b"\x82\xa5value\xa1v\xa3key\xa1k", nonce=9).SerializeToString()
    cases.append((MalformedInput, envelope.sign_body(chain_id, non_canonical, [alice.pair])))
    for error, data in cases:
        with pytest.raises(error) as info:
            node.mempool.add(data)
        assert info.value.code and info.value.message
    _assert_nothing_stored(node, head)


def test_revoked_certificate_is_refused_in_mempool_and_at_execution(node: SoloNode, alice, test_pki: TestPKI):
    from node.pki import fingerprint

    officer = test_pki.party("Identity officer", roles=("identity_officer",))
    pending = node.submit("note.put", {"key": "before", "value": b"x"}, alice)
    node.submit("pki.revoke", {"fingerprint": fingerprint(alice.cert)}, officer)
    # revoke first in the same block: the pending tx of alice is ordered before it, so applies
    node.sealer.seal()
    assert node.chain.tx(pending.tx_id)[3].status == "applied"
    with pytest.raises(CertificateRevoked):
        node.submit("note.put", {"key": "after", "value": b"x"}, alice)
    # a tx admitted earlier but executed after the revocation is refused at execution
    bob = test_pki.party("Bob")
    late = node.submit("note.put", {"key": "late", "value": b"x"}, bob)
    node.submit("pki.revoke", {"fingerprint": fingerprint(bob.cert)}, officer)
    node.mempool._pending.move_to_end(late.tx_id)  # the revocation comes first in the block
    node.sealer.seal()
    receipt = node.chain.tx(late.tx_id)[3]
    assert receipt.status == "refused" and receipt.code == "CERTIFICATE_REVOKED"
    assert node.chain.state().get(b"note/late") is None


def test_contract_refusal_is_recorded_and_its_writes_discarded(node: SoloNode, alice):
    tx = node.submit("note.delete", {"key": "missing"}, alice)
    node.sealer.seal()
    receipt = node.chain.tx(tx.tx_id)[3]
    assert (receipt.status, receipt.code) == ("refused", "NO_SUCH_NOTE")


def test_restart_keeps_head_and_state(tmp_path, test_pki, alice):
    kv = open_node_store(tmp_path / "db")
    node = SoloNode(kv, test_pki)
    for i in range(3):
        node.submit("note.put", {"key": f"k{i}", "value": b"v"}, alice)
        node.sealer.seal()
    head = node.chain.head
    kv.close()
    kv2 = open_node_store(tmp_path / "db")
    again = SoloNode(kv2, test_pki)
    assert again.chain.head == head
    assert again.chain.state().get(b"note/k2") == b"v"
    with pytest.raises(DuplicateTx):
        again.mempool.add(again.chain.block(1)[0].txs[0])
    kv2.close()


def test_store_of_another_genesis_is_refused(kv, test_pki):
    node = SoloNode(kv, test_pki)
    other = dataclasses.replace(node.genesis, chain_id="another")
    with pytest.raises(StoreCorrupted, match="another genesis"):
        Chain(kv, other, GenericExecutor())


def test_store_of_another_format_is_refused_with_the_way_out(kv, test_pki, alice):
    """A store from before state-tree keys by height (format 1, which had no format record)
    is refused at open, naming both formats and `tamga node resync`, and left untouched."""
    node = SoloNode(kv, test_pki)
    node.submit("note.put", {"key": "k", "value": b"v"}, alice)
    node.sealer.seal()
    assert kv.get(schema.META_FORMAT) == schema.STORE_FORMAT == b"2"
    kv.write({}, deletes=[schema.META_FORMAT])
    before = dict(kv.iterate())
    with pytest.raises(StoreCorrupted, match=r"format 1.*format 2.*tamga node resync"):
        Chain(kv, node.genesis, GenericExecutor())
    assert dict(kv.iterate()) == before


def test_a_second_node_validates_and_commits_the_same_blocks(kv, test_pki, alice):
    a = SoloNode(kv, test_pki)
    b = SoloNode(MemoryStore(), test_pki, validator=a.validator, genesis=a.genesis)
    for i in range(4):
        a.submit("note.put", {"key": f"k{i}", "value": bytes([i])}, alice)
        a.sealer.seal()
    for h in range(1, 5):
        prepared = b.chain.validate_block(a.chain.block_bytes(h), b.mempool.verify_for_block)
        b.chain.commit(prepared, a.chain.commit_bytes(h))
    assert b.chain.head == a.chain.head


def test_tampered_blocks_are_refused_by_validation(kv, test_pki, alice):
    a = SoloNode(kv, test_pki)
    b = SoloNode(MemoryStore(), test_pki, validator=a.validator, genesis=a.genesis)
    a.submit("note.put", {"key": "k", "value": b"v"}, alice)
    a.sealer.seal()
    block = pb.Block.FromString(a.chain.block_bytes(1))
    header = pb.BlockHeader.FromString(block.header)

    def variant(**changes):
        h = pb.BlockHeader()
        h.CopyFrom(header)
        for k, v in changes.items():
            setattr(h, k, v)
        return pb.Block(header=h.SerializeToString(), txs=block.txs, last_commit=block.last_commit).SerializeToString()

    bad = {
        "state root": variant(state_root=bytes(32)),
        "results root": variant(results_root=bytes(32)),
        "tx root": variant(tx_root=bytes(32)),
        "height": variant(height=2),
        "prev hash": variant(prev_hash=bytes(32)),
        "time": variant(time_ms=header.time_ms + 1),
        "proposer": variant(proposer=bytes(32)),
        "validator set": variant(validator_set_hash=bytes(32)),
        "chain": variant(chain_id="x"),
        "garbage": b"\xff\x00",
    }
    for name, data in bad.items():
        with pytest.raises(InvalidBlock):
            b.chain.validate_block(data, b.mempool.verify_for_block)
    assert b.chain.head.height == 0
    # a commit certificate signed by a non-validator is refused
    prepared = b.chain.validate_block(a.chain.block_bytes(1), b.mempool.verify_for_block)
    fake = pb.CommitCertificate.FromString(a.chain.commit_bytes(1))
    fake.signatures[0].signature = bytes(64)
    with pytest.raises(InvalidBlock, match="bad signature"):
        b.chain.commit(prepared, fake.SerializeToString())
    assert b.chain.head.height == 0


def test_block_and_everything_it_changes_are_one_batch(kv, test_pki, alice):
    """All records of a commit go to the store in a single write call."""
    writes = []

    class Recording:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def write(self, puts, deletes=(), *, sync=True):
            writes.append((dict(puts), sync))
            return self.inner.write(puts, deletes, sync=sync)

    node = SoloNode(Recording(kv), test_pki)
    writes.clear()
    tx = node.submit("note.put", {"key": "k", "value": b"v"}, alice)
    node.sealer.seal()
    assert len(writes) == 1
    puts, sync = writes[0]
    assert sync is True
    keys = set(puts)
    assert {schema.block(1), schema.commit(1), schema.receipts(1), schema.tx(tx.tx_id), schema.META_HEAD, schema.height_of_hash(node.chain.head.block_hash)} <= keys
    assert any(k.startswith(schema.TREE_NODE_PREFIX) for k in keys)


_events = st.lists(st.builds(lambda kind, data, who: pb.Event(kind=kind, data=data, recipients=who),
                             st.text(max_size=20), st.binary(max_size=300), st.lists(st.text(max_size=12), max_size=3)), max_size=3)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=32, max_size=32), st.sampled_from(["applied", "refused"]), st.text(max_size=40000), _events), max_size=6),
       _events)
@example(rows=[(bytes(32), "refused", "x" * 20_000, []), (bytes(32), "applied", "", [])], block_events=[])
def test_receipt_list_is_framed_exactly_as_protobuf_serializes_it(rows, block_events):
    # The explicit example's 20,000-character message needs a three-byte length varint.
    receipts = [pb.Receipt(tx_id=t, status=s, message=m, events=ev) for t, s, m, ev in rows]
    framed = receipt_list_bytes([r.SerializeToString() for r in receipts], pb.ReceiptList(block_events=block_events).SerializeToString())
    assert framed == pb.ReceiptList(receipts=receipts, block_events=block_events).SerializeToString()
