"""Fuzz targets: hostile bytes into the code a node runs on what it receives.

Each target takes bytes, runs the node's own code on them and checks the property of the
trust suite: only a TamgaError (node/errors.py) or a clean result comes out, and nothing is
stored — the chain head and the whole store are unchanged, and the mempool too unless the
input was a valid new transaction. Any other exception propagates: hypothesis reports it as
a failing example, atheris as a crash.

Targets
- envelope: EnvelopeVerifier.verify, then Mempool.add, on the bytes.
- codec:    node.codec.decode (canonical msgpack).
- proto:    pb.X.FromString for the wire messages a node decodes (PeerMessage, Block,
            BlockHeader, CommitCertificate, Vote, Proposal, Envelope, TxBody, TxBatch,
            SyncBlock); protobuf's DecodeError is the one error the node's wrappers turn
            into a typed one (node/commit.decode_commit, Chain.validate_block, envelope.py).
- block:    Chain.validate_block against a SoloNode chain at height 2 (block 3 carries a
            last commit), with the mempool's verify_for_block as the node passes it.
- commit:   node.commit.decode_commit + verify_commit (+ bft_time, as the chain does after
            it) against a four-validator set.
- peer:     what node/bft_engine.py does with a PeerMessage: FromString (gRPC's
            deserializer; a DecodeError ends the peer's stream), then each gossiped
            envelope into the mempool, or consensus.messages.from_peer_message and the
            sign bytes of a vote or proposal, and a proposal's block through validate_block.

Structured mutators turn a stream of choices (hypothesis draws, atheris's
FuzzedDataProvider or a seeded random.Random) into hostile variants of valid inputs: what a
Byzantine client, peer or proposer can send, including properly signed envelopes whose body,
payload or kind are wrong, and blocks whose tx list is changed with the tx root recomputed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import struct
from typing import Any, Callable, Protocol

import msgpack
from google.protobuf.message import DecodeError

from consensus.messages import Proposal, Vote, from_peer_message
from node import codec, merkle, signing
from node.commit import bft_time, decode_commit, verify_commit
from node.envelope import build_body, sign_body
from node.errors import TamgaError
from node.genesis import Validator
from node.kv import MemoryStore
from proto import tamga_pb2 as pb
from tests.ledger_support import CHAIN_ID, SoloNode, TestPKI

PROTO_TYPES = (pb.PeerMessage, pb.Block, pb.BlockHeader, pb.CommitCertificate, pb.Vote, pb.Proposal, pb.Envelope, pb.TxBody, pb.TxBatch, pb.SyncBlock)
KINDS = ("note.put", "note.delete", "pki.revoke", "bogus.kind", "", "x" * 65)
INT_EDGES = (0, 1, -1, 127, 128, 255, 256, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, -(2**63), 2**64 - 1)


# --- where choices come from -------------------------------------------------------------
class Choices(Protocol):
    def int(self, lo: int, hi: int) -> int: ...

    def bytes(self, max_len: int) -> bytes: ...


class RandomChoices:
    """Choices from a seeded random.Random: reproducible from the seed."""

    def __init__(self, seed: int):
        self.rnd = random.Random(seed)

    def int(self, lo: int, hi: int) -> int:
        return self.rnd.randint(lo, hi)

    def bytes(self, max_len: int) -> bytes:
        return self.rnd.randbytes(self.rnd.randint(0, max_len))


class ProviderChoices:
    """Choices from atheris's FuzzedDataProvider (libFuzzer steers them)."""

    def __init__(self, fdp):
        self.fdp = fdp

    def int(self, lo: int, hi: int) -> int:
        return self.fdp.ConsumeIntInRange(lo, hi)

    def bytes(self, max_len: int) -> bytes:
        return self.fdp.ConsumeBytes(self.fdp.ConsumeIntInRange(0, max_len))


class DrawChoices:
    """Choices drawn from hypothesis's `data` (shrinkable)."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data = data
        self.st = st

    def int(self, lo: int, hi: int) -> int:
        return self.data.draw(self.st.integers(lo, hi))

    def bytes(self, max_len: int) -> bytes:
        return self.data.draw(self.st.binary(max_size=max_len))


def pick(ch: Choices, options):
    return options[ch.int(0, len(options) - 1)]


# --- generic byte mutations --------------------------------------------------------------
def mutate_bytes(data: bytes, ch: Choices) -> bytes:
    """1-4 edits: set a byte, insert, delete a range, truncate, duplicate a slice, append."""
    b = bytearray(data)
    for _ in range(ch.int(1, 4)):
        op = ch.int(0, 5)
        pos = ch.int(0, len(b)) if b else 0
        if op == 0 and b:
            b[min(pos, len(b) - 1)] = ch.int(0, 255)
        elif op == 1:
            b[pos:pos] = ch.bytes(16)
        elif op == 2:
            del b[pos:pos + ch.int(1, 64)]
        elif op == 3:
            del b[pos:]
        elif op == 4:
            end = min(len(b), pos + ch.int(1, 64))
            b[end:end] = b[pos:end]
        else:
            b += ch.bytes(32)
    return bytes(b)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def huge_length_field(field: int) -> bytes:
    """A length-delimited protobuf field that claims far more bytes than follow."""
    return varint(field << 3 | 2) + varint(2**62) + b"\x00" * 8


# --- msgpack payloads --------------------------------------------------------------------
def value(ch: Choices, depth: int = 0) -> Any:
    """A msgpack-able value with edge-case integers, strings, bytes and nesting."""
    kind = ch.int(0, 7 if depth < 4 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return bool(ch.int(0, 1))
    if kind == 2:
        return pick(ch, INT_EDGES) if ch.int(0, 1) else ch.int(-(2**63), 2**64 - 1)
    if kind == 3:
        return ch.bytes(24).decode("utf-8", "replace")
    if kind == 4:
        return ch.bytes(24)
    if kind == 5:
        return [value(ch, depth + 1) for _ in range(ch.int(0, 4))]
    return {ch.bytes(8).decode("utf-8", "replace"): value(ch, depth + 1) for _ in range(ch.int(0, 4))}


def payload_bytes(ch: Choices) -> bytes:
    """Payload bytes: canonical, or one of the ways msgpack can be non-canonical."""
    op = ch.int(0, 11)
    v = value(ch)
    if op == 0:
        return codec.encode(v)
    if op == 1:  # map keys out of order
        d = {"b": 1, "a": 2, **({"k": v} if ch.int(0, 1) else {})}
        return msgpack.packb(d, use_bin_type=True)
    if op == 2:  # integer not in its shortest form: uint64 for a small value
        return b"\x81\xa1a\xcf" + struct.pack(">Q", ch.int(0, 255))
    if op == 3:  # a float
        return msgpack.packb({"a": 1.5}, use_bin_type=True)
    if op == 4:  # a duplicate key
        return b"\x82\xa1a\x01\xa1a\x02"
    if op == 5:  # an extension type, or a timestamp (extension type -1)
        if ch.int(0, 1):
            return msgpack.packb({"t": msgpack.ExtType(ch.int(0, 127), ch.bytes(8))}, use_bin_type=True)
        return b"\x81\xa1t\xd6\xff" + ch.int(0, 2**32 - 1).to_bytes(4, "big")
    if op == 6:  # a bytes key
        return b"\x81\xc4\x01a\x01"
    if op == 7:  # deep nesting: arrays of one element
        return b"\x91" * ch.int(1, 200_000) + b"\xc0"
    if op == 8:  # deep nesting: maps
        depth = ch.int(1, 2_000)
        return b"\x81\xa1a" * depth + b"\xc0"
    if op == 9:  # huge counts with nothing behind them
        return pick(ch, (b"\xdd\xff\xff\xff\xff", b"\xdf\xff\xff\xff\xff", b"\xdb\xff\xff\xff\xff", b"\xc6\xff\xff\xff\xff"))
    if op == 10:  # str marked as bin, old raw format, trailing bytes
        return pick(ch, (b"\x81\xa1a\xc4\x01x", b"\x81\xa1a\xda\x00\x01x", codec.encode({"a": 1}) + b"\x00"))
    return mutate_bytes(codec.encode(v), ch)


# --- the world the targets run in ---------------------------------------------------------
@dataclasses.dataclass
class Snapshot:
    head: Any
    store_digest: bytes
    pending: tuple[bytes, ...]


class World:
    """A SoloNode chain with two committed blocks, one pending tx, the honest block 3 built
    on it, valid envelopes, and a four-validator commit for verify_commit."""

    def __init__(self) -> None:
        self.pki = TestPKI()
        self.kv = MemoryStore()
        self.node = SoloNode(self.kv, self.pki)
        self.chain = self.node.chain
        self.alice = self.pki.party("Alice")
        self.bob = self.pki.party("Bob")
        self.officer = self.pki.party("Identity officer", roles=("identity_officer",))
        self.parties = (self.alice, self.bob, self.officer)
        self.node.submit("note.put", {"key": "k1", "value": b"v1"}, self.alice)
        self.node.sealer.seal()
        self.node.submit("note.put", {"key": "k2", "value": b"v2"}, self.alice, self.bob)
        self.node.sealer.seal()
        self.pending = self.node.submit("note.put", {"key": "k3", "value": b"v3"}, self.bob)
        self.envelopes = [
            self.pending.envelope,
            self.node.envelope("note.delete", {"key": "k1"}, self.alice, self.bob),
            self.node.envelope("pki.revoke", {"fingerprint": bytes(32)}, self.officer),
        ]
        last_commit = self.chain.commit_bytes(self.chain.head.height)
        self.next_block = self.chain.build_block([self.pending], self.node.validator.public_key, last_commit).block_bytes
        # verify_commit: four validators (quorum 3), a commit of three of them for a block
        self.signers = [signing.Signer(hashlib.sha256(b"validator %d" % i).digest()) for i in range(4)]
        self.validators = tuple(Validator(f"v{i}", s.public_key) for i, s in enumerate(self.signers))
        self.commit_height = 7
        self.commit_hash = hashlib.sha256(b"block 7").digest()
        commit = pb.CommitCertificate(height=self.commit_height, round=1, block_hash=self.commit_hash)
        for i in (0, 2, 3):
            ts = 1_700_000_000_000 + i
            msg = signing.vote_sign_bytes(pb.PRECOMMIT, self.commit_height, 1, self.commit_hash, ts)
            commit.signatures.add(validator_index=i, timestamp_ms=ts, signature=self.signers[i].sign("vote", CHAIN_ID, msg))
        self.commit = commit.SerializeToString()
        self.commit_base = commit
        # peer messages: a vote, a proposal of block 3, a status and a gossiped tx batch
        vote = pb.Vote(type=pb.PREVOTE, height=3, round=0, block_hash=self.chain.hash(pb.Block.FromString(self.next_block).header), timestamp_ms=1, validator_index=0)
        vote.signature = self.node.validator.sign("vote", CHAIN_ID, signing.vote_sign_bytes(vote.type, vote.height, vote.round, vote.block_hash, vote.timestamp_ms))
        self.peer_vote = pb.PeerMessage(vote=vote).SerializeToString()
        proposal = pb.Proposal(height=3, round=0, pol_round=-1, block=self.next_block, proposer_index=0)
        proposal.signature = self.node.validator.sign("proposal", CHAIN_ID, signing.proposal_sign_bytes(3, 0, -1, vote.block_hash))
        self.peer_proposal = pb.PeerMessage(proposal=proposal).SerializeToString()
        self.peer_status = pb.PeerMessage(status=pb.PeerStatus(height=2, round=0, head_hash=self.chain.head.block_hash)).SerializeToString()
        self.peer_txs = pb.PeerMessage(txs=pb.TxBatch(envelopes=self.envelopes)).SerializeToString()
        self._store_digest = self._digest()

    # --- what must not change --------------------------------------------------------
    def _digest(self) -> bytes:
        h = hashlib.sha256()
        for k, v in self.kv.iterate(b""):
            h.update(len(k).to_bytes(4, "big") + k + len(v).to_bytes(4, "big") + v)
        return h.digest()

    def snapshot(self, *, store: bool = True) -> Snapshot:
        return Snapshot(self.chain.head, self._digest() if store else b"", tuple(t.tx_id for t in self.node.mempool.pending()))

    def assert_unchanged(self, before: Snapshot, *, store: bool = True, admitted: bytes | None = None) -> None:
        after = self.snapshot(store=store)
        assert after.head == before.head, "the chain head moved"
        if store:
            assert after.store_digest == before.store_digest, "the store changed"
        expected = before.pending + ((admitted,) if admitted is not None else ())
        assert after.pending == expected, "the mempool changed"

    # --- building hostile-but-signed inputs ------------------------------------------
    def signed(self, body: bytes, parties, chain_id: str = CHAIN_ID) -> bytes:
        return sign_body(chain_id, body, [p.pair for p in parties])

    def body(self, ch: Choices, *, chain_id: str = CHAIN_ID) -> bytes:
        return pb.TxBody(chain_id=chain_id, kind=pick(ch, KINDS), payload=payload_bytes(ch), nonce=ch.int(0, 2**64 - 1), memo=pick(ch, ("", "memo", "m" * 1025))).SerializeToString()

    def parties_from(self, ch: Choices):
        return [self.parties[i] for i in range(3) if ch.int(0, 1)] or [self.alice]


# --- targets ------------------------------------------------------------------------------
def check_envelope(w: World, data: bytes) -> str:
    """EnvelopeVerifier.verify, then Mempool.add: typed error or a clean result; the
    mempool grows only by a valid new tx; the chain and store never change."""
    before = w.snapshot()
    try:
        tx = w.node.mempool.verifier.verify(data)
        outcome = "verified"
    except TamgaError as err:
        tx, outcome = None, err.code
    try:
        added = w.node.mempool.add(data)
    except TamgaError as err:
        w.assert_unchanged(before)
        return f"{outcome}/{err.code}"
    assert tx is not None and added.tx_id == tx.tx_id, "the mempool admitted an envelope the verifier refused"
    assert tx.tx_id not in before.pending and w.chain.tx_location(tx.tx_id) is None
    w.assert_unchanged(before, admitted=tx.tx_id)
    return "admitted"


def check_codec(w: World | None, data: bytes) -> str:
    try:
        v = codec.decode(data)
    except TamgaError as err:
        return err.code
    assert codec.encode(v) == data, "decode accepted a non-canonical encoding"
    return "decoded"


def check_proto(w: World | None, data: bytes) -> str:
    """FromString of every wire message either decodes or raises DecodeError."""
    decoded = 0
    for cls in PROTO_TYPES:
        try:
            msg = cls.FromString(data)
        except DecodeError:
            continue
        decoded += 1
        msg.SerializeToString()
        if cls is pb.PeerMessage:
            msg.WhichOneof("msg")
    return f"decoded-{decoded}"


def check_block(w: World, data: bytes) -> str:
    before = w.snapshot()
    try:
        prepared = w.chain.validate_block(data, w.node.mempool.verify_for_block)
    except TamgaError as err:
        w.assert_unchanged(before)
        return err.code
    w.assert_unchanged(before)
    assert prepared.block_bytes == data and prepared.height == w.chain.head.height + 1
    return "valid"


def check_commit(w: World, data: bytes) -> str:
    try:
        commit = decode_commit(data)
        verify_commit(CHAIN_ID, w.validators, w.commit_height, w.commit_hash, commit)
    except TamgaError as err:
        return err.code
    bft_time(commit, w.validators)
    return "valid"


def check_peer(w: World, data: bytes) -> str:
    try:
        msg = pb.PeerMessage.FromString(data)
    except DecodeError:
        return "DECODE_ERROR"
    if msg.WhichOneof("msg") == "txs":
        for env in msg.txs.envelopes:
            check_envelope(w, env)
        return "txs"
    try:
        m = from_peer_message(msg)
    except TamgaError as err:
        return err.code
    if isinstance(m, Vote):
        signing.verify(w.node.validator.public_key, m.signature, "vote", CHAIN_ID, m.sign_bytes())
    elif isinstance(m, Proposal):
        signing.verify(w.node.validator.public_key, m.signature, "proposal", CHAIN_ID, m.sign_bytes(w.chain.hash(m.block)))
        return "proposal/" + check_block(w, m.block)
    return "none" if m is None else type(m).__name__.lower()


TARGETS: dict[str, Callable[[World, bytes], str]] = {
    "envelope": check_envelope,
    "codec": check_codec,
    "proto": check_proto,
    "block": check_block,
    "commit": check_commit,
    "peer": check_peer,
}


# --- structured mutators ------------------------------------------------------------------
def mutate_envelope(w: World, ch: Choices) -> bytes:
    base = pick(ch, w.envelopes)
    env = pb.Envelope.FromString(base)
    op = ch.int(0, 15)
    if op == 0:  # flip, insert, delete, truncate bytes anywhere
        return mutate_bytes(base, ch)
    if op == 1:  # truncate
        return base[: ch.int(0, len(base))]
    if op == 2:  # a signature twice
        env.signatures.append(env.signatures[ch.int(0, len(env.signatures) - 1)])
    elif op == 3:  # another party's certificate under a signature
        env.signatures[ch.int(0, len(env.signatures) - 1)].certificate = pick(ch, w.parties).cert
    elif op == 4:  # a damaged certificate
        sig = env.signatures[ch.int(0, len(env.signatures) - 1)]
        sig.certificate = mutate_bytes(sig.certificate, ch)
    elif op == 5:  # huge counts: many signatures, or a length prefix far beyond the data
        if ch.int(0, 1):
            for _ in range(ch.int(15, 40)):
                env.signatures.append(env.signatures[0])
        else:
            return base + huge_length_field(pick(ch, (1, 2)))
    elif op == 6:  # signed for another chain, or signed for ours with another chain id inside
        other = pick(ch, ("tamga-other-1", "", CHAIN_ID + "\x00", "ТАМГА"))
        body = build_body(other, "note.put", {"key": "k", "value": b"v"}, ch.int(0, 9))
        return w.signed(body, w.parties_from(ch), chain_id=pick(ch, (other, CHAIN_ID)))
    elif op == 7:  # a properly signed body with hostile kind / payload / memo
        return w.signed(w.body(ch), w.parties_from(ch))
    elif op == 8:  # properly signed arbitrary body bytes
        return w.signed(mutate_bytes(env.body, ch) if ch.int(0, 1) else ch.bytes(200), w.parties_from(ch))
    elif op == 9:  # signature bytes damaged or of the wrong length
        sig = env.signatures[ch.int(0, len(env.signatures) - 1)]
        sig.signature = mutate_bytes(sig.signature, ch)
    elif op == 10:  # no signatures / empty body
        if ch.int(0, 1):
            del env.signatures[:]
        else:
            env.body = b""
    elif op == 11:  # unknown fields (the signed body is untouched)
        return base + varint(15 << 3 | 2) + varint(3) + b"abc"
    elif op == 12:  # a field repeated: protobuf keeps the last body
        return base + pb.Envelope(body=pick(ch, w.envelopes)).SerializeToString()
    elif op == 13:  # deeply nested (unknown groups) or oversized envelope
        if ch.int(0, 1):
            depth = ch.int(1, 50_000)
            return base + b"\x7b" * depth + b"\x7c" * depth
        return base + b"\x00" * (512 * 1024)
    elif op == 14:  # a signature by a party over another party's certificate and body
        sig = env.signatures[0]
        sig.signature = pick(ch, w.parties).signer.sign("tx", CHAIN_ID, env.body)
    else:  # bytes of another wire message
        return pick(ch, (w.next_block, w.commit, pb.Vote(type=ch.int(0, 5), height=1).SerializeToString()))
    return env.SerializeToString()


def rebuild_block(block: pb.Block, header: pb.BlockHeader, *, recompute_tx_root: bool, hash_fn) -> bytes:
    if recompute_tx_root:
        header.tx_root = merkle.root(list(block.txs), hash_fn)
    block.header = header.SerializeToString()
    return block.SerializeToString()


HEADER_FIELDS = ("chain_id", "height", "time_ms", "prev_hash", "tx_root", "state_root", "validator_set_hash", "proposer", "last_commit_hash", "results_root")


def mutate_block(w: World, ch: Choices) -> bytes:
    base = w.next_block
    block = pb.Block.FromString(base)
    header = pb.BlockHeader.FromString(block.header)
    op = ch.int(0, 7)
    if op == 0:
        return mutate_bytes(base, ch)
    if op == 1:  # one header field changed
        name = pick(ch, HEADER_FIELDS)
        field = pb.BlockHeader.DESCRIPTOR.fields_by_name[name]
        if field.type == field.TYPE_STRING:
            setattr(header, name, pick(ch, ("", "tamga-other-1", CHAIN_ID + "x")))
        elif field.type == field.TYPE_BYTES:
            setattr(header, name, pick(ch, (b"", bytes(32), ch.bytes(40), getattr(header, name)[:-1])))
        elif field.type == field.TYPE_INT64:
            setattr(header, name, pick(ch, (-(2**63), -1, 0, 2**63 - 1, getattr(header, name) + ch.int(-2, 2))))
        else:
            setattr(header, name, pick(ch, (0, 1, 2, 4, 2**64 - 1, getattr(header, name) + ch.int(0, 2))))
        return rebuild_block(block, header, recompute_tx_root=False, hash_fn=w.chain.hash)
    if op == 2:  # header bytes damaged
        block.header = mutate_bytes(block.header, ch)
        return block.SerializeToString()
    if op in (3, 4, 5):  # a Byzantine proposer's tx list, with the tx root recomputed
        txs = list(block.txs)
        what = ch.int(0, 4)
        if what == 0 and txs:
            txs.pop(ch.int(0, len(txs) - 1))
        elif what == 1 and txs:
            txs.append(txs[ch.int(0, len(txs) - 1)])
        elif what == 2:
            txs.append(pick(ch, w.envelopes))
        elif what == 3:
            txs.append(w.signed(w.body(ch), w.parties_from(ch)))
        else:
            txs.append(mutate_envelope(w, ch))
        if ch.int(0, 3) == 0:
            txs.reverse()
        del block.txs[:]
        block.txs.extend(txs)
        return rebuild_block(block, header, recompute_tx_root=True, hash_fn=w.chain.hash)
    if op == 6:  # the carried last commit changed, its hash in the header recomputed
        block.last_commit = mutate_commit_bytes(pb.CommitCertificate.FromString(block.last_commit), ch, w)
        header.last_commit_hash = w.chain.hash(block.last_commit)
        return rebuild_block(block, header, recompute_tx_root=False, hash_fn=w.chain.hash)
    # too many txs
    block.txs.extend([block.txs[0]] * ch.int(1, 3000))
    return rebuild_block(block, header, recompute_tx_root=bool(ch.int(0, 1)), hash_fn=w.chain.hash)


def mutate_commit_bytes(commit: pb.CommitCertificate, ch: Choices, w: World) -> bytes:
    c = pb.CommitCertificate()
    c.CopyFrom(commit)
    op = ch.int(0, 9)
    if op == 0:
        return mutate_bytes(c.SerializeToString(), ch)
    if op == 1:
        c.height = pick(ch, (0, c.height - 1 if c.height else 0, c.height + 1, 2**64 - 1))
    elif op == 2:
        c.round = pick(ch, (0, 1, 2, 2**32 - 1))
    elif op == 3:
        c.block_hash = pick(ch, (b"", bytes(32), c.block_hash[:-1], ch.bytes(40)))
    elif op == 4 and c.signatures:  # a signature counted twice
        c.signatures.append(c.signatures[ch.int(0, len(c.signatures) - 1)])
    elif op == 5 and c.signatures:
        c.signatures[ch.int(0, len(c.signatures) - 1)].validator_index = pick(ch, (1, 2, 3, 4, 2**32 - 1))
    elif op == 6 and c.signatures:
        c.signatures[ch.int(0, len(c.signatures) - 1)].timestamp_ms = pick(ch, (-(2**63), -1, 0, 2**63 - 1))
    elif op == 7 and c.signatures:
        sig = c.signatures[ch.int(0, len(c.signatures) - 1)]
        sig.signature = mutate_bytes(sig.signature, ch)
    elif op == 8:
        del c.signatures[ch.int(0, len(c.signatures)):]
    else:
        return c.SerializeToString() + huge_length_field(4)
    return c.SerializeToString()


def mutate_commit(w: World, ch: Choices) -> bytes:
    return mutate_commit_bytes(w.commit_base, ch, w)


def mutate_peer_message(w: World, ch: Choices) -> bytes:
    """A valid vote, proposal, status or tx batch, then one field or its bytes changed."""
    base = pick(ch, (w.peer_vote, w.peer_proposal, w.peer_status, w.peer_txs))
    msg = pb.PeerMessage.FromString(base)
    op = ch.int(0, 4)
    if op == 0:
        return mutate_bytes(base, ch)
    kind = msg.WhichOneof("msg")
    inner = getattr(msg, kind)
    if kind == "txs":
        if op == 1:
            inner.envelopes.append(mutate_envelope(w, ch))
        else:
            inner.envelopes.extend([pick(ch, w.envelopes)] * ch.int(0, 50))
        return msg.SerializeToString()
    ints = {
        "vote": ("type", "height", "round", "timestamp_ms", "validator_index"),
        "proposal": ("height", "round", "pol_round", "proposer_index"),
        "status": ("height", "round"),
    }[kind]
    if op in (1, 2):
        name = pick(ch, ints)
        field = inner.DESCRIPTOR.fields_by_name[name]
        edges = {
            field.TYPE_ENUM: (-(2**31), -1, 0, 3, 2**31 - 1),
            field.TYPE_INT32: (-(2**31), -2, -1, 0, 2**31 - 1),
            field.TYPE_INT64: (-(2**63), -1, 0, 2**63 - 1),
            field.TYPE_UINT32: (0, 1, 2**32 - 1),
        }.get(field.type, (0, 1, 2**64 - 1))
        setattr(inner, name, pick(ch, edges))
    else:
        name = pick(ch, [f.name for f in inner.DESCRIPTOR.fields if f.type == f.TYPE_BYTES])
        setattr(inner, name, pick(ch, (b"", bytes(32), bytes(64), ch.bytes(80), mutate_bytes(getattr(inner, name) or b"x", ch))))
    return msg.SerializeToString()


MUTATORS: dict[str, Callable[[World, Choices], bytes]] = {
    "envelope": mutate_envelope,
    "codec": lambda w, ch: payload_bytes(ch),
    "block": mutate_block,
    "commit": mutate_commit,
    "peer": mutate_peer_message,
}
