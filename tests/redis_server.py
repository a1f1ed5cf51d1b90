"""A throw-away redis-server for tests: loopback only, a free port, no persistence.

`redis_server(workdir)` starts one from PATH (or /usr/bin/redis-server) and yields its URL;
`find_redis_server()` says whether one is installed. CI starts its own (`.ci/run`) and passes
it in DEDUP_TEST_REDIS_URL, which the tests prefer.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FALLBACK_BINARY = Path("/usr/bin/redis-server")
READY_TIMEOUT_S = 10.0
START_ATTEMPTS = 3  # a free port can be taken between choosing it and binding it


def find_redis_server() -> str | None:
    """The redis-server binary, or None."""
    found = shutil.which("redis-server")
    if found:
        return found
    return str(FALLBACK_BINARY) if FALLBACK_BINARY.is_file() else None


def free_port() -> int:
    """A loopback TCP port nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(workdir: Path, binary: str | None = None) -> Iterator[str]:
    """Run a redis-server in `workdir` for the duration; yields ``redis://127.0.0.1:PORT/0``."""
    binary = binary or find_redis_server()
    if binary is None:
        raise FileNotFoundError("redis-server not found on PATH or at /usr/bin/redis-server")
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        process = _start(binary, port, workdir)
        try:
            if _wait_until_ready(process, port):
                yield f"redis://127.0.0.1:{port}/0"
                return
        finally:
            _stop(process)
        if attempt == START_ATTEMPTS:
            log = (workdir / "redis.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"redis-server did not start on 127.0.0.1:{port}:\n{log}")


def _start(binary: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    log = open(workdir / "redis.log", "ab")
    with log:
        return subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(workdir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _wait_until_ready(process: subprocess.Popen[bytes], port: int) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        if answers_ping(port):
            return True
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
