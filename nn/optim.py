"""Optimizers (SGD, Adam), learning-rate schedules and early stopping.

The update rules follow PyTorch's documented algorithms, so one step of ``SGD`` or
``Adam`` here equals one step of ``torch.optim``'s on the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from autograd import Value


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
        """Set every parameter's gradient to zero."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter once (atomically, see the class docstring)."""
        # An overflowing or NaN update is an answer, as in torch (fit then stops on the
        # non-finite loss and says why), not a numpy warning.
        with np.errstate(over="ignore", invalid="ignore"):
            new, state = self._updates()
        try:
            self._write(new, state)
        except KeyboardInterrupt:
            # Ctrl-C while writing: finish the step, then stop. Writing the same numbers
            # again is harmless, so no bookkeeping of how far the first pass got is needed
            # (and the normal path pays nothing, unlike holding SIGINT around it).
            self._write(new, state)
            raise

    def _write(self, new: list, state: dict) -> None:
        for p, data in zip(self.params, new):
            if type(p.data) is float:
                p.data = data
            else:
                p.data[...] = data
        vars(self).update(state)

    def _updates(self) -> tuple[list, dict]:
        """Every parameter's new data and the optimizer's new state (attribute name ->
        value), computed without changing anything."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: ``w -= lr * (g + weight_decay * w)``, with optional
    momentum (``buf = momentum * buf + g``, as ``torch.optim.SGD``)."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _checked("SGD", "momentum", momentum)
        self.weight_decay = _checked("SGD", "weight_decay", weight_decay)
        self._buffers: list[Any] = [None] * len(self.params)

    def _updates(self) -> tuple[list, dict]:
        lr, momentum, decay = self.lr, self.momentum, self.weight_decay
        new, buffers = [], list(self._buffers)
        for i, p in enumerate(self.params):
            w, g = p.data, p.grad
            if decay:
                g = g + decay * w
            if momentum:
                buf = buffers[i]
                # A copy: the first buffer must not be the gradient array itself, which a
                # later backward() without zero_grad() adds to in place.
                buf = (g if type(g) is float else np.copy(g)) if buf is None else momentum * buf + g
                buffers[i] = g = buf
            new.append(_minus(w, lr * g))
        return new, {"_buffers": buffers}


class Adam(Optimizer):
    """Adam (Kingma & Ba), with bias correction and L2 ``weight_decay`` added to the
    gradient, as ``torch.optim.Adam``."""

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
        self.t = 0

    def _updates(self) -> tuple[list, dict]:
        (b1, b2), eps, decay = self.betas, self.eps, self.weight_decay
        t = self.t + 1
        step_size = self.lr / (1 - b1**t)
        sqrt_bias2 = math.sqrt(1 - b2**t)
        new, ms, vs = [], list(self._m), list(self._v)
        for i, p in enumerate(self.params):
            w, g = p.data, p.grad
            if decay:
                g = g + decay * w
            m = ms[i] = b1 * ms[i] + (1 - b1) * g
            v = vs[i] = b2 * vs[i] + (1 - b2) * g * g
            new.append(_minus(w, step_size * m / (np.sqrt(v) / sqrt_bias2 + eps)))
        return new, {"t": t, "_m": ms, "_v": vs}


class StepLR:
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs (call ``step()``
    once per epoch)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.optimizer, self.step_size, self.gamma = optimizer, int(step_size), float(gamma)
        self.epoch = 0

    def step(self) -> None:
        self.epoch += 1
        self.optimizer.lr = self.optimizer.initial_lr * self.gamma ** (self.epoch // self.step_size)


class ExponentialLR:
    """Multiply the learning rate by ``gamma`` every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.optimizer, self.gamma = optimizer, float(gamma)
        self.epoch = 0

    def step(self) -> None:
        self.epoch += 1
        self.optimizer.lr = self.optimizer.initial_lr * self.gamma**self.epoch


class EarlyStopping:
    """A ``fit`` callback: stop when ``monitor`` (``val_loss`` when there is validation
    data, else ``loss``) has not improved by ``min_delta`` for ``patience`` epochs in a
    row, as Keras does (``patience=0`` stops at the first epoch without gain). With
    ``restore_best`` the model gets back its weights from the best epoch."""

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        monitor: str | None = None,
        restore_best: bool = False,
    ) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.patience, self.min_delta, self.monitor = int(patience), float(min_delta), monitor
        self.restore_best = restore_best
        self.best = math.inf
        self.best_epoch = -1
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._best_state: dict | None = None

    def __call__(self, epoch: int, logs: dict, model: Any = None) -> bool:
        key = self.monitor or ("val_loss" if logs.get("val_loss") is not None else "loss")
        value = logs[key]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best and model is not None:
                self._best_state = model.state_dict()
            return False
        self.wait += 1
        if self.wait >= self.patience:  # Keras: stop after `patience` epochs without gain
            self.stopped_epoch = epoch
            if self._best_state is not None:
                model.load_state_dict(self._best_state)
            return True
        return False


def _checked(owner: str, what: str, value: Any) -> float:
    """``value`` as a float, refusing what torch refuses (negative) and what no step can
    use (NaN, infinite, not a number at all)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: {what} must be a number, got {value!r}") from None
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
