"""Sending webhook deliveries from the outbox (cadastre/webhooks.py) to bank and Ministry systems.

Each delivery is POSTed as JSON, signed by the node's validator key so the receiver can check
it came from a consortium node:
  X-Tamga-Node            the node's name
  X-Tamga-Node-Key        hex Ed25519 key of the node (a validator key in genesis)
  X-Tamga-Delivery        "<webhook>-<height>-<seq>": the same on every retry (idempotency key)
  X-Tamga-Signature       base64 Ed25519 over domain tag "webhook" || chain id || body
A 2xx answer marks it delivered; anything else (or no answer) schedules the next attempt
with exponential back-off (1 s doubling to 15 min), indefinitely. Deliveries are taken
oldest first; the worker wakes when the projection queues new ones.

May import: cadastre, node, httpx, asyncio.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Callable

import httpx

from cadastre import webhooks as store
from node.signing import Signer

log = logging.getLogger("tamga.webhooks")

SEND_TIMEOUT_S = 10.0
IDLE_WAKE_S = 5.0
BATCH = 50


def delivery_headers(signer: Signer, chain_id: str, node_name: str, webhook_id: int, height: int, seq: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Tamga-Node": node_name,
        "X-Tamga-Node-Key": signer.public_key.hex(),
        "X-Tamga-Delivery": f"{webhook_id}-{height}-{seq}",
        "X-Tamga-Signature": base64.b64encode(signer.sign("webhook", chain_id, body)).decode(),
    }


class WebhookSender:
    def __init__(self, db, *, signer: Signer, chain_id: str, node_name: str, now_ms: Callable[[], int], on_result: Callable[[str], None] = lambda r: None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.db = db
        self.signer = signer
        self.chain_id = chain_id
        self.node_name = node_name
        self.now_ms = now_ms
        self.on_result = on_result
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._client = httpx.AsyncClient(timeout=SEND_TIMEOUT_S, transport=transport, follow_redirects=False)

    def wake(self, height: int = 0, queued: int = 1) -> None:
        if queued:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhooks")

    async def stop(self) -> None:
        # A flag and a wake-up rather than Task.cancel alone: asyncio.wait_for in Python 3.11
        # can swallow a cancellation that races with the event it waits on.
        self._stopping = True
        self._wake.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, SEND_TIMEOUT_S + 1)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        await self._client.aclose()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                sent = await self.send_due()
            except Exception:  # a broken receiver must never stop the worker
                log.exception("webhook worker pass failed")
                sent = 0
            if sent or self._stopping:
                continue
            nxt = store.next_due_ms(self.db)
            wait_s = IDLE_WAKE_S if nxt is None else min(IDLE_WAKE_S, max(0.0, (nxt - self.now_ms()) / 1000))
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), wait_s)
            except asyncio.TimeoutError:
                pass

    async def send_due(self) -> int:
        """Attempt every delivery due now; the number attempted."""
        due = store.due(self.db, self.now_ms(), BATCH)
        for d in due:
            await self._send(d)
        return len(due)

    async def _send(self, d: store.Delivery) -> None:
        headers = delivery_headers(self.signer, self.chain_id, self.node_name, d.webhook_id, d.height, d.seq, d.body)
        try:
            resp = await self._client.post(d.url, content=d.body, headers=headers)
            ok, error = 200 <= resp.status_code < 300, f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"
        if ok:
            store.mark_delivered(self.db, d.id, self.now_ms())
            self.on_result("delivered")
        else:
            store.mark_failed(self.db, d.id, d.attempts, self.now_ms(), error)
            self.on_result("failed")
            log.info("webhook delivery failed", extra={"fields": {"delivery": d.id, "webhook": d.webhook_id, "attempts": d.attempts + 1, "error": error}})
