"""Fuzz the readers (Markdown, HTML, plain text, JSON Lines, CSV) and the configuration loader with
hypothesis, for minutes: zero crashes allowed.

A crash is any exception but the clean input error of the target (`InputError` for a reader,
`ConfigError` for the loader), or a document that breaks the reader's contract (an analysis
text of another length than the source, a heading or ignored range outside it). A single input
that takes over `--slow` seconds is reported too (a hang in the making).

Each target gets three kinds of input: text drawn from an alphabet of the target's markup
(brackets, quotes, tags, backticks, line breaks, Arabic, combining marks, lone surrogates as
JSON escapes ...), raw bytes, and mutations (chunks cut, duplicated, swapped, bytes flipped) of
the repository's example files. The run loops over the targets until the time is up:

    python benchmarks/fuzz_readers.py --minutes 5
    python benchmarks/fuzz_readers.py --minutes 1 --target jsonl

Exit status 1 when any crash was found (each is printed with its smallest input found).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dedup.config import ConfigError, load_config
from dedup.readers import InputError, ReadLimits, read_bytes

WORDS = ["the", "harbour", "closed", "Tuesday", "said", "في", "الطريق", "مغلقا", "2026", "1,234.5", "U.S.", "Dr."]
SEPARATORS = [" ", "\n", "\n\n", "\r\n", "\r", "\t", "  ", "\u2028", "\u00a0", "\u200b", "\u0301", "\u064e"]
MARKUP = {
    "markdown": ["#", "##", ">", "> >", "- ", "* ", "1. ", "(a) ", "`", "```", "~~~", "    ", "---", "===", "|", "|-|",
                 "[", "]", "(", ")", "![", "<!--", "-->", "<!-- dedup: ignore -->", "<!-- dedup: off -->",
                 "<!-- dedup: on -->", "<div>", "</div>", "<", ">", "*", "_", "**", "http://x.org/a_(b)", "\\", "&amp;",
                 "[x]: http://y", "<http://z>", "+++"],
    "html": ["<p>", "</p>", "<div>", "</div>", "<br>", "<br/>", "<script>", "</script>", "<style>", "<pre>", "</pre>",
             "<!--", "-->", "<!-- dedup: ignore -->", "<h1>", "</h1>", "<li>", "<table><tr><td>", "&amp;", "&#1234;",
             "&#x0;", "&#99999999;", "&bogus;", "<![CDATA[", "]]>", "<!DOCTYPE html>", "<?xml ?>", "<a href='",
             "'>", '"', "<", ">", "</", "<head>", "<title>", "</title>", "<body>", "<svg>", "</svg>", "<textarea>"],
    "text": ["- ", "* ", "1. ", "• ", ">", "CAIRO (Reuters) - ", ",", ".", "...", "…", "?", "!", "؟", "،", "“", "”",
             "«", "»", '"', "'"],
}
JSON_PIECES = ['{', '}', '[', ']', '"', ':', ',', '"text"', '"id"', '"a b c"', "null", "true", "1e999", "-0", "NaN",
               "\\u0000", "\\ud800", "\\udc80", "\\ud83d\\ude00", "\\\\", '\\"', "\\n", "9" * 5000, " ", "\n"]
CSV_PIECES = ["id", "text", ",", "\t", '"', '""', "\n", "\r\n", "\r", "\x00", "a b c", "الطريق", " ", "'", "\\"]


@dataclass
class Target:
    name: str
    path: str  # the file name the reader is chosen by
    text: st.SearchStrategy[str]
    seeds: list[bytes] = field(default_factory=list)


def pieces(choices: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(choices + WORDS + SEPARATORS) | st.text(max_size=8), max_size=200).map("".join)


def nested_json() -> st.SearchStrategy[str]:
    """A JSON Lines text: records that are mostly objects with a text field, some broken."""
    record = st.fixed_dictionaries({"text": st.text(max_size=60)},
                                   optional={"id": st.text(max_size=10) | st.integers() | st.none(),
                                             "x": st.recursive(st.integers() | st.text(max_size=5),
                                                               lambda inner: st.lists(inner, max_size=3), max_leaves=20)})
    line = st.one_of(record.map(json.dumps), st.lists(st.sampled_from(JSON_PIECES), max_size=60).map("".join),
                     st.integers(0, 300).map(lambda depth: '{"text": "a", "n": ' + "[" * depth + "]" * depth + "}"))
    return st.lists(line, max_size=12).map("\n".join)


def csv_text() -> st.SearchStrategy[str]:
    return st.one_of(st.lists(st.sampled_from(CSV_PIECES) | st.text(max_size=6), max_size=120).map("".join),
                     st.lists(st.lists(st.text(max_size=15), min_size=1, max_size=4), max_size=8).map(_csv_rows))


def _csv_rows(rows: list[list[str]]) -> str:
    return "id,text\n" + "\n".join(",".join('"' + c.replace('"', '""') + '"' if i % 2 else c for i, c in enumerate(r))
                                   for r in rows)


def toml_text() -> st.SearchStrategy[str]:
    """Configuration files: known keys with values of every type, unknown keys, tables, broken TOML."""
    keys = st.sampled_from(["threshold", "min-words", "num-perm", "shingles", "kinds", "fail-on", "include", "exclude",
                            "extend-exclude", "allowlist", "allowlist-patterns", "normalization", "id-field",
                            "text-field", "format", "structural", "max-file-size", "max-record-size", "severity",
                            "per-file-ignores", "threshhold", "x"])
    scalar = st.one_of(st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=True).map(_toml_float),
                       st.booleans().map(lambda b: "true" if b else "false"),
                       st.text(max_size=20).map(lambda s: json.dumps(s).replace("\\ud", "\\u00")),
                       st.sampled_from(['"word:3"', '"char:0"', '"64MiB"', '"exact"', '"(unclosed"', '"a\\\\"',
                                        '"[z-a]"', '"**"', '"info"', '"news-v1"', '"json"']))
    value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=4).map(lambda v: "[" + ", ".join(v) + "]")
                         | st.dictionaries(keys, inner, max_size=3).map(
                             lambda d: "{" + ", ".join(f'"{k}" = {v}' for k, v in d.items()) + "}"), max_leaves=15)
    line = st.one_of(st.tuples(keys, value).map(lambda kv: f"{kv[0]} = {kv[1]}"),
                     st.sampled_from(["[tool.dedup]", "[severity]", "[per-file-ignores]", "[tool]", "[[x]]", "= =",
                                      '"\\ud800" = 1', "kinds = " + "[" * 2000 + "]" * 2000]),
                     st.text(max_size=30))
    return st.lists(line, max_size=10).map("\n".join)


def _toml_float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def targets() -> list[Target]:
    examples = REPO / "examples"
    seed = {path.suffix: path.read_bytes() for path in examples.iterdir() if path.is_file()}
    return [
        Target("markdown", "f.md", pieces(MARKUP["markdown"]), [seed.get(".md", b"")]),
        Target("html", "f.html", pieces(MARKUP["html"]), [seed.get(".html", b"")]),
        Target("text", "f.txt", pieces(MARKUP["text"]), [seed.get(".txt", b"")]),
        Target("jsonl", "f.jsonl", nested_json(), [seed.get(".jsonl", b"")]),
        Target("csv", "f.csv", csv_text(), [b'id,text\n1,"a, b"\n2,c\n']),
        Target("config", "dedup.toml", toml_text(), [seed.get(".toml", b"")]),
    ]


# --- one input --------------------------------------------------------------------------------

class Crash(Exception):
    """An input that made a target fail other than cleanly."""


def feed(target: Target, data: bytes, workdir: Path, slow: float) -> bool:
    """Run one input through `target`: True when it was refused with a clean input error, False
    when it was read; Crash on anything else."""
    started = time.perf_counter()
    refused = False
    try:
        if target.name == "config":
            path = workdir / target.path
            path.write_bytes(data)
            try:
                load_config(path)
            except ConfigError as err:
                refused = _one_line(str(err))
        else:
            try:
                docs = list(read_bytes(target.path, data, limits=ReadLimits(1 << 20, 1 << 18)))
            except InputError as err:
                refused = _one_line(str(err))
            else:
                for doc in docs:
                    _check_document(doc)
    except Crash:
        raise
    except Exception as err:
        raise Crash(f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=-4)}") from err
    if time.perf_counter() - started > slow:
        raise Crash(f"slow: {time.perf_counter() - started:.1f} s for {len(data)} bytes")
    return refused


def _one_line(message: str) -> bool:
    if "\n" in message or not message.startswith(("f.", str(Path(tempfile.gettempdir())))):
        raise Crash(f"error message not one line naming the file: {message!r}")
    return True


def _check_document(doc) -> None:
    if doc.analysis is not None and len(doc.analysis) != len(doc.text):  # None: the text itself is read
        raise Crash(f"analysis of length {len(doc.analysis)}, text {len(doc.text)}")
    for start, end in (*doc.headings, *doc.ignored):
        if not 0 <= start <= end <= len(doc.text):
            raise Crash(f"range ({start}, {end}) outside a text of {len(doc.text)}")
    doc.text.encode("utf-8")  # writable: no lone surrogate
    doc.id.encode("utf-8")


MAX_INPUT = 200_000
"""Inputs are cut to this many bytes, so that a slow input means work that grows faster than the input."""


def mutate(seed: bytes, draw: random.Random, rounds: int) -> bytes:
    """`seed` with `rounds` random edits: a chunk cut or repeated, a bit flipped, a markup byte put in,
    two chunks swapped (at most MAX_INPUT bytes)."""
    data = bytearray(seed[:MAX_INPUT])
    for _ in range(rounds):
        if not data:
            data.extend(draw.randbytes(draw.randint(1, 16)))
            continue
        i, j = sorted(draw.randrange(len(data) + 1) for _ in range(2))
        op = draw.randrange(5)
        if op == 0:
            del data[i:j]
        elif op == 1:
            data[i:i] = data[i:j] * draw.randint(1, 50)
        elif op == 2 and i < len(data):
            data[i] ^= 1 << draw.randrange(8)
        elif op == 3:
            data[i:i] = draw.choice([b"[", b"{", b"<", b"`", b'"', b"\n", b"\xff", b"\x00", b"<!--", b">" * 50])
        else:
            k = draw.randrange(len(data) + 1)
            data = data[:i] + data[k:] + data[i:k] if i < k else data
        del data[MAX_INPUT:]
    return bytes(data)


# --- the run ----------------------------------------------------------------------------------

@dataclass
class Tally:
    inputs: int = 0
    clean_errors: int = 0
    crashes: list[str] = field(default_factory=list)


def fuzz_target(target: Target, seconds: float, workdir: Path, slow: float, tally: Tally) -> None:
    deadline = time.monotonic() + seconds

    def run(data: bytes) -> None:
        tally.inputs += 1
        try:
            tally.clean_errors += feed(target, data, workdir, slow)
        except Crash as crash:
            raise Crash(f"{crash}\ninput ({len(data)} bytes): {data[:400]!r}") from None

    strategies: list[st.SearchStrategy[bytes]] = [
        target.text.map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.binary(max_size=2000),
        st.tuples(st.sampled_from(target.seeds), st.randoms(use_true_random=False), st.integers(1, 30)).map(
            lambda t: mutate(t[0], t[1], t[2])),
    ]
    round_ = 0
    while time.monotonic() < deadline:
        strategy = strategies[round_ % len(strategies)]
        round_ += 1

        @settings(max_examples=300, deadline=None, database=None, derandomize=False, phases=[Phase.generate,
                                                                                            Phase.shrink],
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def check(data: bytes) -> None:
            if time.monotonic() > deadline + 30:
                return
            run(data)

        try:
            check()
        except Crash as crash:
            tally.crashes.append(f"[{target.name}] {crash}")
            return  # one crash per target is enough to report; the shrunk input is in the message
        except Exception as err:  # noqa: BLE001 - hypothesis wraps failures (flaky, several): report them
            tally.crashes.append(f"[{target.name}] {type(err).__name__}: {err}")
            return


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0, help="total time over all targets (default: 3)")
    ap.add_argument("--target", action="append", help="only these targets (markdown, html, text, jsonl, csv, config)")
    ap.add_argument("--slow", type=float, default=5.0, help="seconds one input may take (default: 5)")
    args = ap.parse_args()
    chosen = [t for t in targets() if not args.target or t.name in args.target]
    share = args.minutes * 60 / len(chosen)
    failed = 0
    print(f"{'target':10} {'inputs':>8} {'clean errors':>13} {'crashes':>8} {'seconds':>8}")
    with tempfile.TemporaryDirectory(prefix="dedup-fuzz-") as workdir:
        for target in chosen:
            tally = Tally()
            started = time.perf_counter()
            fuzz_target(target, share, Path(workdir), args.slow, tally)
            print(f"{target.name:10} {tally.inputs:>8} {tally.clean_errors:>13} {len(tally.crashes):>8} "
                  f"{time.perf_counter() - started:>8.0f}")
            for crash in tally.crashes:
                shown = crash if len(crash) <= 3000 else crash[:3000] + f"... ({len(crash)} characters)"
                print("  CRASH " + shown.replace("\n", "\n        "))
            failed += len(tally.crashes)
    print(f"\n{'no crashes' if not failed else f'{failed} target(s) crashed'} in {args.minutes:g} minutes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
