"""Tests of the SQLite archive backend (dedup.archive.sqlite).

Rows are made here with numpy (random band values and normalized hashes), so these tests do not
depend on the sketching pipeline. Child processes (kill, concurrency, permission tests) run the
small script CHILD, which derives every document deterministically from its version number.
"""
from __future__ import annotations

import ast
import datetime
import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import dedup.archive.sqlite as sqlite_module
from dedup.archive.sqlite import APPLICATION_ID, SQLiteStore
from dedup.archive.store import FORMAT_VERSION, ArchiveError, IndexSettings, PassageRows, StoredPassage

REPO = Path(__file__).resolve().parents[1]
SETTINGS = IndexSettings()
BANDS = SETTINGS.bands


def make_rows(count: int, seed: int, bands: int = BANDS) -> PassageRows:
    rng = np.random.default_rng(seed)
    start = np.arange(count, dtype=np.int64) * 100
    return PassageRows(
        start=start, end=start + 80, line=np.arange(1, count + 1, dtype=np.int64),
        column=np.ones(count, dtype=np.int64),
        text=[f"passage {seed}.{k}: مقطع" for k in range(count)],
        norm_hash=rng.integers(-2**63, 2**63 - 1, count, dtype=np.int64, endpoint=True),
        band_keys=rng.integers(0, 2**32, (count, bands), dtype=np.uint32))


def absent_band_keys(count: int, seed: int = 999) -> np.ndarray:
    """Query band values that match nothing the tests store (random uint32 never collide here)."""
    return np.random.default_rng(seed).integers(0, 2**32, (count, BANDS), dtype=np.uint32)


def no_hashes() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def is_one_line(message: str) -> bool:
    return "\n" not in message and message.strip() == message


@pytest.fixture
def index_path(tmp_path: Path) -> Path:
    return tmp_path / ".dedup" / "index.sqlite"


@pytest.fixture
def store(index_path: Path):
    with SQLiteStore.open(index_path, SETTINGS) as opened:
        yield opened


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection for looking under the hood."""
    return sqlite3.connect(path, isolation_level=None)


# --- put / lookup ----------------------------------------------------------------------------

def test_band_key_in_the_same_band_is_found(store: SQLiteStore) -> None:
    rows = make_rows(5, seed=1)
    store.put("a", rows)
    query = absent_band_keys(3)
    query[1, 7] = rows.band_keys[2, 7]
    found = store.lookup(query, no_hashes())
    assert found == [StoredPassage("a", 200, 280, 3, 1, rows.text[2], int(rows.norm_hash[2]))]


def test_same_value_in_another_band_is_not_found(store: SQLiteStore) -> None:
    rows = make_rows(5, seed=1)
    store.put("a", rows)
    query = absent_band_keys(1)
    query[0, 8] = rows.band_keys[2, 7]
    assert store.lookup(query, no_hashes()) == []


def test_norm_hash_match_is_found(store: SQLiteStore) -> None:
    rows = make_rows(5, seed=1)
    store.put("a", rows)
    found = store.lookup(absent_band_keys(2), np.array([rows.norm_hash[4], 12345], dtype=np.int64))
    assert [(passage.doc_id, passage.start) for passage in found] == [("a", 400)]


def test_extreme_int64_hashes_survive(store: SQLiteStore) -> None:
    rows = make_rows(2, seed=1)
    extremes = np.array([-2**63, 2**63 - 1], dtype=np.int64)
    store.put("a", PassageRows(rows.start, rows.end, rows.line, rows.column, rows.text, extremes, rows.band_keys))
    found = store.lookup(np.zeros((0, BANDS), dtype=np.uint32), extremes)
    assert sorted(passage.norm_hash for passage in found) == [-2**63, 2**63 - 1]
    assert store.document_counts(extremes).tolist() == [1, 1]


def test_each_passage_is_returned_once(store: SQLiteStore) -> None:
    rows = make_rows(4, seed=2)
    store.put("a", rows)
    query = np.vstack([rows.band_keys[:2], rows.band_keys[:2]])  # every band matches, twice
    found = store.lookup(query, rows.norm_hash[:2])
    assert sorted(passage.start for passage in found) == [0, 100]


def test_lookup_spans_documents_and_empty_queries(store: SQLiteStore) -> None:
    first, second = make_rows(3, seed=3), make_rows(3, seed=4)
    store.put("first", first)
    store.put("second", second)
    query = np.vstack([first.band_keys[:1], second.band_keys[2:]])
    assert sorted((p.doc_id, p.start) for p in store.lookup(query, no_hashes())) == [("first", 0), ("second", 200)]
    assert store.lookup(np.zeros((0, BANDS), dtype=np.uint32), no_hashes()) == []


def test_put_replaces_the_stored_document(store: SQLiteStore) -> None:
    old, new = make_rows(6, seed=5), make_rows(2, seed=6)
    store.put("a", old, {"version": 1})
    store.put("a", new, {"version": 2})
    assert store.lookup(old.band_keys, old.norm_hash) == []
    assert len(store.lookup(new.band_keys, no_hashes())) == 2
    assert store.metadata("a") == {"version": 2}
    stats = store.stats()
    assert (stats["documents"], stats["passages"], stats["band_keys"]) == (1, 2, 2 * BANDS)


def test_delete(store: SQLiteStore) -> None:
    rows = make_rows(4, seed=7)
    store.put("a", rows)
    store.put("b", make_rows(1, seed=8))
    assert store.delete("a") is True
    assert store.delete("a") is False
    assert store.lookup(rows.band_keys, rows.norm_hash) == []
    assert store.documents() == 1
    assert store.stats()["band_keys"] == BANDS
    assert store.metadata("a") is None


def test_document_counts_follow_put_replace_and_delete(store: SQLiteStore, index_path: Path) -> None:
    shared, only_a, absent = 111, 222, 333
    a = make_rows(3, seed=9)
    a.norm_hash[:] = [shared, shared, only_a]  # a passage repeated inside one document counts once
    b = make_rows(1, seed=10)
    b.norm_hash[:] = [shared]
    store.put("a", a)
    store.put("b", b)
    query = np.array([shared, only_a, absent, shared], dtype=np.int64)
    assert store.document_counts(query).tolist() == [2, 1, 0, 2]
    b.norm_hash[:] = [only_a]
    store.put("b", b)
    assert store.document_counts(query).tolist() == [1, 2, 0, 1]
    store.delete("a")
    assert store.document_counts(query).tolist() == [0, 1, 0, 0]
    store.delete("b")
    assert store.document_counts(query).tolist() == [0, 0, 0, 0]
    assert store.document_counts(no_hashes()).tolist() == []
    with raw(index_path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM norm_documents").fetchone() == (0,)


def test_failed_put_rolls_back_and_keeps_the_old_version(store: SQLiteStore) -> None:
    old = make_rows(3, seed=11)
    store.put("a", old, {"version": 1})
    broken = make_rows(3, seed=12)
    broken.text[1] = object()  # type: ignore[call-overload]  # SQLite cannot bind it: fails mid-put
    with pytest.raises(ArchiveError) as raised:
        store.put("a", broken, {"version": 2})
    assert str(raised.value).startswith(f"{store.location}: cannot store 'a'")
    assert store.metadata("a") == {"version": 1}
    assert len(store.lookup(old.band_keys, no_hashes())) == 3
    assert store.lookup(broken.band_keys, broken.norm_hash) == []
    assert store.stats()["band_keys"] == 3 * BANDS


def test_rows_of_the_wrong_shape_are_refused(store: SQLiteStore) -> None:
    with pytest.raises(ValueError, match="band_keys of shape"):
        store.put("a", make_rows(2, seed=1, bands=BANDS - 1))
    with pytest.raises(ValueError, match="band_keys of shape"):
        store.lookup(np.zeros((1, 3), dtype=np.uint32), no_hashes())


def test_threads_may_share_one_store(store: SQLiteStore) -> None:
    rows = {n: make_rows(10, seed=n) for n in range(8)}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for _ in range(5):
                store.put(f"doc{n}", rows[n])
                assert len(store.lookup(rows[n].band_keys, no_hashes())) == 10
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.documents() == 8


# --- metadata ----------------------------------------------------------------------------------

def test_metadata_round_trips_as_json(store: SQLiteStore, index_path: Path) -> None:
    metadata = {"title": "عنوان الخبر", "words": 812, "tags": ["news", "ar"], "score": 0.5, "draft": False}
    store.put("a", make_rows(1, seed=1), metadata)
    store.put("b", make_rows(1, seed=2))
    assert store.metadata("a") == metadata
    assert store.metadata("b") == {}
    with raw(index_path) as connection:
        stored = connection.execute("SELECT metadata FROM documents WHERE doc_id = 'a'").fetchone()[0]
    assert json.loads(stored) == metadata


@pytest.mark.parametrize("value", [datetime.date(2024, 1, 1), {1, 2}, float("nan"), b"bytes"])
def test_metadata_that_is_not_json_is_refused(store: SQLiteStore, value: object) -> None:
    with pytest.raises(ArchiveError) as raised:
        store.put("a", make_rows(1, seed=1), {"value": value})
    message = str(raised.value)
    assert message.startswith(f"{store.location}: metadata of 'a' is not JSON") and is_one_line(message)
    assert store.documents() == 0


def test_the_module_imports_no_pickle() -> None:
    tree = ast.parse(Path(sqlite_module.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported.isdisjoint({"pickle", "cPickle", "dill", "marshal", "shelve"})
    assert "json" in imported


# --- opening -----------------------------------------------------------------------------------

def test_a_new_index_is_a_wal_database_with_markers(index_path: Path) -> None:
    with SQLiteStore.open(index_path, SETTINGS) as store:
        assert store.documents() == 0
    assert sorted(path.name for path in index_path.parent.iterdir()) == ["index.sqlite"]  # no drafts left
    with raw(index_path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
        meta = {key: json.loads(value) for key, value in connection.execute("SELECT key, value FROM meta")}
    assert meta == {"format": "dedup-archive", **SETTINGS.to_dict()}


def test_reopening_keeps_the_documents(index_path: Path) -> None:
    rows = make_rows(3, seed=1)
    with SQLiteStore.open(index_path, SETTINGS) as store:
        store.put("a", rows)
    with SQLiteStore.open(str(index_path), SETTINGS, create=False) as store:
        assert len(store.lookup(rows.band_keys, no_hashes())) == 3


def test_settings_mismatch_is_refused(index_path: Path) -> None:
    SQLiteStore.open(index_path, SETTINGS).close()
    with pytest.raises(ArchiveError) as raised:
        SQLiteStore.open(index_path, IndexSettings(num_perm=64, bands=16))
    assert str(raised.value) == (f"{index_path}: index settings differ: "
                                 "num_perm: stored 128, asked 64; bands: stored 32, asked 16")


def test_a_newer_format_is_refused(index_path: Path) -> None:
    SQLiteStore.open(index_path, SETTINGS).close()
    with raw(index_path) as connection:
        connection.execute("UPDATE meta SET value = ? WHERE key = 'format_version'", (str(FORMAT_VERSION + 1),))
    with pytest.raises(ArchiveError) as raised:
        SQLiteStore.open(index_path, SETTINGS)
    message = str(raised.value)
    assert message.startswith(f"{index_path}: index written by a newer dedup") and is_one_line(message)


def write_random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(8192))


def write_empty_file(path: Path) -> None:
    path.write_bytes(b"")


def write_other_sqlite_database(path: Path) -> None:
    with raw(path) as connection:
        connection.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)")
        connection.execute("INSERT INTO notes(body) VALUES ('keep me')")
    connection.close()


def write_sqlite_with_a_foreign_meta(path: Path) -> None:
    with raw(path) as connection:
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
        connection.execute("""INSERT INTO meta VALUES ('format', '"something-else"')""")
    connection.close()


@pytest.mark.parametrize("write, reason", [
    (write_random_bytes, "not an SQLite database"),
    (write_empty_file, "an empty file"),
    (write_other_sqlite_database, "an SQLite database of another application"),
    (write_sqlite_with_a_foreign_meta, "no 'dedup-archive' format marker"),
])
def test_a_foreign_file_is_refused_and_left_alone(tmp_path: Path, write, reason: str) -> None:
    path = tmp_path / "index.sqlite"
    write(path)
    before = path.read_bytes()
    with pytest.raises(ArchiveError) as raised:
        SQLiteStore.open(path, SETTINGS)
    assert str(raised.value) == f"{path}: not a dedup index ({reason})"
    assert path.read_bytes() == before
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["index.sqlite"]


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not a dedup index \\(a directory\\)"):
        SQLiteStore.open(tmp_path, SETTINGS)


@pytest.mark.parametrize("options", [{"create": False}, {"readonly": True}])
def test_a_missing_index_is_not_created_when_not_asked(tmp_path: Path, options: dict) -> None:
    path = tmp_path / "missing" / "index.sqlite"
    with pytest.raises(ArchiveError) as raised:
        SQLiteStore.open(path, SETTINGS, **options)
    assert str(raised.value) == f"{path}: no such index"
    assert not path.parent.exists()


# --- read-only, full disk, lifetime ---------------------------------------------------------

def test_an_index_opened_read_only_refuses_writes(index_path: Path) -> None:
    rows = make_rows(2, seed=1)
    with SQLiteStore.open(index_path, SETTINGS) as store:
        store.put("a", rows)
    with SQLiteStore.open(index_path, SETTINGS, readonly=True) as store:
        for write in (lambda: store.put("b", rows), lambda: store.delete("a"), store.vacuum):
            with pytest.raises(ArchiveError) as raised:
                write()
            assert str(raised.value).startswith(f"{index_path}: index is read-only (opened read-only); cannot ")
        assert len(store.lookup(rows.band_keys, no_hashes())) == 2


def permission_bound_command() -> list[str]:
    """Run a child that file permissions bind: as root, drop the capabilities that bypass them."""
    if os.geteuid() != 0:
        return [sys.executable]
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: chmod cannot make a file read-only")
    probe = subprocess.run([setpriv, "--bounding-set", "-dac_override,-dac_read_search", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot drop root's file-permission capabilities: {probe.stderr.decode().strip()}")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", sys.executable]


@pytest.mark.parametrize("protect, reason", [
    ("file", "the file is not writable"),
    ("directory", "its directory is not writable"),
])
def test_a_read_only_file_or_directory_refuses_writes_and_keeps_the_data(
        tmp_path: Path, protect: str, reason: str) -> None:
    command = permission_bound_command()
    path = tmp_path / "index" / "index.sqlite"
    script = write_child_script(tmp_path)
    with SQLiteStore.open(path, SETTINGS) as store:
        for version in range(3):
            store.put(child_doc_id(version), child_rows(version), {"version": version})
    protected = path if protect == "file" else path.parent
    mode = protected.stat().st_mode
    protected.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        result = subprocess.run([*command, str(script), "put-one", str(path), "7"],
                                capture_output=True, text=True, timeout=60)
    finally:
        protected.chmod(mode)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["ready", "documents 3"]  # still readable
    assert lines[2].startswith(f"ArchiveError: {path}: index is read-only ({reason}")
    assert lines[2].endswith("cannot store 'doc-0'")
    check_whole_documents(path, expected_versions={"doc-0": 0, "doc-1": 1, "doc-2": 2})


def test_a_full_disk_rolls_back_and_names_the_file(store: SQLiteStore, index_path: Path) -> None:
    kept = make_rows(5, seed=1)
    store.put("kept", kept)
    connection = store._connection
    assert connection is not None
    page_count = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {page_count + 2}")  # SQLITE_FULL, as a full disk gives
    big = make_rows(2000, seed=2)
    with pytest.raises(ArchiveError) as raised:
        store.put("big", big)
    message = str(raised.value)
    assert message.startswith(f"{index_path}: disk full (database or disk is full); cannot store 'big'")
    assert is_one_line(message)
    assert store.documents() == 1 and store.metadata("big") is None
    assert len(store.lookup(kept.band_keys, no_hashes())) == 5
    connection.execute("PRAGMA max_page_count = 4294967294")
    store.put("big", big)  # the store still works once there is room
    assert store.stats()["passages"] == 2005


def test_stats_and_vacuum(store: SQLiteStore, index_path: Path) -> None:
    for n in range(4):
        store.put(f"doc{n}", make_rows(500, seed=n))
    store.vacuum()
    full = store.stats()
    assert full == {"backend": "sqlite", "location": str(index_path), "documents": 4, "passages": 2000,
                    "band_keys": 2000 * BANDS, "bytes": full["bytes"], "settings": SETTINGS.to_dict()}
    for n in range(3):
        store.delete(f"doc{n}")
    store.vacuum()
    assert store.stats()["bytes"] < full["bytes"] / 2
    assert not Path(f"{index_path}-wal").exists() or Path(f"{index_path}-wal").stat().st_size == 0


def test_a_closed_store_says_so(index_path: Path) -> None:
    with SQLiteStore.open(index_path, SETTINGS) as store:
        pass
    store.close()  # twice is fine
    with pytest.raises(ArchiveError, match="index is closed; cannot count documents"):
        store.documents()


def test_lookup_of_a_thousand_keys_against_200k_passages_is_quick(tmp_path: Path) -> None:
    settings = IndexSettings(bands=4, rows=32)  # 4 bands keep the build short; a probe per key either way
    planted = make_rows(250, seed=50_000, bands=4)  # 250 passages x 4 bands = 1,000 queried keys
    with SQLiteStore.open(tmp_path / "big.sqlite", settings) as store:
        for part in range(4):
            store.put(f"part{part}", make_rows(50_000, seed=part, bands=4))
        store.put("planted", PassageRows(planted.start[:1], planted.end[:1], planted.line[:1],
                                         planted.column[:1], planted.text[:1], planted.norm_hash[:1],
                                         planted.band_keys[:1]))
        query = planted.band_keys.copy()
        query[:, 1:] = absent_band_keys(250)[:, :3]
        store.lookup(query, planted.norm_hash)  # warm the cache
        started = time.perf_counter()
        found = store.lookup(query, planted.norm_hash)
        elapsed = time.perf_counter() - started
    assert "planted" in {passage.doc_id for passage in found} and len(found) < 10
    assert elapsed < 1.0, f"1,000 keys + 250 hashes took {elapsed:.3f} s"


# --- crashes and concurrency ----------------------------------------------------------------

# Shared by the tests and the child script: every document derives from its version number.
CHILD_ROWS = """
import numpy as np
from dedup.archive.store import PassageRows

DOC_IDS = 7  # versions cycle over this many doc ids, so that kills also hit replacements
MARKER = 7  # every passage has this value in band 0: one lookup finds every stored passage


def passage_count(version):
    return 40 + (version * 37) % 300


def doc_id(version):
    return f"doc-{version % DOC_IDS}"


def rows(version):
    count = passage_count(version)
    rng = np.random.default_rng(version)
    start = np.arange(count, dtype=np.int64) * 10
    band_keys = rng.integers(0, 2**32, (count, 32), dtype=np.uint32)
    band_keys[:, 0] = MARKER
    return PassageRows(start, start + 9, np.arange(1, count + 1), np.ones(count, np.int64),
                       [f"v{version} p{k}" for k in range(count)],
                       rng.integers(0, 1000, count, dtype=np.int64), band_keys)
"""
CHILD_MAIN = """
from dedup.archive.sqlite import SQLiteStore
from dedup.archive.store import ArchiveError, IndexSettings


def main(mode, path, *numbers):
    store = SQLiteStore.open(path, IndexSettings())
    print("ready", flush=True)
    if mode == "loop":  # put versions 0, 1, 2, ... until killed
        for version in range(100_000):
            print(f"start {version}", flush=True)
            store.put(doc_id(version), rows(version), {"version": version})
            print(f"done {version}", flush=True)
    elif mode == "write":  # put versions first .. first+count-1, each under its own doc id
        first, count = map(int, numbers)
        for version in range(first, first + count):
            store.put(f"w-{version}", rows(version), {"version": version})
    elif mode == "put-one":  # report the document count, then try to replace doc-0
        print(f"documents {store.documents()}", flush=True)
        try:
            store.put(doc_id(0), rows(int(numbers[0])), {"version": int(numbers[0])})
            print("stored")
        except ArchiveError as error:
            print(f"ArchiveError: {error}")


main(*sys.argv[1:])
"""
_child: dict = {}
exec(CHILD_ROWS, _child)
child_passage_count, child_doc_id, child_rows = _child["passage_count"], _child["doc_id"], _child["rows"]
CHILD_MARKER = _child["MARKER"]


def write_child_script(tmp_path: Path) -> Path:
    script = tmp_path / "child.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(REPO)!r})\n{CHILD_ROWS}{CHILD_MAIN}", encoding="utf-8")
    script.chmod(0o755)
    return script


def check_whole_documents(path: Path, expected_versions: dict[str, int] | None = None) -> dict[str, int]:
    """Open the index, check SQLite's integrity and that every document is whole; return the
    stored version of each doc id."""
    with SQLiteStore.open(path, SETTINGS, create=False) as store:
        stored_count = store.documents()
    with raw(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        documents = connection.execute("""
            SELECT doc_id, metadata,
                   (SELECT COUNT(*) FROM passages WHERE passages.document = documents.id),
                   (SELECT COUNT(*) FROM passages JOIN band_keys ON band_keys.passage = passages.id
                     WHERE passages.document = documents.id)
            FROM documents""").fetchall()
        orphan_keys = connection.execute(
            "SELECT COUNT(*) FROM band_keys WHERE passage NOT IN (SELECT id FROM passages)").fetchone()[0]
        norm_documents = dict(connection.execute("SELECT norm_hash, documents FROM norm_documents"))
        recounted = dict(connection.execute(
            "SELECT norm_hash, COUNT(DISTINCT document) FROM passages GROUP BY norm_hash"))
    connection.close()
    assert orphan_keys == 0
    assert norm_documents == recounted
    assert len(documents) == stored_count
    versions = {}
    for doc_id, metadata, passages, band_keys in documents:
        version = json.loads(metadata)["version"]
        assert (passages, band_keys) == (child_passage_count(version), child_passage_count(version) * BANDS), doc_id
        versions[doc_id] = version
    if expected_versions is not None:
        assert versions == expected_versions
    return versions


def read_line(process: subprocess.Popen) -> str:
    line = process.stdout.readline()
    assert line, f"the child ended early: {process.stderr.read()}"
    return line.strip()


@pytest.mark.parametrize("kill_after_start", [1, 5, 12, 23])
def test_sigkill_mid_put_leaves_only_whole_documents(tmp_path: Path, kill_after_start: int) -> None:
    path = tmp_path / "index.sqlite"
    script = write_child_script(tmp_path)
    jitter = random.Random(kill_after_start).uniform(0.0, 0.02)
    process = subprocess.Popen([sys.executable, str(script), "loop", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while read_line(process) != f"start {kill_after_start}":
            pass
        time.sleep(jitter)  # most puts take longer than this: the kill lands inside one
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    output = process.stdout.read()
    process.stdout.close()
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    check_last_versions(path, kill_after_start, output)


def check_last_versions(path: Path, started_before_reading: int, rest_of_output: str) -> None:
    """Each doc id holds its last version reported done, or the version whose put was cut short
    (its commit may have landed before the kill)."""
    lines = rest_of_output.split()
    done = set(range(started_before_reading)) | {int(n) for word, n in zip(lines, lines[1:]) if word == "done"}
    started = [started_before_reading] + [int(n) for word, n in zip(lines, lines[1:]) if word == "start"]
    in_flight = max(started)
    stored = check_whole_documents(path)
    for doc_number in range(7):
        last_done = max((v for v in done if v % 7 == doc_number), default=None)
        allowed = {last_done} | ({in_flight} if in_flight % 7 == doc_number else set())
        assert stored.get(f"doc-{doc_number}") in allowed, (doc_number, stored, in_flight)


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.6])
def test_sigkill_from_a_timer_leaves_only_whole_documents(tmp_path: Path, delay: float) -> None:
    path = tmp_path / "index.sqlite"
    script = write_child_script(tmp_path)
    process = subprocess.Popen([sys.executable, str(script), "loop", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert read_line(process) == "ready"
        time.sleep(delay)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    check_whole_documents(path)
    with SQLiteStore.open(path, SETTINGS) as store:  # and the index takes writes again
        store.put("after", make_rows(3, seed=1))
        assert store.metadata("after") == {}


def test_readers_see_whole_documents_while_two_writers_add(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "index.sqlite"  # absent: the writers race to create it
    script = write_child_script(tmp_path)
    writers = [subprocess.Popen([sys.executable, str(script), "write", str(path), str(first), "25"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for first in (0, 100)]
    query = absent_band_keys(1)
    query[0, 0] = CHILD_MARKER
    lookups, sizes = 0, set()
    deadline = time.monotonic() + 120
    while not path.exists():
        assert time.monotonic() < deadline and all(writer.poll() is None for writer in writers)
        time.sleep(0.005)
    with SQLiteStore.open(path, SETTINGS, create=False) as reader:
        while any(writer.poll() is None for writer in writers) and time.monotonic() < deadline:
            found = reader.lookup(query, no_hashes())
            per_document = Counter(passage.doc_id for passage in found)
            for doc_id, passages in per_document.items():
                assert passages == child_passage_count(int(doc_id.removeprefix("w-"))), doc_id
            lookups += 1
            sizes.add(len(per_document))
        final = Counter(passage.doc_id for passage in reader.lookup(query, no_hashes()))
    for writer in writers:
        assert writer.wait(timeout=60) == 0, writer.stderr.read()
        writer.stderr.close()
    assert lookups > 0
    assert len(final) == 50 and len(sizes) > 1  # the reader saw the index grow
    assert [entry.name for entry in path.parent.iterdir() if entry.name.startswith(".")] == []  # no drafts


def test_put_many_stores_a_batch_whole_and_the_later_of_two_ids_wins(store: SQLiteStore) -> None:
    first, second, third = make_rows(4, seed=1), make_rows(6, seed=2), make_rows(3, seed=3)
    store.put_many([("a", first, None), ("b", second, {"n": 2}), ("a", third, {"n": 3})])
    assert store.documents() == 2
    assert store.metadata("a") == {"n": 3}
    found = store.lookup(third.band_keys[:1], np.zeros(0, dtype=np.int64))
    assert {p.doc_id for p in found} >= {"a"}
    assert not any(p.doc_id == "a" and p.text in first.text and p.text not in third.text for p in found)
    assert store.stats()["passages"] == 9


def test_put_many_is_all_or_nothing(store: SQLiteStore) -> None:
    with pytest.raises(ArchiveError):
        store.put_many([("ok", make_rows(2, seed=4), None), ("bad", make_rows(2, seed=5), {"x": object()})])
    assert store.documents() == 0
