"""dedup: find repeated and garbled near-duplicate sentences in prose.

>>> import dedup
>>> [f.kind for f in dedup.check("The cat sat on the mat today. The cat sat on the mat today.")]
['exact']
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

from .detector import Detector, Settings  # noqa: E402
from .model import SCHEMA, Document, Finding, Report, Span  # noqa: E402
from .normalize import normalize, normalize_many  # noqa: E402
from .archive.index import Index  # noqa: E402
from .archive.store import ArchiveError  # noqa: E402


def check(text: str, doc_id: str = "<text>", **params: Any) -> list[Finding]:
    """Repeats inside one text; `params` are those of `Detector`."""
    return Detector(**params).check(text, doc_id)


__all__ = ["SCHEMA", "ArchiveError", "Detector", "Index", "Document", "Finding", "Report", "Settings", "Span", "check", "normalize", "normalize_many", "__version__"]
