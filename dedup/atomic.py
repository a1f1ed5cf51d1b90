"""Atomic file output: a report or a baseline is either the old file or the whole new one.

`write_atomically` writes to a temporary file in the target's folder (same filesystem), flushes
it to disk, gives it the old file's permissions and renames it over the target; on any error,
or an interruption, the temporary file is removed and the target is left as it was.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Callable, TextIO

__all__ = ["write_atomically"]


def write_atomically(path: Path, content: str | Callable[[TextIO], None]) -> None:
    """Replace `path` with `content` (a string, or a function writing to the open file) in one
    rename. A symbolic link is followed (its target is replaced); a target that is no regular file
    (``/dev/null``, a FIFO, a terminal) is written to directly, as nothing can be renamed over it.
    OSError when the folder cannot take the file; the old file is then unchanged."""
    path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file():
        _write_special(path, content)
        return
    mode = _mode_for(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            if isinstance(content, str):
                out.write(content)
            else:
                content(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)


def _write_special(path: Path, content: str | Callable[[TextIO], None]) -> None:
    """Write to a device or FIFO; a FIFO without a reader is an error (ENXIO), not a wait."""
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    os.set_blocking(fd, True)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
        if isinstance(content, str):
            out.write(content)
        else:
            content(out)


def _mode_for(path: Path) -> int:
    """The permissions of the file being replaced, else rw-r--r-- (mkstemp's own are owner-only)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o644


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
