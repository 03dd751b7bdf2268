"""Progress for a person watching: rich progress bars on a terminal, a line every few
seconds otherwise (CI logs, pipes)."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class Ui:
    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.console = Console(stderr=True)
        self.tty = sys.stderr.isatty() and not quiet

    def say(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text)

    @contextlib.contextmanager
    def phase(self, title: str, total: float) -> Iterator[Callable[[float, str], None]]:
        """A bar for one phase; the yielded update(done, note) moves it."""
        if self.tty:
            with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
                          TimeRemainingColumn(), console=self.console, transient=False) as prog:
                task = prog.add_task(title, total=total, note="")
                yield lambda done, note="": prog.update(task, completed=done, note=note)
            return
        last = [0.0]
        start = time.monotonic()
        self.say(f"-- {title}")

        def update(done: float, note: str = "") -> None:
            now = time.monotonic()
            if not self.quiet and now - last[0] >= 10:
                last[0] = now
                print(f"   {title}: {done:.0f}/{total:.0f} {note} ({now - start:.0f} s)", file=sys.stderr, flush=True)

        yield update
