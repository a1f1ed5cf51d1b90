"""The ``html`` format: one self-contained page for editors (inline CSS and script, no assets).

The page has a summary table (findings by kind and scope), then every document involved in a
finding, in report order, rendered from its source text: each repeated passage (a finding's
`sentence`) is a ``<mark class="kind-…" id="fN" data-finding="N">``, each passage it repeats
(the `match`) a lighter ``<mark class="match" id="mN">``. Clicking a mark (or Enter on it)
shows the finding's details panel (``<section class="detail" id="dN" hidden>``): both passages
side by side and a word-level diff. Findings are numbered from 1 in report order.

Overlapping spans are nested safely: a span that crosses another's end is closed there and
reopened after it (the continuation carries no id), so the markup is always well formed.
Everything taken from documents is escaped; a span whose text is not at its offsets in the
source (or whose document is not in ``ctx.sources``, as for archive matches) is shown from its
own text instead.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import IO, TYPE_CHECKING, Iterable

from ..model import Finding, Report, Span
from .messages import place

if TYPE_CHECKING:
    from . import FormatContext

KINDS = ("exact", "normalized", "near", "contained", "conflict")
SCOPES = ("document", "corpus", "archive")
# characters HTML does not allow as text (C0/C1 controls other than tab, LF, CR; lone surrogates)
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

CSS = """
:root { --exact: #f4a3a3; --normalized: #f7c08a; --near: #fbe38e; --contained: #a9cdf5;
  --conflict: #d5b3f0; --match: #e3f2e1; --line: #555; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; color: #222; }
table.summary { border-collapse: collapse; margin: 1rem 0; }
table.summary th, table.summary td { border: 1px solid #bbb; padding: .25rem .6rem; text-align: end; }
table.summary th:first-child { text-align: start; }
.swatch { display: inline-block; width: .9em; height: .9em; margin-inline-end: .4em; vertical-align: -.1em;
  border: 1px solid var(--line); }
.document { border-top: 1px solid #ccc; margin-top: 2rem; }
.document h2 { font-size: 1.1rem; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.source { white-space: pre-wrap; unicode-bidi: plaintext; overflow-wrap: anywhere; background: #fafafa;
  border: 1px solid #ddd; padding: .75rem; font-size: 1.05rem; }
mark { color: inherit; border-bottom: 2px solid var(--line); padding: 0 1px; }
mark[data-finding] { cursor: pointer; }
mark:focus { outline: 2px solid #1a5fb4; }
.kind-exact { background: var(--exact); border-bottom-style: solid; }
.kind-normalized { background: var(--normalized); border-bottom-style: solid; }
.kind-near { background: var(--near); border-bottom-style: dashed; }
.kind-contained { background: var(--contained); border-bottom-style: dotted; }
.kind-conflict { background: var(--conflict); border-bottom-style: double; border-bottom-width: 3px; }
mark.match { background: var(--match); border-bottom: 1px dotted var(--line); }
.detail { border: 1px solid #bbb; border-inline-start: 4px solid var(--line); margin: .75rem 0; padding: .5rem .9rem; }
.detail h3 { font-size: 1rem; margin: .2rem 0 .5rem; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1rem; }
.pair figure { margin: 0; }
.pair figcaption { font-size: .85rem; color: #555; overflow-wrap: anywhere; }
.passage, .diff { white-space: pre-wrap; unicode-bidi: plaintext; overflow-wrap: anywhere; margin: .3rem 0; }
.diff del { background: #fcd4d4; text-decoration: line-through; }
.diff ins { background: #cdeccd; text-decoration: underline; }
.note { color: #666; font-style: italic; }
@media (max-width: 40rem) {
  body { padding: 0 .5rem; }
  .pair { grid-template-columns: minmax(0, 1fr); }
  table.summary { display: block; overflow-x: auto; }
  table.summary th, table.summary td { padding: .2rem .35rem; }
}
@media print {
  .detail[hidden] { display: block !important; }
  .detail, .source { break-inside: avoid-page; }
  mark, .diff del, .diff ins { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  mark { border-bottom-width: 2px; text-decoration: underline; }
  mark.match { border: 1px dotted #000; text-decoration: none; }
}
"""

SCRIPT = """
(function () {
  function toggle(mark) {
    mark.getAttribute("data-finding").split(" ").forEach(function (n) {
      var panel = document.getElementById("d" + n);
      if (!panel) return;
      panel.hidden = !panel.hidden;
      mark.setAttribute("aria-expanded", String(!panel.hidden));
      if (!panel.hidden) panel.scrollIntoView({block: "nearest"});
    });
  }
  document.addEventListener("click", function (e) {
    var mark = e.target.closest && e.target.closest("mark[data-finding]");
    if (mark) toggle(mark);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" && e.key !== " ") return;
    var mark = e.target.closest && e.target.closest("mark[data-finding]");
    if (mark) { e.preventDefault(); toggle(mark); }
  });
})();
"""


def esc(text: object) -> str:
    """`text` escaped for HTML text and attribute values, invalid characters replaced."""
    return html.escape(_INVALID.sub("\ufffd", str(text)), quote=True)


@dataclass(frozen=True)
class Marked:
    """A span to mark in a document: its range, the tag opening it (`first`, with its id) and
    the tag reopening it after a crossing span closed it (`again`, without the id)."""

    start: int
    end: int
    rank: int  # at equal extents: sentences (0) outside matches (1); then by finding number
    first: str
    again: str


class HtmlFormat:
    name = "html"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        out.write(render_page(report, ctx))


def render_page(report: Report, ctx: FormatContext) -> str:
    """The whole page for `report`."""
    numbered = list(enumerate(report.findings, 1))
    docs = involved_documents(report.findings)
    if numbered:
        body = (summary_table(report.findings)
                + "".join(document_section(i, doc, numbered, ctx) for i, doc in enumerate(docs, 1)))
    else:
        body = '<p class="empty">No repeats were found.</p>\n'
    return ("<!DOCTYPE html>\n"
            '<html lang="und">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>dedup: repeated passages</title>\n"
            f"<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>Repeated passages</h1>\n<p>{headline(report, docs)} "
            f"&middot; dedup {esc(ctx.version)}</p>\n"
            + ('<p class="note">Click a marked passage (or press Enter on it) for its details.</p>\n'
               if numbered else "")
            + "</header>\n<main>\n" + body + "</main>\n"
            f"<script>{SCRIPT}</script>\n</body>\n</html>\n")


def headline(report: Report, docs: list[str]) -> str:
    n = len(report.findings)
    return f"{n} finding{'s' * (n != 1)} in {len(docs)} document{'s' * (len(docs) != 1)}"


def involved_documents(findings: Iterable[Finding]) -> list[str]:
    """Ids of documents holding a finding's sentence or match, in order of first mention;
    archive matches (shown in the details only) do not bring their document in."""
    seen: dict[str, None] = {}
    for f in findings:
        seen.setdefault(f.sentence.doc)
        if f.scope != "archive":
            seen.setdefault(f.match.doc)
    return list(seen)


# --- summary ---------------------------------------------------------------------------------

def summary_table(findings: list[Finding]) -> str:
    """Counts by kind (rows) and scope (columns), with totals; cells carry data-kind/data-scope."""
    counts: Counter[tuple[str, str]] = Counter((f.kind, f.scope) for f in findings)
    kinds = list(KINDS) + sorted({f.kind for f in findings} - set(KINDS))
    scopes = list(SCOPES) + sorted({f.scope for f in findings} - set(SCOPES))
    head = "".join(f"<th scope=\"col\">{esc(s)}</th>" for s in scopes)
    rows = []
    for kind in kinds:
        cells = "".join(_count_cell(kind, s, counts[kind, s]) for s in scopes)
        total = sum(counts[kind, s] for s in scopes)
        rows.append(f'<tr><th scope="row"><span class="swatch kind-{esc(kind)}"></span>{esc(kind)}</th>'
                    f"{cells}{_count_cell(kind, 'all', total)}</tr>")
    totals = "".join(_count_cell("all", s, sum(counts[k, s] for k in kinds)) for s in scopes)
    rows.append(f'<tr><th scope="row">all</th>{totals}{_count_cell("all", "all", len(findings))}</tr>')
    return ('<table class="summary">\n<caption>Findings by kind and scope</caption>\n'
            f'<thead><tr><th scope="col">kind</th>{head}<th scope="col">all</th></tr></thead>\n'
            "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n")


def _count_cell(kind: str, scope: str, count: int) -> str:
    return f'<td data-kind="{esc(kind)}" data-scope="{esc(scope)}">{count}</td>'


# --- documents -------------------------------------------------------------------------------

def document_section(index: int, doc: str, numbered: list[tuple[int, Finding]], ctx: FormatContext) -> str:
    """One document: its source with the marks, then the details of the findings on it."""
    source = ctx.sources.get(doc)
    marks, loose = document_marks(doc, source, numbered, ctx)
    own = [(n, f) for n, f in numbered if f.sentence.doc == doc]
    note = f"{len(own)} repeated passage{'s' * (len(own) != 1)}" if own else "earlier passages only"
    parts = [f'<section class="document" id="doc{index}">\n<h2>{esc(doc)}</h2>\n<p class="note">{note}</p>\n']
    if source is None:
        parts.append('<p class="note">Source text not available; passages shown on their own.</p>\n')
    else:
        parts.append(f'<div class="source" dir="auto">{nest(source, marks)}</div>\n')
    if loose:
        parts.append('<div class="loose">\n' + "".join(
            f'<p class="passage" dir="auto">{m.first}{esc(text)}</mark></p>\n' for m, text in loose) + "</div>\n")
    placed = placed_matches(numbered, ctx)
    parts.extend(detail_panel(n, f, ctx, n in placed) for n, f in own)
    parts.append("</section>\n")
    return "".join(parts)


def fits(span: Span, source: str | None) -> bool:
    """Whether `span` lies at its offsets in `source`."""
    return source is not None and 0 <= span.start < span.end <= len(source) and source[span.start:span.end] == span.text


def placed_matches(numbered: list[tuple[int, Finding]], ctx: FormatContext) -> set[int]:
    """Numbers of the findings whose match is marked in its document's source (has an ``mN``)."""
    return {n for n, f in numbered if f.scope != "archive" and fits(f.match, ctx.sources.get(f.match.doc))}


def document_marks(doc: str, source: str | None, numbered: list[tuple[int, Finding]],
                   ctx: FormatContext) -> tuple[list[Marked], list[tuple[Marked, str]]]:
    """The spans to mark in `doc`'s source, and the sentences that do not fit it (with their text)."""
    marks: list[Marked] = []
    loose: list[tuple[Marked, str]] = []
    for n, f in numbered:
        if f.sentence.doc == doc:
            mark = sentence_mark(n, f, ctx)
            if fits(f.sentence, source):
                marks.append(mark)
            else:
                loose.append((mark, f.sentence.text))
        if f.match.doc == doc and f.scope != "archive" and fits(f.match, source):
            marks.append(match_mark(n, f))
    return marks, loose


def sentence_mark(n: int, f: Finding, ctx: FormatContext) -> Marked:
    classes = f"kind-{esc(f.kind)} sev-{esc(ctx.level(f))}"
    title = esc(f"#{n} {f.kind} repeat ({f.scope}), score {f.score:.2f}: click for details")
    common = f'class="{classes}" data-finding="{n}" title="{title}"'
    return Marked(f.sentence.start, f.sentence.end, 0,
                  f'<mark id="f{n}" {common} tabindex="0" role="button" aria-controls="d{n}" aria-expanded="false">',
                  f"<mark {common}>")


def match_mark(n: int, f: Finding) -> Marked:
    common = f'class="match" data-match="{n}" title="{esc(f"earlier passage repeated by #{n}")}"'
    return Marked(f.match.start, f.match.end, 1, f'<mark id="m{n}" {common}>', f"<mark {common}>")


def nest(text: str, marks: list[Marked]) -> str:
    """`text` escaped, each mark's range wrapped in its tags, always properly nested.

    At each boundary the open marks ending there are closed, with any opened inside them
    (those are reopened with their `again` tag); then the marks starting there open, longer
    ones outside."""
    bounds = sorted({0, len(text)} | {m.start for m in marks} | {m.end for m in marks})
    starting: dict[int, list[Marked]] = {}
    for m in sorted(marks, key=lambda m: (m.start, -m.end, m.rank)):
        starting.setdefault(m.start, []).append(m)
    out: list[str] = []
    stack: list[Marked] = []
    for here, upto in zip(bounds, bounds[1:] + [None]):
        ending = next((i for i, m in enumerate(stack) if m.end <= here), None)
        reopen: list[Marked] = []
        if ending is not None:
            reopen = [m for m in stack[ending:] if m.end > here]
            out.append("</mark>" * (len(stack) - ending))
            del stack[ending:]
        for m in reopen:
            out.append(m.again)
            stack.append(m)
        for m in starting.get(here, []):
            out.append(m.first)
            stack.append(m)
        if upto is not None:
            out.append(esc(text[here:upto]))
    return "".join(out)


# --- details ---------------------------------------------------------------------------------

def detail_panel(n: int, f: Finding, ctx: FormatContext, match_marked: bool) -> str:
    """The hidden panel of finding `n`: both passages side by side and their word diff."""
    later = passage_figure("Later copy", f.sentence, f"#f{n}")
    earlier = passage_figure("Earlier passage", f.match, f"#m{n}" if match_marked else None)
    return (f'<section class="detail" id="d{n}" data-kind="{esc(f.kind)}" hidden>\n'
            f"<h3>#{n} {esc(f.kind)} &middot; {esc(f.scope)} &middot; score {f.score:.2f} "
            f"&middot; {esc(ctx.level(f))}</h3>\n"
            f'<div class="pair">\n{later}{earlier}</div>\n'
            f"{diff_paragraph(f.match.text, f.sentence.text)}\n"
            "</section>\n")


def passage_figure(label: str, span: Span, anchor: str | None) -> str:
    where = esc(place(span))
    link = f'<a href="{anchor}">{where}</a>' if anchor else where
    return (f"<figure><figcaption>{label} &middot; {link}</figcaption>\n"
            f'<div class="passage" dir="auto">{esc(span.text)}</div></figure>\n')


def diff_paragraph(earlier: str, later: str) -> str:
    """The word diff of the two passages, or a note when their words are the same."""
    if earlier.split() == later.split():
        return '<p class="diff same note" dir="auto">The two passages have the same words.</p>'
    return f'<p class="diff" dir="auto">{word_diff(earlier, later)}</p>'


def word_diff(earlier: str, later: str) -> str:
    """The words of `earlier` turned into `later`: removed words in <del>, added ones in <ins>."""
    old, new = earlier.split(), later.split()
    parts: list[str] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(esc(" ".join(old[i1:i2])))
            continue
        if i2 > i1:
            parts.append(f"<del>{esc(' '.join(old[i1:i2]))}</del>")
        if j2 > j1:
            parts.append(f"<ins>{esc(' '.join(new[j1:j2]))}</ins>")
    return " ".join(parts)
