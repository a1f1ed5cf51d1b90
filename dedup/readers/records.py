"""Collections of records: JSON Lines (``.jsonl``, ``.ndjson``) and CSV (``.csv``, ``.tsv``).

Each record is one document: its id from `id_field` (default ``id``; the file and record
number when absent), its text from `text_field` (default ``text``), read as plain text: a
hard-wrapped one as one text per paragraph (`wrap.unwrap`), with ``dedup: ignore`` lines
(`directives.read_plain`). A record's ``dedup`` field (``"ignore"``, ``"ignore DD003"``)
covers the whole record (`directives.record_directive`).
"""
from __future__ import annotations

import csv
import io
import json
from typing import Iterator

from ..model import Document
from .directives import FIELD, Directive, DirectiveError, read_plain, record_directive
from .errors import InputError


def read_jsonl(path: str, text: str, id_field: str = "id", text_field: str = "text") -> Iterator[Document]:
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 may sit in a string
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{number}: malformed JSON: {err.msg}") from None
        if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
            raise InputError(f"{path}:{number}: expected an object with a string {text_field!r} field")
        where = f"{path}:{number}"
        yield _record(_record_id(record.get(id_field), path, number), record[text_field], where,
                      _whole(record.get(FIELD), where))


def read_csv(path: str, text: str, id_field: str = "id", text_field: str = "text") -> Iterator[Document]:
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    rows = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = rows.fieldnames or []
        if text_field not in header:
            raise InputError(f"{path}:1: no {text_field!r} column (columns: {', '.join(header) or 'none'})")
        for row in rows:
            value = row.get(text_field)
            if value is None:
                raise InputError(f"{path}:{rows.line_num}: row has fewer fields than the header")
            where = f"{path}:{rows.line_num}"
            yield _record(_record_id(row.get(id_field), path, rows.line_num), value, where,
                          _whole(row.get(FIELD), where))
    except csv.Error as err:
        raise InputError(f"{path}:{rows.line_num}: malformed CSV: {err}") from None


def _record(doc_id: str, text: str, where: str, whole: Directive | None) -> Document:
    try:
        return read_plain(doc_id, text, whole)
    except DirectiveError as err:
        line = text.count("\n", 0, err.offset) + 1
        raise InputError(f"{where}: {err} (line {line} of the record's text)") from None


def _whole(value: object, where: str) -> Directive | None:
    """The directive of a record's ``dedup`` field; InputError naming the record for a bad one."""
    try:
        return record_directive(value)
    except ValueError as err:
        raise InputError(f"{where}: {err}") from None


def _record_id(value: object, path: str, number: int) -> str:
    return f"{path}:{number}" if value is None or value == "" else str(value)
