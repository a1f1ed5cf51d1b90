"""Hard-wrapped plain text (`dedup.readers.wrap`): a wrapped paragraph is read as one text,
short lines of their own stay passages, unwrapped text is left alone, and wrapping a text
does not change what is found.

All prose here is written for these tests; nothing is copied from ../shared.
"""
from __future__ import annotations

import json
import random
import re
import textwrap
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import Detector, Document, normalize
from dedup.editorial import EditorialRules
from dedup.readers import read_bytes
from dedup.readers.html import read_html
from dedup.readers.markdown import read_markdown
from dedup.readers.wrap import evidence, unwrap, wrap_width
from dedup.segment import segment

from conftest import dedup_command

# --- fixtures ------------------------------------------------------------------------------------

EN_HEADLINE = "Dock workers end strike at northern port"
EN_PARAGRAPHS = [
    "SELBY (Wire) - Dock workers at the northern port of Selby ended a three day strike on Tuesday "
    "after the harbour authority agreed to raise night shift pay by eight percent, union officials said.",
    "The walkout had left more than forty container ships waiting at anchor in the bay, and freight "
    "companies warned that shelves in inland supermarkets could run short of fresh fruit before the weekend.",
    "\"We did not want to hurt the farmers or the shops, but the night crews have waited two years for a "
    "fair offer,\" said Marta Jensen, who leads the dockers' union at the port.",
    "The harbour authority said the agreement would cost about twelve million euros a year and that it "
    "expected the backlog of ships to clear within five days. A spokesman declined to say whether port "
    "fees would rise to cover the extra wages.",
    "Shipping analysts said the strike was the longest at the port since 1998, when a dispute over "
    "pensions closed the terminals for nine days.",
]
EN_STORY = "\n\n".join([EN_HEADLINE, *EN_PARAGRAPHS])

AR_HEADLINE = "افتتاح خط جديد لقطار الأنفاق في العاصمة"
AR_PARAGRAPHS = [
    "افتتحت وزارة النقل صباح الأحد خطا جديدا لقطار الأنفاق يربط وسط العاصمة بالضواحي الشرقية، بعد "
    "أعمال استمرت أكثر من أربع سنوات وتأخرت مرتين بسبب ارتفاع تكاليف البناء.",
    "وقال وزير النقل في مؤتمر صحفي إن الخط الجديد سينقل نحو مئتي ألف راكب يوميا، وإنه سيخفف الزحام "
    "في الشوارع الرئيسية التي تشهد اختناقات مرورية طويلة في ساعات الصباح.",
    "ويضم الخط اثنتي عشرة محطة، من بينها محطة قرب الجامعة وأخرى عند السوق المركزي، وتعمل القطارات "
    "من الساعة الخامسة صباحا حتى منتصف الليل طوال أيام الأسبوع.",
    "وأضاف الوزير أن سعر التذكرة لن يتغير خلال العام الأول، وأن الحكومة تدرس إنشاء خط ثالث يصل إلى "
    "المطار الدولي في جنوب البلاد.",
]
AR_STORY = "\n\n".join([AR_HEADLINE, *AR_PARAGRAPHS])


def hard_wrap(text: str, width: int, newline: str = "\n") -> str:
    """`text` (paragraphs on one line each) wrapped at `width` the way ``textwrap`` does it,
    blank lines kept."""
    lines = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, width, break_long_words=False, break_on_hyphens=False) or [""])
    return newline.join(lines)


def passages(doc: Document) -> list[str]:
    """The passages the engine reads in `doc` (sentences, not clauses), as written."""
    return [doc.text[p.start:p.end] for p in segment(doc.prose) if not p.is_clause]


def plain(text: str, name: str = "story.txt") -> Document:
    [doc] = read_bytes(name, text.encode("utf-8"))
    return doc


# --- unwrapping -----------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [40, 45, 52, 60, 66, 70, 72, 76, 78, 80, 90, 100])
@pytest.mark.parametrize("story", [EN_STORY, AR_STORY], ids=["english", "arabic"])
def test_a_wrapped_story_reads_as_written_before_wrapping(story, width):
    wrapped = hard_wrap(story, width)
    assert wrapped.count("\n") >= story.count("\n") + 4  # it really is wrapped: each paragraph at least once
    assert unwrap(wrapped) == story  # every wrap a space again, every blank line kept
    assert wrap_width(wrapped) in range(width - 3, width + 1)


def test_a_wrapped_wire_story_gives_whole_sentences():
    wrapped = hard_wrap(EN_STORY, 70)
    doc = plain(wrapped)
    assert doc.analysis == EN_STORY
    found = [normalize(p) for p in passages(doc)]
    assert found == [normalize(p) for p in passages(Document("x", EN_STORY))]
    assert normalize("A spokesman declined to say whether port fees would rise to cover the extra wages.") in found
    heading = segment(doc.prose)[0]
    assert heading.heading and doc.text[heading.start:heading.end] == EN_HEADLINE


def test_crlf_line_ends():
    wrapped = hard_wrap(EN_STORY, 64, newline="\r\n")
    analysis = unwrap(wrapped)
    assert analysis is not None and len(analysis) == len(wrapped)
    # each CRLF wrap is two spaces; the blank lines between paragraphs keep their CRLFs
    assert [re.sub("  ", " ", line) for line in analysis.split("\r\n")] == EN_STORY.split("\n")
    doc = plain(wrapped)
    assert [normalize(p) for p in passages(doc)] == [normalize(p) for p in passages(Document("x", EN_STORY))]
    arabic = hard_wrap(AR_STORY, 58, newline="\r\n")
    assert [re.sub("  ", " ", line) for line in unwrap(arabic).split("\r\n")] == AR_STORY.split("\n")


def test_a_hyphen_at_a_wrap_joins_the_word():
    story = EN_STORY.replace("three day strike", "three-day strike").replace("night shift", "night-shift")
    hyphen_wraps = 0
    for width in range(40, 81):
        wrapped = "\n".join(textwrap.fill(p, width, break_on_hyphens=True) for p in story.split("\n"))
        analysis = unwrap(wrapped)
        assert analysis.replace("\u200b", "") == story  # a zero-width space where "-\n" was, else a space
        assert analysis.count("\u200b") == len(re.findall(r"[a-z]-\n[a-z]", wrapped))
        assert normalize(analysis) == normalize(story)
        hyphen_wraps += analysis.count("\u200b")
    assert hyphen_wraps > 0


# --- what stays a passage -------------------------------------------------------------------------

FLOOD_A = ("Heavy rain flooded roads across the northern valley on Sunday, cutting off at least twelve "
           "villages and forcing hundreds of families to leave their homes before the river burst its banks.")
FLOOD_B = ("Officials said the water had reached the ground floor of the district hospital, where "
           "doctors moved patients to the upper wards overnight. The ministry listed its first steps:")
FLOOD_C = ("Engineers expect the river to fall by Wednesday if the rain stops, but forecasters warned "
           "that another storm could reach the valley at the end of the week.")
CAPTION = "Photo: Rescue workers carry sandbags on a road"
BULLETS = ["- Open three shelters in the valley towns",
           "- Send water pumps to the flooded farms",
           "- Close the old bridge until engineers inspect it"]
STRUCTURED = "\n".join([
    "Storm floods valley roads",
    "By Jane Doe",
    "CAIRO (Wire) -",
    *textwrap.wrap(FLOOD_A, 66),
    CAPTION,
    *textwrap.wrap(FLOOD_B, 66),
    *BULLETS,
    *textwrap.wrap(FLOOD_C, 66),
])


def test_headline_byline_dateline_caption_and_list_stay_passages():
    doc = plain(STRUCTURED)
    assert doc.analysis is not None
    found = passages(doc)
    for unit in ["Storm floods valley roads", "By Jane Doe", "CAIRO (Wire) -", CAPTION, *BULLETS]:
        assert unit in found, unit
    for paragraph in (FLOOD_A, FLOOD_B, FLOOD_C):  # and the wrapped paragraphs are whole sentences
        for sentence in re.split(r"(?<=[.:])\s+", paragraph):
            assert normalize(sentence) in [normalize(p) for p in found], sentence
    first = segment(doc.prose)[0]
    assert first.heading and doc.text[first.start:first.end] == "Storm floods valley roads"
    # the short lines keep their line breaks
    lines = doc.analysis.split("\n")
    for unit in ["Storm floods valley roads", "By Jane Doe", "CAIRO (Wire) -", *BULLETS]:
        assert unit in lines, unit


def test_list_items_with_hanging_indent_and_quoted_mail():
    item = ("Open three shelters in the valley towns and a fourth one in the capital for the families who lost "
            "their homes")
    items = textwrap.wrap(item, 78, initial_indent="- ", subsequent_indent="  ") + ["- Send water pumps to the farms"]
    assert len(items) == 3
    text = hard_wrap(EN_STORY, 78) + "\n\n" + "\n".join(items)
    analysis = unwrap(text)
    assert analysis.split("\n")[-2:] == [" ".join(items[:2]), items[2]]
    quoted = "\n".join("> " + line for line in hard_wrap(EN_STORY, 70).split("\n"))
    analysis = unwrap(quoted)
    assert analysis is not None and len(analysis) == len(quoted)
    assert [" ".join(line.replace(">", " ").split()) for line in analysis.split("\n") if line.strip(" >")] == \
        EN_STORY.replace("\n\n", "\n").split("\n")


def test_indented_paragraphs():
    paragraphs = [textwrap.fill(p, 70, initial_indent="    ") for p in EN_PARAGRAPHS]
    text = EN_HEADLINE + "\n" + "\n".join(paragraphs)  # paragraphs marked by indentation only
    analysis = unwrap(text)
    assert [" ".join(line.split()) for line in analysis.split("\n")] == [EN_HEADLINE, *EN_PARAGRAPHS]


# --- what is left alone ---------------------------------------------------------------------------

HEADLINES = [
    "Port strike ends after pay deal with union",
    "Valley towns count the cost of spring floods",
    "Railway bridge reopens two weeks ahead of plan",
    "City council approves budget for new libraries",
    "Farmers expect record wheat harvest this year",
    "Museum opens show of medieval maps and globes",
    "Central bank raises rates to fight inflation",
    "Volunteers plant oak trees along the riverbank",
    "Hospital adds beds as winter flu cases climb",
    "Ferry service to the islands resumes on Monday",
    "iPod sales lift profits at the music firm again",  # a name in lowercase is no continuation
    "What next for the valley towns after the floods?",
]


@pytest.mark.parametrize("text", [
    EN_STORY,  # paragraphs on one line each, blank lines between
    EN_STORY.replace("\n\n", "\n"),  # one paragraph per line, no blank lines
    "\n".join(re.split(r"(?<=[.])\s+", " ".join(EN_PARAGRAPHS))),  # one sentence per line
    "\n".join(HEADLINES),  # a list of headlines of like length
    AR_STORY.replace("\n\n", "\n"),
    "\n".join(AR_PARAGRAPHS[0].split("، ")),  # Arabic clauses, one per line
    "Short line\nanother short line\n",
    "",
    "one line only, however long it may be " * 20,
], ids=["paragraphs", "paragraph-per-line", "sentence-per-line", "headlines", "arabic", "arabic-clauses",
        "short-lines", "empty", "one-line"])
def test_unwrapped_text_is_left_alone(text):
    assert unwrap(text) is None
    assert plain(text).analysis is None


def test_markdown_and_html_are_not_unwrapped_again():
    wrapped = hard_wrap(EN_STORY, 70)
    assert plain(wrapped, "story.md") == read_markdown("story.md", wrapped)
    page = "<p>" + hard_wrap(EN_PARAGRAPHS[0], 60) + "</p>"
    assert plain(page, "story.html") == read_html("story.html", page)


def test_records_are_unwrapped_each_on_its_own():
    wrapped, flat = hard_wrap(EN_STORY, 70), AR_STORY
    jsonl = "\n".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in (("w", wrapped), ("f", flat)))
    docs = list(read_bytes("news.jsonl", jsonl.encode()))
    assert [(d.id, d.analysis) for d in docs] == [("w", EN_STORY), ("f", None)]
    csv_text = 'id,text\nw,"' + wrapped.replace('"', '""') + '"\nf,"' + flat + '"\n'
    docs = list(read_bytes("news.csv", csv_text.encode()))
    assert [(d.id, d.analysis) for d in docs] == [("w", EN_STORY), ("f", None)]


# --- findings: wrapping does not change them ------------------------------------------------------

WORDS = """council budget harbour railway museum valley farmers engineers volunteers minister report market
prices workers union contract bridge station river village school hospital doctors patients library
festival season visitors tourists weather storm rain flood road traffic police court judge lawyer company
shares profit loss bank loan interest inflation export factory plant energy power grid water supply rent
house family children teacher student exam result team match coach player goal league title final crowd
stadium city town region province border army general election vote party leader campaign poll said told
asked agreed refused planned announced reported warned expected rejected approved opened closed built
repaired raised cut moved signed won lost began ended visited returned new old large small local national
public private early late strong weak busy quiet after before during under over across near through
against without within since the a an of to in on at by for from with and or but that this its their his
her three four five several many most few two seven nine twelve hundred thousand million""".split()
NEAR_WORD = "volcano"  # in no generated sentence


ENDINGS = [w for w in WORDS if len(w) > 3]  # a sentence ends on no word the segmenter could take for an initial


def _sentence(rng: random.Random, low: int = 8, high: int = 22) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high) - 1)] + [rng.choice(ENDINGS)]
    if len(words) > 12 and rng.random() < 0.5:
        words[len(words) // 2] += ","
    return " ".join(words).capitalize() + rng.choice(".....?")


def _articles(seed: int, separators: tuple[str, ...] = ("\n\n", "\n")) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """A few generated articles (a headline, paragraphs of sentences) with planted repeats: a
    sentence copied within the first article, one copied into the second, and a near copy
    (one word changed) of a third in the second."""
    rng = random.Random(seed)
    planted = {name: _sentence(rng, 12, 20) for name in ("exact", "corpus", "near")}
    words = planted["near"][:-1].split()
    words[len(words) // 2] = NEAR_WORD
    planted["near copy"] = " ".join(words) + planted["near"][-1]
    articles = []
    for number in range(rng.randint(2, 3)):
        paragraphs = [[_sentence(rng) for _ in range(rng.randint(1, 5))] for _ in range(rng.randint(3, 6))]
        if number == 0:
            paragraphs[0].insert(rng.randint(0, len(paragraphs[0])), planted["exact"])
            paragraphs[-1].insert(rng.randint(0, len(paragraphs[-1])), planted["exact"])
            paragraphs[1].insert(rng.randint(0, len(paragraphs[1])), planted["corpus"])
            paragraphs[2].insert(rng.randint(0, len(paragraphs[2])), planted["near"])
        elif number == 1:
            paragraphs[rng.randrange(len(paragraphs))].insert(0, planted["corpus"])
            paragraphs[-1].append(planted["near copy"])
        headline = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 6))).capitalize()
        separator = rng.choice(separators)  # paragraphs apart by a blank line, or only by a line break
        body = separator.join(" ".join(p) for p in paragraphs)
        articles.append((f"article-{number}.txt", f"{headline}\n\n{body}"))
    return articles, planted


# The standfirst rule is off here (an overlap above 1 is never reached): the generated words come
# from a small vocabulary, so a first paragraph now and then "restates" the lead by chance (and
# takes the planted copy with it), and where paragraphs are apart by a line break only, a wrapped
# paragraph whose last line is full runs on into the next one, which moves the standfirst: that is
# layout, which a hard-wrapped text without blank lines cannot tell, not wrapping. The default
# rules are held to the same property where paragraphs stand apart (`test_..._default_rules`).
DETECTOR = Detector(editorial=EditorialRules(standfirst_overlap=2.0, retold_sentences=1 << 30))  # planted copies
DEFAULT_DETECTOR = Detector()


def _findings(docs: list[Document], detector: Detector = DETECTOR) -> list[tuple[str, str, str, str]]:
    report = detector.check_many(docs)
    texts = {d.id: d.text for d in docs}
    for f in report.findings:  # offsets point into the text as written
        for span in (f.sentence, f.match):
            assert texts[span.doc][span.start:span.end] == span.text
    return sorted((f.kind, f.scope, normalize(f.sentence.text), normalize(f.match.text)) for f in report.findings)


def _same_findings_when_wrapped(seed: int, width: int, newline: str = "\n") -> None:
    articles, planted = _articles(seed)
    flat = _findings([Document(name, text) for name, text in articles])
    wrapped = _findings([plain(hard_wrap(text, width, newline), name) for name, text in articles])
    exact = "exact"
    if newline == "\r\n":  # a passage across a CRLF wrap has two spaces there: equal after normalization
        exact = "identical"
        flat = sorted(("identical" if k in ("exact", "normalized") else k, *rest) for k, *rest in flat)
        wrapped = sorted(("identical" if k in ("exact", "normalized") else k, *rest) for k, *rest in wrapped)
    assert wrapped == flat
    # the planted repeats are real findings, found in both forms
    found = {(kind, scope, sentence) for kind, scope, sentence, _ in wrapped}
    assert (exact, "document", normalize(planted["exact"])) in found
    assert (exact, "corpus", normalize(planted["corpus"])) in found
    assert ("near", "corpus", normalize(planted["near copy"])) in found


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_wrapping_at_70_columns_changes_no_finding(seed):
    _same_findings_when_wrapped(seed, 70)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), width=st.integers(45, 100))
def test_wrapping_at_any_width_changes_no_finding(seed, width):
    _same_findings_when_wrapped(seed, width)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), width=st.integers(45, 100))
def test_wrapping_changes_no_finding_with_the_default_rules(seed, width):
    """With every editorial rule on, paragraphs apart by blank lines: same findings wrapped or not."""
    articles, _ = _articles(seed, separators=("\n\n",))
    flat = _findings([Document(name, text) for name, text in articles], DEFAULT_DETECTOR)
    wrapped = _findings([plain(hard_wrap(text, width), name) for name, text in articles], DEFAULT_DETECTOR)
    assert wrapped == flat


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), width=st.integers(45, 100))
def test_wrapping_with_crlf_changes_no_finding(seed, width):
    _same_findings_when_wrapped(seed, width, "\r\n")


def test_the_cli_finds_a_repeat_across_wraps_at_the_lines_of_the_file(tmp_path):
    import subprocess

    sentence = "Volunteers planted three thousand oak saplings along the riverbank during the spring festival."
    story = (f"{EN_STORY}\n\n{sentence} Officials declined to comment further.\n\n"
             f"Nothing else was announced. {sentence}")
    wrapped = hard_wrap(story, 44)
    (tmp_path / "story.txt").write_text(wrapped, encoding="utf-8")
    proc = subprocess.run([*dedup_command(), "check", "story.txt", "--format", "json"], cwd=tmp_path,
                          capture_output=True, timeout=60)
    report = json.loads(proc.stdout)
    exact = [f for f in report["findings"]
             if f["kind"] == "exact" and normalize(f["sentence"]["text"]) == normalize(sentence)]
    assert len(exact) == 1, report["findings"]
    for span in (exact[0]["sentence"], exact[0]["match"]):
        assert wrapped[span["start"]:span["end"]] == span["text"]
        assert "\n" in span["text"]  # it runs over a wrap in the file
        assert span["line"] == wrapped.count("\n", 0, span["start"]) + 1


# --- robustness -----------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["\n", "\r\n", "\r", "\n\n", " ", "> ", "- ", "1. ", "the ", "word ",
                                           "Headline", ".", ",", "-", "\u00a0", "\u2028", "\t", "  "]),
                          st.text(max_size=12)), max_size=80),
       st.integers(20, 90))
def test_unwrap_only_turns_wraps_into_blanks(pieces, width):
    text = "".join(pieces)
    for candidate in (text, hard_wrap(text.replace("\r", ""), width)):
        analysis = unwrap(candidate)
        if analysis is None:
            continue
        assert len(analysis) == len(candidate)
        for a, s in zip(analysis, candidate):
            assert a == s or (s in "\r\n\x85\u2028" and a in " \u200b") or (s == ">" and a == " "), (a, s)


ADVERSARIAL = {
    "one long line": lambda n: "word " * (n // 5),
    "one long token": lambda n: "x" * n + "\ny",
    "many short lines": lambda n: "a b\n" * (n // 4),
    "wrapped prose": lambda n: hard_wrap(EN_STORY, 70) * (n // len(EN_STORY)),
    "quote markers": lambda n: ("> " * 30 + "text of the line\n") * (n // 77),
    "blank runs": lambda n: ("x" + " " * 40 + "\n") * (n // 42),
    "list markers": lambda n: "- 1. (a) # item\n" * (n // 16),
}


def _seconds(text: str) -> float:
    started = time.perf_counter()
    unwrap(text)
    return time.perf_counter() - started


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_unwrap_takes_linear_time(name):
    """Eight times the input may take at most ~30 times as long (quadratic would be 64)."""
    make = ADVERSARIAL[name]
    small = min(_seconds(make(25_000)) for _ in range(3))
    large = _seconds(make(200_000))
    assert large < 30 * max(small, 0.005)


def test_evidence_of_a_wrapped_story():
    found = evidence(hard_wrap(EN_STORY, 70))
    assert found is not None and found.wrapped() and found.width == 70 and not found.ragged
    assert evidence(EN_STORY) is None  # no line follows another in a block


def test_a_copy_wrapped_differently_is_still_exact():
    sentence = ("The regional council voted on Thursday to rebuild the harbour wall that the winter "
                "storms had broken in three places along the northern quay.")
    wrapped = textwrap.fill(sentence, 60)
    docs = [("a.txt", f"Harbour wall\n\n{sentence}\n"), ("b.txt", f"Council vote\n\n{wrapped}\n")]
    from dedup.readers import read_bytes
    documents = [d for name, text in docs for d in read_bytes(name, text.encode())]
    found = Detector().check_many(documents).findings
    assert [f.kind for f in found] == ["exact"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(1, 14), st.booleans()), min_size=1, max_size=25),
       st.integers(0, 2**31))
def test_quick_exit_only_skips_texts_that_are_not_wrapped(shape, seed):
    """`_cannot_fit` is a bound: where it says no, the full reading says no too."""
    from dedup.readers.wrap import _cannot_fit, evidence
    rng = random.Random(seed)
    words = ["the", "of", "market", "said", "في", "من", "الحكومة", "a" * 30, "rose", "3.5%", "minister"]
    lines = []
    for count, length, final in shape:
        line = " ".join(rng.choice(words) for _ in range(count))[: length * 20]
        lines.append(line + ("." if final else ""))
    text = "\n".join(lines)
    if _cannot_fit(text):
        found = evidence(text)
        assert found is None or not found.wrapped()


@settings(max_examples=200, deadline=None)
@given(st.integers(30, 200), st.integers(1, 6), st.integers(0, 2**31))
def test_quick_exit_never_skips_a_wrapped_text(width, paragraphs, seed):
    from dedup.readers.wrap import _cannot_fit, evidence
    rng = random.Random(seed)
    words = ["the", "council", "said", "on", "Monday", "that", "its", "budget", "would", "rise", "by", "3.5%",
             "في", "الحكومة", "قالت", "إن", "الميزانية", "ستزيد", "of", "and", "minister", "a"]
    text = "\n\n".join(textwrap.fill(" ".join(rng.choice(words) for _ in range(rng.randint(20, 120))) + ".", width)
                       for _ in range(paragraphs))
    found = evidence(text)
    if found is not None and found.wrapped():
        assert not _cannot_fit(text)
