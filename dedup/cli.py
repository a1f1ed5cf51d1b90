"""The ``dedup`` command: ``dedup check FILE... [--format text|json|jsonl]``.

Exit codes: 0 no repeats (or ``--exit-zero``), 1 repeats found, 2 usage or input error.
"""
from __future__ import annotations

import argparse
import ctypes
import difflib
import json
import sys
from typing import IO, Sequence

from . import __version__
from .detector import Detector
from .model import SCHEMA, Document, Report
from .readers import InputError, read_path, read_stdin

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "jsonl")


class _Parser(argparse.ArgumentParser):
    """argparse, with a "did you mean" hint for a mistyped option."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith("unrecognized arguments:"):
            known = [o for action in self._actions for o in action.option_strings]
            for word in message.split(":", 1)[1].split():
                close = difflib.get_close_matches(word.split("=")[0], known, n=1)
                if close:
                    message += f" (did you mean {close[0]}?)"
                    break
        super().error(message)


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], not {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = _Parser(prog="dedup", description="Find repeated and garbled near-duplicate sentences in prose.")
    parser.add_argument("--version", action="version", version=f"dedup {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = sub.add_parser(
        "check", help="report passages that repeat an earlier one",
        description="Report passages that repeat an earlier one, inside each file and across the files. "
                    "A .jsonl file is a collection of {\"id\", \"text\"} records; - reads standard input. "
                    "Exit status: 0 no repeats, 1 repeats found, 2 usage or input error.")
    check.add_argument("files", nargs="+", metavar="FILE", help="text or .jsonl files, or - for standard input")
    check.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    check.add_argument("--threshold", type=_fraction, default=0.4, metavar="J",
                       help="Jaccard similarity the candidate search aims at, in (0, 1] (default: 0.4)")
    check.add_argument("--shingles", default="word:1", metavar="SPEC",
                       help="shingles for MinHash: word:N or char:N (default: word:1)")
    check.add_argument("--num-perm", type=_positive, default=128, metavar="N",
                       help="MinHash permutations (default: 128)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when repeats are found")
    return parser, check


def _retain_freed_memory() -> None:
    """Ask glibc to keep freed memory in the process instead of handing it back to the kernel.

    The engine allocates and frees large numpy arrays stage after stage; on machines where
    the kernel reclaims freed pages (a VM with free-page reporting), touching fresh pages
    again costs several microseconds each, and runs were about 30% slower at 300k sentences.
    Only the command does this: a library must not change its host's allocator.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    m_trim_threshold, m_top_pad, m_mmap_max = -1, -2, -4
    libc.mallopt(m_mmap_max, 0)  # large blocks from the heap, where freed memory is reused
    libc.mallopt(m_trim_threshold, 2**31 - 1)
    libc.mallopt(m_top_pad, 1 << 28)


def main(argv: Sequence[str] | None = None) -> int:
    parser, check = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    if extra:
        check.error(f"unrecognized arguments: {' '.join(extra)}")
    _retain_freed_memory()
    try:
        docs = _read(args.files)
        detector = Detector(threshold=args.threshold, shingles=args.shingles, num_perm=args.num_perm, workers=-1)
        report = detector.check_many(docs)
    except (InputError, ValueError) as err:
        print(f"dedup: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    try:
        write_report(report, args.format, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (e.g. `head`) has gone: not an error of ours
        sys.stdout = None  # type: ignore[assignment]
    _summary(report, args.format)
    return EXIT_CLEAN if args.exit_zero or not report.findings else EXIT_FINDINGS


def _read(paths: Sequence[str]) -> list[Document]:
    docs: list[Document] = []
    for path in paths:
        docs.extend(read_stdin() if path == "-" else read_path(path))
    return docs


def write_report(report: Report, fmt: str, out: IO[str]) -> None:
    """Write `report` in format `fmt` (one of `FORMATS`)."""
    if fmt == "json":  # streamed, one finding a line: json's C encoder, no whole-report string
        out.write(f'{{"schema": {json.dumps(SCHEMA)}, "findings": [')
        for k, f in enumerate(report.findings):
            out.write(("\n  " if k == 0 else ",\n  ") + f.to_json())
        out.write(f'\n], "stats": {json.dumps(report.stats, ensure_ascii=False)}}}\n')
    elif fmt == "jsonl":
        for f in report.findings:
            out.write(f.to_json() + "\n")
    else:
        for f in report.findings:
            s, m = f.sentence, f.match
            where = "" if s.doc == m.doc else f"{m.doc}:"
            out.write(f"{s.doc}:{s.line}:{s.column}: {f.kind}: repeats {where}{m.line}:{m.column} "
                      f"(score {f.score:.2f}): {_clip(s.text)}\n")


def _summary(report: Report, fmt: str) -> None:
    if fmt != "text":
        return
    st = report.stats
    print(f"{_plural(st['findings'], 'repeat')} in {_plural(st['documents'], 'document')} "
          f"({_plural(st['sentences'], 'sentence')}, {st['seconds']:.2f}s)", file=sys.stderr)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _clip(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
