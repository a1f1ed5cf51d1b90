"""Candidate pairs: LSH band parameters, banding, and pairs from shared keys."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from datasketch.lsh import _optimal_param
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dedup.candidates import CandidateStats, band_keys, optimal_bands, pairs_from_keys, unique_pairs
from dedup.shingle import shingle_batch
from dedup.sketch import MinHasher


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_optimal_bands_match_datasketch(threshold):
    assert optimal_bands(threshold, 128) == _optimal_param(threshold, 128, 0.5, 0.5)


@pytest.mark.parametrize("threshold, num_perm", [(0.5, 64), (0.8, 32), (0.3, 256)])
def test_optimal_bands_other_sizes(threshold, num_perm):
    assert optimal_bands(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def test_optimal_bands_fit_in_signature():
    for t in (0.2, 0.4, 0.6, 0.8):
        b, r = optimal_bands(t, 128)
        assert b >= 1 and r >= 1 and b * r <= 128


# --- band keys --------------------------------------------------------------------------------

def test_band_keys_shape_and_equality():
    sig = MinHasher(128, 1).signatures(shingle_batch(["bank rates rise", "bank rates rise", "farm harvest"]))
    keys = band_keys(sig, 37, 3)
    assert keys.shape == (3, 37) and keys.dtype == np.uint32
    assert np.array_equal(keys[0], keys[1])
    assert not np.array_equal(keys[0], keys[2])


def test_band_keys_depend_only_on_own_band():
    rng = np.random.default_rng(1)
    sig = rng.integers(0, 2**32, size=(2, 20), dtype=np.uint64).astype(np.uint32)
    sig[1, :5] = sig[0, :5]  # only the first band of 5 rows agrees
    keys = band_keys(sig, 4, 5)
    assert keys[0, 0] == keys[1, 0]
    assert (keys[0, 1:] != keys[1, 1:]).all()


def test_band_keys_order_within_band_matters():
    sig = np.array([[1, 2, 3], [3, 2, 1]], dtype=np.uint32)
    keys = band_keys(sig, 1, 3)
    assert keys[0, 0] != keys[1, 0]


# --- pairs from keys --------------------------------------------------------------------------

def brute_force(keys: np.ndarray, eligible: np.ndarray | None = None) -> set[tuple[int, int]]:
    if keys.ndim == 1:
        keys = keys[:, None]
    n = keys.shape[0]
    ok = np.ones(n, dtype=bool) if eligible is None else eligible
    return {
        (i, j)
        for i, j in itertools.combinations(range(n), 2)
        if ok[i] and ok[j] and (keys[i] == keys[j]).any()
    }


def as_set(pairs: np.ndarray) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in pairs}


def check_well_formed(pairs: np.ndarray) -> None:
    assert pairs.ndim == 2 and pairs.shape[1] == 2
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert len(as_set(pairs)) == len(pairs)


def test_pairs_simple():
    keys = np.array([5, 7, 5, 9, 7, 5], dtype=np.uint64)
    pairs = pairs_from_keys(keys)
    check_well_formed(pairs)
    assert as_set(pairs) == {(0, 2), (0, 5), (2, 5), (1, 4)}


def test_pairs_any_band():
    keys = np.array([[1, 10], [2, 10], [1, 20], [3, 30]], dtype=np.uint64)
    assert as_set(pairs_from_keys(keys)) == {(0, 1), (0, 2)}


def test_pairs_none_and_empty():
    assert pairs_from_keys(np.array([1, 2, 3], dtype=np.uint64)).shape == (0, 2)
    assert pairs_from_keys(np.zeros(0, dtype=np.uint64)).shape == (0, 2)
    assert pairs_from_keys(np.zeros((0, 4), dtype=np.uint64)).shape == (0, 2)
    assert pairs_from_keys(np.array([7], dtype=np.uint64)).shape == (0, 2)


def test_eligible_mask_respected():
    keys = np.array([5, 5, 5, 5], dtype=np.uint64)
    eligible = np.array([True, False, True, True])
    assert as_set(pairs_from_keys(keys, eligible=eligible)) == {(0, 2), (0, 3), (2, 3)}
    assert pairs_from_keys(keys, eligible=np.zeros(4, dtype=bool)).shape == (0, 2)


KEYS = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        arrays(np.uint64, st.tuples(st.just(n), st.integers(1, 4)), elements=st.integers(0, 6)),
        arrays(np.bool_, n),
    )
)


@settings(max_examples=200, deadline=None)
@given(KEYS)
def test_pairs_match_brute_force(data):
    keys, eligible = data
    pairs = pairs_from_keys(keys, cap=10_000)
    check_well_formed(pairs)
    assert as_set(pairs) == brute_force(keys)


@settings(max_examples=200, deadline=None)
@given(KEYS)
def test_pairs_match_brute_force_with_eligible(data):
    keys, eligible = data
    pairs = pairs_from_keys(keys, eligible=eligible, cap=10_000)
    check_well_formed(pairs)
    assert as_set(pairs) == brute_force(keys, eligible)


@settings(max_examples=100, deadline=None)
@given(arrays(np.uint64, st.integers(0, 40), elements=st.integers(0, 3)))
def test_pairs_one_dimensional_keys(keys):
    assert as_set(pairs_from_keys(keys, cap=10_000)) == brute_force(keys)


def test_oversized_bucket_is_chained_and_counted():
    n, cap = 10, 4
    keys = np.array([42] * n + [7, 7], dtype=np.uint64)
    stats = CandidateStats()
    pairs = pairs_from_keys(keys, cap=cap, stats=stats)
    check_well_formed(pairs)
    chain = {(i, i + 1) for i in range(n - 1)}
    assert as_set(pairs) == chain | {(n, n + 1)}
    assert stats.capped_buckets == 1
    assert stats.capped_passages == n


def test_bucket_at_cap_is_all_pairs():
    keys = np.array([3] * 4, dtype=np.uint64)
    stats = CandidateStats()
    assert len(pairs_from_keys(keys, cap=4, stats=stats)) == 6
    assert stats.capped_buckets == 0 and stats.capped_passages == 0


def test_oversized_buckets_counted_per_band():
    keys = np.array([[1, 2]] * 6 + [[3, 4]] * 2, dtype=np.uint64)
    stats = CandidateStats()
    pairs = pairs_from_keys(keys, cap=5, stats=stats)
    assert as_set(pairs) == {(i, i + 1) for i in range(5)} | {(6, 7)}
    assert stats.capped_buckets == 2 and stats.capped_passages == 12


def test_oversized_bucket_chain_respects_eligible():
    keys = np.array([9] * 8, dtype=np.uint64)
    eligible = np.array([True, False] * 4)
    stats = CandidateStats()
    pairs = pairs_from_keys(keys, eligible=eligible, cap=2, stats=stats)
    assert as_set(pairs) == {(0, 2), (2, 4), (4, 6)}
    assert stats.capped_buckets == 1 and stats.capped_passages == 4


def test_oversized_bucket_still_connects_everyone():
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 3, size=200).astype(np.uint64)
    pairs = pairs_from_keys(keys, cap=8)
    check_well_formed(pairs)
    # each key's members form one connected chain
    parent = list(range(200))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs.tolist():
        parent[find(a)] = find(b)
    for k in range(3):
        members = np.flatnonzero(keys == k)
        assert len({find(int(m)) for m in members}) == 1


def test_unique_pairs():
    pairs = np.array([[3, 1], [1, 3], [2, 2], [0, 5], [0, 5]], dtype=np.int64)
    assert unique_pairs(pairs).tolist() == [[0, 5], [1, 3]]
    assert unique_pairs(np.zeros((0, 2), dtype=np.int64)).shape == (0, 2)


def test_candidate_stats_defaults():
    s = CandidateStats()
    assert (s.pairs, s.capped_buckets, s.capped_passages, s.by_source) == (0, 0, 0, {})


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 60), st.integers(2, 8), st.integers(0, 2**31), st.integers(2, 6))
def test_one_sort_and_band_by_band_give_the_same_pairs(n, bands, seed, cap):
    import dedup.candidates as candidates

    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 4, size=(n, bands)).astype(np.uint32)  # few values: many shared buckets
    one_sort_stats, by_band_stats = candidates.CandidateStats(), candidates.CandidateStats()
    one_sort = candidates.pairs_from_keys(keys, cap=cap, stats=one_sort_stats)
    limit = candidates._ONE_SORT_LIMIT
    candidates._ONE_SORT_LIMIT = 0
    try:
        by_band = candidates.pairs_from_keys(keys, cap=cap, stats=by_band_stats)
    finally:
        candidates._ONE_SORT_LIMIT = limit
    assert np.array_equal(one_sort, by_band)
    assert (one_sort_stats.capped_buckets, one_sort_stats.capped_passages) == \
        (by_band_stats.capped_buckets, by_band_stats.capped_passages)
