"""Switches that change how operations are recorded (``no_grad`` and ``detect_anomaly``)
and the write clock behind the stale-graph check (``check_unchanged``).

Each thread has its own switches (as in PyTorch): a ``no_grad`` block in one thread never
stops another thread from recording its graph.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any


class _Depths:
    """How many ``no_grad`` and ``detect_anomaly`` blocks one thread has open: counts,
    not saved booleans, so blocks that close out of order (two generators, say) still
    leave the switches as they found them."""

    __slots__ = ("no_grad", "anomaly")

    def __init__(self) -> None:
        self.no_grad = 0
        self.anomaly = 0


class _ThreadDepths(threading.local):
    def __init__(self) -> None:
        self.mine = _Depths()


_depths = _ThreadDepths()


class _Defaults:
    """The switches while no block is open in any thread: plain slots, never written."""

    __slots__ = ("grad_enabled", "detect_anomaly")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.detect_anomaly = False


class _PerThread(_Defaults):
    """The switches while some block is open somewhere: each thread's own."""

    __slots__ = ()
    grad_enabled = property(lambda self: _depths.mine.no_grad == 0)
    detect_anomaly = property(lambda self: _depths.mine.anomaly > 0)


# This thread's switches, read by every operation (``flags.grad_enabled``). Reading a
# thread's own storage costs ~600 instructions, and every node reads two (the chain
# ``y = y * 1.0001 + 0.0`` at 1e4 ops: 24M of 252M instructions a step, gc off). So
# ``flags`` is a ``_Defaults`` while no block is open in any thread and becomes a
# ``_PerThread`` (the same object, its class changed; its properties hide the slots)
# while one is. Slots, not class attributes: Python 3.11 reads a slot in a specialized
# instruction and a class attribute through an instance in the generic lookup (~100
# instructions a read, 1.5% of the chain at 1e5).
flags: _Defaults = _Defaults()


class _OpenBlocks:
    """How many ``no_grad`` and ``detect_anomaly`` blocks are open, in all threads."""

    __slots__ = ("count", "lock")

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def add(self, n: int, depths: _Depths, depth: str) -> None:
        """Open (n = 1) or close (n = -1) a block counted in ``depths``, one thread's."""
        with self.lock:  # (another thread may be closing a block this thread opened)
            setattr(depths, depth, getattr(depths, depth) + n)
            self.count += n
            flags.__class__ = _PerThread if self.count else _Defaults


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


def check_unchanged(order: list[Any], caller: str = "backward()") -> None:
    """Raise ``RuntimeError`` if a value in the graph was assigned new ``.data`` after a
    node that uses it was computed: its gradient would mix old and new numbers.

    ``order`` holds the recorded nodes (``backprop.topological_order(root, leaves=False)``). A
    recorded node's ``_stamp`` is the write count at its birth (``mode.writes``); an
    assignment to ``.data`` sets it to minus the count after the write. One number per
    value, not two: every slot costs each value's memory and the collector's walks.
    Most graphs are walked before anything is written, so one look settles it.
    """
    now = writes.now
    for node in order:
        if node._stamp != now:
            break
    else:
        return  # nothing was written since the first node was born
    for node in order:
        born = node._stamp
        if born < 0:
            _stale(caller, node, node)
        for parent in node._parents:
            stamp = getattr(parent, "_stamp", 0)  # 0 for a constant
            if stamp < 0 and -stamp > born:
                _stale(caller, node, parent)


def _stale(caller: str, node: Any, value: Any) -> None:
    label = getattr(value, "_label", "")
    role = "the result" if value is node else "an input"
    if label:
        what = f"{label!r}, {role} of {node._op.name}"
    else:  # no name to give: its shape at least tells which of the op's inputs it is
        kind = "a scalar" if value.shape == () else f"shape {value.shape}"
        what = f"{role} of {node._op.name} ({kind}, no label)"
    raise RuntimeError(
        f"{caller}: {what} was assigned new data after the result was "
        f"computed, so the gradient would mix old and new numbers; compute the result "
        f"again after changing the value (or change it after backward())"
    )


@contextmanager
def _switch(depth: str) -> Iterator[None]:
    # The entering thread's counts, closed even where the block exits in another thread
    # (a generator resumed from a pool): each thread's switches are as it left them.
    depths = _depths.mine
    open_blocks.add(1, depths, depth)
    try:
        yield
    finally:
        open_blocks.add(-1, depths, depth)


def no_grad() -> AbstractContextManager[None]:
    """Inside this block operations record no graph: results have no parents.

    >>> from autograd import Value, no_grad
    >>> w = Value(2.0)
    >>> with no_grad():
    ...     y = w * 3
    >>> y.parents
    ()
    """
    return _switch("no_grad")


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
    return _switch("anomaly")
