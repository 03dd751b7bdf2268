"""Shared fixtures: both storage backends, a test PKI.

Long soak runs carry the `soak` marker and are deselected by default (pyproject addopts);
run them with `scripts/test -m soak`."""

from __future__ import annotations

import pytest

from node.kv import MemoryStore, open_node_store
from tests.ledger_support import TestPKI


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
