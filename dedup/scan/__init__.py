"""`dedup scan`: repeats across a corpus too large for one `dedup check`, on all cores or a Ray cluster.

    from dedup.scan import scan
    result = scan(["corpus.jsonl"], "out/", engine="local")

The run is a sequence of stages (`dedup.scan.stages`), each a map over tasks that reads and
writes the output folder's work area, so no process ever holds the whole corpus, every stage
uses every core, and a run killed at any point is taken up again with ``resume=True``. The
findings are those `dedup check` reports over the same documents in the same order, one by
one: the same kind, spans, match and score.
"""
from __future__ import annotations

import json
import math
import mmap
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .. import __version__
from .. import candidates as cand
from ..atomic import write_atomically
from ..detector import Detector, Settings, search_stats
from ..exits import UsageError
from ..group import components
from ..model import Finding, Span, count_kinds
from ..readers import format_of
from ..readers.limits import ReadLimits
from ..verify import KINDS
from . import stages
from .engine import ENGINES, Engine, make_engine
from .output import FindingWriter, require_output, write_stats
from .stages import PARTS, Job, Offsets, Piece
from .store import FORMAT, ScanFolder, ScanFolderError

__all__ = ["ENGINES", "ScanResult", "ScanFolderError", "plan_tasks", "scan"]

TASK_BYTES = 32 << 20  # input bytes a task reads at most when the shards are not given
TASKS_PER_WORKER = 8


@dataclass
class ScanResult:
    """What a scan wrote: the folder, the number of findings and the run's stats."""

    folder: Path
    findings: int
    stats: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def plan_tasks(paths: Sequence[str], shards: int | None = None, task_bytes: int = TASK_BYTES,
               workers: int = 1) -> tuple[tuple[Piece, ...], ...]:
    """Cut the inputs into about `shards` tasks of whole documents, in input order: JSON Lines
    files at line starts, other files whole. By default, one task per `task_bytes` of input,
    and at least `TASKS_PER_WORKER` per worker when the input has a MiB for each (small tasks
    let the workers finish a stage together)."""
    sizes = [os.stat(p).st_size for p in paths]
    total = sum(sizes)
    n = max(1, shards or max(math.ceil(total / task_bytes), min(TASKS_PER_WORKER * workers, total >> 20)))
    per = total / n
    tasks: list[list[Piece]] = [[] for _ in range(n)]
    base = 0
    for path, size in zip(paths, sizes):
        if format_of(path) == "jsonl" and size > 0:
            wanted = sorted({c for c in (int(round(k * per)) - base for k in range(1, n)) if 0 < c < size})
            cuts, lines = _line_cuts(path, wanted, size)
            bounds = [0, *cuts, size]
            for a, b, first in zip(bounds, bounds[1:], [1, *lines]):
                tasks[min(n - 1, int((base + a) // per))].append(Piece(path, a, b, first, os.path.abspath(path)))
        else:
            tasks[min(n - 1, int(base // per)) if per else 0].append(Piece(path, where=os.path.abspath(path)))
        base += size
    return tuple(tuple(t) for t in tasks if t)


def _stored_tasks(stored: Any, folder: ScanFolder) -> tuple[tuple[Piece, ...], ...]:
    try:
        return tuple(tuple(Piece(**piece) for piece in task) for task in stored)
    except (TypeError, ValueError):
        raise ScanFolderError(f"{folder.shown}: damaged scan manifest: its task list does not read") from None


def _line_cuts(path: str, wanted: list[int], size: int) -> tuple[list[int], list[int]]:
    """The line starts at or after each offset of `wanted` (inside the file, distinct), and the
    number of the line each starts."""
    cuts: list[int] = []
    lines: list[int] = []
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        newlines, counted = 0, 0
        for offset in wanted:
            if cuts and offset <= cuts[-1]:
                continue
            at = data.find(b"\n", offset - 1)
            if at < 0 or at + 1 >= size:
                break
            newlines += data[counted:at + 1].count(b"\n")
            counted = at + 1
            cuts.append(at + 1)
            lines.append(newlines + 1)
    return cuts, lines


def _inputs(paths: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for p in paths:
        st = os.stat(p)
        out.append({"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def _settings_json(settings: Settings) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(settings)))


class _Clock:
    """Wall and CPU seconds of each stage (CPU: the tasks', wherever they ran, and the driver's)."""

    def __init__(self, engine: Engine, on_stage: Callable[[str], None] | None) -> None:
        self.laps: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._engine = engine
        self._last = self._start = time.perf_counter()
        self._last_cpu = self._cpu_now()
        self._on_stage = on_stage

    def _cpu_now(self) -> float:
        return self._engine.cpu_seconds + time.process_time()

    def lap(self, name: str) -> None:
        now, cpu = time.perf_counter(), self._cpu_now()
        self.laps[name] = round(now - self._last, 3)
        self.cpu[name] = round(cpu - self._last_cpu, 3)
        self._last, self._last_cpu = now, cpu
        if self._on_stage is not None:
            self._on_stage(name)

    def total(self) -> float:
        return round(time.perf_counter() - self._start, 3)


def scan(paths: Sequence[str], out: str | os.PathLike[str], *, engine: str | Engine = "local",
         address: str | None = None, workers: int | None = None, shards: int | None = None,
         resume: bool = False, output: str = "jsonl", settings: Settings | None = None,
         id_field: str = "id", text_field: str = "text", limits: ReadLimits = ReadLimits(),
         keep: Callable[[list[Finding]], list[Finding]] | None = None,
         on_stage: Callable[[str], None] | None = None) -> ScanResult:
    """Scan the files `paths` into the folder `out` (see the module docstring).

    `keep`, if given, filters each chunk of findings before it is written (the command's
    select, ignore and per-file ignores). Raises ScanFolderError for a folder it cannot use."""
    if output not in ("jsonl", "parquet"):
        raise UsageError(f"unknown output format {output!r} (choose from jsonl, parquet)")
    for p in paths:
        if p == "-":
            raise UsageError("dedup scan reads files, not standard input")
    settings = settings or Settings()
    require_output(output, Path(out))
    runner = make_engine(engine, address, workers) if isinstance(engine, str) else engine
    try:
        return _scan(paths, Path(out), runner, resume, output, settings, shards, id_field, text_field, limits, keep,
                     on_stage)
    finally:
        if isinstance(engine, str):
            runner.close()


def _scan(paths: Sequence[str], out: Path, runner: Engine, resume: bool, output: str, settings: Settings,
          shards: int | None, id_field: str, text_field: str, limits: ReadLimits,
          keep: Callable[[list[Finding]], list[Finding]] | None,
          on_stage: Callable[[str], None] | None) -> ScanResult:
    folder = ScanFolder(out)
    tasks = plan_tasks(paths, shards, workers=runner.workers)
    manifest = {"format": FORMAT, "version": __version__, "state": "running", "output": output,
                "inputs": _inputs(paths), "settings": _settings_json(settings), "shards": shards,
                "tasks": [[asdict(p) for p in t] for t in tasks],
                "reading": {"id_field": id_field, "text_field": text_field,
                            "max_record_bytes": limits.max_record_bytes, "max_file_bytes": limits.max_file_bytes}}
    resumed = folder.open(manifest, resume)
    if resumed:  # the plan the scan started with (made for its engine's workers) is the one it finishes
        found = folder.manifest()
        if found.get("reading") != manifest["reading"] or shards not in (None, found.get("shards")):
            raise ScanFolderError(f"{folder.shown}: the scan there read its inputs otherwise; "
                                  "choose another folder")
        tasks = _stored_tasks(found.get("tasks"), folder)
        manifest = {**manifest, "tasks": found["tasks"], "shards": found.get("shards")}
    job = Job(os.path.abspath(folder.root), settings, tasks, id_field, text_field, limits)
    clock = _Clock(runner, on_stage)
    result = _run(job, runner, clock, output, keep)
    folder.write_manifest({**manifest, "state": "complete"})
    result.timings = {**clock.laps, "seconds": clock.total()}
    work = folder.work_bytes()
    write_atomically(folder.root / "timings.json", json.dumps(
        {"engine": runner.name, "workers": runner.workers, "resumed": resumed, "stage_seconds": clock.laps,
         "stage_cpu_seconds": clock.cpu, "seconds": clock.total(), "work_bytes": sum(work.values()),
         "work_bytes_by_stage": work},
        indent=2) + "\n")
    return result


def _run(job: Job, engine: Engine, clock: _Clock, output: str,
         keep: Callable[[list[Finding]], list[Finding]] | None) -> ScanResult:
    s = job.settings
    n = len(job.tasks)
    shards = engine.map(stages.map_shard, [(job, t) for t in range(n)])
    offsets = _offsets(shards)
    clock.lap("read+segment+sketch")
    eligible = sum(m["eligible"] for m in shards)
    sentences = sum(m["sentences"] for m in shards)
    limit = s.editorial.boilerplate_limit(sum(m["documents_with_passages"] for m in shards))
    layouts = Detector.from_settings(s)._banding()
    step, key_ranges = stages.BANDS_PER_TASK, stages.key_parts(eligible + sum(m["quotes"] for m in shards))
    bands = [(k, (tuple(range(b, min(b + step, layout.bands))), (part, key_ranges)))
             for k, layout in enumerate(layouts) for b in range(0, layout.bands, step) for part in range(key_ranges)]
    later_bands = [(k, b) for k, b in bands if layouts[k].sketch == "fragment"]  # they need the stock bigrams
    first_bands = [(k, b) for k, b in bands if layouts[k].sketch != "fragment"]
    # what needs none of the run's statistics runs beside their merge: no core waits between the two
    first = engine.map(stages.run, [("band_pairs", (job, k, b, offsets, False, r)) for k, (b, r) in first_bands]
                       + [("exact_pairs", (job, p, offsets)) for p in range(PARTS)]
                       + [("merge_counts", (job, p, eligible, limit, offsets)) for p in range(PARTS)])
    exact = first[len(first_bands):len(first_bands) + PARTS]
    if later_bands:
        engine.map(stages.fragment_keys, [(job, t, int(offsets.passages[t])) for t in range(n)])
    found = first[:len(first_bands)] + engine.map(stages.band_pairs, [(job, k, b, offsets, False, r)
                                                                       for k, (b, r) in later_bands])
    bands = first_bands + later_bands
    stats = cand.CandidateStats()
    stats.bucket_pairs = sum(m["bucket_pairs"] for m in found)
    stats.budget = max(s.candidate_budget_min, int(s.candidate_budget * eligible))
    stage = "pairs"
    if stats.bucket_pairs > stats.budget:  # a flood: link through representatives, as check does
        load = sum(engine.map(stages.band_load, [(job, k, b, offsets, r) for k, (b, r) in bands]))
        flooded = cand.flood_from_load(np.asarray(load), stats.budget, s.flood_links, stats)
        _save(job.scan.work / "flooded.npy", flooded)
        later = np.concatenate([np.zeros(0, dtype=np.int64)]
                               + [np.asarray(job.unit("exact", p).array("later")) for p in range(PARTS)])
        copies = np.zeros(int(offsets.passages[-1]), dtype=bool)
        copies[later] = True
        _save(job.scan.work / "later_copies.npy", copies)
        found = engine.map(stages.band_pairs, [(job, k, b, offsets, True, r) for k, (b, r) in bands])
        stage = "pairs-flood"
    for m in [*found, *exact, *shards]:
        stats.capped_buckets += m["capped_buckets"]
        stats.capped_passages += m["capped_passages"]
    stats.representative_links = sum(m["representative_links"] for m in found)
    units = [f"exact/{p:05d}" for p in range(PARTS)] + [f"{stage}/{k}-{b[0]:03d}" + (f"-{r[0]}" if r[1] > 1 else "") for k, (b, r) in bands]
    clock.lap("statistics+candidates")
    ranges = _verify_ranges(stages.pair_counts(job, units, n), offsets)
    verified = engine.map(stages.verify_range, [(job, k, lo, hi, offsets, units, sentences)
                                                for k, (lo, hi) in enumerate(ranges)])
    stats.pairs = sum(m["candidates"] for m in verified)
    clock.lap("verify")
    parts = _editorial_parts(job, len(ranges), offsets)
    engine.map(stages.couple_part, [(job, part, offsets) for part in parts])
    docs, paragraphs, links = stages.merge_coupling(job, len(parts))
    temporary = job.scan.work / ".coupling.tmp.npz"
    np.savez(temporary, docs=docs, paragraphs=paragraphs, links=links)
    os.replace(temporary, job.scan.work / "coupling.npz")
    judged = engine.map(stages.judge_part, [(job, part, offsets) for part in parts])
    clock.lap("editorial")
    written, by_kind = _write_findings(job, len(parts), output, keep)
    clock.lap("group+write")
    report_stats = _stats(job, shards, stats, judged, offsets, written, by_kind)
    write_stats(job.scan.root, report_stats)
    return ScanResult(job.scan.root, written, report_stats)


BALANCE_TASKS = 16  # at least this many verify and editorial tasks, whatever the number of shards


def _verify_ranges(counts: np.ndarray, offsets: Offsets) -> list[tuple[int, int]]:
    """Ranges of earlier passages, each inside one shard, with about as many candidate pairs
    each: a shard with many repeats (the real news of a corpus, say) is cut into several
    tasks, so no core waits for one large task. The plan depends on the data only (never on
    the engine), so a resumed run finds its units under the same names."""
    wanted = max(len(counts), BALANCE_TASKS)
    target = max(1.0, counts.sum() / wanted)
    out = []
    for t, count in enumerate(counts.tolist()):
        lo, hi = int(offsets.passages[t]), int(offsets.passages[t + 1])
        cuts = np.linspace(lo, hi, max(1, round(count / target)) + 1).astype(np.int64).tolist()
        out += [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
    return out or [(0, 0)]


def _editorial_parts(job: Job, verify_tasks: int, offsets: Offsets) -> list[stages.Part]:
    """Ranges of later passages, cut at document starts, with about as many accepted pairs each."""
    later = stages.accepted_later(job, verify_tasks)
    wanted = max(len(job.tasks), BALANCE_TASKS)
    cuts = {0, int(offsets.passages[-1])}
    for k in range(1, wanted):
        if len(later):
            cuts.add(stages.document_start(job, int(later[min(len(later) - 1, k * len(later) // wanted)]), offsets))
    bounds = sorted(cuts)
    return [stages.Part(k, lo, hi, verify_tasks) for k, (lo, hi) in enumerate(zip(bounds, bounds[1:]))] \
        or [stages.Part(0, 0, 0, verify_tasks)]


def _save(path: Path, values: np.ndarray) -> None:
    """An array the next stage's tasks read, renamed into place whole."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        np.save(handle, values)
    os.replace(temporary, path)


def _offsets(shards: list[dict[str, Any]]) -> Offsets:
    def starts(key: str) -> np.ndarray:
        out = np.zeros(len(shards) + 1, dtype=np.int64)
        np.cumsum([m[key] for m in shards], out=out[1:])
        return out
    return Offsets(starts("passages"), starts("documents"), starts("sentence_numbers"))


def _picked(job: Job, n: int) -> dict[str, np.ndarray]:
    """The findings each of the `n` editorial parts picked, in report order, with the part and
    row of each, and their group numbers: the components of the union of the parts' forests,
    numbered in the order of their least passage (as `group.clusters` numbers them)."""
    names = ("earlier", "later", "kind", "score", "structural", "same_doc")
    parts = {name: [np.asarray(job.unit("judged", t).array(name)) for t in range(n)] for name in names}
    picked = {name: np.concatenate(values) for name, values in parts.items()}
    picked["part"] = np.repeat(np.arange(n), [len(v) for v in parts["earlier"]])
    picked["row"] = np.concatenate([np.arange(len(v)) for v in parts["earlier"]])
    node = np.concatenate([np.zeros(0, dtype=np.int64)]
                          + [np.asarray(job.unit("judged", t).array("forest.node")) for t in range(n)])
    root = np.concatenate([np.zeros(0, dtype=np.int64)]
                          + [np.asarray(job.unit("judged", t).array("forest.root")) for t in range(n)])
    ids, compact = np.unique(np.concatenate([node, root, picked["earlier"]]), return_inverse=True)
    least = components(len(ids), compact[:len(node)], compact[len(node):2 * len(node)])
    smallest = ids[least[compact[2 * len(node):]]]  # each finding's component, by its least passage
    picked["group"] = np.unique(smallest, return_inverse=True)[1]
    return picked


def _write_findings(job: Job, n: int, output: str,
                    keep: Callable[[list[Finding]], list[Finding]] | None) -> tuple[int, dict[str, int]]:
    picked = _picked(job, n)
    written = 0
    by_kind: dict[str, int] = {}
    with FindingWriter(job.scan.root, output) as writer:
        for chunk in _findings(job, picked):
            chunk = keep(chunk) if keep is not None else chunk
            writer.write(chunk)
            written += len(chunk)
            for kind, count in count_kinds(chunk).items():
                by_kind[kind] = by_kind.get(kind, 0) + count
    return written, by_kind


def _findings(job: Job, picked: dict[str, np.ndarray], chunk: int = 4096) -> Iterator[list[Finding]]:
    """The findings in report order (by later passage), a chunk at a time; each part's spans
    are read once, as the findings reach it."""
    spans: dict[int, dict[str, Any]] = {}
    out: list[Finding] = []
    for k in range(len(picked["earlier"])):
        part, row = int(picked["part"][k]), int(picked["row"][k])
        if part not in spans:
            spans.clear()
            spans[part] = _shard_spans(job, part)
        sp = spans[part]
        size = len(sp["start"]) // 2
        later, earlier = _span(sp, row), _span(sp, size + row)
        scope = "document" if picked["same_doc"][k] else "corpus"
        out.append(Finding(KINDS[int(picked["kind"][k])], scope, float(picked["score"][k]), later, earlier,  # type: ignore[arg-type]
                           int(picked["group"][k]), bool(picked["structural"][k])))
        if len(out) >= chunk:
            yield out
            out = []
    if out:
        yield out


def _shard_spans(job: Job, shard: int) -> dict[str, Any]:
    unit = job.unit("judged", shard)
    return {"doc": unit.strings("span.doc").all(), "text": unit.strings("span.text").all(),
            **{name: np.asarray(unit.array(f"span.{name}")).tolist() for name in ("start", "end", "line", "column")}}


def _span(sp: dict[str, Any], k: int) -> Span:
    return Span(sp["doc"][k], sp["start"][k], sp["end"][k], sp["line"][k], sp["column"][k], sp["text"][k])


def _stats(job: Job, shards: list[dict[str, Any]], stats: cand.CandidateStats, judged: list[dict[str, Any]],
           offsets: Offsets, findings: int, by_kind: dict[str, int]) -> dict[str, Any]:
    left_out: dict[str, int] = {}
    for m in judged:
        for reason, count in m["left_out"].items():
            left_out[reason] = left_out.get(reason, 0) + count
    return {
        "documents": sum(m["documents"] for m in shards),
        "sentences": sum(m["sentences"] for m in shards),
        "passages": int(offsets.passages[-1]),
        "findings": findings,
        "by_kind": by_kind,
        **search_stats(job.settings, stats),
        "left_out": {k: left_out[k] for k in sorted(left_out)},
        "boilerplate": _boilerplate(job, offsets),
        "scan": {"tasks": len(job.tasks)},
    }


def _boilerplate(job: Job, offsets: Offsets, most: int = 10) -> dict[str, Any]:
    """The run's boilerplate as `editorial.Recurring.summary` reports it."""
    from ..editorial import common_texts
    values = stages._concat_parts(job, "common.values", np.uint64)
    documents = stages._concat_parts(job, "common.documents", np.int64)
    first = stages._concat_parts(job, "common.first", np.int64)
    ordered, counts = common_texts(values, documents, 0)
    examples = first[np.searchsorted(values, ordered)] if len(values) else first
    passages = 0
    for t in range(len(job.tasks)):
        unit = job.unit("shards", t)
        passages += int(np.count_nonzero(~np.asarray(unit.array("is_clause"))
                                         & np.isin(np.asarray(unit.array("norm_hash")), values)))
    texts = stages.gather(job, np.sort(examples[:most]), offsets, with_terms=False) if len(examples) else None
    text_of = dict(zip(texts.ids.tolist(), texts.raw)) if texts is not None else {}
    return {"texts": len(values), "passages": passages,
            "most_common": [{"text": text_of[p], "documents": int(c)}
                            for p, c in zip(examples[:most].tolist(), counts[:most].tolist())]}
