"""The n-ary functions: many Values in, one node out.

``add_n``, ``weighted_sum``, ``linear`` and ``sum_of_squares`` fuse a common pattern into
one node (a smaller graph, a faster backward, a drawing that reads like the formula);
``concat`` and ``stack`` join values; ``apply`` uses any :class:`~autograd.ops.Op`.
Numbers and arrays may stand in for Values: they become constants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import ops
from .value import Value, _apply, _constant, _normalize_axis

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
    if set(map(type, parts)) != _JUST_VALUE:  # (map/set: this is the scalar hot path)
        parts = tuple(_lift_all(parts, "weighted_sum"))
    return _apply(ops.weighted_sum_op(len(weights), bias is not None), parts)


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
    parts = (x, W, b)
    if set(map(type, parts)) != _JUST_VALUE:
        parts = tuple(_lift_all(parts, "linear"))
    return _apply(ops.LINEAR, parts)


def sum_of_squares(values: Sequence[Any]) -> Value:
    """The sum of the squares of every number in ``values`` (scalars and tensors), as one
    node: an L2 penalty without a square and a sum node per parameter.

    >>> sum_of_squares([Value(3.0), Value([1.0, 2.0])]).data
    14.0
    """
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
    (ax,) = _normalize_axis(axis, ndim, "concat")
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
    (ax,) = _normalize_axis(axis, parts[0].ndim + 1, "stack")
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
