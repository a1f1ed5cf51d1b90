"""Shingling, the first half of the hot path: every shingle of a whole batch of normalized
passages hashed at once in numpy, returned in CSR layout (one flat hash array plus offsets).

A batch is joined with NUL separators and decoded to code points in one step; the hash of
any substring comes from prefix sums of a polynomial hash modulo 2**64, so no Python object
is ever made per token or per shingle. `shingle_strings` and `shingle_hash` give the same
shingles and hashes one string at a time, for use with datasketch directly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Sequence

import numpy as np

from .arrays import MembershipTable, chunk_bounds, ordered_map
from .normalize import normalized_codepoints
from .stem import light_stem, stem_bounds

_BASE = np.uint64(0x100000001B3)  # odd, so invertible modulo 2**64
_BASE_INV = np.uint64(pow(int(_BASE), -1, 1 << 64))
_MASK32 = np.uint64(0xFFFFFFFF)
_SEPARATOR = "\x00"  # normalized text never contains control characters
_SPACE, _NUL = 32, 0
_CHUNK_CHARS = 1 << 18  # small enough for the per-chunk arrays to stay in cache


@dataclass(frozen=True, slots=True)
class ShingleSpec:
    """Which shingles make a passage's set: word n-grams (``word``) or character n-grams
    (``char``, spaces included) of the normalized text. A passage shorter than one shingle
    is a single shingle of its whole text."""

    unit: Literal["word", "char"] = "word"
    n: int = 1
    stopwords: frozenset[str] = frozenset()  # words left out before word n-grams are formed
    stem: bool = False  # unigrams only: hash each word's light stem (dedup.stem)

    def __post_init__(self) -> None:
        if self.unit not in ("word", "char") or self.n < 1:
            raise ValueError(f"invalid shingle spec: {self.unit}:{self.n}")
        if self.stem and (self.unit, self.n) != ("word", 1):
            raise ValueError("stemming applies to word:1 shingles only")

    @classmethod
    def parse(cls, text: str, stopwords: frozenset[str] = frozenset()) -> "ShingleSpec":
        """``"word:3"`` or ``"char:5"``; `stopwords` apply to word shingles only."""
        unit, _, n = text.partition(":")
        try:
            return cls(unit, int(n or 1), stopwords if unit == "word" else frozenset())  # type: ignore[arg-type]
        except ValueError:
            raise ValueError(f"invalid shingle spec {text!r}: expected word:N or char:N") from None

    def __str__(self) -> str:
        return f"{self.unit}:{self.n}"


@dataclass(frozen=True, slots=True)
class Shingles:
    """CSR layout: the shingle hashes of passage ``i`` are ``hashes[indptr[i]:indptr[i+1]]``."""

    hashes: np.ndarray  # uint32, the base hash fed to MinHash
    indptr: np.ndarray  # int64, len = passages + 1

    def __len__(self) -> int:
        return len(self.indptr) - 1


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, element-wise (wrapping arithmetic is intended)."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _powers(base: np.uint64, count: int) -> np.ndarray:
    """base**0 .. base**(count-1) modulo 2**64 (a read-only view of a cached table)."""
    return _power_table(int(base), max(1 << 16, 1 << (count - 1).bit_length()))[:count]


@lru_cache(maxsize=4)
def _power_table(base: int, size: int) -> np.ndarray:
    powers = np.full(size, base, dtype=np.uint64)
    powers[0] = 1
    table = np.cumprod(powers, dtype=np.uint64)
    table.flags.writeable = False
    return table


class _PrefixHash:
    """Position-independent polynomial hash of any substring of one code-point array."""

    def __init__(self, codepoints: np.ndarray) -> None:
        n = len(codepoints)
        self._inverse = _powers(_BASE_INV, n + 1)
        prefix = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(np.multiply(codepoints, _powers(_BASE, n), dtype=np.uint64), out=prefix[1:])
        self._prefix = prefix

    def __call__(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        return (self._prefix[end] - self._prefix[start]) * self._inverse[start]


def _codepoints(texts: Sequence[str]) -> np.ndarray:
    joined = _SEPARATOR.join(texts) + _SEPARATOR
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)


class _Chunk:
    """One chunk of joined passages (each followed by a NUL), with what every spec of the
    chunk shares computed once: passage and word bounds, each word's hash, which words are
    stopwords."""

    def __init__(self, cps: np.ndarray) -> None:
        self.cps = cps
        self.hasher = _PrefixHash(cps)
        is_nul = cps == _NUL
        self.passage_end = np.flatnonzero(is_nul)
        self.passage_start = np.r_[0, self.passage_end[:-1] + 1]
        self._is_sep = is_nul | (cps == _SPACE)
        self._words: tuple[np.ndarray, np.ndarray] | None = None
        self._word_hashes: np.ndarray | None = None
        self._content: dict[frozenset[str], np.ndarray] = {}

    def words(self) -> tuple[np.ndarray, np.ndarray]:
        if self._words is None:
            sep = self._is_sep
            starts = np.flatnonzero(~sep & np.r_[True, sep[:-1]])
            self._words = (starts, np.flatnonzero(~sep & np.r_[sep[1:], True]) + 1)
        return self._words

    def word_hashes(self) -> np.ndarray:
        """The full 64-bit hash of every word (what a word:1 shingle's hash is cut from)."""
        if self._word_hashes is None:
            self._word_hashes = fmix64(self.hasher(*self.words()))
        return self._word_hashes

    def content(self, stopwords: frozenset[str]) -> np.ndarray:
        """Which words are not in `stopwords`."""
        if stopwords not in self._content:
            self._content[stopwords] = ~_stopword_table(stopwords).contains(self.word_hashes())
        return self._content[stopwords]

    def shingles(self, spec: ShingleSpec) -> tuple[np.ndarray, np.ndarray]:
        """(full 64-bit hash, passage) of every shingle of `spec`, in passage order."""
        hashes = None
        if spec.unit == "word":
            units, unit_end = self.words()
            if spec.n == 1 and not spec.stem:
                hashes = self.word_hashes()
            if spec.stopwords:
                content = self.content(spec.stopwords)
                units, unit_end = units[content], unit_end[content]
                hashes = hashes[content] if hashes is not None else None
            if spec.stem:
                units, unit_end = stem_bounds(self.cps, units, unit_end)
        else:
            units = np.flatnonzero(self.cps != _NUL)
            unit_end = units + 1
        passage_start, passage_end = self.passage_start, self.passage_end
        # units are in text order, so each passage's are one run: its length is found by bisection
        units_per_passage = np.diff(np.searchsorted(units, np.r_[passage_start, len(self.cps)]))
        unit_passage = np.repeat(np.arange(len(passage_start)), units_per_passage)
        n = spec.n
        if len(units) >= n:
            ok = unit_passage[: len(units) - n + 1] == unit_passage[n - 1 :]
            owners = unit_passage[: len(units) - n + 1][ok]
            if hashes is None:
                hashes = fmix64(self.hasher(units[: len(units) - n + 1][ok], unit_end[n - 1 :][ok]))
        else:
            hashes, owners = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        counts = np.bincount(owners, minlength=len(passage_start))
        short = np.flatnonzero((counts == 0) & (passage_end > passage_start))
        if len(short):  # a passage with no shingle is one shingle of its whole text
            hashes = np.concatenate([hashes, fmix64(self.hasher(passage_start[short], passage_end[short]))])
            owners = np.concatenate([owners, short])
            order = np.argsort(owners, kind="stable")
            hashes, owners = hashes[order], owners[order]
        return hashes, owners


def shingle_batch(texts: Sequence[str], spec: ShingleSpec = ShingleSpec(), workers: int = 1) -> Shingles:
    """Hash every shingle of every normalized passage in `texts`, in CSR layout."""
    return shingle_batches(texts, [spec], workers)[0]


def shingle_batches(texts: Sequence[str], specs: Sequence[ShingleSpec], workers: int = 1) -> list[Shingles]:
    """`shingle_batch` for several specs at once, encoding and prefix-hashing the texts once;
    chunks of texts go to `workers` threads."""

    def one_chunk(bounds: tuple[int, int]) -> list[tuple[np.ndarray, np.ndarray]]:
        return _hash_chunk(_codepoints(texts[bounds[0]:bounds[1]]), bounds[1] - bounds[0], specs)

    chunks = [(a, b) for a, b in chunk_bounds(texts, _CHUNK_CHARS) if b > a]
    results = ordered_map(one_chunk, chunks, workers)
    return [_csr([r[k][0] for r in results], [r[k][1] for r in results], len(texts)) for k in range(len(specs))]


def shingle_texts(texts: Sequence[str], spec: ShingleSpec = ShingleSpec(), workers: int = 1) -> Shingles:
    """Normalize raw `texts` and hash their shingles: ``shingle_batch(normalize_many(texts),
    spec)``, without building the normalized strings (for signatures straight from raw text)."""

    def one_chunk(bounds: tuple[int, int]) -> list[tuple[np.ndarray, np.ndarray]]:
        return _hash_chunk(normalized_codepoints(texts[bounds[0]:bounds[1]]), bounds[1] - bounds[0], [spec])

    chunks = [(a, b) for a, b in chunk_bounds(texts, _CHUNK_CHARS) if b > a]
    results = ordered_map(one_chunk, chunks, workers)
    return _csr([r[0][0] for r in results], [r[0][1] for r in results], len(texts))


def _hash_chunk(cps: np.ndarray, texts: int, specs: Sequence[ShingleSpec]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(hashes, shingle count of each text) for each spec, of `texts` texts whose code points,
    each text followed by a NUL, are `cps`."""
    chunk = _Chunk(cps)
    out = []
    for spec in specs:
        hashes, owners = chunk.shingles(spec)
        out.append(((hashes & _MASK32).astype(np.uint32), np.bincount(owners, minlength=texts)))
    return out


def _csr(hashes: list[np.ndarray], counts: list[np.ndarray], n: int) -> Shingles:
    indptr = np.zeros(n + 1, dtype=np.int64)
    if counts:
        np.cumsum(np.concatenate(counts), out=indptr[1:])
    flat = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint32)
    return Shingles(flat, indptr)


def text_hashes(texts: Sequence[str]) -> np.ndarray:
    """A 64-bit hash of each whole text (the exact-repeat fast path)."""
    out: list[np.ndarray] = []
    for chunk in (texts[a:b] for a, b in chunk_bounds(texts, _CHUNK_CHARS) if b > a):
        cps = _codepoints(chunk)
        ends = np.flatnonzero(cps == _NUL)
        starts = np.r_[0, ends[:-1] + 1]
        lengths = (ends - starts).astype(np.uint64)
        out.append(fmix64(_PrefixHash(cps)(starts, ends) ^ (lengths * np.uint64(0x9E3779B97F4A7C15))))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.uint64)


@lru_cache(maxsize=8)
def _stopword_table(words: frozenset[str]) -> MembershipTable:
    return MembershipTable(np.array([_full_hash64(w) for w in words], dtype=np.uint64))


def _full_hash64(text: str) -> int:
    h, power, mask = 0, 1, (1 << 64) - 1
    for ch in text:
        h = (h + ord(ch) * power) & mask
        power = (power * int(_BASE)) & mask
    return int(fmix64(np.array([h], dtype=np.uint64))[0])


def shingle_strings(text: str, spec: ShingleSpec = ShingleSpec()) -> list[str]:
    """The shingles of one normalized passage as strings (the slow reference path).

    A word n-gram is the stretch of text from its first word to its last, so stopwords
    between them stay in the string even though they do not count as words."""
    if spec.unit == "word":
        words = [m.span() for m in re.finditer(r"\S+", text) if m.group() not in spec.stopwords]
        if spec.stem:
            return [light_stem(text[a:b]) for a, b in words] or ([text] if text else [])
        grams = [text[words[i][0] : words[i + spec.n - 1][1]] for i in range(len(words) - spec.n + 1)]
    else:
        grams = [text[i : i + spec.n] for i in range(len(text) - spec.n + 1)]
    return grams or ([text] if text else [])


def shingle_hash(shingle: str | bytes) -> int:
    """The 32-bit hash of one shingle, equal to what `shingle_batch` computes.

    Pass it as ``hashfunc`` to ``datasketch.MinHash`` to build signatures that match ours.
    """
    if isinstance(shingle, bytes):
        shingle = shingle.decode("utf-8")
    return _full_hash64(shingle) & 0xFFFFFFFF
