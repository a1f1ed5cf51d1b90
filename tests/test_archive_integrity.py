"""`dedup.archive.integrity`: the index's integrity check passes a whole index and names the
file and the problem for damaged pages and for rows that contradict each other."""
from __future__ import annotations

import random
import sqlite3

import pytest

from conftest import EN, FILLER
from dedup.archive import integrity
from dedup.archive.index import Index


@pytest.fixture
def index_path(tmp_path):
    path = tmp_path / "index.sqlite"
    with Index.open(path) as index:
        for k in range(200):
            index.add(f"doc-{k}", f"{EN[k % 6]} Report {k} of the day. {FILLER[k % 3]}")
    return path


@pytest.mark.parametrize("thorough", [False, True])
def test_a_whole_index_passes(index_path, thorough):
    assert integrity.sqlite_problems(index_path, thorough) == []
    with Index.open(index_path) as index:
        assert integrity.problems(index, thorough) == []


@pytest.mark.parametrize("thorough", [False, True])
def test_damaged_pages_are_found(index_path, thorough):
    size = index_path.stat().st_size
    with open(index_path, "r+b") as fh:
        fh.seek(size // 2 // 4096 * 4096)
        fh.write(random.Random(1).randbytes(2 * 4096))
    problems = integrity.sqlite_problems(index_path, thorough)
    assert problems and all(p.startswith(str(index_path)) for p in problems)
    assert len(problems) <= integrity.MAX_PROBLEMS


def test_rows_that_contradict_each_other_are_found_by_the_thorough_check(index_path):
    connection = sqlite3.connect(index_path)
    with connection:
        connection.execute("DELETE FROM passages WHERE id = (SELECT min(id) FROM passages)")  # its band keys stay
        connection.execute("UPDATE norm_documents SET documents = 0 WHERE rowid = (SELECT min(rowid) FROM norm_documents)")
    connection.close()
    assert integrity.sqlite_problems(index_path) == []  # the quick check sees whole pages only
    problems = integrity.sqlite_problems(index_path, thorough=True)
    assert any("band keys name no stored passage" in p for p in problems)
    assert any("counted in no document" in p for p in problems)


def test_a_passage_without_its_document_is_found(index_path):
    connection = sqlite3.connect(index_path)  # foreign keys are off on this connection
    with connection:
        connection.execute("DELETE FROM documents WHERE doc_id = 'doc-7'")
    connection.close()
    assert any("belongs to no stored document" in p for p in integrity.sqlite_problems(index_path))


def test_a_file_that_is_no_index_is_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE meta(key TEXT, value TEXT)").connection.commit()
    assert integrity.sqlite_problems(other) == [f"{other}: not a dedup index (no format marker)"]
