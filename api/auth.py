"""Authenticating API callers by their EDS: signed requests (api/client_auth.py describes the
headers and the signed bytes). The certificate must be issued by the consortium CA, valid
now and not revoked on the ledger; its roles and the IIN/BIN it binds are the caller's.

Replays are refused: a timestamp further than five minutes from the node's clock, or a
signature already seen within that window.
May import: api.client_auth, node.
"""

from __future__ import annotations

import base64
import binascii
import collections
import contextlib
from typing import Callable, Iterator

from cryptography.exceptions import UnsupportedAlgorithm

from api.client_auth import CERTIFICATE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, request_sign_bytes
from node import signing
from node.errors import BadSignature, MalformedInput, TamgaError, UntrustedCertificate
from node.interfaces import Credential
from node.pki import CertificateVerifier

SKEW_MS_MAX = 5 * 60_000
CERTIFICATE_CHARS_MAX = 8192
REPLAY_CACHE_MAX = 200_000


class Unauthenticated(TamgaError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Replayed(TamgaError):
    code = "REPLAYED"
    http_status = 401


@contextlib.contextmanager
def certificate_errors() -> Iterator[None]:
    """node/pki.py lets cryptography's UnsupportedAlgorithm (a certificate naming an unknown
    signature algorithm) escape; to a caller it is an untrusted certificate, not a crash."""
    try:
        yield
    except UnsupportedAlgorithm:
        raise UntrustedCertificate("certificate names a signature algorithm the consortium CA does not use") from None


def _b64(value: str, what: str, chars_max: int) -> bytes:
    if len(value) > chars_max:
        raise MalformedInput(f"{what} header is longer than {chars_max} characters")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedInput(f"{what} header is not base64") from None


class Authenticator:
    def __init__(self, chain_id: str, certificates: CertificateVerifier, is_revoked: Callable[[bytes], bool], now_ms: Callable[[], int]):
        self.chain_id = chain_id
        self.certificates = certificates
        self.is_revoked = is_revoked
        self.now_ms = now_ms
        self._seen: "collections.OrderedDict[bytes, int]" = collections.OrderedDict()  # signature -> expiry ms

    @staticmethod
    def present(headers) -> bool:
        return any(h in headers for h in (CERTIFICATE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER))

    def authenticate(self, method: str, path_and_query: str, headers, body: bytes) -> Credential:
        """The caller's credential; a typed 401 error when the request is not properly signed."""
        cert_h, ts_h, sig_h = headers.get(CERTIFICATE_HEADER), headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
        if not (cert_h and ts_h and sig_h):
            raise Unauthenticated(
                f"sign the request with your EDS: headers {CERTIFICATE_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} (see api/client_auth.py)"
            )
        if not ts_h.isdigit() or len(ts_h) > 15:
            raise MalformedInput(f"{TIMESTAMP_HEADER} must be milliseconds since the epoch")
        ts = int(ts_h)
        now = self.now_ms()
        if abs(now - ts) > SKEW_MS_MAX:
            raise Replayed("the request was signed more than 5 minutes from the node's time; sign it again (and check the clock)")
        cert = _b64(cert_h, CERTIFICATE_HEADER, CERTIFICATE_CHARS_MAX)
        sig = _b64(sig_h, SIGNATURE_HEADER, 100)
        with certificate_errors():
            cred = self.certificates.check(cert, now, self.is_revoked)
        if not signing.verify(cred.public_key, sig, "request", self.chain_id, request_sign_bytes(method, path_and_query, body, ts)):
            raise BadSignature(f"the request signature does not verify against the certificate of {cred.name}: sign method, path with query, body hash and timestamp")
        self._remember(sig, ts + SKEW_MS_MAX, now)
        return cred

    def _remember(self, sig: bytes, expiry_ms: int, now: int) -> None:
        while self._seen:
            first, exp = next(iter(self._seen.items()))
            if exp >= now and len(self._seen) < REPLAY_CACHE_MAX:
                break
            self._seen.popitem(last=False)
        if sig in self._seen:
            raise Replayed("this signed request was already received; sign each request afresh")
        self._seen[sig] = expiry_ms
