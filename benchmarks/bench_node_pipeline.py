"""Per-transaction CPU of each stage of one node's commit pipeline, in one process.

    .venv/bin/python -m benchmarks.bench_node_pipeline [--txs 4000] [--block-txs 500] [--json] [--profile FILE]
        [--every BLOCKS]   # also the cost of each stage per window of BLOCKS blocks, as the chain grows
        [--checkpoint-every BLOCKS]   # how often the cadastre's WAL is checkpointed (default 10)
        [--cold-certificates]   # as a node just started: no signer's certificate checked yet
        [--concurrent 4]   # 4 copies at once, as 4 nodes share this machine's cores and caches

What a validator does for every transaction of a 4-node consortium, stage by stage, on a real
LevelDB store and SQLite cadastre: admission (decode, certificate, Ed25519 check, stateless
checks), block building (contract execution and the state-tree update), validation of the
same block as a peer would (re-execution), the synced commit batch, and the cadastre
projection. Pilot-like transactions (pledge filings signed by bank and pledgors, the
registrar's decisions, sales, legal claims) from the load generator's workload, signed before
timing; every signer's certificate is checked once before timing too, as in a node that has
run a while (its cache keeps them). The cadastre's WAL is checkpointed every
--checkpoint-every blocks, as a node's checkpoint thread does once per CHECKPOINT_INTERVAL_S
(5 s: ~10 blocks at saturation), and that work, which a node does on a thread of its own, is
counted in the projection stage.
Prints µs per tx for each stage; the sum bounds the consortium's throughput on this machine:
4 nodes share its cores.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.common import REPO_ROOT, dump_json, machine
from benchmarks.loadgen.population import Population
from benchmarks.loadgen.workload import Workload
from cadastre.projection import Projection
from contracts import RegistryExecutor
from contracts.genesis import default_app_state
from node import codec, heap, identity, pki, signing
from node.chain import Chain
from node.envelope import EnvelopeVerifier
from node.genesis import Genesis, Validator
from node.kv import LevelDBStore, open_node_store
from node.mempool import Mempool
from proto import tamga_pb2 as pb

NOW = datetime.datetime.now(datetime.timezone.utc)
# Blocks between the cadastre's WAL checkpoints: a node checkpoints once per
# cadastre.checkpoint.CHECKPOINT_INTERVAL_S (5 s), ~10 blocks at saturation.
CHECKPOINT_EVERY_DEFAULT = 10


# How the chains' stores are laid out: as a node opens them (history and index, two LevelDBs,
# node/split_store.py), or one LevelDB holding the same keys, as nodes stored them before.
STORES = {"split": open_node_store, "one": LevelDBStore}


def setup(tmp: str, people: int, objects: int, store: str = "split", warm_certificates: bool = True):
    ca = pki.CertificateAuthority.create("bench CA", NOW)
    bank_bins = [identity.make_bin(datetime.date(1999, 12, 1), 3003 + i) for i in range(2)]
    pop = Population(people, objects, bank_bins=bank_bins, registrar_bin=identity.make_bin(datetime.date(2016, 3, 1), 2002), moj_bin=identity.make_bin(datetime.date(1996, 5, 1), 1001))
    pop.issue(ca, NOW)
    keys = [signing.Signer(bytes([i + 1]) * 32) for i in range(4)]
    genesis = Genesis(
        chain_id="tamga-bench-1",
        genesis_time_ms=int(NOW.timestamp() * 1000),
        ca_certificate_pem=ca.cert_pem.decode(),
        validators=tuple(Validator(f"v{i}", k.public_key) for i, k in enumerate(keys)),
        app_state=default_app_state(register=pop.objects),
    )
    genesis.consensus["block_txs_max"] = 100_000
    open_store = STORES[store]
    proposer = Chain(open_store(os.path.join(tmp, "proposer")), genesis, RegistryExecutor())
    validator = Chain(open_store(os.path.join(tmp, "validator")), genesis, RegistryExecutor())
    projection = Projection(os.path.join(tmp, "cadastre.sqlite"))
    projection.bind(validator)
    projection.catch_up()
    certificates = ca.verifier()
    verifier = EnvelopeVerifier(genesis.chain_id, certificates)
    if warm_certificates:
        # A node that has run a while has parsed and checked every signer's certificate once
        # (node/pki.py caches each by its bytes); without this the first sighting of each,
        # an X.509 parse and an ECDSA check (~100 µs), is billed to admission: with 3,000
        # txs from 2,000 people that is most of them, ~15 % of the whole figure.
        for party in pop.everyone:
            certificates.credential(party.cert)
    clock = lambda: int(NOW.timestamp() * 1000)  # noqa: E731
    mempool = Mempool(proposer, verifier, RegistryExecutor(), now_ms=clock)
    vmempool = Mempool(validator, verifier, RegistryExecutor(), now_ms=clock)
    return genesis, keys, pop, proposer, validator, projection, mempool, vmempool


def commit_cert(genesis, keys, prepared) -> bytes:
    ts = prepared.header.time_ms + 1
    c = pb.CommitCertificate(height=prepared.height, round=0, block_hash=prepared.block_hash)
    for i, k in enumerate(keys[:3]):
        c.signatures.add(validator_index=i, timestamp_ms=ts, signature=k.sign("vote", genesis.chain_id, signing.vote_sign_bytes(pb.PRECOMMIT, prepared.height, 0, prepared.block_hash, ts)))
    return c.SerializeToString()


# The stages timed, in pipeline order (the order of the tuple `spent` in run's block()).
STAGES = ("admission (x2 nodes)", "build (proposer)", "validate (peer)", "commit (synced batch)", "projection")

# What a stage's time is: wall-clock (the default; nothing else should run meanwhile), or the
# CPU of this thread, which other processes sharing the cores do not inflate (the stages'
# work is on this thread; LevelDB's compaction thread is left out either way).
CLOCKS = {"wall": time.perf_counter, "thread": time.thread_time}


def run(txs: int, block_txs: int, people: int, objects: int, profile: str | None, every: int = 0, on_window=None,
        checkpoint_every: int = CHECKPOINT_EVERY_DEFAULT, store: str = "split", clock_name: str = "wall",
        warm_certificates: bool = True) -> dict:
    assert checkpoint_every >= 1
    clock = CLOCKS[clock_name]
    with tempfile.TemporaryDirectory() as tmp:
        genesis, keys, pop, proposer, validator, projection, mempool, vmempool = setup(tmp, people, objects, store, warm_certificates)
        # As a node: no checkpoints inside the COMMITs; one PASSIVE checkpoint on a connection
        # of its own every `checkpoint_every` blocks (a node's runs on a thread, once per
        # interval), here in line so that its CPU is counted in the projection stage.
        projection.db.execute("PRAGMA wal_autocheckpoint=0")
        checkpointer = sqlite3.connect(os.path.join(tmp, "cadastre.sqlite"), isolation_level=None)
        blocks_projected = 0
        checkpoints = checkpointed_pages = 0
        # As a node does after start-up (node/heap.py): otherwise one full collection of the
        # whole set-up heap (~130 ms) is billed to whichever stage happens to trigger it.
        heap.settle_after_startup()
        certificates = mempool.verifier.certificates
        certificates_before = certificates.certificates_checked()
        work = Workload(pop, genesis.chain_id, mix={"pledge": 55, "sale": 15, "claim": 15, "discharge": 0, "check": 0}, with_checks=False)
        firsts = [next(f.flow).envelope for f in work.plan(txs // 2, txs_only=True)]
        stages = dict.fromkeys(STAGES, 0.0)
        done = 0
        prof = cProfile.Profile() if profile else None
        # Per window of `every` blocks: which stage gets dearer as the chain and the cadastre
        # grow (a node must not slow down with its history).
        window = dict.fromkeys(stages, 0.0)
        window_txs = window_blocks = 0
        growth: list[dict] = []

        def block(envelopes: list[bytes]) -> list[pb.Receipt]:
            nonlocal done, window_txs, window_blocks, blocks_projected, checkpoints, checkpointed_pages
            if prof:
                prof.enable()
            t0 = clock()
            for env in envelopes:
                mempool.add(env)
                vmempool.add(env)
            t1 = clock()
            last_commit = proposer.commit_bytes(proposer.head.height) if proposer.head.height else b""
            prepared = proposer.build_block(mempool.reap(100_000, 10**9), keys[0].public_key, last_commit)
            t2 = clock()
            peer = validator.validate_block(prepared.block_bytes, vmempool.verify_for_block)
            t3 = clock()
            cert = commit_cert(genesis, keys, prepared)
            proposer.commit(prepared, cert)
            validator.commit(peer, cert)
            t4 = clock()
            projection.listener(peer)  # as a node's commit listener: with the block it just committed
            blocks_projected += 1
            if blocks_projected % checkpoint_every == 0:
                _busy, _log_frames, copied = checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                checkpoints += 1
                checkpointed_pages += copied
            t5 = clock()
            if prof:
                prof.disable()
            mempool.remove_committed(prepared.txs)
            vmempool.remove_committed(peer.txs)
            spent = ((t1 - t0) / 2, t2 - t1, t3 - t2, (t4 - t3) / 2, t5 - t4)
            for key, dt in zip(stages, spent):
                stages[key] += dt
                window[key] += dt
            done += len(envelopes)
            window_txs += len(envelopes)
            window_blocks += 1
            if every and window_blocks == every:
                growth.append({"height": proposer.head.height, "txs_so_far": done,
                               "us_per_tx": {k: round(v / window_txs * 1e6, 1) for k, v in window.items()}})
                if on_window:
                    on_window(growth[-1])
                window.update(dict.fromkeys(window, 0.0))
                window_txs = window_blocks = 0
            return list(peer.execution.receipts)

        decisions: list[bytes] = []
        for i in range(0, len(firsts), block_txs):
            receipts = block(firsts[i:i + block_txs] + decisions)
            decisions = []
            for r in receipts:
                for e in r.events:
                    if e.kind == "application.filed":
                        decisions.append(work.decide(codec.decode(e.data)["application"]))
        if decisions:
            block(decisions)
        if prof:
            prof.dump_stats(profile)
        per_tx = {k: round(v / done * 1e6, 1) for k, v in stages.items()}
        # A node either builds a block (its proposer) or validates it: count their mean once.
        total = sum(v for k, v in per_tx.items() if k not in ("build (proposer)", "validate (peer)")) + (per_tx["build (proposer)"] + per_tx["validate (peer)"]) / 2
        checkpointer.close()
        wal = os.path.join(tmp, "cadastre.sqlite-wal")
        # The log is reused from its start after a checkpoint, never shrunk: its size is the
        # most that was written between two checkpoints.
        wal_bytes = os.path.getsize(wal) if os.path.exists(wal) else 0
        # Closed before the directory is removed: LevelDB's compaction thread may still be
        # writing a table, and the removal then fails ("Directory not empty").
        projection.close()
        proposer.kv.close()
        validator.kv.close()
        return {
            "txs": done,
            "block_txs": block_txs,
            "checkpoint_every": checkpoint_every,
            "store": store,
            "clock": clock_name,
            "warm_certificates": warm_certificates,
            # Certificates parsed and checked inside the timed stages (0 when warm).
            "certificates_checked_in_stages": certificates.certificates_checked() - certificates_before,
            "blocks": blocks_projected,
            "checkpoints": checkpoints,
            "checkpointed_pages": checkpointed_pages,
            "wal_bytes": wal_bytes,
            "objects": objects,
            "us_per_tx": per_tx,
            "node_us_per_tx": round(total, 1),
            "bound_tx_per_s_4_nodes_on_cpus": round((os.cpu_count() or 2) / (4 * total / 1e6)),
            "growth": growth,
        }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--txs", type=int, default=4000)
    ap.add_argument("--block-txs", type=int, default=500)
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--objects", type=int, default=6000)
    ap.add_argument("--profile", default=None, help="write cProfile stats to this file")
    ap.add_argument("--every", type=int, default=0, metavar="BLOCKS", help="also print each stage's cost per window of this many blocks")
    ap.add_argument("--checkpoint-every", type=int, default=CHECKPOINT_EVERY_DEFAULT, metavar="BLOCKS",
                    help="checkpoint the cadastre's WAL every this many blocks (a node: once per 5 s, ~10 blocks at saturation)")
    ap.add_argument("--store", choices=sorted(STORES), default="split",
                    help="the stores' layout: split (as a node opens it: history and index LevelDBs) or one LevelDB (as before the split)")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                    help="time each stage by the wall clock (default) or by this thread's CPU (with other processes running: benchmarks.cpu_neighbour)")
    ap.add_argument("--cold-certificates", action="store_true",
                    help="start with no signer's certificate checked yet, as a node just started (default: all checked once before timing, as a node that has run a while)")
    ap.add_argument("--concurrent", type=int, default=1, metavar="N",
                    help="run N copies at once, each timing its stages by its own thread's CPU, and report their mean: "
                         "one node's pipeline with others sharing the cores and their caches, as in the consortium (4)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.concurrent < 1:
        ap.error("--concurrent must be at least 1")
    if args.concurrent > 1:
        if args.profile or args.every:
            ap.error("--concurrent does not combine with --profile or --every (each copy runs in a process of its own)")
        return _main_concurrent(args)
    def show(w: dict) -> None:
        print(f"  height {w['height']:>5} ({w['txs_so_far']:>7,} txs): " + "  ".join(f"{k.split()[0]} {v:6.1f}" for k, v in w["us_per_tx"].items()), flush=True)

    if args.every and not args.json:
        print(f"µs of CPU per tx, per window of {args.every} blocks:")
    if args.checkpoint_every < 1:
        ap.error("--checkpoint-every must be at least 1")
    result = run(args.txs, args.block_txs, args.people, args.objects, args.profile, args.every, None if args.json else show, args.checkpoint_every, args.store, args.clock,
                 not args.cold_certificates)
    result["machine"] = machine()
    if args.json:
        dump_json(result)
        return 0
    print(f"{result['txs']} txs in blocks of ~{args.block_txs}, register of {args.objects} objects, WAL checkpointed every {args.checkpoint_every} blocks; µs of CPU per tx:")
    for k, v in result["us_per_tx"].items():
        print(f"  {k:<24} {v:>8.1f}")
    print(f"  {'one node (admission, execution once, commit, projection)':<24} {result['node_us_per_tx']:>8.1f}")
    print(f"cadastre WAL: {result['checkpoints']} checkpoints, {result['checkpointed_pages']:,} pages copied, log file {result['wal_bytes'] / 2**20:.1f} MB")
    print(f"bound for 4 such nodes sharing {os.cpu_count()} cores: {result['bound_tx_per_s_4_nodes_on_cpus']:,} tx/s (before networking, consensus and client APIs)")
    return 0


def _main_concurrent(args) -> int:
    """N copies at once, each in a process of its own: the mean per stage and each copy's
    whole figure. Why: four nodes on one machine share its caches as well as its cores. Alone,
    this benchmark's pipeline misses fewer of them than a node's does, and the memory-bound
    parts show it most (LevelDB's memtable, SQLite's pages, the large dicts); an artificial
    neighbour (benchmarks.cpu_neighbour) inflated a stage less than real copies of it do."""
    child = ["--txs", str(args.txs), "--block-txs", str(args.block_txs), "--people", str(args.people), "--objects", str(args.objects),
             "--checkpoint-every", str(args.checkpoint_every), "--store", args.store, "--clock", "thread", "--json"]
    if args.cold_certificates:
        child.append("--cold-certificates")
    if not args.json:
        print(f"running {args.concurrent} copies at once (each times its stages by its own thread's CPU)...", file=sys.stderr, flush=True)
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.bench_node_pipeline", *child], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(args.concurrent)]
    copies = []
    try:
        for proc in procs:
            out, err = proc.communicate()
            if proc.returncode != 0:
                tail = (err or out).strip().splitlines()[-1:] or ["no output"]
                print(f"a copy of bench_node_pipeline exited {proc.returncode}: {tail[0]}", file=sys.stderr)
                return 1
            copies.append(json.loads(out))
    finally:
        for proc in procs:  # after a failed copy, the others are not left running
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    result = {
        "concurrent": args.concurrent,
        "txs": copies[0]["txs"],
        "clock": "thread",
        "us_per_tx": {k: round(statistics.mean(c["us_per_tx"][k] for c in copies), 1) for k in STAGES},
        "node_us_per_tx": round(statistics.mean(c["node_us_per_tx"] for c in copies), 1),
        "node_us_per_tx_each": [c["node_us_per_tx"] for c in copies],
        "machine": machine(),
    }
    if args.json:
        dump_json(result)
        return 0
    print(f"{result['txs']} txs in blocks of ~{args.block_txs}, register of {args.objects} objects, {args.concurrent} copies at once; "
          "µs of this thread's CPU per tx, mean (min-max) of the copies:")
    for k in STAGES:
        each = [c["us_per_tx"][k] for c in copies]
        print(f"  {k:<24} {result['us_per_tx'][k]:>8.1f}  ({min(each):.1f}-{max(each):.1f})")
    each = result["node_us_per_tx_each"]
    print(f"  {'one node (admission, execution once, commit, projection)':<24} {result['node_us_per_tx']:>8.1f}  ({min(each):.1f}-{max(each):.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
