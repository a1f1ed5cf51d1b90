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
        pending = np.ones(len(start), dtype=bool)
        for prefix in PREFIXES:
            match = pending & _affix_matches(cps, start, end, prefix, at_start=True)
            start[match] += len(prefix)
            pending &= ~match
    pending = np.ones(len(start), dtype=bool)
    for suffix in SUFFIXES:
        match = pending & _affix_matches(cps, start, end, suffix, at_start=False)
        end[match] -= len(suffix)
        pending &= ~match
    return start, end


def _affix_matches(cps: np.ndarray, start: np.ndarray, end: np.ndarray, affix: str, at_start: bool) -> np.ndarray:
    ok = (end - start) - len(affix) >= MIN_STEM
    base = start if at_start else end - len(affix)
    for k, ch in enumerate(affix):
        ok &= cps[np.where(ok, base + k, 0)] == ord(ch)
    return ok
