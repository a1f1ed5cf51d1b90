"""The error every reader raises for input it cannot read, and `printable` for the names it gives."""
from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


class InputError(Exception):
    """A file that cannot be read as a document: the message names the file (and line) and the problem.

    `unreadable` marks a file that is not text at all (binary, invalid UTF-8, no permission): a
    run over many files may skip it; anything else (a missing path, a malformed record) stops it."""

    def __init__(self, message: str, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable


def printable(name: str) -> str:
    """`name` (a path or a record id) as it can be shown on one line and written as UTF-8.

    A file name that is not UTF-8 reaches Python with its bad bytes as lone surrogates
    (``surrogateescape``); those come back as ``\\xff``, other lone surrogates as ``\\udc80``,
    and control characters (a newline in a name) as ``\\n`` or ``\\x1b``. Any other name is
    returned unchanged."""
    if not _UNPRINTABLE.search(name):
        return name
    return _UNPRINTABLE.sub(_escape, name)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
