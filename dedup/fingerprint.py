"""Content fingerprints of findings: stable across edits that move text around.

A fingerprint hashes the later passage's document and the normalized texts of both passages,
never line numbers or offsets, so a baseline keeps matching after lines are added above a
repeat, and SARIF consumers can follow one finding from run to run.
"""
from __future__ import annotations

import hashlib
import os
from typing import Sequence

from .model import Finding
from .normalize import normalize, normalize_many


def fingerprint(finding: Finding) -> str:
    """A 16-hex-digit fingerprint of `finding` (same repeat, same fingerprint)."""
    return _digest(finding.sentence.doc, normalize(finding.sentence.text), normalize(finding.match.text))


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """`fingerprint` of each finding, normalizing the texts in one batch."""
    texts = normalize_many([t for f in findings for t in (f.sentence.text, f.match.text)])
    return [_digest(f.sentence.doc, texts[2 * k], texts[2 * k + 1]) for k, f in enumerate(findings)]


def _digest(doc: str, sentence: str, match: str) -> str:
    # "./a.md" and "a.md" name one file: a baseline made from either form matches the other
    parts = (os.path.normpath(doc) if doc not in ("", "-") else doc, sentence, match)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
