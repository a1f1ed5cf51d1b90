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
                pid, status, usage = _kill_group(proc.pid)
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


# --------------------------------------------------------------------------- the whole process tree

RAY_PROCESS_MARKS = ("ray::", "raylet", "gcs_server", "/ray/")
"""Marks in a command line that make a process part of a Ray cluster: its workers (``ray::Name``),
the raylet, the GCS server and the Python components started from ray's package directory. Pass
them as `measure`'s `include` to count every Ray process on the machine, or pass a cluster's
own temporary directory (``ray start --temp-dir``) to count only that cluster's processes."""


def _cmdline(proc) -> str:
    import psutil

    try:
        return " ".join(proc.cmdline())
    except (psutil.Error, OSError):  # gone, or a zombie, or not ours to read
        return ""


def _matching_roots(psutil, marks: Sequence[str], exclude: set[int]) -> list:
    """Processes whose command line holds one of `marks` (and that are not in `exclude`)."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid in exclude:
            continue
        line = _cmdline(proc)
        if line and any(mark in line for mark in marks):
            found.append(proc)
    return found


def _kill_group(pid: int) -> tuple[int, int, Any]:
    """SIGKILL a command's process group (one that ran too long or grew too large) and reap it."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return os.wait4(pid, 0)


def measure(cmd: Sequence[str], env: dict[str, str] | None = None, *, cwd: str | os.PathLike | None = None,
            include: Sequence[str] = (), interval: float = 0.05, timeout: float | None = None,
            max_rss: int | None = None, stdout: str | os.PathLike | None = None,
            stderr: str | os.PathLike | None = None, poll: Callable[[], None] | None = None,
            poll_every: float = 0.5, pss_every: float = 0.5) -> dict[str, Any]:
    """Run `cmd` (in its own process group) and sample its whole process tree every `interval`
    seconds (default 50 ms) with psutil, until the command ends.

    Returns a dict:

    - ``wall_s``, ``returncode``, ``timed_out``, ``memory_killed``;
    - ``peak_rss_bytes``: the largest SUM of resident memory over every process sampled at once
      (the command, its descendants, and the `include`d processes); ``peak_processes``, the
      most processes seen at once; ``peak_rss_by_name``, the sampled RSS of each process name at
      that peak; ``samples``; ``peak_anon_bytes``, the same sum over anonymous and shared
      memory only (RssAnon + RssShmem: memory-mapped files left out, which RSS counts once in
      every process that maps them and the kernel can drop; copy-on-write pages of forked
      workers still count once per process); ``peak_pss_bytes``, the largest sum of
      proportional set sizes (each shared page split among its sharers: the tree's memory
      counted once), sampled every `pss_every` seconds (0: not sampled);
    - ``cpu_user_s``, ``cpu_sys_s``, ``cpu_s``: CPU time of the tree. The command's own figure
      comes from wait4 when it is reaped, and it holds every descendant that was waited for
      (multiprocessing workers, subprocesses); processes that escaped the tree (re-parented to
      init while still running) and `include`d ones add the CPU they used while sampled, read
      from their last sample (own and reaped children's time, less what they had when first
      seen if they were there before the command started). Descendants that nobody in the tree
      waited for (multiprocessing's terminated workers) are waited for here: this process is
      their child subreaper while the command runs (Linux), so their figures are exact too;
    - ``cpu_util``: ``cpu_s / wall_s``, the mean number of busy cores (2.0: both cores busy the
      whole time); ``busy_cores_p50`` and ``busy_share_1_5``: the median over 1 s windows of the
      cores in use, and the share of windows with at least 1.5 cores busy (from the growth of
      each sampled process's own CPU time between samples, so the last ~50 ms of a process
      that ends are missed); ``machine_busy_cores`` and ``others_busy_cores``: the whole
      machine's busy cores over the run (/proc/stat), and the part of it that was not the
      tree: other work competing for the cores;
    - ``include_baseline_rss_bytes``: resident memory of the `include`d processes before the
      command started (an idle Ray cluster's own cost), already part of ``peak_rss_bytes``;
    - ``left_behind``: processes of the tree still running after the command ended (pids and
      names; nothing is killed here);
    - ``stdout_tail``, ``stderr_tail``: the last 4,000 characters of each (the whole output goes
      to the files `stdout` / `stderr` when given).

    `include`: substrings of a command line (such as `RAY_PROCESS_MARKS`, or a Ray cluster's
    temporary directory); matching processes and their descendants are sampled too: Ray's
    workers are children of a raylet, not of the command. They are looked up as the run
    starts and again every second.

    `poll()` is called every `poll_every` seconds while the command runs, and once after it
    ends (to watch its output folder, say).

    The process group is killed (SIGKILL) past `timeout` seconds or once the tree's anonymous
    memory (``peak_anon_bytes``'s sum) passes `max_rss` bytes (a guard for a shared machine); the figures up to then are returned.
    """
    import tempfile

    import psutil

    def open_sink(path):
        return open(path, "w+b") if path is not None else tempfile.TemporaryFile()

    out_fh, err_fh = open_sink(stdout), open_sink(stderr)
    me = os.getpid()
    extra_roots = _matching_roots(psutil, include, {me}) if include else []
    first_seen: dict[tuple[int, float], float] = {}  # (pid, create_time) -> own+children CPU when first seen
    own_prev: dict[tuple[int, float], float] = {}  # own CPU (no reaped children) at the last sample
    before: set[tuple[int, float]] = set()
    last: dict[tuple[int, float], dict[str, Any]] = {}
    baseline_rss = 0
    for proc in _expand(psutil, extra_roots):
        sample = _sample(proc)
        if sample is not None:
            key = (proc.pid, sample["created"])
            before.add(key)
            first_seen[key] = sample["cpu_total"]
            own_prev[key] = sample["cpu_own"]
            baseline_rss += sample["rss"]

    subreaper = _set_child_subreaper(True)
    machine_before = _machine_cpu_s()
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=out_fh, stderr=err_fh, env=env, cwd=cwd, start_new_session=True)
    try:
        root = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:
        root = None
    peak = peak_count = samples = peak_anon = peak_pss = 0
    peak_by_name: dict[str, int] = {}
    last_pss = start - pss_every
    windows: list[float] = []  # busy cores in each ~1 s window
    window_start, window_cpu, busy = start, 0.0, 0.0  # busy: own CPU of the sampled processes so far
    last_lookup = last_poll = start
    stopped = None
    attached: set[tuple[int, float]] = set()  # seen as descendants of the command
    status = usage = None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        now = time.perf_counter()
        if include and now - last_lookup >= 1.0:
            known = {p.pid for p in extra_roots}
            extra_roots += [p for p in _matching_roots(psutil, include, {me, proc.pid}) if p.pid not in known]
            last_lookup = now
        descendants = _expand(psutil, [root] if root is not None else [])
        members = {p.pid: (p, True) for p in descendants}
        for p in _expand(psutil, extra_roots):
            members.setdefault(p.pid, (p, False))
        total_rss = total_anon = total_pss = 0.0
        with_pss = pss_every > 0 and now - last_pss >= pss_every
        by_name: dict[str, int] = {}
        for p, in_tree in members.values():
            sample = _sample(p)
            if sample is None:
                continue
            key = (p.pid, sample["created"])
            first_seen.setdefault(key, 0.0 if key not in before else sample["cpu_total"])
            sample["in_tree"] = in_tree and p.pid != proc.pid
            last[key] = sample
            if in_tree:
                attached.add(key)
            total_rss += sample["rss"]
            total_anon += sample["anon"]
            if with_pss:
                total_pss += _pss_bytes(p.pid)
            busy += max(0.0, sample["cpu_own"] - own_prev.get(key, 0.0))
            own_prev[key] = sample["cpu_own"]
            by_name[sample["name"]] = by_name.get(sample["name"], 0) + sample["rss"]
        samples += 1
        if total_rss > peak:
            peak, peak_by_name = int(total_rss), by_name
        peak_anon = max(peak_anon, int(total_anon))
        if with_pss:
            peak_pss, last_pss = max(peak_pss, int(total_pss)), now
        peak_count = max(peak_count, len(members))
        if poll is not None and now - last_poll >= poll_every:
            poll()
            last_poll = now
        if now - window_start >= 1.0:
            windows.append((busy - window_cpu) / (now - window_start))
            window_start, window_cpu = now, busy
        if timeout is not None and now - start > timeout:
            stopped = "timeout"
        elif max_rss is not None and total_anon > max_rss:
            stopped = "memory"
        if stopped:
            pid, status, usage = _kill_group(proc.pid)
            break
        time.sleep(interval)
    wall = time.perf_counter() - start
    machine_cpu = _machine_cpu_s() - machine_before
    proc.returncode = os.waitstatus_to_exitcode(status)
    if poll is not None:
        poll()

    # CPU: the command and every descendant it (or they) waited for, exactly, from wait4; then
    # descendants nobody in the tree waited for (multiprocessing's terminated workers, daemons):
    # this process adopted them as a child subreaper, so wait4 gives their exact figures too.
    user, system = usage.ru_utime, usage.ru_stime
    adopted = _reap_adopted([key[0] for key in attached if key[0] != proc.pid]) if subreaper else {}
    if subreaper:
        _set_child_subreaper(False)
    left_behind = []
    for key, sample in last.items():
        pid, created = key
        if pid == proc.pid:
            continue  # the command itself: wait4's figure above
        if adopted.get(pid) is not None:
            user += adopted[pid].ru_utime
            system += adopted[pid].ru_stime
            continue
        alive_after = key in attached and _alive(psutil, pid, created)
        # Included (Ray) processes, those still running, and (without a subreaper) those that
        # escaped the tree: the CPU they used while sampled.
        escaped = not subreaper and key in attached and not sample["in_tree"]
        if key not in attached or alive_after or escaped:
            share = max(0.0, sample["cpu_total"] - first_seen.get(key, 0.0))
            ratio = sample["cpu_user_total"] / sample["cpu_total"] if sample["cpu_total"] else 1.0
            user += share * ratio
            system += share * (1 - ratio)
        if alive_after:
            left_behind.append({"pid": pid, "name": sample["name"]})
    cpu = user + system
    result = {
        "command": list(cmd),
        "wall_s": wall,
        "returncode": proc.returncode,
        "timed_out": stopped == "timeout",
        "memory_killed": stopped == "memory",
        "peak_rss_bytes": peak,
        "peak_anon_bytes": peak_anon,
        "peak_pss_bytes": peak_pss,
        "peak_processes": peak_count,
        "peak_rss_by_name": dict(sorted(peak_by_name.items(), key=lambda kv: -kv[1])),
        "include_baseline_rss_bytes": baseline_rss,
        "samples": samples,
        "cpu_user_s": user,
        "cpu_sys_s": system,
        "cpu_s": cpu,
        "cpu_util": cpu / wall if wall > 0 else 0.0,
        "busy_cores_p50": statistics.median(windows) if windows else None,
        "machine_busy_cores": machine_cpu / wall if wall > 0 else 0.0,
        "others_busy_cores": max(0.0, machine_cpu - cpu) / wall if wall > 0 else 0.0,
        "busy_share_1_5": (sum(w >= 1.5 for w in windows) / len(windows)) if windows else None,
        "left_behind": left_behind,
        "stdout_tail": _tail(out_fh),
        "stderr_tail": _tail(err_fh),
    }
    out_fh.close()
    err_fh.close()
    return result


def _set_child_subreaper(on: bool) -> bool:
    """Make this process the child subreaper of its descendants (Linux prctl
    PR_SET_CHILD_SUBREAPER), so that an orphaned descendant becomes its child and can be
    waited for; True when that worked."""
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap_adopted(pids: Iterable[int], grace: float = 1.0) -> dict[int, Any]:
    """wait4's rusage of each of `pids` that became this process's child and has ended (waiting
    up to `grace` seconds for those still ending); None for one still running after it. Pids
    that are not children of this process (reaped inside the tree) are left out."""
    pending, found = set(pids), {}
    deadline = time.perf_counter() + grace
    while pending:
        for pid in list(pending):
            try:
                done, _, usage = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                pending.discard(pid)
                continue
            if done:
                found[pid] = usage
                pending.discard(pid)
        if not pending or time.perf_counter() > deadline:
            break
        time.sleep(0.02)
    found.update(dict.fromkeys(pending))
    return found


def _expand(psutil, roots: Iterable) -> list:
    """`roots` and all their descendants (those still there)."""
    found: dict[int, Any] = {}
    for root in roots:
        try:
            if root.is_running():
                found.setdefault(root.pid, root)
                for child in root.children(recursive=True):
                    found.setdefault(child.pid, child)
        except (psutil.Error, OSError):  # the process went away meanwhile
            found.pop(root.pid, None)
    return list(found.values())


def _sample(proc) -> dict[str, Any] | None:
    """RSS and CPU times of one process, or None when it is gone (or a zombie)."""
    import psutil

    try:
        with proc.oneshot():
            times = proc.cpu_times()
            own_user = times.user + getattr(times, "children_user", 0.0)
            own_total = times.user + times.system + getattr(times, "children_user", 0.0) \
                + getattr(times, "children_system", 0.0)
            return {"rss": proc.memory_info().rss, "anon": _anon_bytes(proc.pid),
                    "cpu_total": own_total, "cpu_user_total": own_user,
                    "cpu_own": times.user + times.system,
                    "created": proc.create_time(), "name": proc.name()}
    except (psutil.Error, OSError):
        return None


def _machine_cpu_s() -> float:
    """CPU seconds the whole machine has been busy since boot (every process, every core: the
    first line of /proc/stat less idle and iowait); 0 where there is no /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def _anon_bytes(pid: int) -> int:
    """Anonymous and shared-memory resident bytes of a process (RssAnon + RssShmem of
    /proc/PID/status: its resident memory less the mapped files, which the kernel can drop)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith((b"RssAnon:", b"RssShmem:")):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return total


def _pss_bytes(pid: int) -> int:
    """Proportional set size (each shared page divided among the processes sharing it), from
    /proc/PID/smaps_rollup; 0 when unreadable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _alive(psutil, pid: int, created: float) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.Error, OSError):
        return False


def _tail(fh, limit: int = 4000) -> str:
    fh.flush()
    size = fh.seek(0, os.SEEK_END)
    fh.seek(max(0, size - limit))
    return fh.read().decode("utf-8", "replace")


def tree_bytes(path: str | os.PathLike) -> int:
    """Bytes of every regular file under `path` (0 when it is absent)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


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
