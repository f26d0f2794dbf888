"""The torch -> ours half of the PyTorch bridge (``from_torch`` in ``nn.interop``): one
entry per ``torch.nn`` layer type in ``FROM_TORCH``, keyed by class name so importing
``nn`` needs no torch. A torch setting we do not have is a ``TypeError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .activations import MODULES, REGISTRY, ActivationFunction, TorchLayer
from .conv import AvgPool2d, Conv1d, Conv2d, ConvTranspose2d, MaxPool2d
from .layers import Dropout, Embedding, Flatten, Linear, Sequential
from .model_config import MAX_DEPTH, check_transpose_window, check_window
from .module import Module
from .norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm

M = TypeVar("M", bound=Module)


def convert_from_torch(module: Any, path: str, done: dict[int, Module]) -> Module:
    """Our module for torch's ``module`` found at ``path`` (``"0.2."``); ``done`` maps the
    torch modules converted so far to ours, so a layer used twice stays one layer."""
    import torch

    if id(module) in done:
        return done[id(module)]
    if path.count(".") > MAX_DEPTH:  # (torch forbids dots in module names)
        raise ValueError(
            f"from_torch: containers nest deeper than {MAX_DEPTH} levels "
            f"(at {path[: 2 * MAX_DEPTH].rstrip('.')!r}...)"
        )
    name = type(module).__name__
    builtin = type(module) is getattr(torch.nn, name, None)
    if builtin and name in CONTAINERS:
        # _modules, not named_children(): that lists a child held twice only once
        children = module._modules.items()
        model = CONTAINERS[name](
            *(convert_from_torch(child, f"{path}{key}.", done) for key, child in children)
        )
    elif name in FROM_TORCH and builtin:
        model = FROM_TORCH[name](module, path)
    else:
        full = f"torch.nn.{name}" if builtin else f"{type(module).__module__}.{name}"
        raise TypeError(
            f"from_torch: {full}{_where(path)} is not supported; "
            f"supported: torch.nn.{', torch.nn.'.join([*FROM_TORCH, *CONTAINERS])}"
        )
    model.train(module.training)
    done[id(module)] = model
    return model


def _where(path: str) -> str:
    return f" at {path.rstrip('.')!r}" if path else ""


def _refuse_shapes(module: Any, path: str, settings: tuple[str, ...], **shapes: tuple) -> None:
    """A ValueError when a tensor of ``module`` (attribute name -> the shape its
    ``settings`` make) has another shape: checked before a layer of that size is built,
    as torch computes with the tensors, whatever the settings say."""
    for attr, shape in shapes.items():
        tensor = getattr(module, attr, None)
        if tensor is not None and tuple(tensor.shape) != shape:
            told = ", ".join(f"{s}={getattr(module, s)!r}" for s in settings)
            raise ValueError(
                f"from_torch: torch.nn.{type(module).__name__}{_where(path)} has {told} "
                f"but a {attr} of shape {tuple(tensor.shape)}"
            )


def _linear_from_torch(module: Any, path: str) -> Linear:
    import torch

    if module.weight.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"from_torch: Linear {path.rstrip('.')!r} holds {module.weight.dtype}; "
            "convert it to float32 or float64 first"
        )
    nout, nin = shape = (module.out_features, module.in_features)
    _refuse_shapes(module, path, ("in_features", "out_features"), weight=shape, bias=(nout,))
    bias = module.bias is not None
    layer = Linear(nin, nout, bias, rng=0, dtype=_array(module.weight).dtype)
    state = {"W": _array(module.weight).T, **({"b": _array(module.bias)} if bias else {})}
    return _checked_load(layer, module, path, state)


def _refuse(module: Any, path: str, **settings: Any) -> None:
    """A TypeError naming the first setting of ``module`` that differs from what we
    support (``settings``: attribute -> the value we need)."""
    for attr, needed in settings.items():
        value = getattr(module, attr)
        if value != needed:
            raise TypeError(
                f"from_torch: torch.nn.{type(module).__name__}{_where(path)} has {attr}={value!r}; "
                f"only {attr}={needed!r} is supported"
            )


def _array(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _load(model: M, module: Any, path: str, names: dict[str, str]) -> M:
    """Copy torch's ``names`` (torch name -> ours) into ``model``, checked as any state."""
    torch_state = module.state_dict()
    state = {ours: _array(torch_state[theirs]) for theirs, ours in names.items()}
    return _checked_load(model, module, path, state)


def _checked_load(model: M, module: Any, path: str, numbers: dict) -> M:
    """``model.load_state_dict`` of its state with ``numbers`` in it; what it refuses
    (NaN, infinity, a wrong shape) is one line naming the torch layer."""
    state = model.state_dict()
    state.update(numbers)
    try:
        model.load_state_dict(state)
    except ValueError as err:
        where = f"torch.nn.{type(module).__name__}{_where(path)}"
        raise ValueError(
            f"from_torch: {where}: {str(err).removeprefix('load_state_dict: ')}"
        ) from None
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
    settings = ("in_channels", "out_channels", "kernel_size", "groups")
    cin, cout, groups = module.in_channels, module.out_channels, module.groups
    shape = (cout, cin // groups if groups else None, *module.kernel_size)
    _refuse_shapes(module, path, settings, weight=shape, bias=(cout,))
    geometry = {
        "kernel_size": module.kernel_size,
        "stride": module.stride,
        "padding": padding,
        "dilation": module.dilation,
    }
    check_window(geometry, f"from_torch: torch.nn.Conv2d{_where(path)}", cin)
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
    return _load(layer, module, path, names)


def _max_pool2d_from_torch(module: Any, path: str) -> MaxPool2d:
    _refuse(module, path, return_indices=False)
    _check_pool(module, path, dilation=module.dilation)
    return MaxPool2d(
        module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode
    )


def _avg_pool2d_from_torch(module: Any, path: str) -> AvgPool2d:
    _refuse(module, path, divisor_override=None)
    _check_pool(module, path)
    return AvgPool2d(
        module.kernel_size,
        module.stride,
        module.padding,
        module.count_include_pad,
        module.ceil_mode,
    )


def _check_pool(module: Any, path: str, **extra: Any) -> None:
    geometry = {"kernel_size": module.kernel_size, "stride": module.stride, **extra}
    name = f"from_torch: torch.nn.{type(module).__name__}{_where(path)}"
    check_window({**geometry, "padding": module.padding}, name, 1, pool=True)


def _float_dtype(module: Any, path: str) -> np.dtype:
    """The dtype of a layer's weight, float32 or float64, else a TypeError naming it."""
    dtype = _array(module.weight).dtype
    if dtype not in (np.float32, np.float64):
        raise TypeError(
            f"from_torch: torch.nn.{type(module).__name__}{_where(path)} holds "
            f"{module.weight.dtype}; convert it to float32 or float64 first"
        )
    return dtype


def _conv1d_from_torch(module: Any, path: str) -> Conv1d:
    _refuse(module, path, padding_mode="zeros")
    dtype = _float_dtype(module, path)
    (k,), (stride,), (dilation,) = module.kernel_size, module.stride, module.dilation
    padding = module.padding
    if isinstance(padding, str):  # "valid", or "same" (symmetric for an even span only)
        if padding == "same" and dilation * (k - 1) % 2:
            _refuse(module, path, padding="an even total padding")
        padding = dilation * (k - 1) // 2 if padding == "same" else 0
    else:
        (padding,) = padding
    cin, cout, groups = module.in_channels, module.out_channels, module.groups
    settings = ("in_channels", "out_channels", "kernel_size", "groups")
    shape = (cout, cin // groups if groups else None, k)
    _refuse_shapes(module, path, settings, weight=shape, bias=(cout,))
    window = {"kernel_size": [1, k], "stride": [1, stride], "padding": [0, padding]}
    check_window(
        {**window, "dilation": [1, dilation]}, f"from_torch: torch.nn.Conv1d{_where(path)}", cin
    )
    bias = module.bias is not None
    layer = Conv1d(cin, cout, k, stride, padding, dilation, groups, bias, rng=0, dtype=dtype)
    return _load(layer, module, path, {"weight": "weight", **({"bias": "b"} if bias else {})})


def _conv_transpose2d_from_torch(module: Any, path: str) -> ConvTranspose2d:
    _refuse(module, path, padding_mode="zeros")
    dtype = _float_dtype(module, path)
    if any(extra >= s for extra, s in zip(module.output_padding, module.stride)):
        _refuse(module, path, output_padding="below the stride")
    cin, cout, groups = module.in_channels, module.out_channels, module.groups
    settings = ("in_channels", "out_channels", "kernel_size", "groups")
    shape = (cin, cout // groups if groups else None, *module.kernel_size)
    _refuse_shapes(module, path, settings, weight=shape, bias=(cout,))
    geometry = {
        "kernel_size": module.kernel_size,
        "stride": module.stride,
        "padding": module.padding,
        "output_padding": module.output_padding,
        "dilation": module.dilation,
    }
    check_transpose_window(geometry, f"from_torch: torch.nn.ConvTranspose2d{_where(path)}", cout)
    bias = module.bias is not None
    layer = ConvTranspose2d(cin, cout, **geometry, groups=groups, bias=bias, rng=0, dtype=dtype)
    return _load(layer, module, path, {"weight": "weight", **({"bias": "b"} if bias else {})})


def _group_norm_from_torch(module: Any, path: str) -> GroupNorm:
    if module.affine and module.bias is None:
        raise TypeError(
            f"from_torch: torch.nn.GroupNorm{_where(path)} has bias=False; ours has one"
        )
    n = (module.num_channels,)
    _refuse_shapes(module, path, ("num_channels",), weight=n, bias=n)
    norm = GroupNorm(module.num_groups, module.num_channels, module.eps, module.affine)
    return _load(norm, module, path, {"weight": "weight", "bias": "b"} if module.affine else {})


def _flatten_from_torch(module: Any, path: str) -> Flatten:
    _refuse(module, path, start_dim=1, end_dim=-1)
    return Flatten()


def _layer_norm_from_torch(module: Any, path: str) -> LayerNorm:
    affine = module.elementwise_affine
    if affine and module.bias is None:
        raise TypeError(
            f"from_torch: torch.nn.LayerNorm{_where(path)} has bias=False; ours has one"
        )
    shape = tuple(module.normalized_shape)
    _refuse_shapes(module, path, ("normalized_shape",), weight=shape, bias=shape)
    norm = LayerNorm(module.normalized_shape, module.eps, affine)
    return _load(norm, module, path, {"weight": "weight", "bias": "b"} if affine else {})


def _batch_norm_from_torch(module: Any, path: str) -> Module:
    _refuse(module, path, track_running_stats=True)
    if module.momentum is None:
        _refuse(module, path, momentum="a number")
    kind = {"BatchNorm1d": BatchNorm1d, "BatchNorm2d": BatchNorm2d}[type(module).__name__]
    n = (module.num_features,)
    _refuse_shapes(module, path, ("num_features",), weight=n, bias=n, running_mean=n, running_var=n)
    norm = kind(module.num_features, module.eps, module.momentum, module.affine)
    names = {"weight": "weight", "bias": "b"} if module.affine else {}
    statistics = {"running_mean": "running_mean", "running_var": "running_var"}
    return _load(norm, module, path, {**names, **statistics})


def _embedding_from_torch(module: Any, path: str) -> Embedding:
    _refuse(module, path, padding_idx=None, max_norm=None, scale_grad_by_freq=False)
    shape = (module.num_embeddings, module.embedding_dim)
    _refuse_shapes(module, path, ("num_embeddings", "embedding_dim"), weight=shape)
    table = Embedding(module.num_embeddings, module.embedding_dim, rng=0)
    return _load(table, module, path, {"weight": "weight"})


def _activation_from_torch(function: ActivationFunction) -> Callable[[Any, str], Module]:
    """The entry for an activation's torch layer (its registry line, ``nn.activations``):
    the settings it needs checked, our arguments read from torch's."""
    layer, kind = function.torch, MODULES[function.name]
    assert isinstance(layer, TorchLayer)

    def convert(module: Any, path: str) -> Module:
        for attr, needed in layer.needs.items():
            value = getattr(module, attr)
            if not (needed(value) if callable(needed) else value == needed):
                raise TypeError(
                    f"from_torch: torch.nn.{layer.name}{_where(path)} has {attr}={value!r}; "
                    f"only {attr}={needed!r} is supported"
                )
        return kind(**{ours: getattr(module, theirs) for theirs, ours in layer.args.items()})

    return convert


# One entry per torch.nn layer type (by class name, so importing nn needs no torch).
FROM_TORCH: dict[str, Callable[[Any, str], Module]] = {
    "Linear": _linear_from_torch,
    "Conv2d": _conv2d_from_torch,
    "MaxPool2d": _max_pool2d_from_torch,
    "AvgPool2d": _avg_pool2d_from_torch,
    "Flatten": _flatten_from_torch,
    "LayerNorm": _layer_norm_from_torch,
    "BatchNorm1d": _batch_norm_from_torch,
    "BatchNorm2d": _batch_norm_from_torch,
    "Embedding": _embedding_from_torch,
    "Dropout": lambda m, path: Dropout(m.p),
    "Conv1d": _conv1d_from_torch,
    "ConvTranspose2d": _conv_transpose2d_from_torch,
    "GroupNorm": _group_norm_from_torch,
    **{  # each activation's registry line names its torch layer
        f.torch.name: _activation_from_torch(f)
        for f in REGISTRY.values()
        if isinstance(f.torch, TorchLayer) and f.name in MODULES
    },
}

# torch.nn containers: ours is built from their children, each converted in turn.
CONTAINERS: dict[str, Callable[..., Module]] = {"Sequential": Sequential}
