"""The torch -> ours half of the PyTorch bridge (``from_torch`` in ``nn.interop``): one
entry per ``torch.nn`` layer type in ``FROM_TORCH``, keyed by class name so importing
``nn`` needs no torch. A torch setting we do not have is a ``TypeError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .conv import AvgPool2d, Conv2d, MaxPool2d
from .layers import (
    ELU,
    GELU,
    Dropout,
    Embedding,
    Flatten,
    LeakyReLU,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
)
from .module import Module
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm


def convert_from_torch(module: Any, path: str) -> Module:
    import torch

    name = type(module).__name__
    convert = FROM_TORCH.get(name)
    builtin = type(module) is getattr(torch.nn, name, None)
    if convert is None or not builtin:
        where = f" at {path.rstrip('.')!r}" if path else ""
        full = f"torch.nn.{name}" if builtin else f"{type(module).__module__}.{name}"
        raise TypeError(
            f"from_torch: {full}{where} is not supported; "
            f"supported: torch.nn.{', torch.nn.'.join(FROM_TORCH)}"
        )
    model = convert(module, path)
    model.train(module.training)
    return model


def _linear_from_torch(module: Any, path: str) -> Linear:
    import torch

    if module.weight.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"from_torch: Linear {path.rstrip('.')!r} holds {module.weight.dtype}; "
            "convert it to float32 or float64 first"
        )
    weight = module.weight.detach().cpu().numpy()
    bias = module.bias is not None
    layer = Linear(module.in_features, module.out_features, bias, rng=0, dtype=weight.dtype)
    layer.W.data[...] = weight.T
    if bias:
        layer.b.data[...] = module.bias.detach().cpu().numpy()
    return layer


def _sequential_from_torch(module: Any, path: str) -> Sequential:
    children = module.named_children()
    return Sequential(*(convert_from_torch(child, f"{path}{name}.") for name, child in children))


def _refuse(module: Any, path: str, **settings: Any) -> None:
    """A TypeError naming the first setting of ``module`` that differs from what we
    support (``settings``: attribute -> the value we need)."""
    for attr, needed in settings.items():
        value = getattr(module, attr)
        if value != needed:
            where = f" at {path.rstrip('.')!r}" if path else ""
            raise TypeError(
                f"from_torch: torch.nn.{type(module).__name__}{where} has {attr}={value!r}; "
                f"only {attr}={needed!r} is supported"
            )


def _array(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _load(model: Module, module: Any, names: dict[str, str]) -> Module:
    """Copy torch's ``names`` (torch name -> ours) into ``model``, checked as any state."""
    state = model.state_dict()
    torch_state = module.state_dict()
    state.update({ours: _array(torch_state[theirs]) for theirs, ours in names.items()})
    model.load_state_dict(state)
    return model


def _conv2d_from_torch(module: Any, path: str) -> Conv2d:
    _refuse(module, path, padding_mode="zeros")
    dtype = _array(module.weight).dtype
    if dtype not in (np.float32, np.float64):
        raise TypeError(
            f"from_torch: Conv2d {path.rstrip('.')!r} holds {module.weight.dtype}; "
            "convert it to float32 or float64 first"
        )
    padding = module.padding
    if isinstance(padding, str):  # "valid", or "same" (symmetric for odd spans only)
        spans = [d * (k - 1) for d, k in zip(module.dilation, module.kernel_size)]
        if padding == "same" and any(s % 2 for s in spans):
            _refuse(module, path, padding="an even total padding")
        padding = [s // 2 if padding == "same" else 0 for s in spans]
    layer = Conv2d(
        module.in_channels,
        module.out_channels,
        module.kernel_size,
        module.stride,
        padding,
        module.dilation,
        module.groups,
        bias=module.bias is not None,
        rng=0,
        dtype=dtype,
    )
    names = {"weight": "weight", "bias": "b"} if module.bias is not None else {"weight": "weight"}
    return _load(layer, module, names)


def _max_pool2d_from_torch(module: Any, path: str) -> MaxPool2d:
    _refuse(module, path, ceil_mode=False, return_indices=False)
    return MaxPool2d(module.kernel_size, module.stride, module.padding, module.dilation)


def _avg_pool2d_from_torch(module: Any, path: str) -> AvgPool2d:
    _refuse(module, path, ceil_mode=False, divisor_override=None)
    return AvgPool2d(module.kernel_size, module.stride, module.padding, module.count_include_pad)


def _flatten_from_torch(module: Any, path: str) -> Flatten:
    _refuse(module, path, start_dim=1, end_dim=-1)
    return Flatten()


def _layer_norm_from_torch(module: Any, path: str) -> LayerNorm:
    affine = module.elementwise_affine
    if affine and module.bias is None:
        where = f" at {path.rstrip('.')!r}" if path else ""
        raise TypeError(f"from_torch: torch.nn.LayerNorm{where} has bias=False; ours has one")
    norm = LayerNorm(module.normalized_shape, module.eps, affine)
    return _load(norm, module, {"weight": "weight", "bias": "b"} if affine else {})


def _batch_norm_from_torch(module: Any, path: str) -> Module:
    _refuse(module, path, track_running_stats=True)
    if module.momentum is None:
        _refuse(module, path, momentum="a number")
    kind = {"BatchNorm1d": BatchNorm1d, "BatchNorm2d": BatchNorm2d}[type(module).__name__]
    norm = kind(module.num_features, module.eps, module.momentum, module.affine)
    names = {"weight": "weight", "bias": "b"} if module.affine else {}
    return _load(
        norm, module, {**names, "running_mean": "running_mean", "running_var": "running_var"}
    )


def _embedding_from_torch(module: Any, path: str) -> Embedding:
    _refuse(module, path, padding_idx=None, max_norm=None, scale_grad_by_freq=False)
    table = Embedding(module.num_embeddings, module.embedding_dim, rng=0)
    return _load(table, module, {"weight": "weight"})


def _softplus_from_torch(module: Any, path: str) -> Softplus:
    _refuse(module, path, beta=1.0)
    if module.threshold < 20:  # torch is linear above the threshold; ours is exact
        _refuse(module, path, threshold=20)
    return Softplus()


# One entry per torch.nn layer type (by class name, so importing nn needs no torch).
FROM_TORCH: dict[str, Callable[[Any, str], Module]] = {
    "Linear": _linear_from_torch,
    "Sequential": _sequential_from_torch,
    "Conv2d": _conv2d_from_torch,
    "MaxPool2d": _max_pool2d_from_torch,
    "AvgPool2d": _avg_pool2d_from_torch,
    "Flatten": _flatten_from_torch,
    "LayerNorm": _layer_norm_from_torch,
    "BatchNorm1d": _batch_norm_from_torch,
    "BatchNorm2d": _batch_norm_from_torch,
    "Embedding": _embedding_from_torch,
    "Tanh": lambda m, path: Tanh(),
    "ReLU": lambda m, path: ReLU(),
    "Sigmoid": lambda m, path: Sigmoid(),
    "LeakyReLU": lambda m, path: LeakyReLU(m.negative_slope),
    "GELU": lambda m, path: GELU(m.approximate),
    "SiLU": lambda m, path: SiLU(),
    "Softplus": _softplus_from_torch,
    "ELU": lambda m, path: ELU(m.alpha),
    "Dropout": lambda m, path: Dropout(m.p),
}
