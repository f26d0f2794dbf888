"""The arithmetic ops: ``+ - * / **``, unary minus and ``@`` (matrix product)."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from ..quiet import quiet
from .op import _RAW, Op, _guarded, _log, _swap_last, shape_of, sum_to

_sqrt = _guarded(math.sqrt, np.sqrt)


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


# ---------------------------------------------------------------- the table
# operator.add and friends are C functions: no Python frame per op.
ADD = Op(
    "+",
    operator.add,
    lambda g, out, a, b: g,
    lambda g, out, a, b: g,
    show="{a} + {b}",
    local=("1", "1"),
    method="__add__",
    onnx=lambda emit, a, b: emit("Add", a, b),
    torch=lambda t, a, b: a + b,
    key="add",
)
SUB = Op(
    "-",
    operator.sub,
    lambda g, out, a, b: g,
    lambda g, out, a, b: -g,
    show="{a} - {b}",
    local=("1", "-1"),
    method="__sub__",
    onnx=lambda emit, a, b: emit("Sub", a, b),
    torch=lambda t, a, b: a - b,
    key="sub",
)
MUL = Op(
    "*",
    operator.mul,
    lambda g, out, a, b: g * b,
    lambda g, out, a, b: g * a,
    show="{a} * {b}",
    local=("{b}", "{a}"),
    method="__mul__",
    onnx=lambda emit, a, b: emit("Mul", a, b),
    torch=lambda t, a, b: a * b,
    key="mul",
)
DIV = Op(
    "/",
    _div,
    lambda g, out, a, b: _div(g, b),
    lambda g, out, a, b: _div(-g * out, b),
    show="{a} / {b}",
    local=("1/{b}", "-{a}/{b}²"),
    method="__truediv__",
    onnx=lambda emit, a, b: emit("Div", a, b),
    torch=lambda t, a, b: a / b,
    key="div",
)
NEG = Op(
    "neg",
    operator.neg,
    lambda g, out, a: -g,
    show="-{a}",
    local=("-1",),
    method="__neg__",
    onnx=lambda emit, a: emit("Neg", a),
    torch=lambda t, a: -a,
    doc="-x",
)
POW = Op(
    "**",
    _pow,
    _pow_vjp_base,
    _pow_vjp_exponent,
    show="{a} ** {b}",
    local=("{b}·{a}^({b}-1)", "{out}·log({a})"),
    method="__pow__",  # (and __rpow__) when the exponent is a Value or an array
    onnx=lambda emit, a, b: emit("Pow", a, b),
    torch=lambda t, a, b: a**b,
    key="pow",
)
# x ** p with a plain number p: p is a parameter, not an input (no log(x) needed).
POW_CONST = Op(
    "**",
    _pow_const,
    _pow_const_vjp,
    show="{a} ** {p}",
    local=("{p}·{a}^({p}-1)",),
    method="__pow__",
    onnx=lambda emit, a, p: emit("Sqrt", a) if p == 0.5 else emit("Pow", a, emit.constant(p)),
    torch=lambda t, a, p: a**p,
    key="pow_const",
)
MATMUL = Op(
    "@",
    operator.matmul,
    _matmul_vjp_a,
    _matmul_vjp_b,
    show="{a} @ {b}",
    method="__matmul__",
    onnx=lambda emit, a, b: emit("MatMul", a, b),
    torch=lambda t, a, b: a @ b,
    key="matmul",
)
