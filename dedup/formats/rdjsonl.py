"""The ``rdjsonl`` format: reviewdog's Diagnostic Format as JSON lines (``reviewdog -f=rdjsonl``).

One Diagnostic per finding, with the earlier occurrence as its related location. Per the
reviewdog protocol, lines are 1-based and columns are 1-based UTF-8 byte counts, and a range's
end is exclusive (the byte just past the passage).
"""
from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any

from ..model import Finding, Report, Span
from .messages import summary
from .positions import UTF8, Locator
from .rules import rule_for

if TYPE_CHECKING:
    from . import FormatContext

SEVERITIES = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}


class RdjsonlFormat:
    name = "rdjsonl"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        locator = Locator(ctx.sources)
        for finding in report.findings:
            out.write(json.dumps(diagnostic(finding, locator, ctx), ensure_ascii=False) + "\n")


def diagnostic(finding: Finding, locator: Locator, ctx: FormatContext) -> dict[str, Any]:
    return {
        "message": summary(finding),
        "location": location(finding.sentence, locator),
        "severity": SEVERITIES[ctx.level(finding)],
        "source": {"name": "dedup"},
        "code": {"value": rule_for(finding.kind).id},
        "related_locations": [{"message": "earlier occurrence", "location": location(finding.match, locator)}],
    }


def location(span: Span, locator: Locator) -> dict[str, Any]:
    r = locator.region(span, UTF8)
    return {"path": span.doc, "range": {"start": {"line": r.start_line, "column": r.start_column},
                                        "end": {"line": r.end_line, "column": r.end_column}}}
