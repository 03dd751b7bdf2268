"""A hostile validator does not stop the other three (issue 3).

The test takes the place of one validator (it holds that node's TLS key and validator key,
as a compromised operator would) and floods the other three with garbage bytes, messages
with invalid signatures, votes from non-validators, equivocating proposals and votes, and
replays of old messages, while a client keeps submitting transactions. The honest three
must keep committing, and must record the equivocation as evidence."""

from __future__ import annotations

import asyncio
import os
import threading

import grpc
import pytest

from consensus.messages import PRECOMMIT, PREVOTE, Proposal, Vote
from node import signing
from node.config import NodeConfig
from node.peers import GRPC_OPTIONS, tls_host
from proto import tamga_pb2 as pb
from tests.cluster_harness import Cluster, wait_for
from tests.test_consensus_processes import FAST, Client

pytestmark = pytest.mark.processes


def hostile_messages(cfg: NodeConfig, chain_id: str, height: int, old_votes: list[pb.Vote]) -> list[bytes]:
    """Serialized PeerMessages (and raw garbage) a compromised validator might send."""
    with open(cfg.path(cfg.validator_key_file)) as f:
        me = signing.Signer(bytes.fromhex(f.read().strip()))
    my_index = 3  # nitec is the 4th validator
    out: list[bytes] = [os.urandom(n) for n in (1, 7, 100, 5000)]
    out.append(b"\x12\x05hello")  # a vote field holding garbage
    for r in range(3):
        for h in (height, height + 1):
            # equivocation: two different prevotes and precommits for the same height/round
            for t in (PREVOTE, PRECOMMIT):
                for block_hash in (os.urandom(32), os.urandom(32)):
                    v = Vote(t, h, r, block_hash, 1_900_000_000_000, my_index)
                    v = Vote(t, h, r, block_hash, v.timestamp_ms, my_index, me.sign("vote", chain_id, v.sign_bytes()))
                    out.append(pb.PeerMessage(vote=v.to_proto()).SerializeToString())
            # a proposal of garbage, properly signed, and another for the same round
            for block in (b"not a block", os.urandom(300)):
                p = Proposal(h, r, -1, block, my_index)
                sig = me.sign("proposal", chain_id, p.sign_bytes(os.urandom(32)))
                out.append(pb.PeerMessage(proposal=pb.Proposal(height=h, round=r, pol_round=-1, block=block, proposer_index=my_index, signature=sig)).SerializeToString())
    # invalid signatures and non-validators
    out.append(pb.PeerMessage(vote=pb.Vote(type=PREVOTE, height=height, round=0, block_hash=os.urandom(32), timestamp_ms=1, validator_index=0, signature=os.urandom(64))).SerializeToString())
    out.append(pb.PeerMessage(vote=pb.Vote(type=PRECOMMIT, height=height, round=0, block_hash=os.urandom(32), timestamp_ms=1, validator_index=9, signature=os.urandom(64))).SerializeToString())
    out.append(pb.PeerMessage(status=pb.PeerStatus(height=2**63, round=7, head_hash=os.urandom(32))).SerializeToString())
    out.append(pb.PeerMessage(txs=pb.TxBatch(envelopes=[os.urandom(200), b""])).SerializeToString())
    # replays of old, validly signed votes of honest validators
    out.extend(pb.PeerMessage(vote=v).SerializeToString() for v in old_votes)
    return out


async def flood(cfg: NodeConfig, targets: dict[str, str], make_messages, rounds: int) -> int:
    """Send `rounds` batches of hostile messages to every target; `make_messages()` is
    asked for each batch, so equivocations aim at the height being decided right now."""
    with open(cfg.path(cfg.ca_cert_file), "rb") as f:
        ca = f.read()
    with open(cfg.path(cfg.tls_cert_file), "rb") as f:
        cert = f.read()
    with open(cfg.path(cfg.tls_key_file), "rb") as f:
        key = f.read()
    sent = 0
    for name, address in targets.items():
        creds = grpc.ssl_channel_credentials(ca, key, cert)
        async with grpc.aio.secure_channel(address, creds, options=GRPC_OPTIONS + [("grpc.ssl_target_name_override", tls_host(name))]) as ch:
            # raw bytes on the wire: the stub's serializer is the identity
            call = ch.stream_unary("/tamga.v1.Peer/Stream", request_serializer=lambda b: b, response_deserializer=pb.Ack.FromString)

            for _ in range(rounds):
                batch = make_messages()
                # Undecodable bytes end the stream they arrive on (gRPC cannot parse the
                # request), so each goes on its own stream; the rest share one.
                parseable = []
                for m in batch:
                    try:
                        pb.PeerMessage.FromString(m)
                        parseable.append(m)
                    except Exception:
                        sent += 1
                        try:
                            await call(iter([m]), timeout=5)
                        except grpc.aio.AioRpcError:
                            pass
                sent += len(parseable)
                try:
                    await call(iter(parseable), timeout=10)
                except grpc.aio.AioRpcError:
                    pass  # an honest node may cut a hostile stream; that is its right
                await asyncio.sleep(0.05)
    return sent


def test_hostile_validator_does_not_stop_the_other_three(tmp_path):
    cluster = Cluster(str(tmp_path / "cluster"), 4, consensus=FAST, http=False)
    cluster.start_all()
    try:
        client = Client(cluster)
        first = client.wait("moj", client.put("moj", "before"))
        block = cluster.ledger("moj").GetBlock(pb.GetBlockRequest(height=first.height), timeout=5)
        old_votes = [
            pb.Vote(type=PRECOMMIT, height=c.height, round=c.round, block_hash=c.block_hash, timestamp_ms=s.timestamp_ms, validator_index=s.validator_index, signature=s.signature)
            for c in [pb.CommitCertificate.FromString(block.commit)]
            for s in c.signatures
        ]
        cluster.kill("nitec")  # the attacker takes its place
        cfg = cluster.configs["nitec"]
        honest = ["moj", "gov4c", "bank"]
        targets = {n: cluster.configs[n].peer_listen for n in honest}

        def make_messages():
            return hostile_messages(cfg, "tamga-local-1", cluster.height("moj") + 1, old_votes)

        result: dict = {}
        attacker = threading.Thread(target=lambda: result.setdefault("sent", asyncio.run(flood(cfg, targets, make_messages, rounds=20))))
        attacker.start()
        committed = []
        for i in range(10):
            tx = client.put(honest[i % 3], f"during-{i}")
            committed.append(client.wait(honest[i % 3], tx, timeout_s=60))
        attacker.join(timeout=120)
        assert result.get("sent", 0) > 0
        assert all(r.receipt.status == "applied" for r in committed)
        heights = [r.height for r in committed]
        assert heights == sorted(heights) and heights[-1] > first.height
        for n in honest:
            assert cluster.alive(n), cluster.log(n)[-2000:]

        # the equivocations were noticed and kept as evidence by at least one honest node
        def evidence_recorded():
            for n in honest:
                if "equivocation evidence" in cluster.log(n):
                    return True
            return False

        wait_for(evidence_recorded, 30, "an honest node to log equivocation evidence")
    finally:
        cluster.stop_all()
