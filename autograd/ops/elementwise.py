"""The elementwise math: exp, log, abs, sqrt, sin, cos, erf, log1p, expm1, clip,
square and reciprocal, each applied to every number on its own, and ``maximum``,
``minimum`` and ``where``, which pick between two. (The activations are in
``activations.py``.)"""

from __future__ import annotations

import math

import numpy as np

from .arithmetic import _div, _sqrt
from .op import _RAW, Composition, Op, _dual, _exp, _guarded, raw, shape_of, sum_to

_sin, _cos = _dual(np.sin, "sin"), _dual(np.cos, "cos")
_sinh, _cosh, _root = _dual(np.sinh, "sinh"), _dual(np.cosh, "cosh"), _dual(np.sqrt, "sqrt")


def _sign(a):
    if type(a) is float:
        return float((a > 0) - (a < 0))
    return np.sign(raw(a))


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


def _inverse_norm2(a, b):
    """1 / (a² + b²), and 0 where a² + b² is 0 (torch's atan2 gradient: 0 at the origin,
    not 0 * inf); written with a constant mask so it is differentiable again."""
    norm2 = a * a + b * b
    r = raw(norm2)
    if type(r) is float:
        return 0.0 if r == 0 else _div(1.0, norm2)
    zero = np.equal(r, 0).astype(r.dtype)
    return _div(1.0 - zero, norm2 + zero)


def _atan2_onnx(emit, y, x):
    # ONNX has no atan2: atan(y / x), moved by ±π where x < 0 (y < 0 takes -π), and
    # ±π/2 (0 for y = 0) where x = 0, where y / x is ±inf or nan.
    zero, pi = emit.constant(0.0), emit.constant(math.pi)
    base = emit("Atan", emit("Div", y, x))
    turn = emit("Where", emit("Less", y, zero), emit("Neg", pi), pi)
    angle = emit("Where", emit("Less", x, zero), emit("Add", base, turn), base)
    upright = emit("Mul", emit("Sign", y), emit.constant(math.pi / 2))
    return emit("Where", emit("Equal", x, zero), upright, angle)


EXP = Op(
    "exp",
    _guarded(math.exp, np.exp),
    lambda g, out, a: g * out,
    local=("{out}",),
    method="exp",
    grammar="exp",
    onnx=lambda emit, a: emit("Exp", a),
    torch=lambda t, a: t.exp(a),
    doc="e to the power of each element.",
)
LOG = Op(
    "log",
    _guarded(math.log, np.log),
    lambda g, out, a: _div(g, a),
    local=("1/{a}",),
    method="log",
    grammar="log",
    onnx=lambda emit, a: emit("Log", a),
    torch=lambda t, a: t.log(a),
    doc="Natural logarithm; of 0 or a negative number: -inf or nan, as numpy.",
)
ABS = Op(
    "abs",
    abs,
    lambda g, out, a: g * _sign(a),
    local=("sign({a})",),
    method="abs",
    grammar="abs",
    onnx=lambda emit, a: emit("Abs", a),
    torch=lambda t, a: t.abs(a),
    doc="|x|; its gradient at 0 is 0.",
)
SQRT = Op(
    "sqrt",
    _sqrt,
    lambda g, out, a: _div(g, 2 * out),
    local=("1/(2·{out})",),
    method="sqrt",
    grammar="sqrt",
    onnx=lambda emit, a: emit("Sqrt", a),
    torch=lambda t, a: t.sqrt(a),
    doc="Square root; of a negative number: nan, as numpy.",
)
SIN = Op(
    "sin",
    _guarded(math.sin, np.sin),
    lambda g, out, a: g * _cos(a),
    local=("cos({a})",),
    method="sin",
    onnx=lambda emit, a: emit("Sin", a),
    torch=lambda t, a: t.sin(a),
    doc="Sine (radians).",
)
COS = Op(
    "cos",
    _guarded(math.cos, np.cos),
    lambda g, out, a: -g * _sin(a),
    local=("-sin({a})",),
    method="cos",
    onnx=lambda emit, a: emit("Cos", a),
    torch=lambda t, a: t.cos(a),
    doc="Cosine (radians).",
)
# The other circular and hyperbolic functions: each one numpy ufunc, as exact as it gets
# (sinh composed from exp loses the digits of a tiny x; asin, acos, atan compose from
# nothing we have), and one node that reads as the function in a picture.
TAN = Op(
    "tan",
    _guarded(math.tan, np.tan),
    lambda g, out, a: g * (1.0 + out * out),
    local=("1 + {out}²",),
    method="tan",
    grammar="tan",
    onnx=lambda emit, a: emit("Tan", a),
    torch=lambda t, a: t.tan(a),
    doc="Tangent (radians).",
)
SINH = Op(
    "sinh",
    _guarded(math.sinh, np.sinh),
    lambda g, out, a: g * _cosh(a),
    local=("cosh({a})",),
    method="sinh",
    grammar="sinh",
    onnx=lambda emit, a: emit("Sinh", a),
    torch=lambda t, a: t.sinh(a),
    doc="Hyperbolic sine.",
)
COSH = Op(
    "cosh",
    _guarded(math.cosh, np.cosh),
    lambda g, out, a: g * _sinh(a),
    local=("sinh({a})",),
    method="cosh",
    grammar="cosh",
    onnx=lambda emit, a: emit("Cosh", a),
    torch=lambda t, a: t.cosh(a),
    doc="Hyperbolic cosine.",
)
# At |x| = 1 the slope is inf (g / 0), beyond it nan, as torch's.
ASIN = Op(
    "asin",
    _guarded(math.asin, np.arcsin),
    lambda g, out, a: _div(g, _root(1.0 - a * a)),
    local=("1/√(1 - {a}²)",),
    method="asin",
    grammar="asin",
    onnx=lambda emit, a: emit("Asin", a),
    torch=lambda t, a: t.asin(a),
    doc="Inverse sine, in [-π/2, π/2]; of |x| > 1: nan, as numpy.",
)
ACOS = Op(
    "acos",
    _guarded(math.acos, np.arccos),
    lambda g, out, a: _div(-g, _root(1.0 - a * a)),
    local=("-1/√(1 - {a}²)",),
    method="acos",
    grammar="acos",
    onnx=lambda emit, a: emit("Acos", a),
    torch=lambda t, a: t.acos(a),
    doc="Inverse cosine, in [0, π]; of |x| > 1: nan, as numpy.",
)
ATAN = Op(
    "atan",
    _guarded(math.atan, np.arctan),
    lambda g, out, a: _div(g, 1.0 + a * a),
    local=("1/(1 + {a}²)",),
    method="atan",
    grammar="atan",
    onnx=lambda emit, a: emit("Atan", a),
    torch=lambda t, a: t.atan(a),
    doc="Inverse tangent, in (-π/2, π/2).",
)
ATAN2 = Op(
    "atan2",
    np.arctan2,
    lambda g, out, a, b: sum_to(g * b * _inverse_norm2(a, b), shape_of(a)),
    lambda g, out, a, b: sum_to(g * -a * _inverse_norm2(a, b), shape_of(b)),
    local=("{b}/({a}² + {b}²)", "-{a}/({a}² + {b}²)"),
    method="atan2",
    onnx=lambda emit, a, b: _atan2_onnx(emit, a, b),
    torch=lambda t, a, b: t.atan2(a, b),
)
ERF = Op(
    "erf",
    _erf,
    lambda g, out, a: g * (2 / math.sqrt(math.pi)) * _exp(-(a * a)),
    local=("2/√π·e^(-{a}²)",),
    method="erf",
    onnx=lambda emit, a: emit("Erf", a),
    torch=lambda t, a: t.erf(a),
    doc="The error function, 2/√π ∫₀ˣ e^(-t²) dt.",
)
# log1p and expm1 are not compositions: log(1 + x) and exp(x) - 1 lose the digits of a
# tiny x (ONNX has neither, so there they are those compositions, in float32).
LOG1P = Op(
    "log1p",
    _guarded(math.log1p, np.log1p),
    lambda g, out, a: _div(g, 1.0 + a),
    local=("1/(1 + {a})",),
    method="log1p",
    onnx=lambda emit, a: emit("Log", emit("Add", a, emit.constant(1.0))),
    torch=lambda t, a: t.log1p(a),
    doc="log(1 + x), accurate for tiny x.",
)
EXPM1 = Op(
    "expm1",
    _guarded(math.expm1, np.expm1),
    lambda g, out, a: g * (out + 1.0),
    local=("{out} + 1",),
    method="expm1",
    onnx=lambda emit, a: emit("Sub", emit("Exp", a), emit.constant(1.0)),
    torch=lambda t, a: t.expm1(a),
    doc="e^x - 1, accurate for tiny x.",
)
# A rule of its own for torch's gradient: 1 at a bound (inside) and 0 at a nan;
# composed from maximum and minimum, a tie at a bound would share it (1/2).
CLIP = Op(
    "clip",
    _clip,
    _clip_vjp,
    show="clip({a})",
    method="clip",
    onnx=lambda emit, a, lo, hi: emit(
        "Clip",
        a,
        None if lo is None else emit.constant(lo),
        None if hi is None else emit.constant(hi),
    ),
    torch=lambda t, a, lo, hi: t.clamp(a, lo, hi),
)
MAXIMUM = Op(
    "maximum",
    np.maximum,
    lambda g, out, a, b: sum_to(g * _share(a, b), shape_of(a)),
    lambda g, out, a, b: sum_to(g * _share(b, a), shape_of(b)),
    local=("[{a} > {b}]", "[{b} > {a}]"),
    method="maximum",
    onnx=lambda emit, a, b: emit("Max", a, b),
    torch=lambda t, a, b: t.maximum(a, b),
)
# The condition is a parameter (a constant 0/1 mask), not an input; exported, it is the
# mask of the traced input.
WHERE = Op(
    "where",
    lambda a, b, mask: np.where(mask, a, b),
    lambda g, out, a, b, mask: sum_to(g * mask, shape_of(a)),
    lambda g, out, a, b, mask: sum_to(g * (1.0 - mask), shape_of(b)),
    onnx=lambda emit, a, b, mask: emit("Where", emit.constant(np.asarray(mask) != 0), a, b),
    torch=lambda t, a, b, mask: t.where(t.as_tensor(np.asarray(mask) != 0), a, b),
)

# Compositions: no rule of their own (each about as fast composed, and as clear).
SQUARE = Composition(
    "square",
    lambda x: x * x,
    method="square",
    torch=lambda t, x: t.square(x),
    doc="x², as x * x.",
)
RECIPROCAL = Composition(
    "reciprocal",
    lambda x: 1.0 / x,
    method="reciprocal",
    torch=lambda t, x: t.reciprocal(x),
    doc="1 / x.",
)
MINIMUM = Composition(
    "minimum",
    lambda x, other: -((-x).maximum(-other)),
    method="minimum",
    torch=lambda t, x, other: t.minimum(x, other),
    doc="""Elementwise smaller of the two (broadcasting), as -maximum(-x, -other); ties
    share the gradient.

    >>> from autograd import Value
    >>> Value([1.0, 5.0]).minimum(3.0).data
    array([1., 3.])
    """,
)
