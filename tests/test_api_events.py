"""Notifications against a real node: event pages, a server-sent event stream over a real
uvicorn socket, and webhooks POSTed to a real receiving server -- signed by the node, retried
with exponential back-off, and never lost across a restart of the node or while its API was
down."""

from __future__ import annotations

import asyncio
import base64
import json
import socket

import httpx
import pytest
import uvicorn

from api.client_auth import EdsAuth
from api.webhooks import WebhookSender
from cadastre import webhooks as hooks
from contracts import builders as B
from node import signing
from node.config import NodeConfig
from node.runner import NodeRuntime
from tests.cadastre_support import People, ThreadedNode, application_number, node_clock, pledge, register, running_node

pytestmark = pytest.mark.anyio
WAIT_S = 30


class Receiver:
    """A bank's system: an HTTP server that records what it is sent and answers with the
    statuses it is told to (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes]] = []
        self.arrived = asyncio.Event()
        self.port: int | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        status = self.statuses.pop(0) if self.statuses else 200
        self.received.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        self.arrived.set()
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def start(self, port: int = 0) -> "Receiver":
        self._server = uvicorn.Server(uvicorn.Config(self, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        self._server.install_signal_handlers = lambda: None
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tamga"

    async def wait_for(self, n: int) -> None:
        async def enough():
            while len(self.received) < n:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), WAIT_S)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def people(test_pki):
    return People(test_pki)


async def _pledge_and_register(node, p):
    filed = await node.submit(pledge(p), p.bank, p.owner)
    await node.submit(B.application_decide(application_number(filed), "register"), p.registrar)
    return filed


async def test_event_pages_hold_only_the_callers_notifications(tmp_path, test_pki, people):
    p = people
    async with running_node(str(tmp_path / "n"), test_pki, {"register": register(p)}) as node:
        await _pledge_and_register(node, p)
        page = (await node.client(p.bank).get("/v1/events")).json()
        kinds = [e["kind"] for e in page["events"]]
        assert kinds == ["application.filed", "application.registered"]
        assert all(p.bank_bin in e["recipients"] for e in page["events"])
        assert page["events"][1]["data"]["pledgee"] == p.bank_bin
        rest = (await node.client(p.bank).get("/v1/events", params={"after": page["events"][0]["id"]})).json()
        assert [e["kind"] for e in rest["events"]] == ["application.registered"]
        assert (await node.client(p.stranger).get("/v1/events")).json()["events"] == []
        one = (await node.client(p.owner).get("/v1/events", params={"limit": 1})).json()
        assert len(one["events"]) == 1 and one["next"] == one["events"][0]["id"]


def _sse(text: str) -> list[dict]:
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if fields:
            out.append(fields)
    return out


async def test_server_sent_events_over_a_real_socket(tmp_path, test_pki, people):
    p = people
    with ThreadedNode(str(tmp_path / "n"), test_pki, {"register": register(p)}) as tn:
        node = tn.node
        async with httpx.AsyncClient(base_url=tn.url, timeout=30) as anon:
            env = node.envelope(pledge(p), p.bank, p.owner)
            filed = (await anon.post("/v1/txs?wait_ms=20000", content=env, headers={"content-type": "application/octet-stream"})).json()
        async with httpx.AsyncClient(base_url=tn.url, auth=EdsAuth(p.bank.signer, p.bank.cert, node.chain_id, now_ms=node.rt.now_ms), timeout=30) as bank:
            # Replay up to a height, then the stream closes.
            r = await bank.get("/v1/events/stream", params={"until_height": filed["height"]})
            assert r.headers["content-type"].startswith("text/event-stream")
            events = _sse(r.text)
            assert [e["event"] for e in events] == ["application.filed"] and events[0]["id"] == f"{filed['height']}-0"
            # Follow: the stream delivers the registration as soon as it is committed.
            async with bank.stream("GET", "/v1/events/stream", headers={"Last-Event-ID": events[0]["id"]}) as stream:
                lines = stream.aiter_lines()
                assert (await asyncio.wait_for(lines.__anext__(), WAIT_S)).startswith(":")
                async with httpx.AsyncClient(base_url=tn.url, timeout=30) as anon:
                    env = node.envelope(B.application_decide(application_number(filed), "register"), p.registrar)
                    assert (await anon.post("/v1/txs", content=env, headers={"content-type": "application/octet-stream"})).status_code == 202
                got = {}
                while "data" not in got:
                    line = await asyncio.wait_for(lines.__anext__(), WAIT_S)
                    if line and not line.startswith(":"):
                        k, v = line.split(": ", 1)
                        got[k] = v
                assert got["event"] == "application.registered"
                assert json.loads(got["data"])["data"]["pledgee"] == p.bank_bin
        async with httpx.AsyncClient(base_url=tn.url, timeout=30) as anon:
            r = await anon.get("/v1/events/stream")
            assert r.status_code == 401 and r.json()["code"] == "UNAUTHENTICATED"


def _check_signed(node, headers: dict, body: bytes) -> dict:
    key = bytes.fromhex(headers["x-tamga-node-key"])
    assert key == node.rt.signer.public_key
    assert signing.verify(key, base64.b64decode(headers["x-tamga-signature"]), "webhook", node.chain_id, body)
    return json.loads(body)


async def test_webhooks_are_delivered_signed(tmp_path, test_pki, people):
    p = people
    recv = await Receiver().start()
    try:
        async with running_node(str(tmp_path / "n"), test_pki, {"register": register(p)}) as node:
            r = await node.client(p.bank).post("/v1/webhooks", json={"url": recv.url})
            assert r.status_code == 201 and r.json()["recipients"] == sorted([p.bank.iin, p.bank_bin])
            hook_id = r.json()["id"]
            await _pledge_and_register(node, p)
            await recv.wait_for(2)
            bodies = [_check_signed(node, h, b) for h, b in recv.received]
            assert [b["event"]["kind"] for b in bodies] == ["application.filed", "application.registered"]
            assert {h["x-tamga-delivery"] for h, _ in recv.received} == {f"{hook_id}-{b['height']}-{b['seq']}" for b in bodies}

            async def all_delivered():
                while True:
                    ds = (await node.client(p.bank).get(f"/v1/webhooks/{hook_id}/deliveries")).json()["deliveries"]
                    if len(ds) == 2 and all(d["status"] == "delivered" for d in ds):
                        return ds
                    await asyncio.sleep(0.05)

            deliveries = await asyncio.wait_for(all_delivered(), WAIT_S)
            assert [d["attempts"] for d in deliveries] == [1, 1]
            assert (await node.client(p.stranger).get(f"/v1/webhooks/{hook_id}/deliveries")).status_code == 404
            listed = (await node.client(p.bank).get("/v1/webhooks")).json()["webhooks"]
            assert [w["id"] for w in listed] == [hook_id]
            assert (await node.client(p.bank).delete(f"/v1/webhooks/{hook_id}")).status_code == 204
            assert (await node.client(p.bank).get("/v1/webhooks")).json()["webhooks"] == []
    finally:
        await recv.stop()


async def test_failed_deliveries_back_off_exponentially(tmp_path, test_pki, people):
    """On a clock the test moves: 1 s, then 2 s, then 4 s between attempts, until a 2xx."""
    p = people
    recv = await Receiver(statuses=[500, 503, 502]).start()
    try:
        async with running_node(str(tmp_path / "n"), test_pki, {"register": register(p)}) as node:
            await node.svc.sender.stop()         # the test drives its own sender on its own clock
            hook = (await node.client(p.bank).post("/v1/webhooks", json={"url": recv.url, "kinds": ["application.filed"]})).json()
            await node.submit(pledge(p), p.bank, p.owner)
            t = [1_000_000]
            sender = WebhookSender(node.svc.db, signer=node.rt.signer, chain_id=node.chain_id, node_name="solo", now_ms=lambda: t[0])
            schedule = []
            for _ in range(40):
                if await sender.send_due():
                    schedule.append(t[0])
                t[0] += 250
            await sender.stop()
            assert [s - schedule[0] for s in schedule] == [0, 1000, 3000, 7000]
            assert len(recv.received) == 4 and len({h["x-tamga-delivery"] for h, _ in recv.received}) == 1
            (d,) = hooks.deliveries(node.svc.db, hook["id"])
            assert d["status"] == "delivered" and d["attempts"] == 4 and d["last_error"] is None
    finally:
        await recv.stop()


async def test_deliveries_survive_a_restart(tmp_path, test_pki, people):
    p = people
    base = str(tmp_path / "n")
    port = free_port()
    url = f"http://127.0.0.1:{port}/tamga"
    async with running_node(base, test_pki, {"register": register(p)}) as node:
        hook = (await node.client(p.bank).post("/v1/webhooks", json={"url": url})).json()
        await node.submit(pledge(p), p.bank, p.owner)
        pending = hooks.deliveries(node.svc.db, hook["id"])
        assert [d["status"] for d in pending] == ["pending"]          # nobody listens yet
    recv = await Receiver().start(port)
    try:
        async with running_node(base, test_pki, {}) as node:
            await recv.wait_for(1)
            body = _check_signed(node, *recv.received[0])
            assert body["event"]["kind"] == "application.filed" and body["webhook"] == hook["id"]
    finally:
        await recv.stop()


async def test_blocks_committed_while_the_api_was_down_are_projected_and_delivered(tmp_path, test_pki, people):
    """The projection keeps its own cursor: on start it catches up from the chain and queues
    the deliveries of every block it had not seen."""
    p = people
    base = str(tmp_path / "n")
    recv = await Receiver().start()
    try:
        async with running_node(base, test_pki, {"register": register(p)}) as node:
            await node.client(p.bank).post("/v1/webhooks", json={"url": recv.url})
        # The node runs without its HTTP API (so without the projection) and commits a block.
        rt = NodeRuntime(NodeConfig.load(f"{base}/config.json"), now_ms=node_clock())
        await rt.start()
        tx = rt.submit(next_envelope(rt, p))
        await rt.hub.wait_tx(tx.tx_id, WAIT_S, lambda t: (rt.chain.tx_location(t) or (None,))[0])
        await rt.stop()
        async with running_node(base, test_pki, {}) as node:
            assert node.svc.projection.height == node.rt.chain.head.height
            await recv.wait_for(1)
            assert _check_signed(node, *recv.received[0])["tx_id"] == tx.tx_id.hex()
    finally:
        await recv.stop()


def next_envelope(rt, p) -> bytes:
    from node import envelope

    kind, payload = pledge(p)
    return envelope.build_envelope(rt.genesis.chain_id, kind, payload, [p.bank.pair, p.owner.pair], 777)

