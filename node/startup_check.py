"""Checks a node runs on its own store before taking part in consensus.

A node must notice damage to its store before it signs anything built on it (the trust
suite tampers with LevelDB to prove this). At start it re-hashes every block header and
tx root, checks the hash links back to genesis, checks the head's commit certificate, and
loads the head state root from the tree (each tree node is hash-checked on load). Deeper
checks — re-executing every block — are the auditor's `tamga chain verify`.
May import: node.*, proto.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError

from node import merkle, schema
from node.chain import Chain
from node.commit import decode_commit, verify_commit
from node.errors import StoreCorrupted, TamgaError
from proto import tamga_pb2 as pb


def check_store(chain: Chain, progress=None) -> None:
    """Raise StoreCorrupted naming the first damaged height; return quietly if sound."""
    head = chain.head
    prev_hash = chain.genesis.hash
    for h in range(1, head.height + 1):
        raw = chain.kv.get(schema.block(h))
        if raw is None:
            raise StoreCorrupted(f"block {h} is missing from the store (head claims {head.height}); re-sync this node from its peers")
        try:
            block = pb.Block.FromString(raw)
            header = pb.BlockHeader.FromString(block.header)
        except DecodeError:
            raise StoreCorrupted(f"block {h} does not decode; re-sync this node from its peers") from None
        if header.height != h or header.prev_hash != prev_hash:
            raise StoreCorrupted(f"block {h} does not link to block {h - 1}; re-sync this node from its peers")
        if header.tx_root != merkle.root(list(block.txs), chain.hash):
            raise StoreCorrupted(f"block {h}'s transactions do not match its tx root; re-sync this node from its peers")
        prev_hash = chain.hash(block.header)
        if progress:
            progress(h, head.height)
    if head.height:
        if prev_hash != head.block_hash:
            raise StoreCorrupted(f"the head pointer names a block other than block {head.height}; re-sync this node from its peers")
        _, header = chain.block(head.height)
        if header.state_root != head.state_root:
            raise StoreCorrupted(f"the head pointer's state root differs from block {head.height}'s; re-sync this node from its peers")
        try:
            verify_commit(chain.chain_id, chain.validators, head.height, head.block_hash, decode_commit(chain.commit_bytes(head.height)))
        except TamgaError as err:
            raise StoreCorrupted(f"the commit certificate of block {head.height} is damaged ({err.message}); re-sync this node from its peers") from None
    try:
        chain.tree.get(head.state_root, b"\x00startup-probe")
    except TamgaError as err:
        raise StoreCorrupted(f"the state at height {head.height} is damaged ({err.message}); re-sync this node from its peers") from None
