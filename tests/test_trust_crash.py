"""Crash points along the commit path (issue 7.1).

For each numbered point (node/crash.py) a node of a 4-node consortium is armed to kill
itself there on the first block that carries transactions, while a client submits through
it and through a healthy node. The killed node must restart; its store, state and cadastre
projection heights must be reconciled; no acknowledged transaction may be lost and none
applied twice."""

from __future__ import annotations

import grpc
import httpx
import pytest

from node import crash
from node.kv import open_node_store
from node.verify import verify_store
from proto import tamga_pb2 as pb
from tests.cluster_harness import Cluster, wait_for
from tests.test_consensus_processes import FAST, Client

pytestmark = pytest.mark.processes

VICTIM = "bank"


def committed_tx_ids(cluster: Cluster, node: str) -> list[bytes]:
    """Every tx id in every block of `node`'s chain, in order (duplicates kept)."""
    ids = []
    height = cluster.height(node)
    for h in range(1, height + 1):
        resp = cluster.ledger(node).GetBlock(pb.GetBlockRequest(height=h), timeout=5)
        for env in pb.Block.FromString(resp.block).txs:
            from node.envelope import tx_id_of

            ids.append(tx_id_of(pb.Envelope.FromString(env).body))
    return ids


@pytest.mark.parametrize("point", crash.POINTS)
def test_node_killed_at_each_crash_point_recovers_without_loss_or_duplicates(point, tmp_path):
    cluster = Cluster(str(tmp_path / "c"), 4, consensus=FAST, http=True)
    for name in cluster.names:
        cluster.start(name, extra_env={"TAMGA_CRASH_AT": point} if name == VICTIM else None)
    for name in cluster.names:
        cluster.wait_ready(name)
    try:
        client = Client(cluster)
        acked: dict[bytes, int] = {}
        unacked: list[bytes] = []
        # through the victim: it dies while committing (or answering) these
        for i in range(3):
            tx = client.put(VICTIM, f"via-victim-{i}")
            try:
                acked[tx] = client.wait(VICTIM, tx, timeout_s=20).height
            except grpc.RpcError:
                unacked.append(tx)
                break
        assert cluster.exit_code(VICTIM, 30) == 137, f"the node did not die at {point}"
        # through a healthy node: the consortium goes on without the victim
        for i in range(3):
            tx = client.put("moj", f"via-moj-{i}")
            acked[tx] = client.wait("moj", tx).height

        cluster.start(VICTIM)  # unarmed
        cluster.wait_ready(VICTIM)
        head = max(acked.values())
        cluster.wait_height([VICTIM], head, timeout_s=60)

        # no acknowledged tx lost, on the restarted node as on the others
        for tx, height in acked.items():
            assert cluster.ledger(VICTIM).GetTx(pb.GetTxRequest(tx_id=tx), timeout=5).height == height
        # a tx the victim took but never acknowledged is committed at most once
        ids = committed_tx_ids(cluster, VICTIM)
        assert len(ids) == len(set(ids)), "a transaction was applied twice"
        for tx in unacked:
            assert ids.count(tx) <= 1
        # replaying an acknowledged envelope is refused, not applied again
        env = cluster.ledger(VICTIM).GetTx(pb.GetTxRequest(tx_id=next(iter(acked))), timeout=5).envelope
        with pytest.raises(grpc.RpcError) as info:
            cluster.ledger(VICTIM).Submit(pb.Envelope.FromString(env), timeout=5)
        assert "DUPLICATE_TX" in info.value.details()

        # store, state and projection heights reconciled
        http = cluster.configs[VICTIM].http_listen

        def projection_caught_up():
            body = httpx.get(f"http://{http}/health", timeout=5).json()
            return body["cadastre_height"] == body["height"] >= head

        wait_for(projection_caught_up, 30, "the victim's cadastre projection to reach its chain height")

        def same_head():
            a, b = cluster.status(VICTIM), cluster.status("moj")
            return (a.height, a.head_hash, a.state_root) == (b.height, b.head_hash, b.state_root)

        wait_for(same_head, 30, "the victim to report the same head and state root as a healthy node")
    finally:
        cluster.stop_all()
    kv = open_node_store(cluster.data_dir(VICTIM) + "/db", create=False)
    try:
        report = verify_store(kv)
        assert report.ok, report.findings
    finally:
        kv.close()
