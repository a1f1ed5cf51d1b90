"""The report contract: the JSON Schema shipped in the package (``dedup schema`` prints it), and
the json and jsonl reports validated against it, closed (every key dedup writes is documented).
The service's responses are validated in test_service.py.
"""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import AR, EN, REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_schema import (
    REPORT,
    assert_valid_finding,
    assert_valid_report,
    jsonschema,
    schema_errors,
)

from dedup import Detector
from dedup.formats import FormatContext, get_formatter
from dedup.schema import SCHEMA_FILE, closed, report_schema, schema_text


def dedup(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """`python -m dedup ARGS` with this checkout's package first on the path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "dedup", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=120, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


# --- the schema itself ----------------------------------------------------------------------

def test_the_schema_is_a_valid_draft_2020_12_schema():
    for part in ("report", "finding"):
        jsonschema.Draft202012Validator.check_schema(report_schema(part))
        jsonschema.Draft202012Validator.check_schema(closed(report_schema(part)))
    assert report_schema()["properties"]["schema"]["const"] == "dedup.report/1"


def test_dedup_schema_prints_the_shipped_file_and_needs_no_configuration(tmp_path):
    (tmp_path / "dedup.toml").write_text("threshhold = 2\n", encoding="utf-8")  # a broken config is not read
    proc = dedup("schema", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    shipped = (REPO / "dedup" / "schema" / SCHEMA_FILE).read_text(encoding="utf-8")
    assert proc.stdout == shipped == schema_text()
    finding = dedup("schema", "finding", cwd=tmp_path)
    assert finding.returncode == 0 and json.loads(finding.stdout) == report_schema("finding")
    wrong = dedup("schema", "stats", cwd=tmp_path)
    assert wrong.returncode == 2 and "invalid choice: 'stats'" in wrong.stderr


MINIMAL = {"schema": "dedup.report/1",
           "findings": [{"kind": "near", "scope": "document", "score": 0.87,
                         "sentence": {"doc": "a.md", "start": 10, "end": 13, "line": 2, "column": 1, "text": "abc"},
                         "match": {"doc": "a.md", "start": 0, "end": 3, "line": 1, "column": 1, "text": "abd"}}],
           "stats": {"documents": 1, "sentences": 2, "seconds": 0.01}}


def _with(path: tuple, value) -> dict:
    report = json.loads(json.dumps(MINIMAL))
    node = report
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return report


@pytest.mark.parametrize("path, value, words", [
    (("schema",), "dedup.report/2", "was expected"),
    (("findings", 0, "kind"), "similar", "is not one of"),
    (("findings", 0, "scope"), "folder", "is not one of"),
    (("findings", 0, "score"), 1.5, "greater than the maximum"),
    (("findings", 0, "match"), KeyError, "'match' is a required property"),
    (("findings", 0, "sentence", "start"), -1, "less than the minimum"),
    (("findings", 0, "sentence", "line"), 0, "less than the minimum"),
    (("findings", 0, "sentence", "column"), 1.5, "is not of type 'integer'"),
    (("findings", 0, "structural"), False, "was expected"),
    (("stats", "seconds"), KeyError, "'seconds' is a required property"),
    (("stats", "by_kind"), {"similar": 1}, "is not one of"),
])
def test_the_schema_refuses_what_the_contract_does_not_allow(path, value, words):
    open_validator = jsonschema.Draft202012Validator(report_schema())
    assert not schema_errors(open_validator, MINIMAL)
    errors = schema_errors(open_validator, _with(path, value))
    assert errors and any(words in e for e in errors), errors


def test_the_schema_is_open_to_new_optional_keys_and_the_closed_copy_is_not():
    extended = _with(("findings", 0, "rule"), "DD003")
    extended["generator"] = "another tool"
    assert not schema_errors(jsonschema.Draft202012Validator(report_schema()), extended)
    errors = schema_errors(REPORT, extended)
    assert any("'rule' was unexpected" in e for e in errors) and any("'generator' was unexpected" in e for e in errors)


@pytest.mark.parametrize("document", ["docs/report.md", "README.md"])
def test_the_documented_examples_follow_the_schema(document):
    blocks = re.findall(r"```json\n(.*?)```", (REPO / document).read_text(encoding="utf-8"), re.DOTALL)
    reports = [json.loads(b) for b in blocks if '"schema": "dedup.report/1"' in b]
    assert reports, f"{document} shows no example report"
    for report in reports:
        assert_valid_report(report)


# --- what dedup writes ----------------------------------------------------------------------

def test_json_and_jsonl_of_the_examples_follow_the_schema():
    report = dedup("check", "examples", "--format", "json")
    assert report.returncode == 1, report.stderr
    data = json.loads(report.stdout)
    assert_valid_report(data)
    assert len(data["findings"]) >= 20 and {f["kind"] for f in data["findings"]} == \
        {"exact", "normalized", "near", "contained", "conflict"}
    lines = dedup("check", "examples", "--format", "jsonl").stdout.splitlines()
    for line in lines:
        assert_valid_finding(json.loads(line))
    assert [json.loads(line) for line in lines] == data["findings"]


SIGN_OFF = "Subscribe to the morning briefing for the stories that matter, delivered at seven every day."
STORIES = [
    "The regional airport will add four daily flights to the coast from the first week of June.",
    "A new bus line will link the university campus with the old town centre starting next month.",
    "The harbour authority has started dredging the northern channel to let larger ships dock.",
    "Teachers in the eastern district voted to accept the revised pay offer after a long dispute.",
    "The botanical garden reopened its glasshouse after a two year restoration of the iron frame.",
    "Local bakers say the price of flour has doubled since the autumn, squeezing their margins.",
]
STANDFIRST = """Flooding cuts off three villages in the valley

Floods cut off three villages in the Sadr valley on Sunday after a night of heavy rain. Civil defence teams evacuated 350 families from low-lying areas on Sunday.

Three villages in the Sadr valley were cut off by floods on Sunday after heavy rain fell through the night, officials said.

The water in the riverbed rose by three metres within a few hours, the head of the civil defence said. Rescue teams pulled three people from a car stranded on an old bridge.

Civil defence teams evacuated 350 families from the low-lying areas to schools and temporary shelters.

Schools in the area will stay closed on Monday, the governor said."""


def test_every_key_dedup_writes_is_in_the_schema(tmp_path):
    """A run with every scope, structural findings, the run's boilerplate and an archive index."""
    archive, drafts = tmp_path / "archive", tmp_path / "drafts"
    archive.mkdir()
    drafts.mkdir()
    (archive / "published.txt").write_text(f"{EN[1]} {EN[2]}\n", encoding="utf-8")
    for i, story in enumerate(STORIES):
        (drafts / f"story-{i}.txt").write_text(f"{story}\n\n{SIGN_OFF}\n", encoding="utf-8")
    (drafts / "standfirst.txt").write_text(STANDFIRST + "\n", encoding="utf-8")
    (drafts / "copy-a.txt").write_text(f"{EN[0]} {AR[0]}\n", encoding="utf-8")
    (drafts / "copy-b.txt").write_text(f"{EN[3]} {EN[0]}\n{EN[2]}\n{AR[0]}\n", encoding="utf-8")
    index = str(tmp_path / "index.sqlite")
    added = dedup("index", "add", str(archive), "--index", index, "--isolated", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    proc = dedup("check", "drafts", "--index", index, "--isolated", "--structural", "info", "--format", "json",
                 cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert_valid_report(report)
    findings, stats = report["findings"], report["stats"]
    assert {f["scope"] for f in findings} == {"document", "corpus", "archive"}
    assert any(f.get("structural") for f in findings)
    assert stats["boilerplate"]["most_common"] == [{"text": SIGN_OFF, "documents": 6}]
    assert stats["archive"]["candidates"] >= 1 and stats["left_out"]
    documented = set(report_schema()["$defs"]["stats"]["properties"])
    assert documented <= set(stats), f"documented but not written here: {documented - set(stats)}"


# --- any report the engine makes ------------------------------------------------------------

sentences = st.sampled_from(EN + AR)
edits = st.sampled_from(["copy", "lower", "drop", "number"])


def _edited(sentence: str, edit: str) -> str:
    words = sentence.split()
    if edit == "lower":
        return sentence.lower()
    if edit == "drop":
        return " ".join(words[:2] + words[3:])
    if edit == "number":
        return f"{sentence[:-1]} in 2026."
    return sentence


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(sentences, edits), min_size=1, max_size=6), min_size=1, max_size=4),
       st.sampled_from(["\n", " ", "\n\n"]))
def test_every_report_of_the_engine_follows_the_schema(documents, separator):
    docs = [(f"doc-{n}.txt", separator.join(_edited(s, e) for s, e in parts)) for n, parts in enumerate(documents)]
    report = Detector().check_many(docs)
    out = io.StringIO()
    get_formatter("json").write(report, out, FormatContext(dict(docs)))
    data = json.loads(out.getvalue())
    assert_valid_report(data)
    texts = dict(docs)
    for finding in data["findings"]:
        for side in ("sentence", "match"):
            span = finding[side]
            assert texts[span["doc"]][span["start"]:span["end"]] == span["text"]
