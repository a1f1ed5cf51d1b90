"""Candidate pairs: LSH banding over MinHash signatures, and the exact fast path by text hash.

Everything is numpy: band keys for all passages at once, grouped by sorting, pairs made
within runs of equal keys. Buckets larger than a cap (stock phrases) are linked as a chain
instead of all-pairs, and counted in the stats.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .arrays import unique_sorted
from .shingle import fmix64


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimizing the weighted false positive and negative areas, as datasketch's
    ``MinHashLSH`` chooses them (same integrals, evaluated with the trapezoid rule)."""
    best, best_err = (1, num_perm), float("inf")
    lo = np.linspace(0.0, threshold, 201)
    hi = np.linspace(threshold, 1.0, 201)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(1 - (1 - lo**r) ** b, lo)
            fn = np.trapezoid((1 - hi**r) ** b, hi)
            err = float(fp * fp_weight + fn * fn_weight)
            if err < best_err:
                best, best_err = (b, r), err
    return best


_ROW_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def band_keys(signatures: np.ndarray, bands: int, rows: int, salt: np.ndarray | None = None) -> np.ndarray:
    """(passages, bands) uint32: one hash per band of `rows` signature values.

    32 bits are plenty: a chance collision only adds a candidate pair that verification
    rejects. With `salt` (one integer per passage, e.g. its document), only passages with
    the same salt can share a key.
    """
    n = signatures.shape[0]
    sig = signatures[:, : bands * rows].reshape(n, bands, rows)
    keys = sig[:, :, 0].astype(np.uint64)
    for r in range(1, rows):
        keys *= _ROW_MULTIPLIER
        keys += sig[:, :, r]
    if salt is not None:
        keys ^= fmix64(salt.astype(np.uint64) + np.uint64(1))[:, None]
    return (fmix64(keys) >> np.uint64(32)).astype(np.uint32)


@dataclass
class CandidateStats:
    """What the candidate stage saw: pairs found, and oversized buckets linked as chains."""

    pairs: int = 0
    capped_buckets: int = 0
    capped_passages: int = 0
    by_source: dict[str, int] = field(default_factory=dict)


def pairs_from_keys(keys: np.ndarray, eligible: np.ndarray | None = None, cap: int = 64,
                    stats: CandidateStats | None = None) -> np.ndarray:
    """Pairs (i, j), i < j, of passages that share a key in any column of `keys`.

    `keys` is (passages,) or (passages, bands). Rows where `eligible` is False take no part.
    A bucket with more than `cap` members yields only its chain of neighbours (i_k, i_k+1).
    """
    if keys.ndim == 1:
        keys = keys[:, None]
    index = np.arange(keys.shape[0], dtype=np.int64)
    if eligible is not None:
        index = index[eligible]
    if keys.dtype == np.uint32 and 1 < keys.shape[1] and len(index) * keys.shape[1] <= _ONE_SORT_LIMIT:
        # a small batch (a draft): every band in one sort, as (band, key) pairs, instead of a sort a band
        bands = np.arange(keys.shape[1], dtype=np.uint64) << np.uint64(32)
        flat = (keys[index].astype(np.uint64) | bands).ravel()
        pairs = _pairs_in_column(flat, np.repeat(index, keys.shape[1]), cap, stats)
        return unique_pairs(pairs)
    found: list[np.ndarray] = []
    for column in keys.T:
        found.append(_pairs_in_column(column[index], index, cap, stats))
    pairs = np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)
    return unique_pairs(pairs)


_ONE_SORT_LIMIT = 1 << 20  # (passages x bands) sorted at once; larger inputs go a band at a time


def _pairs_in_column(keys: np.ndarray, index: np.ndarray, cap: int, stats: CandidateStats | None) -> np.ndarray:
    found = _buckets(keys, index)
    if found is None:
        return np.zeros((0, 2), dtype=np.int64)
    members, run_id = found
    run_start = np.r_[True, run_id[1:] != run_id[:-1]]
    starts = np.flatnonzero(run_start)
    lengths = np.diff(np.r_[starts, len(run_id)])
    big = lengths > cap
    if stats is not None and big.any():
        stats.capped_buckets += int(big.sum())
        stats.capped_passages += int(lengths[big].sum())
    out: list[np.ndarray] = []
    if big.any():
        big_member = np.repeat(big, lengths)
        chain = big_member[:-1] & big_member[1:] & (run_id[1:] == run_id[:-1])
        out.append(np.stack([members[:-1][chain], members[1:][chain]], axis=1))
        keep = ~big_member
        members, run_id = members[keep], run_id[keep]
    step = 1
    while step < len(members):
        same = run_id[step:] == run_id[:-step]
        if not same.any():
            break
        out.append(np.stack([members[:-step][same], members[step:][same]], axis=1))
        step += 1
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def _buckets(keys: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(members, bucket number) of every passage whose key another shares, sorted by bucket
    and, within one, by passage (`index`, ascending, names the passage of each key); None
    when no key repeats. 32-bit keys sort with their passage packed in the low half, so one
    sort of plain integers orders both."""
    packed_sort = keys.dtype == np.uint32 and (len(index) == 0 or int(index[-1]) <= 0xFFFFFFFF)
    if packed_sort:
        packed = np.sort(keys.astype(np.uint64) << np.uint64(32) | index.astype(np.uint64))
        sorted_keys = packed >> np.uint64(32)
        passages = (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    else:
        order = np.argsort(keys)
        sorted_keys, passages = keys[order], index[order]
    same_as_next = sorted_keys[1:] == sorted_keys[:-1]
    if not same_as_next.any():
        return None
    in_run = np.r_[same_as_next, False] | np.r_[False, same_as_next]
    members = passages[in_run]
    run_id = np.cumsum(np.r_[True, ~same_as_next])[in_run]
    if not packed_sort:
        by_index = np.lexsort((members, run_id))  # members of a bucket in passage order
        members, run_id = members[by_index], run_id[by_index]
    return members, run_id


def unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """Sorted, de-duplicated pairs with the smaller index first."""
    if len(pairs) == 0:
        return pairs.reshape(0, 2).astype(np.int64)
    lo = np.minimum(pairs[:, 0], pairs[:, 1])
    hi = np.maximum(pairs[:, 0], pairs[:, 1])
    keep = lo != hi
    code = unique_sorted(lo[keep].astype(np.uint64) << np.uint64(32) | hi[keep].astype(np.uint64))
    return np.stack([(code >> np.uint64(32)).astype(np.int64), (code & np.uint64(0xFFFFFFFF)).astype(np.int64)], axis=1)
