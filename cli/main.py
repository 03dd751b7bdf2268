"""Entry point of the `tamga` command: a click group; each subcommand lives in its own module."""

from __future__ import annotations

import click

from cli.cadastre_cmd import cadastre
from cli.chain_cmd import chain
from cli.cluster_cmd import cluster
from cli.demo_cmd import demo
from cli.extract_cmd import extract
from cli.ledger_cmd import block, tx
from cli.node_cmd import node


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tamga")
def cli() -> None:
    """Tamga: a permissioned BFT ledger for the state registration of rights to real estate."""


cli.add_command(chain)
cli.add_command(block)
cli.add_command(tx)
cli.add_command(cluster)
cli.add_command(node)
cli.add_command(cadastre)
cli.add_command(extract)
cli.add_command(demo)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
