"""Learning-rate schedules, as ``torch.optim.lr_scheduler``'s: each sets its optimizer's
``lr`` from ``initial_lr`` when ``step()`` is called, once per epoch. (The schedule that
watches the loss, ``ReduceLROnPlateau``, is a ``fit`` callback, in ``nn.callbacks``.)
"""

from __future__ import annotations

import math
from typing import Any

from .optimizer import Optimizer, _checked


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


class CosineAnnealingLR:
    """The learning rate follows half a cosine from its initial value down to ``eta_min``
    over ``T_max`` epochs (call ``step()`` once per epoch), as
    ``torch.optim.lr_scheduler.CosineAnnealingLR``:
    ``lr = eta_min + (lr0 - eta_min) · (1 + cos(π · epoch / T_max)) / 2``.

    >>> from autograd import Value
    >>> from nn import SGD
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


def _factor(owner: str, value: Any) -> float:
    """A schedule's multiplier: a finite number > 0 (0, negative or NaN would make a
    learning rate no optimizer accepts)."""
    number = _checked(owner, "gamma", value)
    if number == 0:
        raise ValueError(f"{owner}: gamma must be > 0, got {value}")
    return number
