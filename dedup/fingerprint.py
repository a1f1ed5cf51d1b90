"""Content fingerprints of findings: stable across edits that move text around.

A fingerprint hashes the later passage's document and the normalized texts of both passages,
never line numbers or offsets, so a baseline keeps matching after lines are added above a
repeat, and SARIF consumers can follow one finding from run to run.
"""
from __future__ import annotations

import hashlib

from .model import Finding
from .normalize import normalize


def fingerprint(finding: Finding) -> str:
    """A 16-hex-digit fingerprint of `finding` (same repeat, same fingerprint)."""
    parts = (finding.sentence.doc, normalize(finding.sentence.text), normalize(finding.match.text))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
