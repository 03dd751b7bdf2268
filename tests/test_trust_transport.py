"""Trust suite (issue 7), transport and identity: real PeerTransport instances on localhost,
real gRPC with mutual TLS, certificates from node/cluster.init_cluster or issued directly by
the consortium CA.

A legitimate peer's messages arrive attributed to it. Refused, with no message delivered:
a client with a certificate from another CA, an expired or not yet valid one (refused by
BoringSSL at the handshake: UNAVAILABLE), a revoked one (ledger state), one naming a key of
no configured peer, one naming a peer's key but issued for another name, one whose holder
the transport's own clock finds expired (PERMISSION_DENIED with the typed error's code);
a server whose certificate is for another node's name (the client's name check); and a node
whose TLS certificate names a key other than the one it signs with (check_own_identity at
start, PERMISSION_DENIED at its peers).

Every wait is bounded by a deadline and polls a condition.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import os
from typing import AsyncIterator, Awaitable, Callable

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from node import pki, signing
from node.cluster import init_cluster
from node.config import NodeConfig
from node.errors import CertificateExpired, MalformedInput, UntrustedCertificate
from node.kv import MemoryStore
from node.peers import PeerTransport, check_own_identity, tls_host
from proto import tamga_pb2 as pb
from proto import tamga_pb2_grpc as pbg
from tests.cluster_harness import free_base_port
from tests.ledger_support import SoloNode, TestPKI

WAIT_S = 20.0          # upper bound of any wait; a passing run takes far less
RPC_TIMEOUT_S = 10.0
RETRANSMIT_S = 0.2
DAY = datetime.timedelta(days=1)


# --- helpers -----------------------------------------------------------------------------
async def until(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.01)


def run(coro: Awaitable) -> None:
    asyncio.run(coro)


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def marker(sender: str, n: int = 0) -> pb.PeerMessage:
    """A message that says who sent it, so attribution can be checked."""
    return pb.PeerMessage(status=pb.PeerStatus(height=n, head_hash=sender.encode()))


@dataclasses.dataclass
class Consortium:
    """Three nodes from init_cluster, their configs and the CA that issued everything."""

    dir: str
    configs: dict[str, NodeConfig]
    ca: pki.CertificateAuthority

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem

    def tls(self, name: str) -> tuple[bytes, bytes]:
        cfg = self.configs[name]
        return read(cfg.path(cfg.tls_cert_file)), read(cfg.path(cfg.tls_key_file))

    def validator_key(self, name: str) -> bytes:
        cfg = self.configs[name]
        return signing.Signer(bytes.fromhex(read(cfg.path(cfg.validator_key_file)).decode().strip())).public_key

    def issue(self, *, name: str, validator_key: bytes, hosts=None, not_before=None, not_after=None, ca: pki.CertificateAuthority | None = None) -> tuple[bytes, bytes]:
        """A TLS certificate and key (PEM) issued by `ca` (default: the consortium's)."""
        now = datetime.datetime.now(datetime.timezone.utc)
        key = pki.new_tls_key()
        cert = (ca or self.ca).issue_tls(
            key,
            name=name,
            validator_key=validator_key,
            hosts=hosts if hosts is not None else [tls_host(name), "localhost"],
            not_before=not_before or now - DAY,
            not_after=not_after or now + 365 * DAY,
        )
        return cert, pki.private_key_pem(key)

    def variant(self, name: str, label: str, *, tls: tuple[bytes, bytes] | None = None, peer_listen: str | None = None, validator_seed: bytes | None = None) -> NodeConfig:
        """`name`'s config with other TLS files, listen address or validator key, written
        to a directory of its own (absolute paths)."""
        base = self.configs[name]
        d = os.path.join(self.dir, "variants", label)
        os.makedirs(d, exist_ok=True)
        cert, key = tls or self.tls(name)
        write(os.path.join(d, "tls.pem"), cert)
        write(os.path.join(d, "tls.key"), key)
        seed = validator_seed if validator_seed is not None else bytes.fromhex(read(base.path(base.validator_key_file)).decode().strip())
        write(os.path.join(d, "validator.key"), seed.hex().encode() + b"\n")
        return dataclasses.replace(
            base,
            tls_cert_file=os.path.join(d, "tls.pem"),
            tls_key_file=os.path.join(d, "tls.key"),
            validator_key_file=os.path.join(d, "validator.key"),
            ca_cert_file=base.path(base.ca_cert_file),
            genesis_file=base.path(base.genesis_file),
            peer_listen=peer_listen or base.peer_listen,
            base_dir=d,
        )


class Node:
    """A PeerTransport and what it received."""

    def __init__(self, consortium: Consortium, config: NodeConfig, **kwargs):
        self.config = config
        self.received: list[tuple[str, pb.PeerMessage]] = []
        self.sync_requests: list[tuple[int, int]] = []
        self.transport = PeerTransport(
            config,
            consortium.ca.verifier(),
            lambda peer, msg: self.received.append((peer, msg)),
            self._sync,
            lambda: pb.PeerStatus(height=1, head_hash=config.name.encode()),
            **kwargs,
        )

    def _sync(self, from_height: int, count: int) -> list[tuple[bytes, bytes]]:
        self.sync_requests.append((from_height, count))
        return [(b"block-%d" % from_height, b"commit-%d" % from_height)]

    def attributed(self) -> list[tuple[str, bytes]]:
        return [(peer, msg.status.head_hash) for peer, msg in self.received]


@dataclasses.dataclass
class Outcome:
    code: grpc.StatusCode
    details: str
    tamga_code: str | None


async def call_as(address: str, host: str, cert_pem: bytes, key_pem: bytes, ca_pem: bytes, rpc: str = "Stream", messages=()) -> Outcome:
    """One Peer RPC from a bare client holding the given TLS identity, expecting the server
    at `address` to present a certificate for `host`."""
    creds = grpc.ssl_channel_credentials(ca_pem, key_pem, cert_pem)
    channel = grpc.aio.secure_channel(address, creds, options=[("grpc.ssl_target_name_override", host)])
    stub = pbg.PeerStub(channel)
    try:
        if rpc == "Stream":
            call = stub.Stream(iter(list(messages)), timeout=RPC_TIMEOUT_S)
            await call
        elif rpc == "Status":
            call = stub.Status(pb.StatusRequest(), timeout=RPC_TIMEOUT_S)
            await call
        else:
            call = stub.Sync(pb.SyncRequest(from_height=1, max_blocks=1), timeout=RPC_TIMEOUT_S)
            async for _ in call:
                pass
        return Outcome(grpc.StatusCode.OK, "", None)
    except grpc.aio.AioRpcError as err:
        trailing = dict(err.trailing_metadata() or ())
        return Outcome(err.code(), err.details() or "", trailing.get("tamga-code"))
    finally:
        await channel.close()


async def started(*nodes: Node) -> None:
    for n in nodes:
        await n.transport.start()


async def retransmit_until(send: Callable[[], None], condition: Callable[[], bool], what: str) -> None:
    """Send, and send again every RETRANSMIT_S until `condition` holds (bounded by WAIT_S).

    The transport is lossy by design (consensus retransmits): a message it takes from its
    queue for a stream that then fails is lost, so tests that need delivery retransmit."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while True:
        send()
        resend_at = min(loop.time() + RETRANSMIT_S, deadline)
        while not condition() and loop.time() < resend_at:
            await asyncio.sleep(0.01)
        if condition():
            return
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {WAIT_S} s waiting for {what}")


async def stopped(*nodes: Node) -> None:
    for n in nodes:
        await n.transport.stop()


@pytest.fixture
def consortium(tmp_path) -> Consortium:
    layout = init_cluster(str(tmp_path / "cluster"), 3, base_port=free_base_port())
    configs = {NodeConfig.load(p).name: NodeConfig.load(p) for p in layout.nodes}
    ca = pki.CertificateAuthority.load(read(layout.ca_cert_file), read(layout.ca_key_file))
    return Consortium(str(tmp_path), configs, ca)


def revoke_on_chain(fingerprint: bytes) -> SoloNode:
    """A real chain on which an identity officer revoked the certificate `fingerprint`
    (state key node.schema.state_revoked), as the registry does."""
    test_pki = TestPKI()
    solo = SoloNode(MemoryStore(), test_pki)
    officer = test_pki.party("Identity officer", roles=("identity_officer",))
    solo.submit("pki.revoke", {"fingerprint": fingerprint}, officer)
    solo.sealer.seal()
    assert solo.chain.is_revoked(fingerprint)
    return solo


# --- legitimate traffic ------------------------------------------------------------------
def test_peers_exchange_messages_attributed_to_the_sender(consortium: Consortium):
    async def main():
        nodes = {name: Node(consortium, cfg) for name, cfg in consortium.configs.items()}
        await started(*nodes.values())
        try:

            def broadcast_all() -> None:
                for name, node in nodes.items():
                    node.transport.broadcast(marker(name))

            def heard_from_all() -> bool:
                return all({p for p, _ in n.received} == set(nodes) - {name} for name, n in nodes.items())

            await retransmit_until(broadcast_all, heard_from_all, "every node to hear from both others")
            for name, node in nodes.items():
                # the peer a message is attributed to is the one that sent it
                assert set(node.attributed()) == {(other, other.encode()) for other in nodes if other != name}
                assert node.transport.refused_connections == 0
            # the unary and server-streaming RPCs serve configured peers too
            status = await nodes["moj"].transport.peer_status("bank")
            assert status.head_hash == b"bank"
            assert await nodes["moj"].transport.fetch_blocks("gov4c", 7) == [(b"block-7", b"commit-7")]
        finally:
            await stopped(*nodes.values())

    run(main())


# --- clients refused at the TLS handshake ------------------------------------------------
def test_client_with_certificate_from_another_ca_is_refused_at_handshake(consortium: Consortium):
    now = datetime.datetime.now(datetime.timezone.utc)
    # another CA with the very same name, certifying bank's real validator key and name
    rogue_ca = pki.CertificateAuthority.create("Tamga Consortium Root CA", now)
    rogue = consortium.issue(name="bank", validator_key=consortium.validator_key("bank"), ca=rogue_ca)

    async def main():
        moj = Node(consortium, consortium.configs["moj"])
        await started(moj)
        try:
            addr, host = moj.config.peer_listen, tls_host("moj")
            for rpc in ("Stream", "Status", "Sync"):
                out = await call_as(addr, host, *rogue, consortium.ca_pem, rpc, [marker("bank")])
                assert out.code == grpc.StatusCode.UNAVAILABLE, out
            # the rogue CA's node cannot even check the server: it does not trust our CA
            out = await call_as(addr, host, *rogue, rogue_ca.cert_pem, "Stream", [marker("bank")])
            assert out.code == grpc.StatusCode.UNAVAILABLE, out
            # the same client with the consortium's certificate gets through
            assert (await call_as(addr, host, *consortium.tls("bank"), consortium.ca_pem, "Stream", [marker("bank")])).code == grpc.StatusCode.OK
            assert moj.attributed() == [("bank", b"bank")]
            # the refusals never reached the application: no RPC was identified
            assert moj.transport.refused_connections == 0
            assert moj.sync_requests == []
        finally:
            await stopped(moj)

    run(main())


@pytest.mark.parametrize(
    "window",
    [(-30, -1), (1, 30)],
    ids=["expired", "not_yet_valid"],
)
def test_client_with_expired_or_not_yet_valid_certificate_is_refused_by_boringssl(consortium: Consortium, window):
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = window
    key = pki.new_tls_key()
    key_pem = pki.private_key_pem(key)
    vk = consortium.validator_key("bank")

    def cert(not_before, not_after) -> bytes:
        return consortium.ca.issue_tls(key, name="bank", validator_key=vk, hosts=[tls_host("bank")], not_before=not_before, not_after=not_after)

    # Same CA, subject, key and validator key; only the validity window differs. The valid
    # one is accepted, the other refused before any RPC reaches PeerTransport, so the TLS
    # layer (BoringSSL) refused it on the dates.
    good = cert(now - DAY, now + 30 * DAY)
    bad = cert(now + start * DAY, now + end * DAY)

    async def main():
        moj = Node(consortium, consortium.configs["moj"])
        await started(moj)
        try:
            addr, host = moj.config.peer_listen, tls_host("moj")
            for rpc in ("Stream", "Status", "Sync"):
                out = await call_as(addr, host, bad, key_pem, consortium.ca_pem, rpc, [marker("bank", 1)])
                assert out.code == grpc.StatusCode.UNAVAILABLE, out
            assert moj.transport.refused_connections == 0 and moj.received == [] and moj.sync_requests == []
            out = await call_as(addr, host, good, key_pem, consortium.ca_pem, "Stream", [marker("bank", 2)])
            assert out.code == grpc.StatusCode.OK, out
            assert [(p, m.status.height) for p, m in moj.received] == [("bank", 2)]
        finally:
            await stopped(moj)

    run(main())


def test_expired_by_the_transports_own_clock_is_refused_with_permission_denied(consortium: Consortium):
    """Validity is checked again by the transport (defence in depth, and the clock that
    matters is the node's): a certificate BoringSSL accepts is refused once the node's clock
    is past its end."""
    cert, _ = consortium.tls("bank")
    not_after_ms = consortium.ca.verifier().credential(pki.der_from_pem(cert), tls=True).not_after_ms

    async def main():
        moj = Node(consortium, consortium.configs["moj"], now_ms=lambda: not_after_ms + 1)
        await started(moj)
        try:
            out = await call_as(moj.config.peer_listen, tls_host("moj"), *consortium.tls("bank"), consortium.ca_pem, "Stream", [marker("bank")])
            assert out.code == grpc.StatusCode.PERMISSION_DENIED
            assert out.tamga_code == "CERTIFICATE_EXPIRED"
            assert out.details.startswith("CERTIFICATE_EXPIRED: certificate of bank") and "has expired" in out.details
            assert moj.received == [] and moj.transport.refused_connections == 1
        finally:
            await stopped(moj)

    run(main())


# --- clients refused by PeerTransport: PERMISSION_DENIED ---------------------------------
def test_client_with_revoked_certificate_is_refused(consortium: Consortium):
    """Revocation lives in ledger state; the transport asks through its is_revoked hook
    (here a real chain's is_revoked after an identity officer's pki.revoke)."""
    cert, key = consortium.tls("bank")
    fp = pki.fingerprint(pki.der_from_pem(cert))
    solo = revoke_on_chain(fp)

    async def main():
        moj = Node(consortium, consortium.configs["moj"], is_revoked=solo.chain.is_revoked)
        gov4c = Node(consortium, consortium.configs["gov4c"], is_revoked=solo.chain.is_revoked)
        await started(moj, gov4c)
        try:
            addr, host = moj.config.peer_listen, tls_host("moj")
            for rpc in ("Stream", "Status", "Sync"):
                out = await call_as(addr, host, cert, key, consortium.ca_pem, rpc, [marker("bank")])
                assert out.code == grpc.StatusCode.PERMISSION_DENIED, out
                assert out.tamga_code == "CERTIFICATE_REVOKED"
                assert out.details.startswith("CERTIFICATE_REVOKED: certificate of bank (serial ") and out.details.endswith("has been revoked")
            assert moj.received == [] and moj.sync_requests == []
            assert moj.transport.refused_connections == 3
            # The revoked node as a whole: its transport keeps trying, every stream refused.
            bank = Node(consortium, consortium.configs["bank"])
            await started(bank)
            try:
                await retransmit_until(
                    lambda: bank.transport.broadcast(marker("bank")),
                    lambda: gov4c.transport.refused_connections >= 1 and moj.transport.refused_connections >= 4,
                    "the revoked node's streams to be refused",
                )
                await retransmit_until(lambda: gov4c.transport.send("moj", marker("gov4c")), lambda: moj.received != [], "gov4c's message to reach moj")
                assert set(moj.attributed()) == {("gov4c", b"gov4c")}
                assert gov4c.received == []
            finally:
                await stopped(bank)
        finally:
            await stopped(moj, gov4c)

    run(main())


def test_revocation_cuts_off_an_open_stream(consortium: Consortium):
    cert, key = consortium.tls("bank")
    fp = pki.fingerprint(pki.der_from_pem(cert))
    revoked: set[bytes] = set()

    async def main():
        moj = Node(consortium, consortium.configs["moj"], is_revoked=revoked.__contains__)
        await started(moj)
        queue: asyncio.Queue = asyncio.Queue()

        async def outgoing() -> AsyncIterator[pb.PeerMessage]:
            while (msg := await queue.get()) is not None:
                yield msg

        channel = grpc.aio.secure_channel(moj.config.peer_listen, grpc.ssl_channel_credentials(consortium.ca_pem, key, cert), options=[("grpc.ssl_target_name_override", tls_host("moj"))])
        try:
            call = pbg.PeerStub(channel).Stream(outgoing(), timeout=RPC_TIMEOUT_S)
            queue.put_nowait(marker("bank", 1))
            await until(lambda: len(moj.received) == 1, "the first message on the open stream")
            revoked.add(fp)
            queue.put_nowait(marker("bank", 2))
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await asyncio.wait_for(call, WAIT_S)
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert err.value.details().startswith("CERTIFICATE_REVOKED: ")
            assert [m.status.height for _, m in moj.received] == [1]
        finally:
            await channel.close()
            await stopped(moj)

    run(main())


def test_client_naming_a_validator_key_of_no_configured_peer_is_refused(consortium: Consortium):
    stranger = signing.Signer.generate().public_key
    # a CA-issued node certificate (a node of the consortium's CA that is not our peer)
    intruder = consortium.issue(name="intruder", validator_key=stranger)

    async def main():
        moj = Node(consortium, consortium.configs["moj"])
        await started(moj)
        try:
            for rpc in ("Stream", "Status", "Sync"):
                out = await call_as(moj.config.peer_listen, tls_host("moj"), *intruder, consortium.ca_pem, rpc, [marker("intruder")])
                assert out.code == grpc.StatusCode.PERMISSION_DENIED, out
                assert out.tamga_code == "UNTRUSTED_CERTIFICATE"
                assert out.details == f"UNTRUSTED_CERTIFICATE: TLS certificate of intruder names validator key {stranger.hex()}, which is no configured peer's"
            assert moj.received == [] and moj.sync_requests == [] and moj.transport.refused_connections == 3
        finally:
            await stopped(moj)

    run(main())


def test_client_naming_a_peers_key_under_another_name_is_refused(consortium: Consortium):
    """A certificate for "bank" that names gov4c's validator key: the key would make it
    gov4c, its name says bank. Refused rather than attributed to either."""
    mixed = consortium.issue(name="bank", validator_key=consortium.validator_key("gov4c"))

    async def main():
        moj = Node(consortium, consortium.configs["moj"])
        await started(moj)
        try:
            out = await call_as(moj.config.peer_listen, tls_host("moj"), *mixed, consortium.ca_pem, "Stream", [marker("bank")])
            assert out.code == grpc.StatusCode.PERMISSION_DENIED
            assert out.details == "UNTRUSTED_CERTIFICATE: TLS certificate of bank names the validator key of gov4c but is not issued for gov4c.tamga"
            assert moj.received == []
        finally:
            await stopped(moj)

    run(main())


# --- the server's identity ---------------------------------------------------------------
def test_server_with_another_nodes_certificate_is_refused_by_the_client(consortium: Consortium):
    """At gov4c's address listens bank's node (a valid consortium certificate, for the name
    bank.tamga). moj, dialling gov4c, refuses it at the handshake, so the impostor, which
    would accept moj as a configured peer, receives nothing."""
    gov4c_addr = consortium.configs["gov4c"].peer_listen
    impostor_cfg = consortium.variant("bank", "impostor-at-gov4c", peer_listen=gov4c_addr)

    async def main():
        moj = Node(consortium, consortium.configs["moj"])
        impostor = Node(consortium, impostor_cfg)
        await started(impostor, moj)
        try:
            moj.transport.send("gov4c", marker("moj", 1))
            await until(lambda: moj.transport.peers["gov4c"].errors >= 1, "moj's stream to 'gov4c' to fail")
            assert impostor.received == [] and impostor.transport.refused_connections == 0
            # The name check is what refused it: a client asking for gov4c.tamga there fails
            # hostname verification, while one asking for bank.tamga gets through.
            out = await call_as(gov4c_addr, tls_host("gov4c"), *consortium.tls("moj"), consortium.ca_pem, "Stream", [marker("moj", 2)])
            assert out.code == grpc.StatusCode.UNAVAILABLE
            assert "Hostname Verification Check failed" in out.details
            assert impostor.received == []
            out = await call_as(gov4c_addr, tls_host("bank"), *consortium.tls("moj"), consortium.ca_pem, "Stream", [marker("moj", 3)])
            assert out.code == grpc.StatusCode.OK
            assert [(p, m.status.height) for p, m in impostor.received] == [("moj", 3)]
        finally:
            await stopped(moj, impostor)

    run(main())


# --- a node's own identity ---------------------------------------------------------------
def test_check_own_identity_accepts_the_nodes_init_cluster_writes(consortium: Consortium):
    now_ms = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    for cfg in consortium.configs.values():
        check_own_identity(cfg)
        check_own_identity(cfg, now_ms)


def test_node_whose_tls_certificate_names_another_key_than_it_signs_with(consortium: Consortium):
    """Refused at start by check_own_identity; if started anyway, refused by its peers."""
    other_key = signing.Signer.generate().public_key
    cfg = consortium.variant("bank", "tls-names-other-key", tls=consortium.issue(name="bank", validator_key=other_key))
    with pytest.raises(UntrustedCertificate, match=f"names validator key {other_key.hex()}, but the node signs with {consortium.validator_key('bank').hex()}"):
        check_own_identity(cfg)
    # signing with gov4c's key while the certificate names bank's: refused as well
    gov4c_cfg = consortium.configs["gov4c"]
    gov4c_seed = bytes.fromhex(read(gov4c_cfg.path(gov4c_cfg.validator_key_file)).decode().strip())
    with pytest.raises(UntrustedCertificate, match="peers would attribute its messages to the wrong key"):
        check_own_identity(consortium.variant("bank", "signs-with-gov4c-key", validator_seed=gov4c_seed))

    async def main():
        moj = Node(consortium, consortium.configs["moj"])
        bank = Node(consortium, cfg)
        await started(moj, bank)
        try:
            bank.transport.send("moj", marker("bank"))
            await until(lambda: moj.transport.refused_connections >= 1 and bank.transport.peers["moj"].errors >= 1, "moj to refuse the mismatched node")
            assert moj.received == []
        finally:
            await stopped(moj, bank)

    run(main())


def test_check_own_identity_refuses_other_inconsistencies(consortium: Consortium):
    now = datetime.datetime.now(datetime.timezone.utc)
    vk = consortium.validator_key("bank")
    rogue_ca = pki.CertificateAuthority.create("Tamga Consortium Root CA", now)
    cases = {
        "other-ca": (dict(tls=consortium.issue(name="bank", validator_key=vk, ca=rogue_ca)), "not a consortium node certificate: certificate signature does not verify"),
        "wrong-name": (dict(tls=consortium.issue(name="bank", validator_key=vk, hosts=["localhost"])), r"is not issued for bank\.tamga, the name its peers check"),
        "foreign-key-file": (dict(tls=(consortium.tls("bank")[0], consortium.tls("moj")[1])), "does not belong to the certificate"),
    }
    for label, (change, message) in cases.items():
        with pytest.raises(UntrustedCertificate, match=message):
            check_own_identity(consortium.variant("bank", label, **change))
    # an EDS certificate is not a node certificate
    eds = consortium.ca.issue_eds(vk, name="bank", roles=["validator"], not_before=now - DAY, not_after=now + DAY)
    pem = x509.load_der_x509_certificate(eds).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(UntrustedCertificate, match="is a eds certificate, not a tls one"):
        check_own_identity(consortium.variant("bank", "eds", tls=(pem, consortium.tls("bank")[1])))
    # a malformed validator key file is a typed error too
    with pytest.raises(MalformedInput, match="32-byte seed"):
        check_own_identity(consortium.variant("bank", "short-seed", validator_seed=b"\x01" * 16))
    # validity, at the time the caller gives
    expired = consortium.variant("bank", "expired", tls=consortium.issue(name="bank", validator_key=vk, not_before=now - 30 * DAY, not_after=now - DAY))
    check_own_identity(expired)
    with pytest.raises(CertificateExpired, match="has expired"):
        check_own_identity(expired, int(now.timestamp() * 1000))


# --- hostile bytes from a configured peer ----------------------------------------------------
def test_peer_sending_bytes_that_are_not_a_peer_message_ends_only_its_stream(consortium: Consortium):
    """Only configured peers get this far (mutual TLS first). A PeerMessage that does not
    decode ends that stream (gRPC status UNKNOWN, from protobuf's DecodeError); what came
    before it is delivered, nothing after it, and the node keeps serving."""
    cert, key = consortium.tls("bank")

    async def main():
        moj = Node(consortium, consortium.configs["moj"])
        await started(moj)
        channel = grpc.aio.secure_channel(moj.config.peer_listen, grpc.ssl_channel_credentials(consortium.ca_pem, key, cert), options=[("grpc.ssl_target_name_override", tls_host("moj"))])
        try:
            raw_stream = channel.stream_unary("/tamga.v1.Peer/Stream", request_serializer=None, response_deserializer=pb.Ack.FromString)
            frames = [marker("bank", 1).SerializeToString(), b"\xff\xff\xff\xff not a PeerMessage", marker("bank", 3).SerializeToString()]
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await raw_stream(iter(frames), timeout=RPC_TIMEOUT_S)
            assert err.value.code() == grpc.StatusCode.UNKNOWN
            assert "DecodeError" in err.value.details()
            assert [(p, m.status.height) for p, m in moj.received] == [("bank", 1)]
            out = await call_as(moj.config.peer_listen, tls_host("moj"), cert, key, consortium.ca_pem, "Stream", [marker("bank", 4)])
            assert out.code == grpc.StatusCode.OK
            assert [(p, m.status.height) for p, m in moj.received] == [("bank", 1), ("bank", 4)]
        finally:
            await channel.close()
            await stopped(moj)

    run(main())
