"""The auditor's check of a running node's chain, over its Ledger gRPC service.

`tamga chain verify --data-dir` reads a node's LevelDB store, and LevelDB lets one process
at a time open a store: while the node runs, its store is locked (node.kv.StoreLocked). An
auditor who must not stop the node fetches the blocks instead: `verify_over_ledger` asks the
node for every block with its commit certificate and receipts (Ledger.GetBlock), and replays
them from the genesis document the auditor trusts (a copy of the consortium's genesis.json,
not the node's word) on a fresh in-memory store, with the same code as node/verify.py:
every hash link, tx root, EDS signature and certificate, commit certificate and BFT time is
re-checked and every transaction re-executed to reproduce each block's state and results
roots. Then the node's receipts must be byte for byte what the replay produced, and the
head the node reports must be the replayed block at that height.

What it cannot check, and `chain verify --data-dir` can: the node's own stored records
beyond what it serves (tx index, state-tree nodes); a node serving a sound chain from a
damaged store is caught there, not here.

May import: node, proto, grpc.
"""

from __future__ import annotations

import time
from typing import Callable

import grpc

from node.apps import executor_for
from node.chain import Chain
from node.envelope import EnvelopeVerifier
from node.errors import TamgaError
from node.genesis import Genesis
from node.kv import MemoryStore
from node.pki import CertificateVerifier
from node.verify import FINDINGS_MAX, Finding, Report
from proto import tamga_pb2 as pb
from proto import tamga_pb2_grpc as pbg

RPC_TIMEOUT_S = 10.0


def verify_over_ledger(stub: pbg.LedgerStub, genesis: Genesis, progress: Callable[[int, int], None] | None = None,
                       up_to: int | None = None) -> Report:
    """Replay the node's chain up to its head (or `up_to`) and say whether it is sound."""
    started = time.perf_counter()
    findings: list[Finding] = []
    status = stub.Status(pb.StatusRequest(), timeout=RPC_TIMEOUT_S)
    if status.chain_id != genesis.chain_id:
        findings.append(Finding(0, f"the node serves chain {status.chain_id!r}; the genesis document is for {genesis.chain_id!r}"))
        return Report(False, 0, 0, status.height, time.perf_counter() - started, 0, findings)
    head = status.height if up_to is None else min(up_to, status.height)
    replay = Chain(MemoryStore(), genesis, executor_for(genesis.app))
    envelopes = EnvelopeVerifier(genesis.chain_id, CertificateVerifier(genesis.ca_certificate_pem.encode()))
    txs = 0
    for h in range(1, head + 1):
        try:
            got = stub.GetBlock(pb.GetBlockRequest(height=h), timeout=RPC_TIMEOUT_S)
        except grpc.RpcError as err:
            findings.append(Finding(h, f"block {h}: the node did not serve it ({err.code().name}: {err.details()})"))
            break
        try:
            prepared = replay.validate_block(got.block, envelopes.verify)
            replay.commit(prepared, got.commit)
        except TamgaError as exc:
            findings.append(Finding(h, f"block {h}: {exc.message}"))
            break
        if got.receipts != prepared.execution.receipt_list:
            findings.append(Finding(h, f"block {h}: the receipts the node serves differ from what re-executing the block gives"))
            break
        txs += len(prepared.txs)
        if progress:
            progress(h, head)
    replayed = replay.head.height
    if not findings and up_to is None:
        # The head the node reported must be the block replayed at that height.
        if status.head_hash != replay.head.block_hash or status.state_root != replay.head.state_root:
            findings.append(Finding(replayed, f"the node reports head {status.head_hash.hex()} / state root {status.state_root.hex()}, "
                                              f"the replay gives {replay.head.block_hash.hex()} / {replay.head.state_root.hex()}"))
    first = findings[0].height if findings else None
    return Report(not findings, replayed, txs, head, time.perf_counter() - started, first, findings[:FINDINGS_MAX])
