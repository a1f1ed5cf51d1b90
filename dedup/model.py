"""The public result types, mirroring the report schema (``dedup.report/1``)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any, Final, Literal

# encode_basestring: the C encoder that json.dumps(ensure_ascii=False) uses for strings
SCHEMA: Final = "dedup.report/1"
Kind = Literal["exact", "normalized", "near", "contained", "conflict"]
Scope = Literal["document", "corpus", "archive"]


@dataclass(frozen=True, slots=True)
class Document:
    """One input document: its id (a path, a record id) and its text as written.

    Readers of marked-up sources (Markdown, HTML) also give `analysis`: the same text with
    markup, code and comments blanked out (same length, so every offset into it is an offset
    into `text`), `headings` (ranges read as headings: matched only for exact repeats),
    `ignored` (ranges the author excluded: no finding is reported *on* a passage starting there)
    and `ignored_kinds` (ranges excluded for some kinds only, ``(start, end, kinds)``: an ignore
    comment with rule codes, ``<!-- dedup: ignore DD003 -->``).
    """

    id: str
    text: str
    analysis: str | None = None
    headings: tuple[tuple[int, int], ...] = ()
    ignored: tuple[tuple[int, int], ...] = ()
    ignored_kinds: tuple[tuple[int, int, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        if self.analysis is not None and len(self.analysis) != len(self.text):
            raise ValueError(f"document {self.id!r}: analysis text must have the length of the text")

    @property
    def prose(self) -> str:
        """The text the engine reads: `analysis` where a reader gave one, else `text`."""
        return self.text if self.analysis is None else self.analysis


@dataclass(frozen=True, slots=True)
class Span:
    """A passage: ``text == document_text[start:end]``, offsets in code points, end exclusive;
    `line` and `column` (1-based) are those of `start`."""

    doc: str
    start: int
    end: int
    line: int
    column: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"doc": self.doc, "start": self.start, "end": self.end, "line": self.line, "column": self.column,
                "text": self.text}

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, written directly (several times faster)."""
        start, end, line, column = self.start, self.end, self.line, self.column
        if (type(start) is not int or type(end) is not int or type(line) is not int or type(column) is not int
                or type(self.doc) is not str or type(self.text) is not str):
            return json.dumps(self.to_dict(), ensure_ascii=False)  # a caller's odd types: the exact path
        return (f'{{"doc": {encode_basestring(self.doc)}, "start": {start}, "end": {end}, "line": {line}, '
                f'"column": {column}, "text": {encode_basestring(self.text)}}}')


@dataclass(frozen=True, slots=True)
class Finding:
    """`sentence` (the later passage) repeats `match` (the earliest passage it repeats).

    `group` is an extension of the schema (an optional key): the copies of one passage, and
    copies of those, form one group. `structural` (another optional key, present when true)
    marks a repeat by the house's design (a standfirst restated in the body, a pull quote),
    reported only when asked for, at ``info`` severity."""

    kind: Kind
    scope: Scope
    score: float
    sentence: Span
    match: Span
    group: int = 0  # findings linked through shared passages share a group (numbered from 0)
    structural: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "scope": self.scope, "score": self.score,
               "sentence": self.sentence.to_dict(), "match": self.match.to_dict(), "group": self.group}
        if self.structural:
            out["structural"] = True
        return out

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, byte for byte, written directly:
        a report of 100,000 findings is rendered in a fraction of the time ``json.dumps`` of
        the dicts takes. Values of other types than the schema's (a caller's bool or numpy
        number, a score that is not finite) take ``json.dumps`` itself."""
        s, m, score = self.sentence, self.match, self.score
        if not (type(s.start) is type(s.end) is type(s.line) is type(s.column) is type(m.start) is type(m.end)
                is type(m.line) is type(m.column) is type(self.group) is int
                and type(s.doc) is type(s.text) is type(m.doc) is type(m.text) is type(self.kind)
                is type(self.scope) is str
                and type(score) is float and score - score == 0.0):  # finite: inf - inf and nan are nan
            return json.dumps(self.to_dict(), ensure_ascii=False)
        structural = ', "structural": true' if self.structural else ""
        return (f'{{"kind": {encode_basestring(self.kind)}, "scope": {encode_basestring(self.scope)}, '
                f'"score": {score!r}, "sentence": {{"doc": {encode_basestring(s.doc)}, "start": {s.start}, '
                f'"end": {s.end}, "line": {s.line}, "column": {s.column}, "text": {encode_basestring(s.text)}}}, '
                f'"match": {{"doc": {encode_basestring(m.doc)}, "start": {m.start}, "end": {m.end}, '
                f'"line": {m.line}, "column": {m.column}, "text": {encode_basestring(m.text)}}}, '
                f'"group": {self.group}{structural}}}')


@dataclass(frozen=True)
class Report:
    """All findings of one run, and what the run measured."""

    findings: list[Finding]
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "findings": [f.to_dict() for f in self.findings], "stats": self.stats}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def count_kinds(findings: list[Finding]) -> dict[str, int]:
    """How many findings there are of each kind (kinds without findings left out)."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return counts
