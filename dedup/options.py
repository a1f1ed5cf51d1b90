"""Value types of the command line's options (every number range-checked, sizes with units), and
the option group that `check`, `scan` and `report` share: the exit status.

Each is an argparse ``type=``: it returns the value or raises ArgumentTypeError with the
reason, which argparse prints as one line naming the option (exit 2).
"""
from __future__ import annotations

import argparse
from typing import Callable

from .config import LEVELS
from .readers.limits import parse_size

__all__ = ["add_exit_options", "fraction", "int_in", "size"]


def fraction(text: str) -> float:
    """A number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if not 0.0 < value <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"must be in (0, 1], not {text}")
    return value


def int_in(lowest: int, highest: int) -> Callable[[str], int]:
    """An integer from `lowest` to `highest`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text}") from None
        if not lowest <= value <= highest:
            what = "a positive integer" if lowest == 1 else "an integer"
            raise argparse.ArgumentTypeError(f"must be {what} from {lowest} to {highest}, not {text}")
        return value

    parse.__name__ = f"integer from {lowest} to {highest}"
    return parse


def size(text: str) -> int:
    """A size in bytes: ``64MiB``, ``512k``, ``1000000``; 0 means no limit."""
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_exit_options(parser: argparse.ArgumentParser, title: str = "exit status") -> argparse._ArgumentGroup:
    """The options that decide the exit status (`--fail-on`, `--exit-zero`), in a group of their
    own; the group is returned for a command to add more to it."""
    gate = parser.add_argument_group(title)
    gate.add_argument("--fail-on", choices=LEVELS, help="lowest severity that fails the run (default: warning)")
    gate.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings are reported")
    return gate
