"""The ``dedup`` command: ``dedup check FILE... [--format text|json|jsonl]``."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from . import __version__
from .detector import Detector
from .model import Report
from .readers import InputError, read_path

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dedup", description="Find repeated and garbled near-duplicate sentences in prose.")
    parser.add_argument("--version", action="version", version=f"dedup {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="report repeated passages in files",
                           description="Report passages that repeat an earlier one, inside each file and across files. "
                                       "A .jsonl file is a collection of {\"id\", \"text\"} records.")
    check.add_argument("files", nargs="+", metavar="FILE", help="text or .jsonl files")
    check.add_argument("--format", choices=("text", "json", "jsonl"), default="text", help="output format (default: text)")
    check.add_argument("--threshold", type=float, default=0.3, help="LSH Jaccard threshold for candidates (default: 0.3)")
    check.add_argument("--shingles", default="word:1", help="shingles for MinHash: word:N or char:N (default: word:1)")
    check.add_argument("--num-perm", type=int, default=128, help="MinHash permutations (default: 128)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when repeats are found")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "check":
        parser.print_help()
        return EXIT_ERROR
    try:
        docs = [doc for path in args.files for doc in read_path(path)]
        detector = Detector(threshold=args.threshold, shingles=args.shingles, num_perm=args.num_perm)
        report = detector.check_many(docs)
    except InputError as err:
        print(f"dedup: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except ValueError as err:
        print(f"dedup: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    _write(report, args.format, sys.stdout)
    return EXIT_CLEAN if args.exit_zero or not report.findings else EXIT_FINDINGS


def _write(report: Report, fmt: str, out) -> None:
    if fmt == "json":
        out.write(report.to_json(indent=2) + "\n")
    elif fmt == "jsonl":
        for f in report.findings:
            out.write(f.to_json() + "\n")
    else:
        for f in report.findings:
            s, m = f.sentence, f.match
            where = "" if s.doc == m.doc else f"{m.doc}:"
            out.write(f"{s.doc}:{s.line}:{s.column}: {f.kind}: repeats {where}{m.line}:{m.column} "
                      f"(score {f.score:.2f}): {_clip(s.text)}\n")
        st = report.stats
        print(f"{st['findings']} repeats in {st['documents']} documents ({st['sentences']} sentences, "
              f"{st['seconds']:.2f}s)", file=sys.stderr)


def _clip(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
