"""Shared fixtures: both storage backends, a test PKI.

Long soak runs carry the `soak` marker and are deselected by default (pyproject addopts);
run them with `scripts/test -m soak`."""

from __future__ import annotations

import pytest

from node.kv import LevelDBStore, MemoryStore
from tests.ledger_support import TestPKI


@pytest.fixture(params=["leveldb", "memory"])
def kv(request, tmp_path):
    """Every storage test runs on LevelDB and on the in-memory twin."""
    if request.param == "leveldb":
        store = LevelDBStore(tmp_path / "db")
        yield store
        store.close()
    else:
        yield MemoryStore()


@pytest.fixture(scope="session")
def test_pki() -> TestPKI:
    return TestPKI()
