"""The ``junit`` format: JUnit XML, for CI systems that show test reports (GitLab's
``artifacts:reports:junit``, Jenkins, Azure Pipelines, CircleCI, ...).

One ``<testsuite>`` per checked document, in the order checked, each with one ``<testcase>``
per finding whose later passage is in that document, failed (``<failure type="DD003"
message="...">`` with both passages in its text); a document without findings gets one
passing test case, so a clean run reads as N passed tests rather than none. Test cases are
named ``DD003 near at LINE:COLUMN``; ``classname`` and ``file`` are the document, ``line``
its line. ``<testsuites>`` counts tests and failures and carries the run's seconds.

The structure is that of the JUnit XSD Jenkins reads (the common denominator of JUnit
consumers). Characters that XML 1.0 cannot hold (control characters other than tab and line
breaks, lone surrogates) are written as U+FFFD.
"""
from __future__ import annotations

import re
from typing import IO, TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from ..model import Finding, Report
from .messages import clip, place, summary
from .rules import rule_for

if TYPE_CHECKING:
    from . import FormatContext

CLEAN_CASE = "no repeats"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class JunitFormat:
    name = "junit"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        by_doc: dict[str, list[Finding]] = {doc: [] for doc in ctx.sources}
        for finding in report.findings:
            by_doc.setdefault(finding.sentence.doc, []).append(finding)
        tests = sum(max(1, len(findings)) for findings in by_doc.values())
        seconds = report.stats.get("seconds")
        time = f" time={_attr(f'{seconds:.3f}')}" if isinstance(seconds, (int, float)) else ""
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                  f'<testsuites name="dedup" tests="{tests}" failures="{len(report.findings)}" errors="0"{time}>\n')
        for doc, findings in by_doc.items():
            out.write(testsuite(doc, findings))
        out.write("</testsuites>\n")


def testsuite(doc: str, findings: list[Finding]) -> str:
    name = _attr(doc)
    head = (f'  <testsuite name={name} tests="{max(1, len(findings))}" failures="{len(findings)}" '
            f'errors="0" skipped="0">\n')
    if not findings:
        return head + f'    <testcase name="{CLEAN_CASE}" classname={name} file={name}/>\n  </testsuite>\n'
    return head + "".join(testcase(finding, name) for finding in findings) + "  </testsuite>\n"


def testcase(finding: Finding, doc_attr: str) -> str:
    rule = rule_for(finding.kind)
    s = finding.sentence
    details = (f"{place(s)}: {rule.id} {rule.short} ({finding.kind}, score {finding.score:.2f})\n"
               f"{_text(s.text)}\n\nrepeats {place(finding.match)}:\n{_text(finding.match.text)}\n")
    return (f"    <testcase name={_attr(f'{rule.id} {finding.kind} at {s.line}:{s.column}')} "
            f'classname={doc_attr} file={doc_attr} line="{s.line}">\n'
            f"      <failure type={_attr(rule.id)} message={_attr(clip(summary(finding), 300))}>"
            f"{escape(details)}</failure>\n    </testcase>\n")


def _attr(value: str) -> str:
    """An XML attribute value, quoted, with what XML 1.0 cannot hold replaced."""
    return quoteattr(_NOT_XML.sub("\ufffd", value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)
