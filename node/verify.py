"""The auditor's check of a whole node store (`tamga chain verify --data-dir DIR`).

It trusts nothing in the store. It reads the genesis document, replays every block from
genesis on a fresh in-memory store — re-verifying every signature and certificate, every
hash link, tx root, commit certificate and BFT time, and re-executing every transaction to
reproduce each state root and results root — and then compares every replicated record of
the store (blocks, hash and tx indexes, commits, receipts, state-tree nodes, head) byte for
byte with what the replay produced. Any difference is reported with the first height it
concerns. So one flipped byte anywhere in a stored block, tx or state record is caught.
May import: node.*, proto.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

from google.protobuf.message import DecodeError

from node import schema
from node.apps import executor_for
from node.chain import Chain
from node.commit import decode_commit
from node.envelope import EnvelopeVerifier
from node.errors import TamgaError
from node.genesis import Genesis
from node.interfaces import KeyValueStore
from node.kv import MemoryStore
from node.pki import CertificateVerifier
from proto import tamga_pb2 as pb


@dataclasses.dataclass
class Finding:
    height: int | None
    what: str

    def to_dict(self) -> dict:
        return {"height": self.height, "what": self.what}


@dataclasses.dataclass
class Report:
    ok: bool
    blocks: int
    txs: int
    head_height: int
    seconds: float
    first_bad_height: int | None
    findings: list[Finding]

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "blocks": self.blocks,
            "txs": self.txs,
            "head_height": self.head_height,
            "seconds": round(self.seconds, 3),
            "txs_per_second": round(self.txs / self.seconds, 1) if self.seconds > 0 else None,
            "first_bad_height": self.first_bad_height,
            "findings": [f.to_dict() for f in self.findings],
        }


FINDINGS_MAX = 20


def verify_store(kv: KeyValueStore, progress: Callable[[int, int], None] | None = None) -> Report:
    """Replay and compare; `progress(height, head_height)` is called after each block."""
    started = time.perf_counter()
    findings: list[Finding] = []

    def done(blocks: int, txs: int, head_height: int) -> Report:
        findings.sort(key=lambda f: (f.height is None, f.height or 0))
        first = next((f.height for f in findings if f.height is not None), None)
        return Report(not findings, blocks, txs, head_height, time.perf_counter() - started, first, findings[:FINDINGS_MAX])

    raw_genesis = kv.get(schema.META_GENESIS)
    if raw_genesis is None:
        findings.append(Finding(0, "the store has no genesis document"))
        return done(0, 0, 0)
    store_format = kv.get(schema.META_FORMAT) or b"1"
    if store_format != schema.STORE_FORMAT:
        # Comparing records laid out another way would list every one of them as foreign.
        findings.append(Finding(0, f"the store is in format {store_format.decode(errors='replace')}; this version of Tamga audits format {schema.STORE_FORMAT.decode()}"))
        return done(0, 0, _claimed_head_height(kv))
    try:
        genesis = Genesis.from_json(raw_genesis)
        replay = Chain(MemoryStore(), genesis, executor_for(genesis.app))
        envelopes = EnvelopeVerifier(genesis.chain_id, CertificateVerifier(genesis.ca_certificate_pem.encode()))
    except (TamgaError, ValueError, AssertionError) as exc:
        findings.append(Finding(0, f"genesis document is unreadable: {exc}"))
        return done(0, 0, 0)

    head_height = _claimed_head_height(kv)
    created_at: dict[bytes, int] = {}  # record key -> height whose commit wrote it
    txs = 0
    height = 0
    # A store that writes a commit's history before its index may hold, after a crash, one
    # height above its head; the node deletes it when it opens the store, and the auditor,
    # who changes nothing, neither replays nor compares it. Any other height above the head
    # is replayed, so that the head pointer's mismatch is reported where it lies.
    remnant = head_height + 1 if kv.may_hold_next_height else None
    while True:
        h = height + 1
        if h == remnant:
            break
        block_bytes = kv.get(schema.block(h))
        if block_bytes is None:
            break
        try:
            problem = _check_block_encoding(block_bytes)
            if problem:
                raise _Bad(problem)
            prepared = replay.validate_block(block_bytes, envelopes.verify)
            commit = kv.get(schema.commit(h))
            if commit is None:
                raise _Bad("its commit certificate is missing")
            decode_commit(commit)
            replay.commit(prepared, commit)
        except (_Bad, TamgaError) as exc:
            message = exc.message if isinstance(exc, TamgaError) else str(exc)
            findings.append(Finding(h, f"block {h}: {message}"))
            break
        for key in replay.commit_records(prepared, commit):
            created_at.setdefault(key, h)
        txs += len(prepared.txs)
        height = h
        if progress:
            progress(h, max(head_height, h))
    replayed_to = height
    if not findings and head_height > replayed_to:
        findings.append(Finding(replayed_to + 1, f"block {replayed_to + 1} is missing; the head pointer claims height {head_height}"))
    for key in replay.genesis_state()[1]:
        created_at.setdefault(key, 0)
    bad_height = findings[0].height if findings else None
    # The head pointer belongs to the head: to the replayed one on a sound chain, and to the
    # claimed one when the replay stopped early (then its mismatch is only a consequence).
    created_at[schema.META_HEAD] = replayed_to if bad_height is None else max(head_height, bad_height)
    try:
        findings.extend(_compare(kv, replay.kv, created_at, bad_height, replayed_to, remnant))
    except TamgaError as err:  # LevelDB itself reports damage while reading
        findings.append(Finding(bad_height or replayed_to, f"the store cannot be read through: {err.message}"))
    return done(replayed_to, txs, head_height)


class _Bad(Exception):
    pass


def _claimed_head_height(kv: KeyValueStore) -> int:
    from node.chain import Head

    raw = kv.get(schema.META_HEAD)
    try:
        return Head.decode(raw).height if raw else 0
    except (TamgaError, KeyError, TypeError):
        return 0


def _check_block_encoding(block_bytes: bytes) -> str | None:
    """The stored block must be exactly the canonical encoding of its parts."""
    try:
        block = pb.Block.FromString(block_bytes)
    except DecodeError as exc:
        return f"does not decode: {exc}"
    canonical = pb.Block(header=block.header, txs=list(block.txs), last_commit=block.last_commit).SerializeToString()
    if canonical != block_bytes:
        return "its bytes are not the encoding of its header, txs and last commit"
    return None


def _compare(real: KeyValueStore, expected: KeyValueStore, created_at: dict[bytes, int], bad_height: int | None, head: int,
             remnant: int | None = None) -> list[Finding]:
    """Every replicated record must be exactly what the replay wrote, and nothing more.

    When the replay stopped at a bad block, only records of earlier heights are compared:
    the replay never produced the later ones, and the first bad height is already known."""
    out: list[Finding] = []
    for prefix in schema.REPLICATED_PREFIXES:
        real_items = dict(real.iterate(prefix))
        expected_items = dict(expected.iterate(prefix))
        for key, value in real_items.items():
            want = expected_items.get(key)
            if want == value:
                continue
            if remnant is not None and want is None and schema.history_height(key) == remnant:
                continue  # a crash's half-written height (see verify_store)
            h = schema.height_from_key(key)
            if h is None:
                h = created_at.get(key)
            if bad_height is not None and (h is None or h >= bad_height):
                continue
            what = "is not produced by the chain (an altered key or a foreign record)" if want is None else "differs from what replaying the chain gives"
            # A record no block produced has no height of its own: it damages the head state.
            out.append(Finding(h if h is not None else head, f"record {_name(key)} {what}"))
        for key in expected_items.keys() - real_items.keys():
            out.append(Finding(created_at.get(key, schema.height_from_key(key)), f"record {_name(key)} is missing"))
    return out


def _name(key: bytes) -> str:
    if key.startswith(schema.TREE_NODE_PREFIX) and len(key) == len(schema.tree_node(0, bytes(32))):
        rest = key[len(schema.TREE_NODE_PREFIX):]
        return f"state-tree node {rest[8:].hex()[:16]}… of height {schema.read_u64(rest[:8])}"
    for label, prefix in (
        ("block", schema.BLOCK_PREFIX),
        ("commit", schema.COMMIT_PREFIX),
        ("receipts", schema.RECEIPTS_PREFIX),
        ("block-hash index", schema.HASH_PREFIX),
        ("tx index", schema.TX_PREFIX),
        ("state-tree node", schema.TREE_NODE_PREFIX),
        ("state-root height", schema.TREE_ROOT_PREFIX),
    ):
        if key.startswith(prefix):
            rest = key[len(prefix):]
            h = schema.height_from_key(key)
            return f"{label} {h}" if h is not None else f"{label} {rest.hex()[:16]}…"
    if key.startswith(schema.FOREIGN_PREFIX):
        return f"foreign history record {key[len(schema.FOREIGN_PREFIX):].hex()[:32]}"
    if key == schema.META_HEAD:
        return "head pointer"
    if key == schema.META_GENESIS:
        return "genesis document"
    if key == schema.META_FORMAT:
        return "store format record"
    return key.hex()
