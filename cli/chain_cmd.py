"""`tamga chain ...`: the auditor's tools over a node's data directory."""

from __future__ import annotations

import sys

import click

from cli.output import emit_json, progress


@click.group()
def chain() -> None:
    """Inspect and verify a node's chain."""


@chain.command("verify")
@click.option("--data-dir", type=click.Path(file_okay=False), help="the node's LevelDB store (its data directory or the db inside it); the node must be stopped")
@click.option("--ledger", default=None, help="instead: a running node's Ledger gRPC address, replayed over the network")
@click.option("--genesis", "genesis_file", type=click.Path(exists=True, dir_okay=False), help="with --ledger: the consortium's genesis.json you trust")
@click.option("--json", "as_json", is_flag=True, help="print a JSON report for machines")
def verify(data_dir: str | None, ledger: str | None, genesis_file: str | None, as_json: bool) -> None:
    """Re-check every block: hash links, tx roots, every signature and certificate, commit
    certificates, and that re-executing every transaction reproduces each state root;
    with --data-dir, then compare every stored record with the replay. Exit 0 on a sound
    chain, 1 when something is wrong (naming the first bad height), 2 when nothing could be
    read (no store, a store in use by a running node, no node at --ledger)."""
    if (data_dir is None) == (ledger is None):
        raise click.UsageError("give either --data-dir (a stopped node's store) or --ledger with --genesis (a running node)")
    if ledger is not None:
        report = _verify_remote(ledger, genesis_file, as_json)
    else:
        report = _verify_store(data_dir, as_json)
    if as_json:
        emit_json(report.to_dict())
    elif report.ok:
        rate = f", {report.txs / report.seconds:,.0f} tx/s" if report.seconds > 0 else ""
        click.echo(f"OK: {report.blocks} blocks, {report.txs} transactions verified in {report.seconds:.2f} s{rate}; head at height {report.head_height}")
    else:
        click.echo(f"FAILED at height {report.first_bad_height}:")
        for f in report.findings:
            click.echo(f"  height {f.height}: {f.what}")
    sys.exit(0 if report.ok else 1)


def _cannot_read(message: str, as_json: bool):
    if as_json:
        emit_json({"ok": None, "error": message})
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _verify_store(data_dir: str, as_json: bool):
    from node.errors import TamgaError
    from node.kv import StoreLocked, find_node_store, open_node_store
    from node.verify import Finding, Report, verify_store

    path = find_node_store(data_dir)
    if path is None:
        _cannot_read(f"{data_dir} holds no Tamga store (no db/index LevelDB)", as_json)
    try:
        kv = open_node_store(path, create=False)
    except StoreLocked as err:
        _cannot_read(f"{err.message}; stop the node first, or verify it while it runs with --ledger ADDR --genesis genesis.json", as_json)
    except TamgaError as err:  # LevelDB itself reports the store damaged
        return Report(False, 0, 0, 0, 0.0, None, [Finding(None, err.message)])
    try:
        with progress("verifying blocks", not as_json) as update:
            return verify_store(kv, update)
    finally:
        kv.close()


def _verify_remote(ledger: str, genesis_file: str | None, as_json: bool):
    import grpc

    from cli.client import ledger_stub
    from cli.remote_verify import verify_over_ledger
    from node.genesis import Genesis

    if genesis_file is None:
        raise click.UsageError("--ledger needs --genesis: the genesis document you trust, not the node's word")
    with open(genesis_file, "rb") as f:
        genesis = Genesis.from_json(f.read())
    try:
        with progress("verifying blocks", not as_json) as update:
            return verify_over_ledger(ledger_stub(ledger), genesis, update)
    except grpc.RpcError as err:
        _cannot_read(f"no answer from the node at {ledger} ({err.code().name})", as_json)

