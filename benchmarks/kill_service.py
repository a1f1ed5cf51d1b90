"""Kill campaign against ``dedup serve``: SIGKILL of the server at random moments while clients
publish, then: nothing left running or serving, no acknowledged write lost, the index whole.

For each of --rounds rounds, on one SQLite index file and one port:

1. ``python -m dedup serve`` (this checkout's code, --workers N) is started on the port (the
   previous round's server was SIGKILLed: the restart must bind the same port) and the script
   waits for /readyz;
2. --publishers clients publish (PUT /v1/archive/kill-R-C-K with metadata {"round", "k"}),
   each as soon as its last publish is answered, a held-out real article each time (or a
   synthetic one without ../shared), and note every publish answered 200;
3. after a random delay (uniform in --min-delay..--max-delay seconds) the server's process is
   sent SIGKILL, with publishes in flight;
4. within 15 s every process the server had started (uvicorn's workers, the engine processes)
   must be gone and the port closed;
5. the index file must pass the thorough integrity check (`dedup.archive.integrity`: SQLite's
   integrity_check, the format marker, foreign keys, band keys, hash counts), open as an
   index, and hold every acknowledged publish with its metadata (publishes in flight at the
   kill may be there or not: both are counted).

Prints one line per round and a summary; exits 1 when any round lost a write, failed the
check, or left something running.

    python benchmarks/kill_service.py [--rounds 20] [--workers 1] [--publishers 4]
                                      [--min-delay 0.5] [--max-delay 4] [--seed 14] [--json [PATH]]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from bench_service import RawConnection  # noqa: E402
from soak_service import REPO, flood, free_port, publish_request, start_server, wait_ready  # noqa: E402

import dedup  # noqa: E402
from dedup.archive import integrity  # noqa: E402


def articles(count: int) -> list[str]:
    """Real articles of ../shared when present, else synthetic text (flood sentences)."""
    if (REPO.parent / "shared" / "corpora").is_dir():
        from bench_archive import corpus_documents
        docs = corpus_documents(20_000)
        return [text for _, text in docs[:count]]
    return [flood(3000, seed=k) for k in range(count)]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def port_open(port: int) -> bool:
    import socket
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def publish_until_killed(port: int, round_number: int, publishers: int, texts: list[str],
                               kill_after: float, kill: Any) -> tuple[dict[str, dict], int]:
    """Publish from `publishers` connections; SIGKILL after `kill_after` s. Returns the
    acknowledged ids (with their metadata) and how many publishes were in flight at the kill."""
    acknowledged: dict[str, dict] = {}
    in_flight = 0
    killed = asyncio.Event()

    async def publisher(c: int) -> None:
        nonlocal in_flight
        connection = RawConnection("127.0.0.1", port)
        rng = random.Random(round_number * 1000 + c)
        k = 0
        while not killed.is_set():
            k += 1
            doc_id = f"kill-{round_number}-{c}-{k}"
            metadata = {"round": round_number, "k": k}
            in_flight += 1
            try:
                status, _ = await connection.post(publish_request(doc_id, rng.choice(texts), metadata))
            except (OSError, asyncio.IncompleteReadError, ValueError):
                break  # the server is gone: this publish was not acknowledged
            finally:
                in_flight -= 1
            if status == 200:
                acknowledged[doc_id] = metadata
        connection.close()

    async def killer() -> int:
        await asyncio.sleep(kill_after)
        pending = in_flight
        kill()
        killed.set()
        return pending

    tasks = [asyncio.create_task(publisher(c)) for c in range(publishers)]
    pending = await killer()
    await asyncio.gather(*tasks)
    return acknowledged, pending


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--min-delay", type=float, default=0.5)
    parser.add_argument("--max-delay", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    texts = articles(500)
    rounds: list[dict[str, Any]] = []
    all_acknowledged: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="dedup-kill-") as tmp:
        workdir = Path(tmp)
        index_path = workdir / "index.sqlite"
        port = free_port()
        for number in range(1, args.rounds + 1):
            process, _ = start_server(workdir, index_path, port, args.workers, [])
            try:
                ready_s = wait_ready(port, process)
            except RuntimeError as err:
                rounds.append({"round": number, "restart_failed": str(err)})
                process.kill()
                break
            started = common.process_tree(process.pid)[1:]
            delay = rng.uniform(args.min_delay, args.max_delay)

            def kill() -> None:
                process.kill()
            acknowledged, pending = asyncio.run(
                publish_until_killed(port, number, args.publishers, texts, delay, kill))
            process.wait()
            deadline = time.monotonic() + 15
            while (port_open(port) or any(alive(p) for p in started)) and time.monotonic() < deadline:
                time.sleep(0.05)
            left = [p for p in started if alive(p)]
            all_acknowledged.update(acknowledged)
            problems = integrity.sqlite_problems(index_path, thorough=True)
            with dedup.Index.open(index_path, create=False) as index:
                lost = [d for d, meta in all_acknowledged.items() if index.store.metadata(d) != meta]
                documents = len(index)
            row = {"round": number, "ready_s": round(ready_s, 1), "killed_after_s": round(delay, 2),
                   "acknowledged": len(acknowledged), "in_flight_at_kill": pending, "lost": len(lost),
                   "documents": documents, "integrity": problems or "ok", "port_closed": not port_open(port),
                   "left_running": left}
            rounds.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    complete = [r for r in rounds if "lost" in r]
    summary = {"environment": common.environment(), "settings": vars(args), "rounds": len(complete),
               "restarts_failed": len(rounds) - len(complete),
               "acknowledged_writes": len(all_acknowledged), "lost_writes": sum(r["lost"] for r in complete),
               "integrity_failures": sum(r["integrity"] != "ok" for r in complete),
               "left_running": sum(len(r["left_running"]) for r in complete),
               "port_left_open": sum(not r["port_closed"] for r in complete), "per_round": rounds}
    print(json.dumps(summary, indent=2))
    if args.json and args.json != "-":
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    bad = (summary["lost_writes"] or summary["integrity_failures"] or summary["left_running"]
           or summary["port_left_open"] or summary["restarts_failed"] or len(complete) < args.rounds)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
