"""`tamga extract ...`: check a verifiable extract offline, with no node."""

from __future__ import annotations

import datetime
import sys

import click

from cli.output import emit_json


@click.group()
def extract() -> None:
    """Verifiable extracts from the legal cadastre (Art 34.1-1)."""


@extract.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--ca", "ca", required=True, type=click.Path(dir_okay=False, exists=True), help="the consortium CA certificate (PEM) you trust")
@click.option("--json", "as_json", is_flag=True, help="print a JSON report for machines")
def verify(file: str, ca: str, as_json: bool) -> None:
    """Check an extract: its bytes are as issued, the validator certificates come from the
    CA, 2f+1 validators committed the block, every record is proven against the block's
    state root, and the sheet shown is what those records say. Exit 0 when valid, 1 when
    not (saying which check failed), 2 when a file cannot be read."""
    from cadastre.extract import ExtractInvalid  # noqa: PLC0415
    from cadastre.extract import verify as verify_extract  # noqa: PLC0415

    try:
        with open(file, "rb") as f:
            data = f.read()
        with open(ca, "rb") as f:
            ca_pem = f.read()
    except OSError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    try:
        v = verify_extract(data, ca_pem)
    except ExtractInvalid as exc:
        if as_json:
            emit_json({"valid": False, "reason": exc.message})
        else:
            click.echo(f"INVALID: {exc.message}")
        sys.exit(1)
    except ValueError as exc:  # a CA file that is not a PEM certificate
        click.echo(f"error: {ca} is not a PEM certificate: {exc}", err=True)
        sys.exit(2)
    if as_json:
        emit_json({"valid": True, **v.to_dict()})
        return
    when = datetime.datetime.fromtimestamp(v.time_ms / 1000, tz=datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    click.echo(
        f"VALID: {v.kind} of {v.cadastral_number} at height {v.height} ({when}) on chain {v.chain_id}\n"
        f"  block {v.block_hash}, state root {v.state_root}\n"
        f"  committed by {', '.join(v.signed_by)} (certified power {v.certified_power}, quorum {v.quorum}); issued by {v.issued_by}\n"
        f"  {v.records} records proven"
    )


@extract.command("render")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="where to write the printable HTML page")
def render(file: str, out: str) -> None:
    """Write the printable HTML page of an extract (a rendering: verify the JSON)."""
    import json  # noqa: PLC0415

    from cadastre.extract_html import render as render_html  # noqa: PLC0415

    with open(file, "rb") as f:
        doc = json.loads(f.read())
    with open(out, "w", encoding="utf-8") as f:
        f.write(render_html(doc))
    click.echo(f"wrote {out}")
