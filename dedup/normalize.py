"""Text normalization: the named profile that decides when two passages are "the same".

A profile maps text to a canonical form used for hashing and scoring; offsets are never
computed on normalized text, so normalization is free to change lengths.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

PROFILE = "news-v1"
"""Name of the normalization profile, reported in every report's stats."""

_ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
_LETTER_VARIANTS = {
    "ٱ": "ا",  # alef wasla
    "ى": "ي",  # alef maqsura
    "ی": "ي",  # Farsi yeh
    "ة": "ه",  # teh marbuta
    "ک": "ك",  # keheh
    "ـ": None,  # tatweel
}
# Dashes and slashes separate words; every other punctuation mark or symbol is dropped,
# so "9:20" and "920", or "U.S." and "US", normalize alike.
_SEPARATORS = "/\\|"
_NUMBER_JOINERS = ".,٫٬"


class _FoldTable(dict):
    """``str.translate`` table that classifies each code point on first sight and caches it."""

    def __missing__(self, cp: int) -> str | int | None:
        ch = chr(cp)
        cat = unicodedata.category(ch)
        value: str | int | None = cp
        if cat == "Pd" or ch in _SEPARATORS or cat[0] == "Z" or ch.isspace():
            value = " "
        elif cat in ("Mn", "Me", "Cf", "Cc"):
            value = None
        elif cat[0] in "PS" and ch not in _NUMBER_JOINERS:
            value = None
        self[cp] = value
        return value


@lru_cache(maxsize=1)
def _translation_table() -> _FoldTable:
    table = _FoldTable()
    for i, (a, p) in enumerate(zip(_ARABIC_INDIC_DIGITS, _PERSIAN_DIGITS)):
        table[ord(a)] = table[ord(p)] = str(i)
    table[ord("٫")] = "."
    table[ord("٬")] = ","
    for src, dst in _LETTER_VARIANTS.items():
        table[ord(src)] = dst
    return table


# A dot or comma survives only between two digits ("1.6", "1,000").
_STRAY_JOINER = re.compile(r"(?<![0-9])[.,]|[.,](?![0-9])")


def normalize(text: str) -> str:
    """Canonical form of `text` under the ``news-v1`` profile.

    NFKD then casefold (so accents, Arabic diacritics and hamza seats fall away as combining
    marks), Arabic letter variants folded, Arabic-Indic and Persian digits made ASCII,
    punctuation and symbols dropped (dashes and slashes become spaces), whitespace collapsed.
    The result is idempotent: ``normalize(normalize(t)) == normalize(t)``.
    """
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    stripped = folded.translate(_translation_table())
    stripped = _STRAY_JOINER.sub("", stripped)
    return " ".join(stripped.split())


_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


def numbers(normalized: str) -> tuple[str, ...]:
    """The numbers in a normalized passage, in order (used to tell conflicts from copies)."""
    return tuple(_NUMBER.findall(normalized))
