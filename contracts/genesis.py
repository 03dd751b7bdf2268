"""The initial application state a new consortium starts with (`app_state` of genesis).

Used by `tamga cluster init/up`, the demo and the test harness. Without a "policy" entry
book.DEFAULT_POLICY applies (registrars decide pledges, as in the pilot); without a
"calendar" entry years use the fixed public holidays (contracts/businessdays.py).
May import: nothing beyond the standard library.
"""

from __future__ import annotations


def default_app_state(authorities: dict[str, str] | None = None, register: list[dict] | None = None, policy: dict | None = None) -> dict:
    state: dict = {}
    if policy is not None:
        state["policy"] = policy
    if authorities:
        state["authorities"] = dict(authorities)
    if register:
        state["register"] = register
        state["register_source"] = "demo register (systematic registration, Chapter 6)"
    return state
