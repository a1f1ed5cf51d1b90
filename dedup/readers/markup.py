"""What the Markdown and HTML readers share besides directives (those are in `directives`): the
names of HTML's block elements, trimming a range of the analysis text, and keeping a word whole
where inline markup stands inside it (`join_words`)."""
from __future__ import annotations

import re

__all__ = ["BLOCK_TAGS", "WORD_JOINER", "join_words", "trimmed"]

Range = tuple[int, int]

# HTML elements that start or end a block (also used by the HTML reader)
BLOCK_TAGS = frozenset("""
    address article aside blockquote body br caption center dd details dialog dir div dl dt fieldset
    figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html legend li
    main menu nav noframes ol optgroup option p search section summary table tbody td tfoot th thead
    title tr ul
""".split())

WORD_JOINER = "\u2060"
"""Invisible and no space: what markup inside a word (``im<b>port</b>ant``) and the rest of a
character reference's length become, so the word stays whole; normalization drops it."""

_NON_SPACE = re.compile(r"\S")


def trimmed(analysis: str, start: int, end: int) -> Range | None:
    """``[start, end)`` of the analysis text without the blanks at either end; None when
    nothing is left."""
    first = _NON_SPACE.search(analysis, start, end)
    if first is None:
        return None
    return first.start(), start + len(analysis[start:end].rstrip())


def join_words(out: list[str], markup: list[Range]) -> None:
    """Turn each run of inline markup that stands between two characters of text into word
    joiners, so the word it stands in stays one."""
    n = len(out)
    k = 0
    while k < len(markup):
        start, end = markup[k]
        while k + 1 < len(markup) and markup[k + 1][0] == end:  # adjacent: <b><i>
            k += 1
            end = markup[k][1]
        if 0 < start and end < n and not out[start - 1].isspace() and not out[end].isspace():
            out[start:end] = WORD_JOINER * (end - start)
        k += 1
