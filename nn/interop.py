"""A bridge to PyTorch: ``to_torch`` and ``from_torch`` build the other library's model
with the same numbers (needs the ``torch`` extra).

Each supported layer type is one entry in ``TO_TORCH`` (ours -> torch) and one in
``FROM_TORCH`` (torch -> ours). A ``to_torch`` entry returns the torch module and its
*links*: for each torch parameter or buffer, how to read it from our state dict (``W``
is stored (nin, nout), torch's ``weight`` (nout, nin); a scalar-mode layer gathers its
neurons; BatchNorm's running statistics are buffers on both sides).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .conv import AvgPool2d, Conv2d, MaxPool2d
from .layers import (
    ELU,
    GELU,
    MLP,
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

Getter = Callable[[str], np.ndarray]
Link = tuple[str, Callable[[Getter], np.ndarray]]  # torch name, reader of our state dict


def to_torch(model: Module) -> Any:
    """A ``torch.nn.Module`` that computes what ``model`` computes, with its numbers
    (float64 unless the model is float32) and its train/eval mode.

    The result's ``load_state_dict`` also accepts our parameter names and layouts, so a
    file written by ``model.save("m.safetensors")`` loads with ``safetensors.torch``.

    (torch is an optional extra, so this example is run by tests/test_interop.py instead)

    >>> from nn import MLP
    >>> to_torch(MLP(2, [4, 1], rng=0))  # doctest: +SKIP
    Sequential(
      (0): Linear(in_features=2, out_features=4, bias=True)
      (1): Tanh()
      (2): Linear(in_features=4, out_features=1, bias=True)
    )
    """
    import torch

    module, links = _to_torch(model, "")
    ours = model.state_dict()
    with torch.no_grad():
        params = {**dict(module.named_parameters()), **dict(module.named_buffers())}
        for name, read in links:
            params[name].copy_(torch.from_numpy(np.array(read(ours.__getitem__), order="C")))
    module.train(model.training)
    module.register_load_state_dict_pre_hook(_accept_our_names(links, list(ours)))
    return module


def from_torch(module: Any) -> Module:
    """Our model for a ``torch.nn.Module`` made of supported layers (the keys of
    ``FROM_TORCH``: ``Linear``, ``Conv2d``, pools, norms, ``Embedding``, activations,
    ``Sequential``, ...), with its numbers, running statistics and train/eval mode.
    Any other layer, or a supported one with a setting we do not have (``ceil_mode``,
    ``padding_idx``, ...), is a ``TypeError`` naming it.

    >>> import torch  # doctest: +SKIP
    >>> from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()))  # doctest: +SKIP
    Sequential()
    """
    return _from_torch(module, "")


# ------------------------------------------------------------------ ours -> torch
def _to_torch(model: Module, path: str) -> tuple[Any, list[Link]]:
    convert = TO_TORCH.get(type(model))
    if convert is None:
        where = f" at {path.rstrip('.')!r}" if path else ""
        raise TypeError(
            f"to_torch: {type(model).__name__}{where} has no PyTorch counterpart here; "
            f"supported: {', '.join(k.__name__ for k in TO_TORCH)}"
        )
    return convert(model, path)


def _linear_to_torch(model: Linear, path: str) -> tuple[Any, list[Link]]:
    import torch

    layer = torch.nn.Linear(
        model.nin, model.nout, bias=model.b is not None, dtype=_dtype(model.dtype)
    )
    links: list[Link] = [("weight", lambda get: get("W").T)]
    if model.b is not None:
        links.append(("bias", lambda get: get("b")))
    return layer, links


def _mlp_to_torch(model: MLP, path: str) -> tuple[Any, list[Link]]:
    import torch

    parts: list[Any] = []
    links: list[Link] = []
    sizes = [model.nin] + model.nouts
    for i, act in enumerate(model.activations):
        k = len(parts)
        parts.append(torch.nn.Linear(sizes[i], sizes[i + 1], dtype=_dtype(model.dtype)))
        if model.vectorized:
            links.append((f"{k}.weight", lambda get, i=i: get(f"layers.{i}.W").T))
            links.append((f"{k}.bias", lambda get, i=i: get(f"layers.{i}.b")))
        else:  # every weight is its own scalar: gather them into torch's (nout, nin)
            nin, nout = sizes[i], sizes[i + 1]
            links.append(
                (
                    f"{k}.weight",
                    lambda get, i=i, nin=nin, nout=nout: np.array(
                        [
                            [get(f"layers.{i}.neurons.{j}.w.{m}") for m in range(nin)]
                            for j in range(nout)
                        ]
                    ),
                )
            )
            links.append(
                (
                    f"{k}.bias",
                    lambda get, i=i, nout=nout: np.array(
                        [get(f"layers.{i}.neurons.{j}.b") for j in range(nout)]
                    ),
                )
            )
        if act != "linear":
            parts.append(_to_torch(_activation_module(act, path), path)[0])
    return torch.nn.Sequential(*parts), links


def _sequential_to_torch(model: Sequential, path: str) -> tuple[Any, list[Link]]:
    import torch

    parts, links = [], []
    for k, (name, child) in enumerate(model.named_children()):
        part, child_links = _to_torch(child, f"{path}{name}.")
        parts.append(part)
        for tname, read in child_links:
            links.append((f"{k}.{tname}", lambda get, read=read, p=name: read(_prefixed(get, p))))
    return torch.nn.Sequential(*parts), links


def _prefixed(get: Getter, prefix: str) -> Getter:
    return lambda name: get(f"{prefix}.{name}")


def _activation_to_torch(model: Module, path: str) -> tuple[Any, list[Link]]:
    import torch

    return getattr(torch.nn, type(model).__name__)(), []  # torch.nn.Tanh for our Tanh, ...


def _activation_module(name: str, path: str) -> Module:
    """Our activation layer called ``name`` (an MLP names its activations)."""
    for kind in TO_TORCH:
        if getattr(kind, "name", None) == name:
            return kind()
    where = f" in {path.rstrip('.')!r}" if path else ""
    raise TypeError(f"to_torch: activation {name!r}{where} has no PyTorch counterpart here")


def _dropout_to_torch(model: Dropout, path: str) -> tuple[Any, list[Link]]:
    import torch

    return torch.nn.Dropout(model.p), []


def _same(*names: str) -> list[Link]:
    """Links for state entries torch names as we do (``b`` is torch's ``bias``)."""
    return [(n if n != "b" else "bias", lambda get, n=n: get(n)) for n in names]


def _conv2d_to_torch(model: Conv2d, path: str) -> tuple[Any, list[Link]]:
    import torch

    layer = torch.nn.Conv2d(
        model.in_channels,
        model.out_channels,
        model.kernel_size,
        model.stride,
        model.padding,
        model.dilation,
        model.groups,
        bias=model.b is not None,
        dtype=_dtype(model.dtype),
    )
    return layer, _same("weight", *(["b"] if model.b is not None else []))


def _max_pool2d_to_torch(model: MaxPool2d, path: str) -> tuple[Any, list[Link]]:
    import torch

    pool = torch.nn.MaxPool2d(model.kernel_size, model.stride, model.padding, model.dilation)
    return pool, []


def _avg_pool2d_to_torch(model: AvgPool2d, path: str) -> tuple[Any, list[Link]]:
    import torch

    pool = torch.nn.AvgPool2d(
        model.kernel_size, model.stride, model.padding, count_include_pad=model.count_include_pad
    )
    return pool, []


def _layer_norm_to_torch(model: LayerNorm, path: str) -> tuple[Any, list[Link]]:
    import torch

    affine = model.weight is not None
    norm = torch.nn.LayerNorm(
        model.normalized_shape, model.eps, elementwise_affine=affine, dtype=torch.float64
    )
    return norm, _same("weight", "b") if affine else []


def _batch_norm_to_torch(model: BatchNorm1d | BatchNorm2d, path: str) -> tuple[Any, list[Link]]:
    import torch

    affine = model.weight is not None
    norm = getattr(torch.nn, type(model).__name__)(
        model.num_features, model.eps, model.momentum, affine, dtype=torch.float64
    )
    # torch counts batches only to average them when momentum is None, which we lack.
    count: Link = ("num_batches_tracked", lambda get: np.array(0, np.int64))
    names = ["weight", "b"] if affine else []
    return norm, [*_same(*names, "running_mean", "running_var"), count]


def _embedding_to_torch(model: Embedding, path: str) -> tuple[Any, list[Link]]:
    import torch

    table = torch.nn.Embedding(model.num_embeddings, model.embedding_dim, dtype=torch.float64)
    return table, _same("weight")


def _torch_layer(kind: str, **args: Any) -> Callable[[Any, str], tuple[Any, list[Link]]]:
    """An entry for a layer without numbers: torch.nn.<kind>, its arguments read from ours."""

    def convert(model: Module, path: str) -> tuple[Any, list[Link]]:
        import torch

        values = {key: getattr(model, attr) for key, attr in args.items()}
        return getattr(torch.nn, kind)(**values), []

    return convert


# One entry per layer type.
TO_TORCH: dict[type, Callable[[Any, str], tuple[Any, list[Link]]]] = {
    MLP: _mlp_to_torch,
    Linear: _linear_to_torch,
    Sequential: _sequential_to_torch,
    Conv2d: _conv2d_to_torch,
    MaxPool2d: _max_pool2d_to_torch,
    AvgPool2d: _avg_pool2d_to_torch,
    Flatten: _torch_layer("Flatten"),
    LayerNorm: _layer_norm_to_torch,
    BatchNorm1d: _batch_norm_to_torch,
    BatchNorm2d: _batch_norm_to_torch,
    Embedding: _embedding_to_torch,
    Tanh: _activation_to_torch,
    ReLU: _activation_to_torch,
    Sigmoid: _activation_to_torch,
    LeakyReLU: _torch_layer("LeakyReLU", negative_slope="slope"),
    GELU: _torch_layer("GELU", approximate="approximate"),
    SiLU: _activation_to_torch,
    Softplus: _activation_to_torch,  # torch's threshold=20 differs from ours below 3e-9
    ELU: _torch_layer("ELU", alpha="alpha"),
    Dropout: _dropout_to_torch,
}


def _accept_our_names(links: list[Link], ours: list[str]) -> Callable:
    """A load_state_dict pre-hook: a state dict with our names (a safetensors file
    written by ``save``) is rewritten into torch's names and layouts before loading."""

    def hook(module, state_dict, prefix, *args) -> None:
        import torch

        if not ours or any(prefix + name not in state_dict for name in ours):
            return
        values = {name: state_dict.pop(prefix + name) for name in ours}

        def get(name: str) -> np.ndarray:
            value = values[name]
            return value.detach().cpu().numpy() if torch.is_tensor(value) else np.asarray(value)

        for tname, read in links:
            state_dict[prefix + tname] = torch.from_numpy(np.array(read(get), order="C"))

    return hook


def _dtype(name: str) -> Any:
    import torch

    return {"float64": torch.float64, "float32": torch.float32}[name]


# ------------------------------------------------------------------ torch -> ours
def _from_torch(module: Any, path: str) -> Module:
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
    return Sequential(*(_from_torch(child, f"{path}{name}.") for name, child in children))


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
