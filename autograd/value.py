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
from .backprop import backward as _backward
from .data import FLOAT_DTYPES, as_data
from .mode import flags

_DATA = operator.attrgetter("data")


def _shape_text(values: Iterable[Value]) -> str:
    return " and ".join(str(v.shape) for v in values)


def record(out: Any, op: ops.Op, parents: tuple) -> Value:
    """The one place a result becomes a Value: ``out`` (what ``op``'s forward returned
    for ``parents``) wrapped in a new node that remembers ``op`` and ``parents``.

    A 0-d result becomes a Python float and integer arrays become float64. The graph
    is recorded only while gradients are on (not in ``no_grad``) and some parent needs
    a gradient; otherwise the result is a constant. ``_g`` (the gradient) of a recorded
    result is left unset: ``backward`` sets it on every value it visits, and ``.grad``
    reads zero until then.

    >>> record(6.0, ops.MUL, (Value(2.0), Value(3.0))).parents[1].data
    3.0
    """
    if type(out) is not float:
        if isinstance(out, np.ndarray) and out.ndim:
            if out.dtype not in FLOAT_DTYPES:
                out = out.astype(np.float64)
        else:
            out = float(out)
    result = _new(Value)
    result.data = out
    if flags.plain:  # the hot path: record, check nothing
        for p in parents:
            if p.requires_grad:
                result._op, result.parents, result.requires_grad = op, parents, True
                return result
    elif flags.grad_enabled and any(p.requires_grad for p in parents):
        result._op, result.parents, result.requires_grad = op, parents, True
        if flags.detect_anomaly:
            _check_finite(result, op, parents)
        return result
    result._op, result.parents, result.requires_grad = None, (), False
    result._g = 0.0 if type(out) is float else None
    if flags.detect_anomaly:
        _check_finite(result, op, parents)
    return result


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
    """Run ``op``'s forward on the parents' data (and ``params``) and make the node."""
    if params:
        op = op.with_params(*params)
    try:
        out = op.forward(*map(_DATA, parents), *params)
    except ValueError as err:
        raise _shape_error(op, parents, err) from None
    return record(out, op, parents)


def _binary_operator(op: ops.Op) -> Any:
    """Make the method for a binary operator such as ``__mul__``."""
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
        return record(out, op, (self, other))

    return operator


def _reflected_operator(op: ops.Op) -> Any:
    """Make ``__radd__`` and friends: ``2 * v`` computes ``Value(2) * v``."""
    forward = _binary_operator(op)

    def operator(self: Value, other: Any) -> Value:
        other = _constant(other)
        return NotImplemented if other is None else forward(other, self)

    return operator


def _unary_method(op: ops.Op, doc: str) -> Any:
    """Make an elementwise method such as ``tanh``."""
    forward = op.forward

    def method(self: Value) -> Value:
        return record(forward(self.data), op, (self,))

    method.__name__ = op.name
    method.__doc__ = doc
    return method


def _constant(x: Any) -> Value | None:
    """Wrap a number or array as a constant Value (no gradient); None if it is not one."""
    kind = type(x)
    if kind is float:
        data = x
    elif kind is int:
        data = float(x)
    elif isinstance(x, (np.ndarray, np.generic, list, tuple, bool)):
        data = as_data(x, copy=False)
    else:
        return None
    result = _new(Value)
    result.data, result._g = data, (0.0 if type(data) is float else None)
    result._op, result.parents, result.requires_grad = None, (), False
    return result


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
        _backward(self, grad)


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


_new = object.__new__
