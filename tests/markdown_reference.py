"""The prose words of a Markdown file, as the Markdown reader reads them and as a reference
parser (markdown-it-py with its GFM plugins: tables, strikethrough, autolinks, task lists,
footnotes, front matter) parses them; used by the differential test and by
``python tests/markdown_reference.py FILE...``, which prints the differences.

Prose is the text of paragraphs, headings, list items, table cells, block quotes,
footnotes and HTML blocks, as a browser shows it: without code (spans, blocks, and the
elements that hold no prose: ``<code>``, ``<pre>``, ``<script>``...), HTML tags, comments
and processing instructions, images (and their alt text), footnote references, link
destinations and titles, link reference definitions, front matter, and URLs (autolinks, bare URLs, which GFM turns into
links, and links whose text is their own URL: a URL is an address, not prose). Inline tags and
emphasis do not split a word (``im<b>port</b>ant`` is one word); code spans, images, line
breaks and block tags do. The text of an HTML block is what the standard library's
`html.parser` reports as data outside those elements.

Words are those of the engine: the `normalize`d text split at spaces, so that case,
punctuation and escapes (``\\*``) do not count as differences. A file's words are compared
as multisets.
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from functools import lru_cache
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.gfm import gfm_plugin

from dedup import normalize
from dedup.readers.markdown import read_markdown
from dedup.readers.markup import BLOCK_TAGS

__all__ = ["Difference", "compare", "our_words", "reference_words"]

_SEPARATE = {"code_inline", "image", "footnote_ref", "softbreak", "hardbreak"}  # tokens read as a space
_URL_LINKS = {"autolink", "linkify"}  # link_open markups of links whose text is their URL
_URL_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|www\.|[^\s@]+@[^\s@]+\.")
_NO_PROSE = frozenset("script style pre code template noscript svg math textarea iframe object canvas select title"
                      .split())
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").use(gfm_plugin, front_matter=True)


def reference_words(src: str) -> Counter[str]:
    """The prose words of `src` by the reference parser."""
    texts = []
    for token in _parser().parse(src):
        if token.type == "inline":
            texts.append(_inline_text(token.children or []))
        elif token.type == "html_block":
            texts.append(_html_text(token.content))
    return Counter(normalize("\n".join(texts)).split())


def our_words(src: str) -> Counter[str]:
    """The prose words of `src` by dedup's Markdown reader (the words of its analysis text)."""
    return Counter(normalize(read_markdown("x.md", src).analysis).split())


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    links: list[bool] = []  # for each open link, whether it is a URL shown as its own text
    hidden: str | None = None  # the element without prose that is open (<code>), if any
    for k, token in enumerate(children):
        kind = token.type
        if kind == "html_inline":
            name, closing = _tag(token.content)
            if hidden is not None:
                hidden = None if closing and name == hidden else hidden
            elif name in _NO_PROSE and not closing:
                hidden = name
                parts.append(" ")
            elif name in BLOCK_TAGS or name in _VOID:
                parts.append(" ")
        elif hidden is not None:
            continue
        elif kind == "link_open":
            links.append(token.markup in _URL_LINKS or _shows_its_url(children, k))
        elif kind == "link_close":
            links.pop()
        elif kind == "text":
            if not any(links):
                parts.append(token.content)
        elif kind in _SEPARATE:
            parts.append(" ")
    return "".join(parts)


def _shows_its_url(children: list[Token], k: int) -> bool:
    """Whether the link opened at `k` has its own URL for text (``[https://x.org](https://x.org)``),
    which shows as an autolink does."""
    href = str(children[k].attrGet("href") or "")
    text = []
    for token in children[k + 1:]:
        if token.type == "link_close":
            break
        text.append(token.content if token.type == "text" else "")
    shown = "".join(text).strip()
    if not _URL_LIKE.match(shown):
        return False  # a file name shown as the text of a link to it is prose
    return shown.rstrip("/") == href.rstrip("/") or "mailto:" + shown == href


def _tag(markup: str) -> tuple[str, bool]:
    """The element name of an inline tag ("" for a comment or other markup), and whether it closes."""
    closing = markup.startswith("</")
    body = markup[2:] if closing else markup[1:]
    name = body.split(None, 1)[0].rstrip("/>").lower() if body[:1].isalpha() else ""
    return name, closing


class _HtmlText(HTMLParser):
    """The text of HTML as a browser shows it, block elements apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _NO_PROSE:
            self.hidden += 1
        if tag in BLOCK_TAGS or tag in _VOID or tag in _NO_PROSE:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _NO_PROSE and self.hidden:
            self.hidden -= 1
        if tag in BLOCK_TAGS or tag in _NO_PROSE:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _html_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


class Difference:
    """How one file's prose words differ: the words only the reference has (`missing`) and
    those only the reader has (`extra`), and how many words agree."""

    def __init__(self, reference: Counter[str], ours: Counter[str]) -> None:
        self.missing = reference - ours
        self.extra = ours - reference
        self.agreed = sum((reference & ours).values())
        self.words = sum((reference | ours).values())  # the multiset union: every word either side has

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra)

    def describe(self, limit: int = 30) -> str:
        def listed(words: Counter[str]) -> str:
            items = sorted(words.elements())
            return " ".join(items[:limit]) + (f" ... ({len(items)} in all)" if len(items) > limit else "")
        return f"missing: [{listed(self.missing)}] extra: [{listed(self.extra)}]"


def compare(src: str) -> Difference:
    return Difference(reference_words(src), our_words(src))


if __name__ == "__main__":
    agreed = words = 0
    for name in sys.argv[1:]:
        with open(name, encoding="utf-8") as handle:
            diff = compare(handle.read())
        agreed, words = agreed + diff.agreed, words + diff.words
        if diff:
            print(f"{name}: {diff.agreed}/{diff.words} {diff.describe()}")
    print(f"{agreed}/{words} words agree ({agreed / max(words, 1):.4%}) over {len(sys.argv) - 1} files")
