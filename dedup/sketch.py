"""MinHash signatures for a whole batch at once, bit-compatible with datasketch.

The permutations are datasketch 2.x's default ``affine32`` scheme: the 32-bit shingle hash
is pre-mixed with MurmurHash3's 32-bit finalizer, then ``a*h + b mod 2**32`` with ``a, b``
drawn from ``numpy.random.RandomState(seed)`` exactly as ``datasketch.MinHash`` draws them.
So ``datasketch.MinHash(num_perm, seed, hashfunc=dedup.shingle.shingle_hash)`` fed the
strings of `dedup.shingle.shingle_strings` holds the same values as our signature row, and
`to_lean_minhash` hands a row to datasketch's LSH and its storage backends (`dedup.interop`
converts both ways, with datasketch as an optional extra).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .shingle import Shingles

if TYPE_CHECKING:
    from datasketch import LeanMinHash

SCHEME = "affine32"
EMPTY = np.uint32(0xFFFFFFFF)
_BLOCK = 512  # passages sketched together: their (num_perm, block) arrays stay in cache
_LONG = 512  # a passage with more shingles than this is sketched on its own
_LONG_CHUNK = 8192  # shingles of a long passage permuted at once


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

        Passages are ordered by shingle count, longest first, and taken `_BLOCK` at a time:
        the block's hashes form a (position, passage) table, and the permuted values of
        position ``l`` are folded into a running (num_perm, passage) minimum, over just the
        passages that are that long. So every step is an element-wise operation on
        contiguous rows, and no per-passage reduction is needed."""
        indptr = shingles.indptr
        counts = np.diff(indptr)
        mixed = _fmix32(shingles.hashes)
        out = np.empty((len(counts), self.num_perm), dtype=np.uint32)
        order = np.argsort(-counts, kind="stable")
        by_count = counts[order]
        long_end = int(np.searchsorted(-by_count, -_LONG, side="left"))
        filled_end = int(np.searchsorted(-by_count, 0, side="left"))
        for passage in order[:long_end].tolist():
            out[passage] = self._long_signature(mixed[indptr[passage]:indptr[passage + 1]])
        # numpy multiplies two contiguous arrays several times faster than it broadcasts a
        # column, so the coefficients are laid out at full block width
        width = min(_BLOCK, max(filled_end - long_end, 1))
        a, b = (np.ascontiguousarray(np.broadcast_to(c, (self.num_perm, width))) for c in (self._a, self._b))
        minimum, permuted = np.empty_like(a), np.empty_like(a)  # reused: no fresh pages a block
        for first in range(long_end, filled_end, width):
            ids = order[first:min(first + width, filled_end)]
            _block_signatures(a, b, mixed, indptr[ids], by_count[first:first + len(ids)], minimum, permuted)
            out[ids] = minimum[:, :len(ids)].T
        out[order[filled_end:]] = EMPTY
        return out

    def _long_signature(self, mixed: np.ndarray) -> np.ndarray:
        minimum = np.full(self.num_perm, EMPTY, dtype=np.uint32)
        for lo in range(0, len(mixed), _LONG_CHUNK):
            permuted = self._a * mixed[None, lo:lo + _LONG_CHUNK]
            permuted += self._b
            np.minimum(minimum, permuted.min(axis=1), out=minimum)
        return minimum

    def to_lean_minhash(self, signature: np.ndarray) -> "LeanMinHash":
        """One signature row as a ``datasketch.LeanMinHash`` (same seed and scheme); needs the
        datasketch extra (see `dedup.interop`)."""
        from .interop import to_lean_minhash

        return to_lean_minhash(signature, self.seed)


def _block_signatures(a: np.ndarray, b: np.ndarray, mixed: np.ndarray, starts: np.ndarray, counts: np.ndarray,
                      minimum: np.ndarray, permuted: np.ndarray) -> None:
    """Into ``minimum[:, :passages]``: the minima of ``a*h + b`` over the shingles `h` of the
    passages with these `starts` and (descending, positive) `counts` in `mixed`. `a`, `b`,
    `minimum` and the scratch `permuted` are (num_perm, width) arrays."""
    width, length = len(starts), int(counts[0])
    positions = np.arange(length)
    last = starts + counts - 1
    table = mixed[np.minimum(starts[None, :] + positions[:, None], last[None, :])]
    still_going = width - np.searchsorted(counts[::-1], positions, side="right")
    a, b, minimum = a[:, :width], b[:, :width], minimum[:, :width]
    np.multiply(a, table[0], out=minimum)
    np.add(minimum, b, out=minimum)
    for position in range(1, length):
        k = int(still_going[position])
        step = permuted[:, :k]
        np.multiply(a[:, :k], table[position, :k], out=step)
        np.add(step, b[:, :k], out=step)
        np.minimum(minimum[:, :k], step, out=minimum[:, :k])


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """MinHash estimate of the Jaccard similarity of two signatures."""
    return float(np.mean(sig_a == sig_b))
