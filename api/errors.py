"""Errors as the API returns them: a 4xx with a machine-readable code and a clear message.

Body: {"code": "...", "message": "...", "details"?: {...}} (node/errors.TamgaError.to_dict).
Typed errors keep their status; malformed parameters are 400 MALFORMED; unknown routes 404
NOT_FOUND; wrong methods 405 METHOD_NOT_ALLOWED; bodies over the limit 413 TOO_LARGE (the
BodyLimit middleware refuses them before anything reads them).
May import: fastapi, starlette, node.errors.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node.errors import TamgaError, TooLarge

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 400: "MALFORMED", 401: "UNAUTHENTICATED", 403: "ACCESS_DENIED", 406: "NOT_ACCEPTABLE", 413: "TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}},
}


def error_response(status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None) -> JSONResponse:
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def _describe(errors) -> str:
    parts = []
    for e in errors[:5]:
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body",))
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is malformed"


def install(app: FastAPI, on_malformed=None) -> None:
    @app.exception_handler(TamgaError)
    async def tamga_error(request: Request, err: TamgaError):
        status = err.http_status if 400 <= err.http_status < 600 else 400
        return error_response(status, err.code, err.message, err.details or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, err: RequestValidationError):
        if on_malformed is not None:
            on_malformed(request, "MALFORMED", 400)
        return error_response(400, "MALFORMED", _describe(err.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException):
        code = _HTTP_CODES.get(err.status_code, "HTTP_ERROR")
        message = err.detail if isinstance(err.detail, str) else json.dumps(err.detail)
        if err.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}; see /docs"
        if err.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return error_response(err.status_code, code, message, headers=getattr(err, "headers", None))


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413 TOO_LARGE: at once when Content-Length
    says so, else as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    n = int(value)
                except ValueError:
                    n = -1
                if n < 0 or n > self.max_bytes:
                    what = "is not a number" if n < 0 else f"is {n} bytes"
                    resp = error_response(413 if n >= 0 else 400, "TOO_LARGE" if n >= 0 else "MALFORMED", f"the request body {what}; the limit is {self.max_bytes} bytes")
                    await resp(scope, receive, send)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise TooLarge(f"the request body is over the limit of {self.max_bytes} bytes")
            return msg

        await self.app(scope, limited, send)
