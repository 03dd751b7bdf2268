"""Ledger routes: submit envelopes, follow a tx to its receipt, read blocks, node status.

- POST /v1/txs                 anyone (the envelope carries its own EDS signatures)
- GET  /v1/txs/{tx_id}         its signers, the recipients of its events, ledger readers
- GET  /v1/blocks              ledger readers (registrar, auditor, validator, bank)
- GET  /v1/blocks/{height}     ledger readers
- GET  /v1/status              anyone
May import: api, cadastre, node, fastapi.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.auth import certificate_errors
from api.errors import ERROR_SCHEMA
from cadastre import access, canon, reads, redact
from node import codec
from node.errors import MalformedInput, NotFound, TamgaError
from node.interfaces import Credential
from proto import tamga_pb2 as pb

router = APIRouter(tags=["ledger"])

WAIT_MS_MAX = 30_000
TX_ID = r"^[0-9a-f]{64}$"
_ERR = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}

SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}, "example": ""},
            "application/json": {
                "schema": {"type": "object", "required": ["envelope"], "additionalProperties": False,
                           "properties": {"envelope": {"type": "string", "description": "base64 of the serialized Envelope (proto/tamga.proto)"}}},
            },
        },
    }
}


def _svc(request: Request):
    return request.app.state.svc


def outcome_of(receipt: dict) -> str:
    """registered, filed, suspended, refused, ... from a receipt: refused when the contract
    refused the tx, else the outcome code the contract gave, in lower case."""
    return "refused" if receipt["status"] == "refused" else receipt["code"].lower()


def _envelope_from(request_body: bytes, content_type: str) -> bytes:
    if content_type.startswith("application/json"):
        try:
            doc = json.loads(request_body)
            env = base64.b64decode(doc["envelope"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise MalformedInput('a JSON submission is {"envelope": "<base64 of the serialized Envelope>"}') from None
        return env
    if content_type.startswith(("application/octet-stream", "application/x-protobuf")) or not content_type:
        return request_body
    raise MalformedInput(f"send the envelope as application/octet-stream (protobuf bytes) or application/json, not {content_type}")


@router.post(
    "/v1/txs",
    status_code=202,
    summary="Submit an EDS-signed transaction envelope",
    openapi_extra=SUBMIT_BODY,
    responses={200: {"description": "Committed within wait_ms: the tx status"}, 202: {"description": "Accepted into the mempool"},
               401: _ERR, 409: _ERR, 413: _ERR, 503: _ERR},
)
async def submit(request: Request, wait_ms: int = Query(0, ge=0, le=WAIT_MS_MAX, description="wait up to this long for the commit")):
    svc = _svc(request)
    envelope = _envelope_from(await request.body(), request.headers.get("content-type", ""))
    try:
        with certificate_errors():
            tx = svc.rt.submit(envelope)
    except TamgaError as err:
        svc.metrics.submitted.labels(err.code).inc()
        raise
    svc.metrics.submitted.labels("accepted").inc()
    if wait_ms:
        try:
            await svc.rt.hub.wait_tx(tx.tx_id, wait_ms / 1000, svc.rt.committed_height)
        except asyncio.TimeoutError:
            pass
        else:
            return JSONResponse(_tx_status(svc, tx.tx_id, None), status_code=200)
    return JSONResponse({"tx_id": tx.tx_id.hex(), "status": "pending"}, status_code=202)


def _committed(svc, tx_id: bytes) -> dict | None:
    """A committed tx from the projection, or from the chain when the projection lags."""
    loc = svc.rt.committed_location(tx_id)
    if loc is None:
        return None
    row = reads.tx(svc.db, *loc)
    if row is not None:
        # The chain's index and the projection are written from the same blocks.
        assert row["tx_id"] == tx_id.hex(), f"the cadastre holds another tx at {loc}"
        events = reads.tx_events(svc.db, tx_id, loc[0])
        return {**row, "events": [{"kind": e["kind"], "data": e["data"], "recipients": e["recipients"]} for e in events]}
    height, index, envelope, receipt = svc.rt.committed_tx(tx_id)
    env = pb.Envelope.FromString(envelope)
    body = pb.TxBody.FromString(env.body)
    signers = []
    for s in env.signatures:
        c = svc.rt.certificates.credential(s.certificate)
        signers.append({"name": c.name, "iin": c.iin, "bin": c.bin, "roles": list(c.roles), "fingerprint": c.fingerprint.hex()})
    return {
        "tx_id": tx_id.hex(), "height": height, "index": index, "kind": body.kind, "signers": signers, "status": receipt.status,
        "code": receipt.code, "message": receipt.message, "article": receipt.article, "memo": body.memo,
        "events": [{"kind": e.kind, "data": canon.jsonable(codec.decode(e.data)), "recipients": list(e.recipients)} for e in receipt.events],
    }


def _tx_status(svc, tx_id: bytes, cred: Credential | None) -> dict:
    c = _committed(svc, tx_id)
    if c is None:
        pending = svc.rt.mempool.get(tx_id)
        if pending is None:
            raise NotFound(f"no transaction {tx_id.hex()} is pending or committed on this node")
        if cred is not None:
            _check_tx_reader(svc, cred, {i for s in pending.signers for i in (s.iin, s.bin) if i})
        return {"tx_id": tx_id.hex(), "status": "pending", "kind": pending.kind}
    parties = {i for s in c["signers"] for i in (s.get("iin"), s.get("bin")) if i}
    recipients = {r for e in c["events"] for r in e["recipients"]}
    if cred is not None:
        _check_tx_reader(svc, cred, parties | recipients)
    receipt = {"status": c["status"], "code": c["code"], "message": c["message"], "article": c["article"]}
    app = reads.application_of_tx(svc.db, tx_id, c["height"])
    out = {
        "tx_id": c["tx_id"], "status": "committed", "height": c["height"], "index": c["index"], "kind": c["kind"],
        "outcome": outcome_of(receipt), "receipt": receipt, "events": c["events"],
        "application": None if app is None else {k: app.get(k) for k in ("number", "type", "status", "deadline", "objects", "decision", "suspension", "filed")},
    }
    if cred is not None and not cred.has_role(*access.REGISTERING_BODY):
        out = redact.personal_data(out, svc.caller_ids(cred))
    return out


def _check_tx_reader(svc, cred: Credential, involved: set[str]) -> None:
    if svc.caller_ids(cred) & involved or cred.has_role(*access.LEDGER_READERS):
        return
    raise access.AccessDenied("a transaction's status is given to its signers, the recipients of its notifications and ledger readers")


@router.get("/v1/txs/{tx_id}", summary="Status and receipt of a transaction (registered, filed, suspended, refused, with reasons)",
            responses={401: _ERR, 403: _ERR, 404: _ERR})
async def tx_status(request: Request, tx_id: str = Path(pattern=TX_ID, description="hex SHA-256 of the tx body")):
    svc = _svc(request)
    cred = await svc.credential(request)
    return _tx_status(svc, bytes.fromhex(tx_id), cred)


def _block_summary(svc, height: int) -> dict:
    block, header = svc.chain.block(height)
    commit = pb.CommitCertificate.FromString(svc.chain.commit_bytes(height))
    receipts = svc.chain.receipts(height)
    validators = svc.chain.validators
    return {
        "height": height,
        "hash": svc.chain.hash(block.header).hex(),
        "header": {
            "chain_id": header.chain_id, "time_ms": header.time_ms, "prev_hash": header.prev_hash.hex(), "tx_root": header.tx_root.hex(),
            "state_root": header.state_root.hex(), "validator_set_hash": header.validator_set_hash.hex(), "proposer": header.proposer.hex(),
            "last_commit_hash": header.last_commit_hash.hex(), "results_root": header.results_root.hex(),
        },
        "txs": [{"tx_id": r.tx_id.hex(), "status": r.status, "code": r.code} for r in receipts.receipts],
        "block_events": [e.kind for e in receipts.block_events],
        "commit": {"round": commit.round, "signatures": [{"validator": validators[s.validator_index].name, "timestamp_ms": s.timestamp_ms} for s in commit.signatures]},
    }


@router.get("/v1/blocks/{height}", summary="A committed block: header, txs with their outcome, commit signatures",
            responses={401: _ERR, 403: _ERR, 404: _ERR})
async def get_block(request: Request, height: int = Path(ge=1, le=2**62)):
    svc = _svc(request)
    cred = await svc.credential(request)
    access.require_any_role(access.Caller(cred), access.LEDGER_READERS, "reading blocks")
    if height > svc.chain.head.height:
        raise NotFound(f"no block at height {height}; the head is {svc.chain.head.height}")
    return _block_summary(svc, height)


@router.get("/v1/blocks", summary="Committed blocks, oldest first from from_height", responses={401: _ERR, 403: _ERR})
async def list_blocks(request: Request, from_height: int = Query(1, ge=1, le=2**62), limit: int = Query(50, ge=1, le=500)):
    svc = _svc(request)
    cred = await svc.credential(request)
    access.require_any_role(access.Caller(cred), access.LEDGER_READERS, "reading blocks")
    out = []
    for h in range(from_height, min(from_height + limit, svc.projection.height + 1)):
        b = reads.block(svc.db, h)
        if b is not None:
            out.append(b)
    return {"blocks": out, "head": svc.chain.head.height}


@router.get("/v1/status", summary="The node: chain id, height, head, engine, cadastre height")
async def status(request: Request):
    svc = _svc(request)
    return {**svc.rt.status_dict(), "cadastre_height": svc.projection.height}


WALLET_READERS = ("token_issuer", "auditor")


@router.get("/v1/persons/{person_id}/wallet", summary="Settlement-token balance in tiyn: available and locked in pending sales",
            responses={401: _ERR, 403: _ERR})
async def wallet(request: Request, person_id: str = Path(pattern=r"^\d{12}$", description="IIN or BIN")):
    """A balance is the holder's own business: it is given to the holder (IIN or BIN of the
    caller's certificate), the token issuer and auditors."""
    from contracts import queries
    from node.identity import validate_person_id

    svc = _svc(request)
    cred = await svc.credential(request)
    validate_person_id(person_id)
    if person_id not in svc.caller_ids(cred) and not cred.has_role(*WALLET_READERS):
        raise access.AccessDenied("a token balance is given to its holder, the token issuer and auditors")
    head = svc.chain.head
    balance = queries.wallet(svc.chain.state(), person_id)
    return {"person": person_id, "as_of_height": head.height, "available_tiyn": balance["available"], "locked_tiyn": balance["locked"]}
