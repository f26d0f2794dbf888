"""The n-ary functions: many Values in, one node out.

``add_n``, ``weighted_sum``, ``linear`` and ``sum_of_squares`` fuse a common pattern into
one node (a smaller graph, a faster backward, a drawing that reads like the formula);
``concat`` and ``stack`` join values; ``apply`` uses any :class:`~autograd.ops.Op`.
Numbers and arrays may stand in for Values: they become constants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops, value
from .arguments import normalize_axis
from .value import Value, _apply, _constant, _data_of

_JUST_VALUE = {Value}


def add_n(values: Sequence[Any]) -> Value:
    """``values[0] + values[1] + ...`` as a single node (one "+" with many inputs).

    A neuron's weighted sum is one node this way instead of a chain of n additions:
    half the graph of a scalar network, and a drawing that reads like the formula.

    >>> add_n([Value(1.0), Value(2.0), 3.0]).data
    6.0
    """
    parts = tuple(v if type(v) is Value else _lift_all([v], "add_n")[0] for v in values)
    if not parts:
        raise ValueError("add_n: needs a non-empty list of values")
    if len(parts) == 1:
        return parts[0]
    return _apply(ops.add_n_op(len(parts)), parts)


def weighted_sum(weights: Sequence[Any], inputs: Sequence[Any], bias: Any = None) -> Value:
    """``w1*x1 + ... + wn*xn + bias`` as one node (a neuron's pre-activation).

    Every weight, input and the bias keeps its own gradient; the products are not
    separate nodes, which makes a scalar network's graph several times smaller (and
    its training as much faster). Numbers may stand in for Values (constants).

    >>> w = [Value(0.0), Value(1.0)]
    >>> n = weighted_sum(w, [2.0, 3.0], Value(4.0)); n.backward()
    >>> n.data, w[0].grad, w[1].grad
    (7.0, 2.0, 3.0)
    """
    if len(weights) != len(inputs):
        raise ValueError(
            f"weighted_sum: {len(weights)} weights but {len(inputs)} inputs; they must pair up"
        )
    if not len(weights):
        raise ValueError("weighted_sum: needs at least one weight and input")
    parts = (*weights, *inputs) if bias is None else (*weights, *inputs, bias)
    op = ops.weighted_sum_op(len(weights), bias is not None)
    # A neuron's forward, the scalar hot path: asking what the parts are costs as much as
    # the sum itself (~350 instructions a part, either way). So the sum is tried first:
    # a number among the parts has no ``_data``, and an array refuses ``forward_floats``
    # (which ``weighted_sum_op`` always sets).
    try:
        out = op.forward_floats(*map(_data_of, parts))  # type: ignore[misc]
    except (AttributeError, TypeError):
        return _apply(op, tuple(_lift_all(parts, "weighted_sum")))
    return value.record(out, op, parts)  # (a compiled step's trace swaps value.record)


def apply(op: ops.Op, *inputs: Any, params: tuple = ()) -> Value:
    """Apply an :class:`~autograd.ops.Op` to ``inputs`` (numbers become constants);
    ``params`` are its extra non-input arguments. How a new op gets used:

    >>> from autograd import ops
    >>> apply(ops.HINGE, Value([2.0, -0.5]), [1.0, 1.0]).data
    0.75
    """
    return _apply(op, tuple(_lift_all(inputs, op.name)), params)


def linear(x: Any, W: Any, b: Any) -> Value:
    """``x @ W + b`` as one node (a dense layer; ``W`` is (nin, nout)).

    >>> linear(Value([[1.0, 2.0]]), Value([[1.0], [1.0]]), Value([0.5])).data
    array([[3.5]])
    """
    if type(x) is np.ndarray:  # a batch into the first layer: the constant _lift_all makes
        x = _constant(x)  # (without its loop over all three: every step of an MLP)
    parts: tuple = (x, W, b)
    if set(map(type, parts)) != _JUST_VALUE:
        parts = tuple(_lift_all(parts, "linear"))
    return _apply(ops.LINEAR, parts)


def sum_of_squares(values: Sequence[Any]) -> Value:
    """The sum of the squares of every number in ``values`` (scalars and tensors), as one
    node: an L2 penalty without a square and a sum node per parameter.

    >>> sum_of_squares([Value(3.0), Value([1.0, 2.0])]).data
    14.0
    """
    if type(values) is list and values and set(map(type, values)) == _JUST_VALUE:
        parts = tuple(values)  # model.parameters(): nothing to lift (an L2 term, every step)
    else:
        parts = tuple(_lift_all(values, "sum_of_squares"))
    return _apply(ops.sum_of_squares_op(len(parts)), parts)


def concat(values: Sequence[Any], axis: int = 0) -> Value:
    """Join values along an existing axis (numpy.concatenate with gradients).

    >>> concat([Value([1.0, 2.0]), Value([3.0])]).data
    array([1., 2., 3.])
    """
    parts = _lift_all(values, "concat")
    ndim = parts[0].ndim
    if ndim == 0:
        raise ValueError("concat: cannot concatenate 0-d values; use stack")
    (ax,) = normalize_axis(axis, ndim, "concat")
    for p in parts:
        rest_p = p.shape[:ax] + p.shape[ax + 1 :]
        rest_0 = parts[0].shape[:ax] + parts[0].shape[ax + 1 :]
        if p.ndim != ndim or rest_p != rest_0:
            raise ValueError(
                f"concat: shapes {[q.shape for q in parts]} differ outside axis {axis}"
            )
    return _apply(ops.concat_op(len(parts)), tuple(parts), (ax,))


def stack(values: Sequence[Any], axis: int = 0) -> Value:
    """Join values of the same shape along a new axis (numpy.stack with gradients).

    >>> stack([Value(1.0), Value(2.0)]).shape
    (2,)
    """
    parts = _lift_all(values, "stack")
    shapes = {p.shape for p in parts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all values need the same shape, got {[p.shape for p in parts]}")
    (ax,) = normalize_axis(axis, parts[0].ndim + 1, "stack")
    return _apply(ops.stack_op(len(parts)), tuple(parts), (ax,))


def _lift_all(values: Sequence[Any], op: str) -> list[Value]:
    if isinstance(values, Value) or not len(values):
        raise ValueError(f"{op}: needs a non-empty list of values")
    parts = []
    for v in values:
        lifted = v if isinstance(v, Value) else _constant(v)
        if lifted is None:
            raise TypeError(f"{op}: cannot use a {type(v).__name__} as a value")
        parts.append(lifted)
    return parts


# ---------------------------------------------------------------- selection
def where(condition: Any, a: Any, b: Any) -> Value:
    """``a`` where ``condition`` holds, else ``b`` (numpy broadcasting); the condition is
    data (a bool array, or a 0/1 mask such as ``v.gt(0)``) and gets no gradient.

    >>> where(np.array([True, False]), Value([1.0, 2.0]), 0.0).data
    array([1., 0.])
    """
    cond = np.asarray(condition._data if isinstance(condition, Value) else condition)
    va, vb = _lift_all([a, b], "where")
    try:
        np.broadcast_shapes(cond.shape, va.shape, vb.shape)
    except ValueError:
        raise ValueError(
            f"where: condition of shape {cond.shape}, a of shape {va.shape} and b of shape "
            f"{vb.shape} do not broadcast together"
        ) from None
    dtype = np.result_type(va.dtype, vb.dtype)
    mask = cond.astype(bool).astype(dtype)
    return _apply(ops.WHERE, (va, vb), (mask if mask.ndim else float(mask),))


def maximum(a: Any, b: Any) -> Value:
    """Elementwise larger of ``a`` and ``b`` (broadcasting); ties share the gradient.

    >>> maximum(Value([1.0, 4.0]), [3.0, 2.0]).data
    array([3., 4.])
    """
    return _apply(ops.MAXIMUM, tuple(_lift_all([a, b], "maximum")))


def minimum(a: Any, b: Any) -> Value:
    """Elementwise smaller of ``a`` and ``b`` (broadcasting); ties share the gradient.

    >>> minimum(Value([1.0, 4.0]), [3.0, 2.0]).data
    array([1., 2.])
    """
    va, vb = _lift_all([a, b], "minimum")
    return va.minimum(vb)


def one_hot(labels: Any, num_classes: int) -> Value:
    """Integer labels ``(...)`` as a constant ``(..., num_classes)`` of 0s and a 1.

    >>> one_hot([2, 0], 3).data
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    y = np.asarray(labels._data if isinstance(labels, Value) else labels)
    if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
        y = y.astype(np.int64)
    if y.dtype.kind not in "iub":
        raise ValueError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    y = y.astype(np.int64)  # booleans too: as indices, never as a mask
    if isinstance(num_classes, (bool, np.bool_)) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot: num_classes must be an integer, got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be >= 1, got {num_classes}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"one_hot: labels must be in [0, {num_classes - 1}], got values from "
            f"{y.min()} to {y.max()} (labels of shape {y.shape})"
        )
    out = np.zeros(y.shape + (int(num_classes),))  # (not np.eye(n)[y]: n² numbers)
    np.put_along_axis(out, y[..., None], 1.0, axis=-1)
    return Value(out, requires_grad=False)
