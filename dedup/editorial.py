"""Editorial rules: which verified repeats an editor wants flagged.

`verify` decides whether two passages say the same thing; this stage decides whether saying
it twice is a defect. Real news repeats itself by design in ways no editor fixes, and a check
that flags those gets switched off. Each accepted pair gets a verdict (`REPORT` or the reason
it is left out), computed over whole arrays of pairs, with Python only for the few documents
that hold a pair:

- `BOILERPLATE`: a passage whose normalized text recurs in many documents of the run (app
  promos, newsletter lines, agency sign-offs, author bios): counted once in the stats.
- `STRUCTURAL`: a repeat by the house's design inside one article: the summary paragraph
  (standfirst) restated in the body, or one of its sentences carried into it word for word (a
  first paragraph is a summary when the lead restates it, or when two or more of its sentences
  are each retold further down, one at least repeated), an
  intertitle or pull quote lifted from a quotation, a statement summarized with a quoted
  fragment and then given as the full quote, the headline (a first line ending on "?" or "!"
  too) restated further down, a bulleted
  fact box (the winners, a sentence's terms) restating the prose. Reported at ``info``
  severity when asked for.
- `TEASER`: a page's related-article teasers (another story's lead less its dateline, and the
  rest of the page after it), previews cut off with an ellipsis, and a closing block of
  paragraphs that each retell one above them (a page's list of its story's latest items).
- `SHORT`: an exact repeat of a passage under `min_words` words inside one article (a refrain,
  a timeline's date, a fragment cut at an abbreviation), unless a whole line is doubled right
  after itself (a pasted caption); two sentences under `statement_words` words inside one
  article that match only loosely (in so few words a changed word is another statement:
  "Patients want clarity" / "Doctors want clarity"); and a passage under `fragment_words` words
  standing inside a sentence of another document (an age, a name and title, an attribution).
- `LABEL`: a fuzzy match with a short line of its own without final punctuation (an
  intertitle, a caption, a label): like a headline, matched only as an exact copy; and such a
  line recurring in one article, other than right after itself ("Winners meet in final").
- `TEMPLATE`: a frame filled with other facts three or more times in one article (fixtures, an
  award list, a line-up, readers' comments echoing a question), or two items of one list:
  fuzzy matches among them are no repeats; exact copies still are. Two lists of names
  (line-ups) in different documents are no repeat either: a team's line-up recurs from match
  to match.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from .model import Document
from .normalize import normalize
from .group import UnionFind
from .passages import PassageTable, in_ranges
from .segment import FINAL_PUNCT, QUOTES
from .shingle import text_hashes
from .stopwords import STOPWORDS
from .verify import CONFLICT, CONTAINED, EXACT, NEAR, NORMALIZED

REPORT, BOILERPLATE, STRUCTURAL, SHORT, TEMPLATE, TEASER, LABEL = range(7)
REASONS = ("reported", "boilerplate", "structural", "short", "template", "teaser", "label")


@dataclass(frozen=True)
class EditorialRules:
    """Where a verified repeat stops being a defect (see the module docstring)."""

    boilerplate_share: float = 0.002  # a passage in more than this share of the run's documents ...
    boilerplate_documents: int = 5  # ... and in at least this many is boilerplate
    standfirst_words: int = 10  # the standfirst: the first paragraph after the headline this long
    standfirst_paragraphs: int = 4  # ... in an article of at least this many paragraphs
    standfirst_overlap: float = 0.35  # ... when this share of the lead's opening sentence restates it
    pull_quote_words: int = 8  # a paragraph of one passage this short is an intertitle or pull quote
    headline_words: int = 15  # a first line this short ending on "?" or "!" is a headline too
    retold_sentences: int = 2  # a first paragraph with this many sentences each retold further down is a summary
    summary_overlap: float = 0.4  # ... a sentence of it is retold by one holding this share of its content words
    title_words: int = 12  # a paragraph of one sentence this short restated by the next paragraph is its title
    fragment_words: int = 6  # a shorter passage standing inside a sentence of another document needs this many
    link_words: int = 20  # ... or this short after a label and a colon ("Read also: <headline>")
    label_words: int = 8  # a line of its own this short, without final punctuation, matches only exactly
    statement_words: int = 8  # two sentences this short reworded inside one article say different things
    template_family: int = 3  # passages of one article linked by fuzzy matches: a template
    recap_paragraphs: int = 3  # closing paragraphs that each retell one above them: teasers
    report_structural: bool = False  # report structural repeats (at info severity) instead of leaving them out

    def boilerplate_limit(self, documents: int) -> float:
        return max(self.boilerplate_documents, self.boilerplate_share * documents)


@dataclass(frozen=True)
class Layout:
    """Where each passage of a table sits in its document's paragraphs (a paragraph is one
    line of the text the engine reads: readers join the lines of a wrapped paragraph)."""

    paragraph: np.ndarray  # int64, ordinal of the passage's paragraph among the document's non-empty lines
    alone: np.ndarray  # bool, the passage is the only sentence of its paragraph
    standfirst: np.ndarray  # bool, the passage lies in its document's standfirst
    lead: np.ndarray  # bool, the passage is its document's first sentence after the headline
    headline: np.ndarray  # bool, the passage is its document's headline (a heading that opens it)


@dataclass(frozen=True)
class Coupling:
    """What judging a document takes from its pairs with other documents: where its block of
    related-article teasers starts (`teaser_start`: document index -> paragraph) and which
    passages are links to another story (`links`, per passage: another story's headline
    standing in a page). `judge` finds both among the pairs it is given; a sharded scan
    gathers them from every shard's pairs first (`find_coupling`), then judges shard by shard."""

    teaser_start: dict[int, int]
    links: np.ndarray  # bool per passage of the table


def first_verdicts(table: PassageTable, words: np.ndarray, earlier: np.ndarray, later: np.ndarray,
                    kind: np.ndarray, boilerplate: np.ndarray, rules: EditorialRules) -> np.ndarray:
    """Verdicts that each pair gets from its two passages alone: boilerplate, two lists of
    names, a short fragment inside another story. The pairs left `REPORT` are the open ones."""
    verdict = np.full(len(earlier), REPORT, dtype=np.int8)
    verdict[boilerplate[earlier] | boilerplate[later]] = BOILERPLATE
    lists = table.listing[earlier] & table.listing[later] & (table.doc[earlier] != table.doc[later])
    verdict[lists & (verdict == REPORT)] = TEMPLATE  # a line-up recurs from match to match
    fragment = (kind == CONTAINED) & (table.doc[earlier] != table.doc[later])
    fragment &= np.minimum(words[earlier], words[later]) < rules.fragment_words
    verdict[fragment & (verdict == REPORT)] = SHORT  # an age, a name, an attribution inside another story
    return verdict


def find_coupling(table: PassageTable, words: np.ndarray, earlier: np.ndarray, later: np.ndarray, kind: np.ndarray,
                  boilerplate: np.ndarray, rules: EditorialRules = EditorialRules()) -> Coupling:
    """The `Coupling` that the accepted pairs ``(earlier[k], later[k])`` give (arguments as
    `judge`'s). Over shards, teaser starts merge by their minimum and links by union."""
    open_pairs = np.flatnonzero(first_verdicts(table, words, earlier, later, kind, boilerplate, rules) == REPORT)
    e, l = earlier[open_pairs], later[open_pairs]
    layout = paragraph_layout(table, np.unique(np.concatenate([e, l])), rules, np.zeros(0, dtype=np.int64))
    return _coupling(table, layout, e, l, kind[open_pairs])


def _coupling(table: PassageTable, layout: Layout, earlier: np.ndarray, later: np.ndarray,
              kind: np.ndarray) -> Coupling:
    other = table.doc[earlier] != table.doc[later]
    linking = other & (layout.headline[earlier] != layout.headline[later]) & np.isin(kind, (EXACT, NORMALIZED))
    links = np.zeros(len(table), dtype=bool)  # another story's headline standing in a page: a link to it
    links[np.where(layout.headline[earlier[linking]], later[linking], earlier[linking])] = True
    return Coupling(teaser_starts(table, earlier, later, layout), links)


def judge(table: PassageTable, words: np.ndarray, earlier: np.ndarray, later: np.ndarray, kind: np.ndarray,
          min_words: int, boilerplate: np.ndarray, rules: EditorialRules = EditorialRules(),
          coupling: Coupling | None = None) -> np.ndarray:
    """The verdict (`REPORT` or a reason) of each accepted pair ``(earlier[k], later[k])``.

    `words` is each passage's word count, `min_words` the length under which a passage is
    short, `boilerplate` which passages are boilerplate (`recurring_texts`). `coupling`, if
    given, replaces what these pairs alone say of teaser blocks and links (`find_coupling`
    over a whole run)."""
    if len(earlier) == 0:
        return np.full(0, REPORT, dtype=np.int8)
    verdict = first_verdicts(table, words, earlier, later, kind, boilerplate, rules)
    open_pairs = np.flatnonzero(verdict == REPORT)
    if len(open_pairs) == 0:
        return verdict
    inside = open_pairs[table.doc[earlier[open_pairs]] == table.doc[later[open_pairs]]]
    layout = paragraph_layout(table, np.unique(np.concatenate([earlier[open_pairs], later[open_pairs]])), rules,
                              np.unique(table.doc[earlier[inside]]))
    if coupling is None:
        coupling = _coupling(table, layout, earlier[open_pairs], later[open_pairs], kind[open_pairs])
    verdict[open_pairs] = _page_furniture(table, layout, words, earlier[open_pairs], later[open_pairs],
                                          kind[open_pairs], rules, coupling)
    retold = inside[~np.isin(kind[inside], (EXACT, NORMALIZED, CONFLICT))]  # teasers or not, they count
    recap = retold[_recap_tail(table, layout, earlier[retold], later[retold], rules.recap_paragraphs)]
    verdict[recap[verdict[recap] == REPORT]] = TEASER
    rows = np.flatnonzero((table.doc[earlier] == table.doc[later]) & (verdict == REPORT))
    verdict[rows] = _inside_one_document(table, layout, words, earlier[rows], later[rows], kind[rows], min_words,
                                         rules)
    return verdict


def _page_furniture(table: PassageTable, layout: Layout, words: np.ndarray, earlier: np.ndarray,
                    later: np.ndarray, kind: np.ndarray, rules: EditorialRules, coupling: Coupling) -> np.ndarray:
    """Verdicts on what a page carries beside its story, in any two documents or one: teasers,
    previews, links to other stories, and fuzzy matches with labels."""
    verdict = np.full(len(earlier), REPORT, dtype=np.int8)
    teasers = teaser_blocks(table, layout, coupling.teaser_start)
    verdict[teasers[earlier] | teasers[later] | _preview(table, earlier, later, kind)] = TEASER
    links = coupling.links
    verdict[(links[earlier] | links[later]) & (verdict == REPORT)] = TEASER
    fuzzy = ~np.isin(kind, (EXACT, NORMALIZED)) & (verdict == REPORT)
    labels = _label_lines(table, layout, words, np.concatenate([earlier, later]), rules)
    verdict[fuzzy & (labels[:len(earlier)] | labels[len(earlier):])] = LABEL
    return verdict


def _inside_one_document(table: PassageTable, layout: Layout, words: np.ndarray, e: np.ndarray, l: np.ndarray,
                         kind: np.ndarray, min_words: int, rules: EditorialRules) -> np.ndarray:
    """Verdicts on repeats inside one article: short phrases, templates, recurring labels and
    structural repeats. A passage pasted twice in a row is always reported."""
    verdict = np.full(len(e), REPORT, dtype=np.int8)
    identical = (kind == EXACT) | (kind == NORMALIZED)
    doubled = (table.sentence[l] == table.sentence[e] + 1) & identical & (words[e] >= 2)  # one word is a fragment
    short = np.minimum(words[e], words[l]) < min_words
    brief = (kind == NEAR) & (np.maximum(words[e], words[l]) < rules.statement_words)
    short |= brief & ~table.is_clause[e] & ~table.is_clause[l]  # a word changed in so few: another statement
    verdict[short & ~doubled] = SHORT
    fuzzy = ~identical & (verdict == REPORT)
    whole = np.searchsorted(table.sentence, table.sentence[np.concatenate([e, l])])  # a clause's sentence
    texts = text_hashes([table.normalized[i] for i in whole.tolist()])
    sentences = fuzzy & ~table.is_clause[e] & ~table.is_clause[l]  # a frame is a whole sentence
    family = _in_families(table.sentence[e], table.sentence[l], texts[:len(e)], texts[len(e):], sentences,
                          rules.template_family)
    items = np.array([bool(_LIST_ITEM.match(table.raw[a]) and _LIST_ITEM.match(table.raw[b]))
                      for a, b in zip(e.tolist(), l.tolist())], dtype=bool)
    verdict[fuzzy & (family | items)] = TEMPLATE  # one frame, other facts; two items of one list
    both_labels = _label_lines(table, layout, words, e, rules) & _label_lines(table, layout, words, l, rules)
    verdict[identical & both_labels & ~doubled & (verdict == REPORT)] = LABEL  # a recurring label
    fact_box = np.zeros(len(e), dtype=bool)  # a fact box, a list of winners
    fact_box[fuzzy] = _bullet_lines(table, e[fuzzy]) ^ _bullet_lines(table, l[fuzzy])
    structural = (_structural(table, layout, words, e, l, kind, rules) | fact_box) & ~doubled & ~short
    verdict[structural & (verdict == REPORT)] = STRUCTURAL
    return verdict


def _recap_tail(table: PassageTable, layout: Layout, e: np.ndarray, l: np.ndarray, most: int) -> np.ndarray:
    """Pairs whose later passage lies in a page's closing block of teasers: at least `most`
    consecutive paragraphs at the end of the page (the last or the one before it included)
    that retell, in other words, as many different paragraphs above them. A page that lists
    its own story's latest items, or its related stories, after the text; a hasty copy is
    one paragraph, and a pasted block is word for word."""
    out = np.zeros(len(e), dtype=bool)
    bounds = document_bounds(table)
    for d in np.unique(table.doc[l]).tolist():
        rows = np.flatnonzero(table.doc[l] == d)
        last = int(layout.paragraph[bounds[d]:bounds[d + 1]].max())
        retelling = sorted(set(layout.paragraph[l[rows]].tolist()) - set(layout.paragraph[e[rows]].tolist()))
        block: list[int] = []
        for paragraph in reversed(retelling):
            if (block[-1] - paragraph > 1) if block else (last - paragraph > 1):
                break
            block.append(paragraph)
        in_block = rows[np.isin(layout.paragraph[l[rows]], block)]
        if len(block) >= most and len(np.unique(layout.paragraph[e[in_block]])) >= most:
            out[in_block] = True  # each retells another paragraph: one retold again and again is no list
    return out


def _structural(table: PassageTable, layout: Layout, words: np.ndarray, e: np.ndarray, l: np.ndarray,
                kind: np.ndarray, rules: EditorialRules) -> np.ndarray:
    """Repeats by the house's design inside one article (see the module docstring)."""
    lone_e = _lone_short(layout, words, e, rules.pull_quote_words)
    lone_l = _lone_short(layout, words, l, rules.pull_quote_words)
    quoting = np.array([any(q in table.raw[a] + table.raw[b] for q in QUOTES)
                        for a, b in zip(e.tolist(), l.tolist())], dtype=bool)
    pull_quote = (lone_e ^ lone_l) & quoting  # a short line of its own, lifted from a quotation in the body
    restated = (kind == NEAR) | (kind == CONTAINED)  # a verbatim copy or a changed figure is no restatement
    standfirst = layout.standfirst[e] & ~layout.standfirst[l] & (kind != CONFLICT)  # word for word too: house style
    headline = layout.headline[e] & ~table.heading[l]  # the headline restated further down
    quoted_later = _full_quote_after_summary(table, e, l) & restated
    titled = _lone_short(layout, words, e, rules.title_words) & (layout.paragraph[l] == layout.paragraph[e] + 1)
    titled[titled] = [not _STATEMENT_END.search(table.raw[k]) for k in e[titled].tolist()]  # a title ends on no full stop
    summary = _retold_summary(table, layout, e, l, rules)
    return standfirst | summary | pull_quote | headline | quoted_later | (titled & restated)


def _retold_summary(table: PassageTable, layout: Layout, e: np.ndarray, l: np.ndarray,
                    rules: EditorialRules) -> np.ndarray:
    """Pairs ``(e[k], l[k])`` of one article that go from its first paragraph after the headline
    to a later paragraph, where at least `retold_sentences` different sentences of that first
    paragraph are retold further down, in as many different paragraphs: a summary (a chapeau)
    that the body then tells in full. A sentence is retold when it is the earlier side of one of
    these pairs, or, once one is, when a later sentence holds `summary_overlap` of its content
    words (the body retells a summary in its own words). A hasty copy repeats one passage, a
    pasted paragraph stands in one place; a summary is retold sentence by sentence."""
    leads = np.flatnonzero(layout.lead)
    first = np.full(len(table.documents), -1, dtype=np.int64)
    first[table.doc[leads]] = layout.paragraph[leads]
    in_first = (layout.paragraph[e] == first[table.doc[e]]) & (layout.paragraph[l] > layout.paragraph[e])
    rows = np.flatnonzero(in_first)
    rows = rows[np.argsort(table.doc[e[rows]], kind="stable")]
    docs, starts = np.unique(table.doc[e[rows]], return_index=True)
    bounds = document_bounds(table)
    summaries = [d for d, part in zip(docs.tolist(), np.split(rows, starts[1:]))
                 if _is_retold(table, layout, int(first[d]), np.arange(bounds[d], bounds[d + 1]), e[part], l[part],
                               rules)]
    return in_first & np.isin(table.doc[e], summaries)


def _is_retold(table: PassageTable, layout: Layout, paragraph: int, rows: np.ndarray, e: np.ndarray,
               l: np.ndarray, rules: EditorialRules) -> bool:
    """Is the first paragraph `paragraph` of one document (its passages `rows`) a summary that
    the body retells (`_retold_summary`), given the pairs ``(e, l)`` from it to later paragraphs?"""
    retold = set(table.sentence[e].tolist())
    places = set(layout.paragraph[l].tolist())
    rows = rows[~table.is_clause[rows]]
    if np.count_nonzero(layout.paragraph[rows] == paragraph) < rules.retold_sentences:
        return False  # a paragraph of one sentence is no summary of several
    if min(len(retold), len(places)) >= rules.retold_sentences:
        return True
    below = rows[layout.paragraph[rows] > paragraph]
    document = table.documents[int(table.doc[rows[0]])]
    if document.ignored:  # a repeat the author excluded is no evidence either
        below = below[~in_ranges([document], "ignored", np.zeros(len(below), dtype=np.int64), table.start[below])]
    later = [(_content_words(table.normalized[j]), int(layout.paragraph[j])) for j in below.tolist()]
    for i in rows[layout.paragraph[rows] == paragraph].tolist():
        words = _content_words(table.normalized[i])
        if int(table.sentence[i]) in retold or len(words) < _RETOLD_WORDS:
            continue
        place = next((p for other, p in later if len(words & other) >= rules.summary_overlap * len(words)), None)
        if place is not None:
            retold.add(int(table.sentence[i]))
            places.add(place)
    return min(len(retold), len(places)) >= rules.retold_sentences


_RETOLD_WORDS = 4  # a sentence with fewer content words is retold only by a verified repeat


# A dateline opens a wire or agency lead: "LONDON (Reuters) - ", "دبي، الإمارات العربية المتحدة (CNN)— ".
DATELINE = re.compile(r"[^\n()]{0,80}\([^()\n]{2,40}\)\s*(?:[-\u2013\u2014]{1,2}|:)\s*")


def teaser_blocks(table: PassageTable, layout: Layout, starts: dict[int, int]) -> np.ndarray:
    """Which passages lie in a block of related-article teasers (bool per passage): those of
    each document of `starts` (`teaser_starts`) from its start paragraph to its end."""
    block = np.zeros(len(table), dtype=bool)
    bounds = document_bounds(table)
    for d, paragraph in starts.items():
        rows = np.arange(bounds[d], bounds[d + 1])
        block[rows[layout.paragraph[rows] >= paragraph]] = True
    return block


def teaser_starts(table: PassageTable, earlier: np.ndarray, later: np.ndarray, layout: Layout) -> dict[int, int]:
    """Where each document's block of related-article teasers starts: document -> paragraph.

    A teaser is another story's lead, dateline cut off, standing as a paragraph of its own in
    a page that is not that story: a paragraph of document A, not A's own lead, that reads as
    the lead of document B less B's dateline. A's teaser block runs from its first such
    passage to its end (a page lists its teasers after the story). Copies of a teaser are no editorial repeat, and
    neither is anything else in the block."""
    cross = np.flatnonzero(table.doc[earlier] != table.doc[later])
    first_teaser: dict[int, int] = {}
    for lead, other in ((earlier[cross], later[cross]), (later[cross], earlier[cross])):
        candidates = np.flatnonzero(layout.lead[lead] & ~layout.lead[other] & layout.alone[other])
        for q, p in zip(lead[candidates].tolist(), other[candidates].tolist()):
            dateline = DATELINE.match(table.raw[q])
            if dateline is None or not _reads_as(table.normalized[p], normalize(table.raw[q][dateline.end():])):
                continue
            d = int(table.doc[p])
            first_teaser[d] = min(first_teaser.get(d, 1 << 62), int(layout.paragraph[p]))
    return first_teaser


def _preview(table: PassageTable, earlier: np.ndarray, later: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """A preview cut off with an ellipsis (an embedded post, a teaser) of the longer text it
    matches (or of a quotation in it): a page's rendering of another text, not a repeat
    written by an editor."""
    fuzzy = (kind == NEAR) | (kind == CONTAINED)
    out = np.zeros(len(earlier), dtype=bool)
    for k in np.flatnonzero(fuzzy).tolist():
        for cut, other in ((int(earlier[k]), int(later[k])), (int(later[k]), int(earlier[k]))):
            shorter = len(table.raw[cut]) < len(table.raw[other]) or bool(table.is_clause[other])
            out[k] |= shorter and table.raw[cut].rstrip().endswith(_ELLIPSES)
    return out


_ELLIPSES = ("...", "\u2026")


def _reads_as(passage: str, lead: str) -> bool:
    """Is `passage` the whole of `lead`, or a cut of it from its start (a teaser ends early)?
    It opens with the lead's own words: a story that takes up another's lead as background
    frames it ("Earlier, ...")."""
    if not passage or not lead or passage.split()[:3] != lead.split()[:3]:
        return False
    if fuzz.ratio(passage, lead) >= 95:
        return True
    return len(passage) >= len(lead) // 2 and fuzz.ratio(passage, lead[:len(passage)]) >= 95


_QUOTED = re.compile("[\"\u201c\u00ab\u201e]([^\"\u201c\u201d\u00ab\u00bb\u201e\\n]{3,}?)[\"\u201d\u00bb\u201c]")
_OPENING_QUOTE = re.compile("\\s*[\"\u201c\u00ab\u201e]")


def _full_quote_after_summary(table: PassageTable, earlier: np.ndarray, later: np.ndarray) -> np.ndarray:
    """A statement summarized with a few quoted words, then given in full as a direct quote:
    the earlier passage quotes a fragment (under half of it, and under half as many words as
    the quote, in quotation marks), and the later one is a quotation that holds the fragment."""
    out = np.zeros(len(earlier), dtype=bool)
    for k, (e, l) in enumerate(zip(earlier.tolist(), later.tolist())):
        summary, quote = table.raw[e], table.raw[l]
        quotation = table.is_clause[l] and table.sentence[l] != table.sentence[e]  # only quotes match outside
        if not (quotation or _OPENING_QUOTE.match(quote)):
            continue
        fragments = [m.group(1) for m in _QUOTED.finditer(summary)]
        quoted_words = sum(len(f.split()) for f in fragments)
        if not fragments or 2 * sum(map(len, fragments)) >= len(summary) or 2 * quoted_words >= len(quote.split()):
            continue  # no summary, or one that already quotes most of the statement: the quote repeats it
        said = table.normalized[l]
        out[k] = any(len(f.split()) >= 2 and normalize(f) in said for f in fragments)
    return out


_STATEMENT_END = re.compile("[.\u2026:;\u061b][\"'\u201d\u2019\u00bb)\\]]*\\s*$")
_LABELLED = re.compile(r"\s*\w+(?:\s+\w+){0,2}\s*:\s+\S")  # a label of one to three words, then a colon
_BULLET_MARKS = "-\u2013\u2014*\u2022\u25aa\u00b7"
_BULLET = re.compile(f"[ \t]*[{_BULLET_MARKS}][ \t]+")  # a numbered step is prose (a how-to)
_LIST_ITEM = re.compile(f"\\s*(?:[{_BULLET_MARKS}]|\\d{{1,3}}[.)])\\s")


def _label_lines(table: PassageTable, layout: Layout, words: np.ndarray, passages: np.ndarray,
                 rules: EditorialRules) -> np.ndarray:
    """Which `passages` are a line of their own without final punctuation, short, and no list
    item: an intertitle, a caption, a label. Like a headline, such a line is matched only as an
    exact copy: reworded, it is a title restating the text, not a repeat of it."""
    out = layout.alone[passages] & (words[passages] <= rules.link_words)
    for k in np.flatnonzero(out).tolist():
        raw = table.raw[int(passages[k])]
        short = words[int(passages[k])] <= rules.label_words or bool(_LABELLED.match(raw))  # "Read also: ..."
        out[k] = short and not FINAL_PUNCT.search(raw) and not _LIST_ITEM.match(raw)
    return out


def _bullet_lines(table: PassageTable, passages: np.ndarray) -> np.ndarray:
    """Which `passages` open a bulleted line: an item of a list that sums up what
    the prose tells (a fact box, the winners), which restates the prose by design."""
    out = np.zeros(len(passages), dtype=bool)
    for d in np.unique(table.doc[passages]).tolist():
        rows = np.flatnonzero(table.doc[passages] == d)
        prose = table.documents[d].prose
        breaks = np.asarray(_breaks(prose), dtype=np.int64)
        starts = table.start[passages[rows]]
        line_starts = np.r_[0, breaks + 1][np.searchsorted(breaks, starts)]
        out[rows] = [(bullet := _BULLET.match(prose, a)) is not None and b <= bullet.end()  # at its bullet or text
                     for a, b in zip(line_starts.tolist(), starts.tolist())]
    return out


def _lone_short(layout: Layout, words: np.ndarray, passages: np.ndarray, most: int) -> np.ndarray:
    """Which `passages` are a paragraph of their own of at most `most` words."""
    return layout.alone[passages] & (words[passages] <= most)


@dataclass(frozen=True)
class Recurring:
    """The run's boilerplate: which passages it covers, and one passage and the number of
    documents of each boilerplate text (most documents first)."""

    passages: np.ndarray  # bool per passage of the table
    examples: np.ndarray  # int64, a passage of each boilerplate text
    documents: np.ndarray  # int64, in how many documents that text stands

    def summary(self, table: PassageTable, most: int = 10) -> dict[str, object]:
        """What the report's stats say of it: counted once, not once per copy."""
        return {"texts": len(self.examples), "passages": int(np.count_nonzero(self.passages)),
                "most_common": [{"text": table.raw[p], "documents": int(n)}
                                for p, n in zip(self.examples[:most].tolist(), self.documents[:most].tolist())]}


def recurring_texts(table: PassageTable, rules: EditorialRules, first_passage: int = 0,
                    known: np.ndarray | None = None) -> Recurring:
    """Boilerplate of the run: whole sentences whose normalized text stands in at least the
    boilerplate limit of the run's documents (each document counted once), or is one of the
    `known` normalized-text hashes (the archive's boilerplate). Passages before
    `first_passage` (archived ones) neither count nor are marked: the archive index judges its
    own boilerplate."""
    n = len(table)
    passages = np.zeros(n, dtype=bool)
    rows = np.arange(first_passage, n)
    rows = rows[~table.is_clause[rows]]
    hashes = text_hashes([table.normalized[i] for i in rows.tolist()])
    if known is not None and len(known):
        passages[rows[np.isin(hashes, known)]] = True
    limit = rules.boilerplate_limit(len(np.unique(table.doc[first_passage:])))
    per_document = np.unique(np.stack([hashes, table.doc[rows].astype(np.uint64)], axis=1), axis=0)
    values, counts = np.unique(per_document[:, 0], return_counts=True)
    common, counts = common_texts(values, counts, limit)
    passages[rows[np.isin(hashes, common)]] = True
    first_row = np.unique(hashes, return_index=True)
    examples = rows[first_row[1][np.searchsorted(first_row[0], common)]]
    return Recurring(passages, examples.astype(np.int64), counts.astype(np.int64))


def common_texts(values: np.ndarray, counts: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """The boilerplate among sorted text hashes `values`, each standing in `counts` documents:
    those in at least `limit`, most documents first (ties in hash order)."""
    keep = counts >= limit
    order = np.argsort(-counts[keep], kind="stable")
    return values[keep][order], counts[keep][order]


def paragraph_layout(table: PassageTable, passages: np.ndarray, rules: EditorialRules = EditorialRules(),
                     standfirsts: np.ndarray | None = None) -> Layout:
    """The `Layout` of `passages` (indices into `table`) and of every passage of their documents;
    other entries are left zero. The standfirst is looked for only in the documents
    `standfirsts` (all when None): only repeats inside one document need it."""
    n = len(table)
    paragraph = np.zeros(n, dtype=np.int64)
    alone = np.zeros(n, dtype=bool)
    standfirst = np.zeros(n, dtype=bool)
    lead = np.zeros(n, dtype=bool)
    headline = np.zeros(n, dtype=bool)
    bounds = document_bounds(table)
    wanted = None if standfirsts is None else set(standfirsts.tolist())
    for d in np.unique(table.doc[passages]).tolist():
        rows = np.arange(bounds[d], bounds[d + 1])
        sentences = rows[~table.is_clause[rows]]
        lines = _line_numbers(table.documents[d], table.start[sentences])
        ordinal = np.unique(lines, return_inverse=True)[1]
        per_line = np.bincount(ordinal)
        own = np.searchsorted(table.start[sentences], table.start[rows], side="right") - 1
        paragraph[rows] = ordinal[own]
        alone[rows] = (per_line[ordinal[own]] == 1) & ~table.is_clause[rows]
        titled = bool(table.heading[sentences[0]]) or _title_line(table, sentences, per_line, ordinal, rules)
        headline[sentences[0]] = titled
        body = sentences[~table.heading[sentences]]
        body = body[1:] if titled and len(body) and body[0] == sentences[0] else body
        if len(body):
            lead[body[0]] = True
        first = _standfirst(table, sentences, ordinal, titled, rules) if wanted is None or d in wanted else -1
        if first >= 0:
            standfirst[rows] = ordinal[own] == first
    return Layout(paragraph, alone, standfirst, lead, headline)


def _title_line(table: PassageTable, sentences: np.ndarray, per_line: np.ndarray, ordinal: np.ndarray,
                rules: EditorialRules) -> bool:
    """Is the document's first sentence a headline that ends on a question or exclamation mark
    ("What is Land Day?"): a short first line of one sentence, with more paragraphs after it?
    Matching reads such a line as prose; the editorial rules read it as the page's title."""
    first = int(sentences[0])
    return (ordinal[0] == 0 and per_line[0] == 1 and int(ordinal[-1]) >= 1
            and table.normalized[first].count(" ") + 1 <= rules.headline_words
            and table.raw[first].rstrip().endswith(_TITLE_MARKS))


_TITLE_MARKS = ("?", "!", "\u061f")


def document_bounds(table: PassageTable) -> np.ndarray:
    """Passages ``bounds[d]:bounds[d + 1]`` are document ``d``'s (the table is in document order)."""
    return np.searchsorted(table.doc, np.arange(len(table.documents) + 1, dtype=table.doc.dtype))


def _standfirst(table: PassageTable, sentences: np.ndarray, ordinal: np.ndarray, titled: bool,
                rules: EditorialRules) -> int:
    """The paragraph ordinal of a document's standfirst, or -1.

    In an article that opens with a headline and has enough paragraphs, the first paragraph
    after the headline with `standfirst_words` words is a standfirst (a summary, a chapeau)
    when the lead that follows restates it: the first sentence of the next paragraph has
    `standfirst_overlap` of its content words in it. A lead that goes on with the story is no
    summary, and a repeat of it further down is a repeat."""
    if len(sentences) == 0 or not titled or ordinal[-1] + 1 < rules.standfirst_paragraphs:
        return -1
    words = np.bincount(ordinal, weights=[table.normalized[i].count(" ") + 1 for i in sentences.tolist()])
    after = np.flatnonzero((np.arange(len(words)) > ordinal[0]) & (words >= rules.standfirst_words))
    if len(after) == 0:
        return -1
    first = int(after[0])
    lead = sentences[ordinal == first + 1]
    if len(lead) == 0:
        return -1
    paragraph = [table.normalized[i] for i in sentences[ordinal == first].tolist()]
    if [table.normalized[i] for i in lead.tolist()] == paragraph:
        return -1  # a paragraph pasted twice: no summary, a defect
    summary = set().union(*(_content_words(text) for text in paragraph))
    opening = _content_words(table.normalized[int(lead[0])])
    return first if len(opening & summary) >= rules.standfirst_overlap * max(1, len(opening)) else -1


def _content_words(normalized: str) -> set[str]:
    return {w for w in normalized.split() if w not in STOPWORDS and not w.isdigit()}


def _line_numbers(document: Document, starts: np.ndarray) -> np.ndarray:
    """The 0-based line of each offset in `starts` (sorted) in the document's prose."""
    prose = document.prose
    return np.searchsorted(np.asarray(_breaks(prose), dtype=np.int64), starts, side="right")


def _breaks(text: str) -> list[int]:
    out, at = [], text.find("\n")
    while at >= 0:
        out.append(at)
        at = text.find("\n", at + 1)
    return out


def _in_families(left: np.ndarray, right: np.ndarray, left_text: np.ndarray, right_text: np.ndarray,
                 linked: np.ndarray, family: int) -> np.ndarray:
    """For each pair, does it belong to a family of passages (sentence numbers `left`,
    `right`) connected by the `linked` pairs that holds at least `family` different texts
    (normalized hashes `left_text`, `right_text`)? Copies of one sentence are one text
    however often they recur; a frame filled with other facts is a new text each time."""
    out = np.zeros(len(left), dtype=bool)
    if not linked.any():
        return out
    nodes, inverse = np.unique(np.concatenate([left[linked], right[linked]]), return_inverse=True)
    sets = UnionFind(len(nodes))
    half = int(np.count_nonzero(linked))
    for a, b in zip(inverse[:half].tolist(), inverse[half:].tolist()):
        sets.union(a, b)
    roots = np.array([sets.find(x) for x in range(len(nodes))], dtype=np.int64)
    texts = np.concatenate([left_text[linked], right_text[linked]])
    members = np.unique(np.stack([roots[inverse].astype(np.uint64), texts]), axis=1)
    distinct = np.bincount(members[0].astype(np.int64), minlength=len(nodes))
    out[np.flatnonzero(linked)] = distinct[roots[inverse[:half]]] >= family
    return out


def count_verdicts(verdict: np.ndarray) -> dict[str, int]:
    """Pairs left out, by reason (reasons with none left out)."""
    counts = np.bincount(verdict.astype(np.int64), minlength=len(REASONS))
    return {REASONS[r]: int(counts[r]) for r in range(1, len(REASONS)) if counts[r]}
