"""The ``gitlab`` format: a GitLab Code Quality report (``artifacts:reports:codequality``).

A JSON array with one issue per finding, as GitLab's "Code Quality report format" asks:
``description`` (what the repeat is and where the earlier passage stands), ``check_name``
(the rule code, ``DD003``), ``fingerprint``, ``severity`` (``major`` for error, ``minor`` for
warning, ``info`` for info) and ``location``: ``path`` relative to the repository (no leading
``./``, forward slashes) and ``lines.begin``/``lines.end`` (1-based). Columns are not part of
the format.

GitLab tells issues apart by fingerprint, and drops an issue whose fingerprint another already
has. The fingerprint is the content fingerprint of `dedup.fingerprint` (the document and the
normalized texts of both passages, not line numbers, so an issue follows its text when lines
move and the merge request widget shows it as unchanged) hashed with the finding's rank among
the report's findings of equal content fingerprint, so two copies of one passage in one file
stay two issues.
"""
from __future__ import annotations

import hashlib
import json
import posixpath
from typing import IO, TYPE_CHECKING, Any

from ..fingerprint import fingerprints
from ..model import Finding, Report
from .messages import summary
from .positions import CODE_POINTS, Locator
from .rules import rule_for

if TYPE_CHECKING:
    from . import FormatContext

SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


class GitlabFormat:
    name = "gitlab"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        if not report.findings:
            out.write("[]\n")
            return
        locator = Locator(ctx.sources)
        keys = unique_fingerprints(fingerprints(report.findings))
        out.write("[")
        for index, finding in enumerate(report.findings):  # streamed, one issue a line
            out.write(("\n  " if index == 0 else ",\n  ")
                      + json.dumps(issue(finding, locator, ctx, keys[index]), ensure_ascii=False))
        out.write("\n]\n")


def issue(finding: Finding, locator: Locator, ctx: FormatContext, fingerprint: str) -> dict[str, Any]:
    rule = rule_for(finding.kind)
    region = locator.region(finding.sentence, CODE_POINTS)
    return {
        "description": f"{rule.short}: {summary(finding)}",
        "check_name": rule.id,
        "fingerprint": fingerprint,
        "severity": SEVERITIES[ctx.level(finding)],
        "location": {"path": repository_path(finding.sentence.doc),
                     "lines": {"begin": region.start_line, "end": region.end_line}},
    }


def unique_fingerprints(content: list[str]) -> list[str]:
    """One fingerprint per finding, unique in the report: each content fingerprint hashed with
    how many findings before it have the same one (32 hex digits)."""
    seen: dict[str, int] = {}
    unique = []
    for key in content:
        rank = seen.get(key, 0)
        seen[key] = rank + 1
        unique.append(hashlib.sha256(f"{key}\x1f{rank}".encode()).hexdigest()[:32])
    return unique


def repository_path(doc: str) -> str:
    """A document path as GitLab wants it: forward slashes, no leading ``./``."""
    path = posixpath.normpath(doc.replace("\\", "/"))
    return path.removeprefix("./")
