"""Hand-judged precision of dedup's own findings on real news: the labelling packets and the figures.

usage:
  python benchmarks/wild_precision.py packets          # after `python benchmarks/wild.py --sample N`
  python benchmarks/wild_precision.py score LABELLED.jsonl... [--report-en R] [--report-ar R]

`packets` turns the unjudged samples that `benchmarks/wild.py --sample N` wrote
(results/wild/sample-*.jsonl) into labelling packets (results/wild/packet-*.jsonl): each finding
with an id, its two passages, and the paragraph around each (the text either side), so that a
labeller can apply `../shared/eval/wild/RUBRIC.md` (TRUE, STRUCTURAL or FALSE, a category, and
whether the kind is right).

`score` reads labelled packets (the same rows with `label`, `category`, `kind_ok` filled in)
and prints precision per language and kind with Wilson 95% intervals, precision weighted by the
kind counts of the full report (strict: STRUCTURAL counts as FALSE), and precision of the
document-scope sample. Labelled findings that the report no longer holds (a later rule left
them out) are not counted, and their number is printed: when a change only leaves findings out,
the rest of a random sample is a random sample of what is left. The packets hold corpus text: they stay under benchmarks/results/, which
git ignores.
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WILD = ROOT / "benchmarks" / "results" / "wild"
CORPORA = {"en": "bbc.jsonl", "ar": "ant-sample.jsonl"}
Z = 1.959964  # 95%


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95%)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def paragraph_around(text: str, start: int, end: int, width: int = 400) -> str:
    """The passage's paragraph with the paragraphs either side, cut to `width` characters each
    side of the passage, the passage marked with [[ ]]."""
    before = text.rfind("\n", 0, text.rfind("\n", 0, start)) + 1
    after = text.find("\n", text.find("\n", end) + 1)
    after = len(text) if after < 0 else after
    before = max(before, start - width)
    after = min(after, end + width)
    return text[before:start] + "[[" + text[start:end] + "]]" + text[end:after]


def packets(args: argparse.Namespace) -> int:
    texts: dict[str, str] = {}
    for name in CORPORA.values():
        for line in (WILD / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts[row["id"]] = row["text"]
    for sample in sorted(WILD.glob("sample-*.jsonl")):
        rows = [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()]
        out = []
        for n, row in enumerate(rows):
            for side in ("sentence", "match"):
                span = row[side]
                span["context"] = paragraph_around(texts[span["doc"]], span["start"], span["end"])
            row.update(id=f"{sample.stem}-{n:03d}", label=None, category=None, kind_ok=None, expected_kind=None,
                       reason=None)
            out.append(json.dumps(row, ensure_ascii=False))
        target = WILD / sample.name.replace("sample-", "packet-")
        target.write_text("\n".join(out) + "\n", encoding="utf-8")
        print(f"{target}: {len(out)} findings to label")
    return 0


def score(args: argparse.Namespace) -> int:
    reports = {"en": Path(args.report_en), "ar": Path(args.report_ar)}
    findings = {lang: json.loads(path.read_text(encoding="utf-8"))["findings"]
                for lang, path in reports.items() if path.is_file()}
    counts = {lang: collections.Counter(f["kind"] for f in found) for lang, found in findings.items()}
    reported = {lang: {_pair(f) for f in found} for lang, found in findings.items()}
    gone: collections.Counter[str] = collections.Counter()
    main: dict[str, dict[str, list[bool]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    document: dict[str, list[bool]] = collections.defaultdict(list)
    lenient: dict[str, dict[str, list[bool]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    kind_ok: dict[str, list[bool]] = collections.defaultdict(list)
    for path in args.labelled:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in ("TRUE", "FALSE", "STRUCTURAL"):
                sys.exit(f"{path}: {row.get('id')}: no label")
            if row["lang"] in reported and _pair(row) not in reported[row["lang"]]:
                gone[row["lang"]] += 1  # left out by a later rule: the rest stay a random sample
                continue
            true = row["label"] == "TRUE"
            if "sample-document" in row["id"]:
                document[row["lang"]].append(true)
            else:
                main[row["lang"]][row["kind"]].append(true)
                lenient[row["lang"]][row["kind"]].append(row["label"] != "FALSE")
            if true:
                kind_ok[row["lang"]].append(bool(row.get("kind_ok")))
    for lang in sorted(main):
        print(f"\n{lang}: precision by kind (strict: STRUCTURAL counted FALSE), Wilson 95% interval")
        if gone[lang]:
            print(f"({gone[lang]} labelled findings are no longer in the report and are not counted)")
        print("| kind | findings in the report | sample TRUE | precision | 95% interval |")
        print("| --- | --- | --- | --- | --- |")
        weighted = weighted_lenient = total = 0.0
        for kind, labels in sorted(main[lang].items()):
            k, n = sum(labels), len(labels)
            low, high = wilson(k, n)
            weight = counts.get(lang, {}).get(kind, 0)
            weighted += weight * k / n
            weighted_lenient += weight * sum(lenient[lang][kind]) / n
            total += weight
            print(f"| {kind} | {weight} | {k}/{n} | {k / n:.2f} | {low:.2f}-{high:.2f} |")
        if total:
            print(f"weighted by the kind counts: {weighted / total:.3f} "
                  f"({weighted_lenient / total:.3f} counting STRUCTURAL as TRUE)")
        if document[lang]:
            k, n = sum(document[lang]), len(document[lang])
            low, high = wilson(k, n)
            print(f"document scope only: {k}/{n} = {k / n:.2f} ({low:.2f}-{high:.2f})")
        if kind_ok[lang]:
            print(f"kind right on TRUE findings: {sum(kind_ok[lang])}/{len(kind_ok[lang])}")
    return 0


def _pair(finding: dict) -> tuple:
    """A finding's two spans, as a key that a labelled row and a report's finding share."""
    return tuple((finding[side]["doc"], finding[side]["start"], finding[side]["end"]) for side in ("sentence", "match"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("packets", help="labelling packets from the samples of benchmarks/wild.py --sample")
    s = sub.add_parser("score", help="precision from labelled packets")
    s.add_argument("labelled", nargs="+")
    s.add_argument("--report-en", default=str(WILD / "report-en.json"))
    s.add_argument("--report-ar", default=str(WILD / "report-ar.json"))
    args = ap.parse_args()
    return packets(args) if args.command == "packets" else score(args)


if __name__ == "__main__":
    sys.exit(main())
