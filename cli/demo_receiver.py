"""The bank's endpoint in `tamga demo`: a small HTTP server on localhost that receives the
webhook deliveries a node POSTs (api/webhooks.py) and checks that each is signed by a
validator of the consortium.

A delivery carries X-Tamga-Node-Key (the node's Ed25519 validator key) and X-Tamga-Signature
(base64 of its signature, domain tag "webhook", over chain id and body). The receiver accepts
the key only when it is in the genesis validator set, which is what a bank's system must do.
May import: node (signing, genesis), the standard library.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import http.server
import json
import threading
import time
from typing import Callable

from node import signing
from node.genesis import Genesis


@dataclasses.dataclass
class Delivery:
    node: str                 # X-Tamga-Node as sent
    validator: str | None     # the genesis validator whose key signed it, None when none did
    signature_ok: bool
    delivery_id: str
    body: dict | None


class WebhookReceiver:
    """Start with `start()`; `url` is where to register the webhook; `wait_for(pred)`."""

    def __init__(self, genesis: Genesis):
        self.genesis = genesis
        self.deliveries: list[Delivery] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver._accept(self.headers, body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:  # quiet: the demo prints what matters
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/tamga/notifications"

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _accept(self, headers, body: bytes) -> None:
        key_hex = headers.get("X-Tamga-Node-Key") or ""
        validator = None
        ok = False
        try:
            key = bytes.fromhex(key_hex)
            sig = base64.b64decode(headers.get("X-Tamga-Signature") or "", validate=True)
        except (ValueError, binascii.Error):
            key, sig = b"", b""
        for v in self.genesis.validators:
            if v.public_key == key:
                validator = v.name
                ok = signing.verify(key, sig, "webhook", self.genesis.chain_id, body)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        with self._cond:
            self.deliveries.append(Delivery(headers.get("X-Tamga-Node") or "", validator, ok, headers.get("X-Tamga-Delivery") or "", doc))
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[Delivery], bool], timeout_s: float) -> Delivery | None:
        """The first delivery satisfying `pred`, waiting up to `timeout_s` for it."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for d in self.deliveries:
                    if pred(d):
                        return d
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
