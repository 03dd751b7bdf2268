"""The registration contracts: the Law on State Registration of Rights to Immovable
Property as deterministic code (design decision 6).

Contracts are functions of (state view, transaction, block context) to state writes and
events, or a typed refusal naming the article of law it rests on.

May import: node.errors, node.codec, node.identity, node.interfaces, node.schema and the
standard library's pure modules. Never the clock, randomness, files, sockets or floats.
"""
