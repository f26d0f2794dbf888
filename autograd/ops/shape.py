"""The shape ops: reshape, transpose, broadcast, indexing and scatter, flip, pad, tile,
repeat, concat and stack. They move numbers around; their gradients move them back."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from .op import _RAW, Composition, Op, Without, _dual, reshape, shape_of, sum_to


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


_flip = _dual(np.flip, "flip")


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


def _part(g, axis: int, start: int, stop: int):
    index = (slice(None),) * axis + (slice(start, stop),)
    return g[index]


# ---------------------------------------------------------------- ONNX and torch
_END = np.iinfo(np.int64).max  # "to the end" for ONNX's Slice


def _reshape_onnx(emit, a, shape):
    shape = list(shape)
    if shape and a.shape and shape[0] == a.shape[0]:
        shape[0] = 0  # ONNX's "keep this axis": a batch stays of any size
    return emit("Reshape", a, emit.ints(shape))


def _broadcast_onnx(emit, a, shape):
    shape = list(shape)
    if a.shape and len(shape) == len(a.shape) and shape[0] == a.shape[0]:
        shape[0] = 1  # Expand broadcasts both ways: the batch axis stays the input's
    return emit("Expand", a, emit.ints(shape))


def _getitem_onnx(emit, a, idx):
    if isinstance(idx, np.ndarray) and idx.dtype.kind in "iu" and idx.ndim:
        return emit("Gather", a, emit.ints(idx), axis=0)  # rows of a table (an Embedding)
    items = idx if isinstance(idx, tuple) else (idx,)
    if not all(isinstance(i, (int, np.integer, slice)) for i in items):
        raise NotImplementedError("an index other than ints and slices")
    starts, ends, axes, steps, dropped = [], [], [], [], []
    for axis, item in enumerate(items):
        if item == slice(None):
            continue  # the whole axis (the batch, say): nothing to cut
        if isinstance(item, slice):
            step = 1 if item.step is None else item.step
            first, last = (0, _END) if step > 0 else (-1, -_END)
            start = first if item.start is None else item.start
            stop = last if item.stop is None else item.stop
        else:
            step, start, stop = 1, int(item), int(item) + 1 or _END
            dropped.append(axis)
        starts.append(start)
        ends.append(stop)
        axes.append(axis)
        steps.append(step)
    out = a
    if axes:
        out = emit("Slice", a, *map(emit.ints, (starts, ends, axes, steps)))
    return emit("Squeeze", out, emit.ints(dropped)) if dropped else out


def _flip_onnx(emit, a, axis):
    axes = tuple(range(len(a.shape))) if axis is None else axis
    n = len(axes)
    return emit("Slice", a, *map(emit.ints, ((-1,) * n, (-_END,) * n, axes, (-1,) * n)))


def _tile_onnx(emit, a, reps):
    extra = len(reps) - len(a.shape)
    if extra:  # numpy's tile gives a as many axes as reps, in front
        a = emit("Unsqueeze", a, emit.ints(range(extra)))
    return emit("Tile", a, emit.ints(reps))


def _repeat_onnx(emit, a, repeats, axis):
    # Each element repeated: a new axis after ``axis``, tiled, then merged into ``axis``.
    spread = emit("Unsqueeze", a, emit.ints([axis + 1]))
    reps = [1] * (len(a.shape) + 1)
    reps[axis + 1] = repeats
    tiled = emit("Tile", spread, emit.ints(reps))
    shape = [0] * axis + [-1] + list(a.shape[axis + 1 :])
    return emit("Reshape", tiled, emit.ints(shape))


def _torch_index(t: Any, idx: Any) -> Any:
    items = idx if isinstance(idx, tuple) else (idx,)
    items = tuple(t.as_tensor(i) if isinstance(i, np.ndarray) else i for i in items)
    return items if isinstance(idx, tuple) else items[0]


def _torch_scatter(t: Any, a: Any, idx: Any, shape: tuple) -> Any:
    """torch has no one scatter-add for every index: it is indexing's gradient."""
    zeros = t.zeros(shape, dtype=a.dtype, requires_grad=True)
    return t.autograd.grad(zeros[_torch_index(t, idx)], zeros, a, create_graph=True)[0]


def _torch_pad(t: Any, a: Any, widths: tuple, value: float) -> Any:
    flat = [w for lo_hi in reversed(widths) for w in lo_hi]  # torch: last axis first
    return t.nn.functional.pad(a, flat, value=value)


# ---------------------------------------------------------------- the table
RESHAPE = Op(
    "reshape",
    lambda a, shape: np.reshape(a, shape),
    lambda g, out, a, shape: reshape(g, shape_of(a)),
    method="reshape",
    onnx=_reshape_onnx,
    torch=lambda t, a, shape: a.reshape(shape),
)
TRANSPOSE = Op(
    "transpose",
    lambda a, axes: np.transpose(a, axes),
    lambda g, out, a, axes: g if type(g) is float else g.transpose(tuple(np.argsort(axes))),
    method="transpose",
    onnx=lambda emit, a, axes: emit("Transpose", a, perm=list(axes)),
    torch=lambda t, a, axes: a.permute(axes),
)
BROADCAST = Op(
    "broadcast_to",
    lambda a, shape: np.broadcast_to(a, shape),
    lambda g, out, a, shape: sum_to(g, shape_of(a)),
    method="broadcast_to",
    onnx=_broadcast_onnx,
    torch=lambda t, a, shape: a.broadcast_to(shape),
)
GETITEM = Op(
    "[]",
    lambda a, idx: a[idx],
    lambda g, out, a, idx: scatter_add(g, idx, shape_of(a)),
    method="__getitem__",
    onnx=_getitem_onnx,
    torch=lambda t, a, idx: a[_torch_index(t, idx)],
    key="getitem",
)
SCATTER = Op(
    "scatter",
    scatter_add,
    lambda g, out, a, idx, shape: g[idx],
    method="scatter",
    onnx=Without("indexing's gradient: it appears only in the graph of a gradient"),
    torch=_torch_scatter,
)
FLIP = Op(
    "flip",
    lambda a, axis: np.flip(a, axis),
    lambda g, out, a, axis: _flip(g, axis),
    method="flip",
    onnx=_flip_onnx,
    torch=lambda t, a, axis: t.flip(a, dims=tuple(range(a.ndim)) if axis is None else axis),
)
PAD = Op(
    "pad",
    lambda a, widths, value: np.pad(a, widths, constant_values=value),
    lambda g, out, a, widths, value: g[
        tuple(slice(lo, n + lo) for (lo, _), n in zip(widths, shape_of(a)))
    ],
    method="pad",
    onnx=lambda emit, a, widths, value: emit(
        "Pad",
        a,
        emit.ints([lo for lo, _ in widths] + [hi for _, hi in widths]),
        emit.constant(value),
    ),
    torch=_torch_pad,
)
# reps has one entry per output axis (numpy's tile pads it with leading 1s).
TILE = Op(
    "tile",
    lambda a, reps: np.tile(a, reps),
    _tile_vjp,
    method="tile",
    onnx=_tile_onnx,
    torch=lambda t, a, reps: a.tile(reps),
)
REPEAT = Op(
    "repeat",
    lambda a, repeats, axis: np.repeat(a, repeats, axis=axis),
    _repeat_vjp,
    method="repeat",
    onnx=_repeat_onnx,
    torch=lambda t, a, repeats, axis: a.repeat_interleave(repeats, dim=axis),
)


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
        "concat",
        lambda *args: np.concatenate(args[:-1], axis=args[-1]),
        *map(vjp_for, range(n)),
        onnx=lambda emit, *args: emit("Concat", *args[:-1], axis=args[-1]),
        torch=lambda t, *args: t.cat(args[:-1], dim=args[-1]),
    )


@lru_cache(maxsize=64)
def stack_op(n: int) -> Op:
    """The stacking of ``n`` inputs along a new axis; input i's gradient is ``g[..., i, ...]``."""

    def vjp_for(i: int) -> Callable:
        def vjp(g, out, *args):
            axis = args[-1]
            return g[(slice(None),) * axis + (i,)]

        return vjp

    def onnx(emit, *args):
        *ins, axis = args
        return emit("Concat", *(emit("Unsqueeze", x, emit.ints([axis])) for x in ins), axis=axis)

    return Op(
        "stack",
        lambda *args: np.stack(args[:-1], axis=args[-1]),
        *map(vjp_for, range(n)),
        onnx=onnx,
        torch=lambda t, *args: t.stack(args[:-1], dim=args[-1]),
    )


# The table's entries for the n-ary ops: every n makes an op with the same fields.
CONCAT, STACK = concat_op(2), stack_op(2)


# ---------------------------------------------------------------- pad by the edges
# torch's F.pad modes "reflect" and "replicate" (numpy's "reflect" and "edge"): the
# padding is copies of the value's own numbers, so each is a composition of slices,
# repeat and concat (exact; the gradient of a copied number adds up where it came from).
def _pad_by_edges(x: Any, widths: tuple, mode: str) -> Any:
    for axis, (lo, hi) in enumerate(widths):
        if not lo and not hi:
            continue
        n = x.shape[axis]
        lead = (slice(None),) * axis
        if mode == "reflect":  # x[lo], ..., x[1] | x | x[n-2], ..., x[n-1-hi]
            before = x[lead + (slice(lo, 0, -1),)]
            after = x[lead + (slice(n - 2, n - 2 - hi if hi < n - 1 else None, -1),)]
        else:  # x[0] lo times | x | x[n-1] hi times
            before = x[lead + (slice(0, 1),)].repeat(lo, axis)
            after = x[lead + (slice(n - 1, n),)].repeat(hi, axis)
        parts = [part for part, width in ((before, lo), (x, 1), (after, hi)) if width]
        x = parts[0]._apply_op(concat_op(len(parts)), parts[1:], (axis,))
    return x


def _torch_pad_by_edges(t: Any, x: Any, widths: tuple, mode: str) -> Any:
    while widths and widths[0] == (0, 0):  # torch pads the last axes only, of a batch
        widths = widths[1:]
    k = len(widths)
    flat = [w for lo_hi in reversed(widths) for w in lo_hi]
    out = t.nn.functional.pad(x.reshape(-1, *x.shape[x.ndim - k :]), flat, mode=mode)
    return out.reshape(*x.shape[: x.ndim - k], *out.shape[1:])


PAD_REFLECT = Composition(
    "pad_reflect",
    lambda x, widths: _pad_by_edges(x, widths, "reflect"),
    torch=lambda t, x, widths: _torch_pad_by_edges(t, x, widths, "reflect"),
    doc="Padding that mirrors the value at its edges, without repeating the edge.",
)
PAD_REPLICATE = Composition(
    "pad_replicate",
    lambda x, widths: _pad_by_edges(x, widths, "replicate"),
    torch=lambda t, x, widths: _torch_pad_by_edges(t, x, widths, "replicate"),
    doc="Padding with copies of the value's edge.",
)
