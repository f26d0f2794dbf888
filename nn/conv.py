"""Convolution and pooling layers for image batches ``(N, C, H, W)`` (and sequences
``(N, C, L)`` for ``Conv1d``): each one node of the engine (``autograd.conv2d`` and
friends). ``ConvTranspose2d`` goes the other way, from small images to big ones."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value, avg_pool2d, conv1d, conv2d, conv_transpose2d, max_pool2d

from .activations import check_activation
from .init import check_init, initial_weights
from .layers import as_input
from .module import Module
from .random import get_rng


def _pair(v: Any) -> tuple[int, int]:
    pair = (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(n) for n in v)
    return pair  # type: ignore[return-value]  # (conv2d and the pools check it is two)


class _Conv(Module):
    """What the conv layers share: their weights and settings, made by ``_set_weights``
    (told to type checkers here)."""

    in_channels: int
    out_channels: int
    groups: int
    init: str
    init_activation: str
    dtype: str
    weight: Value
    b: Value | None


class Conv2d(_Conv):
    """A 2-D convolution: ``weight`` ``(out_channels, in_channels // groups, kh, kw)``,
    ``b`` ``(out_channels,)``; stride, padding, dilation and groups as in PyTorch.
    Initial weights by ``init`` (``nn.init``) with fan-in ``in_channels/groups·kh·kw``.

    >>> Conv2d(1, 4, 3, padding=1, rng=0)(np.ones((2, 1, 8, 8))).shape
    (2, 4, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        init: str = "gaussian",
        init_activation: str = "relu",
        rng: Any = None,
        dtype: Any = "float64",
    ) -> None:
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding, self.dilation = _pair(padding), _pair(dilation)
        self.groups = _groups("Conv2d", groups, self.in_channels, self.out_channels)
        kh, kw = self.kernel_size
        shape = (self.out_channels, self.in_channels // self.groups, kh, kw)
        _set_weights(
            self, shape, self.out_channels // self.groups, init, init_activation, rng, dtype, bias
        )

    def forward(self, x: Any) -> Value:
        x = as_input(x, self.weight.dtype)
        return conv2d(x, self.weight, self.b, self.stride, self.padding, self.dilation, self.groups)

    def config(self) -> dict:
        return _conv_config(self, "kernel_size", "stride", "padding", "dilation")


class MaxPool2d(Module):
    """The largest value of every window (stride defaults to the window size).

    >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).data.ravel()
    array([ 5.,  7., 13., 15.])
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        ceil_mode: bool = False,
    ) -> None:
        self.kernel_size = _pair(kernel_size)
        self.stride = self.kernel_size if stride is None else _pair(stride)
        self.padding, self.dilation = _pair(padding), _pair(dilation)
        self.ceil_mode = bool(ceil_mode)

    def forward(self, x: Any) -> Value:
        return max_pool2d(
            as_input(x), self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )

    def config(self) -> dict:
        return {
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "dilation": list(self.dilation),
            **_ceil_config(self.ceil_mode),
        }


class AvgPool2d(Module):
    """The mean of every window (stride defaults to the window size).

    >>> AvgPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).data.ravel()
    array([ 2.5,  4.5, 10.5, 12.5])
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        count_include_pad: bool = True,
        ceil_mode: bool = False,
    ) -> None:
        self.kernel_size = _pair(kernel_size)
        self.stride = self.kernel_size if stride is None else _pair(stride)
        self.padding, self.count_include_pad = _pair(padding), bool(count_include_pad)
        self.ceil_mode = bool(ceil_mode)

    def forward(self, x: Any) -> Value:
        return avg_pool2d(
            as_input(x),
            self.kernel_size,
            self.stride,
            self.padding,
            self.count_include_pad,
            self.ceil_mode,
        )

    def config(self) -> dict:
        return {
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "count_include_pad": self.count_include_pad,
            **_ceil_config(self.ceil_mode),
        }


def _ceil_config(ceil_mode: bool) -> dict:
    """``ceil_mode`` for a config, left out when False (older files, the same repr)."""
    return {"ceil_mode": True} if ceil_mode else {}


class Conv1d(_Conv):
    """A 1-D convolution of sequences ``(N, C, L)``: ``weight`` ``(out_channels,
    in_channels // groups, kernel_size)``, ``b`` ``(out_channels,)``; stride, padding,
    dilation and groups as in PyTorch (``autograd.conv1d``).

    >>> Conv1d(2, 3, 3, padding=1, rng=0)(np.ones((4, 2, 10))).shape
    (4, 3, 10)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        init: str = "gaussian",
        init_activation: str = "relu",
        rng: Any = None,
        dtype: Any = "float64",
    ) -> None:
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride = _single(kernel_size), _single(stride)
        self.padding, self.dilation = _single(padding), _single(dilation)
        self.groups = _groups("Conv1d", groups, self.in_channels, self.out_channels)
        shape = (self.out_channels, self.in_channels // self.groups, self.kernel_size)
        _set_weights(
            self, shape, self.out_channels // self.groups, init, init_activation, rng, dtype, bias
        )

    def forward(self, x: Any) -> Value:
        x = as_input(x, self.weight.dtype)
        return conv1d(x, self.weight, self.b, self.stride, self.padding, self.dilation, self.groups)

    def config(self) -> dict:
        return _conv_config(self, "kernel_size", "stride", "padding", "dilation")


class ConvTranspose2d(_Conv):
    """The transposed 2-D convolution (``autograd.conv_transpose2d``): each input pixel
    spreads the kernel over the output, so ``stride=2`` doubles an image's size.
    ``weight`` ``(in_channels, out_channels // groups, kh, kw)`` (torch's layout),
    ``b`` ``(out_channels,)``; arguments in ``torch.nn.ConvTranspose2d``'s order.

    >>> ConvTranspose2d(4, 2, 2, stride=2, rng=0)(np.ones((1, 4, 5, 5))).shape
    (1, 2, 10, 10)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        init: str = "gaussian",
        init_activation: str = "relu",
        rng: Any = None,
        dtype: Any = "float64",
    ) -> None:
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding, self.output_padding = _pair(padding), _pair(output_padding)
        self.dilation = _pair(dilation)
        self.groups = _groups("ConvTranspose2d", groups, self.in_channels, self.out_channels)
        kh, kw = self.kernel_size
        shape = (self.in_channels, self.out_channels // self.groups, kh, kw)
        # (its fan-in is the weight's second axis times the kernel, as torch's: out_channels)
        _set_weights(
            self, shape, self.in_channels // self.groups, init, init_activation, rng, dtype, bias
        )

    def forward(self, x: Any) -> Value:
        x = as_input(x, self.weight.dtype)
        return conv_transpose2d(
            x,
            self.weight,
            self.b,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )

    def config(self) -> dict:
        settings = ("kernel_size", "stride", "padding", "output_padding", "dilation")
        return _conv_config(self, *settings)


def _set_weights(
    layer: _Conv,
    shape: tuple,
    out_per_group: int,
    init: str,
    init_activation: str,
    rng: Any,
    dtype: Any,
    bias: bool,
) -> None:
    """A conv layer's ``weight`` of ``shape`` (``init`` with the fans of its second axis
    and of ``out_per_group``, times the kernel) and bias ``b``, with what its config says."""
    layer.init, layer.init_activation = check_init(init), check_activation(init_activation)
    layer.dtype = np.dtype(dtype).name
    kernel = int(np.prod(shape[2:]))
    fan_in, fan_out = shape[1] * kernel, out_per_group * kernel
    w = initial_weights(shape, fan_in, fan_out, init, init_activation, get_rng(rng))
    layer.weight = Value(w, label="weight", dtype=dtype)
    channels = layer.out_channels
    layer.b = Value(np.zeros(channels), label="b", dtype=dtype) if bias else None


def _conv_config(layer: _Conv, *settings: str) -> dict:
    """A conv layer's config: its channels, its ``settings`` (pairs as lists) and what
    made its weights."""
    shown = {}
    for name in settings:
        value = getattr(layer, name)
        shown[name] = list(value) if isinstance(value, tuple) else value
    return {
        "in_channels": layer.in_channels,
        "out_channels": layer.out_channels,
        **shown,
        "groups": layer.groups,
        "bias": layer.b is not None,
        "init": layer.init,
        "init_activation": layer.init_activation,
        "dtype": layer.dtype,
    }


def _single(v: Any) -> int:
    """One whole number (a 1-tuple, as torch's Conv1d keeps them, is one too)."""
    return int(v[0]) if isinstance(v, (tuple, list)) and len(v) == 1 else int(v)


def _groups(name: str, groups: Any, cin: int, cout: int) -> int:
    groups = int(groups)
    if groups < 1 or cin % groups or cout % groups:
        raise ValueError(
            f"{name}: groups={groups} must divide in_channels ({cin}) and out_channels ({cout})"
        )
    return groups
