"""A campaign of hostile inputs against the ``dedup`` command line: files, flags and environment.

Every case runs ``python -m dedup ...`` as a subprocess in a fresh folder, with a timeout, and
prints its exit status and the first line of stderr. A case fails on:

- a traceback on stderr, or exit status 3 (an internal error) or any status but 0, 1, 2, 130;
- a hang (the timeout);
- exit status 1 without a repeat in the report (stdout, or the ``-o`` file);
- an error (status 2) whose message does not name what it is about (the file, or the option);
- a case's own expectation (``expect="error"``: status 2; ``"ok"``: status 0 or 1).

    python benchmarks/hostile_inputs.py                 # all cases
    python benchmarks/hostile_inputs.py -k jsonl -v     # the cases whose name holds "jsonl", with stderr

Runs as root drop the permission override (``setpriv``) for the cases about permissions.
The exit status is the number of failed cases (0: all passed).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
SENTENCE = "The harbour authority said on Tuesday that the old pier would stay closed until the spring."
ARABIC = "وقالت السلطات المحلية إن الطريق الرئيسي سيبقى مغلقا حتى نهاية الأسبوع المقبل بسبب الأمطار."
DUP = f"Headline\n{SENTENCE}\n{ARABIC}\n{SENTENCE}\n"
CLEAN = f"Headline\n{SENTENCE}\n{ARABIC}\n"

Setup = Callable[[Path], None]


@dataclass
class Case:
    name: str
    args: list[str]
    setup: Setup | None = None
    expect: str = "any"  # "error" (status 2), "ok" (0 or 1), "any" (no crash, no hang)
    names: tuple[str, ...] = ()  # what an error message must name (default: the first path argument)
    stdin: bytes | None = None
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 60
    unprivileged: bool = False  # run subject to file permissions (root drops its override)
    limits: dict[int, tuple[int, int]] = field(default_factory=dict)  # resource limits for the child
    shell: str | None = None  # run this shell command instead ("DEDUP" stands for the command)
    output: str | None = None  # the -o file whose findings count as the report
    repeats: bool = False  # the input holds repeats by construction (for a report that cannot be read back)


def write(name: str, content: str | bytes) -> Setup:
    def setup(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return setup


def both(*setups: Setup) -> Setup:
    def setup(folder: Path) -> None:
        for step in setups:
            step(folder)
    return setup


def fifo(name: str) -> Setup:
    return lambda folder: os.mkfifo(folder / name)


def unix_socket(name: str) -> Setup:
    def setup(folder: Path) -> None:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(folder / name))  # left bound: the process ends with the case
        _KEEP.append(server)
    return setup


_KEEP: list[socket.socket] = []


def chmod(name: str, mode: int) -> Setup:
    return lambda folder: os.chmod(folder / name, mode)


def symlink(name: str, target: str) -> Setup:
    return lambda folder: (folder / name).symlink_to(target)


def _random_sentences(name: str, count: int) -> Setup:
    """`count` sentences of 12 words drawn from 50,000 (about 80 bytes each), one a line."""
    def setup(folder: Path) -> None:
        import random
        draw = random.Random(1)
        words = [f"w{i}" for i in range(50000)]
        (folder / name).write_text("".join(" ".join(draw.choices(words, k=12)) + ".\n" for _ in range(count)),
                                   encoding="utf-8")
    return setup


def jsonl(*records: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def nested(depth: int) -> str:
    return '{"text": "a b c d e f", "n": ' + "[" * depth + "]" * depth + "}"


def catalogue() -> list[Case]:
    cases: list[Case] = []

    def add(name: str, args: list[str], setup: Setup | None = None, **kw) -> None:
        cases.append(Case(name, args, setup, **kw))

    # --- text content ------------------------------------------------------------------------
    add("txt/binary", ["check", "b.txt"], write("b.txt", bytes(range(256)) * 100))
    add("txt/nul-late", ["check", "b.txt"], write("b.txt", "x " * 10000 + "\x00" + DUP))
    add("txt/invalid-utf8", ["check", "b.txt"], write("b.txt", DUP.encode() + b"\xff\xfe" + DUP.encode()))
    add("txt/overlong-utf8", ["check", "b.txt"], write("b.txt", b"\xc0\xaf" + DUP.encode()))
    add("txt/cesu-surrogates", ["check", "b.txt"], write("b.txt", b"\xed\xa0\x80" + DUP.encode()))
    add("txt/bom-only", ["check", "b.txt"], write("b.txt", b"\xef\xbb\xbf"))
    add("txt/empty", ["check", "b.txt"], write("b.txt", b""), expect="ok")
    add("txt/whitespace-only", ["check", "b.txt"], write("b.txt", " \n\t\n" * 10000), expect="ok")
    add("txt/one-long-line", ["check", "b.txt"], write("b.txt", (SENTENCE + " ") * 20000), expect="ok")
    add("txt/one-huge-word", ["check", "b.txt"], write("b.txt", "a" * 5_000_000), expect="ok")
    add("txt/many-newlines", ["check", "b.txt"], write("b.txt", "\n" * 1_000_000), expect="ok")
    add("txt/lone-cr", ["check", "b.txt"], write("b.txt", DUP.replace("\n", "\r")), expect="ok")
    add("txt/crlf", ["check", "b.txt"], write("b.txt", DUP.replace("\n", "\r\n")), expect="ok")
    add("txt/bidi-overrides", ["check", "b.txt"], write("b.txt", "\u202e" + DUP + "\u2066\u2069" * 1000), expect="ok")
    add("txt/zero-width-flood", ["check", "b.txt"], write("b.txt", "\u200b" * 200000 + DUP), expect="ok")
    add("txt/combining-flood", ["check", "b.txt"], write("b.txt", "a" + "\u0301" * 200000 + "\n" + DUP), expect="ok")
    add("txt/noncharacters", ["check", "b.txt"], write("b.txt", "\ufffe\uffff\U0010ffff " + DUP), expect="ok")
    add("txt/unicode-line-seps", ["check", "b.txt"], write("b.txt", DUP.replace("\n", "\u2028")), expect="ok")
    add("txt/control-chars", ["check", "b.txt"], write("b.txt", "".join(chr(c) for c in range(1, 32)) * 100 + DUP),
        expect="ok")
    add("txt/many-short-sentences", ["check", "b.txt"],
        write("b.txt", "".join(f"Word{i % 20} word{(i * 7) % 20} word{(i * 3) % 20}. " for i in range(100000))),
        expect="ok", timeout=120)
    add("txt/digits-flood", ["check", "b.txt"], write("b.txt", ("1,234.5 " * 50000 + "\n") * 4), expect="ok")
    add("txt/arabic-diacritics-flood", ["check", "b.txt"], write("b.txt", ("بَِّ" * 50000) + "\n" + DUP), expect="ok")
    add("txt/over-file-limit", ["check", "b.txt", "--max-file-size", "1k"], write("b.txt", "word " * 1000),
        expect="error", names=("b.txt",))
    add("txt/wrapped-100k-lines", ["check", "b.txt"],
        write("b.txt", "\n".join(["the quick brown fox jumps over the lazy dog and runs to the"] * 100000)),
        expect="ok", timeout=120)

    # --- Markdown ----------------------------------------------------------------------------
    add("md/deep-blockquote", ["check", "a.md"], write("a.md", ">" * 100000 + " " + DUP), expect="ok")
    add("md/deep-list", ["check", "a.md"], write("a.md", "".join("  " * i + "- item\n" for i in range(3000))),
        expect="ok")
    add("md/backtick-flood", ["check", "a.md"], write("a.md", "`" * 100000 + DUP), expect="ok")
    add("md/unclosed-fence", ["check", "a.md"], write("a.md", "```\n" + DUP * 100), expect="ok")
    add("md/unclosed-comment", ["check", "a.md"], write("a.md", "<!-- " + DUP * 100), expect="ok")
    add("md/bracket-flood", ["check", "a.md"], write("a.md", "[" * 100000 + "](" * 50000 + DUP), expect="ok")
    add("md/emphasis-flood", ["check", "a.md"], write("a.md", "*_" * 100000 + DUP), expect="ok")
    add("md/huge-table", ["check", "a.md"], write("a.md", "|a|b|\n|-|-|\n" + "|x|y|\n" * 100000), expect="ok")
    add("md/front-matter-unclosed", ["check", "a.md"], write("a.md", "---\ntitle: x\n" + DUP), expect="ok")
    add("md/html-block-flood", ["check", "a.md"], write("a.md", "<div>\n" * 50000 + DUP), expect="ok")
    add("md/link-ref-flood", ["check", "a.md"], write("a.md", "".join(f"[r{i}]: http://x/{i}\n" for i in range(50000))),
        expect="ok")
    add("md/directive-flood", ["check", "a.md"], write("a.md", "<!-- dedup: off -->\n<!-- dedup: on -->\n" * 20000 + DUP),
        expect="ok")
    add("md/headings-flood", ["check", "a.md"], write("a.md", "#" * 100000 + "\n" + "# h\n" * 50000), expect="ok")
    add("md/invalid-utf8", ["check", "a.md"], write("a.md", b"# t\n\xff\n"), names=("a.md",))

    # --- HTML --------------------------------------------------------------------------------
    add("html/deep-divs", ["check", "a.html"], write("a.html", "<div>" * 100000 + DUP + "</div>" * 100000), expect="ok")
    add("html/unclosed-script", ["check", "a.html"], write("a.html", "<p>x</p><script>" + DUP * 100), expect="ok")
    add("html/unclosed-comment", ["check", "a.html"], write("a.html", "<!--" + DUP), expect="ok")
    add("html/bad-entities", ["check", "a.html"], write("a.html", "<p>&#99999999999; &#0; &#xD800; &bogus; " + DUP),
        expect="ok")
    add("html/lt-flood", ["check", "a.html"], write("a.html", "<" * 200000 + DUP), expect="ok")
    add("html/attribute-flood", ["check", "a.html"], write("a.html", "<p " + 'a="b" ' * 100000 + ">" + DUP),
        expect="ok")
    add("html/cdata", ["check", "a.html"], write("a.html", "<![CDATA[" + DUP + "]]>" + DUP), expect="ok")
    add("html/unclosed-tag", ["check", "a.html"], write("a.html", "<p class='" + DUP * 50), expect="ok")
    add("html/nested-tables", ["check", "a.html"], write("a.html", "<table><tr><td>" * 30000 + DUP), expect="ok")
    add("html/doctype-junk", ["check", "a.html"], write("a.html", "<!DOCTYPE " * 50000 + DUP), expect="ok")
    add("html/processing-instr", ["check", "a.html"], write("a.html", "<?xml " * 50000 + DUP), expect="ok")

    # --- JSON Lines --------------------------------------------------------------------------
    for depth in (65, 1000, 100000, 1000000):
        add(f"jsonl/nested-{depth}", ["check", "d.jsonl"], write("d.jsonl", jsonl({"text": SENTENCE}, nested(depth))),
            expect="error", names=("d.jsonl:2",))
    add("jsonl/deep-in-string", ["check", "d.jsonl"], write("d.jsonl", jsonl({"text": SENTENCE + "[" * 100000})),
        expect="ok")
    add("jsonl/malformed", ["check", "d.jsonl"], write("d.jsonl", '{"text": "a"\n'), expect="error",
        names=("d.jsonl:1",))
    add("jsonl/trailing-garbage", ["check", "d.jsonl"], write("d.jsonl", '{"text": "a"} x\n'), expect="error",
        names=("d.jsonl:1",))
    add("jsonl/top-level-array", ["check", "d.jsonl"], write("d.jsonl", "[1, 2]\n"), expect="error",
        names=("d.jsonl:1",))
    add("jsonl/text-not-string", ["check", "d.jsonl"], write("d.jsonl", '{"text": 5}\n'), expect="error",
        names=("d.jsonl:1",))
    add("jsonl/nan", ["check", "d.jsonl"], write("d.jsonl", '{"text": "a b c", "x": NaN}\n'), expect="ok")
    add("jsonl/huge-integer", ["check", "d.jsonl"], write("d.jsonl", '{"text": "a", "n": ' + "9" * 10000 + "}\n"),
        expect="error", names=("d.jsonl:1",))
    add("jsonl/huge-float", ["check", "d.jsonl"], write("d.jsonl", '{"text": "a b", "n": 1e999999}\n'), expect="ok")
    add("jsonl/lone-surrogate", ["check", "d.jsonl"], write("d.jsonl", '{"text": "a \\udc80 b"}\n'), expect="error",
        names=("d.jsonl:1",))
    add("jsonl/surrogate-id", ["check", "d.jsonl"], write("d.jsonl", jsonl({"id": "\ud800", "text": DUP})), expect="ok")
    add("jsonl/newline-id", ["check", "d.jsonl"], write("d.jsonl", jsonl({"id": "a\nb", "text": DUP})), expect="ok")
    add("jsonl/nul-in-text", ["check", "d.jsonl"], write("d.jsonl", '{"text": "a \\u0000 b c d e"}\n'), expect="ok")
    add("jsonl/object-id", ["check", "d.jsonl"], write("d.jsonl", jsonl({"id": {"a": [1]}, "text": DUP})), expect="ok")
    add("jsonl/huge-id", ["check", "d.jsonl"], write("d.jsonl", jsonl({"id": "x" * 1_000_000, "text": DUP})),
        expect="ok")
    add("jsonl/duplicate-ids", ["check", "d.jsonl"], write("d.jsonl", jsonl(*[{"id": "same", "text": DUP}] * 50)),
        expect="ok")
    add("jsonl/bom-crlf", ["check", "d.jsonl"], write("d.jsonl", "\ufeff" + jsonl({"text": DUP}).replace("\n", "\r\n")),
        expect="ok")
    add("jsonl/over-record-limit", ["check", "d.jsonl", "--max-record-size", "1k"],
        write("d.jsonl", jsonl({"text": SENTENCE * 100})), expect="error", names=("d.jsonl:1",))
    add("jsonl/empty-object", ["check", "d.jsonl"], write("d.jsonl", "{}\n"), expect="error", names=("d.jsonl:1",))
    add("jsonl/100k-records", ["check", "d.jsonl"],
        write("d.jsonl", jsonl(*({"id": str(i), "text": f"Record {i} tells of the harbour."} for i in range(100000)))),
        expect="ok", timeout=180)

    # --- CSV ---------------------------------------------------------------------------------
    add("csv/unterminated-quote", ["check", "c.csv"], write("c.csv", 'id,text\n1,"one\n2,two\n3,three\n'),
        expect="error", names=("c.csv:2",))
    add("csv/quote-mid-quoted", ["check", "c.csv"], write("c.csv", 'id,text\n1,"a "b" c"\n'), expect="error",
        names=("c.csv:2",))
    add("csv/more-fields", ["check", "c.csv"], write("c.csv", "id,text\n1,a,b\n"), expect="error", names=("c.csv:2",))
    add("csv/fewer-fields", ["check", "c.csv"], write("c.csv", "id,text\n1\n"), expect="error", names=("c.csv:2",))
    add("csv/no-text-column", ["check", "c.csv"], write("c.csv", "id,body\n1,a\n"), expect="error", names=("c.csv:1",))
    add("csv/empty", ["check", "c.csv"], write("c.csv", ""), expect="error", names=("c.csv",))
    add("csv/nul-late", ["check", "c.csv"], write("c.csv", "id,text\n" + "1,abc\n" * 3000 + "2,a\x00b\n"),
        expect="ok")
    add("csv/cr-only", ["check", "c.csv"], write("c.csv", f'id,text\r1,"{SENTENCE}"\r2,"{SENTENCE}"\r'), expect="ok")
    add("csv/huge-field", ["check", "c.csv"], write("c.csv", "id,text\n1," + "word " * 100000 + "\n"), expect="ok")
    add("csv/10k-columns", ["check", "c.csv"], write("c.csv", ",".join(["text"] + [f"c{i}" for i in range(10000)])
                                                        + "\n" + ",".join(["a"] * 10001) + "\n"), expect="ok")
    add("csv/duplicate-header", ["check", "c.csv"], write("c.csv", f"text,text\n{SENTENCE},{SENTENCE}\n"), expect="ok")
    add("csv/tsv-with-commas", ["check", "c.tsv"], write("c.tsv", f"id\ttext\n1\t{SENTENCE}, yes\n2\t{SENTENCE}, yes\n"),
        expect="ok")
    add("csv/bom-header", ["check", "c.csv"], write("c.csv", f'\ufeffid,text\n1,"{SENTENCE}"\n2,"{SENTENCE}"\n'),
        expect="ok")

    # --- paths and special files ------------------------------------------------------------
    add("path/dev-zero", ["check", "/dev/zero"], expect="error", timeout=20)
    add("path/dev-urandom", ["check", "/dev/urandom"], expect="error", timeout=20)
    add("path/dev-null", ["check", "/dev/null"], expect="error", timeout=20)
    add("path/fifo", ["check", "f.txt"], fifo("f.txt"), expect="error", timeout=20)
    add("path/fifo-in-dir", ["check", "d"], both(write("d/a.txt", DUP), fifo("d/f.txt")), expect="ok", timeout=20)
    add("path/socket", ["check", "s.txt"], unix_socket("s.txt"), expect="error", timeout=20)
    add("path/missing", ["check", "nope.txt"], expect="error")
    add("path/dangling-symlink", ["check", "l.txt"], symlink("l.txt", "nowhere.txt"), expect="error")
    add("path/symlink-loop", ["check", "l.txt"], both(symlink("l.txt", "m.txt"), symlink("m.txt", "l.txt")),
        expect="error")
    add("path/dir-symlink-loop", ["check", "d"], both(write("d/a.txt", DUP), symlink("d/loop", ".")), expect="ok")
    add("path/dir-named-txt", ["check", "x.txt"], write("x.txt/a.txt", DUP), expect="ok")
    add("path/non-utf8-name", ["check", os.fsdecode(b"caf\xe9.txt")], write(os.fsdecode(b"caf\xe9.txt"), DUP),
        expect="ok")
    add("path/non-utf8-name-json", ["check", os.fsdecode(b"caf\xe9.txt"), "--format", "json"],
        write(os.fsdecode(b"caf\xe9.txt"), DUP), expect="ok")
    add("path/non-utf8-name-sarif-o", ["check", os.fsdecode(b"\xff.md"), "--format", "sarif", "-o", "r.sarif"],
        write(os.fsdecode(b"\xff.md"), DUP), expect="ok", output="r.sarif")
    add("path/non-utf8-missing", ["check", os.fsdecode(b"miss\xff.txt")], expect="error", names=("miss\\xff.txt",))
    add("path/newline-name", ["check", "a\nb.txt"], write("a\nb.txt", DUP), expect="ok")
    add("path/dash-name", ["check", "--", "-x.txt"], write("-x.txt", DUP), expect="ok")
    add("path/name-too-long", ["check", "x" * 300 + ".txt"], expect="error")
    add("path/path-too-long", ["check", "/".join(["d" * 200] * 30) + "/a.txt"], expect="error")
    add("path/empty-dir", ["check", "d"], lambda f: (f / "d").mkdir(), expect="ok")
    add("path/unreadable-file", ["check", "a.txt", "b.txt"], both(write("a.txt", DUP), write("b.txt", DUP),
                                                               chmod("b.txt", 0)), expect="ok", unprivileged=True)
    add("path/unreadable-subdir", ["check", "d"], both(write("d/a.txt", DUP), write("d/x/b.txt", DUP), chmod("d/x", 0)),
        expect="ok", unprivileged=True)
    add("path/unreadable-dir-named", ["check", "d/x"], both(write("d/x/b.txt", DUP), chmod("d/x", 0)),
        expect="error", unprivileged=True)
    add("path/unsearchable-config-dir", ["check", "d/x/b.txt"], both(write("d/x/b.txt", DUP), chmod("d/x", 0o600)),
        expect="error", names=("d/x",), unprivileged=True)
    add("path/unreadable-cwd-config", ["check", "a.txt"], both(write("a.txt", DUP), write("dedup.toml", "kinds = []\n"),
                                                              chmod("dedup.toml", 0)),
        expect="error", names=("dedup.toml",), unprivileged=True)

    # --- options -----------------------------------------------------------------------------
    dup = write("a.txt", DUP)
    for value in ("0", "-1", "1025", "100000", "1000000000000", "x", "1e3"):
        add(f"flag/num-perm={value}", ["check", "a.txt", "--num-perm", value], dup, expect="error",
            names=("--num-perm",))
    for value in ("0", "1.5", "-0.1", "nan", "inf", "x", ""):
        add(f"flag/threshold={value}", ["check", "a.txt", "--threshold", value], dup, expect="error",
            names=("--threshold",))
    for value in ("0", "1001", "-5", "many"):
        add(f"flag/min-words={value}", ["check", "a.txt", "--min-words", value], dup, expect="error",
            names=("--min-words",))
    for value in ("word:0", "char:100000", "line:2", "word:x", "word:-1", ":", "word:1:2"):
        add(f"flag/shingles={value}", ["check", "a.txt", "--shingles", value], dup, expect="error",
            names=("--shingles",))
    for value in ("-1", "lots", "9TiB", "1.5.5M"):
        add(f"flag/max-file-size={value}", ["check", "a.txt", "--max-file-size", value], dup, expect="error",
            names=("--max-file-size",))
    add("flag/kinds-unknown", ["check", "a.txt", "--kinds", "near,similar"], dup, expect="error", names=("--kinds",))
    add("flag/kinds-empty", ["check", "a.txt", "--kinds", ","], dup, expect="error", names=("--kinds",))
    add("flag/format-unknown", ["check", "a.txt", "--format", "xml"], dup, expect="error", names=("--format",))
    add("flag/unknown-option", ["check", "a.txt", "--exit-zeor"], dup, expect="error", names=("--exit-zero",))
    add("flag/update-baseline-alone", ["check", "a.txt", "--update-baseline"], dup, expect="error",
        names=("--baseline",))
    add("flag/stdin-weird-name", ["check", "-", "--stdin-filename", "a\n\x1b[31m.md"], stdin=DUP.encode(), expect="ok")
    add("flag/stdin-over-limit", ["check", "-", "--max-file-size", "10"], stdin=DUP.encode(), expect="error",
        names=("-",))
    add("flag/id-field-missing", ["check", "d.jsonl", "--text-field", "body"], write("d.jsonl", jsonl({"text": "a"})),
        expect="error", names=("d.jsonl:1",))
    add("flag/include-invalid", ["check", ".", "--include", "a\\"], dup, expect="error", names=("--include",))
    add("flag/exclude-invalid", ["check", ".", "--exclude", "[z-a]"], dup, expect="error", names=("--exclude",))
    add("flag/no-command", [], expect="error", names=("usage",))
    add("flag/index-no-action", ["index"], expect="error", names=("usage",))
    add("flag/debug-on-error", ["check", "nope.txt", "--debug"], expect="error", names=("nope.txt",))
    add("flag/select-unknown", ["check", "a.txt", "--select", "DD999"], dup, expect="error", names=("--select",))
    add("flag/ignore-empty", ["check", "a.txt", "--ignore", ","], dup, expect="error", names=("--ignore",))
    add("flag/schema-unknown-part", ["schema", "everything"], expect="error", names=("part",))
    add("out/schema-head", ["schema"], shell="DEDUP | head -c 1 >/dev/null", expect="ok")
    add("directive/unknown-code", ["check", "a.txt"], write("a.txt", "dedup: ignore DD999\n" + DUP), expect="error",
        names=("a.txt:1",))
    add("directive/record-field-number", ["check", "d.jsonl"], write("d.jsonl", jsonl({"text": DUP, "dedup": 5})),
        expect="error", names=("d.jsonl:1",))
    add("directive/csv-field-unknown", ["check", "d.csv"], write("d.csv", f'text,dedup\n"{SENTENCE}",ignore XX1\n'),
        expect="error", names=("d.csv:2",))
    add("gitignore/unreadable-patterns", ["check", "."], both(dup, write(".gitignore", "a\\\n[z-a]\n**/[\n!\n/\n")),
        expect="ok", repeats=True)

    # --- output ------------------------------------------------------------------------------
    add("out/o-is-input", ["check", "a.txt", "-o", "a.txt"], dup, expect="error", names=("a.txt",))
    add("out/o-is-input-in-dir", ["check", ".", "-o", "a.txt"], dup, expect="error", names=("a.txt",))
    add("out/o-is-config", ["check", "a.txt", "-o", "dedup.toml"], both(dup, write("dedup.toml", "min-words = 5\n")),
        expect="error", names=("dedup.toml",))
    add("out/o-is-baseline", ["check", "a.txt", "--baseline", "b.json", "-o", "b.json"],
        both(dup, write("b.json", '{"schema": "dedup.baseline/1", "findings": []}')), expect="error",
        names=("b.json",))
    add("out/o-is-directory", ["check", "a.txt", "-o", "."], dup, expect="error", names=(".",))
    add("out/o-missing-dir", ["check", "a.txt", "-o", "no/such/r.txt"], dup, expect="error", names=("no/such/r.txt",))
    add("out/o-dev-full", ["check", "a.txt", "-o", "/dev/full"], dup, expect="error", names=("/dev/full",))
    add("out/o-dev-null", ["check", "a.txt", "-o", "/dev/null"], dup, expect="ok", repeats=True)
    add("out/o-fifo-without-reader", ["check", "a.txt", "-o", "p"], both(dup, fifo("p")), expect="error",
        names=("p",), timeout=20)
    add("out/o-readonly-dir", ["check", "a.txt", "-o", "ro/r.txt"], both(dup, write("ro/r.txt", "old"),
                                                                        chmod("ro", 0o555)),
        expect="error", names=("ro/r.txt",), unprivileged=True)
    add("out/file-size-limit", ["check", "a.txt", "--format", "json", "-o", "r.json"], dup, expect="error",
        names=("r.json",), limits={resource.RLIMIT_FSIZE: (100, 100)})
    add("out/baseline-update-dev-full", ["check", "a.txt", "--baseline", "/dev/full", "--update-baseline"], dup,
        expect="error", names=("/dev/full",))
    add("out/stdout-closed", ["check", "a.txt"], dup, shell="DEDUP | head -c 1 >/dev/null", expect="ok")
    add("out/stdout-dev-full", ["check", "a.txt"], dup, shell="DEDUP > /dev/full", expect="error",
        names=("standard output",))
    add("out/stderr-closed", ["check", "a.txt", "nope.txt"], dup, shell="DEDUP 2>&1 | head -c 1 >/dev/null",
        expect="any")
    add("out/index-stats-head", ["index", "stats", "--index", "i.sqlite"], dup,
        shell="DEDUP_PLAIN index add a.txt --index i.sqlite -q && DEDUP | head -1 >/dev/null", expect="ok")
    add("out/config-show-head", ["config", "--show"], shell="DEDUP | head -c 1 >/dev/null", expect="ok")

    # --- configuration and baseline files ----------------------------------------------------
    add("config/missing", ["check", "a.txt", "--config", "nope.toml"], dup, expect="error", names=("nope.toml",))
    add("config/directory", ["check", "a.txt", "--config", "."], dup, expect="error", names=(".",))
    add("config/dev-zero", ["check", "a.txt", "--config", "/dev/zero"], dup, expect="error", names=("/dev/zero",),
        timeout=20)
    add("config/fifo", ["check", "a.txt", "--config", "c.toml"], both(dup, fifo("c.toml")), expect="error",
        names=("c.toml",), timeout=20)
    add("config/invalid-toml", ["check", "a.txt"], both(dup, write("dedup.toml", "threshold = = 1\n")),
        expect="error", names=("dedup.toml",))
    add("config/deep-toml", ["check", "a.txt"], both(dup, write("dedup.toml", "kinds = " + "[" * 100000 + "]" * 100000)),
        expect="error", names=("dedup.toml",))
    add("config/huge", ["check", "a.txt"], both(dup, write("dedup.toml", "# x\n" * 600000)), expect="error",
        names=("dedup.toml",))
    add("config/binary", ["check", "a.txt"], both(dup, write("dedup.toml", b"\xff\x00\xfe")), expect="error",
        names=("dedup.toml",))
    add("config/num-perm-huge", ["check", "a.txt"], both(dup, write("dedup.toml", "num-perm = 100000000000\n")),
        expect="error", names=("dedup.toml", "num-perm"))
    add("config/bad-regex", ["check", "a.txt"], both(dup, write("dedup.toml", 'allowlist-patterns = ["(x"]\n')),
        expect="error", names=("dedup.toml",))
    add("config/bad-glob", ["check", "a.txt"], both(dup, write("dedup.toml", '[per-file-ignores]\n"a\\\\" = ["all"]\n')),
        expect="error", names=("dedup.toml",))
    add("config/pyproject-not-table", ["check", "a.txt"], both(dup, write("pyproject.toml", "[tool]\ndedup = 3\n")),
        expect="error", names=("pyproject.toml",))
    add("config/invalid-pyproject", ["check", "a.txt"], both(dup, write("pyproject.toml", "[tool\n")),
        expect="error", names=("pyproject.toml",))
    add("config/format-unknown", ["check", "a.txt"], both(dup, write("dedup.toml", 'format = "xml"\n')),
        expect="error", names=("dedup.toml",))
    add("config/max-file-size-str", ["check", "a.txt"], both(dup, write("dedup.toml", 'max-file-size = "10"\n')),
        expect="error", names=("a.txt",))
    add("config/respect-gitignore-str", ["check", "a.txt"], both(dup, write("dedup.toml", 'respect-gitignore = "no"\n')),
        expect="error", names=("dedup.toml", "respect-gitignore"))
    add("config/select-unknown", ["check", "a.txt"], both(dup, write("dedup.toml", 'select = ["XX1"]\n')),
        expect="error", names=("dedup.toml", "select"))
    add("baseline/missing", ["check", "a.txt", "--baseline", "b.json"], dup, expect="error", names=("b.json",))
    add("baseline/binary", ["check", "a.txt", "--baseline", "b.json"], both(dup, write("b.json", b"\xff\xfe\x00")),
        expect="error", names=("b.json",))
    add("baseline/deep", ["check", "a.txt", "--baseline", "b.json"], both(dup, write("b.json", "[" * 100000)),
        expect="error", names=("b.json",))
    add("baseline/dev-zero", ["check", "a.txt", "--baseline", "/dev/zero"], dup, expect="error",
        names=("/dev/zero",), timeout=20)
    add("baseline/wrong-schema", ["check", "a.txt", "--baseline", "b.json"], both(dup, write("b.json", '{"a": 1}')),
        expect="error", names=("b.json",))
    add("baseline/findings-not-list", ["check", "a.txt", "--baseline", "b.json"],
        both(dup, write("b.json", '{"schema": "dedup.baseline/1", "findings": 3}')), expect="error", names=("b.json",))

    # --- archive index -----------------------------------------------------------------------
    add("index/missing", ["check", "a.txt", "--index", "nope.sqlite"], dup, expect="error", names=("nope.sqlite",))
    add("index/not-sqlite", ["check", "a.txt", "--index", "x.sqlite"], both(dup, write("x.sqlite", "not a db" * 100)),
        expect="error", names=("x.sqlite",))
    add("index/dev-zero", ["check", "a.txt", "--index", "/dev/zero"], dup, expect="error", names=("/dev/zero",),
        timeout=20)
    add("index/directory", ["index", "stats", "--index", "."], expect="error", names=(".",))
    add("index/bad-redis-url", ["index", "stats", "--index", "redis://127.0.0.1:1/0"], expect="error",
        names=("redis://127.0.0.1:1/0",), timeout=30)
    add("index/add-fifo", ["index", "add", "p.txt", "--index", "i.sqlite"], fifo("p.txt"), expect="error",
        names=("p.txt",), timeout=20)
    add("index/add-deep-jsonl", ["index", "add", "d.jsonl", "--index", "i.sqlite"],
        write("d.jsonl", jsonl(nested(100000))), expect="error", names=("d.jsonl:1",))
    add("index/add-non-utf8-name", ["index", "add", os.fsdecode(b"\xfe.txt"), "--index", "i.sqlite"],
        write(os.fsdecode(b"\xfe.txt"), DUP), expect="ok")
    add("index/remove-non-utf8-id", ["index", "remove", os.fsdecode(b"\xfe"), "--index", "i.sqlite"],
        shell="DEDUP_PLAIN index add a.txt --index i.sqlite -q && DEDUP", setup=dup, expect="ok")
    add("index/readonly-file", ["index", "add", "a.txt", "--index", "i.sqlite"], dup,
        shell="DEDUP_PLAIN index add a.txt --index i.sqlite -q && chmod 444 i.sqlite && chmod 555 . && DEDUP; "
              "s=$?; chmod 755 .; exit $s", expect="error", names=("i.sqlite",), unprivileged=True)

    # --- serve: option errors only (a valid command line would start the server) -------------
    add("serve/port-range", ["serve", "--port", "70000"], expect="error", names=("--port",))
    add("serve/workers-zero", ["serve", "--workers", "0"], expect="error", names=("--workers",))
    add("serve/workers-huge", ["serve", "--workers", "1000000"], expect="error", names=("--workers",))
    add("serve/body-size-zero", ["serve", "--max-body-size", "0"], expect="error", names=("--max-body-size",))
    add("serve/token-dev-zero", ["serve", "--token-file", "/dev/zero", "--port", "0"], expect="error",
        names=("/dev/zero",), timeout=20)
    add("serve/token-missing", ["serve", "--token-file", "nope", "--port", "0"], expect="error", names=("nope",))
    add("serve/token-empty", ["serve", "--token-file", "t", "--port", "0"], write("t", "\n"), expect="error",
        names=("t",))
    add("serve/queue-zero", ["serve", "--queue", "0"], expect="error", names=("--queue",))
    add("serve/max-connections-huge", ["serve", "--max-connections", "10000000"], expect="error",
        names=("--max-connections",))
    add("serve/large-check-negative", ["serve", "--large-check", "-1"], expect="error", names=("--large-check",))
    add("serve/time-budget-nan", ["serve", "--time-budget", "nan"], expect="error", names=("--time-budget",))
    add("serve/read-timeout-zero", ["serve", "--read-timeout", "0"], expect="error", names=("--read-timeout",))
    add("serve/integrity-interval-inf", ["serve", "--integrity-interval", "inf"], expect="error",
        names=("--integrity-interval",))

    # --- environment -------------------------------------------------------------------------
    add("env/ascii-stdout", ["check", "a.txt"], dup, env={"PYTHONIOENCODING": "ascii"}, expect="ok")
    add("env/c-locale", ["check", "a.txt"], dup, env={"LC_ALL": "C", "LANG": "C"}, expect="ok")
    add("env/no-color-terminal-vars", ["check", "a.txt", "--color", "always"], dup,
        env={"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "-5"}, expect="ok")
    add("env/home-unset", ["check", "a.txt"], dup, env={"HOME": "/nonexistent"}, expect="ok")
    add("env/tmpdir-missing", ["check", "a.txt", "-o", "r.txt"], dup, env={"TMPDIR": "/nonexistent"}, expect="ok",
        output="r.txt")
    add("env/few-file-descriptors", ["check", "a.txt"], dup, limits={resource.RLIMIT_NOFILE: (12, 12)}, expect="any")
    for limit in (1_200_000_000, 1_400_000_000, 1_800_000_000):  # virtual memory: threads, then numpy fail
        add(f"env/memory-{limit // 10**8 / 10:.1f}GB", ["check", "big.txt", "--max-file-size", "0", "-q"],
            _random_sentences("big.txt", 700_000), limits={resource.RLIMIT_AS: (limit, limit)}, expect="any",
            timeout=240, names=("dedup: error:",))  # an environment error: about the machine, not a file
    add("env/token-env-weird", ["serve", "--port", "70000"], env={"DEDUP_TOKEN": "\x1b[31m\n"}, expect="error",
        names=("--port",))
    return cases


# --- running -----------------------------------------------------------------------------------

@dataclass
class Outcome:
    case: Case
    status: int | None  # None: timed out
    stderr: str
    seconds: float
    problems: list[str]


def run_case(case: Case, workdir: Path, unprivileged_prefix: list[str]) -> Outcome:
    folder = Path(tempfile.mkdtemp(dir=workdir))
    os.chmod(folder, 0o755)
    if case.setup is not None:
        case.setup(folder)
    command = [sys.executable, "-m", "dedup", *case.args]
    prefix = unprivileged_prefix if case.unprivileged else []
    env = {**os.environ, "PYTHONPATH": str(REPO), **case.env}
    if case.shell is not None:
        plain = " ".join(_quote(c) for c in [sys.executable, "-m", "dedup"])
        full = " ".join(_quote(c) for c in [*prefix, *command])
        argv = ["/bin/bash", "-c", case.shell.replace("DEDUP_PLAIN", plain).replace("DEDUP", full)]
    else:
        argv = [*prefix, *command]
    started = time.perf_counter()
    try:
        proc = subprocess.run(argv, cwd=folder, input=case.stdin, capture_output=True, timeout=case.timeout, env=env,
                              preexec_fn=_limits(case.limits), check=False)
        status, stdout, stderr = proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as expired:
        status, stdout = None, expired.stdout or b""
        stderr = (expired.stderr or b"").decode("utf-8", "replace")
    seconds = time.perf_counter() - started
    problems = judge(case, status, stdout, stderr, folder)
    _restore_permissions(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return Outcome(case, status, stderr, seconds, problems)


def judge(case: Case, status: int | None, stdout: bytes, stderr: str, folder: Path) -> list[str]:
    problems = []
    if status is None:
        return [f"hang: no exit within {case.timeout:.0f} s"]
    debug = "--debug" in case.args
    if "Traceback" in stderr and not debug:
        problems.append("traceback on stderr")
    if status == 3:
        problems.append("internal error (status 3)")
    elif status not in (0, 1, 2, 130):
        problems.append(f"unexpected status {status}")
    if status == 1 and not case.repeats and not _has_repeats(stdout, folder / case.output if case.output else None):
        problems.append("status 1 without a repeat in the report")
    if case.expect == "error" and status != 2:
        problems.append(f"expected an error (status 2), got {status}")
    if case.expect == "ok" and status not in (0, 1):
        problems.append(f"expected a run (status 0 or 1), got {status}")
    if status == 2:
        lines = [line for line in stderr.splitlines() if line.strip()] or [""]
        line = lines[-1] if debug else lines[0]  # --debug: the traceback, then the message
        for name in case.names or _default_names(case):
            if name not in line:
                problems.append(f"error message does not name {name!r}")
    return problems


def _default_names(case: Case) -> tuple[str, ...]:
    for arg in case.args[1:]:
        if not arg.startswith("-"):
            return (_printable(arg),)
    return ()


def _printable(name: str) -> str:
    from dedup.readers.errors import printable
    return printable(name)


def _has_repeats(stdout: bytes, output: Path | None) -> bool:
    text = stdout
    if output is not None and output.is_file():
        text += output.read_bytes()
    return bool(text.strip()) and text.strip() not in (b"[]", b"{}")


def _limits(limits: dict[int, tuple[int, int]]) -> Callable[[], None] | None:
    if not limits:
        return None

    def apply() -> None:
        for which, values in limits.items():
            resource.setrlimit(which, values)
    return apply


def _restore_permissions(folder: Path) -> None:
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                try:
                    os.chmod(path, 0o755)
                except OSError:
                    pass


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv"):
        return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    return []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", metavar="TEXT", help="run only the cases whose name holds TEXT")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the whole stderr of failed cases")
    ap.add_argument("--json", metavar="PATH", help="also write the outcomes as JSON")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    cases = [c for c in catalogue() if args.k is None or args.k in c.name]
    prefix = _unprivileged_prefix()
    if os.geteuid() == 0 and not prefix:
        print("running as root without setpriv: permission cases run privileged", file=sys.stderr)
    outcomes = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dedup-hostile-") as workdir:
        os.chmod(workdir, 0o755)
        for case in cases:
            outcome = run_case(case, Path(workdir), prefix)
            outcomes.append(outcome)
            first = next((line for line in outcome.stderr.splitlines() if line.strip()), "")
            verdict = "FAIL" if outcome.problems else "ok"
            status = "hang" if outcome.status is None else str(outcome.status)
            print(f"{verdict:4} {status:>4} {outcome.seconds:6.2f}s  {case.name:32} {first[:150]}")
            for problem in outcome.problems:
                print(f"       -> {problem}")
            if outcome.problems and args.verbose:
                print("       " + outcome.stderr.replace("\n", "\n       "))
    failed = [o for o in outcomes if o.problems]
    by_status: dict[str, int] = {}
    for o in outcomes:
        key = "hang" if o.status is None else str(o.status)
        by_status[key] = by_status.get(key, 0) + 1
    print(f"\n{len(outcomes)} cases, {len(outcomes) - len(failed)} passed, {len(failed)} failed "
          f"in {time.perf_counter() - started:.0f} s; exit statuses: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())))
    if args.json:
        Path(args.json).write_text(json.dumps([{"case": o.case.name, "status": o.status, "stderr": o.stderr[:500],
                                                "seconds": round(o.seconds, 2), "problems": o.problems}
                                               for o in outcomes], indent=1), encoding="utf-8")
    return len(failed)


if __name__ == "__main__":
    sys.exit(min(main(), 255))
