"""A flood of near-identical short sentences: ``dedup check`` on adversarial text.

Builds (once, deterministically from --seed) a plain-text file of short sentences whose words
all come from a tiny vocabulary (20 words by default): every sentence shares most of its words
with a great many others, so the LSH buckets are huge and, without budgets, candidate pairs and
their verification grow with the square of the flood. Then runs

    python -m dedup check FILE --format json -o REPORT --isolated

as a subprocess (this checkout's dedup) and prints its wall time, CPU time, peak RSS
(``resource.getrusage(RUSAGE_CHILDREN)`` after the child is reaped: the peak of the largest
child) and, from the report's stats, the sentences, the candidate pairs (every one is verified),
the flood figures (``stats.flood``), the stage times and the progress lines the command wrote
on stderr (one a stage once the run has lasted 10 s).

    python benchmarks/bench_flood.py [--megabytes 50] [--vocabulary 20] [--seed 14]
        [--words 6-12] [--timeout 900] [--py-spy] [--json [PATH]]

The goal it checks (issue 14): 50 MB (about 812k sentences) in at most 60 s and 3 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
VOCABULARY = ("river", "market", "engine", "garden", "signal", "harbor", "winter", "copper", "lantern", "meadow",
              "pillow", "rocket", "saddle", "timber", "velvet", "walnut", "yellow", "zephyr", "basket", "candle",
              "dragon", "falcon", "glacier", "hammer", "island", "jungle", "kettle", "ladder", "mirror", "needle")
GOAL_SECONDS, GOAL_BYTES = 60.0, 3 * 10**9


def corpus_path(megabytes: float, vocabulary: int, words: tuple[int, int], seed: int) -> Path:
    return RESULTS / f"flood-{megabytes:g}MB-v{vocabulary}-w{words[0]}-{words[1]}-seed{seed}.txt"


def build_corpus(megabytes: float, vocabulary: int, words: tuple[int, int], seed: int) -> Path:
    """Sentences of `words` words drawn uniformly from the first `vocabulary` words of
    VOCABULARY, the first capitalized, ending with a full stop; five sentences a paragraph,
    paragraphs separated by a blank line, until the file holds `megabytes` MB (10^6 bytes)."""
    if not 1 <= vocabulary <= len(VOCABULARY):
        raise SystemExit(f"--vocabulary must be 1 to {len(VOCABULARY)}")
    path = corpus_path(megabytes, vocabulary, words, seed)
    if path.exists():
        return path
    rng = random.Random(seed)
    vocab = VOCABULARY[:vocabulary]
    target = int(megabytes * 10**6)
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    size = 0
    with tmp.open("w", encoding="utf-8") as out:
        while size < target:
            paragraph = []
            for _ in range(5):
                sentence = " ".join(rng.choice(vocab) for _ in range(rng.randint(*words)))
                paragraph.append(sentence[0].upper() + sentence[1:] + ".")
            text = " ".join(paragraph) + "\n\n"
            out.write(text)
            size += len(text)
    tmp.replace(path)
    return path


def _py_spy() -> str:
    """py-spy beside this interpreter (a virtual environment's bin/), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy") or "py-spy"


def run_check(corpus: Path, timeout: float, py_spy: Path | None) -> dict:
    """Run the command on `corpus` and measure it. The report goes to a temporary file."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "dedup", "check", str(corpus), "--format", "json", "-o", str(report),
               "--isolated"]
        if py_spy is not None:
            cmd = [_py_spy(), "record", "-r", "20", "-f", "speedscope", "-o", str(py_spy), "--", *cmd]
        env = dict(os.environ, PYTHONPATH=str(REPO))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        try:
            proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "wall_s": timeout}
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = {
            "status": proc.returncode,
            "wall_s": round(wall, 2),
            "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2),
            "peak_rss_bytes": after.ru_maxrss * 1024,
            "stderr_tail": proc.stderr[-2000:],
            "progress_lines": [line for line in proc.stderr.splitlines() if line.startswith("dedup: ")],
        }
        if proc.returncode in (0, 1) and report.exists():
            result["stats"] = json.loads(report.read_text(encoding="utf-8"))["stats"]
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--vocabulary", type=int, default=20)
    parser.add_argument("--words", default="6-12", help="sentence length range in words (default 6-12)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--py-spy", action="store_true", help="sample the child with py-spy (results/flood.speedscope)")
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    low, high = (int(x) for x in args.words.split("-"))
    started = time.perf_counter()
    corpus = build_corpus(args.megabytes, args.vocabulary, (low, high), args.seed)
    built = time.perf_counter() - started
    print(f"corpus: {corpus} ({corpus.stat().st_size / 1e6:.1f} MB{f', built in {built:.1f} s' if built > 1 else ''})")
    if args.py_spy and not Path(_py_spy()).exists():
        raise SystemExit("--py-spy needs py-spy on PATH (pip install py-spy)")
    spy = RESULTS / "flood.speedscope" if args.py_spy else None
    result = run_check(corpus, args.timeout, spy)
    result.update(corpus=str(corpus), megabytes=args.megabytes, vocabulary=args.vocabulary, words=args.words,
                  seed=args.seed)
    if result["status"] == "timeout":
        print(f"stopped after {args.timeout:.0f} s")
        return 1
    stats = result.get("stats", {})
    flood = stats.get("flood", {})
    rss = result["peak_rss_bytes"]
    print(f"exit status {result['status']}; wall {result['wall_s']:.1f} s, CPU {result['cpu_s']:.1f} s, "
          f"peak RSS {rss / 2**30:.2f} GiB")
    if stats:
        print(f"sentences {stats['sentences']:,}, passages {stats['passages']:,}, findings {stats['findings']:,}, "
              f"candidate pairs verified {stats['candidates']:,}")
        if flood:
            print("flood: " + ", ".join(f"{k} {v:,}" for k, v in flood.items()))
        print("stages: " + ", ".join(f"{k} {v:.1f}" for k, v in stats["stage_seconds"].items()))
    elif result["stderr_tail"]:
        print(result["stderr_tail"])
    if result["progress_lines"]:
        print("progress on stderr: " + " | ".join(result["progress_lines"]))
    if args.megabytes >= 50:
        met = result["status"] in (0, 1) and result["wall_s"] <= GOAL_SECONDS and rss <= GOAL_BYTES
        print(f"goal (<= {GOAL_SECONDS:.0f} s and <= {GOAL_BYTES / 1e9:.0f} GB at 50 MB): {'met' if met else 'NOT met'}")
    if args.json:
        common.write_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
