"""Optimizers (SGD, Adam, AdamW, RMSprop, Adagrad), learning-rate schedules and early
stopping.

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
        if momentum < 0 or weight_decay < 0:
            raise ValueError("SGD: momentum and weight_decay must be >= 0")
        if nesterov and not momentum:
            raise ValueError("SGD: nesterov needs a momentum > 0")
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)
        self.nesterov = bool(nesterov)
        self._buffers: list[Any] = [None] * len(self.params)

    def _update(self, i: int, w: Any, g: Any) -> Any:
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            buf = self._buffers[i]
            buf = g if buf is None else self.momentum * buf + g
            self._buffers[i] = buf
            g = g + self.momentum * buf if self.nesterov else buf
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
        if weight_decay < 0:
            raise ValueError(f"AdamW: weight_decay must be >= 0, got {weight_decay}")
        self.decoupled_decay = float(weight_decay)

    def _update(self, i: int, w: Any, g: Any) -> Any:
        return self.lr * self.decoupled_decay * w + super()._update(i, w, g)


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
        if not 0 <= alpha <= 1 or eps < 0 or weight_decay < 0 or momentum < 0:
            raise ValueError("RMSprop: needs 0 <= alpha <= 1 and eps, weight_decay, momentum >= 0")
        self.alpha, self.eps, self.weight_decay = float(alpha), float(eps), float(weight_decay)
        self.momentum, self.centered = float(momentum), bool(centered)
        n = len(self.params)
        self._square: list[Any] = [0.0] * n
        self._mean: list[Any] = [0.0] * n
        self._buffers: list[Any] = [0.0] * n

    def _update(self, i: int, w: Any, g: Any) -> Any:
        if self.weight_decay:
            g = g + self.weight_decay * w
        a = self.alpha
        sq = self._square[i] = a * self._square[i] + (1 - a) * g * g
        if self.centered:
            mean = self._mean[i] = a * self._mean[i] + (1 - a) * g
            avg = np.sqrt(sq - mean * mean) + self.eps
        else:
            avg = np.sqrt(sq) + self.eps
        if self.momentum:
            buf = self._buffers[i] = self.momentum * self._buffers[i] + g / avg
            return self.lr * buf
        return self.lr * g / avg


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
        if lr_decay < 0 or weight_decay < 0 or initial_accumulator_value < 0 or eps < 0:
            raise ValueError("Adagrad: lr_decay, weight_decay, initial value and eps must be >= 0")
        self.lr_decay, self.weight_decay, self.eps = float(lr_decay), float(weight_decay), eps
        self._sum: list[Any] = [float(initial_accumulator_value)] * len(self.params)
        self.t = 0

    def step(self) -> None:
        self.t += 1
        super().step()

    def _update(self, i: int, w: Any, g: Any) -> Any:
        if self.weight_decay:
            g = g + self.weight_decay * w
        lr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        total = self._sum[i] = self._sum[i] + g * g
        return lr * g / (np.sqrt(total) + self.eps)


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
        self.optimizer, self.T_max, self.eta_min = optimizer, int(T_max), float(eta_min)
        self.epoch = 0

    def step(self) -> None:
        self.epoch += 1
        lr0, low = self.optimizer.initial_lr, self.eta_min
        self.optimizer.lr = (
            low + (lr0 - low) * (1 + math.cos(math.pi * self.epoch / self.T_max)) / 2
        )


class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` once a metric has not improved for
    ``patience`` epochs, as ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (``mode``,
    ``threshold`` / ``threshold_mode``, ``cooldown``, ``min_lr``, ``eps``).

    Call ``step(metric)`` once per epoch, or pass it to ``fit(callbacks=[...])``, where it
    watches ``monitor`` (``val_loss`` when there is validation data, else ``loss``).

    >>> opt = SGD([Value(1.0)], lr=1.0); plateau = ReduceLROnPlateau(opt, patience=1)
    >>> for loss in (3.0, 3.0, 3.0): plateau.step(loss)
    >>> opt.lr
    0.1
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
        monitor: str | None = None,
    ) -> None:
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(
                "ReduceLROnPlateau: mode is 'min' or 'max', threshold_mode 'rel' or 'abs'"
            )
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor}")
        self.optimizer, self.mode, self.factor = optimizer, mode, float(factor)
        self.patience, self.threshold, self.threshold_mode = (
            int(patience),
            threshold,
            threshold_mode,
        )
        self.cooldown, self.min_lr, self.eps, self.monitor = int(cooldown), min_lr, eps, monitor
        self.best = math.inf if mode == "min" else -math.inf
        self.bad_epochs = 0
        self.cooldown_left = 0

    def _better(self, value: float) -> bool:
        t = self.threshold
        if self.mode == "min":
            bound = self.best * (1 - t) if self.threshold_mode == "rel" else self.best - t
            return value < bound
        bound = self.best * (1 + t) if self.threshold_mode == "rel" else self.best + t
        return value > bound

    def step(self, metric: float) -> None:
        value = float(metric)
        if self._better(value):
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0
        if self.bad_epochs > self.patience:
            new = max(self.optimizer.lr * self.factor, self.min_lr)
            if self.optimizer.lr - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_left, self.bad_epochs = self.cooldown, 0

    def __call__(self, epoch: int, logs: dict, model: Any = None) -> bool:
        key = self.monitor or ("val_loss" if logs.get("val_loss") is not None else "loss")
        self.step(logs[key])
        return False
