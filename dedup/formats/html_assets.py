"""The style sheet and the script of the ``html`` report page (inlined: the page is one file).

`CSS` styles the page; `filter_css` adds the rules that hide the findings of an unticked kind,
severity or scope (generated for the values a report holds). `SCRIPT` is the page's only
script, small vanilla JavaScript called with the report's numbers (`script`): it opens and
closes the detail panels, opens a collapsed document when a link leads into it, applies the
filters (a class on ``<body>`` per unticked value, then the counts and the documents shown),
expands or collapses every document, and opens the documents shown before printing.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

CSS = """
:root { --exact: #f4a3a3; --normalized: #f7c08a; --near: #fbe38e; --contained: #a9cdf5;
  --conflict: #d5b3f0; --match: #e3f2e1; --line: #555; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin: 0 0 .3rem; }
table.summary, table.index { border-collapse: collapse; }
table.summary { margin: 1rem 0; }
table.summary th, table.summary td, table.index th, table.index td { border: 1px solid #bbb;
  padding: .2rem .6rem; text-align: end; }
table.summary th:first-child, table.index th:first-child, table.index td:first-child { text-align: start; }
.swatch { display: inline-block; width: .9em; height: .9em; margin-inline-end: .4em; vertical-align: -.1em;
  border: 1px solid var(--line); }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; margin: .5rem 0; }
.filters fieldset { border: 1px solid #ccc; margin: 0; padding: .1rem .7rem .35rem; }
.filters legend { font-weight: 600; padding: 0 .3rem; }
.filters label { white-space: nowrap; margin-inline-end: .8rem; cursor: pointer; }
.count { color: #555; font-size: .85em; }
.tools button { font: inherit; font-size: .9rem; padding: .15rem .7rem; margin-inline-end: .4rem; }
details.index { margin: .5rem 0 1rem; }
details.index > summary, details.document > summary { cursor: pointer; }
details.index > summary { font-weight: 600; }
.index-wrap { max-height: 24rem; overflow: auto; border-block: 1px solid #ddd; }
table.index { width: 100%; font-size: .9rem; }
table.index thead th { position: sticky; top: 0; background: #f3f3f3; }
table.index td:first-child { overflow-wrap: anywhere; font-family: ui-monospace, monospace; }
table.index td.zero { color: #999; }
details.document { border-top: 1px solid #ccc; margin-top: .3rem; }
details.document[open] { margin-block: 1rem; }
details.document > summary { padding: .3rem 0; }
details.document > summary h2 { display: inline; font-size: 1.1rem; font-family: ui-monospace, monospace;
  overflow-wrap: anywhere; }
.counts { color: #555; font-size: .9rem; margin-inline-start: .6rem; }
.doc-body { content-visibility: auto; contain-intrinsic-size: auto 30rem; padding: 2px; }
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
  table.summary, table.index { display: block; overflow-x: auto; }
  table.summary th, table.summary td { padding: .2rem .35rem; }
}
@media print {
  .filters, .tools, #shown { display: none; }
  .index-wrap { max-height: none; overflow: visible; border: 0; }
  details.document { break-before: auto; }
  details > summary { list-style: none; }
  details::details-content { content-visibility: visible; display: contents; }
  .doc-body { content-visibility: visible; }
  .detail[hidden] { display: block !important; }
  .detail, .source { break-inside: avoid-page; }
  details.document > summary { break-after: avoid-page; }
  mark, .diff del, .diff ins, .swatch { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  mark { border-bottom-width: 2px; text-decoration: underline; }
  mark.match { border: 1px dotted #000; text-decoration: none; }
}
"""

# Marks of an unticked value lose their highlight; its panels are not shown (nor printed).
FILTER_MARK = "background: transparent; border-bottom-color: transparent; text-decoration: none; cursor: auto;"
FILTER_PANEL = "display: none !important;"


def filter_css(groups: Iterable[tuple[str, Iterable[str]]]) -> str:
    """The hiding rules: for each group ("kind", "severity", "scope") and value, marks and
    panels with ``data-<group>="<value>"`` under ``body.hide-<group>-<value>``."""
    marks, panels = [], []
    for group, values in groups:
        for value in values:
            marks.append(f'.hide-{group}-{value} mark[data-{group}="{value}"]')
            panels.append(f'.hide-{group}-{value} .detail[data-{group}="{value}"]')
    if not marks:
        return ""
    return (",\n".join(marks) + f" {{ {FILTER_MARK} }}\n"
            + ",\n".join(panels) + f" {{ {FILTER_PANEL} }}\n")


# `data` (see `script`): docs (how many), kinds/severities/scopes (the values, in the order of
# the filter boxes and index columns) and f: five numbers per finding, in report order: its
# document, its match's document (0: none on the page), its kind, severity and scope.
SCRIPT = """
(function (data) {
  "use strict";
  var body = document.body, f = data.f, count = f.length / 5, groups = ["kinds", "severities", "scopes"];
  var names = {kinds: "kind", severities: "severity", scopes: "scope"};
  var on = {kinds: data.kinds.map(yes), severities: data.severities.map(yes), scopes: data.scopes.map(yes)};
  var rows = null, shownDocs = null;
  function yes() { return true; }

  function visible(n) {
    var i = (n - 1) * 5;
    return on.kinds[f[i + 2]] && on.severities[f[i + 3]] && on.scopes[f[i + 4]];
  }

  function toggle(mark) {
    mark.getAttribute("data-finding").split(" ").forEach(function (n) {
      var panel = document.getElementById("d" + n);
      if (!panel || !visible(+n)) return;
      panel.hidden = !panel.hidden;
      mark.setAttribute("aria-expanded", String(!panel.hidden));
      if (!panel.hidden) panel.scrollIntoView({block: "nearest"});
    });
  }

  // open the collapsed documents holding `target` (and the target itself, a document)
  function openTo(target) {
    for (var el = target; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") el.open = true;
    }
  }

  // the element a "#id" link leads to, its collapsed documents opened; null if none
  function reveal(hash) {
    var target = null;
    try { target = hash.length > 1 && document.getElementById(decodeURIComponent(hash.slice(1))); } catch (e) {}
    if (target) openTo(target);
    return target || null;
  }

  document.addEventListener("click", function (e) {
    if (!e.target.closest) return;
    var mark = e.target.closest("mark[data-finding]");
    if (mark) { toggle(mark); return; }
    var link = e.target.closest("a[href^='#']");
    if (link) reveal(link.getAttribute("href"));  // then the browser scrolls to it
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" && e.key !== " ") return;
    var mark = e.target.closest && e.target.closest("mark[data-finding]");
    if (mark) { e.preventDefault(); toggle(mark); }
  });
  function revealHash() {
    var target = reveal(location.hash);
    if (target) target.scrollIntoView();
  }
  window.addEventListener("hashchange", revealHash);
  revealHash();

  function apply() {
    var form = document.getElementById("filters");
    groups.forEach(function (group) {
      data[group].forEach(function (value, k) {
        var box = form.querySelector("input[name='" + names[group] + "'][value='" + value + "']");
        if (!box) return;
        on[group][k] = box.checked;
        body.classList.toggle("hide-" + names[group] + "-" + value, !box.checked);
      });
    });
    var kinds = data.kinds.length, own = new Int32Array((data.docs + 1) * kinds);
    var involved = new Uint8Array(data.docs + 1), shown = 0;
    for (var n = 1; n <= count; n++) {
      if (!visible(n)) continue;
      var i = (n - 1) * 5;
      shown++;
      own[f[i] * kinds + f[i + 2]]++;
      involved[f[i]] = 1;
      involved[f[i + 1]] = 1;
    }
    var docsShown = 0;
    if (!rows) {
      rows = [];
      document.querySelectorAll("#index tbody tr").forEach(function (row) { rows[+row.dataset.doc] = row; });
    }
    for (var d = 1; d <= data.docs; d++) {
      docsShown += involved[d];
      var section = document.getElementById("doc" + d), hide = !involved[d];
      if (section && section.hidden !== hide) section.hidden = hide;
      var row = rows[d];
      if (!row) continue;
      if (row.hidden !== hide) row.hidden = hide;
      var total = 0;
      for (var k = 0; k < kinds; k++) {
        var c = own[d * kinds + k];
        total += c;
        setCount(row.cells[2 + k], c);
      }
      setCount(row.cells[1], total);
    }
    var status = document.getElementById("shown");
    status.textContent = shown === count ? "All " + count + " findings shown."
      : "Showing " + shown + " of " + count + " findings, in " + docsShown + " of " + data.docs + " documents.";
  }

  function setCount(cell, c) {
    var text = String(c);
    if (cell.textContent !== text) { cell.textContent = text; cell.classList.toggle("zero", c === 0); }
  }

  var form = document.getElementById("filters");
  if (form) form.addEventListener("change", apply);

  document.querySelectorAll("button[data-open]").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("data-open") === "all";
      document.querySelectorAll("details.document").forEach(function (d) { if (d.open !== open) d.open = open; });
    });
  });

  var opened = [];  // documents opened for printing, closed again after
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      if (!d.hidden) { d.open = true; opened.push(d); }
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})(%s);
"""


def script(docs: int, kinds: list[str], severities: list[str], scopes: list[str], numbers: list[int]) -> str:
    """`SCRIPT` called with the report's data: `numbers` holds five per finding (see above)."""
    data = json.dumps({"docs": docs, "kinds": kinds, "severities": severities, "scopes": scopes, "f": numbers},
                      separators=(",", ":"))
    return SCRIPT % data.replace("<", "\\u003c")
