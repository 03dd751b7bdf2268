"""The registration contracts: the Law on State Registration of Rights to Immovable
Property as deterministic code (design decision 6).

Contracts are functions of (state view, transaction, block context) to state writes and
events, or a typed refusal naming the article of law it rests on.

May import: node.errors, node.codec, node.identity, node.interfaces, node.schema and the
standard library's pure modules. Never the clock, randomness, files, sockets or floats.
"""

# Modules (one job each): keys (every state key), payloads (schemas), refusals (codes and
# articles), businessdays (local days, terms, calendar), env (records buffer, events),
# sheet (registration sheet, shares, holdings), book (applications, decisions, priority),
# bars (excluding encumbrances, temporary stops), deadlines (due index for begin_block),
# pledge, sale, settlement, authority, claims, stops, court, corrections, objects,
# keyrecovery, governance (the contracts), kinds (kind -> schema, roles, handler),
# executor (RegistryExecutor), queries (read helpers for the cadastre and the API),
# builders (client-side payload builders).

from contracts.executor import RegistryExecutor  # noqa: E402

__all__ = ["RegistryExecutor"]
