"""Load and soak run of ``dedup serve`` on loopback: many clients for minutes, slow clients and
a large draft in flight, then a check that every acknowledged publish is in the index.

1. An SQLite archive of about --passages passages is built with bench_archive.py's functions
   (real articles of ../shared/corpora, every 20th held out) in a temporary directory, and
   drafts are made as bench_archive.py makes them (27 held-out sentences and 3 garbled
   archived ones). Held-out articles are what the clients publish.
2. ``python -m dedup serve --isolated --index ... --port ... --token-file ... --no-access-log
   --log-level warning --workers N`` (this checkout's code) is started; --server-args adds
   flags (e.g. "--time-budget 60").
3. Phase "large draft": one draft of --large-bytes characters (a flood of short sentences from
   a 20-word vocabulary, the engine's worst case) is posted; meanwhile one connection sends
   small checks (the drafts) one at a time until the large one is answered (or
   --large-seconds pass): p50/p99/max of those small checks, and the large one's status.
4. Phase "soak" (--duration seconds): --clients keep-alive connections each send a request as
   soon as the last is answered: a check (POST /v1/check, a draft against the archive) or,
   one time in --publish-every, a publish (PUT /v1/archive/soak-C-K, a held-out article with
   metadata). Alongside: --slow-clients connections that send half a request's headers and
   wait (the server must answer 408 and close within --read-timeout plus a tick), as many
   that send the headers and half a body (408), and one client that posts the large draft
   again each time it is answered.
5. The server is stopped (SIGTERM); its log must hold no traceback; the index must pass the
   thorough integrity check (`dedup.archive.integrity`) and hold every publish that was
   answered 200 (with its metadata).

Errors are transport errors and any status but 200/204 on the clients' checks and publishes;
503 (busy, with Retry-After) is counted apart and is 0 unless the queue overflows. The large
draft's 504 (the time budget) and the slow clients' 408 are deliberate and reported apart.
The script exits 1 on any error, lost write, integrity problem or traceback.

    python benchmarks/soak_service.py [--duration 300] [--clients 20] [--workers 1] [--passages 20000]
                                      [--slow-clients 4] [--large-bytes 5000000] [--publish-every 5]
                                      [--read-timeout 10] [--server-args "..."] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from bench_archive import archived_sentences, corpus_documents, fill_index, hold_out, make_drafts  # noqa: E402
from bench_service import RawConnection, rss_bytes  # noqa: E402

import dedup  # noqa: E402
from dedup.archive import integrity  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TOKEN = "soak-token"
FLOOD_WORDS = "the cat dog ran sat on a mat park city river bank old new red blue big small fast slow".split()


# --------------------------------------------------------------------------- server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workdir: Path, index: Path, port: int, workers: int, extra: list[str],
                 log_name: str = "server.log") -> tuple[subprocess.Popen, Path]:
    """`dedup serve` of this checkout on loopback; (process, log path)."""
    (workdir / "token").write_text(TOKEN + "\n", encoding="utf-8")
    log_path = workdir / log_name
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("DEDUP_TOKEN", None)
    command = [sys.executable, "-m", "dedup", "serve", "--isolated", "--index", str(index), "--port", str(port),
               "--token-file", str(workdir / "token"), "--no-access-log", "--log-level", "warning",
               "--workers", str(workers), *extra]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
    return process, log_path


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 120.0) -> float:
    """Seconds until GET /readyz answers 200."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"dedup serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"GET /readyz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"dedup serve was not ready within {timeout:g} s")


def request(method: str, path: str, body: bytes | None = None, token: str | None = None) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1"]
    if token:
        head.append(f"authorization: Bearer {token}")
    if body is not None:
        head += ["content-type: application/json", f"content-length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + (body or b"")


def check_request(text: str, doc_id: str) -> bytes:
    return request("POST", "/v1/check", json.dumps({"text": text, "id": doc_id}, ensure_ascii=False).encode())


def publish_request(doc_id: str, text: str, metadata: dict[str, Any]) -> bytes:
    body = json.dumps({"text": text, "metadata": metadata}, ensure_ascii=False).encode()
    return request("PUT", f"/v1/archive/{doc_id}", body, TOKEN)


def flood(size: int, seed: int = 1) -> str:
    """Short sentences from a 20-word vocabulary: every one a near-duplicate candidate of many."""
    rng = random.Random(seed)
    out: list[str] = []
    total = 0
    while total < size:
        sentence = " ".join(rng.choice(FLOOD_WORDS) for _ in range(rng.randint(6, 9))).capitalize() + "."
        out.append(sentence)
        total += len(sentence) + 1
    return " ".join(out)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def latency_summary(values: list[float]) -> dict[str, Any]:
    return {"count": len(values), **{f"p{q}_ms": None if (v := percentile(values, q)) is None else round(1000 * v, 1)
                                     for q in (50, 90, 99)},
            "max_ms": round(1000 * max(values), 1) if values else None}


# --------------------------------------------------------------------------- clients

async def timed(connection: RawConnection, raw: bytes) -> tuple[float, Any]:
    started = time.perf_counter()
    try:
        status, _ = await connection.post(raw)
    except (OSError, asyncio.IncompleteReadError, ValueError) as err:
        return time.perf_counter() - started, type(err).__name__
    return time.perf_counter() - started, status


async def large_beside_small(port: int, large: bytes, smalls: list[bytes], seconds: float) -> dict[str, Any]:
    big, small = RawConnection("127.0.0.1", port), RawConnection("127.0.0.1", port)
    in_flight = asyncio.create_task(timed(big, large))
    await asyncio.sleep(0.5)
    latencies, statuses = [], {}
    started = time.perf_counter()
    k = 0
    while not in_flight.done() and time.perf_counter() - started < seconds:
        took, status = await timed(small, smalls[k % len(smalls)])
        k += 1
        latencies.append(took)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    large_took, large_status = await in_flight
    big.close()
    small.close()
    return {"small_checks": latency_summary(latencies), "small_statuses": statuses,
            "large_status": large_status, "large_seconds": round(large_took, 1)}


class Tally:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {"check": [], "publish": []}
        self.statuses: dict[str, dict[str, int]] = {"check": {}, "publish": {}}
        self.acknowledged: dict[str, int] = {}  # published id -> metadata value

    def add(self, kind: str, took: float, status: Any) -> None:
        self.latencies[kind].append(took)
        self.statuses[kind][str(status)] = self.statuses[kind].get(str(status), 0) + 1


async def client(port: int, number: int, stop_at: float, checks: list[bytes], articles: list[str],
                 publish_every: int, tally: Tally) -> None:
    connection = RawConnection("127.0.0.1", port)
    rng = random.Random(number)
    k = 0
    while time.perf_counter() < stop_at:
        k += 1
        if rng.randrange(publish_every) == 0:
            doc_id = f"soak-{number}-{k}"
            took, status = await timed(connection, publish_request(doc_id, rng.choice(articles), {"soak": k}))
            tally.add("publish", took, status)
            if status == 200:
                tally.acknowledged[doc_id] = k
        else:
            took, status = await timed(connection, rng.choice(checks))
            tally.add("check", took, status)
    connection.close()


async def slow_client(port: int, stop_at: float, half_body: bool, outcomes: dict[str, int], waits: list[float]) -> None:
    """Send half a request and wait for the server to give up on it; again until the end."""
    while time.perf_counter() < stop_at:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError as err:
            outcomes[type(err).__name__] = outcomes.get(type(err).__name__, 0) + 1
            await asyncio.sleep(1)
            continue
        if half_body:
            writer.write(b"POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                         b"content-length: 5000\r\n\r\n{\"text\": \"half of a body")
        else:
            writer.write(b"POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: appl")
        started = time.perf_counter()
        try:
            answer = await asyncio.wait_for(reader.read(), timeout=120)
            outcome = answer.split(b"\r\n", 1)[0].decode("latin-1") or "closed without an answer"
        except (OSError, TimeoutError) as err:
            outcome = type(err).__name__
        waits.append(time.perf_counter() - started)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        writer.close()


async def large_client(port: int, stop_at: float, large: bytes, outcomes: dict[str, int]) -> None:
    connection = RawConnection("127.0.0.1", port)
    while time.perf_counter() < stop_at:
        took, status = await timed(connection, large)
        key = f"{status} after {'<10' if took < 10 else '10-30' if took < 30 else '>=30'} s"
        outcomes[key] = outcomes.get(key, 0) + 1
    connection.close()


async def soak(port: int, seconds: float, clients: int, checks: list[bytes], articles: list[str],
               publish_every: int, slow_clients: int, large: bytes) -> dict[str, Any]:
    tally = Tally()
    slow: dict[str, dict[str, int]] = {"headers": {}, "body": {}}
    slow_waits: list[float] = []
    large_outcomes: dict[str, int] = {}
    started = time.perf_counter()
    stop_at = started + seconds
    tasks = [client(port, c, stop_at, checks, articles, publish_every, tally) for c in range(clients)]
    tasks += [slow_client(port, stop_at, k % 2 == 1, slow["body" if k % 2 else "headers"], slow_waits)
              for k in range(2 * slow_clients)]
    tasks.append(large_client(port, stop_at, large, large_outcomes))
    finished: list[float] = []

    async def clocked(task: Any) -> None:
        await task
        finished.append(time.perf_counter())

    await asyncio.gather(*(clocked(t) for t in tasks[:clients]), *tasks[clients:])
    wall = max(finished) - started  # the clients' time (the large draft's last answer may come later)
    done = sum(len(v) for v in tally.latencies.values())
    return {"seconds": round(wall, 1), "requests": done, "requests_per_s": round(done / wall, 1),
            "check": {**latency_summary(tally.latencies["check"]), "statuses": tally.statuses["check"]},
            "publish": {**latency_summary(tally.latencies["publish"]), "statuses": tally.statuses["publish"]},
            "slow_headers": slow["headers"], "slow_body": slow["body"],
            "slow_wait_s": {"max": round(max(slow_waits), 1) if slow_waits else None,
                            "p50": round(percentile(slow_waits, 50) or 0, 1)},
            "large_draft": large_outcomes}, tally.acknowledged


def errors_of(result: dict[str, Any]) -> dict[str, int]:
    found = {}
    for kind in ("check", "publish"):
        for status, count in result[kind]["statuses"].items():
            if status not in ("200", "204", "503"):
                found[f"{kind} {status}"] = count
    return found


def lost_writes(index_path: Path, acknowledged: dict[str, int]) -> list[str]:
    with dedup.Index.open(index_path, create=False) as index:
        return [doc_id for doc_id, k in acknowledged.items() if index.store.metadata(doc_id) != {"soak": k}]


# --------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of the soak phase (default: 300)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--passages", type=int, default=20_000, help="archive size (default: 20000)")
    parser.add_argument("--drafts", type=int, default=100)
    parser.add_argument("--slow-clients", type=int, default=4, help="of each kind: half headers, half a body")
    parser.add_argument("--large-bytes", type=int, default=5_000_000)
    parser.add_argument("--large-seconds", type=float, default=60.0, help="limit of the large-draft phase")
    parser.add_argument("--publish-every", type=int, default=5, help="one request in N is a publish (default: 5)")
    parser.add_argument("--read-timeout", type=float, default=10.0)
    parser.add_argument("--server-args", default="", help="more `dedup serve` flags, one string")
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH")
    args = parser.parse_args()
    if not (REPO.parent / "shared" / "corpora").is_dir():
        sys.exit("soak_service.py needs ../shared/corpora (real articles) beside the checkout")

    with tempfile.TemporaryDirectory(prefix="dedup-soak-") as tmp:
        workdir = Path(tmp)
        index_path = workdir / "index.sqlite"
        docs, fresh = hold_out(corpus_documents(args.passages), args.drafts)
        with dedup.Index.open(index_path) as index:
            fill_index(index, docs, args.passages)
            archive = {"documents": len(index), "passages": index.stats()["passages"]}
            drafts = make_drafts(archived_sentences(index, docs), fresh, args.drafts)
        checks = [check_request(text, f"draft-{k}") for k, (text, _) in enumerate(drafts)]
        articles = [text for _, text in docs[-2000:]] + fresh  # publishing re-archives some: replacements too
        large = check_request(flood(args.large_bytes), "large-draft")
        port = free_port()
        extra = ["--read-timeout", str(args.read_timeout), *shlex.split(args.server_args)]
        process, log_path = start_server(workdir, index_path, port, args.workers, extra)
        try:
            ready_s = wait_ready(port, process)
            print(f"server ready in {ready_s:.1f} s; archive {archive}; large draft {len(large):,} bytes",
                  file=sys.stderr)
            phase_large = asyncio.run(large_beside_small(port, large, checks, args.large_seconds))
            print(f"large draft phase: {json.dumps(phase_large)}", file=sys.stderr)
            phase_soak, acknowledged = asyncio.run(soak(port, args.duration, args.clients, checks, articles,
                                                        args.publish_every, args.slow_clients, large))
            rss = sum(rss_bytes(pid) for pid in common.process_tree(process.pid))
        finally:
            common.stop_process(process)
        log_text = log_path.read_text(encoding="utf-8", errors="replace")
        problems = integrity.sqlite_problems(index_path, thorough=True)
        lost = lost_writes(index_path, acknowledged)
    errors = errors_of(phase_soak)
    result = {"environment": common.environment(),
              "settings": vars(args), "archive": archive, "large_draft_phase": phase_large, "soak": phase_soak,
              "server_rss_mib_at_end": round(rss / 2**20), "acknowledged_publishes": len(acknowledged),
              "lost_writes": len(lost), "integrity_problems": problems, "errors": errors,
              "tracebacks": log_text.count("Traceback")}
    print(json.dumps(result, indent=2))
    if args.json and args.json != "-":
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if errors or lost or problems or result["tracebacks"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
