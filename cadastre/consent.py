"""A right holder's written consent to give their data to someone else (Art 17.2, 17.3.8).

The consent is a small document the holder signs with their EDS and hands to the grantee,
who sends it with the request in the X-Tamga-Consent header as three base64url parts joined
by dots: body.certificate.signature, where
  body       canonical msgpack {"type": "tamga.consent/1", "chain_id", "holder", "grantee",
             "scope": "object" | "holdings", "subject": cadastral number or IIN/BIN,
             "not_after_ms"}
  signature  Ed25519 over domain tag "request" || chain id || b"consent/1\\0" || body
(the prefix keeps a consent from ever passing for a signed HTTP request, whose bytes start
with the method).

May import: node (codec, errors, pki, signing).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from typing import Callable

from node import codec, signing
from node.errors import BadSignature, MalformedInput, TamgaError
from node.pki import CertificateVerifier

CONSENT_TYPE = "tamga.consent/1"
CONSENT_PREFIX = b"consent/1\0"
CONSENT_HEADER_CHARS_MAX = 8192
SCOPES = ("object", "holdings")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class InvalidConsent(TamgaError):
    code = "INVALID_CONSENT"
    http_status = 403


@dataclasses.dataclass(frozen=True)
class Consent:
    holder: str
    grantee: str
    scope: str
    subject: str
    not_after_ms: int
    holder_name: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or not _B64URL.fullmatch(text):
        raise InvalidConsent("each part of the consent must be non-empty base64url (A-Z a-z 0-9 - _)")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidConsent("the consent is not base64url") from None


def make(signer: signing.Signer, cert_der: bytes, chain_id: str, *, holder: str, grantee: str, scope: str, subject: str, not_after_ms: int) -> str:
    """The header value of a consent (the holder's side)."""
    assert scope in SCOPES
    body = codec.encode({"type": CONSENT_TYPE, "chain_id": chain_id, "holder": holder, "grantee": grantee, "scope": scope, "subject": subject, "not_after_ms": not_after_ms})
    sig = signer.sign("request", chain_id, CONSENT_PREFIX + body)
    return ".".join((_b64(body), _b64(cert_der), _b64(sig)))


def verify(header: str, chain_id: str, certificates: CertificateVerifier, now_ms: int, is_revoked: Callable[[bytes], bool]) -> Consent:
    """The consent in `header`, checked: CA-issued certificate of the holder, valid now and
    not revoked; signature; this chain; not expired. InvalidConsent (or a certificate
    error) otherwise. Whether the holder really holds the right is the caller's check."""
    if len(header) > CONSENT_HEADER_CHARS_MAX:
        raise InvalidConsent(f"the consent is longer than {CONSENT_HEADER_CHARS_MAX} characters")
    parts = header.strip().split(".")
    if len(parts) != 3:
        raise InvalidConsent("the consent must be three base64url parts joined by dots: body.certificate.signature")
    body, cert, sig = (_unb64(p) for p in parts)
    cred = certificates.check(cert, now_ms, is_revoked)
    if not signing.verify(cred.public_key, sig, "request", chain_id, CONSENT_PREFIX + body):
        raise BadSignature(f"the consent's signature does not verify against the certificate of {cred.name}")
    try:
        d = codec.decode(body)
    except MalformedInput as exc:
        raise InvalidConsent(f"the consent's body is not canonical msgpack: {exc.message}") from None
    fields = {"type": str, "chain_id": str, "holder": str, "grantee": str, "scope": str, "subject": str, "not_after_ms": int}
    if not isinstance(d, dict) or set(d) != set(fields) or any(not isinstance(d[k], t) or isinstance(d[k], bool) for k, t in fields.items()):
        raise InvalidConsent(f"the consent's body must have exactly the fields {', '.join(sorted(fields))}")
    if d["type"] != CONSENT_TYPE or d["chain_id"] != chain_id:
        raise InvalidConsent(f"the consent is not a {CONSENT_TYPE} for chain {chain_id}")
    if d["scope"] not in SCOPES:
        raise InvalidConsent(f"the consent's scope must be one of {', '.join(SCOPES)}")
    if d["holder"] not in (cred.iin, cred.bin):
        raise InvalidConsent(f"the consent names holder {d['holder']} but is signed by {cred.name}, whose certificate binds {cred.iin or cred.bin}")
    if now_ms > d["not_after_ms"]:
        raise InvalidConsent("the consent has expired; ask the holder for a new one")
    return Consent(d["holder"], d["grantee"], d["scope"], d["subject"], d["not_after_ms"], cred.name)
