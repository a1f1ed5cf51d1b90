"""Hostile input to the command line: one error path (exit 2 with one line naming the file, exit 3
for a bug, 1 only for repeats), bounds on every input, atomic output, and no traceback or hang.

The campaign over 100+ hostile inputs is `benchmarks/hostile_inputs.py`; these are the classes.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import AR, EN, dedup_command
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.cli import main
from dedup.config import ConfigError, load_config
from dedup.readers import InputError, ReadLimits, read_bytes
from dedup.readers.errors import printable
from dedup.readers.limits import parse_size
from dedup.readers.records import MAX_JSON_DEPTH, json_depth

DUP = f"Headline of the story\n{EN[0]} {EN[1]}\n\n{AR[0]}\n{EN[0]}\n"
CLEAN = f"Another headline entirely\n{EN[4]} {EN[5]}\n"


def run(*args: str, cwd: Path, stdin: bytes | None = None, timeout: float = 60,
        prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    proc = subprocess.run([*prefix, *dedup_command(), *args], cwd=cwd, input=stdin, capture_output=True,
                          timeout=timeout, check=False)
    proc.stdout = proc.stdout.decode("utf-8", "replace")  # type: ignore[assignment]
    proc.stderr = proc.stderr.decode("utf-8", "replace")  # type: ignore[assignment]
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def one_error(proc: subprocess.CompletedProcess, *names: str, status: int = 2) -> str:
    """The one stderr line of a failed run, after checking its status and that it names `names`."""
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "dup.txt").write_text(DUP, encoding="utf-8")
    (tmp_path / "clean.txt").write_text(CLEAN, encoding="utf-8")
    return tmp_path


# --- exit statuses: 3 for a bug, 2 for the environment, 130 for Ctrl-C -----------------------------

def test_an_internal_error_exits_3_with_one_line_and_the_traceback_only_with_debug(files, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("something inside\nbroke")

    monkeypatch.chdir(files)
    monkeypatch.setattr("dedup.cli.Detector.check_many", broken)
    assert main(["check", "dup.txt"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("dedup: internal error: RuntimeError: something inside broke") and "--debug" in err
    assert main(["check", "dup.txt", "--debug"]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.strip().splitlines()[-1].startswith("dedup: internal")


@pytest.mark.parametrize("raised, status, words", [
    (MemoryError(), 2, "out of memory"),
    (OSError(28, "No space left on device", "/data/x"), 2, "/data/x: No space left on device"),
    (KeyboardInterrupt(), 130, "interrupted"),
    (RecursionError("maximum recursion depth exceeded"), 3, "internal error: RecursionError"),
])
def test_environment_failures_are_one_line(files, monkeypatch, capsys, raised, status, words):
    def failing(*args, **kwargs):
        raise raised

    monkeypatch.chdir(files)
    monkeypatch.setattr("dedup.cli.Detector.check_many", failing)
    assert main(["check", "dup.txt"]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_status_1_means_repeats_and_0_none(files):
    assert run("check", "dup.txt", cwd=files).returncode == 1
    assert run("check", "clean.txt", cwd=files).returncode == 0


# --- numeric options and usage errors: one line, exit 2 ---------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["check", "clean.txt", "--num-perm", "1000000000000"], "--num-perm"),
    (["check", "clean.txt", "--num-perm", "1025"], "1024"),
    (["check", "clean.txt", "--num-perm", "-3"], "--num-perm"),
    (["check", "clean.txt", "--min-words", "100000"], "--min-words"),
    (["check", "clean.txt", "--threshold", "nan"], "--threshold"),
    (["check", "clean.txt", "--threshold", "inf"], "--threshold"),
    (["check", "clean.txt", "--shingles", "char:100000"], "--shingles"),
    (["check", "clean.txt", "--max-file-size", "lots"], "--max-file-size"),
    (["check", "clean.txt", "--max-record-size", "-1"], "--max-record-size"),
    (["check", "clean.txt", "--max-file-size", "2TiB"], "--max-file-size"),
    (["serve", "--port", "70000"], "--port"),
    (["serve", "--workers", "0"], "--workers"),
    (["serve", "--workers", "100000"], "--workers"),
    (["serve", "--max-body-size", "0"], "--max-body-size"),
    (["check", "clean.txt", "--exit-zeor"], "did you mean --exit-zero"),
    (["check", "clean.txt", "--update-baseline"], "--baseline"),
])
def test_out_of_range_options_are_one_line_errors(files, args, words):
    one_error(run(*args, cwd=files), words)


@pytest.mark.parametrize("line, key", [
    ("num-perm = 100000", "num-perm"), ("min-words = 5000", "min-words"), ('shingles = "word:64"', "shingles"),
    ('max-file-size = "huge"', "max-file-size"), ("max-record-size = -5", "max-record-size"),
    ('include = ["a\\\\"]', "include"), ('format = "xml"', "format"), ('extend-exclude = ["[z-a]"]', "extend-exclude"),
])
def test_out_of_range_config_values_are_errors_naming_file_and_key(tmp_path, line, key):
    path = tmp_path / "dedup.toml"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: invalid '{key}'") and "\n" not in str(caught.value)


def test_a_deeply_nested_config_file_is_a_config_error(tmp_path):
    path = tmp_path / "dedup.toml"
    path.write_text("kinds = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(path)


def test_an_invalid_pattern_in_a_gitignore_is_ignored_as_git_does(files):
    (files / ".gitignore").write_text("a\\\n[z-a]\nclean.txt\n", encoding="utf-8")
    proc = run("check", ".", "--format", "json", cwd=files)
    assert proc.returncode == 1
    assert {f["sentence"]["doc"] for f in json.loads(proc.stdout)["findings"]} == {"dup.txt"}


# --- bounds: size limits and special files ----------------------------------------------------------

def test_a_file_over_the_size_limit_stops_the_run_naming_it(files):
    (files / "big.txt").write_text("word " * 1000, encoding="utf-8")
    one_error(run("check", "big.txt", "dup.txt", "--max-file-size", "1KiB", cwd=files), "big.txt", "1 KiB")
    (files / "dedup.toml").write_text('max-file-size = "2k"\n', encoding="utf-8")
    one_error(run("check", "big.txt", cwd=files), "big.txt", "2 KiB")
    assert run("check", "big.txt", "--max-file-size", "0", cwd=files).returncode == 0  # 0: no limit


def test_standard_input_over_the_limit_is_refused_after_limit_bytes(files):
    one_error(run("check", "-", "--max-file-size", "100", cwd=files, stdin=b"x" * 10_000), "-:", "100 bytes")
    # an endless stream ends too, at the limit (the default is 1 GiB)
    proc = subprocess.run(f"head -c 100000000 /dev/zero | {' '.join(dedup_command())} check - --max-file-size 64MiB",
                          shell=True, cwd=files, capture_output=True, timeout=120, check=False)
    assert proc.returncode == 2 and b"64 MiB" in proc.stderr and b"Traceback" not in proc.stderr
    assert "default: 1GiB" in run("check", "--help", cwd=files).stdout


def test_a_record_over_the_limit_is_refused_naming_file_and_line(files):
    records = [{"id": "a", "text": EN[0]}, {"id": "b", "text": EN[1] + " more" * 500}]
    (files / "r.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    one_error(run("check", "r.jsonl", "--max-record-size", "1k", cwd=files), "r.jsonl:2:", "per record")
    (files / "r.csv").write_text(f'id,text\na,"{EN[0]}"\nb,"{EN[1]}{" more" * 500}"\n', encoding="utf-8")
    one_error(run("check", "r.csv", "--max-record-size", "1k", cwd=files), "r.csv:3:", "per record")
    assert run("check", "r.csv", cwd=files).returncode == 0


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_without_reading_it(files, special):
    if not os.path.exists(special):
        pytest.skip(f"{special} not on this system")
    one_error(run("check", special, cwd=files, timeout=20), special, "not a regular file")


def test_a_fifo_is_refused_without_waiting_for_a_writer(files):
    os.mkfifo(files / "pipe.txt")
    one_error(run("check", "pipe.txt", cwd=files, timeout=20), "pipe.txt", "a FIFO")
    # in a walked directory it is no file to read: the run goes on without it
    assert run("check", ".", cwd=files, timeout=20).returncode == 1


def test_a_socket_is_refused(files):
    path = files / "s.txt"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        one_error(run("check", "s.txt", cwd=files, timeout=20), "s.txt", "a socket")


def test_a_fifo_as_standard_input_is_read(files):
    proc = subprocess.run(f"cat dup.txt | {' '.join(dedup_command())} check - --stdin-filename d.txt",
                          shell=True, cwd=files, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 1 and b"d.txt:" in proc.stdout


# --- nested, malformed and invalid records -------------------------------------------------------------

@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_deeply_nested_jsonl_is_refused_naming_file_and_line(files, depth):
    line = '{"text": "x", "n": ' + "[" * depth + "]" * depth + "}"
    (files / "deep.jsonl").write_text(json.dumps({"text": EN[0]}) + "\n" + line + "\n", encoding="utf-8")
    one_error(run("check", "deep.jsonl", cwd=files), "deep.jsonl:2:", "nested")


def test_brackets_inside_strings_are_not_nesting(files):
    text = EN[0] + " [" * 500 + " {" * 500
    (files / "ok.jsonl").write_text(json.dumps({"id": "a", "text": text}) + "\n", encoding="utf-8")
    assert run("check", "ok.jsonl", cwd=files).returncode == 0


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                      max_size=3), max_leaves=30)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_json_depth_is_the_nesting_of_any_json_value(value):
    assert json_depth(json.dumps(value)) == _depth(value)


def test_a_lone_surrogate_in_jsonl_is_refused_naming_file_and_line(files):
    (files / "s.jsonl").write_text(json.dumps({"text": EN[0]}) + '\n{"text": "bad \\ud800 text"}\n', encoding="utf-8")
    one_error(run("check", "s.jsonl", cwd=files), "s.jsonl:2:", "surrogate")
    # a valid surrogate pair is one character, read as such
    (files / "p.jsonl").write_text('{"text": "emoji \\ud83d\\ude00 here and more words to read"}\n', encoding="utf-8")
    assert run("check", "p.jsonl", cwd=files).returncode == 0


def test_ids_with_control_characters_and_lone_surrogates_are_shown_escaped(files):
    records = [{"id": "a\nb\ud800", "text": DUP}]
    data = json.dumps(records[0]) + "\n"
    (files / "ids.jsonl").write_text(data, encoding="utf-8")
    proc = run("check", "ids.jsonl", "--format", "json", cwd=files)
    assert proc.returncode == 1
    docs = {f["sentence"]["doc"] for f in json.loads(proc.stdout)["findings"]}
    assert docs == {"a\\nb\\ud800"}


@pytest.mark.parametrize("csv_text, line, words", [
    ('id,text\n1,"Hello there, the first record\n2,Second record here\n3,third\n', 2, "unterminated quoted field"),
    ('id,text\n1,fine\n2,"He said "hi" to us"\n3,x\n', 3, "malformed CSV"),
    ('id,text\n1,fine\n2,too,many,fields\n', 3, "4 fields, the header 2"),
    ('id,text\n1,fine\n2\n', 3, "1 fields, the header 2"),
])
def test_malformed_csv_is_refused_naming_file_and_line(files, csv_text, line, words):
    (files / "bad.csv").write_text(csv_text, encoding="utf-8")
    message = one_error(run("check", "bad.csv", cwd=files), f"bad.csv:{line}:", words)
    assert message.startswith("dedup: error: ")


def test_an_unterminated_quote_no_longer_swallows_records():
    text = 'id,text\n1,"one\n2,two\n3,three\n'
    with pytest.raises(InputError, match=r"^f\.csv:2: unterminated quoted field"):
        list(read_bytes("f.csv", text.encode()))
    good = 'id,text\n1,"a quoted field\nover two lines, with a comma"\n\n2,two\n'
    docs = list(read_bytes("f.csv", good.encode()))
    assert [d.id for d in docs] == ["1", "2"] and docs[0].text == "a quoted field\nover two lines, with a comma"


def test_a_long_csv_field_is_read_up_to_the_record_limit():
    text = "id,text\n1," + "word " * 40_000 + "\n"  # 200,000 characters: over csv's own 131,072 default
    (doc,) = read_bytes("f.csv", text.encode())
    assert len(doc.text) == 200_000
    with pytest.raises(InputError, match=r"^f\.csv:2: record"):
        list(read_bytes("f.csv", text.encode(), limits=ReadLimits(max_record_bytes=100_000)))


# --- file names that are not UTF-8 -----------------------------------------------------------------

@pytest.mark.skipif(sys.platform != "linux", reason="non-UTF-8 file names are a POSIX byte-name matter")
def test_a_non_utf8_file_name_is_reported_escaped_and_the_report_is_whole(files):
    name = os.fsdecode(b"caf\xe9.txt")
    (files / name).write_text(DUP, encoding="utf-8")
    proc = run("check", name, "--format", "json", cwd=files)
    assert proc.returncode == 1
    assert {f["sentence"]["doc"] for f in json.loads(proc.stdout)["findings"]} == {"caf\\xe9.txt"}
    (files / "report.txt").write_text("previous report\n", encoding="utf-8")
    proc = run("check", name, "-o", "report.txt", cwd=files)
    assert proc.returncode == 1 and "caf\\xe9.txt:" in (files / "report.txt").read_text(encoding="utf-8")
    proc = run("check", os.fsdecode(b"miss\xff.txt"), cwd=files)
    one_error(proc, "miss\\xff.txt", "no such file")


def test_printable_escapes_only_what_cannot_be_shown():
    assert printable("docs/a b.md") == "docs/a b.md"
    assert printable("a\nb\tc\x1b") == "a\\nb\\tc\\x1b"
    assert printable(os.fsdecode(b"\xff\xfe.md")) == "\\xff\\xfe.md"
    assert printable("x\ud800") == "x\\ud800"
    assert printable("العربية.md") == "العربية.md"


# --- atomic output -----------------------------------------------------------------------------------

def test_o_naming_an_input_is_refused_and_the_input_kept(files):
    before = (files / "dup.txt").read_bytes()
    one_error(run("check", "dup.txt", "-o", "dup.txt", cwd=files), "dup.txt", "-o")
    one_error(run("check", ".", "-o", "./clean.txt", cwd=files), "clean.txt", "input file")
    assert (files / "dup.txt").read_bytes() == before
    (files / "base.json").write_text("{}", encoding="utf-8")
    one_error(run("check", "dup.txt", "--baseline", "dup.txt", "--update-baseline", cwd=files), "dup.txt")
    assert (files / "dup.txt").read_bytes() == before


def test_an_error_while_writing_keeps_the_previous_report(files, monkeypatch, capsys):
    from dedup.formats.text import TextFormat

    (files / "report.txt").write_text("previous report\n", encoding="utf-8")

    def half_then_fail(self, report, out, ctx):
        out.write("half a repo")
        raise RuntimeError("formatter broke")

    monkeypatch.chdir(files)
    monkeypatch.setattr(TextFormat, "write", half_then_fail)
    assert main(["check", "dup.txt", "-o", "report.txt"]) == 3
    assert (files / "report.txt").read_text(encoding="utf-8") == "previous report\n"
    assert sorted(p.name for p in files.iterdir()) == ["clean.txt", "dup.txt", "report.txt"]  # no temporary left
    assert main(["check", "dup.txt"]) == 3  # to stdout: rendered first, so nothing half-written
    assert capsys.readouterr().out == ""


def test_a_report_into_a_missing_folder_is_one_line(files):
    one_error(run("check", "dup.txt", "-o", "no/such/dir/r.txt", cwd=files), "no/such/dir/r.txt", "cannot write")


def test_o_keeps_the_mode_and_follows_a_symlink(files):
    (files / "real.txt").write_text("old\n", encoding="utf-8")
    os.chmod(files / "real.txt", 0o640)
    (files / "link.txt").symlink_to("real.txt")
    assert run("check", "dup.txt", "-o", "link.txt", cwd=files).returncode == 1
    assert (files / "link.txt").is_symlink() and "dup.txt:" in (files / "real.txt").read_text(encoding="utf-8")
    assert (os.stat(files / "real.txt").st_mode & 0o777) == 0o640


def test_o_onto_dev_null_writes_there(files):
    assert run("check", "dup.txt", "-o", "/dev/null", cwd=files).returncode == 1
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


# --- a reader that goes away: | head -1 ---------------------------------------------------------------

def _closed_pipe_run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run with stdout a pipe whose reader has already gone (what `| head -1` leads to)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run([*dedup_command(), *args], cwd=cwd, stdout=writer, stderr=subprocess.PIPE,
                              timeout=60, check=False)
    finally:
        os.close(writer)


def test_a_closed_stdout_ends_quietly_with_the_status_of_the_run(files):
    proc = _closed_pipe_run(["check", "dup.txt"], files)
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr
    proc = _closed_pipe_run(["check", "clean.txt", "--format", "json"], files)
    assert proc.returncode == 0 and proc.stderr == b""
    proc = _closed_pipe_run(["config", "--show"], files)
    assert proc.returncode == 0 and proc.stderr == b""


def test_index_stats_into_a_closed_pipe_ends_quietly(files):
    assert run("index", "add", "dup.txt", "--index", "i.sqlite", "-q", cwd=files).returncode == 0
    proc = _closed_pipe_run(["index", "stats", "--index", "i.sqlite"], files)
    assert proc.returncode == 0 and proc.stderr == b""


def test_head_closing_the_pipe_early(files):
    lines = "\n".join(f"Sentence {i % 40} tells that the weather in town {i % 40} was fine and sunny." for i in range(4000))
    (files / "many.txt").write_text(lines, encoding="utf-8")
    command = " ".join(dedup_command())
    proc = subprocess.run(f"set -o pipefail; {command} check many.txt | head -1", shell=True, cwd=files,
                          capture_output=True, timeout=120, executable="/bin/bash", check=False)
    assert proc.returncode == 1 and proc.stdout.count(b"\n") == 1 and b"Traceback" not in proc.stderr


# --- directories that cannot be read --------------------------------------------------------------------

def _unprivileged() -> tuple[str, ...]:
    """A prefix that runs a command subject to file permissions (root is not, unless it drops them)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


@pytest.fixture
def locked(files):
    """`files` with sub/ok.txt readable and sub/locked/ (holding a repeat) unreadable."""
    (files / "sub" / "locked").mkdir(parents=True)
    (files / "sub" / "ok.txt").write_text(CLEAN, encoding="utf-8")
    (files / "sub" / "locked" / "a.txt").write_text(DUP, encoding="utf-8")
    os.chmod(files / "sub" / "locked", 0)
    yield files
    os.chmod(files / "sub" / "locked", 0o755)


def test_an_unreadable_subdirectory_is_skipped_with_a_warning_naming_it(locked):
    proc = run("check", "sub", cwd=locked, prefix=_unprivileged())
    assert proc.returncode == 0, proc.stderr
    assert "dedup: warning: sub/locked: cannot list the directory: Permission denied; skipped" in proc.stderr


def test_an_unreadable_directory_named_on_the_command_line_is_an_error(locked):
    one_error(run("check", "sub/locked", cwd=locked, prefix=_unprivileged()), "sub/locked")
    one_error(run("check", "sub/locked/a.txt", "--isolated", cwd=locked, prefix=_unprivileged()), "sub/locked/a.txt")


def test_a_directory_that_cannot_be_searched_for_config_is_an_error_naming_it(locked):
    one_error(run("check", "sub/locked/a.txt", cwd=locked, prefix=_unprivileged()), "sub/locked",
              "configuration file")


def test_an_unreadable_file_is_skipped_with_a_warning(files):
    os.chmod(files / "clean.txt", 0)
    try:
        proc = run("check", "dup.txt", "clean.txt", cwd=files, prefix=_unprivileged())
    finally:
        os.chmod(files / "clean.txt", 0o644)
    assert proc.returncode == 1 and "clean.txt: cannot read: Permission denied; skipped" in proc.stderr


# --- sizes -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, size", [("0", 0), ("512", 512), ("1k", 1024), ("1 KiB", 1024), ("1kb", 1000),
                                        ("64MiB", 64 << 20), ("1.5M", 3 << 19), ("2G", 2 << 30)])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-1", "1 PB", "2TiB", "1e3", "k"])
def test_parse_size_refuses(text):
    with pytest.raises(ValueError):
        parse_size(text)
