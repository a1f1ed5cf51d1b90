"""The archive index through its public API (`dedup.Index`) and the command line, on every
backend: SQLite always, Redis where a server is available (see test_archive_redis)."""
from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

import dedup
from conftest import AR, EN, FILLER, dedup_command

ARCHIVED_EN = (f"Storm hits the coast\n{EN[0]} {EN[1]}\n"
               "The harbour master said that eleven fishing boats sank in the storm on Sunday night near Halvern.\n"
               f"{EN[2]}\n")
ARCHIVED_AR = f"عنوان الخبر\n{AR[0]} {AR[1]}\n{AR[2]}\n"
STORM = "The harbour master said that eleven fishing boats sank in the storm on Sunday night near Halvern."
GARBLED_STORM = "The harbour master said eleven fishing boats sank in storm on Sunday night near Halvern."


BACKENDS = ["sqlite", "redis"]


@pytest.fixture(params=BACKENDS)
def location(request, tmp_path: Path):
    if request.param == "sqlite":
        yield str(tmp_path / "archive" / "index.sqlite")
        return
    if os.environ.get("CI") != "true":
        pytest.importorskip("redis", reason="the redis package is not installed (pip install 'dedup[redis]')")
    import redis as redis_client

    url = request.getfixturevalue("redis_url")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield f"{url}?prefix={prefix}"
    client = redis_client.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def index(location: str):
    with dedup.Index.open(location) as idx:
        idx.add("2026/11/01/storm", ARCHIVED_EN, metadata={"title": "Storm hits the coast"})
        idx.add("2026/11/02/tax", ARCHIVED_AR)
        yield idx


def test_garbled_copy_of_an_archived_sentence_is_found_with_its_archived_location(index):
    draft = f"{EN[3]} {GARBLED_STORM} {EN[4]}"
    (finding,) = index.query(draft)
    assert finding.scope == "archive" and finding.kind in ("near", "contained")
    assert finding.match.doc == "2026/11/01/storm"
    start = ARCHIVED_EN.index(STORM)
    assert (finding.match.start, finding.match.end, finding.match.text) == (start, start + len(STORM), STORM)
    assert (finding.match.line, finding.match.column) == (3, 1)
    assert finding.sentence.text == GARBLED_STORM and draft[finding.sentence.start:finding.sentence.end] == GARBLED_STORM


def test_exact_arabic_copy_and_len(index):
    (finding,) = index.query(f"{AR[3]}\n{AR[0]}\n")
    assert (finding.kind, finding.match.doc, finding.match.text) == ("exact", "2026/11/02/tax", AR[0])
    assert len(index) == 2


def test_remove_and_replace(index):
    assert index.remove("2026/11/01/storm") is True
    assert index.remove("2026/11/01/storm") is False
    assert index.query(GARBLED_STORM) == []
    index.add("2026/11/02/tax", f"{EN[5]}\n")  # replaces the Arabic article
    assert index.query(AR[0]) == []
    (finding,) = index.query(f"Nothing else was said. {EN[5]}")
    assert finding.match.doc == "2026/11/02/tax"
    assert len(index) == 1


def test_check_many_reports_archive_and_batch_findings_together(index):
    detector = dedup.Detector()
    report = detector.check_many([("draft.md", f"{GARBLED_STORM}\n{EN[3]}\n{EN[3]}\n")], index=index)
    scopes = sorted(f.scope for f in report.findings)
    assert scopes == ["archive", "document"]
    assert report.stats["documents"] == 1 and report.stats["archive"]["candidates"] >= 1


def test_detector_check_takes_the_index_too(index):
    findings = dedup.Detector().check(f"{EN[3]} {GARBLED_STORM}", "draft.txt", index=index)
    assert [(f.scope, f.match.doc) for f in findings] == [("archive", "2026/11/01/storm")]


def test_a_draft_is_not_matched_to_its_own_archived_version(index):
    report = dedup.Detector().check_many([("2026/11/01/storm", ARCHIVED_EN)], index=index)
    assert [f for f in report.findings if f.scope == "archive"] == []


def test_boilerplate_is_recognised_and_not_reported(location):
    signoff = "This story was written with reporting from our correspondents in the region and edited by the desk."
    with dedup.Index.open(location, boilerplate=dedup.archive.index.Boilerplate(share=0.5, min_documents=2)) as idx:
        for k in range(4):
            idx.add(f"doc-{k}", f"{EN[k]}\n{signoff}\n")
        draft = f"{FILLER[0]} {signoff}"
        assert idx.query(draft) == []
        report = dedup.Detector().check_many([("draft", draft)], index=idx)
        assert report.stats["archive"]["boilerplate"] >= 1
        (real,) = idx.query(EN[2])
        assert real.match.doc == "doc-2"


def test_the_archive_s_boilerplate_is_boilerplate_between_drafts_too(location):
    """Two drafts of one run carry a sign-off the archive knows as boilerplate: no finding
    between them, though the run alone has too few documents to learn it."""
    signoff = "This story was written with reporting from our correspondents in the region and edited by the desk."
    drafts = [("draft-1", f"{FILLER[0]} {signoff}"), ("draft-2", f"{FILLER[1]} {signoff}")]
    assert [f.kind for f in dedup.Detector().check_many(drafts).findings] == ["exact"]
    with dedup.Index.open(location, boilerplate=dedup.archive.index.Boilerplate(share=0.5, min_documents=2)) as idx:
        for k in range(4):
            idx.add(f"doc-{k}", f"{EN[k]}\n{signoff}\n")
        report = dedup.Detector().check_many(drafts, index=idx)
        assert report.findings == []
        assert report.stats["left_out"]["boilerplate"] == 1


def test_other_settings_are_refused_naming_the_difference(location):
    with dedup.Index.open(location) as idx:
        idx.add("a", ARCHIVED_EN)
    with pytest.raises(dedup.ArchiveError) as err:
        dedup.Index.open(location, num_perm=64)
    assert "num_perm" in str(err.value) and "\n" not in str(err.value)


def test_missing_index_is_not_created_for_a_check(tmp_path: Path):
    with pytest.raises(dedup.ArchiveError):
        dedup.Index.open(tmp_path / "nothing.sqlite", create=False)
    assert not (tmp_path / "nothing.sqlite").exists()


# --- the command line --------------------------------------------------------------------------

def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([*dedup_command(), *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_index_commands_and_check_against_the_archive(tmp_path: Path):
    archive = tmp_path / "published"
    archive.mkdir()
    (archive / "storm.md").write_text(f"# Storm hits the coast\n\n{EN[0]}\n\n{STORM}\n", encoding="utf-8")
    (archive / "tax.txt").write_text(ARCHIVED_AR, encoding="utf-8")
    added = run("index", "add", "published", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert (tmp_path / ".dedup" / "index.sqlite").is_file()
    stats = json.loads(run("index", "stats", cwd=tmp_path).stdout)
    assert stats["documents"] == 2 and stats["passages"] >= 4

    (tmp_path / "draft.md").write_text(f"# Draft\n\n{EN[4]} {GARBLED_STORM}\n", encoding="utf-8")
    proc = run("check", "draft.md", "--index", ".dedup/index.sqlite", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["scope"] == "archive" and finding["match"]["doc"] == "published/storm.md"
    assert finding["match"]["line"] == 5 and finding["match"]["text"] == STORM
    assert run("check", "draft.md", cwd=tmp_path).returncode == 0  # without --index: no archive

    assert run("index", "remove", "published/storm.md", cwd=tmp_path).returncode == 0
    assert run("check", "draft.md", "--index", ".dedup/index.sqlite", cwd=tmp_path).returncode == 0
    assert run("index", "vacuum", cwd=tmp_path).returncode == 0
    assert json.loads(run("index", "stats", cwd=tmp_path).stdout)["documents"] == 1


def test_check_with_a_missing_or_foreign_index_is_a_one_line_error(tmp_path: Path):
    (tmp_path / "draft.txt").write_text(EN[0], encoding="utf-8")
    proc = run("check", "draft.txt", "--index", "missing.sqlite", cwd=tmp_path)
    assert proc.returncode == 2 and "missing.sqlite" in proc.stderr and proc.stderr.count("\n") == 1
    (tmp_path / "foreign.sqlite").write_bytes(os.urandom(4096))
    proc = run("check", "draft.txt", "--index", "foreign.sqlite", cwd=tmp_path)
    assert proc.returncode == 2 and "foreign.sqlite" in proc.stderr and proc.stderr.count("\n") == 1
