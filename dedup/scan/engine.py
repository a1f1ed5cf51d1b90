"""Executors: what runs the scan's stage functions, task by task.

The stages (`dedup.scan.stages`) are plain functions of small, picklable arguments that read
and write the scan folder; an engine only maps them over tasks and hands back their (small)
results in task order. `LocalEngine` runs them in worker processes on this machine's cores;
`RayEngine` runs them as Ray tasks, on a running cluster (`address`) or a local one. The work
folder must be reachable at the same path from every worker (a shared filesystem on a cluster).
"""
from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Protocol, Sequence

from ..exits import UsageError

ENGINES = ("local", "ray")


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """``fn(*args)`` and the CPU seconds its process spent on it (what each stage costs,
    whichever engine ran it)."""
    started = time.process_time()
    result = fn(*args)
    return result, time.process_time() - started


class Engine(Protocol):
    name: str
    workers: int
    cpu_seconds: float

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``[fn(*task) for task in tasks]``, run in parallel, results in task order."""

    def close(self) -> None:
        ...


class LocalEngine:
    """Worker processes on this machine (forked, so they start at once with the engine's code)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.cpu_seconds = 0.0  # CPU time of the tasks run so far
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
        if self.workers == 1 or len(tasks) <= 1:  # in this process: the driver's own CPU time counts it
            done = [(fn(*task), 0.0) for task in tasks]
        else:
            if self._pool is None:
                method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
                self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method))
            futures = [self._pool.submit(timed, fn, *task) for task in tasks]
            done = [f.result() for f in futures]
        self.cpu_seconds += sum(cpu for _, cpu in done)
        return [result for result, _ in done]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class RayEngine:
    """Ray tasks, one per scan task, on the cluster at `address` (None: start a local one)."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise UsageError("--engine ray needs Ray: pip install 'dedup-prose[ray]'") from None
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            env = {"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}}
            kwargs: dict[str, Any] = {"runtime_env": env, "include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if address:
                kwargs["address"] = address
            elif workers:
                kwargs["num_cpus"] = workers
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as err:
                hint = (" (a cluster with token authentication needs its token in RAY_AUTH_TOKEN)"
                        if "token" in str(err).lower() else "")
                raise UsageError(f"--engine ray: cannot join the Ray cluster at {address or 'a new local one'}: "
                                 f"{' '.join(str(err).split())[:300]}{hint}") from None
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.cpu_seconds = 0.0
        self._remote: Any = None

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
        if self._remote is None:
            self._remote = self._ray.remote(num_cpus=1, max_retries=2)(timed)
        done = self._ray.get([self._remote.remote(fn, *task) for task in tasks])
        self.cpu_seconds += sum(cpu for _, cpu in done)
        return [result for result, _ in done]

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()


def make_engine(name: str, address: str | None = None, workers: int | None = None) -> Engine:
    if name == "local":
        if address:
            raise UsageError("--address is for --engine ray")
        return LocalEngine(workers)
    if name == "ray":
        return RayEngine(address, workers)
    raise UsageError(f"unknown engine {name!r} (choose from {', '.join(ENGINES)})")
