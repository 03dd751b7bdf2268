"""Decode and verify transaction envelopes: the one place a node checks a signature of a tx.

A node verifies each envelope once (when it first sees it, from a client or a peer) and
keeps the resulting VerifiedTx; blocks then refer to what was verified. Checks, cheapest
first: size, protobuf shape, chain id, kind, canonical payload, then each signature against
a certificate issued by the consortium CA. Validity periods and revocation depend on time
and state and are checked by the caller (mempool: now; execution: block time).

Building envelopes (the client's side) is here too, so tests, the CLI, the demo and the
load generator build them the same way.
May import: node.codec, node.errors, node.hashing, node.interfaces, node.pki, node.signing, proto.
"""

from __future__ import annotations

from typing import Any, Sequence

from google.protobuf.message import DecodeError

from node import codec, signing
from node.errors import BadSignature, InvalidPayload, MalformedInput, TooLarge, WrongChain
from node.hashing import sha256
from node.interfaces import VerifiedTx
from node.pki import CertificateVerifier
from proto import tamga_pb2 as pb

ENVELOPE_BYTES_MAX = 512 * 1024    # a bulk register load carries a few hundred objects
SIGNATURES_MAX = 16                 # co-owners, spouses, several buyers, notary, bank
KIND_BYTES_MAX = 64
MEMO_BYTES_MAX = 1024


def tx_id_of(body: bytes) -> bytes:
    """The tx id is the hash of the body bytes (design decision 2)."""
    return sha256(body)


class EnvelopeVerifier:
    """Turns envelope bytes into a VerifiedTx or raises a typed error."""

    def __init__(self, chain_id: str, certificates: CertificateVerifier):
        self.chain_id = chain_id
        self.certificates = certificates

    def verify(self, data: bytes) -> VerifiedTx:
        if len(data) > ENVELOPE_BYTES_MAX:
            raise TooLarge(f"envelope is {len(data)} bytes; the limit is {ENVELOPE_BYTES_MAX}")
        try:
            env = pb.Envelope.FromString(data)
            body = pb.TxBody.FromString(env.body)
        except (DecodeError, ValueError) as exc:
            raise MalformedInput(f"envelope is not a valid protobuf Envelope/TxBody: {exc}") from None
        if not env.body:
            raise MalformedInput("envelope has an empty body")
        if body.chain_id != self.chain_id:
            raise WrongChain(f"transaction is for chain {body.chain_id!r}; this is {self.chain_id!r}")
        if not body.kind or len(body.kind.encode()) > KIND_BYTES_MAX:
            raise MalformedInput("transaction kind is empty or longer than 64 bytes")
        if len(body.memo.encode()) > MEMO_BYTES_MAX:
            raise TooLarge(f"memo is longer than {MEMO_BYTES_MAX} bytes")
        if not env.signatures:
            raise BadSignature("transaction carries no signature")
        if len(env.signatures) > SIGNATURES_MAX:
            raise TooLarge(f"{len(env.signatures)} signatures; the limit is {SIGNATURES_MAX}")
        payload = codec.decode(body.payload) if body.payload else {}
        if not isinstance(payload, dict):
            raise InvalidPayload("payload must be a map")
        signers = []
        seen = set()
        for sig in env.signatures:
            cred = self.certificates.credential(sig.certificate)
            if cred.fingerprint in seen:
                raise MalformedInput(f"{cred.name} signed twice")
            seen.add(cred.fingerprint)
            if not signing.verify(cred.public_key, sig.signature, "tx", self.chain_id, env.body):
                raise BadSignature(f"signature of {cred.name} (certificate serial {cred.serial}) does not verify over this body")
            signers.append(cred)
        return VerifiedTx(
            tx_id=tx_id_of(env.body),
            kind=body.kind,
            payload=payload,
            nonce=body.nonce,
            memo=body.memo,
            signers=tuple(signers),
            body=env.body,
            envelope=data,
        )


def build_body(chain_id: str, kind: str, payload: dict[str, Any], nonce: int, memo: str = "") -> bytes:
    return pb.TxBody(chain_id=chain_id, kind=kind, payload=codec.encode(payload), nonce=nonce, memo=memo).SerializeToString()


def sign_body(chain_id: str, body: bytes, parties: Sequence[tuple[signing.Signer, bytes]]) -> bytes:
    """Envelope bytes for `body` signed by each (signer, certificate DER) in `parties`."""
    env = pb.Envelope(body=body)
    for signer, cert_der in parties:
        env.signatures.add(certificate=cert_der, signature=signer.sign("tx", chain_id, body))
    return env.SerializeToString()


def build_envelope(chain_id: str, kind: str, payload: dict[str, Any], parties, nonce: int, memo: str = "") -> bytes:
    return sign_body(chain_id, build_body(chain_id, kind, payload, nonce, memo), parties)
