"""``fit``: the training loop (mini-batches, validation, callbacks, a progress bar)."""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import Value, add_n, no_grad, sum_of_squares
from autograd import compile as autograd_compile
from autograd.compiler import read

from . import losses as L
from .datasets import batches
from .optim import SGD, Optimizer

LOSSES: dict[str, Callable] = {
    "mse": L.mse_loss,
    "bce": L.binary_cross_entropy,
    "bce_with_logits": L.binary_cross_entropy_with_logits,
    "cross_entropy": L.cross_entropy,
    "hinge": L.hinge_loss,
}


@dataclass
class History:
    """What ``fit`` measured, one entry per epoch (``None`` where it does not apply)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    stopped_early: bool = False
    interrupted: bool = False  # Ctrl-C ended ``fit`` early

    @property
    def epochs(self) -> int:
        return len(self.loss)


def predictions_array(out: Any) -> np.ndarray:
    """The numbers of a model's output (a Value or a list of Values) as an array."""
    if isinstance(out, Value):
        return np.asarray(out.data, dtype=np.float64)
    if isinstance(out, (np.ndarray, float)):  # a compiled step's output (its numbers)
        return np.asarray(out, dtype=np.float64)
    return np.array([predictions_array(o) for o in out], dtype=np.float64)


def _argmax(pred: np.ndarray, y: np.ndarray) -> float | None:
    if y.ndim == 2 and y.shape == pred.shape:  # one-hot rows
        return float(np.mean(pred.argmax(axis=1) == y.argmax(axis=1)))
    return float(np.mean(pred.reshape(len(y), -1).argmax(axis=1) == y))


def _as_targets(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    return pred.reshape(y.shape) if pred.size == y.size else pred


def _threshold(pred: np.ndarray, y: np.ndarray) -> float | None:
    pred, values = _as_targets(pred, y), set(np.unique(y).tolist())
    if values <= {0, 1}:
        return float(np.mean((pred > 0.5) == (y > 0.5)))
    if values <= {-1, 1}:
        return float(np.mean(np.sign(pred) == y))
    return None  # a regression


def _by_targets(pred: np.ndarray, y: np.ndarray) -> float | None:
    if pred.ndim == 2 and pred.shape[1] > 1:  # several outputs against classes: argmax
        if (y.ndim == 1 and len(y) == len(pred)) or (
            y.shape == pred.shape and np.all(y.sum(axis=1) == 1)
        ):
            return _argmax(pred, y)
    return _threshold(pred, y)


# How to read a model's outputs as answers, by name (``fit(metric=...)``): each takes the
# outputs as an array and the targets and gives the fraction right (None: a regression).
READINGS: dict[str, Callable[[np.ndarray, np.ndarray], float | None]] = {
    "argmax": _argmax,  # several outputs per sample: the largest is the class
    "sign": lambda p, y: float(np.mean(np.sign(_as_targets(p, y)) == np.sign(y))),
    "logits": lambda p, y: float(np.mean((_as_targets(p, y) > 0) == (y > 0.5))),
    "threshold": _threshold,  # each output on its own: 0/1 targets at 0.5, ±1 by the sign
    "targets": _by_targets,  # argmax if several outputs answer classes, else threshold
}
# Our losses read their outputs one way each; any other loss function is read by targets.
LOSS_READINGS = {
    "mse": "targets",
    "bce": "threshold",
    "bce_with_logits": "logits",
    "cross_entropy": "argmax",
    "hinge": "sign",
}


def accuracy(reading: str, out: Any, y: Any) -> float | None:
    """The fraction of ``out`` (a model's outputs) that answers ``y`` right, the outputs
    read as ``reading`` says (a name in ``READINGS``, or a loss's name: as that loss reads
    them); ``None`` for a regression (read by targets that are not 0/1 or -1/+1).

    >>> accuracy("sign", Value([0.3, -2.0, 0.1]), [1, -1, -1])
    0.6666666666666666
    """
    pred, y = predictions_array(out), np.asarray(y)
    return READINGS[LOSS_READINGS.get(reading, reading)](pred, y)


def scorer(metric: str | Callable | None, loss: str | Callable) -> Callable | None:
    """What ``fit(metric=...)`` scores each batch with: ``metric(out, y)`` if it is a
    function; for ``"accuracy"``, the accuracy read as ``loss`` reads its outputs (one
    of ours, by name or as the function itself; any other by the targets); for a name in
    ``READINGS``, read that way; None for None."""
    if metric is None or callable(metric):
        return metric
    if metric == "accuracy":
        ours = loss if isinstance(loss, str) else _LOSS_OF.get(loss, "mse")
        metric = LOSS_READINGS[ours]
    if metric not in READINGS:
        raise ValueError(
            f"fit: unknown metric {metric!r}; give a function, None, 'accuracy' or a "
            f"reading: {', '.join(READINGS)}"
        )
    return functools.partial(accuracy, metric)


_LOSS_OF = {fn: name for name, fn in LOSSES.items()}  # our loss functions, by identity


def fit(
    model: Any,
    X: Any,
    y: Any,
    loss: str | Callable = "mse",
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    val: tuple[Any, Any] | None = None,
    callbacks: Sequence[Callable] = (),
    progress: bool = True,
    shuffle: bool = True,
    l2: float = 0.0,
    scheduler: Any = None,
    seed: Any = None,
    l1: float = 0.0,
    transform: Callable | None = None,
    metric: str | Callable | None = "accuracy",
    compile: bool | dict = False,
) -> History:
    """Train ``model`` on ``(X, y)`` and return a :class:`History`.

    ``loss`` is a name (``mse bce bce_with_logits cross_entropy hinge``) or a function
    ``loss(output, y_batch) -> Value``. ``metric`` scores each batch besides the loss:
    ``"accuracy"`` (read as the loss reads its outputs: ``cross_entropy`` by argmax,
    ``hinge`` by sign, ...; any other loss function by the targets), the name of a way to
    read them (``argmax sign logits threshold targets``), a function
    ``metric(output, y_batch) -> float | None``, or None. ``batch_size=None`` means the full batch. ``l2``
    adds ``l2 * sum(w^2)`` to the loss (micrograd's regularization; optimizers also take
    ``weight_decay``). Each callback is called as ``cb(epoch, logs, model)`` after every
    epoch and stops training by returning True (``nn.callbacks``: ``EarlyStopping``,
    ``ReduceLROnPlateau``). The progress bar shows only when
    ``progress`` is on and stderr is a terminal. The training loss and accuracy of an
    epoch are averaged over its batches as they were seen (no second pass over the data);
    the validation numbers are computed after the epoch.

    A NaN or infinite loss stops training with a ``FloatingPointError`` naming the epoch.
    Ctrl-C (``KeyboardInterrupt``) stops it as Keras does: the optimizer step under way is
    finished or not begun (steps are atomic), ``fit`` says so on stderr and returns the
    History of the epochs completed, with ``history.interrupted`` set. The model is left
    in evaluation mode however ``fit`` ends.

    ``compile=True`` runs each batch's step compiled (``autograd.compile``): traced on the
    first batch, then replayed (a last, smaller batch traces once more), the same numbers
    to the bit; a step it cannot replay (a scalar-mode model, whose inputs are floats
    taken from the batch in Python) warns once and runs uncompiled. A dict keeps the
    compiled steps in it across calls of ``fit`` (clear it when the model's settings or
    the loss change: a replay keeps those of its trace).
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} rows but y has {len(y)}")
    if int(epochs) < 1:
        raise ValueError(f"fit: epochs must be >= 1, got {epochs}")
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; valid ones are {', '.join(LOSSES)}")
        loss_fn = LOSSES[loss]
    else:
        loss_fn = loss
    score = scorer(metric, loss)
    params = model.parameters()
    optimizer = optimizer or SGD(params, lr=0.1)
    size = len(X) if batch_size is None else int(batch_size)
    history = History()
    bar = _progress(int(epochs), progress)
    step, where = _batch_step(model, loss_fn, optimizer, params, l1, l2, compile)
    model.train()
    epoch = 0
    try:
        for epoch in range(int(epochs)):
            total, count = 0.0, 0
            right: float | None = 0.0  # None once a batch has no accuracy
            for xb, yb in batches(
                X, y, size, shuffle=shuffle, seed=seed if seed is None else seed + epoch
            ):
                where[:] = epoch, count
                value, out = step(xb if transform is None else transform(xb), yb)
                total += value * len(xb)
                count += len(xb)
                hits = None if score is None else score(out, yb)
                right = None if hits is None or right is None else right + hits * len(xb)
            # Loss and accuracy over the epoch's batches, as they were seen (as Keras
            # reports them): no second pass over the training set.
            logs: dict[str, Any] = {"loss": total / count}
            logs["accuracy"] = None if right is None else right / count
            history.loss.append(logs["loss"])
            history.accuracy.append(logs["accuracy"])
            history.lr.append(optimizer.lr)
            if val is not None:
                v = evaluate(model, val[0], val[1], loss_fn, score)
                logs["val_loss"], logs["val_accuracy"] = v["loss"], v["accuracy"]
            history.val_loss.append(logs.get("val_loss"))
            history.val_accuracy.append(logs.get("val_accuracy"))
            if scheduler is not None:
                scheduler.step()
            if bar is not None:
                bar.update(1)
                bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if v is not None})
            if any(cb(epoch, logs, model) for cb in callbacks):
                history.stopped_early = True
                break
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        if bar is not None:
            bar.close()
        model.eval()
    if history.interrupted:  # said after the bar is gone, so the line stays readable
        print(
            f"fit: interrupted in epoch {epoch + 1}; the model keeps the weights after the "
            "last complete step",
            file=sys.stderr,
        )
    return history


def _batch_step(
    model: Any,
    loss_fn: Callable,
    optimizer: Optimizer,
    params: list[Value],
    l1: float,
    l2: float,
    compiled: bool | dict,
) -> tuple[Callable, list]:
    """``fit``'s step on one batch, ``step(xb, yb) -> (loss, output)`` (a float, and the
    output's Value or, compiled, its numbers), and ``where``, the [epoch, samples] that
    its error names. ``compiled`` a dict: the compiled step kept there is reused."""
    key = (id(model), id(optimizer), loss_fn, l1, l2)
    if isinstance(compiled, dict) and key in compiled:
        return compiled[key]
    where = [0, 0]

    def finite(loss: Any) -> None:
        value = loss if type(loss) is float else np.asarray(loss).item()
        if not math.isfinite(value):
            raise FloatingPointError(
                f"fit: the loss became {value} in epoch {where[0] + 1} (after {where[1]} "
                f"samples of it); try a smaller learning rate or check the data"
            )

    def step(xb: Any, yb: Any) -> tuple[Value, Any]:
        out = model(xb)
        batch_loss = loss_fn(out, yb)
        if l2:
            batch_loss = batch_loss + l2 * sum_of_squares(params)
        if l1:
            batch_loss = batch_loss + l1 * add_n([p.abs().sum() for p in params])
        read(batch_loss, finite)  # (compiled: every replay checks it before the update)
        optimizer.zero_grad()
        batch_loss.backward()
        optimizer.step()
        return batch_loss, out

    if compiled is False or compiled is None:

        def eager(xb: Any, yb: Any) -> tuple[float, Value]:
            batch_loss, out = step(xb, yb)
            return batch_loss.item(), out

        return eager, where
    made = autograd_compile(step, fallback=True), where  # (what it cannot replay: eager)
    if isinstance(compiled, dict):
        compiled[key] = made
    return made


def evaluate(
    model: Any, X: Any, y: Any, loss: str | Callable, metric: str | Callable | None = "accuracy"
) -> dict:
    """Loss and accuracy on ``(X, y)`` without recording a graph (evaluation mode);
    ``loss`` and ``metric`` as for :func:`fit`."""
    loss_fn, score = (LOSSES[loss] if isinstance(loss, str) else loss), scorer(metric, loss)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = model(np.asarray(X))
            value = loss_fn(out, np.asarray(y)).item()
    finally:
        model.train(was_training)
    return {"loss": value, "accuracy": None if score is None else score(out, y)}


def predict(model: Any, X: Any) -> np.ndarray:
    """The model's answers for ``X`` in evaluation mode, without a graph: class indices
    (argmax) for a model with several outputs per sample, else its outputs as numbers.

    >>> from nn import Linear
    >>> m = Linear(2, 3, rng=0); m.W.data[...] = [[1, 0, 0], [0, 0, 5]]
    >>> predict(m, [[1.0, 0.0], [0.0, 1.0]])
    array([0, 2])
    """
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = predictions_array(model(np.asarray(X)))
    finally:
        model.train(was_training)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return out.reshape(len(out), -1)[:, 0] if out.ndim else out


def _progress(total: int, wanted: bool) -> Any:
    if not wanted or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but a bar is never worth a crash
        return None
    return tqdm(total=total, unit="epoch", leave=False)
