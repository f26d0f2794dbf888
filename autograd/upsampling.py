"""Making image batches ``(N, C, H, W)`` bigger: ``conv_transpose2d`` (learned, the
transpose of a convolution) and ``interpolate`` (fixed: nearest or bilinear), each one
node (``ops/conv.py``, ``ops/resize.py``); these functions check their arguments."""

from __future__ import annotations

import math
from typing import Any

from . import ops
from .convolution import _geometry, _ints
from .functions import _lift_all
from .ops.conv import transpose_shape
from .value import Value, _apply


def conv_transpose2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> Value:
    """The transposed convolution (PyTorch's, arguments in its order): each input pixel
    spreads ``weight`` over the output, ``stride`` pixels apart, so a stride of 2 doubles
    the size. ``x`` is ``(N, C_in, H, W)``, ``weight`` ``(C_in, C_out // groups, kh,
    kw)``, ``bias`` ``(C_out,)``; the output is ``(H - 1)·stride - 2·padding +
    dilation·(kh - 1) + output_padding + 1`` high (and as wide). It is conv2d's input
    gradient as a forward pass, so its own gradients are convolutions.

    >>> import numpy as np
    >>> conv_transpose2d(np.ones((1, 1, 2, 2)), Value(np.ones((1, 1, 2, 2))), stride=2).shape
    (1, 1, 4, 4)
    """
    name = "conv_transpose2d"
    x, w = _lift_all([x, weight], name)
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(
            f"{name}: x must be (N, C_in, H, W) and weight (C_in, C_out/groups, kh, kw), "
            f"got x of shape {x.shape} and weight of shape {w.shape}"
        )
    steps, padding, dilation = _geometry(name, stride, padding, dilation)
    extra = _ints(name, "output_padding", output_padding, 2)
    groups = int(groups)
    if groups < 1 or w.shape[0] % groups:
        raise ValueError(f"{name}: groups={groups} must divide the input channels ({w.shape[0]})")
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"{name}: x of shape {x.shape} has {x.shape[1]} channels but weight of shape "
            f"{w.shape} takes {w.shape[0]}"
        )
    if any(e >= s for e, s in zip(extra, steps)):
        # (torch also takes it below the dilation at stride 1; that is not done here)
        raise ValueError(f"{name}: output_padding {extra} must be below the stride {steps}")
    shape = transpose_shape(x.shape, w.shape, steps, padding, extra, dilation, groups)
    if min(shape[2:]) < 1:
        raise ValueError(
            f"{name}: the output would be {shape[2:]} (x of shape {x.shape}, weight {w.shape}, "
            f"stride {steps}, padding {padding}); padding is too large"
        )
    params = (steps, padding, extra, dilation, groups)
    if bias is None:
        return _apply(ops.CONV_TRANSPOSE2D_NO_BIAS, (x, w), params)
    (b,) = _lift_all([bias], name)
    if b.shape != (shape[1],):
        raise ValueError(f"{name}: bias must have shape ({shape[1]},), got {b.shape}")
    return _apply(ops.CONV_TRANSPOSE2D, (x, w, b), params)


def interpolate(
    x: Any,
    size: int | tuple[int, int] | None = None,
    scale_factor: float | tuple[float, float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Value:
    """An image batch ``(N, C, H, W)`` resized to ``size`` or by ``scale_factor`` (one
    of them), as ``torch.nn.functional.interpolate``: ``mode="nearest"`` copies the
    nearest pixel (the one up and to the left), ``"bilinear"`` weighs the four around;
    ``align_corners`` (bilinear only) puts the corner pixels' centres on each other.

    >>> import numpy as np
    >>> interpolate(Value([[[[1.0, 2.0]]]]), scale_factor=2).data
    array([[[[1., 1., 2., 2.],
             [1., 1., 2., 2.]]]])
    """
    name = "interpolate"
    (x,) = _lift_all([x], name)
    if x.ndim != 4:
        raise ValueError(f"{name}: x must be (N, C, H, W), got shape {x.shape}")
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"{name}: mode must be 'nearest' or 'bilinear', got {mode!r}")
    if align_corners is not None and mode == "nearest":
        raise ValueError(f"{name}: align_corners is for mode 'bilinear' only")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{name}: give size or scale_factor (one of them)")
    scale = None
    if scale_factor is None:  # (size is given: exactly one of them is, checked above)
        out_size = _ints(name, "size", size, 2)
    else:
        pair = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * 2
        scale = tuple(float(s) for s in pair)
        if len(scale) != 2 or not all(math.isfinite(s) and s > 0 for s in scale):
            raise ValueError(
                f"{name}: scale_factor must be 1 or 2 numbers > 0, got {scale_factor!r}"
            )
        out_size = tuple(math.floor(n * s) for n, s in zip(x.shape[2:], scale))
        if min(out_size) < 1:
            raise ValueError(
                f"{name}: scale_factor {scale_factor!r} leaves no pixels of x of shape {x.shape}"
            )
    return _apply(ops.INTERPOLATE, (x,), (out_size, scale, mode, bool(align_corners)))
