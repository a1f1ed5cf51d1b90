"""MinHash signatures for a whole batch at once, bit-compatible with datasketch.

The permutations are datasketch 2.x's default ``affine32`` scheme: the 32-bit shingle hash
is pre-mixed with MurmurHash3's 32-bit finalizer, then ``a*h + b mod 2**32`` with ``a, b``
drawn from ``numpy.random.RandomState(seed)`` exactly as ``datasketch.MinHash`` draws them.
So ``datasketch.MinHash(num_perm, seed, hashfunc=dedup.shingle.shingle_hash)`` fed the
strings of `dedup.shingle.shingle_strings` holds the same values as our signature row, and
`to_lean_minhash` hands a row to datasketch's LSH and its storage backends.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .arrays import unique_sorted
from .shingle import Shingles

if TYPE_CHECKING:
    from datasketch import LeanMinHash

SCHEME = "affine32"
EMPTY = np.uint32(0xFFFFFFFF)
_TARGET_BLOCK = 4096  # shingles per permutation block: keeps (num_perm, block) in cache


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


class MinHasher:
    """Computes MinHash signatures of many shingle sets as array operations."""

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        if num_perm < 1:
            raise ValueError("num_perm must be positive")
        self.num_perm = num_perm
        self.seed = seed
        gen = np.random.RandomState(seed)
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        self._a = a[:, None]
        self._b = b[:, None]

    def signatures(self, shingles: Shingles) -> np.ndarray:
        """(passages, num_perm) uint32; a passage with no shingles gets all-``EMPTY``.

        Works on runs of passages holding about `_TARGET_BLOCK` shingles: their permuted
        hashes fill one reused (num_perm, shingles) buffer, reduced per passage along the
        contiguous axis."""
        n = len(shingles)
        indptr = shingles.indptr
        mixed = _fmix32(shingles.hashes)
        columns = np.full((self.num_perm, n), EMPTY, dtype=np.uint32)
        runs = _runs(indptr)
        buffer = np.empty((self.num_perm, max((indptr[b] - indptr[a] for a, b in runs), default=0)), dtype=np.uint32)
        for first, stop in runs:
            lo, hi = indptr[first], indptr[stop]
            if hi == lo:
                continue
            block = buffer[:, : hi - lo]
            np.multiply(self._a, mixed[None, lo:hi], out=block)
            np.add(block, self._b, out=block)
            starts = indptr[first:stop] - lo
            inside = int(np.searchsorted(starts, hi - lo))  # passages after these are empty
            columns[:, first:first + inside] = np.minimum.reduceat(block, starts[:inside], axis=1)
        out = np.ascontiguousarray(columns.T)
        out[indptr[1:] == indptr[:-1]] = EMPTY  # reduceat gave empty passages a neighbour's value
        return out

    def to_lean_minhash(self, signature: np.ndarray) -> "LeanMinHash":
        """One signature row as a ``datasketch.LeanMinHash`` (same seed and scheme)."""
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.seed, hashvalues=np.asarray(signature, dtype=np.uint32), scheme=SCHEME)


def _runs(indptr: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive passage ranges [first, stop) of about `_TARGET_BLOCK` shingles each."""
    n = len(indptr) - 1
    if n == 0:
        return []
    cuts = np.searchsorted(indptr, np.arange(_TARGET_BLOCK, int(indptr[-1]), _TARGET_BLOCK), side="right") - 1
    bounds = unique_sorted(np.concatenate([[0], np.clip(cuts, 1, n - 1) if n > 1 else [], [n]]).astype(np.int64))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """MinHash estimate of the Jaccard similarity of two signatures."""
    return float(np.mean(sig_a == sig_b))
