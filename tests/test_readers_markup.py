"""The Markdown and HTML readers: the analysis text keeps the source's offsets, holds only the
prose, keeps block boundaries as line breaks, and carries heading and ignored ranges that the
engine honours end to end."""
from __future__ import annotations

import re
import time

import pytest
from conftest import AR, EN, line_col
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import Detector, normalize
from dedup.model import Document
from dedup.readers import read_bytes
from dedup.readers.html import read_html
from dedup.readers.markdown import read_markdown
from dedup.readers.markup import WORD_JOINER

FARM = EN[1]  # 15 words
FARM_WRAPPED = FARM.replace("record wheat", "record\nwheat")
BRIDGE = EN[3]
AR_TAX = AR[0]
AR_TAX_WRAPPED = AR_TAX.replace("على الشركات", "على\nالشركات")


def md(src: str) -> Document:
    doc = read_markdown("a.md", src)
    assert_markdown_offsets(src, doc)
    return doc


def page(src: str) -> Document:
    doc = read_html("a.html", src)
    assert_ranges_valid(doc)
    return doc


def assert_ranges_valid(doc: Document) -> None:
    assert len(doc.analysis) == len(doc.text)
    for start, end in doc.headings + doc.ignored:
        assert 0 <= start <= end <= len(doc.text)


def assert_markdown_offsets(src: str, doc: Document) -> None:
    """Every character of the analysis text is the source's, a blank, a word joiner (markup
    inside a word), a block boundary, or part of a decoded character reference in its place."""
    assert doc.text == src
    assert_ranges_valid(doc)
    in_reference = {i for m in re.finditer(r"&#?[A-Za-z0-9]+;?", src) for i in range(m.start(), m.end())}
    for i, (a, s) in enumerate(zip(doc.analysis, src)):
        assert a == s or a in " " + WORD_JOINER or (a == "\n" and s in "\n<") or i in in_reference, (i, a, s)


def blocks(doc: Document) -> list[str]:
    """The non-empty lines of the analysis text, blanks collapsed and word joiners (invisible)
    left out: what the segmenter sees."""
    lines = doc.analysis.replace(WORD_JOINER, "").split("\n")
    return [" ".join(line.split()) for line in lines if line.strip()]


def covered(src: str, ranges, part: str) -> bool:
    at = src.index(part)
    return any(a <= at < b for a, b in ranges)


def heading_texts(doc: Document) -> list[str]:
    return [doc.text[a:b] for a, b in doc.headings]


def findings(doc: Document):
    return Detector().check_many([doc]).findings


def assert_points_at(doc: Document, finding, later: str) -> None:
    """The finding's later passage is `later` (its second occurrence), with offsets, line and
    column those of the source."""
    span = finding.sentence
    assert span.text == doc.text[span.start:span.end] == later
    assert span.start == doc.text.rindex(later)
    assert (span.line, span.column) == line_col(doc.text, span.start)
    assert finding.match.start == doc.text.index(finding.match.text)


# --- Markdown: what is blanked ---------------------------------------------------------------

def test_markdown_keeps_plain_prose_as_is():
    src = f"{FARM}\n\n{AR_TAX}\n"
    assert md(src).analysis == src


@pytest.mark.parametrize("opening, closing", [("---", "---"), ("---", "..."), ("+++", "+++")])
def test_front_matter_is_blanked(opening, closing):
    src = f"{opening}\ntitle: Harvest report\ntags: [farm]\n{closing}\n{FARM}\n"
    doc = md(src)
    assert blocks(doc) == [FARM]
    assert doc.analysis.endswith(FARM + "\n")


def test_unclosed_front_matter_is_a_thematic_break():
    src = f"---\n{FARM}\n"
    assert blocks(md(src)) == [FARM]


@pytest.mark.parametrize("fence", ["```", "~~~", "````", "```python title='x.py'", "~~~ {.js}"])
def test_fenced_code_is_blanked(fence):
    marker = fence[:4].rstrip(" p{")
    src = f"{FARM}\n\n{fence}\nprint('secret code')\n\n{BRIDGE}\n{marker}\n\n{AR_TAX}\n"
    assert blocks(md(src)) == [FARM, AR_TAX]


def test_unclosed_fence_runs_to_the_end():
    src = f"{FARM}\n\n```\n{BRIDGE}\n\n{AR_TAX}\n"
    assert blocks(md(src)) == [FARM]


def test_shorter_or_other_fence_does_not_close():
    src = f"````\n```\n{BRIDGE}\n~~~\n````\n{FARM}\n"
    assert blocks(md(src)) == [FARM]


def test_fence_inside_blockquote_and_list():
    src = f"> ```\n> {BRIDGE}\n> ```\n\n- item\n  ```\n  {AR_TAX}\n  ```\n"
    assert blocks(md(src)) == ["item"]


def test_indented_code_after_blank_line_is_blanked():
    src = f"{FARM}\n\n    code line one\n\tcode line two\n\n{AR_TAX}\n"
    assert blocks(md(src)) == [FARM, AR_TAX]


def test_indented_line_continuing_a_paragraph_or_list_item_is_prose():
    src = f"{FARM}\n    still the same paragraph.\n\n- An item\n\n    with a second paragraph.\n"
    assert blocks(md(src)) == [FARM + " still the same paragraph.", "An item", "with a second paragraph."]


def test_inline_code_spans_are_blanked():
    src = "Call `rm -rf` or ``a ` b`` then `unclosed and ```more``` end."
    assert blocks(md(src)) == ["Call or then `unclosed and end."]


def test_comments_and_raw_html_are_blanked():
    src = (f"<!-- a comment\nover lines -->\n{FARM} <!-- inline --> <span class=\"x\">{BRIDGE}</span>\n\n"
           f"<div align=\"center\">\n<img src=\"logo.png\">\n</div>\n")
    doc = md(src)
    assert blocks(doc) == [f"{FARM} {BRIDGE}"]
    for token in ("comment", "inline", "span", "class", "img", "logo", "div"):
        assert token not in doc.analysis


def test_script_and_style_blocks_are_blanked():
    src = f"<script>\nvar secret = 1;\n</script>\n<style>p {{ color: red }}</style>\n{FARM}\n"
    assert blocks(md(src)) == [FARM]


def test_links_keep_their_text_only():
    src = ('See [the report](https://example.com/r?id=1 "Report title") and [the map][map], '
           "[a (paren) link](<https://x.org/a b>) or [ref][] here.\n\n[map]: https://example.com/map \"Map\"\n")
    doc = md(src)
    assert blocks(doc) == ["See the report and the map, a (paren) link or [ref][] here."]  # no definition of ref
    for token in ("example", "Report title", "http", "x.org"):
        assert token not in doc.analysis


def test_images_autolinks_urls_and_footnotes_are_blanked():
    src = ("Logo ![alt text](img/logo.png \"Logo\") and [![badge](b.svg)](https://ci.example.com) "
           "<https://example.com/page> <editor@example.com> http://example.org/path?q=1. "
           "www.example.net, end[^1].\n\n[^1]: The footnote text.\n")
    doc = md(src)
    assert blocks(doc) == ["Logo and . , end .", "The footnote text."]
    for token in ("alt", "logo", "badge", "example", "editor", "http", "www"):
        assert token not in doc.analysis


def test_character_references_decode_in_place():
    src = "Salt &amp; pepper&nbsp;here, caf&eacute;s &#1605;&#1585;&#1581;&#1576;&#1575; &#x1F600; &bogus; x &#0;"
    doc = md(src)
    at = src.index("&amp;")
    assert doc.analysis[at] == "&" and doc.analysis[at + 1:at + 5] == WORD_JOINER * 4
    assert normalize(doc.analysis) == "salt pepper here cafes مرحبا bogus x"
    assert "&bogus;" in doc.analysis and doc.analysis[src.index("&#0;")] == "\ufffd"


def test_a_sentence_written_with_numeric_references_repeats_its_plain_copy():
    encoded = "".join(f"&#{ord(c)};" if c != " " else " " for c in AR_TAX)
    src = f"{AR_TAX}\n\n{EN[2]}\n\n{encoded}\n"
    doc = md(src)
    (finding,) = findings(doc)
    assert finding.kind == "normalized"  # the same words, written otherwise
    assert_points_at(doc, finding, encoded)


@pytest.mark.parametrize("definitions, prose", [
    ('[foo]: /url\n"the title"\n', []),  # the title on its own line
    ("[foo]:\n/url\n  'title\nover two lines'\n", []),  # destination and title each on a line
    ("[foo]: <a b>\n(title)\n[bar]: /x 'y'\n", []),
    ('[foo]: /url\n"title" and words\n', ['"title" and words']),  # not a title: a paragraph (cmark-gfm)
    ("[foo]: /url 'unclosed\n\nNext paragraph.\n", ["[foo]: /url 'unclosed", "Next paragraph."]),
])
def test_link_reference_definitions_span_lines(definitions, prose):
    """Checked against cmark-gfm and markdown-it: a definition's destination and title may each
    start a new line; what does not parse as a title is prose."""
    doc = md(f"{FARM}\n\n{definitions}\n{BRIDGE}\n")
    assert blocks(doc) == [FARM, *prose, BRIDGE]


def test_images_whose_alt_text_holds_brackets_are_blanked():
    src = "An ![alt [with] brackets](x.png) image, ![a [b] c][ref] and [a [nested] link](u)."
    doc = md(src)
    assert blocks(doc) == ["An image, and a [nested] link."]
    for token in ("alt", "brackets", "x.png", "u)"):
        assert token not in doc.analysis


def test_processing_instructions_declarations_and_cdata_are_blanked():
    src = ("Run <?php echo 'secret'; ?> now <!DOCTYPE html> and <![CDATA[ raw data ]]> here.\n\n"
           "<?php\n$secret = 1;\n?>\n\n<!DOCTYPE html>\n\n<![CDATA[\nsecret data\n]]>\n\n" + FARM + "\n")
    doc = md(src)
    assert blocks(doc) == ["Run now and here.", FARM]
    assert "secret" not in doc.analysis and "DOCTYPE" not in doc.analysis


@pytest.mark.parametrize("src, prose", [
    ("- item\n\n      indented code\n\n- two\n", ["item", "two"]),
    ("1. one\n\n       code line\n   para\n", ["one", "para"]),  # content at column 3: code at 7
    ("- a\n  - b\n\n          code\n\n    more b\n", ["a", "b", "more b"]),
    ("- item\n\n    second paragraph\n", ["item", "second paragraph"]),  # at column 4: prose
    ("-   wide\n\n         code\n", ["wide"]),  # content at column 4
    ("- a\n  ```\n  code\nlazy\n", ["a", "lazy"]),  # a line outside the item ends its fence
])
def test_indented_code_inside_a_list_item_is_code(src, prose):
    assert blocks(md(src)) == prose


def test_a_list_item_may_start_with_a_fence_a_heading_or_an_html_block():
    src = ("1. ```\n   PUSH 0x01\n   ---\n   0x02\n   ```\n\n2. ## Heading in an item\n"
           "3. <details>\n   <summary>More</summary>\n   text\n   </details>\n- next item\n")
    doc = md(src)
    assert blocks(doc) == ["Heading in an item", "More", "text", "next item"]
    assert heading_texts(doc) == ["Heading in an item"]


@pytest.mark.parametrize("src, prose", [
    ("Claim[^1] and [^nodef].\n\n[^1]: The note.\n", ["Claim and [^nodef].", "The note."]),  # no definition: text
    ("One[^1], two[^2].\n\n[^1]: First.\n[^2]: Second.\n", ["One , two .", "First.", "Second."]),
    ("- 1. nested on one line\n- [x]: /u\n- -\n", ["nested on one line"]),  # a definition, an empty item
    ("-      indented code\n- prose\n", ["prose"]),  # five spaces after the marker: code
    ("1.\n[x]: /u 'title'\n", []),  # after an empty item no paragraph goes on
])
def test_list_items_and_references_as_cmark_gfm_reads_them(src, prose):
    assert blocks(md(src)) == prose


def test_a_footnote_keeps_its_later_paragraphs():
    src = (f"Claim[^1].\n\n[^1]: {FARM}\n\n    {BRIDGE}\n\n        code in the note\n\n"
           f"    {AR_TAX}\n\nAfter.\n")
    assert blocks(md(src)) == ["Claim .", FARM, BRIDGE, AR_TAX, "After."]


def test_html_blocks_are_read_as_html():
    src = ('<div class="note">\n  <h5>Note title</h5>\n  <p>Some <code>x = 1</code> text, im<b>port</b>ant.\n'
           '  &copy; caf&eacute;</p>\n</div>\n\n<table>\n<tr><td>cell one</td><td>cell two</td></tr>\n</table>\n\n'
           f"{FARM}\n")
    doc = md(src)
    assert blocks(doc) == ["Note title", "Some text, important. © café", "cell one", "cell two", FARM]
    assert heading_texts(doc) == ["Note title"]
    assert "x = 1" not in doc.analysis


def test_an_html_block_ends_at_a_blank_line_and_markdown_goes_on():
    src = "<details>\n<summary>More</summary>\n\n**Bold** text [a link](u).\n\n</details>\n"
    assert blocks(md(src)) == ["More", "**Bold** text a link."]


def test_a_lone_inline_tag_starts_an_html_block_but_does_not_interrupt_a_paragraph():
    src = f"{FARM}\n<span>still the paragraph</span>\n\n<span>\n{BRIDGE}\n</span>\n"
    assert blocks(md(src)) == [f"{FARM} still the paragraph", BRIDGE]


def test_inline_tags_do_not_split_words_in_markdown():
    src = "An im<b>port</b>ant w<!-- x -->ord, a<img src=i.png>b, <code>code</code> and <kbd>K</kbd>ey."
    doc = md(src)
    assert normalize(doc.analysis) == "an important word a b and key"


def test_markdown_ignore_directive_inside_an_html_block():
    src = f"<div>\n<p>{FARM}</p>\n<!-- dedup: ignore -->\n<p>{BRIDGE}</p>\n<p>{AR_TAX}</p>\n</div>\n"
    doc = md(src)
    assert covered(src, doc.ignored, BRIDGE)
    assert not covered(src, doc.ignored, FARM) and not covered(src, doc.ignored, AR_TAX)


def test_url_trailing_punctuation_stays():
    doc = md("Read https://example.com/a_(b). Then stop.")
    assert blocks(doc) == ["Read . Then stop."]


# --- Markdown: blocks and headings --------------------------------------------------------------

def test_soft_wrapped_paragraph_lines_join():
    src = f"{FARM_WRAPPED}\n{BRIDGE}\n\n{AR_TAX_WRAPPED}\n"
    doc = md(src)
    assert blocks(doc) == [f"{FARM} {BRIDGE}", AR_TAX]
    assert doc.analysis.count("\n") == 3


def test_list_items_are_blocks_and_lose_their_markers():
    src = (f"- {FARM}\n* second\n  wrapped item\n+ third\n1. first ordered\n2) second ordered\n"
           "- [ ] open task\n- [x] done task\n    - nested item\n")
    assert blocks(md(src)) == [FARM, "second wrapped item", "third", "first ordered", "second ordered",
                               "open task", "done task", "nested item"]


def test_a_number_inside_a_paragraph_does_not_start_a_list():
    src = "The station first opened in\n1999. It closed again later.\n"
    assert blocks(md(src)) == ["The station first opened in 1999. It closed again later."]


def test_blockquote_markers_are_blanked_and_lines_join():
    src = f"> {FARM}\n> {BRIDGE}\n>\n> > {AR_TAX}\nlazy continuation\n"
    assert blocks(md(src)) == [f"{FARM} {BRIDGE}", f"{AR_TAX} lazy continuation"]


def test_table_rows_are_blocks_and_the_delimiter_row_is_blanked():
    src = f"{FARM}\n| Name | Town |\n|:-----|:----:|\n| Ali | Cairo |\n| Sara \\| Lee | Rabat |\n\n{BRIDGE}\n"
    assert blocks(md(src)) == [FARM, "Name Town", "Ali Cairo", "Sara | Lee Rabat", BRIDGE]


def test_a_heading_ends_a_table():
    src = "| a | b |\n|---|---|\n| c | d |\n# Title\nfirst line\nsecond line\n"
    assert blocks(md(src)) == ["a b", "c d", "Title", "first line second line"]


def test_thematic_breaks_are_blanked():
    src = f"{FARM}\n\n***\n\n- - -\n\n{BRIDGE}\n"
    assert blocks(md(src)) == [FARM, BRIDGE]


@pytest.mark.parametrize("line, text", [
    ("# Harvest news", "Harvest news"),
    ("###   Harvest news ###", "Harvest news"),
    ("## أخبار الحصاد", "أخبار الحصاد"),
    ("#5 is not a heading", None),
])
def test_atx_headings(line, text):
    doc = md(f"{line}\n{FARM}\n")
    if text is None:
        assert doc.headings == ()
        assert blocks(doc) == [f"{line} {FARM}"]
    else:
        assert heading_texts(doc) == [text]
        assert blocks(doc) == [text, FARM]


def test_setext_headings():
    src = f"Harvest news\nfrom the valley\n============\n\n{FARM}\n\nأخبار الحصاد\n---\n{BRIDGE}\n"
    doc = md(src)
    assert heading_texts(doc) == ["Harvest news\nfrom the valley", "أخبار الحصاد"]
    assert blocks(doc) == ["Harvest news from the valley", FARM, "أخبار الحصاد", BRIDGE]


def test_crlf_lines_work_like_lf_lines():
    src = f"# Title\n\n{FARM_WRAPPED}\n- item one\n- item two\n\n```\ncode\n```\n{AR_TAX}\n"
    lf, crlf = md(src), md(src.replace("\n", "\r\n"))
    assert blocks(crlf) == blocks(lf)
    assert "\r" not in crlf.analysis
    assert heading_texts(crlf) == ["Title"]


def test_headings_match_only_exact_repeats():
    title = "Farmers in the northern valley expect a record wheat harvest this year"
    reworded = title.replace("this year", "after the long rain")
    as_paragraphs = f"Text.\n\n{title}\n\nMore text.\n\n{reworded}\n"
    assert [f.kind for f in findings(md(as_paragraphs))] == ["near"]
    assert findings(md(f"Text.\n\n# {title}\n\nMore text.\n\n## {reworded}\n")) == []
    assert [f.kind for f in findings(md(f"Text.\n\n# {title}\n\nMore text.\n\n{title}\n---\n"))] == ["exact"]


# --- Markdown: ignore directives -------------------------------------------------------------------

@pytest.mark.parametrize("comment", ["<!-- dedup: ignore -->", "<!--dedup:ignore-->", "<!--  DEDUP : Ignore  -->"])
def test_ignore_covers_the_next_block_only(comment):
    src = f"{FARM}\n\n{comment}\n{BRIDGE}\nwrapped on.\n\n{AR_TAX}\n"
    doc = md(src)
    assert covered(src, doc.ignored, BRIDGE) and covered(src, doc.ignored, "wrapped on")
    assert not covered(src, doc.ignored, AR_TAX) and not covered(src, doc.ignored, FARM)
    assert "dedup" not in doc.analysis.lower()


def test_ignore_on_the_same_line_covers_that_block():
    src = f"<!-- dedup: ignore --> {BRIDGE}\n\n{FARM}\n"
    doc = md(src)
    assert covered(src, doc.ignored, BRIDGE) and not covered(src, doc.ignored, FARM)


def test_ignore_inside_a_paragraph_covers_the_next_block():
    src = f"{FARM} <!-- dedup: ignore -->\n\n- {BRIDGE}\n- {AR_TAX}\n"
    doc = md(src)
    assert covered(src, doc.ignored, BRIDGE)
    assert not covered(src, doc.ignored, FARM) and not covered(src, doc.ignored, AR_TAX)


def test_off_on_covers_everything_between():
    src = f"{FARM}\n<!-- dedup: off -->\n# Title\n\n{BRIDGE}\n<!-- dedup: on -->\n{AR_TAX}\n"
    doc = md(src)
    assert covered(src, doc.ignored, "Title") and covered(src, doc.ignored, BRIDGE)
    assert not covered(src, doc.ignored, FARM) and not covered(src, doc.ignored, AR_TAX)


def test_off_without_on_runs_to_the_end():
    src = f"{FARM}\n\n<!-- dedup: off -->\n\n{BRIDGE}\n\n{AR_TAX}"
    doc = md(src)
    assert doc.ignored[-1][1] == len(src)
    assert covered(src, doc.ignored, AR_TAX) and not covered(src, doc.ignored, FARM)


def test_directives_inside_code_are_not_directives():
    src = f"```\n<!-- dedup: off -->\n```\n`<!-- dedup: ignore -->`\n\n{FARM}\n"
    assert md(src).ignored == ()


# --- Markdown through the engine --------------------------------------------------------------------

@pytest.mark.parametrize("sentence, wrapped", [(FARM, FARM_WRAPPED), (AR_TAX, AR_TAX_WRAPPED)], ids=["en", "ar"])
def test_engine_finds_a_repeat_wrapped_in_a_later_paragraph(sentence, wrapped):
    src = (f"---\ntitle: x\n---\n# Harvest\n\n{sentence} {EN[2]}\n\n- {EN[4]}\n\n"
           f"> Then the *report* said it again.\n> {wrapped}\n")
    doc = md(src)
    found = findings(doc)
    assert len(found) == 1
    assert_points_at(doc, found[0], wrapped)
    assert found[0].match.text == sentence


@pytest.mark.parametrize("second_copy", [
    "```\n{s}\n```",
    "~~~text\n{s}\n~~~",
    "    {s}",
    "<!-- dedup: ignore -->\n{s}",
    "<!-- dedup: off -->\n{s}\n<!-- dedup: on -->",
    "<!-- {s} -->",
    "`{s}`",
], ids=["backticks", "tildes", "indented", "ignore", "off-on", "comment", "code-span"])
@pytest.mark.parametrize("sentence", [FARM, AR_TAX], ids=["en", "ar"])
def test_engine_skips_a_repeat_in_code_comments_or_ignored_blocks(second_copy, sentence):
    src = f"{sentence}\n\n{EN[2]}\n\n{second_copy.format(s=sentence)}\n\n{EN[5]}\n"
    assert findings(md(src)) == []


def test_engine_still_finds_a_repeat_after_an_on():
    src = f"{FARM}\n\n<!-- dedup: off -->\n{EN[2]}\n<!-- dedup: on -->\n\n{FARM}\n"
    doc = md(src)
    (finding,) = findings(doc)
    assert_points_at(doc, finding, FARM)


def test_reader_is_chosen_by_extension():
    src = f"```\n{FARM}\n```\n{BRIDGE}\n"
    (doc,) = read_bytes("notes.md", src.encode())
    assert blocks(doc) == [BRIDGE]
    (doc,) = read_bytes("page.htm", f"<pre>{FARM}</pre><p>{BRIDGE}</p>".encode())
    assert blocks(doc) == [BRIDGE]


# --- HTML ---------------------------------------------------------------------------------------

HTML_PAGE = f"""<!DOCTYPE html>
<html lang="ar"><head><meta charset="utf-8"><title>Harvest &amp; rain</title>
<style>p {{ color: red }}</style><script>var hidden = "secret script text";</script>
</head>
<body><nav><a href="/">Home</a></nav>
<h1 class="title">Harvest news</h1>
<p>{FARM_WRAPPED} <em>Officials</em> <a href="https://example.com">said so</a>.</p>
<ul><li>{BRIDGE}</li><li>{AR_TAX}<br>after break</li></ul>
<pre>{EN[4]}</pre><p>Use <code>rm -rf</code> with care.</p>
<noscript>enable scripts</noscript><template><p>template text</p></template>
<svg><text>svg text</text></svg>
</body></html>
"""


def test_html_keeps_prose_and_drops_the_rest():
    doc = page(HTML_PAGE)
    assert blocks(doc) == ["Home", "Harvest news", f"{FARM} Officials said so.", BRIDGE, AR_TAX,
                           "after break", "Use with care."]
    for token in ("secret", "color", "meta", "href", "example", "rm -rf", "enable", "template", "svg", EN[4],
                  "Harvest & rain"):
        assert token not in doc.analysis


def test_html_offsets_are_those_of_the_source():
    doc = page(HTML_PAGE)
    for part in (FARM.split()[0], "Officials", BRIDGE, AR_TAX, "Harvest news"):
        at = HTML_PAGE.index(part)
        assert doc.analysis[at:at + len(part)] == part


def test_html_headings_not_the_title():
    doc = page(HTML_PAGE)
    assert heading_texts(doc) == ["Harvest news"]  # the <title> is metadata: skipped
    src = "<h2>First <b>bold</b> heading</h2><p>Body.</p><h6>أخبار</h6><h3>unclosed"
    assert heading_texts(page(src)) == ["First <b>bold</b> heading", "أخبار", "unclosed"]


def test_html_character_references_decode_in_place():
    src = "<p>Salt &amp; pepper&nbsp;here, caf&eacute;s &#1605;&#1585;&#1581;&#1576;&#1575; &#x1F600; &bogus; x</p>"
    doc = page(src)
    at = src.index("&amp;")
    assert doc.analysis[at] == "&" and doc.analysis[at + 1:at + 5] == WORD_JOINER * 4
    assert normalize(doc.analysis) == "salt pepper here cafes مرحبا bogus x"
    assert "&bogus;" in doc.analysis


def test_html_inline_tags_do_not_split_words():
    src = ("<p>An im<b>port</b>ant w<!-- x -->ord, <a href='u'>link</a>ed, a<img src=i.png>b, "
           "foo<code>x</code>bar, caf&eacute;<i>s</i>.</p><p>block</p>tags<br>apart")
    doc = page(src)
    assert normalize(doc.analysis) == "an important word linked a b foo bar cafes block tags apart"
    at = src.index("port")
    assert doc.analysis[at:at + 4] == "port"


def test_html_engine_finds_a_repeat_with_markup_inside_a_word():
    marked = FARM.replace("record", "rec<b>ord</b>").replace("harvest", "<i>harvest</i>")
    src = f"<p>{FARM}</p><p>{EN[2]}</p><p>{marked}</p>"
    doc = page(src)
    (finding,) = findings(doc)
    assert_points_at(doc, finding, marked)


def test_html_inline_whitespace_joins_and_blocks_break():
    src = f"<div>{FARM_WRAPPED}<span>\n</span>{BRIDGE}</div><div>{AR_TAX}</div>x<br/>y<hr>z"
    assert blocks(page(src)) == [f"{FARM} {BRIDGE}", AR_TAX, "x", "y", "z"]


@pytest.mark.parametrize("src", [
    "<p>unclosed <b>bold <i>italic</p></div></span> tail",
    "<![foo[ marked ]]><p>after</p>",
    "<p>text <!-- unclosed comment",
    "<p>text</p><a href=\"unterminated",
    "</p></p><<<>>> & &# &#x; &#99999999; <a b='c\"d>e",
    "<!doctype><?xml version='1.0'?><![CDATA[ data ]]><p>x</p>",
    "<script>never closed",
    "\ufeff<p>\r\nCRLF\r\nlines\r\n</p>",
    "",
])
def test_malformed_html_does_not_raise(src):
    doc = page(src)
    assert "never closed" not in doc.analysis


def test_html_unclosed_head_ends_at_body_content():
    src = f"<html><head><title>T</title><meta x=1><p>{FARM}</p>"
    assert blocks(page(src)) == [FARM]


def test_html_crlf_becomes_spaces():
    doc = page(f"<p>{FARM_WRAPPED.replace(chr(10), chr(13) + chr(10))}</p>")
    assert blocks(doc) == [FARM] and "\r" not in doc.analysis


def test_html_ignore_covers_the_next_block_element():
    src = (f"<p>{FARM}</p><!-- dedup: ignore --><div><p>{BRIDGE}</p><p>{EN[4]}</p></div><p>{AR_TAX}</p>"
           f"<ul><!--dedup:IGNORE--><li>{EN[2]}<li>{EN[5]}</ul>")
    doc = page(src)
    assert covered(src, doc.ignored, BRIDGE) and covered(src, doc.ignored, EN[4]) and covered(src, doc.ignored, EN[2])
    for part in (FARM, AR_TAX, EN[5]):
        assert not covered(src, doc.ignored, part)


def test_html_ignore_before_loose_text_covers_it_to_the_next_block():
    src = f"<div><!-- dedup: ignore --> {BRIDGE} <b>more</b><p>{FARM}</p></div>"
    doc = page(src)
    assert covered(src, doc.ignored, BRIDGE) and covered(src, doc.ignored, "more")
    assert not covered(src, doc.ignored, FARM)


def test_html_off_on():
    src = (f"<p>{FARM}</p><!-- dedup: off --><p>{BRIDGE}</p><!-- dedup: on --><p>{AR_TAX}</p>"
           "<!-- dedup: off --><p>x</p>")
    doc = page(src)
    assert covered(src, doc.ignored, BRIDGE) and covered(src, doc.ignored, "<p>x")
    assert not covered(src, doc.ignored, FARM) and not covered(src, doc.ignored, AR_TAX)
    assert doc.ignored[-1][1] == len(src)


@pytest.mark.parametrize("sentence", [FARM, AR_TAX], ids=["en", "ar"])
def test_html_engine_finds_a_repeat_across_paragraphs(sentence):
    wrapped = FARM_WRAPPED if sentence == FARM else AR_TAX_WRAPPED
    src = (f"<html><body><p>{sentence} {EN[2]}</p>\n<p>{EN[4]}</p>\n"
           f"<p>Again: <b>x</b>.</p><p>\n{wrapped}</p></body></html>")
    doc = page(src)
    (finding,) = findings(doc)
    assert_points_at(doc, finding, wrapped)


@pytest.mark.parametrize("second_copy", [
    "<pre>{s}</pre>", "<script>var s = '{s}';</script>", "<!-- dedup: ignore --><p>{s}</p>",
    "<!-- dedup: off --><p>{s}</p><!-- dedup: on -->", "<p><code>{s}</code></p>", "<!-- {s} -->",
], ids=["pre", "script", "ignore", "off-on", "code", "comment"])
@pytest.mark.parametrize("sentence", [FARM, AR_TAX], ids=["en", "ar"])
def test_html_engine_skips_repeats_in_code_and_ignored_blocks(second_copy, sentence):
    src = f"<p>{sentence}</p><p>{EN[2]}</p>{second_copy.format(s=sentence)}<p>{EN[5]}</p>"
    assert findings(page(src)) == []


# --- properties ------------------------------------------------------------------------------------

MARKDOWN_PIECES = [
    "# ", "## ", "###### ", " #", "\n", "\n", "\r\n", "\n\n", "```", "~~~", "```py", "    ", "\t", "- ", "* ", "+ ",
    "1. ", "1) ", "2. ", "- [ ] ", "- [x] ", "> ", ">", "[", "]", "](", "(", ")", "][", "![", "[^1]", "[^1]: ",
    "[ref]: ", "`", "``", "<!--", "-->", "<!-- dedup: ignore -->", "<!-- dedup: off -->", "<!--dedup:on-->", "|",
    "|---|", ":-:", "---", "===", "***", "___", "+++", "<div>", "</div>", "<br>", "<script>", "</script>",
    "<pre>", "<https://a.example/x>", "<a@b.co>", "http://x.example/a?b=1", "www.example.com", "&amp;", "&#1605;",
    "\\", "\"", "'", "<", ">", "مرحبا", "الحكومة", "قال", "word", "Sentence one.", " ", "  ", ".", "؟", "*", "_",
    "<?php ", "?>", "<!DOCTYPE x>", "<![CDATA[", "<b>", "</b>", "<code>", "</code>", "<p>", "<table>", "&eacute;",
    "&#0;", "&bogus;", "\\*", "a@b.co", "[ref]: /u 'title'\n", "\"t\"", "<details>", "</details>", "      ",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(MARKDOWN_PIECES), st.text(max_size=4)), max_size=40))
def test_markdown_never_raises_and_keeps_offsets(pieces):
    src = "".join(pieces)
    doc = md(src)  # asserts the character invariant
    for at in (i for i in range(len(src) - 1) if src[i:i + 2] == "\r\n"):
        assert doc.analysis[at] == " "


HTML_PIECES = [
    "<p>", "</p>", "<div class='x'>", "</div>", "<br/>", "<br>", "<hr>", "<script>", "</script>", "<style>",
    "</style>", "<pre>", "</pre>", "<code>", "</code>", "<h1>", "</h1>", "<title>", "</title>", "<head>", "</head>",
    "<body>", "<li>", "<ul>", "</ul>", "<table><tr><td>", "</td>", "<a href=\"", "\">", "\"", "'", "=", "<", ">", "</",
    "<!--", "-->", "<!-- dedup: ignore -->", "<!-- dedup: off -->", "<!-- dedup: on -->", "<![CDATA[", "]]>",
    "<![foo[", "<!doctype html>", "<?xml?>", "<!x>", "&amp;", "&#1605;", "&#x41;", "&nbsp", "&", "&#", ";", "\n",
    "\r\n", " ", "مرحبا", "الحكومة", "word", "Sentence one.", "<svg>", "</svg>", "<b>", "</i>",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(HTML_PIECES), st.text(max_size=4)), max_size=40))
def test_html_tag_soup_never_raises_and_keeps_offsets(pieces):
    src = "".join(pieces)
    doc = page(src)
    if "&" not in src:  # without references, every character is the source's or a blank
        assert all(a == s or a in " \n" + WORD_JOINER for a, s in zip(doc.analysis, src))


# --- linear time -------------------------------------------------------------------------------------

ADVERSARIAL = {
    "backtick runs": lambda n: "".join("`" * (i % 7 + 1) + "x" for i in range(n // 5)),
    "open brackets": lambda n: "[a](" * (n // 4),
    "spaces in a link": lambda n: "[a](" + " " * n + "x",
    "unclosed titles": lambda n: '[a](b "' * (n // 7),
    "open tags": lambda n: "<a " * (n // 3),
    "quoted attributes": lambda n: '<a x="' * (n // 6) + ">",
    "open comments": lambda n: "<!--x> " * (n // 7),
    "open end tags": lambda n: "</a" * (n // 3),
    "open marked sections": lambda n: "<![CDATA[ x> " * (n // 13),
    "url prefixes": lambda n: "http://" * (n // 7),
    "heading spaces": lambda n: "# " + " " * n + "x",
    "delimiter dashes": lambda n: "|" + "-" * n + "x\n",
    "many lines": lambda n: "a\n=\n- b\n> c\n" * (n // 12),
    "definitions with open titles": lambda n: "[a]: b\n'x\n" * (n // 10),
    "nested list items": lambda n: "".join(" " * (2 * i) + "- x\n" for i in range(int((n / 2) ** 0.5))),
    "html block lines": lambda n: "<div>\n" + "<p>x <b>y</b>\n" * (n // 14),
    "nested brackets": lambda n: "![a [b] " * (n // 8),
}


def _seconds(reader, text: str) -> float:
    started = time.perf_counter()
    reader("x", text)
    return time.perf_counter() - started


@pytest.mark.parametrize("reader", [read_markdown, read_html], ids=["markdown", "html"])
@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_input_takes_linear_time(reader, name):
    """Eight times the input may take at most ~30 times as long (quadratic would be 64)."""
    make = ADVERSARIAL[name]
    small = min(_seconds(reader, make(25_000)) for _ in range(3))
    large = _seconds(reader, make(200_000))
    assert large < 30 * max(small, 0.005)
