"""Output formats of a report, as plug-ins behind one interface.

Each format is a `Formatter`: a name and ``write(report, out, ctx)``. `FORMATS` holds them by
name; `get_formatter` looks one up. `FormatContext` carries what a format needs beside the
report: the documents' source texts (to turn code-point offsets into each format's column
unit), the severity of each kind, colour, and the version to stamp.

Formats: ``text`` (default), ``concise``, ``json`` and ``jsonl`` (the ``dedup.report/1``
schema), ``sarif`` (SARIF 2.1.0), ``github`` (workflow commands), ``rdjsonl`` (reviewdog),
``gitlab`` (GitLab Code Quality), ``junit`` (JUnit XML) and ``html`` (a self-contained report
page for editors). Rule codes come from `dedup.rules`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Mapping, Protocol

from .. import __version__
from ..model import Finding, Report
from .concise import ConciseFormat
from .github import GithubFormat
from .gitlab import GitlabFormat
from .html import HtmlFormat
from .jsonreport import JsonFormat, JsonlFormat
from .junit import JunitFormat
from .rdjsonl import RdjsonlFormat
from .sarif import SarifFormat
from .text import TextFormat

SEVERITIES = ("error", "warning", "info")
DEFAULT_SEVERITY: Mapping[str, str] = {
    "exact": "error", "normalized": "error", "conflict": "error", "near": "warning", "contained": "warning",
}


@dataclass(frozen=True)
class FormatContext:
    """What formats need beside the report.

    `sources` maps a document id to its source text (the text Span offsets point into);
    `severity` maps a kind to "error", "warning" or "info" (kinds it leaves out keep
    `DEFAULT_SEVERITY`); `color` asks for ANSI colour (the CLI sets it only on a TTY).
    """

    sources: Mapping[str, str]
    severity: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    color: bool = False
    version: str = __version__

    def __post_init__(self) -> None:
        for kind, level in self.severity.items():
            if level not in SEVERITIES:
                raise ValueError(f"severity of {kind!r} must be one of {', '.join(SEVERITIES)}, not {level!r}")

    def severity_of(self, kind: str) -> str:
        """"error", "warning" or "info" for findings of `kind`."""
        return self.severity.get(kind) or DEFAULT_SEVERITY.get(kind, "warning")

    def level(self, finding: Finding) -> str:
        """The severity of one finding: a structural repeat (reported on request) is ``info``."""
        return "info" if finding.structural else self.severity_of(finding.kind)


class Formatter(Protocol):
    name: str

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None: ...


FORMATS: dict[str, Formatter] = {
    formatter.name: formatter
    for formatter in (TextFormat(), ConciseFormat(), JsonFormat(), JsonlFormat(),
                      SarifFormat(), GithubFormat(), RdjsonlFormat(), GitlabFormat(), JunitFormat(), HtmlFormat())
}


def get_formatter(name: str) -> Formatter:
    """The formatter called `name`; ValueError naming the choices for any other name."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r} (choose from {', '.join(FORMATS)})") from None


__all__ = ["DEFAULT_SEVERITY", "FORMATS", "SEVERITIES", "FormatContext", "Formatter", "get_formatter"]
