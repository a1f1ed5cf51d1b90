"""The ``json`` and ``jsonl`` formats write findings directly, without ``dataclasses.asdict``:
the bytes must be those the earlier implementation (``json.dumps`` of ``asdict``) wrote.

The oracle below is that implementation, kept here as it was.
"""
from __future__ import annotations

import dataclasses
import io
import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup.formats import FormatContext, get_formatter
from dedup.formats.jsonreport import CHUNK
from dedup.model import SCHEMA, Finding, Report, Span

from conftest import AR, EN


def oracle_finding(finding: Finding) -> str:
    """A finding as the json format wrote it before (dataclasses.asdict and json.dumps)."""
    out = {"kind": finding.kind, "scope": finding.scope, "score": finding.score,
           "sentence": dataclasses.asdict(finding.sentence), "match": dataclasses.asdict(finding.match),
           "group": finding.group}
    if finding.structural:
        out["structural"] = True
    return json.dumps(out, ensure_ascii=False)


def oracle_json(report: Report) -> str:
    out = io.StringIO()
    out.write(f'{{"schema": {json.dumps(SCHEMA)}, "findings": [')
    for index, finding in enumerate(report.findings):
        out.write(("\n  " if index == 0 else ",\n  ") + oracle_finding(finding))
    out.write(f'\n], "stats": {json.dumps(report.stats, ensure_ascii=False)}}}\n')
    return out.getvalue()


def oracle_jsonl(report: Report) -> str:
    return "".join(oracle_finding(f) + "\n" for f in report.findings)


def render(name: str, report: Report) -> str:
    out = io.StringIO()
    get_formatter(name).write(report, out, FormatContext(sources={}))
    return out.getvalue()


# any text JSON can hold: quotes, backslashes, control characters, line separators, astral characters
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
offsets = st.integers(min_value=0, max_value=2**40)
spans = st.builds(Span, texts, offsets, offsets, offsets, offsets, texts)
scores = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
                   st.floats(0, 1).map(np.float64))
findings = st.builds(Finding, st.sampled_from(["exact", "normalized", "near", "contained", "conflict"]),
                     st.sampled_from(["document", "corpus", "archive"]), scores, spans, spans,
                     st.integers(0, 2**31), st.booleans())


@settings(max_examples=300, deadline=None)
@given(findings)
def test_a_finding_is_written_as_json_dumps_of_asdict_wrote_it(finding: Finding) -> None:
    assert finding.to_json() == oracle_finding(finding)
    assert json.loads(finding.to_json()) == json.loads(json.dumps(finding.to_dict()))


@settings(max_examples=50, deadline=None)
@given(st.lists(findings, max_size=8), st.dictionaries(texts, st.integers()))
def test_reports_are_byte_identical_to_the_earlier_format(found: list[Finding], stats: dict) -> None:
    report = Report(found, stats)
    assert render("json", report) == oracle_json(report)
    assert render("jsonl", report) == oracle_jsonl(report)


def test_a_report_of_the_engine_across_chunk_boundaries_is_byte_identical() -> None:
    texts = [(f"doc{k}.md", f"{EN[k % len(EN)]} {AR[k % len(AR)]}\n{EN[k % len(EN)]}\n") for k in range(12)]
    report = dedup.Detector().check_many(texts)
    assert report.findings and any(f.scope == "corpus" for f in report.findings)
    many = Report(report.findings * (2 * CHUNK // len(report.findings) + 1), report.stats)
    assert len(many.findings) > 2 * CHUNK
    for sample in (report, many, Report([], {"findings": 0})):
        json_text = render("json", sample)
        assert json_text == oracle_json(sample)
        assert render("jsonl", sample) == oracle_jsonl(sample)
        assert len(json.loads(json_text)["findings"]) == len(sample.findings)


def test_odd_values_are_written_as_json_dumps_writes_them() -> None:
    span = Span("a.md", 3, 9, 1, True, "x")  # type: ignore[arg-type]  # a bool is an int to Python
    for score in (math.nan, math.inf, 1, np.float64(0.25)):
        odd = Finding("near", "document", score, span, span, group=2)  # type: ignore[arg-type]
        assert odd.to_json() == oracle_finding(odd)
    assert Span(7, 0, 1, 1, 1, "x").to_json() == '{"doc": 7, "start": 0, "end": 1, "line": 1, "column": 1, "text": "x"}'  # type: ignore[arg-type]
    assert '"column": true' in span.to_json() and '"score": NaN' in Finding("near", "document", math.nan, span,
                                                                             span).to_json()
