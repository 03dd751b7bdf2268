"""The two-generation cache behind the state tree (node/gencache.py): bounded, never wrong,
and what was used within the last generation survives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.gencache import TwoGenerationCache

def _ops(value: st.SearchStrategy, *, drop_young: bool) -> st.SearchStrategy:
    kinds = [
        st.tuples(st.just("put"), st.integers(0, 40), value),
        st.tuples(st.just("get"), st.integers(0, 40), st.none()),
        st.tuples(st.just("put_many"), st.lists(st.integers(0, 40), max_size=12), value),
    ]
    if drop_young:
        kinds.append(st.tuples(st.just("drop_young"), st.lists(st.integers(0, 40), max_size=12), st.none()))
    return st.lists(st.one_of(*kinds), max_size=200)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(2, 16), ops=_ops(st.integers(), drop_young=False))
def test_bounded_and_never_wrong(size, ops):
    _check_against_model(size, ops)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(2, 16), ops=_ops(st.just(0), drop_young=True))
def test_drop_young_is_never_wrong_when_a_key_names_its_value(size, ops):
    """drop_young's precondition: a key always names the same value (the state tree's nodes
    are keyed by their hash). Every put here stores its key as the value (put_many stores
    value + key: value 0), so a copy left in the old generation is never stale."""
    def content_addressed(op, key, value):
        return op, key, {"put": key, "put_many": 0}.get(op, value)
    _check_against_model(size, [content_addressed(*op) for op in ops])


def _check_against_model(size, ops):
    cache: TwoGenerationCache[int, int] = TwoGenerationCache(size)
    model: dict[int, int] = {}  # the last value put for each key still allowed to be there
    for op, key, value in ops:
        if op == "put":
            cache.put(key, value)
            model[key] = value
            assert cache.get(key) == value  # just put: present
        elif op == "put_many":
            items = {k: value + k for k in key}
            cache.put_many(items)
            model.update(items)
        elif op == "drop_young":
            old_before = dict(cache._old)
            cache.drop_young(key)
            for k in key:
                # Out of the young generation; what the old one held stays, still right.
                assert k not in cache.young
                assert cache._old.get(k) == old_before.get(k)
        else:
            got = cache.get(key)
            assert got is None or got == model.get(key)
        assert len(cache) <= size
        # What it holds (young shadows old), read without get(), which would reorder it.
        held = {**cache._old, **cache.young}
        assert set(held) == set(cache)
        assert all(model[k] == v for k, v in held.items())


def test_what_was_used_within_a_generation_survives():
    cache: TwoGenerationCache[str, int] = TwoGenerationCache(10)  # generations of 5
    cache.put("hot", 1)
    for i in range(40):
        cache.put(f"cold{i}", i)
        if i % 4 == 0:
            assert cache.get("hot") == 1  # used every 4 puts: always found
    assert cache.get("cold0") is None  # used once, long ago: evicted
    assert cache.get("cold39") == 39


def test_a_batch_larger_than_a_generation_keeps_its_newest_entries():
    cache: TwoGenerationCache[int, int] = TwoGenerationCache(8)
    cache.put_many({i: i for i in range(20)})
    assert len(cache) <= 8
    assert cache.get(19) == 19 and cache.get(16) == 16
    assert cache.get(0) is None


def test_a_cache_needs_two_slots():
    with pytest.raises(AssertionError):
        TwoGenerationCache(1)
