"""``dedup serve`` under hostile clients and faults, on real uvicorn processes on loopback:
half-sent requests (header and body deadlines), piles of idle connections (the cap), a large
draft beside small checks (the lanes), the time budget (504), a full queue (503 with
Retry-After), a worker process killed mid-check, SIGKILL of the server (nothing left serving,
a restart on the same port works), and a damaged index (/readyz).

The large drafts are floods of short sentences from a 20-word vocabulary (every sentence a
near-duplicate candidate of many others): 9 MB of them keeps the engine busy for more than
twice the seconds these tests give it, even with the candidate budget that bounds a flood.
"""
from __future__ import annotations

import concurrent.futures
import os
import random
import signal
import socket
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install -e '.[test]')")
pytest.importorskip("uvicorn", reason="the server extra is not installed (pip install -e '.[test]')")
httpx = pytest.importorskip("httpx", reason="httpx is not installed (pip install -e '.[test]')")

from conftest import EN, FILLER  # noqa: E402
from dedup_server import TOKEN, dedup_server, free_port, start_server, stop_server, wait_ready  # noqa: E402

AUTH = {"authorization": f"Bearer {TOKEN}"}
READ_TIMEOUT = 2
BUDGET = 6
LARGE = 9_000_000  # characters of flood: about 10 s of engine time on this 2-core machine, well past BUDGET
GUARDED = ("--read-timeout", str(READ_TIMEOUT), "--time-budget", str(BUDGET), "--max-connections", "40",
           "--max-body-size", str(16 * 1024 * 1024),
           "--queue", "4", "--large-check", "20000", "--integrity-interval", "1", "--no-access-log")
FLOOD_WORDS = "the cat dog ran sat on a mat park city river bank old new red blue big small fast slow".split()


def flood(size: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    total = 0
    while total < size:
        sentence = " ".join(rng.choice(FLOOD_WORDS) for _ in range(rng.randint(6, 9))).capitalize() + "."
        out.append(sentence)
        total += len(sentence) + 1
    return " ".join(out)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory):
    with dedup_server(tmp_path_factory.mktemp("guarded"), *GUARDED) as (url, log):
        yield url, log
    assert "Traceback" not in log.read_text(encoding="utf-8"), "the server logged an unexpected error"


def small_check(url: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/check", json={"text": f"{EN[0]} {FILLER[0]} {EN[0]}", "options": {"archive": False}},
                      timeout=30)


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=15)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset is a close too: the
    server closed with bytes of ours unread)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


# --- deadlines and the connection cap ----------------------------------------------------

def test_half_sent_headers_get_408_and_are_closed(guarded):
    url, _ = guarded
    with connect(url) as sock:
        sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n")  # no blank line
        started = time.monotonic()
        answer = read_all(sock)  # returns once the server closes
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ") and b"did not arrive in time" in answer
    assert READ_TIMEOUT - 0.5 <= waited < READ_TIMEOUT + 5  # not at once, and not much later


def test_a_trickle_of_header_bytes_does_not_keep_a_connection_open(guarded):
    url, _ = guarded
    with connect(url) as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n")
        sock.settimeout(0.25)
        started = time.monotonic()
        answer = None
        while answer is None and time.monotonic() - started < READ_TIMEOUT + 5:
            try:
                sock.sendall(b"x-slow: 1\r\n")  # one more header every quarter second, never the end
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                answer = b""
    assert answer is not None and (answer == b"" or answer.startswith(b"HTTP/1.1 408 "))


def test_a_silent_connection_is_closed(guarded):
    url, _ = guarded
    with connect(url) as sock:
        started = time.monotonic()
        assert read_all(sock) == b""  # nothing sent, nothing answered: just closed
        assert time.monotonic() - started < READ_TIMEOUT + 5


def test_half_sent_body_gets_408(guarded):
    url, _ = guarded
    with connect(url) as sock:
        sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
                     b"content-length: 1000\r\n\r\n{\"text\": \"only part of")
        answer = read_all(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ") and b"connection: close" in head.lower()
    assert b"did not arrive within" in body


def test_idle_half_open_connections_do_not_pile_up(guarded):
    """300 connections that send half a request (over the cap of 40): the server keeps at most
    40, closes the rest, still answers a real client at once, and closes every one of them
    within the header deadline."""
    url, _ = guarded
    socks = []
    try:
        for _ in range(300):
            sock = connect(url)
            sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\n")
            socks.append(sock)
        assert small_check(url).status_code == 200  # a newcomer evicts the longest waiter
        started = time.monotonic()
        for sock in socks:
            sock.settimeout(READ_TIMEOUT + 10)
            data = read_all(sock)  # each is closed (408, or 503 when refused at the cap)
            assert data == b"" or data.startswith((b"HTTP/1.1 408 ", b"HTTP/1.1 503 "))
        assert time.monotonic() - started < READ_TIMEOUT + 10
    finally:
        for sock in socks:
            sock.close()
    assert small_check(url).status_code == 200


# --- the lanes, the budget and the queue ------------------------------------------------

def test_small_checks_are_answered_while_a_large_draft_is_checked(guarded):
    url, _ = guarded
    large = flood(LARGE)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(httpx.post, f"{url}/v1/check",
                                json={"text": large, "options": {"archive": False}}, timeout=60)
        time.sleep(0.5)  # the large draft reaches its worker
        for _ in range(20):
            assert small_check(url).status_code == 200
            assert not in_flight.done(), "the large draft finished first: it did not hold its worker"
        answer = in_flight.result()
    assert answer.status_code in (200, 504), answer.text  # 504: the budget stopped it


def test_a_check_past_the_time_budget_is_504_and_the_server_goes_on(guarded):
    url, log = guarded
    answer = httpx.post(f"{url}/v1/check", json={"text": flood(LARGE, seed=2), "options": {"archive": False}},
                        timeout=60)
    assert answer.status_code == 504, answer.text
    message = answer.json()["message"]
    assert f"time budget of {BUDGET} s" in message and "smaller" in message
    assert small_check(url).status_code == 200
    # the large lane has a fresh worker: a medium draft (over --large-check) is checked in it
    medium = f"{EN[1]} " * 2 + flood(25_000, seed=3)
    again = httpx.post(f"{url}/v1/check", json={"text": medium, "options": {"archive": False}}, timeout=60)
    assert again.status_code == 200, again.text
    assert "ran past the time budget" in log.read_text(encoding="utf-8")


def test_a_full_queue_is_503_with_retry_after(guarded):
    """The large lane has one process and room for one waiting request: of three large drafts
    sent at once, the one that finds both taken is refused at once."""
    url, _ = guarded
    body = {"text": flood(LARGE, seed=4), "options": {"archive": False}}

    def timed_check() -> tuple[httpx.Response, float]:
        started = time.monotonic()
        answer = httpx.post(f"{url}/v1/check", json=body, timeout=60)
        return answer, time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        sent = [pool.submit(timed_check) for _ in range(3)]
        time.sleep(1.0)
        assert small_check(url).status_code == 200  # the small lane is not affected
        answers = [future.result() for future in sent]
    refused = [(answer, seconds) for answer, seconds in answers if answer.status_code == 503]
    # one is refused at once, not after waiting for the lane (the waiting one may also be
    # refused, when its budget ends in the queue)
    assert any(seconds < BUDGET for _, seconds in refused), [(a.status_code, round(t, 1)) for a, t in answers]
    for answer, _ in refused:
        assert int(answer.headers["retry-after"]) >= 1 and "busy" in answer.json()["message"]
    assert {answer.status_code for answer, _ in answers} <= {200, 503, 504}


# --- processes ------------------------------------------------------------------------------

def children(pid: int) -> set[int]:
    """Every descendant of `pid` (from /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in map(int, kids):
            found |= {kid} | children(kid)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")


@needs_proc
def test_a_worker_killed_mid_check_is_500_and_replaced(tmp_path):
    port = free_port()
    process, log = start_server(tmp_path, "--time-budget", "60", "--large-check", "20000",
                                "--max-body-size", str(16 * 1024 * 1024), port=port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log)
        before = children(process.pid)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(httpx.post, f"{url}/v1/check",
                                    json={"text": flood(LARGE, seed=5), "options": {"archive": False}}, timeout=60)
            time.sleep(2.0)
            busy = max(before, key=lambda pid: _cpu_ticks(pid))  # the engine process checking the flood
            os.kill(busy, signal.SIGKILL)
            answer = in_flight.result()
        assert answer.status_code == 500 and answer.json() == {"message": "internal server error"}
        assert small_check(url).status_code == 200
        text = log.read_text(encoding="utf-8")
        assert "worker process died" in text
    finally:
        stop_server(process)


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])


@needs_proc
@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_of_the_server_leaves_nothing_serving_and_a_restart_works(tmp_path, workers):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process, log = start_server(tmp_path, "--workers", str(workers), port=port)
    try:
        wait_ready(url, process, log)
        assert httpx.put(f"{url}/v1/archive/kept", json={"text": EN[2]}, headers=AUTH, timeout=30).status_code == 200
        descendants = children(process.pid)
        assert len(descendants) >= 2 * workers  # engine processes (and uvicorn's workers)
        process.kill()
        process.wait()
        deadline = time.monotonic() + 15
        while (port_open(port) or any(alive(pid) for pid in descendants)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not port_open(port), "something still serves on the port after SIGKILL of the server"
        assert not [pid for pid in descendants if alive(pid)], "processes outlived the server"
    finally:
        if process.poll() is None:
            stop_server(process)
    again, log2 = start_server(tmp_path, "--workers", str(workers), port=port, log_name="restart.log")
    try:
        wait_ready(url, again, log2)
        report = httpx.post(f"{url}/v1/check", json={"text": EN[2]}, timeout=30).json()
        assert [f["match"]["doc"] for f in report["findings"]] == ["kept"]
    finally:
        stop_server(again)


# --- readiness --------------------------------------------------------------------------------

def test_readyz_fails_when_the_index_is_damaged(tmp_path):
    from dedup.archive.index import Index

    index_path = tmp_path / "damaged.sqlite"
    with Index.open(index_path) as index:
        for k in range(300):
            index.add(f"doc-{k}", f"{EN[k % 6]} Story number {k} of the archive. {FILLER[k % 3]} "
                                  f"{' '.join(random.Random(k).sample(FLOOD_WORDS, 12))}.")
    with dedup_server(tmp_path / "serve", "--integrity-interval", "1", index=str(index_path)) as (url, _):
        assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
        size = index_path.stat().st_size
        with open(index_path, "r+b") as damaged:  # garbage over pages in the middle of the file
            damaged.seek(size // 3 // 4096 * 4096)
            damaged.write(random.Random(7).randbytes(3 * 4096))
        deadline = time.monotonic() + 15
        while (ready := httpx.get(f"{url}/readyz")).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert ready.status_code == 503, ready.text
        assert ready.json()["status"] == "failed" and "integrity check" in ready.json()["error"]
        assert httpx.get(f"{url}/livez").status_code == 200
