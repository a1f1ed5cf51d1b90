"""Verification: score every candidate pair on normalized text, in batch, and decide its kind.

Features per pair (all computed over whole arrays of pairs):
- character similarity of the normalized texts (rapidfuzz ``ratio`` via ``process.cpdist``);
- IDF-weighted word overlap, so names and numbers weigh more than stock words;
- the longest common word subsequence (rapidfuzz Indel over one character per word), which
  tells a shortened copy (words kept in order) from a sentence that merely shares words;
- the numbers on each side, which tell a conflict from a copy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

from .arrays import codepoints_text, dense_ids, owners, ranges, unique_sorted
from .normalize import word_counts
from .numbers import compare_numbers, number_tokens
from .shingle import Shingles, ShingleSpec, text_hashes
from .stopwords import STOPWORDS

_PAIR_BLOCK = 1 << 17  # candidate pairs measured at a time

KINDS = ("exact", "normalized", "near", "contained", "conflict")
NO_KIND = -1
EXACT, NORMALIZED, NEAR, CONTAINED, CONFLICT = range(5)


@dataclass(frozen=True)
class Thresholds:
    """Where a measured candidate pair becomes a reported repeat (see `decide`)."""

    min_words: int = 5  # shorter passages repeat only exactly, inside one document
    min_terms: int = 3  # content words the shorter side needs for any fuzzy match
    near_weighted: float = 0.50  # IDF-weighted Jaccard of the terms
    near_chars: float = 0.65  # character similarity of the normalized texts
    reworded_chars: float = 0.80  # ... or the characters agree closely (a few words replaced)
    reworded_weighted: float = 0.35  # ... while a good share of the weighted terms still agree
    hasty_contained: float = 0.75  # weighted share of the shorter side's terms in the longer
    hasty_common: int = 7  # terms the two sides share in the same order
    hasty_common_document: int = 6  # the same, inside one document (background carried over, reworded)
    hasty_common_quoted: int = 4  # the same, for a statement and a quote inside one sentence
    hasty_order: float = 0.60  # share of the shorter side's terms found in order
    shuffled_words: float = 0.80  # share of the shorter side's words (function words too) found in the other
    shuffled_contained: float = 0.70  # ... while this weighted share of its terms is there
    shuffled_terms: int = 4  # ... it has at least this many terms
    shuffled_length: float = 0.50  # ... and at least this share of the other's length
    contained_weighted: float = 0.90
    contained_terms: int = 4  # content words a copy found only by containment needs (three are often a name)
    contained_order: float = 0.80
    contained_length: float = 0.85  # a contained copy is at most this share of the other's length
    contained_partial: float = 0.95  # and its terms stand almost verbatim inside it (partial ratio)
    contained_inside_length: float = 0.50  # ... or, at most this share of the other's length, all its weighted terms do
    clause_copy_words: int = 8  # a clause repeated word for word outside its sentence (a quote given again)
    conflict_rest: float = 0.90  # similarity of the word sequences once numbers are left out
    conflict_figures: int = 1  # a conflict changes one figure; a frame with several others is a template


@dataclass(frozen=True)
class PassageFeatures:
    """Per-passage columns the verifier needs (indexed by passage number)."""

    normalized: list[str]
    raw: list[str]
    norm_hash: np.ndarray  # uint64
    words: np.ndarray  # int64, word count of the normalized text (function words included)
    word_ids: np.ndarray  # int64, CSR of the distinct term ids of each passage
    word_indptr: np.ndarray
    idf: np.ndarray  # float64, IDF of each term id
    word_weight_sum: np.ndarray  # float64, per passage
    word_codes: str  # every passage's words, one character per distinct word, concatenated
    word_code_indptr: np.ndarray  # int64: passage i's words are word_codes[indptr[i]:indptr[i+1]]

    def word_string(self, passage: int) -> str:
        return self.word_codes[self.word_code_indptr[passage] : self.word_code_indptr[passage + 1]]


@dataclass(frozen=True)
class Verdicts:
    """Kind (index into KINDS, or NO_KIND) and score of each candidate pair."""

    kind: np.ndarray
    score: np.ndarray


def _shared_weight(f: PassageFeatures, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Sum of IDF weights of the terms both passages of each pair contain.

    Each (pair, term id) of both sides becomes one 64-bit key; a key seen twice after sorting
    is a shared term (each side lists a term once)."""
    ip = f.word_indptr
    len_l = ip[left + 1] - ip[left]
    len_r = ip[right + 1] - ip[right]
    pair = np.concatenate([np.repeat(np.arange(len(left), dtype=np.uint64), len_l),
                           np.repeat(np.arange(len(right), dtype=np.uint64), len_r)])
    terms = f.word_ids[np.concatenate([ranges(ip[left], len_l), ranges(ip[right], len_r)])]
    keys = np.sort(pair << np.uint64(32) | terms.astype(np.uint64))
    shared = keys[1:][keys[1:] == keys[:-1]]
    weights = f.idf[(shared & np.uint64(0xFFFFFFFF)).astype(np.int64)]
    return np.bincount((shared >> np.uint64(32)).astype(np.int64), weights=weights, minlength=len(left))


@dataclass(frozen=True)
class PairScores:
    """Measurements of the fuzzy candidate pairs ``pairs[k]`` (indices into the pair list)."""

    pairs: np.ndarray  # int64, which candidate pairs were measured
    weighted_jaccard: np.ndarray
    weighted_containment: np.ndarray
    chars: np.ndarray  # character similarity of the normalized texts, in [0, 1]
    in_order: np.ndarray  # longest common word subsequence / words of the shorter side
    words_short: np.ndarray  # terms (content words) of the shorter side
    length_ratio: np.ndarray  # characters of the shorter side / characters of the longer
    texts: tuple[list[str], list[str]]  # the normalized texts of each measured pair
    terms: tuple[list[str], list[str]]  # ... and their terms, one character each


def score_pairs(f: PassageFeatures, left: np.ndarray, right: np.ndarray, candidates: np.ndarray,
                min_containment: float = 0.0, workers: int = 1) -> PairScores:
    """Measure candidate pairs ``candidates`` (indices into left/right).

    Pairs whose weighted containment is below `min_containment` are dropped before the
    costlier string measures.
    """
    fl, fr = left[candidates], right[candidates]
    shared = _shared_weight(f, fl, fr)
    w_l, w_r = f.word_weight_sum[fl], f.word_weight_sum[fr]
    weighted_jaccard = shared / np.maximum(1e-9, w_l + w_r - shared)
    weighted_containment = shared / np.maximum(1e-9, np.minimum(w_l, w_r))
    keep = weighted_containment >= min_containment
    candidates, fl, fr = candidates[keep], fl[keep], fr[keep]
    passages, inverse = np.unique(np.concatenate([fl, fr]), return_inverse=True)  # each string made once
    texts_l, texts_r, chars_l, chars_r = _per_pair([f.normalized[i] for i in passages.tolist()], inverse)
    chars = process.cpdist(texts_l, texts_r, scorer=fuzz.ratio, workers=workers) / 100.0
    words_l, words_r, _, _ = _per_pair([f.word_string(i) for i in passages.tolist()], inverse)
    indel = process.cpdist(words_l, words_r, scorer=Indel.distance, workers=workers)
    len_l, len_r = np.diff(f.word_code_indptr)[fl], np.diff(f.word_code_indptr)[fr]
    short = np.minimum(len_l, len_r)
    in_order = (len_l + len_r - indel) / 2 / np.maximum(1, short)
    length_ratio = np.minimum(chars_l, chars_r) / np.maximum(1, np.maximum(chars_l, chars_r))
    return PairScores(candidates, weighted_jaccard[keep], weighted_containment[keep], np.asarray(chars, dtype=float),
                      in_order, short, length_ratio, (texts_l, texts_r), (words_l, words_r))


def _per_pair(strings: list[str], inverse: np.ndarray) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """The left and right strings of each pair, and their lengths, from the distinct passages'
    `strings` (`inverse`: each left side's index in them, then each right side's)."""
    table = np.empty(len(strings), dtype=object)
    table[:] = strings
    lengths = np.fromiter(map(len, strings), np.int64, len(strings))[inverse]
    half = len(inverse) // 2
    picked = table[inverse]
    return picked[:half].tolist(), picked[half:].tolist(), lengths[:half], lengths[half:]


def decide(s: PairScores, th: Thresholds, same_sentence: np.ndarray | None = None,
           workers: int = 1, same_doc: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Kind and score of each measured pair.

    A pair is a repeat when its terms mostly agree (weighted Jaccard) and so do its characters;
    or when most of the shorter side's terms, several in the same order, stand in the other
    (a hasty, shortened or reworded copy; fewer shared terms suffice between two clauses of
    one sentence, where a statement restated as a quote is the expected defect, per
    `same_sentence[k]`); or when nearly all of the shorter side stands, in
    order, inside the longer; or when the shorter side, at least half as long, reuses nearly
    all its words (function words too) and most of its weighted terms in another order (a
    hasty copy with words moved about). Its kind:
    - contained: the shorter side is clearly shorter and stands almost verbatim in the other;
    - conflict: a number was replaced by another, the rest agrees;
    - near: every other repeat.
    A pair whose numbers were replaced *and* whose other words differ too is a template filled
    with other facts ("gold rose 0.3%" / "silver fell 1.2%"), not a repeat.
    """
    enough = s.words_short >= th.min_terms
    common = s.in_order * s.words_short
    similar = (s.weighted_jaccard >= th.near_weighted) & (s.chars >= th.near_chars)
    similar |= (s.weighted_jaccard >= th.reworded_weighted) & (s.chars >= th.reworded_chars)
    needed = np.full(len(s.pairs), th.hasty_common)
    if same_doc is not None:
        needed[same_doc] = th.hasty_common_document
    if same_sentence is not None:
        needed[same_sentence] = th.hasty_common_quoted
    hasty = (s.weighted_containment >= th.hasty_contained) & (common >= needed) & (s.in_order >= th.hasty_order)
    inside = (s.weighted_containment >= th.contained_weighted) & (s.in_order >= th.contained_order)
    inside &= s.words_short >= th.contained_terms
    texts_l, texts_r = s.texts
    repeat = enough & (similar | hasty | inside)
    shuffled = np.flatnonzero(~repeat & (s.weighted_containment >= th.shuffled_contained)
                              & (s.words_short >= th.shuffled_terms) & (s.length_ratio >= th.shuffled_length))
    if len(shuffled):
        kept = word_bag_containment([texts_l[k] for k in shuffled], [texts_r[k] for k in shuffled])
        repeat[shuffled[kept >= th.shuffled_words]] = True
    numbers_differ = np.zeros(len(s.pairs), dtype=bool)
    numbers: dict[str, tuple[str, ...]] = {}  # each text's number tokens, found once however many pairs it is in
    for k in np.flatnonzero(repeat).tolist():
        a, b = texts_l[k], texts_r[k]
        if _numbers_of(a, numbers) == _numbers_of(b, numbers):  # the same numbers, written the same way
            continue
        replaced, rest, figures = _number_measures(a, b)
        numbers_differ[k] = replaced
        # else a template with other facts: other words too, or several figures, changed
        repeat[k] = not replaced or (rest >= th.conflict_rest and figures <= th.conflict_figures)
    kind = np.full(len(s.pairs), NO_KIND, dtype=np.int8)
    kind[repeat] = NEAR
    kind[repeat & numbers_differ] = CONFLICT
    score = np.where(similar, np.maximum(s.weighted_jaccard, s.chars), s.weighted_containment)
    shorter = np.flatnonzero(repeat & ~numbers_differ & (s.length_ratio <= th.contained_length))
    if len(shorter):
        terms_l, terms_r = s.terms
        partial = process.cpdist([terms_l[k] for k in shorter], [terms_r[k] for k in shorter],
                                 scorer=fuzz.partial_ratio, workers=workers) / 100.0
        contained = shorter[partial >= th.contained_partial]
        kind[contained] = CONTAINED
        score[contained] = np.maximum(partial[partial >= th.contained_partial], score[contained])
    # a short passage whose facts all stand inside a much longer sentence, reworded or not
    inside_long = repeat & ~numbers_differ & (kind == NEAR) & (s.length_ratio <= th.contained_inside_length)
    inside_long &= s.weighted_containment >= th.contained_weighted
    kind[inside_long] = CONTAINED
    score[inside_long] = s.weighted_containment[inside_long]
    score = np.where(kind != NO_KIND, np.round(np.minimum(score, 1.0), 4), 0.0)
    return kind, score


def verify(f: PassageFeatures, left: np.ndarray, right: np.ndarray, same_doc: np.ndarray, exact_only: np.ndarray,
           clause_outside: np.ndarray, same_sentence: np.ndarray, th: Thresholds = Thresholds(),
           workers: int = 1, written: np.ndarray | None = None) -> Verdicts:
    """Decide the kind and score of each candidate pair (left[k], right[k]).

    Policy: `exact_only[k]` pairs (a headline, or two lists of names) match only exactly or
    after normalization, never fuzzily; a short passage (under
    `th.min_words` words) matches only exactly and inside one document, where a stock phrase
    repeated across articles is no defect; a clause is compared only with the other clauses
    of its own sentence (a statement restated as a quote), so `clause_outside[k]` pairs
    (a clause and a passage of another sentence) are reported only as a copy of at least
    `th.clause_copy_words` words (a quote repeated as a clause of a longer sentence): whole
    sentences cover the rest.
    """
    n = len(left)
    kind = np.full(n, NO_KIND, dtype=np.int8)
    score = np.zeros(n, dtype=np.float64)
    if n == 0:
        return Verdicts(kind, score)
    same_norm = f.norm_hash[left] == f.norm_hash[right]
    exact = np.zeros(n, dtype=bool)
    if written is not None:  # each passage's `written_hashes`, given instead of comparing the texts
        exact[same_norm] = written[left[same_norm]] == written[right[same_norm]]
    else:
        exact[same_norm] = [_as_written(f.raw[i]) == _as_written(f.raw[j])
                            for i, j in zip(left[same_norm].tolist(), right[same_norm].tolist())]
    normalized = ~exact & same_norm
    short = np.minimum(f.words[left], f.words[right]) < th.min_words
    identical = exact | normalized
    quoted_again = identical & (np.minimum(f.words[left], f.words[right]) >= th.clause_copy_words)
    allowed = (same_doc | ~short) & (~clause_outside | quoted_again)
    kind[exact & allowed] = EXACT
    kind[normalized & allowed] = NORMALIZED
    score[identical & allowed] = 1.0
    fuzzy = np.flatnonzero(~identical & ~short & ~exact_only & allowed & ~clause_outside)
    least = min(th.near_weighted, th.reworded_weighted, th.hasty_contained, th.contained_weighted)
    for lo in range(0, len(fuzzy), _PAIR_BLOCK):  # blocks keep the per-term arrays small
        measured = score_pairs(f, left, right, fuzzy[lo:lo + _PAIR_BLOCK], least, workers)
        kind[measured.pairs], score[measured.pairs] = decide(measured, th, same_sentence[measured.pairs], workers,
                                                              same_doc[measured.pairs])
    return Verdicts(kind, score)


def written_hashes(raw: list[str]) -> np.ndarray:
    """A hash of each passage as its reader sees it (`_as_written`): two passages are an exact
    copy when theirs are equal (a sharded run keeps these instead of the texts)."""
    return text_hashes([_as_written(r) for r in raw])


def _as_written(raw: str) -> str:
    """A passage as its reader sees it: a line wrapped differently (spaces, a CRLF, the
    zero-width space of a hyphen wrap) is the same text."""
    return " ".join(raw.replace("\u200b", "").split())


def word_bag_containment(left: list[str], right: list[str]) -> np.ndarray:
    """Share of the words of the shorter text of each pair (counted with repeats, function
    words included) that the other text has too, in any order.

    Each distinct text is split once; its k-th occurrence of a word becomes the token
    (word, k), so the words two texts share, with repeats, are the tokens they share, counted
    over all pairs at once by sorting (pair, token) keys as `_shared_weight` does."""
    n = len(left)
    if n == 0:
        return np.zeros(0)
    number: dict[str, int] = {}
    left_text = np.fromiter((number.setdefault(t, len(number)) for t in left), np.int64, n)
    right_text = np.fromiter((number.setdefault(t, len(number)) for t in right), np.int64, n)
    split = [t.split() for t in number]
    lengths = np.fromiter(map(len, split), np.int64, len(split))
    vocabulary: dict[str, int] = {}
    words = np.fromiter((vocabulary.setdefault(w, len(vocabulary)) for ws in split for w in ws), np.int64,
                        int(lengths.sum()))
    indptr = np.zeros(len(split) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    text = owners(indptr)
    order = np.lexsort((words, text))  # by text, then word: a word's occurrences in one run
    run_start = np.r_[True, (text[order][1:] != text[order][:-1]) | (words[order][1:] != words[order][:-1])]
    position = np.arange(len(order))
    occurrence = np.empty(len(order), dtype=np.int64)
    occurrence[order] = position - np.maximum.accumulate(np.where(run_start, position, 0))
    token = _dense(words * (int(occurrence.max(initial=0)) + 1) + occurrence)
    len_l, len_r = lengths[left_text], lengths[right_text]
    pair = np.concatenate([np.repeat(np.arange(n, dtype=np.uint64), len_l), np.repeat(np.arange(n, dtype=np.uint64), len_r)])
    tokens = token[np.concatenate([ranges(indptr[left_text], len_l), ranges(indptr[right_text], len_r)])]
    keys = np.sort(pair << np.uint64(32) | tokens.astype(np.uint64))
    shared = keys[1:][keys[1:] == keys[:-1]] >> np.uint64(32)
    common = np.bincount(shared.astype(np.int64), minlength=n)
    return common / np.maximum(1, np.minimum(len_l, len_r))


def _dense(values: np.ndarray) -> np.ndarray:
    """Each value's rank among the distinct `values` (so that it fits 32 bits)."""
    return np.unique(values, return_inverse=True)[1].astype(np.int64)


def _numbers_of(text: str, found: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    tokens = found.get(text)
    if tokens is None:
        tokens = found[text] = number_tokens(text)
    return tokens


def _number_measures(a: str, b: str) -> tuple[bool, float, int]:
    """Was a number replaced by another (a number on one side stands where the other side has
    a number of another value, however each is written: "7"/"seven", "4bn"/"4 billion",
    "66,000"/"66.000"; a number merely left out or added is no conflict), and how alike are
    the words around the numbers (digits and number words left out), and how many figures
    each side has that the other lacks (the fewer of the two counts). See `dedup.numbers`."""
    if number_tokens(a) == number_tokens(b):  # the same numbers, written the same way
        return False, 1.0, 0
    compared = compare_numbers(a, b)
    if not compared.replaced:
        return False, 1.0, 0
    rest_a, rest_b = compared.rest
    return True, fuzz.ratio(rest_a, rest_b) / 100.0, min(map(len, compared.unmatched))


TERMS = ShingleSpec("word", 1, STOPWORDS, stem=True)


@dataclass(frozen=True)
class TermStats:
    """How many sentences (clauses not counted) hold each term, over a whole run: what the
    IDF weights come from. `check` counts them in its one table; a sharded scan sums every
    shard's `term_counts` first, so that weights do not depend on the sharding."""

    hashes: np.ndarray  # uint32, sorted term hashes
    df: np.ndarray  # int64, sentences holding each
    sentences: int

    @staticmethod
    def merge(parts: list[tuple[np.ndarray, np.ndarray]], sentences: int) -> TermStats:
        """The stats of a run from each shard's ``term_counts``."""
        hashes = np.concatenate([np.zeros(0, dtype=np.uint32)] + [h for h, _ in parts])
        counts = np.concatenate([np.zeros(0, dtype=np.int64)] + [c for _, c in parts])
        values, inverse = np.unique(hashes, return_inverse=True)
        return TermStats(values, np.bincount(inverse, weights=counts, minlength=len(values)).astype(np.int64),
                         sentences)

    def frequencies(self, hashes: np.ndarray) -> np.ndarray:
        """The document frequency of each of `hashes` (0 for a term the run does not hold)."""
        if len(self.hashes) == 0:
            return np.zeros(len(hashes), dtype=np.int64)
        at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        return np.where(self.hashes[at] == hashes, self.df[at], 0)


def term_counts(terms: Shingles, is_clause: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(term hash, sentences holding it) over the sentences of one shard: its part of `TermStats`."""
    owner = owners(terms.indptr)
    keys = unique_sorted(owner.astype(np.uint64) << np.uint64(32) | terms.hashes.astype(np.uint64))
    sentence_terms = (keys & np.uint64(0xFFFFFFFF))[~is_clause[(keys >> np.uint64(32)).astype(np.int64)]]
    values, counts = np.unique(sentence_terms.astype(np.uint32), return_counts=True)
    return values, counts.astype(np.int64)


def build_features(normalized: list[str], raw: list[str], is_clause: np.ndarray, terms: Shingles,
                   term_stats: TermStats | None = None) -> PassageFeatures:
    """Per-passage columns for verification, from the passages' `terms` (content words,
    light-stemmed: `TERMS`). IDF weights count sentences, not clauses: these passages', or
    with `term_stats`, a whole run's (the passages are then any part of it).
    """
    n = len(normalized)
    term_ids, vocabulary = dense_ids(terms.hashes)
    owner = owners(terms.indptr).astype(np.uint64)
    keys = unique_sorted(owner << np.uint64(32) | term_ids.astype(np.uint64))  # each term once a passage
    passage = (keys >> np.uint64(32)).astype(np.int64)
    ids = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(passage, minlength=n), out=indptr[1:])
    if term_stats is None:
        df = np.bincount(ids[~is_clause[passage]], minlength=len(vocabulary))
        sentences = int(np.count_nonzero(~is_clause))
    else:
        df, sentences = term_stats.frequencies(vocabulary), term_stats.sentences
    idf = np.log1p(max(1, sentences) / np.maximum(df, 1))
    return PassageFeatures(
        normalized=normalized,
        raw=raw,
        norm_hash=text_hashes(normalized),
        words=word_counts(normalized),
        word_ids=ids,
        word_indptr=indptr,
        idf=idf,
        word_weight_sum=np.bincount(passage, weights=idf[ids], minlength=n),
        word_codes=_word_codes(term_ids),
        word_code_indptr=terms.indptr,
    )


def _word_codes(term_ids: np.ndarray) -> str:
    """One character per term id (skipping surrogates), for word-level Indel distances."""
    codes = term_ids.astype(np.uint32)
    if len(codes) and int(codes.max()) >= 0x10F000:
        codes %= np.uint32(0x10F000)
    codes += np.uint32(0x100)
    codes[codes >= 0xD800] += np.uint32(0x800)
    return codepoints_text(codes)
