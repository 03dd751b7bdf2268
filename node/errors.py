"""One hierarchy of typed errors for expected bad input (pure; imports nothing of Tamga).

Every error carries a stable machine-readable `code` and a message a person can act on.
Expected bad input (a malformed envelope, a wrong signature, a replay) raises one of these
and changes nothing. A broken internal invariant is an `assert` and stops the process.
"""

from __future__ import annotations

from typing import Any


class TamgaError(Exception):
    """Base of all expected errors. `http_status` is the status an API maps it to."""

    code = "TAMGA_ERROR"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# --- envelopes and encodings -------------------------------------------------------------
class MalformedInput(TamgaError):
    code = "MALFORMED"


class TooLarge(TamgaError):
    code = "TOO_LARGE"
    http_status = 413


class WrongChain(TamgaError):
    code = "WRONG_CHAIN"


class UnknownKind(TamgaError):
    code = "UNKNOWN_KIND"


class InvalidPayload(TamgaError):
    code = "INVALID_PAYLOAD"


# --- signatures and certificates ---------------------------------------------------------
class BadSignature(TamgaError):
    code = "BAD_SIGNATURE"
    http_status = 401


class UntrustedCertificate(TamgaError):
    code = "UNTRUSTED_CERTIFICATE"
    http_status = 401


class CertificateExpired(TamgaError):
    code = "CERTIFICATE_EXPIRED"
    http_status = 401


class CertificateRevoked(TamgaError):
    code = "CERTIFICATE_REVOKED"
    http_status = 401


class WrongRole(TamgaError):
    code = "WRONG_ROLE"
    http_status = 403


class InvalidIdentifier(TamgaError):
    code = "INVALID_IDENTIFIER"


# --- ledger ------------------------------------------------------------------------------
class DuplicateTx(TamgaError):
    code = "DUPLICATE_TX"
    http_status = 409


class MempoolFull(TamgaError):
    code = "MEMPOOL_FULL"
    http_status = 503


class NodeStopping(TamgaError):
    """This node is shutting down: the caller should go to another node (not retry here)."""

    code = "NODE_STOPPING"
    http_status = 503


class NotFound(TamgaError):
    code = "NOT_FOUND"
    http_status = 404


class InvalidBlock(TamgaError):
    """A block from a peer that fails validation: refused, never stored."""

    code = "INVALID_BLOCK"


class StoreCorrupted(TamgaError):
    """The node's own store fails a check: the node must stop taking part."""

    code = "STORE_CORRUPTED"
    http_status = 500


class Refusal(TamgaError):
    """A contract's refusal of a registration: reason code, message and article of law."""

    code = "REFUSED"
    http_status = 422

    def __init__(self, code: str, message: str, article: str = "", details: dict | None = None):
        super().__init__(message, code=code, details=details)
        self.article = article

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["article"] = self.article
        return out
