"""Numbered crash points along the commit path, for the fault-injection tests.

A node started with `crash_at` set in its config (or TAMGA_CRASH_AT in the environment)
kills itself with SIGKILL semantics (os._exit, no cleanup) when it reaches that point, as
CometBFT's libs/fail does. Points, in commit order:
  1 after_decision     consensus decided; nothing written yet
  2 after_block_write  block batch written and synced (block, state, indexes, head)
  3 after_apply        in-memory state, mempool and notifications updated
  4 after_projection   the cadastre projection has applied the block
  5 before_ack         about to answer a client that waited for its tx

A point fires only for a block that carries transactions (and, for before_ack, for a tx a
client waits on), so idle empty blocks do not trigger it before the test's load arrives.
"""

from __future__ import annotations

import os

POINTS = ("after_decision", "after_block_write", "after_apply", "after_projection", "before_ack")
_armed: str = os.environ.get("TAMGA_CRASH_AT", "")


def arm(point: str) -> None:
    global _armed
    assert point == "" or point in POINTS, f"unknown crash point {point!r}"
    _armed = point


def point(name: str, *, txs: int = 1) -> None:
    assert name in POINTS
    if _armed == name and txs > 0:
        os._exit(137)
