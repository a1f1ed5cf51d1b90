"""End to end: the ``dedup check`` command on the Arabic dev set, and the Detector at scale.

(a) wall time of ``dedup check ../shared/eval/dev-ar/docs.jsonl --format json`` as a
    subprocess (median of --repeats runs; output discarded);
(b) scale runs: corpora of about 10k, 100k and 1M sentences, each checked by
    ``Detector(workers=N).check_many(docs)`` in a fresh subprocess, reporting the seconds inside
    check_many, the whole subprocess's wall time and its peak RSS (its own ru_maxrss and
    wait4's; for a child stopped by the timeout or the memory guard, the polled peak).
    The children run with the default allocator settings; --retain-freed-memory gives them
    the glibc settings the dedup command makes for itself.

Corpora: real articles of ../shared/corpora (Arabic and English, shuffled with a fixed seed)
until the target sentence count is reached. The corpora hold only ~415k sentences, so past
them the corpus gets synthetic documents, one sentence a line (fixed seed), made as
--synthetic says: ``rewritten`` (default) takes a real sentence and redraws every word that is
not among its language's 200 most frequent from the corpus vocabulary, in proportion to
frequency (real frames and function words, new content); ``spliced`` joins the first half (by
words) of one real sentence to the second half of another, a stress case in which every
synthetic sentence half-copies two real ones. Built corpora are cached as JSONL under
benchmarks/results/ (corpus-v2-* rewritten, corpus-v1-* spliced).

    python benchmarks/bench_end_to_end.py [--sizes 10k,100k,1M] [--workers N] [--synthetic KIND]
        [--retain-freed-memory] [--skip-cli] [--py-spy] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

DEV_AR = common.SHARED / "eval" / "dev-ar" / "docs.jsonl"
CORPUS_VERSIONS = {"spliced": 1, "rewritten": 2}  # the file name's version, by how synthetic sentences are made
CORPUS_SEED = 2026


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def corpus_path(sentences: int, seed: int, synthesis: str = "rewritten") -> Path:
    return common.RESULTS / f"corpus-v{CORPUS_VERSIONS[synthesis]}-{sentences}-seed{seed}.jsonl"


def build_corpus(sentences: int, seed: int = CORPUS_SEED, synthesis: str = "rewritten") -> tuple[Path, dict]:
    """A JSONL corpus of about `sentences` sentences (counted by the simple splitter of
    common.py; the Detector's own count is reported by each run), built once and cached.
    Past the real articles, sentences are made as `synthesis` says (`common.SYNTHESIS`)."""
    path = corpus_path(sentences, seed, synthesis)
    meta_path = path.with_suffix(".meta.json")
    if path.exists() and meta_path.exists():
        return path, json.loads(meta_path.read_text())
    started = time.perf_counter()
    counts = common.sentence_pool()["article_sentences"]
    order = list(range(len(counts)))
    random.Random(seed).shuffle(order)
    chosen: set[int] = set()
    real = 0
    for k in order:  # a seeded random selection of whole real articles
        if real >= sentences:
            break
        chosen.add(k)
        real += counts[k]
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    synthetic_docs = 0
    with tmp.open("w", encoding="utf-8") as out:
        for k, article in enumerate(common.iter_articles()):
            if k in chosen:  # written in corpus file order
                out.write(json.dumps({"id": article["id"], "lang": article["lang"], "text": article["text"]},
                                     ensure_ascii=False) + "\n")
        for lang, group in common.SYNTHESIS[synthesis](max(0, sentences - real), seed=seed + 1):
            out.write(json.dumps({"id": f"synthetic/{lang}/{synthetic_docs}", "lang": lang, "text": "\n".join(group)},
                                 ensure_ascii=False) + "\n")
            synthetic_docs += 1
    tmp.replace(path)
    meta = {
        "target_sentences": sentences,
        "real_documents": len(chosen),
        "real_sentences": real,
        "synthesis": synthesis,
        "synthetic_documents": synthetic_docs,
        "synthetic_sentences": max(0, sentences - real),
        "seed": seed,
        "bytes": path.stat().st_size,
        "build_s": round(time.perf_counter() - started, 1),
    }
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return path, meta


# --------------------------------------------------------------------------- the child process

def child(corpus: str, profile: str | None, workers: int = 1) -> int:
    """Load a corpus, run Detector(workers=workers).check_many on it, print one JSON line of
    measurements."""
    source = common.dedup_source_digest()
    t0 = time.perf_counter()
    from dedup import Detector

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    docs = []
    with open(corpus, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            docs.append((record["id"], record["text"]))
    load_s = time.perf_counter() - t0
    rss_loaded = common.rss_bytes()
    detector = Detector(workers=workers)
    t0 = time.perf_counter()
    if profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        report = profiler.runcall(detector.check_many, docs)
        check_s = time.perf_counter() - t0
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        Path(profile).write_text(buffer.getvalue())
    else:
        report = detector.check_many(docs)
        check_s = time.perf_counter() - t0
    stats = dict(report.stats)
    print(json.dumps({
        "dedup_source": source, "import_s": import_s, "load_s": load_s, "check_s": check_s, "documents": len(docs),
        "rss_after_load_bytes": rss_loaded, "peak_rss_bytes": common.peak_rss_bytes(), "stats": stats,
    }))
    return 0


# --------------------------------------------------------------------------- the parent

def dedup_command() -> list[str]:
    exe = Path(sys.executable).parent / "dedup"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dedup")
    return [found] if found else [sys.executable, "-m", "dedup.cli"]


def run_cli(repeats: int, timeout: float) -> dict:
    cmd = dedup_command() + ["check", str(DEV_AR), "--format", "json"]
    runs = []
    for rep in range(repeats):
        r = common.run_child(cmd, timeout=timeout)
        report = {}
        try:
            report = json.loads(r["stdout"]).get("stats", {})
        except ValueError:
            pass
        runs.append({"wall_s": r["wall_s"], "returncode": r["returncode"], "timed_out": r["timed_out"],
                     "peak_rss_bytes": r["peak_rss_bytes"], "report_seconds": report.get("seconds"),
                     "findings": report.get("findings"), "sentences": report.get("sentences"),
                     "stderr_tail": r["stderr_tail"][-300:] if r["returncode"] not in (0, 1) else ""})
        print(f"  [cli {rep + 1}/{repeats}] {r['wall_s']:.2f} s, exit {r['returncode']}", file=sys.stderr, flush=True)
    return {"command": " ".join(["dedup"] + cmd[-4:]).replace(str(common.SHARED), "../shared"), "runs": runs,
            "median_wall_s": common.median(x["wall_s"] for x in runs)}


def summarize_pyspy(raw: Path, top: int = 15) -> dict:
    """Stage and hot-function shares from a py-spy raw (collapsed stacks) profile: each stage is
    the call path below ``check_many`` (two levels deep); each hot function is the deepest
    dedup frame of a stack (so time inside numpy or rapidfuzz counts for the dedup function
    that called it)."""
    stages: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f.split(" (")[0] + (" (" + f.split(" (")[1].split(":")[0] + ")" if " (" in f else "")
                  for f in stack.split(";")]
        names = [f.split(" (")[0] for f in frames]
        at = next((i for i, f in enumerate(names) if f.endswith("check_many")), None)
        stage = " > ".join(names[at + 1 : at + 3]) if at is not None and at + 1 < len(names) else "(outside check_many)"
        stages[stage] = stages.get(stage, 0) + n
        ours = [f for f in frames if "dedup/" in f]  # native and numpy time goes to its dedup caller
        leaf = ours[-1] if ours else (frames[-1] or "(no Python frame)")
        leaves[leaf] = leaves.get(leaf, 0) + n

    def share(d: dict[str, int]) -> list[list]:
        return [[k, v, round(100 * v / max(1, total), 1)] for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:top]]

    return {"samples": total, "stages": share(stages), "hot_functions": share(leaves)}


# glibc settings that keep freed memory in the process (what the `dedup` command sets for itself
# with mallopt), as environment variables for a child: big blocks from the heap, no trimming.
RETAIN_FREED_MEMORY = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**31 - 1),
                       "MALLOC_TOP_PAD_": str(1 << 28)}


def run_scale(size: int, timeout: float, max_rss: int, profile: bool, py_spy: bool,
              retain_memory: bool = False, synthesis: str = "rewritten", workers: int = 1) -> dict:
    path, meta = build_corpus(size, synthesis=synthesis)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(path), "--workers", str(workers)]
    if profile:
        cmd += ["--profile-out", str(common.RESULTS / f"profile-{size}.txt")]
    raw = common.RESULTS / f"pyspy-{size}.txt"
    spy = Path(sys.executable).parent / "py-spy"
    if py_spy:
        if not spy.exists() and not shutil.which("py-spy"):
            sys.exit("--py-spy needs py-spy (pip install py-spy)")
        cmd = [str(spy) if spy.exists() else "py-spy", "record", "--format", "raw", "--function", "--nonblocking",
               "--rate", "20", "--output", str(raw), "--"] + cmd
    print(f"  [scale {size:,}] running on {path.name} ({meta['bytes'] / 2**20:.0f} MiB) ...", file=sys.stderr, flush=True)
    env = dict(os.environ, **RETAIN_FREED_MEMORY) if retain_memory else None
    r = common.run_child(cmd, timeout=timeout, max_rss=max_rss, env=env)
    out = {"target": size, "retain_freed_memory": retain_memory, "corpus": meta, "wall_s": r["wall_s"], "returncode": r["returncode"],
           "timed_out": r["timed_out"], "memory_killed": r["memory_killed"], "peak_rss_bytes": r["peak_rss_bytes"]}
    lines = [ln for ln in r["stdout"].splitlines() if ln.startswith("{")]
    if r["returncode"] == 0 and lines:
        out.update(json.loads(lines[-1]))  # includes the child's own ru_maxrss as peak_rss_bytes
    else:
        out["stderr_tail"] = r["stderr_tail"]
    if "check_s" not in out:  # stopped or failed: wait4's figure and the polled peak of the tree
        out["peak_rss_bytes"] = max(r["peak_rss_bytes"], r["sampled_tree_rss_bytes"])
    elif not py_spy:  # under py-spy, wait4 reports py-spy itself; the child's own figure stands
        out["peak_rss_bytes"] = max(out["peak_rss_bytes"], r["peak_rss_bytes"])
    if py_spy and raw.exists():
        out["py_spy"] = summarize_pyspy(raw)
        out["py_spy"]["raw"] = str(raw.relative_to(common.REPO))
    if r["timed_out"]:
        status = f"stopped at the {timeout:.0f} s timeout"
    elif r["memory_killed"]:
        status = f"stopped at the {max_rss / 2**30:.0f} GiB memory guard"
    else:
        status = f"check_many {out.get('check_s', float('nan')):.1f} s"
    print(f"  [scale {size:,}] {status}, wall {r['wall_s']:.1f} s, peak RSS {out['peak_rss_bytes'] / 2**30:.2f} GiB",
          file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1M", help="scale-run sizes in sentences (default 10k,100k,1M)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the dev-ar CLI check (median; default 3)")
    parser.add_argument("--skip-cli", action="store_true", help="skip (a), the dev-ar CLI timing")
    parser.add_argument("--skip-scale", action="store_true", help="skip (b), the scale runs")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed to each subprocess (default 600)")
    parser.add_argument("--max-rss-gb", type=float, default=16,
                        help="kill a scale child whose resident memory passes this (default 16 GiB of the 24)")
    parser.add_argument("--py-spy", action="store_true",
                        help="sample each scale child with py-spy (20 Hz); stage shares go to the JSON and table notes")
    parser.add_argument("--retain-freed-memory", action="store_true",
                        help="run the scale children with glibc keeping freed memory (MALLOC_MMAP_MAX_=0, "
                             "MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_), as the dedup command configures itself")
    parser.add_argument("--profile", action="store_true",
                        help="run each scale child under cProfile; top functions go to results/profile-SIZE.txt")
    parser.add_argument("--synthetic", choices=sorted(common.SYNTHESIS), default="rewritten",
                        help="how sentences past the real corpora are made: real sentences with their content "
                             "words redrawn (rewritten, default), or halves of two real ones (spliced, a stress "
                             "case dense in partial copies)")
    parser.add_argument("--workers", type=int, default=1,
                        help="the scale children's Detector(workers=N): 1 (default, the library's default) or -1, "
                             "one thread per core, as the dedup command runs")
    parser.add_argument("--child", metavar="CORPUS", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    common.add_output_args(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.profile_out, args.workers)

    common.environment()  # recorded as the run starts
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    results: dict = {"sizes": sizes}
    rows = []
    notes = []
    if not args.skip_cli:
        cli = run_cli(args.repeats, args.timeout)
        results["cli"] = cli
        last = cli["runs"][-1]
        rows.append(["dedup check dev-ar (CLI)", last.get("sentences"), cli["median_wall_s"], last.get("report_seconds"),
                     None, max(x["peak_rss_bytes"] for x in cli["runs"]) / 2**30, None])
        notes.append(f"goal dev-ar CLI <= 3 s: median {cli['median_wall_s']:.2f} s of {args.repeats} "
                     f"{'met' if cli['median_wall_s'] <= 3 else 'NOT met'} (command: {cli['command']})")
    if not args.skip_scale:
        scale = []
        previous = None
        for size in sizes:
            run = run_scale(size, args.timeout, int(args.max_rss_gb * 2**30), args.profile, args.py_spy,
                            args.retain_freed_memory, args.synthetic, args.workers)
            scale.append(run)
            stats = run.get("stats", {})
            check_s = run.get("check_s")
            growth = None
            if previous and check_s and previous.get("check_s"):
                growth = (check_s / previous["check_s"]) / (size / previous["target"])
            label = f"check_many {size:,}" + (f" ({run['corpus']['synthetic_sentences']:,} {args.synthetic})"
                                              if run["corpus"]["synthetic_sentences"] else "")
            if run["timed_out"]:
                label += f" STOPPED at {args.timeout:.0f} s timeout"
            elif run["memory_killed"]:
                label += f" STOPPED at {args.max_rss_gb:.0f} GiB memory guard"
            elif run["returncode"] != 0:
                label += f" FAILED (exit {run['returncode']})"
            rows.append([label, stats.get("sentences"), run["wall_s"], check_s,
                         stats.get("sentences", 0) / check_s if check_s else None,
                         run["peak_rss_bytes"] / 2**30, growth])
            previous = run if check_s else previous
            if "py_spy" in run:
                spy = run["py_spy"]
                notes.append(f"py-spy, {size:,} sentences ({spy['samples']} samples at 20 Hz): stages " + "; ".join(
                    f"{name} {pct}%" for name, _, pct in spy["stages"][:8]))
                notes.append(f"py-spy, {size:,} sentences, hottest functions: " + "; ".join(
                    f"{name} {pct}%" for name, _, pct in spy["hot_functions"][:8]))
        results["scale"] = scale
        sources = sorted({r["dedup_source"] for r in scale if "dedup_source" in r})
        if len(sources) > 1:
            notes.append(f"WARNING: dedup's source changed during this run ({', '.join(sources)}): "
                         "the sizes were not measured on the same code; rerun for a consistent set")
        big = [r for r in scale if r["target"] >= 1_000_000]
        for r in big:
            ok_time = r.get("check_s") is not None and r["check_s"] <= 60
            ok_mem = r["peak_rss_bytes"] <= 4 * 2**30 and not r["timed_out"] and not r["memory_killed"]
            took = (f"{r['check_s']:.1f} s" if r.get("check_s") is not None
                    else f"unfinished after {r['wall_s']:.0f} s")
            peak = f"{r['peak_rss_bytes'] / 2**30:.2f} GiB" + ("" if r.get("check_s") is not None else " when stopped")
            notes.append(f"goal {r['target']:,} sentences in <= 60 s and <= 4 GB: "
                         f"{took} {'met' if ok_time else 'NOT met'}, {peak} {'met' if ok_mem else 'NOT met'}")
        notes.append(f"scale children: Detector(workers={args.workers}).check_many with " + (
            "glibc keeping freed memory (--retain-freed-memory, as the dedup command does)" if args.retain_freed_memory
            else "the default allocator settings (the dedup command tunes glibc for itself; see --retain-freed-memory)"))
        notes.append("scale corpora: seeded random real articles of ../shared/corpora, then synthetic documents "
                     + ("of real sentences with their content words redrawn from the corpus vocabulary (--synthetic "
                        "rewritten); " if args.synthetic == "rewritten" else
                        "of spliced sentences (first half of one real sentence + second half of another); ") +
                     "'growth' = (time ratio) / (size ratio) against the previous size, 1.0 = linear")
    headers = ["run", "sentences", "wall s", "check_many s", "sentences/s", "peak RSS GiB", "growth"]
    common.emit(args, "End to end", headers, rows, results, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
