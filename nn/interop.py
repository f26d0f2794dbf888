"""A bridge to PyTorch: ``to_torch`` and ``from_torch`` build the other library's model
with the same numbers (needs the ``torch`` extra).

Each supported layer type is one entry in ``TO_TORCH`` (ours -> torch, here) and one
in ``FROM_TORCH`` (torch -> ours, in ``nn.torch_import``). A ``to_torch`` entry returns
the torch module and its *links*: for each torch parameter or buffer, how to read it from
our state dict (``W`` is stored (nin, nout), torch's ``weight`` (nout, nin); a
scalar-mode layer gathers its neurons; BatchNorm's running statistics are buffers on
both sides).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd.ops import Without

from .activations import MODULES, Activation, TorchLayer
from .attention import CausalSelfAttention, RMSNorm
from .conv import AvgPool2d, Conv1d, Conv2d, ConvTranspose2d, MaxPool2d
from .layers import MLP, Dropout, Embedding, Flatten, Linear, Sequential
from .module import Module
from .norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .torch_import import FROM_TORCH, convert_from_torch  # noqa: F401  (the other half)

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
    ``FROM_TORCH``: ``Linear``, ``Conv2d``, pools, norms, ``Embedding``, activations;
    and ``Sequential``), with its numbers, running statistics and train/eval mode; a
    layer used twice stays one layer. Any other layer, or a supported one with a setting
    we do not have (``padding_idx``, ``divisor_override``, ...), is a ``TypeError`` naming it.
    Tensors that disagree with their layer's settings, NaN or infinity, containers
    nested deeper than 32 levels and windows past the model files' limits are one
    ``ValueError`` naming the layer, before anything of their size is allocated.

    >>> sorted(FROM_TORCH)[:5]
    ['AvgPool2d', 'BatchNorm1d', 'BatchNorm2d', 'Conv1d', 'Conv2d']
    >>> import torch  # doctest: +SKIP
    >>> from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()))  # doctest: +SKIP
    Sequential()
    """
    return convert_from_torch(module, "", {})


# ------------------------------------------------------------------ ours -> torch
def _to_torch(model: Module, path: str) -> tuple[Any, list[Link]]:
    convert = TO_TORCH.get(type(model))
    if convert is None:
        raise TypeError(
            f"to_torch: {type(model).__name__}{_at(path)} has no PyTorch counterpart here; "
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
            links.append((f"{k}.weight", _read(f"layers.{i}.W", transposed=True)))
            links.append((f"{k}.bias", _read(f"layers.{i}.b")))
        else:  # every weight is its own scalar: gather them into torch's (nout, nin)
            neurons = [f"layers.{i}.neurons.{j}" for j in range(sizes[i + 1])]
            weights = [[f"{n}.w.{m}" for m in range(sizes[i])] for n in neurons]
            links.append((f"{k}.weight", _gathered(weights)))
            links.append((f"{k}.bias", _gathered([f"{n}.b" for n in neurons])))
        if act != "linear":
            if act not in MODULES:
                raise TypeError(f"to_torch: activation {act!r}{_at(path)} has no Module class")
            parts.append(_activation_to_torch(MODULES[act](), path)[0])
    return torch.nn.Sequential(*parts), links


def _sequential_to_torch(model: Sequential, path: str) -> tuple[Any, list[Link]]:
    import torch

    parts, links = [], []
    for k, (name, child) in enumerate(model._children()):  # a layer used twice: two copies
        part, child_links = _to_torch(child, f"{path}{name}.")
        parts.append(part)
        links += [(f"{k}.{tname}", _under(name, read)) for tname, read in child_links]
    return torch.nn.Sequential(*parts), links


def _read(name: str, transposed: bool = False) -> Callable[[Getter], np.ndarray]:
    """A link's reader: our state entry ``name`` (transposed: a (nin, nout) matrix)."""
    return (lambda get: get(name).T) if transposed else (lambda get: get(name))


def _gathered(names: list) -> Callable[[Getter], np.ndarray]:
    """A link's reader: scalar entries gathered into an array (``names``: a list of
    names, or of rows of names)."""
    return lambda get: np.array(
        [[get(n) for n in r] if isinstance(r, list) else get(r) for r in names]
    )


def _under(prefix: str, read: Callable[[Getter], np.ndarray]) -> Callable[[Getter], np.ndarray]:
    """A child's reader, reading the entries under ``prefix``."""
    return lambda get: read(lambda name: get(f"{prefix}.{name}"))


def _activation_to_torch(model: Activation, path: str) -> tuple[Any, list[Link]]:
    """Its registry line's torch.nn layer (``nn.activations``), with our arguments."""
    import torch

    layer = model.function.torch
    if not isinstance(layer, TorchLayer):
        why = f" ({layer.reason})" if isinstance(layer, Without) else ""
        raise TypeError(
            f"to_torch: activation {model.function.name!r}{_at(path)} has no PyTorch "
            f"counterpart{why}"
        )
    args = {theirs: getattr(model, ours) for theirs, ours in layer.args.items()}
    return getattr(torch.nn, layer.name)(**args), []


def _at(path: str) -> str:
    return f" at {path.rstrip('.')!r}" if path else ""


def _dropout_to_torch(model: Dropout, path: str) -> tuple[Any, list[Link]]:
    import torch

    return torch.nn.Dropout(model.p), []


def _same(*names: str) -> list[Link]:
    """Links for state entries torch names as we do (``b`` is torch's ``bias``)."""
    return [(n if n != "b" else "bias", _read(n)) for n in names]


def _conv_to_torch(model: Conv1d | Conv2d | ConvTranspose2d, path: str) -> tuple[Any, list[Link]]:
    import torch

    names = ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation"]
    names += ["groups", "output_padding"] if isinstance(model, ConvTranspose2d) else ["groups"]
    layer = getattr(torch.nn, type(model).__name__)(  # torch.nn.Conv2d for our Conv2d, ...
        **{name: getattr(model, name) for name in names},
        bias=model.b is not None,
        dtype=_dtype(model.dtype),
    )
    return layer, _same("weight", *(["b"] if model.b is not None else []))


def _group_norm_to_torch(model: GroupNorm, path: str) -> tuple[Any, list[Link]]:
    import torch

    affine = model.weight is not None
    norm = torch.nn.GroupNorm(
        model.num_groups, model.num_channels, model.eps, affine, dtype=torch.float64
    )
    return norm, _same("weight", "b") if affine else []


def _max_pool2d_to_torch(model: MaxPool2d, path: str) -> tuple[Any, list[Link]]:
    import torch

    pool = torch.nn.MaxPool2d(
        model.kernel_size, model.stride, model.padding, model.dilation, ceil_mode=model.ceil_mode
    )
    return pool, []


def _avg_pool2d_to_torch(model: AvgPool2d, path: str) -> tuple[Any, list[Link]]:
    import torch

    pool = torch.nn.AvgPool2d(
        model.kernel_size,
        model.stride,
        model.padding,
        model.ceil_mode,
        count_include_pad=model.count_include_pad,
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


def _rms_norm_to_torch(model: RMSNorm, path: str) -> tuple[Any, list[Link]]:
    import torch

    affine = model.weight is not None
    norm = torch.nn.RMSNorm(
        model.normalized_shape, model.eps, elementwise_affine=affine, dtype=torch.float64
    )
    return norm, _same("weight") if affine else []


def _causal_self_attention_to_torch(
    model: CausalSelfAttention, path: str
) -> tuple[Any, list[Link]]:
    import torch

    class CausalSelfAttention(torch.nn.Module):  # torch's attention, told to look back only
        def __init__(self, n_embd: int, n_head: int) -> None:
            super().__init__()
            self.attn = torch.nn.MultiheadAttention(
                n_embd, n_head, bias=False, batch_first=True, dtype=torch.float64
            )

        def forward(self, x: Any) -> Any:
            t = x.shape[-2]
            future = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            return self.attn(x, x, x, attn_mask=future, need_weights=False)[0]

    # torch keeps q, k and v's weights as one (3n, n) matrix, each (nout, nin)
    qkv = lambda get: np.concatenate([get("Wq").T, get("Wk").T, get("Wv").T])
    links: list[Link] = [
        ("attn.in_proj_weight", qkv),
        ("attn.out_proj.weight", lambda get: get("Wo").T),
    ]
    return CausalSelfAttention(model.n_embd, model.n_head), links


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
    Conv2d: _conv_to_torch,
    MaxPool2d: _max_pool2d_to_torch,
    AvgPool2d: _avg_pool2d_to_torch,
    Flatten: _torch_layer("Flatten"),
    LayerNorm: _layer_norm_to_torch,
    BatchNorm1d: _batch_norm_to_torch,
    BatchNorm2d: _batch_norm_to_torch,
    Embedding: _embedding_to_torch,
    RMSNorm: _rms_norm_to_torch,
    CausalSelfAttention: _causal_self_attention_to_torch,
    Dropout: _dropout_to_torch,
    Conv1d: _conv_to_torch,
    ConvTranspose2d: _conv_to_torch,
    GroupNorm: _group_norm_to_torch,
    **{kind: _activation_to_torch for kind in MODULES.values()},  # the registry's torch=
}


def _accept_our_names(links: list[Link], ours: list[str]) -> Callable:
    """A load_state_dict pre-hook: a state dict with our names (a safetensors file
    written by ``save``) is rewritten into torch's names and layouts before loading."""

    def hook(module: Any, state_dict: dict, prefix: str, *args: Any) -> None:
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
