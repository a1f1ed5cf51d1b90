"""The ``github`` format: GitHub Actions workflow commands, one annotation per finding.

``::warning file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`` (``::error`` for
error severity, ``::notice`` for info). Columns count code points, 1-based, endColumn
exclusive (just past the passage), as ruff's GitHub output does. GitHub takes columns only
on single-line annotations, so a passage spanning lines gets ``line`` and ``endLine`` alone.
The message and property values are escaped as the Actions toolkit escapes them.
"""
from __future__ import annotations

from typing import IO, TYPE_CHECKING

from ..model import Finding, Report
from .messages import summary
from .positions import CODE_POINTS, Locator
from .rules import rule_for

if TYPE_CHECKING:
    from . import FormatContext

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


class GithubFormat:
    name = "github"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        locator = Locator(ctx.sources)
        for finding in report.findings:
            out.write(workflow_command(finding, locator, ctx) + "\n")


def workflow_command(finding: Finding, locator: Locator, ctx: FormatContext) -> str:
    command = COMMANDS[ctx.level(finding)]
    properties = ",".join(f"{key}={escape_property(str(value))}"
                          for key, value in annotation_properties(finding, locator))
    return f"::{command} {properties}::{escape_data(summary(finding))}"


def annotation_properties(finding: Finding, locator: Locator) -> list[tuple[str, object]]:
    r = locator.region(finding.sentence, CODE_POINTS)
    rule = rule_for(finding.kind)
    title = f"dedup {rule.id}: {rule.short}"
    if r.start_line != r.end_line:  # GitHub takes columns on single-line annotations only
        return [("file", finding.sentence.doc), ("line", r.start_line), ("endLine", r.end_line), ("title", title)]
    return [("file", finding.sentence.doc), ("line", r.start_line), ("col", r.start_column),
            ("endLine", r.end_line), ("endColumn", r.end_column), ("title", title)]


def escape_data(text: str) -> str:
    """Escape a command's message: ``%``, ``\\r`` and ``\\n``."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as a message, and also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
