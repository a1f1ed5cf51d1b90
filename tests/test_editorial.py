"""The editorial stage: repeats that real news makes by design are left out (or, for structural
ones, reported at info severity on request), while real repeats stay reported.

All prose here is written for these tests; nothing is copied from ../shared.
"""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dedup import Detector
from dedup.model import Document
from dedup.verify import Thresholds
from dedup.editorial import DATELINE, EditorialRules, _in_families
from dedup.formats import FormatContext, get_formatter

from conftest import EN, dedup_command

PROMO = "Download our app and get alerts on the stories that matter to you, wherever you are."
STORIES = [
    "The city council voted on Monday to close the old tram depot and turn it into a public park.",
    "Farmers in the northern valley expect a record wheat harvest after an unusually wet spring.",
    "The national orchestra will tour six countries next year, its director told reporters.",
    "A new ferry route between the two islands will open in June, the transport ministry said.",
    "Researchers found that the river's fish stocks have doubled since the dam was removed.",
    "The airport will add a second runway by 2030 to cope with the growth in passenger numbers.",
    "Teachers at three secondary schools walked out over pay on Wednesday morning.",
]
OTHERS = ["The museum reopened its west gallery after two years of restoration work on the roof.",
          "A cyclist set a new record for the coastal route, finishing in under nine hours."]
CARRIED = "The hospital's new cancer wing, built at a cost of forty million pounds, treated its first patients in March."


def kinds(report):
    return sorted((f.kind, f.sentence.doc, f.match.doc) for f in report.findings)


# --- boilerplate learned from the run -------------------------------------------------------

def test_a_line_in_many_documents_of_the_run_is_boilerplate_counted_once():
    docs = [(f"d{i}", f"{STORIES[i]}\n\n{PROMO}") for i in range(6)]
    docs.append(("d6", f"{OTHERS[0]} {CARRIED}"))
    docs.append(("d7", f"{OTHERS[1]} {CARRIED}"))
    report = Detector().check_many(docs)
    assert kinds(report) == [("exact", "d7", "d6")]  # the carry-over, not 5 copies of the promo
    stats = report.stats["boilerplate"]
    assert stats["texts"] == 1 and stats["passages"] == 6
    assert stats["most_common"] == [{"text": PROMO, "documents": 6}]
    assert report.stats["left_out"]["boilerplate"] >= 5


def test_a_line_in_fewer_documents_than_the_limit_is_a_repeat():
    docs = [(f"d{i}", f"{STORIES[i]}\n\n{PROMO}") for i in range(3)]
    report = Detector().check_many(docs)
    assert len(report.findings) == 2 and report.stats["boilerplate"]["texts"] == 0
    stricter = Detector(editorial=EditorialRules(boilerplate_documents=3)).check_many(docs)
    assert stricter.findings == []


@settings(max_examples=20, deadline=None)
@given(st.permutations(range(8)))
def test_boilerplate_does_not_depend_on_document_order(order):
    docs = [(f"d{i}", f"{STORIES[i % 7]}\n\n{PROMO}" if i < 6 else f"{OTHERS[i - 6]} {CARRIED}") for i in range(8)]
    def pairs(report):
        return sorted((f.kind, frozenset((f.sentence.doc, f.match.doc))) for f in report.findings)
    expected = pairs(Detector().check_many(docs))
    assert len(expected) == 1
    assert pairs(Detector().check_many([docs[i] for i in order])) == expected


# --- structural repeats inside one article ---------------------------------------------------

STANDFIRST_ARTICLE = """Flooding cuts off three villages in the valley

Floods cut off three villages in the Sadr valley on Sunday after a night of heavy rain. Civil defence teams evacuated 350 families from low-lying areas on Sunday.

Three villages in the Sadr valley were cut off by floods on Sunday after heavy rain fell through the night, officials said.

The water in the riverbed rose by three metres within a few hours, the head of the civil defence said. Rescue teams pulled three people from a car stranded on an old bridge.

Civil defence teams evacuated 350 families from the low-lying areas to schools and temporary shelters.

Schools in the area will stay closed on Monday, the governor said."""


def test_standfirst_restated_in_the_body_is_structural():
    detector = Detector()
    report = detector.check_many([("a.txt", STANDFIRST_ARTICLE)])
    assert report.findings == []
    assert report.stats["left_out"]["structural"] >= 1
    on_request = Detector(editorial=EditorialRules(report_structural=True)).check_many([("a.txt", STANDFIRST_ARTICLE)])
    assert on_request.findings and all(f.structural for f in on_request.findings)
    assert all(f.to_dict()["structural"] is True for f in on_request.findings)


def test_a_standfirst_sentence_carried_word_for_word_into_the_body_is_structural():
    """A house that writes its chapeau from the body's sentences repeats them verbatim."""
    sentence = "Civil defence teams evacuated 350 families from low-lying areas on Sunday."
    text = STANDFIRST_ARTICLE.replace(
        "Civil defence teams evacuated 350 families from the low-lying areas to schools and temporary shelters.",
        sentence)
    report = Detector().check_many([("a.txt", text)])
    assert report.findings == []
    assert report.stats["left_out"]["structural"] >= 1
    elsewhere = text.replace("Floods cut off three villages in the Sadr valley on Sunday after a night of heavy rain. "
                             + sentence, "A body sentence stands in for the lead here and says something else.")
    copied = elsewhere.replace("Schools in the area will stay closed on Monday, the governor said.",
                               "The water in the riverbed rose by three metres within a few hours, the head of the "
                               "civil defence said.")
    assert [f.kind for f in Detector().check_many([("b.txt", copied)]).findings] == ["exact"]


def test_a_repeat_of_a_lead_that_summarizes_nothing_is_reported():
    """Without a lead restating it, the first paragraph is just the story's opening: a later
    copy of its sentence is a repeat."""
    text = STANDFIRST_ARTICLE.replace(
        "Three villages in the Sadr valley were cut off by floods on Sunday after heavy rain fell through the night, "
        "officials said.", "The governor visited the area on Monday and promised compensation to every farmer.")
    report = Detector().check_many([("a.txt", text)])
    assert [f.kind for f in report.findings] in (["near"], ["contained"])
    assert not report.findings[0].structural


CHAPEAU_ARTICLE = """Port workers end strike after pay deal

Dock workers at the northern port ended a nine-day strike on Friday after the operator agreed to raise wages by six percent. Shipping companies said the backlog of containers would take two weeks to clear.

The union had called the strike in early March over pay and the length of night shifts.

Members voted on Thursday evening, and the dock workers at the northern port ended the nine-day strike on Friday after the operator agreed to raise their wages by six percent.

Cranes were moving again by noon, a spokesman for the port authority said.

Several shipping companies said the backlog of containers in the yards would take two weeks to clear."""


def test_a_first_paragraph_whose_sentences_are_each_retold_below_is_a_summary():
    """The lead goes on with the story, but two sentences of the first paragraph are each
    retold further down: a chapeau by design. One sentence retold is a repeat."""
    report = Detector().check_many([("a.txt", CHAPEAU_ARTICLE)])
    assert report.findings == [] and report.stats["left_out"]["structural"] == 2
    on_request = Detector(editorial=EditorialRules(report_structural=True)).check_many([("a.txt", CHAPEAU_ARTICLE)])
    assert len(on_request.findings) == 2 and all(f.structural for f in on_request.findings)
    once = CHAPEAU_ARTICLE.replace("Several shipping companies said the backlog of containers in the yards would "
                                   "take two weeks to clear.", "The port handles a fifth of the country's imports.")
    found = Detector().check_many([("b.txt", once)]).findings
    assert [f.kind for f in found] in (["near"], ["contained"]) and not found[0].structural
    strict = Detector(editorial=EditorialRules(retold_sentences=3)).check_many([("a.txt", CHAPEAU_ARTICLE)])
    assert len(strict.findings) == 2  # the rule, not another one, leaves them out


def test_a_summary_sentence_retold_in_other_words_counts_once_another_is_repeated():
    """The body retells a chapeau in its own words: once one of its sentences is repeated, a
    later sentence holding enough of another one's content words retells that one too."""
    loose = CHAPEAU_ARTICLE.replace(
        "Several shipping companies said the backlog of containers in the yards would take two weeks to clear.",
        "Clearing the backlog will take the shipping companies at least two more weeks, analysts estimate.")
    report = Detector().check_many([("a.txt", loose)])
    assert report.findings == [] and report.stats["left_out"]["structural"] == 1
    strict = Detector(editorial=EditorialRules(summary_overlap=1.0)).check_many([("a.txt", loose)])
    assert [f.structural for f in strict.findings] == [False]  # a repeat when only that one is retold
    retelling = loose.index("Clearing the backlog")
    ignored = Document("a.txt", loose, ignored=((retelling, retelling + 20),))
    found = Detector().check_many([ignored]).findings
    assert [f.structural for f in found] == [False]  # a passage the author excluded is no evidence


def test_structural_findings_are_info_in_every_format_and_do_not_fail_the_run(tmp_path):
    report = Detector(editorial=EditorialRules(report_structural=True)).check_many([("a.txt", STANDFIRST_ARTICLE)])
    ctx = FormatContext({"a.txt": STANDFIRST_ARTICLE})
    assert {ctx.level(f) for f in report.findings} == {"info"}
    path = tmp_path / "a.txt"
    path.write_text(STANDFIRST_ARTICLE, encoding="utf-8")
    run = subprocess.run([*dedup_command(), "check", str(path), "--isolated", "--structural", "info",
                          "--format", "json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr  # info is below the default fail-on (warning)
    assert all(f["structural"] for f in json.loads(run.stdout)["findings"])
    sarif = get_formatter("sarif")
    from io import StringIO
    out = StringIO()
    sarif.write(report, out, ctx)
    assert {r["level"] for r in json.loads(out.getvalue())["runs"][0]["results"]} == {"note"}
    default = subprocess.run([*dedup_command(), "check", str(path), "--isolated"], capture_output=True, text=True)
    assert default.returncode == 0 and default.stdout == ""


def test_pull_quote_lifted_from_a_quotation_is_structural():
    text = ("Musician returns to the camp where he grew up\n\n"
            "The pianist played in the ruins of the camp where his father had taught him, "
            "and spoke of the years of the siege.\n\n"
            '"Nobody here knows who Mozart is"\n\n'
            'He remembers shouting at his father one evening: "Nobody here knows who Mozart is, '
            'so why should I practise?"\n\nHe left the country two years later.')
    assert Detector().check(text, "a.txt") == []


def test_summary_with_a_quoted_fragment_then_the_full_quote_is_structural():
    text = ("Union warns over pension plan\n\n"
            'The union leader said the plan would leave nurses "paying more for less" in retirement.\n\n'
            "He spoke at the union's annual conference in the city on Tuesday afternoon.\n\n"
            '"This plan would leave nurses paying more for less in retirement, and we will fight it," he said.')
    assert Detector().check(text, "a.txt") == []


def test_the_same_quote_given_twice_is_still_reported():
    quote = '"We will rebuild every home that the storm destroyed, whatever it costs," the minister said.'
    text = (f"Storm damage\n\nThe storm destroyed 200 homes on the coast. {quote}\n\n"
            f"Aid arrived on Friday. {EN[0]}\n\n{quote}")
    assert [f.kind for f in Detector().check(text, "a.txt")] == ["exact"]


# --- templates -------------------------------------------------------------------------------

def test_a_frame_filled_with_three_sets_of_facts_is_a_template():
    fixtures = ("Group B fixtures\n\n"
                "Ireland v Cyprus; France v Israel; Switzerland v Faroe Islands.\n"
                "Switzerland v Ireland; Israel v Cyprus; Faroe Islands v France.\n"
                "Ireland v France; Cyprus v Switzerland; Faroe Islands v Israel.\n"
                "Israel v Ireland; Switzerland v Cyprus; France v Faroe Islands.\n")
    report = Detector(editorial=EditorialRules(report_structural=True)).check_many([("f.txt", fixtures)])
    assert report.findings == []
    assert set(report.stats["left_out"]) == {"template"}
    two = Detector().check_many([("f.txt", "\n".join(fixtures.splitlines()[:4]))])
    assert [f.kind for f in two.findings] == ["near"]  # one frame, two fillings: not a template yet


def test_template_families_count_different_texts_not_copies():
    left = np.array([0, 1, 3])
    right = np.array([1, 2, 4])
    same = np.array([7, 7, 9], dtype=np.uint64)
    linked = np.ones(3, dtype=bool)
    # sentences 0, 1, 2 linked in a chain but holding two texts: copies, not a template
    assert not _in_families(left, right, same, np.array([8, 7, 9], dtype=np.uint64), linked, 3).any()
    assert _in_families(left, right, np.array([1, 2, 9], dtype=np.uint64), np.array([2, 3, 9], dtype=np.uint64),
                        linked, 3).tolist() == [True, True, False]


# --- teasers -----------------------------------------------------------------------------------

TEASED = ("The port authority said on Tuesday that container traffic through the harbour fell by a fifth "
          "in the first half of the year because of the strike.")


def test_another_story_s_lead_less_its_dateline_is_a_teaser():
    lead_story = f"Harbour traffic falls\n\nROTTERDAM (Newswire) - {TEASED}\n\n{STORIES[0]}\n\n{STORIES[1]}"
    page = (f"Orchestra plans tour\n\n{STORIES[2]}\n\n{STORIES[3]}\n\n{STORIES[4]}\n\n"
            f"{TEASED}\n\n{STORIES[5]}")
    report = Detector().check_many([("port", lead_story), ("page", page)])
    assert report.findings == []
    assert report.stats["left_out"]["teaser"] >= 1


def test_a_carried_over_lead_in_the_story_itself_is_still_reported():
    lead_story = f"Harbour traffic falls\n\n{TEASED}\n\n{STORIES[0]}\n\n{STORIES[1]}"  # no dateline
    follow_up = f"Strike ends\n\n{STORIES[2]}\n\n{TEASED}\n\n{STORIES[4]}"
    assert [f.kind for f in Detector().check_many([("port", lead_story), ("next", follow_up)]).findings] == ["exact"]


def test_dateline_pattern():
    assert DATELINE.match("LONDON (Reuters) - Shares fell")
    assert DATELINE.match("دبي، الإمارات العربية المتحدة (CNN)— قال")
    assert not DATELINE.match("Shares fell (sharply) on Monday")


def test_a_preview_cut_off_with_an_ellipsis_is_a_teaser():
    statement = ("The football federation confirmed its full support for the board member and praised his "
                 "long service to the national team over two decades.")
    text = (f"Federation backs board member\n\nThe federation published a statement on its page: \"{statement}\"\n\n"
            f"{STORIES[0]}\n\nFederation statement: The football federation confirmed its full support for the board "
            f"member and praised...")
    assert Detector().check(text, "a.txt") == []


# --- short passages ---------------------------------------------------------------------------

def test_a_timeline_date_recurring_is_left_out_but_a_doubled_caption_line_is_found():
    timeline = f"Timeline\n\n13 October\n{STORIES[0]}\n\n14 October\n{STORIES[1]}\n\n13 October\n{STORIES[2]}"
    assert Detector().check(timeline, "t.txt") == []
    caption = f"Storm hits coast\n\nPhoto: Jane Roe\nPhoto: Jane Roe\n\n{STORIES[3]}"
    found = Detector().check(caption, "c.txt")
    assert [(f.kind, f.match.line, f.sentence.line) for f in found] == [("exact", 3, 4)]


def test_two_short_sentences_a_word_apart_inside_one_article_are_two_statements():
    text = (f"Clinics ask for rules\n\n{STORIES[0]} Patients are saying they want clear rules.\n\n"
            f"{STORIES[1]}\n\n{STORIES[2]} Doctors are saying they want clear rules.")
    assert Detector().check(text, "a.txt") == []
    loose = Detector(editorial=EditorialRules(statement_words=0)).check(text, "a.txt")
    assert [f.kind for f in loose] == ["near"]  # the rule, not the matching, leaves them out
    longer = text.replace("want clear rules", "want clear rules on the new waiting lists")
    assert [f.kind for f in Detector().check(longer, "b.txt")] == ["near"]  # a longer sentence: a hasty copy


# --- labels and kinds -----------------------------------------------------------------------------

def test_a_reworded_or_recurring_intertitle_is_left_out_but_a_doubled_one_is_found():
    body = "Farmers in the northern valley expect a record wheat harvest after an unusually wet spring."
    label = "Record wheat harvest expected in the northern valley"
    text = (f"Storm hits coast\n\n{body}\n\nThe city council voted on Monday to close the old tram depot.\n\n"
            f"{label}\n\nTeachers at three schools walked out over pay.")
    assert [f.kind for f in Detector(editorial=EditorialRules(label_words=0)).check(text, "a.txt")] == ["near"]
    report = Detector().check_many([("a.txt", text)])
    assert report.findings == [] and report.stats["left_out"] == {"label": 1}
    recurring = f"Storm hits coast\n\n{label}\n\n{body}\n\n{label}\n\n{STORIES[0]}"
    assert Detector().check(recurring, "b.txt") == []  # a label that recurs, like "Winners meet in final"
    doubled = f"Storm hits coast\n\n{body}\n\n{label}\n{label}\n\n{STORIES[0]}"
    assert [f.kind for f in Detector().check(doubled, "c.txt")] == ["exact"]


@pytest.mark.parametrize("short, long", [
    ("Mr Khodorkovsky is now in jail on separate fraud charges.",
     "Yukos claims that it is being punished for the political ambitions of its founder, Mikhail Khodorkovsky, "
     "who is now in jail facing separate fraud charges."),
    ("The company is releasing tools that clean up PCs harbouring viruses and spyware.",
     "The company announced earlier in January that it was releasing security tools to clean up PCs harbouring "
     "viruses and spyware, which 90% of PCs are infected with."),
])
def test_a_short_sentence_whose_facts_stand_inside_a_long_one_is_contained(short, long):
    docs = [("a", f"{STORIES[0]} {long}"), ("b", f"{STORIES[1]} {short}")]
    found = Detector().check_many(docs).findings
    assert [(f.kind, f.sentence.text) for f in found] == [("contained", short)]
    without = Detector(verify=Thresholds(contained_inside_length=0)).check_many(docs).findings
    assert [f.kind for f in without] == ["near"]  # the rule, not the verbatim containment, makes it contained


def test_a_line_up_recurring_in_two_match_reports_is_no_repeat():
    line_up = "Replacements: Sheehan, Horgan, O'Connell, Miller, G Eastwood, Humphries, Dempster."
    first = f"Ireland beat Wales\n\n{STORIES[0]}\n\n{line_up}"
    second = f"Ireland lose in Paris\n\n{STORIES[1]}\n\n{line_up}"
    report = Detector().check_many([("match1", first), ("match2", second)])
    assert report.findings == [] and report.stats["left_out"] == {"template": 1}
    doubled = Detector().check_many([("match1", f"{first}\n\n{STORIES[2]}\n\n{line_up}")])
    assert [f.kind for f in doubled.findings] == ["exact"]  # pasted twice in one report: a defect


def test_a_few_words_standing_inside_another_story_are_a_fragment_not_a_carry_over():
    long = ("The minister expressed full solidarity with the kingdom against every attempt to harm its "
            "regional position, state news agency Wam reported.")
    docs = [("a", f"{STORIES[0]} {long}"), ("b", f"{STORIES[1]} State news agency Wam reported.")]
    report = Detector().check_many(docs)
    assert report.findings == [] and report.stats["left_out"] == {"short": 1}
    loose = Detector(editorial=EditorialRules(fragment_words=0)).check_many(docs)
    assert [f.kind for f in loose.findings] == ["contained"]


def test_another_story_s_headline_in_a_page_is_a_link_not_a_repeat():
    headline = "Ferry route between the islands to open in June"
    story = f"{headline}\n\n{STORIES[3]}\n\n{STORIES[4]}"
    page = f"Orchestra plans tour\n\n{STORIES[2]}\n\n{STORIES[5]}\n\n{headline}\n\n{STORIES[6]}"
    report = Detector().check_many([("ferry", story), ("page", page)])
    assert report.findings == [] and set(report.stats["left_out"]) == {"teaser"}
    twice = Detector().check_many([("ferry", story), ("ferry-again", story)])  # an article published twice
    assert len(twice.findings) == 3


@pytest.mark.parametrize("headline", ["Who will pay for the new bridge over the old harbour?",
                                      "ما قصة يوم الأرض الذي يحييه سكان الوادي كل عام؟"])
def test_a_headline_that_asks_a_question_is_a_headline_too(headline):
    """A first line ending on a question mark is read as prose by matching, but it is still
    the page's title: standing in another page it is a link, restated below it is structural."""
    story = f"{headline}\n\n{STORIES[3]}\n\n{STORIES[4]}"
    page = f"Orchestra plans tour\n\n{STORIES[2]}\n\n{STORIES[5]}\n\n{headline}\n\n{STORIES[6]}"
    report = Detector().check_many([("ferry", story), ("page", page)])
    assert report.findings == [] and "teaser" in report.stats["left_out"]
    twice = Detector().check_many([("ferry", story), ("ferry-again", story)])  # an article published twice
    assert len(twice.findings) == 3
    restated = f"{story}\n\n{STORIES[5]}\n\n{headline}"
    assert Detector().check(restated, "r.txt") == []
    assert [f.structural for f in Detector(editorial=EditorialRules(report_structural=True)).check(restated, "r.txt")] == [True]


def test_a_read_also_line_restating_the_lead_is_a_label():
    lead = "A court in New York sentenced the former drug company boss to seven years in prison for fraud on Friday."
    text = (f"Drug boss jailed\n\n{lead}\n\n{STORIES[0]}\n\n"
            f"Read also: Former drug company boss sentenced to seven years for fraud in New York\n\n{STORIES[1]}")
    loose = Detector(editorial=EditorialRules(link_words=0)).check(text, "a.txt")
    assert loose, "the fixture must be a repeat without the rule"
    assert Detector().check(text, "a.txt") == []


def test_a_one_word_fragment_doubled_by_the_splitter_is_not_a_pasted_line():
    text = f"{STORIES[0]} The channel C. N. N. said so.\n\n{STORIES[1]}"
    assert [f for f in Detector().check(text, "a.txt") if f.sentence.text.count(" ") == 0] == []


FACT_BOX_ARTICLE = """Singer sentenced for drug possession

The singer was sentenced on Friday at the city's crown court after admitting possession of cocaine.
She must also do 100 hours of community service, attend a drug treatment programme and pay a fine.
Her lawyer said she was relieved that the case was over and wanted to return to the studio.

The sentence in full:
- Do 100 hours of community service
- Stay away from the nightclub named in the case for a year
"""


def test_a_bulleted_fact_box_restating_the_prose_is_structural():
    report = Detector().check_many([("a.txt", FACT_BOX_ARTICLE)])
    assert report.findings == []
    assert report.stats["left_out"]["structural"] >= 1


def test_a_numbered_step_copied_into_the_prose_is_still_reported():
    """A how-to numbers its steps as paragraphs: a step's sentence copied later is a repeat."""
    step = "Make sure you are ready for this step, because leaving the network affects the other accounts you use."
    text = (f"How to leave a social network\n\n1. Download a copy of your data before anything else.\n\n2. {step}\n\n"
            "3. Tell your friends where they can find you. Make sure you are ready for this step, because leaving "
            "the network affects your other accounts.\n")
    assert [f.kind for f in Detector().check_many([("b.txt", text)]).findings] in (["near"], ["contained"])


RECAP_BODY = """Minister suspends work on the new city project

The former energy minister suspended his work on the new city project on Wednesday over the journalist's disappearance.

He had been asked to join an advisory board that helps to plan the smart city, he said in a statement.

The president said he was in touch with the government at the highest levels about the missing journalist.

A senior official categorically denied in a statement that his country was involved in the disappearance.

The project, worth 500 billion dollars, is part of a plan to develop tourism and industry over the next decade."""

RECAP_TAIL = """

President says he is in contact at the highest levels with the government over the missing journalist.

Official categorically denies in a statement that the country was involved in the journalist's disappearance.

Former minister suspends his work on the new city project over the disappearance of the journalist."""


def test_a_closing_block_that_retells_the_page_is_a_teaser_block():
    report = Detector().check_many([("a.txt", RECAP_BODY + RECAP_TAIL)])
    assert report.findings == []
    assert report.stats["left_out"]["teaser"] == 3


def test_two_retold_paragraphs_at_the_end_are_still_repeats():
    """Two hasty copies can both end an article: two defects, no teaser block (that takes three)."""
    two = RECAP_BODY + "\n\n".join(RECAP_TAIL.split("\n\n")[:3])
    report = Detector().check_many([("a.txt", two)])
    assert [f.kind for f in report.findings] == ["near", "near"]


def test_a_first_paragraph_pasted_twice_in_a_row_is_no_standfirst():
    paragraph = ("The council approved the new budget on Monday after a long debate. "
                 "It includes money for three new schools and a public library.")
    text = f"Council approves budget\n\n{paragraph}\n\n{paragraph}\n\nThe mayor thanked the staff.\n\nVoting ends soon.\n"
    report = Detector().check_many([("a.txt", text)])
    assert sorted(f.kind for f in report.findings) == ["exact", "exact"]


def test_one_paragraph_retold_again_and_again_at_the_end_is_no_teaser_block():
    """Lines that all retell the same paragraph are pasted copies, not a list of latest items,
    and leaving them out would make the findings depend on the order of the documents."""
    first = "The central bank raised its main interest rate by a point on Tuesday to fight persistent inflation."
    copy = "The central bank raised its main interest rate by half a point on Tuesday to fight persistent inflation."
    docs = [("doc0", "\n".join([first] + [copy] * 4)), ("doc1", copy)]
    forward = Detector().check_many(docs)
    backward = Detector().check_many(docs[::-1])
    assert "teaser" not in forward.stats["left_out"]
    assert len(forward.findings) == len(backward.findings) == 5
