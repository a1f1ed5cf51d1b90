"""Baselines: the findings a project has accepted, so that a check reports only new ones.

A baseline file lists the content fingerprint of each accepted finding (see `fingerprint`),
so it keeps matching after text moves (lines added above a repeat). It is JSON, sorted for
stable diffs, with the kind, the document and a clipped copy of the later passage for the
people reading it::

    {"schema": "dedup.baseline/1",
     "findings": [{"fingerprint": "…", "kind": "exact", "doc": "a.md", "text": "…"}]}

A fingerprint listed n times covers n findings with that fingerprint; one more is new.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .atomic import write_atomically
from .fingerprint import fingerprints
from .model import Finding
from .readers.errors import InputError, printable
from .readers.limits import read_file

__all__ = ["SCHEMA", "Baseline", "BaselineEntry", "BaselineError"]

SCHEMA = "dedup.baseline/1"
MAX_BASELINE_BYTES = 256 * 1024 * 1024
TEXT_LIMIT = 120  # characters of the later passage kept for readers of the file
_FIELDS = ("fingerprint", "kind", "doc", "text")


class BaselineError(Exception):
    """A baseline file that cannot be read or written: one line naming the file and the problem."""


@dataclass(frozen=True, order=True, slots=True)
class BaselineEntry:
    """One accepted finding; fields in the order they sort (by document first)."""

    doc: str
    fingerprint: str
    kind: str
    text: str

    @classmethod
    def of(cls, finding: Finding, fingerprint: str) -> BaselineEntry:
        return cls(finding.sentence.doc, fingerprint, finding.kind, _clip(finding.sentence.text))

    def to_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in _FIELDS}


class Baseline:
    """The accepted findings of a project; see the module docstring."""

    def __init__(self, entries: Iterable[BaselineEntry] = ()) -> None:
        self.entries = sorted(entries)
        self._counts = Counter(entry.fingerprint for entry in self.entries)

    @classmethod
    def from_findings(cls, findings: Iterable[Finding]) -> Baseline:
        findings = list(findings)
        return cls(BaselineEntry.of(f, key) for f, key in zip(findings, fingerprints(findings)))

    @classmethod
    def load(cls, path: Path) -> Baseline:
        """The baseline in `path`; BaselineError when it is missing or not a baseline."""
        shown = printable(str(path))
        try:
            data = json.loads(read_file(str(path), shown, MAX_BASELINE_BYTES, "for a baseline").decode("utf-8"))
        except InputError as err:
            if "no such file" in str(err):
                raise BaselineError(f"{shown}: no such baseline file (create it with --update-baseline)") from None
            raise BaselineError(str(err).replace(": cannot read:", ": cannot read the baseline:")) from None
        except RecursionError:
            raise BaselineError(f"{shown}: not a baseline file: JSON nested too deeply") from None
        except UnicodeDecodeError:
            raise BaselineError(f"{path}: not a baseline file: invalid UTF-8") from None
        except json.JSONDecodeError as err:
            raise BaselineError(f"{path}: not a baseline file: invalid JSON at line {err.lineno}, "
                                f"column {err.colno}: {err.msg}") from None
        return cls(_entries_of(data, path))

    def save(self, path: Path) -> None:
        """Write the baseline to `path` atomically: the file is either the old one or the new one,
        whatever happens meanwhile (a temporary file in the same directory replaces it)."""
        document = {"schema": SCHEMA, "findings": [entry.to_dict() for entry in self.entries]}
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        try:
            write_atomically(path, text)
        except OSError as err:
            raise BaselineError(f"{path}: cannot write the baseline: {err.strerror or err}") from None

    def new_findings(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings the baseline does not cover, in their order; each listed fingerprint
        covers one finding."""
        remaining = Counter(self._counts)
        new = []
        findings = list(findings)
        for finding, key in zip(findings, fingerprints(findings)):
            if remaining[key] > 0:
                remaining[key] -= 1
            else:
                new.append(finding)
        return new

    def __len__(self) -> int:
        return len(self.entries)


def _clip(text: str) -> str:
    """`text` on one line, cut to TEXT_LIMIT characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_LIMIT else flat[: TEXT_LIMIT - 1].rstrip() + "…"


def _entries_of(data: Any, path: Path) -> list[BaselineEntry]:
    """The entries of a parsed baseline file; BaselineError naming the first problem."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        raise BaselineError(f"{path}: not a baseline file: schema is {found!r}, expected {SCHEMA!r}")
    findings = data.get("findings")
    if not isinstance(findings, list):
        raise BaselineError(f"{path}: not a baseline file: 'findings' must be a list")
    return [_entry_of(item, index, path) for index, item in enumerate(findings)]


def _entry_of(item: Any, index: int, path: Path) -> BaselineEntry:
    if not isinstance(item, dict):
        raise BaselineError(f"{path}: findings[{index}] must be an object")
    if not isinstance(item.get("fingerprint"), str) or not item["fingerprint"]:
        raise BaselineError(f"{path}: findings[{index}] has no 'fingerprint' string")
    return BaselineEntry(str(item.get("doc", "")), item["fingerprint"], str(item.get("kind", "")),
                         str(item.get("text", "")))
