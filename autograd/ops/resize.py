"""Resizing images ``(N, C, H, W)``: ``interpolate`` by nearest neighbour or bilinearly,
with PyTorch's rules for where an output pixel reads the input (``align_corners``,
``scale_factor`` or ``size``), one node.

Each output row reads one input row (nearest) or two, weighted (bilinear), and the same
for columns, so the forward is two gathers and the gradient two scatter-adds back
(indexing's rule); on Values those are the ``scatter`` and ``[]`` ops, so a second
derivative works too. The params are ``size`` (the output's height and width),
``scale`` (the scale factors when they were given, else None: they decide where a pixel
reads, as in torch), ``mode`` and ``align_corners``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .op import Op, raw, shape_of
from .shape import scatter_add


class Sources(NamedTuple):
    """Along one axis: for every output position, the input positions it reads (``near``
    and ``far``) and their weights (``near_weight``; ``far_weight`` for bilinear)."""

    near: np.ndarray
    far: np.ndarray
    near_weight: np.ndarray
    far_weight: np.ndarray


@lru_cache(maxsize=128)
def sources(n_in: int, n_out: int, scale: float | None, mode: str, align_corners: bool) -> Sources:
    """Where each of ``n_out`` output positions reads ``n_in`` input positions (torch's
    ``nearest_idx`` and ``area_pixel_compute_source_index``)."""
    dst = np.arange(n_out)
    if mode == "nearest":  # in float32, as torch computes it, with its two shortcuts
        step = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
        near = np.minimum(np.floor(dst.astype(np.float32) * step).astype(np.int64), n_in - 1)
        if n_out in (n_in, 2 * n_in):
            near = dst * n_in // n_out
        return Sources(near, near, np.ones(n_out), np.zeros(n_out))
    if align_corners:
        step = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = step * dst
    else:
        step = 1.0 / scale if scale else n_in / n_out
        src = np.maximum(step * (dst + 0.5) - 0.5, 0.0)
    near = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    far = np.minimum(near + 1, n_in - 1)
    far_weight = np.clip(src - near, 0.0, 1.0)
    return Sources(near, far, 1.0 - far_weight, far_weight)


def _axes(x, size, scale, mode, align_corners) -> list[Sources]:
    """The rows' and the columns' sources, weights in ``x``'s dtype (float32 stays so)."""
    dtype, found = raw(x).dtype, []
    for n, m, s in zip(shape_of(x)[2:], size, scale or (None, None)):
        src = sources(n, m, s, mode, align_corners)
        weights = src.near_weight.astype(dtype), src.far_weight.astype(dtype)
        found.append(src._replace(near_weight=weights[0], far_weight=weights[1]))
    return found


def _along(axis: int, positions: np.ndarray) -> tuple:
    return (slice(None),) * axis + (positions,)


def _resize(x, size, scale, mode, align_corners):
    rows, cols = _axes(x, size, scale, mode, align_corners)
    if mode == "nearest":
        return x[:, :, rows.near][:, :, :, cols.near]
    # along the width, then the height: h0·(w0·x00 + w1·x01) + h1·(w0·x10 + w1·x11)
    t = x[..., cols.near] * cols.near_weight + x[..., cols.far] * cols.far_weight
    return (
        t[:, :, rows.near] * rows.near_weight[:, None]
        + t[:, :, rows.far] * rows.far_weight[:, None]
    )


def _resize_vjp(g, out, x, size, scale, mode, align_corners):
    n, c, h, w = shape_of(x)
    rows, cols = _axes(x, size, scale, mode, align_corners)
    by_row = _back_along(g, rows, 2, h, mode)  # (N, C, H, OW)
    return _back_along(by_row, cols, 3, w, mode)


def _back_along(g, src: Sources, axis: int, n: int, mode: str):
    """Reading along ``axis`` undone: each output's gradient added back, weighted, to
    the ``n`` input positions it read."""
    if mode == "nearest":
        return _add_back(g, src.near, axis, n)
    spread = (slice(None),) + (None,) * (3 - axis)  # the weights along ``axis``
    near = _add_back(g * src.near_weight[spread], src.near, axis, n)
    return near + _add_back(g * src.far_weight[spread], src.far, axis, n)


def _add_back(g, positions: np.ndarray, axis: int, n: int):
    """Zeros with ``n`` positions along ``axis``, ``g`` added at ``positions`` (they never
    go down: each run of one position is a contiguous block of ``g``, one reduceat; with
    np.add.at instead, a 2x bilinear upsample of (8, 16, 32, 32), forward and backward,
    took 1.8x the instructions). On Values, the scatter op, differentiable again."""
    shape = shape_of(g)[:axis] + (n,) + shape_of(g)[axis + 1 :]
    if not isinstance(g, np.ndarray):
        return scatter_add(g, _along(axis, positions), shape)
    starts = np.flatnonzero(np.r_[True, positions[1:] != positions[:-1]])
    out = np.zeros(shape, dtype=g.dtype)
    out[_along(axis, positions[starts])] = np.add.reduceat(g, starts, axis=axis)
    return out


def _resize_onnx(emit, x, size, scale, mode, align_corners):
    if mode == "nearest":
        how = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric"}
        how["nearest_mode"] = "floor"
    else:
        corners = "align_corners" if align_corners else "pytorch_half_pixel"
        how = {"mode": "linear", "coordinate_transformation_mode": corners}
    if scale is not None and not align_corners:  # where a pixel reads depends on them
        return emit("Resize", x, None, emit.constant(list(scale)), axes=[2, 3], **how)
    return emit("Resize", x, None, None, emit.ints(size), axes=[2, 3], **how)


def _torch_interpolate(t, x, size, scale, mode, align_corners):
    corners = align_corners if mode == "bilinear" else None
    if scale is not None:
        return t.nn.functional.interpolate(x, scale_factor=scale, mode=mode, align_corners=corners)
    return t.nn.functional.interpolate(x, size=size, mode=mode, align_corners=corners)


INTERPOLATE = Op(
    "interpolate",
    _resize,
    _resize_vjp,
    show=lambda names, params: f"interpolate({names[0]}, {params[2]})",
    onnx=_resize_onnx,
    torch=_torch_interpolate,
)
