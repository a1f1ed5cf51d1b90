"""Ignore directives with rule codes, in Markdown and HTML comments, in plain-text lines and in
JSONL/CSV records (`dedup.readers.directives`), through the engine and the command line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup.cli import main
from dedup.readers import InputError, read_bytes
from dedup.readers.directives import (ALL_KINDS, Directive, DirectiveError, directive, read_plain, record_directive,
                                      switched_off)
from dedup.readers.wrap import unwrap

from conftest import AR, EN

NEAR = "The harbour museum reopened on Monday after a two-year renovation of its medieval map room."
NEAR_COPY = "The harbour museum reopened on Monday after a two year renovation of its old medieval map room."
EXACT = EN[0]


def read(name: str, text: str) -> list[dedup.Document]:
    return list(read_bytes(name, text.encode("utf-8")))


def kinds(name: str, text: str) -> list[tuple[str, int]]:
    """(kind, line) of each finding in one file read by its extension."""
    return [(f.kind, f.sentence.line) for f in dedup.Detector().check_many(read(name, text)).findings]


# --- the directive itself -------------------------------------------------------------------------------

@pytest.mark.parametrize("body, command, covered", [
    (" dedup: ignore ", "ignore", ALL_KINDS),
    ("dedup:ignore DD003", "ignore", ("near",)),
    (" DEDUP : Ignore dd003, DD004 ", "ignore", ("near", "contained")),
    (" dedup: ignore: near,exact ", "ignore", ("exact", "near")),
    ("dedup: off DD00", "off", ALL_KINDS),
    ("dedup: on conflict", "on", ("conflict",)),
])
def test_directives_with_and_without_codes(body: str, command: str, covered: tuple[str, ...]) -> None:
    assert directive(body, 3, 9) == Directive(command, 3, 9, covered)


@pytest.mark.parametrize("body", ["dedup: online", "dedup: off-topic remark", "dedup ignore", "a dedup: ignore", ""])
def test_comments_that_are_no_directives(body: str) -> None:
    assert directive(body, 0, 1) is None


def test_an_unknown_code_is_an_error_with_its_place() -> None:
    with pytest.raises(DirectiveError) as caught:
        directive(" dedup: ignore DD03 ", 40, 70)
    assert caught.value.offset == 40 and "did you mean 'DD003'" in str(caught.value)


def test_each_rule_is_switched_off_and_on_by_itself() -> None:
    d = [Directive("off", 0, 5, ("near",)), Directive("off", 10, 15), Directive("on", 20, 25, ("near", "exact")),
         Directive("on", 30, 35)]
    ranges = sorted(switched_off(d, 100))
    assert ranges == sorted([(5, 20, ("near",)), (15, 20, ("exact",)),
                             *((15, 30, (k,)) for k in ALL_KINDS if k not in ("near", "exact"))])


def test_record_field_values() -> None:
    assert record_directive(None) is None and record_directive("") is None
    assert record_directive("ignore") == Directive("ignore", 0, 0)
    assert record_directive("ignore DD003 DD004").kinds == ("near", "contained")  # type: ignore[union-attr]
    for bad in ("off", "yes", True, 1):
        with pytest.raises(ValueError, match="'dedup' field"):
            record_directive(bad)


# --- Markdown and HTML comments with codes --------------------------------------------------------------

def test_markdown_ignore_with_a_code_leaves_out_only_that_rule() -> None:
    src = f"{NEAR}\n\n{EXACT}\n\n<!-- dedup: ignore DD003 -->\n{NEAR_COPY}\n\n<!-- dedup: ignore near -->\n{EXACT}\n"
    assert kinds("a.md", src) == [("exact", 9)]
    doc, = read("a.md", src)
    assert doc.ignored == () and [k for _, _, k in doc.ignored_kinds] == [("near",), ("near",)]
    assert kinds("a.md", src.replace("ignore near", "ignore DD001")) == []
    assert kinds("a.md", src.replace("<!-- dedup: ignore DD003 -->\n", "")) == [("near", 5), ("exact", 8)]


def test_markdown_off_and_on_by_code() -> None:
    src = (f"{NEAR}\n\n{EXACT}\n\n<!-- dedup: off near -->\n\n{NEAR_COPY}\n\n{EXACT}\n\n"
           f"<!-- dedup: on -->\n\n{NEAR_COPY}\n")
    assert kinds("a.md", src) == [("exact", 9), ("near", 13)]


def test_html_ignore_with_codes() -> None:
    src = (f"<p>{NEAR}</p>\n<p>{EXACT}</p>\n<!-- dedup: ignore DD003 --><p>{NEAR_COPY}</p>\n"
           f"<!-- dedup: ignore DD003 -->\n<p>{EXACT}</p>\n<!-- dedup: ignore -->\n<p>{EXACT}</p>\n")
    assert kinds("a.html", src) == [("exact", 5)]


def test_markdown_html_block_ignore_with_a_code() -> None:
    # the comment stands inside an HTML block: the HTML reader's rules, and its rule codes
    src = f"{NEAR}\n\n{EXACT}\n\n<div>\n<!-- dedup: ignore DD003 -->\n<p>{NEAR_COPY}</p>\n<p>{EXACT}</p>\n</div>\n"
    assert kinds("a.md", src) == [("exact", 8)]
    doc, = read("a.md", src)
    assert doc.ignored == () and [k for _, _, k in doc.ignored_kinds] == [("near",)]
    assert kinds("a.md", src.replace("DD003", "DD001")) == [("near", 7), ("exact", 8)]  # covers exact only
    assert kinds("a.md", src.replace(" DD003", "")) == [("exact", 8)]
    assert kinds("a.md", src.replace("<!-- dedup: ignore DD003 -->\n", "")) == [("near", 6), ("exact", 7)]


def test_markdown_html_block_off_and_on_by_code() -> None:
    src = (f"{NEAR}\n\n{EXACT}\n\n<div><!-- dedup: off near --></div>\n\n{NEAR_COPY}\n\n{EXACT}\n\n"
           f"<div><!-- dedup: on --></div>\n\n{NEAR_COPY}\n")
    assert kinds("a.md", src) == [("exact", 9), ("near", 13)]
    assert kinds("a.md", src.replace(" near -->", " -->")) == [("near", 13)]


def test_an_unknown_code_in_a_markdown_html_block_names_its_line() -> None:
    with pytest.raises(InputError) as caught:
        read("a.md", f"{EN[1]}\n\n<div>\n<p>{EN[2]}</p>\n<!-- dedup: ignore DD03 -->\n</div>\n")
    assert str(caught.value).startswith("a.md:5: 'dedup: ignore': unknown rule code 'DD03'")


@pytest.mark.parametrize("name, comment", [("a.md", "<!-- dedup: ignore DD03 -->"),
                                           ("a.html", "<!-- dedup: ignore DD03 -->"),
                                           ("a.txt", "dedup: ignore DD03")])
def test_an_unknown_code_in_a_file_names_the_file_and_line(name: str, comment: str) -> None:
    with pytest.raises(InputError) as caught:
        read(name, f"{EN[1]}\n\n{comment}\n{EN[2]}\n")
    assert str(caught.value).startswith(f"{name}:3: 'dedup: ignore': unknown rule code 'DD03'")


# --- plain text ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("marker", ["dedup: ignore", "  <!-- dedup: ignore -->", "DEDUP: IGNORE near", "dedup: ignore\r"])
def test_plain_text_marker_line_covers_the_next_line(marker: str) -> None:
    src = f"{NEAR}\n{EXACT}\n{marker}\n{NEAR_COPY}\n{EXACT}\n"
    doc, = read("a.txt", src)
    assert doc.analysis is not None and len(doc.analysis) == len(src)
    assert "dedup" not in doc.analysis.lower()  # the marker is not prose
    assert kinds("a.txt", src) == [("exact", 5)]


def test_plain_text_marker_covers_a_whole_wrapped_paragraph() -> None:
    paragraph = ("The harbour museum reopened on Monday after a two year\nrenovation of its old medieval map room, "
                 "and the\ncurators said the collection of globes would follow in the\nspring once the restorers "
                 "in the capital had finished.\n")
    other = ("Officials in the northern valley said on Tuesday that the\nwheat harvest had been the largest in a "
             "decade after\nmonths of steady rainfall across the whole of the region.\n")
    src = f"{NEAR}\n\n{other}\ndedup: ignore\n{paragraph}\n{other}"
    doc, = read("a.txt", src)
    assert doc.ignored and src[doc.ignored[0][0]:doc.ignored[0][1]] == paragraph.rstrip("\n")
    assert [k for k, _ in kinds("a.txt", src)] == ["exact"]  # the second copy of `other`, not the paragraph


def test_plain_text_off_on_and_text_without_markers() -> None:
    src = f"{EXACT}\ndedup: off\n{EXACT}\n{AR[0]}\ndedup: on\n{AR[0]}\n"
    assert kinds("a.txt", src) == [("exact", 6)]
    plain = f"{EXACT}\nWe use dedup: it finds repeats.\n{EXACT}\n"
    doc, = read("a.txt", plain)
    assert doc.ignored == () and kinds("a.txt", plain) == [("exact", 3)]


# --- records -----------------------------------------------------------------------------------------------

def test_jsonl_record_field_ignores_the_whole_record() -> None:
    records = [{"id": "1", "text": f"{NEAR} {EXACT}"}, {"id": "2", "text": NEAR_COPY, "dedup": "ignore DD003"},
               {"id": "3", "text": EXACT, "dedup": "ignore"}, {"id": "4", "text": EXACT, "dedup": ""}]
    src = "".join(json.dumps(r) + "\n" for r in records)
    found = dedup.Detector().check_many(read("r.jsonl", src)).findings
    assert [(f.kind, f.sentence.doc) for f in found] == [("exact", "4")]
    records[1]["dedup"] = "ignore exact"
    found = dedup.Detector().check_many(read("r.jsonl", "".join(json.dumps(r) + "\n" for r in records))).findings
    assert sorted((f.kind, f.sentence.doc) for f in found) == [("exact", "4"), ("near", "2")]


def test_csv_dedup_column_and_markers_in_a_record_text() -> None:
    src = f'id,text,dedup\n1,"{EXACT}",\n2,"{EXACT}",ignore\n3,"{AR[0]}\ndedup: ignore\n{EXACT}",\n4,"{AR[0]}",\n'
    found = dedup.Detector().check_many(read("r.csv", src)).findings
    assert [(f.kind, f.sentence.doc) for f in found] == [("exact", "4")]


@pytest.mark.parametrize("record, problem", [
    ({"id": "1", "text": "x", "dedup": "off"}, "'dedup' field must be"),
    ({"id": "1", "text": "x", "dedup": True}, "'dedup' field must be"),
    ({"id": "1", "text": "a\n\ndedup: ignore DD9"}, "unknown rule code 'DD9'"),
])
def test_bad_record_directives_name_the_record(record: dict, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        read("r.jsonl", "\n" + json.dumps(record) + "\n")
    assert str(caught.value).startswith("r.jsonl:2: ") and problem in str(caught.value)


# --- command line --------------------------------------------------------------------------------------------

def test_command_line_reports_a_bad_directive_as_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.md").write_text(f"{EXACT}\n\n<!-- dedup: ignore DD3 -->\n{EXACT}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "a.md", "--isolated"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("dedup: error: a.md:3: 'dedup: ignore': unknown rule code 'DD3'") and "\n" not in err
    (tmp_path / "a.md").write_text(f"{EXACT}\n\n<!-- dedup: ignore DD001 -->\n{EXACT}\n", encoding="utf-8")
    assert main(["check", "a.md", "--isolated"]) == 0


def test_a_bad_directive_inside_code_is_just_code() -> None:
    doc, = read("a.md", f"```\n<!-- dedup: ignore DD03 -->\n```\n\n`<!-- dedup: off DD9 -->` {EN[1]}\n")
    assert doc.ignored == () and doc.ignored_kinds == ()
    doc, = read("a.html", f"<pre>&lt;!-- dedup: ignore DD03 --&gt;</pre><p>{EN[1]}</p>")
    assert doc.ignored == () and doc.ignored_kinds == ()


lines = st.one_of(st.sampled_from([*EN, *AR, "", "dedup: ignore", "<!-- dedup: off near -->", "dedup: on",
                                   "Dedup: the word in prose"]),
                  st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30))


@settings(max_examples=200, deadline=None)
@given(st.lists(lines, max_size=12))
def test_plain_text_keeps_offsets_and_reads_directive_lines_only(parts: list[str]) -> None:
    text = "\n".join(parts)
    try:
        doc = read_plain("a.txt", text)
    except DirectiveError:
        return  # a generated line that reads as a directive with a bad code
    analysis = doc.prose
    assert len(analysis) == len(text)
    if "edup" not in text and "EDUP" not in text:
        assert doc.analysis == unwrap(text)  # as before directives: the text, unwrapped when wrapped
    for start, end in doc.ignored + tuple((a, b) for a, b, _ in doc.ignored_kinds):
        assert 0 <= start < end <= len(text)
    for line in analysis.split("\n"):
        assert not line.strip().lower().startswith(("dedup: ignore", "dedup: on", "<!-- dedup:"))
