"""The passage table: every passage of a batch of documents, as columns (numpy arrays of
offsets and ids, plus the raw and normalized texts), built by segmenting and normalizing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .model import Document
from .normalize import normalize_many
from .segment import segment_many


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
        listing=np.array([is_listing(t) for t in raw], dtype=bool),
        raw=raw,
        normalized=normalize_many(raw),
    )


def in_ranges(documents: Sequence[Document], attr: str, doc: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Which passages start inside one of their document's ranges `attr` (``headings``, ``ignored``)."""
    inside = np.zeros(len(doc), dtype=bool)
    for d, document in enumerate(documents):
        ranges = getattr(document, attr)
        if not ranges:
            continue
        bounds = np.asarray(sorted(ranges), dtype=np.int64)
        rows = np.flatnonzero(doc == d)
        k = np.searchsorted(bounds[:, 0], start[rows], side="right") - 1
        hit = k >= 0
        hit[hit] = start[rows][hit] < np.maximum.accumulate(bounds[:, 1])[k[hit]]
        inside[rows] = hit
    return inside


_ITEM_SEPARATORS = ",;،؛"


def is_listing(text: str, min_items: int = 5, max_words_per_item: float = 3.0) -> bool:
    """A list of short items separated by commas or semicolons ("Cech, Ferreira, Terry, ...")."""
    items = sum(text.count(mark) for mark in _ITEM_SEPARATORS) + 1
    return items >= min_items and len(text.split()) <= max_words_per_item * items
