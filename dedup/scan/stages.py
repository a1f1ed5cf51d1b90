"""The scan's stages: pure functions over shards of whole documents, with no engine inside.

Each function takes a `Job` (the run's settings, inputs and folder) and the number of the
task it does, reads what earlier stages left in the work folder, writes its own unit, and
returns a small dict. Passages get run-wide numbers (their shard's first number plus their
index in it, in input order), so every rule that breaks a tie by passage order decides as
`dedup check` does over the same documents in the same order.

1. `map_shard`: read, segment, normalize; terms and their counts; the main and the
   document-salted band keys; the pairs inside one sentence (clauses); each shard's part of
   the run's statistics, partitioned by hash.
2. `merge_counts`: one hash partition of term frequencies (IDF), fragment bigrams (stock
   phrases) and boilerplate texts, summed over every shard.
3. `fragment_keys`: the fragment band keys, once the stock bigrams are known.
4. `band_pairs` / `exact_pairs`: a few bands of one banding, one after the other (or one
   partition of exact copies), over the whole run: buckets, the same caps and chains, the
   same flood rules; pairs written by the shard of their earlier passage. Those that need
   no statistic run in one round with `merge_counts` (`run` takes any of them).
5. `verify_range`: the candidate pairs of a range of earlier passages verified against the
   passages they name, with the run's IDF weights; accepted pairs written by later passage.
6. `couple_part` / `judge_part`: editorial rules over the documents that the pairs of a range
   of later passages (whole documents) touch; what a document takes from its pairs with
   other parts (teaser blocks, links) is merged first. Then `group.select` picks each later
   passage's finding (all its pairs are in its part), written with both spans, and the kept
   pairs are reduced to a forest (each passage linked to the least passage of its part's
   component) for the final grouping, which never sees the pairs themselves.
"""
from __future__ import annotations

import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence

import numpy as np

from .. import candidates as cand
from ..arrays import owners, ranges, unique_sorted
from ..detector import Detector, Settings, clearly_shorter, overlapping, quoted_clauses
from ..editorial import REPORT, STRUCTURAL, Coupling, count_verdicts, find_coupling, first_verdicts, judge
from ..group import components, select
from ..model import Document
from ..normalize import word_counts
from ..passages import PassageTable, build_passages, in_kind_ranges, in_ranges
from ..readers import InputError, printable, read_path
from ..readers.limits import ReadLimits
from ..readers.records import read_jsonl
from ..report import LineIndex
from ..shingle import Shingles, shingle_batch, text_hashes
from ..verify import CONTAINED, EXACT, KINDS, NO_KIND, NORMALIZED, TERMS, build_features, verify
from .store import ScanFolder, Unit, UnitWriter

PARTS = 16  # hash partitions of the run's statistics and of the exact copies
_PART_SHIFT32, _PART_SHIFT64 = np.uint32(28), np.uint64(60)


@dataclass(frozen=True)
class Piece:
    """Part of one input: a byte range of a JSON Lines file (`first_line` its first line's
    number), or a whole file of another kind (``end`` None), read as `dedup check` reads it."""

    path: str  # as given: documents and messages are named by it
    start: int = 0
    end: int | None = None
    first_line: int = 1
    where: str = ""  # the absolute path a worker reads (on a cluster, its working folder is not ours)

    @property
    def location(self) -> str:
        return self.where or self.path


@dataclass(frozen=True)
class Job:
    """What every task of one scan needs: its folder, settings, reading options and shards."""

    folder: str
    settings: Settings
    tasks: tuple[tuple[Piece, ...], ...]
    id_field: str = "id"
    text_field: str = "text"
    limits: ReadLimits = ReadLimits()

    @property
    def scan(self) -> ScanFolder:
        return ScanFolder(Path(self.folder))

    def unit(self, stage: str, name: int | str) -> Unit:
        return self.scan.unit(stage, f"{name:05d}" if isinstance(name, int) else name)


def run(stage: str, args: tuple[Any, ...]) -> Any:
    """Stage function `stage` of this module on `args`: lets an engine run tasks of several
    stages in one round."""
    return STAGES[stage](*args)


@dataclass(frozen=True)
class Offsets:
    """Where each shard's passages, documents and sentences start in run-wide numbering."""

    passages: np.ndarray  # int64, len(shards) + 1
    documents: np.ndarray
    sentences: np.ndarray

    def shard_of(self, passages: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.passages, passages, side="right") - 1


# -- 1. map ------------------------------------------------------------------------------

def read_task(job: Job, task: int) -> list[Document]:
    """The documents of one task's pieces, in input order."""
    docs: list[Document] = []
    for piece in job.tasks[task]:
        shown = printable(piece.path)
        if piece.end is None:
            try:
                found = list(read_path(piece.location, job.id_field, job.text_field, job.limits, name=piece.path))
            except InputError as err:
                if not err.unreadable:
                    raise
                print(f"dedup: warning: {err}; skipped", file=sys.stderr)
                continue
            if len(found) == 1 and not found[0].text.strip():
                print(f"dedup: warning: {shown}: empty file; skipped", file=sys.stderr)
                continue
            docs.extend(found)
            continue
        with open(piece.location, "rb") as handle:
            handle.seek(piece.start)
            data = handle.read(piece.end - piece.start)
        if piece.start == 0 and b"\x00" in data[:8192]:
            raise InputError(f"{shown}: looks like a binary file")
        try:
            text = data.decode("utf-8-sig" if piece.start == 0 else "utf-8")
        except UnicodeDecodeError as err:
            line = piece.first_line + data[: err.start].count(b"\n")
            raise InputError(f"{shown}:{line}: invalid UTF-8") from None
        docs.extend(read_jsonl(shown, text, job.id_field, job.text_field, job.limits, piece.first_line))
    return docs


def _part32(values: np.ndarray) -> np.ndarray:
    return (values >> _PART_SHIFT32).astype(np.int64) % PARTS


def _part64(values: np.ndarray) -> np.ndarray:
    return (values >> _PART_SHIFT64).astype(np.int64) % PARTS


def _by_part(writer: UnitWriter, name: str, part: np.ndarray, columns: dict[str, np.ndarray]) -> None:
    """Write `columns` sorted by hash partition (stable), with the partition bounds."""
    order = np.argsort(part, kind="stable")
    writer.array(f"{name}.bounds", np.searchsorted(part[order], np.arange(PARTS + 1)))
    for column, values in columns.items():
        writer.array(f"{name}.{column}", values[order])


def _term_columns(terms: Shingles, is_clause: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each passage's number of distinct terms, and the shard's part of the run's term frequencies
    (each term's hash and the sentences holding it), from one sort of (passage, term) keys."""
    n = len(is_clause)
    keys = unique_sorted(owners(terms.indptr).astype(np.uint64) << np.uint64(32) | terms.hashes.astype(np.uint64))
    passage = (keys >> np.uint64(32)).astype(np.int64)
    distinct = np.bincount(passage, minlength=n).astype(np.int32)
    values, counts = np.unique((keys & np.uint64(0xFFFFFFFF))[~is_clause[passage]].astype(np.uint32), return_counts=True)
    return distinct, values, counts.astype(np.int64)


def map_shard(job: Job, task: int) -> dict[str, Any]:
    """Stage 1 for one shard (see the module docstring)."""
    unit = job.unit("shards", task)
    if unit.done():
        return unit.json()
    s = job.settings
    detector = Detector.from_settings(s)
    docs = read_task(job, task)
    table = build_passages(docs, s.segment)
    n = len(table)
    words = word_counts(table.normalized)
    norm_hash = text_hashes(table.normalized)
    terms = shingle_batch(table.normalized, TERMS)
    quotable = quoted_clauses(table, words >= s.verify.clause_copy_words)
    nonempty = words > 0
    long_enough = nonempty & (words >= s.verify.min_words)
    sentences = np.flatnonzero(long_enough & ~table.heading & ~table.is_clause)
    quotes = np.flatnonzero(quotable)
    layouts = detector._banding()
    main_layouts = [b for b in layouts if b.sketch == "main"]
    main_keys = detector._band_keys(table, sentences, layouts=main_layouts)
    stats = cand.CandidateStats()
    clause_pairs = cand.pairs_from_keys(table.sentence, eligible=long_enough & table.is_clause, cap=s.bucket_cap,
                                        stats=stats)
    writer = UnitWriter(unit)
    distinct, term_values, term_df = _term_columns(terms, table.is_clause)
    ignored_kinds = np.zeros(n, dtype=np.int8)  # bit k: an ignore comment covers kind k here
    for k in range(len(KINDS)):
        inside = in_kind_ranges(docs, table.doc, table.start, np.full(n, k, dtype=np.int8), KINDS)
        ignored_kinds |= inside.astype(np.int8) << k
    writer.array("ignored", in_ranges(docs, "ignored", table.doc, table.start))
    writer.array("ignored_kinds", ignored_kinds)
    bounds = np.searchsorted(table.doc, np.arange(len(docs) + 1, dtype=table.doc.dtype)).astype(np.int64)
    for name, values in (("doc", table.doc), ("start", table.start), ("end", table.end),
                         ("sentence", table.sentence), ("is_clause", table.is_clause), ("heading", table.heading),
                         ("listing", table.listing), ("words", words.astype(np.int32)), ("norm_hash", norm_hash),
                         ("quotable", quotable), ("distinct", distinct), ("doc_bounds", bounds),
                         ("terms.hashes", terms.hashes), ("terms.indptr", terms.indptr),
                         ("clause_pairs", clause_pairs), ("main.rows", sentences)):
        writer.array(name, values)
    writer.strings("normalized", table.normalized)
    _write_documents(writer, docs)
    for layout, keys in zip(main_layouts, main_keys):
        if layout.salted:
            quote_keys = detector._band_keys(table, quotes, layouts=[layout])[0] if len(quotes) else keys[:0]
            writer.array(f"{layout.name}.rows", np.concatenate([sentences, quotes]))
            writer.array(f"{layout.name}.keys", np.concatenate([keys, quote_keys]).T)
        else:
            writer.array(f"{layout.name}.keys", keys.T)
    exact = np.flatnonzero(nonempty & (~table.is_clause | quotable))
    _by_part(writer, "exact", _part64(norm_hash[exact]), {"rows": exact})
    _by_part(writer, "terms", _part32(term_values), {"values": term_values, "counts": term_df})
    fragment = next((b for b in layouts if b.sketch == "fragment"), None)
    if fragment is not None:
        bigrams = shingle_batch([table.normalized[i] for i in sentences.tolist()], detector._fragment_spec)
        values, counts = np.unique(bigrams.hashes, return_counts=True)
        _by_part(writer, "bigrams", _part32(values), {"values": values, "counts": counts.astype(np.int32)})
        kept = np.flatnonzero(distinct[sentences] >= s.verify.contained_terms)
        lengths = np.diff(bigrams.indptr)[kept]
        writer.array("fragment.rows", sentences[kept])
        writer.array("fragment.hashes", bigrams.hashes[ranges(bigrams.indptr[kept], lengths)])
        writer.array("fragment.indptr", np.r_[0, np.cumsum(lengths)].astype(np.int64))
    whole = np.flatnonzero(~table.is_clause)
    hashes, in_doc = norm_hash[whole], table.doc[whole]
    order = np.lexsort((in_doc, hashes))
    hashes, in_doc = hashes[order], in_doc[order]
    new_pair = np.r_[True, (hashes[1:] != hashes[:-1]) | (in_doc[1:] != in_doc[:-1])] if len(hashes) else hashes > 0
    texts, documents = np.unique(hashes[new_pair], return_counts=True)  # each text's documents, each counted once
    first_seen = np.unique(norm_hash[whole], return_index=True)[1]
    _by_part(writer, "texts", _part64(texts), {"values": texts, "documents": documents.astype(np.int64),
                                               "first": whole[first_seen].astype(np.int64)})
    meta = {"passages": n, "documents": len(docs), "documents_with_passages": int(len(np.unique(table.doc))),
            "sentence_numbers": int(table.sentence[-1]) + 1 if n else 0, "sentences": int(table.sentences),
            "eligible": int(len(sentences)), "quotes": int(len(quotes)),
            "capped_buckets": stats.capped_buckets, "capped_passages": stats.capped_passages}
    writer.close(meta)
    return meta


def _write_documents(writer: UnitWriter, docs: Sequence[Document]) -> None:
    """Documents as columns: ids, texts, and what a reader of marked-up text added (the
    analysis text, headings, ignored ranges) pickled, for the documents that have any."""
    writer.strings("docs.id", [d.id for d in docs])
    writer.strings("docs.text", [d.text for d in docs])
    writer.strings("docs.extra", [pickle.dumps((d.analysis, d.headings, d.ignored, d.ignored_kinds)).decode("latin-1")
                                  if d.analysis is not None or d.headings or d.ignored or d.ignored_kinds else ""
                                  for d in docs])


def read_documents(unit: Unit, rows: np.ndarray) -> list[Document]:
    """Documents `rows` (shard-local numbers) of a shard, as its reader gave them."""
    ids, texts = unit.strings("docs.id").take(rows), unit.strings("docs.text").take(rows)
    extras = unit.strings("docs.extra").take(rows)
    out = []
    for doc_id, text, extra in zip(ids, texts, extras):
        if extra:
            analysis, headings, ignored, ignored_kinds = pickle.loads(extra.encode("latin-1"))
            out.append(Document(doc_id, text, analysis, headings, ignored, ignored_kinds))
        else:
            out.append(Document(doc_id, text))
    return out


# -- 2. statistics -------------------------------------------------------------------------

def _part_rows(unit: Unit, name: str, part: int, columns: Sequence[str]) -> list[np.ndarray]:
    bounds = unit.array(f"{name}.bounds")
    lo, hi = int(bounds[part]), int(bounds[part + 1])
    return [np.array(unit.array(f"{name}.{c}")[lo:hi]) for c in columns]


def merge_counts(job: Job, part: int, eligible: int, boilerplate_limit: float,
                 offsets: Offsets) -> dict[str, Any]:
    """Stage 2 for one hash partition: term frequencies, stock bigrams and boilerplate texts."""
    unit = job.unit("counts", part)
    if unit.done():
        return unit.json()
    shards = [job.unit("shards", t) for t in range(len(job.tasks))]
    writer = UnitWriter(unit)
    values, counts = _sum_counts([_part_rows(u, "terms", part, ("values", "counts")) for u in shards])
    writer.array("terms.values", values)
    writer.array("terms.df", counts)
    if job.settings.fragment_bands[0]:
        from ..detector import stock_from_counts
        values, counts = _sum_counts([_part_rows(u, "bigrams", part, ("values", "counts")) for u in shards])
        writer.array("stock", stock_from_counts(values, counts, eligible))
    found = [_part_rows(u, "texts", part, ("values", "documents", "first")) for u in shards]
    for (_, _, first), start in zip(found, offsets.passages[:-1].tolist()):
        first += start
    texts = np.concatenate([np.zeros(0, dtype=np.uint64)] + [f[0] for f in found])
    documents = np.concatenate([np.zeros(0, dtype=np.int64)] + [f[1] for f in found])
    first = np.concatenate([np.zeros(0, dtype=np.int64)] + [f[2] for f in found])
    unique, inverse = np.unique(texts, return_inverse=True)
    total = np.bincount(inverse, weights=documents, minlength=len(unique)).astype(np.int64)
    earliest = np.full(len(unique), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(earliest, inverse, first)
    common = total >= boilerplate_limit
    writer.array("common.values", unique[common])
    writer.array("common.documents", total[common])
    writer.array("common.first", earliest[common])
    meta = {"terms": int(len(values))}
    writer.close(meta)
    return meta


def _sum_counts(parts: list[list[np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    values = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.uint32)
    counts = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    unique, inverse = np.unique(values, return_inverse=True)
    return unique, np.bincount(inverse, weights=counts, minlength=len(unique)).astype(np.int64)


def _concat_parts(job: Job, name: str, dtype: Any) -> np.ndarray:
    return np.concatenate([np.zeros(0, dtype=dtype)]
                          + [np.asarray(job.unit("counts", p).array(name)) for p in range(PARTS)])


@dataclass(frozen=True)
class PartitionedTermStats:
    """The run's term frequencies as `merge_counts` left them, one sorted array per hash
    partition, looked up where they lie (memory-mapped): a task reads the pages of the terms
    it asks for, not the run's whole vocabulary."""

    values: tuple[np.ndarray, ...]
    df: tuple[np.ndarray, ...]
    sentences: int

    def frequencies(self, hashes: np.ndarray) -> np.ndarray:
        out = np.zeros(len(hashes), dtype=np.int64)
        part = _part32(hashes)
        for p in np.unique(part).tolist():
            rows = np.flatnonzero(part == p)
            values = self.values[p]
            if len(values) == 0:
                continue
            at = np.minimum(np.searchsorted(values, hashes[rows]), len(values) - 1)
            out[rows] = np.where(values[at] == hashes[rows], self.df[p][at], 0)
        return out


def term_stats(job: Job, sentences: int) -> PartitionedTermStats:
    units = [job.unit("counts", p) for p in range(PARTS)]
    return PartitionedTermStats(tuple(u.array("terms.values") for u in units), tuple(u.array("terms.df") for u in units),
                                sentences)


def common_texts(job: Job) -> np.ndarray:
    """The run's boilerplate texts (normalized hashes), sorted."""
    return _concat_parts(job, "common.values", np.uint64)


# -- 3. fragment keys -----------------------------------------------------------------------

def fragment_keys(job: Job, task: int, first_passage: int) -> dict[str, Any]:
    """Stage 3 for one shard: fragment band keys without the run's stock bigrams."""
    unit = job.unit("fragments", task)
    if unit.done():
        return unit.json()
    shard = job.unit("shards", task)
    rows = np.asarray(shard.array("fragment.rows"))
    shingles = Shingles(np.asarray(shard.array("fragment.hashes")), np.asarray(shard.array("fragment.indptr")))
    keys = Detector.from_settings(job.settings).fragment_band_keys(shingles, rows + first_passage,
                                                                   _concat_parts(job, "stock", np.uint32))
    writer = UnitWriter(unit)
    writer.array("rows", rows)
    writer.array("keys", keys.T)
    writer.close({})
    return {}


# -- 4. candidates --------------------------------------------------------------------------

def _in_key_range(keys: np.ndarray, key_range: tuple[int, int]) -> np.ndarray:
    """Which `keys` fall in part ``key_range[0]`` of ``key_range[1]`` equal ranges of 32-bit keys."""
    part, parts = key_range
    return (keys.astype(np.uint64) * np.uint64(parts)) >> np.uint64(32) == np.uint64(part)


def _layout_rows(job: Job, layout_name: str, sketch: str, band: int, offsets: Offsets,
                 key_range: tuple[int, int] = (0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """(passage numbers, keys of `band`) of one banding over the whole run, in `dedup check`'s
    row order: sentences in passage order (then, for the salted banding, quotations); only the
    keys in `key_range` (a bucket is one key: it stays whole)."""
    rows, keys, quote_rows, quote_keys = [], [], [], []
    for t in range(len(job.tasks)):
        shard = job.unit("shards", t)
        start = int(offsets.passages[t])
        if sketch == "fragment":
            unit = job.unit("fragments", t)
            r, k = np.asarray(unit.array("rows")), np.asarray(unit.array("keys")[band])
        elif layout_name == "lsh":
            r, k = np.asarray(shard.array("main.rows")), np.asarray(shard.array(f"{layout_name}.keys")[band])
        else:
            r, k = np.asarray(shard.array(f"{layout_name}.rows")), np.asarray(shard.array(f"{layout_name}.keys")[band])
            split = len(shard.array("main.rows"))
            quote_rows.append(r[split:] + start)
            quote_keys.append(k[split:])
            r, k = r[:split], k[:split]
        rows.append(r + start)
        keys.append(k)
    rows_all = np.concatenate([np.zeros(0, dtype=np.int64)] + rows + quote_rows)
    keys_all = np.concatenate([np.zeros(0, dtype=np.uint32)] + keys + quote_keys)
    if key_range[1] > 1:
        inside = _in_key_range(keys_all, key_range)
        rows_all, keys_all = rows_all[inside], keys_all[inside]
    return rows_all, keys_all


def _words(job: Job) -> np.ndarray:
    return np.concatenate([np.asarray(job.unit("shards", t).array("words")) for t in range(len(job.tasks))])


BANDS_PER_TASK = 8  # bands a candidates task takes in turn (one band's keys in memory at a time)
ROWS_PER_BAND_TASK = 32_000_000  # keys of one band a task holds at most: a larger run cuts each band by key range


def key_parts(rows: int) -> int:
    """Into how many key ranges each band is cut for a run of `rows` sketched rows."""
    return max(1, -(-rows // ROWS_PER_BAND_TASK))


def band_pairs(job: Job, layout_index: int, bands: tuple[int, ...], offsets: Offsets, flood: bool,
               key_range: tuple[int, int] = (0, 1)) -> dict[str, Any]:
    """Stage 4 for a few bands of one banding, one after the other, the keys of `key_range`
    only: buckets and their pairs (with `flood`, under the flood's links), de-duplicated over
    the bands."""
    name = f"{layout_index}-{bands[0]:03d}" + (f"-{key_range[0]}" if key_range[1] > 1 else "")
    unit = job.unit("pairs-flood" if flood else "pairs", name)
    if unit.done():
        return unit.json()
    s = job.settings
    layout = Detector.from_settings(s)._banding()[layout_index]
    stats = cand.CandidateStats()
    flooded = unlinked = None
    if flood:
        flooded = np.load(job.scan.work / "flooded.npy")
        unlinked = np.load(job.scan.work / "later_copies.npy")
    found, bucket_pairs = [np.zeros((0, 2), dtype=np.int64)], 0
    for band in bands:
        rows, keys = _layout_rows(job, layout.name, layout.sketch, band, offsets, key_range)
        b = cand.key_buckets(keys, rows=rows)
        b = cand.Buckets(b.members, b.lengths, np.full(len(b.lengths), band, dtype=np.int64))
        bucket_pairs += cand.bucket_pairs([b], s.bucket_cap)
        found.append(cand.pairs_from_buckets(b, s.bucket_cap, flooded, s.flood_links if layout_index == 0 else 0,
                                             stats, unlinked=unlinked))
    pairs = cand.unique_pairs(np.concatenate(found))
    if layout.sketch == "fragment":
        pairs = pairs[clearly_shorter(_words(job), pairs, s.verify.contained_length)]
    writer = UnitWriter(unit)
    _by_shard(writer, pairs, offsets)
    meta = {"bucket_pairs": bucket_pairs, "capped_buckets": stats.capped_buckets,
            "capped_passages": stats.capped_passages, "representative_links": stats.representative_links}
    writer.close(meta)
    return meta


def band_load(job: Job, layout_index: int, bands: tuple[int, ...], offsets: Offsets,
              key_range: tuple[int, int] = (0, 1)) -> np.ndarray:
    """How many pairs some bands' buckets give each passage (`candidates.bucket_load`), for a flood."""
    layout = Detector.from_settings(job.settings)._banding()[layout_index]
    load = np.zeros(int(offsets.passages[-1]), dtype=np.int64)
    for band in bands:
        rows, keys = _layout_rows(job, layout.name, layout.sketch, band, offsets, key_range)
        load += cand.bucket_load([cand.key_buckets(keys, rows=rows)], len(load), job.settings.bucket_cap)
    return load


def _by_shard(writer: UnitWriter, pairs: np.ndarray, offsets: Offsets, side: int = 0) -> None:
    order = np.argsort(pairs[:, side], kind="stable")
    pairs = pairs[order]
    writer.array("pairs", pairs)
    writer.array("bounds", np.searchsorted(pairs[:, side], offsets.passages))


def exact_pairs(job: Job, part: int, offsets: Offsets) -> dict[str, Any]:
    """Stage 4 for one hash partition of normalized texts: exact and normalized copies."""
    unit = job.unit("exact", part)
    if unit.done():
        return unit.json()
    rows, hashes = [], []
    for t in range(len(job.tasks)):
        shard = job.unit("shards", t)
        (r,) = _part_rows(shard, "exact", part, ("rows",))
        rows.append(r + int(offsets.passages[t]))
        hashes.append(np.asarray(shard.array("norm_hash"))[r])
    stats = cand.CandidateStats()
    b = cand.key_buckets(np.concatenate([np.zeros(0, dtype=np.uint64)] + hashes)[:, None],
                         rows=np.concatenate([np.zeros(0, dtype=np.int64)] + rows))
    pairs = cand.pairs_from_buckets(b, job.settings.bucket_cap, stats=stats)
    writer = UnitWriter(unit)
    _by_shard(writer, pairs, offsets)
    writer.array("later", np.unique(pairs[:, 1]))
    meta = {"capped_buckets": stats.capped_buckets, "capped_passages": stats.capped_passages}
    writer.close(meta)
    return meta


# -- 5. verify ------------------------------------------------------------------------------

@dataclass
class Gathered:
    """Columns of some passages of the run (any shards), in passage order."""

    ids: np.ndarray
    doc: np.ndarray  # run-wide document numbers
    start: np.ndarray
    end: np.ndarray
    sentence: np.ndarray  # run-wide sentence numbers
    is_clause: np.ndarray
    heading: np.ndarray
    listing: np.ndarray
    words: np.ndarray
    norm_hash: np.ndarray
    quotable: np.ndarray
    ignored: np.ndarray  # the passage starts in a range its author excluded
    ignored_kinds: np.ndarray  # bit k: ... excluded for kind k only
    raw: list[str]
    normalized: list[str]
    terms: Shingles | None


def _raw_texts(unit: Unit, local: np.ndarray) -> list[str]:
    """The passages' text as written (their document's prose, from start to end)."""
    doc = np.asarray(unit.array("doc")[local]).astype(np.int64)
    docs, inverse = np.unique(doc, return_inverse=True)
    prose = [d.prose for d in read_documents(unit, docs)]
    starts, ends = unit.array("start")[local].tolist(), unit.array("end")[local].tolist()
    return [prose[k][a:b] for k, a, b in zip(inverse.tolist(), starts, ends)]


_DTYPES = {"doc": np.int64, "start": np.int64, "end": np.int64, "sentence": np.int64, "is_clause": bool,
           "heading": bool, "listing": bool, "words": np.int32, "norm_hash": np.uint64, "quotable": bool,
           "ignored": bool, "ignored_kinds": np.int8}


def gather(job: Job, ids: np.ndarray, offsets: Offsets, with_terms: bool = True, with_raw: bool = True,
           with_text: bool = True) -> Gathered:
    """The columns of passages `ids` (sorted, unique) from their shards."""
    shard = offsets.shard_of(ids)
    cols: dict[str, list[Any]] = {k: [] for k in _DTYPES}
    raw: list[str] = []
    normalized: list[str] = []
    hashes, counts = [], []
    for t in np.unique(shard).tolist():
        unit = job.unit("shards", t)
        local = ids[shard == t] - offsets.passages[t]
        for name, values in cols.items():
            values.append(np.asarray(unit.array(name)[local]))
        cols["doc"][-1] = cols["doc"][-1].astype(np.int64) + offsets.documents[t]
        cols["sentence"][-1] = cols["sentence"][-1] + offsets.sentences[t]
        if with_raw:
            raw += _raw_texts(unit, local)
        if with_text:
            normalized += unit.strings("normalized").take(local)
        if with_terms:
            indptr = unit.array("terms.indptr")
            starts, ends = np.asarray(indptr[local]), np.asarray(indptr[local + 1])
            hashes.append(np.asarray(unit.array("terms.hashes"))[ranges(starts, ends - starts)])
            counts.append(ends - starts)
    merged = {name: np.concatenate([np.zeros(0, dtype=_DTYPES[name])] + values) for name, values in cols.items()}
    terms = None
    if with_terms:
        indptr = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(np.concatenate([np.zeros(0, dtype=np.int64)] + counts), out=indptr[1:])
        terms = Shingles(np.concatenate([np.zeros(0, dtype=np.uint32)] + hashes), indptr)
    return Gathered(ids, raw=raw, normalized=normalized, terms=terms, **merged)


def _pairs_in_range(stage_units: list[Unit], shard: int, lo: int, hi: int) -> list[np.ndarray]:
    """The pairs of each unit whose earlier passage is in ``lo:hi`` (inside `shard`)."""
    out = []
    for unit in stage_units:
        bounds = unit.array("bounds")
        pairs = unit.array("pairs")[int(bounds[shard]):int(bounds[shard + 1])]
        a, b = np.searchsorted(pairs[:, 0], [lo, hi])
        out.append(np.asarray(pairs[a:b]))
    return out


def pair_counts(job: Job, pair_units: list[str], shards: int) -> np.ndarray:
    """Candidate pairs (as the bands found them, before de-duplication) by the shard of their
    earlier passage: what the verify tasks are planned from."""
    counts = np.zeros(shards, dtype=np.int64)
    for name in pair_units:
        counts += np.diff(np.asarray(job.scan.unit(*name.split("/")).array("bounds")))[:shards]
    return counts


def verify_range(job: Job, task: int, lo: int, hi: int, offsets: Offsets, pair_units: list[str],
                 sentences: int) -> dict[str, Any]:
    """Stage 5 for the candidate pairs whose earlier passage is in ``lo:hi`` (inside one shard)."""
    unit = job.unit("verified", task)
    if unit.done():
        return unit.json()
    s = job.settings
    if lo >= hi:  # no passage at all in the run
        writer = UnitWriter(unit)
        writer.array("pairs", np.zeros((0, 2), dtype=np.int64))
        writer.array("kind", np.zeros(0, dtype=np.int8))
        writer.array("score", np.zeros(0))
        return writer.close({"candidates": 0, "accepted": 0}).json()
    shard = int(offsets.shard_of(np.array([lo]))[0])
    units = [job.scan.unit(*name.split("/")) for name in pair_units]
    clause = np.asarray(job.unit("shards", shard).array("clause_pairs")).reshape(-1, 2) + offsets.passages[shard]
    clause = clause[(clause[:, 0] >= lo) & (clause[:, 0] < hi)]
    pairs = cand.unique_pairs(np.concatenate([clause] + _pairs_in_range(units, shard, lo, hi)))
    ids = unique_sorted(pairs.ravel())
    g = gather(job, ids, offsets, with_raw=False)
    local = np.searchsorted(ids, pairs)
    table = SimpleNamespace(doc=g.doc, start=g.start, end=g.end)
    local = local[~overlapping(table, local)]  # type: ignore[arg-type]
    left, right = local[:, 0], local[:, 1]
    same_doc = g.doc[left] == g.doc[right]
    exact_only = g.heading[left] | g.heading[right] | (g.listing[left] & g.listing[right])
    same_sentence = g.sentence[left] == g.sentence[right]
    clause_outside = (g.is_clause[left] | g.is_clause[right]) & ~same_sentence
    quote_again = clause_outside & same_doc & (g.quotable[left] ^ g.quotable[right])
    quote_again &= ~(g.is_clause[left] & g.is_clause[right])
    assert g.terms is not None
    identical = unique_sorted(local[g.norm_hash[left] == g.norm_hash[right]].ravel())  # these need the text as written
    raw = [""] * len(ids)
    for k, text in zip(identical.tolist(), gather(job, ids[identical], offsets, False, True, False).raw):
        raw[k] = text
    features = build_features(g.normalized, raw, g.is_clause, g.terms, term_stats(job, sentences))
    verdicts = verify(features, left, right, same_doc, exact_only, clause_outside & ~quote_again, same_sentence,
                      s.verify, 1)
    loose = quote_again & ~np.isin(verdicts.kind, (NO_KIND, EXACT, NORMALIZED, CONTAINED))
    verdicts.kind[loose] = NO_KIND
    verdicts.score[loose] = 0.0
    accepted = np.flatnonzero(verdicts.kind != NO_KIND)
    found = np.stack([ids[left[accepted]], ids[right[accepted]]], axis=1)
    order = np.argsort(found[:, 1], kind="stable")
    writer = UnitWriter(unit)
    writer.array("pairs", found[order])  # by later passage: the editorial tasks take ranges of it
    writer.array("kind", verdicts.kind[accepted][order])
    writer.array("score", verdicts.score[accepted][order])
    meta = {"candidates": int(len(local)), "accepted": int(len(accepted))}
    writer.close(meta)
    return meta


# -- 6. editorial ---------------------------------------------------------------------------

def _accepted_for(job: Job, verify_tasks: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accepted pairs whose later passage is in ``lo:hi``, by (earlier, later) as `dedup
    check` lists them."""
    pairs, kinds, scores = [np.zeros((0, 2), dtype=np.int64)], [np.zeros(0, dtype=np.int8)], [np.zeros(0)]
    for t in range(verify_tasks):
        unit = job.unit("verified", t)
        found = unit.array("pairs")
        a, b = np.searchsorted(found[:, 1], [lo, hi])
        pairs.append(np.asarray(found[a:b]))
        kinds.append(np.asarray(unit.array("kind")[a:b]))
        scores.append(np.asarray(unit.array("score")[a:b]))
    pairs_all = np.concatenate(pairs)
    order = np.lexsort((pairs_all[:, 1], pairs_all[:, 0]))
    return pairs_all[order], np.concatenate(kinds)[order], np.concatenate(scores)[order]


def accepted_later(job: Job, verify_tasks: int) -> np.ndarray:
    """The later passage of every accepted pair, sorted: what the editorial tasks are planned from."""
    return np.sort(np.concatenate([np.zeros(0, dtype=np.int64)]
                                  + [np.asarray(job.unit("verified", t).array("pairs")[:, 1])
                                     for t in range(verify_tasks)]))


def document_start(job: Job, passage: int, offsets: Offsets) -> int:
    """The run-wide number of the first passage of the document that holds `passage`."""
    shard = int(offsets.shard_of(np.array([passage]))[0])
    bounds = job.unit("shards", shard).array("doc_bounds")
    local = passage - int(offsets.passages[shard])
    return int(bounds[np.searchsorted(bounds, local, side="right") - 1]) + int(offsets.passages[shard])


@dataclass
class DocumentTable:
    """Whole documents of the run as a `PassageTable`, with each passage's run-wide number."""

    table: PassageTable
    ids: np.ndarray
    doc_ids: np.ndarray  # run-wide number of each document of the table
    words: np.ndarray
    norm_hash: np.ndarray


def document_table(job: Job, docs: np.ndarray, offsets: Offsets) -> DocumentTable:
    """The passages of run-wide documents `docs` (sorted, unique), as `dedup check` has them."""
    shard = np.searchsorted(offsets.documents, docs, side="right") - 1
    documents: list[Document] = []
    ids, per_doc = [], []
    for t in np.unique(shard).tolist():
        unit = job.unit("shards", t)
        local = docs[shard == t] - offsets.documents[t]
        bounds = unit.array("doc_bounds")
        starts, ends = np.asarray(bounds[local]), np.asarray(bounds[local + 1])
        ids.append(ranges(starts, ends - starts) + offsets.passages[t])
        per_doc.append(ends - starts)
        documents += read_documents(unit, local)
    all_ids = np.concatenate([np.zeros(0, dtype=np.int64)] + ids)
    counts = np.concatenate([np.zeros(0, dtype=np.int64)] + per_doc)
    g = gather(job, all_ids, offsets, with_terms=False, with_raw=False)
    doc = np.repeat(np.arange(len(docs), dtype=np.int32), counts)
    prose = [d.prose for d in documents]
    raw = [prose[d][a:b] for d, a, b in zip(doc.tolist(), g.start.tolist(), g.end.tolist())]
    table = PassageTable(documents=documents, doc=doc, start=g.start, end=g.end, sentence=g.sentence,
                         is_clause=g.is_clause, heading=g.heading, listing=g.listing, raw=raw, normalized=g.normalized)
    return DocumentTable(table, all_ids, docs, g.words.astype(np.int64), g.norm_hash)


@dataclass
class EditorialInput:
    """A shard's accepted pairs for the editorial rules: all of them with the verdicts their
    passages alone give (`first`), and the documents of the open ones as a table."""

    pairs: np.ndarray  # run-wide passage numbers, (earlier, later)
    kind: np.ndarray
    score: np.ndarray
    first: np.ndarray  # `editorial.first_verdicts`
    open: np.ndarray  # bool: left `REPORT` by them
    documents: DocumentTable  # the documents of the open pairs
    earlier: np.ndarray  # the open pairs' passages in that table
    later: np.ndarray
    boilerplate: np.ndarray  # per passage of that table


@dataclass(frozen=True)
class Part:
    """One editorial task: the accepted pairs whose later passage is in ``lo:hi`` (whole
    documents), out of those of `verify_tasks` verify tasks."""

    index: int
    lo: int
    hi: int
    verify_tasks: int


def editorial_input(job: Job, part: Part, offsets: Offsets, across_only: bool = False) -> EditorialInput:
    """The pairs of `part`, less those on a passage whose author excluded it (an ignore
    comment, for every kind or the pair's), judged first by their passages alone, and the
    documents of those still open (`across_only`: of the open pairs across two documents,
    all the coupling needs): a flood of boilerplate copies loads no document."""
    pairs, kind, score = _accepted_for(job, part.verify_tasks, part.lo, part.hi)
    ids = unique_sorted(pairs.ravel())
    g = gather(job, ids, offsets, with_terms=False, with_raw=False, with_text=False)
    local = np.searchsorted(ids, pairs)
    later = local[:, 1]
    keep = ~g.ignored[later] & ((g.ignored_kinds[later].astype(np.int64) >> kind.astype(np.int64)) & 1 == 0)
    pairs, kind, score, local = pairs[keep], kind[keep], score[keep], local[keep]
    common = common_texts(job)
    boilerplate = ~g.is_clause & np.isin(g.norm_hash, common)
    columns = SimpleNamespace(listing=g.listing, doc=g.doc)
    first = first_verdicts(columns, g.words, local[:, 0], local[:, 1], kind, boilerplate,  # type: ignore[arg-type]
                           job.settings.editorial)
    is_open = first == REPORT
    if across_only:  # what a page takes from other documents comes from pairs across two
        is_open &= g.doc[local[:, 0]] != g.doc[local[:, 1]]
    dt = document_table(job, np.unique(g.doc[local[is_open].ravel()]), offsets)
    return EditorialInput(pairs, kind, score, first, is_open, dt, np.searchsorted(dt.ids, pairs[is_open, 0]),
                          np.searchsorted(dt.ids, pairs[is_open, 1]),
                          ~dt.table.is_clause & np.isin(dt.norm_hash, common))


def couple_part(job: Job, part: Part, offsets: Offsets) -> dict[str, Any]:
    """Stage 6a: what the pairs of `part` say of teaser blocks and links."""
    unit = job.unit("coupling", part.index)
    if unit.done():
        return unit.json()
    ei = editorial_input(job, part, offsets, across_only=True)
    dt = ei.documents
    coupling = find_coupling(dt.table, dt.words, ei.earlier, ei.later, ei.kind[ei.open], ei.boilerplate,
                             job.settings.editorial)
    docs = np.array(sorted(coupling.teaser_start), dtype=np.int64)
    writer = UnitWriter(unit)
    writer.array("teaser.doc", dt.doc_ids[docs] if len(docs) else docs)
    writer.array("teaser.paragraph", np.array([coupling.teaser_start[d] for d in docs.tolist()], dtype=np.int64))
    writer.array("links", dt.ids[coupling.links])
    writer.close({})
    return {}


def merge_coupling(job: Job, parts: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(documents, their teaser start, link passages) over every part: the least start, all links."""
    docs, paragraphs, links = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for t in range(parts):
        unit = job.unit("coupling", t)
        docs.append(np.asarray(unit.array("teaser.doc")))
        paragraphs.append(np.asarray(unit.array("teaser.paragraph")))
        links.append(np.asarray(unit.array("links")))
    d, p = np.concatenate(docs), np.concatenate(paragraphs)
    unique, inverse = np.unique(d, return_inverse=True)
    least = np.full(len(unique), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(least, inverse, p)
    return unique, least, np.unique(np.concatenate(links))


def judge_part(job: Job, part: Part, offsets: Offsets) -> dict[str, Any]:
    """Stage 6b: the editorial verdicts of the pairs of `part`; the kept ones with spans."""
    unit = job.unit("judged", part.index)
    if unit.done():
        return unit.json()
    coupled = np.load(job.scan.work / "coupling.npz")
    ei = editorial_input(job, part, offsets)
    dt = ei.documents
    t = dt.table
    at = np.searchsorted(coupled["docs"], dt.doc_ids)
    known = (at < len(coupled["docs"])) & (coupled["docs"][np.minimum(at, max(0, len(coupled["docs"]) - 1))]
                                           == dt.doc_ids) if len(coupled["docs"]) else np.zeros(len(at), dtype=bool)
    starts = {k: int(coupled["paragraphs"][at[k]]) for k in np.flatnonzero(known).tolist()}
    coupling = Coupling(starts, np.isin(dt.ids, coupled["links"]))
    rules = job.settings.editorial
    judged = ei.first.copy()
    judged[ei.open] = judge(t, dt.words, ei.earlier, ei.later, ei.kind[ei.open], job.settings.verify.min_words,
                            ei.boilerplate, rules, coupling)
    wanted = (judged == REPORT) | ((judged == STRUCTURAL) & rules.report_structural)
    in_table = wanted[ei.open]  # only open pairs can be wanted
    e, l = ei.earlier[in_table], ei.later[in_table]
    kind, score = ei.kind[wanted], ei.score[wanted]
    picked = select(e, l, kind, score, t.sentence, t.is_clause)  # by later passage: all its pairs are here
    nodes, compact = np.unique(np.concatenate([e, l]), return_inverse=True)
    roots = components(len(nodes), compact[:len(e)], compact[len(e):])  # each node's least node, in this part
    joined = roots != np.arange(len(nodes))
    writer = UnitWriter(unit)
    writer.array("forest.node", dt.ids[nodes[joined]])  # what grouping needs of the pairs: a forest
    writer.array("forest.root", dt.ids[nodes[roots[joined]]])
    e, l = e[picked], l[picked]
    writer.array("earlier", dt.ids[e])
    writer.array("later", dt.ids[l])
    writer.array("kind", kind[picked])
    writer.array("score", score[picked])
    writer.array("structural", judged[wanted][picked] == STRUCTURAL)
    writer.array("same_doc", t.doc[e] == t.doc[l])
    spans = _spans(t, np.concatenate([l, e]))
    for name, values in spans.items():
        if isinstance(values, list):
            writer.strings(f"span.{name}", values)
        else:
            writer.array(f"span.{name}", values)
    meta = {"left_out": count_verdicts(judged[~wanted]), "kept": int(np.count_nonzero(wanted)),
            "findings": int(len(picked))}
    writer.close(meta)
    return meta


def _spans(table: PassageTable, rows: np.ndarray) -> dict[str, Any]:
    """Document id, offsets, line, column and text of each of `rows` (as `build_findings` gives them)."""
    lines: dict[int, LineIndex] = {}
    doc, text, line, column = [], [], [], []
    for k in rows.tolist():
        d = int(table.doc[k])
        if d not in lines:
            lines[d] = LineIndex(table.documents[d].text)
        start, end = int(table.start[k]), int(table.end[k])
        at_line, at_column = lines[d].locate(start)
        doc.append(table.documents[d].id)
        text.append(table.documents[d].text[start:end])
        line.append(at_line)
        column.append(at_column)
    return {"doc": doc, "text": text, "start": table.start[rows].astype(np.int64),
            "end": table.end[rows].astype(np.int64), "line": np.array(line, dtype=np.int64),
            "column": np.array(column, dtype=np.int64)}


STAGES: dict[str, Callable[..., Any]] = {"band_pairs": band_pairs, "exact_pairs": exact_pairs,
                                         "merge_counts": merge_counts}
