"""HTML reader: the source as written plus an analysis text that holds only the prose.

The analysis text has the length of the source, so an offset into it is an offset into the
file. It starts out blank; the text of the document (outside script, style, pre, code and the
other elements that hold no prose, and outside ``<head>``) is copied
in at its place, with line breaks turned into spaces and character references decoded. A
block element's tags (``<p>``, ``</li>``, ``<br>``, ...) put a line break at their first
character: the segmenter ends a sentence at every line break. Other tags (``<b>``, ``<a>``,
``<span>``) and comments are no space in a browser: where one stands inside a word
(``im<b>port</b>ant``) it becomes word joiners, which normalization drops, so the word stays
one; elsewhere a blank. Headings (``<h1>``..``<h6>``)
go to `headings`; the ``<title>`` is the page's metadata (it nearly always restates the ``<h1>``),
not its prose, and is skipped; what the author excluded with ``<!-- dedup: ignore -->`` (the
next block element) or ``<!-- dedup: off -->`` ... ``<!-- dedup: on -->`` goes to `ignored`, or
with rule codes (``<!-- dedup: ignore DD003 -->``) to `ignored_kinds` (see `directives`).

Parsing is the standard library's tolerant `html.parser`; positions come from its
``getpos()``. The Markdown reader reads its HTML blocks with `html_prose`.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser

from ..model import Document
from .directives import ALL_KINDS, Directive, KindRange, directive, resolve
from .markup import BLOCK_TAGS, WORD_JOINER, join_words, trimmed

__all__ = ["HtmlProse", "html_prose", "read_html"]

Range = tuple[int, int]

SKIPPED = frozenset("script style pre code template noscript svg math textarea iframe object canvas select title".split())
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
HEAD_CONTENT = frozenset("base link meta noscript script style template title".split())
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# which start tags close an open element of the key without its end tag
CLOSED_BY = {
    "p": BLOCK_TAGS, "li": frozenset({"li"}), "dt": frozenset({"dt", "dd"}), "dd": frozenset({"dt", "dd"}),
    "tr": frozenset({"tr"}), "td": frozenset({"td", "th", "tr"}), "th": frozenset({"td", "th", "tr"}),
    "option": frozenset({"option", "optgroup"}),
}
_COMMENT_CLOSE = re.compile(r"--[!\s]*>")  # what ends a comment, in any version of html.parser
_SECTION_CLOSE = re.compile(r"\]\s*>")  # what ends a marked section (<![CDATA[ ... ]]>)
_SHORT_COMMENTS = ("<!-->", "<!--->")
_MARKUP_OPENING = re.compile(r"<[A-Za-z/!?]")
_AS_SPACE = str.maketrans(dict.fromkeys("\n\r\u2028\u2029\x0b\x0c\x85", " "))


def read_html(path: str, text: str) -> Document:
    """An HTML file as a Document: `text` as given, only its prose kept in `analysis`."""
    prose = html_prose(text)
    headings = tuple(r for a, b in prose.headings for r in [trimmed(prose.analysis, a, b)] if r)
    ignored = resolve(prose.ignored, prose.directives, len(text))
    return Document(path, text, prose.analysis, headings, ignored.every, ignored.by_kind)


@dataclass(frozen=True, slots=True)
class HtmlProse:
    """What `html_prose` reads from a text of HTML: offsets are those of the text."""

    analysis: str  # the text's length, only the prose kept
    headings: list[Range]  # the content of each <h1>..<h6>, untrimmed
    directives: list[Directive]  # the dedup comments
    ignored: list[KindRange]  # what each ``dedup: ignore`` covers, with the kinds of its rules
    # (``off``/``on`` ranges not included: `directives.resolve` adds them)


def html_prose(text: str) -> HtmlProse:
    """The prose of a text of HTML (a page, or an HTML block of a Markdown file)."""
    reader = _ProseCopier(text)
    reader.read()
    return HtmlProse("".join(reader.out), reader.headings, reader.directives, reader.ignore.ranges)


class _ProseCopier(HTMLParser):
    """Copies the prose of the document into a blank text of the same length."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)  # references come one by one, at their place
        self.text = text
        self.out = [" "] * len(text)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.open_skipped: Counter[str] = Counter()  # elements without prose, by name
        self.skipping = 0  # how many of them are open
        self.in_head = False
        self.heading_from = -1
        self.headings: list[Range] = []
        self.inline_markup: list[Range] = []  # tags and comments that are no space in a browser
        self.directives: list[Directive] = []
        self.ignore = _NextElement()
        self.fed = _unterminated_markup_at(text)
        self.last_comment_close = _last_start(_COMMENT_CLOSE, text)
        self.last_section_close = _last_start(_SECTION_CLOSE, text)

    def read(self) -> None:
        """Parse the document. Markup left open after the last ">" (``<a href=...`` at the end)
        is not handed to the parser: it would look for the end of it again at every "<" after
        it, which takes quadratic time; HTML drops such markup anyway."""
        self.feed(self.text[:self.fed])
        self.close()
        self._close_heading(len(self.text))
        self.ignore.finish(len(self.text))
        join_words(self.out, self.inline_markup)

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _keeps_prose(self) -> bool:
        return not self.skipping and not self.in_head

    def handle_starttag(self, tag: str, attrs: list) -> None:
        at = self._offset()
        self.ignore.start_tag(tag, at)
        if tag in BLOCK_TAGS:
            self.out[at] = "\n"
        if tag == "head":
            self.in_head = True
        elif tag not in HEAD_CONTENT:
            self.in_head = False  # <body>, or content that a browser moves out of an unclosed <head>
        if tag in SKIPPED:
            self.open_skipped[tag] += 1
            self.skipping += 1
        if tag in HEADINGS:
            self._close_heading(at)
            self.heading_from = at + len(self.get_starttag_text() or "")
        if _is_inline(tag):
            self.inline_markup.append((at, at + len(self.get_starttag_text() or "")))

    def handle_endtag(self, tag: str) -> None:
        at = self._offset()
        close = self.text.find(">", at)
        self.ignore.end_tag(tag, at, len(self.text) if close < 0 else close + 1)
        if tag in BLOCK_TAGS:
            self.out[at] = "\n"
        if tag == "head":
            self.in_head = False
        if self.open_skipped[tag] > 0:
            self.open_skipped[tag] -= 1
            self.skipping -= 1
        if tag in HEADINGS:
            self._close_heading(at)
        if _is_inline(tag):
            self.inline_markup.append((at, len(self.text) if close < 0 else close + 1))

    def handle_data(self, data: str) -> None:
        at = self._offset()
        # a chunk that starts with "<" and goes on is markup the parser gave up on (an unclosed comment)
        if not self._keeps_prose() or (data[:1] == "<" and len(data) > 1) or not self.text.startswith(data, at):
            return
        if not data.isspace():
            self.ignore.text(at)
        self.out[at:at + len(data)] = data.translate(_AS_SPACE)

    def handle_entityref(self, name: str) -> None:
        self._reference("&" + name)

    def handle_charref(self, name: str) -> None:
        self._reference("&#" + name)

    def _reference(self, opening: str) -> None:
        """A character reference becomes its character(s), padded to its length with word
        joiners (or blank, when it decodes to more characters than it has): a word goes on
        after it (``&#1605;&#1585;``, ``caf&eacute;s``), a passage that ends with one ends
        after it, and normalization drops them."""
        at = self._offset()
        if not self._keeps_prose():
            return
        length = len(opening) + self.text.startswith(";", at + len(opening))
        decoded = html.unescape(self.text[at:at + length]).translate(_AS_SPACE)
        if len(decoded) > length:
            return
        self.ignore.text(at)
        self.out[at:at + length] = decoded + WORD_JOINER * (length - len(decoded))

    def handle_comment(self, data: str) -> None:
        at = self._offset()
        if not self.text.startswith("<!--", at):
            return  # a bogus comment (<!x>, </ x>): no directive
        close = self.text.find(">", at + 4 + len(data))
        end = len(self.text) if close < 0 else close + 1
        self.inline_markup.append((at, end))
        found = directive(data, at, end)
        if found is None:
            return
        self.directives.append(found)
        if found.command == "ignore":
            self.ignore.wait(found.kinds)

    # html.parser searches for the end of a comment or a marked section to the end of the text
    # again at every "<!--" or "<![" that has none: these two answer "incomplete" at once.

    def parse_comment(self, i: int, report: bool = True) -> int:
        if self._source_offset(i) + 2 > self.last_comment_close and not self.rawdata.startswith(_SHORT_COMMENTS, i):
            return -1
        return super().parse_comment(i, report)

    def parse_html_declaration(self, i: int) -> int:
        if self.rawdata.startswith("<![", i) and self._source_offset(i) > self.last_section_close:
            return -1
        try:
            return super().parse_html_declaration(i)
        except AssertionError:  # a marked section it does not know (<![foo[ ...): a bogus comment, as in browsers
            return self.parse_bogus_comment(i, report=False)

    def _source_offset(self, i: int) -> int:
        """The offset in the source of index `i` of the parser's buffer (the unparsed rest)."""
        return self.fed - len(self.rawdata) + i

    def _close_heading(self, at: int) -> None:
        if self.heading_from >= 0:
            self.headings.append((self.heading_from, max(at, self.heading_from)))
            self.heading_from = -1


class _NextElement:
    """The ranges covered by ``<!-- dedup: ignore -->``: the next block element (from its start
    tag to its end tag, or to where the parser would close it), or when text comes first, that
    text up to the next block tag."""

    def __init__(self) -> None:
        self.ranges: list[KindRange] = []  # with the kinds each covers
        self.kinds = ALL_KINDS  # those of the comment waited for
        self.waiting = False
        self.tag: str | None = None  # the element being covered; "" for loose text
        self.start = 0
        self.nested: list[str] = []  # block elements open inside it

    def wait(self, kinds: tuple[str, ...] = ALL_KINDS) -> None:
        if self.tag is None:
            self.kinds = tuple(k for k in ALL_KINDS if k in kinds or (self.waiting and k in self.kinds))
            self.waiting = True

    def start_tag(self, tag: str, at: int) -> None:
        if tag not in BLOCK_TAGS or tag in VOID:
            if tag in BLOCK_TAGS and self.tag == "":
                self.finish(at)  # <br>, <hr> end loose text
            return
        if self.tag is not None:
            self._nested_start(tag, at)
        elif self.waiting:
            self._begin(tag, at)

    def _nested_start(self, tag: str, at: int) -> None:
        while self.nested and tag in CLOSED_BY.get(self.nested[-1], ()):
            self.nested.pop()
        if self.tag == "" or (not self.nested and tag in CLOSED_BY.get(self.tag or "", ())):
            self.finish(at)
        else:
            self.nested.append(tag)

    def end_tag(self, tag: str, at: int, end: int) -> None:
        if self.tag is None or tag not in BLOCK_TAGS or tag in VOID:
            return
        if tag in self.nested:
            while self.nested.pop() != tag:
                pass
        elif tag == self.tag:
            self.finish(end)
        else:
            self.finish(at)  # its parent ends, or loose text meets a block tag

    def text(self, at: int) -> None:
        if self.waiting and self.tag is None:
            self._begin("", at)

    def _begin(self, tag: str, at: int) -> None:
        self.waiting = False
        self.tag, self.start, self.nested = tag, at, []

    def finish(self, at: int) -> None:
        if self.tag is not None:
            self.ranges.append((self.start, at, self.kinds))
            self.tag = None


def _is_inline(tag: str) -> bool:
    """Whether a tag is no space in a browser: not a block, nor a void element (``<img>``,
    ``<input>``), nor an element whose content is not prose."""
    return tag not in BLOCK_TAGS and tag not in VOID and tag not in SKIPPED


def _unterminated_markup_at(text: str) -> int:
    """Where markup that no ">" closes starts (the length of the text if none does)."""
    opening = _MARKUP_OPENING.search(text, text.rfind(">") + 1)
    return len(text) if opening is None else opening.start()


def _last_start(pattern: re.Pattern[str], text: str) -> int:
    """Start of the last match of `pattern` in `text`, or -1."""
    last = -1
    for m in pattern.finditer(text):
        last = m.start()
    return last
