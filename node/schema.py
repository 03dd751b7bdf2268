"""Every LevelDB key the node writes, built in this one module (design decision 7).

Keys start with a schema version byte and a one-letter table, and integers are big-endian
so that keys sort by height. Pure: no I/O.

Tables
- m/  meta: head pointer, genesis document, store format
- b/  block by height -> Block bytes
- h/  height by block hash
- c/  commit certificate by height
- r/  receipts (ReceiptList) by height
- t/  tx index: tx id -> height (8 bytes) + position (4 bytes)
- s/  state roots: root hash -> the height (8 bytes) its node is stored at
- v/  validator-private consensus state (last signed votes); node-local, not replicated
      and not part of what `tamga chain verify` compares.
- z/  state tree nodes by height (8 bytes) + hash: the height of the block that created the
      node; never overwritten. Why this layout: the nodes are ~70 % of the bytes a node
      writes (~3.1 KB per tx). Keyed by height, each block's nodes sort after all older
      ones; as the last table they are also the end of the whole key space, so LevelDB's
      compactions can move their tables down a level whole: no older table spans past them,
      as tables holding the boundary between two other tables do. Measured over 140,000 txs
      of the in-process pipeline (two stores), the compaction threads took 10.3 ticks per
      1,000 txs with the nodes at "n/" (between c/ and r/), 5.2 at "z/", 7.4 with the
      hash-first keys of format 1.
- x/  foreign: history records that no table above names (see FOREIGN_PREFIX); none in a
      sound store.

Where they are stored (node/split_store.py): a node's store is two LevelDBs. b/, c/, r/ and
z/ records belong to one height each and live in the history LevelDB keyed u64(height) +
a tag letter (+ the node hash for z/), so that each block's records follow all older ones;
the other tables, keyed by hashes or fixed names, live in a small index LevelDB. The keys
above are what the node reads and writes; the split store maps them. A store from before
the split (one LevelDB, these keys as they are) is still read as it is.

Ledger state keys (inside the state tree, not LevelDB keys) that the node itself reads
are at the end: revoked certificates. Contract state keys live in contracts/keys.py.
"""

from __future__ import annotations

import struct

VERSION = b"\x01"

META_HEAD = VERSION + b"m/head"
META_GENESIS = VERSION + b"m/genesis"
# The layout of the tables below, written with the genesis record. Format 2 keys tree nodes
# by height first (format 1 stores, from before that, had no such record).
META_FORMAT = VERSION + b"m/format"
STORE_FORMAT = b"2"
BLOCK_PREFIX = VERSION + b"b/"
HASH_PREFIX = VERSION + b"h/"
COMMIT_PREFIX = VERSION + b"c/"
RECEIPTS_PREFIX = VERSION + b"r/"
TX_PREFIX = VERSION + b"t/"
TREE_NODE_PREFIX = VERSION + b"z/"  # last of all tables: see the module docstring
TREE_ROOT_PREFIX = VERSION + b"s/"
PRIVATE_PREFIX = VERSION + b"v/"
# Records in the history LevelDB that are not of the form u64(height) + tag: nothing the node
# writes, but an insider could put some there by hand (node/split_store.py shows them here).
FOREIGN_PREFIX = VERSION + b"x/"

# Tables whose every record `tamga chain verify` recomputes from the blocks.
REPLICATED_PREFIXES = (META_HEAD, META_GENESIS, META_FORMAT, BLOCK_PREFIX, HASH_PREFIX, COMMIT_PREFIX, RECEIPTS_PREFIX, TX_PREFIX, TREE_NODE_PREFIX, TREE_ROOT_PREFIX,
                       FOREIGN_PREFIX)


def u64(n: int) -> bytes:
    return struct.pack(">Q", n)


def read_u64(b: bytes) -> int:
    return struct.unpack(">Q", b)[0]


def block(height: int) -> bytes:
    return BLOCK_PREFIX + u64(height)


def height_of_hash(block_hash: bytes) -> bytes:
    return HASH_PREFIX + block_hash


def commit(height: int) -> bytes:
    return COMMIT_PREFIX + u64(height)


def receipts(height: int) -> bytes:
    return RECEIPTS_PREFIX + u64(height)


def tx(tx_id: bytes) -> bytes:
    return TX_PREFIX + tx_id


def tx_location(height: int, index: int) -> bytes:
    return struct.pack(">QI", height, index)


def read_tx_location(value: bytes) -> tuple[int, int]:
    height, index = struct.unpack(">QI", value)
    return height, index


def tree_node(height: int, node_hash: bytes) -> bytes:
    return TREE_NODE_PREFIX + u64(height) + node_hash


def tree_root(root: bytes) -> bytes:
    return TREE_ROOT_PREFIX + root


def height_from_key(key: bytes) -> int | None:
    """The height a block/commit/receipts key is for, else None."""
    for prefix in (BLOCK_PREFIX, COMMIT_PREFIX, RECEIPTS_PREFIX):
        if key.startswith(prefix) and len(key) == len(prefix) + 8:
            return read_u64(key[len(prefix):])
    return None


def history_height(key: bytes) -> int | None:
    """The height a block/commit/receipts/tree-node key belongs to, else None."""
    h = height_from_key(key)
    if h is None and key.startswith(TREE_NODE_PREFIX) and len(key) >= len(TREE_NODE_PREFIX) + 8:
        h = read_u64(key[len(TREE_NODE_PREFIX):len(TREE_NODE_PREFIX) + 8])
    return h


def private(name: str) -> bytes:
    return PRIVATE_PREFIX + name.encode()


# --- ledger state keys read by the node itself -----------------------------------------
STATE_REVOKED_PREFIX = b"pki/revoked/"


def state_revoked(cert_fingerprint: bytes) -> bytes:
    """Present (any value) when the certificate with this fingerprint is revoked."""
    return STATE_REVOKED_PREFIX + cert_fingerprint
