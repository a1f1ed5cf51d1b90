"""The ``dedup report DIR`` command: the findings of a finished ``dedup scan`` in any output format.

``DIR`` is a scan's output folder (`dedup.scan.output`): its findings and stats are rendered as
``dedup check`` renders its own (``--format``, ``-o``, the same exit statuses: 1 when a finding
is at or above ``--fail-on``, 0 otherwise or with ``--exit-zero``, 2 for an error). The
severity of each kind and ``fail-on`` come from the configuration, found as ``dedup check``
finds it for the scan's inputs (the closest configuration file to their common folder; see
`config_paths`), unless ``--config`` or ``--isolated`` says otherwise.

What each format needs beyond the findings (`NEEDS`):

- ``text``, ``concise``, ``json``, ``jsonl``, ``github``, ``gitlab``: nothing; a span's own
  line, column and text give every position these formats write, in code points and lines.
- ``sarif``, ``rdjsonl``: the texts of the documents with findings, for their columns in UTF-16
  code units and UTF-8 bytes and SARIF's ``charOffset``; ``html``: the same texts, shown whole
  with the repeats marked.
- ``junit``: every document the scan read, as a document without findings is a passing test case.

Those texts are read again from the manifest's inputs (``{"path", "size", "mtime_ns"}``),
with the readers ``dedup check`` uses. An input that is gone or has changed since the scan
(its size or modification time differ), standard input, or a folder whose manifest lists no
inputs is left out with a warning: the formats then place findings from the spans' own text,
as they do for an archived match (columns counted in code points, no ``charOffset``).
"""
from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from .config import Config, fails
from .exits import EXIT_CLEAN, EXIT_FINDINGS, UsageError, say
from .formats import FORMATS, Formatter, get_formatter
from .model import Finding, Report
from .options import add_exit_options
from .readers import InputError, format_of, printable, read_path
from .scan.output import FINDINGS_FILES, MANIFEST, STATS, ScanOutput, open_scan_output

__all__ = ["NEEDS", "add_report_parser", "config_paths", "document_sources", "run_report"]

Need = Literal["texts", "documents"]
NEEDS: Mapping[str, Need] = {"sarif": "texts", "rdjsonl": "texts", "html": "texts", "junit": "documents"}
"""What a format needs beyond the findings: the texts of the documents with findings, or the list
of every document; formats not listed need nothing."""
RECORD_FORMATS = frozenset(("jsonl", "csv", "parquet"))  # files whose document ids are not their paths
MACHINE_FORMATS = frozenset(FORMATS) - {"text", "concise"}

Write = Callable[[Report, Formatter, argparse.Namespace, Config, Mapping[str, str]], None]


def add_report_parser(sub: Any, add_config_options: Callable[[Any], None], epilog: str) -> argparse.ArgumentParser:
    report = sub.add_parser(
        "report", help="render the findings of a finished `dedup scan` in any output format",
        description="Render the findings and stats in DIR, the output folder of a finished `dedup scan`, "
                    "in any format `dedup check` writes. sarif, rdjsonl, html and junit re-read the scan's "
                    "inputs for positions and documents, when they are still as the scan read them.",
        epilog=epilog)
    report.add_argument("directory", metavar="DIR", help="the output folder of `dedup scan` (--out)")
    out = report.add_argument_group("output")
    out.add_argument("--format", "--output-format", dest="format", choices=sorted(FORMATS), default=None,
                     metavar="FORMAT", help="text (default), concise, json, jsonl, sarif, github, rdjsonl, gitlab, "
                                            "junit or html")
    out.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the text format (default: auto, only on a terminal)")
    out.add_argument("-q", "--quiet", action="store_true", help="no summary and no warnings on stderr")
    add_exit_options(report)
    add_config_options(report)
    return report


def config_paths(directory: str) -> list[str]:
    """The paths the configuration is looked for from: the scan's inputs, as ``dedup check
    INPUT...`` would look; none when the manifest cannot say (`open_scan_output` says why)."""
    try:
        manifest = json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    inputs = manifest.get("inputs") if isinstance(manifest, dict) else None
    if not isinstance(inputs, list):
        return []
    return [i["path"] for i in inputs if isinstance(i, dict) and isinstance(i.get("path"), str)]


def run_report(args: argparse.Namespace, config: Config, write: Write) -> int:
    """Render the scan output folder ``args.directory`` with ``write`` (the check command's
    report writer); returns the exit status."""
    scan = open_scan_output(Path(args.directory))
    fmt = get_formatter(config.format)
    _refuse_overwriting_the_folder(args.output, scan)
    stats = scan.stats()
    findings = list(scan.findings())
    warn = (lambda message: None) if args.quiet else (lambda message: say(f"dedup: warning: {message}"))
    sources = document_sources(scan, findings, NEEDS.get(fmt.name), config, warn)
    report = Report(findings, stats)
    write(report, fmt, args, config, sources)
    if not args.quiet and fmt.name not in MACHINE_FORMATS:
        say(_summary(report))
    return EXIT_FINDINGS if fails(findings, config) and not args.exit_zero else EXIT_CLEAN


def document_sources(scan: ScanOutput, findings: list[Finding], need: Need | None, config: Config,
                     warn: Callable[[str], None]) -> dict[str, str]:
    """Document id -> text for a format that needs them (`need`), read again from the scan's
    inputs: the texts of the documents with findings (``texts``), or every document with an
    empty text, which no format reads (``documents``: junit lists them). Inputs that cannot be
    read as the scan read them are left out with a warning."""
    if need is None:
        return {}
    if not scan.inputs:
        warn(f"{printable(str(scan.directory / MANIFEST))} lists no inputs to read the documents from; "
             f"{_consequence(need)}")
        return {}
    involved = {f.sentence.doc for f in findings} | {f.match.doc for f in findings if f.scope != "archive"}
    settings = scan.settings
    id_field = _setting(settings, "id_field", config.id_field)
    text_field = _setting(settings, "text_field", config.text_field)
    sources: dict[str, str] = {}
    for entry in scan.inputs:
        path = entry.get("path")
        if not isinstance(path, str):
            continue
        shown = printable(path)
        if need == "texts" and format_of(path) not in RECORD_FORMATS and shown not in involved:
            continue  # a file is one document named by its path: no finding, no need to read it
        problem = _changed(path, entry)
        if problem is not None:
            warn(f"{shown}: {problem}; {_consequence(need)}")
            continue
        try:
            docs = list(read_path(path, id_field, text_field, config.read_limits))
        except InputError as err:
            warn(f"{err}; {_consequence(need)}")
            continue
        if len(docs) == 1 and not docs[0].text.strip():
            continue  # an empty file, which the scan skips as check does
        for doc in docs:
            if need == "documents":
                sources[doc.id] = ""
            elif doc.id in involved:
                sources[doc.id] = doc.text
    return sources


def _setting(settings: Mapping[str, Any], name: str, default: str) -> str:
    value = settings.get(name, settings.get(name.replace("_", "-")))
    return value if isinstance(value, str) and value else default


def _changed(path: str, entry: Mapping[str, Any]) -> str | None:
    """Why `path` is not the file the scan read (gone, another size or modification time), or None."""
    if path == "-":
        return "standard input cannot be read again"
    try:
        st = os.stat(path)
    except OSError as err:
        return f"cannot be read again ({err.strerror or err})"
    size, mtime = entry.get("size"), entry.get("mtime_ns")
    if (isinstance(size, int) and size != st.st_size) or (isinstance(mtime, int) and mtime != st.st_mtime_ns):
        return "changed since the scan (its size or modification time differ)"
    return None


def _consequence(need: Need) -> str:
    if need == "texts":
        return "its findings are placed from their own text (columns in code points)"
    return "its documents without findings are not listed"


def _refuse_overwriting_the_folder(output: str | None, scan: ScanOutput) -> None:
    """UsageError when ``-o`` names a file of the scan output folder the report reads."""
    if not output:
        return
    try:
        target = os.stat(output)
    except OSError:
        return
    for name in (MANIFEST, STATS, *FINDINGS_FILES.values()):
        try:
            st = os.stat(scan.directory / name)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            raise UsageError(f"{printable(output)}: -o names {name} of the scan output folder this report reads; "
                             "writing there would replace it: choose another file")


def _summary(report: Report) -> str:
    stats = report.stats
    line = f"{_plural(len(report.findings), 'repeat')}"
    if isinstance(stats.get("documents"), int):
        line += f" in {_plural(stats['documents'], 'document')}"
    if isinstance(stats.get("sentences"), int):
        line += f" ({_plural(stats['sentences'], 'sentence')})"
    return line


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
