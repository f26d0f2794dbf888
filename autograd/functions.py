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

from . import ops
from .arguments import normalize_axis
from .value import Value, _apply, _constant

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


# ---------------------------------------------------------------- convolution and pooling
def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Value:
    """2-D convolution (cross-correlation, as in PyTorch) as one node: ``x`` is
    ``(N, C, H, W)``, ``weight`` ``(O, C // groups, kh, kw)``, ``bias`` ``(O,)``.
    im2col and one matmul per group in numpy.

    >>> conv2d(np.ones((1, 1, 4, 4)), Value(np.ones((2, 1, 3, 3))), padding=1).shape
    (1, 2, 4, 4)
    """
    x, w = _lift_all([x, weight], "conv2d")
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(
            f"conv2d: x must be (N, C, H, W) and weight (O, C/groups, kh, kw), "
            f"got x of shape {x.shape} and weight of shape {w.shape}"
        )
    stride, padding, dilation = _geometry("conv2d", stride, padding, dilation)
    groups = int(groups)
    o, cg, kh, kw = w.shape
    c = x.shape[1]
    if groups < 1 or c % groups or o % groups:
        raise ValueError(
            f"conv2d: groups={groups} must divide the input channels ({c}) and the output "
            f"channels ({o})"
        )
    if cg * groups != c:
        raise ValueError(
            f"conv2d: x of shape {x.shape} has {c} channels but weight of shape {w.shape} "
            f"expects {cg * groups} ({cg} per group x {groups} groups)"
        )
    _check_fits("conv2d", x.shape, (kh, kw), padding, dilation)
    params = (stride, padding, dilation, groups)
    if bias is None:
        return _apply(ops.CONV2D_NO_BIAS, (x, w), params)
    (b,) = _lift_all([bias], "conv2d")
    if b.shape != (o,):
        raise ValueError(f"conv2d: bias must have shape ({o},), got {b.shape}")
    return _apply(ops.CONV2D, (x, w, b), params)


def conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Value:
    """1-D convolution: ``x`` ``(N, C, L)``, ``weight`` ``(O, C // groups, k)``; a
    ``conv2d`` over images one pixel high.

    >>> conv1d(np.ones((1, 1, 5)), Value(np.ones((1, 1, 3)))).data
    array([[[3., 3., 3.]]])
    """
    x, w = _lift_all([x, weight], "conv1d")
    if x.ndim != 3 or w.ndim != 3:
        raise ValueError(
            f"conv1d: x must be (N, C, L) and weight (O, C/groups, k), "
            f"got x of shape {x.shape} and weight of shape {w.shape}"
        )
    (s,), (p,), (d,) = (_ints("conv1d", n, v, 1) for n, v in _named(stride, padding, dilation))
    if groups < 1 or x.shape[1] != w.shape[1] * groups or w.shape[0] % groups:
        raise ValueError(
            f"conv1d: x of shape {x.shape} has {x.shape[1]} channels but weight of shape "
            f"{w.shape} with groups={groups} expects {w.shape[1] * groups}"
        )
    if d * (w.shape[2] - 1) + 1 > x.shape[2] + 2 * p:
        raise ValueError(
            f"conv1d: the kernel spans {d * (w.shape[2] - 1) + 1} but the padded input has "
            f"only {x.shape[2] + 2 * p} (x of shape {x.shape}, weight {w.shape}, padding {p})"
        )
    x4 = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
    w4 = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
    out = conv2d(x4, w4, bias, (1, s), (0, p), (1, d), groups)
    return out.reshape(out.shape[0], out.shape[1], out.shape[3])


def max_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> Value:
    """The maximum of every ``kernel_size`` window of ``x`` ``(N, C, H, W)`` (stride
    defaults to the kernel size); its gradient goes to the first maximum of a window.
    ``ceil_mode`` adds a last, partial window where the input does not divide evenly.

    >>> max_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), 2).data
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """
    (x,) = _lift_all([x], "max_pool2d")
    kernel, stride, padding, dilation = _pool_geometry(
        "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode
    )
    return _apply(ops.MAX_POOL2D, (x,), (kernel, stride, padding, dilation, bool(ceil_mode)))


def avg_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    count_include_pad: bool = True,
    ceil_mode: bool = False,
) -> Value:
    """The mean of every ``kernel_size`` window of ``x`` ``(N, C, H, W)`` (stride
    defaults to the kernel size; padding counts as zeros unless ``count_include_pad``
    is False, as in PyTorch). ``ceil_mode`` adds a last, partial window where the input
    does not divide evenly; it averages what it covers of the input and the padding.

    >>> avg_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), 2).data
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """
    (x,) = _lift_all([x], "avg_pool2d")
    kernel, stride, padding, _ = _pool_geometry(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode
    )
    params = (kernel, stride, padding, bool(count_include_pad), bool(ceil_mode))
    return _apply(ops.AVG_POOL2D, (x,), params)


def _named(stride: Any, padding: Any, dilation: Any) -> list[tuple[str, Any]]:
    return [("stride", stride), ("padding", padding), ("dilation", dilation)]


def _ints(op: str, name: str, value: Any, n: int) -> tuple[int, ...]:
    """``value`` as ``n`` ints (one int is repeated), checked: stride/dilation/kernel
    >= 1, padding >= 0."""
    low = 0 if name in ("padding", "output_padding") else 1
    if type(value) is int and value >= low:  # the common case, checked in one step
        return (value,) * n
    if type(value) is tuple and len(value) == n and all(type(v) is int and v >= low for v in value):
        return value
    items = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(items) != n or not all(isinstance(v, (int, np.integer)) and v >= low for v in items):
        raise ValueError(f"{op}: {name} must be {n} int(s) >= {low}, got {value!r}")
    return tuple(int(v) for v in items)


def _geometry(op: str, stride: Any, padding: Any, dilation: Any) -> Any:  # three pairs
    return tuple(_ints(op, name, v, 2) for name, v in _named(stride, padding, dilation))


def _check_fits(
    op: str, shape: tuple, kernel: tuple, padding: Any, dilation: Any, slack: tuple = (0, 0)
) -> None:
    for axis, n, k, p, d, extra in zip(
        ("height", "width"), shape[2:], kernel, padding, dilation, slack
    ):
        span = d * (k - 1) + 1
        if span > n + 2 * p + extra:
            raise ValueError(
                f"{op}: the kernel spans {span} along the {axis} but the padded input "
                f"has only {n + 2 * p} (x of shape {shape}, kernel {kernel}, padding {padding})"
            )


def _pool_geometry(
    op: str, x: Value, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool
) -> tuple:
    if x.ndim != 4:
        raise ValueError(f"{op}: x must be (N, C, H, W), got shape {x.shape}")
    kernel = _ints(op, "kernel_size", kernel_size, 2)
    stride, padding, dilation = _geometry(
        op, kernel if stride is None else stride, padding, dilation
    )
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    slack = tuple(s - 1 for s in stride) if ceil_mode else (0, 0)  # a last, partial window
    _check_fits(op, x.shape, kernel, padding, dilation, slack)
    return kernel, stride, padding, dilation
