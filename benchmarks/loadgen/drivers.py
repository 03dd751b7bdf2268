"""Talking to the consortium through its public APIs.

- HttpDriver: the node's HTTP API. A tx is POSTed to /v1/txs?wait_ms=W as protobuf bytes,
  so one request both submits and waits for the commit (200 with the receipt, 202 when not
  committed within W); an encumbrance check is an EDS-signed GET of
  /v1/objects/{cn}/encumbrances (api/client_auth.py).
- GrpcDriver: the gRPC Ledger bank systems use, in one of GRPC_MODES: "stream" (one
  SubmitStream per node, every client's envelope in flight on it), "one" (SubmitAndWait, one
  call per tx) or "two" (Submit, then WaitTx: the original two round trips). Envelope bytes
  are sent as they are (no re-encoding by the generator).
- EventStream: one subscriber's server-sent event stream (/v1/events/stream, EDS-signed),
  recording when each tx's first event arrived.
Every call has a deadline; a node that dies turns into error or timeout records, never a hang.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time

import grpc
import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.client_auth import signed_headers
from benchmarks.loadgen.population import Party
from benchmarks.loadgen.workload import APPLIED, ERROR, REFUSED, TIMEOUT, StepResult
from node import codec
from proto import tamga_pb2 as pb

SUBMIT_TIMEOUT_S = 10.0


class Signed:
    """Signs GET requests for parties, keeping each party's timestamps distinct (a repeated
    signature would be refused as a replay)."""

    def __init__(self, chain_id: str):
        self.chain_id = chain_id
        self._last: dict[str, int] = {}

    def headers(self, party: Party, path_qs: str, method: str = "GET", body: bytes = b"") -> dict[str, str]:
        ts = max(int(time.time() * 1000), self._last.get(party.name, 0) + 1)
        self._last[party.name] = ts
        return signed_headers(party.signer, party.cert, self.chain_id, method, path_qs, body, ts)


class HttpDriver:
    name = "http"

    def __init__(self, urls: dict[str, str], chain_id: str, *, wait_s: float = 30.0, connections: int = 200):
        self.urls = urls
        self.wait_ms = int(wait_s * 1000)
        self.sign = Signed(chain_id)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.clients = {n: httpx.AsyncClient(base_url=u, limits=limits, timeout=httpx.Timeout(wait_s + 10, connect=5.0)) for n, u in urls.items()}

    async def submit(self, node: str, env: bytes) -> StepResult:
        try:
            r = await self.clients[node].post(f"/v1/txs?wait_ms={self.wait_ms}", content=env, headers={"content-type": "application/octet-stream"})
        except httpx.HTTPError as exc:
            return StepResult(ERROR, f"TRANSPORT {type(exc).__name__}")
        if r.status_code == 200:
            d = r.json()
            rc = d["receipt"]
            events = [(e["kind"], e["data"]) for e in d.get("events", [])]
            return StepResult(APPLIED if rc["status"] == "applied" else REFUSED, rc["code"], events, int(d.get("height") or 0), bytes.fromhex(d["tx_id"]))
        if r.status_code == 202:
            return StepResult(TIMEOUT, "NOT_COMMITTED_WITHIN_WAIT", tx_id=bytes.fromhex(r.json()["tx_id"]))
        return StepResult(ERROR, _http_code(r))

    async def check(self, node: str, party: Party, cn: str) -> StepResult:
        path = f"/v1/objects/{cn}/encumbrances"
        try:
            r = await self.clients[node].get(path, headers=self.sign.headers(party, path))
        except httpx.HTTPError as exc:
            return StepResult(ERROR, f"TRANSPORT {type(exc).__name__}")
        if r.status_code == 200:
            return StepResult(APPLIED, "ENCUMBERED" if r.json()["certificate"].get("encumbered") else "NO_ENCUMBRANCES")
        return StepResult(ERROR, _http_code(r))

    async def status(self, node: str) -> dict:
        r = await self.clients[node].get("/v1/status", timeout=5.0)
        r.raise_for_status()
        return r.json()

    async def cpu_parts(self, node: str) -> dict[str, float]:
        """The node's CPU seconds by part since it started (tamga_cpu_seconds in /metrics)."""
        r = await self.clients[node].get("/metrics", timeout=5.0)
        r.raise_for_status()
        parts = {}
        for family in text_string_to_metric_families(r.text):
            if family.name == "tamga_cpu_seconds":
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        parts[sample.labels["part"]] = sample.value
        return parts

    async def close(self) -> None:
        for c in self.clients.values():
            await c.aclose()


def _http_code(r: httpx.Response) -> str:
    try:
        return f"HTTP {r.status_code} {r.json().get('code', '')}".strip()
    except ValueError:
        return f"HTTP {r.status_code}"


GRPC_MODES = ("stream", "one", "two")
DEFAULT_GRPC_MODE = "stream"
STREAM_BATCH_MAX = 256
STREAM_BATCH_BYTES = 1024 * 1024


class GrpcDriver:
    name = "grpc"

    def __init__(self, addresses: dict[str, str], *, wait_s: float = 30.0, mode: str = DEFAULT_GRPC_MODE):
        if mode not in GRPC_MODES:
            raise ValueError(f"gRPC mode {mode!r}: choose one of {', '.join(GRPC_MODES)}")
        self.mode = mode
        self.wait_s = wait_s
        self.wait_ms = int(wait_s * 1000)
        self.channels = {n: grpc.aio.insecure_channel(a, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]) for n, a in addresses.items()}
        # Raw bytes in, so the generator does not decode and re-encode envelopes it signed.
        self.submit_rpc = {n: ch.unary_unary("/tamga.v1.Ledger/Submit", request_serializer=_raw, response_deserializer=pb.SubmitResponse.FromString)
                           for n, ch in self.channels.items()}
        self.wait_rpc = {n: ch.unary_unary("/tamga.v1.Ledger/WaitTx", request_serializer=pb.WaitTxRequest.SerializeToString,
                                           response_deserializer=pb.GetTxResponse.FromString) for n, ch in self.channels.items()}
        self.submit_wait_rpc = {n: ch.unary_unary("/tamga.v1.Ledger/SubmitAndWait", request_serializer=pb.SubmitAndWaitRequest.SerializeToString,
                                                  response_deserializer=pb.GetTxResponse.FromString) for n, ch in self.channels.items()}
        self.streams = {n: _SubmitStream(ch, self.wait_ms, wait_s + 5) for n, ch in self.channels.items()}
        self.submit = {"stream": self._submit_stream, "one": self._submit_and_wait, "two": self._submit_then_wait}[mode]

    async def _submit_then_wait(self, node: str, env: bytes) -> StepResult:
        try:
            sub = await self.submit_rpc[node](env, timeout=SUBMIT_TIMEOUT_S)
        except grpc.RpcError as err:
            return StepResult(ERROR, _grpc_code(err))
        try:
            got = await self.wait_rpc[node](pb.WaitTxRequest(tx_id=sub.tx_id, timeout_ms=self.wait_ms), timeout=self.wait_s + 5)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return StepResult(TIMEOUT, "NOT_COMMITTED_WITHIN_WAIT", tx_id=sub.tx_id)
            return StepResult(ERROR, "WAIT " + _grpc_code(err), tx_id=sub.tx_id)
        return _committed(got, sub.tx_id)

    async def _submit_and_wait(self, node: str, env: bytes) -> StepResult:
        try:
            got = await self.submit_wait_rpc[node](pb.SubmitAndWaitRequest(envelope=env, timeout_ms=self.wait_ms), timeout=self.wait_s + 5)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return StepResult(TIMEOUT, "NOT_COMMITTED_WITHIN_WAIT", tx_id=_tx_id_in(err))
            return StepResult(ERROR, _grpc_code(err))
        return _committed(got, got.receipt.tx_id)

    async def _submit_stream(self, node: str, env: bytes) -> StepResult:
        r = await self.streams[node].submit(env)
        if isinstance(r, str):
            return StepResult(ERROR, r)
        if r.HasField("tx"):
            return _committed(r.tx, r.tx_id)
        if r.code == "NOT_COMMITTED":
            return StepResult(TIMEOUT, "NOT_COMMITTED_WITHIN_WAIT", tx_id=r.tx_id)
        return StepResult(ERROR, f"{_STREAM_STATUS.get(r.code, 'REFUSED')} {r.code}")

    async def check(self, node: str, party: Party, cn: str) -> StepResult:
        raise AssertionError("the gRPC Ledger has no cadastre queries; plan flows with txs_only=True")

    async def close(self) -> None:
        for st in self.streams.values():
            await st.close()
        for ch in self.channels.values():
            await ch.close()


def _raw(b: bytes) -> bytes:
    return b


def _committed(got: pb.GetTxResponse, tx_id: bytes) -> StepResult:
    rc = got.receipt
    events = [(e.kind, codec.decode(e.data)) for e in rc.events]
    return StepResult(APPLIED if rc.status == "applied" else REFUSED, rc.code, events, got.height, tx_id)


def _tx_id_in(err: grpc.RpcError) -> bytes:
    """The tx id a NOT_COMMITTED message names (empty when the client's own deadline hit)."""
    try:
        return next((bytes.fromhex(w) for w in (err.details() or "").split() if len(w) == 64), b"")
    except ValueError:
        return b""


# The gRPC status SubmitStream's typed codes would have had as unary calls, so the three modes
# record admission errors alike ("ALREADY_EXISTS DUPLICATE_TX", ...).
_STREAM_STATUS = {"MALFORMED": "INVALID_ARGUMENT", "TOO_LARGE": "INVALID_ARGUMENT", "WRONG_CHAIN": "INVALID_ARGUMENT", "UNKNOWN_KIND": "INVALID_ARGUMENT",
                  "INVALID_PAYLOAD": "INVALID_ARGUMENT", "BAD_SIGNATURE": "UNAUTHENTICATED", "UNTRUSTED_CERTIFICATE": "UNAUTHENTICATED",
                  "CERTIFICATE_EXPIRED": "UNAUTHENTICATED", "CERTIFICATE_REVOKED": "UNAUTHENTICATED", "WRONG_ROLE": "PERMISSION_DENIED",
                  "DUPLICATE_TX": "ALREADY_EXISTS", "MEMPOOL_FULL": "RESOURCE_EXHAUSTED"}


class _SubmitStream:
    """One SubmitStream to one node, shared by every client of the generator: submit() queues
    the envelope with a fresh ref and waits for the result with that ref. A writer task
    sends what is queued, many envelopes per message when several clients submitted since
    its last write; a reader task hands results to their waiters. A broken
    stream fails everything in flight (recorded as errors) and the next submit opens a new
    one; every submit is bounded by `bound_s` even if the node stops answering."""

    def __init__(self, channel: grpc.aio.Channel, wait_ms: int, bound_s: float):
        self.rpc = channel.stream_stream("/tamga.v1.Ledger/SubmitStream", request_serializer=pb.SubmitStreamRequest.SerializeToString,
                                         response_deserializer=pb.SubmitStreamResponse.FromString)
        self.wait_ms = wait_ms
        self.bound_s = bound_s
        self.waiting: dict[int, asyncio.Future] = {}
        self.queue: collections.deque[pb.SubmitItem] = collections.deque()
        self.wake = asyncio.Event()
        self.call = None
        self.tasks: list[asyncio.Task] = []
        self.ref = 0

    async def submit(self, env: bytes) -> pb.SubmitResult | str:
        if self.call is None:
            self._open()
        self.ref = ref = self.ref + 1
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self.waiting[ref] = fut
        self.queue.append(pb.SubmitItem(envelope=env, timeout_ms=self.wait_ms, ref=ref))
        self.wake.set()
        timer = loop.call_later(self.bound_s, _settle, fut, "DEADLINE_EXCEEDED client bound")
        try:
            return await fut
        finally:
            timer.cancel()
            self.waiting.pop(ref, None)

    def _open(self) -> None:
        self.call = self.rpc()
        self.tasks = [asyncio.create_task(self._write(self.call)), asyncio.create_task(self._read(self.call))]

    async def _write(self, call) -> None:
        try:
            while True:
                while self.queue:
                    await call.write(_batch(self.queue))
                self.wake.clear()
                await self.wake.wait()
        except grpc.RpcError:
            pass                        # the reader records why the stream ended

    async def _read(self, call) -> None:
        why = "TRANSPORT stream closed"
        try:
            async for msg in call:
                for r in msg.results:
                    fut = self.waiting.pop(r.ref, None)
                    if fut is not None and not fut.done():
                        fut.set_result(r)
        except grpc.RpcError as err:
            why = "STREAM " + _grpc_code(err)
        self._broken(call, why)

    def _broken(self, call, why: str) -> None:
        if self.call is not call:
            return
        self.call = None
        for t in self.tasks:
            if t is not asyncio.current_task():
                t.cancel()
        self.queue.clear()
        waiting, self.waiting = self.waiting, {}
        for fut in waiting.values():
            _settle(fut, why)

    async def close(self) -> None:
        call, self.call = self.call, None
        for t in self.tasks:
            t.cancel()
        if call is not None:
            call.cancel()
        waiting, self.waiting = self.waiting, {}
        for fut in waiting.values():
            _settle(fut, "TRANSPORT closed")


def _batch(queue: "collections.deque[pb.SubmitItem]") -> pb.SubmitStreamRequest:
    """Take queued items off the front into one message: at most STREAM_BATCH_MAX items and,
    past the first, STREAM_BATCH_BYTES of envelopes."""
    items, size = [], 0
    while queue and len(items) < STREAM_BATCH_MAX and (not items or size + len(queue[0].envelope) <= STREAM_BATCH_BYTES):
        item = queue.popleft()
        items.append(item)
        size += len(item.envelope)
    return pb.SubmitStreamRequest(items=items)


def _settle(fut: asyncio.Future, value) -> None:
    if not fut.done():
        fut.set_result(value)


def _grpc_code(err: grpc.RpcError) -> str:
    try:
        details = err.details() or ""
        code = details.split(":", 1)[0] if ":" in details and details.split(":", 1)[0].isupper() else ""
        return f"{err.code().name} {code}".strip()
    except Exception:  # noqa: BLE001 - a broken channel may not carry details
        return type(err).__name__


class EventStream:
    """Follows one subscriber's events on one node and notes when each tx's first event arrived."""

    def __init__(self, url: str, party: Party, chain_id: str, name: str):
        self.url = url
        self.party = party
        self.sign = Signed(chain_id)
        self.name = name
        self.arrivals: dict[bytes, float] = {}
        self.events = 0
        self.reconnects = 0
        self.errors: list[str] = []
        self._task: asyncio.Task | None = None
        self._last_id = ""
        self._connected = asyncio.Event()

    async def start(self, after_height: int) -> None:
        self._last_id = f"{after_height}-999999999"
        self._task = asyncio.create_task(self._run(), name=f"events-{self.name}")
        try:
            await asyncio.wait_for(self._connected.wait(), 15)
        except asyncio.TimeoutError:
            self.errors.append("the event stream did not open within 15 s")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass

    async def _run(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=httpx.Timeout(30.0, connect=5.0)) as client:
            while True:
                path = f"/v1/events/stream?after={self._last_id}"
                try:
                    async with client.stream("GET", path, headers=self.sign.headers(self.party, path)) as r:
                        if r.status_code != 200:
                            self.errors.append(f"stream answered HTTP {r.status_code}")
                            await asyncio.sleep(1.0)
                            continue
                        self._connected.set()
                        ev_id = None
                        async for line in r.aiter_lines():
                            if line.startswith("id: "):
                                ev_id = line[4:]
                            elif line.startswith("data: "):
                                now = time.monotonic()
                                d = json.loads(line[6:])
                                self.events += 1
                                tx = d.get("tx_id")
                                if tx:
                                    self.arrivals.setdefault(bytes.fromhex(tx), now)
                            elif line == "" and ev_id:
                                self._last_id = ev_id
                                ev_id = None
                except (httpx.HTTPError, OSError) as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    self.reconnects += 1
                    await asyncio.sleep(0.5)
