"""The ``json`` and ``jsonl`` formats: the ``dedup.report/1`` schema (see docs/report.md).

Offsets, lines and columns are Span's own (code points, 1-based lines and columns). ``json``
is streamed, one finding a line, written a chunk of findings at a time, so a large report
never becomes one string in memory. Each finding is written by `Finding.to_json`, which gives
the bytes ``json.dumps(finding.to_dict(), ensure_ascii=False)`` gives without building the
dicts (100,000 findings in a fraction of a second).
"""
from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING

from ..model import SCHEMA, Report

CHUNK = 2048  # findings joined into one write

if TYPE_CHECKING:
    from . import FormatContext


class JsonFormat:
    name = "json"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        out.write(f'{{"schema": {json.dumps(SCHEMA)}, "findings": [')
        findings = report.findings
        for begin in range(0, len(findings), CHUNK):
            lead = "\n  " if begin == 0 else ",\n  "
            out.write(lead + ",\n  ".join([f.to_json() for f in findings[begin:begin + CHUNK]]))
        out.write(f'\n], "stats": {json.dumps(report.stats, ensure_ascii=False)}}}\n')


class JsonlFormat:
    name = "jsonl"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        findings = report.findings
        for begin in range(0, len(findings), CHUNK):
            out.write("".join([f.to_json() + "\n" for f in findings[begin:begin + CHUNK]]))
