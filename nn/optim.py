"""Optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) and learning-rate schedules (the
schedules that watch the loss, ``ReduceLROnPlateau``, and ``EarlyStopping`` are ``fit``'s
callbacks, in ``nn.callbacks``).

The update rules follow PyTorch's documented algorithms, so one step of ``SGD`` or
``Adam`` here equals one step of ``torch.optim``'s on the same numbers.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterable
from itertools import repeat
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


class Adam(Optimizer):
    """Adam (Kingma & Ba), with bias correction and L2 ``weight_decay`` added to the
    gradient, as ``torch.optim.Adam``.

    ``t`` counts the steps taken; the bias correction of each parameter uses its own
    count of the steps that updated it (torch's ``state[p]["step"]``), which a frozen
    parameter's does not advance:

    >>> w, v = Value([1.0]), Value([1.0]); opt = Adam([w, v], lr=0.1)
    >>> v.requires_grad = False; w.grad = [2.0]; opt.step(); opt.t, opt._steps
    (1, [1, 0])
    >>> v.requires_grad = True; v.grad = [2.0]; opt.step(); w.data, v.data
    (array([0.8]), array([0.9]))
    """

    decoupled_decay = 0.0  # AdamW's

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair of numbers, got {betas!r}")
        for i, b in enumerate(betas):
            if not 0 <= _checked("Adam", f"betas[{i}]", b) < 1:
                raise ValueError(f"Adam: betas[{i}] must be in [0, 1), got {b}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = _checked("Adam", "eps", eps)
        self.weight_decay = _checked("Adam", "weight_decay", weight_decay)
        self._m: list[Any] = [0.0] * len(self.params)
        self._v: list[Any] = [0.0] * len(self.params)
        self._steps = [0] * len(self.params)
        self.t = 0

    def _updates(self) -> tuple[list, dict]:
        (b1, b2), eps, decay = self.betas, self.eps, self.weight_decay
        shrink = self.lr * self.decoupled_decay
        new: list[Any] = []
        ms, vs, steps = list(self._m), list(self._v), list(self._steps)
        corrections: dict[int, tuple[float, float]] = {}  # by step count (most share one)
        for i, (p, g) in enumerate(zip(self.params, self._gradients())):
            if g is None:  # no gradient: skipped, its moments and count as they were
                new.append(None)
                continue
            w = p.data
            t = steps[i] = steps[i] + 1
            if decay:
                g = g + decay * w
            if shrink:  # AdamW's decay, first, as torch's
                w = w * (1 - shrink)
            m = ms[i] = b1 * ms[i] + (1 - b1) * g
            v = vs[i] = b2 * vs[i] + (1 - b2) * g * g
            if t not in corrections:
                corrections[t] = (self.lr / (1 - b1**t), math.sqrt(1 - b2**t))
            step_size, sqrt_bias2 = corrections[t]
            new.append(_minus(w, step_size * m / (np.sqrt(v) / sqrt_bias2 + eps)))
        return new, {"t": self.t + 1, "_m": ms, "_v": vs, "_steps": steps}


class StepLR:
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs (call ``step()``
    once per epoch)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.optimizer, self.step_size = optimizer, int(step_size)
        self.gamma = _factor("StepLR", gamma)
        self.epoch = 0

    def step(self) -> None:
        self.epoch += 1
        self.optimizer.lr = self.optimizer.initial_lr * self.gamma ** (self.epoch // self.step_size)


class ExponentialLR:
    """Multiply the learning rate by ``gamma`` every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.optimizer, self.gamma = optimizer, _factor("ExponentialLR", gamma)
        self.epoch = 0

    def step(self) -> None:
        self.epoch += 1
        self.optimizer.lr = self.optimizer.initial_lr * self.gamma**self.epoch


# ---------------------------------------------------------------- more optimizers
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): every step also shrinks
    the weights by ``lr * weight_decay * w``, outside the adaptive scaling, as
    ``torch.optim.AdamW`` (default ``weight_decay=0.01``).

    >>> w = Value([1.0]); w.grad = [0.0]; AdamW([w], lr=0.1).step(); w.data
    array([0.999])
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, 0.0)
        self.decoupled_decay = _checked("AdamW", "weight_decay", weight_decay)


class RMSprop(Optimizer):
    """RMSprop (Hinton): divide the gradient by a running root-mean-square of recent
    gradients, as ``torch.optim.RMSprop`` (``alpha``, ``eps``, ``weight_decay``,
    ``momentum``, ``centered``).

    >>> w = Value([1.0]); w.grad = [2.0]; RMSprop([w], lr=0.01).step(); w.data.round(4)
    array([0.9])
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.alpha = _checked("RMSprop", "alpha", alpha)
        if self.alpha > 1:
            raise ValueError(f"RMSprop: alpha must be in [0, 1], got {alpha}")
        self.eps = _checked("RMSprop", "eps", eps)
        self.weight_decay = _checked("RMSprop", "weight_decay", weight_decay)
        self.momentum = _checked("RMSprop", "momentum", momentum)
        self.centered = bool(centered)
        n = len(self.params)
        self._square: list[Any] = [0.0] * n
        self._mean: list[Any] = [0.0] * n
        self._buffers: list[Any] = [0.0] * n

    def _updates(self) -> tuple[list, dict]:
        a, eps, decay, momentum = self.alpha, self.eps, self.weight_decay, self.momentum
        new: list[Any] = []
        squares, means, buffers = list(self._square), list(self._mean), list(self._buffers)
        for i, (p, g) in enumerate(zip(self.params, self._gradients())):
            if g is None:  # no gradient: skipped, its averages as they were
                new.append(None)
                continue
            w = p.data
            if decay:
                g = g + decay * w
            sq = squares[i] = a * squares[i] + (1 - a) * g * g
            if self.centered:
                mean = means[i] = a * means[i] + (1 - a) * g
                avg = np.sqrt(sq - mean * mean) + eps
            else:
                avg = np.sqrt(sq) + eps
            if momentum:
                step = buffers[i] = momentum * buffers[i] + g / avg
            else:
                step = g / avg
            new.append(_minus(w, self.lr * step))
        return new, {"_square": squares, "_mean": means, "_buffers": buffers}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): each weight's step shrinks with the sum of its squared
    gradients so far, as ``torch.optim.Adagrad`` (``lr_decay``, ``weight_decay``,
    ``initial_accumulator_value``, ``eps``).

    >>> w = Value([1.0]); w.grad = [2.0]; Adagrad([w], lr=0.1).step(); w.data
    array([0.9])
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(params, lr)
        self.lr_decay = _checked("Adagrad", "lr_decay", lr_decay)
        self.weight_decay = _checked("Adagrad", "weight_decay", weight_decay)
        start = _checked("Adagrad", "initial_accumulator_value", initial_accumulator_value)
        self.eps = _checked("Adagrad", "eps", eps)
        self._sum: list[Any] = [start] * len(self.params)
        self._steps = [0] * len(self.params)  # each parameter's, for lr_decay (torch's)
        self.t = 0

    def _updates(self) -> tuple[list, dict]:
        new: list[Any] = []
        sums, steps = list(self._sum), list(self._steps)
        for i, (p, g) in enumerate(zip(self.params, self._gradients())):
            if g is None:  # no gradient: skipped, its sum and count as they were
                new.append(None)
                continue
            w = p.data
            t = steps[i] = steps[i] + 1
            lr = self.lr / (1 + (t - 1) * self.lr_decay)
            if self.weight_decay:
                g = g + self.weight_decay * w
            total = sums[i] = sums[i] + g * g
            new.append(_minus(w, lr * g / (np.sqrt(total) + self.eps)))
        return new, {"t": self.t + 1, "_sum": sums, "_steps": steps}


# ---------------------------------------------------------------- more schedules
class CosineAnnealingLR:
    """The learning rate follows half a cosine from its initial value down to ``eta_min``
    over ``T_max`` epochs (call ``step()`` once per epoch), as
    ``torch.optim.lr_scheduler.CosineAnnealingLR``:
    ``lr = eta_min + (lr0 - eta_min) · (1 + cos(π · epoch / T_max)) / 2``.

    >>> opt = SGD([Value(1.0)], lr=1.0); sched = CosineAnnealingLR(opt, T_max=4)
    >>> sched.step(); sched.step(); round(opt.lr, 6)
    0.5
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.optimizer, self.T_max = optimizer, int(T_max)
        self.eta_min = _checked("CosineAnnealingLR", "eta_min", eta_min)
        self.epoch = 0

    def step(self) -> None:
        self.epoch += 1
        lr0, low = self.optimizer.initial_lr, self.eta_min
        self.optimizer.lr = (
            low + (lr0 - low) * (1 + math.cos(math.pi * self.epoch / self.T_max)) / 2
        )


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


def _factor(owner: str, value: Any) -> float:
    """A schedule's multiplier: a finite number > 0 (0, negative or NaN would make a
    learning rate no optimizer accepts)."""
    number = _checked(owner, "gamma", value)
    if number == 0:
        raise ValueError(f"{owner}: gamma must be > 0, got {value}")
    return number


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
