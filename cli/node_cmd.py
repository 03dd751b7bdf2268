"""`tamga node ...`: run one node; read its status."""

from __future__ import annotations

import asyncio
import sys

import click

from cli.output import emit_json


@click.group()
def node() -> None:
    """Run and inspect one authentication node."""


@node.command("run")
@click.option("--config", "config_file", required=True, type=click.Path(exists=True, dir_okay=False), help="the node's config.json (from `tamga cluster init`)")
@click.option("--skip-store-check", is_flag=True, help="start without re-checking the store (not for production)")
def run(config_file: str, skip_store_check: bool) -> None:
    """Run a node until SIGINT/SIGTERM. Logs JSON lines to stderr and the config's log file."""
    from node import heap, logs
    from node.config import NodeConfig
    from node.errors import TamgaError
    from node.runner import NodeRuntime
    from node.startup_check import check_store

    cfg = NodeConfig.load(config_file)
    logs.setup(cfg.name, cfg.path(cfg.log_file) if cfg.log_file else None)
    try:
        runtime = NodeRuntime(cfg)
        if not skip_store_check:
            check_store(runtime.chain)
    except TamgaError as err:
        click.echo(f"REFUSING TO START: {err.message}", err=True)
        sys.exit(3)
    heap.settle_after_startup()  # after the genesis and caches are loaded: see node/heap.py
    asyncio.run(runtime.run_forever())


@node.command("resync")
@click.option("--config", "config_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def resync(config_file: str, as_json: bool) -> None:
    """Restore a node whose store is damaged: the store is moved aside (kept as evidence), and
    on its next start the node fetches every block from its peers, checking each commit
    certificate and re-executing each block. Run it with the node stopped."""
    from node.config import NodeConfig
    from node.resync import resync as do_resync

    result = do_resync(NodeConfig.load(config_file))
    if as_json:
        emit_json(result)
    else:
        click.echo(f"damaged store moved to {result['damaged_store_moved_to']}; kept {result['private_records_kept']} validator-private records")
        click.echo("start the node again: it re-syncs from its peers")


@node.command("status")
@click.option("--ledger", default="127.0.0.1:7101", show_default=True, help="the node's Ledger gRPC address")
@click.option("--json", "as_json", is_flag=True)
def status(ledger: str, as_json: bool) -> None:
    """Height, head, round, mempool and peers of a running node."""
    from cli.client import ledger_stub
    from proto import tamga_pb2 as pb

    st = ledger_stub(ledger).Status(pb.StatusRequest(), timeout=5)
    data = {
        "node": st.node_name,
        "chain_id": st.chain_id,
        "height": st.height,
        "head_hash": st.head_hash.hex(),
        "state_root": st.state_root.hex(),
        "round": st.round,
        "mempool": st.mempool_size,
        "peers": list(st.peers),
    }
    if as_json:
        emit_json(data)
    else:
        for k, v in data.items():
            click.echo(f"{k:>10}: {v}")
