"""Ignore directives: what an author marks for dedup to leave alone, in every kind of input.

A directive is ``dedup: ignore``, ``dedup: off`` or ``dedup: on``, optionally followed by
rule selectors (`dedup.rules`: ``DD003``, ``DD00``, ``near``, ...) separated by spaces or
commas, which limit it to those rules: ``dedup: ignore DD003, DD004``. Without selectors it
covers every rule. It is written

- in Markdown and HTML, as a comment: ``<!-- dedup: ignore DD003 -->`` (the readers find the
  comments; `directive` reads their text);
- in plain text (and in the text of a JSONL or CSV record), as a line of its own:
  ``dedup: ignore`` or ``<!-- dedup: ignore -->``; the line is not read as prose
  (`read_plain`);
- for a whole JSONL or CSV record, in its ``dedup`` field: ``"dedup": "ignore"`` or
  ``"ignore DD003"`` (`record_directive`).

``ignore`` covers the next block (a paragraph, list item, heading, HTML block element; in plain
text the next paragraph, or line where each line is one); ``off`` covers everything up to an
``on`` (or the end of the text): ``on`` without selectors ends every ``off``, ``on DD003``
ends only that rule's. A finding is left out when its later passage starts inside a range that
covers its rule; the earlier passage may still be reported as the match of another copy.

A directive whose selectors name no rule (``dedup: ignore DD03``) is a `DirectiveError`, which
the readers report as an input error naming the file and line: silently ignoring nothing, or
everything, would hide the mistake.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..model import Document
from ..rules import RULES, SelectorError, kinds_of
from .wrap import unwrap

__all__ = ["ALL_KINDS", "Directive", "DirectiveError", "IgnoredRanges", "directive", "ignored_ranges",
           "next_block", "read_plain", "record_directive", "resolve", "switched_off"]

Range = tuple[int, int]
KindRange = tuple[int, int, tuple[str, ...]]
ALL_KINDS: tuple[str, ...] = tuple(rule.kind for rule in RULES)
FIELD = "dedup"
"""The field of a JSONL or CSV record that holds a directive for the whole record."""

_DIRECTIVE = re.compile(r"\s*+dedup\s*+:\s*+(ignore|off|on)(?:(?:\s*+:|\s)(.*))?", re.IGNORECASE | re.DOTALL)
_SEPARATORS = re.compile(r"[\s,]+")
_NON_SPACE = re.compile(r"\S")
# a line that may hold a plain-text directive: "dedup:" at its start, or right after "<!--"
_PLAIN_LINE = re.compile(r"^[ \t]*+(?:<!--)?+[ \t]*+dedup[ \t]*+:[^\n]*+", re.IGNORECASE | re.MULTILINE)


class DirectiveError(ValueError):
    """A directive whose rule selectors name no rule; `offset` is where it starts."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Directive:
    """A ``dedup: ignore|off|on [CODES]`` directive at ``[start, end)`` of the source; `kinds`
    are the kinds of the rules it covers (all of them when no code was given)."""

    command: str
    start: int
    end: int
    kinds: tuple[str, ...] = ALL_KINDS


@dataclass(frozen=True, slots=True)
class IgnoredRanges:
    """Ranges of a document's source that directives cover: `every` for all rules,
    `by_kind` for only the listed kinds (what `Document.ignored` and `ignored_kinds` hold)."""

    every: tuple[Range, ...] = ()
    by_kind: tuple[KindRange, ...] = ()


def directive(body: str, start: int, end: int) -> Directive | None:
    """The directive a comment with `body` (the text between ``<!--`` and ``-->``, or a plain
    text line) gives, if it is one; DirectiveError when its selectors name no rule."""
    found = _DIRECTIVE.fullmatch(body)
    if found is None:
        return None
    command = found.group(1).lower()
    selectors = [s for s in _SEPARATORS.split(found.group(2) or "") if s]
    if not selectors:
        return Directive(command, start, end)
    try:
        named = {kind for selector in selectors for kind in kinds_of(selector)}
    except SelectorError as err:
        raise DirectiveError(f"'dedup: {command}': {err}", start) from None
    return Directive(command, start, end, tuple(kind for kind in ALL_KINDS if kind in named))


def record_directive(value: object) -> Directive | None:
    """The directive of a record's ``dedup`` field (``"ignore"``, ``"ignore DD003"``), covering
    the whole record; None when the field is absent or empty. ValueError (one line) for a
    value that is not an ``ignore`` directive."""
    if value is None or value == "":
        return None
    found = directive(f"dedup: {value}", 0, 0) if isinstance(value, str) else None
    if found is None or found.command != "ignore":
        raise ValueError(f"the {FIELD!r} field must be \"ignore\" or \"ignore CODES\" (\"ignore DD003\"), "
                         f"not {value!r}")
    return found


def switched_off(directives: Iterable[Directive], length: int) -> list[KindRange]:
    """The ranges between an ``off`` and the ``on`` that ends it (or the end of the text), with
    the kinds they cover: each kind is switched off and on by itself."""
    ranges: list[KindRange] = []
    off_since: dict[str, int] = {}
    for d in sorted(directives, key=lambda d: d.start):
        if d.command == "off":
            for kind in d.kinds:
                off_since.setdefault(kind, d.end)
        elif d.command == "on":
            for kind in d.kinds:
                if kind in off_since:
                    ranges.append((off_since.pop(kind), d.start, (kind,)))
    ranges.extend((start, length, (kind,)) for kind, start in off_since.items())
    return ranges


def resolve(covered: Iterable[KindRange], directives: Iterable[Directive], length: int) -> IgnoredRanges:
    """The ranges of `covered` (what ``ignore`` directives cover, with their kinds) and of the
    ``off``/``on`` directives, those covering every kind apart."""
    kinds_at: dict[Range, set[str]] = {}
    for start, end, kinds in [*covered, *switched_off(directives, length)]:
        if start >= end:
            continue  # an off right before its on, or at the end of the text: covers nothing
        kinds_at.setdefault((start, end), set()).update(kinds)
    every = sorted(r for r, kinds in kinds_at.items() if kinds.issuperset(ALL_KINDS))
    by_kind = sorted((*r, tuple(k for k in ALL_KINDS if k in kinds))
                     for r, kinds in kinds_at.items() if not kinds.issuperset(ALL_KINDS))
    return IgnoredRanges(tuple(every), tuple(by_kind))


def next_block(analysis: str, comment: Directive) -> Range | None:
    """The first block (a line of the analysis text) that starts after `comment`: the one the
    comment opens, or when the comment sits inside a block, the block after that one."""
    first = _NON_SPACE.search(analysis, comment.end)
    if first is None:
        return None
    line_start = analysis.rfind("\n", 0, first.start()) + 1
    if _NON_SPACE.search(analysis, line_start, comment.start) is not None:
        newline = analysis.find("\n", first.start())
        first = _NON_SPACE.search(analysis, newline) if newline >= 0 else None
        if first is None:
            return None
    newline = analysis.find("\n", first.start())
    return first.start(), len(analysis) if newline < 0 else newline


def ignored_ranges(analysis: str, directives: Sequence[Directive], covered: Iterable[KindRange] = ()) -> IgnoredRanges:
    """What `directives` cover in a text whose blocks are the lines of `analysis` (Markdown,
    plain text): each ``ignore`` its next block, each ``off`` up to its ``on``; and the ranges
    `covered` already (what the ``ignore`` directives of a Markdown file's HTML blocks cover)."""
    by_ignore = [(*r, d.kinds) for d in directives if d.command == "ignore" for r in [next_block(analysis, d)] if r]
    return resolve([*by_ignore, *covered], directives, len(analysis))


def read_plain(path: str, text: str, whole: Directive | None = None) -> Document:
    """Plain text (a file, or a record's text) as a Document: directive lines blanked, the
    rest unwrapped when hard-wrapped (`wrap.unwrap`), and the ranges the directives cover;
    `whole` (a record's ``dedup`` field) covers the whole text."""
    directives, blanked = _plain_directives(text)
    unwrapped = unwrap(blanked)
    analysis = unwrapped if unwrapped is not None or not directives else blanked  # None: the text as it is
    ranges = ignored_ranges(analysis or text, directives) if directives else IgnoredRanges()
    if whole is not None:
        extra = [(0, len(text), whole.kinds)] if text else []
        ranges = resolve([*extra, *((*r, ALL_KINDS) for r in ranges.every), *ranges.by_kind], (), len(text))
    return Document(path, text, analysis, (), ranges.every, ranges.by_kind)


def _plain_directives(text: str) -> tuple[list[Directive], str]:
    """The directive lines of a plain text, and the text with them blanked (same length)."""
    if "edup" not in text and "EDUP" not in text:  # a fast look first ("dedup", "Dedup", "DEDUP")
        return [], text
    found: list[Directive] = []
    chars: list[str] | None = None
    for line in _PLAIN_LINE.finditer(text):
        content = line.group().strip()
        body = content[4:-3] if content.startswith("<!--") and content.endswith("-->") else content
        d = directive(body, line.start(), line.end())
        if d is None:
            continue
        found.append(d)
        if chars is None:
            chars = list(text)
        chars[line.start():line.end()] = " " * (line.end() - line.start())
    return found, text if chars is None else "".join(chars)
