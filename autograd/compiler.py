"""``compile(step)``: a training step run once as it is, recorded, then replayed as one
Python function of flat numpy calls on arrays made once, equal to the eager step to the bit.

>>> import numpy as np
>>> from autograd import Value, compile
>>> w = Value(np.array([[1.0], [2.0]]), label="w")
>>> @compile
... def step(x, y):
...     w.grad = None                        # (what an optimizer's zero_grad() does)
...     loss = ((x @ w - y) ** 2).mean()
...     loss.backward()
...     return loss
>>> x, y = np.eye(2), np.zeros((2, 1))
>>> step(x, y), step(x, y)                   # the first call traces, the second replays
(2.5, 2.5)
>>> w.grad.ravel()
array([1., 2.])

How: the first call with arrays of new shapes or dtypes runs ``step`` as it is (eager)
while a tracer (``tracing.active``) watches every node recorded, the ``backward()``, the
optimizer's ``step()`` and the random draws. From that record ``compiler_program`` writes
one function: the forward (each op's forward, or its twin in ``compiler_kernels`` that
writes into an array made once), the backward (each op's vjps in ``backward()``'s order,
summed as it sums them), the optimizer's update (``compiled_update()`` of the optimizer)
and the results. Later calls run that function: no Value, no graph, no search, no Python
of ``step``'s own. ``source`` shows it.

A replay cannot see what only Python saw, as with ``jax.jit``: the trace refuses, with
one line, what it can detect, and the rest is the caller's to keep out:

- a read of a computed value's numbers (``.data``, ``.item()``, ``float()``, a
  comparison) followed by more work in the step: an ``if`` on a loss, say (refused;
  return the value and read it after the call);
- an argument used other than as it is, or converted to another dtype or shape (refused
  when the argument is then nowhere in the graph); arguments that are not arrays are
  fixed: another value traces again;
- values computed before the step (refused; those computed in it without a graph, under
  ``no_grad`` or from arguments and constants only, are computed again), gradients set
  or read by hand between ``backward()`` and the optimizer, ``grad()`` (for numbers, or
  with ``create_graph``, whose vjps pick masks in Python) and a second ``backward()``
  (each refused);
- settings that the step reads from Python (a model's activation, a loss's rate): a
  replay keeps those of its trace; make a new compiled step when they change.

A refusal comes after the step has run once as it is (its update made): by default it is
raised (``compiler_inputs.Refused``, a RuntimeError); with ``fallback=True`` it is a
warning instead, and the step runs as it is (eager) on that call and every later one.

After a replay each parameter's ``.grad`` is an array the compiled step owns and writes
again on its next call (eager makes new ones each step): copy it to keep it.

Dropout draws a new mask on every replay from its generator, as eager does. Each trace is
kept per shapes and dtypes of the arguments (at most ``max_traces``, the oldest dropped).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import tracing
from .compiler_inputs import Refused
from .compiler_program import STALE, Replay, write
from .compiler_trace import Tracer, watching
from .quiet import quiet
from .value import Value


def compile(  # noqa: A001 (as torch.compile)
    step: Callable, max_traces: int = 8, fallback: bool = False
) -> Compiled:
    """``step`` compiled: the same results, to the bit, without the Python of each op
    after the first call (see the module's docstring for what a replay cannot see;
    ``fallback=True``: a step it cannot replay runs as it is, with one warning)."""
    return Compiled(step, max_traces, fallback)


class Compiled:
    """A compiled step: call it as ``step`` itself. It returns the numbers of what
    ``step`` returns (a float for a one-number Value, a new array for a tensor; the same
    tuple or list around them). ``traces`` counts the traces so far; ``source`` is the
    Python of the last one; ``refused``, with ``fallback``, the line saying why the step
    runs as it is (else None)."""

    def __init__(self, step: Callable, max_traces: int = 8, fallback: bool = False) -> None:
        if not callable(step):
            raise TypeError(f"compile: step must be a function, got {type(step).__name__}")
        self.step, self.max_traces, self.traces = step, int(max_traces), 0
        self.fallback = bool(fallback)
        self.refused: str | None = None
        self._replays: dict[tuple, Replay] = {}
        self._last: Replay | None = None
        functools.update_wrapper(self, step, updated=())

    @property
    def source(self) -> str:
        return self._last.source if self._last is not None else ""

    def __call__(self, *args: Any) -> Any:
        if self.refused is not None:
            return numbers(self.step(*args))
        last = self._last
        if last is not None:
            with quiet():
                out = last.run(*args)
            if out is not STALE:
                return out
        key = _key(args)
        replay = self._replays.pop(key, None)
        if replay is not None:
            self._replays[key] = replay  # the most recently used, last
            if replay is not last:
                with quiet():
                    out = replay.run(*args)
                if out is not STALE:
                    self._last = replay
                    return out
        return self._trace(key, args)

    def _trace(self, key: tuple, args: tuple) -> Any:
        tracer = Tracer()
        with watching(tracer):
            result = self.step(*args)
        try:
            replay = write(tracer.finish(args, result))
        except Refused as refusal:
            if not self.fallback:
                raise
            self.refused = str(refusal)
            warnings.warn(f"{refusal}; it runs uncompiled", RuntimeWarning, stacklevel=3)
            return numbers(result)
        self._replays.pop(key, None)
        self._replays[key] = replay
        while len(self._replays) > max(self.max_traces, 1):  # the least recently used
            del self._replays[next(iter(self._replays))]
        self._last, self.traces = replay, self.traces + 1
        return numbers(result)


def read(value: Value, fn: Callable[[Any], Any]) -> None:
    """Call ``fn`` with ``value``'s numbers (a float, or its array, which ``fn`` must not
    keep) now, and again at this point of every replay of a compiled step: how a step
    looks at a number, which a plain ``.item()`` cannot do in a compiled step. ``fn``
    may raise, which stops the step there (``fit`` stops a step on a non-finite loss this
    way, before its update).

    >>> from autograd import Value
    >>> read(Value(2.0) * 3.0, print)
    6.0
    """
    if tracing.active is not None:
        tracing.active.reads_with(value, fn)
    else:
        fn(value._data)


def numbers(result: Any) -> Any:
    """What a compiled step returns for ``result``: a Value's numbers (a float, or a new
    array), in the same tuple or list."""
    if isinstance(result, Value):
        data = result._data
        return data if type(data) is float else np.array(data)
    if isinstance(result, (tuple, list)):
        return type(result)(numbers(r) for r in result)
    return result


# ---------------------------------------------------------------- helpers
def _key(args: tuple) -> tuple:
    return tuple(
        (a.shape, a.dtype) if isinstance(a, np.ndarray) else (type(a), _hashable(a)) for a in args
    )


def _hashable(a: Any) -> Any:
    try:
        hash(a)
    except TypeError:
        return id(a)  # refused by the trace with a clear line
    return a
