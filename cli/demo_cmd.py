"""`tamga demo`: the pilot's flow, scripted, against the running consortium that scripts/start
(`tamga cluster up`) started: a pledge filed by a bank and registered by a registrar, the
notices, a verifiable extract checked offline, the auditor's check, a sale settled in tokens,
an arrest, and a court's reversal of the sale (cli/demo_flow.py does the steps).

Exit 0 when every step behaved as the law says; 1 naming the first step that did not;
2 when there is no consortium to talk to. --json prints an account of every step.
May import: cli.demo_flow, cli.output, click.
"""

from __future__ import annotations

import sys

import click

from cli.output import emit_json


class _Printer:
    """Progress for people: each step as it starts, what it found, and how it ended."""

    def __init__(self, out):
        self.out = out

    def start(self, index, total, step) -> None:
        click.echo(f"\n[{index}/{total}] {step.title}", file=self.out)

    def line(self, text: str) -> None:
        click.echo(f"    {text}", file=self.out)

    def done(self, step) -> None:
        if step.ok:
            click.echo(f"  ✓ {step.id} ({step.seconds:.1f} s)", file=self.out)
        else:
            click.echo(f"  ✗ {step.id} FAILED: {step.error}", file=self.out)


@click.command("demo")
@click.option("--dir", "directory", default="var/cluster", show_default=True, type=click.Path(file_okay=False),
              help="the consortium's directory (genesis.json, ca/, nodes/) as `tamga cluster up` made it")
@click.option("--node", default=None, help="the node whose HTTP API the demo's people use (default: bank, else the first)")
@click.option("--timeout", "timeout_s", default=30.0, show_default=True, type=click.FloatRange(1, 600),
              help="seconds to wait for each commit and each notice")
@click.option("--json", "as_json", is_flag=True, help="print a JSON account of every step (progress goes to stderr)")
def demo(directory: str, node: str | None, timeout_s: float, as_json: bool) -> None:
    """Walk through the pilot's flow on the running consortium, checking each step."""
    from cli.demo_flow import Consortium, Demo, StepFailed  # noqa: PLC0415

    out = sys.stderr if as_json else sys.stdout
    try:
        consortium = Consortium.load(directory, node)
    except StepFailed as exc:
        if as_json:
            emit_json({"ok": False, "failed_step": "consortium", "error": exc.message, "steps": []})
        else:
            click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    click.echo(f"Tamga demo: the pilot's flow on {directory} (chain {consortium.genesis.chain_id}, API of node {consortium.node.name})", file=out)
    account = Demo(consortium, timeout_s=timeout_s, reporter=_Printer(out)).run()
    if as_json:
        emit_json(account)
    if account["ok"]:
        click.echo(f"\nEvery step behaved as the law says ({len(account['steps'])} steps, {account['seconds']:.1f} s).", file=out)
        return
    failed = next(s for s in account["steps"] if not s["ok"])
    click.echo(f"\nThe demo stopped at step '{failed['id']}' ({failed['title']}): {failed['error']}", file=out)
    sys.exit(1)
