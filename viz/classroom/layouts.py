"""Graph layouts for the classroom server, in worker processes shared fairly.

A Graphviz layout is the slow part of a Neuron or Expression reply (a legal 363-character
formula takes over a second) and, in one process, one layout runs at a time (the
in-process renderer's time limit is engine-wide). So layouts run in a small pool of
worker processes, and the pool is shared by *connection*, not first come first served:
when a worker frees, the waiting connection that has used the least layout time lately
goes first, and connections over their ``budget`` (seconds in the last ``window``), and
jobs known to be big (a long formula), may hold all workers but one. A student's heavy formula costs that student time; a fresh
student's small graph waits at most for one layout to end.

>>> import asyncio, operator
>>> pool = LayoutPool(workers=1, executor=InlineExecutor())
>>> asyncio.run(pool.run("student", operator.add, 2, 3))
5
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import math
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .lifeline import hold_on

log = logging.getLogger("backproplab.serve")


class InlineExecutor(concurrent.futures.Executor):
    """Runs each job at once in the calling thread (tests, doctests)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # handed to the waiting caller
            future.set_exception(err)
        return future


def _start_worker() -> None:
    """A worker's start: it ends with the server (``lifeline``), runs below the server
    in priority (a layout may wait; a page's numbers and the play loop should not), then
    its first job: compile the in-process Graphviz (1-2 s) before any student waits."""
    hold_on()
    with contextlib.suppress(OSError, AttributeError):  # not on every system
        os.nice(5)
    _warm()


def _warm() -> None:
    from ..rendering import to_svg

    to_svg("digraph { a }")


@functools.cache
def shared_executor(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """One process pool per server process (every app and test shares it). Workers are
    spawned, not forked: the server has threads, and a fork copies their locks."""
    return concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
    )


def default_workers() -> int:
    """One worker per core, at least two (so one layout never holds every worker)."""
    return max(2, os.cpu_count() or 1)


class LayoutPool:
    """Run picklable jobs (module-level functions and their arguments) in ``workers``
    processes, shared fairly between owners (connections)."""

    def __init__(
        self,
        workers: int | None = None,
        budget: float = 2.0,
        window: float = 20.0,
        executor: concurrent.futures.Executor | None = None,
    ) -> None:
        self.workers = workers or default_workers()
        self.budget, self.window = budget, window
        self._executor = executor
        self.free = self.workers
        self.heavy_running = 0
        self.waiting: list[tuple[int, Any, asyncio.Future, bool]] = []  # arrival, owner, grant, big
        self.arrivals = 0
        self.usage: dict[Any, tuple[float, float]] = {}  # owner -> (seconds, when)

    @property
    def executor(self) -> concurrent.futures.Executor:
        if self._executor is None:
            self._executor = shared_executor(self.workers)
        return self._executor

    def warm(self) -> None:
        """Start every worker now (each compiles Graphviz once) rather than on the first
        student's graph."""
        for _ in range(self.workers):
            self.executor.submit(_warm)

    def used(self, owner: Any) -> float:
        """Layout seconds ``owner`` used lately (halving every ``window`` / 2 seconds)."""
        seconds, when = self.usage.get(owner, (0.0, 0.0))
        return seconds * math.exp2(-(time.monotonic() - when) / (self.window / 2))

    def forget(self, owner: Any) -> None:
        """The owner left: drop what the pool knows of it."""
        self.usage.pop(owner, None)

    async def run(self, owner: Any, fn: Callable, *args: Any, big: bool = False) -> Any:
        """``fn(*args)`` in a worker once it is ``owner``'s turn; its result (or error).
        A ``big`` job (known to be slow before it starts) runs as a heavy owner's would."""
        heavy = await self._turn(owner, big)
        start = time.monotonic()
        try:
            job = self.executor.submit(fn, *args)
            return await asyncio.wrap_future(job)
        except BrokenProcessPool:
            log.error("a layout worker died; starting new ones")
            shared_executor.cache_clear()
            self._executor = None
            raise
        finally:
            self.usage[owner] = (self.used(owner) + time.monotonic() - start, time.monotonic())
            self.free += 1
            self.heavy_running -= heavy
            self._grant()

    async def _turn(self, owner: Any, big: bool = False) -> bool:
        """Wait for a worker; True if ``owner`` runs as a heavy user."""
        grant = asyncio.get_running_loop().create_future()
        self.arrivals += 1
        self.waiting.append((self.arrivals, owner, grant, big))
        self._grant()
        try:
            return await grant
        except asyncio.CancelledError:
            if grant.done() and not grant.cancelled():  # granted, then cancelled: give back
                self.free += 1
                self.heavy_running -= grant.result()
                self._grant()
            else:
                self.waiting = [w for w in self.waiting if w[2] is not grant]
            raise

    def _grant(self) -> None:
        """Hand free workers to the waiting owners that used the least lately; heavy
        ones never take the last free worker."""
        while self.free and self.waiting:
            used = {owner: self.used(owner) for _, owner, _, _ in self.waiting}
            ranked = sorted(self.waiting, key=lambda w: (w[3], used[w[1]], w[0]))
            for entry in ranked:
                heavy = entry[3] or used[entry[1]] > self.budget
                if not heavy or self.workers == 1 or self.heavy_running < self.workers - 1:
                    break
            else:
                return  # only heavy owners wait, and they hold their share
            self.waiting.remove(entry)
            self.free -= 1
            self.heavy_running += heavy
            entry[2].set_result(heavy)
