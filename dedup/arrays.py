"""Small numpy helpers shared by the stages."""
from __future__ import annotations

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


def chunk_bounds(texts: Sequence[str], chars: int) -> list[tuple[int, int]]:
    """Split `texts` into consecutive runs ``texts[begin:end]`` of about `chars` characters
    (at least one run, even for no texts)."""
    bounds, begin, size = [], 0, 0
    for i, text in enumerate(texts):
        size += len(text) + 1
        if size >= chars:
            bounds.append((begin, i + 1))
            begin, size = i + 1, 0
    if begin < len(texts) or not bounds:
        bounds.append((begin, len(texts)))
    return bounds


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
