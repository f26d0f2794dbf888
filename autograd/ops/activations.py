"""The entries of the activation functions (tanh, relu, sigmoid, ...). Each also has one
line in ``nn.activations.REGISTRY``, which makes it an activation of ``nn`` (a name for
``MLP``, a Module class, a torch layer); a test fails for an entry here without one.

Each is one node even where a composition of other ops would do: an activation is one
step of a neuron in every picture (the Neuron tab, the step-through page, a drawing
collapsed by neuron, which finds a neuron's output as the one-input node after its
weighted sum). Each entry says what composing it would cost besides.
"""

from __future__ import annotations

import math

import numpy as np

from ..data import FLOAT_DTYPES
from .elementwise import WHERE, _erf, _positive
from .op import _RAW, Op, _dual, _exp, _guarded, raw


def _sigmoid(a):
    if type(a) is float:
        if a >= 0:
            return 1.0 / (1.0 + math.exp(-a))
        e = math.exp(a)
        return e / (1.0 + e)
    e = np.exp(-np.abs(a))  # never overflows
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


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
    if same and g.dtype in _BITS:
        # np.where(keep, g, 0) as g's bits ANDed with all ones where kept, all zeros (0.0)
        # elsewhere: laid out as out, as a float32 CNN's later sums need to add in the
        # same order (np.where takes g's layout: other bits in the CNN step's 5th loss),
        # and cheaper (np.where: +1.9% instructions for the medium MLP step; zeros like
        # out and a copy where kept: +6.6% for the vectorized moons step).
        bits = keep.astype(_BITS[g.dtype])
        np.negative(bits, out=bits)  # 1 -> all ones
        return np.bitwise_and(g.view(bits.dtype), bits, out=bits).view(g.dtype)
    if isinstance(g, _RAW):
        return np.where(keep, g, 0.0)
    # create_graph: the same choice recorded as an op (a product by the mask is nan too)
    zero = type(g)(0.0, requires_grad=False)
    return g._apply_op(WHERE, [zero], (keep.astype(out.dtype),))


_BITS = {np.dtype(np.float64): np.dtype(np.uint64), np.dtype(np.float32): np.dtype(np.uint32)}


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


def _gelu_onnx(emit, x, approximate):
    # Gelu is an ONNX op from opset 20 only; at 18 it is its formula.
    if approximate == "tanh":
        cube = emit("Mul", emit("Mul", x, x), x)
        inner = emit("Add", x, emit("Mul", cube, emit.constant(0.044715)))
        curve = emit("Tanh", emit("Mul", inner, emit.constant(_SQRT_2_PI)))
    else:
        curve = emit("Erf", emit("Mul", x, emit.constant(1 / math.sqrt(2.0))))
    return emit("Mul", emit("Mul", x, emit.constant(0.5)), emit("Add", curve, emit.constant(1.0)))


_tanh, _sigmoid_dual = _dual(np.tanh, "tanh"), _dual(_sigmoid, "sigmoid")


TANH = Op(
    "tanh",
    _guarded(math.tanh, np.tanh),
    lambda g, out, a: g * (1 - out * out),
    local=("(1 - {out}²)",),
    method="tanh",
    grammar="tanh",
    onnx=lambda emit, a: emit("Tanh", a),
    torch=lambda t, a: t.tanh(a),
    doc="Hyperbolic tangent.",
)
RELU = Op(
    "relu",
    _relu,
    _relu_vjp,
    local=("[{a} > 0]",),
    method="relu",
    grammar="relu",
    onnx=lambda emit, a: emit("Relu", a),
    torch=lambda t, a: t.relu(a),
    doc="max(x, 0); its gradient at exactly 0 is 0 (as in PyTorch).",
)
SIGMOID = Op(
    "sigmoid",
    _sigmoid,
    lambda g, out, a: g * (out * (1 - out)),
    local=("{out}·(1 - {out})",),
    method="sigmoid",
    grammar="sigmoid",
    onnx=lambda emit, a: emit("Sigmoid", a),
    torch=lambda t, a: t.sigmoid(a),
    doc="1 / (1 + exp(-x)), without overflow for large |x|.",
)
LEAKY_RELU = Op(
    "leaky_relu",
    lambda a, slope: (
        (a if a > 0 else a * slope) if type(a) is float else np.where(a > 0, a, a * slope)
    ),
    lambda g, out, a, slope: g * np.where(raw(a) > 0, 1.0, slope),
    show="leaky_relu({a}, {p})",
    local=("[{a} > 0 ? 1 : {p}]",),
    method="leaky_relu",
    grammar="leaky_relu",
    onnx=lambda emit, a, slope: emit("LeakyRelu", a, alpha=slope),
    torch=lambda t, a, slope: t.nn.functional.leaky_relu(a, slope),
)
# approximate="none": x·Φ(x) with the exact normal CDF; "tanh": the GPT-2 approximation.
# Composed, the tanh form takes 2.0x the time of this node (forward and backward, a
# (100, 16) batch) and the exact form 0.5x (numpy has no erf: this node calls math.erf
# per element twice).
GELU = Op(
    "gelu",
    _gelu,
    _gelu_vjp,
    show="gelu({a})",
    local=(
        lambda names, params: (
            f"Φ({names[0]}) + {names[0]}·φ({names[0]})"
            if params[0] == "none"
            else f"½(1 + tanh u) + ½·{names[0]}·(1 − tanh² u)·u′, "
            f"u = √(2/π)·({names[0]} + 0.044715·{names[0]}³)"
        ),
    ),
    method="gelu",
    grammar="gelu",
    onnx=_gelu_onnx,
    torch=lambda t, a, approximate: t.nn.functional.gelu(a, approximate=approximate),
)
# x·sigmoid(x) as one node; composed (sigmoid, then *) it takes 0.8x the time of this
# node, forward and backward, on a (100, 16) and a (256, 256) batch.
SILU = Op(
    "silu",
    lambda a: a * _sigmoid(a),
    lambda g, out, a: g * (_sigmoid_dual(a) * (1.0 + a - out)),
    local=("σ({a})·(1 + {a} - {out})",),
    method="silu",
    grammar="silu",
    onnx=lambda emit, a: emit("Mul", a, emit("Sigmoid", a)),
    torch=lambda t, a: t.nn.functional.silu(a),
    doc="x · sigmoid(x) (also called swish).",
)
# log(1 + e^x) without overflow; its derivative is the sigmoid. Composed as
# maximum(x, 0) + log1p(exp(-|x|)) (five nodes) it takes 3.4x the time of this node on a
# scalar, 0.9x on a (100, 16) batch, 1.2x on a (256, 256) one.
SOFTPLUS = Op(
    "softplus",
    _softplus,
    lambda g, out, a: g * _sigmoid_dual(a),
    local=("sigmoid({a})",),
    method="softplus",
    grammar="softplus",
    onnx=lambda emit, a: emit("Softplus", a),
    torch=lambda t, a: t.nn.functional.softplus(a),
    doc="log(1 + e^x), without overflow; a smooth relu.",
)
# A rule of its own also for torch's slope at 0, alpha (composed from maximum and
# minimum, a tie there would share the gradient: (1 + alpha) / 2).
ELU = Op(
    "elu",
    _elu,
    lambda g, out, a, alpha: g * (_positive(a) + (1.0 - _positive(a)) * (out + alpha)),
    show="elu({a}, {p})",
    local=("[{a} > 0 ? 1 : {out} + {p}]",),
    method="elu",
    grammar="elu",
    onnx=lambda emit, a, alpha: emit("Elu", a, alpha=alpha),
    torch=lambda t, a, alpha: t.nn.functional.elu(a, alpha),
)
# x / (1 + |x|): one node, as every activation here (composed it is three: abs, +, /).
SOFTSIGN = Op(
    "softsign",
    lambda a: a / (1.0 + abs(a)),
    lambda g, out, a: g / ((1.0 + abs(a)) * (1.0 + abs(a))),
    local=("1 / (1 + |{a}|)²",),
    method="softsign",
    grammar="softsign",
    onnx=lambda emit, a: emit("Softsign", a),
    torch=lambda t, a: t.nn.functional.softsign(a),
    doc="x / (1 + |x|): bounded as tanh is, with slower tails.",
)
