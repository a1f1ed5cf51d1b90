"""Parquet files (``.parquet``) as collections of records, like JSON Lines and CSV.

Each row is one document: its id from the `id_field` column (default ``id``; ``FILE:ROW``,
rows numbered from 1, when the column is absent or the value null or empty), its text from the
`text_field` column (default ``text``), read as plain text as a JSONL record's is
(`records.record_document`), and a ``dedup`` column, when there is one, as the record's ignore
directive. Only those columns are read, a batch of rows at a time (`BATCH_ROWS`, within one
row group), so a file larger than memory in other columns, or in rows, is never read whole.

pyarrow is an optional dependency (``pip install 'dedup-prose[parquet]'``); `import_pyarrow`
says so in one line when it is missing. Every problem is an InputError naming the file (and the
row): a file that is not Parquet, a missing text column, a text column that holds no strings, a
null text, invalid UTF-8, a row over the record limit.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from ..model import Document
from .directives import FIELD
from .errors import InputError
from .limits import DEFAULT_LIMITS, ReadLimits, open_regular
from .records import record_directive_of, record_document, record_id

__all__ = ["BATCH_ROWS", "INSTALL_HINT", "import_pyarrow", "read_parquet", "read_parquet_file"]

BATCH_ROWS = 8192
INSTALL_HINT = "pip install 'dedup-prose[parquet]'"


def import_pyarrow(shown: str, doing: str) -> tuple[Any, Any]:
    """``(pyarrow, pyarrow.parquet)``; an InputError naming `shown` and the extra to install when
    pyarrow is missing (`doing`: "reading", "writing")."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InputError(f"{shown}: {doing} Parquet needs pyarrow: {INSTALL_HINT}") from None
    return pyarrow, pyarrow.parquet


def read_parquet_file(path: str, shown: str, id_field: str = "id", text_field: str = "text",
                      limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[Document]:
    """The documents of the regular file `path` (named `shown`), whose size on disk must be within
    ``limits.max_file_bytes``."""
    import_pyarrow(shown, "reading")  # before opening: the missing extra is the first thing to say
    handle = open_regular(path, shown, limits.max_file_bytes)
    return _closing(handle, read_parquet(shown, handle, id_field, text_field, limits))


def _closing(handle: IO[bytes], documents: Iterator[Document]) -> Iterator[Document]:
    with handle:
        yield from documents


def read_parquet(path: str, source: IO[bytes], id_field: str = "id", text_field: str = "text",
                 limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[Document]:
    """The documents of the Parquet data in `source` (a binary file), named `path` in ids and errors."""
    pa, pq = import_pyarrow(path, "reading")
    try:
        parquet = pq.ParquetFile(source)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable Parquet file: {_first_line(err)}") from None
    names = parquet.schema_arrow.names
    if text_field not in names:
        raise InputError(f"{path}: no {text_field!r} column (columns: {', '.join(names) or 'none'})")
    _require_strings(pa, path, text_field, parquet.schema_arrow.field(text_field).type)
    columns = list(dict.fromkeys(c for c in (text_field, id_field, FIELD) if c in names))
    row = 0
    try:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns, use_threads=False):
            values = {name: _values(batch.column(columns.index(name)), path, name, row) for name in columns}
            texts = values[text_field]
            ids = values.get(id_field) or [None] * len(texts)
            directives = values.get(FIELD) or [None] * len(texts)
            for text, doc_id, directive in zip(texts, ids, directives):
                row += 1
                yield _document(path, row, text, doc_id, directive, text_field, limits)
    except (pa.ArrowException, OSError) as err:  # a damaged page, a file cut short
        raise InputError(f"{path}: not a readable Parquet file (after row {row}): {_first_line(err)}") from None


def _document(path: str, row: int, text: object, doc_id: object, directive: object, text_field: str,
              limits: ReadLimits) -> Document:
    where = f"{path}:{row}"
    if not isinstance(text, str):
        raise InputError(f"{where}: the {text_field!r} field is null; every row needs a text")
    if limits.max_record_bytes and 4 * len(text) > limits.max_record_bytes:
        limits.check_record(path, row, len(text.encode("utf-8")) + len(str(doc_id or "").encode("utf-8")))
    return record_document(record_id(doc_id, path, row), text, where, record_directive_of(directive, where))


def _require_strings(pa: Any, path: str, column: str, kind: Any) -> None:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)):
        raise InputError(f"{path}: column {column!r} holds {kind}, not strings: the text must be a string column")


def _values(column: Any, path: str, name: str, rows_before: int) -> list[Any]:
    """A column of one batch as Python values; invalid UTF-8 is an error naming its row."""
    try:
        return column.to_pylist()  # type: ignore[no-any-return]
    except UnicodeDecodeError:
        for index in range(len(column)):
            try:
                column[index].as_py()
            except UnicodeDecodeError as err:
                raise InputError(f"{path}:{rows_before + index + 1}: invalid UTF-8 in column {name!r} "
                                 f"(byte {err.start})") from None
        raise


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
