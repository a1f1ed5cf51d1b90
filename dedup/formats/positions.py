"""Where a passage stands, in the column unit each output format counts in.

A Span gives code-point offsets into its document and the line and column (in code points)
of its start. Output formats count columns differently: SARIF for GitHub code scanning in
UTF-16 code units, reviewdog in UTF-8 bytes, terminals and workflow commands in code points.
`Locator` turns a Span into a `Region` in any of these units, reading the document's source
text; lines end at "\\n" (so a "\\r" before it is the last character of its line), as for
`Span.line`.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Literal, Mapping

from ..model import Span

Unit = Literal["codepoint", "utf16", "utf8"]
CODE_POINTS: Unit = "codepoint"
UTF16: Unit = "utf16"
UTF8: Unit = "utf8"


def width(text: str, unit: Unit) -> int:
    """The length of `text` in `unit`: an astral character (an emoji) is 1 code point,
    2 UTF-16 code units and 4 UTF-8 bytes."""
    if unit == CODE_POINTS:
        return len(text)
    if unit == UTF16:
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    if unit == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    raise ValueError(f"unknown column unit {unit!r}")


@dataclass(frozen=True, slots=True)
class Region:
    """A passage's place in one unit. Lines and columns are 1-based; the end is the position
    just past the last character (an exclusive end column). `offset` is 0-based from the start
    of the document, None when the source text was not at hand; `length` is the passage's."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    offset: int | None
    length: int


class _Lines:
    """The line starts of one text, and their offsets in each unit once asked for."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        newline = text.find("\n")
        while newline >= 0:
            self.starts.append(newline + 1)
            newline = text.find("\n", newline + 1)
        self._unit_starts: dict[Unit, list[int]] = {}

    def position(self, offset: int, unit: Unit) -> tuple[int, int]:
        """1-based line and column (in `unit`) of a code-point offset."""
        line = bisect_right(self.starts, offset)
        return line, width(self.text[self.starts[line - 1]:offset], unit) + 1

    def absolute(self, offset: int, unit: Unit) -> int:
        """A code-point offset as an offset in `unit` from the start of the text."""
        line = bisect_right(self.starts, offset)
        line_start = self.starts[line - 1]
        return self._starts_in(unit)[line - 1] + width(self.text[line_start:offset], unit)

    def _starts_in(self, unit: Unit) -> list[int]:
        if unit not in self._unit_starts:
            offsets = [0]
            for begin, end in zip(self.starts, self.starts[1:]):
                offsets.append(offsets[-1] + width(self.text[begin:end], unit))
            self._unit_starts[unit] = offsets
        return self._unit_starts[unit]


class Locator:
    """Regions of spans in the documents of `sources` (document id -> source text).

    A span whose document is not in `sources` (an archived match), or whose text is not found
    at its offsets there, keeps its own start line and column, and its end is counted from its
    text: exact in lines, and in columns as far as that start column is.
    """

    def __init__(self, sources: Mapping[str, str]) -> None:
        self._sources = sources
        self._lines: dict[str, _Lines] = {}

    def region(self, span: Span, unit: Unit) -> Region:
        lines = self._lines_of(span)
        if lines is None:
            return _region_from_span(span, unit)
        start_line, start_column = lines.position(span.start, unit)
        end_line, end_column = lines.position(span.end, unit)
        return Region(start_line, start_column, end_line, end_column,
                      lines.absolute(span.start, unit), width(span.text, unit))

    def _lines_of(self, span: Span) -> _Lines | None:
        lines = self._lines.get(span.doc)
        if lines is None:
            source = self._sources.get(span.doc)
            if source is None:
                return None
            lines = self._lines[span.doc] = _Lines(source)
        return lines if lines.text[span.start:span.end] == span.text else None


def _region_from_span(span: Span, unit: Unit) -> Region:
    text_lines = span.text.split("\n")
    last = width(text_lines[-1], unit)
    if len(text_lines) == 1:
        end_column = span.column + last
    else:
        end_column = 1 + last
    return Region(span.line, span.column, span.line + len(text_lines) - 1, end_column, None, width(span.text, unit))
