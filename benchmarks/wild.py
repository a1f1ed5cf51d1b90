"""Detection quality on real news as it comes: the hand-judged wild findings.

usage: python benchmarks/wild.py [--shared ../shared] [--sample N] [--seed S] [--json [PATH]]

Needs the shared evaluation data (`../shared/eval/wild`, built from `../shared/corpora`): it
builds the two corpora the judgements refer to (all 2,225 BBC articles, 3,000 ANT Arabic
articles) under benchmarks/results/wild/, runs `dedup check CORPUS --format json --isolated` on
each (the defaults a new user gets), and scores the reports with `../shared/eval/wild/score.py`:
how many findings judged TRUE are still reported, how many judged FALSE or structural still
are, and how many hand-mined recall pairs are found. With `--sample N` it also writes N
findings per language that nobody has judged yet (spread over kinds, for labelling with
`../shared/eval/wild/RUBRIC.md`) to results/wild/sample-{en,ar}.jsonl, plus N document-scope
findings per language to results/wild/sample-document-{en,ar}.jsonl.
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "wild"
CORPORA = {"en": "bbc.jsonl", "ar": "ant-sample.jsonl"}


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def check(lang: str) -> tuple[Path, float]:
    report = RESULTS / f"report-{lang}.json"
    started = time.perf_counter()
    run([sys.executable, "-m", "dedup.cli", "check", str(RESULTS / CORPORA[lang]), "--format", "json",
         "--isolated", "-o", str(report)])
    return report, time.perf_counter() - started


def document_sample(report: Path, lang: str, n: int, seed: int) -> list[dict]:
    """n document-scope findings drawn at random (the score script stratifies by kind only)."""
    findings = [f for f in json.loads(report.read_text(encoding="utf-8"))["findings"] if f["scope"] == "document"]
    random.Random(seed).shuffle(findings)
    return [{"lang": lang, "kind": f["kind"], "scope": f["scope"], "score": f["score"], "sentence": f["sentence"],
             "match": f["match"], "label": None, "reason": None} for f in findings[:n]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(ROOT / ".." / "shared"))
    ap.add_argument("--sample", type=int, default=0, help="also write N unjudged findings per language to label")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", nargs="?", const="-", metavar="PATH", help="write the figures as JSON (stdout without PATH)")
    args = ap.parse_args()
    wild = Path(args.shared) / "eval" / "wild"
    if not (wild / "score.py").is_file():
        sys.exit(f"the wild evaluation data is not at {wild} (it comes with ../shared, beside the checkout)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not all((RESULTS / name).is_file() for name in CORPORA.values()):
        run([sys.executable, str(wild / "build.py"), str(RESULTS)])
    reports, seconds = {}, {}
    for lang in CORPORA:
        reports[lang], seconds[lang] = check(lang)
    cmd = [sys.executable, str(wild / "score.py"), "--en", str(reports["en"]), "--ar", str(reports["ar"])]
    if args.sample:
        cmd += ["--sample", str(args.sample), "--seed", str(args.seed)]
    scored = run(cmd)
    figures = {r["lang"]: r for r in json.loads(scored.stderr.strip().splitlines()[-1])}
    if args.sample:
        by_lang = collections.defaultdict(list)
        for line in scored.stdout.splitlines():
            row = json.loads(line)
            by_lang[row["lang"]].append(line)
        for lang, lines in by_lang.items():
            (RESULTS / f"sample-{lang}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
            rows = document_sample(reports[lang], lang, args.sample, args.seed)
            (RESULTS / f"sample-document-{lang}.jsonl").write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    for lang in CORPORA:
        stats = json.loads(reports[lang].read_text(encoding="utf-8"))["stats"]
        figures[lang].update(seconds=round(seconds[lang], 2), left_out=stats.get("left_out", {}),
                             boilerplate_texts=stats.get("boilerplate", {}).get("texts", 0))

    rows = [("findings", "findings"), ("by kind", "by_kind"), ("by scope", "by_scope"),
            ("judged TRUE still reported", "true_kept"), ("judged FALSE still reported", "false_still_reported"),
            ("judged structural still reported", "structural_still_reported"),
            ("recall pairs found", "recall_pairs_found"), ("left out (pairs, by reason)", "left_out"),
            ("boilerplate texts learned from the run", "boilerplate_texts"),
            ("seconds (`dedup check`, start-up included)", "seconds")]
    print("| | English (BBC, 2,225 articles) | Arabic (ANT sample, 3,000 articles) |")
    print("| --- | --- | --- |")
    for label, key in rows:
        cells = [figures[lang][key] for lang in CORPORA]
        cells = [", ".join(f"{k} {v}" for k, v in sorted(c.items())) if isinstance(c, dict) else str(c) for c in cells]
        print(f"| {label} | " + " | ".join(cells) + " |")
    if args.sample:
        print(f"\nunjudged findings to label: {RESULTS}/sample-{{en,ar}}.jsonl and sample-document-{{en,ar}}.jsonl")
    if args.json:
        common.write_json(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
