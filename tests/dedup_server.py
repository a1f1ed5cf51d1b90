"""Run ``dedup serve`` as a real uvicorn process on loopback for the service tests."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

from conftest import REPO, dedup_command

TOKEN = "test-token-5d1f"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workdir: Path, *extra: str, port: int, token: str | None = TOKEN,
                 index: str | None = None, log_name: str = "server.log") -> tuple[subprocess.Popen, Path]:
    """Start `dedup serve` (this checkout's code) in `workdir` on `port`; returns (process, log path)."""
    workdir.mkdir(parents=True, exist_ok=True)
    args = [*dedup_command(), "serve", "--isolated", "--port", str(port),
            "--index", index or str(workdir / "index.sqlite"), *extra]
    if token is not None:
        (workdir / "token").write_text(token + "\n", encoding="utf-8")
        args += ["--token-file", str(workdir / "token")]
    log_path = workdir / log_name
    env = {k: v for k, v in os.environ.items() if k != "DEDUP_TOKEN"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    with open(log_path, "ab") as log:
        process = subprocess.Popen(args, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
    return process, log_path


def wait_ready(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    """Wait until GET /readyz answers 200 (raise if the server exits or is not ready in time)."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"dedup serve exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"dedup serve was not ready within {timeout:g} s:\n{log_path.read_text()}")
        time.sleep(0.1)


def stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def dedup_server(workdir: Path, *extra: str, token: str | None = TOKEN,
                 index: str | None = None) -> Iterator[tuple[str, Path]]:
    """`dedup serve` in `workdir` (its log there, and its index unless `index` names one); yields (base URL, log path) once
    /readyz answers 200, and stops the server (SIGTERM, then SIGKILL) afterwards."""
    port = free_port()
    process, log_path = start_server(workdir, *extra, port=port, token=token, index=index)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log_path)
        yield url, log_path
    finally:
        stop_server(process)
