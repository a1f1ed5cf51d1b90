"""The Detector: runs the stages in order over a batch of documents.

read -> segment -> normalize (passages) -> shingle -> sketch -> candidates -> verify -> group
-> report. Each stage lives in its own module; this one only wires them together.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol, Sequence

import numpy as np

from . import candidates as cand
from .arrays import MembershipTable, ordered_map, owners
from .editorial import REPORT, STRUCTURAL, EditorialRules, count_verdicts, judge, recurring_texts
from .group import clusters, select
from .model import Document, Finding, Report, count_kinds
from .normalize import PROFILE, word_counts
from .passages import (PassageTable, SegmentOptions, build_passages, concat_tables, in_kind_ranges, in_ranges,
                       passages_as_documents)
from .report import build_findings
from .segment import QUOTES
from .shingle import Shingles, ShingleSpec, shingle_batch, shingle_batches, text_hashes
from .sketch import MinHasher
from .stopwords import STOPWORDS
from .verify import CONTAINED, EXACT, KINDS, NO_KIND, NORMALIZED, TERMS, Thresholds, build_features, verify


@dataclass(frozen=True)
class Settings:
    """Every knob of a run. Defaults are what we measured to work on real news."""

    threshold: float = 0.4  # Jaccard the LSH bands aim at (bands and rows derived from it)
    document_threshold: float | None = 0.3  # a lower one for pairs inside one document
    num_perm: int = 128
    seed: int = 1
    shingles: str = "word:1"
    stopwords: bool = True  # leave function words out of the sketch shingles
    bucket_cap: int = 64
    # The candidate budget: the LSH buckets may give at most this many pairs per sentence
    # searched (and at least `candidate_budget_min` in all); past it, the passages with the most
    # bucket pairs (a flood of alike sentences) are linked only to the first member of their
    # bucket in `flood_links` bands of the main banding, and grouped through those links.
    candidate_budget: float = 16.0
    candidate_budget_min: int = 250_000
    flood_links: int = 2
    # A third search for shortened copies (a contiguous part of a sentence): bands of `rows`
    # MinHash values over content-word bigrams, which a fragment keeps intact, unlike its share
    # of the whole sentence's words. (0, 0) turns it off.
    fragment_bands: tuple[int, int] = (16, 2)
    segment: SegmentOptions = field(default_factory=SegmentOptions)
    verify: Thresholds = field(default_factory=Thresholds)
    editorial: EditorialRules = field(default_factory=EditorialRules)
    workers: int = 1  # threads for shingling, sketching and rapidfuzz (-1: all cores; the command uses -1)

    def __post_init__(self) -> None:
        for name in ("threshold", "document_threshold"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], not {value}")
        if self.num_perm < 1 or self.bucket_cap < 2:
            raise ValueError("num_perm must be at least 1 and bucket_cap at least 2")
        if self.candidate_budget < 0 or self.candidate_budget_min < 0 or self.flood_links < 0:
            raise ValueError("candidate_budget, candidate_budget_min and flood_links must not be negative")
        if min(self.fragment_bands) < 0 or (0 in self.fragment_bands and any(self.fragment_bands)):
            raise ValueError(f"fragment_bands must be two positive numbers or (0, 0), not {self.fragment_bands}")

    def bands(self) -> tuple[int, int]:
        return cand.optimal_bands(self.threshold, self.num_perm)


_BLOCK = 1 << 16  # passages sketched at a time
FRAGMENT_SHINGLES = "word:2"


@dataclass(frozen=True)
class Banding:
    """One LSH index the candidates come from: `bands` x `rows` of a sketch (``main``: the
    signatures of `Settings.shingles`; ``fragment``: content-word bigrams), keys salted by
    document or not."""

    bands: int
    rows: int
    salted: bool = False
    sketch: str = "main"
    name: str = "lsh"


class ArchiveLookup(Protocol):
    """What `check_many` needs of an archive index (`dedup.Index`)."""

    location: str

    def archived_candidates(self, table: PassageTable) -> Any:
        """Archived passages that may repeat a passage of `table`: ``.passages`` (records with
        ``doc_id``, ``start``, ``end``, ``line``, ``column``, ``text``) and ``.band_keys``
        (their keys for the main banding, or None to sketch them), and optionally ``.boilerplate``
        (archived passages left out as boilerplate)."""

DocumentLike = Document | tuple[str, str] | Any


def as_document(doc: DocumentLike) -> Document:
    """Accept a Document, an ``(id, text)`` pair, or any object with ``id`` and ``text``."""
    if isinstance(doc, Document):
        return doc
    if isinstance(doc, tuple) and len(doc) == 2:
        return Document(str(doc[0]), doc[1])
    if hasattr(doc, "id") and hasattr(doc, "text"):
        return Document(str(doc.id), doc.text)
    raise TypeError(f"cannot read a document from {type(doc).__name__}: expected (id, text) or .id/.text")


class Detector:
    """Finds repeated passages inside and across the documents of one call::

        report = Detector(threshold=0.4).check_many([("a.txt", text_a), ("b.txt", text_b)])
    """

    def __init__(self, **params: Any) -> None:
        self.settings = Settings(**params)
        self._prepare()

    @classmethod
    def from_settings(cls, settings: Settings) -> Detector:
        detector = cls.__new__(cls)
        detector.settings = settings
        detector._prepare()
        return detector

    def _prepare(self) -> None:
        self._hasher = MinHasher(self.settings.num_perm, self.settings.seed)
        self._spec = ShingleSpec.parse(self.settings.shingles, STOPWORDS if self.settings.stopwords else frozenset())
        bands, rows = self.settings.fragment_bands
        self._fragment_hasher = MinHasher(bands * rows, self.settings.seed) if bands else None
        self._fragment_spec = ShingleSpec.parse(FRAGMENT_SHINGLES, STOPWORDS)

    def check(self, text: str, doc_id: str = "<text>", index: "ArchiveLookup | None" = None) -> list[Finding]:
        """Repeats inside one text, and with `index` (a `dedup.Index`) of archived passages."""
        return self.check_many([Document(doc_id, text)], index=index).findings

    def check_many(self, docs: Iterable[DocumentLike], on_stage: Callable[[str], None] | None = None,
                   index: "ArchiveLookup | None" = None) -> Report:
        """Repeats inside and across `docs`, as a Report (findings and stats).

        With `index` (a `dedup.Index`), passages that repeat an archived passage are reported
        too, with scope ``archive``. `on_stage`, if given, is called with each stage's name as
        the stage ends (for progress)."""
        clock = Stopwatch(on_stage)
        documents = [as_document(d) for d in docs]
        for d in documents:
            if not isinstance(d.text, str):
                raise TypeError(f"document {d.id!r}: text must be str, not {type(d.text).__name__}")
        table = build_passages(documents, self.settings.segment)
        clock.lap("segment+normalize")
        archived: Sequence[Any] = ()
        presketched, boilerplate = None, 0
        archive_boilerplate = np.zeros(0, dtype=np.uint64)
        if index is not None:
            candidates = index.archived_candidates(table)
            archived, presketched = candidates.passages, candidates.band_keys
            boilerplate = getattr(candidates, "boilerplate", 0)
            archive_boilerplate = getattr(candidates, "boilerplate_texts", archive_boilerplate)
            table = concat_tables(passages_as_documents([p.doc_id for p in archived], [p.text for p in archived]),
                                  table)
            clock.lap("archive lookup")
        stats = cand.CandidateStats()
        pairs, verdicts, words = self._find_pairs(table, stats, clock, presketched)
        accepted = np.flatnonzero((verdicts.kind != NO_KIND) & (pairs[:, 1] >= len(archived)))
        accepted = accepted[~in_ranges(table.documents, "ignored", table.doc, table.start)[pairs[accepted, 1]]]
        later = pairs[accepted, 1]
        accepted = accepted[~in_kind_ranges(table.documents, table.doc[later], table.start[later],
                                            verdicts.kind[accepted], KINDS)]
        rules = self.settings.editorial
        recurring = recurring_texts(table, rules, len(archived), archive_boilerplate)
        judged = judge(table, words, pairs[accepted, 0], pairs[accepted, 1], verdicts.kind[accepted],
                       self.settings.verify.min_words, recurring.passages, rules)
        wanted = (judged == REPORT) | ((judged == STRUCTURAL) & rules.report_structural)
        kept, verdict = accepted[wanted], judged[wanted]
        earlier, later = pairs[kept, 0], pairs[kept, 1]
        picked = select(earlier, later, verdicts.kind[kept], verdicts.score[kept], table.sentence, table.is_clause)
        chosen = kept[picked]
        groups = np.unique(clusters(earlier, later)[picked], return_inverse=True)[1]
        findings = build_findings(table, pairs[chosen, 0], pairs[chosen, 1], verdicts.kind[chosen],
                                  verdicts.score[chosen], groups, archived, structural=verdict[picked] == STRUCTURAL)
        clock.lap("editorial+group+report")
        report_stats = self._stats(table, stats, findings, clock)
        report_stats["left_out"] = count_verdicts(judged[~wanted])
        report_stats["boilerplate"] = recurring.summary(table)
        if index is not None:  # count the checked documents only; the archive's passages apart
            report_stats.update(documents=len(documents), passages=len(table) - len(archived),
                                sentences=table.sentences - len(archived))
            report_stats["archive"] = {"location": index.location, "candidates": len(archived),
                                       "boilerplate": boilerplate}
        return Report(findings, report_stats)

    def sketch_sentences(self, table: PassageTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sentences of `table` that the LSH search covers (whole, non-heading, at least
        `min_words` words), with their band keys for the main banding and normalized hashes:
        what the archive index stores and looks up."""
        words = word_counts(table.normalized)
        sentences = np.flatnonzero((words >= self.settings.verify.min_words) & ~table.heading & ~table.is_clause)
        keys = self._band_keys(table, sentences, layouts=self._banding()[:1])[0]  # the main banding only
        return sentences, keys, text_hashes([table.normalized[i] for i in sentences.tolist()])

    def _find_pairs(self, table: PassageTable, stats: cand.CandidateStats, clock: "Stopwatch",
                    presketched: np.ndarray | None = None):
        """Candidate pairs of `table` and their verdicts. `presketched` holds the main banding's
        keys of the table's first ``len(presketched)`` passages (archived sentences, keys as
        stored): those are not sketched again, and take no part in the document-salted banding."""
        s = self.settings
        terms = shingle_batch(table.normalized, TERMS, s.workers)
        features = build_features(table.normalized, table.raw, table.is_clause, terms)
        nonempty = features.words > 0
        long_enough = nonempty & (features.words >= s.verify.min_words)
        sentences = np.flatnonzero(long_enough & ~table.heading & ~table.is_clause)
        known = 0 if presketched is None else len(presketched)
        sentences = sentences[sentences >= known]
        keys = self._band_keys(table, sentences)
        clock.lap("shingle+sketch")
        # sentences: by normalized text, and by LSH; clauses: with the other clauses of their sentence
        quotable = quoted_clauses(table, features.words >= s.verify.clause_copy_words)
        found = {"exact": cand.pairs_from_keys(features.norm_hash, eligible=nonempty & (~table.is_clause | quotable),
                                               cap=s.bucket_cap, stats=stats)}
        quotes = np.flatnonzero(quotable)
        searches: list[tuple[Banding, cand.Buckets]] = []
        for k, (layout, band_keys) in enumerate(zip(self._banding(), keys)):
            rows = sentences
            if k == 0 and known:
                rows = np.concatenate([np.arange(known), sentences])
                band_keys = np.concatenate([presketched, band_keys])
            if layout.salted and len(quotes):  # a quotation clause with the sentences of its document
                rows = np.concatenate([sentences, quotes])
                band_keys = np.concatenate([band_keys, self._band_keys(table, quotes, layouts=[layout])[0]])
            if layout.sketch == "fragment":  # shortened copies with enough content words to be reported
                enough = np.diff(features.word_indptr)[rows] >= s.verify.contained_terms
                rows, band_keys = rows[enough], band_keys[enough]
            searches.append((layout, cand.key_buckets(band_keys, rows=rows)))
        # the budget: a flood of alike sentences is linked through representatives, not pair by pair
        budget = max(s.candidate_budget_min, int(s.candidate_budget * len(sentences)))
        flooded = cand.flood_passages([b for _, b in searches], len(table), s.bucket_cap, budget, s.flood_links,
                                      stats)
        later_copies = None if flooded is None else _later_copies(found["exact"], len(table))
        for k, (layout, buckets) in enumerate(searches):
            pairs = cand.pairs_from_buckets(buckets, s.bucket_cap, flooded, s.flood_links if k == 0 else 0, stats,
                                            unlinked=later_copies)
            if layout.sketch == "fragment":  # it looks for shortened copies only: the other searches cover the rest
                pairs = pairs[clearly_shorter(features.words, pairs, s.verify.contained_length)]
            found[layout.name] = pairs
        found["clauses"] = cand.pairs_from_keys(table.sentence, eligible=long_enough & table.is_clause,
                                                cap=s.bucket_cap, stats=stats)
        stats.by_source = {name: len(p) for name, p in found.items()}
        pairs = cand.unique_pairs(np.concatenate(list(found.values())))
        pairs = pairs[~overlapping(table, pairs)]
        stats.pairs = len(pairs)
        left, right = pairs[:, 0], pairs[:, 1]
        same_doc = table.doc[left] == table.doc[right]
        exact_only = table.heading[left] | table.heading[right] | (table.listing[left] & table.listing[right])
        same_sentence = table.sentence[left] == table.sentence[right]
        clause_outside = (table.is_clause[left] | table.is_clause[right]) & ~same_sentence
        # a quote given again inside a longer sentence of its document: matched when one stands in the other
        quote_again = clause_outside & same_doc & (quotable[left] ^ quotable[right])
        quote_again &= ~(table.is_clause[left] & table.is_clause[right])
        clock.lap("candidates")
        verdicts = verify(features, left, right, same_doc, exact_only, clause_outside & ~quote_again, same_sentence,
                          s.verify, s.workers)
        loose = quote_again & ~np.isin(verdicts.kind, (NO_KIND, EXACT, NORMALIZED, CONTAINED))
        verdicts.kind[loose] = NO_KIND
        verdicts.score[loose] = 0.0
        clock.lap("verify")
        return pairs, verdicts, features.words

    def _banding(self) -> list[Banding]:
        """Each LSH index the candidates come from; the first is the main one (what the
        archive index stores)."""
        s = self.settings
        layouts = [Banding(*s.bands())]
        if s.document_threshold is not None and s.document_threshold < s.threshold:
            layouts.append(Banding(*cand.optimal_bands(s.document_threshold, s.num_perm), salted=True,
                                   name="lsh-document"))
        if self._fragment_hasher is not None:
            layouts.append(Banding(*s.fragment_bands, sketch="fragment", name="lsh-fragment"))
        return layouts

    def _band_keys(self, table: PassageTable, passages: np.ndarray, layouts: list[Banding] | None = None,
                   stock: np.ndarray | None = None, first_passage: int = 0) -> list[np.ndarray]:
        """Band keys of `passages` (indices into the table) for each LSH layout.

        Passages are shingled, then sketched, in blocks (on `workers` threads), so the MinHash
        signatures of only a block or two are ever in memory; the keys do not depend on the
        block size. A document-salted layout salts each passage's keys with a hash of its
        document's id. The fragment sketch leaves out stock bigrams (`stock`, by default
        `stock_shingles` of these passages: a sharded run gives the whole run's), and a passage
        left with none gets keys of its own (from its number, `first_passage` + its index in
        the table), which match no other passage's.
        """
        layouts = self._banding() if layouts is None else layouts
        salts = document_salts(table.documents) if any(b.salted for b in layouts) else None
        sketches = {"main": (self._spec, self._hasher)}
        if self._fragment_hasher is not None:  # else no layout names it
            sketches["fragment"] = (self._fragment_spec, self._fragment_hasher)
        names = sorted({layout.sketch for layout in layouts})
        starts = list(range(0, len(passages), _BLOCK))

        def shingled(lo: int) -> list[Shingles]:
            block = passages[lo:lo + _BLOCK]
            return shingle_batches([table.normalized[i] for i in block.tolist()], [sketches[n][0] for n in names])

        shingles = ordered_map(shingled, starts, self.settings.workers)
        if "fragment" in names:
            k = names.index("fragment")
            if stock is None:
                stock = stock_shingles([block[k] for block in shingles], len(passages))
            for block in shingles:
                block[k] = without(block[k], stock)

        def sketched(number: int) -> list[np.ndarray]:
            block = passages[starts[number]:starts[number] + _BLOCK]
            signatures = {name: sketches[name][1].signatures(shingles[number][k]) for k, name in enumerate(names)}
            keys = []
            for b in layouts:
                band_keys = cand.band_keys(signatures[b.sketch], b.bands, b.rows,
                                           salt=salts[table.doc[block]] if b.salted and salts is not None else None)
                if b.sketch == "fragment":
                    empty = np.flatnonzero(np.diff(shingles[number][names.index(b.sketch)].indptr) == 0)
                    band_keys[empty] = _own_keys(block[empty] + first_passage, b.bands)
                keys.append(band_keys)
            return keys

        blocks = ordered_map(sketched, range(len(starts)), self.settings.workers)
        keys = [[np.zeros((0, b.bands), dtype=np.uint32)] + [block[k] for block in blocks]
                for k, b in enumerate(layouts)]
        return [np.concatenate(k) for k in keys]

    def fragment_band_keys(self, shingles: Shingles, passages: np.ndarray, stock: np.ndarray) -> np.ndarray:
        """The fragment banding's keys of passages numbered `passages`, from their fragment
        shingles (`_fragment_spec`) and the run's `stock` bigrams: what `_band_keys` gives
        for that layout, for a shard that kept its shingles."""
        layout = next(b for b in self._banding() if b.sketch == "fragment")
        assert self._fragment_hasher is not None
        shingles = without(shingles, stock)
        keys = [np.zeros((0, layout.bands), dtype=np.uint32)]
        for lo in range(0, len(passages), _BLOCK):
            hi = min(lo + _BLOCK, len(passages))
            block = Shingles(shingles.hashes[shingles.indptr[lo]:shingles.indptr[hi]],
                             shingles.indptr[lo:hi + 1] - shingles.indptr[lo])
            band_keys = cand.band_keys(self._fragment_hasher.signatures(block), layout.bands, layout.rows)
            empty = np.flatnonzero(np.diff(block.indptr) == 0)
            band_keys[empty] = _own_keys(passages[lo:hi][empty], layout.bands)
            keys.append(band_keys)
        return np.concatenate(keys)

    def _stats(self, table: PassageTable, stats: cand.CandidateStats, findings: list[Finding],
               clock: "Stopwatch") -> dict[str, Any]:
        return {
            "documents": len(table.documents),
            "sentences": table.sentences,
            "passages": len(table),
            "findings": len(findings),
            "by_kind": count_kinds(findings),
            **search_stats(self.settings, stats),
            "stage_seconds": {name: round(t, 3) for name, t in clock.laps.items()},
            "seconds": round(clock.total(), 3),
        }


def search_stats(s: Settings, stats: cand.CandidateStats) -> dict[str, Any]:
    """The report stats of the candidate search and its settings (a check's, or a scan's
    summed over its tasks)."""
    bands, rows = s.bands()
    return {
        "candidates": stats.pairs,
        "capped_buckets": stats.capped_buckets,
        "capped_passages": stats.capped_passages,
        "flood": {"bucket_pairs": stats.bucket_pairs, "budget": stats.budget, "passages": stats.flooded,
                  "least_load": stats.flood_load, "representative_links": stats.representative_links},
        "normalization": PROFILE,
        "shingles": s.shingles,
        "num_perm": s.num_perm,
        "threshold": s.threshold,
        "bands": bands,
        "rows": rows,
    }


def document_salts(documents: Sequence[Document]) -> np.ndarray:
    """One salt per document for the document-salted banding: a hash of its id, so that a
    document's keys do not depend on where it stands in the run (or in which shard)."""
    return text_hashes([d.id for d in documents])


STOCK_SHARE, STOCK_MIN = 0.0002, 25


def stock_shingles(blocks: list[Shingles], passages: int) -> np.ndarray:
    """The shingle hashes found more than max(STOCK_MIN, STOCK_SHARE x passages) times in
    `blocks` (stock phrases such as "prime minister" or "the Israeli army"), sorted: two
    sentences that share only those are no copies of each other, yet would share band keys."""
    hashes = np.concatenate([np.zeros(0, dtype=np.uint32)] + [b.hashes for b in blocks])
    values, counts = np.unique(hashes, return_counts=True)
    return stock_from_counts(values, counts, passages)


def stock_from_counts(values: np.ndarray, counts: np.ndarray, passages: int) -> np.ndarray:
    """`stock_shingles` from the counts of each shingle hash (merged over shards)."""
    return values[counts > max(STOCK_MIN, STOCK_SHARE * passages)]


def without(shingles: Shingles, dropped: np.ndarray) -> Shingles:
    """`shingles` less the hashes in `dropped`, in the same CSR layout."""
    if len(dropped) == 0 or len(shingles.hashes) == 0:
        return shingles
    keep = ~MembershipTable(dropped).contains(shingles.hashes)
    indptr = np.zeros_like(shingles.indptr)
    np.cumsum(np.bincount(owners(shingles.indptr)[keep], minlength=len(shingles)), out=indptr[1:])
    return Shingles(shingles.hashes[keep], indptr)


def _own_keys(passages: np.ndarray, bands: int) -> np.ndarray:
    """Band keys that no other passage has: each band's key is the passage's own number
    (band keys of real sketches are hashes: a clash with one is rare, and verification
    rejects it)."""
    return np.repeat(passages.astype(np.uint32)[:, None], bands, axis=1)


def _later_copies(exact_pairs: np.ndarray, passages: int) -> np.ndarray:
    """Passages whose normalized text an earlier passage has (the later side of an exact pair)."""
    out = np.zeros(passages, dtype=bool)
    out[exact_pairs[:, 1]] = True
    return out


def clearly_shorter(words: np.ndarray, pairs: np.ndarray, most: float) -> np.ndarray:
    """Pairs whose shorter side has at most `most` of the other's words."""
    a, b = words[pairs[:, 0]], words[pairs[:, 1]]
    return np.minimum(a, b) <= most * np.maximum(a, b)


class Stopwatch:
    """Seconds spent in each named stage of one run."""

    def __init__(self, on_lap: Callable[[str], None] | None = None) -> None:
        self._started = self._last = time.perf_counter()
        self._on_lap = on_lap
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now
        if self._on_lap is not None:
            self._on_lap(name)

    def total(self) -> float:
        return time.perf_counter() - self._started


_QUOTE_MARK = re.compile(f"[{QUOTES}]")


def quoted_clauses(table: PassageTable, long_enough: np.ndarray) -> np.ndarray:
    """The clauses of `long_enough` that are a quotation: inside quotation marks, an odd number of
    which stand between their sentence's start and theirs. Such a clause repeated word for word
    elsewhere is a quote given again."""
    out = np.zeros(len(table), dtype=bool)
    clauses = np.flatnonzero(table.is_clause & long_enough)
    sentences = np.searchsorted(table.sentence, table.sentence[clauses])  # a sentence comes before its clauses
    offsets = (table.start[clauses] - table.start[sentences]).tolist()
    for k, sentence, offset in zip(clauses.tolist(), sentences.tolist(), offsets):
        out[k] = len(_QUOTE_MARK.findall(table.raw[sentence], 0, offset)) % 2 == 1
    return out


def overlapping(table: PassageTable, pairs: np.ndarray) -> np.ndarray:
    """Pairs whose passages overlap in one document (a clause and its own sentence)."""
    a, b = pairs[:, 0], pairs[:, 1]
    return (table.doc[a] == table.doc[b]) & (table.start[a] < table.end[b]) & (table.start[b] < table.end[a])
