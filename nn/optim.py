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
    """Holds the parameters and the learning rate ``lr``; ``step()`` updates in place."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimize")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, not a Value"
                )
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError(
                f"{type(self).__name__}: learning rate must be a positive number, got {lr}"
            )
        self.lr = float(lr)
        self.initial_lr = self.lr

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        for i, p in enumerate(self.params):
            g = p.grad
            if type(p.data) is float:
                p.data = float(p.data - self._update(i, p.data, g))
            else:
                p.data -= self._update(i, p.data, g).astype(p.data.dtype, copy=False)

    def _update(self, i: int, w: Any, g: Any) -> Any:
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
        if momentum < 0 or weight_decay < 0:
            raise ValueError("SGD: momentum and weight_decay must be >= 0")
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)
        self._buffers: list[Any] = [None] * len(self.params)

    def _update(self, i: int, w: Any, g: Any) -> Any:
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            buf = self._buffers[i]
            buf = g if buf is None else self.momentum * buf + g
            self._buffers[i] = buf
            g = buf
        return self.lr * g


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
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas}")
        self.betas, self.eps, self.weight_decay = (
            (float(betas[0]), float(betas[1])),
            float(eps),
            float(weight_decay),
        )
        self._m: list[Any] = [0.0] * len(self.params)
        self._v: list[Any] = [0.0] * len(self.params)
        self.t = 0

    def step(self) -> None:
        self.t += 1
        super().step()

    def _update(self, i: int, w: Any, g: Any) -> Any:
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * w
        m = self._m[i] = b1 * self._m[i] + (1 - b1) * g
        v = self._v[i] = b2 * self._v[i] + (1 - b2) * g * g
        bias1 = 1 - b1**self.t
        bias2 = 1 - b2**self.t
        denom = np.sqrt(v) / math.sqrt(bias2) + self.eps
        return (self.lr / bias1) * m / denom


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
    data, else ``loss``) has not improved by ``min_delta`` for ``patience`` epochs. With
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
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            if self._best_state is not None:
                model.load_state_dict(self._best_state)
            return True
        return False
