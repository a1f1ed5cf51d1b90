"""Progress on stderr for long runs of the command: a bar while files are read, then the
stage the engine is in. The command enables it only on a terminal and never for machine formats."""
from __future__ import annotations

import shutil
import sys
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


class Progress:
    """Shows reading progress and engine stages on stderr when `enabled`; otherwise silent."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._shown = False

    def files(self, paths: Iterable[T]) -> Iterator[T]:
        """Yield `paths`, with a progress bar over them when enabled."""
        paths = list(paths)
        if not self.enabled or len(paths) < 2:
            yield from paths
            return
        from tqdm import tqdm  # only needed on a terminal

        size = shutil.get_terminal_size()  # 80x24 where the terminal reports no size (tqdm would print nothing)
        yield from tqdm(paths, desc="reading", unit="file", file=sys.stderr, leave=False,
                        ncols=size.columns, nrows=size.lines)

    def stage(self, name: str) -> None:
        """The engine finished stage `name`."""
        if self.enabled:
            sys.stderr.write(f"\r\033[Kdedup: {name} done")
            sys.stderr.flush()
            self._shown = True

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self._shown = False
