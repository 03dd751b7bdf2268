"""Notifications: the events addressed to the caller (its IIN and BIN, and "MOJ" for the
Ministry of Justice's systems), as pages, as a server-sent event stream, and as webhooks.

- GET    /v1/events                      a page of the caller's events after a position
- GET    /v1/events/stream               the same as text/event-stream, following new blocks;
         each event's id is "<height>-<seq>" (send it back as Last-Event-ID to resume)
- POST   /v1/webhooks                    register a system (banks, state bodies, the Ministry)
- GET    /v1/webhooks                    the caller's webhooks
- GET    /v1/webhooks/{id}/deliveries    delivery attempts and their state
- DELETE /v1/webhooks/{id}               stop deliveries
May import: api, cadastre, node, fastapi.
"""

from __future__ import annotations

import asyncio
import time
import json
import re

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.errors import ERROR_SCHEMA
from cadastre import access, reads
from cadastre import webhooks as hooks
from node.errors import InvalidPayload, MalformedInput, NotFound

router = APIRouter(tags=["events"])

POSITION = r"^\d{1,18}-\d{1,9}$"
HEARTBEAT_S = 15.0
WEBHOOK_ROLES = ("bank", "state_body", "court", "bailiff", "tax_body", "notary", "legal_entity", "registrar", "senior_registrar")
_ERR = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}


def _svc(request: Request):
    return request.app.state.svc


def _position(text: str | None) -> tuple[int, int]:
    """(height, seq) of an event id "h-s"; before everything when absent."""
    if not text:
        return (0, -1)
    if not re.fullmatch(POSITION, text):
        raise MalformedInput('an event position is "<height>-<seq>", as in the id of the last event received')
    h, s = text.split("-")
    return int(h), int(s)


def _with_ids(events: list[dict]) -> list[dict]:
    # Sent as the contracts addressed them, like the gRPC Subscribe and webhooks: the
    # recipients are the parties of the registration being notified.
    return [{**e, "id": f"{e['height']}-{e['seq']}"} for e in events]


@router.get("/v1/events", summary="The caller's notifications after a position, in chain order", responses={401: _ERR})
async def events(request: Request, after: str | None = Query(None, pattern=POSITION, description='"<height>-<seq>" of the last event seen'),
                 limit: int = Query(100, ge=1, le=500)):
    svc = _svc(request)
    cred = await svc.credential(request)
    ids = svc.caller_ids(cred)
    h, s = _position(after)
    out = _with_ids(reads.events_for(svc.db, ids, h, s, limit))
    nxt = out[-1]["id"] if out else after
    return {"events": out, "next": nxt, "cadastre_height": svc.projection.height}


@router.get("/v1/events/stream", summary="The caller's notifications as server-sent events, following new blocks",
            responses={200: {"content": {"text/event-stream": {}}}, 401: _ERR})
async def stream(request: Request, after: str | None = Query(None, pattern=POSITION),
                 until_height: int | None = Query(None, ge=0, le=2**62, description="close the stream after this height")):
    svc = _svc(request)
    cred = await svc.credential(request)
    ids = svc.caller_ids(cred)
    start = _position(request.headers.get("last-event-id") or after)

    async def gen():
        svc.metrics.sse_clients.inc()
        try:
            pos = start
            yield ": tamga event stream\n\n"
            # A keep-alive goes out when nothing was sent for HEARTBEAT_S, whether or not blocks
            # commit meanwhile (blocks without this caller's events send nothing).
            last_sent = time.monotonic()
            while True:
                page = _with_ids(reads.events_for(svc.db, ids, pos[0], pos[1], 500, until_height))
                for e in page:
                    yield f"id: {e['id']}\nevent: {e['kind']}\ndata: {json.dumps(e, sort_keys=True, ensure_ascii=False)}\n\n"
                if page:
                    pos = (page[-1]["height"], page[-1]["seq"])
                    last_sent = time.monotonic()
                    continue
                if time.monotonic() - last_sent >= HEARTBEAT_S:
                    yield ": keep-alive\n\n"
                    last_sent = time.monotonic()
                done_height = svc.projection.height
                if until_height is not None and done_height >= until_height:
                    return
                if await request.is_disconnected():
                    return
                try:
                    # What the projection applied, not what the chain committed: the projection
                    # runs just after the commit step, and a cadastre that fails (see /health)
                    # leaves the stream waiting, not spinning.
                    await svc.projected.wait_height_above(done_height, max(0.0, HEARTBEAT_S - (time.monotonic() - last_sent)))
                except asyncio.TimeoutError:
                    continue
        finally:
            svc.metrics.sse_clients.dec()

    return StreamingResponse(gen(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=hooks.URL_CHARS_MAX, description="http(s) URL the node POSTs each notification to")
    recipients: list[str] = Field(default_factory=list, max_length=10, description="ids to notify for (default: all the certificate binds)")
    kinds: list[str] = Field(default_factory=list, max_length=hooks.KINDS_MAX, description="event kinds (default: all)")
    from_height: int | None = Field(None, ge=1, le=2**62, description="also deliver the events of blocks from this height on")


@router.post("/v1/webhooks", status_code=201, summary="Register a system to receive the caller's notifications, signed by the node",
             responses={401: _ERR, 403: _ERR})
async def register_webhook(request: Request, hook: WebhookIn):
    svc = _svc(request)
    cred = await svc.credential(request)
    if not (cred.has_role(*WEBHOOK_ROLES) or "MOJ" in svc.caller_ids(cred)):
        raise access.AccessDenied(f"webhooks are for the systems of {', '.join(WEBHOOK_ROLES)} and the Ministry of Justice; people follow /v1/events/stream")
    allowed = svc.caller_ids(cred)
    wanted = set(hook.recipients) or allowed
    if not wanted <= allowed:
        raise access.AccessDenied(f"the certificate does not bind {', '.join(sorted(wanted - allowed))}")
    if any(len(k) > 64 for k in hook.kinds):
        raise InvalidPayload("event kinds are at most 64 characters")
    hooks.check_url(hook.url)
    head = svc.projection.height
    svc.db.execute("BEGIN IMMEDIATE")
    try:
        hid = hooks.register(svc.db, owner_id=cred.subject_id, owner_name=cred.name, url=hook.url, recipients=sorted(wanted), kinds=hook.kinds,
                             now_ms=svc.now_ms(), from_height=max(head + 1, hook.from_height or 1))
        backfilled = hooks.backfill(svc.db, hid, svc.chain_id, hook.from_height, head) if hook.from_height else 0
        svc.db.execute("COMMIT")
    except BaseException:
        svc.db.execute("ROLLBACK")
        raise
    svc.sender.wake()
    return JSONResponse({**hooks.get(svc.db, hid), "backfilled": backfilled}, status_code=201)


def _own_hook(svc, cred, webhook_id: int) -> dict:
    h = hooks.get(svc.db, webhook_id)
    if h["owner_id"] != cred.subject_id or not h["active"]:
        raise NotFound(f"you have no webhook {webhook_id}")
    return h


@router.get("/v1/webhooks", summary="The caller's webhooks", responses={401: _ERR})
async def list_webhooks(request: Request):
    svc = _svc(request)
    cred = await svc.credential(request)
    return {"webhooks": hooks.of_owner(svc.db, cred.subject_id)}


@router.get("/v1/webhooks/{webhook_id}/deliveries", summary="Deliveries of a webhook and their state", responses={401: _ERR, 404: _ERR})
async def deliveries(request: Request, webhook_id: int = Path(ge=1, le=2**62), status: str | None = Query(None, pattern="^(pending|delivered)$"),
                     limit: int = Query(100, ge=1, le=500)):
    svc = _svc(request)
    cred = await svc.credential(request)
    _own_hook(svc, cred, webhook_id)
    return {"deliveries": hooks.deliveries(svc.db, webhook_id, status=status, limit=limit)}


@router.delete("/v1/webhooks/{webhook_id}", status_code=204, summary="Stop a webhook (its pending deliveries are dropped)", responses={401: _ERR, 404: _ERR})
async def delete_webhook(request: Request, webhook_id: int = Path(ge=1, le=2**62)):
    svc = _svc(request)
    cred = await svc.credential(request)
    _own_hook(svc, cred, webhook_id)
    hooks.deactivate(svc.db, webhook_id)
    return Response(status_code=204)
