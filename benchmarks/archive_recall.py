"""Archive recall on a labelled dev set: the corpus-scope repeats, found against an index.

Indexes every document of SET (default ../shared/eval/dev-ar) except those that hold the copy
(`b`) of a labelled corpus-scope pair, then checks those documents with ``dedup check
--index``. A corpus-scope pair counts as found when an ``archive`` finding links its copy to
its original. The same pairs are then scored in one plain ``dedup check SET/docs.jsonl`` run
(corpus scope), for comparison: the two recalls should be the same.

    python benchmarks/archive_recall.py [--set dev-ar] [--backend sqlite|redis://host:port/db]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

sys.path.insert(0, str(common.SHARED / "eval"))

from dedupeval import Span, pair_matches  # noqa: E402


def dedup(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "dedup.cli", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"dedup {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def recall(gold: list[dict], findings: list[dict], scope: str) -> tuple[int, int]:
    pairs = [(Span.of(f["sentence"]), Span.of(f["match"])) for f in findings if f["scope"] == scope]
    found = sum(any(pair_matches(p, (Span.of(g["a"]), Span.of(g["b"]))) for p in pairs) for g in gold)
    return found, len(gold)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", default="dev-ar")
    ap.add_argument("--backend", default="sqlite", help="sqlite, or a redis:// location")
    args = ap.parse_args()
    set_dir = common.SHARED / "eval" / args.set
    docs = [json.loads(line) for line in (set_dir / "docs.jsonl").open(encoding="utf-8")]
    gold = [json.loads(line) for line in (set_dir / "gold.jsonl").open(encoding="utf-8")]
    copies = {g["b"]["doc"] for g in gold if g["scope"] == "corpus"}
    corpus_gold = [g for g in gold if g["scope"] == "corpus" and g["a"]["doc"] not in copies]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        location = str(work / "index.sqlite") if args.backend == "sqlite" else args.backend
        with (work / "archive.jsonl").open("w", encoding="utf-8") as fh:
            for d in docs:
                if d["id"] not in copies:
                    fh.write(json.dumps({"id": d["id"], "text": d["text"]}, ensure_ascii=False) + "\n")
        with (work / "drafts.jsonl").open("w", encoding="utf-8") as fh:
            for d in docs:
                if d["id"] in copies:
                    fh.write(json.dumps({"id": d["id"], "text": d["text"]}, ensure_ascii=False) + "\n")
        started = time.perf_counter()
        dedup("index", "add", "archive.jsonl", "--index", location, "-q", cwd=work)
        built = time.perf_counter() - started
        started = time.perf_counter()
        archive_report = json.loads(dedup("check", "drafts.jsonl", "--index", location, "--format", "json",
                                          cwd=work).stdout)
        checked = time.perf_counter() - started
    single = json.loads(dedup("check", str(set_dir / "docs.jsonl"), "--format", "json", cwd=common.REPO).stdout)
    a_found, total = recall(corpus_gold, archive_report["findings"], "archive")
    s_found, _ = recall(corpus_gold, single["findings"], "corpus")
    print(f"{args.set}: {total} corpus-scope pairs whose original is archived "
          f"({len(docs) - len(copies)} documents indexed in {built:.1f} s, {len(copies)} checked in {checked:.1f} s)")
    print(f"  against the index (archive findings): {a_found}/{total} = {a_found / total:.3f}")
    print(f"  one dedup check run (corpus findings): {s_found}/{total} = {s_found / total:.3f}")


if __name__ == "__main__":
    main()
