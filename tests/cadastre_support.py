"""Test support for the cadastre and the API: a real node (NodeRuntime with the solo engine,
the real Chain on LevelDB, the registration contracts) in a temporary directory, its HTTP
app, and parties with EDS certificates from a test CA. Requests are signed the way bank
systems sign them (api/client_auth.py)."""

from __future__ import annotations

import pytest

import asyncio
import contextlib
import datetime
import itertools
import json
import os

import httpx

from api.app import create_app
from api.client_auth import EdsAuth
from contracts import builders as B
from node import envelope, identity, pki, signing
from node.config import NodeConfig
from node.genesis import Genesis, Validator
from node.runner import NodeRuntime
from tests.ledger_support import CHAIN_ID, GENESIS_TIME, GENESIS_TIME_MS, Party, TestPKI

CN = "21-320-030-406"
CN2 = "21-320-030-407"
CN3 = "01-001-001-001"          # owned by a legal entity
AMOUNT = 30_000_000_00          # 30 million tenge in tiyn


class People:
    """Everyone the tests need, with real EDS keys and certificates from the test CA."""

    def __init__(self, test_pki: TestPKI):
        d = datetime.date

        def p(name: str, roles, *, iin: str, bin: str | None = None, organisation: str | None = None) -> Party:
            party = test_pki.party(name, roles, iin=iin, bin=bin, organisation=organisation)
            party.iin, party.bin = iin, bin  # what the certificate binds, for the tests to read
            return party

        self.pki = test_pki
        self.owner = p("Aigerim Owner", ("citizen",), iin=identity.make_iin(d(1985, 4, 12), "F", 101))
        self.co_owner = p("Nurlan Co-owner", ("citizen",), iin=identity.make_iin(d(1979, 9, 3), "M", 102))
        self.stranger = p("Random Citizen", ("citizen",), iin=identity.make_iin(d(1990, 1, 20), "M", 103))
        self.heir = p("Heir Citizen", ("citizen",), iin=identity.make_iin(d(2001, 2, 2), "F", 104))
        self.bank_bin = identity.make_bin(d(1999, 12, 1), 3003)
        self.bank = p("ForteBank loans desk", ("bank",), iin=identity.make_iin(d(1975, 5, 5), "M", 105), bin=self.bank_bin, organisation="ForteBank JSC")
        self.registrar = p("Registrar Sadykova", ("registrar",), iin=identity.make_iin(d(1982, 6, 6), "F", 106), bin=identity.make_bin(d(2016, 3, 1), 2002),
                           organisation="State Corporation Government for Citizens")
        self.court = p("Judge Akhmetov", ("court",), iin=identity.make_iin(d(1970, 7, 7), "M", 107), bin=identity.make_bin(d(1996, 1, 1), 8008), organisation="Astana city court")
        self.lawyer = p("Lawyer Bekova", ("lawyer",), iin=identity.make_iin(d(1988, 8, 8), "F", 108))
        self.auditor = p("Auditor Omarov", ("auditor",), iin=identity.make_iin(d(1977, 3, 3), "M", 109))
        self.company_bin = identity.make_bin(d(2005, 5, 1), 9009)
        self.company = p("Director of Dala LLP", ("legal_entity",), iin=identity.make_iin(d(1969, 11, 11), "M", 110), bin=self.company_bin, organisation="Dala LLP")


def register(people: People, extra: int = 0) -> list[dict]:
    """The genesis register: CN owned by the owner, CN2 in shared ownership, CN3 by a company,
    plus `extra` plain plots."""
    objs = [
        B.loaded_object(CN, "apartment", B.ident("Astana, Mangilik El 12, apt 5", 650_000, floors=9, area_living_dm2=420_000), [B.ownership(B.holder(people.owner.iin))]),
        B.loaded_object(CN2, "land", B.ident("Almaty, Abay 150", 6_000_000, land_category="settlements"),
                        [B.ownership(B.holder(people.owner.iin, 1, 2), B.holder(people.co_owner.iin, 1, 2), common="shared")]),
        B.loaded_object(CN3, "building", B.ident("Astana, Kabanbay batyr 2", 90_000_000), [B.ownership(B.holder(people.company_bin))]),
    ]
    for i in range(extra):
        objs.append(B.loaded_object(f"02-{i // 1000000:03d}-{i // 1000 % 1000:03d}-{i % 1000:03d}", "land", B.ident(f"Aktobe, street {i}", 5_000_000),
                                    [B.ownership(B.holder(people.stranger.iin))]))
    return objs


def write_node(base: str, test_pki: TestPKI, app_state: dict, *, validator: signing.Signer | None = None, name: str = "solo") -> NodeConfig:
    """A one-validator node directory: genesis, validator key, TLS certificate, config."""
    validator = validator or signing.Signer.generate()
    os.makedirs(base, exist_ok=True)
    genesis = Genesis(
        chain_id=CHAIN_ID,
        genesis_time_ms=GENESIS_TIME_MS,
        ca_certificate_pem=test_pki.ca.cert_pem.decode(),
        validators=(Validator(name, validator.public_key, 1, "Ministry of Justice"),),
        app="tamga-registry/1",
        consensus={"block_interval_ms": 20},
        app_state=app_state,
    )
    with open(os.path.join(base, "genesis.json"), "wb") as f:
        f.write(genesis.to_json())
    with open(os.path.join(base, "validator.key"), "w") as f:
        f.write(validator.seed.hex())
    tls_key = pki.new_tls_key()
    tls_pem = test_pki.ca.issue_tls(tls_key, name=name, validator_key=validator.public_key, hosts=["localhost"], not_before=GENESIS_TIME - datetime.timedelta(days=1),
                                    not_after=GENESIS_TIME + datetime.timedelta(days=3650), organisation="Ministry of Justice")
    with open(os.path.join(base, "tls.pem"), "wb") as f:
        f.write(tls_pem)
    with open(os.path.join(base, "tls.key"), "wb") as f:
        f.write(pki.private_key_pem(tls_key))
    with open(os.path.join(base, "ca.pem"), "wb") as f:
        f.write(test_pki.ca.cert_pem)
    cfg = NodeConfig(name=name, organisation="Ministry of Justice", genesis_file="genesis.json", data_dir="data", validator_key_file="validator.key",
                     tls_cert_file="tls.pem", tls_key_file="tls.key", ca_cert_file="ca.pem", peer_listen="127.0.0.1:0", ledger_listen="127.0.0.1:0", http_listen="")
    path = os.path.join(base, "config.json")
    cfg.save(path)
    return NodeConfig.load(path)


def node_clock():
    """The node's clock: an hour after genesis (a Monday morning in Astana), running at the
    pace of real time, so blocks fall in the same business day as genesis whatever today's
    date (block 1 has genesis time; later blocks the validator's clock)."""
    import time  # noqa: PLC0415

    t0 = time.monotonic()
    return lambda: GENESIS_TIME_MS + 3_600_000 + int((time.monotonic() - t0) * 1000)


class Node:
    """A running node with its API app (lifespan started) and signed clients per party."""

    def __init__(self, config: NodeConfig, runtime: NodeRuntime, app):
        self.config = config
        self.rt = runtime
        self.app = app
        self.svc = app.state.svc
        self.chain_id = runtime.genesis.chain_id
        self._nonce = itertools.count(1)
        self._clients: list[httpx.AsyncClient] = []

    def client(self, party: Party | None = None, **kw) -> httpx.AsyncClient:
        auth = EdsAuth(party.signer, party.cert, self.chain_id, now_ms=self.rt.now_ms) if party is not None else None
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://node", auth=auth, timeout=30, **kw)
        self._clients.append(c)
        return c

    def envelope(self, built: tuple[str, dict], *parties: Party) -> bytes:
        kind, payload = built
        return envelope.build_envelope(self.chain_id, kind, payload, [p.pair for p in parties], next(self._nonce))

    async def submit(self, built: tuple[str, dict], *parties: Party) -> dict:
        """Submit through the API and wait for the commit; the tx status."""
        r = await self.client().post("/v1/txs?wait_ms=20000", content=self.envelope(built, *parties), headers={"content-type": "application/octet-stream"})
        assert r.status_code == 200, r.text
        return r.json()

    async def close(self) -> None:
        for c in self._clients:
            await c.aclose()


@contextlib.asynccontextmanager
async def running_node(base: str, test_pki: TestPKI, app_state: dict, *, validator: signing.Signer | None = None, projection_path: str | None = None):
    config = write_node(base, test_pki, app_state, validator=validator) if not os.path.exists(os.path.join(base, "config.json")) else NodeConfig.load(os.path.join(base, "config.json"))
    rt = NodeRuntime(config, now_ms=node_clock())
    await rt.start()
    app = create_app(rt, projection_path=projection_path)
    node = Node(config, rt, app)
    try:
        async with app.router.lifespan_context(app):
            yield node
    finally:
        await node.close()
        await rt.stop()
        await asyncio.sleep(0)


def pledge(people: People, cn: str = CN) -> tuple[str, dict]:
    return B.pledge_file(cn, people.bank_bin, AMOUNT, "2036-03-01", "loan 2026/1", [B.doc("title.pdf", b"title"), B.doc("receipt.pdf", b"receipt")])


def application_number(status: dict) -> int:
    return status["application"]["number"]


def dumps(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False)


def solo_registry(kv, test_pki: TestPKI, people: People, *, extra: int = 0, validator: signing.Signer | None = None, clock=None):
    """A one-validator registry chain driven synchronously (SoloNode: mempool + sealer)."""
    from contracts import RegistryExecutor  # noqa: PLC0415
    from tests.ledger_support import SoloNode, solo_genesis  # noqa: PLC0415

    validator = validator or signing.Signer(bytes(range(32)))
    genesis = solo_genesis(test_pki, validator, app="tamga-registry/1", app_state={"register": register(people, extra)})
    return SoloNode(kv, test_pki, validator=validator, genesis=genesis, executor=RegistryExecutor(), now_ms=clock)


def seal(node, built: tuple[str, dict], *parties: Party):
    """Submit one tx and seal it into its own block; (prepared block, receipt)."""
    kind, payload = built
    tx = node.submit(kind, payload, *parties)
    prepared = node.sealer.seal()
    assert prepared is not None
    receipt = node.chain.receipts(prepared.height).receipts[[t.tx_id for t in prepared.txs].index(tx.tx_id)]
    return prepared, receipt


def application_of(receipt) -> int:
    from node import codec  # noqa: PLC0415

    for ev in receipt.events:
        data = codec.decode(ev.data)
        if "application" in data:
            return data["application"]
    raise AssertionError(f"no application in receipt {receipt.code}")


def tls_certificate(test_pki: TestPKI, validator: signing.Signer, name: str = "solo") -> str:
    """A CA-issued TLS certificate carrying `validator`'s key (what extracts carry)."""
    return test_pki.ca.issue_tls(pki.new_tls_key(), name=name, validator_key=validator.public_key, hosts=["localhost"],
                                 not_before=GENESIS_TIME - datetime.timedelta(days=1), not_after=GENESIS_TIME + datetime.timedelta(days=3650),
                                 organisation="Ministry of Justice").decode()


class ThreadedNode:
    """A node and its HTTP API served by uvicorn on a real socket, in a thread of its own with
    its own event loop (as `tamga node run` serves it), for tests that talk to it from outside
    over TCP: the property run over the OpenAPI schema, server-sent events."""

    def __init__(self, base: str, test_pki: TestPKI, app_state: dict):
        import threading  # noqa: PLC0415

        self.base, self.pki, self.app_state = base, test_pki, app_state
        self.port: int | None = None
        self.node: Node | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="node", daemon=True)

    def __enter__(self) -> "ThreadedNode":
        self._thread.start()
        assert self._ready.wait(60), "the node did not start within 60 s"
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surfaced to the test thread
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        import uvicorn  # noqa: PLC0415

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with running_node(self.base, self.pki, self.app_state) as node:
            self.node = node
            server = uvicorn.Server(uvicorn.Config(node.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
            server.install_signal_handlers = lambda: None
            task = asyncio.create_task(server.serve())
            while not server.started:
                if task.done():
                    task.result()       # raises what stopped the server
                    raise RuntimeError("uvicorn exited before it started")
                await asyncio.sleep(0.01)
            self.port = server.servers[0].sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()
            server.should_exit = True
            await task


@pytest.fixture
async def api_node(tmp_path, test_pki):
    """A running node with the demo people and register (the fixture several API test files use)."""
    people = People(test_pki)
    async with running_node(str(tmp_path / "node"), test_pki, {"register": register(people)}) as n:
        n.people = people
        yield n
