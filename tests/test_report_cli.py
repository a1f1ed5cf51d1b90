"""`dedup report DIR`: a scan output folder rendered in every format, as `dedup check` renders
the same findings; the exit statuses; one-line errors for a folder that is not a finished scan."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from report_schema import assert_valid_report

from dedup.cli import main
from dedup.config import config_for
from dedup.discover import collect_files
from dedup.formats import FORMATS
from dedup.model import Finding, Span
from dedup.scan.output import FORMAT, MANIFEST, FindingWriter, write_stats

pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install -e '.[test]')")

OUTPUTS = ("jsonl", "parquet")
EXT = {"text": "txt", "concise": "txt", "json": "json", "jsonl": "jsonl", "sarif": "sarif", "github": "txt",
       "rdjsonl": "jsonl", "gitlab": "json", "junit": "xml", "html": "html"}


def finding_of(data: dict) -> Finding:
    return Finding(data["kind"], data["scope"], data["score"], Span(**data["sentence"]), Span(**data["match"]),
                   data["group"], data.get("structural", False))


def input_entry(path: str) -> dict:
    st = os.stat(path)
    return {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def make_scan_folder(directory: Path, output: str, findings: list[Finding], stats: dict, inputs: list[dict],
                     chunk: int = 5) -> Path:
    """The folder `dedup scan --out DIR` leaves: findings written in chunks, stats, the manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    with FindingWriter(directory, output, row_group_rows=7) as writer:
        for begin in range(0, len(findings), chunk):
            writer.write(findings[begin:begin + chunk])
    write_stats(directory, stats)
    manifest = {"format": FORMAT, "state": "complete", "output": output, "inputs": inputs, "settings": {}}
    (directory / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`dedup check examples` in every format (run in-process from the repository root), and
    the scan folders (jsonl and parquet) holding the findings and stats of its json run."""
    out = tmp_path_factory.mktemp("check")
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        statuses = {name: main(["check", "examples", "--format", name, "-o", str(out / f"check.{name}")])
                    for name in FORMATS}
        config, source = config_for(["examples"], REPO)
        files = collect_files(["examples"], include=config.include, exclude=config.excluded,
                              respect_gitignore=config.respect_gitignore, root=source.parent if source else REPO)
        inputs = [input_entry(path) for path in files]
    finally:
        os.chdir(cwd)
    assert set(statuses.values()) == {1}
    report = json.loads((out / "check.json").read_text(encoding="utf-8"))
    findings = [finding_of(f) for f in report["findings"]]
    assert len(findings) >= 20 and any(f.sentence.text != f.sentence.text.encode("ascii", "ignore").decode()
                                       for f in findings)  # Arabic: columns differ by unit
    folders = {output: make_scan_folder(tmp_path_factory.mktemp(output), output, findings, report["stats"], inputs)
               for output in OUTPUTS}
    return {"out": out, "folders": folders, "findings": findings, "stats": report["stats"], "inputs": inputs}


def checked(examples: dict, name: str) -> str:
    return (examples["out"] / f"check.{name}").read_text(encoding="utf-8")


def without_junit_time(text: str) -> str:
    """JUnit's `time` is the run's seconds: one check run per format, each its own."""
    return re.sub(r'(<testsuites [^>]*) time="[^"]*"', r"\1", text, count=1)


# --- every format, as check renders it ----------------------------------------------------------

@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_is_what_check_writes_for_the_same_findings(examples, output, name, tmp_path, monkeypatch,
                                                                 capsys):
    monkeypatch.chdir(REPO)  # the inputs, and the documents' ids, are relative to where the scan ran
    target = tmp_path / f"report.{EXT[name]}"
    assert main(["report", str(examples["folders"][output]), "--format", name, "-o", str(target)]) == 1
    assert "warning" not in capsys.readouterr().err  # every input was read again as the scan read it
    rendered, expected = target.read_text(encoding="utf-8"), checked(examples, name)
    if name == "junit":
        rendered, expected = without_junit_time(rendered), without_junit_time(expected)
    assert rendered == expected


def test_the_json_report_is_check_s_own_json(examples, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    assert main(["report", str(examples["folders"]["parquet"]), "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert out == checked(examples, "json")  # stats included: the scan wrote check's stats as they were
    assert_valid_report(json.loads(out))


def test_stdout_and_o_file_are_the_same_report_and_text_has_a_summary(examples, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(REPO)
    folder = str(examples["folders"]["jsonl"])
    assert main(["report", folder]) == 1
    captured = capsys.readouterr()
    assert captured.out == checked(examples, "text")
    documents = examples["stats"]["documents"]
    assert captured.err == f"{len(examples['findings'])} repeats in {documents} documents " \
                           f"({examples['stats']['sentences']} sentences)\n"
    assert main(["report", folder, "-o", str(tmp_path / "r.txt"), "--quiet"]) == 1
    assert capsys.readouterr().err == ""
    assert (tmp_path / "r.txt").read_text(encoding="utf-8") == captured.out


def test_python_m_dedup_report_runs_the_command(examples):
    proc = subprocess.run([sys.executable, "-m", "dedup", "report", str(examples["folders"]["parquet"]),
                           "--format", "concise"], cwd=REPO, capture_output=True, text=True, encoding="utf-8",
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == checked(examples, "concise")


# --- exit status -------------------------------------------------------------------------------

def test_exit_status_follows_fail_on_and_exit_zero(examples, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(REPO)
    near = [f for f in examples["findings"] if f.kind == "near"]
    assert near
    folder = str(make_scan_folder(tmp_path / "near", "jsonl", near, examples["stats"], examples["inputs"]))
    assert main(["report", folder, "--format", "concise"]) == 1  # near is a warning
    assert main(["report", folder, "--format", "concise", "--fail-on", "error"]) == 0
    assert main(["report", folder, "--format", "concise", "--exit-zero"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 * len(near) and all(": near (repeats " in line for line in lines)
    empty = str(make_scan_folder(tmp_path / "empty", "parquet", [], examples["stats"], examples["inputs"]))
    assert main(["report", empty, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_severity_comes_from_the_configuration_of_the_scanned_inputs(examples, monkeypatch, tmp_path, capsys):
    """examples/dedup.toml makes `contained` info: found from the inputs, as check finds it."""
    monkeypatch.chdir(REPO)
    contained = [f for f in examples["findings"] if f.kind == "contained"]
    assert contained
    folder = str(make_scan_folder(tmp_path / "c", "jsonl", contained, examples["stats"], examples["inputs"]))
    assert main(["report", folder, "--format", "concise"]) == 0  # info is below the default fail-on
    assert main(["report", folder, "--format", "concise", "--fail-on", "info"]) == 1
    assert main(["report", folder, "--format", "concise", "--isolated"]) == 1  # contained: warning by default
    capsys.readouterr()


# --- inputs that cannot be read again ---------------------------------------------------------

def test_a_changed_input_is_left_out_with_a_warning_and_placed_from_the_spans(examples, monkeypatch, tmp_path,
                                                                               capsys):
    monkeypatch.chdir(REPO)
    changed = "examples/ar-floods-day1.txt"
    inputs = [{**i, "mtime_ns": i["mtime_ns"] + 1} if i["path"] == changed else i for i in examples["inputs"]]
    folder = str(make_scan_folder(tmp_path / "f", "parquet", examples["findings"], examples["stats"], inputs))
    assert main(["report", folder, "--format", "sarif"]) == 1
    captured = capsys.readouterr()
    assert captured.err == (f"dedup: warning: {changed}: changed since the scan (its size or modification time "
                            "differ); its findings are placed from their own text (columns in code points)\n")
    results = json.loads(captured.out)["runs"][0]["results"]
    regions = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["locations"][0]
               ["physicalLocation"]["region"] for r in results}
    assert "charOffset" not in regions[changed]
    assert all("charOffset" in region for uri, region in regions.items() if uri != changed)
    expected = json.loads(checked(examples, "sarif"))["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == [r["ruleId"] for r in expected]
    for got, want in zip(results, expected):  # the same findings, the same lines
        g, w = (x["locations"][0]["physicalLocation"]["region"] for x in (got, want))
        assert (g["startLine"], g["endLine"]) == (w["startLine"], w["endLine"])


def test_a_manifest_without_inputs_renders_from_the_spans_with_one_warning(examples, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    folder = make_scan_folder(tmp_path / "f", "jsonl", examples["findings"], examples["stats"], [])
    assert main(["report", str(folder), "--format", "html", "-o", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lists no inputs" in err and str(folder / MANIFEST) in err
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count('data-finding="') >= len(examples["findings"])  # every finding marked, from its own text
    assert main(["report", str(folder), "--format", "json", "--quiet"]) == 1  # json needs no document: no warning
    assert capsys.readouterr().err == ""


# --- errors: exit 2, one line ---------------------------------------------------------------------

def one_line_error(capsys, *argv: str) -> str:
    assert main(["report", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dedup: error: "), captured.err
    return lines[0]


@pytest.mark.parametrize("damage, words", [
    ("no folder", "no such folder"),
    ("no manifest", "not a dedup scan output folder (no dedup-scan.json)"),
    ("running", "the scan has not finished (state 'running'); run `dedup scan ... --out"),
    ("broken manifest", "dedup-scan.json: the manifest is not valid JSON"),
    ("other format", "not a dedup scan output folder (dedup-scan.json has format 'other/1'"),
    ("no findings", "findings.jsonl: missing"),
    ("no stats", "stats.json: missing"),
    ("bad line", "findings.jsonl:1: not a finding"),
])
def test_a_folder_that_is_no_finished_scan_is_one_line_exit_2(tmp_path, capsys, damage, words):
    folder = make_scan_folder(tmp_path / "scan", "jsonl", [], {"documents": 0, "sentences": 0, "seconds": 0.0}, [])
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if damage == "no folder":
        folder = tmp_path / "elsewhere"
    elif damage == "no manifest":
        (folder / MANIFEST).unlink()
    elif damage == "running":
        (folder / MANIFEST).write_text(json.dumps({**manifest, "state": "running"}), encoding="utf-8")
    elif damage == "broken manifest":
        (folder / MANIFEST).write_text('{"format": "dedup.scan/1", ', encoding="utf-8")
    elif damage == "other format":
        (folder / MANIFEST).write_text(json.dumps({**manifest, "format": "other/1"}), encoding="utf-8")
    elif damage == "no findings":
        (folder / "findings.jsonl").unlink()
    elif damage == "no stats":
        (folder / "stats.json").unlink()
    elif damage == "bad line":
        (folder / "findings.jsonl").write_text('{"kind": "exact"}\n', encoding="utf-8")
    assert words in one_line_error(capsys, str(folder), "--format", "json")


def test_o_naming_a_file_of_the_folder_is_refused_and_leaves_it(tmp_path, capsys):
    folder = make_scan_folder(tmp_path / "scan", "jsonl", [], {"documents": 0, "sentences": 0, "seconds": 0.0}, [])
    before = (folder / "findings.jsonl").read_bytes()
    line = one_line_error(capsys, str(folder), "--format", "jsonl", "-o", str(folder / "findings.jsonl"))
    assert "-o names findings.jsonl of the scan output folder" in line
    assert (folder / "findings.jsonl").read_bytes() == before


def test_parquet_output_without_pyarrow_is_one_line_naming_the_extra(tmp_path, capsys, monkeypatch):
    folder = make_scan_folder(tmp_path / "scan", "parquet", [], {"documents": 0, "sentences": 0, "seconds": 0.0}, [])
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    line = one_line_error(capsys, str(folder), "--format", "json")
    assert line.endswith("findings.parquet: reading Parquet needs pyarrow: pip install 'dedup-prose[parquet]'")


def test_junit_lists_every_document_read_the_clean_ones_as_passing(examples, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(REPO)
    first = examples["findings"][0].sentence.doc
    some = [f for f in examples["findings"] if f.sentence.doc == first and f.scope == "document"]
    folder = str(make_scan_folder(tmp_path / "f", "jsonl", some, examples["stats"], examples["inputs"]))
    assert main(["report", folder, "--format", "junit"]) == 1
    page = capsys.readouterr().out
    suites = re.findall(r'<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)"', page)
    assert [name for name, _, _ in suites] == [i["path"] for i in examples["inputs"]]
    assert {name: (int(tests), int(failures)) for name, tests, failures in suites} == {
        i["path"]: (len(some), len(some)) if i["path"] == first else (1, 0) for i in examples["inputs"]}
    assert page.count('<testcase name="no repeats"') == len(examples["inputs"]) - 1
