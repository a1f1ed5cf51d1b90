"""Segmentation: split a document into passages (sentences, and clauses of long or quoting
sentences) with exact code-point offsets into the original text.

Every regular expression here is linear-time: single character classes with no nested or
overlapping quantifiers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from .arrays import chunk_bounds, ranges

ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm gov sen rep pres rev hon
    inc ltd co corp bros plc llc dept univ assn est approx etc vs cf al fig vol pp
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    ave blvd rd ft mph km kg lb oz dept govt intl""".split()
)

NUMBER_ABBREVIATIONS = frozenset({"no", "nos"})
TITLES = frozenset("mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm gov sen rep pres rev hon".split())
# Capitalized words that start a sentence and never continue a name after an initial or an
# abbreviation: "... his debut feature A. The festival ...", "... moved to the U.S. It ...".
# ("A" and "I" are left out: they are initials too.)
SENTENCE_STARTERS = frozenset(
    """the this these that those it its he she they we you his her their our there here
    but and or so yet if when while after before since although though however meanwhile
    in on at for from with by as an of to""".split()
)
_NEXT_WORD = re.compile(r"\s+[\"'“«(]*([A-Z][a-z]*)\b")
_NUMBER_AFTER = re.compile(r"\s*[0-9]")
_LINE_BREAKS = "\n\r\u2028\u2029\x0b\x0c\x85"
_CLOSERS = "\"'”’»)]"
_FIRST_LINE = re.compile(r"\s*([^\n\r\u2028\u2029\x0b\x0c\x85]*)")
_INITIALS = re.compile(r"(?:[a-z]\.)*[a-z]")
_WORD_BEFORE = re.compile(r"\S+$")
FINAL_PUNCT = re.compile(r"[.!?؟…:;؛][\"'”’»)\]]*\s*$")
QUOTES = "\"“”«»„"
_CLAUSE_BREAK = re.compile(r"[,،;؛:](?=\s)|\s[–—-]\s|[()]")


@dataclass(frozen=True, slots=True)
class Piece:
    """One passage of a document: ``text[start:end]``."""

    start: int
    end: int
    sentence: int  # index of the sentence within the document; clauses share it
    is_clause: bool
    heading: bool  # a headline: matched only for exact repeats


_LONGEST_ABBREVIATION = 24  # characters looked at before a dot; longer words are no abbreviation
_LONGEST_ABBREVIATION_WORD = 10  # a longer word before a full stop is never looked up
_LONGEST_ABBREVIATION_TOKEN = max(map(len, ABBREVIATIONS | NUMBER_ABBREVIATIONS))
_OPENERS = "(\"'“«"


def _is_abbreviation(text: str, dot_at: int) -> bool:
    word = _WORD_BEFORE.search(text, max(0, dot_at - _LONGEST_ABBREVIATION), dot_at)
    if word is None:
        return False
    token = word.group().lstrip(_OPENERS).lower()
    if token in NUMBER_ABBREVIATIONS:  # "No. 10", but "He said no."
        return _NUMBER_AFTER.match(text, dot_at + 1) is not None
    if token not in ABBREVIATIONS and _INITIALS.fullmatch(token) is None:
        return False
    return token in TITLES or not _sentence_starts_after(text, dot_at)


def _sentence_starts_after(text: str, dot_at: int) -> bool:
    """Is the word after the dot one that starts a sentence (and never follows an initial)?"""
    following = _NEXT_WORD.match(text, dot_at + 1)
    return following is not None and following.group(1).lower() in SENTENCE_STARTERS


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_ALNUM_SPAN = re.compile(r"[^\W_](?:.*[^\W_])?", re.DOTALL)


def _trim_clause(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) to run from its first letter or digit to its last."""
    m = _ALNUM_SPAN.search(text, start, end)
    return (m.start(), m.end()) if m else (start, start)


def _comma_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cuts = [start]
    for m in _CLAUSE_BREAK.finditer(text, start, end):
        cuts.extend((m.start(), m.end()))
    cuts.append(end)
    return [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]


def _word_count(text: str, start: int, end: int) -> int:
    return len(text[start:end].split())


def segment(
    text: str, *, clause_min_words: int = 5, clause_long_words: int = 60, first_line_heading: bool = True
) -> list[Piece]:
    """Split `text` into sentences (every line break ends one) and their clauses.

    Sentence ends: ``. ! ? ؟ …`` followed by space or line end, closing quotes kept; no split
    after abbreviations or initials ("Dr.", "U.S.", "p.m."), or inside numbers ("1.6%").
    A lowercase word after a full stop still starts a sentence: hasty copies often do.
    A first line without final punctuation is flagged as a heading when it is one sentence or
    at most `HEADLINE_WORDS` words.
    """
    cols = segment_many([text], clause_min_words=clause_min_words, clause_long_words=clause_long_words,
                        first_line_heading=first_line_heading)
    return [Piece(int(a), int(b), int(n), bool(c), bool(h))
            for a, b, n, c, h in zip(cols.start, cols.end, cols.sentence, cols.is_clause, cols.heading)]


@dataclass(frozen=True)
class Segments:
    """The passages of many documents as columns, in document order then by start offset
    (a sentence is followed by its clauses). `sentence` numbers run across the batch."""

    doc: np.ndarray  # int32
    start: np.ndarray  # int64, code points into the document's text
    end: np.ndarray
    sentence: np.ndarray  # int64
    is_clause: np.ndarray  # bool
    heading: np.ndarray  # bool
    listing: np.ndarray  # bool: a list of short items (a line-up, a list of names), not prose (`is_listing`)


_SPACE, _BREAK_CLASS, _ENDER, _CLOSER, _QUOTE_CLASS, _ALNUM, _ITEM_BREAK = 1, 2, 4, 8, 16, 32, 64
ITEM_BREAKS = ",;،؛("  # a line-up gives each name's club in brackets: "J Noon (Newcastle), ..."
LISTING_ITEMS = 5  # a passage of at least this many items (between ITEM_BREAKS) ...
LISTING_WORDS_PER_ITEM = 3.0  # ... of at most this many words each on average is a list, not prose


@lru_cache(maxsize=1)
def _char_classes() -> np.ndarray:
    """Class bits of the code points below U+3100 (every mark and space that matters here;
    above it, only letters and digits, see `_classes`)."""
    table = np.zeros(0x3100, dtype=np.uint8)
    for cp in range(len(table)):
        if chr(cp).isspace():
            table[cp] |= _SPACE
        if chr(cp).isalnum():
            table[cp] |= _ALNUM
    marks = ((_LINE_BREAKS, _BREAK_CLASS), (".!?؟…", _ENDER), (_CLOSERS, _CLOSER), (QUOTES, _QUOTE_CLASS),
             (ITEM_BREAKS, _ITEM_BREAK))
    for chars, bit in marks:
        for ch in chars:
            table[ord(ch)] |= bit
    return table


def segment_many(texts: Sequence[str], *, clause_min_words: int = 5, clause_long_words: int = 60,
                 first_line_heading: bool = True, chunk_chars: int = 1 << 20) -> Segments:
    """`segment` for many documents at once: sentence boundaries are found with numpy over
    the joined code points of a chunk of documents; Python runs only per abbreviation
    candidate and per sentence that holds a quotation or is long enough to have clauses."""
    parts: list[Segments] = []
    sentence_base = 0
    for begin, end in chunk_bounds(texts, chunk_chars):
        part = _segment_chunk(texts[begin:end], begin, sentence_base, clause_min_words, clause_long_words,
                              first_line_heading)
        parts.append(part)
        if len(part.sentence):
            sentence_base = int(part.sentence[-1]) + 1
    return Segments(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                      ("doc", "start", "end", "sentence", "is_clause", "heading", "listing")))


def _segment_chunk(texts: Sequence[str], doc_base: int, sentence_base: int, clause_min_words: int,
                   clause_long_words: int, first_line_heading: bool) -> Segments:
    joined = "\n".join(texts)
    doc_start = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]]).astype(np.int64)
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    cls = _classes(cps)
    starts, ends = _sentence_bounds(joined, cps, cls)
    doc = np.searchsorted(doc_start, starts, side="right") - 1
    local_start, local_end = starts - doc_start[doc], ends - doc_start[doc]
    heading = np.zeros(len(starts), dtype=bool)
    if first_line_heading:
        heading = _headings(texts, doc, local_start, local_end)
    number = sentence_base + np.arange(len(starts), dtype=np.int64)
    rows: list[tuple[np.ndarray, ...]] = [(doc, local_start, local_end, number, np.zeros(len(starts), dtype=bool), heading)]
    space = (cls & _SPACE) != 0
    word_starts = np.flatnonzero(~space & np.r_[True, space[:-1]])
    rows.append(_clause_rows(joined, cls, word_starts, starts, ends, doc, doc_start, number, heading,
                             clause_min_words, clause_long_words))
    merged = [np.concatenate(col) for col in zip(*rows)]
    order = np.lexsort((merged[4], merged[1], merged[0]))
    doc, start, end, sentence, is_clause, heading = (col[order] for col in merged)
    listing = _listings(cls, word_starts, start + doc_start[doc], end + doc_start[doc])
    return Segments((doc + doc_base).astype(np.int32), start.astype(np.int64), end.astype(np.int64),
                    sentence, is_clause, heading, listing)


def _classes(cps: np.ndarray) -> np.ndarray:
    """Class bits of each code point."""
    table = _char_classes()
    cls = table[np.minimum(cps, len(table) - 1)]
    high = np.flatnonzero(cps >= len(table))
    if len(high):
        values, at = np.unique(cps[high], return_inverse=True)
        bits = np.array([_ALNUM if chr(v).isalnum() else 0 for v in values.tolist()], dtype=np.uint8)
        cls[high] = bits[at]
    return cls


def _sentence_bounds(joined: str, cps: np.ndarray, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trimmed (start, end) of every sentence in the joined text."""
    n = len(cps)
    space = (cls & _SPACE) != 0
    followed_by_space = np.r_[space[1:], True]
    ends_at = np.flatnonzero(((cls & (_CLOSER | _ENDER)) != 0) & followed_by_space)
    enders = _skip_back(cls, ends_at, _CLOSER)  # past the closing quotes to the end mark
    real = (enders >= 0) & ((cls[np.maximum(enders, 0)] & _ENDER) != 0)
    ends_at, enders = ends_at[real], enders[real]
    single_dot = (cps[enders] == ord(".")) & ((cls[np.maximum(enders - 1, 0)] & _ENDER) == 0)
    gaps = np.flatnonzero(space)
    word_start = np.r_[-1, gaps][np.searchsorted(gaps, enders)] + 1
    single_dot &= enders - word_start <= _LONGEST_ABBREVIATION_WORD  # only short words need a look
    single_dot &= _may_be_abbreviation(cps, enders, word_start)
    if single_dot.any():
        keep = np.ones(len(ends_at), dtype=bool)
        for k in np.flatnonzero(single_dot).tolist():
            keep[k] = not _is_abbreviation(joined, int(enders[k]))
        ends_at = ends_at[keep]
    breaks = np.flatnonzero((cls & _BREAK_CLASS) != 0)
    # a boundary cuts the text after a sentence mark, or removes a line-break character
    cut_before = np.concatenate([ends_at + 1, breaks])
    cut_after = np.concatenate([ends_at + 1, breaks + 1])
    order = np.argsort(cut_before, kind="stable")
    seg_start: np.ndarray = np.r_[0, cut_after[order]]
    seg_end: np.ndarray = np.r_[cut_before[order], n]
    text_at = np.flatnonzero(~space)  # trim each segment to its first and last non-space
    first = np.searchsorted(text_at, seg_start)
    last = np.searchsorted(text_at, seg_end) - 1
    ok = first <= last
    return text_at[first[ok]], text_at[last[ok]] + 1


def _may_be_abbreviation(cps: np.ndarray, dots: np.ndarray, word_start: np.ndarray) -> np.ndarray:
    """Could the word before each full stop be an abbreviation or initials (`_is_abbreviation`
    tells)? Only when it ends in a Latin letter and is as short as the longest abbreviation, or
    has a full stop before its last letter ("U.S."), or starts with an opening mark."""
    before = cps[np.maximum(dots - 1, 0)]
    folded = before | np.uint32(0x20)
    latin = ((folded >= ord("a")) & (folded <= ord("z"))) | (before == 0x212A)  # KELVIN SIGN lowers to "k"
    initials = cps[np.maximum(dots - 2, 0)] == ord(".")
    opened = np.isin(cps[np.minimum(word_start, len(cps) - 1)], [ord(c) for c in _OPENERS])
    return latin & ((dots - word_start <= _LONGEST_ABBREVIATION_TOKEN) | initials | opened)


def _skip_back(cls: np.ndarray, at: np.ndarray, bit: int) -> np.ndarray:
    """For each position, the nearest position at or before it without `bit` (-1 if none)."""
    at = at.copy()
    pending = np.flatnonzero((cls[at] & bit) != 0)
    while len(pending):
        at[pending] -= 1
        pending = pending[at[pending] >= 0]
        pending = pending[(cls[at[pending]] & bit) != 0]
    return at


HEADLINE_WORDS = 15  # a first line this short is a headline even when ".." splits it


def _headings(texts: Sequence[str], doc: np.ndarray, local_start: np.ndarray, local_end: np.ndarray) -> np.ndarray:
    """Sentences of the headline: a first line without final punctuation that is one sentence,
    or short (Arabic headlines often read "X.. Y")."""
    lines = np.array([_heading_line(t) for t in texts], dtype=np.int64).reshape(-1, 3)
    whole = (local_start == lines[doc, 0]) & (local_end == lines[doc, 1])
    inside = (local_start >= lines[doc, 0]) & (local_end <= lines[doc, 1]) & (lines[doc, 2] <= HEADLINE_WORDS)
    return whole | inside


def _clause_rows(joined: str, cls: np.ndarray, word_starts: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 doc: np.ndarray, doc_start: np.ndarray, number: np.ndarray, heading: np.ndarray, min_words: int,
                 long_words: int) -> tuple[np.ndarray, ...]:
    """Clause passages of the sentences that hold a quotation or have `long_words` words.

    Such a sentence is cut at each quotation mark: the parts inside and between quotes are
    its clauses (a statement restated as a quote); a part of `long_words` words or more also
    yields its comma/semicolon/dash clauses. Each clause runs from its first letter or digit
    to its last; only clauses of at least `min_words` words are kept, and none that is the
    whole sentence.
    """
    quotes = np.flatnonzero((cls & _QUOTE_CLASS) != 0)
    alnum = np.flatnonzero((cls & _ALNUM) != 0)
    quoted = _count_between(quotes, starts, ends)
    picked = np.flatnonzero(((quoted > 0) | (_count_between(word_starts, starts, ends) >= long_words)) & ~heading)
    cuts = quoted[picked]
    owner = np.repeat(picked, cuts + 1)
    first = np.cumsum(cuts + 1) - (cuts + 1)  # each sentence's first piece
    inner = ranges(np.searchsorted(quotes, starts[picked]), cuts)
    piece_start = np.empty(len(owner), dtype=np.int64)
    piece_end = np.empty(len(owner), dtype=np.int64)
    opens = np.zeros(len(owner), dtype=bool)
    opens[first] = True
    piece_start[opens], piece_start[~opens] = starts[picked], quotes[inner]
    closes = np.zeros(len(owner), dtype=bool)
    closes[first + cuts] = True
    piece_end[closes], piece_end[~closes] = ends[picked], quotes[inner]
    a, b, found = _alnum_span(alnum, piece_start, piece_end)
    owner, a, b = owner[found], a[found], b[found]
    words = _count_between(word_starts, a + 1, b) + 1
    extra = [(k, c, d) for k, lo, hi in zip(owner[words >= long_words].tolist(), a[words >= long_words].tolist(),
                                             b[words >= long_words].tolist())
             for c, d in _comma_clauses(joined, lo, hi, min_words)]
    kept = words >= min_words
    owner = np.r_[owner[kept], np.array([e[0] for e in extra], dtype=np.int64)]
    a = np.r_[a[kept], np.array([e[1] for e in extra], dtype=np.int64)]
    b = np.r_[b[kept], np.array([e[2] for e in extra], dtype=np.int64)]
    whole_a, whole_b, _ = _alnum_span(alnum, starts[owner], ends[owner])
    order = np.lexsort((b, a, owner))
    owner, a, b = owner[order], a[order], b[order]
    distinct = np.r_[True, (owner[1:] != owner[:-1]) | (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
    kept = distinct & ~((a == whole_a[order]) & (b == whole_b[order]))
    owner, a, b = owner[kept], a[kept], b[kept]
    base = doc_start[doc[owner]]
    return (doc[owner], a - base, b - base, number[owner], np.ones(len(owner), dtype=bool),
            np.zeros(len(owner), dtype=bool))


def _listings(cls: np.ndarray, word_starts: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """`is_listing` of each passage [start, end) (which starts and ends with a non-space), given
    the positions where words start."""
    words = _count_between(word_starts, starts + 1, ends) + 1
    items = _count_between(np.flatnonzero((cls & _ITEM_BREAK) != 0), starts, ends) + 1
    return (items >= LISTING_ITEMS) & (words <= LISTING_WORDS_PER_ITEM * items)


def is_listing(text: str) -> bool:
    """A list of short items separated by commas, semicolons or opening brackets ("Cech,
    Ferreira, Terry, ...", "J Noon (Newcastle), O Barkley (Bath), ..."), not prose: two lists
    match only exactly."""
    items = sum(text.count(mark) for mark in ITEM_BREAKS) + 1
    return items >= LISTING_ITEMS and len(text.split()) <= LISTING_WORDS_PER_ITEM * items


def _alnum_span(alnum: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each [start, end): the span from its first letter or digit to its last (positions
    of those in the sorted `alnum`), and whether it has any."""
    first = np.searchsorted(alnum, starts)
    last = np.searchsorted(alnum, ends) - 1
    found = first <= last
    if len(alnum) == 0:
        return starts.copy(), starts.copy(), found
    a = alnum[np.minimum(first, len(alnum) - 1)]
    b = alnum[np.maximum(last, 0)] + 1
    return np.where(found, a, starts), np.where(found, b, starts), found


def _comma_clauses(text: str, start: int, end: int, min_words: int) -> list[tuple[int, int]]:
    """The comma/semicolon/dash clauses of ``text[start:end]`` with at least `min_words` words."""
    found = []
    for c, d in _comma_pieces(text, start, end):
        c, d = _trim_clause(text, c, d)
        if d > c and _word_count(text, c, d) >= min_words:
            found.append((c, d))
    return found


def _count_between(positions: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many of the sorted `positions` fall in each [start, end)."""
    return np.searchsorted(positions, ends) - np.searchsorted(positions, starts)


def _heading_line(text: str) -> tuple[int, int, int]:
    """(start, end, words) of the first non-empty line when it lacks final punctuation, else
    (-1, -1, 0)."""
    line = _FIRST_LINE.match(text)
    if line is None or not line.group(1).strip() or FINAL_PUNCT.search(line.group(1)):
        return -1, -1, 0
    return line.start(1), line.start(1) + len(line.group(1).rstrip()), len(line.group(1).split())
