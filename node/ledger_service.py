"""The client-facing gRPC Ledger service: bank systems submit envelopes and read the chain.

Typed errors become gRPC statuses whose details read "CODE: message", with the code also
in the `tamga-code` trailing metadata, so integrators can branch on it.

Per tx a bank system can use Submit then WaitTx (two round trips), SubmitAndWait (one), or
SubmitStream (many envelopes in flight on one stream). `add_ledger_service` registers the
service with raw-bytes requests where the node wants the bytes (Submit's envelope), so an
envelope is not parsed and re-serialized on its way to the mempool. Committed txs are
answered from the runtime's recent-commit index, falling back to the store.
May import: grpc, node.*, proto.
"""

from __future__ import annotations

import asyncio
import functools

import grpc

from node import codec, crash, signing
from node.envelope import tx_id_of
from node.errors import BadSignature, NodeStopping, NotFound, TamgaError
from proto import tamga_pb2 as pb
from proto import tamga_pb2_grpc as pbg

WAIT_MS_MAX = 60_000
STREAM_RESULTS_MAX = 256        # per SubmitStreamResponse: ~0.5 MB with typical envelopes
SUBSCRIBE_SKEW_MS_MAX = 5 * 60_000

_STATUS = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    413: grpc.StatusCode.INVALID_ARGUMENT,
    422: grpc.StatusCode.FAILED_PRECONDITION,
    503: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


# Where the HTTP status alone does not say which gRPC one: a 503 from a full mempool means
# "retry here shortly" (RESOURCE_EXHAUSTED), one from a stopping node "go to another" (UNAVAILABLE).
_STATUS_BY_CODE = {NodeStopping.code: grpc.StatusCode.UNAVAILABLE}


async def abort_with(context: grpc.aio.ServicerContext, err: TamgaError):
    context.set_trailing_metadata((("tamga-code", err.code),))
    status = _STATUS_BY_CODE.get(err.code) or _STATUS.get(err.http_status, grpc.StatusCode.INVALID_ARGUMENT)
    await context.abort(status, f"{err.code}: {err.message}")


def not_committed(tx_id: bytes, timeout_s: float) -> str:
    return f"transaction {tx_id.hex()} was not committed within {timeout_s:.1f} s"


def wait_seconds(timeout_ms: int) -> float:
    return min(timeout_ms or WAIT_MS_MAX, WAIT_MS_MAX) / 1000


NODE_STOPPING = ("this node is stopping; transactions it admitted may still commit: look them up by id "
                 "(GetTx, WaitTx) on another node or on this one once it is back")


class LedgerServicer(pbg.LedgerServicer):
    def __init__(self, runtime):
        self.rt = runtime
        self._streams: set[_Stream] = set()
        self.ending = False

    def end_streams(self) -> None:
        """The node is stopping: every open SubmitStream ends now with UNAVAILABLE, rather than
        being cancelled by the gRPC server when its grace period runs out, which gRPC logs as
        an unhandled servicer exception (one ERROR per open stream at every node stop)."""
        self.ending = True
        for stream in self._streams:
            stream.wake.set()

    async def Submit(self, request: bytes | pb.Envelope, context):
        # Registered by add_ledger_service with no request deserializer: the envelope's bytes
        # as the client sent them. (A parsed Envelope still works, for the generated
        # add_LedgerServicer_to_server.)
        envelope = request if isinstance(request, bytes) else request.SerializeToString()
        try:
            tx = self.rt.submit(envelope)
        except TamgaError as err:
            await abort_with(context, err)
        return pb.SubmitResponse(tx_id=tx.tx_id)

    async def SubmitAndWait(self, request: pb.SubmitAndWaitRequest, context):
        try:
            tx = self.rt.submit(request.envelope)
        except TamgaError as err:
            await abort_with(context, err)
        # The mempool admitted the tx just now, in this same step of the event loop, and it
        # refuses committed tx ids: nothing can have committed it before the waiter is
        # registered, so there is no store to look in.
        return await self._wait_and_answer(context, tx.tx_id, request.timeout_ms, _not_yet)

    async def SubmitStream(self, requests, context):
        stream = _Stream(self)
        self._streams.add(stream)
        reader = asyncio.create_task(stream.read(requests), name="submit-stream-reader")
        try:
            while True:
                while stream.out.results:
                    yield stream.take()
                if self.ending:
                    await abort_with(context, NodeStopping(NODE_STOPPING))
                if reader.done() and not stream.pending:
                    # A cancelled read means the call is going away (the server stopping with
                    # it open): end quietly, since gRPC logs a CancelledError raised out of a
                    # handler as an unhandled servicer exception. Anything else that broke
                    # the reading side is raised.
                    if not reader.cancelled():
                        reader.result()
                    return
                await stream.wake.wait()
                stream.wake.clear()
        finally:
            self._streams.discard(stream)
            reader.cancel()
            stream.close()

    async def GetBlock(self, request, context):
        chain = self.rt.chain
        try:
            height = chain.height_of(request.hash) if request.hash else (request.height or chain.head.height)
            if height == 0:
                raise NotFound("no block has been committed yet")
            return pb.GetBlockResponse(block=chain.block_bytes(height), commit=chain.commit_bytes(height), receipts=chain.receipts(height).SerializeToString())
        except TamgaError as err:
            await abort_with(context, err)

    def _tx_response(self, tx_id: bytes) -> pb.GetTxResponse:
        height, index, envelope, receipt = self.rt.committed_tx(tx_id)
        return pb.GetTxResponse(height=height, index=index, envelope=envelope, receipt=receipt)

    async def GetTx(self, request, context):
        try:
            return self._tx_response(request.tx_id)
        except TamgaError as err:
            await abort_with(context, err)

    async def WaitTx(self, request, context):
        return await self._wait_and_answer(context, request.tx_id, request.timeout_ms, self.rt.committed_height)

    async def _wait_and_answer(self, context, tx_id: bytes, timeout_ms: int, committed_at) -> pb.GetTxResponse:
        """The committed tx, once it is; DEADLINE_EXCEEDED (NOT_COMMITTED) after the timeout."""
        timeout_s = wait_seconds(timeout_ms)
        try:
            await self.rt.hub.wait_tx(tx_id, timeout_s, committed_at)
        except asyncio.TimeoutError:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "NOT_COMMITTED: " + not_committed(tx_id, timeout_s))
        response = self._tx_response(tx_id)
        crash.point("before_ack")
        return response

    async def Status(self, request, context):
        return self.rt.node_status()

    async def Subscribe(self, request: pb.SubscribeRequest, context):
        try:
            allowed = self._subscriber_ids(request)
        except TamgaError as err:
            await abort_with(context, err)
        wanted = set(request.recipients) or allowed
        if not wanted <= allowed:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"WRONG_ROLE: the certificate does not bind {sorted(wanted - allowed)}")
        height = max(request.from_height, 1)
        while True:
            while height <= self.rt.chain.head.height:
                for note in notifications(self.rt.chain, height, wanted):
                    yield note
                height += 1
            await self.rt.hub.wait_height_above(height - 1)

    def _subscriber_ids(self, request: pb.SubscribeRequest) -> set[str]:
        now = self.rt.now_ms()
        cred = self.rt.certificates.check(request.certificate, now, self.rt.chain.is_revoked)
        unsigned = pb.SubscribeRequest()
        unsigned.CopyFrom(request)
        unsigned.signature = b""
        if not signing.verify(cred.public_key, request.signature, "request", self.rt.chain.chain_id, unsigned.SerializeToString()):
            raise BadSignature("the subscription request's signature does not verify")
        if abs(request.timestamp_ms - now) > SUBSCRIBE_SKEW_MS_MAX:
            raise BadSignature("the subscription request is more than 5 minutes old or ahead; sign a fresh one")
        ids = {i for i in (cred.iin, cred.bin) if i}
        if cred.bin == self.rt.moj_bin:
            ids.add("MOJ")
        return ids


def _not_yet(tx_id: bytes) -> None:
    return None


class _Stream:
    """One SubmitStream call: envelopes are admitted as they arrive, each waits for its
    commit through the hub (a future with a callback, not a task per tx), and results are
    gathered into the next response message, so a block's commit answers many envelopes in
    one message."""

    def __init__(self, servicer: LedgerServicer):
        self.svc = servicer
        self.rt = servicer.rt
        self.out = pb.SubmitStreamResponse()
        self.wake = asyncio.Event()
        self.pending: dict[asyncio.Future, tuple[bytes, asyncio.TimerHandle]] = {}

    def take(self) -> pb.SubmitStreamResponse:
        """The next message to send: at most STREAM_RESULTS_MAX results, oldest first."""
        out = self.out
        if len(out.results) <= STREAM_RESULTS_MAX:
            self.out = pb.SubmitStreamResponse()
            return out
        head = pb.SubmitStreamResponse(results=out.results[:STREAM_RESULTS_MAX])
        del out.results[:STREAM_RESULTS_MAX]
        return head

    def _refused(self, item: pb.SubmitItem, err: TamgaError) -> None:
        self.out.results.add(ref=item.ref, tx_id=_tx_id_or_empty(item.envelope), code=err.code, message=err.message)
        self.wake.set()

    async def read(self, requests) -> None:
        loop = asyncio.get_running_loop()
        hub = self.rt.hub
        async for req in requests:
            for item, tx in zip(req.items, self.rt.submit_many([item.envelope for item in req.items])):
                if isinstance(tx, TamgaError):
                    self._refused(item, tx)
                    continue
                # As in SubmitAndWait: admitted just now, so not committed before the watch.
                fut = hub.watch_tx(tx.tx_id)
                timeout_s = wait_seconds(item.timeout_ms)
                self.pending[fut] = (tx.tx_id, loop.call_later(timeout_s, _expire_quietly, fut))
                fut.add_done_callback(functools.partial(self._done, item.ref, tx.tx_id, timeout_s))
        self.wake.set()

    def _done(self, ref: int, tx_id: bytes, timeout_s: float, fut: asyncio.Future) -> None:
        entry = self.pending.pop(fut, None)
        if entry is None or fut.cancelled():
            return                  # the stream was closed
        entry[1].cancel()
        if fut.exception() is not None:
            self.rt.hub.unwatch_tx(tx_id, fut)
            self.out.results.add(ref=ref, tx_id=tx_id, code="NOT_COMMITTED", message=not_committed(tx_id, timeout_s))
        else:
            height, index, envelope, receipt = self.rt.committed_tx(tx_id)
            result = self.out.results.add(ref=ref, tx_id=tx_id)
            result.tx.height, result.tx.index, result.tx.envelope = height, index, envelope
            result.tx.receipt.CopyFrom(receipt)
            crash.point("before_ack")
        self.wake.set()

    def close(self) -> None:
        """The call ended (finished, or the client went away): drop every watch and timer."""
        pending, self.pending = self.pending, {}
        for fut, (tx_id, timer) in pending.items():
            timer.cancel()
            self.rt.hub.unwatch_tx(tx_id, fut)
            fut.cancel()


def _expire_quietly(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError())
        fut.exception()             # retrieved: the done callback reports it, not asyncio's logger


def _tx_id_or_empty(envelope: bytes) -> bytes:
    """The tx id of a refused envelope, when it decodes far enough to have one."""
    try:
        return tx_id_of(pb.Envelope.FromString(envelope).body)
    except Exception:  # noqa: BLE001 - any undecodable envelope simply has no id to report
        return b""


def add_ledger_service(servicer: LedgerServicer, server) -> None:
    """Register the Ledger service on `server` (grpc.aio). Same wire format as the
    generated add_LedgerServicer_to_server, but Submit gets the envelope's raw bytes."""
    unary, m = grpc.unary_unary_rpc_method_handler, pb
    handlers = {
        "Submit": unary(servicer.Submit, request_deserializer=None, response_serializer=m.SubmitResponse.SerializeToString),
        "GetBlock": unary(servicer.GetBlock, request_deserializer=m.GetBlockRequest.FromString, response_serializer=m.GetBlockResponse.SerializeToString),
        "GetTx": unary(servicer.GetTx, request_deserializer=m.GetTxRequest.FromString, response_serializer=m.GetTxResponse.SerializeToString),
        "WaitTx": unary(servicer.WaitTx, request_deserializer=m.WaitTxRequest.FromString, response_serializer=m.GetTxResponse.SerializeToString),
        "SubmitAndWait": unary(servicer.SubmitAndWait, request_deserializer=m.SubmitAndWaitRequest.FromString, response_serializer=m.GetTxResponse.SerializeToString),
        "SubmitStream": grpc.stream_stream_rpc_method_handler(servicer.SubmitStream, request_deserializer=m.SubmitStreamRequest.FromString,
                                                              response_serializer=m.SubmitStreamResponse.SerializeToString),
        "Status": unary(servicer.Status, request_deserializer=m.StatusRequest.FromString, response_serializer=m.NodeStatus.SerializeToString),
        "Subscribe": grpc.unary_stream_rpc_method_handler(servicer.Subscribe, request_deserializer=m.SubscribeRequest.FromString,
                                                          response_serializer=m.Notification.SerializeToString),
    }
    declared = set(pb.DESCRIPTOR.services_by_name["Ledger"].methods_by_name)
    assert set(handlers) == declared, f"Ledger methods without a handler or not declared: {set(handlers) ^ declared}"
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("tamga.v1.Ledger", handlers),))
    server.add_registered_method_handlers("tamga.v1.Ledger", handlers)


def notifications(chain, height: int, recipients: set[str]):
    """The notifications of block `height` addressed to any of `recipients`."""
    results = chain.receipts(height)
    for receipt in results.receipts:
        for ev in receipt.events:
            if recipients.intersection(ev.recipients):
                yield pb.Notification(height=height, tx_id=receipt.tx_id, event=ev)
    for ev in results.block_events:
        if recipients.intersection(ev.recipients):
            yield pb.Notification(height=height, event=ev)


def decode_event_data(ev: pb.Event) -> dict:
    return codec.decode(ev.data)
