"""Shared helpers for the benchmark scripts: real sentences from ``../shared/corpora``,
synthetic sentences past the corpora's size (rewritten or spliced from real ones), interleaved timing, peak memory,
the environment record and the printed / JSON output.

Nothing here is timed itself; every script times only the stage it names.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import functools
import gc
import gzip
import itertools
import json
import os
import pickle
import platform
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"  # the read-only shared data, ../shared from the repository root
CORPORA = {
    "ar": SHARED / "corpora" / "ant-news-ar.jsonl.gz",
    "en": SHARED / "corpora" / "bbc-news-en.jsonl.gz",
}
RESULTS = REPO / "benchmarks" / "results"  # git-ignored: cached sentence pool, built corpora, JSON

if str(REPO) not in sys.path:  # run as `python benchmarks/bench_X.py` without installing
    sys.path.insert(0, str(REPO))

# --------------------------------------------------------------------------- sentences

# A deliberately simple, stable splitter (independent of dedup.segment, which is still
# changing, so that the benchmark sample stays the same from one commit to the next):
# every line break ends a sentence, and so does . ! ? ؟ … (plus closing quotes) before space.
_SENTENCE_END = re.compile(r"(?<=[.!?؟…])[\"'”’»)\]]*\s+")
_POOL_VERSION = 1


def split_sentences(text: str) -> list[str]:
    """Sentences of one article by the simple splitter above."""
    out = []
    for line in text.splitlines():
        for piece in _SENTENCE_END.split(line):
            piece = piece.strip()
            if piece:
                out.append(piece)
    return out


def iter_articles(langs: Sequence[str] = ("ar", "en")) -> Iterator[dict[str, str]]:
    """``{"id", "lang", "text"}`` records of the real corpora, in file order."""
    for lang in langs:
        path = CORPORA[lang]
        if not path.exists():
            sys.exit(f"benchmark data not found: {path} (expected ../shared next to the repository)")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)


def sentence_pool() -> dict[str, Any]:
    """Every sentence of both corpora, split by `split_sentences`, cached under results/.

    Returns ``{"sentences": [str], "lang": [str], "article_sentences": [int]}`` where
    ``article_sentences[k]`` is the sentence count of the k-th article in `iter_articles` order.
    """
    key = [_POOL_VERSION] + [(p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in CORPORA.values()]
    cache = RESULTS / "sentence-pool.pickle"
    if cache.exists():
        try:
            with cache.open("rb") as fh:
                data = pickle.load(fh)
            if data.get("key") == key:
                return data
        except Exception:  # a stale or partial cache is rebuilt
            pass
    sentences: list[str] = []
    langs: list[str] = []
    counts: list[int] = []
    for article in iter_articles():
        found = split_sentences(article["text"])
        sentences.extend(found)
        langs.extend([article["lang"]] * len(found))
        counts.append(len(found))
    data = {"key": key, "sentences": sentences, "lang": langs, "article_sentences": counts}
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(cache)
    return data


def splice(first: str, second: str) -> str:
    """The first half (by words) of one sentence joined to the second half of another."""
    a, b = first.split(), second.split()
    return " ".join(a[: len(a) // 2] + b[len(b) // 2 :])


_SPLICE_SOURCES: dict[int, dict[str, list[str]]] = {}


def _splice_sources(min_words: int) -> dict[str, list[str]]:
    """Real sentences of at least `min_words` words, by language."""
    if min_words not in _SPLICE_SOURCES:
        pool = sentence_pool()
        by_lang: dict[str, list[str]] = {}
        for s, lang in zip(pool["sentences"], pool["lang"]):
            if len(s.split()) >= min_words:
                by_lang.setdefault(lang, []).append(s)
        _SPLICE_SOURCES[min_words] = by_lang
    return _SPLICE_SOURCES[min_words]


def synthetic_documents(sentences: int, seed: int = 12345, min_words: int = 6,
                        sizes: tuple[int, int] = (6, 20)) -> Iterator[tuple[str, list[str]]]:
    """(lang, sentences) of synthetic documents holding `sentences` sentences in all, each
    sentence spliced from two real sentences of the document's language; the language is
    drawn in proportion to the corpora, the length uniformly from `sizes`. Deterministic."""

    def spliced(lang: str, group: list[str], rng: random.Random) -> str:
        return splice(group[rng.randrange(len(group))], group[rng.randrange(len(group))])

    return _documents(sentences, seed, min_words, sizes, spliced)


def _documents(sentences: int, seed: int, min_words: int, sizes: tuple[int, int],
               sentence: Callable[[str, list[str], random.Random], str]) -> Iterator[tuple[str, list[str]]]:
    """(lang, sentences) of documents holding `sentences` sentences in all, each made by
    ``sentence(lang, real sentences of lang, rng)``; languages in proportion to the corpora,
    lengths uniformly from `sizes`."""
    by_lang = _splice_sources(min_words)
    names = sorted(by_lang)
    weights = [len(by_lang[n]) for n in names]
    rng = random.Random(seed)
    left = sentences
    while left > 0:
        lang = rng.choices(names, weights=weights)[0]
        group = by_lang[lang]
        size = min(left, rng.randint(*sizes))
        yield lang, [sentence(lang, group, rng) for _ in range(size)]
        left -= size


_FUNCTION_WORDS = 200  # the most frequent words of a language, kept when a sentence is rewritten


_AFFIXES = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)  # a token's leading punctuation, its word, its trailing


@functools.lru_cache(maxsize=4)
def _vocabulary(min_words: int) -> dict[str, tuple[frozenset[str], list[str], list[int]]]:
    """Per language: its `_FUNCTION_WORDS` most frequent words (lowercased), and every other
    word of its real sentences (punctuation stripped) with cumulative counts, for draws in
    proportion to frequency."""
    from collections import Counter

    out = {}
    for lang, group in _splice_sources(min_words).items():
        counts = Counter(_AFFIXES.match(t).group(2) for s in group for t in s.split())
        counts.pop("", None)
        by_lower: Counter = Counter()
        for word, n in counts.items():
            by_lower[word.lower()] += n
        function = frozenset(w for w, _ in by_lower.most_common(_FUNCTION_WORDS))
        words = sorted(w for w in counts if w.lower() not in function)
        cumulative = list(itertools.accumulate(counts[w] for w in words))
        out[lang] = (function, words, cumulative)
    return out


def rewritten_documents(sentences: int, seed: int = 12345, min_words: int = 6,
                        sizes: tuple[int, int] = (6, 20)) -> Iterator[tuple[str, list[str]]]:
    """Like `synthetic_documents`, but each sentence is a real one whose words, except its
    language's most frequent ones, are replaced by words of the corpus drawn in proportion to
    their frequency (the punctuation around each word stays): the frame, length, punctuation
    and function words of real news with new content, so the synthetic part repeats real
    sentences no more than news does by chance."""
    vocab = _vocabulary(min_words)

    def rewritten(lang: str, group: list[str], rng: random.Random) -> str:
        function, words, cumulative = vocab[lang]
        parts = [_AFFIXES.match(t).groups() for t in group[rng.randrange(len(group))].split()]
        slots = [i for i, (_, word, _) in enumerate(parts) if word and word.lower() not in function]
        drawn = dict(zip(slots, rng.choices(words, cum_weights=cumulative, k=len(slots))))
        return " ".join(lead + drawn.get(i, word) + trail for i, (lead, word, trail) in enumerate(parts))

    return _documents(sentences, seed, min_words, sizes, rewritten)


SYNTHESIS = {"rewritten": rewritten_documents, "spliced": synthetic_documents}
"""How sentences past the real corpora are made: ``rewritten`` (the default for scale runs)
or ``spliced`` (a stress case: every synthetic sentence half-copies two real ones)."""


def spliced_sentences(count: int, seed: int = 12345, min_words: int = 6) -> list[str]:
    """`count` synthetic sentences (see `synthetic_documents`), deterministic for a seed."""
    return [s for _, doc in synthetic_documents(count, seed, min_words) for s in doc]


def sample_sentences(n: int, seed: int = 0, min_words: int = 3) -> list[str]:
    """`n` real sentences of at least `min_words` words, a seeded random sample of both corpora.

    Past the ~406k real sentences that qualify, the rest are spliced synthetic sentences
    (see `spliced_sentences`), and a note is printed to stderr."""
    pool = [s for s in sentence_pool()["sentences"] if len(s.split()) >= min_words]
    rng = random.Random(seed)
    if n <= len(pool):
        return rng.sample(pool, n)
    print(f"note: only {len(pool)} real sentences; adding {n - len(pool)} spliced synthetic ones", file=sys.stderr)
    rng.shuffle(pool)
    return pool + spliced_sentences(n - len(pool), seed=seed + 1)


def normalizer():
    """dedup's batch normalizer: ``normalize_many(texts)`` where the package has it (the path
    the Detector uses), else ``normalize`` applied to each text."""
    import importlib

    module = importlib.import_module("dedup.normalize")
    many = getattr(module, "normalize_many", None)
    if many is not None:
        return many
    return lambda texts: [module.normalize(t) for t in texts]


# --------------------------------------------------------------------------- timing

def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call, after a garbage collection outside the timing."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleaved(contenders: dict[str, Callable[[], Any]], repeats: int = 3,
                keep: Callable[[str, Any], None] | None = None, verbose: bool = True) -> dict[str, list[float]]:
    """Time each contender `repeats` times, round-robin (a, b, c, a, b, c, ...), so that a
    slow phase of a noisy machine hits every contender alike. `keep(name, result)` sees the
    result of each contender's last run; other results are dropped before the next call."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for rep in range(repeats):
        for name, fn in contenders.items():
            seconds, result = timed(fn)
            times[name].append(seconds)
            if verbose:
                print(f"  [{rep + 1}/{repeats}] {name}: {seconds:.3f} s", file=sys.stderr, flush=True)
            if keep is not None and rep == repeats - 1:
                keep(name, result)
            del result
    return times


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


# --------------------------------------------------------------------------- memory

def traced_peak(fn: Callable[[], Any]) -> tuple[int, Any]:
    """(peak bytes allocated during the call, result), by tracemalloc, which also sees
    numpy's array buffers. Memory held before the call is not counted."""
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    if not was_tracing:
        tracemalloc.stop()
    return peak, result


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_peak_during(fn: Callable[[], Any]) -> tuple[int, Any]:
    """(peak RSS growth in bytes during the call, result). Sees memory that tracemalloc does
    not (allocations inside Rust or C extensions). Free heap is handed back first
    (malloc_trim) and the kernel's high-water mark reset (``/proc/self/clear_refs``), so the
    figure is the call's own peak above the resident memory before it; on a system without
    those it falls back to the growth of ru_maxrss, which can read 0 when the call stays
    below an earlier peak."""
    import ctypes

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        base = _status_kib("VmRSS")
        result = fn()
        return max(0, _status_kib("VmHWM") - base) * 1024, result
    except OSError:
        base = peak_rss_bytes()
        result = fn()
        return max(0, peak_rss_bytes() - base), result


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc (those already gone left out of the walk)."""
    found, stack = [], [pid]
    while stack:
        p = stack.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return found


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (0 once it is gone)."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next((int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmRSS:")), 0)
        except (OSError, ValueError):
            continue
    return total


def run_child(cmd: Sequence[str], timeout: float | None = None, env: dict[str, str] | None = None,
              max_rss: int | None = None) -> dict[str, Any]:
    """Run `cmd` in its own process group, capturing stdout. Returns wall seconds, return
    code, stdout, the stderr tail, the child's peak RSS from wait4's rusage (this child alone,
    unlike RUSAGE_CHILDREN, which keeps the maximum over every child so far; a grandchild
    counts only if the child reaped it) and the largest RSS of the whole process tree seen by
    polling every 0.2 s. The group is killed past `timeout` seconds, or when the
    resident memory of the process tree passes `max_rss` bytes (a guard for a shared machine)."""
    import signal
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=env, start_new_session=True)
        deadline = None if timeout is None else start + timeout
        stopped = None
        polls = tree_peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if polls % 10 == 0:
                tree_peak = max(tree_peak, _tree_rss_bytes(proc.pid))
            if deadline is not None and time.perf_counter() > deadline:
                stopped = "timeout"
            elif max_rss is not None and tree_peak > max_rss:
                stopped = "memory"
            if stopped:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            polls += 1
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "wall_s": wall,
            "returncode": proc.returncode,
            "timed_out": stopped == "timeout",
            "memory_killed": stopped == "memory",
            "peak_rss_bytes": usage.ru_maxrss * 1024,
            "sampled_tree_rss_bytes": tree_peak,  # largest RSS sum of the process tree seen (every 0.2 s)
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr_tail": err.read().decode("utf-8", "replace")[-2000:],
        }


# --------------------------------------------------------------------------- environment and output

def package_version(dist: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:  # read-only queries
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return None


def dedup_source_digest() -> str:
    """A short digest of the dedup package's source files as they are on disk now, so that a
    run can tell whether the code changed between its parts (the package is being worked on)."""
    import hashlib

    digest = hashlib.sha1()
    for path in sorted((REPO / "dedup").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as fh:
            return next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), platform.processor())
    except OSError:
        return platform.processor()


@functools.lru_cache(maxsize=None)
def environment() -> dict[str, Any]:
    """What the figures were measured on: date, versions, commit, machine. Taken once, on the
    first call: each script calls it as it starts, so the record describes the code it ran."""
    cpu = cpu_name()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        mem = None
    dirty = _git("status", "--porcelain", "--", "dedup")
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": package_version("numpy"),
        "datasketch": package_version("datasketch"),
        "rensa": package_version("rensa"),
        "rapidfuzz": package_version("rapidfuzz"),
        "dedup": package_version("dedup"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dedup_dirty": bool(dirty) if dirty is not None else None,
        "dedup_source": dedup_source_digest(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1) if mem else None,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def add_output_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH",
                        help="also write the results as JSON to PATH (or stdout when PATH is omitted or '-')")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "-" if value is None else str(value)


def emit(args: argparse.Namespace, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
         results: dict[str, Any], notes: Sequence[str] = ()) -> None:
    """Print the table (to stdout, or stderr when JSON goes to stdout) and write the JSON."""
    to_stdout_json = getattr(args, "json", None) == "-"
    out = sys.stderr if to_stdout_json else sys.stdout
    env = dict(environment(), finished=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    print(f"\n{title}  ({env['date']}, numpy {env['numpy']}, datasketch {env['datasketch']}, "
          f"rensa {env['rensa']}, {env['cores']} cores)", file=out)
    print(format_table(headers, rows), file=out)
    for note in notes:
        print(f"note: {note}", file=out)
    if getattr(args, "json", None):
        doc = {"benchmark": title, "environment": env, "results": results, "notes": list(notes)}
        if write_json(doc, args.json):
            print(f"wrote {args.json}", file=out)


def write_json(doc: Any, dest: str) -> bool:
    """Write `doc` as indented JSON to the file `dest`, or to stdout when `dest` is "-".
    True when a file was written."""
    text = json.dumps(doc, indent=2, ensure_ascii=False, default=_json_default)
    if dest == "-":
        print(text)
        return False
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    Path(dest).write_text(text + "\n", encoding="utf-8")
    return True


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Send `sig` and wait up to `timeout` seconds for the process to end, then kill it."""
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _json_default(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    return str(value)
