"""Checks a report against the contract shipped in the package (dedup/schema/report.schema.json).

The schema is *closed* here (`dedup.schema.closed`): a key that dedup writes and the schema does
not document fails, so the schema cannot fall behind the code. The offsets are checked beyond
what JSON Schema can say: ``end - start`` is the passage's length in code points.
"""
from __future__ import annotations

from typing import Any

import pytest

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (pip install -e '.[test]')")

from dedup.schema import closed, report_schema

REPORT = jsonschema.Draft202012Validator(closed(report_schema("report")))
FINDING = jsonschema.Draft202012Validator(closed(report_schema("finding")))


def schema_errors(validator: Any, instance: Any) -> list[str]:
    """Each violation as ``path: message``, in a stable order."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors]


def span_errors(finding: dict[str, Any]) -> list[str]:
    out = []
    for side in ("sentence", "match"):
        span = finding[side]
        if span["end"] - span["start"] != len(span["text"]):
            out.append(f"{side}: end - start = {span['end'] - span['start']}, but the text has {len(span['text'])} "
                       f"code points: {span['text'][:60]!r}")
    return out


def assert_valid_finding(finding: Any) -> None:
    errors = schema_errors(FINDING, finding)
    assert not errors, "finding does not follow the schema:\n" + "\n".join(errors[:20])
    errors = span_errors(finding)
    assert not errors, "\n".join(errors)


def assert_valid_report(report: Any) -> None:
    errors = schema_errors(REPORT, report)
    assert not errors, "report does not follow the schema:\n" + "\n".join(errors[:20])
    for finding in report["findings"]:
        errors = span_errors(finding)
        assert not errors, "\n".join(errors)
