"""The numbers behind convolution and pooling: strided window views, im2col and its
adjoint (col2im), on raw numpy arrays only. The op entries that use them, each one node
with its forward and vjps side by side, are ``CONV2D``, ``MAX_POOL2D`` and ``AVG_POOL2D``
in ``ops.py``.

Layout is PyTorch's: images ``(N, C, H, W)``, weights ``(O, C // groups, kh, kw)``.
A window view ``(N, C, OH, OW, kh, kw)`` is made without copying (``as_strided``); the
matmul then runs on one contiguous copy of it (im2col), which is what makes a
convolution a single BLAS call per group.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pair = tuple[int, int]


def output_size(n: int, k: int, stride: int, pad: int, dilation: int) -> int:
    """How many windows fit along one axis of length ``n`` (PyTorch's formula)."""
    return (n + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def pad2d(x: np.ndarray, padding: Pair, value: float = 0.0) -> np.ndarray:
    ph, pw = padding
    if not ph and not pw:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def windows(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """A read-only view ``(N, C, OH, OW, kh, kw)`` of every window of a padded batch."""
    n, c, h, w = xp.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = output_size(h, kh, sh, 0, dh), output_size(w, kw, sw, 0, dw)
    s0, s1, s2, s3 = xp.strides
    return as_strided(
        xp,
        (n, c, oh, ow, kh, kw),
        (s0, s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw),
        writeable=False,
    )


def col2im(cols: np.ndarray, padded: tuple, stride: Pair, dilation: Pair, pad: Pair) -> np.ndarray:
    """The adjoint of ``windows``: add every window's entries back where they came from
    (overlapping windows add up), then drop the padding."""
    n, c, oh, ow, kh, kw = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    out = np.zeros(padded, dtype=cols.dtype)
    # kh * kw strided additions (9 for a 3x3 kernel), each over the whole batch
    for i in range(kh):
        for j in range(kw):
            out[
                :,
                :,
                i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                j * dw : j * dw + sw * (ow - 1) + 1 : sw,
            ] += cols[:, :, :, :, i, j]
    ph, pw = pad
    return out[:, :, ph : padded[2] - ph, pw : padded[3] - pw]


# ---------------------------------------------------------------- conv2d
def _im2col(x, kernel, stride, padding, dilation, groups):
    """(G, N*OH*OW, C/G*kh*kw): one row per output position, one matrix per group."""
    win = windows(pad2d(x, padding), kernel, stride, dilation)
    n, c, oh, ow, kh, kw = win.shape
    cg = c // groups
    cols = win.reshape(n, groups, cg, oh, ow, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)
    return cols.reshape(groups, n * oh * ow, cg * kh * kw), (oh, ow)


def _grad_rows(g: np.ndarray, groups: int) -> np.ndarray:
    """The output gradient (N, O, OH, OW) as (G, N*OH*OW, O/G), rows like ``_im2col``'s."""
    n, o, oh, ow = g.shape
    rows = g.reshape(n, groups, o // groups, oh, ow).transpose(1, 0, 3, 4, 2)
    return rows.reshape(groups, n * oh * ow, o // groups)


def conv2d(x, w, b, stride, padding, dilation, groups):
    """Cross-correlation of ``x`` (N, C, H, W) with ``w`` (O, C/G, kh, kw), plus ``b`` (O,)."""
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    cols, (oh, ow) = _im2col(x, (kh, kw), stride, padding, dilation, groups)
    wg = w.reshape(groups, o // groups, cg * kh * kw)
    out = np.matmul(cols, wg.transpose(0, 2, 1))  # (G, N*OH*OW, O/G)
    out = out.reshape(groups, n, oh, ow, o // groups).transpose(1, 0, 4, 2, 3)
    return out.reshape(n, o, oh, ow) + b.reshape(o, 1, 1)


def _no_graph(x) -> None:
    if not isinstance(x, (np.ndarray, float)):
        raise NotImplementedError(
            "conv and pooling ops have no second derivatives: use grad(create_graph=True) "
            "on graphs without them"
        )


def conv2d_vjp_x(g, out, x, w, b, stride, padding, dilation, groups):
    _no_graph(g)
    o, cg, kh, kw = w.shape
    rows = _grad_rows(g, groups)
    dcols = np.matmul(rows, w.reshape(groups, o // groups, cg * kh * kw))  # (G, M, K)
    n, _, oh, ow = g.shape
    dcols = dcols.reshape(groups, n, oh, ow, cg, kh, kw).transpose(1, 0, 4, 2, 3, 5, 6)
    dcols = dcols.reshape(n, groups * cg, oh, ow, kh, kw)
    ph, pw = padding
    padded = (n, x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw)
    return col2im(dcols, padded, stride, dilation, padding)


def conv2d_vjp_w(g, out, x, w, b, stride, padding, dilation, groups):
    _no_graph(g)
    cols, _ = _im2col(x, w.shape[2:], stride, padding, dilation, groups)
    dw = np.matmul(_grad_rows(g, groups).transpose(0, 2, 1), cols)  # (G, O/G, K)
    return dw.reshape(w.shape)


def conv2d_vjp_b(g, out, x, w, b, stride, padding, dilation, groups):
    _no_graph(g)
    return g.sum(axis=(0, 2, 3))


# ---------------------------------------------------------------- pooling
def _pool_windows(x, kernel, stride, padding, dilation, fill):
    win = windows(pad2d(x, padding, fill), kernel, stride, dilation)
    return win.reshape(win.shape[:4] + (-1,))  # a copy: (N, C, OH, OW, kh*kw)


def max_pool2d(x, kernel, stride, padding, dilation):
    """The largest entry of every window (padding counts as -inf)."""
    return _pool_windows(x, kernel, stride, padding, dilation, -np.inf).max(axis=-1)


def max_pool2d_vjp(g, out, x, kernel, stride, padding, dilation):
    _no_graph(g)
    # The whole gradient goes to the first maximum of each window, as in PyTorch.
    win = _pool_windows(x, kernel, stride, padding, dilation, -np.inf)
    first = win.argmax(axis=-1)[..., None]
    cols = np.zeros(win.shape, dtype=g.dtype)
    np.put_along_axis(cols, first, g[..., None], axis=-1)
    n, c, h, w = x.shape
    padded = (n, c, h + 2 * padding[0], w + 2 * padding[1])
    return col2im(cols.reshape(g.shape + tuple(kernel)), padded, stride, dilation, padding)


def _avg_divisor(shape, kernel, stride, padding, count_include_pad, dtype):
    if count_include_pad or not any(padding):
        return float(kernel[0] * kernel[1])
    ones = np.ones((1, 1) + tuple(shape[2:]), dtype=dtype)
    return _pool_windows(ones, kernel, stride, padding, (1, 1), 0.0).sum(axis=-1)


def avg_pool2d(x, kernel, stride, padding, count_include_pad):
    """The mean of every window (zero padding; ``count_include_pad`` as in PyTorch)."""
    total = _pool_windows(x, kernel, stride, padding, (1, 1), 0.0).sum(axis=-1)
    return total / _avg_divisor(x.shape, kernel, stride, padding, count_include_pad, x.dtype)


def avg_pool2d_vjp(g, out, x, kernel, stride, padding, count_include_pad):
    _no_graph(g)
    share = g / _avg_divisor(x.shape, kernel, stride, padding, count_include_pad, x.dtype)
    cols = np.broadcast_to(share[..., None, None], g.shape + tuple(kernel))
    n, c, h, w = x.shape
    padded = (n, c, h + 2 * padding[0], w + 2 * padding[1])
    return col2im(cols, padded, stride, (1, 1), padding)
