"""Small numpy helpers shared by the stages."""
from __future__ import annotations

import codecs
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted: ``np.unique`` by sorting, which numpy 2.x's default
    hash-based path is many times slower than on large integer arrays."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def dense_ids(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vocabulary): the distinct `values` (uint32, well mixed, e.g. hashes) sorted, and
    each value's index in them. Equal to ``np.searchsorted(vocabulary, values)``, but looked
    up in a direct-mapped table on the values' top bits (8 slots a distinct value); only the
    values whose slot another one took are found by bisection."""
    vocabulary = unique_sorted(values)
    if len(vocabulary) == 0:
        return np.zeros(0, dtype=np.int64), vocabulary
    bits = min(32, max(10, len(vocabulary).bit_length() + 3))
    shift = np.uint32(32 - bits)
    slot = vocabulary >> shift  # sorted, as the vocabulary is
    first = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])  # one value a slot keeps it
    table_value = np.zeros(1 << bits, dtype=np.uint32)
    table_id = np.full(1 << bits, -1, dtype=np.int64)
    table_value[slot[first]] = vocabulary[first]
    table_id[slot[first]] = first
    at = values >> shift
    ids = table_id[at]
    missed = np.flatnonzero((table_value[at] != values) | (ids < 0))
    ids[missed] = np.searchsorted(vocabulary, values[missed])
    return ids, vocabulary


class MembershipTable:
    """``np.isin(values, members)`` for a fixed set of well-mixed unsigned integers (hashes):
    a direct-mapped table on their top bits, sized so that no two members share a slot where
    possible (one gather a value); values of a slot that members share are found by bisection."""

    _MAX_BITS = 20

    def __init__(self, members: np.ndarray) -> None:
        self._sorted = unique_sorted(members)
        width = self._sorted.dtype.itemsize * 8
        bits = min(self._MAX_BITS, max(4, len(self._sorted).bit_length() + 2))
        while bits < self._MAX_BITS and len(unique_sorted(self._top(self._sorted, width - bits))) < len(self._sorted):
            bits += 1
        self._shift = width - bits
        slots = self._top(self._sorted, self._shift)
        # an empty slot holds a value of its neighbour's slot, which no value of its own equals
        kind = self._sorted.dtype.type
        self._table = (np.arange(1 << bits, dtype=self._sorted.dtype) ^ kind(1)) << kind(self._shift)
        self._table[slots] = self._sorted
        self._crowded = np.bincount(slots, minlength=1 << bits) > 1

    @staticmethod
    def _top(values: np.ndarray, shift: int) -> np.ndarray:
        return (values >> values.dtype.type(shift)).astype(np.intp)

    def contains(self, values: np.ndarray) -> np.ndarray:
        values = values.astype(self._sorted.dtype, copy=False)
        at = self._top(values, self._shift)
        found = self._table[at] == values
        crowded = np.flatnonzero(self._crowded[at])
        if len(crowded):
            where = np.minimum(np.searchsorted(self._sorted, values[crowded]), len(self._sorted) - 1)
            found[crowded] = self._sorted[where] == values[crowded]
        return found


def owners(indptr: np.ndarray) -> np.ndarray:
    """For CSR offsets `indptr`, the row of every element: ``np.repeat(arange(rows),
    diff(indptr))``, as one cumulative sum (faster on many short rows)."""
    total = int(indptr[-1]) if len(indptr) else 0
    filled = np.flatnonzero(indptr[1:] > indptr[:-1])
    steps = np.zeros(total, dtype=np.int64)
    steps[indptr[filled]] = np.diff(filled, prepend=0)
    return np.cumsum(steps)


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for each (s, l), without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(total, dtype=np.int64) + offsets


def chunk_bounds(texts: Sequence[str], chars: int) -> list[tuple[int, int]]:
    """Split `texts` into consecutive runs ``texts[begin:end]`` of about `chars` characters
    (at least one run, even for no texts): a run ends with the text that takes it to `chars`
    (each text counting one more, for its separator)."""
    sizes = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
    total = np.cumsum(sizes)
    bounds, begin, base = [], 0, 0
    while begin < len(texts):
        end = int(np.searchsorted(total, base + chars, side="left")) + 1
        end = min(end, len(texts))
        bounds.append((begin, end))
        begin, base = end, int(total[end - 1])
    return bounds or [(0, 0)]


def ordered_map(fn: Callable[[T], R], items: Sequence[T], workers: int = 1) -> list[R]:
    """``[fn(x) for x in items]``, on `workers` threads when more than one (``-1``: one per
    core). The stages hand it numpy-heavy chunks, during which numpy releases the GIL; the
    results come back in order, so they never depend on the number of threads."""
    if workers < 0:
        workers = os.cpu_count() or 1
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


def codepoints_text(codepoints: np.ndarray) -> str:
    """The string whose code points are `codepoints` (uint32), decoded without a copy."""
    return codecs.utf_32_le_decode(np.ascontiguousarray(codepoints, dtype="<u4").data)[0]
