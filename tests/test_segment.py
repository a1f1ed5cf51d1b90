"""Segmentation into sentences and clauses, with exact offsets into the original text."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.segment import Piece, segment


def sentences(text: str, **kw) -> list[str]:
    return [text[p.start:p.end] for p in segment(text, **kw) if not p.is_clause]


def clause_texts(text: str, **kw) -> list[str]:
    return [text[p.start:p.end] for p in segment(text, **kw) if p.is_clause]


# --- sentence ends --------------------------------------------------------------------------

def test_latin_sentence_ends():
    text = "The first sentence is here. The second one follows! Is it a third? Yes… Done."
    assert sentences(text) == [
        "The first sentence is here.", "The second one follows!", "Is it a third?", "Yes…", "Done.",
    ]


def test_arabic_sentence_ends():
    text = "قال الوزير إن الاقتصاد نما. هل سيستمر النمو؟ نعم بالتأكيد! ربما…"
    assert sentences(text) == ["قال الوزير إن الاقتصاد نما.", "هل سيستمر النمو؟", "نعم بالتأكيد!", "ربما…"]


def test_repeated_end_marks_stay_together():
    assert sentences("Really?! Yes... Of course.") == ["Really?!", "Yes...", "Of course."]


def test_newlines_end_sentences():
    text = "Intro sentence.\nCaption one\nCaption two\n- list item one\n- list item two"
    assert sentences(text) == ["Intro sentence.", "Caption one", "Caption two", "- list item one", "- list item two"]


def test_other_line_breaks_end_sentences():
    text = "First line.\r\nSecond line\rThird line\u2028Fourth line"
    assert sentences(text) == ["First line.", "Second line", "Third line", "Fourth line"]


def test_repeated_caption_lines_are_separate():
    text = "خبر عاجل.\nأنتوني بلينكن\nأنتوني بلينكن\nقال الوزير شيئا."
    assert sentences(text) == ["خبر عاجل.", "أنتوني بلينكن", "أنتوني بلينكن", "قال الوزير شيئا."]


def test_blank_lines_skipped():
    assert sentences("One.\n\n\n   \nTwo.") == ["One.", "Two."]


# --- no split -------------------------------------------------------------------------------

def test_no_split_in_decimals_or_percentages():
    text = "Growth was 0.5 percent. Inflation hit 1.6% last year. Prices rose 2.25 points."
    assert sentences(text) == ["Growth was 0.5 percent.", "Inflation hit 1.6% last year.", "Prices rose 2.25 points."]


def test_no_split_in_arabic_decimals():
    text = "بلغ النمو 1.6 بالمئة. وارتفعت الأسعار."
    assert sentences(text) == ["بلغ النمو 1.6 بالمئة.", "وارتفعت الأسعار."]


def test_no_split_after_abbreviations_and_initials():
    text = "The U.S. economy grew. Dr. Smith agreed with Prof. Jones. J. Smith wrote it. He met Mr. Brown today."
    assert sentences(text) == [
        "The U.S. economy grew.", "Dr. Smith agreed with Prof. Jones.", "J. Smith wrote it.", "He met Mr. Brown today.",
    ]


def test_an_initial_or_abbreviation_before_a_sentence_opener_ends_the_sentence():
    assert sentences("It won an award for her debut feature A. The festival closed with a film.") == [
        "It won an award for her debut feature A.", "The festival closed with a film."]
    assert sentences("He moved to the U.S. It was cold there.") == ["He moved to the U.S.", "It was cold there."]
    assert sentences("The deal was signed by Apple Inc. However, the terms are secret.") == [
        "The deal was signed by Apple Inc.", "However, the terms are secret."]


def test_names_and_titles_still_hold_together():
    for text in ("George W. Bush spoke in Texas.", "J. R. R. Tolkien wrote it.", "The U.S. Army said so.",
                 "Talks with the U.S. and China went well.", "Dr. The Rev. Smith came.", "Ask Mr. He Wei today."):
        assert sentences(text) == [text]


def test_no_split_after_lowercase_abbreviations():
    assert sentences("It cost approx. five dollars. Then it rose.") == ["It cost approx. five dollars.", "Then it rose."]
    assert sentences("See e.g. the report. Fine.") == ["See e.g. the report.", "Fine."]


def test_closing_quotes_stay_with_sentence():
    text = 'He said "we will win." Then he left. She asked: "Why?" They laughed. قال «انتهى.» ثم غادر.'
    assert sentences(text) == [
        'He said "we will win."', "Then he left.", 'She asked: "Why?"', "They laughed.", "قال «انتهى.»", "ثم غادر.",
    ]


def test_closing_bracket_stays_with_sentence():
    assert sentences("It rose (again.) Then it fell.") == ["It rose (again.)", "Then it fell."]


# --- headings ---------------------------------------------------------------------------------

def test_first_line_without_final_punctuation_is_heading():
    pieces = segment("Central bank raises rates\nThe central bank raised rates on Tuesday.")
    assert [(p.heading, p.is_clause) for p in pieces] == [(True, False), (False, False)]


def test_first_line_with_final_punctuation_is_not_heading():
    pieces = segment("The central bank raised rates.\nMore text follows here.")
    assert not any(p.heading for p in pieces)


def test_only_first_line_can_be_heading():
    pieces = segment("Heading line\nSecond line without punctuation\nThird line")
    assert [p.heading for p in pieces] == [True, False, False]


def test_heading_after_blank_lines():
    pieces = segment("\n\n  \nHeading line\nBody sentence here.")
    assert [p.heading for p in pieces] == [True, False]


def test_heading_flag_can_be_disabled():
    assert not any(p.heading for p in segment("Heading line\nBody.", first_line_heading=False))


# --- clauses ----------------------------------------------------------------------------------

def test_quoted_part_is_a_clause():
    text = 'The minister said "the economy will grow strongly next year despite the war" on Monday.'
    assert "the economy will grow strongly next year despite the war" in clause_texts(text)


def test_guillemet_quote_is_a_clause_arabic():
    text = "قال الوزير «إن الاقتصاد سينمو بقوة في العام المقبل رغم الحرب» يوم الاثنين."
    assert "إن الاقتصاد سينمو بقوة في العام المقبل رغم الحرب" in clause_texts(text)


def test_clauses_share_their_sentence_number():
    text = 'First sentence here.\nThe minister said "the economy will grow strongly next year despite the war" on Monday.'
    pieces = segment(text)
    whole = [p for p in pieces if not p.is_clause]
    clauses = [p for p in pieces if p.is_clause]
    assert len(whole) == 2 and clauses
    assert all(c.sentence == whole[1].sentence for c in clauses)


def test_short_quotes_are_not_clauses():
    assert clause_texts('She asked: "Why not?" and left the room quietly.') == []


def test_no_clauses_of_short_unquoted_sentence():
    assert clause_texts("The council met on Monday, and it approved the budget for the year.") == []


def test_long_sentence_split_at_commas():
    words = " ".join(f"word{i}" for i in range(12))
    text = f"{words}, {words}, {words}."
    clauses = clause_texts(text, clause_long_words=30)
    assert clauses == [words, words, words]


def test_heading_has_no_clauses():
    text = 'He said "the economy will grow strongly next year despite the war" today\nBody.'
    assert clause_texts(text) == []


def test_sentence_numbers_increase():
    pieces = [p for p in segment("One. Two.\nThree\nFour. Five.") if not p.is_clause]
    assert [p.sentence for p in pieces] == list(range(5))


def test_piece_is_frozen():
    p = segment("A sentence.")[0]
    assert isinstance(p, Piece)
    try:
        p.start = 3  # type: ignore[misc]
    except (AttributeError, TypeError):
        pass
    else:
        raise AssertionError("Piece is mutable")


# --- invariants for any text --------------------------------------------------------------------

def check_invariants(text: str, pieces: list[Piece]) -> None:
    whole = [p for p in pieces if not p.is_clause]
    by_sentence = {p.sentence: p for p in whole}
    assert len(by_sentence) == len(whole), "two sentence pieces share a sentence number"
    for p in pieces:
        assert 0 <= p.start < p.end <= len(text), p
        s = text[p.start:p.end]
        assert s == s.strip() != "", (p, s)
    for a, b in zip(whole, whole[1:]):
        assert a.end <= b.start, f"sentences overlap: {a} {b}"
        assert a.sentence < b.sentence
    for c in pieces:
        if c.is_clause:
            owner = by_sentence[c.sentence]
            assert owner.start <= c.start < c.end <= owner.end, (c, owner)
            assert (c.start, c.end) != (owner.start, owner.end)
            assert not c.heading and not owner.heading


TRICKY = st.sampled_from(
    [".", "!", "?", "؟", "…", "،", "؛", ",", ";", ":", '"', "“", "”", "«", "»", "„", "'", "(", ")", "[", "]", " ",
     " ", "\n", "\r", "\r\n", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x1c", "\u200f", "\u200e", "\u0301",
     "\u0651", "ـ", "😀", "👩‍👩‍👧", "Dr", "U.S", "J", "1.6", "0.5%", "the", "The", "قال", "في", " - ", " — ",
     "\u00a0", "\t", "x" * 40]
)
TEXTS = st.one_of(
    st.text(),
    st.lists(st.one_of(TRICKY, st.text(max_size=4)), max_size=200).map("".join),
)


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_invariants_any_text(text):
    check_invariants(text, segment(text))


@settings(max_examples=100, deadline=None)
@given(TEXTS, st.integers(1, 8), st.integers(1, 40), st.booleans())
def test_invariants_any_options(text, min_words, long_words, first_line_heading):
    pieces = segment(text, clause_min_words=min_words, clause_long_words=long_words,
                     first_line_heading=first_line_heading)
    check_invariants(text, pieces)


def reference_clauses(text: str, start: int, end: int, min_words: int, long_words: int) -> list[tuple[int, int]]:
    """The clauses of the sentence ``text[start:end]``, one sentence at a time in plain Python:
    the parts between quotation marks, and the comma/semicolon/dash parts of a long part."""
    def letters(a: int, b: int) -> tuple[int, int]:
        while a < b and not text[a].isalnum():
            a += 1
        while b > a and not text[b - 1].isalnum():
            b -= 1
        return a, b

    found = []
    cuts = [start] + [i for i in range(start, end) if text[i] in QUOTES] + [end]
    for a, b in map(lambda ab: letters(*ab), zip(cuts, cuts[1:])):
        words = len(text[a:b].split())
        if b > a and words >= min_words:
            found.append((a, b))
        if b > a and words >= long_words:
            marks = [(m.start(), m.end()) for m in re.finditer(r"[,،;؛:](?=\s)|\s[–—-]\s|[()]", text[:b])
                     if m.start() >= a]
            edges = [a] + [x for m in marks for x in m] + [b]
            for c, d in (letters(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)):
                if d > c and len(text[c:d].split()) >= min_words:
                    found.append((c, d))
    return sorted(set(found) - {letters(start, end)})


QUOTES = "\"“”«»„"


QUOTED_PROSE = st.lists(st.tuples(st.sampled_from(["word", "كلمة", "U.S", "1.6", "_", "😀", "\u0651"]),
                                   st.sampled_from([" ", " ", " ", ' "', '" ', '"', ", ", " - ", "«", "» ", "(", ") ",
                                                    "; ", ". ", "\n", "\u00a0"])),
                         max_size=80).map(lambda parts: "".join(w + sep for w, sep in parts))


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXTS, QUOTED_PROSE), st.integers(1, 8), st.integers(1, 40))
def test_clauses_equal_a_sentence_by_sentence_reference(text, min_words, long_words):
    pieces = segment(text, clause_min_words=min_words, clause_long_words=long_words)
    for sentence in (p for p in pieces if not p.is_clause):
        clauses = [(p.start, p.end) for p in pieces if p.is_clause and p.sentence == sentence.sentence]
        picked = not sentence.heading and (
            any(ch in QUOTES for ch in text[sentence.start:sentence.end])
            or len(text[sentence.start:sentence.end].split()) >= long_words)
        expected = reference_clauses(text, sentence.start, sentence.end, min_words, long_words) if picked else []
        assert clauses == expected, (text[sentence.start:sentence.end], clauses, expected)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.sampled_from([
    "word ", "كلمة ", "\u200f", "\u0651", "😀", "«", "»", '"', "، ", ", ", "1.6 ", "x", ". ", "! ", "؟ ",
    "Dr. ", "U.S. ", " - ", "\t",
]), min_size=1, max_size=20).map(lambda parts: "".join(parts) * (100_000 // max(1, len("".join(parts))) + 1)))
def test_invariants_very_long_line(text):
    assert len(text) >= 100_000
    check_invariants(text, segment(text))


def test_invariants_long_prose_line():
    text = ("The minister said, \"the economy will grow next year\" — and prices rose 1.6% in the U.S. "
            "قال الوزير «إن الاقتصاد سينمو»، وأضاف أن الأسعار ارتفعت. ") * 800
    assert len(text) > 100_000
    pieces = segment(text)
    check_invariants(text, pieces)
    assert sum(not p.is_clause for p in pieces) >= 800


# --- batch segmentation -------------------------------------------------------------------------

def _batch_api():
    import dedup.segment as seg

    if not hasattr(seg, "segment_many"):
        pytest.skip("dedup.segment has no segment_many (batch API)")
    return seg.segment_many


def _flatten(texts, cols):
    """Per document, the rows of a batch result with sentence numbers made document-local."""
    out = [[] for _ in texts]
    first: dict[int, int] = {}
    for d, a, b, n, c, h in zip(cols.doc.tolist(), cols.start.tolist(), cols.end.tolist(), cols.sentence.tolist(),
                                cols.is_clause.tolist(), cols.heading.tolist()):
        first.setdefault(d, n)
        out[d].append(Piece(a, b, n - first[d], c, h))
    return out


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXTS, max_size=6), st.sampled_from([1 << 20, 64, 7]), st.booleans())
def test_batch_segmentation_equals_one_by_one(texts, chunk_chars, first_line_heading):
    segment_many = _batch_api()
    cols = segment_many(texts, first_line_heading=first_line_heading, chunk_chars=chunk_chars)
    assert _flatten(texts, cols) == [segment(t, first_line_heading=first_line_heading) for t in texts]
    numbers = cols.sentence.tolist()
    assert numbers == sorted(numbers)
    whole = [n for n, c in zip(numbers, cols.is_clause.tolist()) if not c]
    assert whole == list(range(len(whole)))  # batch-wide sentence numbers, no gaps


def test_batch_segmentation_keeps_documents_apart():
    segment_many = _batch_api()
    texts = ["He met Dr.", "Smith came later.", "Headline without a stop", 'He said "the plan will go ahead as', 'agreed" today.']
    cols = segment_many(texts)
    assert _flatten(texts, cols) == [segment(t) for t in texts]
    assert sorted(set(cols.doc.tolist())) == list(range(len(texts)))


LISTS = st.lists(st.tuples(st.sampled_from(["Cech", "O'Shea", "A Titterrell", "word word word word", "كلمة", "1.6"]),
                           st.sampled_from([", ", "; ", "، ", "؛ ", " ", ". ", "\n", ",", " (Bath), "])),
                 max_size=40).map(lambda parts: "".join(w + sep for w, sep in parts))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(TEXTS, LISTS), max_size=5), st.sampled_from([1 << 20, 64]))
def test_listing_column_is_is_listing_of_each_passage(texts, chunk_chars):
    from dedup.segment import is_listing, segment_many

    cols = segment_many(texts, chunk_chars=chunk_chars)
    expected = [is_listing(texts[d][a:b]) for d, a, b in zip(cols.doc.tolist(), cols.start.tolist(), cols.end.tolist())]
    assert cols.listing.tolist() == expected


def test_a_line_up_is_a_listing_and_prose_is_not():
    from dedup.segment import is_listing

    assert is_listing("Cech, Ferreira, Terry, Gallas, Bridge, Makelele, Lampard.")
    assert is_listing("Replacements: A Bell (Bath), J Noon (Newcastle), O Barkley (Bath), M Cueto (Sale Sharks).")
    assert not is_listing("The union (which met in Leeds on Monday) said the strike, now in its third week, would go on.")
    assert not is_listing("The minister, who spoke on Monday, said the plan, first drafted in May, was ready for a vote.")


ABBREVIATED = st.lists(st.tuples(
    st.sampled_from(["Dr", "U.S", "J", "j.r.r", "j.r.r.t.k", "approx", "\"approx", "No", "no", "\u212a", "(Mr",
                     "\"Sept", "«St", "word", "Monday", "1.6", "2005", "كلمة", "i.e", "ALLCAPS", "Gen", "x" * 12]),
    st.sampled_from([". ", ".. ", ". The ", ". 10 ", ". It ", ".\n", ". a ", ".» ", ".\" He ", " "])),
    max_size=40).map(lambda parts: "".join(w + sep for w, sep in parts))


@settings(max_examples=300, deadline=None)
@given(st.one_of(TEXTS, ABBREVIATED))
def test_the_abbreviation_prefilter_changes_no_sentence(text):
    import dedup.segment as seg

    filtered = segment(text)
    original = seg._may_be_abbreviation
    seg._may_be_abbreviation = lambda cps, dots, starts: original(cps, dots, starts) | True
    try:
        unfiltered = segment(text)
    finally:
        seg._may_be_abbreviation = original
    assert filtered == unfiltered
