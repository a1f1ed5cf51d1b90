"""The ``text`` format (the default): one line per finding, for people and editors.

``path:line:col: kind: "clipped passage…" (repeats [path:]line:col, score 0.87)``; the match's
path is shown only when it is in another document. Lines and columns are Span's own: 1-based,
columns in code points. With ``ctx.color`` the path is bold and the kind coloured by severity.
"""
from __future__ import annotations

from typing import IO, TYPE_CHECKING

from ..model import Finding, Report
from .messages import clip, match_place

if TYPE_CHECKING:
    from . import FormatContext

BOLD, RESET = "\x1b[1m", "\x1b[0m"
SEVERITY_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}


class TextFormat:
    name = "text"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        for finding in report.findings:
            out.write(text_line(finding, ctx) + "\n")


def text_line(finding: Finding, ctx: FormatContext) -> str:
    s = finding.sentence
    path, kind = s.doc, str(finding.kind)
    if ctx.color:
        path = f"{BOLD}{path}{RESET}"
        kind = f"{SEVERITY_COLORS[ctx.level(finding)]}{kind}{RESET}"
    return (f'{path}:{s.line}:{s.column}: {kind}: "{clip(s.text)}" '
            f"(repeats {match_place(finding)}, score {finding.score:.2f})")
