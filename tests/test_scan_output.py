"""The scan output folder (`dedup.scan.output`): findings written a chunk at a time to
findings.jsonl or findings.parquet and read back exactly, the manifest's checks, and a crash
that leaves nothing half-written under the final name."""
from __future__ import annotations

import io
import json
import re
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_schema import assert_valid_finding

from dedup.formats import FormatContext
from dedup.formats.jsonreport import JsonlFormat
from dedup.model import Finding, Report, Span
from dedup.readers.errors import InputError
from dedup.scan.output import (
    FINDINGS_FILES,
    FORMAT,
    MANIFEST,
    STATS,
    FindingWriter,
    ScanOutputError,
    open_scan_output,
    read_findings,
    read_stats,
    write_stats,
)

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install -e '.[test]')")
pq = pytest.importorskip("pyarrow.parquet")

OUTPUTS = ("jsonl", "parquet")
BIG = 2**62  # offsets, lines and groups far past any real document, inside Parquet's int64

# texts: any code points but lone surrogates (no UTF-8 file can hold them), empty ones too, and
# the characters JSON escapes or that split lines elsewhere
ODD = st.sampled_from(["", "\n", "\r\n", "\u2028", "\u2029", "\x85", "\x00", "\x1f", '"', "\\", "\ufeff",
                       "\U0001f600", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "e\u0301", "\ud7ff", "\ue000"])
TEXT = st.lists(st.one_of(st.text(max_size=12), ODD), max_size=4).map("".join)


@st.composite
def spans(draw: st.DrawFn) -> Span:
    text = draw(TEXT)
    start = draw(st.one_of(st.integers(0, 1000), st.integers(0, BIG - 1000)))
    return Span(draw(TEXT), start, start + len(text), draw(st.integers(1, BIG)), draw(st.integers(1, BIG)), text)


FINDINGS = st.builds(
    Finding, kind=st.sampled_from(["exact", "normalized", "near", "contained", "conflict"]),
    scope=st.sampled_from(["document", "corpus", "archive"]),
    score=st.one_of(st.just(1.0), st.just(0.0), st.floats(0, 1, allow_nan=False, allow_subnormal=True)),
    sentence=spans(), match=spans(), group=st.integers(0, BIG), structural=st.booleans())


def jsonl_of(findings: list[Finding]) -> bytes:
    """What `dedup check --format jsonl` writes for `findings`."""
    out = io.StringIO()
    JsonlFormat().write(Report(findings), out, FormatContext({}))
    return out.getvalue().encode("utf-8")


def write_in_chunks(directory: Path, output: str, findings: list[Finding], cuts: list[int],
                    row_group_rows: int = 4) -> FindingWriter:
    with FindingWriter(directory, output, row_group_rows=row_group_rows) as writer:
        begin = 0
        for cut in sorted(c % (len(findings) + 1) for c in cuts) + [len(findings)]:
            writer.write(findings[begin:cut])
            begin = max(begin, cut)
    return writer


def parquet_rows(path: Path) -> list[dict]:
    """The rows of findings.parquet as finding objects: a false `structural` is the key's absence."""
    rows = pq.read_table(path).to_pylist()
    return [{k: v for k, v in row.items() if not (k == "structural" and v is False)} for row in rows]


# --- round trip ------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings=st.lists(FINDINGS, max_size=12), cuts=st.lists(st.integers(0, 20), max_size=4))
@pytest.mark.parametrize("output", OUTPUTS)
def test_findings_come_back_byte_for_byte_and_every_row_follows_the_schema(output, findings, cuts):
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        writer = write_in_chunks(directory, output, findings, cuts)
        assert writer.written == len(findings)
        assert sorted(p.name for p in directory.iterdir()) == [FINDINGS_FILES[output]]  # no temporary left
        back = list(read_findings(directory))
        assert jsonl_of(back) == jsonl_of(findings)
        assert back == findings
        path = directory / FINDINGS_FILES[output]
        if output == "jsonl":
            assert path.read_bytes() == jsonl_of(findings)
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]
        else:
            rows = parquet_rows(path)
        assert rows == [f.to_dict() for f in findings]
        for row in rows:
            assert_valid_finding(row)


def test_parquet_is_written_in_row_groups_with_the_report_schema_columns(tmp_path):
    findings = [Finding("near", "corpus", 0.5, Span("a", i, i + 1, 1, i + 1, "x"), Span("b", 0, 1, 1, 1, "y"), i)
                for i in range(10)]
    write_in_chunks(tmp_path, "parquet", findings, [1, 2, 7], row_group_rows=3)
    parquet = pq.ParquetFile(tmp_path / "findings.parquet")
    assert [parquet.metadata.row_group(g).num_rows for g in range(parquet.num_row_groups)] == [3, 3, 3, 1]
    schema = parquet.schema_arrow
    assert schema.names == ["kind", "scope", "score", "sentence", "match", "group", "structural"]
    for side in ("sentence", "match"):
        assert [f.name for f in schema.field(side).type] == ["doc", "start", "end", "line", "column", "text"]
    assert list(read_findings(tmp_path)) == findings


@pytest.mark.parametrize("output", OUTPUTS)
def test_no_findings_is_an_empty_file_that_reads_back_as_none(tmp_path, output):
    with FindingWriter(tmp_path, output):
        pass
    assert (tmp_path / FINDINGS_FILES[output]).is_file()
    assert list(read_findings(tmp_path, output)) == []


# --- nothing half-written ----------------------------------------------------------------------

@pytest.mark.parametrize("output", OUTPUTS)
def test_an_error_while_writing_leaves_the_previous_file_and_no_temporary(tmp_path, output):
    old = [Finding("exact", "document", 1.0, Span("a", 9, 10, 2, 1, "x"), Span("a", 0, 1, 1, 1, "x"))]
    with FindingWriter(tmp_path, output) as writer:
        writer.write(old)
    before = (tmp_path / FINDINGS_FILES[output]).read_bytes()
    with pytest.raises(KeyboardInterrupt), FindingWriter(tmp_path, output, row_group_rows=1) as writer:
        writer.write(old * 3)
        raise KeyboardInterrupt
    assert (tmp_path / FINDINGS_FILES[output]).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [FINDINGS_FILES[output]]


def test_the_file_of_the_other_output_goes_once_the_new_one_is_whole(tmp_path):
    with FindingWriter(tmp_path, "jsonl"):
        pass
    with FindingWriter(tmp_path, "parquet"):
        assert (tmp_path / "findings.jsonl").exists()  # still there until the new file is whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.parquet"]
    assert list(read_findings(tmp_path)) == []


def test_without_pyarrow_parquet_is_refused_with_the_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ScanOutputError, match=r"findings\.parquet: writing Parquet needs pyarrow: "
                                              r"pip install 'dedup-prose\[parquet\]'"):
        FindingWriter(tmp_path, "parquet")
    with FindingWriter(tmp_path, "jsonl"):  # JSON Lines needs nothing more
        pass
    assert list(tmp_path.iterdir()) == [tmp_path / "findings.jsonl"]


# --- stats and manifest ------------------------------------------------------------------------

def test_stats_come_back_as_written(tmp_path):
    stats = {"documents": 3, "sentences": 40, "seconds": 0.123456789, "by_kind": {"near": 2},
             "boilerplate": {"texts": 1, "top": [["Read also: «الخبر»", 5]]}}
    write_stats(tmp_path, stats)
    assert read_stats(tmp_path) == stats
    assert json.dumps(read_stats(tmp_path), ensure_ascii=False) == json.dumps(stats, ensure_ascii=False)


def make_folder(directory: Path, written: str = "jsonl", **manifest) -> Path:
    """A scan output folder without findings, written as `written`; `manifest` overrides its keys."""
    with FindingWriter(directory, written):
        pass
    write_stats(directory, {"documents": 0, "sentences": 0, "seconds": 0.0})
    content = {"format": FORMAT, "state": "complete", "output": written, "inputs": [], "settings": {}, **manifest}
    (directory / MANIFEST).write_text(json.dumps(content), encoding="utf-8")
    return directory


@pytest.mark.parametrize("output", OUTPUTS)
def test_a_complete_folder_opens(tmp_path, output):
    scan = open_scan_output(make_folder(tmp_path, output, inputs=[{"path": "a.txt", "size": 1, "mtime_ns": 2}]))
    assert scan.output == output and scan.findings_path == tmp_path / FINDINGS_FILES[output]
    assert scan.inputs == [{"path": "a.txt", "size": 1, "mtime_ns": 2}]
    assert list(scan.findings()) == [] and scan.stats()["documents"] == 0


def manifest_error(directory: Path) -> str:
    with pytest.raises(ScanOutputError) as caught:
        open_scan_output(directory)
    assert isinstance(caught.value, InputError)  # the CLI's exit status 2
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_folder_without_a_manifest_is_refused(tmp_path):
    assert manifest_error(tmp_path) == f"{tmp_path}: not a dedup scan output folder (no dedup-scan.json)"
    assert manifest_error(tmp_path / "nowhere") == \
        f"{tmp_path / 'nowhere'}: no such folder: expected the output folder of `dedup scan`"


def test_a_manifest_of_another_format_is_refused(tmp_path):
    message = manifest_error(make_folder(tmp_path, format="dedup.scan/2"))
    assert message.startswith(f"{tmp_path}: not a dedup scan output folder") and "'dedup.scan/2'" in message


def test_an_unfinished_scan_is_refused_with_how_to_resume(tmp_path):
    message = manifest_error(make_folder(tmp_path, state="running"))
    assert message == (f"{tmp_path}: the scan has not finished (state 'running'); run "
                       f"`dedup scan ... --out {tmp_path} --resume` to finish it")


@pytest.mark.parametrize("content", ["{\"format\": ", "[1, 2]", "\xff"])
def test_a_manifest_that_does_not_parse_is_refused_naming_it(tmp_path, content):
    make_folder(tmp_path)
    (tmp_path / MANIFEST).write_bytes(content.encode("latin-1"))
    assert manifest_error(tmp_path).startswith(f"{tmp_path / MANIFEST}: ")


def test_an_unknown_output_is_refused_naming_the_manifest(tmp_path):
    assert manifest_error(make_folder(tmp_path, output="csv")).startswith(f"{tmp_path / MANIFEST}: unknown output 'csv'")


@pytest.mark.parametrize("missing", ["findings.jsonl", STATS])
def test_a_missing_file_of_the_output_is_refused_naming_it(tmp_path, missing):
    make_folder(tmp_path)
    (tmp_path / missing).unlink()
    assert manifest_error(tmp_path).startswith(f"{tmp_path / missing}: missing")


def test_the_findings_file_is_the_one_the_manifest_names(tmp_path):
    assert manifest_error(make_folder(tmp_path, "parquet", output="jsonl")).startswith(
        f"{tmp_path / 'findings.jsonl'}: missing")


# --- damaged findings files --------------------------------------------------------------------

@pytest.mark.parametrize("line", ['{"kind": "exact"', '[]', '{"kind": "twin", "scope": "document"}',
                                  '{"kind": "exact", "scope": "document", "score": "1", "sentence": {}, "match": {}}',
                                  ('{"kind": "exact", "scope": "document", "score": 1.0, "sentence": {"doc": "a"}, '
                                   '"match": {}}')])
def test_a_line_that_is_no_finding_is_an_error_naming_file_and_line(tmp_path, line):
    good = Finding("exact", "document", 1.0, Span("a", 9, 10, 2, 1, "x"), Span("a", 0, 1, 1, 1, "x"))
    (tmp_path / "findings.jsonl").write_text(good.to_json() + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ScanOutputError, match=rf"^{re.escape(str(tmp_path / 'findings.jsonl'))}:2: not a finding: "):
        list(read_findings(tmp_path))


def test_a_parquet_file_of_other_columns_is_an_error_naming_it(tmp_path):
    pq.write_table(pa.table({"kind": ["exact"], "text": ["x"]}), tmp_path / "findings.parquet")
    with pytest.raises(ScanOutputError, match=r"findings\.parquet: not a findings file: no 'scope' column"):
        list(read_findings(tmp_path))
    (tmp_path / "findings.parquet").write_bytes(b"PAR1 cut short")
    with pytest.raises(ScanOutputError, match=r"findings\.parquet: not a readable Parquet file: "):
        list(read_findings(tmp_path))


def test_both_findings_files_without_saying_which_is_an_error(tmp_path):
    (tmp_path / "findings.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "findings.parquet").write_bytes(b"")
    with pytest.raises(ScanOutputError, match="findings.jsonl and findings.parquet"):
        read_findings(tmp_path)
    assert list(read_findings(tmp_path, "jsonl")) == []
