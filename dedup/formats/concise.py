"""The ``concise`` format: ``path:line:col: kind (repeats path:line:col)``, one line a finding.

Lines and columns are Span's own: 1-based, columns in code points. Meant for grep, editors'
quickfix lists and other tools that read ``path:line:col:`` prefixes.
"""
from __future__ import annotations

from typing import IO, TYPE_CHECKING

from ..model import Report
from .messages import place

if TYPE_CHECKING:
    from . import FormatContext


class ConciseFormat:
    name = "concise"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        for finding in report.findings:
            out.write(f"{place(finding.sentence)}: {finding.kind} (repeats {place(finding.match)})\n")
