"""The client-facing gRPC Ledger service: bank systems submit envelopes and read the chain.

Typed errors become gRPC statuses whose details read "CODE: message", with the code also
in the `tamga-code` trailing metadata, so integrators can branch on it.
May import: grpc, node.*, proto.
"""

from __future__ import annotations

import asyncio

import grpc

from node import codec, crash, signing
from node.errors import BadSignature, NotFound, TamgaError
from proto import tamga_pb2 as pb
from proto import tamga_pb2_grpc as pbg

WAIT_MS_MAX = 60_000
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


async def abort_with(context: grpc.aio.ServicerContext, err: TamgaError):
    context.set_trailing_metadata((("tamga-code", err.code),))
    await context.abort(_STATUS.get(err.http_status, grpc.StatusCode.INVALID_ARGUMENT), f"{err.code}: {err.message}")


class LedgerServicer(pbg.LedgerServicer):
    def __init__(self, runtime):
        self.rt = runtime

    async def Submit(self, request: pb.Envelope, context):
        try:
            tx = self.rt.submit(request.SerializeToString())
        except TamgaError as err:
            await abort_with(context, err)
        return pb.SubmitResponse(tx_id=tx.tx_id)

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
        height, index, envelope, receipt = self.rt.chain.tx(tx_id)
        return pb.GetTxResponse(height=height, index=index, envelope=envelope, receipt=receipt)

    async def GetTx(self, request, context):
        try:
            return self._tx_response(request.tx_id)
        except TamgaError as err:
            await abort_with(context, err)

    async def WaitTx(self, request, context):
        timeout_s = min(request.timeout_ms or WAIT_MS_MAX, WAIT_MS_MAX) / 1000
        loc = lambda t: (self.rt.chain.tx_location(t) or (None,))[0]  # noqa: E731
        try:
            await self.rt.hub.wait_tx(request.tx_id, timeout_s, loc)
        except asyncio.TimeoutError:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, f"NOT_COMMITTED: transaction {request.tx_id.hex()} was not committed within {timeout_s:.1f} s")
        response = self._tx_response(request.tx_id)
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
