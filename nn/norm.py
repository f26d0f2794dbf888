"""Normalization layers: ``LayerNorm`` (per sample) and ``BatchNorm1d`` / ``BatchNorm2d``
(per channel over the batch, with running statistics for evaluation mode)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Value

from .layers import as_input
from .module import Module


class LayerNorm(Module):
    """Normalize over the last axes (``normalized_shape``) of each sample:
    ``(x - mean) / sqrt(var + eps) * weight + b``, as ``torch.nn.LayerNorm``.

    >>> y = LayerNorm(4)(np.array([[1.0, 2.0, 3.0, 4.0]]))
    >>> np.round(y.data, 3)
    array([[-1.342, -0.447,  0.447,  1.342]])
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
    ) -> None:
        shape = (
            (int(normalized_shape),)
            if isinstance(normalized_shape, (int, np.integer))
            else tuple(int(n) for n in normalized_shape)
        )
        self.normalized_shape, self.eps = shape, float(eps)
        self.weight = Value(np.ones(shape), label="weight") if elementwise_affine else None
        self.b = Value(np.zeros(shape), label="b") if elementwise_affine else None

    def forward(self, x: Any) -> Value:
        x = as_input(x)
        k = len(self.normalized_shape)
        if x.shape[-k:] != self.normalized_shape:
            raise ValueError(
                f"LayerNorm: expected inputs ending in {self.normalized_shape}, got {x.shape}"
            )
        axes = tuple(range(x.ndim - k, x.ndim))
        centered = x - x.mean(axis=axes, keepdims=True)
        y = centered / (centered.var(axis=axes, keepdims=True) + self.eps).sqrt()
        return y if self.weight is None else y * self.weight + self.b

    def config(self) -> dict:
        return {
            "normalized_shape": list(self.normalized_shape),
            "eps": self.eps,
            "elementwise_affine": self.weight is not None,
        }


class _BatchNorm(Module):
    """Per-channel normalization over the batch (and the spatial axes); channel axis 1."""

    ndims: tuple[int, ...] = (2,)
    buffers = ("running_mean", "running_var")  # saved and converted with the parameters

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True
    ) -> None:
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.weight = Value(np.ones(self.num_features), label="weight") if affine else None
        self.b = Value(np.zeros(self.num_features), label="b") if affine else None
        # Running statistics are state, not parameters: buffers, no gradient.
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)

    def forward(self, x: Any) -> Value:
        x = as_input(x)
        name = type(self).__name__
        if x.ndim not in self.ndims or x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected inputs of {' or '.join(f'{n}' for n in self.ndims)} "
                f"dimensions with {self.num_features} channels on axis 1, got {x.shape}"
            )
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)
        if self.training:
            count = x.size // self.num_features
            if count < 2:
                raise ValueError(f"{name}: training needs more than one value per channel")
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = centered.var(axis=axes, keepdims=True)
            m = self.momentum
            batch_var = var.data.reshape(-1) * (count / (count - 1))  # unbiased, as torch
            self.running_mean = (1 - m) * self.running_mean + m * mean.data.reshape(-1)
            self.running_var = (1 - m) * self.running_var + m * batch_var
            y = centered / (var + self.eps).sqrt()
        else:
            mean = self.running_mean.reshape(shape).astype(x.dtype)
            scale = 1.0 / np.sqrt(self.running_var.reshape(shape) + self.eps)
            y = (x - mean) * scale.astype(x.dtype)
        if self.weight is None or self.b is None:  # (both or neither)
            return y
        return y * self.weight.reshape(shape) + self.b.reshape(shape)

    def config(self) -> dict:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.weight is not None,
        }


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` or ``(N, C, L)`` inputs, per channel, as
    ``torch.nn.BatchNorm1d``: batch statistics in training (updating the running mean
    and the unbiased running variance with ``momentum``), running ones in evaluation.

    >>> bn = BatchNorm1d(2); y = bn(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> np.round(y.data, 4), bn.running_mean
    (array([[-1., -1.],
           [ 1.,  1.]]), array([0.2, 2. ]))
    """

    ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of images ``(N, C, H, W)`` per channel, as
    ``torch.nn.BatchNorm2d``.

    >>> BatchNorm2d(3)(np.random.default_rng(0).normal(size=(4, 3, 5, 5))).shape
    (4, 3, 5, 5)
    """

    ndims = (4,)


class GroupNorm(Module):
    """Normalize each sample's channels in ``num_groups`` groups, each over its channels
    and every position, then scale and shift per channel: ``torch.nn.GroupNorm`` for
    inputs ``(N, C, ...)`` (one group is LayerNorm over everything but the batch, one
    group per channel is InstanceNorm). No running statistics: training and evaluation
    compute the same.

    >>> y = GroupNorm(2, 4)(np.array([[1.0, 3.0, 10.0, 30.0]]))
    >>> np.round(y.data, 3)
    array([[-1.,  1., -1.,  1.]])
    """

    def __init__(
        self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True
    ) -> None:
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        if self.num_groups < 1 or self.num_channels % self.num_groups:
            raise ValueError(
                f"GroupNorm: num_groups={num_groups} must divide num_channels={num_channels}"
            )
        self.eps = float(eps)
        self.weight = Value(np.ones(self.num_channels), label="weight") if affine else None
        self.b = Value(np.zeros(self.num_channels), label="b") if affine else None

    def forward(self, x: Any) -> Value:
        x = as_input(x)
        if x.ndim < 2 or x.shape[1] != self.num_channels or not x.size:
            raise ValueError(
                f"GroupNorm: expected inputs (N, C, ...) with C = {self.num_channels} channels, "
                f"got {x.shape}"
            )
        grouped = x.reshape(x.shape[0], self.num_groups, -1)
        centered = grouped - grouped.mean(axis=2, keepdims=True)
        y = (centered / (centered.var(axis=2, keepdims=True) + self.eps).sqrt()).reshape(x.shape)
        if self.weight is None or self.b is None:  # (both or neither)
            return y
        shape = (1, self.num_channels) + (1,) * (x.ndim - 2)
        return y * self.weight.reshape(shape) + self.b.reshape(shape)

    def config(self) -> dict:
        return {
            "num_groups": self.num_groups,
            "num_channels": self.num_channels,
            "eps": self.eps,
            "affine": self.weight is not None,
        }
