"""The committed-tx-id filter: never a false "no", rarely a false "maybe", and the chain's
tx lookups of new txs no longer reach the store (node/txid_filter.py)."""

from __future__ import annotations

import hashlib
import random

from hypothesis import given, settings, strategies as st

from node import schema
from node.kv import MemoryStore
from node.txid_filter import TxIdFilter
from tests.ledger_support import SoloNode


def _ids(seed: int, n: int) -> list[bytes]:
    rnd = random.Random(seed)
    return [hashlib.sha256(rnd.randbytes(16)).digest() for _ in range(n)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=300), st.integers(1, 40))
def test_no_added_id_is_ever_reported_absent(ids, first_layer):
    f = TxIdFilter(first_layer_ids=first_layer)
    for i, tx_id in enumerate(ids):
        f.add(tx_id)
        # everything added so far, across however many layers it took
        assert all(f.may_contain(seen) for seen in ids[: i + 1])
    assert len(f) == len(ids)


def test_layers_grow_and_false_positives_stay_rare():
    f = TxIdFilter(first_layer_ids=1000)
    members = _ids(1, 15_000)  # fills layers of 1,000, 2,000, 4,000 and 8,000 ids
    for tx_id in members:
        f.add(tx_id)
    assert f.layers == 4
    assert all(f.may_contain(t) for t in members)
    strangers = _ids(2, 20_000)
    false = sum(f.may_contain(t) for t in strangers)
    # each full layer answers a stranger "maybe" with p ~ 0.24 %; four layers ~ 1 %
    assert false < 0.02 * len(strangers), false


def test_an_id_of_another_length_is_left_to_the_store():
    assert TxIdFilter().may_contain(b"short") is True


class CountingStore(MemoryStore):
    def __init__(self):
        super().__init__()
        self.tx_gets = 0

    def get(self, key):
        self.tx_gets += key.startswith(schema.TX_PREFIX)
        return super().get(key)


def test_lookups_of_new_txs_skip_the_store_and_committed_ones_are_found(test_pki):
    alice = test_pki.party("Alice")
    kv = CountingStore()
    node = SoloNode(kv, test_pki)
    txs = [node.submit("note.put", {"key": f"k{i}", "value": b"v"}, alice) for i in range(5)]
    node.sealer.seal()
    kv.tx_gets = 0
    fresh = [hashlib.sha256(b"never submitted %d" % i).digest() for i in range(200)]
    assert all(node.chain.tx_location(t) is None for t in fresh)
    assert kv.tx_gets <= 5  # false "maybe"s only (~0.24 % each)
    assert [node.chain.tx_location(tx.tx_id) for tx in txs] == [(1, i) for i in range(5)]
    # a restarted node rebuilds the filter from the tx index
    again = SoloNode(kv, test_pki)
    assert [again.chain.tx_location(tx.tx_id) for tx in txs] == [(1, i) for i in range(5)]
