"""Text normalization: the named profile that decides when two passages are "the same".

A profile maps text to a canonical form used for hashing and scoring; offsets are never
computed on normalized text, so normalization is free to change lengths.
"""
from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache
from typing import Sequence

import numpy as np

from .arrays import chunk_bounds, codepoints_text

PROFILE = "news-v1"
"""Name of the normalization profile, reported in every report's stats."""

_SPECIAL: dict[str, str | None] = {
    **{d: str(i) for i, d in enumerate("٠١٢٣٤٥٦٧٨٩")},  # Arabic-Indic digits
    **{d: str(i) for i, d in enumerate("۰۱۲۳۴۵۶۷۸۹")},  # Persian digits
    "٫": ".",  # Arabic decimal separator
    "٬": ",",  # Arabic thousands separator
    "ٱ": "ا",  # alef wasla (other alef forms lose their hamza or madda as combining marks)
    "ى": "ي",  # alef maqsura
    "ی": "ي",  # Farsi yeh
    "ة": "ه",  # teh marbuta
    "ک": "ك",  # keheh
    "ـ": None,  # tatweel
}
# Dashes and slashes separate words; every other punctuation mark or symbol is dropped,
# so "9:20" and "920", or "U.S." and "US", normalize alike. Dots and commas are kept for
# now and dropped later unless they stand between two digits ("1.6", "1,000").
_SEPARATORS = "/\\|"
_NUMBER_JOINERS = ".,"
_JOINER = "\ue000"  # private use: NFKD, casefold and `_fold` all leave it alone
_DELETE = 0xFFFFFFFF
_SPACE, _DOT, _COMMA = 32, 46, 44
_CHUNK_CHARS = 1 << 18  # texts normalized together: small enough for numpy's arrays to stay in cache


@lru_cache(maxsize=None)
def _fold(cp: int) -> int:
    """What one code point of NFKD-casefolded text becomes: itself, another, or `_DELETE`."""
    ch = chr(cp)
    if ch in _SPECIAL:
        value = _SPECIAL[ch]
        return _DELETE if value is None else ord(value)
    cat = unicodedata.category(ch)
    if cat == "Pd" or ch in _SEPARATORS or cat[0] == "Z" or ch.isspace():
        return _SPACE
    if cat in ("Mn", "Me", "Cf", "Cc") or (cat[0] in "PS" and ch not in _NUMBER_JOINERS):
        return _DELETE
    return cp


def normalize(text: str) -> str:
    """Canonical form of `text` under the ``news-v1`` profile.

    NFKD then casefold (so accents, Arabic diacritics and hamza seats fall away as combining
    marks), tatweel removed, Arabic letter variants folded (ٱ -> ا, ى -> ي, ة -> ه), Arabic-Indic
    and Persian digits made ASCII, punctuation and symbols dropped (dashes and slashes become
    spaces; a dot or comma stays only between two digits), whitespace collapsed. The result
    is idempotent: ``normalize(normalize(t)) == normalize(t)``.
    """
    return normalize_many([text])[0]


def normalize_many(texts: Sequence[str]) -> list[str]:
    """`normalize` of each text, a batch at a time: the mapping of characters is a numpy lookup
    over the code points of a joined chunk of texts, computed once per distinct code point."""
    out: list[str] = []
    for begin, end in chunk_bounds(texts, _CHUNK_CHARS):
        out.extend(_normalize_chunk(texts[begin:end]))
    return out


def normalized_codepoints(texts: Sequence[str]) -> np.ndarray:
    """The code points (uint32) of `normalize` of each text, each text followed by a NUL
    (which no normalized text contains): the form `dedup.shingle` hashes, without the strings."""
    if not texts:
        return np.zeros(0, dtype=np.uint32)
    cps = _joined_codepoints(texts)
    cps[cps == ord(_JOINER)] = 0
    return np.append(cps, np.uint32(0))


def _normalize_chunk(texts: Sequence[str]) -> list[str]:
    if not texts:
        return []
    return codepoints_text(_joined_codepoints(texts)).split(_JOINER)


def _joined_codepoints(texts: Sequence[str]) -> np.ndarray:
    """The normalized texts' code points, joined by `_JOINER` (a writable array)."""
    joined = _JOINER.join(texts)
    if joined.count(_JOINER) != len(texts) - 1:  # a text holds the joiner itself
        joined = _JOINER.join(t.replace(_JOINER, " ") for t in texts)
    cps = _expand(np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32))
    if cps is None:  # a combining mark that is kept: NFKD's reordering matters, so run it
        cps = _fold_folded(joined)
    return _collapse_spaces(_drop_stray_number_joiners(cps))


def _fold_folded(joined: str) -> np.ndarray:
    """The reference path: NFKD, casefold and NFKD over the whole text, then `_fold`."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", joined).casefold())
    cps = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    cps = _fold_table(cps)[cps]
    return cps[cps != _DELETE]


@lru_cache(maxsize=None)
def _expansion(cp: int) -> tuple[tuple[int, ...], bool]:
    """What one code point becomes under NFKD, casefold, NFKD and `_fold` (deleted ones left
    out), and whether a combining mark is among them (then canonical reordering, which works
    across characters, could change the result)."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", chr(cp)).casefold())
    out = tuple(f for f in (_fold(ord(c)) for c in folded) if f != _DELETE)
    return out, any(unicodedata.combining(chr(c)) for c in out)


_UNKNOWN, _MARK, _MULTI = 0xFFFFFFFC, 0xFFFFFFFD, 0xFFFFFFFE  # in `_ExpansionTable` (with `_DELETE`)


class _ExpansionTable:
    """`_expansion` of every code point seen so far, as a numpy lookup table: the one code
    point each becomes, or `_DELETE` (none), `_MULTI` (several), `_MARK` (a kept combining
    mark among them) or `_UNKNOWN` (not looked up yet). A cache of a pure function, filled
    as new code points turn up; threads filling it at once write the same values."""

    def __init__(self) -> None:
        self._table = np.full(0x110000, _UNKNOWN, dtype=np.uint32)

    def lookup(self, cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mapped code points, positions whose entry is `_MARK` or `_MULTI`)."""
        mapped = self._table[cps]
        rare = np.flatnonzero((mapped - np.uint32(_UNKNOWN)) < np.uint32(3))
        unknown = rare[mapped[rare] == _UNKNOWN]
        if len(unknown):
            for cp in np.unique(cps[unknown]).tolist():
                self._table[cp] = self._entry(cp)
            mapped[unknown] = self._table[cps[unknown]]
            rare = rare[(mapped[rare] - np.uint32(_MARK)) < np.uint32(2)]
        return mapped, rare

    @staticmethod
    def _entry(cp: int) -> int:
        out, mark = _expansion(cp)
        if mark:
            return _MARK
        return out[0] if len(out) == 1 else (_DELETE if not out else _MULTI)


_EXPANSIONS = _ExpansionTable()


def _expand(cps: np.ndarray) -> np.ndarray | None:
    """`_fold_folded` of the text with these code points, one code point at a time (each maps
    to none, one or several, looked up in `_EXPANSIONS`): the same result, as every combining
    mark is deleted, so NFKD's reordering has nothing to reorder; None when a kept combining
    mark makes that untrue."""
    mapped, rare = _EXPANSIONS.lookup(cps)
    if len(rare):
        if (mapped[rare] == _MARK).any():
            return None
        # "…", ligatures: each becomes its first code point, the rest inserted after it
        parts = [_expansion(cp)[0] for cp in cps[rare].tolist()]
        mapped[rare] = [part[0] for part in parts]
        rest = [part[1:] for part in parts]
        mapped = np.insert(mapped, np.repeat(rare + 1, [len(r) for r in rest]),
                           np.array([c for r in rest for c in r], dtype=np.uint32))
    return mapped[mapped != _DELETE]


def _fold_table(cps: np.ndarray) -> np.ndarray:
    """A lookup table, indexed by code point, for the code points present in `cps`."""
    size = int(cps.max()) + 1 if len(cps) else 1
    present = np.zeros(size, dtype=bool)
    present[cps] = True
    distinct = np.flatnonzero(present)
    table = np.zeros(size, dtype=np.uint32)
    table[distinct] = [_fold(cp) for cp in distinct.tolist()]
    return table


def _drop_stray_number_joiners(cps: np.ndarray) -> np.ndarray:
    digit = (cps >= 48) & (cps <= 57)
    stray = (cps == _DOT) | (cps == _COMMA)
    stray[1:-1] &= ~(digit[:-2] & digit[2:])  # one at either end has a single neighbour: stray
    return cps[~stray] if stray.any() else cps


def _collapse_spaces(cps: np.ndarray) -> np.ndarray:
    boundary = ord(_JOINER)
    space = cps == _SPACE
    drop = space.copy()  # a space goes when it follows a space or starts a text ...
    drop[1:] &= (cps[:-1] == _SPACE) | (cps[:-1] == boundary)
    cps = cps[~drop]
    space = cps == _SPACE
    space[:-1] &= cps[1:] == boundary  # ... or ends one
    return cps[~space]


_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


def numbers(normalized: str) -> tuple[str, ...]:
    """The numbers in a normalized passage, in order (used to tell conflicts from copies)."""
    return tuple(_NUMBER.findall(normalized))


def word_counts(normalized: Sequence[str]) -> np.ndarray:
    """The number of words of each normalized passage (int64; 0 for an empty one)."""
    n = len(normalized)
    spaces = np.fromiter(map(str.count, normalized, itertools.repeat(" ")), dtype=np.int64, count=n)
    empty = np.fromiter(map(len, normalized), dtype=np.int64, count=n) == 0
    return np.where(empty, 0, spaces + 1)
