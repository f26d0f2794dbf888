"""Where a step being compiled is watched (``autograd.compiler``): ``active``, the tracer
of the step whose first call is running, or None (always, outside that one call).

Three places of the library tell a trace what Python alone would hide from it, each
with one test of ``active is not None`` (a module attribute: ~50 instructions, once per
call, never per node): ``backward()`` (``fast_backward``), an optimizer's ``step()``
(``nn.optim``) and a random draw (``nn``'s Dropout, through :func:`note_random`).
Everything else a trace watches (every recorded node, every read of a value's numbers)
is swapped in for the trace only, by ``compiler_trace.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

active: Any = None  # the tracer (compiler_trace.Tracer) of the step being traced, or None


def note_random(data: Any, draw: Callable, *args: Any) -> None:
    """Tell the step being traced (if any) that ``data`` is random: ``draw(*args)``
    made it and makes the next numbers of the same stream, so a replay calls it again
    (a new Dropout mask each step, as eager) rather than reusing these numbers.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> mask = rng.random(3); note_random(mask, rng.random, 3)   # outside a trace: nothing
    """
    if active is not None:
        active.random(data, draw, args)


def refuse(why: str) -> None:
    """Tell the step being traced (if any) that it does something a replay cannot:
    ``why`` completes "compile: the step ...", the error its trace then raises."""
    if active is not None:
        active.refuse(why)
