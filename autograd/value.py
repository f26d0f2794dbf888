"""``Value``: one class for scalars and tensors that records every operation applied to it.

Every operation is an entry of the op table (``ops/``). This module turns Python's
operators and methods into applications of those entries: ``record`` makes every node of
the graph, and the methods without arguments (``tanh``, ``v * w``, ...) are made from
the table at the end of this file. The methods that take arguments (``sum(axis)``,
``reshape``, ...) check them in ``value_math.py`` and ``value_shape.py``. The chain rule
over the recorded graph is ``backprop.py``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from .arguments import shape_error
from .copies import Copies
from .data import FLOAT_DTYPES, as_data
from .fast_backward import backward as _backward
from .fast_backward import watch_gradient
from .mode import flags, writes
from .quiet import quiet, quietly
from .value_math import MathMethods
from .value_shape import ShapeMethods


class Value(MathMethods, ShapeMethods, Copies):
    """A number or an array that remembers how it was computed, so it can be differentiated.

    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> c = a * b + a.tanh(); c.backward()
    >>> round(a.grad, 4), b.grad
    (-2.9293, 2.0)
    """

    # ``_data``: the numbers (``data`` is a property, so that assigning it is seen, see
    # ``_stamp``); ``_g``: the gradient; ``_op``: the entry that made it (None for a
    # leaf); ``_parents``: its inputs, a tuple of Values (``()`` for a leaf).
    __slots__ = ("_data", "_g", "_op", "_parents", "_label", "requires_grad", "_stamp")
    __array_ufunc__ = None  # `ndarray + Value` defers to Value.__radd__ instead of looping

    if TYPE_CHECKING:  # for type checkers: the methods made from the op table (at the end)

        def __getattr__(self, name: str) -> Any: ...  # tanh, exp, ... (Value -> Value)
        def __add__(self, other: Any) -> Value: ...  # and the other operators of the table:

        __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __add__
        __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __rpow__ = __add__

        def __neg__(self) -> Value: ...

        __abs__ = __neg__

    def __init__(
        self, data: Any, label: str = "", requires_grad: bool = True, dtype: Any = None
    ) -> None:
        self._data = as_data(data, dtype)
        self._g: Any = 0.0 if type(self._data) is float else None  # None: zeros, not made yet
        self._op: ops.Op | None = None
        self._parents: tuple[Value, ...] = ()
        self._label = str(label)
        self.requires_grad = bool(requires_grad)

    # ------------------------------------------------------------ what it holds
    def _set_data(self, value: Any) -> None:
        # The numbers first: a node another thread records in between then sees the new
        # numbers and an older count, so the race errs towards raising, never silence.
        self._data = value
        writes.now += 1
        self._stamp = -writes.now  # negative: "assigned at"; see mode.check_unchanged

    data = property(
        operator.attrgetter("_data"),
        _set_data,
        doc="""The numbers: a float for a scalar, a numpy array for a tensor.

        Assigning it (``v.data = x``, ``v.data -= lr * v.grad``, an optimizer step) is
        recorded: ``backward()`` of a result computed *before* the assignment raises
        ``RuntimeError`` instead of silently using the new numbers (as PyTorch's version
        counter does). Writes into the array (``v.data[0] = x``) are not seen.

        >>> w = Value(2.0, label="w"); y = w * w
        >>> w.data = 3.0
        >>> y.backward()
        Traceback (most recent call last):
        RuntimeError: backward(): 'w', an input of * was assigned new data after the result was computed, so the gradient would mix old and new numbers; compute the result again after changing the value (or change it after backward())
        """,
    )

    @property
    def grad(self) -> float | np.ndarray:
        """d(output)/d(this value) after ``backward()``; zero (of the same shape) before."""
        g = getattr(self, "_g", None)
        if g is None:
            g = self._g = 0.0 if type(self._data) is float else np.zeros_like(self._data)
        return g

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._g = 0.0 if type(self._data) is float else None
            return
        kind = type(value)
        if (kind is float or kind is int or kind is bool) and type(self._data) is float:
            # ``p.grad = 0`` on a scalar parameter: what as_data and the shape check would
            # give, without them (they were ~5% of a microGPT step)
            self._g = float(value)
            watch_gradient(self._g)
            return
        g = as_data(value, dtype=self.dtype)
        if np.shape(g) != self.shape:
            g = np.broadcast_to(g, self.shape).copy() if self.shape else float(g)
        watch_gradient(g)
        self._g = g

    @property
    def label(self) -> str:
        """A name for drawings (``''`` when none was given)."""
        return getattr(self, "_label", "")

    @label.setter
    def label(self, text: str) -> None:
        self._label = str(text)

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in the op's order (``()`` for a leaf).

        >>> y = Value(3.0) * 2.0
        >>> y.parents[1]
        Value(data=2.0, grad=0.0)
        """
        parents = self._parents
        if float in map(type, parents):  # a number kept as a float (see _binary_operator)
            parents = self._parents = tuple(map(_operand_of, parents))
        return parents

    @property
    def op(self) -> str:
        """The operation that produced this value (``''`` for a leaf)."""
        return self._op.name if self._op is not None else ""

    @property
    def shape(self) -> tuple:
        return () if type(self._data) is float else self._data.shape

    @property
    def ndim(self) -> int:
        return 0 if type(self._data) is float else self._data.ndim

    @property
    def size(self) -> int:
        return 1 if type(self._data) is float else self._data.size

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64) if type(self._data) is float else self._data.dtype

    def item(self) -> float:
        """The single number this value holds."""
        data = self._data
        if type(data) is float:
            return data
        if data.size != 1:
            raise ValueError(
                f"item() needs a value with one element, this one has shape {self.shape}"
            )
        return float(data.reshape(()))

    def __float__(self) -> float:
        return self.item()

    def isfinite(self) -> bool:
        """True when no element is NaN or infinite (e.g. after ``log`` of a negative)."""
        return bool(np.isfinite(self._data).all())

    def detach(self) -> Value:
        """A new leaf with the same data (shared, not copied) and no graph behind it."""
        node = _constant(self._data)  # arrays of a Value's dtype are not copied
        assert node is not None  # (a Value holds numbers)
        node.label = self.label
        return node

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        if type(self._data) is float:
            return f"Value(data={self._data!r}, grad={self.grad!r}{label})"
        d = self._data
        if d.size <= 8:
            summary = np.array2string(d, precision=4, threshold=8, edgeitems=2)
        else:
            with quiet():  # the mean of inf and -inf is nan, silently
                summary = f"min={d.min():.4g}, mean={d.mean():.4g}, max={d.max():.4g}"
        dtype = "" if d.dtype == np.float64 else f", dtype={d.dtype}"
        return f"Value(shape={d.shape}{dtype}, data={summary}{label})"

    # ------------------------------------------------------------ operators by hand
    def __pow__(self, other: Any) -> Value:
        if type(other) in (int, float) or isinstance(other, (np.integer, np.floating)):
            return _apply(ops.POW_CONST, (self,), (float(other),))  # a plain exponent
        other = other if type(other) is Value else _constant(other)
        return NotImplemented if other is None else _apply(ops.POW, (self, other))

    def _apply_op(self, op: ops.Op, others: Sequence[Any] = (), params: tuple = ()) -> Value:
        """``op`` applied to this value and ``others`` (numbers become constants): how
        the methods and a vjp that needs an op of its own (under ``create_graph``)
        record a node."""
        return _apply(op, (self, *(_operand(x, op.name) for x in others)), params)

    # ------------------------------------------------------------ differentiation
    def backward(self, grad: Any = None) -> None:
        """Fill ``.grad`` of every value this one depends on with d(self)/d(that value).

        Gradients of leaves accumulate across calls (zero them yourself); a value with
        more than one element needs ``grad``, the gradient flowing into it.
        """
        _backward(self, grad)


def record(out: Any, op: ops.Op, parents: tuple) -> Value:
    """The one place a result becomes a Value: ``out`` (what ``op``'s forward returned
    for ``parents``) wrapped in a new node that remembers ``op`` and ``parents``.

    A 0-d result becomes a Python float and integer arrays become float64. The graph is
    recorded only while gradients are on (not in ``no_grad``) and some parent needs a
    gradient; otherwise the result is a constant. The gradient of a recorded result is
    left unset: ``backward`` sets it on every value it visits, and ``.grad`` reads zero
    until then. A parent may be a float, a number beside a scalar (``y * 2.0``): ``parents``
    makes it a constant Value when it is first read.

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
    result._data = out
    for p in parents if flags.grad_enabled else ():
        if type(p) is not float and p.requires_grad:  # an input needs a gradient: record
            result._op, result._parents, result.requires_grad = op, parents, True
            result._stamp = writes.now  # born now: see mode.check_unchanged
            break
    else:  # a constant: no input needs a gradient, or gradients are off
        result._op, result._parents, result.requires_grad = None, (), False
        result._g = 0.0 if type(out) is float else None
    if flags.detect_anomaly and not result.isfinite():
        _refuse_non_finite(result, op, parents)
    return result


def _apply(op: ops.Op, parents: tuple[Value, ...], params: tuple = ()) -> Value:
    """Run ``op``'s forward on the parents' data (and ``params``) and make the node."""
    if params:
        op = op.with_params(*params)
    data = tuple(map(_data_of, parents))
    try:  # (floats never warn, as in the methods below: only arrays need quietly)
        floats = not params and _FLOATS.issuperset(map(type, data))
        out = op.forward(*data) if floats else quietly(op.forward, *data, *params)
    except ValueError as err:
        raise shape_error(op, parents, err) from None
    return record(out, op, parents)


def _constant(x: Any) -> Value | None:
    """Wrap a number or array as a constant Value (no gradient); None if it is not one."""
    kind = type(x)
    if kind is float:
        data = x
    elif kind is int:
        data = float(x)
    elif kind is np.ndarray and x.ndim and x.dtype in FLOAT_DTYPES:
        data = x  # what as_data(x, copy=False) returns for it, without its checks
    elif isinstance(x, (np.ndarray, np.generic, list, tuple, bool)):
        data = as_data(x, copy=False)
    else:
        return None
    result = _new(Value)
    result._data, result._g = data, (0.0 if type(data) is float else None)
    result._op, result._parents, result.requires_grad = None, (), False
    return result


def _operand_of(x: Any) -> Value:
    """A parent as a Value: a float kept among the parents becomes a constant."""
    return x if type(x) is not float else _constant(x)  # type: ignore[return-value]


def _operand(x: Any, op: str) -> Value:
    """``x`` as a Value (numbers and arrays become constants), else a TypeError."""
    if isinstance(x, Value):
        return x
    lifted = _constant(x)
    if lifted is None:
        raise TypeError(f"{op}: cannot use a {type(x).__name__} as a value")
    return lifted


def _refuse_non_finite(node: Value, op: ops.Op, parents: tuple) -> None:
    bad = "nan" if np.isnan(node._data).any() else "inf"
    shapes = [getattr(p, "shape", ()) for p in parents]
    raise FloatingPointError(
        f"{op.name} produced a non-finite value ({bad}) from inputs of shapes {shapes}"
    )


# ---------------------------------------------------------------- methods from the table
def _binary_operator(op: ops.Op, reflected: bool = False) -> Callable:
    """The method for a binary operator such as ``__mul__``; ``reflected`` makes
    ``__rmul__`` and friends, where the other operand is the left input (``2 * v``)."""
    forward = op.forward

    def apply_operator(self: Value, other: Any) -> Value:
        kind = type(other)
        if (kind is float or kind is int) and type(self._data) is float:
            # A number beside a scalar stays a float among the parents until ``parents``
            # is read: no constant Value for the collector to walk while the graph grows
            # (3 objects per op become 2; see fast_backward for what it saves).
            number = other if kind is float else float(other)
            if reflected:
                return record(forward(number, self._data), op, (number, self))
            return record(forward(self._data, number), op, (self, number))
        if kind is not Value:
            other = _constant(other)
            if other is None:
                return NotImplemented
        inputs = (other, self) if reflected else (self, other)
        x, y = inputs[0]._data, inputs[1]._data
        try:  # (float arithmetic never warns: only arrays need quietly)
            out = forward(x, y) if type(x) is float and type(y) is float else quietly(forward, x, y)
        except ValueError as err:
            raise shape_error(op, inputs, err) from None
        return record(out, op, inputs)

    return apply_operator


def _unary_method(op: ops.Op) -> Callable:
    """The method for a one-input op without params, such as ``tanh``."""
    forward = op.forward

    def method(self: Value) -> Value:
        x = self._data
        return record(forward(x) if type(x) is float else quietly(forward, x), op, (self,))

    method.__name__, method.__doc__ = op.method or op.name, op.doc
    return method


def _composed_method(entry: ops.Composition) -> Callable:
    """The method for a composition: its ``build`` on this value."""

    def method(self: Value, *args: Any, **kwargs: Any) -> Value:
        return entry.build(self, *args, **kwargs)

    method.__name__, method.__doc__ = entry.method or entry.name, entry.doc
    return method


REFLECTED = {
    "__add__": "__radd__",
    "__sub__": "__rsub__",
    "__mul__": "__rmul__",
    "__truediv__": "__rtruediv__",
    "__matmul__": "__rmatmul__",
    "__pow__": "__rpow__",
}


def _methods_from_the_table() -> None:
    """Give ``Value`` the method of every entry that names one, unless it is written by
    hand (it takes arguments; a test checks that it applies its entry)."""
    for entry in ops.ENTRIES.values():
        name = entry.method
        if name is None:
            continue
        if isinstance(entry, ops.Composition):
            made = {name: _composed_method(entry)}
        elif name in REFLECTED and len(entry.vjps) == 2:
            made = {name: _binary_operator(entry), REFLECTED[name]: _binary_operator(entry, True)}
        else:
            made = {name: _unary_method(entry)}
        for method_name, method in made.items():
            if not hasattr(Value, method_name):
                setattr(Value, method_name, method)


_FLOATS = frozenset({float})
_new = object.__new__
_data_of = operator.attrgetter("_data")
_methods_from_the_table()
Value.__abs__ = Value.abs  # type: ignore[attr-defined]  # abs(v); .abs is made above
