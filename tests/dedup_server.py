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

from conftest import dedup_command

TOKEN = "test-token-5d1f"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dedup_server(workdir: Path, *extra: str, token: str | None = TOKEN,
                 index: str | None = None) -> Iterator[tuple[str, Path]]:
    """`dedup serve` in `workdir` (its log there, and its index unless `index` names one); yields (base URL, log path) once
    /readyz answers 200, and stops the server (SIGTERM, then SIGKILL) afterwards."""
    import httpx

    workdir.mkdir(parents=True, exist_ok=True)
    args = [*dedup_command(), "serve", "--isolated", "--port", str(port := free_port()),
            "--index", index or str(workdir / "index.sqlite"), *extra]
    if token is not None:
        (workdir / "token").write_text(token + "\n", encoding="utf-8")
        args += ["--token-file", str(workdir / "token")]
    log_path = workdir / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "DEDUP_TOKEN"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"dedup serve exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"dedup serve was not ready within 30 s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield url, log_path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
