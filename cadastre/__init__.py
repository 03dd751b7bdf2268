"""The legal cadastre: a SQLite projection of committed blocks, the access rules of
Art 17 and Order 1382, and verifiable extracts.

It reads only committed blocks and receipts, keeps its own cursor, and can be dropped and
rebuilt from the chain with the same result (design decision 8).
May import: node, contracts (to read state records), proto, sqlite3.
"""
