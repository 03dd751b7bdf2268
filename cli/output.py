"""Shared output helpers: JSON for machines, progress bars for people on a terminal."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Callable, Iterator

import click


def emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


@contextlib.contextmanager
def progress(description: str, enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A `(done, total)` callback that drives a rich progress bar on a terminal's stderr,
    and does nothing when output is for a machine or not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        f"[bold]{description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
