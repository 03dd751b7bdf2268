"""The node's HTTP API: `create_app(runtime)` builds the FastAPI app the runtime serves with
uvicorn in its own event loop (node/runner.py).

Routes (OpenAPI at /openapi.json, docs at /docs):
- ledger (api/routes_ledger.py): submit envelopes, tx status and receipt, blocks, status;
- cadastre (api/routes_cadastre.py): encumbrance check, registration sheet, history,
  extracts, holdings, search, the book of documents received, the book of requests;
- events (api/routes_events.py): event pages, a server-sent stream, webhooks;
- operations (api/routes_ops.py): /health, /metrics, the node's certificate.
Callers authenticate with EDS-signed requests (api/auth.py); roles come from their
certificates. Every error is a 4xx with a machine-readable code (api/errors.py).
May import: api, cadastre, node, fastapi.
"""

from __future__ import annotations

import contextlib
import time

from fastapi import FastAPI, Request

from api import errors, routes_cadastre, routes_events, routes_ledger, routes_ops
from api.services import BODY_BYTES_MAX, Services

API_VERSION = "1"

DESCRIPTION = """
The HTTP API of a Tamga node: submit EDS-signed transactions, follow their receipts, read the
legal cadastre under the access rules of Art 17 of the Law "On State Registration of Rights to
Immovable Property", fetch verifiable extracts, and receive notifications.

**Authentication.** Sign each request with your EDS key: headers `X-Tamga-Certificate`
(base64 DER certificate issued by the consortium CA), `X-Tamga-Timestamp` (ms since epoch) and
`X-Tamga-Signature` (base64 Ed25519 over `tamga/1/request\\0<chain id>\\0` followed by the
method, the path with query, the hex SHA-256 of the body and the timestamp, joined by
newlines). Requesters listed in Art 17.3 state their ground in `X-Tamga-Ground`; a holder's
written consent travels in `X-Tamga-Consent`.

**Errors** are JSON `{"code", "message"}` with a 4xx status.
"""

INFO_PREFIXES = ("/v1/objects", "/v1/persons", "/v1/search", "/v1/applications", "/v1/requests")


class Measure:
    """Counts requests by route template and status, and times them (pure ASGI, so event
    streams pass through untouched)."""

    def __init__(self, app, metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_status(msg):
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, send_status)
        finally:
            name = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.http_requests.labels(scope["method"], name, str(status[0])).inc()
            self.metrics.http_seconds.labels(name).observe(time.perf_counter() - start)


def create_app(runtime, *, projection_path: str | None = None) -> FastAPI:
    svc = Services(runtime, projection_path=projection_path)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await svc.start()
        try:
            yield
        finally:
            await svc.stop()

    app = FastAPI(
        title="Tamga node API",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={400: {"description": "Malformed request", "content": {"application/json": {"schema": errors.ERROR_SCHEMA}}}},
    )
    app.state.svc = svc

    def on_malformed(request: Request, code: str, status: int) -> None:
        # A malformed request for cadastre information is still a request: it goes in the book.
        if request.url.path.startswith(INFO_PREFIXES):
            svc.record_refusal(request, "malformed", request.url.path, code, status)

    errors.install(app, on_malformed)

    app.add_middleware(errors.BodyLimit, max_bytes=BODY_BYTES_MAX)
    app.add_middleware(Measure, metrics=svc.metrics)
    app.include_router(routes_ledger.router)
    app.include_router(routes_cadastre.router)
    app.include_router(routes_events.router)
    app.include_router(routes_ops.router)
    return app
