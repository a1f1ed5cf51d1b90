"""The storage plug-in interface of the archive index, and the records that cross it.

A `Store` keeps, for every archived document, its passages (offsets, line, column, text), the
normalized-text hash of each passage and its LSH band keys, plus the `IndexSettings` that make
signatures comparable. Backends: `sqlite.SQLiteStore` (one file, the default) and
`redis.RedisStore` (shared). The `Index` (index.py) computes what to store and verifies what
a lookup returns; a Store only keeps and finds.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

FORMAT_VERSION = 1


class ArchiveError(Exception):
    """An index that cannot be opened, read or written: the message (one line) names the
    location and the problem."""


@dataclass(frozen=True)
class IndexSettings:
    """What makes the signatures of two runs comparable; stored with the index and checked on open."""

    format_version: int = FORMAT_VERSION
    scheme: str = "datasketch-affine32"  # MinHash permutations as datasketch draws them (see dedup.sketch)
    seed: int = 1
    num_perm: int = 128
    bands: int = 32
    rows: int = 4
    shingles: str = "word:1"
    stopwords: bool = True
    normalization: str = "news-v1"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def mismatches(self, other: "IndexSettings") -> list[str]:
        """Names of the settings that differ, as ``name: stored X, asked Y``."""
        return [f"{name}: stored {value!r}, asked {getattr(other, name)!r}"
                for name, value in self.to_dict().items() if getattr(other, name) != value]


@dataclass(frozen=True)
class PassageRows:
    """The passages of one document to store, as columns (row k is passage k)."""

    start: np.ndarray  # int64, code points into the document's text
    end: np.ndarray  # int64
    line: np.ndarray  # int64, 1-based, of start
    column: np.ndarray  # int64, 1-based, of start
    text: list[str]  # the passage as it stands in the source
    norm_hash: np.ndarray  # int64: hash of the normalized text (a uint64 viewed as int64)
    band_keys: np.ndarray  # (passages, bands) uint32

    def __len__(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class StoredPassage:
    """One archived passage, as a lookup returns it."""

    doc_id: str
    start: int
    end: int
    line: int
    column: int
    text: str
    norm_hash: int  # int64, as stored
    # what a store may add, not part of a passage's identity:
    band_keys: bytes | None = field(default=None, compare=False, repr=False)  # little-endian uint32s
    documents: int | None = field(default=None, compare=False)  # how many stored documents have its text


class Store(Protocol):
    """Keeps archived passages and finds those sharing a band key or a normalized hash."""

    location: str
    settings: IndexSettings

    def put(self, doc_id: str, rows: PassageRows, metadata: dict[str, Any] | None = None) -> None:
        """Store a document's passages, replacing any stored under `doc_id`: atomically (a crash
        leaves the old version or the new one, never a mix)."""

    def put_many(self, items: Sequence[tuple[str, PassageRows, dict[str, Any] | None]]) -> None:
        """`put` for several documents, atomically as a whole (a crash leaves all of them or
        none); of two items with one id, the later wins. The fast way to build an index."""

    def delete(self, doc_id: str) -> bool:
        """Remove a document; False when it was not stored."""

    def lookup(self, band_keys: np.ndarray, norm_hash: np.ndarray) -> list[StoredPassage]:
        """Every stored passage that shares, with any queried passage, a band key in the same
        band (`band_keys` is (queried passages, bands) uint32) or a normalized hash. Each
        passage once, in no particular order; a constant number of round trips."""

    def document_counts(self, norm_hash: np.ndarray) -> np.ndarray:
        """For each normalized hash, in how many stored documents a passage has it (int64)."""

    def documents(self) -> int:
        """How many documents are stored."""

    def stats(self) -> dict[str, Any]:
        """documents, passages, band keys, bytes on disk or in memory, settings."""

    def vacuum(self) -> None:
        """Reclaim space left by removed documents."""

    def close(self) -> None: ...
