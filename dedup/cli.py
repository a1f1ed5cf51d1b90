"""The ``dedup`` command.

``dedup check [PATH...]`` reports passages that repeat an earlier one, inside each file and
across the files; ``dedup config --show`` prints the configuration a check would use;
``dedup index ...`` keeps the archive index; ``dedup serve`` runs the HTTP service;
``dedup report DIR`` renders the findings of a finished ``dedup scan``; ``dedup schema`` prints
the JSON Schema of the json and jsonl reports.

Exit codes (`dedup.exits`): 0 clean (or every finding below ``--fail-on``, or ``--exit-zero``),
1 findings at or above ``--fail-on`` and nothing else, 2 usage, configuration, input or
environment errors, 3 an internal error (a bug), 130 interrupted. Every error is one line on
stderr naming the file (and line) and the problem; ``--debug`` adds the traceback.
"""
from __future__ import annotations

import argparse
import ctypes
import difflib
import functools
import io
import json
import logging
import os
import sys
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from . import __version__
from .archive.store import ArchiveError
from .atomic import write_atomically
from .baseline import Baseline, BaselineError
from .config import (MAX_MIN_WORDS, MAX_NUM_PERM, STRUCTURAL_CHOICES, Config, ConfigError, config_for, fails,
                     filter_findings, load_config, render_config)
from .detector import Detector
from .discover import collect_files
from .exits import (EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, EXIT_INTERNAL, EXIT_INTERRUPTED, UsageError,
                    run_guarded, say, silence, write_utf8)
from .formats import FORMATS, FormatContext, get_formatter
from .model import Document, Report, count_kinds
from .options import add_exit_options, fraction, int_in, size
from .index_cli import add_index_parser, add_location_option, open_index, run_index
from .progress import LONG_RUN_SECONDS, Progress
from .readers import InputError, printable, read_path, read_stdin
from .report_cli import add_report_parser, config_paths, run_report
from .rules import RULES, SelectorError, normalize_selector
from .schema import PARTS, report_schema, schema_text
from .scan_cli import add_scan_parser, run_scan
from .serve_cli import ServeError, add_serve_parser, run_serve

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "main"]

EXPECTED_ERRORS = (InputError, ConfigError, BaselineError, ArchiveError, ServeError, UsageError)
"""Errors of the input, the configuration or the environment: exit 2 with their one-line message."""
EXIT_STATUSES = ("Exit status: 0 clean, 1 findings at or above --fail-on (and nothing else), 2 usage, "
                 "configuration, input or environment error (one line naming the file), 3 internal error "
                 "(a bug: --debug shows its traceback), 130 interrupted.")
KINDS = ("exact", "normalized", "near", "contained", "conflict")
MACHINE_FORMATS = frozenset(FORMATS) - {"text", "concise"}


class _Parser(argparse.ArgumentParser):
    """argparse, with a "did you mean" hint for a mistyped option."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """One line on stderr (no usage block) and exit 2."""
        if message.startswith("unrecognized arguments:"):
            known = [o for action in self._actions for o in action.option_strings]
            for word in message.split(":", 1)[1].split():
                close = difflib.get_close_matches(word.split("=")[0], known, n=1)
                if close:
                    message += f" (did you mean {close[0]}?)"
                    break
        say(f"{self.prog}: error: {printable(' '.join(message.split()))} (see '{self.prog} --help')")
        sys.exit(EXIT_ERROR)


def _kinds(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"unknown kind {unknown[0] if unknown else text!r} "
                                         f"(choose from {', '.join(KINDS)})")
    return kinds


def _selectors(text: str) -> list[str]:
    """A comma-separated list of rule selectors (ALL, DD003, DD, near)."""
    try:
        selectors = [normalize_selector(s) for s in text.split(",") if s.strip()]
    except SelectorError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if not selectors:
        raise argparse.ArgumentTypeError(f"no rule code in {text!r}")
    return selectors


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = _Parser(prog="dedup", description="Find repeated and garbled near-duplicate sentences in prose.",
                     epilog=f"Run 'dedup COMMAND --help' for a command's options. {EXIT_STATUSES}")
    parser.add_argument("--version", action="version", version=f"dedup {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = sub.add_parser(
        "check", help="report passages that repeat an earlier one",
        description="Report passages that repeat an earlier one, inside each file and across the files. "
                    "Directories are searched for Markdown, HTML and text files (see --include); "
                    ".jsonl, .csv and .parquet files are collections of records; - reads standard input.",
        epilog=EXIT_STATUSES)
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to check (default: .)")
    _add_config_options(check)
    out = check.add_argument_group("output")
    out.add_argument("--format", "--output-format", dest="format", choices=sorted(FORMATS), default=None,
                     metavar="FORMAT", help="text (default), concise, json, jsonl, sarif, github, rdjsonl, gitlab, junit or html")
    out.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the text format (default: auto, only on a terminal)")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary on stderr")
    out.add_argument("--statistics", action="store_true",
                     help="print documents, passages, findings by kind and seconds to stderr")
    _add_reading_options(check)
    add_location_option(check)
    _add_detection_options(check)
    gate = add_exit_options(check, "exit status and baseline")
    gate.add_argument("--baseline", metavar="FILE", help="report only findings that FILE does not list")
    gate.add_argument("--update-baseline", action="store_true",
                      help="write every current finding to the --baseline file and exit 0")

    config = sub.add_parser("config", help="show the configuration a check would use",
                            description="Show the configuration `dedup check PATH...` would use, and its file.")
    config.add_argument("paths", nargs="*", metavar="PATH", help="where the check would run (default: .)")
    config.add_argument("--show", action="store_true", help="print the resolved configuration (the default)")
    _add_config_options(config)
    index = add_index_parser(sub, _Parser, _add_reading_options, _add_config_options)
    scan = add_scan_parser(sub, _add_config_options, functools.partial(_add_reading_options, stdin=False),
                           _add_detection_options, EXIT_STATUSES)
    report = add_report_parser(sub, _add_config_options, EXIT_STATUSES)
    serve = add_serve_parser(sub, _add_config_options)
    schema = sub.add_parser("schema", help="print the JSON Schema of the json and jsonl reports",
                            description="Print the JSON Schema (draft 2020-12) of the report `--format json` writes "
                                        "(dedup.report/1), or with `finding`, of one line of `--format jsonl`.")
    schema.add_argument("part", nargs="?", choices=PARTS, default="report", help="report (default) or finding")
    return parser, {"check": check, "config": config, "index": index, "serve": serve, "schema": schema, "scan": scan,
                    "report": report}


def _add_detection_options(parser: argparse.ArgumentParser) -> None:
    det = parser.add_argument_group("detection")
    det.add_argument("--threshold", type=fraction, metavar="J",
                     help="Jaccard similarity the candidate search aims at, in (0, 1] (default: 0.4)")
    det.add_argument("--min-words", type=int_in(1, MAX_MIN_WORDS), metavar="N",
                     help=f"passages under N words are matched only as exact repeats, 1 to {MAX_MIN_WORDS} "
                          "(default: 5)")
    codes = ", ".join(f"{rule.id} {rule.kind}" for rule in RULES)
    det.add_argument("--select", type=_selectors, metavar="CODES",
                     help=f"rule codes to report, comma-separated: ALL, a code or prefix ({codes}) or a kind "
                          "(default: ALL; replaces the configured select and ignore)")
    det.add_argument("--ignore", type=_selectors, metavar="CODES",
                     help="rule codes not to report, comma-separated (added to the configured ignore)")
    det.add_argument("--kinds", type=_kinds, metavar="LIST",
                     help=f"kinds to report (default: {','.join(KINDS)}); --select and --ignore do the same by code")
    det.add_argument("--shingles", metavar="SPEC",
                     help="shingles for MinHash: word:N or char:N, N from 1 to 32 (default: word:1)")
    det.add_argument("--num-perm", type=int_in(1, MAX_NUM_PERM), metavar="N",
                     help=f"MinHash permutations, 1 to {MAX_NUM_PERM} (default: 128)")
    det.add_argument("--structural", choices=STRUCTURAL_CHOICES,
                     help="repeats by a house's design (a standfirst restated in the body, a pull quote, the "
                          "headline restated): omit them, or report them at info severity (default: omit)")


def _add_reading_options(parser: argparse.ArgumentParser, stdin: bool = True) -> None:
    files = parser.add_argument_group("files")
    files.add_argument("--include", action="append", metavar="GLOB",
                       help="files to read inside directories (repeatable; replaces the configured list)")
    files.add_argument("--exclude", action="append", metavar="GLOB",
                       help="paths to skip (repeatable; replaces the configured list)")
    files.add_argument("--extend-exclude", action="append", metavar="GLOB", help="paths to skip, added to the list")
    files.add_argument("--force-exclude", action="store_true", default=None,
                       help="apply excludes to files named on the command line too (for pre-commit)")
    files.add_argument("--respect-gitignore", dest="respect_gitignore", action="store_true", default=None,
                       help="skip files that .gitignore lists (the default; config: respect-gitignore)")
    files.add_argument("--no-respect-gitignore", dest="respect_gitignore", action="store_false",
                       help="also check files that .gitignore lists")
    if stdin:
        files.add_argument("--stdin-filename", metavar="NAME",
                           help="the name of standard input in the report; its extension picks the reader")
    files.add_argument("--id-field", metavar="NAME", help="JSONL/CSV/Parquet field with the record id (default: id)")
    files.add_argument("--text-field", metavar="NAME", help="JSONL/CSV/Parquet field with the text (default: text)")
    files.add_argument("--max-file-size", type=size, metavar="SIZE",
                       help=f"refuse a file{' (or standard input)' if stdin else ''} larger than SIZE, such as "
                            "64MiB or 512k; 0: no limit (default: 1GiB)")
    files.add_argument("--max-record-size", type=size, metavar="SIZE",
                       help="refuse a JSONL, CSV or Parquet record larger than SIZE; 0: no limit (default: 8MiB)")


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration")
    group.add_argument("--config", metavar="FILE",
                       help="use this pyproject.toml / dedup.toml instead of the closest one to the paths")
    group.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the traceback of an error (for a bug report)")


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
    """Run the command line `argv` (default: sys.argv[1:]); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[: argv.index("--")] if "--" in argv else "--debug" in argv
    logging.raiseExceptions = debug  # a failing log handler (out of memory) prints no traceback but with --debug
    return run_guarded(lambda: _run(argv), EXPECTED_ERRORS, debug)


def _run(argv: list[str]) -> int:
    parser, commands = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    if extra:
        commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "schema":
        say((schema_text() if args.part == "report" else json.dumps(report_schema(args.part), indent=2)).rstrip("\n"),
            sys.stdout)
        return EXIT_CLEAN
    if args.command == "index" and args.index_command is None:
        commands["index"].print_help(sys.stderr)
        return EXIT_ERROR
    if args.command == "report":  # its configuration is found as for a check of the scan's inputs
        args.paths = config_paths(args.directory)
    config, source = _configuration(args)
    if args.command == "config":
        say(render_config(config, source).rstrip("\n"), sys.stdout)
        return EXIT_CLEAN
    if args.command == "index":
        return run_index(args, config, lambda: _documents(args, config, source, Progress(enabled=False)))
    if args.command == "serve":
        return run_serve(args, source)
    if args.command == "scan":
        _retain_freed_memory()  # the engine's worker processes are forked with it
        return run_scan(args, config, _paths(args, config, source), _root(source))
    if args.command == "report":
        return run_report(args, config, _write)
    return _check(args, config, source)


def _configuration(args: argparse.Namespace) -> tuple[Config, Path | None]:
    if args.isolated:
        config, source = Config(), None
    elif args.config:
        source = Path(args.config)
        if not source.is_file():
            raise ConfigError(f"{printable(args.config)}: no such configuration file")
        config = load_config(source)
    else:
        config, source = config_for(getattr(args, "paths", None) or ["."], Path.cwd())
    overrides = {name: getattr(args, name, None) for name in _OVERRIDES}
    return config.with_overrides(**overrides), source


_OVERRIDES = ("threshold", "min_words", "kinds", "select", "ignore", "shingles", "num_perm", "fail_on", "include",
              "exclude", "extend_exclude", "respect_gitignore", "force_exclude", "id_field", "text_field", "format",
              "structural", "max_file_size", "max_record_size")


def _check(args: argparse.Namespace, config: Config, source: Path | None) -> int:
    fmt = get_formatter(config.format)
    root = _root(source)
    progress = Progress(enabled=not args.quiet and fmt.name not in MACHINE_FORMATS and sys.stderr.isatty(),
                        long_run=None if args.quiet else LONG_RUN_SECONDS)
    if args.baseline is None and args.update_baseline:
        raise UsageError("--update-baseline needs --baseline FILE")
    paths = _paths(args, config, source)
    _refuse_overwriting_inputs(args, paths, source)
    baseline = None if args.baseline is None or args.update_baseline else Baseline.load(Path(args.baseline))
    _retain_freed_memory()
    index = open_index(args.index, config, create=False) if args.index else None
    try:
        docs = list(_read(paths, args, config, progress))
        detector = Detector(**config.detector_settings(), workers=-1)
        report = detector.check_many(docs, on_stage=progress.stage, index=index)
    finally:
        if index is not None:
            index.close()
    progress.close()
    findings = filter_findings(report.findings, config, root)
    if args.update_baseline:
        Baseline.from_findings(findings).save(Path(args.baseline))
        say(f"dedup: wrote {len(findings)} findings to {printable(args.baseline)}")
        return EXIT_CLEAN
    if baseline is not None:
        findings = baseline.new_findings(findings)
    report = Report(findings, {**report.stats, "findings": len(findings), "by_kind": count_kinds(findings)})
    _write(report, fmt, args, config, {d.id: d.text for d in docs})
    if not args.quiet and fmt.name not in MACHINE_FORMATS:
        _summary(report)
    if args.statistics:
        _statistics(report)
    return EXIT_FINDINGS if fails(findings, config) and not args.exit_zero else EXIT_CLEAN


def _paths(args: argparse.Namespace, config: Config, source: Path | None) -> list[str]:
    """The files the command's paths name (``-`` for standard input); an unreadable subdirectory
    is skipped with a warning."""
    return collect_files(args.paths or ["."], include=config.include, exclude=config.excluded,
                         force_exclude=config.force_exclude, respect_gitignore=config.respect_gitignore,
                         root=_root(source), on_skipped=_warn)


def _documents(args: argparse.Namespace, config: Config, source: Path | None, progress: Progress) -> list[Document]:
    """The documents of the command's paths, read as their extensions say."""
    return list(_read(_paths(args, config, source), args, config, progress))


def _refuse_overwriting_inputs(args: argparse.Namespace, paths: Sequence[str], source: Path | None) -> None:
    """UsageError when the report (``-o``) or the baseline being written (``--update-baseline``)
    would replace a file the run reads: an input, the baseline, the configuration or the index."""
    written = [(args.output, "-o")] if args.output else []
    written += [(args.baseline, "--baseline")] if args.update_baseline and args.baseline else []
    read = [(p, "an input file") for p in paths if p != "-"]
    read += [(p, "the baseline") for p in [args.baseline] if p and not args.update_baseline]
    read += [(str(p), "the configuration file") for p in [source] if p]
    read += [(p, "the index") for p in [args.index] if p and "://" not in p]
    for target, option in written:
        identity = _identity(target)
        if identity is None:
            continue
        for path, role in read:
            if _identity(path) == identity:
                raise UsageError(f"{printable(target)}: {option} names {role} of this run ({printable(path)}); "
                                 "writing there would replace it: choose another file")


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of an existing file, else None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _root(source: Path | None) -> Path:
    """Where relative globs and per-file ignores start: the config file's folder, else the cwd."""
    return source.parent if source else Path.cwd()


def _read(paths: Sequence[str], args: argparse.Namespace, config: Config, progress: Progress) -> Iterator[Document]:
    """The documents of `paths`; a file that cannot be read as text is skipped with a warning."""
    for path in progress.files(paths):
        if path == "-":
            yield from read_stdin(args.stdin_filename or "-", config.id_field, config.text_field, config.read_limits)
            continue
        try:
            docs = list(read_path(path, config.id_field, config.text_field, config.read_limits))
        except InputError as err:
            if not err.unreadable:
                raise
            _warn(f"{err}; skipped")
            continue
        if len(docs) == 1 and not docs[0].text.strip():
            _warn(f"{printable(path)}: empty file; skipped")
            continue
        yield from docs


def _warn(message: str) -> None:
    say(f"dedup: warning: {message}")


def _write(report: Report, fmt, args: argparse.Namespace, config: Config, sources: Mapping[str, str]) -> None:
    """The report to ``-o FILE`` (atomically: the old file stays whole on any error) or to stdout
    (rendered first, so that an error leaves nothing half-written; a reader that has gone away,
    such as ``| head -1``, ends the output quietly). `sources`: document id -> text (`FormatContext`)."""
    if args.output:
        ctx = FormatContext(sources, config.severity, color=False)
        try:
            write_atomically(Path(args.output), lambda out: fmt.write(report, out, ctx))
        except OSError as err:
            raise InputError(f"{printable(args.output)}: cannot write the report: {err.strerror or err}") from None
        return
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    rendered = io.StringIO()
    fmt.write(report, rendered, FormatContext(sources, config.severity, color=color))
    try:
        write_utf8(rendered.getvalue(), sys.stdout)
    except BrokenPipeError:  # the reader (e.g. `head`) has gone: not an error of ours
        silence(sys.stdout)
    except OSError as err:  # a full disk behind a redirection
        silence(sys.stdout)  # what is still buffered cannot be written either
        raise InputError(f"standard output: cannot write the report: {err.strerror or err}") from None


def _summary(report: Report) -> None:
    st = report.stats
    say(f"{_plural(st['findings'], 'repeat')} in {_plural(st['documents'], 'document')} "
        f"({_plural(st['sentences'], 'sentence')}, {st['seconds']:.2f}s)")


def _statistics(report: Report) -> None:
    st = report.stats
    rows = [("documents", st["documents"]), ("passages", st["passages"]), ("sentences", st["sentences"])]
    rows += [(f"findings: {kind}", st["by_kind"].get(kind, 0)) for kind in KINDS]
    rows += [("findings", st["findings"]), ("seconds", f"{st['seconds']:.2f}")]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        say(f"{name:<{width}}  {value}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


if __name__ == "__main__":
    sys.exit(main())
