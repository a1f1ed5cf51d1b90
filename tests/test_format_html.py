"""The ``html`` format: a self-contained page whose marks sit on the repeated passages.

Reports come from the real engine over English and Arabic texts (repeats inside a document and
across two); the page is parsed with the stdlib parser into a small tree, which also checks
that every end tag closes the element last opened.
"""
from __future__ import annotations

import io
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

import dedup
from conftest import AR, EN, dedup_command
from dedup.formats import DEFAULT_SEVERITY, FormatContext, get_formatter
from dedup.formats.html import Marked, nest, word_diff
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
    children: list["Element | str"] = field(default_factory=list)

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


def test_documents_with_findings_are_rendered_from_their_source(report: Report, page: str) -> None:
    root = parse(page)
    sections = [e for e in root.iter() if e.tag == "section" and "document" in e.classes()]
    assert [s.children[1].text() for s in sections] == ["news/en.txt", 'news/ar "quoted" <b>.txt']
    for section in sections:
        source = next(e for e in section.iter() if "source" in e.classes())
        assert source.attrs["dir"] == "auto"
        assert source.text() == SOURCES[section.children[1].text()]
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
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    root = parse(out.read_text(encoding="utf-8"))
    assert [e for e in root.iter() if e.tag == "mark" and e.attrs.get("tabindex") == "0"]
    assert INJECT_TEXT in root.text()
