"""Grouping: turn verified pairs into findings, one per repeat.

Pairs are ordered earlier -> later. Of the pairs linking the same two sentences, the best is
kept (clauses and whole sentences can both match); then each later passage keeps only the
earliest passage it repeats, so a passage copied three times yields two findings, both
pointing at the original. Union-find over the findings gives each its cluster.
"""
from __future__ import annotations

import numpy as np

from .verify import CONFLICT, CONTAINED, EXACT, NEAR, NORMALIZED

# Preference when two pairs link the same two sentences.
_RANK = {EXACT: 5, NORMALIZED: 4, CONFLICT: 3, NEAR: 2, CONTAINED: 1}


class UnionFind:
    """Disjoint sets over 0..n-1 with path halving."""

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def select(earlier: np.ndarray, later: np.ndarray, kind: np.ndarray, score: np.ndarray,
           sentence: np.ndarray, is_clause: np.ndarray) -> np.ndarray:
    """Indices of the pairs to report, in order of the later passage.

    `earlier[k] < later[k]` are passage numbers of accepted pair ``k``.
    """
    if len(earlier) == 0:
        return np.zeros(0, dtype=np.int64)
    rank = np.vectorize(_RANK.get, otypes=[np.int64])(kind)
    whole = (~is_clause[earlier]).astype(np.int64) + (~is_clause[later]).astype(np.int64)
    # best pair per (earlier sentence, later sentence): sort so the best comes first
    order = np.lexsort((-whole, -score, -rank, sentence[later], sentence[earlier]))
    s_e, s_l = sentence[earlier][order], sentence[later][order]
    first = np.r_[True, (s_e[1:] != s_e[:-1]) | (s_l[1:] != s_l[:-1])]
    best = order[first]
    # each later passage keeps the earliest passage it repeats
    order = np.lexsort((earlier[best], later[best]))
    chosen = best[order]
    keep = np.r_[True, later[chosen][1:] != later[chosen][:-1]]
    return chosen[keep]


def clusters(earlier: np.ndarray, later: np.ndarray) -> np.ndarray:
    """Group number of each pair: pairs linked through a shared passage share one; groups
    are numbered 0, 1, ... in the order of their earliest passage."""
    if len(earlier) == 0:
        return np.zeros(0, dtype=np.int64)
    smallest = components(int(max(later.max(), earlier.max())) + 1, earlier, later)
    return np.unique(smallest[earlier], return_inverse=True)[1].astype(np.int64)


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of 0..n-1, the smallest node of its connected component, the edges being
    ``(a[k], b[k])``: the partition `UnionFind` makes, over whole arrays (a flood of
    findings makes no Python loop). Each round hooks every edge's larger label onto its
    smaller one, then shortens the label chains by pointer jumping, until every edge joins
    equal labels."""
    label = np.arange(n, dtype=np.int64)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    while True:
        la, lb = label[a], label[b]
        apart = la != lb
        if not apart.any():
            return label
        low, high = np.minimum(la[apart], lb[apart]), np.maximum(la[apart], lb[apart])
        np.minimum.at(label, high, low)  # a label's node points at the smallest label it meets
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
