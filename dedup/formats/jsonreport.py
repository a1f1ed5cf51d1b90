"""The ``json`` and ``jsonl`` formats: the ``dedup.report/1`` schema (see docs/report.md).

Offsets, lines and columns are Span's own (code points, 1-based lines and columns). ``json``
is streamed, one finding a line, so a large report never becomes one string in memory.
"""
from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING

from ..model import SCHEMA, Report

if TYPE_CHECKING:
    from . import FormatContext


class JsonFormat:
    name = "json"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        out.write(f'{{"schema": {json.dumps(SCHEMA)}, "findings": [')
        for index, finding in enumerate(report.findings):
            out.write(("\n  " if index == 0 else ",\n  ") + finding.to_json())
        out.write(f'\n], "stats": {json.dumps(report.stats, ensure_ascii=False)}}}\n')


class JsonlFormat:
    name = "jsonl"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        for finding in report.findings:
            out.write(finding.to_json() + "\n")
