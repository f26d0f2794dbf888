"""The ``Op`` type (one entry of the op table), ``Composition`` (an entry made of other
ops) and the dual-mode helpers the vjps use.

The helpers work on raw data (a float or a numpy array) and on Values alike, so one vjp
serves ``backward()`` (raw data) and ``grad(..., create_graph=True)`` (Values).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..quiet import quiet


class Without(NamedTuple):
    """An interpretation an entry has none of, on purpose, and why:
    ``onnx=Without("only in the graph of a gradient")``."""

    reason: str


class Op:
    """One entry of the op table: everything the library knows about one operation.

    How it computes (the engine reads these):

    - ``name``: what drawings, pages and errors call it (``"*"``, ``"tanh"``).
    - ``forward(*inputs, *params)``: the result, on raw data (floats or numpy arrays).
    - ``vjps``: one per input, ``vjp(g, out, *inputs, *params)``: that input's gradient,
      given ``g``, the gradient of the output (a vector-Jacobian product).
    - ``params``: the arguments that are not inputs (an axis, an exponent), ``()`` in
      the table; ``op.with_params(...)`` makes the applied copy that a node records.

    How it reads (the step-through page and the drawings):

    - ``show``: the forward as a formula over the inputs' names, ``{a}`` and ``{b}``
      (``"{a} * {b}"``; by default ``name(a)``), ``{p}`` for the first parameter.
    - ``local``: per input, d(out)/d(input) as text over the same names and ``{out}``
      (``("{b}", "{a}")`` for ``*``); an n-ary op gives functions ``(names, params) -> str``.

    Where else it appears (each read from here, never listed again elsewhere):

    - ``method``: the ``Value`` method or operator that applies it (``"tanh"``,
      ``"__mul__"``), or None when a function does (``weighted_sum``, ``conv2d``). A
      one-input op without params, and a binary operator (with its reflected twin), get
      their method made from the entry; methods that take arguments are written by hand
      (``value_math.py``, ``value_shape.py``) and a test checks they apply this entry.
    - ``grammar``: its name in the formula grammar (the ``backproplab graph`` CLI and
      the live Expression tab), or None when formulas cannot use it.
    - ``onnx(emit, *inputs, *params)``: its ONNX translation, written with the emitter
      ``nn.onnx_export`` hands over (``lambda emit, x: emit("Tanh", x)``); or
      ``Without(reason)``.
    - ``torch(torch, *inputs, *params)``: the same operation in PyTorch, for the tests
      (``lambda t, a: t.tanh(a)``); or ``Without(reason)``.
    - ``key``: its unique name in the table (the name, unless two entries share one).
    - ``doc``: one line saying what it computes (the docstring of a method made here).

    Optional, for speed: ``vjp_all(g, out, *inputs, *params)`` gives every input's
    gradient in one call (an n-ary op would otherwise cost n calls that each take n
    inputs); ``add_floats(g, parents)`` is the scalar engine's shortcut, see
    ``fused.weighted_sum_op``; ``forward_floats(*inputs)`` is the forward for float
    inputs that raises TypeError for any other, so it can run before anyone asks what
    the inputs are (``functions.weighted_sum``).

    >>> from autograd.ops import MUL
    >>> MUL.formula(["x", "w"]), MUL.derivative(0, ["x", "w"], "y")
    ('x * w', 'w')
    """

    __slots__ = (
        "name",
        "forward",
        "vjps",
        "params",
        "show",
        "local",
        "method",
        "grammar",
        "onnx",
        "torch",
        "key",
        "doc",
        "vjp_all",
        "add_floats",
        "forward_floats",
    )

    def __init__(
        self,
        name: str,
        forward: Callable,
        *vjps: Callable,
        show: str | Callable | None = None,
        local: tuple | None = None,
        method: str | None = None,
        grammar: str | None = None,
        onnx: Callable | Without | None = None,
        torch: Callable | Without | None = None,
        key: str | None = None,
        doc: str = "",
    ) -> None:
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.params: tuple = ()
        self.show = show
        self.local = local
        self.method = method
        self.grammar = grammar
        self.onnx = onnx
        self.torch = torch
        self.key = key or name
        self.doc = doc
        self.vjp_all: Callable | None = None
        self.add_floats: Callable | None = None
        self.forward_floats: Callable | None = None

    def with_params(self, *params: Any) -> Op:
        """This op with ``params`` passed after the inputs to its forward and vjps."""
        bound = _new(Op)
        for name in Op.__slots__:
            setattr(bound, name, getattr(self, name))
        bound.params = params
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


_new = object.__new__


class Composition:
    """An entry made of other ops (tinygrad's way): ``build(x, *args)`` applies them to
    Values, so it records no node and needs no rule, no drawing text and no ONNX
    translation of its own; its gradient, pictures and export are its parts'.

    ``method``, ``grammar``, ``torch``, ``key`` and ``doc`` mean what they mean for an
    :class:`Op` (``torch`` takes the method's arguments: ``torch(torch, x, *args)``).

    >>> from autograd import Value
    >>> from autograd.ops import SQUARE
    >>> y = SQUARE.build(Value(3.0)); y.data, y.op
    (9.0, '*')
    """

    __slots__ = ("name", "build", "method", "grammar", "torch", "key", "doc")

    def __init__(
        self,
        name: str,
        build: Callable,
        method: str | None = None,
        grammar: str | None = None,
        torch: Callable | Without | None = None,
        key: str | None = None,
        doc: str = "",
    ) -> None:
        self.name, self.build, self.method, self.grammar = name, build, method, grammar
        self.torch, self.key, self.doc = torch, key or name, doc

    def __repr__(self) -> str:
        return f"Composition({self.name!r})"


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

# (typed Any: a type checker then leaves a dual-mode argument Any after isinstance)
_RAW: Any = (float, int, np.ndarray, np.generic)


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


# Dual-mode helpers: numpy on raw data, the Value method on a Value (second derivatives).
def _dual(np_fn: Callable, method: str) -> Callable:
    def f(x, *args):
        return np_fn(x, *args) if isinstance(x, _RAW) else getattr(x, method)(*args)

    return f
