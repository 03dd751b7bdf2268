"""Sealing blocks on one node alone: the one-validator consortium.

A chain whose genesis has a single validator needs no voting: the node builds a block from
its mempool, signs the precommit itself (a one-signature commit certificate, checked like
any other) and commits. The same Chain, store and verifier serve the BFT consortium.
May import: node.*, proto.
"""

from __future__ import annotations

import time
from typing import Callable

from node import signing
from node.chain import Chain, PreparedBlock
from node.mempool import Mempool
from proto import tamga_pb2 as pb


class SoloSealer:
    def __init__(self, chain: Chain, mempool: Mempool, signer: signing.Signer, *, now_ms: Callable[[], int] = lambda: int(time.time() * 1000)):
        assert len(chain.validators) == 1 and chain.validators[0].public_key == signer.public_key, "solo sealing needs a one-validator genesis naming this key"
        self.chain = chain
        self.mempool = mempool
        self.signer = signer
        self.now_ms = now_ms

    def seal(self, *, allow_empty: bool = False) -> PreparedBlock | None:
        """Seal one block of pending txs; None when there is nothing to seal."""
        params = self.chain.genesis.consensus
        txs = self.mempool.reap(int(params["block_txs_max"]), self.chain.tx_bytes_budget())
        if not txs and not allow_empty:
            return None
        head = self.chain.head
        last_commit = self.chain.commit_bytes(head.height) if head.height else b""
        prepared = self.chain.build_block(txs, self.signer.public_key, last_commit)
        timestamp = max(self.now_ms(), prepared.header.time_ms + 1)
        msg = signing.vote_sign_bytes(pb.PRECOMMIT, prepared.height, 0, prepared.block_hash, timestamp)
        commit = pb.CommitCertificate(height=prepared.height, round=0, block_hash=prepared.block_hash)
        commit.signatures.add(validator_index=0, timestamp_ms=timestamp, signature=self.signer.sign("vote", self.chain.chain_id, msg))
        self.chain.commit(prepared, commit.SerializeToString())
        self.mempool.remove_committed(prepared.txs)
        return prepared
