"""Along one axis, in order: the running product (``cumprod``) and the largest or
smallest elements (``topk``, and ``sort``, which is ``topk`` of all of them).

``topk`` picks elements, so its gradient goes back to where each one was picked from
(the indices); ties take the lower index first (ONNX's TopK rule and numpy's stable
sort; torch leaves the order of tied indices open), nan counts as the largest.
"""

from __future__ import annotations

import numpy as np

from ..arguments import along_axis_index
from .arithmetic import _div
from .elementwise import WHERE
from .op import _RAW, Composition, Op, _dual, raw, shape_of
from .reductions import _cumsum
from .shape import _flip, scatter_add

_cumprod = _dual(np.cumprod, "cumprod")


# ---------------------------------------------------------------- cumprod
def _reverse_cumsum(x, axis):
    """Sums from the end: element i is the sum of elements i, i+1, ... along ``axis``."""
    return _flip(_cumsum(_flip(x, axis), axis), axis)


def _cumprod_vjp(g, out, a, axis):
    # d out_j / d x_i = the product of x_k for k <= j but k != i, for j >= i. Without a
    # zero that is out_j / x_i, so the gradient is a reversed running sum over x_i.
    x = raw(a)
    if not np.any(x == 0):
        return _div(_reverse_cumsum(g * out, axis), a)
    if isinstance(a, _RAW):
        return _cumprod_vjp_zeros(g, out, x, axis)
    return _cumprod_vjp_exact(g, a, axis)


def _cumprod_vjp_zeros(g, out, x, axis):
    """The gradient where an element is 0, in one pass (torch's cumprod_backward): before
    the first zero as without zeros; at the first zero the products of the elements up to
    the second zero, skipping it; after it 0 (every product there holds the zero)."""
    count = np.cumsum(x == 0, axis=axis)  # how many zeros up to here
    before, first = count == 0, (x == 0) & (count == 1)
    between = (count == 1) & ~first
    w = np.where(before, g * out, 0.0)
    grad = np.where(before, _reverse_cumsum(w, axis) / np.where(before, x, 1.0), 0.0)
    # at the first zero: sum over j in [z1, z2) of g_j * prod(x_k, z1 < k <= j), times the
    # product before the first zero (out at z1 - 1, or 1 when z1 is the first element)
    reach = np.cumprod(np.where(between, x, 1.0), axis=axis) * np.where(count == 1, g, 0.0)
    total = np.sum(reach, axis=axis, keepdims=True)
    where = np.argmax(first, axis=axis, keepdims=True)
    lead = np.take_along_axis(out, np.maximum(where - 1, 0), axis=axis)
    lead = np.where(where == 0, 1.0, lead)
    return np.where(first, total * lead, grad)


def _cumprod_vjp_exact(g, a, axis):
    """On Values (create_graph) where an element is 0: every product of the other
    elements written out, an (n, n) matrix per row, so the gradient is differentiable
    again (torch's O(n²) formula in grad mode)."""
    n, nd = shape_of(a)[axis], len(shape_of(a))
    perm = tuple(d for d in range(nd) if d != axis) + (axis,)
    x, gl = a.transpose(perm), g.transpose(perm)
    rows = x.reshape(x.shape[:-1] + (1, n))
    one = type(a)(1.0, requires_grad=False)
    others = one._apply_op(WHERE, [rows], (np.eye(n),))  # row i: x with x_i as 1
    later = np.triu(np.ones((n, n)))  # [i, j]: output j comes at or after input i
    products = others.cumprod(-1) * later
    grads = (products * gl.reshape(gl.shape[:-1] + (1, n))).sum(-1)
    return grads.transpose(tuple(np.argsort(perm)))


def _cumprod_onnx(emit, a, axis):
    # ONNX has no CumProd: out_j is the product over k of (x_k where k <= j, else 1),
    # an (n, n) choice per row and one ReduceProd.
    n = a.shape[axis]
    trailing = len(a.shape) - axis - 1
    upto = np.tril(np.ones((n, n), dtype=bool)).reshape((n, n) + (1,) * trailing)
    spread = emit("Unsqueeze", a, emit.ints([axis]))
    picked = emit("Where", emit.constant(upto), spread, emit.constant(1.0))
    return emit("ReduceProd", picked, emit.ints([axis + 1]), keepdims=0)


CUMPROD = Op(
    "cumprod",
    lambda a, axis: np.cumprod(a, axis=axis),
    _cumprod_vjp,
    method="cumprod",
    onnx=_cumprod_onnx,
    torch=lambda t, a, axis: t.cumprod(a, dim=axis),
)


# ---------------------------------------------------------------- topk and sort
def topk_indices(a: np.ndarray, k: int, axis: int, largest: bool) -> np.ndarray:
    """Where the ``k`` largest (or smallest) elements along ``axis`` are, in order; tied
    elements lower index first, nan as the largest (a stable sort, reversed for the
    largest on the reversed array, so ties keep their order)."""
    n = a.shape[axis]
    if largest:
        order = n - 1 - np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)
    else:
        order = np.argsort(a, axis=axis, kind="stable")
    return order[(slice(None),) * axis + (slice(0, k),)]


def _topk(a, k, axis, largest, saved):
    # ``saved`` keeps the indices for the vjp and the caller, as cross_entropy's keeps
    # its log-probabilities.
    saved[:] = [topk_indices(a, k, axis, largest)]
    return np.take_along_axis(a, saved[0], axis=axis)


def _topk_vjp(g, out, a, k, axis, largest, saved):
    if isinstance(g, np.ndarray):  # each position picked at most once: put, not add
        grad = np.zeros(shape_of(a), dtype=g.dtype)
        np.put_along_axis(grad, saved[0], g, axis=axis)
        return grad
    return scatter_add(g, along_axis_index(shape_of(a), saved[0], axis, "topk"), shape_of(a))


def _topk_onnx(emit, a, k, axis, largest, saved):
    values = emit("TopK", a, emit.ints([k]), axis=axis, largest=int(largest), sorted=1)
    emit.nodes[-1].output.append(values.name + "_indices")  # TopK's second output, unused
    return values


# method: Value.topk (it returns the values and their indices, so it is written by hand)
TOPK = Op(
    "topk",
    _topk,
    _topk_vjp,
    show="topk({a}, {p})",
    onnx=_topk_onnx,
    torch=lambda t, a, k, axis, largest, saved: t.topk(a, k, dim=axis, largest=largest).values,
)
# method: Value.sort, which returns the values and their indices.
SORT = Composition(
    "sort",
    lambda x, axis=-1, descending=False: x.topk(x.shape[axis], axis, largest=descending),
    torch=lambda t, x, axis=-1, descending=False: (
        t.sort(x, dim=axis, descending=descending, stable=True).values
    ),
    doc="The elements along ``axis`` in order, and where each came from: ``topk`` of all.",
)
