"""Record a workload once, then replay it on a fresh chain and cadastre and print what they
hold, for tests/test_native.py: the same blocks replayed by the compiled hot modules and by
their Python sources must give the same block hashes, state roots, receipts and cadastre.

    python -m tests.native_replay record FILE [--txs 400] [--block-txs 60]
    python -m tests.native_replay replay FILE     # prints JSON; TAMGA_NATIVE picks the mode
"""

from __future__ import annotations

from node import native

native.enable()  # first: this process runs the mode its TAMGA_NATIVE asks for

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from benchmarks.bench_node_pipeline import commit_cert, setup  # noqa: E402
from benchmarks.loadgen.workload import Workload  # noqa: E402
from cadastre.projection import Projection  # noqa: E402
from cadastre.schema import PROJECTION_TABLES  # noqa: E402
from contracts import RegistryExecutor  # noqa: E402
from node import codec, pki, signing  # noqa: E402
from node.chain import Chain  # noqa: E402
from node.envelope import EnvelopeVerifier  # noqa: E402
from node.genesis import Genesis  # noqa: E402
from node.kv import MemoryStore  # noqa: E402

MIX = {"pledge": 50, "sale": 20, "claim": 15, "discharge": 15, "check": 0}


def record(path: str, txs: int, block_txs: int) -> None:
    """Run a pilot-like workload (filings, then the registrar's decisions on them) through a
    chain and write its blocks' envelopes, the genesis and the validators' keys to `path`."""
    with tempfile.TemporaryDirectory() as tmp:
        genesis, keys, pop, proposer, validator, projection, mempool, _ = setup(tmp, people=60, objects=300, store="one")
        work = Workload(pop, genesis.chain_id, mix=MIX, with_checks=False)
        firsts = [next(f.flow).envelope for f in work.plan(txs // 2, txs_only=True)]
        blocks: list[list[bytes]] = []
        decisions: list[bytes] = []
        i = 0
        while i < len(firsts) or decisions:
            envelopes = firsts[i:i + block_txs] + decisions
            i += block_txs
            decisions = []
            for env in envelopes:
                mempool.add(env)
            last_commit = proposer.commit_bytes(proposer.head.height) if proposer.head.height else b""
            prepared = proposer.build_block(mempool.reap(100_000, 10**9), keys[0].public_key, last_commit)
            proposer.commit(prepared, commit_cert(genesis, keys, prepared))
            mempool.remove_committed(prepared.txs)
            blocks.append([tx.envelope for tx in prepared.txs])
            for r in prepared.execution.receipts:
                for e in r.events:
                    if e.kind == "application.filed":
                        decisions.append(work.decide(codec.decode(e.data)["application"]))
        projection.close()
        proposer.kv.close()
        validator.kv.close()  # setup opens a peer's chain too; only the proposer's is used
    with open(path, "w") as f:
        json.dump({"genesis": genesis.to_json().decode(), "keys": [k.seed.hex() for k in keys],
                   "blocks": [[e.hex() for e in b] for b in blocks]}, f)


def replay(path: str) -> dict:
    with open(path) as f:
        scenario = json.load(f)
    genesis = Genesis.from_json(scenario["genesis"])
    keys = [signing.Signer(bytes.fromhex(s)) for s in scenario["keys"]]
    chain = Chain(MemoryStore(), genesis, RegistryExecutor())
    verifier = EnvelopeVerifier(genesis.chain_id, pki.verifier_for(genesis.ca_certificate_pem.encode()))
    blocks = []
    with tempfile.TemporaryDirectory() as tmp:
        projection = Projection(f"{tmp}/cadastre.sqlite")
        projection.bind(chain)
        projection.catch_up()
        for envelopes in scenario["blocks"]:
            txs = [verifier.verify(bytes.fromhex(e)) for e in envelopes]
            last_commit = chain.commit_bytes(chain.head.height) if chain.head.height else b""
            prepared = chain.build_block(txs, keys[0].public_key, last_commit)
            chain.commit(prepared, commit_cert(genesis, keys, prepared))
            projection.listener(prepared)
            receipts = hashlib.sha256(b"".join(r.SerializeToString() for r in prepared.execution.receipts)).hexdigest()
            outcomes = sorted({r.status for r in prepared.execution.receipts})
            blocks.append({"hash": prepared.block_hash.hex(), "state_root": prepared.execution.state_root.hex(),
                           "receipts": receipts, "outcomes": outcomes})
        cadastre = {}
        for table in PROJECTION_TABLES:
            if table == "p_meta":
                continue  # bookkeeping (schema version, genesis), not the register
            rows = projection.db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            cadastre[table] = [len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()]
        projection.close()
    return {"compiled": native.status()["compiled"], "blocks": blocks, "cadastre": cadastre}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["record", "replay"])
    ap.add_argument("file")
    ap.add_argument("--txs", type=int, default=400)
    ap.add_argument("--block-txs", type=int, default=60)
    args = ap.parse_args(argv)
    if args.what == "record":
        record(args.file, args.txs, args.block_txs)
    else:
        print(json.dumps(replay(args.file)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
