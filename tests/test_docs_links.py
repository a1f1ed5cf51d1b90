"""Links in the documentation resolve inside the repository.

README.md and docs/*.md link only to files of the repository (a clone has nothing else: no
../shared, no web pages); each relative link must name a file or folder that exists inside the
checkout, and a #fragment must name a heading of the file it points to. The other READMEs may
link to the web, but their relative links must resolve too. Code blocks and code spans are not
links.
"""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from conftest import REPO

SELF_CONTAINED = ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))]
OTHERS = ["examples/README.md", "benchmarks/README.md"]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[`~]*[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.MULTILINE)
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]*)>")
_BARE_URL = re.compile(r"(?<![\w/(<\"'])(?:https?://|www\.)[^\s<>)]+")
_HTML_ATTR = re.compile(r"<[a-zA-Z][^>]*?\s(?:href|src)\s*=\s*[\"']([^\"']*)[\"']")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


def prose(markdown: str) -> str:
    """The Markdown without code blocks, code spans and comments (their text is no link)."""
    return _CODE_SPAN.sub("", _FENCE.sub("", _COMMENT.sub("", markdown)))


def links(markdown: str) -> list[str]:
    text = prose(markdown)
    found = [m.group(1).strip("<>") for pattern in (_INLINE, _REFERENCE, _AUTOLINK, _HTML_ATTR)
             for m in pattern.finditer(text)]
    return found + [url.rstrip(".,:;!?") for url in _BARE_URL.findall(_INLINE.sub("", text))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in _HEADING.findall(_FENCE.sub("", markdown)):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def problems(document: str, external_allowed: bool) -> list[str]:
    path = REPO / document
    markdown = path.read_text(encoding="utf-8")
    out = []
    for target in links(markdown):
        if _SCHEME.match(target) or target.startswith("www."):
            if not external_allowed:
                out.append(f"{document}: {target}: leaves the repository")
            continue
        where, _, fragment = target.partition("#")
        resolved = (path.parent / unquote(where)).resolve() if where else path
        if where.startswith("/") or not resolved.is_relative_to(REPO.resolve()):
            out.append(f"{document}: {target}: points outside the repository")
        elif not resolved.exists():
            out.append(f"{document}: {target}: no such file in the repository")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved.read_text(encoding="utf-8")):
            out.append(f"{document}: {target}: no heading #{fragment} in {resolved.relative_to(REPO.resolve())}")
    return out


@pytest.mark.parametrize("document", SELF_CONTAINED)
def test_links_stay_inside_the_repository_and_resolve(document):
    assert (REPO / document).is_file()
    found = problems(document, external_allowed=False)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("document", OTHERS)
def test_relative_links_resolve(document):
    found = problems(document, external_allowed=True)
    assert not found, "\n".join(found)


def test_the_readme_links_to_the_report_contract_and_the_license():
    targets = {t.partition("#")[0] for t in links((REPO / "README.md").read_text(encoding="utf-8"))}
    assert {"docs/report.md", "LICENSE", "benchmarks/README.md", "examples/README.md"} <= targets


@pytest.mark.parametrize("markdown, expected", [
    ("see [the guide](docs/a.md#setup) and ![logo](img/l.png \"Logo\")", ["docs/a.md#setup", "img/l.png"]),
    ("[ref]: ../shared/x.md\n", ["../shared/x.md"]),
    ("`[not](a-link)` and\n```\n[nor](this)\n```\n<https://example.org/x>", ["https://example.org/x"]),
    ('<a href="https://example.org">x</a> and https://example.org/y.', ["https://example.org", "https://example.org/y"]),
    ("[a [nested] text](b.md)", ["b.md"]),
])
def test_the_link_finder_finds_links_and_skips_code(markdown, expected):
    assert links(markdown) == expected


def test_headings_give_github_anchors():
    assert anchors("# Quick start\n## `dedup check`: the command\n## Quick start\n") == \
        {"quick-start", "dedup-check-the-command", "quick-start-1"}
