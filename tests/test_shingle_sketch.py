"""Shingles (batch vs reference path) and MinHash signatures (bit-compatible with datasketch)."""
from __future__ import annotations

import datasketch
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.normalize import normalize
from dedup.shingle import ShingleSpec, Shingles, shingle_batch, shingle_hash, shingle_strings, text_hashes
from dedup.sketch import EMPTY, SCHEME, MinHasher, jaccard
from dedup.stopwords import STOPWORDS

from conftest import POOL

PASSAGES = [normalize(s) for s in POOL] + [
    "",
    "a",
    "ab",
    "one two",
    "the of and",  # stopwords only
    "the bank of the north",
    "قال في من الوزير",
    "1.6 percent 1,200",
    "😀 emoji 👩‍👩‍👧 family",
    "x" * 300,
    "والمرافق الاتحاديه بالمدينه للطلاب كتابها المعلمون وال ال و",
]

SPECS = [
    ShingleSpec("word", 1),
    ShingleSpec("word", 3),
    ShingleSpec("char", 4),
    ShingleSpec.parse("word:1", STOPWORDS),
    ShingleSpec.parse("word:2", STOPWORDS),
    ShingleSpec("char", 1),
    ShingleSpec("word", 1, STOPWORDS, stem=True),  # the verifier's terms
]


def reference(texts, spec) -> list[list[int]]:
    return [[shingle_hash(s) for s in shingle_strings(t, spec)] for t in texts]


def batch_rows(sh: Shingles) -> list[list[int]]:
    return [sh.hashes[sh.indptr[i]:sh.indptr[i + 1]].tolist() for i in range(len(sh))]


# --- spec parsing -----------------------------------------------------------------------------

def test_spec_parse():
    assert ShingleSpec.parse("word:3") == ShingleSpec("word", 3)
    assert ShingleSpec.parse("char:5") == ShingleSpec("char", 5)
    assert ShingleSpec.parse("word") == ShingleSpec("word", 1)
    assert str(ShingleSpec.parse("char:4")) == "char:4"
    assert ShingleSpec.parse("char:4", STOPWORDS).stopwords == frozenset()  # word shingles only
    assert ShingleSpec.parse("word:1", STOPWORDS).stopwords == STOPWORDS


@pytest.mark.parametrize("bad", ["word:0", "char:-1", "token:2", "word:x", "", ":3"])
def test_spec_parse_rejects(bad):
    with pytest.raises(ValueError):
        ShingleSpec.parse(bad)


def test_stopwords_are_normalized():
    assert all(w == normalize(w) and w for w in STOPWORDS)
    assert {"the", "of", "في", "من", "الي", "ان"} <= STOPWORDS


# --- batch equals reference -----------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_batch_equals_reference(spec):
    sh = shingle_batch(PASSAGES, spec)
    assert sh.hashes.dtype == np.uint32 and sh.indptr.dtype == np.int64
    assert len(sh) == len(PASSAGES) and sh.indptr[0] == 0
    assert batch_rows(sh) == reference(PASSAGES, spec)


def test_reference_shingles_examples():
    assert shingle_strings("a b c d", ShingleSpec("word", 3)) == ["a b c", "b c d"]
    assert shingle_strings("a b", ShingleSpec("word", 3)) == ["a b"]  # shorter than one shingle
    assert shingle_strings("abcde", ShingleSpec("char", 4)) == ["abcd", "bcde"]
    assert shingle_strings("", ShingleSpec("word", 1)) == []
    spec = ShingleSpec.parse("word:2", STOPWORDS)
    assert shingle_strings("bank of england rates", spec) == ["bank of england", "england rates"]


def test_empty_passage_has_no_shingles():
    sh = shingle_batch(["", "a b", ""])
    assert np.diff(sh.indptr).tolist() == [0, 2, 0]


def test_empty_batch():
    sh = shingle_batch([])
    assert len(sh) == 0 and len(sh.hashes) == 0
    assert MinHasher(16).signatures(sh).shape == (0, 16)
    assert len(text_hashes([])) == 0


def test_shingle_hash_accepts_bytes():
    assert shingle_hash("قال الوزير".encode()) == shingle_hash("قال الوزير")


WORDS = st.sampled_from(["the", "of", "bank", "rates", "قال", "في", "الوزير", "1.6", "😀", "a", "x" * 12,
                         "والمرافق", "الاتحاديه", "وال", "ال", "و", "ها", "كتابها", "المعلمون", "بالمدينه", "لل"])
NORMALIZED = st.one_of(
    st.lists(WORDS, max_size=25).map(" ".join),
    st.text(max_size=60).map(normalize),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(NORMALIZED, max_size=12), st.sampled_from(SPECS))
def test_batch_equals_reference_property(texts, spec):
    assert batch_rows(shingle_batch(texts, spec)) == reference(texts, spec)


@settings(max_examples=100, deadline=None)
@given(st.lists(NORMALIZED, max_size=12), st.integers(0, 12), st.sampled_from(SPECS))
def test_batch_independent_of_chunking(texts, cut, spec):
    cut = min(cut, len(texts))
    whole = shingle_batch(texts, spec)
    left, right = shingle_batch(texts[:cut], spec), shingle_batch(texts[cut:], spec)
    assert batch_rows(whole) == batch_rows(left) + batch_rows(right)
    assert text_hashes(texts).tolist() == text_hashes(texts[:cut]).tolist() + text_hashes(texts[cut:]).tolist()


def test_batch_independent_of_internal_chunk_size(monkeypatch):
    import dedup.shingle as shingle_module

    texts = PASSAGES * 3
    expected = [batch_rows(shingle_batch(texts, spec)) for spec in SPECS]
    expected_text = text_hashes(texts).tolist()
    monkeypatch.setattr(shingle_module, "_CHUNK_CHARS", 64)
    for spec, rows in zip(SPECS, expected):
        assert batch_rows(shingle_batch(texts, spec)) == rows
    assert text_hashes(texts).tolist() == expected_text


def test_text_hashes_distinguish_texts():
    texts = ["a b", "a  b", "ab", "b a", "", "a b"]
    h = text_hashes(texts).tolist()
    assert h[0] == h[5]
    assert len(set(h[:5])) == 5


# --- MinHash: datasketch compatibility --------------------------------------------------------

def datasketch_minhash(text: str, spec: ShingleSpec = ShingleSpec(), num_perm: int = 128, seed: int = 1):
    m = datasketch.MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
    for s in shingle_strings(text, spec):
        m.update(s)
    return m


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_signatures_match_datasketch(spec):
    hasher = MinHasher(128, 1)
    sig = hasher.signatures(shingle_batch(PASSAGES, spec))
    assert sig.shape == (len(PASSAGES), 128) and sig.dtype == np.uint32
    for i, text in enumerate(PASSAGES):
        expected = datasketch_minhash(text, spec).hashvalues
        assert np.array_equal(sig[i], np.asarray(expected, dtype=np.uint32)), text


@pytest.mark.parametrize("num_perm, seed", [(16, 1), (64, 7), (256, 42)])
def test_signatures_match_datasketch_other_seeds(num_perm, seed):
    sig = MinHasher(num_perm, seed).signatures(shingle_batch(PASSAGES[:6]))
    for i, text in enumerate(PASSAGES[:6]):
        assert np.array_equal(sig[i], datasketch_minhash(text, num_perm=num_perm, seed=seed).hashvalues.astype(np.uint32))


@pytest.mark.parametrize("block, long, chunk", [(7, 5, 3), (2, 40, 16), (512, 1, 2)])
def test_signatures_independent_of_block_size(monkeypatch, block, long, chunk):
    import dedup.sketch as sketch_module

    sh = shingle_batch(PASSAGES * 4 + ["", "one"], ShingleSpec("char", 4))
    expected = MinHasher(64, 3).signatures(sh)
    monkeypatch.setattr(sketch_module, "_BLOCK", block)
    monkeypatch.setattr(sketch_module, "_LONG", long)
    monkeypatch.setattr(sketch_module, "_LONG_CHUNK", chunk)
    assert np.array_equal(MinHasher(64, 3).signatures(sh), expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**32 - 1), max_size=40), max_size=30))
def test_signatures_are_the_minimum_of_each_permutation(sets):
    import dedup.sketch as sketch_module

    hashes = np.array([h for s in sets for h in s], dtype=np.uint32)
    indptr = np.r_[0, np.cumsum([len(s) for s in sets])].astype(np.int64)
    hasher = MinHasher(16, 2)
    sig = hasher.signatures(Shingles(hashes, indptr))
    a, b = hasher._a[:, 0].astype(np.uint64), hasher._b[:, 0].astype(np.uint64)
    for row, values in zip(sig, sets):
        mixed = sketch_module._fmix32(np.array(values, dtype=np.uint32)).astype(np.uint64)
        expected = ((a[:, None] * mixed[None, :] + b[:, None]) % 2**32).min(axis=1) if values else EMPTY
        assert np.array_equal(row, np.broadcast_to(expected, row.shape))


def test_empty_passage_signature_is_all_max():
    sig = MinHasher(128, 1).signatures(shingle_batch(["", "bank rates", ""]))
    assert (sig[0] == 0xFFFFFFFF).all() and (sig[2] == 0xFFFFFFFF).all()
    assert EMPTY == np.uint32(0xFFFFFFFF)
    assert not (sig[1] == 0xFFFFFFFF).all()
    assert np.array_equal(sig[0], datasketch.MinHash(num_perm=128, seed=1).hashvalues.astype(np.uint32))


def test_lean_minhash_works_in_datasketch_lsh():
    hasher = MinHasher(128, 1)
    texts = [normalize(s) for s in POOL]
    sig = hasher.signatures(shingle_batch(texts))
    lsh = datasketch.MinHashLSH(threshold=0.5, num_perm=128)
    for i in range(len(texts)):
        lean = hasher.to_lean_minhash(sig[i])
        assert isinstance(lean, datasketch.LeanMinHash)
        lsh.insert(f"p{i}", lean)
    for i, text in enumerate(texts):
        query = datasketch_minhash(text)
        assert f"p{i}" in lsh.query(query)
        assert f"p{i}" in lsh.query(hasher.to_lean_minhash(sig[i]))
        lean = hasher.to_lean_minhash(sig[i])
        assert lean.jaccard(query) == 1.0
        assert query.jaccard(lean) == 1.0
        assert lean.seed == 1
    assert lsh.query(datasketch_minhash("completely different words here about nothing")) == []


def test_lean_minhash_scheme():
    assert SCHEME == "affine32"
    lean = MinHasher(32, 5).to_lean_minhash(MinHasher(32, 5).signatures(shingle_batch(["bank rates"]))[0])
    assert lean.seed == 5 and len(lean.hashvalues) == 32


def test_minhasher_rejects_no_permutations():
    with pytest.raises(ValueError):
        MinHasher(0)


def test_identical_sets_have_equal_signatures():
    sig = MinHasher(128, 1).signatures(shingle_batch(["b a c", "a b c", "c b a a"]))
    assert np.array_equal(sig[0], sig[1]) and np.array_equal(sig[1], sig[2])
    assert jaccard(sig[0], sig[1]) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(0, 400), min_size=1, max_size=120), st.sets(st.integers(0, 400), min_size=1, max_size=120))
def test_jaccard_estimate_close_to_true(a, b):
    true = len(a & b) / len(a | b)
    texts = [" ".join(f"w{x}" for x in sorted(a)), " ".join(f"w{x}" for x in sorted(b))]
    sig = MinHasher(256, 1).signatures(shingle_batch(texts))
    # standard error <= 0.5 / sqrt(256) = 0.031; 0.2 is > 6 sigma
    assert abs(jaccard(sig[0], sig[1]) - true) < 0.2


def test_jaccard_estimate_on_average():
    rng = np.random.default_rng(0)
    errors = []
    for _ in range(40):
        a = set(rng.choice(1000, 80, replace=False).tolist())
        b = set(list(a)[:50]) | set(rng.choice(1000, 30, replace=False).tolist())
        true = len(a & b) / len(a | b)
        texts = [" ".join(f"w{x}" for x in a), " ".join(f"w{x}" for x in b)]
        sig = MinHasher(128, 1).signatures(shingle_batch(texts))
        errors.append(jaccard(sig[0], sig[1]) - true)
    assert abs(np.mean(errors)) < 0.03  # unbiased
    assert np.mean(np.abs(errors)) < 0.08


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab c.,1٢\u0301\ue000أة ـ…“”\u00a0\n")), max_size=25), max_size=12),
       st.sampled_from(["word:1", "word:3", "char:4"]))
def test_shingle_texts_equals_shingling_the_normalized_strings(texts, spec):
    from dedup.normalize import normalize_many
    from dedup.shingle import shingle_texts

    direct = shingle_texts(texts, ShingleSpec.parse(spec))
    via_strings = shingle_batch(normalize_many(texts), ShingleSpec.parse(spec))
    assert np.array_equal(direct.hashes, via_strings.hashes)
    assert np.array_equal(direct.indptr, via_strings.indptr)


def test_shingle_texts_does_not_depend_on_chunk_size(monkeypatch):
    import dedup.shingle as shingle_module
    from dedup.shingle import shingle_texts

    texts = [p.upper() + " ١٢٣" for p in PASSAGES] * 3
    expected = shingle_texts(texts, ShingleSpec("word", 2))
    monkeypatch.setattr(shingle_module, "_CHUNK_CHARS", 7)
    small = shingle_texts(texts, ShingleSpec("word", 2), workers=2)
    assert np.array_equal(small.hashes, expected.hashes) and np.array_equal(small.indptr, expected.indptr)


def test_shingling_several_specs_at_once_equals_one_at_a_time():
    from dedup.shingle import shingle_batches

    texts = [normalize(t) for t in POOL] + ["", "the", "of the and", "x"]
    specs = [ShingleSpec("word", 1, STOPWORDS), ShingleSpec("word", 2, STOPWORDS), ShingleSpec("word", 1, STOPWORDS, True),
             ShingleSpec("word", 1), ShingleSpec("char", 4)]
    together = shingle_batches(texts, specs)
    for spec, shingles in zip(specs, together):
        alone = shingle_batch(texts, spec)
        assert shingles.hashes.tolist() == alone.hashes.tolist() and shingles.indptr.tolist() == alone.indptr.tolist()
