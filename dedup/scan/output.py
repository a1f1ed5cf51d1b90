"""The output folder of ``dedup scan``: its findings written a chunk at a time, and read back.

The folder (``DIR``) holds:

- ``dedup-scan.json``, the manifest: ``{"format": "dedup.scan/1", "state": "running" |
  "complete", "output": "jsonl" | "parquet", "inputs": [...], "settings": {...}}``;
- ``findings.jsonl``: one finding a line, byte for byte what ``dedup check --format jsonl``
  writes for it (`Finding.to_json`), in check's order; or, when the output is ``parquet``,
  ``findings.parquet``: the same findings as rows of the columns `PARQUET_COLUMNS` (the
  report schema's finding fields: kind, scope, score, sentence and match as structs of doc,
  start, end, line, column and text, group, structural), in row groups of `ROW_GROUP_ROWS`;
- ``stats.json``: the report's stats object (``dedup check --format json``'s ``"stats"``).

`FindingWriter` writes the findings file through a temporary file in ``DIR`` renamed over the
final name when it is closed without an error, so a crash never leaves a half-written file
under that name. `open_scan_output` checks the manifest (the folder is a scan's, the scan has
finished, its findings file is there) and gives a `ScanOutput` whose findings and stats are
read with `read_findings` (a batch at a time: a large file never sits whole in memory) and
`read_stats`. Every problem is a `ScanOutputError`, an InputError (exit status 2) naming the
file. Parquet needs pyarrow (``pip install 'dedup-prose[parquet]'``).
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Literal, Self, get_args

from ..atomic import write_atomically
from ..model import Finding, Span
from ..readers.errors import InputError, printable
from ..readers.parquet import import_pyarrow

__all__ = ["FINDINGS_FILES", "FORMAT", "MANIFEST", "OUTPUTS", "PARQUET_COLUMNS", "ROW_GROUP_ROWS", "STATS",
           "FindingWriter", "ScanOutput", "ScanOutputError", "open_scan_output", "read_findings", "read_stats",
           "require_output", "write_stats"]

Output = Literal["jsonl", "parquet"]
OUTPUTS: Final[tuple[Output, ...]] = get_args(Output)
FORMAT: Final = "dedup.scan/1"
MANIFEST: Final = "dedup-scan.json"
STATS: Final = "stats.json"
FINDINGS_FILES: Final[dict[str, str]] = {"jsonl": "findings.jsonl", "parquet": "findings.parquet"}
ROW_GROUP_ROWS: Final = 65_536
"""Findings per Parquet row group: what the writer holds at a time."""
READ_BATCH_ROWS: Final = 8192
"""Findings the reader turns into Python objects at a time (Arrow decodes a row group at a time)."""
SPAN_COLUMNS: Final = ("doc", "start", "end", "line", "column", "text")
PARQUET_COLUMNS: Final = ("kind", "scope", "score", "sentence", "match", "group", "structural")
_KINDS = frozenset(("exact", "normalized", "near", "contained", "conflict"))
_SCOPES = frozenset(("document", "corpus", "archive"))


class ScanOutputError(InputError):
    """A scan output folder that cannot be read or written as asked: one line naming the file."""


def _shown(path: Path | str) -> str:
    return printable(os.fspath(path))


def require_output(output: str, directory: Path | str = ".") -> None:
    """ScanOutputError unless `output` is one this machine can write (``parquet`` needs pyarrow);
    call it before a long scan, so that a missing extra is said before the work, not after."""
    if output not in OUTPUTS:
        raise ScanOutputError(f"unknown scan output {output!r} (choose from {', '.join(OUTPUTS)})")
    if output == "parquet":
        _pyarrow(Path(directory) / FINDINGS_FILES["parquet"], "writing")


def _pyarrow(path: Path, doing: str) -> tuple[Any, Any]:
    try:
        return import_pyarrow(_shown(path), doing)
    except InputError as err:
        raise ScanOutputError(str(err)) from None


# --- writing ---------------------------------------------------------------------------------

class FindingWriter:
    """Writes the findings of a scan to ``DIR/findings.jsonl`` or ``DIR/findings.parquet``.

    ``with FindingWriter(directory, "parquet") as writer: writer.write(chunk)``, as many chunks
    as there are, in report order. The file appears under its name only when the block ends
    without an error (then a findings file of the other output left in the folder by an earlier
    run is removed, so that the folder holds one); on an error the temporary file is removed and
    whatever was under the name stays as it was. `written` counts the findings written.

    Parquet stores a score as a double: a finding whose score is an int (the engine writes
    floats) comes back with ``1.0`` for ``1``; everything else comes back as written."""

    def __init__(self, directory: Path | str, output: str = "jsonl", *, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        require_output(output, directory)
        if row_group_rows < 1:
            raise ValueError(f"row_group_rows must be at least 1, not {row_group_rows}")
        self.directory = Path(directory)
        self.output = output
        self.path = self.directory / FINDINGS_FILES[output]
        self.written = 0
        self._row_group_rows = row_group_rows
        self._temporary: str | None = None
        self._text: IO[str] | None = None
        self._parquet: Any = None
        self._pending: list[Finding] = []

    def __enter__(self) -> Self:
        handle, self._temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            if self.output == "jsonl":
                self._text = os.fdopen(handle, "w", encoding="utf-8", newline="\n")
            else:
                os.close(handle)
                pa, pq = _pyarrow(self.path, "writing")
                self._parquet = pq.ParquetWriter(self._temporary, parquet_schema(pa), compression="zstd")
        except BaseException:
            self._abort()
            raise
        return self

    def write(self, findings: Iterable[Finding]) -> None:
        """Append `findings` (one chunk, in report order)."""
        if self._temporary is None:
            raise RuntimeError("FindingWriter.write outside its `with` block")
        if self._text is not None:
            chunk = list(findings)
            self._text.write("".join([f.to_json() + "\n" for f in chunk]))
            self.written += len(chunk)
            return
        for finding in findings:
            self._pending.append(finding)
            if len(self._pending) >= self._row_group_rows:
                self._write_row_group()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if kind is not None:
            self._abort()
            return
        try:
            self._commit()
        except BaseException:
            self._abort()
            raise

    def _write_row_group(self) -> None:
        import pyarrow as pa

        rows, self._pending = self._pending, []
        self._parquet.write_table(findings_table(pa, rows), row_group_size=len(rows))
        self.written += len(rows)

    def _commit(self) -> None:
        assert self._temporary is not None
        if self._text is not None:
            self._text.flush()
            os.fsync(self._text.fileno())
            self._text.close()
            self._text = None
        else:
            if self._pending:
                self._write_row_group()
            self._parquet.close()
            self._parquet = None
            _fsync_file(self._temporary)
        os.chmod(self._temporary, 0o644)
        os.replace(self._temporary, self.path)
        self._temporary = None
        for other in set(FINDINGS_FILES.values()) - {self.path.name}:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.directory / other)
        _fsync_directory(self.directory)

    def _abort(self) -> None:
        with contextlib.suppress(Exception):
            if self._text is not None:
                self._text.close()
        with contextlib.suppress(Exception):
            if self._parquet is not None:
                self._parquet.close()
        self._text = self._parquet = None
        if self._temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._temporary)
        self._temporary = None


def parquet_schema(pa: Any) -> Any:
    """The Arrow schema of ``findings.parquet``: the finding fields of the report schema."""
    span = pa.struct([pa.field("doc", pa.string(), nullable=False), pa.field("start", pa.int64(), nullable=False),
                      pa.field("end", pa.int64(), nullable=False), pa.field("line", pa.int64(), nullable=False),
                      pa.field("column", pa.int64(), nullable=False), pa.field("text", pa.string(), nullable=False)])
    return pa.schema([pa.field("kind", pa.string(), nullable=False), pa.field("scope", pa.string(), nullable=False),
                      pa.field("score", pa.float64(), nullable=False), pa.field("sentence", span, nullable=False),
                      pa.field("match", span, nullable=False), pa.field("group", pa.int64(), nullable=False),
                      pa.field("structural", pa.bool_(), nullable=False)],
                     metadata={"dedup": f"{FORMAT} findings: the finding objects of dedup.report/1"})


def findings_table(pa: Any, findings: list[Finding]) -> Any:
    """`findings` as one Arrow table of `parquet_schema`, built column by column."""
    schema = parquet_schema(pa)

    def spans(side: list[Span], kind: Any) -> Any:
        return pa.StructArray.from_arrays(
            [pa.array([s.doc for s in side], pa.string()), pa.array([s.start for s in side], pa.int64()),
             pa.array([s.end for s in side], pa.int64()), pa.array([s.line for s in side], pa.int64()),
             pa.array([s.column for s in side], pa.int64()), pa.array([s.text for s in side], pa.string())],
            fields=list(kind))

    span_type = schema.field("sentence").type
    columns = [pa.array([f.kind for f in findings], pa.string()), pa.array([f.scope for f in findings], pa.string()),
               pa.array([float(f.score) for f in findings], pa.float64()),
               spans([f.sentence for f in findings], span_type), spans([f.match for f in findings], span_type),
               pa.array([f.group for f in findings], pa.int64()),
               pa.array([bool(f.structural) for f in findings], pa.bool_())]
    return pa.Table.from_arrays(columns, schema=schema)


def write_stats(directory: Path | str, stats: dict[str, Any]) -> None:
    """``DIR/stats.json``, atomically (the report's stats object as it is)."""
    write_atomically(Path(directory) / STATS, json.dumps(stats, ensure_ascii=False, indent=2) + "\n")


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScanOutput:
    """A finished scan's output folder, its manifest checked (see `open_scan_output`)."""

    directory: Path
    output: Output
    manifest: dict[str, Any] = field(repr=False)

    @property
    def findings_path(self) -> Path:
        return self.directory / FINDINGS_FILES[self.output]

    @property
    def inputs(self) -> list[dict[str, Any]]:
        """The manifest's inputs (``{"path", "size", "mtime_ns"}`` each), those well formed."""
        inputs = self.manifest.get("inputs")
        return [i for i in inputs if isinstance(i, dict)] if isinstance(inputs, list) else []

    @property
    def settings(self) -> dict[str, Any]:
        """The manifest's detection settings and its reading options (``id_field``, ``text_field``)."""
        settings = self.manifest.get("settings")
        reading = self.manifest.get("reading")
        return {**(settings if isinstance(settings, dict) else {}), **(reading if isinstance(reading, dict) else {})}

    def findings(self) -> Iterator[Finding]:
        """The findings, in report order, a batch at a time."""
        return read_findings(self.directory, self.output)

    def stats(self) -> dict[str, Any]:
        return read_stats(self.directory)


def open_scan_output(directory: Path | str) -> ScanOutput:
    """The scan output folder `directory`, checked: a folder with a manifest of format
    `FORMAT`, state ``complete``, a known output and its findings and stats files there.
    ScanOutputError naming the folder or the file otherwise."""
    directory = Path(directory)
    if not directory.is_dir():
        problem = "not a folder" if directory.exists() else "no such folder"
        raise ScanOutputError(f"{_shown(directory)}: {problem}: expected the output folder of `dedup scan`")
    manifest = _read_manifest(directory)
    state = manifest.get("state")
    if state != "complete":
        raise ScanOutputError(f"{_shown(directory)}: the scan has not finished (state {state!r}); run "
                              f"`dedup scan ... --out {_shown(directory)} --resume` to finish it")
    output = manifest.get("output")
    if output not in OUTPUTS:
        raise ScanOutputError(f"{_shown(directory / MANIFEST)}: unknown output {output!r} "
                              f"(expected {' or '.join(map(repr, OUTPUTS))})")
    for name in (FINDINGS_FILES[output], STATS):
        if not (directory / name).is_file():
            raise ScanOutputError(f"{_shown(directory / name)}: missing: the scan is marked complete, "
                                  "but this file of its output is not there")
    return ScanOutput(directory, output, manifest)


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScanOutputError(f"{_shown(directory)}: not a dedup scan output folder (no {MANIFEST})") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ScanOutputError(f"{_shown(path)}: cannot read the manifest: {_reason(err)}") from None
    try:
        manifest = json.loads(text)
    except ValueError as err:
        raise ScanOutputError(f"{_shown(path)}: the manifest is not valid JSON: {_reason(err)}") from None
    if not isinstance(manifest, dict):
        raise ScanOutputError(f"{_shown(path)}: the manifest is not a JSON object")
    if manifest.get("format") != FORMAT:
        raise ScanOutputError(f"{_shown(directory)}: not a dedup scan output folder ({MANIFEST} has format "
                              f"{manifest.get('format')!r}, not {FORMAT!r})")
    return manifest


def read_stats(directory: Path | str) -> dict[str, Any]:
    """The stats object of ``DIR/stats.json``; ScanOutputError naming the file when it is
    missing, unreadable or no JSON object."""
    path = Path(directory) / STATS
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScanOutputError(f"{_shown(path)}: missing: no stats file in the scan output folder") from None
    except (OSError, ValueError) as err:
        raise ScanOutputError(f"{_shown(path)}: cannot read the stats: {_reason(err)}") from None
    if not isinstance(stats, dict):
        raise ScanOutputError(f"{_shown(path)}: the stats are not a JSON object")
    return stats


def read_findings(directory: Path | str, output: str | None = None) -> Iterator[Finding]:
    """The findings of ``DIR/findings.jsonl`` or ``DIR/findings.parquet`` (`output`; None: the
    one there), rebuilt exactly (``to_json()`` gives each line's bytes back), in file order and
    a batch at a time. ScanOutputError naming the file (and line or row) for a missing file or
    a line or row that is no finding. The manifest is not read: `open_scan_output` checks it."""
    directory = Path(directory)
    if output is None:
        present = [name for name in OUTPUTS if (directory / FINDINGS_FILES[name]).is_file()]
        if len(present) != 1:
            names = " and ".join(FINDINGS_FILES[name] for name in present) or "no findings file"
            raise ScanOutputError(f"{_shown(directory)}: {names}: expected one of "
                                  f"{', '.join(FINDINGS_FILES.values())}")
        output = present[0]
    if output not in OUTPUTS:
        raise ScanOutputError(f"unknown scan output {output!r} (choose from {', '.join(OUTPUTS)})")
    path = directory / FINDINGS_FILES[output]
    if not path.is_file():
        raise ScanOutputError(f"{_shown(path)}: missing: no findings file in the scan output folder")
    return _read_jsonl(path) if output == "jsonl" else _read_parquet(path)


def _read_jsonl(path: Path) -> Iterator[Finding]:
    shown = _shown(path)
    try:
        with path.open(encoding="utf-8", newline="\n") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except ValueError as err:
                    raise ScanOutputError(f"{shown}:{number}: not a finding: {_reason(err)}") from None
                yield _finding(data, f"{shown}:{number}")
    except UnicodeDecodeError as err:
        raise ScanOutputError(f"{shown}: invalid UTF-8 (byte {err.start} of a block)") from None
    except OSError as err:
        raise ScanOutputError(f"{shown}: cannot read: {_reason(err)}") from None


def _finding(data: Any, where: str) -> Finding:
    if not isinstance(data, dict):
        raise ScanOutputError(f"{where}: not a finding: expected a JSON object")
    kind, scope, score = data.get("kind"), data.get("scope"), data.get("score")
    group, structural = data.get("group", 0), data.get("structural", False)
    if kind not in _KINDS or scope not in _SCOPES:
        raise ScanOutputError(f"{where}: not a finding: kind {kind!r}, scope {scope!r}")
    if type(score) not in (int, float) or type(group) is not int or type(structural) is not bool:
        raise ScanOutputError(f"{where}: not a finding: score {score!r}, group {group!r}, structural {structural!r}")
    return Finding(kind, scope, score, _span(data.get("sentence"), where),  # type: ignore[arg-type]
                   _span(data.get("match"), where), group, structural)


def _span(data: Any, where: str) -> Span:
    if not isinstance(data, dict) or list(data) != list(SPAN_COLUMNS):
        raise ScanOutputError(f"{where}: not a finding: a passage needs exactly {', '.join(SPAN_COLUMNS)}")
    doc, start, end, line, column, text = (data[key] for key in SPAN_COLUMNS)
    if not (type(doc) is str and type(text) is str and type(start) is int and type(end) is int
            and type(line) is int and type(column) is int):
        raise ScanOutputError(f"{where}: not a finding: a passage of doc and text strings and integer offsets")
    return Span(doc, start, end, line, column, text)


def _read_parquet(path: Path) -> Iterator[Finding]:
    shown = _shown(path)
    pa, pq = _pyarrow(path, "reading")
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise ScanOutputError(f"{shown}: not a readable Parquet file: {_reason(err)}") from None
    _check_columns(pa, parquet.schema_arrow, shown)
    row = 0
    try:
        for batch in parquet.iter_batches(batch_size=READ_BATCH_ROWS):
            columns = _batch_columns(batch, shown, row)
            for values in zip(*columns):
                row += 1
                yield _parquet_finding(values, f"{shown}: row {row}")
    except (pa.ArrowException, OSError) as err:
        raise ScanOutputError(f"{shown}: not a readable Parquet file (after row {row}): {_reason(err)}") from None


def _check_columns(pa: Any, schema: Any, shown: str) -> None:
    expected = parquet_schema(pa)
    for name in ("kind", "scope", "score", "sentence", "match"):
        if name not in schema.names:
            raise ScanOutputError(f"{shown}: not a findings file: no {name!r} column (columns: "
                                  f"{', '.join(schema.names) or 'none'})")
    for name in PARQUET_COLUMNS:
        if name in schema.names and not schema.field(name).type.equals(expected.field(name).type):
            raise ScanOutputError(f"{shown}: not a findings file: column {name!r} holds {schema.field(name).type}, "
                                  f"not {expected.field(name).type}")


def _batch_columns(batch: Any, shown: str, rows_before: int) -> list[list[Any]]:
    """The batch's columns as Python lists: kind, scope, score, the sentence's six, the match's
    six, group, structural."""
    names = batch.schema.names
    size = batch.num_rows
    columns: list[list[Any]] = []
    for name in ("kind", "scope", "score", "sentence", "match", "group", "structural"):
        if name not in names:  # group and structural may be left out: 0 and false
            columns.append([0 if name == "group" else False] * size)
            continue
        array = batch.column(names.index(name))
        for part in array.flatten() if name in ("sentence", "match") else [array]:
            if part.null_count or array.null_count:
                raise ScanOutputError(f"{shown}: not a finding: a null {name!r} in rows {rows_before + 1} to "
                                      f"{rows_before + size}")
            columns.append(part.to_pylist())
    return columns


def _parquet_finding(values: tuple[Any, ...], where: str) -> Finding:
    kind, scope, score = values[0], values[1], values[2]
    if kind not in _KINDS or scope not in _SCOPES:
        raise ScanOutputError(f"{where}: not a finding: kind {kind!r}, scope {scope!r}")
    return Finding(kind, scope, score, Span(*values[3:9]), Span(*values[9:15]), values[15], values[16])


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
