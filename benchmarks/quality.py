"""Detection quality on the labelled evaluation sets and the seed article, as a Markdown table.

usage: python benchmarks/quality.py [--shared ../shared]

Runs `dedup check SET/docs.jsonl --format json` for each set in ../shared/eval and scores it
with ../shared/eval/score.py (the scorer's own output is kept under benchmarks/results/).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def run(cmd: list[str], out: Path | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    if out is not None:
        out.write_text(proc.stdout, encoding="utf-8")
    return proc.stdout


def dedup(*args: str) -> list[str]:
    return [sys.executable, "-m", "dedup.cli", "check", *args]


def score(shared: Path, name: str) -> dict:
    report = RESULTS / f"quality-{name}.json"
    started = time.perf_counter()
    run(dedup(str(shared / "eval" / name / "docs.jsonl"), "--format", "json"), report)
    seconds = time.perf_counter() - started
    text = run([sys.executable, str(shared / "eval" / "score.py"), str(shared / "eval" / name), str(report),
                "--show", "0", "--json"])
    (RESULTS / f"quality-{name}.score.txt").write_text(text, encoding="utf-8")
    summary = json.loads(text.strip().splitlines()[-1])
    recall_part, _, kind_part = text.partition("reported kind agrees")
    kind_part = kind_part.split("sample of")[0]
    rows = dict(re.findall(r"^  (\S+)\s+\d+/\d+\s+([0-9.]+)$", recall_part, flags=re.M))
    kinds = dict(re.findall(r"^  (\S+)\s+\d+/\d+\s+([0-9.]+)$", kind_part, flags=re.M))
    return {"summary": summary, "recall": rows, "kinds": kinds, "seconds": seconds}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(ROOT / ".." / "shared"))
    args = ap.parse_args()
    shared = Path(args.shared)
    RESULTS.mkdir(parents=True, exist_ok=True)
    sets = {name: score(shared, name) for name in ("dev-ar", "dev-en")}
    seed_report = RESULTS / "quality-seed.json"
    run(dedup(str(shared / "cases" / "seed-article.txt"), "--format", "json"), seed_report)
    seed = run([sys.executable, str(shared / "cases" / "check_case.py"),
                str(shared / "cases" / "seed-article.expected.json"), str(seed_report)]).strip().splitlines()[-1]

    print("| | " + " | ".join(sets) + " |")
    print("| --- | " + " | ".join("---" for _ in sets) + " |")
    for key in ("precision", "recall", "f1"):
        print(f"| {key} | " + " | ".join(f"{s['summary'][key]:.3f}" for s in sets.values()) + " |")
    ops = sorted({op for s in sets.values() for op in s["recall"]})
    for op in ops:
        print(f"| recall: {op} | " + " | ".join(s["recall"].get(op, "-") for s in sets.values()) + " |")
    kinds = sorted({k for s in sets.values() for k in s["kinds"]})
    for kind in kinds:
        print(f"| kind agrees: {kind} | " + " | ".join(s["kinds"].get(kind, "-") for s in sets.values()) + " |")
    print("| seconds (`dedup check`, incl. start-up) | " + " | ".join(f"{s['seconds']:.1f}" for s in sets.values()) + " |")
    print(f"\nseed article: {seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
