"""The elementwise functions: exp, log, tanh, sigmoid, relu and their family, each
applied to every element on its own (and ``maximum``, ``minimum``, ``where``)."""

from __future__ import annotations

import math

import numpy as np

from ..data import FLOAT_DTYPES
from .arithmetic import _div, _sqrt
from .op import _RAW, Op, _dual, _exp, _guarded, raw, shape_of, sum_to


def _sigmoid(a):
    if type(a) is float:
        if a >= 0:
            return 1.0 / (1.0 + math.exp(-a))
        e = math.exp(a)
        return e / (1.0 + e)
    e = np.exp(-np.abs(a))  # never overflows
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sign(a):
    if type(a) is float:
        return float((a > 0) - (a < 0))
    return np.sign(raw(a))


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


_sin, _cos = _dual(np.sin, "sin"), _dual(np.cos, "cos")
_tanh, _sigmoid_dual = _dual(np.tanh, "tanh"), _dual(_sigmoid, "sigmoid")


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
