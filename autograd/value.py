"""``Value``: one class for scalars and tensors that records every operation applied to it.

The op rules themselves (forward + vector-Jacobian products) live in ``ops/``; the
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
from .mode import flags, open_blocks, writes

_DATA = operator.attrgetter("_data")


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

    A parent may be a plain float, a number used in a scalar op (``y * 2.0``): it is
    stored as it is, not wrapped in a constant Value (see ``Value.parents``).

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
    plain = not open_blocks.count or flags.plain  # the hot path: record, check nothing
    if plain or flags.grad_enabled:
        for p in parents:
            if type(p) is not float and p.requires_grad:
                # One or two inputs are kept in the slots ``_a`` and ``_b`` (``_parents``
                # None), not in the tuple the caller built: the tuple is then freed at
                # once instead of living as long as the graph, one object per op fewer
                # for the cyclic garbage collector to walk again and again while the
                # graph grows (the chain ``y = y * 1.0001 + 0.0``: 2 objects per op
                # become 1). Inline, not a helper: a call per op cost that chain +4%.
                result._op, result.requires_grad, result._stamp = op, True, writes.now
                if len(parents) == 2:
                    result._parents = None
                    result._a, result._b = parents
                elif len(parents) == 1:
                    result._parents = result._b = None
                    result._a = parents[0]
                else:
                    result._parents = parents
                if not plain and flags.detect_anomaly:
                    _check_finite(result, op, parents)
                return result
    result._op, result._parents, result.requires_grad = None, (), False
    result._g = 0.0 if type(out) is float else None
    if flags.detect_anomaly:
        _check_finite(result, op, parents)
    return result


def _watch_for_negative_zero(g: Any) -> None:
    """A scalar gradient set to -0.0 from outside the engine turns off the skip of
    zero terms in ``ops.weighted_sum_op`` (see ``mode._WriteClock.negative_zero``)."""
    if type(g) is float and g == 0.0 and math.copysign(1.0, g) < 0:
        writes.negative_zero = True


def _check_finite(node: Value, op: ops.Op, parents: tuple) -> None:
    if not node.isfinite():
        bad = "nan" if np.isnan(node._data).any() else "inf"
        shapes = [() if type(p) is float else p.shape for p in parents]
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


def _binary_operator(op: ops.Op, reflected: bool = False) -> Any:
    """Make the method for a binary operator such as ``__mul__``; ``reflected`` makes
    ``__rmul__`` and friends, where the other operand is the left input (``2 * v``)."""
    forward = op.forward

    def operator(self: Value, other: Any) -> Value:
        kind = type(other)
        if kind is Value:
            data = other._data
        elif (kind is float or kind is int) and type(self._data) is float:
            other = data = float(other)  # a plain number stays plain data: see Value.parents
        else:
            other = _constant(other)
            if other is None:
                return NotImplemented
            data = other._data
        inputs = (other, self) if reflected else (self, other)
        try:
            out = forward(data, self._data) if reflected else forward(self._data, data)
        except ValueError as err:
            raise _shape_error(op, tuple(_operand(v, op.name) for v in inputs), err) from None
        return record(out, op, inputs)

    return operator


def _unary_method(op: ops.Op, doc: str) -> Any:
    """Make an elementwise method such as ``tanh``."""
    forward = op.forward

    def method(self: Value) -> Value:
        return record(forward(self._data), op, (self,))

    method.__name__ = op.name
    method.__doc__ = doc
    return method


_SLOT_NAMES: dict[type, tuple[str, ...]] = {}


def _slot_names(cls: type) -> tuple[str, ...]:
    """Every slot of ``cls`` and its bases (what ``__getstate__`` saves)."""
    found = []
    for base in cls.__mro__:
        names = getattr(base, "__slots__", ())
        for name in (names,) if isinstance(names, str) else names:
            if name not in ("__dict__", "__weakref__") and name not in found:
                found.append(name)
    return tuple(found)


def _constant(x: Any) -> Value | None:
    """Wrap a number or array as a constant Value (no gradient); None if it is not one."""
    kind = type(x)
    if kind is float:
        data = x
    elif kind is int:
        data = float(x)
    elif kind is np.ndarray and x.ndim and x.dtype in FLOAT_DTYPES:
        # What as_data(x, copy=False) returns for it (x itself), without its checks: the
        # batch and the targets of every training step come this way (~1 us each).
        data = x
    elif isinstance(x, (np.ndarray, np.generic, list, tuple, bool)):
        data = as_data(x, copy=False)
    else:
        return None
    result = _new(Value)
    result._data, result._g = data, (0.0 if type(data) is float else None)
    result._op, result._parents, result.requires_grad = None, (), False
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

    # ``_data`` holds the numbers; ``data`` is a property so that assigning it can be
    # seen (``_stamp``: see ``backprop.check_unchanged``). The engine reads
    # ``_data`` directly: a property read costs ~4x a slot read on the scalar hot path.
    # The inputs: ``_parents``, a tuple (``()`` for a leaf), or None for an op with one
    # or two inputs, which are then ``_a`` and ``_b`` (None for one); see ``record``.
    __slots__ = ("_data", "_g", "_op", "_parents", "_a", "_b", "_label", "requires_grad", "_stamp")
    __array_ufunc__ = None  # `ndarray + Value` defers to Value.__radd__ instead of looping

    def __init__(
        self, data: Any, label: str = "", requires_grad: bool = True, dtype: Any = None
    ) -> None:
        self._data = as_data(data, dtype)
        self._g = 0.0 if type(self._data) is float else None
        self._op: ops.Op | None = None
        self._parents: tuple = ()
        self._label = str(label)
        self.requires_grad = bool(requires_grad)

    # ------------------------------------------------------------ what it holds
    def _set_data(self, value: Any) -> None:
        # The numbers first: a node another thread records in between then sees the new
        # numbers and an older count, so the race errs towards raising, never silence.
        self._data = value
        writes.now += 1
        self._stamp = -writes.now  # negative: "assigned at"; see backprop.check_unchanged

    data = property(
        operator.attrgetter("_data"),  # a C getter: no Python frame per read
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

    # ------------------------------------------------------------ pickling and copies
    def __getstate__(self) -> tuple:
        names = _SLOT_NAMES.get(type(self))
        if names is None:
            names = _SLOT_NAMES[type(self)] = _slot_names(type(self))
        slots = {name: getattr(self, name) for name in names if hasattr(self, name)}
        if "_stamp" in slots:  # a count of this process's writes: say which process
            slots["_stamp"] = (writes.epoch, slots["_stamp"])
        return getattr(self, "__dict__", None) or None, slots

    def __setstate__(self, state: Any) -> None:
        attrs, slots = state if isinstance(state, tuple) else (state, None)
        if attrs:
            self.__dict__.update(attrs)
        slots = dict(slots or {})
        if "data" in slots:  # pickled before ``data`` became a property: not a write
            slots["_data"] = slots.pop("data")
        if "parents" in slots:  # pickled before ``parents`` became a property
            slots["_parents"] = slots.pop("parents")
        _watch_for_negative_zero(slots.get("_g"))
        stamp = slots.pop("_stamp", None)
        for name, value in slots.items():
            object.__setattr__(self, name, value)
        if stamp is None:
            return
        epoch, stamp = stamp if type(stamp) is tuple else (None, stamp)
        if epoch == writes.epoch:  # a copy in this process: stale stays stale
            self._stamp = stamp
        elif getattr(self, "_op", None) is not None:
            # Pickled in another process, whose write counts mean nothing here: a node
            # counts as computed now and a leaf as never assigned, so only writes made
            # here after loading can make a graph stale.
            self._stamp = writes.now

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
        g = as_data(value, dtype=self.dtype)
        if np.shape(g) != self.shape:
            g = np.broadcast_to(g, self.shape).copy() if self.shape else float(g)
        _watch_for_negative_zero(g)
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

        A plain number in a scalar op (the ``2.0`` of ``y * 2.0``) is recorded as plain
        data, not as a constant Value: one object fewer per op for the allocator and the
        cyclic garbage collector to walk (the chain ``y = y * 1.0001 + 0.0``: 3 objects
        per op become 2). Here it becomes a constant Value, made on the first read and
        kept, so every read gives the very same Values (drawings key nodes by ``id``).
        The tuple itself is made on each read for an op with one or two inputs.

        >>> y = Value(3.0) * 2.0
        >>> y.parents[1], y.parents[1] is y.parents[1]
        (Value(data=2.0, grad=0.0), True)
        """
        stored = self._parents
        if stored is not None:
            return stored
        a, b = self._a, self._b
        if type(a) is float:
            a = self._a = _constant(a)
        if type(b) is float:
            b = self._b = _constant(b)
        return (a,) if b is None else (a, b)

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
        if type(data) is float:  # (a loss, every step: no size property)
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
        if type(self._data) is float:
            return math.isfinite(self._data)
        return bool(np.isfinite(self._data).all())

    def detach(self) -> Value:
        """A new leaf with the same data (shared, not copied) and no graph behind it."""
        node = _constant(self._data)  # arrays of a Value's dtype are not copied
        node.label = self.label
        return node

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        if type(self._data) is float:
            return f"Value(data={self._data!r}, grad={self.grad!r}{label})"
        d = self._data
        summary = (
            np.array2string(d, precision=4, threshold=8, edgeitems=2)
            if d.size <= 8
            else f"min={d.min():.4g}, mean={d.mean():.4g}, max={d.max():.4g}"
        )
        dtype = "" if d.dtype == np.float64 else f", dtype={d.dtype}"
        return f"Value(shape={d.shape}{dtype}, data={summary}{label})"

    # ------------------------------------------------------------ arithmetic
    __add__ = _binary_operator(ops.ADD)
    __radd__ = _binary_operator(ops.ADD, reflected=True)
    __sub__ = _binary_operator(ops.SUB)
    __rsub__ = _binary_operator(ops.SUB, reflected=True)
    __mul__ = _binary_operator(ops.MUL)
    __rmul__ = _binary_operator(ops.MUL, reflected=True)
    __truediv__ = _binary_operator(ops.DIV)
    __rtruediv__ = _binary_operator(ops.DIV, reflected=True)
    __matmul__ = _binary_operator(ops.MATMUL)
    __rmatmul__ = _binary_operator(ops.MATMUL, reflected=True)
    __rpow__ = _binary_operator(ops.POW, reflected=True)

    def __pow__(self, other: Any) -> Value:
        if type(other) in (int, float) or isinstance(other, (np.integer, np.floating)):
            return _apply(ops.POW_CONST, (self,), (float(other),))  # a plain exponent
        other = other if type(other) is Value else _constant(other)
        return NotImplemented if other is None else _apply(ops.POW, (self, other))

    # Comparisons look at the numbers only: they return bools, not Values (no gradient).
    def __lt__(self, other: Any) -> Any:
        return self._data < (other._data if isinstance(other, Value) else other)

    def __le__(self, other: Any) -> Any:
        return self._data <= (other._data if isinstance(other, Value) else other)

    def __gt__(self, other: Any) -> Any:
        return self._data > (other._data if isinstance(other, Value) else other)

    def __ge__(self, other: Any) -> Any:
        return self._data >= (other._data if isinstance(other, Value) else other)

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
        if type(self._data) is float:
            raise TypeError("cannot index a 0-d Value (it holds a single number)")
        index = _clean_index(index)
        try:
            self._data[index]
        except IndexError as err:
            raise IndexError(
                f"[]: index {index!r} does not fit shape {self.shape}: {err}"
            ) from None
        return _apply(ops.GETITEM, (self,), (index,))

    def scatter(self, index: Any, shape: Sequence[int]) -> Value:
        """Zeros of ``shape`` with this value added at ``index`` (the gradient of ``v[index]``)."""
        return _apply(ops.SCATTER, (self,), (_clean_index(index), tuple(shape)))

    # ------------------------------------------------------------ more elementwise functions
    sin = _unary_method(ops.SIN, "Sine (radians).")
    cos = _unary_method(ops.COS, "Cosine (radians).")
    erf = _unary_method(ops.ERF, "The error function, 2/√π ∫₀ˣ e^(-t²) dt.")
    log1p = _unary_method(ops.LOG1P, "log(1 + x), accurate for tiny x.")
    expm1 = _unary_method(ops.EXPM1, "e^x - 1, accurate for tiny x.")
    square = _unary_method(ops.SQUARE, "x², as one node.")
    reciprocal = _unary_method(ops.RECIPROCAL, "1 / x.")
    softplus = _unary_method(ops.SOFTPLUS, "log(1 + e^x), without overflow; a smooth relu.")
    silu = _unary_method(ops.SILU, "x · sigmoid(x) (also called swish).")

    def elu(self, alpha: float = 1.0) -> Value:
        """x where x > 0, else alpha · (e^x - 1).

        >>> round(Value(-1.0).elu().data, 4)
        -0.6321
        """
        return _apply(ops.ELU, (self,), (float(alpha),))

    def gelu(self, approximate: str = "none") -> Value:
        """x · Φ(x), Φ the standard normal CDF; ``approximate="tanh"`` uses
        0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), as ``torch.nn.GELU``.

        >>> round(Value(1.0).gelu().data, 4), round(Value(1.0).gelu("tanh").data, 4)
        (0.8413, 0.8412)
        """
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return _apply(ops.GELU, (self,), (approximate,))

    def clip(self, low: float | None = None, high: float | None = None) -> Value:
        """Each element limited to [low, high] (either may be None); the gradient passes
        where the element is inside.

        >>> Value([-2.0, 0.5, 3.0]).clip(-1, 1).data
        array([-1. ,  0.5,  1. ])
        """
        if low is None and high is None:
            raise ValueError("clip: give low, high or both")
        if low is not None and high is not None and low > high:
            raise ValueError(f"clip: low ({low}) is above high ({high})")
        low = None if low is None else float(low)
        high = None if high is None else float(high)
        return _apply(ops.CLIP, (self,), (low, high))

    def maximum(self, other: Any) -> Value:
        """Elementwise larger of the two (broadcasting); ties share the gradient.

        >>> Value([1.0, 5.0]).maximum(3.0).data
        array([3., 5.])
        """
        return _apply(ops.MAXIMUM, (self, _operand(other, "maximum")))

    def minimum(self, other: Any) -> Value:
        """Elementwise smaller of the two (broadcasting); ties share the gradient.

        >>> Value([1.0, 5.0]).minimum(3.0).data
        array([1., 3.])
        """
        return _apply(ops.MINIMUM, (self, _operand(other, "minimum")))

    # Comparisons as data: a constant 0/1 mask (a Value with no gradient), for masking
    # and counting. `==` stays identity (Values are dict keys and graph nodes).
    def eq(self, other: Any) -> Value:
        """1.0 where equal, else 0.0 (a constant). ``==`` itself compares identity:
        Values are graph nodes and dictionary keys.

        >>> Value([1.0, 2.0]).eq(2.0).data
        array([0., 1.])
        """
        return _mask(np.equal, self, other)

    def ne(self, other: Any) -> Value:
        """1.0 where not equal, else 0.0 (a constant).

        >>> Value([1.0, 2.0]).ne(2.0).data
        array([1., 0.])
        """
        return _mask(np.not_equal, self, other)

    def lt(self, other: Any) -> Value:
        """1.0 where less than ``other``, else 0.0 (a constant).

        >>> Value([1.0, 2.0]).lt(2.0).data
        array([1., 0.])
        """
        return _mask(np.less, self, other)

    def le(self, other: Any) -> Value:
        """1.0 where less than or equal to ``other``, else 0.0 (a constant).

        >>> Value([1.0, 3.0]).le(2.0).data
        array([1., 0.])
        """
        return _mask(np.less_equal, self, other)

    def gt(self, other: Any) -> Value:
        """1.0 where greater than ``other``, else 0.0 (a constant).

        >>> Value([1.0, 3.0]).gt(2.0).data
        array([0., 1.])
        """
        return _mask(np.greater, self, other)

    def ge(self, other: Any) -> Value:
        """1.0 where greater than or equal to ``other``, else 0.0 (a constant).

        >>> Value([1.0, 2.0]).ge(2.0).data
        array([0., 1.])
        """
        return _mask(np.greater_equal, self, other)

    # ------------------------------------------------------------ more reductions
    def min(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Value:
        """Minimum over ``axis``; tied minima share the gradient equally.

        >>> Value([[1.0, -2.0], [3.0, 0.0]]).min(axis=1).data
        array([-2.,  0.])
        """
        if self.size == 0:
            raise ValueError("min: the value is empty")
        return _apply(ops.MIN, (self,), (_normalize_axis(axis, self.ndim, "min"), keepdims))

    def prod(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Value:
        """Product over ``axis``; the gradient is exact even where an element is 0.

        >>> Value([2.0, 3.0, 4.0]).prod().data
        24.0
        """
        return _apply(ops.PROD, (self,), (_normalize_axis(axis, self.ndim, "prod"), keepdims))

    def var(
        self, axis: int | Sequence[int] | None = None, keepdims: bool = False, ddof: int = 0
    ) -> Value:
        """Variance over ``axis``: sum((x - mean)²) / (n - ddof), like numpy (``ddof=1``
        for torch's default).

        >>> Value([1.0, 2.0, 3.0, 4.0]).var().data
        1.25
        """
        axes = _normalize_axis(axis, self.ndim, "var")
        if _reduced_count(self.shape, axes) - ddof <= 0:
            raise ValueError(
                f"var: ddof={ddof} leaves no degrees of freedom for shape {self.shape}"
            )
        return _apply(ops.VAR, (self,), (axes, keepdims, int(ddof)))

    def std(
        self, axis: int | Sequence[int] | None = None, keepdims: bool = False, ddof: int = 0
    ) -> Value:
        """Standard deviation: ``sqrt(var(axis, keepdims, ddof))``.

        >>> Value([1.0, 3.0]).std().data
        1.0
        """
        return self.var(axis, keepdims, ddof).sqrt()

    def logsumexp(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Value:
        """log(sum(exp(x))) over ``axis``, shifted by the max so it never overflows.

        >>> round(Value([1000.0, 1000.0]).logsumexp().data, 4)
        1000.6931
        """
        axes = _normalize_axis(axis, self.ndim, "logsumexp")
        return _apply(ops.LOGSUMEXP, (self,), (axes, keepdims))

    def norm(
        self, ord: float = 2, axis: int | Sequence[int] | None = None, keepdims: bool = False
    ) -> Value:
        """The vector norm over ``axis`` (all elements when None): ``ord`` 2 (Euclidean,
        Frobenius for a matrix), 1 (sum of |x|) or ``inf`` (max |x|).

        >>> Value([3.0, -4.0]).norm().data, Value([3.0, -4.0]).norm(1).data
        (5.0, 7.0)
        """
        if ord == 2:
            return self.square().sum(axis, keepdims).sqrt()
        if ord == 1:
            return self.abs().sum(axis, keepdims)
        if ord == math.inf:
            return self.abs().max(axis, keepdims)
        raise ValueError(f"norm: ord must be 1, 2 or inf, got {ord!r}")

    def cumsum(self, axis: int | None = None) -> Value:
        """Running sum along ``axis`` (of the flattened value when None), like numpy.

        >>> Value([1.0, 2.0, 3.0]).cumsum().data
        array([1., 3., 6.])
        """
        if axis is None:
            return _apply(ops.CUMSUM, (self.reshape(-1),), (0,))
        (ax,) = _normalize_axis(axis, self.ndim, "cumsum")
        return _apply(ops.CUMSUM, (self,), (ax,))

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Any:
        """Index of the maximum (an int, or an int array along ``axis``); no gradient.

        >>> Value([[1.0, 5.0], [7.0, 2.0]]).argmax(axis=1)
        array([1, 0])
        """
        return _index_result(np.argmax(self._data, axis=axis, keepdims=keepdims))

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Any:
        """Index of the minimum (an int, or an int array along ``axis``); no gradient.

        >>> Value([3.0, 1.0, 2.0]).argmin()
        1
        """
        return _index_result(np.argmin(self._data, axis=axis, keepdims=keepdims))

    # ------------------------------------------------------------ more shape ops
    def squeeze(self, axis: int | Sequence[int] | None = None) -> Value:
        """Drop axes of length 1 (all of them when ``axis`` is None).

        >>> Value(np.ones((1, 3, 1))).squeeze().shape
        (3,)
        """
        axes = _normalize_axis(axis, self.ndim, "squeeze")
        if axes is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        for ax in axes:
            if self.shape[ax] != 1:
                raise ValueError(
                    f"squeeze: axis {ax} of a value of shape {self.shape} has length "
                    f"{self.shape[ax]}, not 1"
                )
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, axis: int) -> Value:
        """A new axis of length 1 at position ``axis`` (numpy's ``expand_dims``).

        >>> Value([1.0, 2.0]).unsqueeze(0).shape
        (1, 2)
        """
        (ax,) = _normalize_axis(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:ax] + (1,) + self.shape[ax:])

    expand_dims = unsqueeze

    def flip(self, axis: int | Sequence[int] | None = None) -> Value:
        """The elements in reverse order along ``axis`` (every axis when None).

        >>> Value([1.0, 2.0, 3.0]).flip().data
        array([3., 2., 1.])
        """
        axes = _normalize_axis(axis, self.ndim, "flip")
        return _apply(ops.FLIP, (self,), (axes,))

    def pad(self, pad_width: Any, value: float = 0.0) -> Value:
        """Pad with the constant ``value``; ``pad_width`` as numpy's: an int, a
        ``(before, after)`` pair, or one pair per axis.

        >>> Value([1.0, 2.0]).pad(1).data
        array([0., 1., 2., 0.])
        """
        try:
            widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (self.ndim, 2))
        except ValueError:
            raise ValueError(
                f"pad: pad_width {pad_width!r} does not fit a value of shape {self.shape}"
            ) from None
        if (widths < 0).any():
            raise ValueError(f"pad: pad_width must be >= 0, got {pad_width!r}")
        widths = tuple((int(lo), int(hi)) for lo, hi in widths)
        return _apply(ops.PAD, (self,), (widths, float(value)))

    def tile(self, reps: int | Sequence[int]) -> Value:
        """The value repeated ``reps`` times along each axis, like ``numpy.tile``.

        >>> Value([1.0, 2.0]).tile(2).data
        array([1., 2., 1., 2.])
        """
        reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(map(int, reps))
        if any(r < 0 for r in reps):
            raise ValueError(f"tile: reps must be >= 0, got {reps}")
        reps = (1,) * (self.ndim - len(reps)) + reps
        return _apply(ops.TILE, (self,), (reps,))

    def repeat(self, repeats: int, axis: int | None = None) -> Value:
        """Each element repeated ``repeats`` times along ``axis`` (of the flattened
        value when None), like ``numpy.repeat``.

        >>> Value([1.0, 2.0]).repeat(2).data
        array([1., 1., 2., 2.])
        """
        if not isinstance(repeats, (int, np.integer)) or repeats < 0:
            raise ValueError(f"repeat: repeats must be an int >= 0, got {repeats!r}")
        if axis is None:
            return _apply(ops.REPEAT, (self.reshape(-1),), (int(repeats), 0))
        (ax,) = _normalize_axis(axis, self.ndim, "repeat")
        return _apply(ops.REPEAT, (self,), (int(repeats), ax))

    def split(self, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Value]:
        """Pieces along ``axis``, like ``numpy.split``: a number of equal sections, or
        the indices where to cut.

        >>> [p.data.tolist() for p in Value([1.0, 2.0, 3.0]).split([1])]
        [[1.0], [2.0, 3.0]]
        """
        (ax,) = _normalize_axis(axis, self.ndim, "split")
        n = self.shape[ax]
        if isinstance(indices_or_sections, (int, np.integer)):
            k = int(indices_or_sections)
            if k < 1 or n % k:
                raise ValueError(
                    f"split: axis {ax} of length {n} cannot be split into {k} equal sections"
                )
            cuts = list(range(n // k, n, n // k))
        else:
            cuts = [int(c) for c in indices_or_sections]
        bounds = [0, *cuts, n]
        lead = (slice(None),) * ax
        return [self[lead + (slice(lo, hi),)] for lo, hi in zip(bounds, bounds[1:])]

    def chunk(self, chunks: int, axis: int = 0) -> list[Value]:
        """``chunks`` pieces along ``axis``, the last one smaller when it does not
        divide evenly (``torch.chunk``).

        >>> [p.shape for p in Value(np.ones(5)).chunk(2)]
        [(3,), (2,)]
        """
        if chunks < 1:
            raise ValueError(f"chunk: chunks must be >= 1, got {chunks}")
        (ax,) = _normalize_axis(axis, self.ndim, "chunk")
        size = -(-self.shape[ax] // chunks)
        return self.split(list(range(size, self.shape[ax], size)), ax)

    def take_along_axis(self, indices: Any, axis: int) -> Value:
        """The elements at ``indices`` along ``axis`` (``numpy.take_along_axis``,
        ``torch.gather``): ``out[i, j] = v[i, indices[i, j]]`` for ``axis=1``.

        >>> Value([[1.0, 2.0], [3.0, 4.0]]).take_along_axis([[1], [0]], axis=1).data
        array([[2.],
               [3.]])
        """
        return self[_along_axis_index(self, indices, axis, "take_along_axis")]

    gather = take_along_axis

    def _apply_op(self, op: ops.Op, others: Sequence[Value], params: tuple) -> Value:
        """``op`` applied to this value and ``others``: how a vjp in ``ops/`` that needs an
        op of its own (a convolution's gradient) records it under ``create_graph``."""
        return _apply(op, (self, *others), params)

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


def _operand(x: Any, op: str) -> Value:
    """``x`` as a Value (numbers and arrays become constants), else a TypeError."""
    if type(x) is Value:
        return x
    lifted = _constant(x)
    if lifted is None:
        raise TypeError(f"{op}: cannot use a {type(x).__name__} as a value")
    return lifted


def _mask(compare: Any, v: Value, other: Any) -> Value:
    other = other._data if isinstance(other, Value) else other
    return _constant(np.asarray(compare(v._data, other), dtype=v.dtype))


def _reduced_count(shape: tuple, axes: tuple | None) -> int:
    return math.prod(shape) if axes is None else math.prod(shape[a] for a in axes)


def _index_result(idx: Any) -> Any:
    return int(idx) if np.ndim(idx) == 0 else idx


def _along_axis_index(v: Value, indices: Any, axis: int, op: str) -> tuple:
    """The fancy index that picks ``indices`` along ``axis`` and keeps the other axes."""
    idx = np.asarray(indices._data if isinstance(indices, Value) else indices)
    if idx.dtype.kind == "f" and np.all(np.mod(idx, 1) == 0):
        idx = idx.astype(np.int64)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    if idx.ndim != v.ndim:
        raise ValueError(
            f"{op}: indices of shape {idx.shape} need as many dimensions as the value {v.shape}"
        )
    (ax,) = _normalize_axis(axis, v.ndim, op)
    n = v.shape[ax]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ValueError(
            f"{op}: indices must be in [{-n}, {n - 1}] for axis {ax} of shape {v.shape}, "
            f"got values from {idx.min()} to {idx.max()}"
        )
    grid = []
    for d in range(v.ndim):
        if d == ax:
            grid.append(idx)
        else:
            if idx.shape[d] > v.shape[d]:
                raise ValueError(
                    f"{op}: indices of shape {idx.shape} are larger than the value "
                    f"{v.shape} along axis {d}"
                )
            shape = [1] * v.ndim
            shape[d] = idx.shape[d]
            grid.append(np.arange(idx.shape[d]).reshape(shape))
    return tuple(grid)


_new = object.__new__
