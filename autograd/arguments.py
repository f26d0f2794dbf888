"""Checking the arguments of ops before any work (axes, indices, gather positions), and
the error naming the op and the shapes when numpy finds that shapes do not fit.

Each helper returns the argument in the one form the op entries take (an axis as a
sorted tuple of non-negative ints, an index without lists or Values), or raises a
``ValueError`` / ``TypeError`` naming the op and what was wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, overload

import numpy as np


@overload
def normalize_axis(axis: None, ndim: int, op: str) -> None: ...
@overload
def normalize_axis(axis: int | Sequence[int], ndim: int, op: str) -> tuple[int, ...]: ...
def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """``axis`` (an int, a sequence of ints or None) as a sorted tuple of axes in
    ``range(ndim)``; None stays None (every axis).

    >>> normalize_axis(-1, 3, "sum"), normalize_axis(None, 3, "sum")
    ((2,), None)
    """
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"{op}: axis {ax} is out of range for a value with {ndim} dimensions")
        out.append(int(ax) % ndim)
    return tuple(sorted(out))


def reduced_count(shape: tuple, axes: tuple | None) -> int:
    """How many numbers a reduction over ``axes`` combines into one."""
    return math.prod(shape) if axes is None else math.prod(shape[a] for a in axes)


def clean_index(index: Any, is_value: Any) -> Any:
    """An index without lists (they become integer arrays); a Value (``is_value``) is
    refused."""
    if is_value(index):
        raise TypeError(
            "cannot index with a Value; index with ints, slices or a numpy integer array"
        )
    if isinstance(index, list):
        return np.asarray(index)
    if isinstance(index, tuple):
        return tuple(clean_index(i, is_value) for i in index)
    return index


def index_result(idx: Any) -> Any:
    """An argmax/argmin result: an int for one position, else the integer array."""
    return int(idx) if np.ndim(idx) == 0 else idx


def along_axis_index(shape: tuple, indices: Any, axis: int, op: str) -> tuple:
    """The fancy index that picks ``indices`` (an integer array of the value's number of
    dimensions) along ``axis`` of a value of ``shape`` and keeps the other axes."""
    idx = np.asarray(indices)
    if idx.dtype.kind == "f" and np.all(np.mod(idx, 1) == 0):
        idx = idx.astype(np.int64)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    ndim = len(shape)
    if idx.ndim != ndim:
        raise ValueError(
            f"{op}: indices of shape {idx.shape} need as many dimensions as the value {shape}"
        )
    (ax,) = normalize_axis(axis, ndim, op)
    n = shape[ax]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ValueError(
            f"{op}: indices must be in [{-n}, {n - 1}] for axis {ax} of shape {shape}, "
            f"got values from {idx.min()} to {idx.max()}"
        )
    grid = []
    for d in range(ndim):
        if d == ax:
            grid.append(idx)
            continue
        if idx.shape[d] > shape[d]:
            raise ValueError(
                f"{op}: indices of shape {idx.shape} are larger than the value "
                f"{shape} along axis {d}"
            )
        axis_shape = [1] * ndim
        axis_shape[d] = idx.shape[d]
        grid.append(np.arange(idx.shape[d]).reshape(axis_shape))
    return tuple(grid)


def shape_error(op: Any, parents: tuple, err: Exception) -> ValueError:
    """numpy's message about shapes that do not fit, with our op and both shapes named."""
    if op.name == "@":
        sa, sb = (p.shape for p in parents)
        if not sa or not sb:
            return ValueError(
                f"@ (matmul): needs values with at least one dimension, got shapes {sa} and {sb}"
            )
        inner_b = sb[0] if len(sb) == 1 else sb[-2]
        return ValueError(
            f"@ (matmul): shapes {sa} and {sb} do not line up: the left's last dimension "
            f"({sa[-1]}) must equal the right's {'only' if len(sb) == 1 else 'second-to-last'} "
            f"dimension ({inner_b})"
        )
    shapes = " and ".join(str(p.shape) for p in parents)
    return ValueError(f"{op.name}: cannot combine shapes {shapes} ({err})")
