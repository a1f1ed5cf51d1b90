"""Exit statuses of the ``dedup`` command and its one error path.

| status | meaning |
| 0 | done, nothing at or above ``--fail-on`` |
| 1 | findings at or above ``--fail-on``, and nothing else |
| 2 | usage, configuration, input or environment error (a bad option, an unreadable or oversized
      file, a malformed record, a full disk, out of memory): one line naming the file and the problem |
| 3 | internal error (a bug in dedup): one line; the traceback only with ``--debug`` |
| 130 | interrupted (Ctrl-C) |

`run_guarded` runs a command and turns whatever it raises into one of these, printing one line
on stderr. `say` writes a line to stderr (or stdout) without ever failing on a reader that has
gone away: like other Unix tools, ``dedup ... | head -1`` ends quietly, with the status the run
would have had.
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import Callable, TextIO

from .readers.errors import printable

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "UsageError",
           "run_guarded", "say", "silence", "write_utf8"]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
_MESSAGE_LIMIT = 300


class UsageError(Exception):
    """A command line that cannot run as given (exit 2); the message is one line."""


def run_guarded(command: Callable[[], int], expected: tuple[type[BaseException], ...], debug: bool) -> int:
    """`command()`'s exit status; an exception becomes status 2 (`expected` errors, OSError,
    MemoryError), 3 (anything else: a bug) or 130 (Ctrl-C), with one line on stderr and the
    traceback before it only when `debug`."""
    try:
        return command()
    except expected as err:
        return _fail(EXIT_ERROR, f"error: {' '.join(str(err).split())}", debug)
    except KeyboardInterrupt:
        say("dedup: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # stdout's reader has gone (`| head`) where no status was settled yet
        silence(sys.stdout)
        return EXIT_CLEAN
    except MemoryError:
        return _fail(EXIT_ERROR, "error: out of memory: the input is too large for this machine "
                                 "(check fewer files at once, or lower --max-file-size)", debug)
    except OSError as err:  # the environment: a full disk, a permission, a file gone meanwhile
        return _fail(EXIT_ERROR, f"error: {_os_error(err)}", debug)
    except RuntimeError as err:
        if "can't start new thread" not in str(err):
            return _fail(EXIT_INTERNAL, _internal(err), debug)
        return _fail(EXIT_ERROR, "error: cannot start a thread: out of memory or over the limit of processes "
                                 "(ulimit -u, ulimit -v)", debug)
    except RecursionError as err:
        return _fail(EXIT_INTERNAL, f"internal error: RecursionError: {err} {_REPORT_IT}", debug)
    # the one place every other failure is turned into status 3
    except Exception as err:  # noqa: BLE001
        return _fail(EXIT_INTERNAL, _internal(err), debug)


_REPORT_IT = "(a bug in dedup: rerun with --debug for the traceback, and report it)"


def _internal(err: BaseException) -> str:
    return f"internal error: {type(err).__name__}: {_one_line(str(err))} {_REPORT_IT}"


def _fail(status: int, message: str, debug: bool) -> int:
    if debug:
        try:
            traceback.print_exc(file=sys.stderr)
        except BrokenPipeError:
            silence(sys.stderr)
    say(f"dedup: {message}")
    return status


def _os_error(err: OSError) -> str:
    reason = err.strerror or str(err) or type(err).__name__
    if err.filename is not None:
        return f"{printable(os.fsdecode(err.filename))}: {reason}"
    return reason


def _one_line(text: str) -> str:
    line = " ".join(text.split()) or "(no message)"
    return line if len(line) <= _MESSAGE_LIMIT else line[: _MESSAGE_LIMIT - 1] + "…"


def say(line: str, stream: TextIO | None = None) -> None:
    """Print `line` on `stream` (default stderr); a reader that has gone away silences the
    stream instead of failing the run."""
    stream = sys.stderr if stream is None else stream
    try:
        write_utf8(line + "\n", stream)
    except BrokenPipeError:
        silence(stream)


def write_utf8(text: str, stream: TextIO) -> None:
    """`text` to `stream` as UTF-8, whatever the locale or PYTHONIOENCODING says (reports and
    messages hold Arabic and other text that an ASCII stream could not take)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a replaced stream (tests, an embedding program): it takes str
        stream.write(text)
    else:
        stream.flush()
        buffer.write(text.encode("utf-8", "backslashreplace"))
    stream.flush()


def silence(stream: TextIO) -> None:
    """Point `stream`'s file descriptor at /dev/null, so that nothing more written to it (the
    interpreter's own flush at exit included) fails on a closed pipe."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
