"""Every differentiable operation: its forward and its vector-Jacobian products, side by side.

An :class:`Op` is a name, a ``forward`` function on raw data (Python floats or numpy
arrays) and one ``vjp`` function per input, in the style of JAX's ``defvjp``::

    MUL = Op("*", lambda a, b: a * b,
             lambda g, out, a, b: g * b,     # d(out)/da, times the incoming gradient g
             lambda g, out, a, b: g * a)     # d(out)/db, times g

A vjp gets the gradient ``g`` flowing into the op's output, the output ``out`` and the
op's inputs (then any op parameters, such as ``axis``). It returns the gradient for its
input. Only the vjps of inputs that need a gradient are called, so a matmul with a
constant batch ``x`` never computes ``dx``.

The vjps are written with operations that numpy arrays, floats *and* Values all support
(``* + - / @``, ``.sum``, ``.reshape``, ``.transpose`` and the helpers below), so the
same rule serves ``backward()`` (on raw data) and ``grad(..., create_graph=True)``
(on Values, which records a graph of the backward pass for second derivatives).

Adding an op: one ``Op(...)`` entry here, a method on ``Value`` that applies it, one test.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from . import conv
from .data import FLOAT_DTYPES
from .mode import writes
from .quiet import quiet


class Op:
    """A differentiable operation: a name, a forward function and one vjp per input,
    and how it reads in a picture.

    ``show`` is the forward as a formula over the inputs' names, ``{a}`` and ``{b}``
    (``"{a} * {b}"``; the default reads ``name(a)``), with ``{p}`` for the op's first
    parameter. ``local`` gives, per input, the local derivative d(out)/d(input) over the
    same names and ``{out}`` (``("{b}", "{a}")`` for ``*``); an n-ary op passes
    functions ``(names, params) -> str`` instead. The step-through page reads both, so
    a derivative is written once, here, beside its vjp. ``params`` are extra arguments
    that are not inputs (an axis, a shape, an exponent); ``op.with_params(...)`` makes
    the applied copy that a Value records.

    >>> MUL.formula(["x", "w"]), MUL.derivative(0, ["x", "w"], "y")
    ('x * w', 'w')
    """

    __slots__ = ("name", "forward", "vjps", "params", "vjp_all", "add_floats", "show", "local")

    def __init__(
        self,
        name: str,
        forward: Callable,
        *vjps: Callable,
        show: str | Callable | None = None,
        local: tuple | None = None,
    ) -> None:
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.params: tuple = ()
        # Optional: every input's vjp in one call, (g, out, *args) -> list. For n-ary ops,
        # where calling n vjps that each take all n inputs would cost n^2.
        self.vjp_all: Callable | None = None
        # Optional, for the scalar engine's hot path: (g, parents) -> bool. When every
        # input holds a float, add each input's gradient straight into its ``_g`` (the
        # same numbers, in the same order, as ``vjp_all``) and return True; else touch
        # nothing and return False.
        self.add_floats: Callable | None = None
        self.show = show
        self.local = local

    def with_params(self, *params: Any) -> Op:
        """This op with ``params`` passed after the inputs to its forward and vjps."""
        bound = Op(self.name, self.forward, *self.vjps, show=self.show, local=self.local)
        bound.params, bound.vjp_all, bound.add_floats = params, self.vjp_all, self.add_floats
        return bound

    def formula(self, names: list[str]) -> str:
        """The forward as text over ``names`` (the inputs' names or their numbers)."""
        if callable(self.show):
            return self.show(names, self.params)
        if self.show is None:
            return f"{self.name}({', '.join(names)})"
        return self.show.format(**_fields(names, "", self.params))

    def derivative(self, i: int, names: list[str], out: str) -> str | None:
        """d(out)/d(input ``i``) as text over the names, or None when not written down."""
        if self.local is None or i >= len(self.local):
            return None
        rule = self.local[i]
        if callable(rule):
            return rule(names, self.params)
        return rule.format(**_fields(names, out, self.params))

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


def _fields(names: list[str], out: str, params: tuple) -> dict:
    p = params[0] if params else ""
    return {
        "a": names[0] if names else "",
        "b": names[1] if len(names) > 1 else "",
        "out": out,
        "p": f"{p:g}" if isinstance(p, float) else str(p),
    }


# ---------------------------------------------------------------- dual-mode helpers
# These work on raw data (float / ndarray) and on Values, so vjps can use them in both
# modes. A Value is recognised by not being raw data (ops must not import Value).

_RAW = (float, int, np.ndarray, np.generic)


def raw(x: Any) -> Any:
    """The numbers behind ``x``: ``x.data`` for a Value, ``x`` itself otherwise."""
    return x if isinstance(x, _RAW) else x._data


def shape_of(x: Any) -> tuple:
    """Shape of a float, an array or a Value."""
    return () if type(x) is float else x.shape


def broadcast_to(x: Any, shape: tuple) -> Any:
    """Broadcast ``x`` to ``shape`` (a read-only view for arrays; a new array for a
    number, which is much cheaper to make than numpy's view of one)."""
    if type(x) is float:
        return np.full(shape, x)
    if isinstance(x, _RAW):
        return np.broadcast_to(x, shape)
    return x.broadcast_to(shape)


def reshape(x: Any, shape: tuple) -> Any:
    """Reshape a float, an array or a Value."""
    if type(x) is float:
        return x if shape == () else np.full(shape, x)
    return x.reshape(shape)


def sum_to(x: Any, shape: tuple) -> Any:
    """Undo broadcasting: sum ``x`` over the axes that broadcasting added or stretched."""
    xshape = shape_of(x)
    if xshape == shape:
        return x
    if shape == ():
        total = x.sum()
        return float(total) if isinstance(total, np.generic) else total
    if len(xshape) < len(shape) or any(
        n != 1 and n != m for n, m in zip(shape, xshape[len(xshape) - len(shape) :])
    ):
        return broadcast_to(x, shape)  # a scalar gradient spread over a tensor input
    lead = len(xshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and xshape[lead + i] != 1
    )
    return x.sum(axis=axes, keepdims=True).reshape(shape)


def expand_reduced(g: Any, in_shape: tuple, axis: tuple | None, keepdims: bool) -> Any:
    """Broadcast the gradient of a reduction (sum, mean, max) back to the input's shape."""
    if axis is not None and not keepdims:
        kept = list(in_shape)
        for ax in axis:
            kept[ax] = 1
        g = reshape(g, tuple(kept))
    return broadcast_to(g, in_shape)


def _log(x: Any) -> Any:
    if type(x) is float:
        return math.log(x) if x > 0 else float(np.log(np.float64(x)))
    return np.log(x) if isinstance(x, _RAW) else x.log()


def _exp(x: Any) -> Any:
    return np.exp(x) if isinstance(x, _RAW) else x.exp()


def _swap_last(x: Any) -> Any:
    """Matrix transpose over the last two axes (batched matmul)."""
    n = len(shape_of(x))
    if n == 2:
        return x.T
    axes = tuple(range(n - 2)) + (n - 1, n - 2)
    return x.transpose(axes)


# ---------------------------------------------------------------- scalar forwards
# Python's math module is several times faster than numpy on single floats, but it raises
# where numpy returns inf/nan; fall back to numpy there so both paths agree.


def _guarded(math_fn: Callable, np_fn: Callable) -> Callable:
    def forward(a):
        if type(a) is float:
            try:
                return math_fn(a)
            except (ValueError, OverflowError, ZeroDivisionError):
                with quiet():
                    return float(np_fn(np.float64(a)))
        with quiet():  # log(0) is -inf, as asked: no warning
            return np_fn(a)

    forward.__name__ = np_fn.__name__
    return forward


_sqrt = _guarded(math.sqrt, np.sqrt)


def _sigmoid(a):
    if type(a) is float:
        if a >= 0:
            return 1.0 / (1.0 + math.exp(-a))
        e = math.exp(a)
        return e / (1.0 + e)
    e = np.exp(-np.abs(a))  # never overflows
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _div(a, b):
    if type(a) is float and type(b) is float:
        try:
            return a / b
        except ZeroDivisionError:  # floats: follow numpy (inf, -inf or nan)
            with quiet():
                return float(np.float64(a) / b)
    with quiet():
        return a / b


def _pow(a, b):
    if not isinstance(a, _RAW) or not isinstance(b, _RAW):  # Values (create_graph)
        return a**b
    if type(a) is float and type(b) is float:
        try:
            out = a**b
        except (ZeroDivisionError, OverflowError):
            with quiet():
                return float(np.power(np.float64(a), b))
        if type(out) is complex:  # (-8.0) ** 0.5 in Python is complex; numpy says nan
            return math.nan
        return out
    with quiet():
        return np.power(a, b)


def _pow_const(a, p):
    # x ** 0.5 is sqrt(x), as in torch: (-inf) ** 0.5 is nan (IEEE pow would say inf).
    return _sqrt(a) if p == 0.5 else _pow(a, p)


def _zero_where(mask: Any, x: Any) -> Any:
    """``x`` with zeros where ``mask`` holds (raw data only)."""
    if type(x) is float:
        return 0.0 if mask else x
    return np.where(mask, 0.0, x)


def _pow_vjp_base(g, out, a, b):
    """d/da a**b = b * a**(b-1); 0 where b == 0 (not 0 * inf), as torch."""
    if not isinstance(a, _RAW) or not isinstance(b, _RAW):
        return g * b * _pow(a, b - 1)
    with quiet():
        return g * _zero_where(np.equal(b, 0), b * _pow(a, b - 1))


def _pow_const_vjp(g, out, a, p):
    if p == 0.0:  # x**0 is constant: its slope is 0 even at x = 0 (0 * inf otherwise)
        return _zeros_like(g)
    if p == 0.5:  # sqrt's rule, as the forward
        return _div(g, 2 * out)
    if not isinstance(a, _RAW):
        return g * p * _pow(a, p - 1)
    with quiet():
        return g * (p * _pow(a, p - 1))


def _zeros_like(x: Any) -> Any:
    if type(x) is float:
        return 0.0
    return np.zeros_like(x) if isinstance(x, _RAW) else x * 0.0


def _sign(a):
    if type(a) is float:
        return float((a > 0) - (a < 0))
    return np.sign(raw(a))


def _pow_vjp_exponent(g, out, a, b):
    """d/db a**b = a**b * log(a); 0 where a == 0 and b >= 0 (not 0 * -inf), as torch."""
    if not isinstance(a, _RAW) or not isinstance(b, _RAW):
        return g * out * _log(a)
    with quiet():
        return g * _zero_where(np.equal(a, 0) & np.greater_equal(b, 0), out * _log(a))


# ---------------------------------------------------------------- matmul
def _matmul_vjp_a(g, out, a, b):
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 1 and nb == 1:
        return g * b
    if nb == 1:  # (..., n, k) @ (k,) -> (..., n)
        return sum_to(g.reshape(shape_of(g) + (1,)) * b, shape_of(a))
    if na == 1:  # (n,) @ (..., n, m) -> (..., m)
        gs = shape_of(g)
        col = b @ g.reshape(gs + (1,))  # (..., n, 1)
        return sum_to(col.reshape(shape_of(col)[:-1]), shape_of(a))
    return sum_to(g @ _swap_last(b), shape_of(a))


def _matmul_vjp_b(g, out, a, b):
    na, nb = len(shape_of(a)), len(shape_of(b))
    if na == 1 and nb == 1:
        return g * a
    if na == 1:  # (n,) @ (..., n, m)
        gs = shape_of(g)
        outer = a.reshape((shape_of(a)[0], 1)) * g.reshape(gs[:-1] + (1, gs[-1]))
        return sum_to(outer, shape_of(b))
    if nb == 1:  # (..., n, k) @ (k,)
        gs = shape_of(g)
        col = _swap_last(a) @ g.reshape(gs + (1,))  # (..., k, 1)
        return sum_to(col.reshape(shape_of(col)[:-1]), shape_of(b))
    return sum_to(_swap_last(a) @ g, shape_of(b))


# ---------------------------------------------------------------- reductions
def _sum(a, axis, keepdims):
    return np.sum(a, axis=axis, keepdims=keepdims)


def mean_all(a: Any) -> Any:
    """``np.mean(a)`` over every element, the same number, without np.mean's Python layers
    (its argument parsing and item count are ~12,000 instructions, as much as the sum
    itself on a small batch; a loss takes one mean per step). Other dtypes and an empty
    ``a`` (numpy's warning, then nan) go to np.mean."""
    if type(a) is not np.ndarray or a.dtype not in FLOAT_DTYPES or not a.size:
        return np.mean(a)
    total = np.add.reduce(a, axis=None)
    return total.dtype.type(total / np.intp(a.size))  # np.mean's division, to the bit


def _mean(a, axis, keepdims):
    if axis is None and not keepdims and type(a) is np.ndarray and a.size:
        return mean_all(a)
    if np.size(a) == 0:  # the mean of nothing is nan, as torch, without numpy's warning
        with warnings.catch_warnings(), quiet():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.mean(a, axis=axis, keepdims=keepdims)
    return np.mean(a, axis=axis, keepdims=keepdims)


def _count(shape: tuple, axis: tuple | None) -> int:
    """How many elements a reduction averages over (at least 1: an empty mean's
    gradient is empty, not a division by zero)."""
    n = math.prod(shape) if axis is None else math.prod(shape[i] for i in axis)
    return max(n, 1)


def _sum_kept(x: Any, axis: int) -> Any:
    """``x.sum(axis, keepdims=True)``; a 0-d value is its own sum."""
    return x if type(x) is float else x.sum(axis=axis, keepdims=True)


def _max_vjp(g, out, a, axis, keepdims):
    # The gradient is shared equally among tied maxima (like torch.amax).
    a_raw, out_raw = raw(a), raw(out)
    shape = shape_of(a_raw)
    peak = expand_reduced(out_raw, shape, axis, keepdims)
    mask = np.asarray(a_raw == peak, dtype=np.result_type(a_raw, np.float32))
    ties = expand_reduced(np.sum(mask, axis=axis, keepdims=keepdims), shape, axis, keepdims)
    return expand_reduced(g, shape, axis, keepdims) * (mask / ties)


# ---------------------------------------------------------------- indexing
def _is_basic_index(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


def scatter_add(g, idx, shape):
    """Zeros of ``shape`` with ``g`` added at ``idx`` (repeated indices add up)."""
    if not isinstance(g, _RAW):
        return g.scatter(idx, shape)
    g = np.asarray(g)
    out = np.zeros(shape, dtype=np.result_type(g.dtype, np.float32))
    if _is_basic_index(idx):
        out[idx] = g
    else:
        np.add.at(out, idx, g)
    return out


# ---------------------------------------------------------------- softmax family
def _log_softmax(a, axis):
    shifted = a - np.max(a, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# ---------------------------------------------------------------- the table
ADD = Op(
    "+",
    operator.add,  # a + b; a C function: no Python frame per op
    lambda g, out, a, b: g,
    lambda g, out, a, b: g,
    show="{a} + {b}",
    local=("1", "1"),
)
SUB = Op(
    "-",
    operator.sub,  # a - b; a C function: no Python frame per op
    lambda g, out, a, b: g,
    lambda g, out, a, b: -g,
    show="{a} - {b}",
    local=("1", "-1"),
)
MUL = Op(
    "*",
    operator.mul,  # a * b; a C function: no Python frame per op
    lambda g, out, a, b: g * b,
    lambda g, out, a, b: g * a,
    show="{a} * {b}",
    local=("{b}", "{a}"),
)
DIV = Op(
    "/",
    _div,
    lambda g, out, a, b: _div(g, b),
    lambda g, out, a, b: _div(-g * out, b),
    show="{a} / {b}",
    local=("1/{b}", "-{a}/{b}²"),
)
NEG = Op("neg", lambda a: -a, lambda g, out, a: -g, show="-{a}", local=("-1",))
POW = Op(
    "**",
    _pow,
    _pow_vjp_base,
    _pow_vjp_exponent,
    show="{a} ** {b}",
    local=("{b}·{a}^({b}-1)", "{out}·log({a})"),
)
# x ** p with a plain number p: p is a parameter, not an input (no log(x) needed).
POW_CONST = Op(
    "**",
    _pow_const,
    _pow_const_vjp,
    show="{a} ** {p}",
    local=("{p}·{a}^({p}-1)",),
)
MATMUL = Op("@", lambda a, b: a @ b, _matmul_vjp_a, _matmul_vjp_b, show="{a} @ {b}")


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


HINGE = Op("hinge", _hinge, _hinge_vjp, lambda g, out, s, y: _hinge_vjp(g, out, y, s))


# x @ W + b in one node (a dense layer): one node and one traversal step instead of two.
# A batch of rows times a matrix (every vectorized MLP) takes the products straight away:
# the same numbers as the general rules, without their shape analysis (measured with the other
# vectorized-step changes: see nn.layers.MLP._forward_batch).
def _linear_vjp_x(g, out, x, W, b):
    if type(g) is np.ndarray and g.ndim == 2 and type(W) is np.ndarray and W.ndim == 2:
        return g @ W.T
    return _matmul_vjp_a(g, out, x, W)


def _linear_vjp_W(g, out, x, W, b):
    if type(g) is np.ndarray and g.ndim == 2 and type(x) is np.ndarray and x.ndim == 2:
        return x.T @ g
    return _matmul_vjp_b(g, out, x, W)


def _linear_vjp_b(g, out, x, W, b):
    if type(g) is np.ndarray and g.ndim == 2 and type(b) is np.ndarray and b.ndim == 1:
        return np.add.reduce(g, axis=0)  # g.sum(axis=0) without ndarray.sum's Python layer
    return (
        g.sum(axis=0) if len(shape_of(g)) == 2 and len(shape_of(b)) == 1 else sum_to(g, shape_of(b))
    )


LINEAR = Op(
    "linear",
    lambda x, W, b: x @ W + b,
    _linear_vjp_x,
    _linear_vjp_W,
    _linear_vjp_b,
)

EXP = Op("exp", _guarded(math.exp, np.exp), lambda g, out, a: g * out, local=("{out}",))
LOG = Op("log", _guarded(math.log, np.log), lambda g, out, a: _div(g, a), local=("1/{a}",))
TANH = Op(
    "tanh",
    _guarded(math.tanh, np.tanh),
    lambda g, out, a: g * (1 - out * out),
    local=("(1 - {out}²)",),
)
SIGMOID = Op(
    "sigmoid", _sigmoid, lambda g, out, a: g * (out * (1 - out)), local=("{out}·(1 - {out})",)
)
SQRT = Op("sqrt", _sqrt, lambda g, out, a: _div(g, 2 * out), local=("1/(2·{out})",))
ABS = Op("abs", abs, lambda g, out, a: g * _sign(a), local=("sign({a})",))


def _relu(a):
    if type(a) is float:
        return a if a > 0 or a != a else 0.0
    if type(a) is np.ndarray and a.size >= _BIG and a.dtype in FLOAT_DTYPES:
        # numpy's maximum against the number 0 is not vectorized, against an array of
        # zeros it is: 2x faster on a (256, 256) float32 layer, the same numbers (nan
        # stays nan, -0.0 becomes 0.0). The zeros cost more than they save on a small
        # batch, hence the size.
        return np.maximum(a, np.zeros_like(a))
    return np.maximum(a, 0)


_BIG = 4096  # elements: where a whole-array pass costs more than numpy's call overhead


def _relu_vjp(g, out, a):
    # The slope is 1 where the output is not 0: where the input is positive, and at a
    # nan input, whose gradient passes through as in torch (threshold_backward). Where
    # the output is 0 the gradient is 0 whatever g is, as torch's: an infinite g there
    # (sqrt or log after relu) gives 0, not 0 * inf = nan, so no product by a 0/1 mask.
    # The mask is plain data even for Values (a constant under create_graph).
    out = raw(out)
    if type(out) is float:
        return g if out != 0 else 0.0
    keep = out != 0
    same = type(g) is np.ndarray and g.shape == out.shape and g.dtype == out.dtype
    if same and out.dtype in _UINT:
        # np.where(keep, g, 0) at the speed of a product (np.where is 2-4x slower): g's
        # bits ANDed with all ones where kept, with all zeros (0.0) elsewhere.
        bits = keep.astype(_UINT[out.dtype])
        np.negative(bits, out=bits)  # 1 -> all ones
        return np.bitwise_and(g.view(bits.dtype), bits, out=bits).view(out.dtype)
    if isinstance(g, _RAW):
        return np.where(keep, g, 0.0)
    # create_graph: the same choice recorded as an op (a product by the mask is nan too)
    zero = type(g)(0.0, requires_grad=False)
    return g._apply_op(WHERE, [zero], (keep.astype(out.dtype),))


_UINT = {np.dtype(np.float64): np.dtype(np.uint64), np.dtype(np.float32): np.dtype(np.uint32)}


RELU = Op("relu", _relu, _relu_vjp, local=("[{a} > 0]",))
LEAKY_RELU = Op(
    "leaky_relu",
    lambda a, slope: (
        (a if a > 0 else a * slope) if type(a) is float else np.where(a > 0, a, a * slope)
    ),
    lambda g, out, a, slope: g * np.where(raw(a) > 0, 1.0, slope),
    show="leaky_relu({a}, {p})",
    local=("[{a} > 0 ? 1 : {p}]",),
)

SUM = Op(
    "sum",
    _sum,
    lambda g, out, a, axis, keepdims: expand_reduced(g, shape_of(a), axis, keepdims),
)
MEAN = Op(
    "mean",
    _mean,
    lambda g, out, a, axis, keepdims: (
        expand_reduced(g, shape_of(a), axis, keepdims) * (1.0 / _count(shape_of(a), axis))
    ),
)
MAX = Op("max", lambda a, axis, keepdims: np.max(a, axis=axis, keepdims=keepdims), _max_vjp)

RESHAPE = Op(
    "reshape",
    lambda a, shape: np.reshape(a, shape),
    lambda g, out, a, shape: reshape(g, shape_of(a)),
)
TRANSPOSE = Op(
    "transpose",
    lambda a, axes: np.transpose(a, axes),
    lambda g, out, a, axes: g if type(g) is float else g.transpose(tuple(np.argsort(axes))),
)
BROADCAST = Op(
    "broadcast_to",
    lambda a, shape: np.broadcast_to(a, shape),
    lambda g, out, a, shape: sum_to(g, shape_of(a)),
)
GETITEM = Op("[]", lambda a, idx: a[idx], lambda g, out, a, idx: scatter_add(g, idx, shape_of(a)))
SCATTER = Op("scatter", scatter_add, lambda g, out, a, idx, shape: g[idx])

LOG_SOFTMAX = Op(
    "log_softmax",
    _log_softmax,
    lambda g, out, a, axis: g - _exp(out) * _sum_kept(g, axis),
)
SOFTMAX = Op(
    "softmax",
    _softmax,
    lambda g, out, a, axis: out * (g - _sum_kept(g * out, axis)),
)


# ---------------------------------------------------------------- more elementwise functions
# Dual-mode helpers: numpy on raw data, the Value method on a Value (second derivatives).
def _dual(np_fn: Callable, method: str) -> Callable:
    def f(x, *args):
        return np_fn(x, *args) if isinstance(x, _RAW) else getattr(x, method)(*args)

    return f


_sin, _cos = _dual(np.sin, "sin"), _dual(np.cos, "cos")
_tanh, _sigmoid_dual = _dual(np.tanh, "tanh"), _dual(_sigmoid, "sigmoid")
_flip = _dual(np.flip, "flip")
_cumsum = _dual(np.cumsum, "cumsum")


def _erf(a):
    if type(a) is float:
        return math.erf(a)
    if not isinstance(a, _RAW):
        return a.erf()
    # numpy has no erf; math.erf per element is exact and fast enough for our sizes
    a = np.asarray(a)
    return np.frompyfunc(math.erf, 1, 1)(a).astype(a.dtype if a.dtype.kind == "f" else float)


def _positive(x):
    """1.0 where ``x > 0``, else 0.0: a constant mask, even when ``x`` is a Value."""
    r = raw(x)
    if type(r) is float:
        return float(r > 0)
    r = np.asarray(r)
    return (r > 0).astype(r.dtype if r.dtype.kind == "f" else np.float64)


def _share(a, b):
    """Where ``a`` wins against ``b`` (1), ties (1/2, as torch.maximum), loses (0)."""
    ra, rb = raw(a), raw(b)
    if type(ra) is float and type(rb) is float:
        return 1.0 if ra > rb else (0.5 if ra == rb else 0.0)
    win = np.greater(ra, rb).astype(np.result_type(ra, rb, np.float32))
    return win + 0.5 * np.equal(ra, rb)


def _softplus(a):
    if type(a) is float:
        return max(a, 0.0) + math.log1p(math.exp(-abs(a)))
    return np.logaddexp(0.0, a)


def _elu(a, alpha):
    if type(a) is float:
        return a if a > 0 else alpha * math.expm1(a)
    return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))


_SQRT_2_PI = math.sqrt(2.0 / math.pi)


def _gelu(a, approximate):
    if approximate == "tanh":
        return 0.5 * a * (1.0 + _tanh(_SQRT_2_PI * (a + 0.044715 * a * a * a)))
    return 0.5 * a * (1.0 + _erf(a * (1 / math.sqrt(2.0))))


def _gelu_vjp(g, out, a, approximate):
    if approximate == "tanh":
        t = _tanh(_SQRT_2_PI * (a + 0.044715 * a * a * a))
        return g * (
            0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * _SQRT_2_PI * (1.0 + 3 * 0.044715 * a * a)
        )
    cdf = 0.5 * (1.0 + _erf(a * (1 / math.sqrt(2.0))))
    pdf = _exp(a * a * -0.5) * (1 / math.sqrt(2 * math.pi))
    return g * (cdf + a * pdf)


def _clip(a, lo, hi):
    if type(a) is float:
        return min(max(a, -math.inf if lo is None else lo), math.inf if hi is None else hi)
    return np.clip(a, lo, hi)


def _clip_vjp(g, out, a, lo, hi):
    r = np.asarray(raw(a))
    inside = np.ones(r.shape, dtype=bool)
    if lo is not None:
        inside &= r >= lo
    if hi is not None:
        inside &= r <= hi
    mask = inside.astype(r.dtype if r.dtype.kind == "f" else np.float64)
    return g * (float(mask) if type(raw(a)) is float else mask)


SIN = Op("sin", _guarded(math.sin, np.sin), lambda g, out, a: g * _cos(a), local=("cos({a})",))
COS = Op("cos", _guarded(math.cos, np.cos), lambda g, out, a: -g * _sin(a), local=("-sin({a})",))
ERF = Op(
    "erf",
    _erf,
    lambda g, out, a: g * (2 / math.sqrt(math.pi)) * _exp(-(a * a)),
    local=("2/√π·e^(-{a}²)",),
)
LOG1P = Op(
    "log1p",
    _guarded(math.log1p, np.log1p),
    lambda g, out, a: _div(g, 1.0 + a),
    local=("1/(1 + {a})",),
)
EXPM1 = Op(
    "expm1", _guarded(math.expm1, np.expm1), lambda g, out, a: g * (out + 1.0), local=("{out} + 1",)
)
SQUARE = Op("square", lambda a: a * a, lambda g, out, a: 2.0 * g * a, show="{a}²", local=("2·{a}",))
RECIPROCAL = Op(
    "reciprocal",
    lambda a: _div(1.0, a),
    lambda g, out, a: -g * out * out,
    show="1/{a}",
    local=("-{out}²",),
)
# log(1 + e^x) without overflow; its derivative is the sigmoid.
SOFTPLUS = Op(
    "softplus", _softplus, lambda g, out, a: g * _sigmoid_dual(a), local=("sigmoid({a})",)
)
# x·sigmoid(x) as one node: one pass over the data instead of three (sigmoid, *, and back).
SILU = Op(
    "silu",
    lambda a: a * _sigmoid(a),
    lambda g, out, a: g * (_sigmoid_dual(a) * (1.0 + a - out)),
    local=("σ({a})·(1 + {a} - {out})",),
)
ELU = Op(
    "elu",
    _elu,
    lambda g, out, a, alpha: g * (_positive(a) + (1.0 - _positive(a)) * (out + alpha)),
    show="elu({a}, {p})",
    local=("[{a} > 0 ? 1 : {out} + {p}]",),
)
# approximate="none": x·Φ(x) with the exact normal CDF; "tanh": the GPT-2 approximation.
GELU = Op("gelu", _gelu, _gelu_vjp, show="gelu({a})")
CLIP = Op("clip", _clip, _clip_vjp, show="clip({a})")
MAXIMUM = Op(
    "maximum",
    np.maximum,
    lambda g, out, a, b: sum_to(g * _share(a, b), shape_of(a)),
    lambda g, out, a, b: sum_to(g * _share(b, a), shape_of(b)),
    local=("[{a} > {b}]", "[{b} > {a}]"),
)
MINIMUM = Op(
    "minimum",
    np.minimum,
    lambda g, out, a, b: sum_to(g * _share(b, a), shape_of(a)),
    lambda g, out, a, b: sum_to(g * _share(a, b), shape_of(b)),
    local=("[{a} < {b}]", "[{b} < {a}]"),
)
# The condition is a parameter (a constant 0/1 mask), not an input.
WHERE = Op(
    "where",
    lambda a, b, mask: np.where(mask, a, b),
    lambda g, out, a, b, mask: sum_to(g * mask, shape_of(a)),
    lambda g, out, a, b, mask: sum_to(g * (1.0 - mask), shape_of(b)),
)


# ---------------------------------------------------------------- more reductions
def _mean_keep(a, axis):
    return np.mean(a, axis=axis, keepdims=True) if isinstance(a, _RAW) else a.mean(axis, True)


def _product_of_others(a: np.ndarray, axis: tuple | None) -> np.ndarray:
    """Each element's product of the *other* elements of its reduction (exact at zeros)."""
    axes = tuple(range(a.ndim)) if axis is None else axis
    moved = np.moveaxis(a, axes, tuple(range(a.ndim - len(axes), a.ndim)))
    flat = moved.reshape(moved.shape[: a.ndim - len(axes)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis((left * right).reshape(moved.shape), tuple(range(-len(axes), 0)), axes)


def _prod_vjp(g, out, a, axis, keepdims):
    shape = shape_of(a)
    if type(a) is float:
        return g
    if isinstance(a, _RAW):
        others = _product_of_others(a, axis)
    else:  # second derivatives: out / a (finite away from zeros)
        others = expand_reduced(out, shape, axis, keepdims) / a
    return expand_reduced(g, shape, axis, keepdims) * others


def _logsumexp(a, axis, keepdims):
    peak = np.max(a, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    out = np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else (np.squeeze(out, axis=axis) if axis is not None else out.item())


MIN = Op("min", lambda a, axis, keepdims: np.min(a, axis=axis, keepdims=keepdims), _max_vjp)
PROD = Op("prod", lambda a, axis, keepdims: np.prod(a, axis=axis, keepdims=keepdims), _prod_vjp)
# One node for the variance: the gradient 2(x - mean)/(n - ddof) is one expression.
VAR = Op(
    "var",
    lambda a, axis, keepdims, ddof: np.var(a, axis=axis, keepdims=keepdims, ddof=ddof),
    lambda g, out, a, axis, keepdims, ddof: (
        expand_reduced(g, shape_of(a), axis, keepdims)
        * (a - _mean_keep(a, axis))
        * (2.0 / (_count(shape_of(a), axis) - ddof))
    ),
)
LOGSUMEXP = Op(
    "logsumexp",
    _logsumexp,
    lambda g, out, a, axis, keepdims: (
        expand_reduced(g, shape_of(a), axis, keepdims)
        * _exp(a - expand_reduced(out, shape_of(a), axis, keepdims))
    ),
)
CUMSUM = Op(
    "cumsum",
    lambda a, axis: np.cumsum(a, axis=axis),
    lambda g, out, a, axis: _flip(_cumsum(_flip(g, axis), axis), axis),
)


# ---------------------------------------------------------------- more shape ops
def _tile_vjp(g, out, a, reps):
    shape = shape_of(a)
    full = (1,) * (len(reps) - len(shape)) + shape
    interleaved = tuple(n for pair in zip(reps, full) for n in pair)
    summed = reshape(g, interleaved).sum(axis=tuple(range(0, 2 * len(reps), 2)))
    return reshape(summed, shape)


def _repeat_vjp(g, out, a, repeats, axis):
    shape = shape_of(a)
    split = shape[:axis] + (shape[axis], repeats) + shape[axis + 1 :]
    return reshape(g, split).sum(axis=axis + 1)


FLIP = Op("flip", lambda a, axis: np.flip(a, axis), lambda g, out, a, axis: _flip(g, axis))
PAD = Op(
    "pad",
    lambda a, widths, value: np.pad(a, widths, constant_values=value),
    lambda g, out, a, widths, value: g[
        tuple(slice(lo, n + lo) for (lo, _), n in zip(widths, shape_of(a)))
    ],
)
# reps has one entry per output axis (numpy's tile pads it with leading 1s).
TILE = Op("tile", lambda a, reps: np.tile(a, reps), _tile_vjp)
REPEAT = Op("repeat", lambda a, repeats, axis: np.repeat(a, repeats, axis=axis), _repeat_vjp)


def _identity_vjp(g, out, *args):
    return g


@lru_cache(maxsize=256)
def add_n_op(n: int) -> Op:
    """The sum of ``n`` inputs as one node: every input's gradient is ``g`` itself."""
    op = Op(
        "+",
        lambda *args: sum(args),
        *(_identity_vjp,) * n,
        show=lambda names, params: " + ".join(names),
        local=("1",) * n,
    )
    op.vjp_all = lambda g, out, *args: [g] * n
    return op


@lru_cache(maxsize=256)
def weighted_sum_op(n: int, bias: bool) -> Op:
    """``w1*x1 + ... + wn*xn (+ b)`` as one node; inputs in the order w1..wn, x1..xn[, b].

    A neuron's pre-activation: weight i's gradient is ``g * xi``, input i's is
    ``g * wi``, the bias's is ``g``. The sum runs in the same order as the chain
    ``w1*x1 + w2*x2 + ... + b``, so the numbers are the same to the last bit.
    """

    def forward(*args):
        total = sum(map(operator.mul, args[:n], args[n : 2 * n]))
        return total + args[2 * n] if bias else total

    def vjp_weight(i: int) -> Callable:
        return lambda g, out, *args: g * args[n + i]

    def vjp_input(i: int) -> Callable:
        return lambda g, out, *args: g * args[i]

    def vjp_all(g, out, *args):
        grads = [g * x for x in args[n : 2 * n]]
        grads.extend([g * w for w in args[:n]])
        if bias:
            grads.append(g)
        return grads

    # A scalar network spends most of its backward here. Adding in place, without
    # vjp_all's list of 2n+1 gradients and backward's loop over it, took the scalar
    # moons step from 331M to 306M instructions (-7.5%, callgrind).
    def add_floats(g, parents):
        data = [p._data for p in parents]
        if set(map(type, data)) != _JUST_FLOAT:
            return False
        # A ReLU that is off (or a flat hinge) sends g = 0: every term below is then
        # ±0.0 (the inputs being finite, which their sum being finite shows), which
        # changes no gradient (see mode._WriteClock.negative_zero). The scalar moons step
        # skips 55% of its neurons' backward this way, as the hand-written floor does:
        # ~300M -> ~266M instructions (-11%, callgrind, two runs each).
        if g == 0.0 and not writes.negative_zero and math.isfinite(sum(data)):
            return True
        for w, x in zip(parents[:n], data[n : 2 * n]):
            if w.requires_grad:
                w._g += g * x
        for x, w in zip(parents[n : 2 * n], data[:n]):
            if x.requires_grad:
                x._g += g * w
        if bias and parents[2 * n].requires_grad:
            parents[2 * n]._g += g
        return True

    def show(names: list[str], params: tuple) -> str:
        terms = [f"{w}·{x}" for w, x in zip(names[:n], names[n : 2 * n])]
        return " + ".join(terms + names[2 * n :])

    def partner(i: int) -> Callable:  # d/dw_i is x_i and d/dx_i is w_i
        return lambda names, params: names[(i + n) % (2 * n)]

    vjps = [vjp_weight(i) for i in range(n)] + [vjp_input(i) for i in range(n)]
    local = [partner(i) for i in range(2 * n)]
    if bias:
        vjps.append(_identity_vjp)
        local.append("1")
    op = Op("w·x+b" if bias else "w·x", forward, *vjps, show=show, local=tuple(local))
    op.vjp_all, op.add_floats = vjp_all, add_floats
    return op


_JUST_FLOAT = {float}


@lru_cache(maxsize=256)
def sum_of_squares_op(n: int) -> Op:
    """``sum(x1**2) + ... + sum(xn**2)`` as one node (an L2 penalty): input i's
    gradient is ``2 * g * xi``."""

    def forward(*args):
        return sum(float(np.vdot(x, x)) if type(x) is not float else x * x for x in args)

    def vjp_for(i: int) -> Callable:
        return lambda g, out, *args: 2.0 * g * args[i]

    def twice(i: int) -> Callable:
        return lambda names, params: f"2·{names[i]}"

    op = Op("Σx²", forward, *map(vjp_for, range(n)), local=tuple(map(twice, range(n))))
    op.vjp_all = lambda g, out, *args: [2.0 * g * x for x in args]
    return op


def _part(g, axis: int, start: int, stop: int):
    index = (slice(None),) * axis + (slice(start, stop),)
    return g[index]


@lru_cache(maxsize=64)
def concat_op(n: int) -> Op:
    """The concatenation of ``n`` inputs; input i's gradient is its slice of ``g``."""

    def vjp_for(i: int) -> Callable:
        def vjp(g, out, *args):
            *ins, axis = args
            start = sum(shape_of(x)[axis] for x in ins[:i])
            return _part(g, axis, start, start + shape_of(ins[i])[axis])

        return vjp

    return Op(
        "concat", lambda *args: np.concatenate(args[:-1], axis=args[-1]), *map(vjp_for, range(n))
    )


@lru_cache(maxsize=64)
def stack_op(n: int) -> Op:
    """The stacking of ``n`` inputs along a new axis; input i's gradient is ``g[..., i, ...]``."""

    def vjp_for(i: int) -> Callable:
        def vjp(g, out, *args):
            axis = args[-1]
            return g[(slice(None),) * axis + (i,)]

        return vjp

    return Op("stack", lambda *args: np.stack(args[:-1], axis=args[-1]), *map(vjp_for, range(n)))


# ---------------------------------------------------------------- convolution and pooling
# One node each; the im2col / col2im arithmetic lives in conv.py. Params: stride, padding,
# dilation (pairs) and groups / count_include_pad. Their gradients are linear maps, made
# ops of their own here, so grad(create_graph=True) differentiates through them too:
# for y = conv(x, w), dx = T(g, w) and dw = W(g, x), and <T(g, w), u> = <g, conv(u, w)>
# = <w, W(g, u)> gives every vjp of the three in terms of the three.
def _via(op: Op, first: Any, *rest: Any) -> Any:
    """``op`` on raw inputs (``backward``), or recorded on Values (``create_graph``).
    ``rest`` holds the other inputs (``op``'s arity) then the params."""
    n = len(op.vjps)
    inputs, params = (first, *rest[: n - 1]), rest[n - 1 :]
    if isinstance(first, _RAW):
        return op.forward(*map(raw, inputs), *params)
    return first._apply_op(op, inputs[1:], params)


def _conv_dx(g, out, x, w, *rest):  # rest: (b,) and the four params, or the params alone
    return _via(CONV2D_INPUT_GRAD, g, w, *rest[-4:], shape_of(x))


def _conv_dw(g, out, x, w, *rest):
    if isinstance(g, _RAW):  # backward(): reuse the forward's columns of x
        return conv.weight_grad(g, x, *rest[-4:], shape_of(w), conv.kept_columns(out))
    return _via(CONV2D_WEIGHT_GRAD, g, x, *rest[-4:], shape_of(w))


CONV2D = Op(
    "conv2d",
    conv.conv2d_bias,
    _conv_dx,
    _conv_dw,
    lambda g, out, x, w, b, *p: g.sum(axis=(0, 2, 3)),
)
CONV2D_NO_BIAS = Op("conv2d", conv.conv2d, _conv_dx, _conv_dw)
CONV2D_INPUT_GRAD = Op(
    "conv2d_input_grad",
    conv.input_grad,
    lambda u, out, g, w, *p: _via(CONV2D_NO_BIAS, u, w, *p[:4]),
    lambda u, out, g, w, *p: _via(CONV2D_WEIGHT_GRAD, g, u, *p[:4], shape_of(w)),
)
CONV2D_WEIGHT_GRAD = Op(
    "conv2d_weight_grad",
    conv.weight_grad,
    lambda v, out, g, x, *p: _via(CONV2D_NO_BIAS, x, v, *p[:4]),
    lambda v, out, g, x, *p: _via(CONV2D_INPUT_GRAD, g, v, *p[:4], shape_of(x)),
)
# The window maxima are located from x's numbers (a constant routing, as relu's mask).
MAX_POOL2D = Op(
    "max_pool2d",
    conv.max_pool2d,
    lambda g, out, x, *p: _via(MAX_POOL2D_GRAD, g, *p, raw(x), raw(out)),
)
# params: kernel, stride, padding, dilation, then x and the window maxima (data)
MAX_POOL2D_GRAD = Op(
    "max_pool2d_grad",
    lambda g, *p: conv.max_pool2d_grad(g, *p[-2:], *p[:-2]),
    lambda u, out, g, *p: _via(MAX_POOL2D_PICK, u, *p),
)
MAX_POOL2D_PICK = Op(
    "max_pool2d_pick",
    lambda u, *p: conv.max_pool2d_pick(u, *p[-2:], *p[:-2]),
    lambda v, out, u, *p: _via(MAX_POOL2D_GRAD, v, *p),
)
AVG_POOL2D = Op(
    "avg_pool2d",
    conv.avg_pool2d,
    lambda g, out, x, *p: _via(AVG_POOL2D_GRAD, g, *p, shape_of(x)),
)
AVG_POOL2D_GRAD = Op(
    "avg_pool2d_grad",
    conv.avg_pool2d_grad,
    lambda u, out, g, *p: _via(AVG_POOL2D, u, *p[:-1]),
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
)

# torch's BCE: each log clamped at -100 (so p = 0 or 1 costs at most 100, never inf or a
# negative number), and the gradient (p - y) / max(p (1 - p), eps) with eps torch's EPSILON.
BCE_EPS = float(np.float32(1e-12))


def _clamped_logs(p):
    with quiet():
        return np.maximum(np.log(raw(p)), -100.0), np.maximum(np.log1p(-raw(p)), -100.0)


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
)
