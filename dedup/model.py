"""The public result types, mirroring the report schema (``dedup.report/1``)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

SCHEMA: Final = "dedup.report/1"
Kind = Literal["exact", "normalized", "near", "contained", "conflict"]
Scope = Literal["document", "corpus", "archive"]


@dataclass(frozen=True, slots=True)
class Document:
    """One input document: its id (a path, a record id) and its text as written.

    Readers of marked-up sources (Markdown, HTML) also give `analysis`: the same text with
    markup, code and comments blanked out (same length, so every offset into it is an offset
    into `text`), `headings` (ranges read as headings: matched only for exact repeats) and
    `ignored` (ranges the author excluded: no finding is reported *on* a passage starting there).
    """

    id: str
    text: str
    analysis: str | None = None
    headings: tuple[tuple[int, int], ...] = ()
    ignored: tuple[tuple[int, int], ...] = ()

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
        return asdict(self)


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
        return json.dumps(self.to_dict(), ensure_ascii=False)


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
