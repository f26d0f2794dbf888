"""A bridge to PyTorch: ``to_torch`` and ``from_torch`` build the other library's model
with the same numbers (needs the ``torch`` extra).

Each supported layer type is one entry in ``TO_TORCH`` (ours -> torch) and one in
``FROM_TORCH`` (torch -> ours). A ``to_torch`` entry returns the torch module and its
*links*: for each torch parameter, how to read it from our parameters (``W`` is stored
(nin, nout), torch's ``weight`` (nout, nin); a scalar-mode layer gathers its neurons).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .layers import MLP, Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh
from .module import Module

Getter = Callable[[str], np.ndarray]
Link = tuple[str, Callable[[Getter], np.ndarray]]  # torch name, reader of our parameters


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
        params = dict(module.named_parameters())
        for name, read in links:
            params[name].copy_(torch.from_numpy(np.ascontiguousarray(read(ours.__getitem__))))
    module.train(model.training)
    module.register_load_state_dict_pre_hook(_accept_our_names(links, list(ours)))
    return module


def from_torch(module: Any) -> Module:
    """Our model for a ``torch.nn.Module`` made of supported layers (``Linear``,
    ``Sequential``, ``Tanh``, ``ReLU``, ``Sigmoid``, ``Dropout``), with its numbers.
    Any other layer is a ``TypeError`` naming it.

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


# One entry per layer type; conv, pool and norm layers add theirs here when they exist.
TO_TORCH: dict[type, Callable[[Any, str], tuple[Any, list[Link]]]] = {
    MLP: _mlp_to_torch,
    Linear: _linear_to_torch,
    Sequential: _sequential_to_torch,
    Tanh: _activation_to_torch,
    ReLU: _activation_to_torch,
    Sigmoid: _activation_to_torch,
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
            state_dict[prefix + tname] = torch.from_numpy(np.ascontiguousarray(read(get)))

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


# One entry per torch.nn layer type (by class name, so importing nn needs no torch);
# conv, pool and norm layers add theirs here when they exist.
FROM_TORCH: dict[str, Callable[[Any, str], Module]] = {
    "Linear": _linear_from_torch,
    "Sequential": _sequential_from_torch,
    "Tanh": lambda m, path: Tanh(),
    "ReLU": lambda m, path: ReLU(),
    "Sigmoid": lambda m, path: Sigmoid(),
    "Dropout": lambda m, path: Dropout(m.p),
}
