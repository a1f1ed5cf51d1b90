"""Progress on stderr for long runs of the command: a bar while files are read, then the
stage the engine is in. On a terminal (and never for machine formats) the line is redrawn in
place from the start; elsewhere (a CI log, a pipe) nothing is written until the run has lasted
`long_run` seconds, and from then on one plain line per stage, so that a long run (a flood of
text) is seen to be working."""
from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")

LONG_RUN_SECONDS = 10.0


class Progress:
    """Shows reading progress and engine stages on stderr when `enabled` (a terminal: a line
    redrawn in place); else, when `long_run` is a number of seconds, one line per stage that
    ends after the run has lasted that long; otherwise silent."""

    def __init__(self, enabled: bool, long_run: float | None = None, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.long_run = long_run
        self._stream = stream
        self._started = time.monotonic()
        self._shown = False

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def files(self, paths: Iterable[T]) -> Iterator[T]:
        """Yield `paths`, with a progress bar over them when enabled."""
        paths = list(paths)
        if not self.enabled or len(paths) < 2:
            yield from paths
            return
        from tqdm import tqdm  # only needed on a terminal

        size = shutil.get_terminal_size()  # 80x24 where the terminal reports no size (tqdm would print nothing)
        yield from tqdm(paths, desc="reading", unit="file", file=self.stream, leave=False,
                        ncols=size.columns, nrows=size.lines)

    def stage(self, name: str) -> None:
        """The engine finished stage `name`."""
        if self.enabled:
            self.stream.write(f"\r\033[Kdedup: {name} done")
            self.stream.flush()
            self._shown = True
        elif self.long_run is not None:
            elapsed = time.monotonic() - self._started
            if elapsed >= self.long_run:
                self.stream.write(f"dedup: {name} done after {elapsed:.0f} s\n")
                self.stream.flush()

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False
