"""Worker processes end with their server, however the server ends.

A stopped server (Ctrl+C, ``kill``, ``systemctl stop``) shuts its pools down on the way
out. A server that cannot (killed with SIGKILL, or crashed) leaves its workers waiting
on queues whose other ends they hold themselves, so each worker also watches its parent:
the pipe multiprocessing gave it at its start closes when the parent process is gone.

>>> hold_on()  # not in a multiprocessing worker: nothing to watch
False
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading


def hold_on() -> bool:
    """In a multiprocessing worker: end this process as soon as its parent ends (a
    watching thread), and leave Ctrl+C to the server (a terminal sends it to the whole
    process group: the server stops, then its workers, without a traceback from each).
    False, doing nothing, outside a worker."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return False
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with, args=(parent,), daemon=True, name="lifeline").start()
    return True


def _end_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # waits on the parent's pipe: returns when its last end closes
    os._exit(1)  # no cleanup: the jobs' owner is gone, and a lock may be held mid-job


def exit_on_sigterm() -> None:
    """Let SIGTERM end this process as Ctrl+C would, with cleanup: uvicorn shuts down
    gracefully, then sends the signal again, and Python's default for SIGTERM is to die
    at once, skipping the exit handlers that stop the worker pools."""
    signal.signal(signal.SIGTERM, _raise_exit)


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
