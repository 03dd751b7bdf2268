"""Signing HTTP requests with an EDS key: the client's side of the API's authentication.

The demo, the load generator, the CLI and the tests sign their requests with this, and bank
developers can read it as the reference for their own implementation.

A signed request carries three headers:
  X-Tamga-Certificate  base64 of the caller's EDS certificate (DER), issued by the consortium CA
  X-Tamga-Timestamp    milliseconds since the Unix epoch when the request was signed
  X-Tamga-Signature    base64 of the Ed25519 signature of
                         b"tamga/1/request\\0" + chain_id + b"\\0" + request_sign_bytes(...)
                       (node/signing.py's domain separation, tag "request")
where request_sign_bytes is, joined by newlines: the method in capitals, the raw path with
its query string exactly as sent, the hex SHA-256 of the body bytes, and the timestamp in
decimal. The node refuses a timestamp more than five minutes away from its clock, and a
signature it has already seen (a replay).

May import: node.signing, node.hashing, httpx.
"""

from __future__ import annotations

import base64
import time
from typing import Callable, Generator

import httpx

from node import signing
from node.hashing import sha256

CERTIFICATE_HEADER = "X-Tamga-Certificate"
TIMESTAMP_HEADER = "X-Tamga-Timestamp"
SIGNATURE_HEADER = "X-Tamga-Signature"
GROUND_HEADER = "X-Tamga-Ground"          # the motivation of a request (Art 17.3)
CONSENT_HEADER = "X-Tamga-Consent"        # a holder's written consent (Art 17.3.8)


def request_sign_bytes(method: str, path_and_query: str, body: bytes, timestamp_ms: int) -> bytes:
    """The bytes a request signature covers (before domain separation)."""
    return b"\n".join([method.upper().encode(), path_and_query.encode(), sha256(body).hex().encode(), str(timestamp_ms).encode()])


def signed_headers(signer: signing.Signer, cert_der: bytes, chain_id: str, method: str, path_and_query: str, body: bytes, timestamp_ms: int) -> dict[str, str]:
    sig = signer.sign("request", chain_id, request_sign_bytes(method, path_and_query, body, timestamp_ms))
    return {
        CERTIFICATE_HEADER: base64.b64encode(cert_der).decode(),
        TIMESTAMP_HEADER: str(timestamp_ms),
        SIGNATURE_HEADER: base64.b64encode(sig).decode(),
    }


class EdsAuth(httpx.Auth):
    """httpx authentication that signs every request: `httpx.Client(auth=EdsAuth(...))`."""

    requires_request_body = True

    def __init__(self, signer: signing.Signer, cert_der: bytes, chain_id: str, *, now_ms: Callable[[], int] | None = None):
        self.signer = signer
        self.cert_der = cert_der
        self.chain_id = chain_id
        self.now_ms = now_ms or (lambda: int(time.time() * 1000))
        self._last_ms = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # Two requests signed in the same millisecond with the same body would carry the same
        # signature and the second would be refused as a replay: keep timestamps distinct.
        ts = max(self.now_ms(), self._last_ms + 1)
        self._last_ms = ts
        path = request.url.raw_path.decode("ascii")
        request.headers.update(signed_headers(self.signer, self.cert_der, self.chain_id, request.method, path, request.content, ts))
        yield request
