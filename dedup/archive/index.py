"""The archive index: everything already published, to check a draft against.

An `Index` pairs a storage backend (`Store`: SQLite by default, Redis for shared deployments)
with the Detector that computes what is stored: the sentences of each archived document that
the LSH search covers, their band keys and normalized hashes. Checking a draft looks up the
archived sentences that share a band key (or a normalized text) with one of its sentences and
verifies them with the draft in one batch, exactly as passages of one run are verified::

    with dedup.Index.open(".dedup/index.sqlite") as index:
        index.add("2026/11/28/floods", text)
        findings = index.query(draft)          # scope "archive", match = the archived passage
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..detector import Detector, DocumentLike, as_document
from ..model import Document, Finding
from ..normalize import PROFILE
from ..passages import PassageTable, build_passages
from ..report import LineIndex
from .store import ArchiveError, IndexSettings, PassageRows, Store, StoredPassage

DEFAULT_LOCATION = ".dedup/index.sqlite"
DOCUMENT_COUNT_TTL_S = 10.0  # how long the archive's document count (for the boilerplate limit) is reused


@dataclass(frozen=True)
class Boilerplate:
    """Archived passages found in more than `share` of the archived documents (and in at least
    `min_documents`) are boilerplate (agency sign-offs, "read also" lines): not reported."""

    share: float = 0.002
    min_documents: int = 5

    def limit(self, documents: int) -> float:
        return max(self.min_documents, self.share * documents)


class Index:
    """A persistent, incremental archive of published documents; see the module docstring."""

    def __init__(self, store: Store, detector: Detector, boilerplate: Boilerplate = Boilerplate()) -> None:
        self.store = store
        self.detector = detector
        self.boilerplate = boilerplate
        self.location = store.location
        self._counted: tuple[float, int] | None = None  # (when, documents): counting is a table scan

    @classmethod
    def open(cls, location: str | Path = DEFAULT_LOCATION, *, create: bool = True,
             boilerplate: Boilerplate = Boilerplate(), **detector_params: Any) -> "Index":
        """Open (or create) the index at `location`: a file path (SQLite) or ``redis://host:port/db``.

        `detector_params` are those of `Detector`; the ones that shape signatures must be the
        index's own, or opening fails with ArchiveError naming the difference."""
        detector = Detector(**detector_params)
        settings = settings_of(detector)
        location = str(location)
        if location.startswith(("redis://", "rediss://", "unix://")):
            from .redis import RedisStore
            store: Store = RedisStore.open(location, settings, create=create)
        else:
            from .sqlite import SQLiteStore
            store = SQLiteStore.open(location, settings, create=create)
        return cls(store, detector, boilerplate)

    # --- writing -------------------------------------------------------------------------

    def add(self, doc_id: str, text: str | Document, metadata: dict[str, Any] | None = None) -> int:
        """Archive a document (replacing one stored under `doc_id`); the passages stored."""
        doc = replace(text, id=doc_id) if isinstance(text, Document) else Document(doc_id, text)
        return self.add_many([doc], [metadata])

    def add_many(self, docs: Iterable[DocumentLike], metadata: Sequence[dict[str, Any] | None] | None = None,
                 batch: int = 512) -> int:
        """Archive many documents, segmented, sketched and stored in batches of `batch`
        documents; a batch is stored in one transaction (after a crash, all of it or none).
        The passages stored, in all."""
        documents = [as_document(d) for d in docs]
        metadata = list(metadata) if metadata is not None else [None] * len(documents)
        stored = 0
        for lo in range(0, len(documents), batch):
            chunk = documents[lo:lo + batch]
            rows = self.rows_of(chunk)
            self.store.put_many([(d.id, r, m) for d, r, m in zip(chunk, rows, metadata[lo:lo + batch])])
            stored += sum(len(r) for r in rows)
        self._counted = None
        return stored

    def remove(self, doc_id: str) -> bool:
        """Withdraw a document; False when it was not archived."""
        self._counted = None
        return self.store.delete(doc_id)

    def vacuum(self) -> None:
        self.store.vacuum()

    # --- reading -------------------------------------------------------------------------

    def query(self, text: str | Document, doc_id: str = "<draft>") -> list[Finding]:
        """The passages of `text` that repeat an archived passage (scope ``archive``)."""
        doc = text if isinstance(text, Document) else Document(doc_id, text)
        report = self.detector.check_many([doc], index=self)
        return [f for f in report.findings if f.scope == "archive"]

    def archived_candidates(self, table: PassageTable) -> "ArchiveCandidates":
        """Archived passages that may repeat a sentence of `table`: sharing a band key or the
        normalized text, not boilerplate, and not from a document being checked (a re-check
        of an archived article must not find itself); with their band keys where the store
        keeps them, so they need not be sketched again."""
        _, keys, norm_hash = self.detector.sketch_sentences(table)
        if len(norm_hash) == 0:
            return ArchiveCandidates([], None)
        checked = {d.id for d in table.documents}
        limit = self.boilerplate.limit(self._document_count())
        found = [p for p in self.store.lookup(keys, norm_hash.view(np.int64)) if p.doc_id not in checked]
        kept, dropped = self._without_boilerplate(found, limit)
        kept = sorted(kept, key=lambda p: (p.doc_id, p.start))
        texts = np.unique(np.array([p.norm_hash for p in dropped], dtype=np.int64)).view(np.uint64)
        return ArchiveCandidates(kept, self._stored_band_keys(kept), boilerplate=len(dropped), boilerplate_texts=texts)

    def _document_count(self) -> int:
        """The stored documents, counted again after this object's own writes or after
        DOCUMENT_COUNT_TTL_S (other processes may write too; the boilerplate limit needs only
        the order of magnitude)."""
        counted, now = self._counted, time.monotonic()
        if counted is None or now - counted[0] > DOCUMENT_COUNT_TTL_S:
            counted = self._counted = (now, self.store.documents())
        return counted[1]

    def _without_boilerplate(self, passages: list[StoredPassage],
                             limit: float) -> tuple[list[StoredPassage], list[StoredPassage]]:
        """The passages under the boilerplate limit, and those over it."""
        if not passages:
            return passages, []
        counts = [p.documents for p in passages if p.documents is not None]
        if len(counts) < len(passages):
            counts = self.store.document_counts(np.array([p.norm_hash for p in passages], dtype=np.int64)).tolist()
        return ([p for p, c in zip(passages, counts) if c <= limit],
                [p for p, c in zip(passages, counts) if c > limit])

    def _stored_band_keys(self, passages: list[StoredPassage]) -> np.ndarray | None:
        bands = self.store.settings.bands
        if not passages or any(p.band_keys is None or len(p.band_keys) != 4 * bands for p in passages):
            return None
        return np.frombuffer(b"".join(p.band_keys or b"" for p in passages), dtype="<u4").reshape(-1, bands).astype(np.uint32)

    def stats(self) -> dict[str, Any]:
        return {**self.store.stats(), "boilerplate": {"share": self.boilerplate.share,
                                                      "min_documents": self.boilerplate.min_documents}}

    def __len__(self) -> int:
        return self.store.documents()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what is stored ------------------------------------------------------------------

    def rows_of(self, documents: Sequence[Document]) -> list[PassageRows]:
        """What `add` stores for each of `documents`: its sketched sentences, as columns."""
        table = build_passages(documents, self.detector.settings.segment)
        sentences, keys, norm_hash = self.detector.sketch_sentences(table)
        owner = table.doc[sentences]
        bounds = np.searchsorted(owner, np.arange(len(documents) + 1))
        rows = []
        for d, document in enumerate(documents):
            picked = sentences[bounds[d]:bounds[d + 1]]
            start, end = table.start[picked], table.end[picked]
            lines = LineIndex(document.text)
            located = np.array([lines.locate(s) for s in start.tolist()], dtype=np.int64).reshape(-1, 2)
            rows.append(PassageRows(
                start=start.astype(np.int64), end=end.astype(np.int64), line=located[:, 0], column=located[:, 1],
                text=[document.text[a:b] for a, b in zip(start.tolist(), end.tolist())],
                norm_hash=norm_hash[bounds[d]:bounds[d + 1]].view(np.int64),
                band_keys=keys[bounds[d]:bounds[d + 1]]))
        return rows


@dataclass(frozen=True)
class ArchiveCandidates:
    """What a lookup found for a batch: archived passages, their band keys for the main
    banding ((passages, bands) uint32) when the store keeps them (else None), and how many
    archived passages were left out as boilerplate, with the normalized-text hashes of those
    (a passage of the batch with one of them is boilerplate too)."""

    passages: list[StoredPassage]
    band_keys: np.ndarray | None
    boilerplate: int = 0
    boilerplate_texts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))


def settings_of(detector: Detector) -> IndexSettings:
    """The index settings that make stored signatures comparable with `detector`'s."""
    s = detector.settings
    bands, rows = s.bands()
    return IndexSettings(seed=s.seed, num_perm=s.num_perm, bands=bands, rows=rows, shingles=s.shingles,
                         stopwords=s.stopwords, normalization=PROFILE)


__all__ = ["ArchiveError", "Boilerplate", "DEFAULT_LOCATION", "Index", "settings_of"]
