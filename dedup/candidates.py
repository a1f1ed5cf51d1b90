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
    """What the candidate stage saw: pairs found, oversized buckets linked as chains, and
    the passages of a flood (see `flood_passages`) linked to representatives."""

    pairs: int = 0
    capped_buckets: int = 0
    capped_passages: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    bucket_pairs: int = 0  # pairs the LSH buckets would give without a budget (each band counted)
    budget: int = 0  # ... and the most the budget lets them give
    flooded: int = 0  # passages whose pairs went over the budget (linked to representatives)
    flood_load: int = 0  # the least bucket load of a flooded passage (0: no flood)
    representative_links: int = 0  # pairs made by linking a flooded passage to its buckets' first members


@dataclass(frozen=True)
class Buckets:
    """Passages that share a key in one column of a key matrix: `members` bucket by bucket
    (ascending passage numbers within one), `lengths` each bucket's size (two or more) and
    `column` the key column each bucket comes from."""

    members: np.ndarray  # int32 (int64 past 2**31 passages)
    lengths: np.ndarray  # int64
    column: np.ndarray  # int64, one per bucket

    @staticmethod
    def empty() -> Buckets:
        nothing = np.zeros(0, dtype=np.int64)
        return Buckets(nothing, nothing, nothing)


def key_buckets(keys: np.ndarray, eligible: np.ndarray | None = None, rows: np.ndarray | None = None) -> Buckets:
    """Every bucket of passages that share a key in some column of `keys` ((passages,) or
    (passages, bands)). Rows where `eligible` is False take no part; `rows[k]`, if given, is
    the passage number of row k (default: k)."""
    if keys.ndim == 1:
        keys = keys[:, None]
    index = np.arange(keys.shape[0], dtype=np.int64)
    if eligible is not None:
        index = index[eligible]
    passage = rows if rows is not None else index
    wide = len(passage) and int(passage.max()) > np.iinfo(np.int32).max
    found: list[Buckets] = []

    def add(members: np.ndarray, run_id: np.ndarray, column_of_run: np.ndarray) -> None:
        members = members if rows is None else rows[members]  # members as passage numbers, compact
        found.append(Buckets(members if wide else members.astype(np.int32), np.bincount(run_id).astype(np.int64),
                             column_of_run))

    if keys.dtype == np.uint32 and 1 < keys.shape[1] and len(index) * keys.shape[1] <= _ONE_SORT_LIMIT:
        # a small batch (a draft): every band in one sort, as (band, key) pairs, instead of a sort a band
        bands = np.arange(keys.shape[1], dtype=np.uint64) << np.uint64(32)
        flat = (keys[index].astype(np.uint64) | bands).ravel()
        runs = _buckets(flat, np.repeat(index, keys.shape[1]))
        if runs is not None:
            members, run_id, first_key = runs
            add(members, run_id, (first_key >> np.uint64(32)).astype(np.int64))
    else:
        for k, column in enumerate(keys.T):
            runs = _buckets(column[index], index)
            if runs is not None:
                members, run_id, _ = runs
                add(members, run_id, np.full(run_id[-1] + 1, k, dtype=np.int64))
    if not found:
        return Buckets.empty()
    if len(found) == 1:
        return found[0]
    return Buckets(np.concatenate([b.members for b in found]), np.concatenate([b.lengths for b in found]),
                   np.concatenate([b.column for b in found]))


def pairs_from_keys(keys: np.ndarray, eligible: np.ndarray | None = None, cap: int = 64,
                    stats: CandidateStats | None = None) -> np.ndarray:
    """Pairs (i, j), i < j, of passages that share a key in any column of `keys`.

    `keys` is (passages,) or (passages, bands). Rows where `eligible` is False take no part.
    A bucket with more than `cap` members yields only its chain of neighbours (i_k, i_k+1).
    """
    return pairs_from_buckets(key_buckets(keys, eligible), cap, stats=stats)


_ONE_SORT_LIMIT = 1 << 20  # (passages x bands) sorted at once; larger inputs go a band at a time


def bucket_pairs(buckets: list[Buckets], cap: int) -> int:
    """How many pairs the buckets give, each band counted (so at least the unique pairs): a
    bucket of s <= cap members gives s (s - 1) / 2, a larger one its chain, s - 1."""
    total = 0
    for b in buckets:
        s = b.lengths
        total += int(np.where(s > cap, s - 1, s * (s - 1) // 2).sum())
    return total


def bucket_load(buckets: list[Buckets], passages: int, cap: int) -> np.ndarray:
    """Per passage, how many pairs its buckets give it, each band counted: s - 1 from a bucket
    of s <= cap members, its one or two neighbours from a larger one (a chain)."""
    load = np.zeros(passages, dtype=np.int64)
    for b in buckets:
        if len(b.members):
            big = b.lengths > cap
            weights = np.repeat(np.where(big, 2, b.lengths - 1).astype(np.float64), b.lengths)
            ends = np.cumsum(b.lengths)
            weights[ends[big] - 1] -= 1  # a chain's last member has one neighbour
            weights[(ends - b.lengths)[big]] -= 1  # ... and so has its first
            load += np.bincount(b.members, weights=weights, minlength=passages).astype(np.int64)
    return load


def flood_passages(buckets: list[Buckets], passages: int, cap: int, budget: int, links: int,
                   stats: CandidateStats | None = None) -> np.ndarray | None:
    """The passages to link to representatives instead of to every passage of their buckets,
    so that the buckets' pairs stay within `budget`: None when they all fit, else a mask of
    the passages with the highest loads (`bucket_load`), as few as bring
    ``sum(load of the others) + links x flooded`` within the budget (a pair between a
    flooded passage and another is still made, and counted at the other's end)."""
    total = bucket_pairs(buckets, cap)
    if stats is not None:
        stats.bucket_pairs, stats.budget = total, budget
    if total <= budget:
        return None
    return flood_from_load(bucket_load(buckets, passages, cap), budget, links, stats)


def flood_from_load(load: np.ndarray, budget: int, links: int, stats: CandidateStats | None = None) -> np.ndarray:
    """`flood_passages` from each passage's load (summed over every band, or every shard)."""
    heaviest = np.sort(load)[::-1]
    cost = int(load.sum()) - np.cumsum(heaviest) + links * np.arange(1, len(heaviest) + 1)
    fits = np.flatnonzero(cost <= budget)
    least = int(heaviest[fits[0]]) if len(fits) else int(heaviest[-1])
    least = max(least, links + 1)  # flooding a passage must lighten it
    flooded = load >= least
    if stats is not None:
        stats.flooded, stats.flood_load = int(flooded.sum()), least
    return flooded


def pairs_from_buckets(b: Buckets, cap: int, flooded: np.ndarray | None = None, link_columns: int = 0,
                       stats: CandidateStats | None = None, unlinked: np.ndarray | None = None) -> np.ndarray:
    """Unique pairs (i < j) of passages that share a bucket of `b`.

    A bucket of at most `cap` members gives all its pairs, a larger one its chain of
    neighbours. With `flooded` (a mask over passages), two flooded passages are paired only
    through their buckets' representatives: in the first `link_columns` columns, each flooded
    passage is linked to its bucket's first member (a few representatives per passage, which
    verification confirms and grouping unites), in no other column. Passages marked in
    `unlinked` (exact copies of an earlier passage, which reaches the group for them) get
    no link of their own."""
    if len(b.members) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    big = b.lengths > cap
    if stats is not None and big.any():
        stats.capped_buckets += int(big.sum())
        stats.capped_passages += int(b.lengths[big].sum())
    out: list[np.ndarray] = []
    ends = np.cumsum(b.lengths)
    lo = 0
    while lo < len(b.lengths):  # a slice of buckets at a time keeps the temporary arrays small
        hi = max(lo + 1, int(np.searchsorted(ends, ends[lo] + _SLICE_MEMBERS, side="right")))
        first_member = int(ends[lo] - b.lengths[lo])
        part = Buckets(b.members[first_member:ends[hi - 1]], b.lengths[lo:hi], b.column[lo:hi])
        out.extend(_slice_pairs(part, big[lo:hi], flooded, link_columns, stats, unlinked))
        lo = hi
    return unique_pairs(np.concatenate(out)) if out else np.zeros((0, 2), dtype=np.int64)


_SLICE_MEMBERS = 1 << 21


def _slice_pairs(b: Buckets, big: np.ndarray, flooded: np.ndarray | None, link_columns: int,
                 stats: CandidateStats | None, unlinked: np.ndarray | None) -> list[np.ndarray]:
    members, lengths = b.members, b.lengths
    run_id = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    out: list[np.ndarray] = []

    def keep(left: np.ndarray, right: np.ndarray) -> None:
        if flooded is not None:
            unflooded = ~(flooded[left] & flooded[right])
            left, right = left[unflooded], right[unflooded]
        if len(left):
            out.append(np.stack([left, right], axis=1))

    big_member = np.repeat(big, lengths)
    if big.any():
        chain = big_member[:-1] & big_member[1:] & (run_id[1:] == run_id[:-1])
        keep(members[:-1][chain], members[1:][chain])
    small = ~big_member
    if flooded is not None:  # a bucket of flooded passages only gives no pair
        open_bucket = np.bincount(run_id, weights=~flooded[members], minlength=len(lengths)) > 0
        small &= np.repeat(open_bucket, lengths)
    small_members, small_run = members[small], run_id[small]
    step = 1
    while step < len(small_members):
        same = small_run[step:] == small_run[:-step]
        if not same.any():
            break
        keep(small_members[:-step][same], small_members[step:][same])
        step += 1
    if flooded is not None and link_columns > 0:
        first = np.repeat(members[np.cumsum(lengths) - lengths], lengths)
        linked = flooded[members] & (members != first) & np.repeat(b.column < link_columns, lengths)
        if unlinked is not None:
            linked &= ~unlinked[members]
        if linked.any():
            out.append(np.stack([first[linked], members[linked]], axis=1))
        if stats is not None:
            stats.representative_links += int(linked.sum())
    return out


def _buckets(keys: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(members, bucket number, each bucket's key) of every passage whose key another shares,
    sorted by bucket and, within one, by passage (`index`, ascending, names the passage of each key); None
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
    first_key = sorted_keys[in_run][np.r_[True, run_id[1:] != run_id[:-1]]]
    return members, np.cumsum(np.r_[0, run_id[1:] != run_id[:-1]]), first_key


def unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """Sorted, de-duplicated pairs with the smaller index first."""
    if len(pairs) == 0:
        return pairs.reshape(0, 2).astype(np.int64)
    lo = np.minimum(pairs[:, 0], pairs[:, 1])
    hi = np.maximum(pairs[:, 0], pairs[:, 1])
    keep = lo != hi
    code = unique_sorted(lo[keep].astype(np.uint64) << np.uint64(32) | hi[keep].astype(np.uint64))
    return np.stack([(code >> np.uint64(32)).astype(np.int64), (code & np.uint64(0xFFFFFFFF)).astype(np.int64)], axis=1)
