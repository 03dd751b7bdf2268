"""Ed25519 signatures with domain separation, via PyNaCl (pure: no clock, no randomness
except in `generate`, which only key-creation tools call).

Every signed message is  b"tamga/1/" + tag + b"\\0" + chain_id + b"\\0" + payload, so a
vote can never be replayed as a transaction, nor anything on another chain (design
decision 2). The tags are listed in DOMAIN_TAGS.
"""

from __future__ import annotations

import struct

import nacl.exceptions
import nacl.signing

DOMAIN_TAGS = frozenset({"tx", "vote", "proposal", "request", "webhook", "extract", "identity"})
SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32


def signed_message(tag: str, chain_id: str, payload: bytes) -> bytes:
    assert tag in DOMAIN_TAGS, f"unknown domain tag {tag!r}"
    return b"tamga/1/" + tag.encode() + b"\0" + chain_id.encode() + b"\0" + payload


class Signer:
    """Holds an Ed25519 private key and signs domain-separated messages."""

    def __init__(self, seed: bytes):
        assert len(seed) == 32
        self._key = nacl.signing.SigningKey(seed)
        self.public_key: bytes = bytes(self._key.verify_key)

    @classmethod
    def generate(cls) -> "Signer":
        return cls(bytes(nacl.signing.SigningKey.generate()))

    @property
    def seed(self) -> bytes:
        return bytes(self._key)

    def sign(self, tag: str, chain_id: str, payload: bytes) -> bytes:
        return self._key.sign(signed_message(tag, chain_id, payload)).signature


def verify(public_key: bytes, signature: bytes, tag: str, chain_id: str, payload: bytes) -> bool:
    """True when `signature` is `public_key`'s signature of the domain-separated payload."""
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        nacl.signing.VerifyKey(public_key).verify(signed_message(tag, chain_id, payload), signature)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False


# --- sign bytes of consensus messages ----------------------------------------------------
def vote_sign_bytes(vote_type: int, height: int, round_: int, block_hash: bytes, timestamp_ms: int) -> bytes:
    """Fixed-layout bytes of a vote: type, height, round, timestamp, then the block hash
    (empty for nil). Fixed layout rather than protobuf so that no encoder can vary it."""
    return struct.pack(">BQIq", vote_type, height, round_, timestamp_ms) + block_hash


def proposal_sign_bytes(height: int, round_: int, pol_round: int, block_hash: bytes) -> bytes:
    return struct.pack(">QIi", height, round_, pol_round) + block_hash
