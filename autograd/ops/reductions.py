"""The reductions (sum, mean, max, min, prod, var, std, logsumexp, norm, cumsum) and the
softmax family, which normalises along an axis.

The params of a reduction are ``axis`` (a sorted tuple of axes, or None for all) and
``keepdims``, as ``Value``'s methods normalise them."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..data import FLOAT_DTYPES
from ..quiet import quiet
from .op import _RAW, Composition, Op, _dual, _exp, expand_reduced, raw, shape_of
from .shape import _flip


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
    """``x.sum(axis, keepdims=True)``; a 0-d value (a float, or a Value under
    ``create_graph``) is its own sum."""
    return x if shape_of(x) == () else x.sum(axis=axis, keepdims=True)


def _max_vjp(g, out, a, axis, keepdims):
    # The gradient is shared equally among tied maxima (like torch.amax).
    a_raw, out_raw = raw(a), raw(out)
    shape = shape_of(a_raw)
    peak = expand_reduced(out_raw, shape, axis, keepdims)
    mask = np.asarray(a_raw == peak, dtype=np.result_type(a_raw, np.float32))
    ties = expand_reduced(np.sum(mask, axis=axis, keepdims=keepdims), shape, axis, keepdims)
    return expand_reduced(g, shape, axis, keepdims) * (mask / ties)


# ---------------------------------------------------------------- softmax family
# (initial=-inf: over an empty axis the max is -inf, not numpy's error; torch's answers)
def _log_softmax(a, axis):
    shifted = a - np.max(a, axis=axis, keepdims=True, initial=-np.inf)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True, initial=-np.inf))
    return e / np.sum(e, axis=axis, keepdims=True)


_cumsum = _dual(np.cumsum, "cumsum")


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


# Under create_graph, a product over n elements holding a 0 records an (n, n) matrix per
# reduction: refused above this many elements, with one line saying why.
_MAX_OTHERS = 2**24


def _others_recorded(a: Any, axis: tuple | None) -> Any:
    """``_product_of_others`` recorded on a Value, exact at zeros: row i of an (n, n)
    matrix is the reduced elements with the i-th set to 1, and its product is the i-th
    element's product of the others (which prod's own rule differentiates again)."""
    axes = tuple(range(a.ndim)) if axis is None else axis
    kept = tuple(i for i in range(a.ndim) if i not in axes)
    moved = a.transpose(kept + axes)
    lead = moved.shape[: len(kept)]
    n = math.prod(moved.shape[len(kept) :])
    if math.prod(lead) * n * n > _MAX_OTHERS:
        raise ValueError(
            f"prod: the second derivative of a product over {n} elements holding a 0 "
            f"needs {n}x{n} numbers per product, more than {_MAX_OTHERS}"
        )
    eye = np.eye(n, dtype=raw(a).dtype)
    rows = moved.reshape(lead + (1, n)) * (1.0 - eye) + eye
    others = rows.prod(axis=-1).reshape(moved.shape)
    return others.transpose(tuple(np.argsort(kept + axes)))


def _prod_vjp(g, out, a, axis, keepdims):
    shape = shape_of(a)
    if shape == ():
        return g
    if isinstance(a, _RAW):
        others = _product_of_others(a, axis)
    elif np.all(raw(a) != 0):  # second derivatives away from zeros: out / a
        others = expand_reduced(out, shape, axis, keepdims) / a
    else:
        others = _others_recorded(a, axis)
    return expand_reduced(g, shape, axis, keepdims) * others


def _logsumexp(a, axis, keepdims):
    peak = np.max(a, axis=axis, keepdims=True, initial=-np.inf)  # the log of 0 over nothing
    peak = np.where(np.isfinite(peak), peak, 0.0)
    out = np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else (np.squeeze(out, axis=axis) if axis is not None else out.item())


def _dims(a: Any, axis: tuple | None) -> tuple:
    """The axes a reduction runs over, for torch (every axis when None)."""
    return tuple(range(a.ndim)) if axis is None else axis


def _torch_prod(t: Any, a: Any, axis: tuple | None, keepdims: bool) -> Any:
    for ax in sorted(_dims(a, axis), reverse=True):  # torch's prod takes one axis at a time
        a = a.prod(ax, keepdim=keepdims)
    return a


def _reduce_onnx(op_type: str) -> Callable:
    """The ONNX translation of a reduction (axes as an input, as opset 18 takes them)."""

    def translate(emit, a, axis, keepdims):
        axes = () if axis is None else (emit.ints(axis),)
        return emit(op_type, a, *axes, keepdims=int(keepdims))

    return translate


def _var_onnx(emit, a, axis, keepdims, ddof):
    # ONNX has no variance: mean((x - mean(x))²), scaled by n/(n - ddof).
    axes = emit.ints(_dims(a, axis))
    centered = emit("Sub", a, emit("ReduceMean", a, axes, keepdims=1))
    out = emit("ReduceMean", emit("Mul", centered, centered), axes, keepdims=int(keepdims))
    if ddof:
        n = _count(a.shape, axis)
        out = emit("Mul", out, emit.constant(n / (n - ddof)))
    return out


def _min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if x.size == 0:
        raise ValueError("min: the value is empty")
    return -((-x).max(axis, keepdims))


def _root(v: Any) -> Any:
    """``v.sqrt()`` with torch's rule for std and norm: no gradient where ``v`` is 0 (a
    constant row or a zero vector passes 0, not 0 * inf = NaN, into a training step)."""
    zero = np.equal(v.data, 0)
    if not zero.any():
        return v.sqrt()
    nonzero = np.logical_not(zero).astype(np.result_type(v.data, np.float32))
    return (v + (1.0 - nonzero)).sqrt() * nonzero  # sqrt(1) * 0 where v is 0


def _norm(x: Any, ord: float = 2, axis: Any = None, keepdims: bool = False) -> Any:
    if ord == 2:
        return _root(x.square().sum(axis, keepdims))
    if ord == 1:
        return x.abs().sum(axis, keepdims)
    if ord == math.inf:
        return x.abs().max(axis, keepdims)
    raise ValueError(f"norm: ord must be 1, 2 or inf, got {ord!r}")


SUM = Op(
    "sum",
    _sum,
    lambda g, out, a, axis, keepdims: expand_reduced(g, shape_of(a), axis, keepdims),
    method="sum",
    onnx=_reduce_onnx("ReduceSum"),
    torch=lambda t, a, axis, keepdims: a.sum(dim=_dims(a, axis), keepdim=keepdims),
)
MEAN = Op(
    "mean",
    _mean,
    lambda g, out, a, axis, keepdims: (
        expand_reduced(g, shape_of(a), axis, keepdims) * (1.0 / _count(shape_of(a), axis))
    ),
    method="mean",
    onnx=_reduce_onnx("ReduceMean"),
    torch=lambda t, a, axis, keepdims: a.mean(dim=_dims(a, axis), keepdim=keepdims),
)
MAX = Op(
    "max",
    lambda a, axis, keepdims: np.max(a, axis=axis, keepdims=keepdims),
    _max_vjp,
    method="max",
    onnx=_reduce_onnx("ReduceMax"),
    torch=lambda t, a, axis, keepdims: t.amax(a, dim=_dims(a, axis), keepdim=keepdims),
)
PROD = Op(
    "prod",
    lambda a, axis, keepdims: np.prod(a, axis=axis, keepdims=keepdims),
    _prod_vjp,
    method="prod",
    onnx=_reduce_onnx("ReduceProd"),
    torch=_torch_prod,
)
# One node for the variance: the gradient 2(x - mean)/(n - ddof) is one expression.
# Composed (a mean, -, *, a mean) it takes 1.1x the time of this node on a (100, 16)
# batch, forward and backward, and 11x on a (256, 256) one; the norm layers take one
# per step.
VAR = Op(
    "var",
    lambda a, axis, keepdims, ddof: np.var(a, axis=axis, keepdims=keepdims, ddof=ddof),
    lambda g, out, a, axis, keepdims, ddof: (
        expand_reduced(g, shape_of(a), axis, keepdims)
        * (a - _mean_keep(a, axis))
        * (2.0 / (_count(shape_of(a), axis) - ddof))
    ),
    method="var",
    onnx=_var_onnx,
    torch=lambda t, a, axis, keepdims, ddof: t.var(
        a, dim=_dims(a, axis), correction=ddof, keepdim=keepdims
    ),
)
# Shifted by the max, which never overflows (and an infinite max is kept out of the shift).
LOGSUMEXP = Op(
    "logsumexp",
    _logsumexp,
    lambda g, out, a, axis, keepdims: (
        expand_reduced(g, shape_of(a), axis, keepdims)
        * _exp(a - expand_reduced(out, shape_of(a), axis, keepdims))
    ),
    method="logsumexp",
    onnx=_reduce_onnx("ReduceLogSumExp"),
    torch=lambda t, a, axis, keepdims: t.logsumexp(a, dim=_dims(a, axis), keepdim=keepdims),
)
CUMSUM = Op(
    "cumsum",
    lambda a, axis: np.cumsum(a, axis=axis),
    lambda g, out, a, axis: _flip(_cumsum(_flip(g, axis), axis), axis),
    method="cumsum",
    onnx=lambda emit, a, axis: emit("CumSum", a, emit.ints(axis)),
    torch=lambda t, a, axis: t.cumsum(a, dim=axis),
)
SOFTMAX = Op(
    "softmax",
    _softmax,
    lambda g, out, a, axis: out * (g - _sum_kept(g * out, axis)),
    method="softmax",
    onnx=lambda emit, a, axis: emit("Softmax", a, axis=axis),
    torch=lambda t, a, axis: t.softmax(a, dim=axis),
)
LOG_SOFTMAX = Op(
    "log_softmax",
    _log_softmax,
    lambda g, out, a, axis: g - _exp(out) * _sum_kept(g, axis),
    method="log_softmax",
    onnx=lambda emit, a, axis: emit("LogSoftmax", a, axis=axis),
    torch=lambda t, a, axis: t.log_softmax(a, dim=axis),
)

# Compositions: no rule of their own.
MIN = Composition(
    "min",
    _min,
    method="min",
    torch=lambda t, x, axis=None, keepdims=False: t.amin(
        x, dim=() if axis is None else axis, keepdim=keepdims
    ),
    doc="""Minimum over ``axis``, as -max(-x); tied minima share the gradient equally.

    >>> from autograd import Value
    >>> Value([[1.0, -2.0], [3.0, 0.0]]).min(axis=1).data
    array([-2.,  0.])
    """,
)
STD = Composition(
    "std",
    lambda x, axis=None, keepdims=False, ddof=0: _root(x.var(axis, keepdims, ddof)),
    method="std",
    torch=lambda t, x, axis=None, keepdims=False, ddof=0: t.std(
        x, dim=axis, correction=ddof, keepdim=keepdims
    ),
    doc="""Standard deviation: ``sqrt(var(axis, keepdims, ddof))``.

    >>> from autograd import Value
    >>> Value([1.0, 3.0]).std().data
    1.0
    """,
)
NORM = Composition(
    "norm",
    _norm,
    method="norm",
    torch=lambda t, x, ord=2, axis=None, keepdims=False: t.linalg.vector_norm(
        x, ord, dim=axis, keepdim=keepdims
    ),
    doc="""The vector norm over ``axis`` (all elements when None): ``ord`` 2 (Euclidean,
    Frobenius for a matrix), 1 (sum of |x|) or ``inf`` (max |x|).

    >>> from autograd import Value
    >>> Value([3.0, -4.0]).norm().data, Value([3.0, -4.0]).norm(1).data
    (5.0, 7.0)
    """,
)
