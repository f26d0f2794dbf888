"""The fused nodes: patterns that could be composed from other ops but are one node
each, because one node is measurably faster (each says by how much) and reads like the
formula: a dense layer, a sum of many, a neuron's weighted sum, an L2 penalty."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from ..mode import writes
from .arithmetic import _matmul_vjp_a, _matmul_vjp_b
from .op import Op, shape_of, sum_to


# x @ W + b in one node (a dense layer): one node and one traversal step instead of two.
# Composed (@ then +), the vectorized moons step takes 1.38x the time, the tiny MLP's
# 1.16x. A batch of rows times a matrix (every vectorized MLP) takes the products straight
# away: the same numbers as the general rules, without their shape analysis.
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


def _linear_onnx(emit, x, W, b):
    if len(x.shape) == 2 and len(W.shape) == 2 and len(b.shape) == 1:
        return emit("Gemm", x, W, b)
    return emit("Add", emit("MatMul", x, W), b)


LINEAR = Op(
    "linear",
    lambda x, W, b: x @ W + b,
    _linear_vjp_x,
    _linear_vjp_W,
    _linear_vjp_b,
    onnx=_linear_onnx,
    torch=lambda t, x, W, b: x @ W + b,
)


def _identity_vjp(g, out, *args):
    return g


@lru_cache(maxsize=256)
def add_n_op(n: int) -> Op:
    """The sum of ``n`` inputs as one node: every input's gradient is ``g`` itself.

    A chain of n - 1 additions would be n - 1 nodes and as many backward steps; one node
    reads like the formula (an L1 penalty over every parameter, a lesson's neuron)."""
    op = Op(
        "+",
        lambda *args: sum(args),
        *(_identity_vjp,) * n,
        show=lambda names, params: " + ".join(names),
        local=("1",) * n,
        onnx=lambda emit, *args: emit("Sum", *args),
        torch=lambda t, *args: sum(args[1:], args[0]),
        key="add_n",
    )
    op.vjp_all = lambda g, out, *args: [g] * n
    return op


@lru_cache(maxsize=256)
def weighted_sum_op(n: int, bias: bool) -> Op:
    """``w1*x1 + ... + wn*xn (+ b)`` as one node; inputs in the order w1..wn, x1..xn[, b].

    A neuron's pre-activation: weight i's gradient is ``g * xi``, input i's is
    ``g * wi``, the bias's is ``g``. The sum runs in the same order as the chain
    ``w1*x1 + w2*x2 + ... + b``, so the numbers are the same to the last bit. Built as
    that chain instead (micrograd's way), the scalar moons step takes 2.24x the time.
    """

    def forward(*args):
        total = sum(map(operator.mul, args[:n], args[n : 2 * n]))
        return total + args[2 * n] if bias else total

    # The forward when every input is a float, refusing any other with a TypeError
    # (float's own methods, before numpy could warn about an array's inf or nan), so that
    # ``weighted_sum`` need not look at 2n + 1 types first (with the check it replaced,
    # the scalar moons step took 286M instructions, 262M without; callgrind).
    def forward_floats(*args):
        total = sum(map(float.__mul__, args[:n], args[n : 2 * n]))
        return total + float.__pos__(args[2 * n]) if bias else total

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
    # vjp_all's list of 2n+1 gradients and backward's loop over it (see fast_backward):
    # without this and the skip below, the scalar moons step takes 20% more instructions.
    def add_floats(g, parents):
        data = [p._data for p in parents]
        if set(map(type, data)) != _JUST_FLOAT:
            return False
        # A ReLU that is off (or a flat hinge) sends g = 0: every term below is then
        # ±0.0 (the inputs being finite, which their sum being finite shows), which
        # changes no gradient (see mode._WriteClock.negative_zero). The scalar moons step
        # skips 55% of its neurons' backward this way, as the hand-written floor does
        # (without the skip: 11% more instructions).
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
    local: list = [partner(i) for i in range(2 * n)]
    if bias:
        vjps.append(_identity_vjp)
        local.append("1")

    def onnx(emit, *args):
        products = [emit("Mul", w, x) for w, x in zip(args[:n], args[n : 2 * n])]
        return emit("Sum", *products, *args[2 * n :])

    def torch(t, *args):
        return sum((w * x for w, x in zip(args[:n], args[n : 2 * n])), *args[2 * n :])

    name = "w·x+b" if bias else "w·x"
    op = Op(
        name,
        forward,
        *vjps,
        show=show,
        local=tuple(local),
        onnx=onnx,
        torch=torch,
        key="weighted_sum",
    )
    op.vjp_all, op.add_floats, op.forward_floats = vjp_all, add_floats, forward_floats
    return op


_JUST_FLOAT = {float}


@lru_cache(maxsize=256)
def sum_of_squares_op(n: int) -> Op:
    """``sum(x1**2) + ... + sum(xn**2)`` as one node (an L2 penalty): input i's
    gradient is ``2 * g * xi``. Composed (a square and a sum per parameter, then their
    sum), the vectorized moons step takes 2.42x the time."""

    def forward(*args):
        return sum(float(np.vdot(x, x)) if type(x) is not float else x * x for x in args)

    def vjp_for(i: int) -> Callable:
        return lambda g, out, *args: 2.0 * g * args[i]

    def twice(i: int) -> Callable:
        return lambda names, params: f"2·{names[i]}"

    op = Op(
        "Σx²",
        forward,
        *map(vjp_for, range(n)),
        local=tuple(map(twice, range(n))),
        onnx=lambda emit, *args: emit(
            "Sum", *(emit("ReduceSumSquare", x, keepdims=0) for x in args)
        ),
        torch=lambda t, *args: sum((x * x).sum() for x in args),
        key="sum_of_squares",
    )
    op.vjp_all = lambda g, out, *args: [2.0 * g * x for x in args]
    return op


# The table's entries for the n-ary ops: every n makes an op with the same fields.
ADD_N, WEIGHTED_SUM, SUM_OF_SQUARES = add_n_op(2), weighted_sum_op(2, True), sum_of_squares_op(2)
