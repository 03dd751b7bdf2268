"""Shared fixtures: both storage backends, a test PKI.

Long soak runs carry the `soak` marker and are deselected by default (pyproject addopts);
run them with `scripts/test -m soak`."""

from __future__ import annotations

from node import native

native.enable()  # before any test imports a hot module: the suite tests what the nodes run (node/native.py)

import pytest  # noqa: E402

from node.kv import MemoryStore, open_node_store  # noqa: E402
from tests.ledger_support import TestPKI  # noqa: E402


@pytest.fixture(params=["leveldb", "memory"])
def kv(request, tmp_path):
    """Every storage test runs on a node's LevelDB store (history and index, node/split_store.py) and on the in-memory twin."""
    if request.param == "leveldb":
        store = open_node_store(tmp_path / "db")
        yield store
        store.close()
    else:
        yield MemoryStore()


@pytest.fixture(scope="session")
def test_pki() -> TestPKI:
    return TestPKI()
