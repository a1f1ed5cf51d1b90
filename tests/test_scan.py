"""`dedup scan` gives `dedup check`'s findings, one by one, whatever the sharding and engine.

Each test runs both over the same documents in the same order and compares the findings as
the jsonl report writes them (kind, scope, score, both spans with line and column, group).
"""
from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.cli import main as cli_main
from dedup.detector import Detector, Settings
from dedup.scan import plan_tasks, scan
from dedup.scan.engine import LocalEngine
from dedup.scan.output import read_findings

from conftest import AR, EN, FILLER, REPO, dedup_command, shuffled_parts


def check_lines(paths: list[str], tmp_path: Path) -> list[str]:
    """`dedup check --format jsonl --isolated` over `paths`, as lines."""
    report = tmp_path / "check.jsonl"
    status = cli_main(["check", *paths, "--format", "jsonl", "--isolated", "-q", "-o", str(report)])
    assert status in (0, 1)
    return report.read_text(encoding="utf-8").splitlines()


def scan_lines(paths: list[str], out: Path, **options) -> list[str]:
    options.setdefault("workers", 2)
    scan(paths, out, **options)
    return (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()


def example_paths() -> list[str]:
    return sorted(str(p.relative_to(REPO)) for p in (REPO / "examples").iterdir() if p.is_file())


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO)  # document ids are paths relative to where the command runs


@pytest.mark.parametrize("shards", [1, 4, 16])
def test_examples_same_findings_as_check(tmp_path, shards):
    paths = example_paths()
    expected = check_lines(paths, tmp_path)
    assert expected, "the examples hold repeats"
    assert scan_lines(paths, tmp_path / "out", shards=shards) == expected


@pytest.mark.parametrize("corpus", ["dev-ar", "dev-en"])
@pytest.mark.parametrize("shards", [1, 4, 16])
def test_dev_sets_same_findings_as_check(tmp_path, shared, corpus, shards):
    path = str(shared / "eval" / corpus / "docs.jsonl")
    expected = check_lines([path], tmp_path)
    assert len(expected) > 100
    assert scan_lines([path], tmp_path / "out", shards=shards) == expected


def test_shuffled_input_in_several_files(tmp_path, shared):
    """The documents in another order, spread over three files cut into five shards: scan
    follows the input order as check does."""
    paths = shuffled_parts(shared / "eval" / "dev-en" / "docs.jsonl", 3, 7, tmp_path)
    expected = check_lines(paths, tmp_path)
    assert len(expected) > 100
    assert scan_lines(paths, tmp_path / "out", shards=5) == expected


def test_plan_cuts_jsonl_at_line_starts_and_keeps_order(tmp_path):
    path = tmp_path / "c.jsonl"
    records = [json.dumps({"id": f"r{k}", "text": "word " * (k % 7 + 1)}) for k in range(200)]
    path.write_text("\n".join(records) + "\n", encoding="utf-8")
    other = tmp_path / "b.md"
    other.write_text("# Title\n\nSome text here.\n", encoding="utf-8")
    tasks = plan_tasks([str(path), str(other)], shards=6)
    pieces = [p for task in tasks for p in task]
    data = path.read_bytes()
    ranges = [(p.start, p.end) for p in pieces if p.path == str(path)]
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (a, b), (c, _) in zip(ranges, ranges[1:]):
        assert b == c and data[c - 1:c] == b"\n"  # contiguous, cut after a line end
    for piece in pieces[:-1]:
        assert piece.first_line == data[:piece.start].count(b"\n") + 1
    assert pieces[-1].path == str(other) and pieces[-1].end is None
    assert len(tasks) == 6


SENTENCES = EN + AR + FILLER


@st.composite
def corpora(draw):
    """Documents of pool sentences, some sentences copied into later documents, some altered."""
    docs = []
    for k in range(draw(st.integers(2, 9))):
        picked = draw(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=6))
        if docs and draw(st.booleans()):
            copied = draw(st.sampled_from(docs)).split("\n")
            line = draw(st.sampled_from(copied))
            picked.insert(draw(st.integers(0, len(picked))), line.replace("the ", "a ", 1))
        docs.append("\n".join(picked))
    return docs


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=corpora(), shards=st.integers(1, 7))
def test_any_sharding_gives_check_findings(tmp_path_factory, docs, shards):
    tmp = tmp_path_factory.mktemp("prop")
    path = tmp / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": f"d{k}", "text": t}, ensure_ascii=False) + "\n"
                            for k, t in enumerate(docs)), encoding="utf-8")
    report = Detector.from_settings(Settings()).check_many([(f"d{k}", t) for k, t in enumerate(docs)])
    expected = [f.to_json() for f in report.findings]
    out = tmp / "out"
    scan([str(path)], out, shards=shards, engine=LocalEngine(1))
    assert [f.to_json() for f in read_findings(out)] == expected


def test_stats_count_the_run(tmp_path):
    paths = example_paths()
    result = scan(paths, tmp_path / "out", shards=3, workers=2)
    stats = json.loads((tmp_path / "out" / "stats.json").read_text(encoding="utf-8"))
    check = Detector().check_many(_read(paths)).stats
    for key in ("documents", "sentences", "passages", "candidates", "left_out", "boilerplate", "by_kind"):
        assert stats[key] == check[key], key
    assert stats["findings"] == result.findings == check["findings"]
    timings = json.loads((tmp_path / "out" / "timings.json").read_text(encoding="utf-8"))
    assert timings["engine"] == "local" and set(timings["stage_cpu_seconds"]) == set(timings["stage_seconds"])


def _read(paths):
    from dedup.readers import read_path
    return [d for p in paths for d in read_path(p)]


def test_rows_validate_against_the_report_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    from dedup.schema import report_schema
    out = tmp_path / "out"
    lines = scan_lines(example_paths(), out, shards=2)
    validator = jsonschema.Draft202012Validator(report_schema("finding"))
    for line in lines:
        validator.validate(json.loads(line))


def test_command_line(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([*dedup_command(), "scan", "examples", "--out", str(out), "--isolated", "--shards", "3"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1, done.stderr  # repeats found
    assert "repeats in 7 documents" in done.stderr
    again = subprocess.run([*dedup_command(), "scan", "examples", "--out", str(out), "--isolated"],
                           capture_output=True, text=True, cwd=REPO)
    assert again.returncode == 2 and "holds a scan already" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    report = subprocess.run([*dedup_command(), "report", str(out), "--format", "jsonl", "--isolated"],
                            capture_output=True, text=True, cwd=REPO)
    assert report.stdout.splitlines() == (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("argv, message", [
    (["scan", "examples"], "--out"),
    (["scan", "examples", "--out", "x", "--enigne", "ray"], "did you mean --engine"),
    (["scan", "examples", "--out", "x", "--shards", "0"], "--shards"),
    (["scan", "examples", "--out", "x", "--address", "127.0.0.1:1"], "--address is for --engine ray"),
    (["scan", "examples", "--out", "x", "--stdin-filename", "a.txt"], "unrecognized arguments: --stdin-filename"),
    (["scan", "-", "--out", "x"], "reads files, not standard input"),
])
def test_usage_errors(argv, message):
    done = subprocess.run([*dedup_command(), *argv], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (REPO / "x").exists()  # refused before the folder was made


def test_foreign_and_file_targets_are_refused(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    for resume in ([], ["--resume"]):
        done = subprocess.run([*dedup_command(), "scan", "examples", "--out", str(foreign), *resume],
                              capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 2 and "not a dedup scan output folder" in done.stderr
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "mine"  # nothing touched
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    done = subprocess.run([*dedup_command(), "scan", "examples", "--out", str(a_file)],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2 and "not a folder" in done.stderr


def test_resume_refuses_other_inputs_and_damage(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"d{k}", "text": "\n".join(EN[k % len(EN):] + EN[:2])}) + "\n"
                           for k in range(6)), encoding="utf-8")
    out = tmp_path / "out"
    scan([str(src)], out, shards=2, workers=1)
    first = (out / "findings.jsonl").read_bytes()
    scan([str(src)], out, shards=2, workers=1, resume=True)  # nothing left to do: the same output
    assert (out / "findings.jsonl").read_bytes() == first
    with src.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "new", "text": EN[0]}) + "\n")
    done = subprocess.run([*dedup_command(), "scan", str(src), "--out", str(out), "--shards", "2", "--resume"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2 and "other inputs" in done.stderr
    damaged = sorted((out / "work" / "shards").glob("*/normalized.blob.npy"))[0]
    src2 = tmp_path / "in2.jsonl"
    src2.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    out2 = tmp_path / "out2"
    scan([str(src2)], out2, shards=2, workers=1)
    victim = out2 / damaged.relative_to(out)
    victim.write_bytes(victim.read_bytes()[:-5])
    done = subprocess.run([*dedup_command(), "scan", str(src2), "--out", str(out2), "--shards", "2", "--resume"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2 and "damaged work file" in done.stderr
    (out2 / "dedup-scan.json").write_text("{garbage", encoding="utf-8")
    done = subprocess.run([*dedup_command(), "scan", str(src2), "--out", str(out2), "--shards", "2", "--resume"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2 and "damaged scan manifest" in done.stderr



def test_killed_at_any_stage_then_resumed_gives_the_same_bytes(tmp_path, shared):
    """SIGKILL the whole run as each stage's work appears, then --resume: findings and stats
    are byte for byte those of a clean run."""
    import os
    import signal
    import time
    path = str(shared / "eval" / "dev-en" / "docs.jsonl")
    command = [*dedup_command(), "scan", path, "--isolated", "-q", "--shards", "6", "--workers", "1"]
    clean = tmp_path / "clean"
    subprocess.run([*command, "--out", str(clean)], check=False, cwd=REPO, capture_output=True)
    interrupted = 0
    for stage in ("shards", "counts", "fragments", "pairs", "verified", "coupling", "judged"):
        out = tmp_path / stage
        process = subprocess.Popen([*command, "--out", str(out)], cwd=REPO, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not (out / "work" / stage).exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            interrupted += 1
        process.wait()
        resumed = subprocess.run([*command, "--out", str(out), "--resume"], cwd=REPO, capture_output=True, text=True)
        assert resumed.returncode == 1, resumed.stderr
        for name in ("findings.jsonl", "stats.json"):
            assert (out / name).read_bytes() == (clean / name).read_bytes(), (stage, name)
    assert interrupted >= 5


def test_markup_headings_and_ignore_comments_as_check(tmp_path):
    """Markdown and HTML offsets, headings and ignore comments (for every rule or one) give
    check's findings: the later copies under a comment are left alone in both."""
    first, second, third = EN[0], EN[1], EN[2]
    (tmp_path / "a.md").write_text(f"# {first}\n\nIntro line here for the page.\n\n{first}\n\n{second}\n\n"
                                   f"<!-- dedup: ignore -->\n{second}\n\n{third}\n", encoding="utf-8")
    (tmp_path / "b.html").write_text(f"<html><body><h1>Other</h1><p>{third}</p><!-- dedup: ignore DD003 -->"
                                     f"<p>{third.replace('last week', 'this week')}</p><p>{third.replace('last week', 'on Monday')}</p>"
                                     f"<p><b>{second}</b></p></body></html>",
                                     encoding="utf-8")
    (tmp_path / "c.txt").write_text(f"{first}\ndedup: ignore\n{first}\n{third}\n", encoding="utf-8")
    paths = [str(tmp_path / name) for name in ("a.md", "b.html", "c.txt")]
    expected = check_lines(paths, tmp_path)
    assert expected
    for shards in (1, 3):
        assert scan_lines(paths, tmp_path / f"out{shards}", shards=shards) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.text(max_size=30), max_size=40), picks=st.lists(st.integers(0, 1000), max_size=20))
def test_stored_strings_read_back_whole_and_by_rows(tmp_path_factory, values, picks):
    import numpy as np
    from dedup.scan.store import Unit, UnitWriter
    unit = Unit(tmp_path_factory.mktemp("unit") / "u")
    writer = UnitWriter(unit)
    writer.strings("s", values)
    writer.close()
    column = unit.strings("s")
    assert column.all() == values
    rows = np.array([p % len(values) for p in picks] if values else [], dtype=np.int64)
    assert column.take(rows) == [values[k] for k in rows.tolist()]


def test_empty_inputs_make_an_empty_report(tmp_path):
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "blank.txt").write_text("\n\n", encoding="utf-8")
    out = tmp_path / "out"
    result = scan([str(tmp_path / "empty.jsonl"), str(tmp_path / "blank.txt")], out, shards=4, workers=2)
    assert result.findings == 0 and result.stats["documents"] == 0
    assert (out / "findings.jsonl").read_text(encoding="utf-8") == ""


def test_a_flood_is_linked_as_check_links_it(tmp_path):
    """Sentences of a tiny vocabulary over a small candidate budget: the flood's representative
    links (merged over every band and shard first) give check's findings."""
    import dataclasses
    rng = random.Random(5)
    vocabulary = "alpha beta gamma delta omega sigma kappa theta lambda zeta".split()
    docs = ["\n".join(" ".join(rng.choice(vocabulary) for _ in range(rng.randint(6, 9))) + "." for _ in range(40))
            for _ in range(12)]
    settings_ = dataclasses.replace(Settings(), candidate_budget=0.5, candidate_budget_min=0)
    report = Detector.from_settings(settings_).check_many([(f"d{k}", t) for k, t in enumerate(docs)])
    assert report.stats["flood"]["passages"] > 0, "the budget must be exceeded"
    path = tmp_path / "flood.jsonl"
    path.write_text("".join(json.dumps({"id": f"d{k}", "text": t}) + "\n" for k, t in enumerate(docs)),
                    encoding="utf-8")
    out = tmp_path / "out"
    result = scan([str(path)], out, shards=3, settings=settings_, workers=2)
    assert [f.to_json() for f in read_findings(out)] == [f.to_json() for f in report.findings]
    assert result.stats["flood"] == report.stats["flood"]


@pytest.mark.parametrize("rows_per_task", [700, 5000])
def test_bands_cut_by_key_range_give_the_same_findings(tmp_path, shared, monkeypatch, rows_per_task):
    """A run too large for one band's keys in one task cuts every band by key range (a bucket
    is one key, so it stays whole): the same findings."""
    from dedup.scan import stages
    monkeypatch.setattr(stages, "ROWS_PER_BAND_TASK", rows_per_task)
    path = str(shared / "eval" / "dev-en" / "docs.jsonl")
    expected = check_lines([path], tmp_path)
    out = tmp_path / "out"
    assert scan_lines([path], out, shards=3) == expected
    assert any("-" in p.name[2:] for p in (out / "work" / "pairs").iterdir())  # the bands were cut
