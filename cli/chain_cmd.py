"""`tamga chain ...`: the auditor's tools over a node's data directory."""

from __future__ import annotations

import os
import sys

import click

from cli.output import emit_json, progress


@click.group()
def chain() -> None:
    """Inspect and verify a node's chain."""


@chain.command("verify")
@click.option("--data-dir", required=True, type=click.Path(file_okay=False), help="the node's LevelDB store (its data directory or the db inside it)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON report for machines")
def verify(data_dir: str, as_json: bool) -> None:
    """Re-check every block: hash links, tx roots, every signature and certificate, commit
    certificates, and that re-executing every transaction reproduces each state root;
    then compare every stored record with the replay. Exit 0 on a sound chain, 1 otherwise,
    2 when the directory holds no store."""
    from node.kv import LevelDBStore
    from node.verify import verify_store

    path = _store_path(data_dir)
    if path is None:
        click.echo(f"error: {data_dir} holds no Tamga store (no LevelDB CURRENT file)", err=True)
        sys.exit(2)
    from node.errors import TamgaError

    try:
        kv = LevelDBStore(path, create=False)
    except TamgaError as err:
        if as_json:
            emit_json({"ok": False, "first_bad_height": None, "findings": [{"height": None, "what": err.message}]})
        else:
            click.echo(f"FAILED: {err.message}")
        sys.exit(1)
    try:
        with progress("verifying blocks", not as_json) as update:
            report = verify_store(kv, update)
    finally:
        kv.close()
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


def _store_path(data_dir: str) -> str | None:
    for candidate in (os.path.join(data_dir, "db"), data_dir):
        if os.path.exists(os.path.join(candidate, "CURRENT")):
            return candidate
    return None
