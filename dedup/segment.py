"""Segmentation: split a document into passages (sentences, and clauses of long or quoting
sentences) with exact code-point offsets into the original text.

Every regular expression here is linear-time: single character classes with no nested or
overlapping quantifiers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm gov sen rep pres rev hon
    inc ltd co corp bros plc llc dept univ assn est approx etc vs cf al fig no nos vol pp
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    ave blvd rd ft mph km kg lb oz dept govt intl""".split()
)

_LINE_BREAKS = "\n\r\u2028\u2029\x0b\x0c\x85"
_CLOSERS = "\"'”’»)]"
_BREAK = re.compile(r"[\n\r\u2028\u2029\x0b\x0c\x85]|[.!?؟…]+[\"'”’»)\]]*(?=\s|$)")
_FIRST_LINE = re.compile(r"\s*([^\n\r\u2028\u2029\x0b\x0c\x85]*)")
_INITIALS = re.compile(r"(?:[A-Za-z]\.)*[A-Za-z]")
_WORD_BEFORE = re.compile(r"\S+$")
_FINAL_PUNCT = re.compile(r"[.!?؟…:;؛][\"'”’»)\]]*\s*$")
_QUOTE = re.compile(r"[\"“”«»„]")
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


def _is_abbreviation(line: str, dot_at: int) -> bool:
    word = _WORD_BEFORE.search(line, max(0, dot_at - _LONGEST_ABBREVIATION), dot_at)
    if word is None:
        return False
    token = word.group().lstrip("(\"'“«")
    return token.lower() in ABBREVIATIONS or _INITIALS.fullmatch(token) is not None


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


def _quote_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cuts = [start] + [m.start() for m in _QUOTE.finditer(text, start, end)] + [end]
    return [(a, b) for a, b in zip(cuts, cuts[1:])]


def _comma_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cuts = [start]
    for m in _CLAUSE_BREAK.finditer(text, start, end):
        cuts.extend((m.start(), m.end()))
    cuts.append(end)
    return [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]


def _word_count(text: str, start: int, end: int) -> int:
    return len(text[start:end].split())


def clauses(text: str, start: int, end: int, min_words: int, long_words: int) -> list[tuple[int, int]]:
    """Clauses of the sentence ``text[start:end]`` worth checking on their own.

    The parts inside and between quotation marks always (a statement restated as a quote);
    comma/semicolon/dash clauses of a part that has at least `long_words` words. Only parts
    of at least `min_words` words are kept, and none that is the whole sentence.
    """
    if _QUOTE.search(text, start, end) is None and text.count(" ", start, end) + 1 < long_words:
        return []
    found: list[tuple[int, int]] = []
    for a, b in _quote_pieces(text, start, end):
        a, b = _trim_clause(text, a, b)
        if b <= a:
            continue
        words = _word_count(text, a, b)
        if words >= min_words:
            found.append((a, b))
        if words >= long_words:
            for c, d in _comma_pieces(text, a, b):
                c, d = _trim_clause(text, c, d)
                if d > c and _word_count(text, c, d) >= min_words:
                    found.append((c, d))
    whole = _trim_clause(text, start, end)
    return sorted({span for span in found if span != whole})


def segment(
    text: str, *, clause_min_words: int = 5, clause_long_words: int = 30, first_line_heading: bool = True
) -> list[Piece]:
    """Split `text` into sentences (every line break ends one) and their clauses.

    Sentence ends: ``. ! ? ؟ …`` followed by space or line end, closing quotes kept; no split
    after abbreviations or initials ("Dr.", "U.S.", "p.m."), or inside numbers ("1.6%").
    A lowercase word after a full stop still starts a sentence: hasty copies often do.
    A first line without final punctuation is flagged as a heading.
    """
    pieces: list[Piece] = []
    heading_end = _heading_end(text) if first_line_heading else -1
    for start, end in _sentence_spans(text):
        heading = end <= heading_end
        number = len(pieces) and pieces[-1].sentence + 1
        pieces.append(Piece(start, end, number, False, heading))
        if not heading:
            pieces.extend(Piece(c, d, number, True, False)
                          for c, d in clauses(text, start, end, clause_min_words, clause_long_words))
    return pieces


def _sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    begin = 0
    for m in _BREAK.finditer(text):
        mark = m.group()
        if mark in _LINE_BREAKS:
            end = m.start()
        elif mark[0] == "." and mark.rstrip(_CLOSERS) == "." and _is_abbreviation(text, m.start()):
            continue
        else:
            end = m.end()
        start, stop = _trim(text, begin, end)
        if stop > start:
            yield start, stop
        begin = m.end()
    start, stop = _trim(text, begin, len(text))
    if stop > start:
        yield start, stop


def _heading_end(text: str) -> int:
    """End of the first non-empty line when it lacks final punctuation (a headline), else -1."""
    line = _FIRST_LINE.match(text)
    if line is None or not line.group(1).strip() or _FINAL_PUNCT.search(line.group(1)):
        return -1
    return line.end(1)
