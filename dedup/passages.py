"""The passage table: every passage of a batch of documents, as columns (numpy arrays of
offsets and ids, plus the raw and normalized texts), built by segmenting and normalizing."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .model import Document
from .normalize import normalize_many
from .segment import segment


@dataclass(frozen=True)
class SegmentOptions:
    """How documents are cut into passages."""

    clause_min_words: int = 5
    clause_long_words: int = 30
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
    cols: dict[str, list[int]] = {k: [] for k in ("doc", "start", "end", "sentence", "is_clause", "heading")}
    raw: list[str] = []
    sentence_base = 0
    for d, document in enumerate(documents):
        pieces = segment(document.text, clause_min_words=options.clause_min_words,
                         clause_long_words=options.clause_long_words,
                         first_line_heading=options.first_line_heading)
        text = document.text
        for p in pieces:
            cols["doc"].append(d)
            cols["start"].append(p.start)
            cols["end"].append(p.end)
            cols["sentence"].append(sentence_base + p.sentence)
            cols["is_clause"].append(p.is_clause)
            cols["heading"].append(p.heading)
            raw.append(text[p.start:p.end])
        if pieces:
            sentence_base += pieces[-1].sentence + 1
    return PassageTable(
        documents=documents,
        doc=np.array(cols["doc"], dtype=np.int32),
        start=np.array(cols["start"], dtype=np.int64),
        end=np.array(cols["end"], dtype=np.int64),
        sentence=np.array(cols["sentence"], dtype=np.int64),
        is_clause=np.array(cols["is_clause"], dtype=bool),
        heading=np.array(cols["heading"], dtype=bool),
        listing=np.array([is_listing(t) for t in raw], dtype=bool),
        raw=raw,
        normalized=normalize_many(raw),
    )


_ITEM_SEPARATOR = re.compile(r"[,;،؛]")


def is_listing(text: str, min_items: int = 5, max_words_per_item: float = 3.0) -> bool:
    """A list of short items separated by commas or semicolons ("Cech, Ferreira, Terry, ...")."""
    items = len(_ITEM_SEPARATOR.findall(text)) + 1
    return items >= min_items and len(text.split()) <= max_words_per_item * items
