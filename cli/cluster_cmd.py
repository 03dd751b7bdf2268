"""`tamga cluster ...`: create a local consortium and run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click

from cli.output import emit_json

REGISTER_SIZE_HELP = "objects in the demo register loaded at genesis (default 3000; 0 = none; cli/demo_register.py)"
REGISTER_SEED_HELP = "seed of the demo register (the same seed gives the same register)"


@click.group()
def cluster() -> None:
    """Create and run a local consortium of nodes."""


@cluster.command("init")
@click.option("--nodes", default=4, show_default=True, type=click.IntRange(1, 7))
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--base-port", default=7001, show_default=True, help="HTTP on base+i, Ledger gRPC on base+100+i, peers on base+200+i")
@click.option("--chain-id", default="tamga-local-1", show_default=True)
@click.option("--app", default="tamga-registry/1", show_default=True, type=click.Choice(["tamga-registry/1", "tamga-generic/1"]))
@click.option("--register-size", default=None, type=click.IntRange(0, 100_000), help=REGISTER_SIZE_HELP)
@click.option("--register-seed", default=None, type=int, help=REGISTER_SEED_HELP)
@click.option("--json", "as_json", is_flag=True)
def init(nodes: int, out: str, base_port: int, chain_id: str, app: str, register_size: int | None, register_seed: int | None, as_json: bool) -> None:
    """Create the CA, validator keys, TLS certificates, genesis and per-node configs."""
    from node.cluster import init_cluster

    if os.path.exists(os.path.join(out, "genesis.json")):
        raise click.ClickException(f"{out} already holds a cluster (genesis.json); choose another --out or remove it")
    layout = init_cluster(out, nodes, base_port=base_port, chain_id=chain_id, app=app, app_state=_default_app_state(app, register_size, register_seed))
    if as_json:
        emit_json({"genesis": layout.genesis_file, "ca": layout.ca_cert_file, "nodes": layout.nodes})
    else:
        click.echo(f"created a {nodes}-node consortium in {out}")
        for path in layout.nodes:
            click.echo(f"  tamga node run --config {path}")


def _default_app_state(app: str, register_size: int | None = None, register_seed: int | None = None) -> dict:
    """The registry's genesis state: the Ministry of Justice's BIN and the demo register."""
    if app != "tamga-registry/1":
        return {}
    from cli import demo_register
    from contracts.genesis import default_app_state
    from node.cluster import OPERATORS

    size = demo_register.DEFAULT_SIZE if register_size is None else register_size
    seed = demo_register.DEFAULT_SEED if register_seed is None else register_seed
    return default_app_state(authorities={"MOJ": OPERATORS[0][2]}, register=demo_register.generate(size, seed) or None)


@cluster.command("up")
@click.option("--dir", "directory", default="var/cluster", show_default=True, type=click.Path(file_okay=False))
@click.option("--nodes", default=4, show_default=True, type=click.IntRange(1, 7))
@click.option("--base-port", default=7001, show_default=True)
@click.option("--app", default="tamga-registry/1", show_default=True, type=click.Choice(["tamga-registry/1", "tamga-generic/1"]))
@click.option("--ready-timeout", default=60, show_default=True, help="seconds to wait for every node to answer")
@click.option("--register-size", default=None, type=click.IntRange(0, 100_000), help=REGISTER_SIZE_HELP + "; used when the consortium is created")
@click.option("--register-seed", default=None, type=int, help=REGISTER_SEED_HELP)
def up(directory: str, nodes: int, base_port: int, app: str, ready_timeout: int, register_size: int | None, register_seed: int | None) -> None:
    """Start a local consortium (creating it on first use) and keep it running until Ctrl-C."""
    from node.config import NodeConfig

    genesis = os.path.join(directory, "genesis.json")
    if not os.path.exists(genesis):
        from node.cluster import init_cluster

        app_state = _default_app_state(app, register_size, register_seed)
        init_cluster(directory, nodes, base_port=base_port, app=app, app_state=app_state)
        loaded = len(app_state.get("register") or [])
        click.echo(f"created a {nodes}-node consortium in {directory}" + (f" with a demo register of {loaded:,} objects" if loaded else ""))
    configs = sorted(
        os.path.join(directory, "nodes", name, "config.json") for name in os.listdir(os.path.join(directory, "nodes"))
    )
    procs = start_nodes(configs)
    # The nodes run in sessions of their own, so a signal to this process alone would orphan
    # them: stop them on SIGTERM as on Ctrl-C, and take SIGINT even when started in the
    # background (where the shell leaves it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        wait_ready([NodeConfig.load(c) for c in configs], ready_timeout, procs)
        click.echo("")
        click.echo(f"Tamga consortium running ({len(configs)} nodes, chain data in {directory}/nodes/*/data):")
        for c in configs:
            cfg = NodeConfig.load(c)
            http = f"http://{cfg.http_listen}" if cfg.http_listen else "-"
            click.echo(f"  {cfg.name:<6} {cfg.organisation:<52} HTTP {http}/docs   gRPC Ledger {cfg.ledger_listen}")
        click.echo("")
        click.echo(f"  status: tamga node status --ledger {NodeConfig.load(configs[0]).ledger_listen}")
        click.echo(f"  demo:   tamga demo --dir {directory}      (the pilot's flow, step by step)")
        click.echo(f"  audit:  tamga chain verify --data-dir {os.path.dirname(configs[0])}/data   (once stopped: LevelDB admits one process)")
        click.echo("Press Ctrl-C to stop.")
        supervise(procs)
    finally:
        stop_nodes(procs)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def start_nodes(configs: list[str]) -> list[subprocess.Popen]:
    procs = []
    for c in configs:
        log = open(os.path.join(os.path.dirname(c), "stderr.log"), "ab")
        procs.append(subprocess.Popen([sys.executable, "-m", "cli.main", "node", "run", "--config", c], stdout=log, stderr=log, start_new_session=True))
    return procs


def wait_ready(configs, timeout_s: float, procs) -> None:
    from cli.client import ledger_stub
    from proto import tamga_pb2 as pb

    deadline = time.monotonic() + timeout_s
    for cfg, proc in zip(configs, procs):
        stub = ledger_stub(cfg.ledger_listen)
        while True:
            if proc.poll() is not None:
                raise click.ClickException(f"node {cfg.name} exited with {proc.returncode}; see {os.path.join(cfg.base_dir, 'stderr.log')}")
            try:
                stub.Status(pb.StatusRequest(), timeout=1)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise click.ClickException(f"node {cfg.name} did not answer within {timeout_s} s")
                time.sleep(0.2)


def supervise(procs) -> None:
    try:
        while True:
            for p in procs:
                if p.poll() is not None:
                    click.echo(f"a node exited with code {p.returncode}; stopping the consortium", err=True)
                    return
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("stopping")


def stop_nodes(procs) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
