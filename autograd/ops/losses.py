"""The loss functions of ``nn.losses``, each one node whose gradient is written out.

None has an ONNX translation: ``export_onnx`` writes a model's forward pass, which
holds no training loss."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..quiet import quiet
from .activations import _sigmoid
from .op import _RAW, Op, Without, _exp, broadcast_to, raw, shape_of, sum_to
from .reductions import _log_softmax, _mean, mean_all
from .shape import scatter_add


# The hinge loss mean(max(0, 1 - s*y)) in one node (instead of *, -, relu and mean).
def _hinge(s, y):
    return float(mean_all(np.maximum(1.0 - s * y, 0.0)))


def _hinge_vjp(g, out, a, other):
    """d/da of mean(max(0, 1 - a * other)): -other / N where the margin is violated."""
    if type(a) is np.ndarray and type(other) is np.ndarray and type(g) is float:
        # Arrays (every vectorized hinge step): the same products as below, each in the
        # array the one before made, and "1.0 *" (the usual g) left out, as it changes no
        # bit. Fewer temporaries, and no np.size (vector moons step 1081.5k -> 1071.9k
        # instructions, callgrind).
        margin = np.multiply(a, other)
        np.subtract(1.0, margin, out=margin)
        active = np.multiply(margin > 0, -1.0 / margin.size)
        if g != 1.0:
            np.multiply(g, active, out=active)
        if active.shape == a.shape:
            return np.multiply(active, other, out=active)
        return sum_to(active * other, a.shape)
    margin = 1.0 - raw(a) * raw(other)
    active = (margin > 0) * (-1.0 / np.size(margin))  # a constant, even under create_graph
    return sum_to(g * active * other, shape_of(a))


_NOT_A_MODEL = Without("a training loss: export_onnx writes a model's forward pass")
HINGE = Op(
    "hinge",
    _hinge,
    _hinge_vjp,
    lambda g, out, s, y: _hinge_vjp(g, out, y, s),
    onnx=_NOT_A_MODEL,
    torch=lambda t, s, y: t.clamp(1 - s * y, min=0).mean(),
)


# ---------------------------------------------------------------- fused losses (nn.losses)
# Each loss below is one node whose gradient is written out, as PyTorch's are. Composed from
# smaller ops they got edge values wrong: relu'(0) = abs'(0) = 0 made the gradient of
# BCE-with-logits -y at a logit of exactly 0 (every zero-initialised output layer) instead
# of 0.5 - y; an infinite logit gave inf - inf; bce's log(p + eps) went below 0 at p = 1;
# 1e308 ** 2 warned. The forwards silence numpy's warnings because an inf or nan result is
# the answer (and ``fit`` reports a non-finite loss itself). The target's vjp exists for
# completeness; a constant target is never asked for one.


def _sigmoid_of(x: Any) -> Any:
    return _sigmoid(x) if isinstance(x, _RAW) else x.sigmoid()


def _n(x: Any) -> int:
    return int(np.size(raw(x)))


def _weighted(w: Any, x: Any) -> Any:
    """``w * x`` with 0 * inf = 0: a zero weight ignores an infinite term (the loss's limit)."""
    with quiet():
        return np.where(w == 0, 0.0, w * x)


def _bce_with_logits(z, y):
    """mean(max(z, 0) (1 - y) + max(-z, 0) y + log(1 + exp(-|z|))), finite where its limit is."""
    with quiet():
        loss = (
            _weighted(1.0 - y, np.maximum(z, 0.0))
            + _weighted(y, np.maximum(-z, 0.0))
            + np.log1p(np.exp(-np.abs(z)))
        )
        return float(mean_all(loss))


BCE_WITH_LOGITS = Op(
    "bce_with_logits",
    _bce_with_logits,
    lambda g, out, z, y: (_sigmoid_of(z) - y) * (g / _n(z)),
    lambda g, out, z, y: -z * (g / _n(z)),
    local=("σ({a}) - {b}", "-{a}"),  # for one number; a batch divides by N (the mean)
    onnx=_NOT_A_MODEL,
    torch=lambda t, z, y: t.nn.functional.binary_cross_entropy_with_logits(z, y),
)

# torch's BCE: each log clamped at -100 (so p = 0 or 1 costs at most 100, never inf or a
# negative number), and the gradient (p - y) / max(p (1 - p), eps) with eps torch's EPSILON.
BCE_EPS = float(np.float32(1e-12))


def _clamped_logs(p):
    if not isinstance(p, _RAW):  # create_graph: the same numbers, recorded on p
        return p.log().maximum(-100.0), (-p).log1p().maximum(-100.0)
    with quiet():
        return np.maximum(np.log(p), -100.0), np.maximum(np.log1p(-p), -100.0)


def _bce(p, y, eps):
    log_p, log_1mp = _clamped_logs(p)
    with quiet():
        return float(mean_all((y - 1.0) * log_1mp - y * log_p))


def _bce_vjp(g, out, p, y, eps):
    spread = (1.0 - p) * p
    # max(spread, eps) as the floor's constant offset: the same number, and under
    # create_graph the gradient of p (1 - p) itself.
    floor = np.maximum(raw(spread), eps) - raw(spread)
    with quiet():
        return (p - y) / (spread + floor) * (g / _n(p))


def _bce_vjp_target(g, out, p, y, eps):
    log_p, log_1mp = _clamped_logs(p)
    return (log_1mp - log_p) * (g / _n(p))


BINARY_CROSS_ENTROPY = Op(
    "bce",
    _bce,
    _bce_vjp,
    _bce_vjp_target,
    local=("({a} - {b}) / ({a}·(1 - {a}))", "log(1 - {a}) - log({a})"),
    onnx=_NOT_A_MODEL,
    torch=lambda t, p, y, eps: t.nn.functional.binary_cross_entropy(p, y),
)


# Softmax cross-entropy from logits (N, C) and integer labels (N,): one node where
# log_softmax, picking each row's label, mean and minus were four. Its parameters are the
# labels and ``saved``, a list the forward leaves the log-probabilities in for the vjp
# (torch's ``ctx.save_for_backward``: computing them again cost as much as the forward).
# The forward takes the four nodes' steps (the same loss to the bit); the gradient,
# (softmax - onehot) * g / N, is their four rules applied in turn, without the (N, C)
# zeros-and-scatter of indexing's rule in between.
def _cross_entropy(z, labels, saved):
    log_p = _log_softmax(z, 1)
    saved[:] = [log_p]
    return -_mean(log_p[np.arange(len(labels)), labels], None, False)


def _cross_entropy_vjp(g, out, z, labels, saved):
    n = shape_of(z)[0]
    share = -g * (1.0 / n) if n else -g  # minus's rule, then mean's: each row's part
    rows = np.arange(n)
    if isinstance(z, _RAW) and isinstance(share, _RAW):
        picked = np.zeros(z.shape, dtype=np.result_type(z.dtype, np.float32))
        picked[rows, labels] = share  # indexing's rule: one label a row, nothing adds up
        return picked - np.exp(saved[0]) * share  # log_softmax's rule
    # create_graph: the same rules on Values, so the gradient can be differentiated again
    picked = scatter_add(broadcast_to(share, (n,)), (rows, labels), shape_of(z))
    log_p = z.log_softmax(axis=1) if not isinstance(z, _RAW) else saved[0]
    return picked - _exp(log_p) * share


CROSS_ENTROPY = Op(
    "cross_entropy",
    _cross_entropy,
    _cross_entropy_vjp,
    show="cross_entropy({a}, labels)",
    onnx=_NOT_A_MODEL,
    torch=lambda t, z, labels, saved: t.nn.functional.cross_entropy(z, t.as_tensor(labels)),
)


def _mse(p, y):
    with quiet():
        d = p - y
        return float(mean_all(d * d))


def _mse_vjp(g, out, p, y):
    with quiet():
        if type(p) is np.ndarray and type(y) is np.ndarray and type(g) is float:
            # The same three products, in place in the first one's new array; "* 1.0" (the
            # usual seed) changes no bit and is left out.
            d = np.subtract(p, y)
            d *= 2.0 / p.size
            if g != 1.0:
                d *= g
            return d
        return (p - y) * (2.0 / _n(p)) * g


MSE = Op(
    "mse",
    _mse,
    _mse_vjp,
    lambda g, out, p, y: -_mse_vjp(g, out, p, y),
    local=("2·({a} - {b})", "-2·({a} - {b})"),
    onnx=_NOT_A_MODEL,
    torch=lambda t, p, y: t.nn.functional.mse_loss(p, y),
)
