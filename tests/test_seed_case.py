"""The hand-labelled seed article in ../shared/cases: all three required repeats found,
no false alarm, as judged by the shared checker `check_case.py`."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import dedup_command


@pytest.fixture
def case(shared):
    cases = shared / "cases"
    needed = [cases / n for n in ("seed-article.txt", "seed-article.expected.json", "check_case.py")]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        pytest.skip(f"seed case files missing: {', '.join(missing)}")
    return cases


def run_dedup(case, tmp_path, fmt: str) -> tuple[subprocess.CompletedProcess, str]:
    article = case / "seed-article.txt"
    proc = subprocess.run([*dedup_command(), "check", str(article), "--format", fmt],
                          capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    report = tmp_path / f"seed.{fmt}"
    report.write_text(proc.stdout, encoding="utf-8")
    return proc, str(report)


def run_checker(case, report: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(case / "check_case.py"), str(case / "seed-article.expected.json"),
                           report], capture_output=True, text=True, encoding="utf-8", timeout=60)


def test_seed_article_report_is_valid(case, tmp_path):
    proc, _ = run_dedup(case, tmp_path, "json")
    report = json.loads(proc.stdout)
    assert report["schema"] == "dedup.report/1"
    text = (case / "seed-article.txt").read_bytes().decode("utf-8-sig")
    for f in report["findings"]:
        for side in ("sentence", "match"):
            span = f[side]
            assert text[span["start"]:span["end"]] == span["text"]
            assert span["line"] == text.count("\n", 0, span["start"]) + 1


def test_seed_article_passes_check_case(case, tmp_path):
    _, report = run_dedup(case, tmp_path, "json")
    checked = run_checker(case, report)
    assert checked.returncode == 0, f"check_case.py failed:\n{checked.stdout}{checked.stderr}"


def test_seed_article_jsonl_passes_check_case(case, tmp_path):
    _, report = run_dedup(case, tmp_path, "jsonl")
    checked = run_checker(case, report)
    assert checked.returncode == 0, f"check_case.py failed:\n{checked.stdout}{checked.stderr}"
