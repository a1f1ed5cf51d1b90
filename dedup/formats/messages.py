"""Wording shared by the human-readable parts of the formats."""
from __future__ import annotations

import re

from ..model import Finding, Span

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def clip(text: str, width: int = 80) -> str:
    """`text` on one line, control characters (terminal escapes) blanked, at most `width` long."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def place(span: Span) -> str:
    """``path:line:column`` of a span (column in code points)."""
    return f"{span.doc}:{span.line}:{span.column}"


def match_place(finding: Finding) -> str:
    """Where the repeated passage is: ``line:column``, with its path first when it is in
    another document than the finding."""
    match = finding.match
    prefix = "" if match.doc == finding.sentence.doc else f"{match.doc}:"
    return f"{prefix}{match.line}:{match.column}"


def summary(finding: Finding) -> str:
    """One line saying what the finding is: ``"passage…" repeats path:line:col (kind, score 0.87)``."""
    return f'"{clip(finding.sentence.text)}" repeats {place(finding.match)} ({finding.kind}, score {finding.score:.2f})'
