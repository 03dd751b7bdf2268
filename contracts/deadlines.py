"""The due index: deadlines kept by local calendar day, so begin_block never scans the state.

reg/d/<day> counts the pages of items [kind, id] that fall due on that day (reg/d/<day><page>).
begin_block walks the days from the cursor (reg/m/due-cursor, the last day processed) up to today, runs each item's
handler and deletes the day's records. Items may be stale (the application was decided, the
claim withdrawn or extended): every handler re-reads the record and ignores what no longer
applies, so closing a case never has to find and remove its deadlines.

Handlers are registered by the modules that own the records (book, claims, stops).
"""

from __future__ import annotations

from typing import Callable

from contracts import keys
from contracts.env import Env

PAGE_ITEMS_MAX = 64
Handler = Callable[[Env, int, int], None]     # (env, id, due day)
HANDLERS: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    assert kind not in HANDLERS, kind
    HANDLERS[kind] = handler


def add(env: Env, day: int, kind: str, item_id: int) -> None:
    """Make `kind` fall due for `item_id` on `day` (at the first block of that local day).

    A day's items are kept in pages of PAGE_ITEMS_MAX, so adding one costs the same however
    many applications were filed that day."""
    assert kind in HANDLERS, kind
    assert day > env.today, "a deadline is always in the future"
    pages = env.rec.get(keys.due(day)) or 0
    if pages:
        last = env.rec.get(keys.due_page(day, pages - 1))
        if len(last) < PAGE_ITEMS_MAX:
            env.rec.put(keys.due_page(day, pages - 1), last + [[kind, item_id]])
            return
    env.rec.put(keys.due_page(day, pages), [[kind, item_id]])
    env.rec.put(keys.due(day), pages + 1)


def run_due(env: Env) -> None:
    cursor = env.rec.get(keys.DUE_CURSOR)
    if cursor is None:
        cursor = env.today - 1
    day = cursor + 1
    while day <= env.today:
        pages = env.rec.get(keys.due(day))
        if pages is not None:
            for page in range(pages):
                for kind, item_id in env.rec.get(keys.due_page(day, page)):
                    HANDLERS[kind](env, item_id, day)
                env.rec.delete(keys.due_page(day, page))
            env.rec.delete(keys.due(day))
        day += 1
    if cursor < env.today:
        env.rec.put(keys.DUE_CURSOR, env.today)
