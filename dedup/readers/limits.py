"""Bounds on what the readers take in: a size limit per file and per record, and regular files only.

`ReadLimits` carries the limits (bytes; 0 means none). `read_file` reads one named file without
ever blocking or reading without end: devices, FIFOs and sockets are refused before anything is
read (open with O_NONBLOCK, then fstat the open file, so a path swapped meanwhile is caught too),
and a file over the limit is refused after reading one byte more than the limit. `read_stream`
reads standard input under the same limit. `parse_size` reads "64 MiB", "512k" or a byte count.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import BinaryIO

from .errors import InputError

__all__ = ["DEFAULT_LIMITS", "DEFAULT_MAX_FILE_BYTES", "DEFAULT_MAX_RECORD_BYTES", "NO_LIMITS", "ReadLimits",
           "format_size", "open_regular", "parse_size", "read_file", "read_stream", "special_kind"]

MIB = 1024 * 1024
DEFAULT_MAX_FILE_BYTES = 1024 * MIB  # 1 GiB: about 4M sentences, near what one `dedup check` can hold
DEFAULT_MAX_RECORD_BYTES = 8 * MIB
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """The most bytes one file, and one JSONL or CSV record, may hold; 0 means no limit."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES

    def check_record(self, path: str, line: int, size: int) -> None:
        """Refuse a record of `size` bytes (UTF-8) starting at `line` of `path` when over the limit."""
        if self.max_record_bytes and size > self.max_record_bytes:
            raise InputError(f"{path}:{line}: record of {format_size(size)} is over the limit of "
                             f"{format_size(self.max_record_bytes)} per record (--max-record-size)")


DEFAULT_LIMITS = ReadLimits()
NO_LIMITS = ReadLimits(0, 0)

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": MIB, "mb": 1000**2, "mib": MIB,
          "g": 1024**3, "gb": 1000**3, "gib": 1024**3}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")
MAX_SIZE = 1 << 40  # 1 TiB: beyond it a limit means nothing on any machine this runs on


def parse_size(text: str | int) -> int:
    """Bytes from ``"64 MiB"``, ``"512k"``, ``"1.5GB"`` or a plain count; 0 means no limit.
    ValueError with the reason for anything else."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _SIZE.fullmatch(text) if isinstance(text, str) else None
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _UNITS:
            raise ValueError(f"expected a size such as 64MiB, 512k or 1000000, not {text!r}")
        value = int(float(match.group(1)) * _UNITS[unit])
    if not 0 <= value <= MAX_SIZE:
        raise ValueError(f"must be from 0 (no limit) to 1 TiB, not {text!r}")
    return value


def format_size(size: int) -> str:
    """A byte count as people read it: 512 bytes, 3.2 KiB, 64 MiB."""
    if size < 1024:
        return f"{size} bytes"
    for unit, scale in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"  # unreachable


_SPECIAL = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
            (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))  # a directory never gets this far


def special_kind(mode: int) -> str | None:
    """What a non-regular file is ("a FIFO", "a character device", ...), None for a regular file."""
    for test, name in _SPECIAL:
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


_FILE_LIMIT = "per file (--max-file-size; exclude the file or raise the limit)"


def read_file(path: str, shown: str, limit: int, limit_name: str = _FILE_LIMIT) -> bytes:
    """The bytes of the regular file `path` (named `shown` in messages), at most `limit` (0: any).

    `limit_name` says which limit in the message. InputError for a special file or one over the
    limit (the run stops), and with `unreadable`
    set for a file that cannot be opened or read (a run over many files may skip it)."""
    fd = _open_file(path, shown)
    try:
        _refuse_special(os.fstat(fd).st_mode, shown)  # the file opened may not be the one looked at
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return _read_limited(handle, shown, limit, limit_name)
    except OSError as err:
        raise InputError(f"{shown}: cannot read: {err.strerror or err}", unreadable=True) from None
    finally:
        os.close(fd)


def open_regular(path: str, shown: str, limit: int) -> BinaryIO:
    """The regular file `path` opened for reading (not read: for formats read piece by piece,
    such as Parquet), under the same rules as `read_file`: a special file is refused before it
    is opened, and again after (a path swapped meanwhile), and a file over `limit` bytes (0: any)
    is refused by its size on disk."""
    fd = _open_file(path, shown)
    try:
        st = os.fstat(fd)
        _refuse_special(st.st_mode, shown)
        if limit and st.st_size > limit:
            raise InputError(f"{shown}: over the limit of {format_size(limit)} {_FILE_LIMIT}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _open_file(path: str, shown: str) -> int:
    """A descriptor of `path` opened for reading without blocking (a FIFO would wait for a
    writer), once a look at it found no special file (a socket cannot even be opened);
    InputError for a missing or unreadable one. The caller checks the opened file again."""
    try:
        _refuse_special(os.stat(path).st_mode, shown)
        return os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file or directory") from None
    except OSError as err:
        raise InputError(f"{shown}: cannot read: {err.strerror or err}", unreadable=True) from None


def _refuse_special(mode: int, shown: str) -> None:
    if stat.S_ISDIR(mode):
        raise InputError(f"{shown}: cannot read: Is a directory", unreadable=True)
    kind = special_kind(mode)
    if kind is not None:
        raise InputError(f"{shown}: {kind}, not a regular file: only regular files are read "
                         "(standard input, '-', may be any stream)")


def read_stream(stream: BinaryIO, shown: str, limit: int) -> bytes:
    """All of `stream` (standard input), refused once it passes `limit` bytes (0: any)."""
    try:
        return _read_limited(stream, shown, limit, _FILE_LIMIT)
    except OSError as err:
        raise InputError(f"{shown}: cannot read: {err.strerror or err}") from None


def _read_limited(handle: BinaryIO, shown: str, limit: int, limit_name: str) -> bytes:
    if not limit:
        return handle.read()
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = handle.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise InputError(f"{shown}: over the limit of {format_size(limit)} {limit_name}")
