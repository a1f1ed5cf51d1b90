"""Markdown reader: the source as written plus an analysis text with everything that is not
prose blanked out.

The analysis text has the length of the source, so an offset into it is an offset into the
file. Front matter, code (fenced, indented, inline), HTML comments and tags, URLs, link
destinations, images and the markers of headings, lists, quotes and tables become spaces.
The segmenter ends a sentence at every line break, so the line breaks inside a paragraph
become spaces while each block (paragraph, list item, heading, table row) keeps the line
break that ends it. Heading text goes to `headings`; what the author excluded with
``<!-- dedup: ignore -->`` (the next block) or ``<!-- dedup: off -->`` ... ``<!-- dedup: on -->``
goes to `ignored`, or with rule codes (``<!-- dedup: ignore DD003 -->``) to `ignored_kinds`
(see `directives`).

Two passes: a line scanner finds the blocks, then inline markup is blanked inside each
block. Both run in linear time: the regular expressions have no overlapping quantifiers
(possessive ones where parts could overlap) and every search is bounded by the next
character of a kind that ends it.

What it shares with the HTML reader is in `markup`; HTML blocks are read with `html.html_prose`,
their directives (rule codes too) included.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.entities import html5 as html5_entities

from ..model import Document
from .directives import Directive, DirectiveError, KindRange, directive, ignored_ranges
from .html import html_prose
from .markup import BLOCK_TAGS, WORD_JOINER, join_words, trimmed

__all__ = ["read_markdown"]

Range = tuple[int, int]

def read_markdown(path: str, text: str) -> Document:
    """A Markdown file as a Document: `text` as given, markup blanked in `analysis`."""
    scanner = _BlockScanner(text)
    scanner.run()
    for block in scanner.blocks:
        _blank_inline(text, scanner.out, block.start, block.end, scanner.directives, scanner.labels)
    analysis = "".join(scanner.out)
    heading_ranges = sorted([(b.start, b.end) for b in scanner.blocks if b.heading] + scanner.html_headings)
    headings = tuple(r for a, b in heading_ranges for r in [trimmed(analysis, a, b)] if r)
    ignored = ignored_ranges(analysis, scanner.directives, scanner.html_ignored)
    return Document(path, text, analysis, headings, ignored.every, ignored.by_kind)


# --- block structure -------------------------------------------------------------------------

_BLANK, _TEXT, _OTHER = "blank", "text", "other"  # a line: empty, prose a next line may continue, anything else

_QUOTE_MARKER = re.compile(r"[ \t]{0,3}>[ \t]?")
_FENCE = re.compile(r"[ \t]*(`{3,}+|~{3,}+)")
_ATX = re.compile(r"[ \t]{0,3}(#{1,6})(?=[ \t]|$)")
_SETEXT = re.compile(r"[ \t]{0,3}(?:=++|-++)[ \t]*+")
_THEMATIC = re.compile(r"[ \t]{0,3}([-*_])(?:[ \t]*+\1){2,}+[ \t]*+")
_DELIMITER_CELL = re.compile(r"[ \t]*+:?-++:?[ \t]*+")
_LIST_MARKER = re.compile(r"[ \t]*+([-*+]|([0-9]{1,9})[.)])(?:[ \t]++(?:\[[ xX]\](?:[ \t]++|$))?|$)")
# a link reference definition: label, destination and title, which may each start a line
_LINK_DEFINITION = re.compile(r"""
    [ \t]{0,3}\[(?!\^)(?=[^\]]*?\S)(?P<label>(?:[^\[\]\\\n]|\\.){1,999}+)\]:
    [ \t]*+(?:\r?\n[ \t]*+)?+
    (?:<(?:[^<>\n\\]|\\.)*+>|(?!<)(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*+\))++)
    (?:(?:[ \t]++(?:\r?\n[ \t]*+)?+|[ \t]*+\r?\n[ \t]*+)
       (?:"(?:[^"\\\n]|\\.|\n(?![ \t]*+\r?\n))*+"|'(?:[^'\\\n]|\\.|\n(?![ \t]*+\r?\n))*+'
        |\((?:[^()\\\n]|\\.|\n(?![ \t]*+\r?\n))*+\)))?
    [ \t]*+(?=\r?\n|$)""", re.VERBOSE)
_FOOTNOTE_DEFINITION = re.compile(r"[ \t]{0,3}\[(\^[^\[\]]++)\]:[ \t]*+")
_RAW_BLOCK = re.compile(r"[ \t]{0,3}<(script|pre|style|textarea)(?=[\s>]|$)", re.IGNORECASE)
# the starts of HTML blocks (CommonMark 4.6) other than comments and raw blocks: what ends each
_HTML_BLOCK_TYPES = ((re.compile(r"<\?"), re.compile(r"\?>")),
                     (re.compile(r"<![A-Za-z]"), re.compile(">")),
                     (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")))
_HTML_BLOCK_NAMES = frozenset("""
    address article aside base basefont blockquote body caption center col colgroup dd details dialog dir
    div dl dt fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header hr html
    iframe legend li link main menu menuitem nav noframes ol optgroup option p param search section summary
    table tbody td tfoot th thead title tr track ul
""".split())
_HTML_BLOCK_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*+)(?=[ \t>]|/>|$)")
_HTML_LONE_TAG = re.compile(  # a complete open or closing tag alone on its line
    r"(?:<([A-Za-z][A-Za-z0-9-]*+)(?:[ \t]++[A-Za-z_:][A-Za-z0-9_.:-]*+"
    r"(?:[ \t]*+=[ \t]*+(?:[^\s\"'=<>`]++|'[^'\n]*+'|\"[^\"\n]*+\"))?+)*+[ \t]*+/?>"
    r"|</([A-Za-z][A-Za-z0-9-]*+)[ \t]*+>)[ \t]*+")
_FRONT_MATTER = re.compile(r"(---|\+\+\+)[ \t]*+\r?\n")
_FRONT_MATTER_END = {"---": re.compile(r"^(?:---|\.\.\.)[ \t]*+\r?$", re.MULTILINE),
                     "+++": re.compile(r"^\+\+\+[ \t]*+\r?$", re.MULTILINE)}


@dataclass(slots=True)
class _Block:
    """A prose block: ``text[start:end]`` with its markers already excluded."""

    start: int
    end: int
    heading: bool = False
    item: bool = False


@dataclass(slots=True)
class _Container:
    """An open list item or footnote definition: lines indented to `column` (counted after
    the quote markers of `depth`) belong to it."""

    depth: int
    column: int
    item: bool


@dataclass(slots=True)
class _HtmlBlock:
    """An open HTML block: from `start` to the end of its latest line, `end`."""

    start: int
    end: int
    closing: re.Pattern[str] | None  # what ends it on the line that holds it, or None: a blank line
    depth: int
    column: int  # the content column of the list item it is in (0 when none)


@dataclass(slots=True)
class _LastLine:
    """The latest prose line, kept so a table delimiter row can turn it into a header row."""

    start: int
    end: int
    joined_at: int  # the line break before it that became a space, or -1
    block_end_before: int  # where its block ended before this line joined it


class _BlockScanner:
    """Blanks block markup line by line and records the prose blocks and the comments."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out = list(text)
        self.blocks: list[_Block] = []
        self.directives: list[Directive] = []
        self.prev = _BLANK
        self.prev_depth = 0  # blockquote depth of the previous line
        self.prev_newline = -1
        self.depth = 0
        self.last_line: _LastLine | None = None
        self.containers: list[_Container] = []
        self.in_table = False
        self.fence: tuple[str, int, int, int] | None = None  # marker character, length, quote depth, column
        self.raw_block_end: re.Pattern[str] | None = None
        self.html_block: _HtmlBlock | None = None
        self.comment_start = -1  # start of a comment still open at the end of a line
        self.skip_to = -1  # the end of a link reference definition that spans lines
        self.html_headings: list[Range] = []
        self.html_ignored: list[KindRange] = []  # what ``ignore`` directives in HTML blocks cover
        self.labels: set[str] = set()  # the labels of the link reference and footnote ("^1") definitions

    def run(self) -> None:
        for start, end, line_end in _lines(self.text, self._front_matter()):
            self.out[end:line_end] = " " * (line_end - end)  # the "\r" of "\r\n"
            self.depth = self.prev_depth
            self.prev = self._line(start, end)
            self.prev_depth = self.depth
            self.prev_newline = line_end
        if self.html_block is not None:
            self._close_html_block()

    def _front_matter(self) -> int:
        """Blank YAML or TOML front matter; where the scan starts."""
        opening = _FRONT_MATTER.match(self.text)
        if opening is None:
            return 0
        closing = _FRONT_MATTER_END[opening.group(1)].search(self.text, opening.end())
        if closing is None:
            return 0
        self._blank_lines(0, closing.end())
        return closing.end() + 1

    def _blank(self, start: int, end: int) -> None:
        self.out[start:end] = " " * (end - start)

    def _blank_lines(self, start: int, end: int) -> None:
        self.out[start:end] = re.sub(r"[^\n]", " ", self.text[start:end])

    def _line(self, start: int, end: int) -> str:
        if start < self.skip_to:
            return _OTHER
        if self.fence is not None:
            return self._fenced_line(start, end)
        if self.raw_block_end is not None:
            return self._raw_block_line(start, end)
        if self.html_block is not None:
            return self._html_block_line(start, end)
        if self.comment_start >= 0:
            pos = self._comment_continues(start, end)
            if pos < 0:
                return _OTHER
            after_comment = True
        else:
            pos = self._strip_quotes(start, end)
            after_comment = False
        after = self._leading_comments(pos, end)
        if after < 0:
            return _OTHER
        after_comment = after_comment or after > pos
        if not self.text[after:end].strip():
            if after_comment:
                return _OTHER
            self.in_table = False
            return _BLANK
        return self._classify(after, end, after_comment)

    def _strip_quotes(self, start: int, end: int) -> int:
        pos, self.depth = start, 0
        while (marker := _QUOTE_MARKER.match(self.text, pos, end)) is not None:
            self.out[self.text.index(">", pos)] = " "
            self.depth += 1
            pos = marker.end()
        return pos

    def _fenced_line(self, start: int, end: int) -> str:
        marker, length, depth, column = self.fence  # type: ignore[misc]
        pos = self._strip_quotes(start, end) if depth else start
        outdented = column and self.text[pos:end].strip() and _columns(self.text, pos, end) < column
        if self.depth < depth or outdented:  # a line outside the quote or list item ends a fence opened in it
            self.fence = None
            return self._line(start, end)
        self._blank(start, end)
        closing = self.text[pos:end].strip(" \t")
        if len(closing) >= length and not closing.strip(marker):
            self.fence = None
        return _OTHER

    def _raw_block_line(self, start: int, end: int) -> str:
        self._blank(start, end)
        if self.raw_block_end.search(self.text, start, end):  # type: ignore[union-attr]
            self.raw_block_end = None
        return _OTHER

    def _html_block_line(self, start: int, end: int) -> str:
        block = self.html_block
        assert block is not None
        pos = self._strip_quotes(start, end) if block.depth else start
        blank = not self.text[pos:end].strip()
        outdented = block.column and not blank and _columns(self.text, pos, end) < block.column
        if self.depth < block.depth or (block.closing is None and blank) or outdented:
            self._close_html_block()  # a blank line (or the end of its quote or list item) ends it
            return self._line(start, end)
        block.end = end
        if block.closing is not None and block.closing.search(self.text, pos, end):
            self._close_html_block()
        return _OTHER

    def _open_html_block(self, pos: int, end: int, closing: re.Pattern[str] | None, column: int) -> None:
        self.html_block = _HtmlBlock(pos, end, closing, self.depth, column)
        if closing is not None and closing.search(self.text, pos + 2, end):
            self._close_html_block()

    def _close_html_block(self) -> None:
        """Read the HTML block as HTML: its prose, headings and directives, at their offsets."""
        block = self.html_block
        assert block is not None
        self.html_block = None
        start = block.start
        try:
            prose = html_prose("".join(self.out[start:block.end]))  # quote markers already blanked
        except DirectiveError as err:  # a directive naming no rule: its offset in the file
            raise DirectiveError(str(err), err.offset + start) from None
        self.out[start:block.end] = prose.analysis
        self.html_headings.extend((a + start, b + start) for a, b in prose.headings)
        self.html_ignored.extend((a + start, b + start, kinds) for a, b, kinds in prose.ignored)
        self.directives.extend(Directive(d.command, d.start + start, d.end + start, d.kinds)
                               for d in prose.directives if d.command != "ignore")

    def _html_block_opening(self, pos: int, end: int, continues: bool) -> tuple[bool, re.Pattern[str] | None]:
        """Whether an HTML block starts at `pos` (CommonMark's kinds 3 to 7), and what ends it."""
        text = self.text
        if not text.startswith("<", pos):
            return False, None
        for opening, closing in _HTML_BLOCK_TYPES:
            if opening.match(text, pos, end):
                return True, closing
        tag = _HTML_BLOCK_TAG.match(text, pos, end)
        if tag is not None and tag.group(1).lower() in _HTML_BLOCK_NAMES:
            return True, None
        if continues:
            return False, None  # a lone tag of another element does not interrupt a paragraph
        lone = _HTML_LONE_TAG.fullmatch(text, pos, end)
        name = None if lone is None else (lone.group(1) or lone.group(2)).lower()
        return name is not None and name not in ("script", "style", "pre", "textarea"), None

    def _comment_continues(self, start: int, end: int) -> int:
        """Blank a line inside a comment; where the line goes on after it, or -1."""
        close = self.text.find("-->", start, end)
        if close < 0:
            self._blank(start, end)
            return -1
        self._comment(self.comment_start, close + 3)
        self.comment_start = -1
        return close + 3

    def _leading_comments(self, pos: int, end: int) -> int:
        """Blank the comments a line starts with; where the line goes on after them, or -1
        when a comment stays open past its end."""
        while True:
            at = _skip_spaces(self.text, pos, end)
            if not self.text.startswith("<!--", at, end):
                return pos
            close = self.text.find("-->", at + 2, end)
            if close < 0:
                self.comment_start = at
                self._blank(at, end)
                return -1
            self._comment(at, close + 3)
            pos = close + 3

    def _comment(self, start: int, end: int) -> None:
        self._blank_lines(start, end)
        found = directive(self.text[start + 4:end - 3], start, end)
        if found is not None:
            self.directives.append(found)

    def _classify(self, pos: int, end: int, after_comment: bool) -> str:
        """Blank the markers of the line starting its content at `pos`, trying each kind of
        block in CommonMark's order of precedence; what kind of line it was."""
        text = self.text
        indent = _columns(text, pos, end)
        continues = self.prev == _TEXT and not after_comment
        table_goes_on, self.in_table = self.in_table, False  # any other block ends a table
        kept = self._kept_containers(indent)
        in_list = any(c.item and c.depth == self.depth for c in self.containers)
        base = next((c.column for c in reversed(self.containers[:kept]) if c.depth == self.depth), 0)
        relative = indent - base  # the indentation inside the innermost list item or footnote
        item = _LIST_MARKER.match(text, pos, end) if relative < 4 else None
        if item is not None and not self._starts_item(item, pos, end, continues, in_list):
            item = None
        if kept < len(self.containers):
            if continues and item is None and not self._starts_block(pos, end, relative):
                self._join(pos, end)  # a lazy continuation line of a paragraph in the item
                return _TEXT
            del self.containers[kept:]
        if relative >= 4 and not continues:
            self._blank(pos, end)  # indented code
            return _OTHER
        if self._opens_fence(pos, end, relative, base) or self._opens_raw_block(pos, end):
            return _OTHER
        if relative < 4:
            starts, closing = self._html_block_opening(pos, end, continues)
            if starts:
                self._open_html_block(pos, end, closing, base)
                return _OTHER
        if (heading := _ATX.match(text, pos, end)) is not None and relative < 4:
            self._atx_heading(heading.start(1), heading.end(1), end)
            return _OTHER
        if continues and self._setext_underline(pos, end, relative):
            return _OTHER
        if _THEMATIC.fullmatch(text, pos, end) and relative < 4:
            self._blank(pos, end)
            return _OTHER
        if continues and self._delimiter_row(pos, end):
            return _OTHER
        if table_goes_on:
            self._table_row(pos, end)
            return _OTHER
        if not continues and (definition := _LINK_DEFINITION.match(text, pos)) is not None:
            self._definition(pos, definition)
            return _OTHER
        if item is not None:
            return self._list_item(item, indent, end)
        if (footnote := _FOOTNOTE_DEFINITION.match(text, pos, end)) is not None:
            self._blank(pos, footnote.end())
            self.containers.append(_Container(self.depth, indent + 4, item=False))
            self.labels.add(_label(footnote.group(1)))
            self._new_block(footnote.end(), end)
            return _TEXT
        if continues and self.depth <= self.prev_depth:
            self._join(pos, end)
        else:
            self._new_block(pos, end)
        return _TEXT

    def _definition(self, pos: int, definition: re.Match[str]) -> None:
        """A link reference definition: blanked, over the lines it spans, and its label kept."""
        self._blank_lines(pos, definition.end())
        self.skip_to = definition.end()
        self.labels.add(_label(definition.group("label")))

    def _kept_containers(self, indent: int) -> int:
        """How many of the open containers the line, indented by `indent`, stays in."""
        kept = 0
        for container in self.containers:
            if container.depth > self.depth or (container.depth == self.depth and indent < container.column):
                break
            kept += 1
        return kept

    def _starts_block(self, pos: int, end: int, relative: int) -> bool:
        """Whether the line starts a block other than a list item, or a footnote (so is no lazy
        continuation)."""
        if relative >= 4:
            return False
        text = self.text
        return bool(_FENCE.match(text, pos, end) or _ATX.match(text, pos, end) or _THEMATIC.fullmatch(text, pos, end)
                    or _RAW_BLOCK.match(text, pos, end) or self._html_block_opening(pos, end, True)[0]
                    or _FOOTNOTE_DEFINITION.match(text, pos, end))

    def _list_item(self, item: re.Match[str], indent: int, end: int) -> str:
        """A list item: its marker blanked, a container that the lines indented to its
        content belong to, and its content: a fence, heading or HTML block, or a new block."""
        self._blank(item.start(1), item.end())
        marker_end = item.end(1)
        after = _columns(self.text, marker_end, end)
        width = indent + (marker_end - item.start(1))
        column = width + (1 if after == 0 or after > 4 or marker_end == end else after)
        self.containers.append(_Container(self.depth, column, item=True))
        content = item.end()
        if after > 4 and self.text[content:end].strip():
            self._blank(content, end)  # the item starts with indented code
            return _OTHER
        nested = _LIST_MARKER.match(self.text, content, end)
        if nested is not None and content < end and self.text[content] not in " \t":
            return self._list_item(nested, column, end)  # "- 1. item": a list in the item
        if self._opens_fence(content, end, 0, column):
            return _OTHER
        if (heading := _ATX.match(self.text, content, end)) is not None:
            self._atx_heading(heading.start(1), heading.end(1), end)
            return _OTHER
        starts, closing = self._html_block_opening(content, end, False)
        if starts:
            self._open_html_block(content, end, closing, column)
            return _OTHER
        if (definition := _LINK_DEFINITION.match(self.text, content)) is not None:
            self._definition(content, definition)
            return _OTHER
        if not self.text[content:end].strip():
            return _OTHER  # an empty item: no paragraph for the next line to go on with
        self._new_block(content, end, item=True)
        return _TEXT

    def _starts_item(self, item: re.Match[str], pos: int, end: int, continues: bool, in_list: bool) -> bool:
        """CommonMark: inside a paragraph only a list item that is not empty and, when ordered,
        numbered 1 starts a list."""
        if _THEMATIC.fullmatch(self.text, pos, end):
            return False
        if not continues or in_list:
            return True
        return item.end() < end and item.group(2) in (None, "1")

    def _opens_fence(self, pos: int, end: int, relative: int, column: int) -> bool:
        fence = _FENCE.match(self.text, pos, end)
        if fence is None or relative >= 4:
            return False
        marker = fence.group(1)
        if marker[0] == "`" and "`" in self.text[fence.end():end]:
            return False  # an inline code span, not a fence
        self.fence = (marker[0], len(marker), self.depth, column)
        self._blank(pos, end)
        return True

    def _opens_raw_block(self, pos: int, end: int) -> bool:
        opening = _RAW_BLOCK.match(self.text, pos, end)
        if opening is None:
            return False
        self.raw_block_end = re.compile("</" + opening.group(1) + ">", re.IGNORECASE)
        self._raw_block_line(pos, end)
        return True

    def _atx_heading(self, marker_start: int, marker_end: int, end: int) -> None:
        self._blank(marker_start, marker_end)
        text = self.text
        stop = end
        while stop > marker_end and text[stop - 1] in " \t":
            stop -= 1
        hashes = stop
        while hashes > marker_end and text[hashes - 1] == "#":
            hashes -= 1
        if hashes < stop and (hashes == marker_end or text[hashes - 1] in " \t"):
            self._blank(hashes, stop)  # the optional closing sequence
            stop = hashes
        self._new_block(marker_end, stop, heading=True)

    def _setext_underline(self, pos: int, end: int, relative: int) -> bool:
        if self.depth != self.prev_depth or relative >= 4:
            return False
        block = self.blocks[-1]
        if not _SETEXT.fullmatch(self.text, pos, end):
            return False
        block.heading = True
        self._blank(pos, end)
        return True

    def _delimiter_row(self, pos: int, end: int) -> bool:
        """A table's delimiter row (``|---|:--:|``): the line above becomes its header row."""
        row = self.text[pos:end].strip()
        header = self.last_line
        if "|" not in row or header is None or "|" not in self.text[header.start:header.end]:
            return False
        if not all(_DELIMITER_CELL.fullmatch(cell) for cell in row.strip("|").split("|")):
            return False
        if header.joined_at >= 0:  # the header row was read as a paragraph's next line
            self.out[header.joined_at] = "\n"
            self.blocks[-1].end = header.block_end_before
            self._new_block(header.start, header.end)
        self._blank_pipes(header.start, header.end)
        self._blank(pos, end)
        self.in_table = True
        return True

    def _table_row(self, start: int, end: int) -> None:
        self._blank_pipes(start, end)
        self._new_block(start, end)
        self.in_table = True

    def _blank_pipes(self, start: int, end: int) -> None:
        for m in re.finditer(r"(?<!\\)\|", self.text[start:end]):
            self.out[start + m.start()] = " "

    def _new_block(self, start: int, end: int, heading: bool = False, item: bool = False) -> None:
        self.blocks.append(_Block(start, end, heading, item))
        self.last_line = _LastLine(start, end, -1, end)

    def _join(self, start: int, end: int) -> None:
        """The line goes on with the paragraph of the line above: that line break is a space."""
        self.out[self.prev_newline] = " "
        block = self.blocks[-1]
        self.last_line = _LastLine(start, end, self.prev_newline, block.end)
        block.end = end


def _lines(text: str, start: int) -> Iterator[tuple[int, int, int]]:
    """(start, end without "\\r", end at the line break) of each line from `start` on."""
    n = len(text)
    while start <= n:
        newline = text.find("\n", start)
        line_end = n if newline < 0 else newline
        end = line_end - 1 if line_end > start and text[line_end - 1] == "\r" else line_end
        yield start, end, line_end
        if newline < 0:
            return
        start = newline + 1


def _skip_spaces(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos] in " \t":
        pos += 1
    return pos


def _columns(text: str, pos: int, end: int) -> int:
    """Columns of the spaces and tabs (tab stops of 4) at `pos`."""
    width = 0
    while pos < end and text[pos] in " \t":
        width = width + 4 - width % 4 if text[pos] == "\t" else width + 1
        pos += 1
    return width


# --- inline markup ---------------------------------------------------------------------------

_BACKTICKS = re.compile(r"`++")
_LINK_TAIL = (r"\(\s*+(?:<[^<>\n]*+>|[^\s()<>]*+(?:\([^\s()]*+\)[^\s()<>]*+)*+)"
              r"(?:\s++(?:\"[^\"]*+\"|'[^']*+'|\([^()]*+\)))?+\s*+\)")
_REFERENCE = r"\[[^\[\]]*+\]"
_LINK_TEXT = r"(?:[^\[\]\\]|\\.|\[(?:[^\[\]\\]|\\.)*+\])*+"  # brackets may nest once: [a [b] c]
_IMAGE = re.compile(r"!\[" + _LINK_TEXT + r"\](?:" + _LINK_TAIL + "|" + _REFERENCE + ")?+", re.DOTALL)
_FOOTNOTE_REFERENCE = re.compile(r"\[(\^[^\[\]\s]++)\]")
_LINK = re.compile(r"\[" + _LINK_TEXT + r"(\](?:" + _LINK_TAIL + "|" + _REFERENCE + "))", re.DOTALL)
_RAW_HTML = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\s<>]*+"  # autolink <https://...>
    r"|[\w.!#$%&'*+/=?^`{|}~-]++@[A-Za-z0-9][A-Za-z0-9.-]*+"  # e-mail autolink
    r"|/?([A-Za-z][A-Za-z0-9-]*+)(?:[^<>\"']|\"[^\"<>]*+\"|'[^'<>]*+')*+"  # tag
    r")>")
_BARE_URL = re.compile(r"(?<![\w/@.])(?:https?://|ftp://|www\.)[^\s<>]++", re.IGNORECASE)
_URL_TRAILER = ".,:;!?'\")]*_~،؛؟"
_EMAIL = re.compile(r"(?<![\w.+@-])[\w.+-]++@[A-Za-z0-9-]++(?:\.[A-Za-z0-9_-]++)++")  # as GFM links them
_ESCAPE = re.compile(r"\\(?=[!-/:-@\[-`{-~])")
_AS_SPACE = str.maketrans(dict.fromkeys("\n\r\u2028\u2029\x0b\x0c\x85", " "))
_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}));")
# elements whose content is no prose (as for the HTML reader): an inline one is blanked whole
_NO_PROSE = frozenset("script style pre code template noscript svg math textarea iframe object canvas select".split())
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_OTHER_MARKUP = (("<?", "?>"), ("<![CDATA[", "]]>"), ("<!", ">"))  # processing instructions, CDATA, declarations


def _blank_inline(text: str, out: list[str], start: int, end: int, directives: list[Directive],
                  labels: set[str]) -> None:
    """Blank the inline markup of the block ``[start, end)``. Each step reads what the steps
    before left, so a URL inside a code span or an image inside a link is handled once."""
    _blank_code_spans(out, start, end)
    inline_markup: list[Range] = []  # tags and comments that are no space (``im<b>port</b>ant``)
    _blank_comments(text, out, start, end, directives, inline_markup)
    _blank_other_markup(out, start, end)
    _blank_raw_html(out, start, end, inline_markup)
    _blank_all(out, start, end, _IMAGE)
    _blank_footnote_references(out, start, end, labels)
    _blank_links(out, start, end, labels, inline_markup)
    _blank_bare_urls(out, start, end)
    _decode_references(out, start, end)
    _hide_escapes(out, start, end)
    join_words(out, sorted(inline_markup))


def _blank(out: list[str], start: int, end: int) -> None:
    out[start:end] = " " * (end - start)


def _blank_code_spans(out: list[str], start: int, end: int) -> None:
    """A run of backticks opens a code span closed by the next run of the same length."""
    span = "".join(out[start:end])
    if "`" not in span:
        return
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(span)]
    closer = _next_of_same_length(runs)
    k = 0
    while k < len(runs):
        if closer[k] < 0:
            k += 1
            continue
        _blank(out, start + runs[k][0], start + runs[closer[k]][1])
        k = closer[k] + 1


def _next_of_same_length(runs: list[tuple[int, int]]) -> list[int]:
    following = [-1] * len(runs)
    latest: dict[int, int] = {}
    for k in range(len(runs) - 1, -1, -1):
        length = runs[k][1] - runs[k][0]
        following[k] = latest.get(length, -1)
        latest[length] = k
    return following


def _blank_comments(text: str, out: list[str], start: int, end: int, directives: list[Directive],
                    inline_markup: list[Range]) -> None:
    span = "".join(out[start:end])
    at = span.find("<!--")
    while at >= 0:
        close = span.find("-->", at + 2)
        if close < 0:
            return
        a, b = start + at, start + close + 3
        _blank(out, a, b)
        inline_markup.append((a, b))
        found = directive(text[a + 4:b - 3], a, b)
        if found is not None:
            directives.append(found)
        at = span.find("<!--", close + 3)


def _blank_other_markup(out: list[str], start: int, end: int) -> None:
    """Blank processing instructions (``<?php ... ?>``), CDATA sections and declarations."""
    span = "".join(out[start:end])
    for opening, closing in _OTHER_MARKUP:
        at = span.find(opening)
        while at >= 0:
            close = span.find(closing, at + len(opening))
            if close < 0:
                break  # nothing after can close either
            if opening != "<!" or span[at + 2:at + 3].isalpha():
                _blank(out, start + at, start + close + len(closing))
            at = span.find(opening, close + len(closing))
        span = "".join(out[start:end])


def _blank_raw_html(out: list[str], start: int, end: int, inline_markup: list[Range]) -> None:
    """Blank tags and autolinks, and the content of an element that holds no prose
    (``<code>...</code>``); a block tag (``<br>``, ``<p>``, ...) ends the block there."""
    span = "".join(out[start:end])
    no_prose: tuple[str, int] | None = None  # the element without prose that is open, and where it starts
    for m in _RAW_HTML.finditer(span):
        a, b = start + m.start(), start + m.end()
        _blank(out, a, b)
        name = (m.group(1) or "").lower()
        closing = m.group().startswith("</")
        if name in BLOCK_TAGS:
            out[a] = "\n"
        elif no_prose is not None:
            if closing and name == no_prose[0]:
                _blank(out, no_prose[1], b)
                no_prose = None
        elif name in _NO_PROSE and not closing:
            no_prose = (name, a)
        elif name and name not in _VOID:
            inline_markup.append((a, b))


def _decode_references(out: list[str], start: int, end: int) -> None:
    """Character references (``&eacute;``, ``&#1605;``) become their character, padded to
    their length with word joiners, so a word goes on after them and a passage that ends
    with one ends after it; one that names no character (``&bogus;``) stays as written."""
    span = "".join(out[start:end])
    for m in _ENTITY.finditer(span):
        decoded = _character(m)
        if decoded is None:
            continue
        a, length = start + m.start(), m.end() - m.start()
        out[a:a + length] = decoded + WORD_JOINER * (length - len(decoded))


def _character(reference: re.Match[str]) -> str | None:
    """What a character reference stands for, as CommonMark decodes it; None for no entity."""
    decimal, hexadecimal, name = reference.groups()
    if name is not None:
        decoded = html5_entities.get(name + ";")
        return None if decoded is None or len(decoded) >= len(reference.group()) else decoded.translate(_AS_SPACE)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(code).translate(_AS_SPACE)


def _blank_all(out: list[str], start: int, end: int, pattern: re.Pattern[str]) -> None:
    for m in pattern.finditer("".join(out[start:end])):
        _blank(out, start + m.start(), start + m.end())


def _blank_links(out: list[str], start: int, end: int, labels: set[str], inline_markup: list[Range]) -> None:
    """``[text](url "title")`` and ``[text][ref]`` (where a definition gives ``ref``) keep only
    their text; their markup is no space (``[EIP-1](u)'s``)."""
    span = "".join(out[start:end])
    for m in _LINK.finditer(span):
        tail = m.group(1)
        if tail.startswith("]["):
            label = tail[2:-1] if len(tail) > 3 else span[m.start() + 1:m.start(1)]
            if _label(label) not in labels:
                continue  # no such reference: the brackets are text
        a, b = start + m.start(1), start + m.end(1)
        out[start + m.start()] = " "
        _blank(out, a, b)
        inline_markup.extend(((start + m.start(), start + m.start() + 1), (a, b)))


def _blank_footnote_references(out: list[str], start: int, end: int, labels: set[str]) -> None:
    """``[^1]`` where a definition gives ``^1``; another is text."""
    for m in _FOOTNOTE_REFERENCE.finditer("".join(out[start:end])):
        if _label(m.group(1)) in labels:
            _blank(out, start + m.start(), start + m.end())


def _label(label: str) -> str:
    """A link label as references match it: case and runs of spaces do not count."""
    return " ".join(label.casefold().split())


def _hide_escapes(out: list[str], start: int, end: int) -> None:
    """The backslash of an escaped punctuation mark (``\\*``) is no character of the text."""
    for m in _ESCAPE.finditer("".join(out[start:end])):
        out[start + m.start()] = WORD_JOINER


def _blank_bare_urls(out: list[str], start: int, end: int) -> None:
    for m in _BARE_URL.finditer("".join(out[start:end])):
        _blank(out, start + m.start(), start + m.start() + _url_length(m.group()))
    for m in _EMAIL.finditer("".join(out[start:end])):
        _blank(out, start + m.start(), start + m.end())


def _url_length(url: str) -> int:
    """Length of `url` without the punctuation after it (a ")" stays when it closes a "(")."""
    end = len(url)
    opened = url.count("(") - url.count(")")
    while end > 0 and url[end - 1] in _URL_TRAILER:
        if url[end - 1] == ")":
            if opened >= 0:
                break
            opened += 1
        end -= 1
    return end
