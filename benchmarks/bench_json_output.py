"""Rendering a large report as ``json`` and ``jsonl``: how long the output formats take.

Builds --findings N findings (default 100,000) in memory, without running the engine: each
finding has two spans of generated prose (Arabic and English words, some with quotation
marks, backslashes and line breaks that JSON must escape), documents named like a news
archive, and the kinds, scopes, scores and groups a real report has (one in twenty
structural). Then times each format writing the whole report to an in-memory text stream
(``io.StringIO``: the disk is not measured), --repeats times, interleaved, and prints the
median. It also checks that ``json`` reads back with the same number of findings.

Needs nothing beside the repository (no ../shared data).

    python benchmarks/bench_json_output.py [--findings 100000] [--repeats 3] [--seed 7] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import io
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from dedup.formats import FormatContext, get_formatter  # noqa: E402
from dedup.model import Finding, Report, Span  # noqa: E402

KINDS = ("exact", "normalized", "near", "contained", "conflict")
SCOPES = ("document", "corpus", "corpus", "archive")
WORDS = ("the minister said on Tuesday that talks would resume after the holiday in Cairo and Gaza "
         "flood rain harbour museum \"quoted\" 2026 4.5% back\\slash "
         "قال الوزير إن المحادثات ستستأنف بعد العطلة في القاهرة وغزة الأمطار السيول المتحف").split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 30))]
    if rng.random() < 0.1:
        words[rng.randrange(len(words))] += "\n"
    return " ".join(words).replace("\n ", "\n") + "."


def span(rng: random.Random, doc: str) -> Span:
    text = sentence(rng)
    start = rng.randint(0, 20_000)
    return Span(doc, start, start + len(text), 1 + start // 80, 1 + start % 80, text)


def build_report(count: int, seed: int) -> Report:
    """`count` findings over count // 30 documents (at least one)."""
    rng = random.Random(seed)
    documents = max(1, count // 30)
    findings = []
    for k in range(count):
        doc = f"news/2026/{rng.randint(1, 12):02d}/{rng.randrange(documents):06d}-story.md"
        other = doc if rng.random() < 0.4 else f"news/2026/{rng.randint(1, 12):02d}/{rng.randrange(documents):06d}-story.md"
        findings.append(Finding(rng.choice(KINDS), rng.choice(SCOPES), round(rng.uniform(0.6, 1.0), 4),  # type: ignore[arg-type]
                                span(rng, doc), span(rng, other), group=k // 3, structural=rng.random() < 0.05))
    stats = {"documents": documents, "passages": 3 * count, "sentences": 3 * count, "findings": count,
             "seconds": 1.234, "by_kind": {kind: count // 5 for kind in KINDS}}
    return Report(findings, stats)


def render(name: str, report: Report, ctx: FormatContext) -> str:
    out = io.StringIO()
    get_formatter(name).write(report, out, ctx)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--formats", default="json,jsonl", help="comma-separated formats to time (default: json,jsonl)")
    common.add_output_args(parser)
    args = parser.parse_args()

    report = build_report(args.findings, args.seed)
    ctx = FormatContext(sources={})
    names = [name.strip() for name in args.formats.split(",") if name.strip()]
    sizes: dict[str, int] = {}

    def keep(name: str, text: str) -> None:
        sizes[name] = len(text.encode("utf-8"))
        if name == "json":
            assert len(json.loads(text)["findings"]) == args.findings

    times = common.interleaved({name: (lambda name=name: render(name, report, ctx)) for name in names},
                               repeats=args.repeats, keep=keep)
    rows = [(name, args.findings, common.median(times[name]), min(times[name]), sizes[name] / 2**20)
            for name in names]
    results = {name: {"findings": args.findings, "seconds": times[name], "median_s": common.median(times[name]),
                      "mebibytes": sizes[name] / 2**20} for name in names}
    common.emit(args, "report rendering", ("format", "findings", "median s", "best s", "MiB"), rows, results,
                notes=[f"goal: 100,000 findings as json in under 1 s (median of {args.repeats})"])


if __name__ == "__main__":
    main()
