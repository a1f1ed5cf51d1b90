"""Hard-wrapped plain text: which line breaks only wrap a paragraph.

Wire copy, e-mail and many ``.txt`` files break every line at a fixed width W (60-80
columns, often) in mid-sentence. The segmenter ends a passage at every line break, so
`unwrap` gives the analysis text of such a document: the same text with each wrap (a soft
line break inside a paragraph) replaced by a space, so that every offset is unchanged; every
other line break stays.

**Is the document wrapped?** Decided per document, from its lines (lengths in code points,
trailing blanks left out) and the line that follows each in the same block:

- A line is *full* at width W when it fits (length <= W) and the next line's first word would
  not have (length + 1 + that word > W - `FIT_SLACK`): a greedy wrapper (``textwrap``,
  ``fold -s``, an editor's fill, an e-mail client) broke it there. W is the width at which
  the most lines are full (the longest of those lines, or a line followed by another up to
  `WIDTH_TOLERANCE` longer), at least `MIN_WIDTH` and at most `MAX_WIDTH`.
- *Fit*: the full lines must be `SHARE` or more of the long lines: the full ones, those of
  `LONG` * W or more that a line follows but that are not full, and every line longer than
  W (by more than the tolerance). A text with one paragraph per line has lines of any length,
  most of them longer than any width at which a few happen to be full.
- *Run-on*: and the prose must visibly run on over the line ends. A *cue* is a full line
  whose sentence goes on in the next line: it lacks final punctuation and ends with a comma
  or a word that ends no sentence ("the", "of", "في", "من", ...), or the next line starts
  with a lowercase letter or a word that starts none ("التي", "أن", ...). With a cue, either
  half the runs of full lines end on a line with final punctuation (a paragraph's end;
  `ENDED_SHARE`) or cues are `CUE_SHARE` of the full lines (and two at least). With no cue
  (Arabic has no case, and many of its lines end with a noun), the lines must fit closely
  (`CLOSE_FIT`, W at least `CLOSE_MIN_WIDTH`), most full lines must end without final
  punctuation (`CLOSE_UNFINISHED`), and at least two runs of full lines must nearly all end
  with it (`CLOSE_RUNS`, `CLOSE_ENDED`). A list of headlines of like length is full
  everywhere but runs on nowhere; a text with one sentence per line ends every line with
  punctuation.

**Which breaks are wraps?** In a wrapped document, the break after a line is a wrap when
the line is full (or one word longer than W: a long URL), or is within `SLACK` * W of full,
lacks final punctuation and either shows a cue or, where the wrapper balances its lines
(``fmt``, ``par``: `RAGGED_LINES` cues or more are short of full, which a greedy wrapper never
leaves), continues a line joined to it; and the next line

- is not blank (a blank line ends a paragraph),
- does not start a list item or heading (``- ``, ``* ``, ``• ``, ``1. ``, ``2) ``, ``(a) ``,
  ``# ``), unless the marker is a word of the prose that did not fit: the line before is full,
  lacks final punctuation and is no item of the same list ("at the age of\n27.", "the
  outfit\n- 17 places"),
- is not indented more than the line (an indented paragraph or quotation; the hanging indent
  of a list item's own lines is fine), nor less than a line that continues a paragraph (the
  end of an indented block),
- has the line's ``>`` quotation depth (its markers are then blanked too).

So a short line (a headline, a dateline such as "CAIRO (Reuters) -", a caption, a byline, a
signature, the last line of a paragraph) keeps its line break, and so does a list item. A
document with a single wrapped line (a two-line paragraph and nothing else) tells no width:
it is unwrapped only with a cue and a final full stop after it.

A wrap after a hyphen between letters ("high-\nspeed", as ``textwrap`` breaks compounds)
becomes a zero-width space, which normalization drops, so the word stays one word. A CRLF
wrap becomes two spaces: a passage across it equals its copy after normalization, not
character for character (as in the Markdown reader).

Linear time: one regular-expression split and one loop over the lines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate

__all__ = ["Evidence", "evidence", "unwrap", "wrap_width"]

MIN_WIDTH = 30  # narrower "wrapping" is read as short lines of their own
MAX_WIDTH = 200  # no one wraps wider; a longer line is a paragraph on one line
WIDTH_TOLERANCE = 3  # a line this much longer than the width at which most lines are full is wrapped too
SHARE = 0.6  # full lines must be this share of the long lines a line follows ...
LONG = 0.6  # ... those of this share of W or more
ENDED_SHARE = 0.5  # runs of full lines that must end on a line with final punctuation (with a cue) ...
CUE_SHARE = 0.5  # ... unless this share of the full lines (and two at least) shows a cue
CLOSE_MIN_WIDTH = 40  # without a cue: the width,
CLOSE_FIT = 0.9  # the full lines' share of the long lines,
CLOSE_UNFINISHED = 0.7  # the full lines without final punctuation,
CLOSE_RUNS = 2  # the runs of full lines (paragraphs) ...
CLOSE_ENDED = 0.8  # ... and their share that ends on a line with final punctuation
FIT_SLACK = 1  # ``fold -s`` keeps the blank before the break within the width: a line one column short is full
RAGGED_LINES = 2  # long lines with a cue that are not full: the wrapper balances its lines
SLACK = 0.25  # a line this share of W short of full still wraps when its sentence visibly goes on (`_goes_on`)

_LINE_BREAK = re.compile(r"(\r\n|[\n\r\x0b\x0c\x85\u2028\u2029])")  # those the segmenter breaks at
_SOFT_BREAKS = frozenset({"\n", "\r\n", "\r", "\x85", "\u2028"})  # page and paragraph separators always stay
_HARD_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
# A line break before a non-blank line (`_adjacent_lines`; the first pattern is the fast one).
_LINE_START = re.compile(r"\n[^\S\n\r\x85\u2028]*+\S")
_LINE_START_ANY = re.compile(r"[\n\r\x85\u2028][^\S\n\r\x85\u2028]*+\S")
_NO_BREAK_SPACES = "\xa0\u2007\u202f"  # a wrapper keeps the words around them together
_BLANKS = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in _NO_BREAK_SPACES)
_QUOTE_PREFIX = re.compile(r"(?:>[ \t]*+)++")
_FIRST_WORD = re.compile(rf"[^{_BLANKS}]*+")
_INNER_BLANK = re.compile(rf"[^{_BLANKS}][{_BLANKS}]")
_ITEM = re.compile(r"(?:[-*+•◦‣⁃▪●·–—]|\d{1,3}[.)\-–]|\(\d{1,3}\)|\(?[A-Za-z]\)|#{1,6})(?:\s|$)")
_ITEM_FIRST = frozenset("-*+•◦‣⁃▪●·–—(#")  # a list marker starts with one of these, a digit or a letter before ")"
_FINAL_MARKS = frozenset(".!?؟…:;؛")  # final punctuation, before any closing quotes or brackets
_CLOSERS = "\"'”’»)]"
_TAIL = 16  # characters at a line's end in which its last word is looked for

# Words that end no sentence and no headline: a line that ends with one goes on in the next
# (no particle of a phrasal verb: "letting the crews in", "gave up").
_CONTINUING = frozenset("""
    a an the of to at for from with into onto upon as and or but nor than that which who whom whose whether
    if because while when where although though until unless its their his her our your my is are was were
    be been being has have had will would can could should may might must not very such this these those
    between during among per via amid despite including
    في من على إلى الى عن مع أن ان إن أو ثم قد لقد لم لن ما لا كان كانت التي الذي الذين التى الذى اللذين
    هذا هذه ذلك تلك هؤلاء بين بعد قبل عند حتى حيث كما لكن منذ خلال حول ضد دون لدى نحو عبر ضمن وفق أي كل
    بعض غير وفي ومن وعلى وإلى والى وعن ومع وأن وإن وقد ولم ولا وما وكان وكانت و ف ب ل ك أمام إثر بسبب رغم
    أنه أنها أنهم تم يتم وهو وهي أجل بشكل مليار مليون ألف بنسبة إذ إذا فيما بحسب وفق وفقا وفقاً عقب جراء مثل
    بن أبو عبد آل
""".split())
# Words that start no sentence and no headline: a line that starts with one goes on from the line above.
_CONTINUED = frozenset("التي الذي الذين اللذين اللتين اللواتي اللاتي التى الذى أن أنه أنها أنهم".split())


class _Line:
    """One line: ``text[start:end]``, without its line break."""

    __slots__ = ("start", "end", "length", "indent", "depth", "prefix_end", "word", "blank", "item", "final",
                 "lower", "alpha", "hyphen", "continues", "continued", "_rest", "_single")

    def __init__(self, line: str, start: int) -> None:
        self.start = start
        self.end = start + len(line)
        stripped = line.rstrip(_BLANKS)
        self.length = len(stripped)  # the columns a wrapper counted
        body = stripped.lstrip(_BLANKS)
        self.indent = self.length - len(body)
        self.depth = 0
        rest = body
        if body[:1] == ">":
            quote = _QUOTE_PREFIX.match(body)
            assert quote is not None  # it matches any run of ">"
            self.depth = quote.group().count(">")  # e-mail quotation depth
            rest = body[quote.end():]
        self.prefix_end = self.end - len(line) + self.length - len(rest)
        self._rest = rest
        self._single: bool | None = None
        self.blank = not rest  # (a quoted blank line too)
        if self.blank:
            self.word, self.item, self.final, self.lower, self.alpha = 0, False, False, False, False
            self.hyphen = self.continues = self.continued = False
            return
        first = _FIRST_WORD.match(rest)
        assert first is not None  # it matches the empty string too
        first_word = first.group()
        self.word = len(first_word)
        self.continued = first_word in _CONTINUED
        head = rest[0]
        self.item = ((head in _ITEM_FIRST or head.isdigit() or rest[1:2] == ")")
                     and _ITEM.match(rest) is not None)
        last = stripped[-1]
        self.final = (last in _FINAL_MARKS or last in _CLOSERS and stripped.rstrip(_CLOSERS)[-1:] in _FINAL_MARKS)
        self.hyphen = last == "-" and self.length == len(line) and stripped[-2:-1].isalpha()  # "high-" at the break
        tail = stripped[-_TAIL:].rsplit(None, 1)  # (empty when the line ends in no-break spaces)
        self.continues = last in ",،" or bool(tail) and tail[-1].lower() in _CONTINUING
        self.lower = head.islower() and first_word.islower()  # ("iTunes" is a name)
        self.alpha = head.isalpha()

    @property
    def single(self) -> bool:
        """Is the line one word (no blank inside)?"""
        if self._single is None:
            self._single = _INNER_BLANK.search(self._rest) is None
        return self._single


def _lines(text: str) -> tuple[list[_Line], list[str]]:
    """The lines of `text` and the line break after each ("" after the last)."""
    parts = _LINE_BREAK.split(text)
    parts.append("")
    lines, breaks = [], parts[1::2]
    pos = 0
    for k in range(0, len(parts) - 1, 2):
        lines.append(_Line(parts[k], pos))
        pos += len(parts[k]) + len(parts[k + 1])
    return lines, breaks


def _adjacent_lines(text: str) -> bool:
    """Does a non-blank line follow another (the quick exit when not)?"""
    lone_breaks = "\x85" in text or "\u2028" in text or text.count("\r") != text.count("\r\n")
    for m in (_LINE_START_ANY if lone_breaks else _LINE_START).finditer(text):
        j = m.start() - 1
        if j >= 0 and text[j] == "\r" and text[m.start()] == "\n":
            j -= 1
        while j >= 0 and text[j] not in _HARD_BREAKS and text[j].isspace():
            j -= 1
        if j >= 0 and not text[j].isspace():
            return True
    return False


def _pairs(lines: list[_Line], breaks: list[str]) -> list[int]:
    """The lines that another line follows in the same block and quotation: those whose line
    break could be a wrap."""
    return [i for i in range(len(lines) - 1)
            if breaks[i] in _SOFT_BREAKS and not lines[i].blank and not lines[i + 1].blank
            and lines[i].depth == lines[i + 1].depth]


def _full(a: _Line, b: _Line, width: int, slack: int = 0) -> bool:
    """Would `b`'s first word not have fitted on `a` (wrapped at `width`, `slack` columns
    short of it)? A line longer than `width` is full only when it is one word (a long URL)."""
    return a.length + 1 + b.word > width - FIT_SLACK - slack and (a.length <= width or a.single)


def _goes_on(a: _Line, b: _Line) -> bool:
    """Does the sentence of line `a` visibly go on in line `b`? `a` lacks final punctuation,
    and ends with a comma or a word that ends no sentence, or `b` starts with a lowercase
    letter or a word that starts none."""
    return not a.final and (a.continues or b.lower or b.continued)


@dataclass(frozen=True)
class Evidence:
    """What the lines of a document say about its wrapping at `width` (how each is counted,
    and how `wrapped` weighs them: the module's notes)."""

    width: int
    full: int  # lines that another follows and whose next word would not have fitted
    unfinished: int  # ... of those, the ones without final punctuation
    cues: int  # ... of those, the ones whose sentence visibly goes on in the next line
    long_unfull: int  # lines of LONG * width or more that another follows but that are not full
    over: int  # lines longer than width + WIDTH_TOLERANCE (and more than one word)
    runs: int  # runs of full lines
    ended: int  # ... that end on a line with final punctuation
    ragged: bool = False  # the wrapper balances its lines: `RAGGED_LINES` or more long lines with a cue are not full

    def wrapped(self) -> bool:
        if not MIN_WIDTH <= self.width <= MAX_WIDTH or self.full == 0:
            return False
        fit = self.full / (self.full + self.long_unfull + self.over)
        if fit < SHARE:
            return False
        ended = self.ended / self.runs
        if self.cues and (ended >= ENDED_SHARE or self.cues >= max(2, CUE_SHARE * self.full)):
            return True
        # no word tells (Arabic has no case): the lines must fit closely and run on
        return (self.width >= CLOSE_MIN_WIDTH and fit >= CLOSE_FIT and self.unfinished >= CLOSE_UNFINISHED * self.full
                and self.runs >= CLOSE_RUNS and ended >= CLOSE_ENDED)


def evidence(text: str) -> Evidence | None:
    """What the lines of `text` say about wrapping (None: no line that another follows in a
    block is of a width that could be wrapped)."""
    if not _adjacent_lines(text):
        return None
    lines, breaks = _lines(text)
    return _evidence(lines, _pairs(lines, breaks))


def wrap_width(text: str) -> int | None:
    """The width `text` is hard-wrapped at, or None when it is not hard-wrapped."""
    found = evidence(text)
    return found.width if found is not None and found.wrapped() else None


def _evidence(lines: list[_Line], pairs: list[int]) -> Evidence | None:
    candidates = [i for i in pairs if not lines[i + 1].item
                  and (lines[i + 1].indent <= lines[i].indent or lines[i].item)]
    # how many lines are full at each width: line i at every width from its length to its length
    # plus the next line's first word
    cover = [0] * (MAX_WIDTH + 2)
    for i in candidates:
        a = lines[i].length
        if a <= MAX_WIDTH:
            cover[a] += 1
            cover[min(a + lines[i + 1].word, MAX_WIDTH) + 1] -= 1
    best = most = running = 0
    for w in range(MAX_WIDTH + 1):
        running += cover[w]
        if w >= MIN_WIDTH and running and running >= most:
            best, most = w, running
    if most == 0:
        return None
    width = max(lines[i].length for i in candidates
                if lines[i].length <= best <= lines[i].length + lines[i + 1].word)
    # a wrapped line a little longer, one that the estimate did not see (followed by "27.", say)
    width = max([width] + [lines[i].length for i in pairs
                           if width < lines[i].length <= width + WIDTH_TOLERANCE and not lines[i].single])
    full: list[int] = []
    unfinished = cues = long_unfull = short_cues = 0
    long_line = LONG * width
    for i in candidates:
        line, nxt = lines[i], lines[i + 1]
        fits = line.length <= width
        if fits and _full(line, nxt, width):
            full.append(i)
            if not line.final:
                unfinished += 1
                cues += _goes_on(line, nxt)
        elif fits and line.length >= long_line:
            long_unfull += 1
        if 2 * line.length >= width and not _full(line, nxt, width) and _goes_on(line, nxt):
            short_cues += 1  # a balancing wrapper leaves such lines, a greedy one none
    full_set = set(full)
    runs = ended = 0
    for i in full:
        if i - 1 not in full_set:  # a run starts; it ends on the first line after it that is not full
            k = i
            while k in full_set:
                k += 1
            runs += 1
            ended += lines[k].final
    longest = width + WIDTH_TOLERANCE
    return Evidence(
        width=width, full=len(full), unfinished=unfinished, cues=cues, long_unfull=long_unfull,
        over=sum(1 for line in lines if line.length > longest and not line.single),
        runs=runs, ended=ended, ragged=short_cues >= RAGGED_LINES,
    )


_OTHER_BREAKS = "\r\x0b\x0c\x85\u2028\u2029"


def _cannot_fit(text: str) -> bool:
    """A quick exit before the lines are read one by one: at no width W from `MIN_WIDTH` to
    `MAX_WIDTH` could the full lines be `SHARE` of the long ones. For each W it counts, from
    line lengths alone, every line that a non-blank line follows and that could be full at W
    (W - 2 - the next line's first word <= its length <= W: more than `_evidence` counts) and
    only the lines surely longer than W + `WIDTH_TOLERANCE` (several words, no quotation
    marker): a bound on the fit that `Evidence.wrapped` needs, so a text it rules out is not
    wrapped. Texts with other line breaks than \\n go the long way."""
    if any(c in text for c in _OTHER_BREAKS):
        return False
    rstripped = [line.rstrip(_BLANKS) for line in text.split("\n")]
    bodies = [line.lstrip(_BLANKS) for line in rstripped]
    cover = [0] * (MAX_WIDTH + 2)  # lines that could be full, by width (as differences)
    over = [0] * (MAX_WIDTH + 2)  # lines surely longer than each width + the tolerance, by length
    ends = {MAX_WIDTH}  # the widest width at which each such line could be full
    shortest_over, last = MIN_WIDTH + WIDTH_TOLERANCE, len(bodies) - 1
    for k, body in enumerate(bodies):
        if not body:
            continue
        length = len(rstripped[k])
        if length > shortest_over and body[0] != ">" and " " in body:
            over[length - WIDTH_TOLERANCE - 1 if length <= MAX_WIDTH + WIDTH_TOLERANCE else MAX_WIDTH] += 1
        if k < last and length <= MAX_WIDTH:
            following = bodies[k + 1]
            if not following:
                continue
            end = length + 1 + (MAX_WIDTH if following[0] == ">" else len(following.split(None, 1)[0]))
            cover[length] += 1
            cover[end + 1 if end < MAX_WIDTH else MAX_WIDTH + 1] -= 1
            ends.add(end if MIN_WIDTH <= end <= MAX_WIDTH else (MIN_WIDTH if end < MIN_WIDTH else MAX_WIDTH))
    full = list(accumulate(cover))  # lines that could be full at each width
    longer = list(accumulate(reversed(over)))[::-1]  # lines longer than each width + the tolerance
    # the fit's bound can only be highest where a line stops counting as full (longer only falls with the width)
    return not any(full[w] and full[w] >= SHARE * (full[w] + longer[w]) for w in ends)


def unwrap(text: str) -> str | None:
    """The analysis text of a hard-wrapped `text`: its wraps made spaces (same length, so
    offsets hold), or None when `text` is not hard-wrapped (see the module's notes)."""
    if not _adjacent_lines(text) or _cannot_fit(text):
        return None
    lines, breaks = _lines(text)
    pairs = _pairs(lines, breaks)
    found = _evidence(lines, pairs)
    if found is None or not found.wrapped():
        return None
    width, ragged = found.width, found.ragged
    slack = int(SLACK * width)
    out: list[str] = []
    pos = 0
    last_joined = -2  # the last line joined to the next one
    item_indent = -1  # the indent of the list item that the line at hand is part of (-1: none)
    for i in pairs:
        line, nxt = lines[i], lines[i + 1]
        continued = last_joined == i - 1  # the line goes on from the one above
        if not continued:
            item_indent = line.indent if line.item else -1
        if not _wraps(line, nxt, width, slack, ragged, continued, item_indent):
            continue
        last_joined = i
        out.append(text[pos:line.end])
        filler = "\u200b" if line.hyphen and nxt.alpha else " "
        out.append(filler * len(breaks[i]))
        pos = line.end + len(breaks[i])
        if nxt.depth:  # the continuation's quotation markers
            quote_start = nxt.start + nxt.indent
            out.append(text[pos:quote_start])
            out.append(" " * (nxt.prefix_end - quote_start))
            pos = nxt.prefix_end
    if not out:
        return None
    out.append(text[pos:])
    return "".join(out)


def _wraps(line: _Line, nxt: _Line, width: int, slack: int, ragged: bool, continued: bool, item_indent: int) -> bool:
    """Is the break between `line` and `nxt` (two lines of one block) a wrap?"""
    if nxt.item:  # a list item, unless its marker is a word of the prose that did not fit
        sibling = 0 <= item_indent <= nxt.indent  # the next item, or one inside the item at hand
        return not sibling and not line.final and line.length <= width and _full(line, nxt, width)
    if nxt.indent > line.indent and not line.item:
        return False
    if nxt.indent < line.indent and continued:
        return False
    if _full(line, nxt, width):
        return True
    if line.length > width or line.final:
        return False
    return (ragged and continued or _goes_on(line, nxt)) and _full(line, nxt, width, slack)
