"""Stochastic gradient descent, ``SGD``: momentum, Nesterov and weight decay as
``torch.optim.SGD``'s, and plain SGD's in-place fast paths (eager and compiled)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Any

import numpy as np

from autograd import Value, tracing
from autograd.quiet import quiet

from .optimizer import Optimizer, _checked, _minus


class SGD(Optimizer):
    """Stochastic gradient descent: ``w -= lr * (g + weight_decay * w)``, with optional
    momentum (``buf = momentum * buf + g``, as ``torch.optim.SGD``); ``nesterov`` steps
    along ``g + momentum * buf`` instead of ``buf``."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _checked("SGD", "momentum", momentum)
        self.weight_decay = _checked("SGD", "weight_decay", weight_decay)
        if nesterov and not self.momentum:
            raise ValueError("SGD: nesterov needs a momentum > 0")
        self.nesterov = bool(nesterov)
        self._buffers: list[Any] = [None] * len(self.params)
        # Plain SGD computes each ``lr * g`` (``_step_in_place``) or new ``w - lr * g``
        # (``_descent``) here, in an array of its own kept from step to step (never handed
        # out). A new array each step was returned to the system and faulted in again
        # when it was big: the float64 medium MLP step took 816 page faults.
        self._scratch: list[Any] = [None] * len(self.params)

    def step(self) -> None:
        """Update every parameter once (atomically, see :class:`Optimizer`)."""
        if tracing.active is not None and tracing.active.runs_step(self):
            return  # a step being compiled (autograd.compile): its tracer ran this call
        if self.momentum or self.weight_decay or not self._step_in_place():
            super().step()

    def compiled_update(self) -> Callable[[], None]:
        """Plain SGD's step for a compiled training step: ``_step_in_place`` without its
        checks, which hold from call to call (the compiled step keeps each gradient in
        an array of its own, of its parameter's shape and dtype, and checks that every
        parameter keeps its array): the tiny MLP's update 110k -> 30k instructions
        (callgrind). Any other case, or momentum or decay set later, or a parameter
        frozen later: ``step()``."""
        params, scratch = self.params, self._scratch
        ws = [p._data for p in params]
        grads = [getattr(p, "_g", None) for p in params]
        if (
            self.momentum
            or self.weight_decay
            or not all(
                type(w) is np.ndarray
                and p.requires_grad
                and w.base is None
                and type(g) is np.ndarray
                and g.dtype is w.dtype
                and g.shape == w.shape
                for p, w, g in zip(params, ws, grads)
            )
            or len(set(map(id, ws))) != len(ws)
        ):
            return self.step
        for i, w in enumerate(ws):
            _scratch_like(w, scratch, i)
        deltas = scratch[:]
        multiply, gradient = np.multiply, _gradient

        def update() -> None:
            if self.momentum or self.weight_decay or not all(map(_trained, params)):
                self.step()  # (a parameter frozen since: the general step skips it)
                return
            with quiet():
                list(map(multiply, map(gradient, params), repeat(self.lr), deltas))
                self._subtract_all(ws, deltas)

        return update

    def _step_in_place(self) -> bool:
        """Plain SGD written in place, ``w -= lr * g``, when every parameter is an array
        that owns its memory (``base`` None, and no array twice: no two can overlap, so
        the order of the writes cannot matter) and its gradient an array of its shape and
        dtype; else False, with no parameter changed.

        Two passes over each parameter instead of ``_updates``'s three (``lr * g``,
        ``w - that``, then the copy into the parameter): the tiny MLP's optimizer step
        134.2k -> 116.4k instructions (callgrind; of which the check for one array in two
        Values costs ~5k). The same numbers: ``w - lr * g`` either way.

        Still atomic: every ``lr * g`` is computed first (into ``_scratch``), then ONE
        call, ``list(map(np.subtract, ws, deltas, ws))``, writes every parameter without a
        single bytecode in between. Python raises ``KeyboardInterrupt`` only between
        bytecodes (or where C code asks, ``PyErr_CheckSignals``, which numpy's ufuncs on
        plain float arrays do not: none is made in a training step, callgrind), exact
        ndarrays run no Python code in a ufunc, and under ``quiet()`` no error handler is
        called. The assignments that mark older graphs stale come last and are redone
        after a Ctrl-C, as ``_write`` does (after a Ctrl-C just before the writes they mark
        unchanged parameters as assigned: a stale-graph error at worst, never silence).
        """
        lr, scratch, ws = self.lr, self._scratch, []
        with quiet():  # an overflowing or NaN step is an answer, as in Optimizer.step
            for i, p in enumerate(self.params):  # (the parameter list's own walk may raise)
                w, g = p._data, getattr(p, "_g", None)  # (as Value.grad: may be unset)
                if not (
                    type(w) is np.ndarray
                    and p.requires_grad  # a frozen parameter: the general step skips it
                    and w.base is None
                    and type(g) is np.ndarray
                    and g.dtype is w.dtype
                    and g.shape == w.shape
                ):
                    return False
                np.multiply(g, lr, _scratch_like(w, scratch, i))  # lr * g, each the same
                ws.append(w)
            if len(set(map(id, ws))) != len(ws):  # one array in two Values (tied weights)
                return False
            self._subtract_all(ws, scratch)
        return True

    def _subtract_all(self, ws: list, deltas: list) -> None:
        """``w -= delta`` for every parameter in ONE call (atomic: see ``_step_in_place``),
        then each marked written."""
        try:
            list(map(np.subtract, ws, deltas, ws))
        finally:
            try:
                self._mark_written(ws)
            except KeyboardInterrupt:
                self._mark_written(ws)
                raise

    def _mark_written(self, ws: list) -> None:
        for p, w in zip(self.params, ws):
            p.data = w  # assigned, so graphs computed before the step go stale

    def _updates(self) -> tuple[list, dict]:
        lr, momentum, decay = self.lr, self.momentum, self.weight_decay
        grads, scratch = self._gradients(), self._scratch
        if not (momentum or decay):
            return [
                None if g is None else _descent(p.data, g, lr, scratch, i)
                for i, (p, g) in enumerate(zip(self.params, grads))
            ], {}
        new: list[Any] = []
        buffers = list(self._buffers)
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g is None:  # no gradient: skipped, its buffer as it was (torch's)
                new.append(None)
                continue
            w = p.data
            if decay:
                g = g + decay * w
            if momentum:
                buf = buffers[i]
                # A copy: the first buffer must not be the gradient array itself, which a
                # later backward() without zero_grad() adds to in place.
                buf = (g if type(g) is float else np.copy(g)) if buf is None else momentum * buf + g
                buffers[i] = buf
                g = g + momentum * buf if self.nesterov else buf
            new.append(_minus(w, lr * g))
        return new, {"_buffers": buffers}


def _descent(w: Any, g: Any, lr: float, scratch: list, i: int) -> Any:
    """``w - lr * g`` (the same numbers as ``_minus(w, lr * g)``), computed in
    ``scratch[i]``, an array kept for parameter ``i``, when ``w`` and ``g`` are arrays
    of one shape and dtype."""
    if (
        type(g) is not np.ndarray
        or type(w) is not np.ndarray
        or g.shape != w.shape
        or g.dtype != w.dtype
    ):
        return _minus(w, lr * g)
    out = _scratch_like(w, scratch, i)
    np.multiply(g, lr, out=out)  # lr * g, every product the same
    return np.subtract(w, out, out=out)


_gradient = operator.attrgetter("_g")  # a parameter's gradient array, read in C
_trained = operator.attrgetter("requires_grad")


def _scratch_like(w: np.ndarray, scratch: list, i: int) -> np.ndarray:
    """``scratch[i]``, the array kept for parameter ``i``, made anew unless it has ``w``'s
    shape and dtype (``is`` first: numpy's built-in dtypes are shared objects)."""
    out = scratch[i]
    if (
        type(out) is not np.ndarray
        or out.shape != w.shape
        or (out.dtype is not w.dtype and out.dtype != w.dtype)
    ):
        out = scratch[i] = np.empty(w.shape, w.dtype)
    return out
