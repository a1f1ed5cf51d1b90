"""Properties of the whole detector over generated documents, and linear-time text stages."""
from __future__ import annotations

import importlib
import time
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dedup import Detector
from dedup.normalize import normalize
from dedup.segment import segment

from conftest import FILLER, POOL, line_col, pair_key

DETECTOR = Detector()
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def variant(sentence: str) -> str:
    """A hasty copy: the middle word dropped (reported as near by the detector)."""
    words = sentence.split()
    del words[len(words) // 2]
    return " ".join(words)


def mutate(sentence: str, how: str) -> str:
    if how == "upper":
        return sentence.upper()
    if how == "drop":
        return variant(sentence)
    if how == "number":
        return sentence.replace(" ", " 17 ", 1)
    if how == "diacritics":
        return sentence.replace("ا", "أ", 1).replace("ل", "لَ", 1)
    return sentence


NOISE = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(list(". ! ? ؟ … ، ؛ « » \" ' \n \r\n \u2028 \u200f \u0651 ـ 😀 Dr. U.S. 1.6% ٣٠")),
    ),
    max_size=40,
)
SEPARATORS = st.sampled_from([" ", "\n", "\r\n", "\n\n", ". ", "\u2028", " \u200f"])
PIECE = st.one_of(
    st.builds(mutate, st.sampled_from(POOL), st.sampled_from(["same", "upper", "drop", "number", "diacritics"])),
    st.sampled_from(FILLER),
    NOISE,
)


@st.composite
def documents(draw, max_docs: int = 4):
    n = draw(st.integers(1, max_docs))
    docs = []
    for i in range(n):
        parts = draw(st.lists(PIECE, max_size=8))
        seps = draw(st.lists(SEPARATORS, min_size=len(parts), max_size=len(parts)))
        docs.append((f"doc{i}", "".join(p + s for p, s in zip(parts, seps))))
    return docs


def components(findings) -> set[frozenset]:
    parent: dict = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for f in findings:
        a, b = tuple(pair_key(f))
        parent[find(a)] = find(b)
    groups: dict = {}
    for x in parent:
        groups.setdefault(find(x), set()).add(x)
    return {frozenset(g) for g in groups.values()}


# --- spans ------------------------------------------------------------------------------------

@SETTINGS
@given(documents())
def test_every_span_points_into_its_document(docs):
    report = DETECTOR.check_many(docs)
    texts = dict(docs)
    order = [d for d, _ in docs]
    for f in report.findings:
        for span in (f.sentence, f.match):
            text = texts[span.doc]
            assert 0 <= span.start < span.end <= len(text)
            assert text[span.start:span.end] == span.text
            assert span.text == span.text.strip() != ""
            assert (span.line, span.column) == line_col(text, span.start), (span, text)
        assert (order.index(f.match.doc), f.match.start) < (order.index(f.sentence.doc), f.sentence.start)
        assert f.scope == ("document" if f.sentence.doc == f.match.doc else "corpus")
        assert f.kind in ("exact", "normalized", "near", "contained", "conflict")
        assert 0.0 <= f.score <= 1.0
    assert len({pair_key(f) for f in report.findings}) == len(report.findings)
    assert report.stats["findings"] == len(report.findings)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=6), st.lists(st.text(max_size=30), max_size=6))
def test_arbitrary_text_never_breaks_the_detector(a, b):
    docs = [("a", "\n".join(a)), ("b", " ".join(b))]
    for f in DETECTOR.check_many(docs).findings:
        text = dict(docs)[f.sentence.doc]
        assert text[f.sentence.start:f.sentence.end] == f.sentence.text


# --- exact copies are always found ------------------------------------------------------------

PLACEMENT = st.sampled_from(["line", "after-filler", "before-filler"])


def place(sentence: str, how: str, noise_before: str, noise_after: str) -> tuple[str, int]:
    """A text holding `sentence` among random noise lines; returns (text, offset of sentence)."""
    before = noise_before + "\n"
    if how == "after-filler":
        before += FILLER[1] + " "
    after = "\n" + noise_after
    if how == "before-filler":
        after = " " + FILLER[0] + after
    return before + sentence + after, len(before)


@SETTINGS
@given(st.sampled_from([s for s in POOL if len(s.split()) >= 6]), PLACEMENT, PLACEMENT,
       NOISE, NOISE, NOISE, NOISE, st.booleans())
def test_exact_copy_always_found(sentence, how1, how2, n1, n2, n3, n4, same_document):
    first, off1 = place(sentence, how1, n1, n2)
    second, off2 = place(sentence, how2, n3, n4)
    if same_document:
        docs = [("a", first + "\n" + second)]
        key = {("a", off1, off1 + len(sentence)), ("a", len(first) + 1 + off2, len(first) + 1 + off2 + len(sentence))}
    else:
        docs = [("a", first), ("b", second)]
        key = {("a", off1, off1 + len(sentence)), ("b", off2, off2 + len(sentence))}
    findings = DETECTOR.check_many(docs).findings
    linked = [f for f in findings if pair_key(f) == key]
    assert linked, [(f.kind, f.sentence.text, f.match.text) for f in findings]
    assert linked[0].kind == "exact" and linked[0].score == 1.0


LINE_BREAKS = str.maketrans("", "", "\n\r\x0b\x0c\x85\u2028\u2029")


def _overlaps(a: tuple, b: tuple) -> bool:
    """The shared checker's rule: at least half of the shorter span lies inside the other."""
    if a[0] != b[0]:
        return False
    inter = min(a[2], b[2]) - max(a[1], b[1])
    return inter >= 0.5 * max(1, min(a[2] - a[1], b[2] - b[1]))


@SETTINGS
@given(st.sampled_from([s for s in POOL if len(s.split()) >= 6]), NOISE, NOISE, NOISE, NOISE,
       st.sampled_from([". ", "! ", "? ", "؟ ", "\n"]))
def test_copy_inside_a_noisy_line_is_found(sentence, n1, n2, n3, n4, sep):
    """The sentence shares its line with random text (which may even glue to it, e.g. after an
    initial "A."); the line ends with a full stop, so it is never a headline. The two copies
    must still be linked (by the overlap rule of ../shared/cases/check_case.py)."""
    n1, n2, n3, n4 = (n.translate(LINE_BREAKS) for n in (n1, n2, n3, n4))
    first = f"{n1}{sep}{sentence} {n2}."
    second = f"{n3}{sep}{sentence} {n4}."
    docs = [("a", first), ("b", second)]
    k1 = ("a", len(n1) + len(sep), len(n1) + len(sep) + len(sentence))
    k2 = ("b", len(n3) + len(sep), len(n3) + len(sep) + len(sentence))
    findings = DETECTOR.check_many(docs).findings
    assert any(_overlaps((f.sentence.doc, f.sentence.start, f.sentence.end), k2)
               and _overlaps((f.match.doc, f.match.start, f.match.end), k1) for f in findings), \
        [(f.kind, f.sentence.text, f.match.text) for f in findings]


# --- independence of document order -----------------------------------------------------------

@st.composite
def copied_documents(draw):
    """Documents built from pool sentences (some repeated, some repeated as a hasty copy),
    one per line, between lines of noise."""
    n = draw(st.integers(2, 4))
    picks = draw(st.lists(st.sampled_from(range(len(POOL))), min_size=1, max_size=4, unique=True))
    use_variant = {i: draw(st.booleans()) for i in picks}
    docs = []
    for d in range(n):
        lines = []
        for _ in range(draw(st.integers(0, 5))):
            i = draw(st.sampled_from(picks))
            lines.append(variant(POOL[i]) if use_variant[i] and draw(st.booleans()) else POOL[i])
            if draw(st.booleans()):
                lines.append(draw(st.sampled_from(FILLER + ["", "Noise line, unrelated."])))
        docs.append((f"doc{d}", "\n".join(lines)))
    return docs


@SETTINGS
@given(copied_documents(), st.randoms(use_true_random=False))
def test_findings_do_not_depend_on_document_order(docs, rnd):
    shuffled = list(docs)
    rnd.shuffle(shuffled)
    assume(shuffled != docs)
    a = DETECTOR.check_many(docs).findings
    b = DETECTOR.check_many(shuffled).findings
    assert components(a) == components(b)
    assert len(a) == len(b)


@contextmanager
def tiny_batches():
    """Every stage that works in chunks or blocks does so in tiny ones."""
    sizes = {"dedup.detector": {"_BLOCK": 3}, "dedup.normalize": {"_CHUNK_CHARS": 40}, "dedup.verify": {"_PAIR_BLOCK": 2},
             "dedup.shingle": {"_CHUNK_CHARS": 50}, "dedup.sketch": {"_BLOCK": 7, "_LONG": 5, "_LONG_CHUNK": 3}}
    passages = importlib.import_module("dedup.passages")
    original_segment = passages.segment_many
    saved = {}
    try:
        for name, values in sizes.items():
            module = importlib.import_module(name)
            for attr, value in values.items():
                saved[name, attr] = getattr(module, attr)
                setattr(module, attr, value)
        passages.segment_many = lambda texts, **kw: original_segment(texts, **{**kw, "chunk_chars": 60})
        yield
    finally:
        for (name, attr), value in saved.items():
            setattr(importlib.import_module(name), attr, value)
        passages.segment_many = original_segment


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(copied_documents())
def test_findings_do_not_depend_on_internal_batch_sizes(docs):
    expected = [f.to_dict() for f in DETECTOR.check_many(docs).findings]
    with tiny_batches():
        got = [f.to_dict() for f in Detector(workers=2).check_many(docs).findings]
    assert got == expected


@SETTINGS
@given(copied_documents())
def test_every_copy_is_linked_to_its_group(docs):
    findings = DETECTOR.check_many(docs).findings
    groups = components(findings)
    texts = dict(docs)
    for a, b in [(x, y) for g in groups for x in g for y in g if x < y]:
        # members of one component are copies of one pool sentence
        ta, tb = texts[a[0]][a[1]:a[2]], texts[b[0]][b[1]:b[2]]
        assert ta == tb or variant(ta) == tb or variant(tb) == ta, (ta, tb)
    occurrences: dict[str, list] = {}
    for d, text in docs:
        offset = 0
        for line in text.split("\n"):
            if line in POOL:
                occurrences.setdefault(line, []).append((d, offset, offset + len(line)))
            offset += len(line) + 1
    for sentence, where in occurrences.items():
        if len(where) > 1:
            assert any(set(where) <= g for g in groups), (sentence, where, groups)


# --- normalization ------------------------------------------------------------------------------

ARABIC_HEAVY = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
        st.characters(min_codepoint=0xFB50, max_codepoint=0xFDFF),
        st.characters(min_codepoint=0xFE70, max_codepoint=0xFEFF),
        st.sampled_from(list(" .,0123456789\u00a0\u200f\u200e\u0301")),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), ARABIC_HEAVY))
def test_normalize_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(POOL), min_size=1, max_size=4), SEPARATORS)
def test_normalize_ignores_layout(sentences, sep):
    joined = sep.join(sentences)
    assert normalize(joined) == " ".join(normalize(s) for s in sentences)


# --- linear time --------------------------------------------------------------------------------

def _best(fn, text: str, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - t0)
    return best


def _repeat(unit: str):
    return lambda n: (unit * (n // len(unit) + 1))[:n]


ADVERSARIAL = {
    "dots": _repeat("."),
    "space-dot": _repeat(" ."),
    "quotes": _repeat('"'),
    "letter-dot": _repeat("a."),
    "arabic-comma": _repeat("،"),
    "letter-dot-space": _repeat("a. "),
    "dot-space": _repeat(". "),
    "mixed": _repeat('a "b, c. '),
    "mixed-arabic": _repeat("قال «نعم، لا». "),
    "initials": _repeat("A.B. "),
    "abbreviations": _repeat("Dr. "),
    "decimals": _repeat("1.5 "),
    "newlines": _repeat("\n"),
    "crlf": _repeat("a\r\n"),
    "rtl-marks": _repeat("\u200f. "),
    "dots-then-letter": lambda n: "." * n + "x",
    "bangs-then-letter": lambda n: "!" * n + "x",
    "arabic-question-then-letter": lambda n: "؟" * n + "x",
    "ellipsis-then-letter": lambda n: "…" * n + "x",
    "closers-then-letter": lambda n: "." + '"' * n + "x",
    "dot-spaces-letter": lambda n: "." + " " * n + "x",
    "quoted-commas": lambda n: 'Intro.\n"' + _repeat("w, ")(n) + '"',
    "quoted-words": lambda n: 'Intro.\n"' + _repeat("word ")(n) + '"',
    "body-commas": lambda n: "Intro.\n" + _repeat("w, ")(n),
    "body-dashes": lambda n: "Intro.\n" + _repeat("w - ")(n),
    "body-quotes": lambda n: "Intro.\n" + _repeat('a "')(n),
    "one-long-word": lambda n: "x" * n + ".",
}


def _scaling(fn, make) -> tuple[int, float, float]:
    """Time `fn` on inputs of n and 4n characters, n grown until the small run takes >= 4 ms
    (so timer noise does not dominate) or the large input reaches ~200k characters. A
    quadratic stage thus shows up at a small n, which keeps a failing run short."""
    n = 1000
    while True:
        t1 = _best(fn, make(n), 3)
        if t1 >= 0.004 or n >= 50_000:
            break
        n *= 2
    t4 = _best(fn, make(4 * n), 1 if t1 > 0.03 else 3)
    return n, t1, t4


def _assert_linear(fn, name: str) -> None:
    """Time grows about 4x from n to 4n characters; a ratio of 10 or more (16 for quadratic)
    fails, after two re-measurements against scheduling noise."""
    for _ in range(3):
        n, t1, t4 = _scaling(fn, ADVERSARIAL[name])
        if t4 < 0.004 or t4 / t1 < 10:  # both runs under timer noise, or linear
            return
    raise AssertionError(f"{fn.__name__} on {name!r} is super-linear: {n} chars take {t1 * 1000:.1f} ms, "
                         f"{4 * n} chars {t4 * 1000:.1f} ms (x{t4 / t1:.1f})")



@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_segment_scales_linearly(name):
    _assert_linear(segment, name)


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_normalize_scales_linearly(name):
    _assert_linear(normalize, name)
