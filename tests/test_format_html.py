"""The ``html`` format: a self-contained page whose marks sit on the repeated passages.

Reports come from the real engine over English and Arabic texts (repeats inside a document and
across two); the page is parsed with the stdlib parser into a small tree, which also checks
that every end tag closes the element last opened.
"""
from __future__ import annotations

import io
import json
import random
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import AR, EN, dedup_command
from hypothesis import given
from hypothesis import strategies as st
from news_batch import day_report, sentence

import dedup
from dedup.formats import DEFAULT_SEVERITY, FormatContext, get_formatter
from dedup.formats.html import (
    OPEN_CHARACTERS,
    OPEN_DOCUMENTS,
    Marked,
    nest,
    text_direction,
    word_diff,
)
from dedup.model import Finding, Report, Span

INJECT_TEXT = '<script>alert(1)</script> and "><img src=x onerror=alert(2)>'
NEWS_EN = (f"{EN[0]} {AR[0]} {EN[1]}\n"
           f"{EN[2].replace('last week', 'this month')} {INJECT_TEXT}\n"
           f"{EN[3]} {EN[0]}\n"
           f"{EN[2]}\n")
NEWS_AR = (f"{AR[1]} {AR[0]}\n"
           f"{AR[2]} {AR[3]}\n"
           f"{AR[2].replace('الصيف', 'الخريف')}\n")
SOURCES = {"news/en.txt": NEWS_EN, 'news/ar "quoted" <b>.txt': NEWS_AR, "news/clean.txt": EN[4] + "\n"}
VOID = {"meta", "br", "img", "hr", "input", "link", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Element):
                yield from c.iter()

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class TreeBuilder(HTMLParser):
    """A strict little tree builder: an end tag must close the element last opened."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> Element:
    builder = TreeBuilder()
    builder.feed(page)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def render(report: Report, sources: dict[str, str] = SOURCES) -> str:
    out = io.StringIO()
    get_formatter("html").write(report, out, FormatContext(sources, DEFAULT_SEVERITY))
    return out.getvalue()


def by_id(root: Element) -> dict[str, Element]:
    ids = [e.attrs["id"] for e in root.iter() if e.attrs.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    return {e.attrs["id"]: e for e in root.iter() if e.attrs.get("id")}


@pytest.fixture(scope="module")
def report() -> Report:
    result = dedup.Detector().check_many(list(SOURCES.items()))
    kinds, scopes = {f.kind for f in result.findings}, {f.scope for f in result.findings}
    assert {"exact", "near"} <= kinds and {"document", "corpus"} <= scopes, result.findings
    return result


@pytest.fixture(scope="module")
def page(report: Report) -> str:
    return render(report)


def test_one_mark_per_finding_on_its_passage(report: Report, page: str) -> None:
    ids = by_id(parse(page))
    for n, finding in enumerate(report.findings, 1):
        mark = ids[f"f{n}"]
        assert mark.tag == "mark" and f"kind-{finding.kind}" in mark.classes()
        assert mark.attrs["data-finding"] == str(n) and mark.attrs["tabindex"] == "0"
        assert mark.text() == finding.sentence.text
        match = ids[f"m{n}"]
        assert match.tag == "mark" and "match" in match.classes() and match.text() == finding.match.text
    sentence_marks = [e for e in parse(page).iter() if e.tag == "mark" and e.attrs.get("tabindex") == "0"]
    assert len(sentence_marks) == len(report.findings)


def documents(root: Element) -> list[Element]:
    return [e for e in root.iter() if e.tag == "details" and "document" in e.classes()]


def heading(section: Element) -> str:
    return next(e for e in section.iter() if e.tag == "h2").text()


def test_documents_with_findings_are_rendered_from_their_source(report: Report, page: str) -> None:
    root = parse(page)
    sections = documents(root)
    assert [heading(s) for s in sections] == ["news/en.txt", 'news/ar "quoted" <b>.txt']
    assert [s.attrs["id"] for s in sections] == ["doc1", "doc2"]
    for section in sections:
        assert section.children[1].tag == "summary" and "open" in section.attrs  # two documents: open
        source = next(e for e in section.iter() if "source" in e.classes())
        assert source.attrs["dir"] == "auto"
        assert source.text() == SOURCES[heading(section)]
    assert EN[4] not in root.text()  # the document without findings is left out


def test_each_finding_has_a_hidden_detail_panel_with_a_word_diff(report: Report, page: str) -> None:
    ids = by_id(parse(page))
    for n, finding in enumerate(report.findings, 1):
        panel = ids[f"d{n}"]
        assert panel.tag == "section" and "detail" in panel.classes() and "hidden" in panel.attrs
        passages = [e for e in panel.iter() if "passage" in e.classes()]
        assert [p.text() for p in passages] == [finding.sentence.text, finding.match.text]
        assert all(p.attrs["dir"] == "auto" for p in passages)
        heading = next(e for e in panel.iter() if e.tag == "h3").text()
        assert finding.kind in heading and f"{finding.score:.2f}" in heading
        captions = " ".join(e.text() for e in panel.iter() if e.tag == "figcaption")
        s, m = finding.sentence, finding.match
        assert f"{s.doc}:{s.line}:{s.column}" in captions and f"{m.doc}:{m.line}:{m.column}" in captions
        diff = next(e for e in panel.iter() if "diff" in e.classes())
        tags = {e.tag for e in diff.iter()}
        if finding.kind == "near":
            assert {"ins", "del"} <= tags
        if finding.kind == "exact":
            assert not {"ins", "del"} & tags and "same" in diff.classes()
            assert diff.text() == "The two passages have the same words."
    near_en = next(f for f in report.findings if f.kind == "near" and f.sentence.doc == "news/en.txt")
    n = report.findings.index(near_en) + 1
    diff = next(e for e in ids[f"d{n}"].iter() if "diff" in e.classes())
    assert [e.text() for e in diff.iter() if e.tag == "del"] == ["this month."]
    assert [e.text() for e in diff.iter() if e.tag == "ins"] == ["last week."]


def test_summary_counts_match_the_report(report: Report, page: str) -> None:
    cells = {(e.attrs["data-kind"], e.attrs["data-scope"]): int(e.text())
             for e in parse(page).iter() if e.tag == "td" and "data-kind" in e.attrs}
    counts = Counter((f.kind, f.scope) for f in report.findings)
    for kind in ("exact", "normalized", "near", "contained", "conflict"):
        for scope in ("document", "corpus", "archive"):
            assert cells[kind, scope] == counts[kind, scope]
        assert cells[kind, "all"] == sum(v for (k, _), v in counts.items() if k == kind)
    assert cells["all", "all"] == len(report.findings)


def test_document_text_is_escaped_never_markup(page: str) -> None:
    root = parse(page)
    assert "<img" not in page and "<script>alert" not in page and "<b>.txt" not in page
    assert INJECT_TEXT in root.text()
    assert [e for e in root.iter() if e.tag == "img"] == []
    scripts = [e for e in root.iter() if e.tag == "script"]
    assert len(scripts) == 1 and "src" not in scripts[0].attrs and page.count("<script") == 1


def test_page_is_self_contained_with_print_styles(page: str) -> None:
    root = parse(page)
    assert page.startswith("<!DOCTYPE html>")
    assert any(e.tag == "meta" and e.attrs.get("charset") == "utf-8" for e in root.iter())
    for e in root.iter():
        assert "src" not in e.attrs
        assert not re.match(r"\s*(https?:|//)", e.attrs.get("href") or "")
    assert not re.search(r"url\(|@import|https?://", page)
    style = next(e for e in root.iter() if e.tag == "style").text()
    print_css = style[style.index("@media print"):]
    assert ".detail[hidden]" in print_css and "display: block" in print_css
    assert "border" in print_css and "underline" in print_css
    assert "white-space: pre-wrap" in style


def test_empty_report_says_no_repeats() -> None:
    root = parse(render(Report([])))
    assert "No repeats were found" in root.text()
    assert not [e for e in root.iter() if e.tag in ("mark", "table")]


def test_archive_match_and_missing_source_are_shown_from_span_text() -> None:
    text = f"{EN[5]} {AR[4]}\n"
    start = text.index(AR[4])
    sentence = Span("news/new.txt", start, start + len(AR[4]), 1, start + 1, AR[4])
    archived = Finding("exact", "archive", 1.0, sentence, Span("archive:old.txt", 40, 40 + len(AR[4]), 3, 1, AR[4]))
    gone = Finding("near", "document", 0.9, Span("gone.txt", 90, 100, 4, 2, "<i>gone</i>"),
                   Span("gone.txt", 0, 9, 1, 1, "<i>was</i>"))
    root = parse(render(Report([archived, gone]), {"news/new.txt": text}))
    ids = by_id(root)
    assert ids["f1"].text() == AR[4] and "m1" not in ids
    assert "archive:old.txt:3:1" in ids["d1"].text()
    assert ids["f2"].text() == "<i>gone</i>" and "kind-near" in ids["f2"].classes()
    assert not [e for e in root.iter() if e.tag == "i"]


def test_overlapping_spans_nest_properly() -> None:
    text = "0123456789abcdefghij"
    marks = [Marked(2, 12, 0, '<mark id="a">', "<mark>"), Marked(5, 18, 1, '<mark id="b">', "<mark>"),
             Marked(5, 18, 1, '<mark id="c">', "<mark>"), Marked(0, 20, 0, '<mark id="d">', "<mark>")]
    root = parse("<div>" + nest(text, marks) + "</div>")
    assert root.text() == text
    ids = by_id(root)
    assert ids["d"].text() == text and ids["a"].text() == text[2:12]
    # b crosses a's end: it is split, its continuation carries no id
    pieces = [e for e in root.iter() if e.tag == "mark" and e is not ids["d"]]
    assert len(pieces) == 1 + 2 + 2 and ids["b"].text() == "56789ab" and ids["c"].text() == "56789ab"


def test_word_diff_marks_removed_and_added_words() -> None:
    assert word_diff("a b c d", "a x c d e") == "a <del>b</del> <ins>x</ins> c d <ins>e</ins>"
    assert word_diff("<b> a", "<b> a") == "&lt;b&gt; a"


def test_command_writes_the_page(tmp_path: Path) -> None:
    (tmp_path / "en.txt").write_text(NEWS_EN, encoding="utf-8")
    out = tmp_path / "out.html"
    done = subprocess.run([*dedup_command(), "check", "en.txt", "--format", "html", "-o", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    root = parse(out.read_text(encoding="utf-8"))
    assert [e for e in root.iter() if e.tag == "mark" and e.attrs.get("tabindex") == "0"]
    assert INJECT_TEXT in root.text()


# --- navigation: index, filters, collapsing, direction ------------------------------------------

def script_data(page: str) -> dict:
    """The numbers the page's script is called with."""
    return json.loads(re.search(r"\}\)\((\{.*\})\);\s*</script>", page, re.DOTALL).group(1))


def index_rows(root: Element) -> list[Element]:
    table = next(e for e in root.iter() if e.tag == "table" and "index" in e.classes())
    return [e for e in table.iter() if e.tag == "tr" and "data-doc" in e.attrs]


def cells(row: Element) -> list[str]:
    return [c.text() for c in row.children if isinstance(c, Element) and c.tag == "td"]


def test_index_lists_each_document_with_its_counts_by_kind(report: Report, page: str) -> None:
    root = parse(page)
    ids = by_id(root)
    head = next(e for e in root.iter() if e.tag == "table" and "index" in e.classes())
    columns = [th.text() for th in head.iter() if th.tag == "th"]
    kinds = [k for k in ("exact", "normalized", "near", "contained", "conflict") if k in {f.kind for f in report.findings}]
    assert columns == ["document", "findings", *kinds]
    rows = index_rows(root)
    assert [cells(r)[0] for r in rows] == [heading(s) for s in documents(root)]
    for row in rows:
        link = next(e for e in row.iter() if e.tag == "a")
        target = ids[link.attrs["href"].removeprefix("#")]
        assert target.tag == "details" and heading(target) == link.text() and target.attrs["id"] == f"doc{row.attrs['data-doc']}"
        own = Counter(f.kind for f in report.findings if f.sentence.doc == link.text())
        assert [int(c) for c in cells(row)[1:]] == [sum(own.values()), *(own[k] for k in kinds)]
    # each document's summary line says the same
    for section in documents(root):
        own = Counter(f.kind for f in report.findings if f.sentence.doc == heading(section))
        counts = next(e for e in section.iter() if "counts" in e.classes()).text()
        assert counts.startswith(f"{sum(own.values())} repeated passage")
        assert all(f"{n} {k}" in counts for k, n in own.items())


def test_filters_offer_each_value_present_and_marks_carry_them(report: Report, page: str) -> None:
    root = parse(page)
    form = by_id(root)["filters"]
    boxes = [e for e in form.iter() if e.tag == "input"]
    assert all(b.attrs["type"] == "checkbox" and "checked" in b.attrs for b in boxes)
    offered = {(b.attrs["name"], b.attrs["value"]) for b in boxes}
    level = FormatContext(SOURCES, DEFAULT_SEVERITY).level
    present = ({("kind", f.kind) for f in report.findings} | {("severity", level(f)) for f in report.findings}
               | {("scope", f.scope) for f in report.findings})
    assert offered == present
    labels = {e.text().split("(")[0].strip(): int(e.text().split("(")[-1].rstrip(")\n "))
              for e in form.iter() if e.tag == "label"}
    assert labels["inside one document"] == sum(f.scope == "document" for f in report.findings)
    assert labels["exact"] == sum(f.kind == "exact" for f in report.findings)
    style = next(e for e in root.iter() if e.tag == "style").text()
    for group, value in present:  # a hiding rule for each, on marks and on panels
        assert f'.hide-{group}-{value} mark[data-{group}="{value}"]' in style
        assert f'.hide-{group}-{value} .detail[data-{group}="{value}"]' in style
    ids = by_id(root)
    for n, f in enumerate(report.findings, 1):
        for element_id in (f"f{n}", f"m{n}", f"d{n}"):
            attrs = ids[element_id].attrs
            assert (attrs["data-kind"], attrs["data-severity"], attrs["data-scope"]) == (f.kind, level(f), f.scope)
    assert ids["shown"].text() == f"All {len(report.findings)} findings shown."


def test_script_is_called_with_five_numbers_per_finding(report: Report, page: str) -> None:
    data = script_data(page)
    root = parse(page)
    number = {heading(s): int(s.attrs["id"].removeprefix("doc")) for s in documents(root)}
    assert data["docs"] == len(number) and len(data["f"]) == 5 * len(report.findings)
    level = FormatContext(SOURCES, DEFAULT_SEVERITY).level
    for n, f in enumerate(report.findings):
        doc, match_doc, kind, severity, scope = data["f"][5 * n:5 * n + 5]
        assert doc == number[f.sentence.doc] and match_doc == number[f.match.doc]
        assert (data["kinds"][kind], data["severities"][severity], data["scopes"][scope]) == (f.kind, level(f), f.scope)


def test_documents_and_panels_take_the_direction_of_their_text(page: str) -> None:
    root = parse(page)
    html_element = next(e for e in root.iter() if e.tag == "html")
    assert html_element.attrs["dir"] == "ltr"  # the page's own words are English
    bodies = {heading(s): next(e for e in s.iter() if "doc-body" in e.classes()) for s in documents(root)}
    assert bodies["news/en.txt"].attrs["dir"] == "ltr" and bodies['news/ar "quoted" <b>.txt'].attrs["dir"] == "rtl"
    panels = [e for e in bodies['news/ar "quoted" <b>.txt'].iter() if "detail" in e.classes()]
    assert panels
    for panel in panels:  # inside an Arabic body, the panel's own words stay one left-to-right run
        for label in (e for e in panel.iter() if e.tag in ("h3", "figcaption")):
            assert label.children[0].tag == "span" and label.children[0].attrs["dir"] == "ltr"


def test_text_direction_examples() -> None:
    assert text_direction(AR[0]) == "rtl" and text_direction(EN[0]) == "ltr"
    assert text_direction(f"{AR[0]} BBC 2024") == "rtl"  # a few Latin letters in an Arabic text
    assert text_direction(f"{EN[0]} {EN[1]} {AR[0]}") == "ltr"
    assert text_direction("") == "ltr" and text_direction("2024 - 17.5%") == "ltr"
    assert text_direction("שלום עולם") == "rtl"


@given(st.lists(st.sampled_from(["ب", "ع", "ש", "a", "Z", "é", " ", "1", "."]), max_size=60))
def test_text_direction_is_that_of_most_letters(chars: list[str]) -> None:
    rtl = sum(c in "بعש" for c in chars)
    ltr = sum(c in "aZé" for c in chars)
    assert text_direction("".join(chars)) == ("rtl" if rtl > ltr else "ltr")


def many_documents_report(count: int, long_doc: int | None = None) -> tuple[Report, dict[str, str]]:
    """`count` documents repeating one sentence each of the one before; document `long_doc`
    padded past OPEN_CHARACTERS."""
    sources = {}
    for i in range(count):
        text = f"{EN[i % 6]} {EN[(i + 1) % 6]} Number {i} follows.\n"
        if i == long_doc:
            text += (AR[1] + " ") * (OPEN_CHARACTERS // len(AR[1]) + 1) + "\n"
        sources[f"doc{i:03d}.txt"] = text
    return dedup.Detector().check_many(list(sources.items())), sources


def open_states(page: str) -> dict[str, bool]:
    return {heading(s): "open" in s.attrs for s in documents(parse(page))}


def test_documents_collapse_in_a_big_report_or_when_long() -> None:
    report, sources = many_documents_report(OPEN_DOCUMENTS + 2)
    states = open_states(render(report, sources))
    assert len(states) == OPEN_DOCUMENTS + 2 and not any(states.values())
    report, sources = many_documents_report(3, long_doc=1)
    assert open_states(render(report, sources)) == {"doc000.txt": True, "doc001.txt": False, "doc002.txt": True}


def test_one_document_report_is_open_without_index_and_one_finding_without_filters() -> None:
    rng = random.Random(1)
    padding = " ".join(sentence(rng, arabic=True) for _ in range(OPEN_CHARACTERS // 60))  # unrepeated prose
    text = f"{EN[0]} {EN[1]}\n{padding}\n{EN[0]}\n"
    assert len(text) > OPEN_CHARACTERS
    report = dedup.Detector().check_many([("one.txt", text)])
    assert len(report.findings) == 1
    root = parse(render(report, {"one.txt": text}))
    assert [("open" in s.attrs) for s in documents(root)] == [True]  # long, but the only one
    ids = by_id(root)
    assert "index" not in ids and "filters" not in ids and "shown" not in ids
    assert not [e for e in root.iter() if e.tag == "button"]


def test_print_styles_show_collapsed_documents_and_hide_the_controls(page: str) -> None:
    style = next(e for e in parse(page).iter() if e.tag == "style").text()
    print_css = style[style.index("@media print"):]
    assert re.search(r"\.filters, \.tools, #shown \{ display: none; \}", print_css)
    assert "details::details-content { content-visibility: visible" in print_css
    assert ".doc-body { content-visibility: visible; }" in print_css
    assert "beforeprint" in page and "afterprint" in page  # the script opens them for printing too


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, str]:
    report, sources = day_report(tmp_path_factory.mktemp("archive") / "archive.sqlite")
    return report, render(report, sources)


def test_batch_report_indexes_every_document_and_stays_small(batch: tuple[Report, str]) -> None:
    report, page = batch
    assert len(report.findings) >= 1000 and {f.scope for f in report.findings} == {"document", "corpus", "archive"}
    root = parse(page)
    sections = documents(root)
    rows = index_rows(root)
    assert len(sections) == len(rows) == script_data(page)["docs"] > OPEN_DOCUMENTS
    assert not any("open" in s.attrs for s in sections)  # a batch starts collapsed
    assert sum(int(cells(r)[1]) for r in rows) == len(report.findings)
    assert len([e for e in root.iter() if e.tag == "mark" and e.attrs.get("tabindex") == "0"]) == len(report.findings)
    size = len(page.encode("utf-8"))
    assert size < 3_000 * len(report.findings), f"{size} bytes for {len(report.findings)} findings"
