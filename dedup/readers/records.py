"""Collections of records: JSON Lines (``.jsonl``, ``.ndjson``) and CSV (``.csv``, ``.tsv``).

Each record is one document: its id from `id_field` (default ``id``; the file and record
number when absent), its text from `text_field` (default ``text``), read as plain text: a
hard-wrapped one as one text per paragraph (`wrap.unwrap`), with ``dedup: ignore`` lines
(`directives.read_plain`). A record's ``dedup`` field (``"ignore"``, ``"ignore DD003"``)
covers the whole record (`directives.record_directive`).

Every problem stops the reading with an InputError naming the file and the line: malformed
JSON, JSON nested deeper than `MAX_JSON_DEPTH` (refused before parsing, so no recursion runs
out), a string holding a lone surrogate (no valid Unicode: it could not be written out again),
a record over the size limit, and CSV that does not parse strictly: above all a quoted field
never closed, which would otherwise take in every record after it.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import sys
from typing import Iterator

from ..model import Document
from .directives import FIELD, Directive, DirectiveError, read_plain, record_directive
from .errors import InputError, printable
from .limits import DEFAULT_LIMITS, ReadLimits

MAX_JSON_DEPTH = 64
"""A record is an object of strings and numbers: deeper nesting is refused, never parsed."""

_BRACKET = re.compile(r"[\[\]{}]")
_JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def read_jsonl(path: str, text: str, id_field: str = "id", text_field: str = "text",
               limits: ReadLimits = DEFAULT_LIMITS, first_line: int = 1) -> Iterator[Document]:
    """The records of `text`, the JSONL file `path` from its line `first_line` on (a shard of it)."""
    for number, line in enumerate(text.split("\n"), start=first_line):  # not splitlines: U+2028 may sit in a string
        if not line.strip():
            continue
        if limits.max_record_bytes and 4 * len(line) > limits.max_record_bytes:
            limits.check_record(path, number, len(line.encode("utf-8")))
        record = _parse_json(path, number, line)
        if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
            raise InputError(f"{path}:{number}: expected an object with a string {text_field!r} field")
        if _SURROGATE_ESCAPE.search(line):
            _refuse_lone_surrogates(path, number, record[text_field])
        where = f"{path}:{number}"
        yield record_document(record_id(record.get(id_field), path, number), record[text_field], where,
                              record_directive_of(record.get(FIELD), where))


def _parse_json(path: str, number: int, line: str) -> object:
    if line.count("[") + line.count("{") > MAX_JSON_DEPTH and json_depth(line) > MAX_JSON_DEPTH:
        raise InputError(f"{path}:{number}: JSON nested deeper than {MAX_JSON_DEPTH} levels; "
                         "a record is one object of strings and numbers")
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        raise InputError(f"{path}:{number}: malformed JSON: {err.msg}") from None
    except ValueError:  # an integer of more than 4,300 digits (sys.int_info.default_max_str_digits)
        raise InputError(f"{path}:{number}: malformed JSON: a number too long to read") from None
    except RecursionError:  # not reached after the depth check; kept so that no input can raise it
        raise InputError(f"{path}:{number}: JSON nested too deeply") from None


def json_depth(line: str) -> int:
    """The deepest nesting of arrays and objects in the JSON text `line` (brackets inside
    strings are not counted), found without recursion."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub("", line)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _refuse_lone_surrogates(path: str, number: int, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InputError(f"{path}:{number}: invalid Unicode: the text holds a lone surrogate "
                         f"(\\u{ord(text[err.start]):04x}), which no UTF-8 file can hold") from None


def read_csv(path: str, text: str, id_field: str = "id", text_field: str = "text",
             limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[Document]:
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    lines = _CountedLines(text)
    with _field_size_limit(limits.max_record_bytes):
        rows = csv.reader(lines, delimiter=delimiter, strict=True)
        header = _next_row(rows, lines, path, text)
        if header is None or text_field not in header:
            found = ", ".join(header or []) or "none"
            raise InputError(f"{path}:1: no {text_field!r} column (columns: {printable(found)})")
        text_at, id_at = header.index(text_field), header.index(id_field) if id_field in header else None
        field_at = header.index(FIELD) if FIELD in header else None
        while True:
            start = lines.count + 1
            row = _next_row(rows, lines, path, text)
            if row is None:
                return
            if not row:  # a blank line
                continue
            if len(row) != len(header):
                raise InputError(f"{path}:{start}: row has {len(row)} fields, the header {len(header)} "
                                 "(an unquoted delimiter in a field, or a missing one?)")
            value = row[text_at]
            if limits.max_record_bytes and 4 * sum(map(len, row)) > limits.max_record_bytes:
                limits.check_record(path, start, sum(len(field.encode("utf-8")) for field in row))
            where = f"{path}:{start}"
            yield record_document(record_id(row[id_at] if id_at is not None else None, path, start), value, where,
                                  record_directive_of(row[field_at] if field_at is not None else None, where))


class _CountedLines:
    """The lines of a text, counting those handed out (the line a CSV error is on)."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.count = 0

    def __iter__(self) -> _CountedLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.count += 1
        return line


def _next_row(rows: Iterator[list[str]], lines: _CountedLines, path: str, text: str) -> list[str] | None:
    start = lines.count + 1
    try:
        return next(rows, None)
    except csv.Error as err:
        if "unexpected end of data" in str(err):
            raise InputError(f"{path}:{start}: unterminated quoted field: the quote opened in this record is "
                             f"never closed (it would take in every line after it)") from None
        if "field larger than field limit" in str(err):
            raise InputError(f"{path}:{start}: record over the limit per record (--max-record-size)") from None
        raise InputError(f"{path}:{lines.count}: malformed CSV: {err} (in the record starting at line "
                         f"{start}; a quote inside a quoted field must be doubled)") from None


@contextlib.contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    """csv's field size limit (131,072 characters by default) raised to the record limit."""
    previous = csv.field_size_limit()
    csv.field_size_limit(limit or sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def record_document(doc_id: str, text: str, where: str, whole: Directive | None) -> Document:
    """One record's text as a plain-text document; `where` (``FILE:LINE``) names it in errors."""
    try:
        return read_plain(doc_id, text, whole)
    except DirectiveError as err:
        line = text.count("\n", 0, err.offset) + 1
        raise InputError(f"{where}: {err} (line {line} of the record's text)") from None


def record_directive_of(value: object, where: str) -> Directive | None:
    """The directive of a record's ``dedup`` field; InputError naming the record for a bad one."""
    try:
        return record_directive(value)
    except ValueError as err:
        raise InputError(f"{where}: {err}") from None


def record_id(value: object, path: str, number: int) -> str:
    """A record's id as shown: its id field's value, else ``FILE:NUMBER``."""
    return f"{path}:{number}" if value is None or value == "" else printable(str(value))
