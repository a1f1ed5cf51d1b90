"""Baselines: accepted findings stay suppressed as text moves; new ones are reported; files are
written atomically and read with one-line errors."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import AR, EN
from dedup import Detector, Finding
from dedup.baseline import SCHEMA, Baseline, BaselineError
from dedup.fingerprint import fingerprint

INTRO = "Readers asked us to explain how the new rules will work in practice this year."


def findings_of(docs: dict[str, list[str]]) -> list[Finding]:
    """Findings of one run over documents given as lists of lines."""
    return Detector().check_many([(name, "\n".join(lines)) for name, lines in docs.items()]).findings


def corpus() -> dict[str, list[str]]:
    """Two documents with repeats inside and across them (EN[0] three times in a.md)."""
    return {"a.md": [EN[0], EN[1], EN[0], EN[2], EN[0]], "b.md": [EN[1], AR[0], EN[2], AR[0]]}


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "dedup-baseline.json"
    Baseline.from_findings(findings_of(corpus())).save(path)
    return path


def test_a_baseline_of_the_findings_suppresses_them_all(saved: Path) -> None:
    findings = findings_of(corpus())
    assert len(findings) >= 4
    baseline = Baseline.load(saved)
    assert len(baseline) == len(findings)
    assert baseline.new_findings(findings) == []


def test_findings_stay_suppressed_when_lines_are_inserted_above(saved: Path) -> None:
    docs = corpus()
    docs["a.md"] = [INTRO, "", *docs["a.md"]]
    docs["b.md"] = [EN[4], *docs["b.md"]]
    moved = findings_of(docs)
    assert {f.sentence.line for f in moved} != {f.sentence.line for f in findings_of(corpus())}
    assert Baseline.load(saved).new_findings(moved) == []


def test_a_repeat_added_later_is_reported(saved: Path) -> None:
    docs = corpus()
    docs["b.md"] = [*docs["b.md"], EN[5], EN[3], EN[5]]
    new = Baseline.load(saved).new_findings(findings_of(docs))
    assert [(f.sentence.doc, f.sentence.text) for f in new] == [("b.md", EN[5])]


def test_a_fingerprint_covers_as_many_findings_as_it_is_listed(saved: Path) -> None:
    before = [f for f in findings_of(corpus()) if f.sentence.doc == "a.md" and f.sentence.text == EN[0]]
    assert len(before) == 2 and len({fingerprint(f) for f in before}) == 1
    docs = corpus()
    docs["a.md"] = [*docs["a.md"], EN[0]]  # a third copy of the same repeat
    new = Baseline.load(saved).new_findings(findings_of(docs))
    assert [(f.sentence.doc, f.sentence.text, f.sentence.line) for f in new] == [("a.md", EN[0], 6)]


def test_the_file_is_sorted_readable_json(saved: Path) -> None:
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["schema"] == SCHEMA
    entries = data["findings"]
    assert all(list(e) == ["fingerprint", "kind", "doc", "text"] for e in entries)
    assert [(e["doc"], e["fingerprint"]) for e in entries] == sorted((e["doc"], e["fingerprint"]) for e in entries)
    assert AR[0] in {e["text"] for e in entries}  # not \\u-escaped
    Baseline.load(saved).save(saved)
    assert json.loads(saved.read_text(encoding="utf-8")) == data  # a round trip changes nothing


def test_long_passages_are_clipped_to_one_line(tmp_path: Path) -> None:
    long = f"{EN[0][:-1]}, while {EN[1][0].lower()}{EN[1][1:]}"
    findings = findings_of({"a.txt": [long, "", long]})
    assert len(findings) == 1 and len(findings[0].sentence.text) > 120
    path = tmp_path / "b.json"
    Baseline.from_findings(findings).save(path)
    text = json.loads(path.read_text(encoding="utf-8"))["findings"][0]["text"]
    assert len(text) <= 120 and text.endswith("…") and "\n" not in text


@pytest.mark.parametrize("failing", ["os.replace", "json.dumps", "os.fsync"])
def test_a_failed_save_leaves_the_old_file_and_no_temporary(saved: Path, monkeypatch: pytest.MonkeyPatch,
                                                            failing: str) -> None:
    old = saved.read_bytes()
    module, name = failing.split(".")

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    owner = "dedup.atomic" if module == "os" else "dedup.baseline"  # the atomic write lives in dedup.atomic
    monkeypatch.setattr(f"{owner}.{module}.{name}", crash)
    with pytest.raises((BaselineError, OSError)):
        Baseline.from_findings([]).save(saved)
    monkeypatch.undo()
    assert saved.read_bytes() == old
    assert os.listdir(saved.parent) == [saved.name]


def test_save_keeps_the_permissions_of_the_file_it_replaces(saved: Path) -> None:
    saved.chmod(0o664)
    Baseline.from_findings([]).save(saved)
    assert saved.stat().st_mode & 0o777 == 0o664
    fresh = saved.parent / "fresh.json"
    Baseline.from_findings([]).save(fresh)
    assert fresh.stat().st_mode & 0o777 == 0o644


def test_a_write_error_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match=r"^\S*missing/b\.json: cannot write the baseline: No such file"):
        Baseline.from_findings([]).save(tmp_path / "missing" / "b.json")


def test_an_empty_baseline_reports_everything(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    Baseline.from_findings([]).save(path)
    findings = findings_of(corpus())
    assert len(Baseline.load(path)) == 0
    assert Baseline.load(path).new_findings(findings) == findings


@pytest.mark.parametrize(("content", "problem"), [
    ("{not json", r"not a baseline file: invalid JSON at line 1, column 2: "),
    ('{"schema": "dedup.report/1", "findings": []}', r"schema is 'dedup.report/1', expected 'dedup.baseline/1'"),
    ("[1, 2]", r"schema is None, expected 'dedup.baseline/1'"),
    ('{"schema": "dedup.baseline/1", "findings": {}}', r"'findings' must be a list"),
    ('{"schema": "dedup.baseline/1", "findings": [{"kind": "exact"}]}', r"findings\[0\] has no 'fingerprint'"),
    ('{"schema": "dedup.baseline/1", "findings": ["x"]}', r"findings\[0\] must be an object"),
])
def test_load_errors_are_one_line_naming_the_file(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=rf"^{path}: .*{problem}") as caught:
        Baseline.load(path)
    assert "\n" not in str(caught.value)


def test_a_missing_baseline_says_how_to_create_one(tmp_path: Path) -> None:
    path = tmp_path / "none.json"
    with pytest.raises(BaselineError) as caught:
        Baseline.load(path)
    assert str(caught.value) == f"{path}: no such baseline file (create it with --update-baseline)"


def test_an_unreadable_baseline_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_bytes(b'{"schema": "\xff"}')
    with pytest.raises(BaselineError, match=r"bad\.json: not a baseline file: invalid UTF-8$"):
        Baseline.load(tmp_path / "bad.json")
    with pytest.raises(BaselineError, match=r": cannot read the baseline: Is a directory$"):
        Baseline.load(tmp_path)
