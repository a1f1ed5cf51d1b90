"""Small numpy helpers shared by the stages."""
from __future__ import annotations

from typing import Sequence

import numpy as np


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
