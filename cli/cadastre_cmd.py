"""`tamga cadastre ...`: the legal cadastre projection of a node's data directory."""

from __future__ import annotations

import hashlib
import os
import sys
import time

import click

from cli.output import emit_json, progress


@click.group()
def cadastre() -> None:
    """Maintain the cadastre projection (SQLite) of a node."""


def _open_chain(data_dir: str):
    """The node's chain, read from its store (the node must be stopped: LevelDB is locked)."""
    from node import schema  # noqa: PLC0415
    from node.apps import executor_for  # noqa: PLC0415
    from node.chain import Chain  # noqa: PLC0415
    from node.genesis import Genesis  # noqa: PLC0415
    from node.kv import find_node_store, open_node_store  # noqa: PLC0415

    path = find_node_store(data_dir)
    if path is None:
        click.echo(f"error: {data_dir} holds no Tamga store (no db/index LevelDB)", err=True)
        sys.exit(2)
    try:
        kv = open_node_store(path, create=False)
    except Exception as exc:  # plyvel raises IOError subclasses for a held lock
        click.echo(f"error: cannot open the store at {path}: {exc}; stop the node first", err=True)
        sys.exit(2)
    raw = kv.get(schema.META_GENESIS)
    if raw is None:
        click.echo(f"error: the store at {path} has no genesis", err=True)
        sys.exit(2)
    genesis = Genesis.from_json(raw)
    return kv, Chain(kv, genesis, executor_for(genesis.app))


def _db_path(data_dir: str, db: str | None) -> str:
    return db or os.path.join(data_dir, "cadastre.sqlite")


def digest(projection) -> str:
    """SHA-256 over every projection row in key order: equal digests, equal projections."""
    h = hashlib.sha256()
    for table, row in projection.dump():
        h.update(repr((table, row)).encode())
    return h.hexdigest()


@cadastre.command("rebuild")
@click.option("--data-dir", required=True, type=click.Path(file_okay=False), help="the node's data directory (holding db/)")
@click.option("--db", "db", default=None, type=click.Path(dir_okay=False), help="the cadastre database (default DATA_DIR/cadastre.sqlite)")
@click.option("--json", "as_json", is_flag=True, help="print a JSON report for machines")
def rebuild(data_dir: str, db: str | None, as_json: bool) -> None:
    """Drop the projection and rebuild it from the chain (blocks, receipts and the state at
    each block). The book of requests, webhooks and their deliveries are node-local and kept;
    nothing is re-sent. Prints the digest of the result, equal for equal projections."""
    from cadastre.projection import Projection  # noqa: PLC0415

    kv, chain = _open_chain(data_dir)
    try:
        proj = Projection(_db_path(data_dir, db))
        proj.bind(chain)
        start = time.perf_counter()
        with progress("rebuilding the cadastre", not as_json) as update:
            blocks = proj.rebuild(update)
        seconds = time.perf_counter() - start
        report = {"height": proj.height, "blocks": blocks, "seconds": round(seconds, 3), "blocks_per_s": round(blocks / seconds, 1) if seconds > 0 else None,
                  "digest": digest(proj), "db": proj.path}
        proj.close()
    finally:
        kv.close()
    if as_json:
        emit_json(report)
    else:
        rate = f" ({report['blocks_per_s']:,} blocks/s)" if report["blocks_per_s"] else ""
        click.echo(f"rebuilt {report['db']}: {blocks} blocks to height {report['height']} in {seconds:.2f} s{rate}; digest {report['digest']}")


@cadastre.command("status")
@click.option("--data-dir", required=True, type=click.Path(file_okay=False))
@click.option("--db", "db", default=None, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def status(data_dir: str, db: str | None, as_json: bool) -> None:
    """Height, counts and digest of a node's cadastre database (read-only)."""
    from cadastre import reads  # noqa: PLC0415
    from cadastre.projection import Projection  # noqa: PLC0415

    path = _db_path(data_dir, db)
    if not os.path.exists(path):
        click.echo(f"error: no cadastre database at {path}", err=True)
        sys.exit(2)
    proj = Projection(path)
    report = {"db": path, "height": proj.height, "outbox_height": proj.outbox_height, **reads.counts(proj.db), "digest": digest(proj)}
    proj.close()
    if as_json:
        emit_json(report)
    else:
        click.echo(" ".join(f"{k}={v}" for k, v in report.items()))
