"""The passage table: every passage of a batch of documents, as columns (numpy arrays of
offsets and ids, plus the raw and normalized texts), built by segmenting and normalizing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .model import Document
from .normalize import normalize_many
from .segment import is_listing, segment_many


@dataclass(frozen=True)
class SegmentOptions:
    """How documents are cut into passages."""

    clause_min_words: int = 5
    clause_long_words: int = 60  # a sentence this long also yields its comma clauses
    first_line_heading: bool = True


@dataclass(frozen=True)
class PassageTable:
    """Column ``k`` of every array describes passage ``k``; passages are in document order,
    then by start offset, so a smaller index is an earlier passage."""

    documents: Sequence[Document]
    doc: np.ndarray  # int32, index into documents
    start: np.ndarray  # int64, code points
    end: np.ndarray  # int64
    sentence: np.ndarray  # int64, batch-wide sentence number; a clause shares its sentence's
    is_clause: np.ndarray  # bool
    heading: np.ndarray  # bool
    listing: np.ndarray  # bool: a list of short items (a line-up, a list of names), not prose
    raw: list[str]
    normalized: list[str]

    def __len__(self) -> int:
        return len(self.raw)

    @property
    def sentences(self) -> int:
        return int(np.count_nonzero(~self.is_clause))


def build_passages(documents: Sequence[Document], options: SegmentOptions = SegmentOptions()) -> PassageTable:
    """Segment and normalize every document of the batch."""
    texts = [d.prose for d in documents]
    cols = segment_many(texts, clause_min_words=options.clause_min_words,
                        clause_long_words=options.clause_long_words,
                        first_line_heading=options.first_line_heading)
    raw = [texts[d][a:b] for d, a, b in zip(cols.doc.tolist(), cols.start.tolist(), cols.end.tolist())]
    return PassageTable(
        documents=documents,
        doc=cols.doc,
        start=cols.start,
        end=cols.end,
        sentence=cols.sentence,
        is_clause=cols.is_clause,
        heading=cols.heading | in_ranges(documents, "headings", cols.doc, cols.start),
        listing=cols.listing,
        raw=raw,
        normalized=normalize_many(raw),
    )


def passages_as_documents(ids: Sequence[str], texts: Sequence[str]) -> PassageTable:
    """A table of stand-alone passages (archived sentences): each its own document and sentence,
    taken whole, not segmented again."""
    n = len(texts)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    return PassageTable(
        documents=[Document(i, t) for i, t in zip(ids, texts)],
        doc=np.arange(n, dtype=np.int32),
        start=np.zeros(n, dtype=np.int64),
        end=lengths,
        sentence=np.arange(n, dtype=np.int64),
        is_clause=np.zeros(n, dtype=bool),
        heading=np.zeros(n, dtype=bool),
        listing=np.array([is_listing(t) for t in texts], dtype=bool),
        raw=list(texts),
        normalized=normalize_many(list(texts)),
    )


def concat_tables(first: PassageTable, second: PassageTable) -> PassageTable:
    """`first`'s passages, then `second`'s (whose documents and sentences are renumbered after them)."""
    sentences = int(first.sentence.max()) + 1 if len(first) else 0
    return PassageTable(
        documents=[*first.documents, *second.documents],
        doc=np.concatenate([first.doc, second.doc + len(first.documents)]).astype(np.int32),
        start=np.concatenate([first.start, second.start]),
        end=np.concatenate([first.end, second.end]),
        sentence=np.concatenate([first.sentence, second.sentence + sentences]),
        is_clause=np.concatenate([first.is_clause, second.is_clause]),
        heading=np.concatenate([first.heading, second.heading]),
        listing=np.concatenate([first.listing, second.listing]),
        raw=[*first.raw, *second.raw],
        normalized=[*first.normalized, *second.normalized],
    )


def in_ranges(documents: Sequence[Document], attr: str, doc: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Which passages start inside one of their document's ranges `attr` (``headings``, ``ignored``)."""
    return _inside([getattr(document, attr) for document in documents], doc, start)


def in_kind_ranges(documents: Sequence[Document], doc: np.ndarray, start: np.ndarray, kind: np.ndarray,
                   kinds: Sequence[str]) -> np.ndarray:
    """Which passages (each with the index `kind` into `kinds` of the repeat it is in) start
    inside a range of their document's `ignored_kinds` that covers that kind."""
    inside = np.zeros(len(doc), dtype=bool)
    if not any(document.ignored_kinds for document in documents):
        return inside
    for k, name in enumerate(kinds):
        rows = np.flatnonzero(kind == k)
        ranges = [[(a, b) for a, b, covered in document.ignored_kinds if name in covered] for document in documents]
        if rows.size and any(ranges):
            inside[rows] = _inside(ranges, doc[rows], start[rows])
    return inside


def _inside(ranges_of: Sequence[Sequence[tuple[int, int]]], doc: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Which passages start inside one of the ranges of their document (`ranges_of[d]`)."""
    inside = np.zeros(len(doc), dtype=bool)
    for d, ranges in enumerate(ranges_of):
        if not ranges:
            continue
        bounds = np.asarray(sorted(ranges), dtype=np.int64)
        rows = np.flatnonzero(doc == d)
        k = np.searchsorted(bounds[:, 0], start[rows], side="right") - 1
        hit = k >= 0
        hit[hit] = start[rows][hit] < np.maximum.accumulate(bounds[:, 1])[k[hit]]
        inside[rows] = hit
    return inside
