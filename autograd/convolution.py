"""Convolution and pooling as one node each: ``conv2d``, ``conv1d``, ``max_pool2d`` and
``avg_pool2d`` check their arguments and shapes here, then apply the entries in
``ops/conv.py`` (im2col and one matmul per group).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from .functions import _lift_all
from .value import Value, _apply


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Value:
    """2-D convolution (cross-correlation, as in PyTorch) as one node: ``x`` is
    ``(N, C, H, W)``, ``weight`` ``(O, C // groups, kh, kw)``, ``bias`` ``(O,)``.
    im2col and one matmul per group in numpy.

    >>> conv2d(np.ones((1, 1, 4, 4)), Value(np.ones((2, 1, 3, 3))), padding=1).shape
    (1, 2, 4, 4)
    """
    x, w = _lift_all([x, weight], "conv2d")
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(
            f"conv2d: x must be (N, C, H, W) and weight (O, C/groups, kh, kw), "
            f"got x of shape {x.shape} and weight of shape {w.shape}"
        )
    stride, padding, dilation = _geometry("conv2d", stride, padding, dilation)
    groups = int(groups)
    o, cg, kh, kw = w.shape
    c = x.shape[1]
    if groups < 1 or c % groups or o % groups:
        raise ValueError(
            f"conv2d: groups={groups} must divide the input channels ({c}) and the output "
            f"channels ({o})"
        )
    if cg * groups != c:
        raise ValueError(
            f"conv2d: x of shape {x.shape} has {c} channels but weight of shape {w.shape} "
            f"expects {cg * groups} ({cg} per group x {groups} groups)"
        )
    _check_fits("conv2d", x.shape, (kh, kw), padding, dilation)
    params = (stride, padding, dilation, groups)
    if bias is None:
        return _apply(ops.CONV2D_NO_BIAS, (x, w), params)
    (b,) = _lift_all([bias], "conv2d")
    if b.shape != (o,):
        raise ValueError(f"conv2d: bias must have shape ({o},), got {b.shape}")
    return _apply(ops.CONV2D, (x, w, b), params)


def conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Value:
    """1-D convolution: ``x`` ``(N, C, L)``, ``weight`` ``(O, C // groups, k)``; a
    ``conv2d`` over images one pixel high.

    >>> conv1d(np.ones((1, 1, 5)), Value(np.ones((1, 1, 3)))).data
    array([[[3., 3., 3.]]])
    """
    x, w = _lift_all([x, weight], "conv1d")
    if x.ndim != 3 or w.ndim != 3:
        raise ValueError(
            f"conv1d: x must be (N, C, L) and weight (O, C/groups, k), "
            f"got x of shape {x.shape} and weight of shape {w.shape}"
        )
    (s,), (p,), (d,) = (_ints("conv1d", n, v, 1) for n, v in _named(stride, padding, dilation))
    if groups < 1 or x.shape[1] != w.shape[1] * groups or w.shape[0] % groups:
        raise ValueError(
            f"conv1d: x of shape {x.shape} has {x.shape[1]} channels but weight of shape "
            f"{w.shape} with groups={groups} expects {w.shape[1] * groups}"
        )
    if d * (w.shape[2] - 1) + 1 > x.shape[2] + 2 * p:
        raise ValueError(
            f"conv1d: the kernel spans {d * (w.shape[2] - 1) + 1} but the padded input has "
            f"only {x.shape[2] + 2 * p} (x of shape {x.shape}, weight {w.shape}, padding {p})"
        )
    x4 = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
    w4 = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
    out = conv2d(x4, w4, bias, (1, s), (0, p), (1, d), groups)
    return out.reshape(out.shape[0], out.shape[1], out.shape[3])


def max_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> Value:
    """The maximum of every ``kernel_size`` window of ``x`` ``(N, C, H, W)`` (stride
    defaults to the kernel size); its gradient goes to the first maximum of a window.
    ``ceil_mode`` adds a last, partial window where the input does not divide evenly.

    >>> max_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), 2).data
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """
    (x,) = _lift_all([x], "max_pool2d")
    kernel, stride, padding, dilation = _pool_geometry(
        "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode
    )
    return _apply(ops.MAX_POOL2D, (x,), (kernel, stride, padding, dilation, bool(ceil_mode)))


def avg_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    count_include_pad: bool = True,
    ceil_mode: bool = False,
) -> Value:
    """The mean of every ``kernel_size`` window of ``x`` ``(N, C, H, W)`` (stride
    defaults to the kernel size; padding counts as zeros unless ``count_include_pad``
    is False, as in PyTorch). ``ceil_mode`` adds a last, partial window where the input
    does not divide evenly; it averages what it covers of the input and the padding.

    >>> avg_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), 2).data
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """
    (x,) = _lift_all([x], "avg_pool2d")
    kernel, stride, padding, _ = _pool_geometry(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode
    )
    params = (kernel, stride, padding, bool(count_include_pad), bool(ceil_mode))
    return _apply(ops.AVG_POOL2D, (x,), params)


def _named(stride: Any, padding: Any, dilation: Any) -> list[tuple[str, Any]]:
    return [("stride", stride), ("padding", padding), ("dilation", dilation)]


def _ints(op: str, name: str, value: Any, n: int) -> tuple[int, ...]:
    """``value`` as ``n`` ints (one int is repeated), checked: stride/dilation/kernel
    >= 1, padding >= 0."""
    low = 0 if name in ("padding", "output_padding") else 1
    if type(value) is int and value >= low:  # the common case, checked in one step
        return (value,) * n
    if type(value) is tuple and len(value) == n and all(type(v) is int and v >= low for v in value):
        return value
    items = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(items) != n or not all(isinstance(v, (int, np.integer)) and v >= low for v in items):
        raise ValueError(f"{op}: {name} must be {n} int(s) >= {low}, got {value!r}")
    return tuple(int(v) for v in items)


def _geometry(op: str, stride: Any, padding: Any, dilation: Any) -> Any:  # three pairs
    return tuple(_ints(op, name, v, 2) for name, v in _named(stride, padding, dilation))


def _check_fits(
    op: str, shape: tuple, kernel: tuple, padding: Any, dilation: Any, slack: tuple = (0, 0)
) -> None:
    for axis, n, k, p, d, extra in zip(
        ("height", "width"), shape[2:], kernel, padding, dilation, slack
    ):
        span = d * (k - 1) + 1
        if span > n + 2 * p + extra:
            raise ValueError(
                f"{op}: the kernel spans {span} along the {axis} but the padded input "
                f"has only {n + 2 * p} (x of shape {shape}, kernel {kernel}, padding {padding})"
            )


def _pool_geometry(
    op: str, x: Value, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool
) -> tuple:
    if x.ndim != 4:
        raise ValueError(f"{op}: x must be (N, C, H, W), got shape {x.shape}")
    kernel = _ints(op, "kernel_size", kernel_size, 2)
    stride, padding, dilation = _geometry(
        op, kernel if stride is None else stride, padding, dilation
    )
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    slack = tuple(s - 1 for s in stride) if ceil_mode else (0, 0)  # a last, partial window
    _check_fits(op, x.shape, kernel, padding, dilation, slack)
    return kernel, stride, padding, dilation
