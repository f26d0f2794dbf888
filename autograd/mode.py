"""Switches that change how operations are recorded: ``no_grad`` and ``detect_anomaly``.

Each thread has its own switches (as in PyTorch): a ``no_grad`` block in one thread never
stops another thread from recording its graph.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


class _Flags(threading.local):
    """This thread's switches, read by every operation.

    ``plain`` is True when graphs are recorded and nothing is checked: the scalar hot
    path reads this one flag and leaves every other case to the general path.
    """

    def __init__(self) -> None:
        # How many blocks are open: counts, not saved booleans, so blocks that close
        # out of order (two generators, say) still leave the switches as they found them.
        self.no_grad_depth = 0
        self.anomaly_depth = 0
        self.grad_enabled = True
        self.detect_anomaly = False
        self.plain = True

    def refresh(self) -> None:
        self.grad_enabled = self.no_grad_depth == 0
        self.detect_anomaly = self.anomaly_depth > 0
        self.plain = self.grad_enabled and not self.detect_anomaly


flags = _Flags()


class _OpenBlocks:
    """How many ``no_grad`` and ``detect_anomaly`` blocks are open, in all threads.

    While none is, every thread's ``flags.plain`` is True, and the hot path can say so
    without reading the thread-local ``flags`` (a read of which costs ~4x a slot's:
    the chain ``y = y * 1.0001 + 0.0`` at 1e4, gc off: 250.6M -> 237.8M instructions).
    """

    __slots__ = ("count", "lock")

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        with self.lock:
            self.count += n


open_blocks = _OpenBlocks()


class _WriteClock:
    """Counts assignments to any Value's ``.data``, for the whole process (a value edited
    in one thread is stale for every thread's graphs).

    A recorded node keeps the count at its birth and an assigned value minus the count
    after its assignment (both in ``_stamp``): a graph is stale if one of its values was
    written after a node that uses it was born.

    ``epoch`` names this process's clock (a new one after a fork): stamps pickled under
    another epoch count another process's writes and mean nothing here.
    """

    __slots__ = ("now", "epoch", "negative_zero")

    def __init__(self) -> None:
        self.now = 0
        self.new_epoch()
        # Whether any gradient was ever set to -0.0 by hand (``v.grad = -0.0``, or a
        # Value unpickled with one). The engine never makes one (its sums start at
        # +0.0), so until then adding a term that is ±0.0 leaves every gradient as it
        # is, bit for bit, and can be skipped (``ops.weighted_sum_op``); -0.0 + 0.0 is
        # +0.0, so after one it cannot.
        self.negative_zero = False

    def new_epoch(self) -> None:
        self.epoch = int.from_bytes(os.urandom(8), "little")


writes = _WriteClock()
if hasattr(os, "register_at_fork"):  # not on Windows, which spawns rather than forks
    os.register_at_fork(after_in_child=writes.new_epoch)


@contextmanager
def _switch(depth: str) -> Iterator[None]:
    open_blocks.add(1)
    setattr(flags, depth, getattr(flags, depth) + 1)
    flags.refresh()
    try:
        yield
    finally:
        setattr(flags, depth, getattr(flags, depth) - 1)
        flags.refresh()
        open_blocks.add(-1)


def no_grad() -> AbstractContextManager[None]:
    """Inside this block operations record no graph: results have no parents.

    >>> from autograd import Value, no_grad
    >>> w = Value(2.0)
    >>> with no_grad():
    ...     y = w * 3
    >>> y.parents
    ()
    """
    return _switch("no_grad_depth")


def is_grad_enabled() -> bool:
    """True unless inside a ``no_grad()`` block (in this thread)."""
    return flags.grad_enabled


def detect_anomaly() -> AbstractContextManager[None]:
    """Inside this block, an operation whose result holds a NaN or an infinity raises
    ``FloatingPointError`` naming the op and its inputs' shapes (slower; for debugging).

    >>> from autograd import Value, detect_anomaly
    >>> with detect_anomaly():
    ...     Value(-1.0).log()
    Traceback (most recent call last):
    FloatingPointError: log produced a non-finite value (nan) from inputs of shapes [()]
    """
    return _switch("anomaly_depth")
