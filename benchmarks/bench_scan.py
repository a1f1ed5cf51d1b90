"""``dedup scan`` (the sharded engine, local and Ray) beside ``dedup check``, on corpora of 1M and
10M sentences, and on a skewed corpus.

In ONE run, on the same corpus (default 1M sentences, corpus-v2 of bench_end_to_end.py):

- ``dedup check CORPUS --format json -o REPORT``;
- ``dedup scan CORPUS --out DIR --engine local``;
- ``dedup scan CORPUS --out DIR --engine ray --address ADDR`` on a local Ray cluster that this
  script starts itself (one head node, ``--num-cpus 2``, no dashboard, its own temporary
  directory; stopped at the end by its process ids); left out, with a note, when ray is not
  installed;

each measured by `common.measure`: wall time, CPU (user+sys of the whole process tree), the mean
number of busy cores (CPU / wall), the peak of the SUM of resident memory over the process
tree (for Ray: the command's tree plus every process of the cluster, workers included; the
idle cluster's own share is shown apart), and the shuffle: the bytes of the files under
DIR/work (the largest total seen while it ran, and the sum of each file's largest size, which
is what was written when no file is rewritten), per sentence. The three sets of findings are
compared: scan's findings.jsonl lines against check's JSON findings (the same lines as
``dedup check --format jsonl`` writes), in order and in any order.

Then the large corpus (default 10M sentences) with ``scan --engine local`` only: ``dedup check``
is not run there (the issue's premise: it cannot finish 10M sentences on this machine), and the
growth from the small to the large run (time and peak RSS ratios, shuffle bytes per sentence).

``--skew`` runs ``scan --engine local`` (and check with ``--skew-check``) on a skewed corpus: one
sentence repeated 100,000 times, plus stock phrases (a fixed list of boilerplate lines, and
flood sentences drawn from a 20-word vocabulary as bench_flood.py makes them) mixed into
documents of ordinary news sentences (bench_end_to_end's rewritten sentences).

Goals (the issue; 2 cores, 24 GB): 10M sentences complete with a peak RSS of the process tree
<= 6 GB; 1M sentences in <= 30 s with both cores busy; the skewed corpus within the memory
bound, in minutes. Corpora are built once and cached under benchmarks/results/ (10M: ~2.4 GB,
written as it is made).

    python benchmarks/bench_scan.py [--size 1M] [--large 10M|none] [--engines check,local,ray]
        [--skew] [--skew-only] [--skew-base 1M] [--skew-repeats 100000] [--skew-stock 100000]
        [--shards N] [--format jsonl|parquet] [--scan-args ARGS] [--ray-object-store BYTES]
        [--timeout 3600] [--max-rss 16GiB] [--keep] [--build-only] [--json [PATH]]
    python benchmarks/bench_scan.py --size 100k --large none     # the quick run (a minute or two)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from bench_end_to_end import CORPUS_SEED, build_corpus, parse_size
from bench_flood import VOCABULARY

sys.path.insert(0, str(common.REPO / "tests"))  # ray_head.py, shared with the tests' ray_cluster fixture

RUNS = common.RESULTS / "scan-runs"
GOAL_LARGE_RSS = 6 * 10**9
GOAL_SMALL_WALL_S = 30.0
GOAL_BUSY_CORES = 1.5  # "both cores busy": CPU / wall of the tree at least this
SKEW_VERSION = 1
HOT_SENTENCE = ("The views expressed in this article are those of the author and do not necessarily reflect "
                "the editorial policy of the newspaper.")
STOCK_LINES = (
    "All rights reserved.",
    "Follow us on Twitter and Facebook for the latest news.",
    "Click here to subscribe to our daily newsletter.",
    "This story has been updated with additional information.",
    "Reporting by our correspondents; editing by the news desk.",
    "جميع الحقوق محفوظة.",
    "تابعونا على تويتر وفيسبوك لمعرفة آخر الأخبار.",
    "اضغط هنا للاشتراك في النشرة الإخبارية اليومية.",
)


# --------------------------------------------------------------------------- corpora

def skew_corpus_path(base: int, repeats: int, stock: int, seed: int) -> Path:
    return common.RESULTS / f"skew-v{SKEW_VERSION}-{base}-hot{repeats}-stock{stock}-seed{seed}.jsonl"


def build_skew_corpus(base: int, repeats: int = 100_000, stock: int = 100_000,
                      seed: int = CORPUS_SEED) -> tuple[Path, dict]:
    """A JSONL corpus of `base` ordinary news sentences (bench_end_to_end's rewritten ones, in
    documents of 6 to 20) into which are mixed `repeats` copies of HOT_SENTENCE and `stock`
    stock phrases: half STOCK_LINES (exact boilerplate), half flood sentences (6 to 12 words
    from the first 20 words of bench_flood's VOCABULARY, so all near-identical). The inserts
    are spread evenly over the documents, each at a random place. Built once, written as it
    is made (never held in memory)."""
    path = skew_corpus_path(base, repeats, stock, seed)
    meta_path = path.with_suffix(".meta.json")
    if path.exists() and meta_path.exists():
        return path, json.loads(meta_path.read_text())
    started = time.perf_counter()
    rng = random.Random(seed + 7)
    vocab = VOCABULARY[:20]

    def flood_sentence() -> str:
        words = " ".join(rng.choice(vocab) for _ in range(rng.randint(6, 12)))
        return words[0].upper() + words[1:] + "."

    left = {"ordinary": base, "hot": repeats, "stock": stock}
    counts: Counter = Counter()
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for k, (lang, sentences) in enumerate(common.rewritten_documents(base, seed=seed + 3)):
            share = len(sentences) / max(1, left["ordinary"])  # this document's share of what is left
            hot = _draw(left["hot"] * share, rng)
            stocked = _draw(left["stock"] * share, rng)
            inserts = [HOT_SENTENCE] * hot
            inserts += [rng.choice(STOCK_LINES) if rng.random() < 0.5 else flood_sentence() for _ in range(stocked)]
            lines = list(sentences)
            for sentence in inserts:
                lines.insert(rng.randint(0, len(lines)), sentence)
            out.write(json.dumps({"id": f"skew/{lang}/{k}", "lang": lang, "text": "\n".join(lines)},
                                 ensure_ascii=False) + "\n")
            left["ordinary"] -= len(sentences)
            left["hot"] -= hot
            left["stock"] -= stocked
            counts.update(documents=1, ordinary=len(sentences), hot=hot, stock=stocked)
    tmp.replace(path)
    meta = {"base_sentences": counts["ordinary"], "hot_sentence": HOT_SENTENCE, "hot_copies": counts["hot"],
            "stock_phrases": counts["stock"], "documents": counts["documents"],
            "sentences": counts["ordinary"] + counts["hot"] + counts["stock"], "seed": seed,
            "bytes": path.stat().st_size, "build_s": round(time.perf_counter() - started, 1)}
    meta_path.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    return path, meta


def _draw(expected: float, rng: random.Random) -> int:
    """`expected` rounded up or down at random, in proportion (so the totals come out exact)."""
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


# --------------------------------------------------------------------------- runs

class WorkWatch:
    """Watches a scan's output folder while it runs (called by `common.measure` every ~0.5 s):
    the largest total size of DIR/work seen, each file's largest size (their sum is what was
    written, when no file is rewritten in place), and when each path first appeared."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.work = out_dir / "work"
        self.started = time.perf_counter()
        self.peak_bytes = 0
        self.largest: dict[str, int] = {}
        self.appeared: dict[str, float] = {}

    def __call__(self) -> None:
        now = time.perf_counter() - self.started
        total = 0
        for folder, _, files in os.walk(self.out_dir):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    size = os.lstat(path).st_size
                except OSError:
                    continue
                rel = os.path.relpath(path, self.out_dir)
                self.appeared.setdefault(rel, round(now, 2))
                if rel.startswith("work" + os.sep):
                    total += size
                    self.largest[rel] = max(size, self.largest.get(rel, 0))
        self.peak_bytes = max(self.peak_bytes, total)

    def summary(self) -> dict[str, Any]:
        return {"work_peak_bytes": self.peak_bytes, "work_written_bytes": sum(self.largest.values()),
                "work_files": len(self.largest), "work_final_bytes": common.tree_bytes(self.work)}


def dedup_env() -> dict[str, str]:
    """The environment of every run: this checkout's dedup first on the path."""
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(common.REPO), path])))


SCAN_COMMAND = [sys.executable, "-m", "dedup", "scan"]


def dedup_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "dedup", *args]


def scan_cmd(args: argparse.Namespace, *rest: str) -> list[str]:
    """The scan command: `--scan-cmd` (to try another build) or this checkout's ``dedup scan``."""
    return (shlex.split(args.scan_cmd) if args.scan_cmd else list(SCAN_COMMAND)) + list(rest)


def run_dir(label: str) -> Path:
    """A run's output folder under results/scan-runs/ (its label, spaces as dashes)."""
    return RUNS / label.replace(" ", "-")


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def run_check(corpus: Path, label: str, args: argparse.Namespace) -> dict[str, Any]:
    out_dir = fresh_dir(run_dir(label))
    out_dir.mkdir()
    report = out_dir / "report.json"
    cmd = dedup_cmd("check", str(corpus), "--isolated", "--format", "json", "-o", str(report), "-q",
                    *shlex.split(args.check_args))
    print(f"  [{label}] {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
    r = common.measure(cmd, env=dedup_env(), timeout=args.timeout, max_rss=args.max_rss,
                       stderr=out_dir / "stderr.txt", **sampling(args))
    row = _row("check", label, r)
    if r["returncode"] in (0, 1) and report.exists():
        doc = json.loads(report.read_text(encoding="utf-8"))
        row["findings"] = len(doc["findings"])
        row["sentences"] = doc["stats"].get("sentences")
        row["stats"] = doc["stats"]
        row["_findings"] = doc["findings"]
    _print_row(row)
    return row


def sampling(args: argparse.Namespace) -> dict[str, float]:
    """How often `common.measure` samples the tree (RSS), its PSS and the work folder: every
    `--sample-every` seconds, PSS and the folder 10 times less often. The sampler runs on the
    same two cores as what it measures, so a coarser one takes less from the run."""
    every = args.sample_every
    return {"interval": every, "pss_every": 10 * every, "poll_every": 10 * every}


def run_scan(corpus: Path, label: str, engine: str, args: argparse.Namespace, address: str | None = None,
             include: tuple[str, ...] = (), env: dict[str, str] | None = None) -> dict[str, Any]:
    out_dir = fresh_dir(run_dir(label))
    cmd = scan_cmd(args, str(corpus), "--out", str(out_dir), "--engine", engine, "--isolated")
    if address:
        cmd += ["--address", address]
    if args.shards:
        cmd += ["--shards", str(args.shards)]
    if args.format:
        cmd += ["--format", args.format]
    cmd += shlex.split(args.scan_args)
    print(f"  [{label}] {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
    watch = WorkWatch(out_dir)
    log = run_dir(label).with_name(run_dir(label).name + ".stderr.txt")
    r = common.measure(cmd, env=dict(dedup_env(), **(env or {})), include=include, timeout=args.timeout,
                       max_rss=args.max_rss, stderr=log, poll=watch, **sampling(args))
    row = _row(f"scan {engine}", label, r)
    row.update(watch.summary())
    row["first_seen_s"] = dict(sorted(watch.appeared.items(), key=lambda kv: kv[1])[:40])
    stats_path, findings_path = out_dir / "stats.json", out_dir / "findings.jsonl"
    if (out_dir / "timings.json").exists():
        try:
            row["timings"] = json.loads((out_dir / "timings.json").read_text(encoding="utf-8"))
        except ValueError:
            pass
    if stats_path.exists():
        try:
            row["stats"] = json.loads(stats_path.read_text(encoding="utf-8"))
            row["sentences"] = row["stats"].get("sentences")
        except ValueError as error:
            row["stats_error"] = str(error)
    if findings_path.exists():
        with findings_path.open(encoding="utf-8") as fh:
            row["_lines"] = [line.rstrip("\n") for line in fh]
        row["findings"] = len(row["_lines"])
    if not args.keep:
        shutil.rmtree(out_dir, ignore_errors=True)
    _print_row(row)
    return row


def _row(what: str, label: str, r: dict[str, Any]) -> dict[str, Any]:
    row = {"run": what, "label": label, "returncode": r["returncode"], "ok": r["returncode"] in (0, 1),
           "findings": None, "sentences": None}
    row.update({k: v for k, v in r.items() if k not in ("stdout_tail",)})
    if not row["ok"]:
        row["why"] = ("timed out" if r["timed_out"] else "memory guard" if r["memory_killed"]
                      else r["stderr_tail"].strip().splitlines()[-1:] or ["exit " + str(r["returncode"])])
    return row


def _print_row(row: dict[str, Any]) -> None:
    status = "ok" if row["ok"] else f"FAILED ({row.get('why')})"
    print(f"  [{row['label']}] {status}: wall {row['wall_s']:.1f} s, CPU {row['cpu_s']:.1f} s "
          f"({row['cpu_util']:.2f} cores), peak RSS of the tree {row['peak_rss_bytes'] / 2**30:.2f} GiB "
          f"(PSS {row['peak_pss_bytes'] / 2**30:.2f}), "
          f"findings {row['findings']}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- findings

def compare_findings(check_findings: list[dict], scan_lines: list[str]) -> dict[str, Any]:
    """scan's findings.jsonl lines against check's JSON findings: the very lines ``check
    --format jsonl`` would write, in the same order; else the same findings in another order;
    else how many differ (and whether they differ only in their group numbers)."""
    expected = [json.dumps(f, ensure_ascii=False) for f in check_findings]
    out: dict[str, Any] = {"check": len(expected), "scan": len(scan_lines), "identical_lines": expected == scan_lines}
    if out["identical_lines"]:
        out["same_findings"] = True
        return out

    def canonical(finding: dict, drop: tuple[str, ...] = ()) -> str:
        return json.dumps({k: v for k, v in finding.items() if k not in drop}, ensure_ascii=False, sort_keys=True)

    try:
        scanned = [json.loads(line) for line in scan_lines]
    except ValueError as error:
        out["scan_parse_error"] = str(error)
        return out
    a, b = Counter(map(canonical, check_findings)), Counter(map(canonical, scanned))
    out["same_findings"] = a == b
    out["only_in_check"] = sum((a - b).values())
    out["only_in_scan"] = sum((b - a).values())
    out["same_ignoring_group"] = (Counter(canonical(f, ("group",)) for f in check_findings)
                                  == Counter(canonical(f, ("group",)) for f in scanned))
    first = next((i for i, (x, y) in enumerate(zip(expected, scan_lines)) if x != y), min(len(expected), len(scan_lines)))
    out["first_difference"] = {"index": first, "check": expected[first] if first < len(expected) else None,
                               "scan": scan_lines[first] if first < len(scan_lines) else None}
    return out


def same_as_check(compared: dict[str, Any]) -> str:
    """The table's word for a comparison: identical, same set, or DIFFER (only in check / only in scan)."""
    if compared["identical_lines"]:
        return "identical"
    if compared.get("same_findings"):
        return "same set"
    return f"DIFFER ({compared.get('only_in_check')} / {compared.get('only_in_scan')})"


# --------------------------------------------------------------------------- Ray

def start_ray(args: argparse.Namespace):
    """A context manager of a local head node (tests/ray_head.py), or None with a note."""
    from ray_head import ray_head, ray_importable

    missing = ray_importable()
    if missing:
        return None, f"scan ray left out: {missing}"
    env = dedup_env()
    if args.ray_niceness is not None:
        env["RAY_worker_niceness"] = str(args.ray_niceness)
    return ray_head(num_cpus=args.ray_cpus, env=env, object_store_bytes=args.ray_object_store), None


def ray_idle(head) -> dict[str, Any]:
    """The idle cluster: its processes and their resident memory."""
    import psutil

    rss, names = 0, Counter()
    for pid in head.pids():
        try:
            p = psutil.Process(pid)
            rss += p.memory_info().rss
            names[p.name()] += 1
        except psutil.Error:
            continue
    return {"address": head.address, "start_s": round(head.start_s, 2), "processes": sum(names.values()),
            "rss_bytes": rss, "names": dict(names)}


# --------------------------------------------------------------------------- main

def table_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    out = []
    for r in rows:
        sentences = r.get("sentences") or r.get("_target")
        shuffle = r.get("work_written_bytes")
        per = shuffle / sentences if shuffle is not None and sentences else None
        out.append([r["label"], sentences, r["findings"], r["wall_s"], r["cpu_s"], r["cpu_util"],
                    r["peak_rss_bytes"] / 2**30, r["peak_pss_bytes"] / 2**30,
                    (r.get("include_baseline_rss_bytes") or 0) / 2**30 or None,
                    per, r["others_busy_cores"], r.get("same_as_check", "-"), "ok" if r["ok"] else f"FAIL: {r.get('why')}"])
    return out


HEADERS = ["run", "sentences", "findings", "wall s", "CPU s", "busy cores", "peak RSS GiB", "peak PSS GiB",
           "of RSS idle Ray",
           "shuffle B/sentence", "others' cores", "same as check", "status"]


def parse_bytes(text: str) -> int:
    """``2GiB``, ``512M``, ``6GB`` (decimal), ``1000000``: bytes."""
    import re

    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*", text.lower())
    if not found:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    number, unit, binary = found.groups()
    base = 1024 if binary or unit and not text.lower().rstrip().endswith("b") else 1000
    return int(float(number) * base ** " kmgt".index(unit or " "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1M", help="the side-by-side corpus (default 1M sentences)")
    parser.add_argument("--large", default="10M", help="the scan-local-only corpus, or 'none' (default 10M)")
    parser.add_argument("--engines", default="check,local,ray", help="which to run at --size (default all three)")
    parser.add_argument("--skew", action="store_true", help="also run the skewed corpus")
    parser.add_argument("--skew-only", action="store_true", help="run only the skewed corpus")
    parser.add_argument("--skew-check", action="store_true", help="run dedup check on the skewed corpus too")
    parser.add_argument("--skew-base", default="1M", help="ordinary sentences of the skewed corpus (default 1M)")
    parser.add_argument("--skew-repeats", type=int, default=100_000, help="copies of the one sentence (100000)")
    parser.add_argument("--skew-stock", type=int, default=100_000, help="stock phrases mixed in (100000)")
    parser.add_argument("--shards", type=int, help="pass --shards N to scan")
    parser.add_argument("--format", choices=("jsonl", "parquet"), help="pass --format to scan (findings are "
                        "compared only for jsonl)")
    parser.add_argument("--scan-args", default="", help="more arguments for every scan run (one string)")
    parser.add_argument("--scan-cmd", help="the scan command to run instead of 'python -m dedup scan' (one string)")
    parser.add_argument("--check-args", default="", help="more arguments for every check run (one string)")
    parser.add_argument("--ray-cpus", type=int, default=2)
    parser.add_argument("--ray-niceness", type=int, help="the Ray workers' niceness (Ray's default: 15, so on a "
                        "busy machine they yield to every other process; 0 competes as scan local does)")
    parser.add_argument("--ray-object-store", type=parse_bytes, default=None, metavar="BYTES",
                        help="the Ray object store's size, such as 2GiB (default: Ray's, 30%% of RAM)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run before it is killed")
    parser.add_argument("--sample-every", type=float, default=0.05,
                        help="seconds between samples of the process tree's memory (default 0.05; PSS and the "
                             "work folder are read 10 times less often)")
    parser.add_argument("--max-rss", type=parse_bytes, default=14 * 2**30, metavar="BYTES",
                        help="kill a run whose process tree's anonymous memory passes this (default 14GiB: "
                        "a shared machine)")
    parser.add_argument("--keep", action="store_true", help="keep scan's output folders under results/scan-runs/")
    parser.add_argument("--build-only", action="store_true", help="build the corpora and stop")
    common.add_output_args(parser)
    args = parser.parse_args()
    common.environment()
    if args.json is None:
        args.json = str(common.RESULTS / f"bench-scan-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json")
    small = parse_size(args.size)
    large = None if args.large.lower() == "none" else parse_size(args.large)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    run_main = not args.skew_only

    print("corpora ...", file=sys.stderr, flush=True)
    corpora: dict[str, Any] = {}
    if run_main:
        corpora["small"] = build_corpus(small)
        if large:
            corpora["large"] = build_corpus(large)
    if args.skew or args.skew_only:
        corpora["skew"] = build_skew_corpus(parse_size(args.skew_base), args.skew_repeats, args.skew_stock)
    for name, (path, meta) in corpora.items():
        print(f"  {name}: {path.name} ({meta['bytes'] / 2**20:,.0f} MiB)", file=sys.stderr)
    if args.build_only:
        return 0

    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    results: dict[str, Any] = {"corpora": {k: {"path": str(p.relative_to(common.REPO)), **m} for k, (p, m) in corpora.items()}}
    tag = args.size
    if run_main:
        path = corpora["small"][0]
        check_row = None
        if "check" in engines:
            check_row = run_check(path, f"check {tag}", args)
            rows.append(check_row)
        if "local" in engines:
            rows.append(run_scan(path, f"scan local {tag}", "local", args))
        if "ray" in engines:
            context, note = start_ray(args)
            if context is None:
                notes.append(note)
            else:
                with context as head:
                    results["ray_cluster"] = ray_idle(head)
                    print(f"  [ray] head at {head.address}, started in {head.start_s:.1f} s, "
                          f"{results['ray_cluster']['rss_bytes'] / 2**20:.0f} MiB idle", file=sys.stderr, flush=True)
                    rows.append(run_scan(path, f"scan ray {tag}", "ray", args, address=head.address,
                                         include=(str(head.temp_dir),), env=head.client_env))
        if check_row is not None and check_row.get("_findings") is not None:
            for row in rows[1:]:
                if row.get("_lines") is not None:
                    row["compare"] = compare_findings(check_row["_findings"], row["_lines"])
                    row["same_as_check"] = same_as_check(row["compare"])
        else:
            scans = [r for r in rows if r.get("_lines") is not None]
            for row in scans[1:]:  # without check: each engine against the first
                row["compare"] = compare_findings([json.loads(line) for line in scans[0]["_lines"]], row["_lines"])
                row["same_as_check"] = same_as_check(row["compare"]) + f" (as {scans[0]['label']})"
            if len(rows) > 1:
                notes.append("check did not run at this size (or failed): the engines are compared with each other")
        if large:
            notes.append(f"dedup check is not run at {args.large}: it holds the whole corpus and every sketch in one "
                         "process (the issue: check cannot run 10M sentences on 2 cores / 24 GB)")
            big = run_scan(corpora["large"][0], f"scan local {args.large}", "local", args)
            big["_target"] = large
            rows.append(big)
            base = next((r for r in rows if r["label"] == f"scan local {tag}"), None)
            if base is not None and base["ok"] and big["ok"]:
                growth = {"sentences": (big.get("sentences") or large) / (base.get("sentences") or small),
                          "wall": big["wall_s"] / base["wall_s"], "cpu": big["cpu_s"] / base["cpu_s"],
                          "peak_rss": big["peak_rss_bytes"] / base["peak_rss_bytes"]}
                results["growth"] = growth
                notes.append(f"growth {tag} -> {args.large}: sentences x{growth['sentences']:.1f}, wall "
                             f"x{growth['wall']:.2f}, CPU x{growth['cpu']:.2f}, peak RSS x{growth['peak_rss']:.2f}")
    if args.skew or args.skew_only:
        path, meta = corpora["skew"]
        checked = run_check(path, "check skew", args) if args.skew_check else None
        if checked is not None:
            rows.append(checked)
        skew = run_scan(path, "scan local skew", "local", args)
        skew["_target"] = meta["sentences"]
        if checked is not None and checked.get("_findings") is not None and skew.get("_lines") is not None:
            skew["compare"] = compare_findings(checked["_findings"], skew["_lines"])
            skew["same_as_check"] = same_as_check(skew["compare"])
        rows.append(skew)

    notes += goal_notes(rows, tag, args.large)
    notes.append("figures from one run each on a machine shared with other work: read them as measured, not as "
                 "best cases")
    results["runs"] = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    sizes = ([args.size] + ([args.large] if large else []) if run_main else []) + (["skew"] if "skew" in corpora else [])
    common.emit(args, f"dedup scan beside dedup check ({', '.join(sizes)})",
                HEADERS, table_rows(rows), results, notes)
    bad = [r for r in rows if not r["ok"] or str(r.get("same_as_check", "")).startswith("DIFFER")]
    return 1 if bad else 0


def goal_notes(rows: list[dict[str, Any]], small: str, large: str) -> list[str]:
    notes = []
    for r in rows:
        if r["label"] == f"scan local {small}" and r["ok"]:
            met = r["wall_s"] <= GOAL_SMALL_WALL_S and r["cpu_util"] >= GOAL_BUSY_CORES
            notes.append(f"goal {small} <= {GOAL_SMALL_WALL_S:.0f} s with both cores busy (>= {GOAL_BUSY_CORES} "
                         f"cores): {r['wall_s']:.1f} s, {r['cpu_util']:.2f} cores: {'met' if met else 'NOT met'}")
        if r["label"] in (f"scan local {large}", "scan local skew"):
            met = r["ok"] and r["peak_rss_bytes"] <= GOAL_LARGE_RSS
            notes.append(f"goal {r['label']}: completes with peak RSS of the tree <= 6 GB: "
                         f"{r['peak_rss_bytes'] / 1e9:.2f} GB (PSS {r['peak_pss_bytes'] / 1e9:.2f} GB), "
                         f"{'met' if met else 'NOT met'}")
    return notes


if __name__ == "__main__":
    sys.exit(main())
