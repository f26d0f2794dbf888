"""Convolution and pooling layers for image batches ``(N, C, H, W)``, and ``Flatten``'s
partner in a CNN: each one node of the engine (``autograd.conv2d`` and friends)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value, avg_pool2d, conv2d, max_pool2d

from .activations import check_activation
from .init import check_init, initial_weights
from .layers import as_input
from .module import Module
from .random import get_rng


def _pair(v: Any) -> tuple[int, int]:
    pair = (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(n) for n in v)
    return pair  # type: ignore[return-value]  # (conv2d and the pools check it is two)


class Conv2d(Module):
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
        self.padding, self.dilation, self.groups = _pair(padding), _pair(dilation), int(groups)
        if self.groups < 1 or self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"Conv2d: groups={groups} must divide in_channels ({in_channels}) and "
                f"out_channels ({out_channels})"
            )
        self.init, self.init_activation = check_init(init), check_activation(init_activation)
        self.dtype = np.dtype(dtype).name
        kh, kw = self.kernel_size
        shape = (self.out_channels, self.in_channels // self.groups, kh, kw)
        fan_in = shape[1] * kh * kw
        fan_out = self.out_channels // self.groups * kh * kw
        w = initial_weights(shape, fan_in, fan_out, init, init_activation, get_rng(rng))
        self.weight = Value(w, label="weight", dtype=dtype)
        self.b = Value(np.zeros(self.out_channels), label="b", dtype=dtype) if bias else None

    def forward(self, x: Any) -> Value:
        x = as_input(x, self.weight.dtype)
        return conv2d(x, self.weight, self.b, self.stride, self.padding, self.dilation, self.groups)

    def config(self) -> dict:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "dilation": list(self.dilation),
            "groups": self.groups,
            "bias": self.b is not None,
            "init": self.init,
            "init_activation": self.init_activation,
            "dtype": self.dtype,
        }


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
    ) -> None:
        self.kernel_size = _pair(kernel_size)
        self.stride = self.kernel_size if stride is None else _pair(stride)
        self.padding, self.dilation = _pair(padding), _pair(dilation)

    def forward(self, x: Any) -> Value:
        return max_pool2d(as_input(x), self.kernel_size, self.stride, self.padding, self.dilation)

    def config(self) -> dict:
        return {
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "dilation": list(self.dilation),
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
    ) -> None:
        self.kernel_size = _pair(kernel_size)
        self.stride = self.kernel_size if stride is None else _pair(stride)
        self.padding, self.count_include_pad = _pair(padding), bool(count_include_pad)

    def forward(self, x: Any) -> Value:
        return avg_pool2d(
            as_input(x), self.kernel_size, self.stride, self.padding, self.count_include_pad
        )

    def config(self) -> dict:
        return {
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "count_include_pad": self.count_include_pad,
        }
