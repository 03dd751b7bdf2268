"""Entry point of the `tamga` command: a click group; each subcommand lives in its own module."""

from __future__ import annotations

import click

from cli.chain_cmd import chain
from cli.cluster_cmd import cluster
from cli.node_cmd import node


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tamga")
def cli() -> None:
    """Tamga: a permissioned BFT ledger for the state registration of rights to real estate."""


cli.add_command(chain)
cli.add_command(cluster)
cli.add_command(node)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
