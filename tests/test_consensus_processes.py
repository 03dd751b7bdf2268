"""Four real node processes over gRPC with mutual TLS on loopback (issue 3).

All four commit; with one killed (SIGKILL) the other three keep committing; with two of
four down nothing commits but reads still work; killed nodes restart, catch up, and every
node ends with the same head hash and state root. Every wait is bounded and polls."""

from __future__ import annotations

import datetime
import itertools

import grpc
import pytest

from node import envelope, identity, pki, signing
from node.kv import open_node_store
from node.verify import verify_store
from proto import tamga_pb2 as pb
from tests.cluster_harness import Cluster, wait_for

pytestmark = pytest.mark.processes

FAST = {
    "timeout_propose_ms": 400,
    "timeout_propose_delta_ms": 200,
    "timeout_prevote_ms": 200,
    "timeout_prevote_delta_ms": 100,
    "timeout_precommit_ms": 200,
    "timeout_precommit_delta_ms": 100,
    "gossip_interval_ms": 200,
    "empty_block_interval_ms": 300,
}


class Client:
    """A citizen signing `note.put` txs with a CA-issued EDS certificate."""

    def __init__(self, cluster: Cluster):
        with open(cluster.layout.ca_cert_file, "rb") as c, open(cluster.layout.ca_key_file, "rb") as k:
            ca = pki.CertificateAuthority.load(c.read(), k.read())
        self.signer = signing.Signer.generate()
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = ca.issue_eds(
            self.signer.public_key,
            name="Test Citizen",
            roles=["citizen"],
            iin=identity.make_iin(datetime.date(1988, 8, 8), "F", 12),
            not_before=now - datetime.timedelta(days=1),
            not_after=now + datetime.timedelta(days=30),
        )
        self.cluster = cluster
        self.nonce = itertools.count(1)

    def put(self, node: str, key: str) -> bytes:
        env = envelope.build_envelope("tamga-local-1", "note.put", {"key": key, "value": b"v"}, [(self.signer, self.cert)], next(self.nonce))
        return self.cluster.ledger(node).Submit(pb.Envelope.FromString(env), timeout=5).tx_id

    def wait(self, node: str, tx_id: bytes, timeout_s: float = 30) -> pb.GetTxResponse:
        return self.cluster.ledger(node).WaitTx(pb.WaitTxRequest(tx_id=tx_id, timeout_ms=int(timeout_s * 1000)), timeout=timeout_s + 5)


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(str(tmp_path / "cluster"), 4, consensus=FAST, http=False)
    c.start_all()
    yield c
    c.stop_all()


def heads(cluster: Cluster, names) -> set[tuple[int, bytes, bytes]]:
    out = set()
    for n in names:
        st = cluster.status(n)
        out.add((st.height, st.head_hash, st.state_root))
    return out


def test_four_nodes_commit_survive_kills_and_converge(cluster: Cluster, tmp_path):
    client = Client(cluster)
    names = cluster.names
    # all four commit
    tx = client.put("moj", "a")
    got = client.wait("moj", tx)
    assert got.receipt.status == "applied"
    cluster.wait_height(names, got.height)

    # one killed with SIGKILL: the other three keep committing
    cluster.kill("nitec")
    live = ["moj", "gov4c", "bank"]
    for i in range(5):
        tx = client.put(live[i % 3], f"b{i}")
        assert client.wait(live[i % 3], tx).receipt.status == "applied"

    # two of four down: nothing commits, but reads still work
    cluster.kill("bank")
    stuck_at = cluster.height("moj")
    tx_stuck = client.put("moj", "c")
    with pytest.raises(grpc.RpcError) as info:
        client.wait("moj", tx_stuck, timeout_s=3)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert cluster.height("moj") == stuck_at == cluster.height("gov4c")
    block = cluster.ledger("gov4c").GetBlock(pb.GetBlockRequest(height=1), timeout=5)
    assert block.block and block.commit

    # the killed nodes restart, catch up, and the stuck tx commits
    cluster.start("bank")
    cluster.wait_ready("bank")
    got = client.wait("moj", tx_stuck, timeout_s=60)
    assert got.receipt.status == "applied"
    cluster.start("nitec")
    cluster.wait_ready("nitec")
    tx = client.put("nitec", "d")
    final = client.wait("nitec", tx, timeout_s=60)
    cluster.wait_height(names, final.height)

    # same head hash and state root everywhere (compare at one height: the last tx's block)
    def converged():
        hs = heads(cluster, names)
        return len(hs) == 1

    wait_for(converged, 30, "all nodes to report the same head")
    cluster.stop_all()
    for n in names:
        kv = open_node_store(cluster.data_dir(n) + "/db", create=False)
        try:
            report = verify_store(kv)
            assert report.ok, (n, report.findings)
        finally:
            kv.close()


def test_a_node_far_behind_catches_up_by_block_sync(cluster: Cluster):
    client = Client(cluster)
    cluster.kill("bank")
    last = None
    for i in range(60):
        last = client.put(["moj", "gov4c", "nitec"][i % 3], f"k{i}")
        if i % 10 == 9:
            client.wait("moj", last)
    target = client.wait("moj", last).height
    assert target >= 6
    cluster.start("bank")
    cluster.wait_ready("bank")
    cluster.wait_height(["bank"], target, timeout_s=60)
    assert cluster.ledger("bank").GetTx(pb.GetTxRequest(tx_id=last), timeout=5).receipt.status == "applied"
    # and it takes part again: with another node down, bank is needed for a quorum
    cluster.kill("nitec")
    tx = client.put("bank", "after")
    assert client.wait("bank", tx, timeout_s=60).receipt.status == "applied"
