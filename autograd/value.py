"""``Value``: one class for scalars and tensors that records every operation applied to it.

The op rules themselves (forward + vector-Jacobian products) live in ``ops.py``; the
chain rule that walks the recorded graph lives in ``backprop.py``. This module only turns
Python operators and methods into applications of those rules.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from . import ops
from .mode import flags

_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
_DATA = operator.attrgetter("data")


def as_data(x: Any, dtype: Any = None, copy: bool = True) -> float | np.ndarray:
    """Convert user input to what a Value holds: a float (0-d) or a float ndarray.

    Integers and booleans become float64; float32 arrays stay float32 unless ``dtype``
    says otherwise. Anything that is not numbers is a ``TypeError``.
    """
    kind = type(x)
    if kind is float or kind is int or kind is bool:
        return float(x)
    if isinstance(x, Value):
        raise TypeError("Value(...) got a Value; use v.detach() to copy one without its graph")
    if isinstance(x, (np.ndarray, np.generic, list, tuple)):
        try:
            arr = np.asarray(x)
        except ValueError as err:  # ragged nested lists
            raise TypeError(f"Value(...) needs a rectangular list of numbers: {err}") from None
        if arr.dtype == object:
            raise TypeError(
                "Value(...) needs numbers, got a list holding other objects "
                "(to combine Values into a tensor, use autograd.stack)"
            )
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Value(...) needs real numbers, got an array of dtype {arr.dtype}")
        if dtype is None:
            target = arr.dtype if arr.dtype in _FLOAT_DTYPES else np.dtype(np.float64)
        else:
            target = np.dtype(dtype)
            if target not in _FLOAT_DTYPES:
                raise ValueError(f"Value dtype must be float32 or float64, got {target}")
        if arr.ndim == 0:
            return float(arr)
        return np.array(arr, dtype=target, copy=True) if copy else arr.astype(target, copy=False)
    raise TypeError(
        f"Value(...) takes a number, a nested list of numbers or a numpy array, got {kind.__name__}"
    )


def _shape_text(values: Iterable[Value]) -> str:
    return " and ".join(str(v.shape) for v in values)


def _make(data: Any, op: ops.Op, parents: tuple) -> Value:
    """The result of applying ``op``: records its parents unless no graph is wanted.

    ``_g`` (the gradient) of a recorded result is left unset: ``backward`` sets it on
    every value it visits, and ``.grad`` reads zero until then.
    """
    node = _new(Value)
    node.data = data
    record = False
    if flags.grad_enabled:
        for p in parents:
            if p.requires_grad:
                record = True
                break
    if record:
        node._op, node.parents, node.requires_grad = op, parents, True
    else:
        node._op, node.parents, node.requires_grad = None, (), False
        node._g = 0.0 if type(data) is float else None
    if flags.detect_anomaly:
        _check_finite(node, op, parents)
    return node


def _check_finite(node: Value, op: ops.Op, parents: tuple) -> None:
    if not node.isfinite():
        bad = "nan" if np.isnan(node.data).any() else "inf"
        shapes = [p.shape for p in parents]
        raise FloatingPointError(
            f"{op.name} produced a non-finite value ({bad}) from inputs of shapes {shapes}"
        )


def _shape_error(op: ops.Op, parents: tuple, err: Exception) -> ValueError:
    """numpy's message about shapes that do not fit, with our op and both shapes named."""
    if op.name == "@":
        sa, sb = (p.shape for p in parents)
        if not sa or not sb:
            return ValueError(
                f"@ (matmul): needs values with at least one dimension, got shapes {sa} and {sb}"
            )
        inner_b = sb[0] if len(sb) == 1 else sb[-2]
        return ValueError(
            f"@ (matmul): shapes {sa} and {sb} do not line up: the left's last dimension "
            f"({sa[-1]}) must equal the right's {'only' if len(sb) == 1 else 'second-to-last'} "
            f"dimension ({inner_b})"
        )
    return ValueError(f"{op.name}: cannot combine shapes {_shape_text(parents)} ({err})")


def _apply(op: ops.Op, parents: tuple, params: tuple = ()) -> Value:
    """Run ``op``'s forward on the parents' data and wrap the result in a new Value.

    A float result skips numpy and ``_make``: n-ary scalar ops (``add_n``,
    ``weighted_sum``) are on the scalar engine's hot path, as the operators are.
    """
    if params:
        op = op.with_params(*params)
    try:
        out = op.forward(*map(_DATA, parents), *params)
    except ValueError as err:
        raise _shape_error(op, parents, err) from None
    if type(out) is float and flags.plain:
        node = _new(Value)
        node.data = out
        for p in parents:
            if p.requires_grad:
                node._op, node.parents, node.requires_grad = op, parents, True
                return node
        node._op, node.parents, node.requires_grad, node._g = None, (), False, 0.0
        return node
    return _wrap(out, op, parents)


def _wrap(out: Any, op: ops.Op, parents: tuple) -> Value:
    """Turn a forward result into a Value: 0-d becomes a float, integers become float64."""
    if type(out) is not float:
        if isinstance(out, np.ndarray) and out.ndim:
            if out.dtype not in _FLOAT_DTYPES:
                out = out.astype(np.float64)
        else:
            out = float(out)
    return _make(out, op, parents)


def _binary_operator(op: ops.Op) -> Any:
    """Make the method for a binary operator such as ``__mul__``.

    When the result is a float (both inputs were), it skips numpy and ``_make``:
    this is the hot path of the scalar engine, where every node of a micrograd-style
    graph is made.
    """

    forward = op.forward

    def operator(self: Value, other: Any) -> Value:
        if type(other) is not Value:
            other = _constant(other)
            if other is None:
                return NotImplemented
        try:
            out = forward(self.data, other.data)
        except ValueError as err:
            raise _shape_error(op, (self, other), err) from None
        if type(out) is float and flags.plain:
            node = _new(Value)
            node.data = out
            if self.requires_grad or other.requires_grad:
                node._op, node.parents, node.requires_grad = op, (self, other), True
            else:
                node._op, node.parents, node.requires_grad, node._g = None, (), False, 0.0
            return node
        return _wrap(out, op, (self, other))

    return operator


def _reflected_operator(op: ops.Op) -> Any:
    """Make ``__radd__`` and friends: ``2 * v`` computes ``Value(2) * v``."""
    forward = _binary_operator(op)

    def operator(self: Value, other: Any) -> Value:
        other = _constant(other)
        return NotImplemented if other is None else forward(other, self)

    return operator


def _unary_method(op: ops.Op, doc: str) -> Any:
    """Make an elementwise method such as ``tanh``, with the same float fast path."""

    def method(self: Value) -> Value:
        out = op.forward(self.data)
        if type(out) is float and flags.plain:
            node = _new(Value)
            node.data = out
            if self.requires_grad:
                node._op, node.parents, node.requires_grad = op, (self,), True
            else:
                node._op, node.parents, node.requires_grad, node._g = None, (), False, 0.0
            return node
        return _wrap(out, op, (self,))

    method.__name__ = op.name
    method.__doc__ = doc
    return method


def _constant(x: Any) -> Value | None:
    """Wrap a number or array as a constant Value (no gradient); None if it is not one."""
    kind = type(x)
    if kind is float or kind is int:
        data = float(x)
    elif isinstance(x, (np.ndarray, np.generic, list, tuple, bool)):
        data = as_data(x, copy=False)
    else:
        return None
    node = _new(Value)
    node.data, node._g = data, (0.0 if type(data) is float else None)
    node._op, node.parents, node.requires_grad = None, (), False
    return node


def _normalize_axis(axis: Any, ndim: int, op: str) -> tuple | None:
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"{op}: axis {ax} is out of range for a value with {ndim} dimensions")
        out.append(int(ax) % ndim)
    return tuple(sorted(out))


class Value:
    """A number or an array that remembers how it was computed, so it can be differentiated.

    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> c = a * b + a.tanh(); c.backward()
    >>> round(a.grad, 4), b.grad
    (-2.9293, 2.0)
    """

    __slots__ = ("data", "_g", "_op", "parents", "_label", "requires_grad")
    __array_ufunc__ = None  # `ndarray + Value` defers to Value.__radd__ instead of looping

    def __init__(
        self, data: Any, label: str = "", requires_grad: bool = True, dtype: Any = None
    ) -> None:
        self.data = as_data(data, dtype)
        self._g = 0.0 if type(self.data) is float else None
        self._op: ops.Op | None = None
        self.parents: tuple[Value, ...] = ()
        self._label = str(label)
        self.requires_grad = bool(requires_grad)

    # ------------------------------------------------------------ what it holds
    @property
    def grad(self) -> float | np.ndarray:
        """d(output)/d(this value) after ``backward()``; zero (of the same shape) before."""
        g = getattr(self, "_g", None)
        if g is None:
            g = self._g = 0.0 if type(self.data) is float else np.zeros_like(self.data)
        return g

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._g = 0.0 if type(self.data) is float else None
            return
        g = as_data(value, dtype=self.dtype)
        if np.shape(g) != self.shape:
            g = np.broadcast_to(g, self.shape).copy() if self.shape else float(g)
        self._g = g

    @property
    def label(self) -> str:
        """A name for drawings (``''`` when none was given)."""
        return getattr(self, "_label", "")

    @label.setter
    def label(self, text: str) -> None:
        self._label = str(text)

    @property
    def op(self) -> str:
        """The operation that produced this value (``''`` for a leaf)."""
        return self._op.name if self._op is not None else ""

    @property
    def shape(self) -> tuple:
        return () if type(self.data) is float else self.data.shape

    @property
    def ndim(self) -> int:
        return 0 if type(self.data) is float else self.data.ndim

    @property
    def size(self) -> int:
        return 1 if type(self.data) is float else self.data.size

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64) if type(self.data) is float else self.data.dtype

    def item(self) -> float:
        """The single number this value holds."""
        if self.size != 1:
            raise ValueError(
                f"item() needs a value with one element, this one has shape {self.shape}"
            )
        return float(self.data) if type(self.data) is float else float(self.data.reshape(()))

    def __float__(self) -> float:
        return self.item()

    def isfinite(self) -> bool:
        """True when no element is NaN or infinite (e.g. after ``log`` of a negative)."""
        if type(self.data) is float:
            return math.isfinite(self.data)
        return bool(np.isfinite(self.data).all())

    def detach(self) -> Value:
        """A new leaf with the same data (shared, not copied) and no graph behind it."""
        node = _constant(self.data)  # arrays of a Value's dtype are not copied
        node.label = self.label
        return node

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        if type(self.data) is float:
            return f"Value(data={self.data!r}, grad={self.grad!r}{label})"
        d = self.data
        summary = (
            np.array2string(d, precision=4, threshold=8, edgeitems=2)
            if d.size <= 8
            else f"min={d.min():.4g}, mean={d.mean():.4g}, max={d.max():.4g}"
        )
        dtype = "" if d.dtype == np.float64 else f", dtype={d.dtype}"
        return f"Value(shape={d.shape}{dtype}, data={summary}{label})"

    # ------------------------------------------------------------ arithmetic
    __add__ = _binary_operator(ops.ADD)
    __radd__ = _reflected_operator(ops.ADD)
    __sub__ = _binary_operator(ops.SUB)
    __rsub__ = _reflected_operator(ops.SUB)
    __mul__ = _binary_operator(ops.MUL)
    __rmul__ = _reflected_operator(ops.MUL)
    __truediv__ = _binary_operator(ops.DIV)
    __rtruediv__ = _reflected_operator(ops.DIV)
    __matmul__ = _binary_operator(ops.MATMUL)
    __rmatmul__ = _reflected_operator(ops.MATMUL)
    __rpow__ = _reflected_operator(ops.POW)

    def __pow__(self, other: Any) -> Value:
        if type(other) in (int, float) or isinstance(other, (np.integer, np.floating)):
            return _apply(ops.POW_CONST, (self,), (float(other),))  # a plain exponent
        other = other if type(other) is Value else _constant(other)
        return NotImplemented if other is None else _apply(ops.POW, (self, other))

    # Comparisons look at the numbers only: they return bools, not Values (no gradient).
    def __lt__(self, other: Any) -> Any:
        return self.data < (other.data if isinstance(other, Value) else other)

    def __le__(self, other: Any) -> Any:
        return self.data <= (other.data if isinstance(other, Value) else other)

    def __gt__(self, other: Any) -> Any:
        return self.data > (other.data if isinstance(other, Value) else other)

    def __ge__(self, other: Any) -> Any:
        return self.data >= (other.data if isinstance(other, Value) else other)

    # ------------------------------------------------------------ elementwise functions
    exp = _unary_method(ops.EXP, "e to the power of each element.")
    log = _unary_method(
        ops.LOG, "Natural logarithm; of 0 or a negative number: -inf or nan, as numpy."
    )
    tanh = _unary_method(ops.TANH, "Hyperbolic tangent.")
    sigmoid = _unary_method(ops.SIGMOID, "1 / (1 + exp(-x)), without overflow for large |x|.")
    relu = _unary_method(ops.RELU, "max(x, 0); its gradient at exactly 0 is 0 (as in PyTorch).")
    abs = _unary_method(ops.ABS, "|x|; its gradient at 0 is 0.")
    sqrt = _unary_method(ops.SQRT, "Square root; of a negative number: nan, as numpy.")
    __neg__ = _unary_method(ops.NEG, "-x")
    __abs__ = abs

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x where x > 0, else slope * x."""
        return _apply(ops.LEAKY_RELU, (self,), (float(slope),))

    # ------------------------------------------------------------ reductions
    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Value:
        """Sum over ``axis`` (all elements when None)."""
        return _apply(ops.SUM, (self,), (_normalize_axis(axis, self.ndim, "sum"), keepdims))

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Value:
        """Mean over ``axis`` (all elements when None)."""
        return _apply(ops.MEAN, (self,), (_normalize_axis(axis, self.ndim, "mean"), keepdims))

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Value:
        """Maximum over ``axis``; tied maxima share the gradient equally."""
        if self.size == 0:
            raise ValueError("max: the value is empty")
        return _apply(ops.MAX, (self,), (_normalize_axis(axis, self.ndim, "max"), keepdims))

    def softmax(self, axis: int = -1) -> Value:
        """exp(x) / sum(exp(x)) along ``axis``, shifted by the max so it never overflows."""
        (ax,) = _normalize_axis(axis, max(self.ndim, 1), "softmax")
        return _apply(ops.SOFTMAX, (self,), (ax,))

    def log_softmax(self, axis: int = -1) -> Value:
        """log(softmax(x)) along ``axis``, computed stably (no log of an underflowed 0)."""
        (ax,) = _normalize_axis(axis, max(self.ndim, 1), "log_softmax")
        return _apply(ops.LOG_SOFTMAX, (self,), (ax,))

    # ------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Value:
        """The same elements in a new shape: ``v.reshape(2, 3)`` or ``v.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            target = np.empty(self.shape, dtype=np.bool_).reshape(shape).shape
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a value of shape {self.shape} ({self.size} elements) into {shape}"
            ) from None
        return _apply(ops.RESHAPE, (self,), (target,))

    def transpose(self, *axes: int) -> Value:
        """Permute the axes (reverse them when none are given), like ``numpy.transpose``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        n = self.ndim
        perm = (
            tuple(reversed(range(n))) if not axes else tuple(int(a) % n if n else a for a in axes)
        )
        if sorted(perm) != list(range(n)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of a value with shape {self.shape}"
            )
        return _apply(ops.TRANSPOSE, (self,), (perm,))

    @property
    def T(self) -> Value:
        """The transpose (axes reversed)."""
        return self.transpose()

    def broadcast_to(self, shape: Sequence[int]) -> Value:
        """Repeat along size-1 (or new leading) axes to reach ``shape``, like numpy."""
        return _apply(ops.BROADCAST, (self,), (tuple(shape),))

    def __getitem__(self, index: Any) -> Value:
        if type(self.data) is float:
            raise TypeError("cannot index a 0-d Value (it holds a single number)")
        index = _clean_index(index)
        try:
            self.data[index]
        except IndexError as err:
            raise IndexError(
                f"[]: index {index!r} does not fit shape {self.shape}: {err}"
            ) from None
        return _apply(ops.GETITEM, (self,), (index,))

    def scatter(self, index: Any, shape: Sequence[int]) -> Value:
        """Zeros of ``shape`` with this value added at ``index`` (the gradient of ``v[index]``)."""
        return _apply(ops.SCATTER, (self,), (_clean_index(index), tuple(shape)))

    # ------------------------------------------------------------ differentiation
    def backward(self, grad: Any = None) -> None:
        """Fill ``.grad`` of every value this one depends on with d(self)/d(that value).

        Gradients of leaves accumulate across calls (zero them yourself); a value with
        more than one element needs ``grad``, the gradient flowing into it.
        """
        from .backprop import backward

        backward(self, grad)


def _clean_index(index: Any) -> Any:
    """Make an index hashable-free of Values and lists (lists become integer arrays)."""
    if isinstance(index, Value):
        raise TypeError(
            "cannot index with a Value; index with ints, slices or a numpy integer array"
        )
    if isinstance(index, list):
        return np.asarray(index)
    if isinstance(index, tuple):
        return tuple(_clean_index(i) for i in index)
    return index


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


_new = object.__new__
_JUST_VALUE = {Value}
