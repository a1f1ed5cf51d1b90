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
    return codecs.utf_32_le_decode(memoryview(np.ascontiguousarray(codepoints, dtype="<u4")))[0]
