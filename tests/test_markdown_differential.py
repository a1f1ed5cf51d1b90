"""Differential test: the prose words the Markdown reader keeps, against those of a reference
parser (markdown-it-py with its GFM plugins), over a corpus of real Markdown files from other
projects (tests/data/markdown-corpus, see its README for sources, licenses and the differences
that remain). What "prose words" are is defined in `markdown_reference`."""
from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from conftest import unavailable

CORPUS = Path(__file__).resolve().parent / "data" / "markdown-corpus"
MIN_FILES = 300
MIN_AGREEMENT = 0.99

# The differences that remain, by file: the words the reader lacks ("missing") and those it
# has over the reference ("extra"). Each is explained in the corpus README; a file that
# differs otherwise, or no longer differs, fails the test.
KNOWN_DIFFERENCES = {
    # a URL written as the text of an inline <a> element: the reader blanks every URL in prose
    "jekyll__jekyll/docs/_docs/step-by-step/04-layouts.md": ("abouthtml http localhost4000", ""),
    "jekyll__jekyll/docs/_docs/step-by-step/05-includes.md": ("http http localhost4000 localhost4000", ""),
}


def _reference():
    try:
        import markdown_reference
    except ImportError as err:  # markdown-it-py or mdit-py-plugins missing
        unavailable(f"the reference parser is not installed (pip install -e .[test]): {err}",
                    f"the reference parser is not installed: {err}")
    return markdown_reference


def corpus_files() -> list[Path]:
    """The Markdown files of the corpus (in its source folders; not its README)."""
    return sorted(f for f in CORPUS.rglob("*.md") if f.parent != CORPUS)


def test_the_corpus_is_large_and_from_other_projects():
    files = corpus_files()
    assert len(files) >= MIN_FILES
    sources = {f.relative_to(CORPUS).parts[0] for f in files}
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for source in sources:
        owner, name = source.split("__")
        assert f"{owner}/{name}" in readme, f"{source}: not described in the corpus README"
        assert any((CORPUS / source).glob("LICENSE*")), f"{source}: no license file"
    assert "dedup" not in {name.split("__")[1] for name in sources}


def test_prose_words_agree_with_the_reference_parser():
    reference = _reference()
    agreed = words = 0
    unexpected: list[str] = []
    seen_known: set[str] = set()
    for path in corpus_files():
        name = path.relative_to(CORPUS).as_posix()
        diff = reference.compare(path.read_text(encoding="utf-8"))
        agreed, words = agreed + diff.agreed, words + diff.words
        if name in KNOWN_DIFFERENCES:
            seen_known.add(name)
            missing, extra = KNOWN_DIFFERENCES[name]
            if diff.missing == Counter(missing.split()) and diff.extra == Counter(extra.split()):
                continue
        if diff:
            unexpected.append(f"{name}: {diff.describe()}")
    stale = sorted(set(KNOWN_DIFFERENCES) - seen_known)
    assert not stale, f"known differences of files not in the corpus: {stale}"
    assert not unexpected, "prose words differ from the reference:\n" + "\n".join(unexpected)
    assert words > 100_000
    assert agreed / words >= MIN_AGREEMENT, f"{agreed}/{words} words agree"


def test_a_disagreement_names_the_words_on_each_side():
    reference = _reference()
    diff = reference.Difference(Counter("the farm report said".split()), Counter("the farm said said so".split()))
    assert (diff.agreed, diff.words) == (3, 6)
    assert diff.describe() == "missing: [report] extra: [said so]"


@pytest.mark.parametrize("src, words", [
    ("# Title\n\nSome *emphasised* im<b>port</b>ant text.\n", "title some emphasised important text"),
    ("A [link](https://x.org 'title') and https://bare.example.org and <https://auto.example>.\n", "a link and and"),
    ("Code `inline` and\n\n    indented\n\n```\nfenced\n```\n\n<div>\n<p>in <code>html</code> block</p>\n</div>\n",
     "code and in block"),
    ("| Head | Cell |\n|---|---|\n| one | two |\n\n- [x] done\n\nNote[^1].\n\n[^1]: The note.\n",
     "head cell one two done note the note"),
    ("caf&eacute; &#1605;&#1585; ![alt text](i.png) [ref][r]\n\n[r]: /u \"T\"\n", "cafe مر ref"),
])
def test_the_reference_prose_words(src, words):
    """What the reference counts as prose, on small examples."""
    reference = _reference()
    assert reference.reference_words(src) == Counter(words.split())
    assert reference.our_words(src) == Counter(words.split())


# pieces of Markdown put together at random: blocks, containers, inline markup, HTML, references
PIECES = ["alpha ", "beta ", "gamma. ", "مرحبا ", "\n", "\n", "\n\n", "- ", "1. ", "> ", "# ", "`", "**", "[", "](u)",
          "<b>", "</b>", "&amp;", "&#1605;", "    ", "  ", "```\n", "<div>\n", "</div>\n", "|", "|---|\n", "[^1]",
          "[^1]: ", "[x]: /u\n", "![a](i.png)", "\\*", "~~", "_", "<!-- c -->", "***\n", "---\n", "===\n"]


REFERENCES = "\n\nSee[^1].\n"  # GFM shows only the footnotes that are referenced


def test_random_documents_agree_with_the_reference_parser():
    """2,000 documents of up to 14 random pieces (seeded): at least 97% agree word for word.
    Most of the rest start a line with a comment, which makes the line an HTML block for
    CommonMark (so ``<!-- c -->![a](i.png)`` shows as text) while the reader reads the
    Markdown after it (where a ``dedup: ignore`` comment may stand)."""
    reference = _reference()
    rng = random.Random(15)
    differing = []
    for _ in range(2000):
        src = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14))) + REFERENCES
        diff = reference.compare(src)
        if diff:
            differing.append(f"{src!r}: {diff.describe()}")
    share = 1 - len(differing) / 2000
    assert share >= 0.97, f"{share:.1%} agree; differing:\n" + "\n".join(differing[:40])
