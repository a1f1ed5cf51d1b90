"""Readers: turn files into Documents. Plain text is one document; a ``.jsonl`` file is a
collection of ``{"id", "text"}`` records. Errors name the file (and line) and the problem."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterator

from .model import Document


class InputError(Exception):
    """A file that cannot be read as a document: the message names the file and the problem."""


def read_path(path: str, id_field: str = "id", text_field: str = "text") -> Iterator[Document]:
    """The documents in one file, chosen by extension (``.jsonl`` or plain text)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file")
    if p.is_dir():
        raise InputError(f"{path}: is a directory (pass files)")
    try:
        data = p.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None
    return read_bytes(path, data, id_field, text_field)


def read_stdin(name: str = "-") -> Iterator[Document]:
    """Standard input as one plain-text document named `name`."""
    return read_bytes(name, sys.stdin.buffer.read())


def read_bytes(path: str, data: bytes, id_field: str = "id", text_field: str = "text") -> Iterator[Document]:
    """Decode `data` read from `path` into documents; errors name `path`."""
    if b"\x00" in data[:8192]:
        raise InputError(f"{path}: looks like a binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: invalid UTF-8 (byte {err.start})") from None
    if path.lower().endswith(".jsonl"):
        return _jsonl_records(path, text, id_field, text_field)
    return iter([Document(path, text)])


def _jsonl_records(path: str, text: str, id_field: str, text_field: str) -> Iterator[Document]:
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 may sit in a string
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{number}: malformed JSON: {err.msg}") from None
        if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
            raise InputError(f"{path}:{number}: expected an object with a string {text_field!r} field")
        yield Document(str(record.get(id_field, f"{path}:{number}")), record[text_field])
