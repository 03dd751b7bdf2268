"""`tamga block ...` and `tamga tx ...`: read the chain and submit envelopes over a node's
gRPC Ledger service."""

from __future__ import annotations

import sys

import click
import grpc

from cli.output import emit_json


def _stub(ledger: str):
    from cli.client import ledger_stub

    return ledger_stub(ledger)


def _fail(err: grpc.RpcError) -> None:
    click.echo(f"error: {err.details()}", err=True)
    sys.exit(1)


def block_dict(resp) -> dict:
    from node import codec
    from node.envelope import tx_id_of
    from node.hashing import sha256
    from proto import tamga_pb2 as pb

    block = pb.Block.FromString(resp.block)
    header = pb.BlockHeader.FromString(block.header)
    commit = pb.CommitCertificate.FromString(resp.commit)
    receipts = pb.ReceiptList.FromString(resp.receipts)
    txs = []
    for env, receipt in zip(block.txs, receipts.receipts):
        raw_body = pb.Envelope.FromString(env).body
        body = pb.TxBody.FromString(raw_body)
        txs.append({"tx_id": tx_id_of(raw_body).hex(), "kind": body.kind, "status": receipt.status, "code": receipt.code, "message": receipt.message, "article": receipt.article,
                    "events": [{"kind": e.kind, "recipients": list(e.recipients), "data": _jsonable(codec.decode(e.data))} for e in receipt.events]})
    return {
        "height": header.height,
        "hash": sha256(block.header).hex(),
        "time_ms": header.time_ms,
        "prev_hash": header.prev_hash.hex(),
        "tx_root": header.tx_root.hex(),
        "state_root": header.state_root.hex(),
        "results_root": header.results_root.hex(),
        "validator_set_hash": header.validator_set_hash.hex(),
        "proposer": header.proposer.hex(),
        "last_commit_hash": header.last_commit_hash.hex(),
        "commit": {"round": commit.round, "signers": [s.validator_index for s in commit.signatures]},
        "txs": txs,
    }


def _jsonable(v):
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


@click.group()
def block() -> None:
    """Read committed blocks."""


@block.command("show")
@click.option("--height", type=int, default=0, help="0 = the head")
@click.option("--ledger", default="127.0.0.1:7101", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def block_show(height: int, ledger: str, as_json: bool) -> None:
    """A block's header, commit signers and transactions with their outcome."""
    from proto import tamga_pb2 as pb

    try:
        resp = _stub(ledger).GetBlock(pb.GetBlockRequest(height=height), timeout=10)
    except grpc.RpcError as err:
        _fail(err)
    d = block_dict(resp)
    if as_json:
        emit_json(d)
        return
    click.echo(f"block {d['height']}  {d['hash']}")
    click.echo(f"  time {d['time_ms']}  state root {d['state_root'][:16]}…  signed by validators {d['commit']['signers']}")
    for t in d["txs"]:
        click.echo(f"  {t['tx_id'][:16]}… {t['kind']:<22} {t['status']:<8} {t['code']} {t['message']}")


@click.group()
def tx() -> None:
    """Submit and read transactions."""


@tx.command("show")
@click.argument("tx_id")
@click.option("--ledger", default="127.0.0.1:7101", show_default=True)
@click.option("--wait", "wait_s", type=float, default=0, help="wait up to this many seconds for it to be committed")
@click.option("--json", "as_json", is_flag=True)
def tx_show(tx_id: str, ledger: str, wait_s: float, as_json: bool) -> None:
    """Where a transaction was committed and its outcome."""
    from proto import tamga_pb2 as pb

    try:
        raw = bytes.fromhex(tx_id)
    except ValueError:
        raise click.BadParameter("a tx id is 64 hex digits") from None
    stub = _stub(ledger)
    try:
        if wait_s:
            resp = stub.WaitTx(pb.WaitTxRequest(tx_id=raw, timeout_ms=int(wait_s * 1000)), timeout=wait_s + 5)
        else:
            resp = stub.GetTx(pb.GetTxRequest(tx_id=raw), timeout=10)
    except grpc.RpcError as err:
        _fail(err)
    r = resp.receipt
    d = {"tx_id": tx_id, "height": resp.height, "index": resp.index, "status": r.status, "code": r.code, "message": r.message, "article": r.article, "events": [e.kind for e in r.events]}
    if as_json:
        emit_json(d)
    else:
        click.echo(f"{tx_id}: {r.status} {r.code} at height {resp.height} (#{resp.index}) {r.message} {('[' + r.article + ']') if r.article else ''}")


@tx.command("submit")
@click.argument("envelope_file", type=click.File("rb"))
@click.option("--ledger", default="127.0.0.1:7101", show_default=True)
@click.option("--wait", "wait_s", type=float, default=0, help="wait up to this many seconds for the commit")
@click.option("--json", "as_json", is_flag=True)
def tx_submit(envelope_file, ledger: str, wait_s: float, as_json: bool) -> None:
    """Submit a signed envelope (protobuf bytes in a file, or - for stdin)."""
    from proto import tamga_pb2 as pb

    data = envelope_file.read()
    stub = _stub(ledger)
    try:
        env = pb.Envelope.FromString(data)
    except Exception:
        raise click.BadParameter("the file does not hold a protobuf Envelope") from None
    try:
        if wait_s:
            # One round trip: submit and wait for the commit (SubmitAndWait).
            resp = stub.SubmitAndWait(pb.SubmitAndWaitRequest(envelope=data, timeout_ms=int(wait_s * 1000)), timeout=wait_s + 15)
            result = {"tx_id": resp.receipt.tx_id.hex(), "accepted": True}
            result.update(height=resp.height, status=resp.receipt.status, code=resp.receipt.code, message=resp.receipt.message)
        else:
            result = {"tx_id": stub.Submit(env, timeout=10).tx_id.hex(), "accepted": True}
    except grpc.RpcError as err:
        _fail(err)
    if as_json:
        emit_json(result)
    else:
        click.echo(" ".join(f"{k}={v}" for k, v in result.items()))
