"""The numbers behind convolution and pooling: strided window views, im2col and its
adjoint (col2im), on raw numpy arrays only. The op entries that use them, each one node
with its forward and vjps side by side, are ``CONV2D``, ``MAX_POOL2D`` and ``AVG_POOL2D``
in ``ops/conv.py``, with the ops of their gradients (for second derivatives).

Layout is PyTorch's: images ``(N, C, H, W)``, weights ``(O, C // groups, kh, kw)``.
A window view ``(N, C, OH, OW, kh, kw)`` is made without copying (strides); the
matmul then runs on one contiguous copy of it (im2col), which is what makes a
convolution a single BLAS call per group.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..mode import flags

Pair = tuple[int, int]


def output_size(n: int, k: int, stride: int, pad: int, dilation: int) -> int:
    """How many windows fit along one axis of length ``n`` (PyTorch's formula)."""
    return (n + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def pad2d(x: np.ndarray, padding: Pair, value: float = 0.0, extra: Pair = (0, 0)) -> np.ndarray:
    """``x`` with ``padding`` rows and columns of ``value`` around each image (and
    ``extra`` more at the bottom and right: ``ceil_mode``'s last windows), contiguous."""
    ph, pw = padding
    if not ph and not pw and not any(extra):
        return np.ascontiguousarray(x)
    n, c, h, w = x.shape
    # np.pad costs ~40 µs of Python per call; a filled array and one copy do the same
    out = np.full((n, c, h + 2 * ph + extra[0], w + 2 * pw + extra[1]), value, dtype=x.dtype)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def windows(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """A view ``(N, C, OH, OW, kh, kw)`` of every window of a contiguous padded batch."""
    n, c, h, w = xp.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = output_size(h, kh, sh, 0, dh), output_size(w, kw, sw, 0, dw)
    s0, s1, s2, s3 = xp.strides
    # a stride beyond the input takes one window: its size then never matters (a huge one
    # would overflow numpy's byte strides)
    sh, sw = (sh if oh > 1 else 1), (sw if ow > 1 else 1)
    # ndarray(buffer=...) is as_strided without its ~35 µs of Python
    return np.ndarray(
        (n, c, oh, ow, kh, kw),
        xp.dtype,
        buffer=xp,
        strides=(s0, s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw),
    )


def col2im(cols: np.ndarray, padded: tuple, stride: Pair, dilation: Pair, pad: Pair) -> np.ndarray:
    """The adjoint of ``windows``: add every window's entries back where they came from
    (overlapping windows add up), then drop the padding."""
    n, c, oh, ow, kh, kw = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    if cols.strides[1] > cols.strides[0]:
        # channels-major columns (a convolution's): accumulate in the same memory order,
        # measured ~2x faster than adding them into a batch-major array
        out = np.zeros((c, n) + tuple(padded[2:]), dtype=cols.dtype).transpose(1, 0, 2, 3)
    else:
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
# Columns are laid out (G, C/G·kh·kw, N·OH·OW): the copy out of the window view then
# runs along output rows (contiguous for stride 1), measured 2x faster than windows last.
def _im2col(x, kernel, stride, padding, dilation, groups):
    """(G, C/G*kh*kw, N*OH*OW): one column per output position, one matrix per group."""
    win = windows(pad2d(x, padding), kernel, stride, dilation)
    n, c, oh, ow, kh, kw = win.shape
    cg = c // groups
    cols = win.reshape(n, groups, cg, oh, ow, kh, kw).transpose(1, 2, 5, 6, 0, 3, 4)
    return cols.reshape(groups, cg * kh * kw, n * oh * ow), (oh, ow)


def _grad_rows(g: np.ndarray, groups: int) -> np.ndarray:
    """The output gradient (N, O, OH, OW) as (G, O/G, N*OH*OW), laid out like the output."""
    n, o, oh, ow = g.shape
    rows = g.reshape(n, groups, o // groups, oh, ow).transpose(1, 2, 0, 3, 4)
    return rows.reshape(groups, o // groups, n * oh * ow)


def conv2d(x, w, stride, padding, dilation, groups):
    """Cross-correlation of ``x`` (N, C, H, W) with ``w`` (O, C/G, kh, kw), no bias."""
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    cols, (oh, ow) = _im2col(x, (kh, kw), stride, padding, dilation, groups)
    out = np.matmul(w.reshape(groups, o // groups, cg * kh * kw), cols)  # (G, O/G, M)
    out = out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)  # a view, channels-major
    _keep_columns(out, cols)
    return out


def conv2d_bias(x, w, b, stride, padding, dilation, groups):
    """``conv2d`` plus ``b`` (O,), added before the transposing view (one pass, no copy)."""
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    cols, (oh, ow) = _im2col(x, (kh, kw), stride, padding, dilation, groups)
    out = np.matmul(w.reshape(groups, o // groups, cg * kh * kw), cols)
    out = (out.reshape(o, n, oh, ow) + b.reshape(o, 1, 1, 1)).transpose(1, 0, 2, 3)
    _keep_columns(out, cols)
    return out


# The weight gradient needs the forward's columns again. Rebuilding them was a fifth of a
# CNN training step (measured on benchmarks' cnn_digits), so the forward leaves them here
# for as long as its output lives: keyed by the output's id, dropped when it is collected.
_COLUMNS: dict[int, np.ndarray] = {}


def _keep_columns(out: np.ndarray, cols: np.ndarray) -> None:
    if flags.grad_enabled:
        key = id(out)
        _COLUMNS[key] = cols
        weakref.finalize(out, _COLUMNS.pop, key, None)


def kept_columns(out: np.ndarray) -> np.ndarray | None:
    """The columns ``conv2d`` built for ``out`` if it kept them (id -> live output)."""
    return _COLUMNS.get(id(out))


def input_grad(g, w, stride, padding, dilation, groups, x_shape):
    """d<g, conv2d(x, w)>/dx: the transposed convolution of ``g`` with ``w``."""
    o, cg, kh, kw = w.shape
    wg = w.reshape(groups, o // groups, cg * kh * kw)
    dcols = np.matmul(wg.transpose(0, 2, 1), _grad_rows(g, groups))  # (G, K, M)
    n, _, oh, ow = g.shape
    dcols = dcols.reshape(groups, cg, kh, kw, n, oh, ow).transpose(4, 0, 1, 5, 6, 2, 3)
    dcols = dcols.reshape(n, groups * cg, oh, ow, kh, kw)  # a view
    ph, pw = padding
    padded = (n, x_shape[1], x_shape[2] + 2 * ph, x_shape[3] + 2 * pw)
    return col2im(dcols, padded, stride, dilation, padding)


def weight_grad(g, x, stride, padding, dilation, groups, w_shape, cols=None):
    """d<g, conv2d(x, w)>/dw: every window of ``x`` weighted by ``g`` (``cols``: the
    forward's columns of ``x``, when it kept them)."""
    if cols is None:
        cols, _ = _im2col(x, w_shape[2:], stride, padding, dilation, groups)
    dw = np.matmul(_grad_rows(g, groups), cols.transpose(0, 2, 1))  # (G, O/G, K)
    return dw.reshape(w_shape)


# ---------------------------------------------------------------- pooling
def pool_output_size(n: int, k: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """How many windows a pool takes along an axis of length ``n``; with ``ceil_mode`` a
    last, partial window too, if it starts inside the input or the left padding
    (PyTorch's rule)."""
    span = dilation * (k - 1) + 1
    if not ceil_mode:
        return (n + 2 * pad - span) // stride + 1
    count = -(-(n + 2 * pad - span) // stride) + 1
    return count - 1 if (count - 1) * stride >= n + pad else count


def ceil_extra(
    shape: tuple, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, ceil_mode: bool
) -> Pair:
    """The rows and columns past the padding that ``ceil_mode``'s last windows reach."""
    if not ceil_mode:
        return (0, 0)
    reach = (
        (pool_output_size(n, k, s, p, d, True) - 1) * s + d * (k - 1) + 1 - (n + 2 * p)
        for n, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation)
    )
    h, w = (max(0, r) for r in reach)
    return h, w


def _positions(kernel: Pair):
    return ((i, j) for i in range(kernel[0]) for j in range(kernel[1]))


# Pooling walks the kh*kw kernel positions over the window view (no copy of the windows):
# measured 4x faster than reducing a (N, C, OH, OW, kh*kw) copy.
def max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=False):
    """The largest entry of every window (padding counts as -inf)."""
    extra = ceil_extra(x.shape, kernel, stride, padding, dilation, ceil_mode)
    win = windows(pad2d(x, padding, -np.inf, extra), kernel, stride, dilation)
    out = win[..., 0, 0].copy()
    for i, j in _positions(kernel):
        np.maximum(out, win[..., i, j], out=out)
    return out


def _hits(win, out, kernel: Pair):
    """Each kernel position ``(i, j)`` and the windows whose maximum it holds, as PyTorch
    picks it: the first maximum, or the last NaN (a NaN is the window's maximum and takes
    its gradient)."""
    if np.isnan(out).any():  # only a window holding NaN needs the index of its last NaN
        pick = np.full(out.shape, -1, dtype=np.intp)
        for k, (i, j) in enumerate(_positions(kernel)):
            v = win[..., i, j]
            pick[((v == out) & (pick < 0)) | np.isnan(v)] = k
        for k, (i, j) in enumerate(_positions(kernel)):
            yield i, j, pick == k
        return
    free = np.ones(out.shape, dtype=bool)  # the windows whose first maximum is still ahead
    for i, j in _positions(kernel):
        hit = (win[..., i, j] == out) & free
        free &= ~hit
        yield i, j, hit


def max_pool2d_grad(g, x, out, kernel, stride, padding, dilation, ceil_mode=False):
    """Each window's gradient ``g`` routed to its maximum (``out``) in ``x``, as in
    PyTorch (``_hits``)."""
    xp = pad2d(
        x, padding, -np.inf, ceil_extra(x.shape, kernel, stride, padding, dilation, ceil_mode)
    )
    win = windows(xp, kernel, stride, dilation)
    dxp = np.zeros(xp.shape, dtype=np.result_type(g, x))
    dwin = windows(dxp, kernel, stride, dilation)  # writes land in dxp
    for i, j, hit in _hits(win, out, kernel):
        dwin[..., i, j] += g * hit
    ph, pw = padding
    return dxp[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]]


def max_pool2d_pick(u, x, out, kernel, stride, padding, dilation, ceil_mode=False):
    """The adjoint of ``max_pool2d_grad``: each window of ``u`` read where ``x`` has its
    maximum (``out``)."""
    extra = ceil_extra(x.shape, kernel, stride, padding, dilation, ceil_mode)
    win = windows(pad2d(x, padding, -np.inf, extra), kernel, stride, dilation)
    uwin = windows(pad2d(u, padding, 0.0, extra), kernel, stride, dilation)
    picked = np.zeros(out.shape, dtype=np.result_type(u, x))
    for i, j, hit in _hits(win, out, kernel):
        picked += uwin[..., i, j] * hit
    return picked


def _window_sums(x, kernel, stride, padding, extra=(0, 0)):
    win = windows(pad2d(x, padding, 0.0, extra), kernel, stride, (1, 1))
    total = win[..., 0, 0].copy()
    for i, j in list(_positions(kernel))[1:]:
        total += win[..., i, j]
    return total


def _avg_divisor(shape, kernel, stride, padding, count_include_pad, dtype, extra=(0, 0)):
    # ceil_mode's last windows count only what they cover of the input and its padding
    if any(extra) and count_include_pad:
        padded = tuple(n + 2 * p for n, p in zip(shape[2:], padding))
        return _window_sums(np.ones((1, 1) + padded, dtype=dtype), kernel, stride, (0, 0), extra)
    if count_include_pad or not any(padding) and not any(extra):
        return float(kernel[0] * kernel[1])
    ones = np.ones((1, 1) + tuple(shape[2:]), dtype=dtype)
    return _window_sums(ones, kernel, stride, padding, extra)


def avg_pool2d(x, kernel, stride, padding, count_include_pad, ceil_mode=False):
    """The mean of every window (zero padding; ``count_include_pad`` as in PyTorch)."""
    extra = ceil_extra(x.shape, kernel, stride, padding, (1, 1), ceil_mode)
    total = _window_sums(x, kernel, stride, padding, extra)
    divisor = _avg_divisor(x.shape, kernel, stride, padding, count_include_pad, x.dtype, extra)
    return total / divisor


def avg_pool2d_grad(g, kernel, stride, padding, count_include_pad, ceil_mode, x_shape):
    """Each window's gradient ``g`` shared equally by the window's entries."""
    extra = ceil_extra(x_shape, kernel, stride, padding, (1, 1), ceil_mode)
    divisor = _avg_divisor(x_shape, kernel, stride, padding, count_include_pad, g.dtype, extra)
    cols = np.broadcast_to((g / divisor)[..., None, None], g.shape + tuple(kernel))
    n, c, h, w = x_shape
    padded = (n, c, h + 2 * padding[0] + extra[0], w + 2 * padding[1] + extra[1])
    return col2im(cols, padded, stride, (1, 1), padding)[:, :, :h, :w]
