"""Child processes of the service that die with their parent.

A worker process (uvicorn's, with ``--workers N``, or an engine process of `dedup.service.pool`)
must not outlive the process that started it: a SIGKILL of ``dedup serve`` would otherwise leave
workers answering on the port, and a restart on that port would fail. On Linux the kernel sends
the child a signal when its parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread
polls the parent's pid once a second and sends the same signal.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 1.0


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> str:
    """Make this process receive `sig` when `parent_pid` (its parent) dies; when the parent is
    already gone, receive it now. Returns how it is watched ("prctl" or "thread")."""
    how = "prctl" if _set_parent_death_signal(sig) else "thread"
    if os.getppid() != parent_pid:  # the parent died before the watch was set: act now
        os.kill(os.getpid(), sig)
    if how == "thread":
        threading.Thread(target=_watch_parent, args=(parent_pid, sig), name="dedup-parent-watch",
                         daemon=True).start()
    return how


def _set_parent_death_signal(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, sig: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), sig)
