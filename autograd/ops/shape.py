"""The shape ops: reshape, transpose, broadcast, indexing and scatter, flip, pad, tile,
repeat, concat and stack. They move numbers around; their gradients move them back."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .op import _RAW, Op, _dual, reshape, shape_of, sum_to


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


_flip = _dual(np.flip, "flip")


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
