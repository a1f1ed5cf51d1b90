"""The ``html`` format: one self-contained page for editors (inline CSS and script, no assets).

The page opens with a summary table (findings by kind and scope), filters (tick boxes for each
kind, severity and scope the report holds) and, for more than one document, an index of the
documents with their counts (findings in each, by kind) linking to each. Then every document
involved in a finding, in report order, as a collapsible ``<details class="document"
id="docN">`` (collapsed at first in a report of more than `OPEN_DOCUMENTS` documents, or when
longer than `OPEN_CHARACTERS`; a one-document report is always open), rendered from its
source text: each repeated passage (a finding's `sentence`) is a ``<mark class="kind-…"
id="fN" data-finding="N">``, each passage it repeats (the `match`) a lighter ``<mark
class="match" id="mN">``. Clicking a mark (or Enter on it) shows the finding's details panel
(``<section class="detail" id="dN" hidden>``): both passages side by side and a word-level
diff. Findings are numbered from 1 in report order. Marks and panels carry ``data-kind``,
``data-severity`` and ``data-scope`` for the filters (applied in the page, see `html_assets`).

Direction: the page's own words are English, so the page is ``dir="ltr"``; each document's
body (its source, its panels) takes the direction of its text (`text_direction`), and every
passage is ``dir="auto"`` with each paragraph directed by its own text.

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import IO, TYPE_CHECKING

from ..model import Finding, Report, Span
from .html_assets import CSS, filter_css, script
from .messages import place

if TYPE_CHECKING:
    from . import FormatContext

KINDS = ("exact", "normalized", "near", "contained", "conflict")
SCOPES = ("document", "corpus", "archive")
SEVERITIES = ("error", "warning", "info")
SCOPE_LABELS = {"document": "inside one document", "corpus": "across documents", "archive": "against the archive"}
# a report of more documents than this starts with every document collapsed; so does a longer document
OPEN_DOCUMENTS = 10
OPEN_CHARACTERS = 10_000
# characters HTML does not allow as text (C0/C1 controls other than tab, LF, CR; lone surrogates)
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# letters of the right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, ...)
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]")
_LETTER = re.compile(r"[^\W\d_]")
_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")  # a kind, severity or scope usable in a class name


def esc(text: object) -> str:
    """`text` escaped for HTML text and attribute values, invalid characters replaced."""
    return html.escape(_INVALID.sub("\ufffd", str(text)), quote=True)


def text_direction(text: str) -> str:
    """"rtl" when most letters of `text` are of a right-to-left script, else "ltr"."""
    rtl = len(_RTL_LETTER.findall(text))
    return "rtl" if rtl and 2 * rtl > len(_LETTER.findall(text)) else "ltr"


@dataclass(frozen=True)
class Marked:
    """A span to mark in a document: its range, the tag opening it (`first`, with its id) and
    the tag reopening it after a crossing span closed it (`again`, without the id)."""

    start: int
    end: int
    rank: int  # at equal extents: sentences (0) outside matches (1); then by finding number
    first: str
    again: str


@dataclass
class Involved:
    """A document on the page: its number (``docN``), id, source text (None when not given),
    the findings on it (their sentence is here) and those whose match is here."""

    number: int
    doc: str
    source: str | None
    own: list[tuple[int, Finding]] = field(default_factory=list)
    matched: list[tuple[int, Finding]] = field(default_factory=list)


@dataclass(frozen=True)
class Values:
    """The kinds, severities and scopes a report holds, in the filters' (and columns') order."""

    kinds: list[str]
    severities: list[str]
    scopes: list[str]

    @classmethod
    def of(cls, findings: list[Finding], ctx: FormatContext) -> Values:
        def ordered(known: tuple[str, ...], present: set[str]) -> list[str]:
            return [v for v in known if v in present] + sorted(present - set(known))
        return cls(ordered(KINDS, {f.kind for f in findings}), ordered(SEVERITIES, {ctx.level(f) for f in findings}),
                   ordered(SCOPES, {f.scope for f in findings}))


class HtmlFormat:
    name = "html"

    def write(self, report: Report, out: IO[str], ctx: FormatContext) -> None:
        out.write(render_page(report, ctx))


def render_page(report: Report, ctx: FormatContext) -> str:
    """The whole page for `report`."""
    numbered = list(enumerate(report.findings, 1))
    docs = involved(numbered, ctx)
    values = Values.of(report.findings, ctx)
    if numbered:
        placed = placed_matches(numbered, ctx)
        tools = (summary_table(report.findings) + filters(report.findings, values, ctx)
                 + document_index(docs, values))
        body = "".join(document_section(d, ctx, placed, starts_open(d, len(docs))) for d in docs)
        data = script(len(docs), values.kinds, values.severities, values.scopes, finding_numbers(docs, values, ctx))
    else:
        tools, data = "", script(0, [], [], [], [])
        body = '<p class="empty">No repeats were found.</p>\n'
    hide = filter_css([("kind", values.kinds), ("severity", values.severities), ("scope", values.scopes)])
    return ("<!DOCTYPE html>\n"
            '<html lang="und" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>dedup: repeated passages</title>\n"
            f"<style>{CSS}{hide}</style>\n</head>\n<body>\n"
            f'<header lang="en"><h1>Repeated passages</h1>\n<p>{headline(report, docs)} '
            f"&middot; dedup {esc(ctx.version)}</p>\n"
            + ('<p class="note">Click a marked passage (or press Enter on it) for its details.</p>\n'
               if numbered else "")
            + "</header>\n"
            + (f'<nav lang="en" aria-label="Findings and documents">\n{tools}</nav>\n' if tools else "")
            + "<main>\n" + body + "</main>\n"
            f"<script>{data}</script>\n</body>\n</html>\n")


def headline(report: Report, docs: list[Involved]) -> str:
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


def involved(numbered: list[tuple[int, Finding]], ctx: FormatContext) -> list[Involved]:
    """The documents on the page (see `involved_documents`), numbered from 1, with their findings."""
    docs = {doc: Involved(i, doc, ctx.sources.get(doc))
            for i, doc in enumerate(involved_documents(f for _, f in numbered), 1)}
    for n, f in numbered:
        docs[f.sentence.doc].own.append((n, f))
        if f.scope != "archive":
            docs[f.match.doc].matched.append((n, f))
    return list(docs.values())


def finding_numbers(docs: list[Involved], values: Values, ctx: FormatContext) -> list[int]:
    """Five numbers per finding, in report order, for the page's script: the number of its
    document, of its match's document (0 for an archive match), its kind, severity and scope
    (as indexes into `values`)."""
    number = {d.doc: d.number for d in docs}
    rows: dict[int, list[int]] = {}
    for d in docs:
        for n, f in d.own:
            rows[n] = [d.number, number[f.match.doc] if f.scope != "archive" else 0,
                       values.kinds.index(f.kind), values.severities.index(ctx.level(f)),
                       values.scopes.index(f.scope)]
    return [x for n in sorted(rows) for x in rows[n]]


# --- summary, filters, index -----------------------------------------------------------------

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


def filters(findings: list[Finding], values: Values, ctx: FormatContext) -> str:
    """Tick boxes for each kind, severity and scope the report holds (with its count), and the
    line saying how many findings are shown; nothing for a report of one finding."""
    if len(findings) < 2:
        return ""
    counts: dict[str, Counter[str]] = {"kind": Counter(f.kind for f in findings),
                                       "severity": Counter(ctx.level(f) for f in findings),
                                       "scope": Counter(f.scope for f in findings)}
    groups = (("kind", "Kind", values.kinds), ("severity", "Severity", values.severities),
              ("scope", "Scope", values.scopes))
    sets = []
    for group, legend, present in groups:
        boxes = "".join(filter_box(group, value, counts[group][value]) for value in present if _NAME.match(value))
        sets.append(f"<fieldset><legend>{legend}</legend>{boxes}</fieldset>\n")
    return (f'<form class="filters" id="filters" aria-label="Show findings of">\n{"".join(sets)}</form>\n'
            f'<p id="shown" class="note" role="status" aria-live="polite">All {len(findings)} findings shown.</p>\n')


def filter_box(group: str, value: str, count: int) -> str:
    label = SCOPE_LABELS.get(value, value) if group == "scope" else value
    swatch = f'<span class="swatch kind-{value}"></span>' if group == "kind" else ""
    return (f'<label><input type="checkbox" name="{group}" value="{value}" checked> {swatch}{esc(label)} '
            f'<span class="count">({count})</span></label>\n')


def document_index(docs: list[Involved], values: Values) -> str:
    """For more than one document: buttons to expand or collapse them all and a table of the
    documents (each a link to it) with the findings on each, in all and by kind."""
    if len(docs) < 2:
        return ""
    head = "".join(f'<th scope="col"><span class="swatch kind-{esc(k)}"></span>{esc(k)}</th>' for k in values.kinds)
    rows = "".join(index_row(d, values) for d in docs)
    return ('<p class="tools"><button type="button" data-open="all">Expand all documents</button>'
            '<button type="button" data-open="none">Collapse all documents</button></p>\n'
            f'<details class="index" id="index" open>\n<summary>Documents ({len(docs)})</summary>\n'
            '<div class="index-wrap"><table class="index">\n'
            f'<thead><tr><th scope="col">document</th><th scope="col">findings</th>{head}</tr></thead>\n'
            f"<tbody>\n{rows}</tbody>\n</table></div>\n</details>\n")


def index_row(d: Involved, values: Values) -> str:
    kinds: Counter[str] = Counter(f.kind for _, f in d.own)
    cells = "".join(_index_cell(kinds[k]) for k in values.kinds)
    return (f'<tr data-doc="{d.number}"><td><a href="#doc{d.number}">{esc(d.doc)}</a></td>'
            f"{_index_cell(len(d.own))}{cells}</tr>\n")


def _index_cell(count: int) -> str:
    return f'<td class="zero">{count}</td>' if count == 0 else f"<td>{count}</td>"


# --- documents -------------------------------------------------------------------------------

def starts_open(d: Involved, documents: int) -> bool:
    """Whether document `d` of a page of `documents` starts open: always when it is the only
    one; else when the page holds at most OPEN_DOCUMENTS and it is at most OPEN_CHARACTERS long."""
    return documents == 1 or (documents <= OPEN_DOCUMENTS and len(d.source or "") <= OPEN_CHARACTERS)


def document_section(d: Involved, ctx: FormatContext, placed: set[int], is_open: bool) -> str:
    """One document, collapsible (open when `is_open`): its id and counts, then its source with
    the marks and the details of the findings on it, in the direction of its text."""
    marks, loose = document_marks(d, ctx)
    text = d.source if d.source is not None else " ".join(f.sentence.text for _, f in d.own)
    opening = (f'<details class="document" id="doc{d.number}"{" open" if is_open else ""}>\n'
               f'<summary lang="en"><h2>{esc(d.doc)}</h2> <span class="counts">{document_counts(d)}</span></summary>\n'
               f'<div class="doc-body" dir="{text_direction(text)}">\n')
    parts = [opening]
    if d.source is None:
        parts.append('<p class="note" lang="en" dir="ltr">Source text not available; passages shown on their own.</p>\n')
    else:
        parts.append(f'<div class="source" dir="auto">{nest(d.source, marks)}</div>\n')
    if loose:
        parts.append('<div class="loose">\n' + "".join(
            f'<p class="passage" dir="auto">{m.first}{esc(text)}</mark></p>\n' for m, text in loose) + "</div>\n")
    parts.extend(detail_panel(n, f, ctx, n in placed) for n, f in d.own)
    parts.append("</div>\n</details>\n")
    return "".join(parts)


def document_counts(d: Involved) -> str:
    """"3 repeated passages: 2 exact, 1 near", or what else the document holds."""
    if not d.own:
        return "earlier passages only"
    kinds: Counter[str] = Counter(f.kind for _, f in d.own)
    by_kind = ", ".join(f"{kinds[k]} {esc(k)}" for k in sorted(kinds, key=_kind_order))
    return f"{len(d.own)} repeated passage{'s' * (len(d.own) != 1)}: {by_kind}"


def _kind_order(kind: str) -> tuple[int, str]:
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), kind)


def fits(span: Span, source: str | None) -> bool:
    """Whether `span` lies at its offsets in `source`."""
    return source is not None and 0 <= span.start < span.end <= len(source) and source[span.start:span.end] == span.text


def placed_matches(numbered: list[tuple[int, Finding]], ctx: FormatContext) -> set[int]:
    """Numbers of the findings whose match is marked in its document's source (has an ``mN``)."""
    return {n for n, f in numbered if f.scope != "archive" and fits(f.match, ctx.sources.get(f.match.doc))}


def document_marks(d: Involved, ctx: FormatContext) -> tuple[list[Marked], list[tuple[Marked, str]]]:
    """The spans to mark in `d`'s source, and the sentences that do not fit it (with their text)."""
    marks: list[Marked] = []
    loose: list[tuple[Marked, str]] = []
    for n, f in d.own:
        mark = sentence_mark(n, f, ctx)
        if fits(f.sentence, d.source):
            marks.append(mark)
        else:
            loose.append((mark, f.sentence.text))
    marks.extend(match_mark(n, f, ctx) for n, f in d.matched if fits(f.match, d.source))
    return marks, loose


def filter_data(f: Finding, ctx: FormatContext) -> str:
    """The attributes the filters select marks and panels by."""
    return f'data-kind="{esc(f.kind)}" data-severity="{esc(ctx.level(f))}" data-scope="{esc(f.scope)}"'


def sentence_mark(n: int, f: Finding, ctx: FormatContext) -> Marked:
    classes = f"kind-{esc(f.kind)} sev-{esc(ctx.level(f))}"
    title = esc(f"#{n} {f.kind} repeat ({f.scope}), score {f.score:.2f}: click for details")
    common = f'class="{classes}" data-finding="{n}" {filter_data(f, ctx)} title="{title}"'
    return Marked(f.sentence.start, f.sentence.end, 0,
                  f'<mark id="f{n}" {common} tabindex="0" role="button" aria-controls="d{n}" aria-expanded="false">',
                  f"<mark {common}>")


def match_mark(n: int, f: Finding, ctx: FormatContext) -> Marked:
    common = (f'class="match" data-match="{n}" {filter_data(f, ctx)} '
              f'title="{esc(f"earlier passage repeated by #{n}")}"')
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
    """The hidden panel of finding `n`: both passages side by side and their word diff. Its
    own words are a left-to-right run, whatever the direction of the document around it."""
    later = passage_figure("Later copy", f.sentence, f"#f{n}")
    earlier = passage_figure("Earlier passage", f.match, f"#m{n}" if match_marked else None)
    scope = SCOPE_LABELS.get(f.scope, f.scope)
    return (f'<section class="detail" id="d{n}" {filter_data(f, ctx)} hidden>\n'
            f'<h3><span dir="ltr" lang="en">#{n} {esc(f.kind)} &middot; {esc(scope)} '
            f"&middot; score {f.score:.2f} &middot; {esc(ctx.level(f))}</span></h3>\n"
            f'<div class="pair">\n{later}{earlier}</div>\n'
            f"{diff_paragraph(f.match.text, f.sentence.text)}\n"
            "</section>\n")


def passage_figure(label: str, span: Span, anchor: str | None) -> str:
    where = esc(place(span))
    link = f'<a href="{anchor}">{where}</a>' if anchor else where
    return (f'<figure><figcaption><span dir="ltr" lang="en">{label} &middot; {link}</span></figcaption>\n'
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
