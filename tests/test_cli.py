"""The `dedup check` command: formats, exit codes, and errors without tracebacks."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import AR, EN, dedup_command

RATE = EN[0]
DUP_TEXT = f"Headline of the story\n{RATE} {EN[1]}\n\n{AR[0]}\n{RATE}\n"
CLEAN_TEXT = f"Another headline entirely\n{EN[4]} {EN[5]}\n{AR[1]}\n"
TEXT_LINE = re.compile(r"^(?P<doc>.+?):(?P<line>\d+):(?P<col>\d+): (?P<kind>exact|normalized|near|contained|conflict): "
                       r"\"(?P<text>.+)\" \(repeats (?:(?P<mdoc>.+?):)?(?P<mline>\d+):(?P<mcol>\d+), "
                       r"score (?P<score>[01]\.\d\d)\)$")


def run(*args: str, cwd: Path, stdin: str | bytes | None = None) -> subprocess.CompletedProcess:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run([*dedup_command(), *args], cwd=cwd, input=data, capture_output=True, timeout=60)
    proc.stdout = proc.stdout.decode("utf-8")  # type: ignore[assignment]
    proc.stderr = proc.stderr.decode("utf-8")  # type: ignore[assignment]
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def assert_one_line_error(proc, *names: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    assert proc.stdout == ""
    return lines[0]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    write(tmp_path / "dup.txt", DUP_TEXT)
    write(tmp_path / "clean.txt", CLEAN_TEXT)
    return tmp_path


# --- formats --------------------------------------------------------------------------------

def test_text_format(files):
    proc = run("check", "dup.txt", cwd=files)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    m = TEXT_LINE.match(lines[0])
    assert m, lines[0]
    assert (m["doc"], m["line"], m["col"], m["kind"], m["mdoc"], m["mline"], m["mcol"]) == (
        "dup.txt", "5", "1", "exact", None, "2", "1")
    assert float(m["score"]) == 1.0
    assert proc.stderr.strip()  # the summary goes to stderr


def test_json_format(files):
    proc = run("check", "dup.txt", "--format", "json", cwd=files)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["schema"] == "dedup.report/1"
    assert report["stats"]["documents"] == 1
    (f,) = report["findings"]
    text = (files / "dup.txt").read_text(encoding="utf-8")
    assert (f["kind"], f["scope"]) == ("exact", "document")
    for side, line in (("sentence", 5), ("match", 2)):
        span = f[side]
        assert span["doc"] == "dup.txt"
        assert text[span["start"]:span["end"]] == span["text"] == RATE
        assert (span["line"], span["column"]) == (line, 1)


def test_jsonl_format(files):
    proc = run("check", "dup.txt", "clean.txt", "--format", "jsonl", cwd=files)
    assert proc.returncode == 1
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 1
    assert {"kind", "scope", "score", "sentence", "match"} <= set(rows[0])
    assert "schema" not in rows[0]


def test_json_format_without_findings(files):
    proc = run("check", "clean.txt", "--format", "json", cwd=files)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["findings"] == []
    proc = run("check", "clean.txt", "--format", "jsonl", cwd=files)
    assert proc.returncode == 0 and proc.stdout == ""


def test_across_files_scope_and_order(files):
    write(files / "later.txt", f"{EN[3]}\n{RATE}\n")
    proc = run("check", "clean.txt", "dup.txt", "later.txt", "--format", "json", cwd=files)
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)["findings"]
    pairs = sorted((f["sentence"]["doc"], f["match"]["doc"], f["scope"]) for f in findings)
    assert pairs == [("dup.txt", "dup.txt", "document"), ("later.txt", "dup.txt", "corpus")]
    text_proc = run("check", "clean.txt", "dup.txt", "later.txt", cwd=files)
    assert any(line.startswith("later.txt:2:1: exact: ") and "(repeats dup.txt:2:1, score 1.00)" in line for line in text_proc.stdout.splitlines())


def test_jsonl_input(files):
    records = [
        {"id": "r1", "text": f"{RATE} {EN[1]}", "extra": 1},
        {"id": "r2", "text": f"{EN[2]}\n{RATE}"},
        {"text": EN[3]},
    ]
    write(files / "docs.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in records[:2]) + "\n\n"
          + json.dumps(records[2]) + "\n")
    proc = run("check", "docs.jsonl", "--format", "json", cwd=files)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["stats"]["documents"] == 3
    (f,) = report["findings"]
    assert (f["sentence"]["doc"], f["match"]["doc"], f["scope"]) == ("r2", "r1", "corpus")
    assert (f["sentence"]["start"], f["sentence"]["line"]) == (len(EN[2]) + 1, 2)


def test_jsonl_input_with_unicode_line_separators_in_text(files):
    """A JSON string may hold U+2028/U+2029/U+0085 unescaped (json.dumps(ensure_ascii=False)
    writes them raw); they are not JSONL record separators."""
    records = [
        {"id": "r1", "text": f"{RATE}\u2028{EN[1]}"},
        {"id": "r2", "text": f"{EN[2]}\u2029{EN[3]}\x85{RATE}"},
    ]
    write(files / "docs.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    proc = run("check", "docs.jsonl", "--format", "json", cwd=files)
    assert proc.returncode == 1, proc.stderr
    (f,) = json.loads(proc.stdout)["findings"]
    assert (f["sentence"]["doc"], f["match"]["doc"]) == ("r2", "r1")
    assert f["sentence"]["text"] == f["match"]["text"] == RATE


def test_bom_and_crlf(files):
    write(files / "bom.txt", ("\ufeff" + DUP_TEXT.replace("\n", "\r\n")).encode("utf-8"))
    proc = run("check", "bom.txt", "--format", "json", cwd=files)
    assert proc.returncode == 1
    (f,) = json.loads(proc.stdout)["findings"]
    text = DUP_TEXT.replace("\n", "\r\n")  # offsets are into the text as read, BOM removed
    assert text[f["sentence"]["start"]:f["sentence"]["end"]] == RATE
    assert (f["sentence"]["line"], f["sentence"]["column"]) == (5, 1)


def test_stdin(files):
    proc = run("check", "-", "--format", "json", cwd=files, stdin=DUP_TEXT)
    assert proc.returncode == 1
    (f,) = json.loads(proc.stdout)["findings"]
    assert f["sentence"]["doc"] == "-"


# --- exit codes -----------------------------------------------------------------------------

def test_exit_codes_findings_and_clean(files):
    assert run("check", "dup.txt", cwd=files).returncode == 1
    assert run("check", "clean.txt", cwd=files).returncode == 0


def test_exit_zero(files):
    proc = run("check", "dup.txt", "--exit-zero", "--format", "jsonl", cwd=files)
    assert proc.returncode == 0
    assert len(proc.stdout.splitlines()) == 1  # findings still printed


def test_empty_file_is_clean_with_a_warning(files):
    write(files / "empty.txt", "")
    proc = run("check", "empty.txt", "--format", "json", cwd=files)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["findings"] == []
    assert "empty.txt: empty file; skipped" in proc.stderr


def test_missing_file(files):
    proc = run("check", "clean.txt", "no-such-file.txt", cwd=files)
    assert_one_line_error(proc, "no-such-file.txt")


def test_directory_argument_is_searched(files):
    (files / "subdir").mkdir()
    write(files / "subdir" / "copy.txt", DUP_TEXT)
    proc = run("check", "subdir", "--format", "jsonl", cwd=files)
    assert proc.returncode == 1
    assert json.loads(proc.stdout.splitlines()[0])["sentence"]["doc"] == "subdir/copy.txt"


def assert_skipped_with_warning(proc, *names: str) -> None:
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("dedup: warning: ") and line.endswith("; skipped"), line
    for name in names:
        assert name in line, (name, line)


def test_invalid_utf8_is_skipped_naming_file_and_line(files):
    write(files / "bad.txt", b"A fine first line.\nSecond line.\nbad \xff\xfe bytes here\n")
    assert_skipped_with_warning(run("check", "bad.txt", "--format", "json", cwd=files), "bad.txt:3", "UTF-8")


def test_binary_file_is_skipped(files):
    write(files / "blob.bin", b"\x00\x01\x02binary\x00data")
    assert_skipped_with_warning(run("check", "blob.bin", "--format", "json", cwd=files), "blob.bin", "binary")


def test_malformed_jsonl_line_names_file_and_line(files):
    good = json.dumps({"id": "a", "text": RATE})
    write(files / "bad.jsonl", f"{good}\n\n{{not json\n{good}\n")
    line = assert_one_line_error(run("check", "bad.jsonl", cwd=files), "bad.jsonl")
    assert "bad.jsonl:3" in line


@pytest.mark.parametrize("record", ['{"id": "x"}', '{"id": "x", "text": 5}', '["a", "b"]', '"just a string"'])
def test_jsonl_record_without_text(files, record):
    write(files / "odd.jsonl", json.dumps({"id": "a", "text": RATE}) + "\n" + record + "\n")
    line = assert_one_line_error(run("check", "odd.jsonl", cwd=files), "odd.jsonl")
    assert "odd.jsonl:2" in line


@pytest.mark.parametrize("args", [
    ["check", "clean.txt", "--format", "xml"],
    ["check", "clean.txt", "--shingles", "token:3"],
    ["check", "clean.txt", "--shingles", "word:0"],
    ["check", "clean.txt", "--num-perm", "0"],
    ["check", "clean.txt", "--threshold", "1.5"],
    ["check", "clean.txt", "--threshold", "0"],
    ["check", "clean.txt", "--no-such-option"],
    ["check", "clean.txt", "--fail-on", "fatal"],
    ["check", "clean.txt", "--kinds", "near,similar"],
    ["check", "clean.txt", "--update-baseline"],
    [],
])
def test_usage_errors_exit_2_without_traceback(files, args):
    proc = run(*args, cwd=files)
    assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
    assert proc.stderr.strip()


def test_version(files):
    proc = run("--version", cwd=files)
    assert proc.returncode == 0
    assert "dedup" in proc.stdout + proc.stderr


def test_in_process_main(files, capsys, monkeypatch):
    from dedup.cli import main

    monkeypatch.chdir(files)
    assert main(["check", "dup.txt", "--format", "jsonl"]) == 1
    out = capsys.readouterr().out
    assert json.loads(out.splitlines()[0])["kind"] == "exact"
    assert main(["check", "clean.txt"]) == 0
    assert main(["check", "missing.txt"]) == 2
    err = capsys.readouterr().err
    assert "missing.txt" in err and "Traceback" not in err
