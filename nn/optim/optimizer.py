"""The optimizer contract: ``Optimizer`` checks its parameters and makes every ``step()``
atomic; an optimizer says only how it computes its updates (``_updates``).

The update rules follow PyTorch's documented algorithms, so one step of ``SGD`` or
``Adam`` here equals one step of ``torch.optim``'s on the same numbers.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd import Value, tracing
from autograd.quiet import quiet


class Optimizer:
    """Holds the parameters and the learning rate ``lr``; ``step()`` updates in place.

    A step is atomic: every update (and the optimizer's new state) is computed before any
    parameter is written, and Ctrl-C while they are written finishes the writing first, so
    an interrupt leaves the model either before or after the whole step.
    """

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        name = type(self).__name__
        if isinstance(params, (Value, str, bytes, dict)) or not isinstance(params, Iterable):
            raise TypeError(
                f"{name}: params must be an iterable of Values (such as model.parameters()), "
                f"got a {type(params).__name__}"
            )
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{name}: got no parameters to optimize")
        seen: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, not a Value")
            if p.op:
                raise ValueError(
                    f"{name}: parameter {i} is the result of an op ({p.op!r}), not a leaf Value"
                )
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} is parameter {seen[id(p)]} again")
            seen[id(p)] = i
        self.lr = _checked(name, "learning rate", lr)
        self.initial_lr = self.lr

    def zero_grad(self) -> None:
        """Clear every parameter's gradient, as torch's ``zero_grad()`` (``set_to_none``):
        a tensor parameter the next ``backward()`` does not reach then has none, and
        ``step()`` skips it (a scalar's gradient is 0.0 again: it counts as a zero one)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter once (atomically, see the class docstring)."""
        if tracing.active is not None and tracing.active.runs_step(self):
            return  # a step being compiled (autograd.compile): its tracer ran this call
        # An overflowing or NaN update is an answer, as in torch (fit then stops on the
        # non-finite loss and says why), not a numpy warning.
        with quiet():
            new, state = self._updates()
        try:
            self._write(new, state)
        except KeyboardInterrupt:
            # Ctrl-C while writing: finish the step, then stop. Writing the same numbers
            # again is harmless, so no bookkeeping of how far the first pass got is needed
            # (and the normal path pays nothing, unlike holding SIGINT around it).
            self._write(new, state)
            raise

    def compiled_update(self) -> Callable[[], None]:
        """This optimizer's step for a compiled training step (``autograd.compile``),
        made while the step is traced: a function of no arguments that updates every
        parameter from its ``.grad`` as ``step()`` does, the same numbers."""
        return self.step

    def _gradients(self) -> list[Any]:
        """Each parameter's gradient, or None where torch's would be None and its step
        skips the parameter (no update, no decay, no state advanced): a frozen parameter
        (whatever its ``.grad``), and a tensor parameter backward did not reach since
        ``zero_grad()``. Read from ``_g``, not ``.grad``, which would make the zeros."""
        return [getattr(p, "_g", None) if p.requires_grad else None for p in self.params]

    def _write(self, new: list, state: dict) -> None:
        for p, data in zip(self.params, new):
            if data is None:  # skipped: no gradient (see _gradients)
                continue
            array = p.data
            if type(array) is float:
                p.data = data
            else:
                array[...] = data  # in place: views of the parameter see the step too
                p.data = array  # and assigned, so graphs computed before the step go stale
        vars(self).update(state)

    def _updates(self) -> tuple[list, dict]:
        """Every parameter's new data (None: left as it is) and the optimizer's new state
        (attribute name -> value), computed without changing anything."""
        raise NotImplementedError


def _checked(owner: str, what: str, value: Any) -> float:
    """``value`` as a float, refusing what torch refuses (negative) and what no step can
    use (NaN, infinite, not a number at all)."""
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {what} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int such as 10**400
        number = math.inf
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{owner}: {what} must be a finite number >= 0, got {value}")
    return number


def _minus(w: Any, delta: Any) -> Any:
    """``w - delta`` in ``w``'s type: a float for a scalar, ``w``'s dtype for an array.

    ``delta`` is a new array of the caller's (an expression such as ``lr * g``): when it
    already has ``w``'s shape and dtype, the result is written into it rather than into
    one more new array (the same numbers; one allocation fewer per parameter and step).
    """
    if type(w) is float:
        return float(w - delta)
    if type(delta) is np.ndarray and delta.shape == w.shape and delta.dtype == w.dtype:
        return np.subtract(w, delta, out=delta)
    return w - delta.astype(w.dtype, copy=False)
