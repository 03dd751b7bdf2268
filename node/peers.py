"""Node-to-node transport: gRPC with mutual TLS from the consortium CA (design decision 9).

Every node serves the Peer service and keeps one outgoing stream to every other node.
- A connection is accepted only with a TLS certificate issued by the consortium CA that
  names (in its validator-key extension) a key of a configured peer; messages on it are
  attributed to that peer. A node without a consortium certificate cannot connect.
- The TLS layer (BoringSSL) already refuses certificates of another CA and expired or not
  yet valid ones at the handshake. `authenticate` checks again what the TLS layer cannot
  know: revocation (ledger state, through the `is_revoked` hook), the validator key, and
  that the certificate is issued for that peer's name. It re-checks revocation and validity
  on every message of an open stream, so revoking a node's certificate cuts it off.
- `check_own_identity` is the start-up check that a node's TLS certificate names the very
  key it signs votes with (otherwise its peers would attribute its messages to another key).
- Outgoing, the server must present a certificate for the expected peer's name (the CA
  binds that name to the peer's validator key), checked through gRPC's target name.
- Sends never block consensus: each peer has a bounded queue; when it is full the oldest
  message is dropped (consensus retransmits what matters), and a broken stream reconnects
  with back-off.
May import: grpc, cryptography (to read certificates), node.*, proto.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import AsyncIterator, Awaitable, Callable

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from node.config import NodeConfig, PeerConfig
from node.errors import CertificateRevoked, MalformedInput, TamgaError, UntrustedCertificate
from node.interfaces import Credential
from node.pki import CertificateVerifier
from node.signing import Signer
from proto import tamga_pb2 as pb
from proto import tamga_pb2_grpc as pbg

log = logging.getLogger("tamga.peers")

PEER_QUEUE_MAX = 10_000
MESSAGE_BYTES_MAX = 64 * 1024 * 1024
RECONNECT_MS_MIN = 50
RECONNECT_MS_MAX = 2_000
SYNC_BLOCKS_MAX = 500

GRPC_OPTIONS = [
    ("grpc.max_send_message_length", MESSAGE_BYTES_MAX),
    ("grpc.max_receive_message_length", MESSAGE_BYTES_MAX),
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.http2.max_pings_without_data", 0),
]


def tls_host(peer_name: str) -> str:
    """The DNS name in a node's TLS certificate that identifies it to its peers."""
    return f"{peer_name}.tamga"


def never_revoked(fingerprint: bytes) -> bool:
    return False


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def dns_names(cert: x509.Certificate) -> list[str]:
    """The DNS names a certificate is issued for (its subject alternative names)."""
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        return []


def _spki(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_own_identity(config: NodeConfig, now_ms: int | None = None) -> None:
    """Raise UntrustedCertificate unless this node's TLS identity is consistent with itself.

    Its TLS certificate must be issued by the consortium CA (ca_cert_file), name in its
    validator-key extension the key in validator_key_file (the key it signs votes with),
    be issued for the name its peers check (tls_host(config.name)), and match tls_key_file.
    With `now_ms`, it must also be valid then (CertificateExpired otherwise); a validator
    key file that is not a 32-byte hex seed is MalformedInput. A node that failed this
    would be refused by every peer, or have its messages attributed to another key, so the
    runtime calls it before starting."""
    cert_file = config.path(config.tls_cert_file)
    with open(config.path(config.ca_cert_file), "rb") as f:
        verifier = CertificateVerifier(f.read())
    with open(cert_file, "rb") as f:
        cert_pem = f.read()
    with open(config.path(config.tls_key_file), "rb") as f:
        key_pem = f.read()
    with open(config.path(config.validator_key_file)) as f:
        seed_hex = f.read().strip()
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise UntrustedCertificate(f"this node's TLS certificate {cert_file} is not a PEM X.509 certificate") from None
    try:
        cred = verifier.credential(cert.public_bytes(serialization.Encoding.DER), tls=True)
    except UntrustedCertificate as err:
        raise UntrustedCertificate(f"this node's TLS certificate {cert_file} is not a consortium node certificate: {err.message}") from None
    try:
        seed = bytes.fromhex(seed_hex)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise MalformedInput(f"validator key file {config.path(config.validator_key_file)} must hold a 32-byte seed as 64 hex digits")
    signing_key = Signer(seed).public_key
    if cred.public_key != signing_key:
        raise UntrustedCertificate(
            f"this node's TLS certificate {cert_file} names validator key {cred.public_key.hex()}, but the node signs with "
            f"{signing_key.hex()} ({config.validator_key_file}); peers would attribute its messages to the wrong key. "
            "Have the CA issue a TLS certificate for the signing key, or use the matching validator key"
        )
    host = tls_host(config.name)
    if host not in dns_names(cert):
        raise UntrustedCertificate(f"this node's TLS certificate {cert_file} is not issued for {host}, the name its peers check; it names {dns_names(cert)}")
    try:
        tls_key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise UntrustedCertificate(f"TLS key file {config.path(config.tls_key_file)} is not an unencrypted PEM private key") from None
    if _spki(tls_key.public_key()) != _spki(cert.public_key()):
        raise UntrustedCertificate(f"TLS key file {config.path(config.tls_key_file)} does not belong to the certificate {cert_file}")
    if now_ms is not None:
        cred.check_valid_at(now_ms)


@dataclasses.dataclass
class PeerState:
    config: PeerConfig
    queue: asyncio.Queue
    connected: bool = False
    sent: int = 0
    dropped: int = 0
    errors: int = 0
    last_status: pb.PeerStatus | None = None


OnMessage = Callable[[str, pb.PeerMessage], None]
SyncSource = Callable[[int, int], list[tuple[bytes, bytes]]]
StatusSource = Callable[[], pb.PeerStatus]


class PeerTransport:
    def __init__(
        self,
        config: NodeConfig,
        verifier: CertificateVerifier,
        on_message: OnMessage,
        sync_source: SyncSource,
        status_source: StatusSource,
        *,
        is_revoked: Callable[[bytes], bool] = never_revoked,
        now_ms: Callable[[], int] = wall_clock_ms,
    ):
        """`is_revoked(fingerprint)` says whether a certificate is revoked in ledger state
        (the runtime passes chain.is_revoked); `now_ms` is the clock validity is checked at."""
        self.config = config
        self.verifier = verifier
        self.is_revoked = is_revoked
        self.now_ms = now_ms
        self.on_message = on_message
        self.sync_source = sync_source
        self.status_source = status_source
        self.peers = {p.name: PeerState(p, asyncio.Queue(PEER_QUEUE_MAX)) for p in config.peers}
        self._by_key = {bytes.fromhex(p.validator_key): p.name for p in config.peers}
        self._server: grpc.aio.Server | None = None
        self._tasks: list[asyncio.Task] = []
        self._channels: dict[str, grpc.aio.Channel] = {}
        with open(config.path(config.ca_cert_file), "rb") as f:
            self._ca_pem = f.read()
        with open(config.path(config.tls_cert_file), "rb") as f:
            self._cert_pem = f.read()
        with open(config.path(config.tls_key_file), "rb") as f:
            self._key_pem = f.read()
        self.refused_connections = 0

    # --- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self._server = grpc.aio.server(options=GRPC_OPTIONS)
        pbg.add_PeerServicer_to_server(_PeerServicer(self), self._server)
        creds = grpc.ssl_server_credentials([(self._key_pem, self._cert_pem)], root_certificates=self._ca_pem, require_client_auth=True)
        self._server.add_secure_port(self.config.peer_listen, creds)
        await self._server.start()
        for name in self.peers:
            self._tasks.append(asyncio.create_task(self._sender(name), name=f"peer-send-{name}"))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for ch in self._channels.values():
            await ch.close(grace=None)
        if self._server is not None:
            await self._server.stop(grace=0.2)

    # --- sending ---------------------------------------------------------------------
    def send(self, peer: str, msg: pb.PeerMessage) -> None:
        state = self.peers.get(peer)
        if state is None:
            return
        if state.queue.full():
            state.queue.get_nowait()
            state.dropped += 1
        state.queue.put_nowait(msg)

    def broadcast(self, msg: pb.PeerMessage) -> None:
        for name in self.peers:
            self.send(name, msg)

    def channel(self, peer: str) -> grpc.aio.Channel:
        ch = self._channels.get(peer)
        if ch is None:
            creds = grpc.ssl_channel_credentials(self._ca_pem, self._key_pem, self._cert_pem)
            options = GRPC_OPTIONS + [("grpc.ssl_target_name_override", tls_host(peer))]
            ch = grpc.aio.secure_channel(self.peers[peer].config.address, creds, options=options)
            self._channels[peer] = ch
        return ch

    async def _sender(self, peer: str) -> None:
        state = self.peers[peer]
        backoff = RECONNECT_MS_MIN
        while True:
            live = True
            call = None
            try:
                stub = pbg.PeerStub(self.channel(peer))

                async def outgoing() -> AsyncIterator[pb.PeerMessage]:
                    # Stops as soon as its call is over: a generator left running after a
                    # failed stream would take (and lose) messages meant for the next one.
                    while live:
                        msg = await state.queue.get()
                        if not live:
                            return
                        state.connected = True
                        state.sent += 1
                        yield msg

                call = stub.Stream(outgoing())
                await call
            except asyncio.CancelledError:
                raise
            except grpc.aio.AioRpcError as err:
                state.errors += 1
                if state.connected:
                    log.info("peer %s stream ended: %s", peer, err.code().name)
            finally:
                live = False
                if call is not None:
                    call.cancel()
            if state.connected:
                backoff = RECONNECT_MS_MIN  # it worked for a while: reconnect quickly
            state.connected = False
            await asyncio.sleep(backoff / 1000)
            backoff = min(backoff * 2, RECONNECT_MS_MAX)

    # --- syncing ---------------------------------------------------------------------
    async def fetch_blocks(self, peer: str, from_height: int, max_blocks: int = SYNC_BLOCKS_MAX, timeout_s: float = 10.0) -> list[tuple[bytes, bytes]]:
        stub = pbg.PeerStub(self.channel(peer))
        out = []
        call = stub.Sync(pb.SyncRequest(from_height=from_height, max_blocks=max_blocks), timeout=timeout_s)
        async for item in call:
            out.append((item.block, item.commit))
        return out

    async def peer_status(self, peer: str, timeout_s: float = 2.0) -> pb.PeerStatus:
        stub = pbg.PeerStub(self.channel(peer))
        status = await stub.Status(pb.StatusRequest(), timeout=timeout_s)
        self.peers[peer].last_status = status
        return status

    # --- identity of incoming connections ----------------------------------------------
    def identify(self, context: grpc.aio.ServicerContext) -> str | None:
        """The configured peer this connection's TLS certificate belongs to, or None."""
        try:
            return self.authenticate(context)[0]
        except TamgaError:
            return None

    def authenticate(self, context: grpc.aio.ServicerContext) -> tuple[str, Credential]:
        """The configured peer this connection's TLS certificate belongs to, and the
        certificate's credential; a typed error saying why not otherwise:
        UntrustedCertificate (no certificate, not the consortium CA's, no configured peer's
        validator key, or not issued for that peer's name), CertificateExpired,
        CertificateRevoked."""
        pems = context.auth_context().get("x509_pem_cert")
        if not pems:
            raise UntrustedCertificate("the connection presented no TLS client certificate")
        try:
            cert = x509.load_pem_x509_certificate(pems[0])
        except ValueError:
            raise UntrustedCertificate("the connection's TLS certificate is not valid PEM X.509") from None
        cred = self.verifier.check(cert.public_bytes(serialization.Encoding.DER), self.now_ms(), self.is_revoked, tls=True)
        peer = self._by_key.get(cred.public_key)
        if peer is None:
            raise UntrustedCertificate(f"TLS certificate of {cred.name} names validator key {cred.public_key.hex()}, which is no configured peer's")
        # The CA binds a name to a key; the key must be this peer's *and* the certificate
        # issued for this peer's name, as the outgoing side checks (tls_host).
        if tls_host(peer) not in dns_names(cert):
            raise UntrustedCertificate(f"TLS certificate of {cred.name} names the validator key of {peer} but is not issued for {tls_host(peer)}")
        return peer, cred

    def still_trusted(self, cred: Credential) -> None:
        """Re-check, on an open stream, what can change while it is open."""
        cred.check_valid_at(self.now_ms())
        if self.is_revoked(cred.fingerprint):
            raise CertificateRevoked(f"certificate of {cred.name} (serial {cred.serial}) has been revoked")


class _PeerServicer(pbg.PeerServicer):
    def __init__(self, transport: PeerTransport):
        self.t = transport

    async def _refuse(self, context, err: TamgaError):
        self.t.refused_connections += 1
        log.warning("refused peer connection from %s: %s", context.peer(), err)
        context.set_trailing_metadata((("tamga-code", err.code),))
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{err.code}: {err.message}")

    async def _require_peer(self, context) -> tuple[str, Credential]:
        try:
            return self.t.authenticate(context)
        except TamgaError as err:
            await self._refuse(context, err)
            raise AssertionError("context.abort returns only by raising")

    async def Stream(self, request_iterator, context):
        peer, cred = await self._require_peer(context)
        async for msg in request_iterator:
            try:
                self.t.still_trusted(cred)
            except TamgaError as err:
                await self._refuse(context, err)
            self.t.on_message(peer, msg)
        return pb.Ack()

    async def Sync(self, request, context):
        await self._require_peer(context)
        count = min(request.max_blocks or SYNC_BLOCKS_MAX, SYNC_BLOCKS_MAX)
        for block, commit in self.t.sync_source(request.from_height, count):
            yield pb.SyncBlock(block=block, commit=commit)

    async def Status(self, request, context):
        await self._require_peer(context)
        return self.t.status_source()
