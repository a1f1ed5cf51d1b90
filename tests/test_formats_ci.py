"""The ``gitlab`` (GitLab Code Quality) and ``junit`` (JUnit XML) formats, validated against
their schemas: ``schemas/gitlab-code-quality.schema.json`` (written from GitLab's "Code Quality
report format") and ``schemas/junit.xsd`` (the structure of the JUnit XSD Jenkins reads).

Reports come from the real engine over Arabic and English documents, with a clean document
beside them, control characters in a passage and a match in an archive.
"""
from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema

import dedup
from dedup.cli import main
from dedup.formats import FormatContext, get_formatter
from dedup.formats.gitlab import repository_path, unique_fingerprints
from dedup.model import Finding, Report, Span
from dedup.rules import RULES, rule_for

from conftest import AR, EN

SCHEMAS = Path(__file__).resolve().parent / "schemas"
NEAR = "The harbour museum reopened on Monday after a two-year renovation of its medieval map room."
NEAR_COPY = "The harbour museum reopened on Monday after a two year renovation of its old medieval map room."
SOURCES = {
    "./news/a.md": f"{EN[0]} {AR[0]}\n\n{NEAR}\n\n{EN[0]}\n",
    "news/b.md": f"{EN[1]}\n\n{NEAR_COPY}\n\n{AR[0]}\n\x1b[31m{EN[1]}\x0b\n",
    "news/clean & <quiet>.md": f"{EN[4]}\n\n{AR[3]}\n",
}


@pytest.fixture(scope="module")
def report() -> Report:
    found = dedup.Detector().check_many(list(SOURCES.items()))
    kinds = {f.kind for f in found.findings}
    assert {"exact", "near"} <= kinds, found.findings
    assert any("\x1b" in f.sentence.text for f in found.findings)
    archived = Span("archive/2026/x.md", 10, 20, 3, 1, "archived text")
    extra = Finding("exact", "archive", 1.0, found.findings[0].sentence, archived)
    return Report([*found.findings, extra], found.stats)


def render(name: str, report: Report, ctx: FormatContext) -> str:
    out = io.StringIO()
    get_formatter(name).write(report, out, ctx)
    return out.getvalue()


# --- GitLab Code Quality ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gitlab_schema() -> dict:
    schema = json.loads((SCHEMAS / "gitlab-code-quality.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_gitlab_report_is_valid_with_unique_fingerprints(report: Report, gitlab_schema: dict) -> None:
    issues = json.loads(render("gitlab", report, FormatContext(SOURCES)))
    jsonschema.validate(issues, gitlab_schema, cls=jsonschema.Draft202012Validator)
    assert len(issues) == len(report.findings)
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    for issue, finding in zip(issues, report.findings):
        rule = rule_for(finding.kind)
        assert issue["check_name"] == rule.id and issue["description"].startswith(rule.short)
        assert issue["location"]["path"] == finding.sentence.doc.removeprefix("./")
        lines = issue["location"]["lines"]
        assert lines["begin"] == finding.sentence.line
        assert lines["end"] == finding.sentence.line + finding.sentence.text.count("\n")
        assert f"{finding.match.doc}:{finding.match.line}:{finding.match.column}" in issue["description"]


def test_the_schema_rejects_what_gitlab_rejects(report: Report, gitlab_schema: dict) -> None:
    issues = json.loads(render("gitlab", report, FormatContext(SOURCES)))
    validator = jsonschema.Draft202012Validator(gitlab_schema)
    for breaking in (lambda i: i["location"].update(path="./news/a.md"), lambda i: i.update(severity="error"),
                     lambda i: i["location"].pop("lines"), lambda i: i.pop("fingerprint")):
        broken = json.loads(json.dumps(issues))
        breaking(broken[0])
        assert not validator.is_valid(broken)


def test_gitlab_severities_follow_the_context(report: Report) -> None:
    ctx = FormatContext(SOURCES, {"exact": "info", "near": "error"})
    for issue, finding in zip(json.loads(render("gitlab", report, ctx)), report.findings):
        assert issue["severity"] == {"exact": "info", "near": "major"}.get(finding.kind, issue["severity"])


def test_gitlab_fingerprints_follow_the_text_not_the_lines(report: Report) -> None:
    moved_sources = {doc: "A new first line.\n\n" + text for doc, text in SOURCES.items()}
    moved = dedup.Detector().check_many(list(moved_sources.items()))
    before = json.loads(render("gitlab", Report(report.findings[:-1]), FormatContext(SOURCES)))
    after = json.loads(render("gitlab", moved, FormatContext(moved_sources)))
    assert [i["location"]["lines"]["begin"] + 2 for i in before] == [i["location"]["lines"]["begin"] for i in after]
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]


def test_copies_of_one_passage_get_distinct_fingerprints() -> None:
    text = f"{EN[2]}\n{EN[2]}\n{EN[2]}\n"
    found = dedup.Detector().check_many([("a.md", text)])
    issues = json.loads(render("gitlab", found, FormatContext({"a.md": text})))
    assert len(issues) == 2 and issues[0]["fingerprint"] != issues[1]["fingerprint"]
    assert unique_fingerprints(["x", "x", "y"])[0] != unique_fingerprints(["x", "x", "y"])[1]
    assert unique_fingerprints(["x"]) == unique_fingerprints(["x", "y"])[:1]


def test_gitlab_empty_report_and_paths(gitlab_schema: dict) -> None:
    text = render("gitlab", Report([]), FormatContext({}))
    assert text == "[]\n"
    jsonschema.validate(json.loads(text), gitlab_schema)
    assert repository_path("./docs/a.md") == "docs/a.md"
    assert repository_path("docs\\b.md") == "docs/b.md"


# --- JUnit XML ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd"))


def test_junit_report_is_valid_one_suite_per_document(report: Report, junit_schema: xmlschema.XMLSchema) -> None:
    text = render("junit", report, FormatContext(SOURCES))
    junit_schema.validate(text)
    root = ET.fromstring(text)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == list(SOURCES)
    assert int(root.get("failures")) == len(report.findings)
    assert int(root.get("tests")) == len(report.findings) + 1  # the clean document passes one test
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
    clean = suites[2].findall("testcase")
    assert len(clean) == 1 and clean[0].find("failure") is None and clean[0].get("file") == "news/clean & <quiet>.md"


def test_junit_failures_name_the_rule_and_both_passages(report: Report) -> None:
    root = ET.fromstring(render("junit", report, FormatContext(SOURCES)))
    cases = [c for s in root.findall("testsuite") for c in s.findall("testcase") if c.find("failure") is not None]
    by_doc = sorted(report.findings, key=lambda f: list(SOURCES).index(f.sentence.doc))
    for case, finding in zip(cases, by_doc):
        failure = case.find("failure")
        assert failure is not None
        rule = rule_for(finding.kind)
        assert failure.get("type") == rule.id and case.get("name").startswith(f"{rule.id} {finding.kind} at ")
        assert case.get("line") == str(finding.sentence.line) and case.get("file") == finding.sentence.doc
        body = failure.text or ""
        visible = finding.sentence.text.replace("\x1b", "\ufffd").replace("\x0b", "\ufffd")
        assert visible in body and finding.match.text in body
        assert "\n" not in failure.get("message")


def test_junit_without_findings_passes_every_document(junit_schema: xmlschema.XMLSchema) -> None:
    text = render("junit", Report([], {"seconds": 0.5}), FormatContext({"a.md": "x", "b.md": "y"}))
    junit_schema.validate(text)
    root = ET.fromstring(text)
    assert (root.get("tests"), root.get("failures"), root.get("time")) == ("2", "0", "0.500")
    assert [c.get("name") for c in root.iter("testcase")] == ["no repeats", "no repeats"]


def test_the_xsd_rejects_a_malformed_report(junit_schema: xmlschema.XMLSchema) -> None:
    assert not junit_schema.is_valid('<testsuites><testsuite name="x"><testcase/></testsuite></testsuites>')
    assert not junit_schema.is_valid('<testsuites><testcase name="x"/></testsuites>')


# --- on the command line -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["gitlab", "junit"])
def test_command_line_writes_the_formats(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str], gitlab_schema: dict,
                                         junit_schema: xmlschema.XMLSchema) -> None:
    (tmp_path / "a.md").write_text(f"{EN[0]}\n\n{EN[1]}\n\n{EN[0]}\n", encoding="utf-8")
    (tmp_path / "b.md").write_text(f"{EN[3]}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", ".", "--isolated", "--format", name, "-o", "report.out"]) == 1
    assert capsys.readouterr().err == ""  # machine formats print no summary
    text = (tmp_path / "report.out").read_text(encoding="utf-8")
    if name == "gitlab":
        issues = json.loads(text)
        jsonschema.validate(issues, gitlab_schema)
        assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
            (RULES[0].id, "a.md", 5)]
    else:
        junit_schema.validate(text)
        root = ET.fromstring(text)
        assert [s.get("name") for s in root.findall("testsuite")] == ["a.md", "b.md"]
        assert (root.get("tests"), root.get("failures")) == ("2", "1")
