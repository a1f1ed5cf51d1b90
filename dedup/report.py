"""The report stage: the only place where per-finding objects are built."""
from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any, Sequence

import numpy as np

from .model import Finding, Span
from .passages import PassageTable
from .verify import KINDS


_NEWLINE = re.compile("\n")


class LineIndex:
    """Maps a code-point offset of one text to its 1-based line and column."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def locate(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


def build_findings(table: PassageTable, earlier: np.ndarray, later: np.ndarray, kind: np.ndarray,
                   score: np.ndarray, group: np.ndarray, archived: Sequence[Any] = (),
                   structural: np.ndarray | None = None) -> list[Finding]:
    """Findings from verified pairs. The first ``len(archived)`` passages of `table` are
    archived passages (records with ``doc_id``, offsets, ``line``, ``column``, ``text``):
    a match among them has scope ``archive`` and the archived document's location.
    `structural[k]` marks a repeat by design (reported at ``info`` severity)."""
    lines: dict[int, LineIndex] = {}

    def span(k: int) -> Span:
        if k < len(archived):
            p = archived[k]
            return Span(p.doc_id, p.start, p.end, p.line, p.column, p.text)
        d = int(table.doc[k])
        if d not in lines:
            lines[d] = LineIndex(table.documents[d].text)
        start, end = int(table.start[k]), int(table.end[k])
        line, column = lines[d].locate(start)
        return Span(table.documents[d].id, start, end, line, column, table.documents[d].text[start:end])

    findings = []
    by_design = np.zeros(len(earlier), dtype=bool) if structural is None else structural
    for e, l, k, s, g, d in zip(earlier.tolist(), later.tolist(), kind.tolist(), score.tolist(), group.tolist(),
                                by_design.tolist()):
        scope = "archive" if e < len(archived) else "document" if table.doc[e] == table.doc[l] else "corpus"
        findings.append(Finding(KINDS[k], scope, float(s), span(l), span(e), g, d))  # type: ignore[arg-type]
    return findings
