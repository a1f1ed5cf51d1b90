"""Engine work in worker processes: lanes, a bounded queue and a time budget per request.

The engine is CPU-bound Python and numpy: run on threads of the server's process, one large
draft would hold the GIL (and the only engine slot) while small checks wait. `EnginePool` runs
each job in a worker process instead, in one of two lanes, each with its own processes and its
own bounded queue:

- the "small" lane for ordinary requests,
- the "large" lane for requests over a size threshold (the caller picks the lane),

so a 5 MB draft occupies the large lane's process while small checks go on in theirs, and the
server's event loop never runs the engine. A lane with every process busy and its queue full
refuses the job at once (`Busy`: the service answers 503 with Retry-After). A job that runs past
its time budget has its process killed and replaced (`OverBudget`: 504); a job still waiting for
a process when its budget ends is `Busy`. A process that dies or raises is replaced and the job
fails with `WorkerFailed` (500, the traceback in the server's log).

Worker processes are started with ``spawn`` from the event loop's thread and die with their
parent (`lifeline.die_with_parent`). Each keeps a state object made once by the picklable
`make_state` (the service's open index); a job is a picklable function called as
``job(state, *args)`` whose result is sent back pickled.

With ``processes=False`` the jobs run on threads of this process instead (for embedding the
application in a test client or another server): the lanes, queues and budgets are the same,
but a job past its budget can only be abandoned, not stopped.
"""
from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import anyio
import anyio.to_thread

from .lifeline import die_with_parent

log = logging.getLogger("dedup.service")
_SPAWN = multiprocessing.get_context("spawn")
Job = Callable[..., Any]


class Busy(Exception):
    """No process of the lane is free and its queue is full, or the budget ended in the queue."""

    def __init__(self, lane: str, retry_after: int) -> None:
        super().__init__(f"the server is busy ({lane} checks); retry in {retry_after} s")
        self.retry_after = retry_after


class OverBudget(Exception):
    """The job ran past the time budget; its process was stopped."""

    def __init__(self, budget: float) -> None:
        super().__init__(f"the request ran past the server's time budget of {budget:g} s and was stopped; "
                         f"send a smaller text, or check it with the dedup command line")
        self.budget = budget


class WorkerFailed(Exception):
    """The job raised an unexpected error, or its process died (details in the server log)."""


@dataclass(frozen=True)
class LaneSpec:
    name: str
    processes: int
    queue: int  # jobs that may wait for a free process; more are refused (Busy)


def _worker_main(connection: Any, make_state: Callable[[], Any], parent_pid: int) -> None:
    """A worker process: receive (job, args), answer ("ok", result) or ("crashed", traceback)."""
    die_with_parent(parent_pid, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    state = make_state()
    connection.send(("ready", None))
    while True:
        try:
            job, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            outcome: tuple[str, Any] = ("ok", job(state, *args))
        except Exception:  # noqa: BLE001 - reported to the parent, which logs it and answers 500
            outcome = ("crashed", traceback.format_exc())
        try:
            connection.send(outcome)
        except (EOFError, OSError):
            return
        except Exception:  # noqa: BLE001 - a result that cannot be pickled
            connection.send(("crashed", traceback.format_exc()))


class _Process:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, name: str, make_state: Callable[[], Any]) -> None:
        parent_end, child_end = _SPAWN.Pipe()
        self.process = _SPAWN.Process(target=_worker_main, args=(child_end, make_state, os.getpid()),
                                      name=name, daemon=True)
        self.process.start()
        child_end.close()
        self.connection = parent_end
        self.ready = False  # the worker has made its state and said so

    def is_ready(self) -> bool:
        """Whether the worker is up (for an idle worker only: a busy one's pipe is a thread's)."""
        if not self.ready and self.connection.poll(0):
            self.connection.recv()
            self.ready = True
        return self.ready

    def call(self, job: Job, args: tuple[Any, ...]) -> tuple[str, Any]:
        """Send the job and wait for its outcome (on a thread: this blocks)."""
        if not self.ready:
            self.connection.recv()  # the worker's "ready"
            self.ready = True
        self.connection.send((job, args))
        return self.connection.recv()

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.connection.close()


class _InlineProcess:
    """A stand-in for a worker process: runs the job on the calling thread, on a shared state."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def is_ready(self) -> bool:
        return True

    def call(self, job: Job, args: tuple[Any, ...]) -> tuple[str, Any]:
        try:
            return "ok", job(self.state, *args)
        except Exception:  # noqa: BLE001 - as a worker process would report it
            return "crashed", traceback.format_exc()

    def stop(self) -> None:
        pass


class _Lane:
    def __init__(self, spec: LaneSpec, start: Callable[[str], Any]) -> None:
        self.spec = spec
        self._start = start
        self._idle = [start(f"dedup-{spec.name}-{k}") for k in range(spec.processes)]
        self._members = list(self._idle)  # idle or busy
        self._free = anyio.Semaphore(spec.processes)
        self._threads = anyio.CapacityLimiter(2 * spec.processes)  # a stopped job's thread may linger briefly
        self._waiting = 0
        self._started = spec.processes

    async def run(self, job: Job, args: tuple[Any, ...], budget: float) -> Any:
        deadline = anyio.current_time() + budget
        if self._free.value == 0 and self._waiting >= self.spec.queue:
            raise Busy(self.spec.name, self._retry_after(budget))
        self._waiting += 1
        try:
            with anyio.move_on_after(budget) as queued:
                await self._free.acquire()
        finally:
            self._waiting -= 1
        if queued.cancelled_caught:
            raise Busy(self.spec.name, self._retry_after(budget))
        worker = self._idle.pop()
        try:
            outcome = await self._call(worker, job, args, deadline - anyio.current_time(), budget)
        except BaseException:
            worker = self._replace(worker)  # stopped mid-job (budget, cancelled, died): never reused
            raise
        finally:
            self._idle.append(worker)
            self._free.release()
        status, value = outcome
        if status == "crashed":
            log.error("a %s job failed in a worker process:\n%s", self.spec.name, value)
            raise WorkerFailed("internal error")
        return value

    async def _call(self, worker: Any, job: Job, args: tuple[Any, ...], remaining: float, budget: float) -> Any:
        with anyio.move_on_after(max(remaining, 0.0)) as running:
            try:
                return await anyio.to_thread.run_sync(worker.call, job, args, abandon_on_cancel=True,
                                                      limiter=self._threads)
            except (EOFError, OSError) as err:
                log.error("a %s worker process died during a job (%s)", self.spec.name, err)
                raise WorkerFailed("worker process died") from None
        assert running.cancelled_caught
        log.warning("a %s job ran past the time budget of %g s; its process was stopped", self.spec.name, budget)
        raise OverBudget(budget)

    def _replace(self, worker: Any) -> Any:
        worker.stop()
        self._started += 1
        fresh = self._start(f"dedup-{self.spec.name}-{self._started}")
        self._members = [fresh if member is worker else member for member in self._members]
        return fresh

    def _retry_after(self, budget: float) -> int:
        return max(1, min(math.ceil(budget), 1 + self._waiting // max(self.spec.processes, 1)))

    def stop(self) -> None:
        for worker in self._members:
            worker.stop()

    def pids(self) -> list[int]:
        return [pid for w in self._members if isinstance(w, _Process) and (pid := w.process.pid) is not None]

    def ready(self) -> bool:
        """Every idle process is up (busy ones are answering)."""
        return all(worker.is_ready() for worker in self._idle)


class EnginePool:
    """Lanes of worker processes (or threads) that run engine jobs; see the module docstring.

    `start` and `run` must be called from the event loop's thread (processes started there die
    with it); `stop` ends every process."""

    def __init__(self, lanes: list[LaneSpec], make_state: Callable[[], Any], budget: float,
                 processes: bool = True) -> None:
        self._specs = lanes
        self._make_state = make_state
        self.budget = budget
        self.processes = processes
        self._lanes: dict[str, _Lane] = {}

    def start(self) -> None:
        if self.processes:
            def start(name: str) -> Any:
                return _Process(name, self._make_state)
        else:
            state = self._make_state()

            def start(name: str) -> Any:
                return _InlineProcess(state)
        self._lanes = {spec.name: _Lane(spec, start) for spec in self._specs}

    async def run(self, lane: str, job: Job, *args: Any) -> Any:
        """`job(state, *args)` in a process of `lane`; raises Busy, OverBudget or WorkerFailed."""
        return await self._lanes[lane].run(job, args, self.budget)

    def stop(self) -> None:
        for lane in self._lanes.values():
            lane.stop()
        self._lanes = {}

    def ready(self) -> bool:
        """Whether every lane's processes are up (a fresh process imports the engine first)."""
        return bool(self._lanes) and all(lane.ready() for lane in self._lanes.values())

    def pids(self) -> dict[str, list[int]]:
        """The worker processes of each lane (for tests and benchmarks)."""
        return {name: lane.pids() for name, lane in self._lanes.items()}
