"""Parquet input (`dedup.readers.parquet`): a .parquet file is a collection of records read as the
same records in JSON Lines are, a batch of rows at a time; bad files are one-line errors naming
the file (and row)."""
from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from conftest import AR, EN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.cli import main
from dedup.discover import collect_files
from dedup.readers import parquet as parquet_reader
from dedup.readers import read_path
from dedup.readers.limits import ReadLimits

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install -e '.[test]')")
pq = pytest.importorskip("pyarrow.parquet")

TEXT = st.lists(st.one_of(st.sampled_from([*EN[:4], *AR[:2], "dedup: ignore", "dedup: off DD003", "dedup: on", "",
                                           "\n", "\n\n", "\u2028", " - a list item", "\U0001f600", "caf\u00e9"]),
                          st.text(max_size=15)), max_size=8).map("\n".join)
RECORDS = st.lists(st.fixed_dictionaries({"id": st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=8)),
                                          "text": TEXT,
                                          "dedup": st.sampled_from([None, "", "ignore", "ignore DD003, near"])}),
                   max_size=12)


def write_parquet(path: Path, records: list[dict], row_group_size: int | None = None, **types) -> Path:
    columns = {name: pa.array([r.get(name) for r in records], types.get(name)) for name in records[0]} if records \
        else {"id": pa.array([], pa.string()), "text": pa.array([], pa.string())}
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)
    return path


def write_jsonl(path: Path, records: list[dict]) -> Path:
    lines = [json.dumps({k: v for k, v in r.items() if v is not None}, ensure_ascii=False) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


# --- the same documents as JSON Lines --------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=RECORDS, batch=st.integers(1, 5), row_group=st.integers(1, 6))
def test_parquet_records_read_as_the_same_records_in_jsonl(records, batch, row_group):
    with tempfile.TemporaryDirectory() as folder, mock.patch.object(parquet_reader, "BATCH_ROWS", batch):
        jsonl_path, parquet_path = Path(folder) / "c.jsonl", Path(folder) / "c.parquet"
        jsonl = list(read_path(str(write_jsonl(jsonl_path, records))))
        parquet = list(read_path(str(write_parquet(parquet_path, records, row_group))))
    # a record without an id is named FILE:LINE in JSON Lines (one record a line), FILE:ROW in Parquet
    renamed = {f"{parquet_path}:{n}": f"{jsonl_path}:{n}" for n in range(1, len(records) + 1)}
    assert [dataclasses.replace(d, id=renamed.get(d.id, d.id)) for d in parquet] == jsonl
    assert len(parquet) == len(records)


def test_check_of_a_parquet_corpus_reports_what_check_of_the_jsonl_reports(tmp_path, monkeypatch, capsys):
    records = [{"id": "day1", "text": f"{EN[0]} {EN[1]}\n{AR[0]}"},
               {"id": "day2", "text": f"{EN[2]}\n{EN[0]}\n{AR[0]}"},
               {"id": "day3", "text": f"{EN[3]}\n\n{EN[1]}"}]
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "corpus.jsonl", records)
    write_parquet(tmp_path / "corpus.parquet", records, row_group_size=1)
    reports = {}
    for name in ("corpus.jsonl", "corpus.parquet"):
        assert main(["check", name, "--isolated", "--format", "json"]) == 1
        reports[name] = json.loads(capsys.readouterr().out)
    assert len(reports["corpus.parquet"]["findings"]) == 3
    assert reports["corpus.parquet"]["findings"] == reports["corpus.jsonl"]["findings"]
    assert reports["corpus.parquet"]["stats"]["documents"] == 3


def test_fields_are_chosen_with_id_field_and_text_field_and_ids_of_any_type(tmp_path, monkeypatch, capsys):
    path = write_parquet(tmp_path / "c.parquet", [{"key": 7, "body": f"{EN[0]}\n{EN[0]}"},
                                                  {"key": None, "body": EN[1]}])
    assert [d.id for d in read_path(str(path), "key", "body")] == ["7", f"{path}:2"]
    monkeypatch.chdir(tmp_path)
    assert main(["check", "c.parquet", "--isolated", "--format", "concise", "--id-field", "key",
                 "--text-field", "body"]) == 1
    assert capsys.readouterr().out == "7:2:1: exact (repeats 7:1:1)\n"


@pytest.mark.parametrize("kind", ["large_string", "dictionary"])
def test_large_and_dictionary_encoded_text_columns_are_strings(tmp_path, kind):
    texts = [EN[0], EN[1], EN[0]]
    array = pa.array(texts, pa.large_string()) if kind == "large_string" else pa.array(texts).dictionary_encode()
    pq.write_table(pa.table({"text": array}), tmp_path / "c.parquet")
    assert [d.text for d in read_path(str(tmp_path / "c.parquet"))] == texts


def test_standard_input_named_parquet_is_read_as_parquet(tmp_path, monkeypatch, capsys):
    path = write_parquet(tmp_path / "c.parquet", [{"id": "a", "text": f"{EN[0]}\n{EN[0]}"}])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    assert main(["check", "-", "--stdin-filename", "draft.parquet", "--isolated", "--format", "concise"]) == 1
    assert capsys.readouterr().out == "a:2:1: exact (repeats a:1:1)\n"


def test_a_folder_walk_reads_parquet_only_when_included_as_jsonl(tmp_path):
    (tmp_path / "a.md").write_text(EN[0], encoding="utf-8")
    write_parquet(tmp_path / "b.parquet", [{"text": EN[1]}])
    (tmp_path / "c.jsonl").write_text(json.dumps({"text": EN[2]}) + "\n", encoding="utf-8")
    default = ["*.md", "*.markdown", "*.mdx", "*.html", "*.htm", "*.txt"]
    assert collect_files([str(tmp_path)], include=default, exclude=[]) == [str(tmp_path / "a.md")]
    assert collect_files([str(tmp_path / "b.parquet")], include=default, exclude=[]) == [str(tmp_path / "b.parquet")]
    assert collect_files([str(tmp_path)], include=["*.parquet", "*.jsonl"], exclude=[]) == \
        [str(tmp_path / "b.parquet"), str(tmp_path / "c.jsonl")]


def test_the_record_directive_column_ignores_a_row(tmp_path, monkeypatch, capsys):
    write_parquet(tmp_path / "c.parquet", [{"id": "a", "text": EN[0], "dedup": None},
                                           {"id": "b", "text": EN[0], "dedup": "ignore"},
                                           {"id": "c", "text": EN[0], "dedup": "ignore DD003"}])
    monkeypatch.chdir(tmp_path)
    assert main(["check", "c.parquet", "--isolated", "--format", "concise"]) == 1
    assert capsys.readouterr().out == "c:1:1: exact (repeats a:1:1)\n"


# --- errors: one line naming the file ------------------------------------------------------------

def one_line_error(capsys, *argv: str) -> str:
    assert main(["check", *argv, "--isolated", "--format", "json"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == "" and len(lines) == 1 and lines[0].startswith("dedup: error: "), captured.err
    return lines[0][len("dedup: error: "):]


def test_a_file_without_the_text_column_names_the_columns(tmp_path, monkeypatch, capsys):
    write_parquet(tmp_path / "c.parquet", [{"id": "a", "body": EN[0]}])
    monkeypatch.chdir(tmp_path)
    assert one_line_error(capsys, "c.parquet") == "c.parquet: no 'text' column (columns: id, body)"


def test_a_text_column_of_numbers_is_refused(tmp_path, monkeypatch, capsys):
    write_parquet(tmp_path / "c.parquet", [{"id": "a", "text": 5}])
    monkeypatch.chdir(tmp_path)
    assert one_line_error(capsys, "c.parquet") == \
        "c.parquet: column 'text' holds int64, not strings: the text must be a string column"


def test_a_null_text_names_its_row(tmp_path, monkeypatch, capsys):
    write_parquet(tmp_path / "c.parquet", [{"text": EN[0]}, {"text": EN[1]}, {"text": None}], row_group_size=2)
    monkeypatch.chdir(tmp_path)
    assert one_line_error(capsys, "c.parquet") == "c.parquet:3: the 'text' field is null; every row needs a text"


def test_invalid_utf8_names_its_row(tmp_path, monkeypatch, capsys):
    texts = pa.array([EN[0].encode(), b"ok \xff\xfe", EN[1].encode()], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"text": texts}), tmp_path / "c.parquet")
    monkeypatch.chdir(tmp_path)
    assert one_line_error(capsys, "c.parquet") == "c.parquet:2: invalid UTF-8 in column 'text' (byte 3)"


@pytest.mark.parametrize("content", [b"", b"hello", b"PAR1" + b"\x00" * 40 + b"PAR1"])
def test_a_file_that_is_not_parquet_is_refused(tmp_path, monkeypatch, capsys, content):
    (tmp_path / "c.parquet").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    assert one_line_error(capsys, "c.parquet").startswith("c.parquet: not a readable Parquet file: ")


def test_a_bad_record_directive_names_its_row(tmp_path, monkeypatch, capsys):
    write_parquet(tmp_path / "c.parquet", [{"text": EN[0], "dedup": "ignore"}, {"text": EN[1], "dedup": "off"}])
    monkeypatch.chdir(tmp_path)
    assert one_line_error(capsys, "c.parquet").startswith("c.parquet:2: ")


def test_size_limits_apply_to_the_file_and_to_each_record(tmp_path, monkeypatch, capsys):
    write_parquet(tmp_path / "c.parquet", [{"id": "a", "text": EN[0]}, {"id": "b", "text": "x" * 5000}])
    monkeypatch.chdir(tmp_path)
    assert one_line_error(capsys, "c.parquet", "--max-record-size", "4k") == \
        "c.parquet:2: record of 4.9 KiB is over the limit of 4 KiB per record (--max-record-size)"
    assert one_line_error(capsys, "c.parquet", "--max-file-size", "1k") == \
        "c.parquet: over the limit of 1 KiB per file (--max-file-size; exclude the file or raise the limit)"
    assert len(list(read_path("c.parquet", limits=ReadLimits(0, 0)))) == 2


def test_a_fifo_named_parquet_is_refused_before_it_is_opened(tmp_path, monkeypatch, capsys):
    os.mkfifo(tmp_path / "c.parquet")
    monkeypatch.chdir(tmp_path)
    assert one_line_error(capsys, "c.parquet") == (
        "c.parquet: a FIFO, not a regular file: only regular files are read (standard input, '-', may be any stream)")


def test_a_missing_file_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert one_line_error(capsys, "gone.parquet") == "gone.parquet: no such file or directory"


def test_without_pyarrow_reading_parquet_says_which_extra_to_install(tmp_path, monkeypatch, capsys):
    write_parquet(tmp_path / "c.parquet", [{"text": EN[0]}])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    assert one_line_error(capsys, "c.parquet") == \
        "c.parquet: reading Parquet needs pyarrow: pip install 'dedup-prose[parquet]'"
