"""The Detector end to end on clear-cut cases: kinds, scopes, direction, grouping, API."""
from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import pytest

import dedup
from dedup import SCHEMA, Detector, Document, Finding, Report, Settings, Span
from dedup.verify import Thresholds

from conftest import AR, EN, FILLER, check_docs, line_col, pair_key

# Sentences used for specific kinds (written for these tests).
RATE = EN[0]  # 18 words
BRIDGE = "Engineers finished repairing the old railway bridge over the river two weeks ahead of schedule."  # 15 words
PRICES = "Prices rose by 12 percent in the capital during the first three months of the year, officials said."
AR_TAX = "قال وزير المالية إن الحكومة ستخفض الضرائب على 30 شركة صغيرة في العام المقبل."
AR_TAX_SPELLED = "قالَ وزيرُ الماليّة، إنّ الحكومةَ ستخفّض الضرائبَ على ٣٠ شركةً صغيرة في العامِ المقبل!"


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [(f.kind, f.sentence.text, f.match.text) for f in findings]
    return findings[0]


def text_of(docs, span: Span) -> str:
    return {d[0]: d[1] for d in docs}[span.doc]


def assert_spans_consistent(docs, findings):
    for f in findings:
        for span in (f.sentence, f.match):
            text = text_of(docs, span)
            assert text[span.start:span.end] == span.text
            assert (span.line, span.column) == line_col(text, span.start)


def assert_later_to_earlier(docs, f: Finding):
    order = [d[0] for d in docs]
    s, m = f.sentence, f.match
    assert (order.index(m.doc), m.start) < (order.index(s.doc), s.start)
    assert f.scope == ("document" if s.doc == m.doc else "corpus")


# --- kinds ----------------------------------------------------------------------------------

@pytest.mark.parametrize("copy", [RATE, AR[0]], ids=["en", "ar"])
def test_exact_copy_in_one_document(copy):
    docs = [("a", " ".join([copy, EN[1], AR[1], copy]))]
    f = only(check_docs(docs))
    assert (f.kind, f.scope, f.score) == ("exact", "document", 1.0)
    assert f.match.start == 0 and f.match.text == copy
    assert f.sentence.text == copy and f.sentence.start == len(docs[0][1]) - len(copy)
    assert_spans_consistent(docs, [f])


def test_exact_copy_across_documents():
    docs = [("a", f"{RATE} {EN[1]}"), ("b", f"{EN[2]} {RATE}")]
    f = only(check_docs(docs))
    assert (f.kind, f.scope) == ("exact", "corpus")
    assert (f.sentence.doc, f.match.doc) == ("b", "a")
    assert_spans_consistent(docs, [f])


def test_normalized_copy_arabic_diacritics_digits_punctuation():
    docs = [("a", " ".join([AR_TAX, AR[1], AR_TAX_SPELLED]))]
    f = only(check_docs(docs))
    assert (f.kind, f.scope, f.score) == ("normalized", "document", 1.0)
    assert f.sentence.text == AR_TAX_SPELLED and f.match.text == AR_TAX


def test_normalized_copy_english_case_and_punctuation():
    variant = "THE CENTRAL BANK raised its main interest-rate by half a point, on Tuesday, to fight persistent inflation!"
    docs = [("a", " ".join([RATE, EN[1], variant]))]
    f = only(check_docs(docs))
    assert (f.kind, f.score) == ("normalized", 1.0)
    assert f.sentence.text == variant


def test_normalized_copy_across_documents():
    docs = [("a", AR_TAX), ("b", f"{AR[2]}\n{AR_TAX_SPELLED}")]
    f = only(check_docs(docs))
    assert (f.kind, f.scope) == ("normalized", "corpus")
    assert (f.sentence.doc, f.match.doc) == ("b", "a")


@pytest.mark.parametrize("original, changed", [
    (PRICES, PRICES.replace("12", "15")),
    (AR_TAX, AR_TAX.replace("30", "45")),
], ids=["en", "ar"])
def test_changed_number_is_conflict(original, changed):
    docs = [("a", " ".join([original, EN[1], changed]))]
    f = only(check_docs(docs))
    assert f.kind == "conflict"
    assert 0.0 < f.score <= 1.0
    assert f.sentence.text == changed and f.match.text == original


def test_conflict_across_documents():
    docs = [("a", PRICES), ("b", PRICES.replace("12", "15"))]
    f = only(check_docs(docs))
    assert (f.kind, f.scope) == ("conflict", "corpus")


@pytest.mark.parametrize("full, truncated", [
    (RATE, "The central bank raised its main interest rate."),
    (AR[2], "أعلنت شركة الطيران عن رحلات مباشرة."),
], ids=["en", "ar"])
def test_truncated_copy_is_contained(full, truncated):
    docs = [("a", " ".join([full, EN[1], truncated]))]
    f = only(check_docs(docs))
    assert f.kind == "contained"
    assert (f.sentence.text, f.match.text) == (truncated, full)


def test_longer_later_copy_is_contained_and_points_back():
    short = "The central bank raised its main interest rate."
    docs = [("a", " ".join([short, EN[1], RATE]))]
    f = only(check_docs(docs))
    assert f.kind == "contained"
    assert (f.sentence.text, f.match.text) == (RATE, short)


@pytest.mark.parametrize("original, reworded", [
    (RATE, RATE.replace("persistent", "stubborn")),
    (AR[1], "افتتحت البلدية مكتبة عامة جديدة وسط المدينة بحضور عدد كبير من التلاميذ."),
], ids=["en", "ar"])
def test_reworded_copy_is_near(original, reworded):
    docs = [("a", " ".join([original, EN[1], reworded]))]
    f = only(check_docs(docs))
    assert f.kind == "near"
    assert 0.5 <= f.score <= 1.0
    assert (f.sentence.text, f.match.text) == (reworded, original)


@pytest.mark.parametrize("scope", ["document", "corpus"])
def test_one_word_dropped_is_near_or_contained(scope):
    copy = BRIDGE.replace(" old", "")
    if scope == "document":
        docs = [("a", " ".join([BRIDGE, EN[1], copy]))]
    else:
        docs = [("a", f"{BRIDGE} {EN[1]}"), ("b", f"{EN[2]} {copy}")]
    f = only(check_docs(docs))
    assert f.kind in ("near", "contained")
    assert f.scope == scope
    assert (f.sentence.text, f.match.text) == (copy, BRIDGE)
    assert_spans_consistent(docs, [f])


def test_garbled_hasty_copy_is_found():
    copy = "Engineers finished repairing the railway bridge, the old one, two weeks ahead of the schedule."
    docs = [("a", " ".join([BRIDGE, EN[1], copy]))]
    assert only(check_docs(docs)).kind in ("near", "contained")


COUNCIL = "The city council approved the new budget for public schools after a long debate on Tuesday evening."
COUNCIL_AR = "وافق مجلس المدينة على الميزانية الجديدة للمدارس الحكومية بعد نقاش طويل مساء الثلاثاء."


@pytest.mark.parametrize("original, shuffled", [
    (COUNCIL, "council The approved budget new the for schools a after debate on Monday."),
    (COUNCIL_AR, "ووافق المدينة مجلس على الجديدة الميزانية للمدارس بعد طويل نقاش الأحد."),
], ids=["en", "ar"])
def test_hasty_copy_with_its_words_reordered_is_found_by_its_word_bag(original, shuffled):
    docs = [("a", " ".join([original, EN[1], shuffled]))]
    f = only(check_docs(docs))
    assert (f.kind, f.sentence.text, f.match.text) == ("near", shuffled, original)
    without_rule = Detector(verify=Thresholds(shuffled_words=1.01)).check_many(docs).findings
    assert without_rule == []  # the word-bag rule, not another, is what finds it


def test_sentence_sharing_the_facts_in_other_words_is_not_a_reordered_copy():
    restated = "After a long debate, councillors voted on Tuesday to give public schools more money."
    assert check_docs([("a", " ".join([COUNCIL, EN[1], restated]))]) == []


def test_quote_restating_its_own_sentence():
    sentence = ('The port authority said the terminal would remain closed to all ships until Thursday, adding: '
                '"The terminal will remain closed to all ships until Thursday."')
    docs = [("a", f"{EN[1]} {sentence}")]
    f = only(check_docs(docs))
    assert f.kind in ("near", "contained")
    start = len(EN[1]) + 1
    for span in (f.sentence, f.match):  # both are parts of the one quoting sentence
        assert start <= span.start < span.end <= len(docs[0][1])
    assert f.sentence.text == "The terminal will remain closed to all ships until Thursday"
    assert f.match.start < f.sentence.start
    assert_spans_consistent(docs, [f])


def test_quote_restating_its_own_sentence_arabic():
    sentence = ("وقالت هيئة الأرصاد إن الأمطار الغزيرة ستستمر في المناطق الشمالية حتى مساء الثلاثاء، "
                "مؤكدة: «الأمطار الغزيرة ستستمر في المناطق الشمالية حتى مساء الثلاثاء».")
    docs = [("a", f"{AR[1]} {sentence}")]
    f = only(check_docs(docs))
    assert f.kind in ("near", "contained")
    assert f.sentence.text == "الأمطار الغزيرة ستستمر في المناطق الشمالية حتى مساء الثلاثاء"
    assert f.match.start >= len(AR[1]) + 1 and f.match.start < f.sentence.start


# --- what is not reported ------------------------------------------------------------------

def test_unrelated_sentences_not_reported():
    docs = [("en", " ".join(EN)), ("ar", " ".join(AR)), ("mixed", "\n".join(EN[::-1] + AR[::-1]))]
    findings = check_docs(docs[:2])
    assert findings == []
    # the third document repeats every sentence once: one finding each, nothing else
    findings = check_docs(docs)
    assert len(findings) == len(EN) + len(AR)
    assert all(f.kind == "exact" and f.sentence.doc == "mixed" for f in findings)


def test_short_sentence_doubled_in_a_row_is_reported():
    docs = [("a", f"{EN[1]} Markets fell sharply. Markets fell sharply.")]
    f = only(check_docs(docs))
    assert (f.kind, f.scope) == ("exact", "document")
    assert f.sentence.text == f.match.text == "Markets fell sharply."


def test_short_phrase_recurring_in_one_document_is_left_out():
    """A refrain, a timeline's date, a label: a short phrase that recurs further on is no
    defect; the stats count it."""
    detector = Detector()
    report = detector.check_many([("a", f"Markets fell sharply. {EN[1]} Markets fell sharply.")])
    assert report.findings == []
    assert report.stats["left_out"] == {"short": 1}


def test_short_repeated_caption_lines():
    docs = [("a", f"خبر عاجل.\nأنتوني بلينكن\nأنتوني بلينكن\n{AR[0]}")]
    f = only(check_docs(docs))
    assert f.kind == "exact"
    assert (f.match.line, f.sentence.line) == (2, 3)
    assert f.sentence.text == "أنتوني بلينكن"


def test_short_repeat_across_documents_not_reported():
    docs = [("a", f"Markets fell sharply. {EN[1]}"), ("b", f"{EN[2]} Markets fell sharply.")]
    assert check_docs(docs) == []


def test_short_near_repeat_not_reported():
    docs = [("a", f"Markets fell sharply today. {EN[1]} Markets fell sharply yesterday.")]
    assert check_docs(docs) == []


def test_short_normalized_repeat_in_document_is_identical_kind():
    docs = [("a", f"{EN[1]} Markets fell sharply. MARKETS FELL SHARPLY!")]
    assert [f.kind for f in check_docs(docs)] in (["exact"], ["normalized"])


@pytest.mark.parametrize("text", [
    f"Central bank raises main interest rate by half a point to fight inflation\n{RATE} {EN[1]}",
    f"Central bank raises rates to fight inflation\nCentral bank raises rates to fight inflation, "
    f"officials said on Tuesday after a long meeting. {EN[1]}",
    f"الحكومة تخفض الضرائب على الشركات الصغيرة\n{AR[0]} {AR[1]}",
], ids=["restated", "heading-prefix", "ar"])
def test_heading_restating_lead_not_reported(text):
    assert check_docs([("a", text)]) == []


def test_templated_sentences_with_other_facts_not_reported():
    gold = "Gold rose 0.3% to $1,200 an ounce on Monday."
    silver = "Silver fell 1.5% to $15 an ounce on Friday."
    assert check_docs([("a", f"{gold} {EN[1]} {silver}")]) == []
    assert check_docs([("a", gold), ("b", silver)]) == []


def test_empty_and_blank_documents():
    assert check_docs([]) == []
    assert check_docs([("a", ""), ("b", "   \n\n"), ("c", "...")]) == []


# --- direction and grouping ----------------------------------------------------------------

def test_three_copies_give_two_findings_to_the_first():
    docs = [("a", " ".join([RATE, EN[1], RATE, EN[2], RATE]))]
    findings = check_docs(docs)
    assert len(findings) == 2
    assert all(f.kind == "exact" and f.match.start == 0 for f in findings)
    assert len({f.sentence.start for f in findings}) == 2
    assert_spans_consistent(docs, findings)


def test_three_copies_across_documents_point_to_first_document():
    docs = [("a", RATE), ("b", f"{EN[1]} {RATE}"), ("c", RATE)]
    findings = check_docs(docs)
    assert sorted(f.sentence.doc for f in findings) == ["b", "c"]
    assert all(f.match.doc == "a" and f.scope == "corpus" for f in findings)


def test_near_copies_point_to_earliest():
    v1 = BRIDGE
    v2 = BRIDGE.replace(" old", "")
    v3 = BRIDGE.replace("two weeks", "three weeks").replace(" old", " ancient")
    docs = [("a", " ".join([v1, EN[1], v2, EN[2], v3]))]
    findings = check_docs(docs)
    assert {f.sentence.text for f in findings} <= {v2, v3}
    for f in findings:
        assert f.match.start == 0
        assert_later_to_earlier(docs, f)


def test_each_pair_reported_once():
    docs = [("a", " ".join([RATE, BRIDGE, AR_TAX, RATE, BRIDGE.replace(" old", ""), AR_TAX_SPELLED, RATE])),
            ("b", " ".join([AR_TAX, RATE, PRICES, PRICES.replace("12", "15")]))]
    findings = check_docs(docs)
    keys = [pair_key(f) for f in findings]
    assert len(keys) == len(set(keys))
    later = [(f.sentence.doc, f.sentence.start, f.sentence.end) for f in findings]
    assert len(later) == len(set(later)), "a passage was flagged twice"
    for f in findings:
        assert_later_to_earlier(docs, f)
    assert_spans_consistent(docs, findings)


def test_documents_processed_in_given_order():
    docs = [("z", RATE), ("a", f"{EN[1]} {RATE}")]
    f = only(check_docs(docs))
    assert (f.sentence.doc, f.match.doc) == ("a", "z")


def test_deterministic():
    docs = [("a", " ".join([RATE, BRIDGE, RATE, BRIDGE.replace(" old", "")])), ("b", PRICES)]
    assert check_docs(docs) == check_docs(docs)


# --- API ----------------------------------------------------------------------------------

class Article:
    def __init__(self, id, text):
        self.id = id
        self.text = text


@pytest.mark.parametrize("make", [
    lambda i, t: (i, t),
    lambda i, t: Document(i, t),
    lambda i, t: SimpleNamespace(id=i, text=t, title="ignored"),
    lambda i, t: Article(i, t),
], ids=["tuple", "Document", "namespace", "object"])
def test_detector_accepts_document_likes(make):
    docs = [make("a", f"{RATE} {EN[1]}"), make("b", f"{EN[2]} {RATE}")]
    f = only(Detector().check_many(docs).findings)
    assert (f.kind, f.scope, f.sentence.doc, f.match.doc) == ("exact", "corpus", "b", "a")


def test_detector_accepts_generator_and_mixed_inputs():
    docs = iter([("a", RATE), Document("b", EN[1]), Article("c", RATE)])
    report = Detector().check_many(docs)
    assert report.stats["documents"] == 3
    assert [(f.sentence.doc, f.match.doc) for f in report.findings] == [("c", "a")]


def test_non_string_ids_become_strings():
    f = only(Detector().check_many([(1, RATE), (2, RATE)]).findings)
    assert (f.sentence.doc, f.match.doc) == ("2", "1")


@pytest.mark.parametrize("bad", ["just a string", ("a", "b", "c"), 42, {"id": "a", "text": "b"}])
def test_detector_rejects_other_inputs(bad):
    with pytest.raises(TypeError):
        Detector().check_many([bad])


def test_detector_rejects_non_string_text():
    with pytest.raises(TypeError):
        Detector().check_many([("a", b"bytes are not text")])


def test_detector_rejects_unknown_setting():
    with pytest.raises(TypeError):
        Detector(no_such_setting=1)


def test_check_convenience():
    findings = dedup.check(f"{RATE} {EN[1]} {RATE}", doc_id="story.txt")
    f = only(findings)
    assert f.sentence.doc == f.match.doc == "story.txt"
    assert only(Detector().check(f"{RATE} {RATE}")).sentence.doc == "<text>"


def test_settings_defaults_and_params():
    s = Settings()
    assert s.shingles == "word:1" and s.num_perm == 128
    b, r = s.bands()
    assert b * r <= s.num_perm
    det = Detector(threshold=0.5, num_perm=64, shingles="char:4")
    assert det.settings.num_perm == 64
    f = only(det.check_many([("a", f"{RATE} {EN[1]} {RATE}")]).findings)
    assert f.kind == "exact"


def test_finding_and_span_are_frozen():
    f = only(check_docs([("a", f"{RATE} {RATE}")]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.kind = "near"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.sentence.start = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Document("a", "b").text = "c"  # type: ignore[misc]
    assert hash(f) == hash(dataclasses.replace(f))


SPAN_KEYS = {"doc", "start", "end", "line", "column", "text"}
FINDING_KEYS = {"kind", "scope", "score", "sentence", "match"}


def check_finding_dict(d: dict) -> None:
    assert FINDING_KEYS <= set(d)
    assert d["kind"] in ("exact", "normalized", "near", "contained", "conflict")
    assert d["scope"] in ("document", "corpus", "archive")
    assert isinstance(d["score"], float) and 0.0 <= d["score"] <= 1.0
    for side in ("sentence", "match"):
        span = d[side]
        assert SPAN_KEYS <= set(span)
        assert isinstance(span["doc"], str) and isinstance(span["text"], str)
        for k in ("start", "end", "line", "column"):
            assert isinstance(span[k], int) and not isinstance(span[k], bool)
        assert 0 <= span["start"] < span["end"] and span["line"] >= 1 and span["column"] >= 1


def test_report_json_matches_schema():
    docs = [("a", "\n".join([RATE, AR_TAX, EN[1], RATE, AR_TAX_SPELLED])), ("b", PRICES.replace("12", "15")),
            ("c", PRICES)]
    report = Detector().check_many(docs)
    assert isinstance(report, Report) and report.findings
    for indent in (None, 2):
        obj = json.loads(report.to_json(indent=indent))
        assert obj["schema"] == SCHEMA == "dedup.report/1"
        assert {"schema", "findings", "stats"} <= set(obj)
        assert len(obj["findings"]) == len(report.findings)
        for d in obj["findings"]:
            check_finding_dict(d)
    obj = json.loads(report.to_json())
    assert "وزير" in report.to_json()  # not ASCII-escaped
    for d, f in zip(obj["findings"], report.findings):
        assert d == f.to_dict() == json.loads(f.to_json())
        text = text_of(docs, f.sentence)
        assert d["sentence"]["text"] == text[d["sentence"]["start"]:d["sentence"]["end"]]
    stats = obj["stats"]
    assert {"documents", "sentences", "seconds", "findings", "by_kind"} <= set(stats)
    assert stats["documents"] == 3
    assert stats["findings"] == len(report.findings)
    assert sum(stats["by_kind"].values()) == len(report.findings)
    assert stats["by_kind"] == {k: sum(f.kind == k for f in report.findings) for k in stats["by_kind"]}
    assert stats["sentences"] >= 7
    assert isinstance(stats["seconds"], (int, float)) and stats["seconds"] >= 0


def test_report_of_nothing():
    report = Detector().check_many([])
    obj = json.loads(report.to_json())
    assert obj["findings"] == [] and obj["stats"]["documents"] == 0 and obj["stats"]["findings"] == 0


def test_line_and_column_multiline():
    text = f"Heading of the story\n\n{RATE}\r\n{EN[1]}\n  {RATE}"
    f = only(check_docs([("a", text)]))
    assert (f.match.line, f.match.column) == (3, 1)
    assert (f.sentence.line, f.sentence.column) == (5, 3)
    assert_spans_consistent([("a", text)], [f])


def test_offsets_are_code_points_not_bytes_or_utf16():
    prefix = "😀👩‍👩‍👧 قال. "  # astral characters and Arabic before the copies
    text = f"{prefix}{RATE} {EN[1]} {RATE}"
    f = only(check_docs([("a", text)]))
    assert f.match.start == len(prefix)
    assert text[f.match.start:f.match.end] == RATE
    assert f.match.column == len(prefix) + 1


# --- headline rule ----------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["across", "within"])
def test_first_line_with_several_sentences_is_prose_not_a_headline(layout):
    """Only a headline is matched exactly-only. A first line holding two sentences (its last
    one merely lacking a full stop) is a lead paragraph: a near copy of its first sentence must
    still be found."""
    copy = BRIDGE.replace(" old", "")
    if layout == "across":
        docs = [("a", f"Rail repairs finished early\n{BRIDGE} {EN[1]}"),
                ("b", f"{copy} Analysts expect more repairs in March")]
    else:
        docs = [("a", f"{BRIDGE} Analysts expect more repairs in March\n{EN[1]}\n{copy}")]
    f = only(check_docs(docs))
    assert f.kind in ("near", "contained")
    assert (f.sentence.text, f.match.text) == (copy, BRIDGE)


def test_headline_repeated_exactly_is_reported():
    headline = "Central bank raises its main interest rate again"
    docs = [("a", f"{headline}\n{RATE}"), ("b", f"{headline}\n{EN[1]}")]
    f = only(check_docs(docs))
    assert (f.kind, f.sentence.doc, f.match.doc) == ("exact", "b", "a")


# --- settings -----------------------------------------------------------------------------------

def test_small_bucket_cap_still_links_every_copy():
    docs = [("a", " ".join([RATE, EN[1]] * 10))]
    report = Detector(bucket_cap=3).check_many(docs)
    assert report.stats["capped_buckets"] > 0 and report.stats["capped_passages"] > 0
    findings = report.findings
    assert len(findings) == 18 and all(f.kind == "exact" for f in findings)
    for sentence in (RATE, EN[1]):
        mine = [f for f in findings if f.sentence.text == sentence]
        assert len(mine) == 9
        first = min(f.match.start for f in mine)
        assert first == docs[0][1].index(sentence)
        # every copy is linked, directly or through a chain, to the first one
        linked = {first}
        for f in sorted(mine, key=lambda f: f.sentence.start):
            assert f.match.start in linked
            linked.add(f.sentence.start)


def test_workers_do_not_change_results():
    docs = [("a", " ".join([RATE, BRIDGE, EN[1], BRIDGE.replace(" old", ""), PRICES, PRICES.replace("12", "15")])),
            ("b", " ".join([AR_TAX, RATE, AR_TAX_SPELLED]))]
    assert check_docs(docs) == check_docs(docs, workers=2)


@pytest.mark.parametrize("params", [{"stopwords": False}, {"shingles": "char:5"}, {"shingles": "word:2"},
                                    {"num_perm": 64, "seed": 7}])
def test_other_sketch_settings_find_clear_copies(params):
    copy = BRIDGE.replace(" old", "")
    docs = [("a", f"{BRIDGE} {EN[1]} {RATE} {EN[2]} {copy} {RATE}")]
    kinds = sorted(f.kind for f in check_docs(docs, **params))
    assert kinds in (["exact", "near"], ["contained", "exact"])


def test_findings_of_one_passage_share_a_group_and_others_do_not():
    docs = [("a", f"{RATE}\n{BRIDGE}\n{RATE}\n{BRIDGE}\n{RATE}")]
    findings = check_docs(docs)
    groups = {}
    for f in findings:
        groups.setdefault(f.match.text, set()).add(f.group)
    assert len(findings) == 3
    assert all(len(g) == 1 for g in groups.values())
    assert groups[RATE] != groups[BRIDGE]
    assert sorted(g for gs in groups.values() for g in gs) == [0, 1]


@pytest.mark.parametrize("params", [{"threshold": 0}, {"threshold": 1.5}, {"document_threshold": -0.1},
                                    {"num_perm": 0}, {"bucket_cap": 1}])
def test_settings_out_of_range_are_refused(params):
    with pytest.raises(ValueError):
        Detector(**params)


FRAGMENT_SOURCES = [
    "The regional water authority said on Thursday that the new reservoir north of the city would open "
    "to the public next spring after years of delays.",
    "Investigators from the transport ministry found that a worn brake cable on the old mountain tram "
    "had caused the crash that injured nine passengers.",
    "A coalition of local bakers persuaded the market council to keep the Saturday square open until "
    "late evening during the summer festival season.",
]


def _middle_half(sentence: str) -> str:
    words = sentence.rstrip(".").split()
    k = len(words) // 4
    return " ".join(words[k:k + len(words) // 2]) + "."


@pytest.mark.parametrize("source", FRAGMENT_SOURCES)
def test_a_contiguous_half_of_a_sentence_in_another_document_is_found(source):
    copy = _middle_half(source)
    docs = [("a.txt", f"{source} {FILLER[0]}"), ("b.txt", f"{FILLER[1]} {copy}")]
    (finding,) = Detector().check_many(docs).findings
    assert finding.kind == "contained" and finding.scope == "corpus"
    assert finding.sentence.text == copy and finding.match.text == source


def test_the_fragment_search_is_what_finds_half_copies_and_can_be_turned_off():
    docs = []
    for k, source in enumerate(FRAGMENT_SOURCES):
        docs += [(f"src-{k}", source), (f"copy-{k}", _middle_half(source))]
    with_fragments = Detector().check_many(docs)
    without = Detector(fragment_bands=(0, 0)).check_many(docs)
    assert len(with_fragments.findings) == len(FRAGMENT_SOURCES)
    assert len(without.findings) < len(with_fragments.findings)
    assert with_fragments.stats["candidates"] >= without.stats["candidates"]
    with pytest.raises(ValueError):
        Detector(fragment_bands=(0, 2))


def test_stock_shingles_are_the_frequent_ones_and_without_drops_them():
    import numpy as np

    from dedup.detector import stock_shingles, without
    from dedup.shingle import Shingles

    common, rare = np.uint32(7), np.uint32(9)
    hashes = np.array([common] * 30 + [rare, 5, 6], dtype=np.uint32)
    blocks = [Shingles(hashes[:20], np.array([0, 10, 20])), Shingles(hashes[20:], np.array([0, 0, 10, 13]))]
    stock = stock_shingles(blocks, passages=5)
    assert stock.tolist() == [7]
    kept = [without(b, stock) for b in blocks]
    assert kept[0].hashes.tolist() == [] and kept[0].indptr.tolist() == [0, 0, 0]
    assert kept[1].hashes.tolist() == [9, 5, 6] and kept[1].indptr.tolist() == [0, 0, 0, 3]


def test_sentences_sharing_only_stock_phrases_are_few_fragment_candidates(monkeypatch):
    import dedup.detector as detector_module

    subjects = ["budget", "railway", "harbour", "library", "hospital", "airport", "museum", "bridge"]
    verbs = ["opened", "visited", "praised", "criticised", "inspected"]
    tail = " after a long morning of speeches by local business leaders and several hundred invited schoolchildren"
    docs = [(f"d{k}", f"The prime minister {verbs[k % 5]} the new {subjects[k % 8]} in district number {k} "
                      f"alongside councillor {chr(65 + k % 26)}{k}" + (tail if k % 2 else "") + ".")
            for k in range(40)]

    def fragment_candidates() -> int:
        only_main = Detector(threshold=1.0, document_threshold=None, fragment_bands=(0, 0)).check_many(docs)
        assert only_main.stats["candidates"] == 0
        return Detector(threshold=1.0, document_threshold=None).check_many(docs).stats["candidates"]

    filtered = fragment_candidates()
    monkeypatch.setattr(detector_module, "STOCK_MIN", 10**9)  # no stock phrases: every shared bigram counts
    assert filtered * 4 < fragment_candidates()


def test_a_quote_given_again_as_a_clause_of_another_sentence_is_found():
    quote = "we will rebuild every bridge that the river has taken from these valleys"
    first = f'{EN[0]} The minister said on Monday: "{quote}", before she left for the capital by train.'
    second = f'{EN[1]} Speaking at the mill, he repeated that "{quote}", as he had promised a year ago in the same town.'
    found = check_docs([("a", first), ("b", second)])
    assert [(f.kind, f.sentence.text) for f in found] == [("exact", quote)]


def test_a_clause_outside_quotation_marks_repeated_elsewhere_is_no_repeat():
    clause = "as the upper reaches of the great river are known to the people who live there"
    first = f"{EN[0]} Floods hit the Jinsha valley, {clause}, on Monday and washed away three farms near the old dam."
    second = f"{EN[1]} Tourists visit the Jinsha gorge, {clause}, every summer for its cool air and the tea houses."
    assert check_docs([("a", first), ("b", second)]) == []


def test_a_quote_repeated_inside_a_longer_sentence_of_its_document_is_contained():
    said = "the fact that a country is poor does not mean that it should be barred from the union"
    text = (f'Leaving the summit, the president said "{said}".\n\n{EN[0]}\n\n{EN[1]}\n\n'
            f'"We are stating a principle: {said} for ever," he told reporters on the plane home.')
    found = check_docs([("a", text)])
    assert [f.kind for f in found] == ["contained"]
    assert said in found[0].match.text or said in found[0].sentence.text
