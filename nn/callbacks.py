"""``fit``'s callbacks: ``EarlyStopping`` and ``ReduceLROnPlateau``.

A callback is called as ``callback(epoch, logs, model)`` after every epoch of ``fit``
(``logs``: the epoch's ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``) and stops
training by returning True. Both here watch ``monitor``: ``val_loss`` when there is
validation data, else ``loss``.
"""

from __future__ import annotations

import math
from typing import Any

from .optim import Optimizer


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
        value = watched(logs, self.monitor)
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


class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` once a metric has not improved for
    ``patience`` epochs, as ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (``mode``,
    ``threshold`` / ``threshold_mode``, ``cooldown``, ``min_lr``, ``eps``).

    Call ``step(metric)`` once per epoch, or pass it to ``fit(callbacks=[...])``, where it
    watches ``monitor`` (``val_loss`` when there is validation data, else ``loss``).

    >>> from autograd import Value
    >>> from nn import SGD
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
        self.step(watched(logs, self.monitor))
        return False


def watched(logs: dict, monitor: str | None) -> float:
    """The number a callback watches: ``logs[monitor]``, or by default the validation
    loss when there is one, else the training loss."""
    key = monitor or ("val_loss" if logs.get("val_loss") is not None else "loss")
    return logs[key]
