"""Checks a node runs on its own store before taking part in consensus.

A node must notice damage to its store before it signs anything built on it (the trust
suite tampers with LevelDB to prove this). At start it re-checks every block-derived record
without re-executing anything: each block decodes and links to the one before (back to the
genesis hash), its tx root and last-commit hash match its header, its commit certificate
carries 2f+1 valid precommits, its receipts hash to the header's results root, and the
block-hash and tx indexes point where they should; then the head pointer and the head's
state root. With `deep`, every node of the head state tree is loaded (and hash-checked).
State-tree nodes are otherwise hash-checked whenever they are read, and a StoreCorrupted
raised while executing stops the node (node/bft_engine.py), so damaged state is never
built on. Re-executing every block is the auditor's `tamga chain verify`.
May import: node.*, proto.
"""

from __future__ import annotations

from typing import Callable

from google.protobuf.message import DecodeError

from node import merkle, schema
from node.chain import Chain, results_root
from node.commit import decode_commit, verify_commit
from node.envelope import tx_id_of
from node.errors import StoreCorrupted, TamgaError
from proto import tamga_pb2 as pb

RESYNC = "stop this node and run `tamga node resync --config FILE` to restore it from its peers"


def _bad(height: int, what: str) -> StoreCorrupted:
    return StoreCorrupted(f"block {height}: {what}; {RESYNC}", details={"height": height})


def check_block_records(chain: Chain, h: int, prev_hash: bytes) -> bytes:
    """Check block `h`'s records against each other and `prev_hash`; its hash if sound."""
    kv = chain.kv
    raw = kv.get(schema.block(h))
    if raw is None:
        raise _bad(h, f"the block is missing (the head claims {chain.head.height})")
    try:
        block = pb.Block.FromString(raw)
        header = pb.BlockHeader.FromString(block.header)
        envelopes = [pb.Envelope.FromString(e) for e in block.txs]
    except DecodeError:
        raise _bad(h, "the block does not decode") from None
    if header.height != h or header.prev_hash != prev_hash:
        raise _bad(h, f"it does not link to block {h - 1}")
    if header.tx_root != merkle.root(list(block.txs), chain.hash):
        raise _bad(h, "its transactions do not match its tx root")
    if header.last_commit_hash != (chain.hash(block.last_commit) if block.last_commit else bytes(32)):
        raise _bad(h, "its last commit does not match its header")
    block_hash = chain.hash(block.header)
    if kv.get(schema.height_of_hash(block_hash)) != schema.u64(h):
        raise _bad(h, "the block-hash index does not point to it")
    commit = kv.get(schema.commit(h))
    if commit is None:
        raise _bad(h, "its commit certificate is missing")
    try:
        verify_commit(chain.chain_id, chain.validators, h, block_hash, decode_commit(commit))
    except TamgaError as err:
        raise _bad(h, f"its commit certificate is damaged ({err.message})") from None
    raw_receipts = kv.get(schema.receipts(h))
    if raw_receipts is None:
        raise _bad(h, "its receipts are missing")
    try:
        receipts = pb.ReceiptList.FromString(raw_receipts)
    except DecodeError:
        raise _bad(h, "its receipts do not decode") from None
    events = pb.ReceiptList(block_events=receipts.block_events).SerializeToString()
    if len(receipts.receipts) != len(envelopes) or results_root([r.SerializeToString() for r in receipts.receipts], events, chain.hash) != header.results_root:
        raise _bad(h, "its receipts do not match its results root")
    for i, env in enumerate(envelopes):
        if kv.get(schema.tx(tx_id_of(env.body))) != schema.tx_location(h, i):
            raise _bad(h, f"the tx index entry of its transaction {i} is missing or wrong")
    return block_hash


def check_store(chain: Chain, progress: Callable[[int, int], None] | None = None, *, deep: bool = False) -> None:
    """Raise StoreCorrupted naming the first damaged height; return quietly if sound."""
    head = chain.head
    prev_hash = chain.genesis.hash
    for h in range(1, head.height + 1):
        prev_hash = check_block_records(chain, h, prev_hash)
        if progress:
            progress(h, head.height)
    if chain.kv.get(schema.block(head.height + 1)) is not None:
        raise _bad(head.height + 1, "a block beyond the head pointer is stored: the head pointer is damaged")
    if head.height:
        if prev_hash != head.block_hash:
            raise _bad(head.height, "the head pointer names another block")
        _, header = chain.block(head.height)
        if header.state_root != head.state_root:
            raise _bad(head.height, "the head pointer's state root differs from the block's")
    try:
        if deep:
            for _ in chain.tree.items(head.state_root):
                pass
        else:
            chain.tree.get(head.state_root, b"\x00startup-probe")
    except TamgaError as err:
        raise _bad(head.height, f"the state is damaged ({err.message})") from None
