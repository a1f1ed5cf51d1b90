"""Light stemming of Arabic words (normalized form), after Larkey et al.'s "light10":
a conjunction/article prefix (twice over) and one suffix are stripped while at least three
letters remain. It lets "والمرافق" match "المرافق" and "الاتحادية" match "اتحاد" when words are
compared as terms. Latin words are left as they are.

`light_stem` works on one word; `stem_bounds` applies the same rules to many words of a
code-point array at once, by moving their start and end offsets.
"""
from __future__ import annotations

import numpy as np

PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و")
SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")
MIN_STEM = 3


PREFIX_PASSES = 2  # "ووزارة" (a doubled conjunction, a common slip) stems like "وزارة"


def light_stem(word: str) -> str:
    """The light stem of one normalized word."""
    for _ in range(PREFIX_PASSES):
        for prefix in PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= MIN_STEM:
                word = word[len(prefix):]
                break
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            word = word[: -len(suffix)]
            break
    return word


def stem_bounds(cps: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New (start, end) of each word ``cps[start:end]`` after `light_stem`'s rules."""
    start, end = start.copy(), end.copy()
    for _ in range(PREFIX_PASSES):
        _strip(cps, start, end, PREFIXES, at_start=True)
    _strip(cps, start, end, SUFFIXES, at_start=False)
    return start, end


def _strip(cps: np.ndarray, start: np.ndarray, end: np.ndarray, affixes: tuple[str, ...], at_start: bool) -> None:
    """Strip the first matching affix of each word, in place (each word loses one at most)."""
    edge = cps[start] if at_start else cps[end - 1]
    pending = np.ones(len(start), dtype=bool)
    for affix in affixes:
        first = ord(affix[0] if at_start else affix[-1])
        words = np.flatnonzero(pending & (edge == first) & ((end - start) - len(affix) >= MIN_STEM))
        base = start[words] if at_start else end[words] - len(affix)
        for k, ch in enumerate(affix):
            hit = cps[base + k] == ord(ch)
            words, base = words[hit], base[hit]
        if at_start:
            start[words] += len(affix)
        else:
            end[words] -= len(affix)
        pending[words] = False
