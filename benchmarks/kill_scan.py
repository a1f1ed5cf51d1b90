"""SIGKILL ``dedup scan`` at every stage, then ``--resume``: the output must be byte-identical to a
clean run's; a damaged or foreign output folder must be refused with one line and exit 2.

1. Clean runs (``--clean-runs``, default 2) of ``dedup scan CORPUS --out DIR`` on a ~100k-sentence
   corpus (bench_end_to_end's corpus-v2), recording a timeline: when each stderr line came and
   when each file appeared under DIR. The first is the reference; the others must match it
   (findings.jsonl and stats.json byte for byte), else the kill runs cannot be judged.
2. ``--kills`` runs (default 12), each killed with SIGKILL of its whole process group:
   half at moments spread evenly over the clean run's wall time, half aimed at the stages,
   each at the moment its run shows an event of the clean timeline (a kind of stderr line,
   digits ignored, or the first file of a folder under DIR/work, the manifest, the outputs),
   after a random delay of 0 to 200 ms. Each killed folder is then resumed with the same
   command plus ``--resume``; ``--double`` of them have their resume killed too, and resumed
   again. findings.jsonl and stats.json of every finished run are compared byte for byte with
   the clean run's.
3. Damage: a folder killed part way through (a) with its oldest non-empty work file cut to
   half (a file of a finished unit, a folder holding DONE.json, where there is one), (b) with
   garbage written over the manifest (dedup-scan.json); and (c) a foreign folder, not empty,
   with no manifest (with and without --resume, and its files must be left as they were).
   Each must exit 2 with exactly one line on stderr.

Prints a table of the kill runs, the damage cases and a summary; exits 1 on any mismatch or
failed case, 0 when all held.

    python benchmarks/kill_scan.py [--size 100k] [--kills 12] [--double 2] [--seed 1]
        [--engine local|ray] [--shards N] [--scan-cmd CMD] [--scan-args ARGS] [--keep] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from bench_end_to_end import build_corpus, parse_size
from bench_scan import SCAN_COMMAND, dedup_env

RUNS = common.RESULTS / "kill-scan"
MANIFEST = "dedup-scan.json"
COMPARED = ("findings.jsonl", "stats.json")
_DIGITS = re.compile(r"\d+(?:[.,:]\d+)*")


# --------------------------------------------------------------------------- one run

class Run:
    """One ``dedup scan`` process in its own process group: its stderr lines and the files
    appearing under its folder, timestamped, and a trigger that SIGKILLs the whole group."""

    def __init__(self, cmd: list[str], out_dir: Path, env: dict[str, str]) -> None:
        self.cmd, self.out_dir = cmd, out_dir
        self.lines: list[tuple[float, str]] = []
        self.files: dict[str, float] = {}
        self.killed_at: float | None = None
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                     start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.proc.stderr:
            self.lines.append((self.elapsed(), raw.decode("utf-8", "replace").rstrip("\r\n")))

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def look(self) -> None:
        """Note the files under the folder that were not there at the last look."""
        now = self.elapsed()
        for folder, _, names in os.walk(self.out_dir):
            for name in names:
                self.files.setdefault(os.path.relpath(os.path.join(folder, name), self.out_dir), now)

    def wait(self, trigger=None, timeout: float = 3600.0) -> int:
        """Until the process ends (or `trigger(self)` says kill it); its exit status."""
        while self.proc.poll() is None:
            self.look()
            if trigger is not None and self.killed_at is None and trigger(self):
                self.kill()
            if self.elapsed() > timeout:
                self.kill()
            time.sleep(0.01)
        self._reader.join(timeout=5)
        self.look()
        return self.proc.returncode

    def kill(self) -> None:
        self.killed_at = self.elapsed()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def events(self) -> list[tuple[float, str]]:
        """The run's timeline: each kind of stderr line (digits ignored) and each file's first
        appearance (work files by their folder), at its first occurrence."""
        seen: dict[str, float] = {}
        for t, line in self.lines:
            if line.strip():
                seen.setdefault("line:" + _DIGITS.sub("#", line.strip())[:80], t)
        for path, t in self.files.items():
            parts = Path(path).parts
            if parts[-1].startswith(".") or parts[-1].endswith(".tmp"):
                continue  # a temporary file: its random name never comes again
            key = "file:" + ("/".join(parts[:2]) + "/…" if parts[0] == "work" and len(parts) > 2 else
                             _DIGITS.sub("#", path))
            seen[key] = min(t, seen.get(key, t))
        return sorted(((t, k) for k, t in seen.items()), key=lambda e: e[0])

    def last_line(self) -> str:
        return next((line for _, line in reversed(self.lines) if line.strip()), "")


def event_seen(run: Run, event: str) -> bool:
    """Whether `run` has shown `event` (a key of `Run.events`)."""
    kind, _, what = event.partition(":")
    if kind == "line":
        return any(_DIGITS.sub("#", line.strip())[:80] == what for _, line in list(run.lines))
    if what.endswith("/…"):
        prefix = what[:-1]
        return any(p.startswith(prefix) for p in list(run.files))
    return any(_DIGITS.sub("#", p) == what for p in list(run.files))


def outputs(out_dir: Path) -> dict[str, bytes | None]:
    return {name: (out_dir / name).read_bytes() if (out_dir / name).exists() else None for name in COMPARED}


# --------------------------------------------------------------------------- the campaign

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100k", help="sentences of the corpus (default 100k)")
    parser.add_argument("--kills", type=int, default=12, help="killed runs, each then resumed (default 12)")
    parser.add_argument("--double", type=int, default=2, help="of those, how many have their resume killed too")
    parser.add_argument("--clean-runs", type=int, default=2, help="clean runs (the first is the reference)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", default="local", help="scan --engine (default local)")
    parser.add_argument("--address", help="scan --address, for --engine ray")
    parser.add_argument("--shards", type=int, help="pass --shards N to scan")
    parser.add_argument("--scan-cmd", help="the scan command instead of 'python -m dedup scan' (one string)")
    parser.add_argument("--scan-args", default="", help="more arguments for every scan run (one string)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a run is killed as hung")
    parser.add_argument("--keep", action="store_true", help="keep the folders under results/kill-scan/")
    common.add_output_args(parser)
    args = parser.parse_args()
    common.environment()
    rng = random.Random(args.seed)
    corpus, meta = build_corpus(parse_size(args.size))
    env = dedup_env()
    with contextlib.ExitStack() as stack:
        if args.engine == "ray" and not args.address:  # a cluster of our own, not one scan starts each time
            sys.path.insert(0, str(common.REPO / "tests"))
            from ray_head import ray_head

            head = stack.enter_context(ray_head(num_cpus=2, env=env))
            args.address = head.address
            env = dict(env, **head.client_env)
            print(f"  [ray] head at {head.address}, started in {head.start_s:.1f} s", file=sys.stderr, flush=True)
        return campaign(args, env, rng, corpus, meta)


def campaign(args: argparse.Namespace, env: dict[str, str], rng: random.Random, corpus: Path, meta: dict) -> int:
    base = (shlex.split(args.scan_cmd) if args.scan_cmd else list(SCAN_COMMAND)) + [str(corpus)]
    extra = ["--engine", args.engine] + (["--address", args.address] if args.address else []) \
        + (["--shards", str(args.shards)] if args.shards else []) + shlex.split(args.scan_args)
    if RUNS.exists():
        shutil.rmtree(RUNS)
    RUNS.mkdir(parents=True)

    def command(out_dir: Path, resume: bool = False) -> list[str]:
        return base + ["--out", str(out_dir)] + extra + (["--resume"] if resume else [])

    # 1. clean runs
    clean: list[dict[str, Any]] = []
    reference: dict[str, bytes | None] = {}
    timeline: list[tuple[float, str]] = []
    wall = 0.0
    for k in range(args.clean_runs):
        out_dir = RUNS / f"clean-{k}"
        run = Run(command(out_dir), out_dir, env)
        code = run.wait(timeout=args.timeout)
        got = outputs(out_dir)
        entry = {"run": f"clean {k}", "exit": code, "wall_s": round(run.elapsed(), 2),
                 "outputs": {n: (len(b) if b is not None else None) for n, b in got.items()}}
        if k == 0:
            reference, timeline, wall = got, run.events(), run.elapsed()
            entry["timeline"] = [[round(t, 2), e] for t, e in timeline]
        else:
            entry["identical_to_clean_0"] = {n: got[n] == reference[n] for n in COMPARED}
        clean.append(entry)
        print(f"  [clean {k}] exit {code}, {run.elapsed():.1f} s, {len(run.lines)} stderr lines, "
              f"{len(run.files)} files", file=sys.stderr, flush=True)
        if code not in (0, 1) or any(v is None for v in got.values()):
            print(f"clean run failed (exit {code}): {run.last_line()}", file=sys.stderr)
            return 1
    if not args.keep:
        for k in range(1, args.clean_runs):
            shutil.rmtree(RUNS / f"clean-{k}", ignore_errors=True)

    # 2. kill, resume, compare
    plan = kill_plan(args.kills, wall, timeline, rng)
    kills = []
    for i, (aim, trigger) in enumerate(plan):
        out_dir = RUNS / f"kill-{i}"
        run = Run(command(out_dir), out_dir, env)
        code = run.wait(trigger=trigger, timeout=args.timeout)
        entry: dict[str, Any] = {"n": i, "aim": aim, "killed": run.killed_at is not None,
                                 "killed_at_s": round(run.killed_at, 2) if run.killed_at is not None else None,
                                 "exit": code, "last_line": run.last_line()[:100],
                                 "work_files": sum(1 for p in run.files if p.startswith("work" + os.sep)),
                                 "manifest": (out_dir / MANIFEST).exists(), "resumes": []}
        resumes = 2 if i < args.double else 1
        for r in range(resumes):
            resumed = Run(command(out_dir, resume=True), out_dir, env)
            if r < resumes - 1:  # kill this resume too, part way
                at = rng.uniform(0.05, 0.8) * wall
                rcode = resumed.wait(trigger=lambda run_, at=at: run_.elapsed() >= at, timeout=args.timeout)
            else:
                rcode = resumed.wait(timeout=args.timeout)
            entry["resumes"].append({"exit": rcode, "wall_s": round(resumed.elapsed(), 2),
                                     "killed_at_s": round(resumed.killed_at, 2) if resumed.killed_at else None,
                                     "last_line": resumed.last_line()[:160]})
        got = outputs(out_dir)
        entry["identical"] = {n: got[n] == reference[n] for n in COMPARED}
        entry["ok"] = entry["resumes"][-1]["exit"] in (0, 1) and all(entry["identical"].values())
        kills.append(entry)
        print(f"  [kill {i}] {aim}: killed at {entry['killed_at_s']} s ({entry['work_files']} work files, "
              f"'{entry['last_line'][:50]}'), resume exit {entry['resumes'][-1]['exit']}: "
              f"{'identical' if entry['ok'] else 'MISMATCH ' + json.dumps(entry['identical'])}", file=sys.stderr, flush=True)
        if entry["ok"] and not args.keep:
            shutil.rmtree(out_dir, ignore_errors=True)

    # 3. damaged and foreign folders
    damage = damage_cases(command, wall, env, rng, args.timeout)
    for case in damage:
        print(f"  [{case['case']}] exit {case['exit']}, {case['stderr_lines']} line(s): {case['stderr'][:140]!r} -> "
              f"{'refused' if case['ok'] else 'NOT REFUSED AS EXPECTED'}", file=sys.stderr, flush=True)

    rows = [[k["n"], k["aim"][:48], k["killed_at_s"], k["work_files"], k["last_line"][:40],
             "/".join(str(r["exit"]) for r in k["resumes"]), k["resumes"][-1]["wall_s"],
             "yes" if k["identical"]["findings.jsonl"] else "NO", "yes" if k["identical"]["stats.json"] else "NO"]
            for k in kills]
    rows += [[c["case"], "", "", "", "", c["exit"], "", "one line" if c["stderr_lines"] == 1 else
              f"{c['stderr_lines']} lines", "refused" if c["ok"] else "NOT REFUSED"] for c in damage]
    failed = [k for k in kills if not k["ok"]] + [c for c in damage if not c["ok"]]
    not_killed = sum(1 for k in kills if not k["killed"])
    clean_differ = [c for c in clean[1:] if not all(c["identical_to_clean_0"].values())]
    notes = [f"clean run: {wall:.1f} s on {corpus.name} ({meta.get('target_sentences', '?')} sentences)",
             (f"{len(kills) - not_killed} runs killed, {not_killed} finished before their moment came; "
              f"{sum(1 for k in kills if k['ok'])}/{len(kills)} resumed to byte-identical findings.jsonl and "
              "stats.json"),
             (f"damage and foreign folders: {sum(1 for c in damage if c['ok'])}/{len(damage)} refused with one "
              "line and exit 2")]
    if clean_differ:
        notes.append("the clean runs differ from each other (" + ", ".join(
            n for c in clean_differ for n, same in c["identical_to_clean_0"].items() if not same)
            + "): scan's output is not deterministic, so kills cannot be judged byte for byte")
    results = {"corpus": {"path": str(corpus.relative_to(common.REPO)), **meta}, "command": command(Path("DIR")),
               "clean": clean, "kills": kills, "damage": damage,
               "summary": {"kills": len(kills), "identical": sum(1 for k in kills if k["ok"]),
                           "not_killed": not_killed, "damage_refused": sum(1 for c in damage if c["ok"]),
                           "damage_cases": len(damage), "failed": len(failed) + len(clean_differ)}}
    common.emit(args, "dedup scan: SIGKILL, --resume, damaged folders",
                ["kill", "aimed at", "killed at s", "work files", "last stderr line", "resume exits", "resume s",
                 "findings same", "stats same"], rows, results, notes)
    if not args.keep and not failed:
        shutil.rmtree(RUNS, ignore_errors=True)
    return 1 if failed or clean_differ else 0


def kill_plan(kills: int, wall: float, timeline: list[tuple[float, str]], rng: random.Random) -> list:
    """(description, trigger) of each kill: the first half at moments spread evenly over the
    clean run's wall time (one in each of `n` equal slices, at a random point of it); the rest
    aimed at the timeline's events in turn, a random 0-200 ms after the run shows the event."""
    timed = (kills + 1) // 2
    plan = []
    for i in range(timed):
        at = wall * (i + rng.random()) / timed
        plan.append((f"time {at:.2f} s of {wall:.1f}", lambda run, at=at: run.elapsed() >= at))
    events = [e for _, e in timeline] or ["line:"]
    for j in range(kills - timed):
        event = events[j * len(events) // max(1, kills - timed)] if kills - timed <= len(events) else events[j % len(events)]
        delay = rng.uniform(0.0, 0.2)
        plan.append((f"{event} +{delay * 1000:.0f} ms", _aimed(event, delay)))
    return plan


def _aimed(event: str, delay: float):
    state: dict[str, float] = {}

    def trigger(run: Run) -> bool:
        if "seen" not in state and event_seen(run, event):
            state["seen"] = run.elapsed()
        return "seen" in state and run.elapsed() >= state["seen"] + delay

    return trigger


def damage_cases(command, wall: float, env: dict[str, str], rng: random.Random, timeout: float) -> list[dict]:
    """The three refusals: a cut work file, a garbage manifest, a foreign folder."""
    cases = []

    def killed_part_way(name: str) -> Path:
        """A folder whose run was killed once it had a manifest and a non-empty work file, and
        at least 60% of the clean run's time had passed (or it finished)."""
        out_dir = RUNS / name

        def ready(run: Run) -> bool:
            return (run.elapsed() >= 0.6 * wall and (out_dir / MANIFEST).exists()
                    and any(p.startswith("work" + os.sep) for p in run.files))

        Run(command(out_dir), out_dir, env).wait(trigger=ready, timeout=timeout)
        return out_dir

    out_dir = killed_part_way("damaged-work")
    files = [p for p in (out_dir / "work").rglob("*") if p.is_file() and p.stat().st_size > 0]
    finished = [p for p in files if (p.parent / "DONE.json").is_file() and p.name != "DONE.json"]
    work = sorted(finished or files, key=lambda p: (p.stat().st_mtime, str(p)))  # a finished unit's file first
    if work:
        victim = work[0]
        size = victim.stat().st_size
        with victim.open("r+b") as fh:
            fh.truncate(size // 2)
        cases.append(refusal("truncated work file", command(out_dir, resume=True), env,
                             detail=f"{victim.relative_to(out_dir)} cut from {size} to {size // 2} bytes"))
    else:
        cases.append({"case": "truncated work file", "exit": None, "stderr_lines": 0, "ok": False,
                      "stderr": "", "detail": "no non-empty work file to cut (the run left none)"})

    out_dir = killed_part_way("damaged-manifest")
    (out_dir / MANIFEST).write_bytes(bytes(rng.randrange(256) for _ in range(512)))
    cases.append(refusal("garbage manifest", command(out_dir, resume=True), env, detail="512 random bytes"))

    foreign = RUNS / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("somebody else's folder\n", encoding="utf-8")
    (foreign / "work").mkdir()
    (foreign / "work" / "data.bin").write_bytes(b"\x00" * 1000)
    before = {str(p): p.read_bytes() for p in foreign.rglob("*") if p.is_file()}
    for resume in (False, True):
        case = refusal("foreign folder" + (" --resume" if resume else ""), command(foreign, resume=resume), env,
                       detail="a non-empty folder without " + MANIFEST)
        after = {str(p): p.read_bytes() for p in foreign.rglob("*") if p.is_file()}
        case["left_as_it_was"] = after == before
        case["ok"] = case["ok"] and case["left_as_it_was"]
        cases.append(case)
    return cases


def refusal(name: str, cmd: list[str], env: dict[str, str], detail: str) -> dict[str, Any]:
    """Run `cmd`, which must exit 2 with exactly one non-empty line on stderr."""
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    return {"case": name, "detail": detail, "exit": proc.returncode, "stderr_lines": len(lines),
            "stderr": proc.stderr.strip()[:500], "ok": proc.returncode == 2 and len(lines) == 1}


if __name__ == "__main__":
    sys.exit(main())
