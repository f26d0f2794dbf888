"""Loss functions. Each takes a tensor Value or a list of scalar Values (scalar mode)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value, apply, ops, stack, where
from autograd.quiet import quiet


def as_prediction(pred: Any) -> Value:
    """A tensor Value from a Value or a (nested) list of Values and numbers."""
    if isinstance(pred, Value):
        if pred.size == 0:  # a mean over nothing: numpy warns and says nan
            raise ValueError(f"loss: got an empty batch of predictions, shape {pred.shape}")
        return pred
    if isinstance(pred, (list, tuple)):
        if not pred:
            raise ValueError("loss: got an empty list of predictions")
        if isinstance(pred[0], (list, tuple)):
            return stack([as_prediction(row) for row in pred])
        return stack(list(pred))
    raise TypeError(
        f"loss: predictions must be a Value or a list of Values, got {type(pred).__name__}"
    )


def _targets(target: Any, pred: Value, name: str, broadcast: bool = False) -> np.ndarray:
    """The targets as an array of ``pred``'s shape and dtype, or a ``ValueError``.

    Shapes must be equal, as torch requires; ``(N,)`` targets for ``(N, 1)`` outputs
    are taken on purpose (a one-output model and its labels, used all over the project).
    With ``broadcast`` (``mse_loss``, ``hinge_loss``, as torch's ``mse_loss``) targets
    that broadcast *into* the predictions' shape are taken too, and one number against
    one number in any shapes (a scalar network's output () and ``[y]``, which torch
    takes with a warning); never a broadcast that makes a bigger result, such as (N, 1)
    targets against (N,) predictions -> (N, N).
    Reshaping a target of the same size but another shape, (2, 3) for (3, 2), is refused:
    it pairs the wrong numbers.
    """
    y = np.asarray(target.data if isinstance(target, Value) else target, dtype=np.float64)
    shape = pred.shape
    if y.shape != shape:
        if len(shape) == 2 and shape[1] == 1 and y.shape == shape[:1]:
            y = y.reshape(shape)
        elif broadcast and _broadcasts_into(y.shape, shape):
            y = np.broadcast_to(y, shape)
        elif broadcast and y.size == 1 and pred.size == 1:
            y = y.reshape(shape)  # one number each side, e.g. a scalar net's output and [y]
        else:
            raise ValueError(
                f"{name}: predictions have shape {shape}, targets {y.shape}; they must be "
                f"the same (or targets (N,) for predictions (N, 1))"
            )
    return y.astype(pred.dtype, copy=False)


def _broadcasts_into(small: tuple, shape: tuple) -> bool:
    if len(small) > len(shape):
        return False
    return all(n in (1, m) for n, m in zip(small[::-1], shape[::-1]))


def mse_loss(pred: Any, target: Any) -> Value:
    """Mean of (pred - target)^2, as one node (``ops.MSE``).

    >>> mse_loss(Value([1.0, 2.0]), [1.0, 4.0]).data
    2.0
    """
    p = as_prediction(pred)
    return apply(ops.MSE, p, _targets(target, p, "mse_loss", broadcast=True))


def binary_cross_entropy(prob: Any, target: Any, eps: float = ops.BCE_EPS) -> Value:
    """Mean of -(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1], as torch
    computes it: each log clamped at -100 (p = 0 or 1 costs at most 100), the gradient
    (p - y) / max(p (1 - p), eps). A NaN p gives a NaN loss (torch raises); any other p
    outside [0, 1] is a ``ValueError``. Prefer ``binary_cross_entropy_with_logits``.

    >>> binary_cross_entropy(Value([1.0, 0.0]), [1.0, 0.0]).data
    0.0
    """
    p = as_prediction(prob)
    y = _targets(target, p, "binary_cross_entropy")
    _check_01(y, "binary_cross_entropy", "targets")
    _check_01(np.asarray(p.data), "binary_cross_entropy", "probabilities")
    return apply(ops.BINARY_CROSS_ENTROPY, p, y, params=(float(eps),))


def binary_cross_entropy_with_logits(logits: Any, target: Any) -> Value:
    """``binary_cross_entropy(sigmoid(z), y)`` computed stably from the logits z, as one
    node (``ops.BCE_WITH_LOGITS``) whose gradient is ``(sigmoid(z) - y) / N``, torch's:
    0.5 - y at z = 0. Finite for every finite z; at z = +-inf it is the loss's limit
    (0 or inf), where torch's formula gives NaN.

    >>> z = Value([0.0]); binary_cross_entropy_with_logits(z, [1.0]).backward(); z.grad
    array([-0.5])
    """
    z = as_prediction(logits)
    y = _targets(target, z, "binary_cross_entropy_with_logits")
    _check_01(y, "binary_cross_entropy_with_logits", "targets")
    return apply(ops.BCE_WITH_LOGITS, z, y)


def cross_entropy(logits: Any, labels: Any) -> Value:
    """Softmax cross-entropy: mean of -log softmax(logits)[label], from logits (N, C) and
    integer class labels (N,). Stable at logits of +-1000.

    >>> round(cross_entropy(Value([[2.0, 0.0]]), [0]).item(), 4)
    0.1269
    """
    z = as_prediction(logits)
    if z.ndim == 1:
        z = z.reshape(1, -1)
    if z.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {z.shape}")
    y = np.asarray(labels.data if isinstance(labels, Value) else labels)
    if y.ndim == 0:
        y = y.reshape(1)
    n, c = z.shape
    if y.shape != (n,):
        raise ValueError(f"cross_entropy: {n} rows of logits but labels of shape {y.shape}")
    if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu":
        raise ValueError(
            f"cross_entropy: labels must be integer class indices, got dtype {y.dtype}"
        )
    if n and (y.min() < 0 or y.max() >= c):
        raise ValueError(
            f"cross_entropy: labels must be in [0, {c - 1}], got values from {y.min()} to {y.max()}"
        )
    with quiet():  # inf - inf at an infinite logit: nan
        return apply(ops.CROSS_ENTROPY, z, params=(y, []))


def nll_loss(
    log_probs: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Value:
    """The negative log-likelihood of the target classes, ``-log_probs[n, target[n]]``,
    from log-probabilities ``(N, C)`` (``log_softmax``'s output; or ``(C,)``, or ``(N, C,
    d1, ...)`` with targets ``(N, d1, ...)``), as ``torch.nn.functional.nll_loss``: each
    class's loss times its ``weight``; targets equal to ``ignore_index`` count for
    nothing; ``reduction`` ``"mean"`` (divided by the weights taken: nan when every
    target is ignored, as torch), ``"sum"`` or ``"none"`` (one loss per target).

    >>> round(nll_loss(Value([[-0.1, -2.3], [-1.2, -0.4]]), [0, 1]).item(), 4)
    0.25
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"nll_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    x = as_prediction(log_probs)
    y = _class_labels(target, "nll_loss")
    if x.ndim == 1 and y.ndim == 0:  # one sample
        x, y, shape = x.reshape(1, -1), y.reshape(1), ()
    else:
        shape = y.shape
    if x.ndim < 2 or y.shape != (x.shape[0],) + x.shape[2:]:
        raise ValueError(
            f"nll_loss: log-probabilities of shape {x.shape} need targets of shape "
            f"{(x.shape[0],) + x.shape[2:] if x.ndim >= 2 else '(N,)'}, got {y.shape}"
        )
    n_classes = x.shape[1]
    taken = y != ignore_index
    if taken.any() and (y[taken].min() < 0 or y[taken].max() >= n_classes):
        raise ValueError(
            f"nll_loss: targets must be in [0, {n_classes - 1}] (or ignore_index "
            f"{ignore_index}), got values from {y[taken].min()} to {y[taken].max()}"
        )
    w = np.ones(n_classes) if weight is None else np.asarray(_data(weight), dtype=np.float64)
    if w.shape != (n_classes,):
        raise ValueError(f"nll_loss: weight must have shape ({n_classes},), got {w.shape}")
    classes = np.where(taken, y, 0)
    picked = x.take_along_axis(classes[:, None], axis=1).reshape(y.shape)
    weights = np.where(taken, w[classes], 0.0).astype(x.dtype)
    losses = -(where(taken, picked, 0.0) * weights)  # an ignored -inf is left out, not 0 * inf
    if reduction == "none":
        return losses.reshape(shape)
    if reduction == "sum":
        return losses.sum()
    with quiet():  # every target ignored: 0 / 0, nan as torch
        return losses.sum() / weights.sum()


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _class_labels(labels: Any, name: str) -> np.ndarray:
    """Integer class labels (floats holding whole numbers are taken), else a ValueError."""
    y = np.asarray(_data(labels))
    if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu":
        raise ValueError(f"{name}: targets must be integer class indices, got dtype {y.dtype}")
    return y.astype(np.int64)


def hinge_loss(scores: Any, target: Any) -> Value:
    """Mean of max(0, 1 - y * score) for targets y in {-1, +1} (micrograd's moons loss).

    >>> hinge_loss(Value([2.0, -0.5]), [1, 1]).data
    0.75
    """
    s = as_prediction(scores)
    y = _targets(target, s, "hinge_loss", broadcast=True)
    if not ((y == 1.0) | (y == -1.0)).all():
        raise ValueError("hinge_loss: targets must be -1 or +1")
    with quiet():
        return apply(ops.HINGE, s, y)  # mean(max(0, 1 - s*y)) as one node


def _check_01(y: np.ndarray, name: str, what: str) -> None:
    """Refuse numbers outside [0, 1]; NaN passes (it makes a NaN loss, which ``fit``
    reports naming the epoch)."""
    if y.size and (np.nanmin(y, initial=0.0) < 0 or np.nanmax(y, initial=1.0) > 1):
        raise ValueError(
            f"{name}: {what} must be in [0, 1], got values from {np.nanmin(y)} to {np.nanmax(y)}"
        )
