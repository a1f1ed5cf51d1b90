"""``dedup scan``: the command over `dedup.scan` (a corpus too large for ``dedup check``).

It reads the paths `check` reads (directories searched the same way, JSON Lines and CSV as
collections of records), writes the findings, ``stats.json`` and the manifest into ``--out``,
and exits as `check` does: 1 when a finding is at or above ``--fail-on``, 0 otherwise, 2 for
an error of the input, the folder or the environment.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, Callable

from .config import Config, fails, filter_findings
from .detector import Settings
from .exits import EXIT_CLEAN, EXIT_FINDINGS, say
from .model import Finding
from .options import add_exit_options
from .readers import printable

ENGINE_HELP = "local (default: processes on this machine's cores) or ray (Ray tasks; pip install 'dedup-prose[ray]')"


def add_scan_parser(sub: Any, add_config: Callable[[argparse.ArgumentParser], None],
                    add_reading: Callable[[argparse.ArgumentParser], None],
                    add_detection: Callable[[argparse.ArgumentParser], None], epilog: str) -> argparse.ArgumentParser:
    scan = sub.add_parser(
        "scan", help="find repeats across a corpus too large for check, on all cores or a Ray cluster",
        description="Find the repeats `dedup check` finds, across a corpus of any size: the input is cut into "
                    "shards of whole documents and every stage runs over them in parallel, through files in "
                    "the --out folder, so memory stays bounded. Findings go to OUT/findings.jsonl (or .parquet), "
                    "the run's statistics to OUT/stats.json; `dedup report OUT` renders them.",
        epilog=epilog)
    scan.add_argument("paths", nargs="+", metavar="INPUT", help="files or directories (JSONL, CSV, Parquet, Markdown, HTML, text)")
    scan.add_argument("--out", required=True, metavar="DIR", help="the output folder (new or empty, or with --resume "
                                                                  "one this scan started)")
    run = scan.add_argument_group("engine")
    run.add_argument("--engine", choices=("local", "ray"), default="local", help=ENGINE_HELP)
    run.add_argument("--address", metavar="ADDR", help="with --engine ray: the running cluster to join "
                                                        "(as `ray start --head` prints it; default: start a local one)")
    run.add_argument("--workers", type=int, metavar="N", help="local processes (default: every core)")
    run.add_argument("--shards", type=int, metavar="N", help="cut the input into about N shards "
                                                             "(default: one per 32 MiB of input)")
    run.add_argument("--resume", action="store_true", help="take up a scan that was stopped, in the same folder "
                                                           "(the same inputs and settings)")
    out = scan.add_argument_group("output")
    out.add_argument("--format", dest="scan_format", choices=("jsonl", "parquet"), default="jsonl",
                     help="findings as JSON Lines (default) or Parquet (pip install 'dedup-prose[parquet]')")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress lines and no summary on stderr")
    add_exit_options(scan)
    add_reading(scan)
    add_detection(scan)
    add_config(scan)
    return scan


def run_scan(args: argparse.Namespace, config: Config, paths: list[str], root: Path) -> int:
    from .scan import scan
    for name, value in (("--workers", args.workers), ("--shards", args.shards)):
        if value is not None and not 1 <= value <= 100_000:
            from .exits import UsageError
            raise UsageError(f"{name} must be from 1 to 100000, not {value}")
    settings = Settings(**config.detector_settings())
    failing = False

    def keep(findings: list[Finding]) -> list[Finding]:
        nonlocal failing
        kept = filter_findings(findings, config, root)
        failing = failing or fails(kept, config)
        return kept

    started = time.perf_counter()

    def progress(stage: str) -> None:
        if not args.quiet:
            say(f"dedup scan: {stage} done ({time.perf_counter() - started:.1f}s)")

    result = scan(paths, args.out, engine=args.engine, address=args.address, workers=args.workers,
                  shards=args.shards, resume=args.resume, output=args.scan_format, settings=settings,
                  id_field=config.id_field, text_field=config.text_field,
                  limits=config.read_limits,
                  keep=keep, on_stage=progress)
    if not args.quiet:
        st = result.stats
        say(f"{result.findings} repeats in {st['documents']} documents ({st['sentences']} sentences, "
            f"{result.timings.get('seconds', 0):.2f}s); written to {printable(str(result.folder))}")
    return EXIT_FINDINGS if failing and not args.exit_zero else EXIT_CLEAN

