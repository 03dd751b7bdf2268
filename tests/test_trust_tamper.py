"""Tampering with one node's LevelDB (issue 7.3).

A byte changed, a record deleted, the tail truncated — in records and in LevelDB's own
files. The auditor's `tamga chain verify` names the damaged height; the node notices at
start (exit 3, "REFUSING TO START") or, for state-tree nodes, when it reads them, before
it signs anything built on them; the others carry on; `tamga node resync` restores it from
its peers. Figures (printed with -s): mutations tried, detected by the auditor, detected by
the node at start, on use of the head state, and not at all (nodes of old states only)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

import pytest

from node import schema
from node.chain import Chain
from node.apps import executor_for
from node.errors import TamgaError
from node.genesis import Genesis
from node.kv import open_node_store
from node.startup_check import check_store
from node.verify import verify_store
from tests.cluster_harness import ROOT, Cluster
from tests.test_consensus_processes import FAST, Client

pytestmark = pytest.mark.processes

VICTIM = "gov4c"


@pytest.fixture(scope="module")
def ran_cluster(tmp_path_factory):
    """A consortium that committed some transactions, stopped; the victim's store is copied per test."""
    base = tmp_path_factory.mktemp("tamper")
    cluster = Cluster(str(base / "c"), 4, consensus=FAST, http=False)
    cluster.start_all()
    try:
        client = Client(cluster)
        for i in range(24):
            tx = client.put(cluster.names[i % 4], f"k{i % 7}")
            if i % 4 == 3:
                client.wait(cluster.names[i % 4], tx)
        client.wait("moj", tx)
    finally:
        cluster.stop_all()
    return cluster


def _copy_store(cluster: Cluster, dest) -> str:
    path = os.path.join(str(dest), "db")
    shutil.copytree(os.path.join(cluster.data_dir(VICTIM), "db"), path)
    return path


def _node_notices(path: str, genesis: Genesis) -> str | None:
    """What the node itself would notice: 'start', 'use' (reading the head state), or None."""
    try:
        kv = open_node_store(path, create=False)
    except TamgaError:
        return "start"
    try:
        chain = Chain(kv, genesis, executor_for(genesis.app))
        check_store(chain)
    except TamgaError:
        return "start"
    except Exception:
        return "start"  # a head record that does not even decode
    try:
        for _ in chain.tree.items(chain.head.state_root):
            pass
    except TamgaError:
        return "use"
    finally:
        kv.close()
    return None


def _verify_detects(path: str) -> tuple[bool, int | None]:
    try:
        kv = open_node_store(path, create=False)
    except TamgaError:
        return True, None
    try:
        report = verify_store(kv)
        return (not report.ok), report.first_bad_height
    finally:
        kv.close()


def mutate_record(path: str, rng: random.Random, kind: str) -> str:
    kv = open_node_store(path, create=False)
    try:
        records = [(k, v) for prefix in schema.REPLICATED_PREFIXES if prefix != schema.META_GENESIS for k, v in kv.iterate(prefix)]
        key, value = rng.choice(records)
        if kind == "flip":
            if not value:  # an empty record (the genesis block's commit, say): damage its key
                pos = rng.randrange(len(key))
                kv.write({key[:pos] + bytes([key[pos] ^ 1]) + key[pos + 1:]: value}, deletes=[key])
                return f"flipped a bit of the key of an empty {key[:3]!r} record"
            pos = rng.randrange(len(value))
            kv.write({key: value[:pos] + bytes([value[pos] ^ (1 << rng.randrange(8))]) + value[pos + 1:]})
            return f"flipped a bit of {key[:3]!r} record at byte {pos}"
        if kind == "delete":
            kv.write({}, deletes=[key])
            return f"deleted a {key[:3]!r} record"
        assert kind == "truncate"
        head = max(schema.read_u64(k[len(schema.BLOCK_PREFIX):]) for k, _ in kv.iterate(schema.BLOCK_PREFIX))
        cut = rng.randint(1, 3)
        dels = [f(h) for h in range(head - cut + 1, head + 1) for f in (schema.block, schema.commit, schema.receipts)]
        kv.write({}, deletes=dels)
        return f"truncated the last {cut} blocks"
    finally:
        kv.close()


def mutate_file(path: str, rng: random.Random) -> str:
    # The node's store is two LevelDBs (history and index): any of their files.
    files = sorted(os.path.relpath(os.path.join(d, f), path) for d, _, names in os.walk(path) for f in names
                   if f.endswith((".ldb", ".log")) and os.path.getsize(os.path.join(d, f)) > 0)
    name = rng.choice(files)
    full = os.path.join(path, name)
    data = bytearray(open(full, "rb").read())
    if rng.random() < 0.5:
        pos = rng.randrange(len(data))
        data[pos] ^= 0xFF
        what = f"flipped byte {pos} of LevelDB file {name}"
    else:
        cut = rng.randrange(1, max(2, len(data) // 2))
        data = data[: len(data) - cut]
        what = f"truncated LevelDB file {name} by {cut} bytes"
    open(full, "wb").write(bytes(data))
    return what


def test_mutations_are_detected_by_the_auditor_and_the_node(ran_cluster, tmp_path):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    with open(ran_cluster.layout.genesis_file, "rb") as f:
        genesis = Genesis.from_json(f.read())
    figures = {"seed": seed, "tried": 0, "auditor_detected": 0, "node_at_start": 0, "node_on_use": 0, "node_not_at_all": 0, "harmless_file_changes": 0}
    undetected = []
    for i in range(36):
        path = _copy_store(ran_cluster, tmp_path / f"m{i}")
        kind = ("flip", "delete", "truncate", "file")[i % 4]
        what = mutate_file(path, rng) if kind == "file" else mutate_record(path, rng, kind)
        figures["tried"] += 1
        detected, height = _verify_detects(path)
        noticed = _node_notices(path, genesis)
        if kind == "file" and not detected and noticed is None:
            # LevelDB files hold padding and stale copies; a change there alters no record.
            figures["harmless_file_changes"] += 1
            continue
        if detected:
            figures["auditor_detected"] += 1
        else:
            undetected.append(what)
        figures[{"start": "node_at_start", "use": "node_on_use", None: "node_not_at_all"}[noticed]] += 1
    print("\ntampering:", json.dumps(figures))
    assert not undetected, f"the auditor missed: {undetected} (seed {seed})"
    assert figures["auditor_detected"] >= 27


def test_tampered_node_refuses_to_start_others_carry_on_and_resync_restores_it(tmp_path):
    cluster = Cluster(str(tmp_path / "c"), 4, consensus=FAST, http=False)
    cluster.start_all()
    try:
        client = Client(cluster)
        for i in range(4):  # one at a time: several blocks to damage one of
            client.wait("moj", client.put("moj", f"before-{i}"))
        assert cluster.height("moj") >= 3
        cluster.wait_height([VICTIM], cluster.height("moj"))
        cluster.kill(VICTIM)
        db = os.path.join(cluster.data_dir(VICTIM), "db")
        kv = open_node_store(db, create=False)
        raw = kv.get(schema.block(2))
        kv.write({schema.block(2): raw[:-3] + bytes([raw[-3] ^ 0x10]) + raw[-2:]})
        kv.close()

        # the auditor names the damaged height
        out = subprocess.run([sys.executable, "-m", "cli.main", "chain", "verify", "--data-dir", cluster.data_dir(VICTIM), "--json"], capture_output=True, text=True, cwd=ROOT)
        assert out.returncode == 1
        assert json.loads(out.stdout)["first_bad_height"] == 2

        # the node refuses to take part, with a message saying how to restore it
        cluster.start(VICTIM)
        assert cluster.exit_code(VICTIM, 60) == 3
        assert "REFUSING TO START" in cluster.log(VICTIM) and "resync" in cluster.log(VICTIM)

        # the others carry on without it
        tx = client.put("bank", "while-damaged")
        assert client.wait("bank", tx).receipt.status == "applied"

        # re-sync from the peers restores it
        subprocess.run([sys.executable, "-m", "cli.main", "node", "resync", "--config", cluster.config_files[VICTIM]], check=True, capture_output=True, cwd=ROOT)
        cluster.start(VICTIM)
        cluster.wait_ready(VICTIM)
        cluster.wait_height([VICTIM], cluster.height("moj"), timeout_s=60)
        tx = client.put(VICTIM, "after-resync")
        assert client.wait(VICTIM, tx).receipt.status == "applied"
    finally:
        cluster.stop_all()
    kv = open_node_store(os.path.join(cluster.data_dir(VICTIM), "db"), create=False)
    try:
        assert verify_store(kv).ok
    finally:
        kv.close()
