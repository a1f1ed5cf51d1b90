"""The HTTP service under load: ``dedup serve`` on loopback, answering POST /v1/check for real drafts.

1. An SQLite archive of about --passages stored passages is built the way bench_archive.py
   builds it (its functions, on the same cached corpus: real articles of ../shared/corpora,
   every 20th real article held out), or reused from --index PATH.
2. --drafts request bodies (JSON ``{"text": draft, "id": "draft-k"}``, UTF-8), each draft
   27 sentences of held-out real articles (not in the archive) and 3 garbled copies (a fifth
   of the words dropped) of archived passages, as bench_archive.py makes them; the requests
   cycle through them.
3. For each --workers N: the index file is read once (into the page cache), then
   ``python -m dedup serve --isolated --index INDEX --port PORT --no-access-log --log-level warning
   --workers N`` is started (this checkout's code; --server-command starts a variant
   instead) and the script waits for GET /readyz == 200.
4. Phases, each POST /v1/check (the archive checked, JSON report) from this process on
   asyncio (a minimal keep-alive HTTP/1.1 client by default, httpx.AsyncClient with
   --client httpx; response bodies are parsed only after each phase):
   - "sequential": a few warm-up requests, then --sequential requests one at a time on one
     connection (the cost of one request, without queueing);
   - "loaded": --warmup requests (not counted; they open the connections), then --requests
     requests over --connections concurrent keep-alive connections.
5. For each phase: requests, errors (any non-200 or transport error; the script exits 1 when
   there are any), wall seconds, requests/s, client-side latency p50/p90/p99/max, findings
   per request (all, and archive ones), the share of requests with an archive finding and of
   planted copies found, the engine's own seconds (the reports' stats.seconds and
   stage_seconds), the server's CPU seconds (utime+stime of the server process and its
   workers from /proc, user and system), how the connections were spread over the worker
   processes, this process's CPU seconds, what the rest of the machine used meanwhile
   (/proc/stat less server and client: the VM is shared), and the server's RSS at the end.
6. The server is stopped with SIGTERM (and waited for) in all cases; its output must hold no
   "Traceback".

With --py-spy each phase is sampled by ``py-spy record --nonblocking --subprocesses`` (which
costs the machine CPU: quote the figures of a run without it) and a summary of where the
server's samples went is printed (raw stacks kept in benchmarks/results/).

    python benchmarks/bench_service.py [--passages 100000] [--requests 2000] [--connections 32]
                                       [--workers 1 2] [--sequential 200] [--drafts 200] [--warmup 50]
                                       [--index PATH] [--keep-index] [--client raw|httpx]
                                       [--connect-gap-ms MS] [--server-command TEMPLATE] [--py-spy]
                                       [--json [PATH]]
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import json
import os
import platform
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from bench_archive import (archived_sentences, corpus_documents, fill_index, hold_out, make_drafts,  # noqa: E402
                           percentile, warm_page_cache)

import dedup  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HEADERS = {"content-type": "application/json"}


# --------------------------------------------------------------------------- archive and drafts

def prepare(index_path: Path, passages: int, drafts_count: int) -> tuple[list[tuple[str, set[str]]], dict]:
    """Build the archive at `index_path` until it holds `passages` passages (or reuse it when
    the file is there), and make the drafts: (text, archived sentences planted in it)."""
    docs, fresh = hold_out(corpus_documents(passages), drafts_count)
    reused = index_path.exists()
    with dedup.Index.open(index_path) as index:
        build_s = fill_index(index, docs, passages)
        stats = index.stats()
        drafts = make_drafts(archived_sentences(index, docs), fresh, drafts_count)
    short = sum(1 for text, _ in drafts if text.count("\n") + 1 < 30)
    if short:
        sys.exit(f"only {len(drafts) - short} of {len(drafts)} drafts have 30 sentences: too few held-out articles")
    if reused and abs(stats["passages"] - passages) > 0.05 * passages:
        print(f"warning: the reused index {index_path} holds {stats['passages']} passages, not about {passages}",
              file=sys.stderr)
    return drafts, {"documents": stats["documents"], "passages": stats["passages"], "bytes": stats["bytes"],
                    "reused": reused, "build_s": None if reused else round(build_s, 1)}


def request_bodies(drafts: list[tuple[str, set[str]]]) -> list[bytes]:
    return [json.dumps({"text": text, "id": f"draft-{k}"}, ensure_ascii=False).encode("utf-8")
            for k, (text, _) in enumerate(drafts)]


# --------------------------------------------------------------------------- the server's processes

def process_counters(pid: int) -> tuple[float, float, int]:
    """(user CPU seconds, system CPU seconds, minor page faults) of a live process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0, 0
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS, int(fields[7])


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next((int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmRSS:")), 0)
    except OSError:
        return 0


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (all cores; /proc/stat)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLOCK_TICKS  # less idle and iowait; guest time is in user


def cpu_snapshot(pid: int) -> dict[int, tuple[float, float, int]]:
    return {p: process_counters(p) for p in common.process_tree(pid)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``dedup serve`` as a subprocess; stopped with SIGTERM on exit, whatever happened."""

    def __init__(self, index: Path, workers: int, template: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "dedup", "serve", "--isolated", "--index", str(index),
                        "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
                        "--log-level", "warning", "--workers", str(workers)]
        if template:  # another way to serve the same application (see --server-command)
            self.command = shlex.split(template.format(python=shlex.quote(sys.executable),
                                                       index=shlex.quote(str(index)), port=self.port, workers=workers))
        self.workers = workers
        self.output = tempfile.TemporaryFile()
        self.proc: subprocess.Popen | None = None
        self.exit_status: int | None = None
        self.stop_seconds: float | None = None

    def __enter__(self) -> "Server":
        repo = str(Path(__file__).resolve().parents[1])  # this checkout's dedup, not an installed one
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen(self.command, stdout=self.output, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        return self

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds until GET /readyz answered 200 on 4 fresh connections per worker in a row."""
        import httpx

        started, in_a_row = time.perf_counter(), 0
        while in_a_row < 4 * self.workers:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.proc.returncode}:\n{self.log()[-3000:]}")
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"the server was not ready after {timeout:g} s:\n{self.log()[-3000:]}")
            try:
                ok = httpx.get(self.url + "/readyz", timeout=5).status_code == 200
            except httpx.HTTPError:
                ok = False
            in_a_row = in_a_row + 1 if ok else 0
            if not ok:
                time.sleep(0.1)
        return time.perf_counter() - started

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode("utf-8", "replace")

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        started = time.perf_counter()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print("warning: the server did not stop within 30 s of SIGTERM; killed", file=sys.stderr)
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.stop_seconds = time.perf_counter() - started
        self.exit_status = self.proc.returncode


# --------------------------------------------------------------------------- the client

class RawConnection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: the lightest client there is
    (no pool, no header objects), so that it takes little CPU from the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

        self.reconnects = 0  # the server closed the idle connection (uvicorn's keep-alive timeout: 5 s)

    async def connect(self) -> None:
        if self.reader is not None and self.reader.at_eof():
            self.close()
            self.reconnects += 1
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, request: bytes) -> tuple[int, bytes]:
        await self.connect()
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *lines = head[:-4].split(b"\r\n")
            status = int(status_line.split(None, 2)[1])
            headers = {}
            for line in lines:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip().lower()
            if b"content-length" in headers:
                body = await self.reader.readexactly(int(headers[b"content-length"]))
            elif headers.get(b"transfer-encoding") == b"chunked":
                parts = []
                while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    parts.append(await self.reader.readexactly(size + 2))
                await self.reader.readuntil(b"\r\n")
                body = b"".join(p[:-2] for p in parts)
            else:
                raise ValueError("a response without content-length")
            if headers.get(b"connection") == b"close":
                self.close()
            return status, body
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def raw_request(host: str, port: int, body: bytes) -> bytes:
    return (f"POST /v1/check HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode("ascii") + body


Result = tuple[float, Any, bytes]  # (seconds, status or error, body)


async def fire(host: str, port: int, bodies: list[bytes], phases: list[tuple[str, int, int]],
               args: argparse.Namespace, on_start: Any, on_end: Any) -> dict[str, dict[str, Any]]:
    """Runs `phases` ((name, requests, connections), one after the other, on the same
    keep-alive connections: the first `connections` of a pool of --connections); for each
    phase, its results and wall seconds. `on_start(name)` and `on_end(name)` bracket each timed
    phase (those not named "warmup..."). The requests cycle through `bodies` from one phase to the next."""
    import httpx

    size = max(c for _, _, c in phases)
    if args.client == "raw":
        requests_bytes = [raw_request(host, port, body) for body in bodies]
        pool = [RawConnection(host, port) for _ in range(size)]
        client = None
    else:
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        client = httpx.AsyncClient(base_url=f"http://{host}:{port}", limits=limits, timeout=httpx.Timeout(300.0))

    async def post(c: int, k: int) -> tuple[int, bytes]:
        if client is None:
            return await pool[c].post(requests_bytes[k % len(bodies)])
        response = await client.post("/v1/check", content=bodies[k % len(bodies)], headers=HEADERS)
        return response.status_code, response.content

    async def phase(count: int, connections: int, first: int) -> list[Result]:
        results: list[Any] = [None] * count
        counter = iter(range(count))

        async def one_connection(c: int) -> None:
            for k in counter:
                started = time.perf_counter()
                try:
                    status, content = await post(c, first + k)
                    results[k] = (time.perf_counter() - started, status, content)
                except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        httpx.HTTPError) as err:
                    results[k] = (time.perf_counter() - started, f"{type(err).__name__}: {err}", b"")

        await asyncio.gather(*(one_connection(c) for c in range(connections)))
        return results

    out: dict[str, dict[str, Any]] = {}
    try:
        first = 0
        for name, count, connections in phases:
            if name == "warmup" and client is None and args.connect_gap_ms > 0:  # else opened all at once
                for connection in pool:
                    await connection.connect()
                    await asyncio.sleep(args.connect_gap_ms / 1000)
            timed = not name.startswith("warmup")
            if timed:
                on_start(name)
            reconnects = sum(c.reconnects for c in pool) if client is None else 0
            started = time.perf_counter()
            results = await phase(count, connections, first)
            wall = time.perf_counter() - started
            if timed:
                on_end(name)
            out[name] = {"results": results, "wall_s": wall, "first": first,
                         "reconnects": (sum(c.reconnects for c in pool) if client is None else 0) - reconnects}
            first += count
    finally:
        if client is not None:
            await client.aclose()
        else:
            for connection in pool:
                connection.close()
    return out


def summarize(results: list[Result], drafts: list[tuple[str, set[str]]], first: int) -> dict[str, Any]:
    """Latency percentiles, errors, what the reports found and the engine's own seconds
    (the report's stats; parsed after the phase)."""
    seconds = [s for s, _, _ in results]
    errors = collections.Counter(str(status) for _, status, _ in results if status != 200)
    findings = archive = with_archive = planted = planted_found = 0
    engine, stages = 0.0, collections.Counter()
    for k, (_, status, body) in enumerate(results):
        if status != 200:
            continue
        report = json.loads(body)
        mine = [f for f in report["findings"] if f["scope"] == "archive"]
        findings += len(report["findings"])
        archive += len(mine)
        with_archive += bool(mine)
        wanted = drafts[(first + k) % len(drafts)][1]
        planted += len(wanted)
        planted_found += len(wanted & {f["match"]["text"] for f in mine})
        engine += report["stats"].get("seconds", 0.0)
        stages.update(report["stats"].get("stage_seconds", {}))
    ok = max(1, len(results) - sum(errors.values()))
    return {"requests": len(results), "errors": sum(errors.values()), "error_kinds": dict(errors),
            "p50_ms": round(1000 * percentile(seconds, 0.50), 1), "p90_ms": round(1000 * percentile(seconds, 0.90), 1),
            "p99_ms": round(1000 * percentile(seconds, 0.99), 1), "max_ms": round(1000 * max(seconds), 1),
            "mean_ms": round(1000 * sum(seconds) / len(seconds), 1),
            "findings_per_request": round(findings / ok, 2), "archive_findings_per_request": round(archive / ok, 2),
            "share_with_archive_finding": round(with_archive / ok, 3),
            "planted_found": round(planted_found / max(1, planted), 3),
            "engine_ms_per_request": round(1000 * engine / ok, 1),
            "engine_stage_ms_per_request": {k: round(1000 * v / ok, 2) for k, v in stages.items()}}


# --------------------------------------------------------------------------- py-spy

def start_py_spy(pid: int, out: Path) -> subprocess.Popen:
    py_spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(py_spy), "record", "--pid", str(pid), "--subprocesses", "--rate", "100", "--nonblocking",
                             "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def stop_py_spy(proc: subprocess.Popen) -> None:
    common.stop_process(proc, signal.SIGINT, timeout=60)


_FRAME = re.compile(r"^(?P<fn>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
# Samples whose innermost frame is one of these are threads waiting for work, not working.
IDLE = [("Condition.wait", "threading.py"), ("EpollSelector.select", "selectors.py"),
        ("Connection._recv", "multiprocessing/connection.py"), ("Connection.poll", "multiprocessing/connection.py"),
        ("Event.wait", "threading.py"), ("Thread.join", "threading.py")]
LOCK_WAIT = ("SQLiteStore._using", "dedup/archive/sqlite.py")  # blocked on the connection's lock
# Where a working sample's time goes: the innermost frame whose file names one of these.
CATEGORIES = [
    ("engine: archive lookup, SQLite query (dedup/archive/sqlite.py)", ("dedup/archive/sqlite.py",)),
    ("engine: archive lookup, the rest (dedup/archive/index.py)", ("dedup/archive/",)),
    ("engine: verify (rapidfuzz)", ("dedup/verify.py",)),
    ("engine: segment + normalize", ("dedup/segment.py", "dedup/normalize.py", "dedup/readers/", "dedup/passages.py",
                                     "dedup/stem.py")),
    ("engine: shingle + sketch", ("dedup/shingle.py", "dedup/sketch.py")),
    ("report to dict (dedup/model.py, dedup/report.py)", ("dedup/model.py", "dedup/report.py")),
    ("engine: other (candidates, grouping)", ("dedup/candidates.py", "dedup/group.py", "dedup/detector.py",
                                              "dedup/arrays.py", "dedup/fingerprint.py", "dedup/config.py")),
    ("JSON encode/decode", ("json/",)),
    ("pydantic validation", ("pydantic",)),
    ("service code (dedup/service/)", ("dedup/service/",)),
    ("FastAPI / Starlette", ("fastapi/", "starlette/")),
    ("uvicorn + h11 (HTTP parsing)", ("uvicorn/", "h11/")),
    ("anyio thread hand-off", ("anyio/", "concurrent/", "threading.py", "queue.py")),
    ("asyncio event loop", ("asyncio/", "selectors.py")),
]


def py_spy_summary(raw: Path, top: int = 25) -> dict[str, Any]:
    """py-spy's samples (every thread it did not see as idle, each sampling instant): how many
    were threads waiting for work or for the SQLite connection's lock, and of the others, the
    shares by category (the innermost frame that names one), by the innermost dedup function,
    and by leaf frame."""
    categories: collections.Counter = collections.Counter()
    leaves: collections.Counter = collections.Counter()
    owners: collections.Counter = collections.Counter()
    total = idle = lock_wait = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [(m["fn"], m["file"]) for m in map(_FRAME.match, stack.split(";")) if m]
        total += n
        if frames and frames[-1] in IDLE:
            idle += n
            continue
        if frames and frames[-1] == LOCK_WAIT:
            lock_wait += n
            continue
        if not frames:
            categories["other (no Python frame)"] += n
            continue
        leaves[f"{frames[-1][0]} ({frames[-1][1]})"] += n
        category = next((name for fn, file in reversed(frames) for name, marks in CATEGORIES
                         if any(mark in file for mark in marks)), "other")
        categories[category] += n
        owner = next((f"{fn} ({file})" for fn, file in reversed(frames)
                      if "dedup/" in file and not file.endswith(("serve_cli.py", "cli.py"))), None)
        if owner:
            owners[owner] += n
    working = max(1, total - idle - lock_wait)
    share = lambda c: {k: round(v / working, 3) for k, v in c.most_common(top)}  # noqa: E731
    return {"samples": total, "idle_samples": idle, "sqlite_lock_wait_samples": lock_wait,
            "working_samples": total - idle - lock_wait, "categories": share(categories),
            "dedup_functions": share(owners), "leaf_frames": share(leaves)}


# --------------------------------------------------------------------------- one run

def run_once(index: Path, workers: int, bodies: list[bytes], drafts: list[tuple[str, set[str]]],
             args: argparse.Namespace) -> dict[str, Any]:
    """One server with `workers` worker processes: the warm-up, the sequential phase (one
    connection) and the loaded phase (--connections)."""
    import httpx

    server = Server(index, workers, args.server_command)
    seen: dict[str, dict[str, Any]] = collections.defaultdict(dict)
    spies: dict[str, subprocess.Popen] = {}
    spy_files = {name: common.RESULTS / f"service-pyspy-w{workers}-{name}.txt" for name in ("sequential", "loaded")}
    phases = [("warmup-sequential", min(args.warmup, 20) if args.sequential else 0, 1),
              ("sequential", args.sequential, 1), ("warmup", args.warmup, args.connections),
              ("loaded", args.requests, args.connections)]
    phases = [p for p in phases if p[1] > 0]
    with server:
        ready_s = server.wait_ready()
        served_passages = httpx.get(server.url + "/v1/archive/stats", timeout=30).json()["passages"]

        def on_start(name: str) -> None:
            if args.py_spy:
                spies[name] = start_py_spy(server.proc.pid, spy_files[name])
                time.sleep(1.5)  # let py-spy attach before the requests
            seen[name]["server_cpu"] = cpu_snapshot(server.proc.pid)
            seen[name]["client_cpu"] = time.process_time()
            seen[name]["machine_cpu"] = machine_busy_seconds()

        def on_end(name: str) -> None:
            client_cpu = time.process_time() - seen[name]["client_cpu"]
            after = cpu_snapshot(server.proc.pid)
            seen[name]["machine_cpu"] = machine_busy_seconds() - seen[name]["machine_cpu"]
            seen[name]["client_cpu"] = client_cpu
            before = seen[name]["server_cpu"]
            seen[name]["server_counters"] = {p: tuple(a - b for a, b in zip(after[p], before.get(p, (0, 0, 0))))
                                             for p in after}
            seen[name]["server_cpu"] = {p: c[0] + c[1] for p, c in seen[name]["server_counters"].items()}
            seen[name]["rss"] = {p: rss_bytes(p) for p in after}
            seen[name]["connections"] = connections_by_process(list(after), server.port)
            seen[name]["workers"] = [server.proc.pid] if workers == 1 else [p for p in after if is_worker(p)]
            if name in spies:
                stop_py_spy(spies[name])

        try:
            fired = asyncio.run(fire("127.0.0.1", server.port, bodies, phases, args, on_start, on_end))
        finally:
            for spy in spies.values():
                if spy.poll() is None:
                    stop_py_spy(spy)
    log = server.log()
    if "Traceback" in log:
        raise RuntimeError(f"the server's output holds a Traceback:\n{log[-5000:]}")
    result: dict[str, Any] = {"workers": workers, "client": args.client, "connect_gap_ms": args.connect_gap_ms,
                              "archive_passages_served": served_passages, "ready_s": round(ready_s, 2)}
    for name, count, connections in phases:
        if name.startswith("warmup"):
            result["warmup_requests"] = result.get("warmup_requests", 0) + count
            result["warmup_errors"] = result.get("warmup_errors", 0) + sum(
                1 for _, status, _ in fired[name]["results"] if status != 200)
            continue
        got, cpu = fired[name], seen[name]["server_cpu"]
        serving = seen[name]["workers"]
        figures = {
            "connections": connections,
            **summarize(got["results"], drafts, got["first"]),
            "wall_s": round(got["wall_s"], 2),
            "requests_per_s": round(count / got["wall_s"], 1),
            "server_cpu_s": round(sum(cpu.values()), 2),
            "server_system_cpu_s": round(sum(c[1] for c in seen[name]["server_counters"].values()), 2),
            "server_minor_faults_per_request": round(
                sum(c[2] for c in seen[name]["server_counters"].values()) / count),
            "worker_cpu_s": sorted((round(cpu.get(p, 0.0), 2) for p in serving), reverse=True),
            "connections_per_worker": sorted((seen[name]["connections"].get(p, 0) for p in serving), reverse=True),
            "client_cpu_s": round(seen[name]["client_cpu"], 2),
            "server_rss_mib": round(sum(seen[name]["rss"].values()) / 2**20),
            "worker_rss_mib": sorted((round(seen[name]["rss"].get(p, 0) / 2**20) for p in serving), reverse=True),
            "server_processes": len(cpu),
            "reconnects": got["reconnects"],
        }
        # what the rest of the machine used meanwhile (this VM is shared): busy CPU less server and client
        figures["other_cpu_s"] = round(max(0.0, seen[name]["machine_cpu"] - figures["server_cpu_s"]
                                           - figures["client_cpu_s"]), 1)
        figures["server_cpu_ms_per_request"] = round(1000 * figures["server_cpu_s"] / count, 1)
        figures["client_cpu_ms_per_request"] = round(1000 * figures["client_cpu_s"] / count, 2)
        if args.py_spy and spy_files[name].exists():
            figures["py_spy"] = {**py_spy_summary(spy_files[name]), "raw": str(spy_files[name])}
        result[name] = figures
    result.update({
        "stop_s": round(server.stop_seconds, 2),
        # one process: uvicorn re-raises the SIGTERM it handled once it has shut down, so -15 is a clean stop
        "server_exit_status": server.exit_status,
        "server_output_tail": log[-2000:],
    })
    return result


def is_worker(pid: int) -> bool:
    """A uvicorn worker process (started by multiprocessing's spawn, unlike its resource tracker)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"spawn_main" in fh.read()
    except OSError:
        return False


def connections_by_process(pids: list[int], port: int) -> dict[int, int]:
    """How many established TCP connections to `port` each of `pids` holds (from /proc/net/tcp
    and the processes' socket descriptors): how the kernel spread the clients over the workers."""
    inodes = set()
    try:
        with open("/proc/net/tcp") as fh:
            next(fh)
            for line in fh:
                fields = line.split()
                if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    except OSError:
        return {}
    counts = {}
    for pid in pids:
        n = 0
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                n += link.startswith("socket:[") and link[8:-1] in inodes
        except OSError:
            continue
        counts[pid] = n
    return counts


# --------------------------------------------------------------------------- reporting

def environment() -> dict[str, Any]:
    """What the figures were measured on (as common.environment, without running git: the
    commit is read from .git)."""
    commit = None
    try:
        ref = (common.REPO / ".git" / "HEAD").read_text().strip()
        if ref.startswith("ref: "):
            name = ref[5:]
            loose = common.REPO / ".git" / name
            if loose.exists():
                commit = loose.read_text().strip()
            else:
                packed = (common.REPO / ".git" / "packed-refs").read_text()
                commit = next((ln.split()[0] for ln in packed.splitlines() if ln.endswith(" " + name)), None)
        else:
            commit = ref
    except OSError:
        pass
    digest = hashlib.sha1()
    for path in sorted((common.REPO / "dedup").rglob("*.py")):
        digest.update(str(path.relative_to(common.REPO)).encode() + b"\0" + path.read_bytes())
    versions = {name: common.package_version(name) for name in ("dedup", "fastapi", "starlette", "pydantic", "uvicorn",
                                                                "h11", "httptools", "uvloop", "httpx", "numpy", "rapidfuzz")}
    return {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "python": platform.python_version(),
            **versions, "commit": commit[:7] if commit else None, "dedup_source_all": digest.hexdigest()[:12],
            "cpu": common.cpu_name(), "cores": os.cpu_count(), "command": " ".join([Path(sys.executable).name, *sys.argv])}


def print_tables(runs: list[dict[str, Any]]) -> None:
    loaded = [r for r in runs if "loaded" in r]
    if loaded:
        print(f"Under load ({loaded[0]['loaded']['connections']} connections):\n")
        print("| workers | requests | errors | wall s | requests/s | p50 ms | p90 ms | p99 ms | max ms "
              "| findings / request (archive) | with an archive finding | planted found "
              "| server CPU s (per worker) | connections per worker | client CPU s | others' CPU s | server RSS MiB |")
        print("| --- " * 17 + "|")
        for run in loaded:
            r = run["loaded"]
            per = " + ".join(f"{v:.1f}" for v in r["worker_cpu_s"])
            spread = " + ".join(str(v) for v in r["connections_per_worker"])
            print(f"| {run['workers']} | {r['requests']:,} | {r['errors']} | {r['wall_s']:.1f} "
                  f"| {r['requests_per_s']:.1f} | {r['p50_ms']:.0f} | {r['p90_ms']:.0f} | {r['p99_ms']:.0f} "
                  f"| {r['max_ms']:.0f} | {r['findings_per_request']:.2f} ({r['archive_findings_per_request']:.2f}) "
                  f"| {r['share_with_archive_finding']:.2f} | {r['planted_found']:.2f} "
                  f"| {r['server_cpu_s']:.1f} ({per}) | {spread} | {r['client_cpu_s']:.1f} | {r['other_cpu_s']:.1f} "
                  f"| {r['server_rss_mib']} |")
    for title, name in (("Under load", "loaded"), ("One request at a time", "sequential")):
        rows = [r for r in runs if name in r]
        if not rows:
            continue
        stage_names = list(rows[0][name]["engine_stage_ms_per_request"])
        print(f"\n{title}: per request, milliseconds\n")
        print("| workers | requests | requests/s | p50 | p99 | server CPU | engine (report's stats.seconds) | "
              + " | ".join(stage_names) + " | client CPU | others' CPU s in all |")
        print("| --- " * (9 + len(stage_names)) + "|")
        for run in rows:
            r = run[name]
            stages = " | ".join(f"{r['engine_stage_ms_per_request'].get(s, 0):.1f}" for s in stage_names)
            print(f"| {run['workers']} | {r['requests']:,} | {r['requests_per_s']:.1f} | {r['p50_ms']:.1f} "
                  f"| {r['p99_ms']:.1f} | {r['server_cpu_ms_per_request']:.1f} | {r['engine_ms_per_request']:.1f} "
                  f"| {stages} | {r['client_cpu_ms_per_request']:.2f} | {r['other_cpu_s']:.1f} |")


def print_profile(run: dict[str, Any], name: str) -> None:
    profile = run.get(name, {}).get("py_spy")
    if not profile:
        return
    print(f"\npy-spy, {run['workers']} worker(s), {name}: {profile['samples']} samples, of which "
          f"{profile['idle_samples']} threads waiting for work and {profile['sqlite_lock_wait_samples']} waiting "
          f"for the SQLite connection's lock; shares of the other {profile['working_samples']} "
          f"(raw stacks: {profile['raw']})")
    for title, key, n in (("by category", "categories", 20), ("by innermost dedup function", "dedup_functions", 15),
                          ("by leaf frame", "leaf_frames", 15)):
        print(f"  {title}:")
        for label, share in list(profile[key].items())[:n]:
            print(f"    {100 * share:5.1f}%  {label}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=100_000, help="archive passages to build (default: 100000)")
    ap.add_argument("--requests", type=int, default=2000, help="requests under load, per run (default: 2000)")
    ap.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (default: 32)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1], metavar="N",
                    help="server worker processes; several values run one after the other (default: 1)")
    ap.add_argument("--drafts", type=int, default=200, help="distinct drafts the requests cycle through (default: 200)")
    ap.add_argument("--warmup", type=int, default=50, help="requests before the timed ones, not counted (default: 50)")
    ap.add_argument("--sequential", type=int, default=200,
                    help="requests one at a time on one connection, after the warm-up (default: 200; 0: none)")
    ap.add_argument("--index", metavar="PATH", help="the SQLite index: built there when missing, reused when there; "
                                                    "kept (default: a temporary file)")
    ap.add_argument("--keep-index", action="store_true",
                    help="without --index: keep the index as benchmarks/results/service-archive-N.sqlite "
                         "and reuse it next time")
    ap.add_argument("--client", choices=("raw", "httpx"), default="raw",
                    help="raw: a minimal HTTP/1.1 client on asyncio streams (light); httpx: httpx.AsyncClient "
                         "(default: raw)")
    ap.add_argument("--connect-gap-ms", type=float, default=0.0,
                    help="raw client: open the connections one by one, this far apart, before the warm-up "
                         "(default: 0, all at once as the warm-up starts, as a client's pool opens them)")
    ap.add_argument("--server-command", metavar="TEMPLATE",
                    help="start this instead of `dedup serve` (a variant to compare), formatted with {python}, "
                         "{index}, {port} and {workers}")
    ap.add_argument("--py-spy", action="store_true", help="sample the server with py-spy during each timed phase "
                                                          "(slows it down) and summarize where its time goes")
    ap.add_argument("--json", nargs="?", const=str(common.RESULTS / "service.json"), default=None, metavar="PATH")
    args = ap.parse_args()
    if args.requests < 0 or args.connections < 1 or any(w < 1 for w in args.workers) or args.warmup < 0:
        ap.error("--requests, --connections and --workers must be positive")
    if args.connect_gap_ms and args.client != "raw":
        ap.error("--connect-gap-ms needs --client raw")
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    env = environment()
    with tempfile.TemporaryDirectory(dir=common.RESULTS) as tmp:
        if args.index:
            index_path = Path(args.index)
        elif args.keep_index:
            index_path = common.RESULTS / f"service-archive-{args.passages}.sqlite"
        else:
            index_path = Path(tmp) / "archive.sqlite"
        drafts, archive = prepare(index_path, args.passages, args.drafts)
        bodies = request_bodies(drafts)
        sizes = sorted(len(b) for b in bodies)
        how = "reused" if archive["reused"] else f"built in {archive['build_s']} s"
        print(f"archive: {archive['passages']:,} passages of {archive['documents']:,} documents in {index_path} "
              f"({how}); {len(bodies)} drafts of 30 sentences, bodies {sizes[0]:,}-{sizes[-1]:,} bytes "
              f"(median {sizes[len(sizes) // 2]:,})", file=sys.stderr, flush=True)
        runs = []
        for workers in args.workers:
            warm_page_cache(index_path)
            run = run_once(index_path, workers, bodies, drafts, args)
            runs.append(run)
            brief = {k: v for k, v in run.items() if k not in ("server_output_tail", "sequential", "loaded")}
            for name in ("sequential", "loaded"):
                if name in run:
                    brief[name] = {k: v for k, v in run[name].items() if k != "py_spy"}
            print(json.dumps(brief), file=sys.stderr, flush=True)
    print()
    print_tables(runs)
    for run in runs:
        for name in ("sequential", "loaded"):
            print_profile(run, name)
    results = {"environment": env, "archive": {**archive, "index": str(index_path)},
               "drafts": len(drafts), "body_bytes_median": sizes[len(sizes) // 2], "runs": runs}
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    bad = [r for r in runs if r.get("warmup_errors") or r["server_exit_status"] not in (0, -signal.SIGTERM)
           or any(r[n]["errors"] for n in ("sequential", "loaded") if n in r)]
    if bad:
        sys.exit(f"errors in {len(bad)} run(s): " + "; ".join(
            f"{r['workers']} worker(s): exit status {r['server_exit_status']}, "
            + ", ".join(f"{n} {r[n]['error_kinds']}" for n in ("sequential", "loaded") if n in r) for r in bad))


if __name__ == "__main__":
    main()
