"""A throw-away local Ray cluster for tests and benchmarks: one head node, N CPUs, no dashboard.

`ray_head(num_cpus=2)` runs ``ray start --head`` with its own short temporary directory and a
free GCS port and yields a `RayHead` (its ``address`` is what ``ray.init(address=...)`` and
``dedup scan --engine ray --address`` take). On the way out it stops THAT cluster's processes
by their ids (those whose command line names its temporary directory, and their descendants,
the workers): ``ray stop`` would end every Ray cluster of the user on the machine.

The workers a raylet starts inherit the environment of ``ray start``: give `env` a PYTHONPATH
naming a checkout to make them import that checkout's ``dedup`` (else they import whatever
``dedup`` the interpreter has installed). ``ray start`` runs in the cluster's temporary
directory: a worker puts the directory the cluster was started from first on its sys.path, so a
cluster started from a checkout would make every worker import that checkout's ``dedup``,
whatever PYTHONPATH a job's runtime_env gives.

Authentication is set explicitly, never left to Ray's guess: Ray 2.5x turns token
authentication on by itself when ``~/.ray/auth_token`` exists (any ``ray.init()`` that starts a
local cluster writes one), and a client that does not then send the token is refused. So the
cluster gets its own random token (``RAY_AUTH_MODE=token``, ``RAY_AUTH_TOKEN``), and every
client of it, in this process or a child, needs `RayHead.client_env` in its environment BEFORE
it imports ray (Ray reads them once, on import).
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_S = 60.0
STOP_GRACE_S = 3.0  # gcs_server and the autoscaler monitor can sit on SIGTERM for 15 s and more
DEFAULT_OBJECT_STORE_BYTES = 256 * 2**20  # Ray's default is 30% of RAM, in /dev/shm
_ADDRESS = re.compile(r"ray start --address='([^']+)'")


@dataclass
class RayHead:
    """A running head node: its GCS address, its temporary directory, and what starting it took."""

    address: str
    temp_dir: Path
    num_cpus: int
    start_s: float
    token: str = field(repr=False, default="")
    log: str = field(repr=False, default="")

    @property
    def client_env(self) -> dict[str, str]:
        """What a client (``ray.init(address=...)``, ``dedup scan --engine ray``) needs in its
        environment to be let in."""
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.token}

    def pids(self) -> list[int]:
        """The cluster's processes now: those naming its temporary directory, and descendants."""
        return cluster_pids(self.temp_dir)


def ray_importable() -> str | None:
    """None when ray is installed here, else why not. Ray is not imported: it reads its
    authentication settings from the environment once, as it is imported, so a process must
    not import it before it has `RayHead.client_env` in its environment."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        return "ray is not installed; pip install -e '.[ray]'"
    return None


def ray_command() -> list[str]:
    """The ``ray`` command of this interpreter's environment."""
    beside = Path(sys.executable).parent / "ray"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ray")
    return [found] if found else [sys.executable, "-m", "ray.scripts.scripts"]


@contextmanager
def ray_head(num_cpus: int = 2, env: dict[str, str] | None = None,
             object_store_bytes: int | None = DEFAULT_OBJECT_STORE_BYTES) -> Iterator[RayHead]:
    """Start a head node of `num_cpus` CPUs (and no GPU) for the duration of the block.

    `object_store_bytes`: the shared-memory object store's size (None: Ray's default, 30% of
    RAM). Raises RuntimeError, with the tail of Ray's output, when it does not start."""
    temp_dir = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Unix socket paths are <= 107 bytes
    cmd = ray_command() + ["start", "--head", f"--num-cpus={num_cpus}", "--num-gpus=0", "--include-dashboard=false",
                           "--disable-usage-stats", "--port=0", "--node-ip-address=127.0.0.1",
                           f"--temp-dir={temp_dir}"]
    if object_store_bytes is not None:
        cmd.append(f"--object-store-memory={object_store_bytes}")
    token = secrets.token_hex(32)
    child_env = dict(os.environ if env is None else env, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token",
                     RAY_AUTH_TOKEN=token)
    child_env.pop("RAY_AUTH_TOKEN_PATH", None)
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=child_env, capture_output=True, text=True, timeout=START_TIMEOUT_S,
                              check=False, stdin=subprocess.DEVNULL, cwd=temp_dir)
        output = proc.stdout + proc.stderr
        found = _ADDRESS.search(output)
        if proc.returncode != 0 or not found:
            raise RuntimeError(f"ray start exited {proc.returncode} without an address:\n{output[-3000:]}")
        head = RayHead(address=found.group(1), temp_dir=temp_dir, num_cpus=num_cpus,
                       start_s=time.perf_counter() - started, token=token, log=output)
    except BaseException:
        stop_cluster(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    try:
        yield head
    finally:
        stop_cluster(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


def cluster_pids(temp_dir: Path) -> list[int]:
    """Processes whose command line names `temp_dir` (the GCS server, the raylet, Ray's Python
    components), and all their descendants (workers and agents, which rename themselves)."""
    mark = str(temp_dir).encode()
    me = os.getpid()
    roots, children = [], {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                line = fh.read()
            with open(f"/proc/{entry}/stat", "rb") as fh:
                ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        if mark in line:
            roots.append(int(entry))
    found, stack = [], list(roots)
    while stack:
        pid = stack.pop()
        if pid not in found:
            found.append(pid)
            stack.extend(children.get(pid, []))
    return found


def stop_cluster(temp_dir: Path, grace: float = STOP_GRACE_S) -> None:
    """SIGTERM the cluster's processes, then SIGKILL those left after `grace` seconds. A process
    seen once is followed by its id and start time (a worker whose raylet ended first is no
    longer a descendant of anything that names `temp_dir`)."""
    seen = {pid: _start_time(pid) for pid in cluster_pids(temp_dir)}
    _signal(seen, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        for pid in cluster_pids(temp_dir):
            if pid not in seen:
                seen[pid] = _start_time(pid)
                _signal({pid: seen[pid]}, signal.SIGTERM)
        if not any(_start_time(pid) == started for pid, started in seen.items()):
            return
        time.sleep(0.1)
    _signal(seen, signal.SIGKILL)


def _signal(processes: dict[int, int | None], sig: int) -> None:
    """Send `sig` to each process still running with the start time recorded for it."""
    for pid, started in processes.items():
        if started is None or _start_time(pid) != started:
            continue
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            continue


def _start_time(pid: int) -> int | None:
    """The process's start time (clock ticks after boot), or None when it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    if len(fields) < 20 or fields[0] == b"Z":
        return None
    return int(fields[19])
