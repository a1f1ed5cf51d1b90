"""Tests of the small array helpers the stages share."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.arrays import MembershipTable, chunk_bounds, ordered_map


def reference_chunk_bounds(texts: list[str], chars: int) -> list[tuple[int, int]]:
    bounds, begin, size = [], 0, 0
    for i, text in enumerate(texts):
        size += len(text) + 1
        if size >= chars:
            bounds.append((begin, i + 1))
            begin, size = i + 1, 0
    if begin < len(texts) or not bounds:
        bounds.append((begin, len(texts)))
    return bounds


@given(st.lists(st.text(max_size=30), max_size=60), st.integers(1, 80))
def test_chunk_bounds_cover_the_texts_in_runs_of_about_chars(texts, chars):
    bounds = chunk_bounds(texts, chars)
    assert bounds == reference_chunk_bounds(texts, chars)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(texts)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))


def test_ordered_map_keeps_order_on_threads():
    items = list(range(50))
    assert ordered_map(lambda x: x * x, items, workers=2) == [x * x for x in items]
    assert ordered_map(lambda x: x + 1, items, workers=-1) == [x + 1 for x in items]


@given(st.lists(st.integers(0, 2**32 - 1), max_size=200), st.sampled_from([1, 3, 17]))
def test_dense_ids_index_the_sorted_distinct_values(values, repeat):
    import numpy as np

    from dedup.arrays import dense_ids

    array = np.array(values * repeat, dtype=np.uint32)
    ids, vocabulary = dense_ids(array)
    assert np.array_equal(vocabulary, np.unique(array))
    assert np.array_equal(vocabulary[ids], array)


@given(st.lists(st.integers(0, 5), max_size=40))
def test_owners_name_the_row_of_every_element(lengths):
    import numpy as np

    from dedup.arrays import owners

    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    assert np.array_equal(owners(indptr), np.repeat(np.arange(len(lengths)), lengths))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([32, 64]), st.data())
def test_membership_table_is_isin(width, data):
    dtype = np.uint32 if width == 32 else np.uint64
    values = st.lists(st.integers(0, (1 << width) - 1), max_size=60)
    members, others = data.draw(values), data.draw(values)
    shared_top_bits = data.draw(st.integers(0, 8))
    # values that share their top bits with a member land in its slot and must still be told apart
    near = [m ^ (1 << shared_top_bits) for m in members]
    table = MembershipTable(np.array(members, dtype=dtype))
    queries = np.array(members + others + near + [0, (1 << width) - 1], dtype=dtype)
    assert table.contains(queries).tolist() == np.isin(queries, np.array(members, dtype=dtype)).tolist()
