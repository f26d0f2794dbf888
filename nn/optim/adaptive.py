"""The adaptive optimizers, which scale each weight's step by the history of its own
gradients: ``Adam``, ``AdamW``, ``RMSprop`` and ``Adagrad``, as ``torch.optim``'s."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from autograd import Value

from .optimizer import Optimizer, _checked, _minus


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
