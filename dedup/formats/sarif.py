"""The ``sarif`` format: SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

One run; ``tool.driver.rules`` holds one rule per kind (ids ``DD001``..``DD005``, see
`rules`), with ``defaultConfiguration.level`` the severity this run gives the kind. Each
result points at the later passage and links the earlier one as related location 1, which
its message references as ``[earlier occurrence](1)``; ``partialFingerprints`` carries the
content fingerprint (``dedupContent/v1``) so alerts survive lines moving.

Columns: ``run.columnKind`` is ``utf16CodeUnits`` (what GitHub expects), so startColumn,
endColumn, charOffset and charLength count UTF-16 code units; endColumn is exclusive (the
column just past the passage). Artifact URIs are the document paths as relative URI
references (forward slashes, percent-encoded), or ``file:`` URIs for absolute paths.
"""
from __future__ import annotations

import json
import posixpath
from functools import lru_cache
from pathlib import PurePosixPath, PureWindowsPath
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from ..fingerprint import fingerprints
from ..model import Finding, Report, Span
from .messages import place
from .positions import UTF16, Locator
from .rules import RULE_INDEX, RULES, Rule

if TYPE_CHECKING:
    from . import FormatContext

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "dedupContent/v1"
MATCH_ID = 1  # relatedLocations id of the earlier occurrence
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


class SarifFormat:
    name = "sarif"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        locator = Locator(ctx.sources)
        out.write(f'{{\n  "$schema": {json.dumps(SARIF_SCHEMA)},\n  "version": {json.dumps(SARIF_VERSION)},\n'
                  f'  "runs": [{{\n    "tool": {json.dumps(tool(ctx), ensure_ascii=False)},\n'
                  f'    "columnKind": "utf16CodeUnits",\n    "results": [')
        keys = fingerprints(report.findings)
        for index, finding in enumerate(report.findings):  # streamed, one result a line
            out.write(("\n      " if index == 0 else ",\n      ")
                      + json.dumps(result(finding, locator, ctx, keys[index]), ensure_ascii=False))
        out.write("\n    ]\n  }]\n}\n")


def tool(ctx: FormatContext) -> dict[str, Any]:
    return {"driver": {"name": "dedup", "version": ctx.version, "semanticVersion": ctx.version,
                       "rules": [rule_descriptor(rule, ctx) for rule in RULES]}}


def rule_descriptor(rule: Rule, ctx: FormatContext) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name,
            "shortDescription": {"text": rule.short}, "fullDescription": {"text": rule.full},
            "defaultConfiguration": {"level": LEVELS[ctx.severity_of(rule.kind)]},
            "help": {"text": rule.help}, "properties": {"kind": rule.kind}}


def result(finding: Finding, locator: Locator, ctx: FormatContext, fingerprint: str) -> dict[str, Any]:
    index = RULE_INDEX[finding.kind]
    return {
        "ruleId": RULES[index].id,
        "ruleIndex": index,
        "level": LEVELS[ctx.level(finding)],
        "message": {"text": message(finding)},
        "locations": [{"physicalLocation": physical_location(finding.sentence, locator)}],
        "relatedLocations": [{"id": MATCH_ID, "physicalLocation": physical_location(finding.match, locator),
                              "message": {"text": "earlier occurrence"}}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": {"kind": finding.kind, "score": finding.score, "scope": finding.scope},
    }


def message(finding: Finding) -> str:
    return (f"This passage repeats an [earlier occurrence]({MATCH_ID}) at {escape_text(place(finding.match))} "
            f"({finding.kind}, score {finding.score:.2f}).")


def escape_text(text: str) -> str:
    """Escape what SARIF message text reads as link syntax: backslashes and square brackets."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def physical_location(span: Span, locator: Locator) -> dict[str, Any]:
    r = locator.region(span, UTF16)
    region = {"startLine": r.start_line, "startColumn": r.start_column,
              "endLine": r.end_line, "endColumn": r.end_column}
    if r.offset is not None:
        region["charOffset"] = r.offset
    region["charLength"] = r.length
    return {"artifactLocation": {"uri": artifact_uri(span.doc)}, "region": region}


@lru_cache(maxsize=4096)  # a report names few documents, each many times
def artifact_uri(path: str) -> str:
    """A document path as a URI: relative paths as relative references with forward slashes
    and percent-encoding (``news/my story.md`` -> ``news/my%20story.md``), absolute ones as
    ``file:`` URIs."""
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_uri()
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return PurePosixPath(posix).as_uri()
    return quote(posixpath.normpath(posix), safe="/")
