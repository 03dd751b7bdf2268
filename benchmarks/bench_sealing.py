"""Single-node sealing throughput: tx/s with Ed25519 verification of every envelope and
synced LevelDB writes, beside the machine's raw Ed25519 verify rate measured in the same run.

    .venv/bin/python -m benchmarks.bench_sealing [--txs 20000] [--block-txs 1000] [--json]

Txs are signed in advance (not timed); the timed part is what a node does: admit each
envelope to the mempool (decode, certificate, signature, checks), seal blocks (execute,
update the state tree once per block, one synced LevelDB batch per block).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time

from benchmarks.common import dump_json, ed25519_verify_rate, machine
from node.kv import LevelDBStore
from tests.ledger_support import SoloNode, TestPKI


def run(txs: int, block_txs: int, signers: int) -> dict:
    test_pki = TestPKI()
    parties = [test_pki.party(f"Citizen {i}") for i in range(signers)]
    with tempfile.TemporaryDirectory() as tmp:
        kv = LevelDBStore(os.path.join(tmp, "db"))
        node = SoloNode(kv, test_pki)
        node.genesis.consensus["block_txs_max"] = block_txs
        envelopes = [node.envelope("note.put", {"key": f"object/{i:08d}", "value": b"x" * 64}, parties[i % signers]) for i in range(txs)]
        sizes = sum(len(e) for e in envelopes) / len(envelopes)
        admit_s = seal_s = 0.0
        blocks = 0
        start = time.perf_counter()
        for i in range(0, txs, block_txs):
            t0 = time.perf_counter()
            for env in envelopes[i:i + block_txs]:
                node.mempool.add(env)
            t1 = time.perf_counter()
            node.sealer.seal()
            t2 = time.perf_counter()
            admit_s += t1 - t0
            seal_s += t2 - t1
            blocks += 1
        total = time.perf_counter() - start
        kv.close()
    return {
        "txs": txs,
        "blocks": blocks,
        "block_txs": block_txs,
        "envelope_bytes_mean": round(sizes),
        "sealing_tx_per_s": round(txs / total),
        "admission_us_per_tx": round(admit_s / txs * 1e6, 1),
        "seal_us_per_tx": round(seal_s / txs * 1e6, 1),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--txs", type=int, default=20_000)
    ap.add_argument("--block-txs", type=int, default=1000)
    ap.add_argument("--signers", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    reference = ed25519_verify_rate()
    result = run(args.txs, args.block_txs, args.signers)
    result["ed25519_verify_per_s"] = round(reference)
    result["share_of_raw_verify_rate"] = round(result["sealing_tx_per_s"] / reference, 3)
    result["machine"] = machine()
    if args.json:
        dump_json(result)
    else:
        print(f"raw Ed25519 verify (PyNaCl, 1 core): {reference:,.0f}/s")
        print(f"single-node sealing:                {result['sealing_tx_per_s']:,}/s  ({result['txs']} txs in {result['blocks']} blocks of {args.block_txs}; synced LevelDB)")
        print(f"  admission (decode+cert+sig+checks): {result['admission_us_per_tx']} us/tx")
        print(f"  sealing (execute+tree+batch write):  {result['seal_us_per_tx']} us/tx")
        print(f"  = {result['share_of_raw_verify_rate']:.1%} of the raw verify rate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
