"""Node-to-node transport: gRPC with mutual TLS from the consortium CA (design decision 9).

Every node serves the Peer service and keeps one outgoing stream to every other node.
- A connection is accepted only with a TLS certificate issued by the consortium CA that
  names (in its validator-key extension) a key of a configured peer; messages on it are
  attributed to that peer. A node without a consortium certificate cannot connect.
- Outgoing, the server must present a certificate for the expected peer's name (the CA
  binds that name to the peer's validator key), checked through gRPC's target name.
- Sends never block consensus: each peer has a bounded queue; when it is full the oldest
  message is dropped (consensus retransmits what matters), and a broken stream reconnects
  with back-off.
May import: grpc, node.*, proto.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import AsyncIterator, Awaitable, Callable

import grpc

from node.config import NodeConfig, PeerConfig
from node.errors import TamgaError
from node.pki import CertificateVerifier, der_from_pem
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
    def __init__(self, config: NodeConfig, verifier: CertificateVerifier, on_message: OnMessage, sync_source: SyncSource, status_source: StatusSource):
        self.config = config
        self.verifier = verifier
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
            try:
                stub = pbg.PeerStub(self.channel(peer))

                async def outgoing() -> AsyncIterator[pb.PeerMessage]:
                    while True:
                        msg = await state.queue.get()
                        state.connected = True
                        state.sent += 1
                        yield msg

                await stub.Stream(outgoing())
            except asyncio.CancelledError:
                raise
            except grpc.aio.AioRpcError as err:
                state.errors += 1
                if state.connected:
                    log.info("peer %s stream ended: %s", peer, err.code().name)
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
        auth = context.auth_context()
        pems = auth.get("x509_pem_cert")
        if not pems:
            return None
        try:
            cred = self.verifier.credential(der_from_pem(pems[0]), tls=True)
        except (TamgaError, ValueError):
            return None
        return self._by_key.get(cred.public_key)


class _PeerServicer(pbg.PeerServicer):
    def __init__(self, transport: PeerTransport):
        self.t = transport

    async def _require_peer(self, context) -> str:
        peer = self.t.identify(context)
        if peer is None:
            self.t.refused_connections += 1
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not a consortium node: its TLS certificate names no configured validator key")
        return peer

    async def Stream(self, request_iterator, context):
        peer = await self._require_peer(context)
        async for msg in request_iterator:
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
