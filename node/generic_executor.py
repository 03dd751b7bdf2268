"""A minimal application for exercising the chain without the registration contracts.

Kinds: "note.put" {key: str, value: bytes} and "note.delete" {key: str} by any signer;
"pki.revoke" {fingerprint: bytes} by an identity_officer. Used by the ledger-core tests,
the single-node sealing benchmark and as the shape a real application follows.
May import: node.codec, node.errors, node.interfaces, node.schema.
"""

from __future__ import annotations

from node import schema
from node.errors import InvalidPayload, Refusal, UnknownKind
from node.interfaces import BlockContext, Event, Executor, Outcome, VerifiedTx

NOTE_PREFIX = b"note/"
KEY_BYTES_MAX = 256
VALUE_BYTES_MAX = 64 * 1024


class GenericExecutor(Executor):
    name = "tamga-generic/1"

    def init_chain(self, app_state, state, ctx: BlockContext) -> None:
        for key, value in sorted(app_state.get("notes", {}).items()):
            state.set(NOTE_PREFIX + key.encode(), value.encode())

    def check_tx(self, tx: VerifiedTx) -> None:
        p = tx.payload
        if tx.kind in ("note.put", "note.delete"):
            if not isinstance(p.get("key"), str) or not 0 < len(p["key"].encode()) <= KEY_BYTES_MAX:
                raise InvalidPayload(f"{tx.kind} needs a 'key' string of 1-{KEY_BYTES_MAX} bytes")
            if tx.kind == "note.put" and (not isinstance(p.get("value"), bytes) or len(p["value"]) > VALUE_BYTES_MAX):
                raise InvalidPayload(f"note.put needs a 'value' of at most {VALUE_BYTES_MAX} bytes")
        elif tx.kind == "pki.revoke":
            if not isinstance(p.get("fingerprint"), bytes) or len(p["fingerprint"]) != 32:
                raise InvalidPayload("pki.revoke needs the 32-byte 'fingerprint' of the certificate")
            for signer in tx.signers:
                signer.require_role("identity_officer")
        else:
            raise UnknownKind(f"unknown transaction kind {tx.kind!r}; known: note.put, note.delete, pki.revoke")

    def deliver_tx(self, ctx: BlockContext, tx: VerifiedTx, state) -> Outcome:
        p = tx.payload
        signer_ids = tuple(s.subject_id for s in tx.signers)
        if tx.kind == "note.put":
            state.set(NOTE_PREFIX + p["key"].encode(), p["value"])
            return Outcome("STORED", f"note {p['key']} stored", events=(Event("note.stored", {"key": p["key"], "objects": []}, signer_ids),))
        if tx.kind == "note.delete":
            key = NOTE_PREFIX + p["key"].encode()
            if state.get(key) is None:
                raise Refusal("NO_SUCH_NOTE", f"there is no note {p['key']!r} to delete")
            state.delete(key)
            return Outcome("DELETED", f"note {p['key']} deleted")
        if tx.kind == "pki.revoke":
            state.set(schema.state_revoked(p["fingerprint"]), ctx.height.to_bytes(8, "big"))
            return Outcome("REVOKED", "certificate revoked")
        raise AssertionError(f"check_tx admitted unknown kind {tx.kind}")
