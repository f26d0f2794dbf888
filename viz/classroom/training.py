"""Playground runs in worker processes, so the server's own process only moves text.

In one process every tab's frames share one GIL with the event loop: at 30 Playgrounds
playing (10 frames a second each, about 2 ms of numpy and Python a frame) the server's
threads hold the GIL most of the time, and a fresh student's numbers waited behind them
(issue 23: a join's p95 494 ms). So each run lives in one of a few worker processes,
below the server in priority as the layouts are; the server holds a :class:`RemoteTrainer`
that asks its worker through a pipe and waits with the GIL released. A worker serves one
request at a time, in the order asked; a run stays in its worker (its compiled step and
weights never cross the pipe), new runs go to the worker with the fewest.

A worker ends when the server's end of its pipe closes, or when the server process is
gone (even killed mid-job: ``lifeline``), so none outlives the server.

>>> pool = TrainingPool(workers=1)
>>> run = pool.trainer({"layers": [2]})
>>> run.step()["epoch"], run.settings["layers"]
(1, [2])
>>> pool.close()
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import multiprocessing
import os
import threading
import weakref
from collections import deque
from typing import Any

from .lifeline import hold_on
from .settings import SettingsError

log = logging.getLogger("backproplab.serve")
NICE = 5  # below the server: its event loop answers joins while frames are made
# What a RemoteTrainer may ask of its run (Trainer's methods); nothing else is called.
METHODS = ("step", "frame", "points", "update", "set_parameter", "walk")
_GONE = "this Playground run is gone (its training process restarted); press Reset"


def _serve(conn: Any, nice: int) -> None:
    """A worker's loop: ``(drops, run, method, args)`` in, ``(ok, value, settings)`` out;
    its runs by id. Ends when the server's end of the pipe closes."""
    with contextlib.suppress(OSError, AttributeError):  # not on every system
        os.nice(nice)
    hold_on()  # ends with the server, even mid-job; Ctrl+C is the server's to answer
    from .trainer import Trainer

    runs: dict[int, Trainer] = {}
    while True:
        try:
            drops, run, method, args = conn.recv()
        except (EOFError, OSError):
            return
        for gone in drops:
            runs.pop(gone, None)
        try:
            if method == "new":
                runs[run] = Trainer(*args)
                value = None
            elif run not in runs:
                raise SettingsError(_GONE)
            else:
                value = getattr(runs[run], method)(*args)
            reply = (True, value, runs[run].settings)
        except Exception as err:  # the server re-raises it in the asking thread
            reply = (False, err, None)
        try:
            conn.send(reply)
        except (TypeError, ValueError, AttributeError) as err:  # an unpicklable error
            conn.send((False, RuntimeError(f"{type(err).__name__}: {err}"), None))
        except (OSError, EOFError):
            return


class _Worker:
    """One worker process and the server's end of its pipe (one request at a time)."""

    def __init__(self, nice: int) -> None:
        context = multiprocessing.get_context("spawn")  # the server has threads: no fork
        self.conn, theirs = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(theirs, nice), daemon=True, name="backproplab-training"
        )
        self.process.start()
        theirs.close()  # the worker holds the only other end: it sees EOF when we go
        self.lock = threading.Lock()
        self.runs = 0
        # runs forgotten since the last request (a deque: the garbage collector may add
        # one in any thread, even one holding the lock)
        self.drops: deque[int] = deque()

    def call(self, run: int, method: str, args: tuple) -> tuple[Any, dict]:
        with self.lock:
            drops = [self.drops.popleft() for _ in range(len(self.drops))]
            try:
                self.conn.send((drops, run, method, args))
                ok, value, settings = self.conn.recv()
            except (EOFError, OSError):
                log.error("a training process stopped")
                raise SettingsError(_GONE) from None
        if not ok:
            raise value
        return value, settings

    def drop(self, run: int) -> None:
        """A run nobody holds any more: freed with the worker's next request."""
        self.runs -= 1
        self.drops.append(run)

    def alive(self) -> bool:
        return self.process.is_alive() and not self.conn.closed

    def close(self) -> None:
        self.conn.close()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


class RemoteTrainer:
    """A :class:`~viz.classroom.trainer.Trainer` living in a worker process: the same
    methods (each a round trip), its ``settings`` kept in step here."""

    def __init__(self, pool: TrainingPool, settings: dict, upload: tuple | None = None) -> None:
        self._pool, self._id = pool, next(pool.ids)
        self._worker = pool.least_busy()
        self.settings: dict = {}
        self._call("new", settings, upload)  # a bad setting raises here, nothing kept
        self._worker.runs += 1
        weakref.finalize(self, self._worker.drop, self._id)

    def _call(self, method: str, *args: Any) -> Any:
        value, settings = self._worker.call(self._id, method, args)
        self.settings = settings
        return value

    def __getattr__(self, name: str) -> Any:
        if name not in METHODS:
            raise AttributeError(name)
        return functools.partial(self._call, name)


class TrainingPool:
    """``workers`` processes (started on first use) holding every tab's Playground run."""

    def __init__(self, workers: int | None = None, nice: int = NICE) -> None:
        self.workers = workers or max(2, os.cpu_count() or 1)
        self.nice = nice
        self.ids = itertools.count(1)
        self._slots: list[_Worker | None] = [None] * self.workers
        self._lock = threading.Lock()

    def trainer(self, settings: dict, upload: tuple | None = None) -> RemoteTrainer:
        """A new run (``Trainer(settings, upload)``) in the worker with the fewest runs."""
        return RemoteTrainer(self, settings, upload)

    def warm(self) -> None:
        """Start every worker now rather than on the first student's Playground."""
        for i in range(self.workers):
            self._live(i)

    def least_busy(self) -> _Worker:
        runs = [worker.runs if worker else 0 for worker in self._slots]
        return self._live(runs.index(min(runs)))

    def _live(self, i: int) -> _Worker:
        with self._lock:
            worker = self._slots[i]
            if worker is None or not worker.alive():
                worker = self._slots[i] = _Worker(self.nice)
            return worker

    def close(self) -> None:
        with self._lock:
            for worker in filter(None, self._slots):
                worker.close()
            self._slots = [None] * self.workers


@functools.cache
def shared_pool() -> TrainingPool:
    """One pool per server process (every app and test shares it)."""
    return TrainingPool()
