"""Readers: turn files into Documents, chosen by file extension.

Plain text is one document; Markdown and HTML are one document each, with markup blanked out
of the text the engine reads (offsets stay those of the source file); JSON Lines, CSV and
Parquet files are collections of records (Parquet read a batch of rows at a time, with pyarrow). Plain text and each record's text are read as one text per
paragraph when their lines are hard-wrapped (`wrap.unwrap`). Ignore directives (``<!-- dedup:
ignore -->`` comments, ``dedup: ignore`` lines of plain text, a record's ``dedup`` field) are
read by `directives`. Errors name the file (and line) and the problem. Only regular files are
read, within the size limits of `limits.ReadLimits`.
"""
from __future__ import annotations

import io
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..model import Document
from .directives import DirectiveError, read_plain
from .errors import InputError, printable
from .limits import DEFAULT_LIMITS, ReadLimits, read_file, read_stream
from .parquet import read_parquet, read_parquet_file
from .records import read_csv, read_jsonl

__all__ = ["READERS", "InputError", "ReadLimits", "format_of", "printable", "read_bytes", "read_path", "read_stdin"]

Reader = Callable[[str, str], Document]


def _plain(path: str, text: str) -> Document:
    with _directive_errors(path, text):
        return read_plain(path, text)


def _markdown(path: str, text: str) -> Document:
    from .markdown import read_markdown
    with _directive_errors(path, text):
        return read_markdown(path, text)


def _html(path: str, text: str) -> Document:
    from .html import read_html
    with _directive_errors(path, text):
        return read_html(path, text)


@contextmanager
def _directive_errors(path: str, text: str) -> Iterator[None]:
    """A DirectiveError as an InputError naming the file and the directive's line."""
    try:
        yield
    except DirectiveError as err:
        raise InputError(f"{path}:{text.count(chr(10), 0, err.offset) + 1}: {err}") from None


READERS: dict[str, Reader] = {"text": _plain, "markdown": _markdown, "html": _html}
_EXTENSIONS = {
    ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown", ".mkd": "markdown", ".mdx": "markdown",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet",
}


def format_of(path: str) -> str:
    """The reader a path gets: markdown, html, jsonl, csv, parquet or text (anything else)."""
    return _EXTENSIONS.get(Path(path).suffix.lower(), "text")


def read_path(path: str, id_field: str = "id", text_field: str = "text",
              limits: ReadLimits = DEFAULT_LIMITS, name: str | None = None) -> Iterator[Document]:
    """The documents in one regular file, read by its extension, within `limits`; documents and
    errors name the file as `printable` shows it (or `name`, the path as the user gave it)."""
    shown = printable(path if name is None else name)
    if os.path.isdir(path):
        raise InputError(f"{shown}: is a directory")
    if format_of(path) == "parquet":  # read a batch of rows at a time, never whole
        return read_parquet_file(path, shown, id_field, text_field, limits)
    return read_bytes(shown, read_file(path, shown, limits.max_file_bytes), id_field, text_field, limits)


def read_stdin(name: str = "-", id_field: str = "id", text_field: str = "text",
               limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[Document]:
    """Standard input as documents named `name`, read by the extension of `name`, within `limits`."""
    shown = printable(name)
    return read_bytes(shown, read_stream(sys.stdin.buffer, shown, limits.max_file_bytes), id_field, text_field,
                      limits)


def read_bytes(path: str, data: bytes, id_field: str = "id", text_field: str = "text",
               limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[Document]:
    """Decode `data` read from `path` into documents; errors name `path`."""
    if format_of(path) == "parquet":
        return read_parquet(path, io.BytesIO(data), id_field, text_field, limits)
    if b"\x00" in data[:8192]:
        raise InputError(f"{path}: looks like a binary file", unreadable=True)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: invalid UTF-8 (byte {err.start})", unreadable=True) from None
    kind = format_of(path)
    if kind == "jsonl":
        return read_jsonl(path, text, id_field, text_field, limits)
    if kind == "csv":
        return read_csv(path, text, id_field, text_field, limits)
    return iter([READERS[kind](path, text)])
