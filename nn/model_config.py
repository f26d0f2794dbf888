"""Model descriptions: what rebuilds a model from a file, checked before it is built.

A description is ``{"class": "MLP", "config": {...}}`` (the constructor's arguments), or
for a container built from positional modules (``Sequential``) ``{"class": ...,
"children": [...]}``. Before anything is built, the config is checked against the
constructor's signature and, through a per-class size rule, against the limits and the
tensors the file holds, so a small file cannot ask for a huge model.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import numpy as np

MAX_TENSORS = 10_000
MAX_ELEMENTS = 20_000_000  # 160 MB of float64: far above any model this library trains
MAX_META_BYTES = 2**20  # the description's JSON text
MAX_DEPTH = 32  # nesting of containers


# ------------------------------------------------------------------ size rules
def _whole(config: dict, key: str, default: Any = None) -> int:
    value = config.get(key, default)
    if type(value) is not int or not 1 <= value <= MAX_ELEMENTS:
        raise ValueError(
            f"config argument {key!r} must be a whole number from 1 to {MAX_ELEMENTS:,}, got {value!r}"
        )
    return value


def _mlp_size(c: dict) -> tuple[int, int]:
    nouts = c.get("nouts")
    if not isinstance(nouts, list) or not 1 <= len(nouts) <= MAX_TENSORS:
        raise ValueError(
            f"config argument 'nouts' must be a list of 1 to {MAX_TENSORS} layer sizes"
        )
    sizes = [_whole(c, "nin")] + [_whole({"nouts": n}, "nouts") for n in nouts]
    elements = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    return (2 * len(nouts) if c.get("vectorized") else elements), elements


def _linear_size(c: dict) -> tuple[int, int]:
    nin, nout, bias = _whole(c, "nin"), _whole(c, "nout"), bool(c.get("bias", True))
    return 1 + bias, nin * nout + nout * bias


def _layer_size(c: dict) -> tuple[int, int]:
    n = (_whole(c, "nin") + 1) * _whole(c, "nout")
    return n, n


def _neuron_size(c: dict) -> tuple[int, int]:
    n = _whole(c, "nin") + 1
    return n, n


def _sizes(config: dict, key: str, default: Any = None) -> list[int]:
    """A whole number or a list of them (a kernel size, a normalized shape)."""
    value = config.get(key, default)
    items = value if isinstance(value, list) and 1 <= len(value) <= 8 else [value]
    return [_whole({key: v}, key) for v in items]


def _conv2d_size(c: dict) -> tuple[int, int]:
    cin, cout, groups = _whole(c, "in_channels"), _whole(c, "out_channels"), _whole(c, "groups", 1)
    bias = bool(c.get("bias", True))
    kh, kw = check_window(c, "Conv2d", cin)
    weights = cout * (cin // groups) * kh * kw
    return 1 + bias, weights + cout * bias


def _conv1d_size(c: dict) -> tuple[int, int]:
    cin, cout, groups = _whole(c, "in_channels"), _whole(c, "out_channels"), _whole(c, "groups", 1)
    bias, k = bool(c.get("bias", True)), _whole(c, "kernel_size")
    window = {"kernel_size": [1, k], "padding": [0, c.get("padding", 0)]}
    window.update({key: [1, c.get(key, 1)] for key in ("stride", "dilation")})
    check_window(window, "Conv1d", cin)
    return 1 + bias, cout * (cin // groups) * k + cout * bias


def _conv_transpose2d_size(c: dict) -> tuple[int, int]:
    cin, cout, groups = _whole(c, "in_channels"), _whole(c, "out_channels"), _whole(c, "groups", 1)
    bias = bool(c.get("bias", True))
    kh, kw = check_transpose_window(c, "ConvTranspose2d", cout)
    return 1 + bias, cin * (cout // groups) * kh * kw + cout * bias


def check_transpose_window(config: dict, name: str, channels: int) -> tuple[int, int]:
    """Check a transposed conv's ``kernel_size``, ``stride``, ``padding``,
    ``output_padding`` and ``dilation`` against the weights' limit: the image it makes of
    ``channels`` from a 2 x 2 one (a stride spreads the pixels apart); the kernel size.

    >>> check_transpose_window({"kernel_size": 4, "stride": 2}, "ConvTranspose2d", 8)
    (4, 4)
    """
    try:
        kernel, stride = _pair(config, "kernel_size", None), _pair(config, "stride", 1)
        _pair(config, "padding", 0, low=0)  # checked; it only makes the image smaller
        extra = _pair(config, "output_padding", 0, low=0)
        dilation = _pair(config, "dilation", 1)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    sides = [s + d * (k - 1) + e + 1 for s, d, k, e in zip(stride, dilation, kernel, extra)]
    numbers = channels * sides[0] * sides[1]
    if numbers > MAX_ELEMENTS:
        raise ValueError(
            f"{name} has stride {list(stride)}, kernel {list(kernel)}, dilation "
            f"{list(dilation)} and output_padding {list(extra)}: {numbers:,} numbers from a "
            f"2 x 2 image, more than the limit of {MAX_ELEMENTS:,}"
        )
    return kernel


def _pool_size(name: str) -> Callable[[dict], tuple[int, int]]:
    def size(c: dict) -> tuple[int, int]:
        check_window(c, name, 1, pool=True)
        return 0, 0

    return size


def check_window(config: dict, name: str, channels: int, pool: bool = False) -> tuple[int, int]:
    """Check a conv's or pool's ``kernel_size``, ``stride``, ``padding`` and ``dilation``
    (each a whole number or a pair) against the weights' limit; the kernel size. ``name``
    starts every message (``Conv2d``; ``from_torch: torch.nn.Conv2d at '0'``).

    >>> check_window({"kernel_size": 3, "padding": 1}, "Conv2d", 16)
    (3, 3)
    >>> check_window({"kernel_size": 1, "padding": 3000}, "Conv2d", 3)
    Traceback (most recent call last):
    ...
    ValueError: Conv2d has padding [3000, 3000], kernel [1, 1] and dilation [1, 1]: 108,036,003 numbers from a one-pixel image, more than the limit of 20,000,000
    """
    try:
        kernel = _pair(config, "kernel_size", None)
        if config.get("stride") is None:  # a pool steps by its kernel, a conv by 1
            stride = kernel if pool else (1, 1)
        else:
            stride = _pair(config, "stride", None)
        padding, dilation = _pair(config, "padding", 0, low=0), _pair(config, "dilation", 1)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    numbers = window_numbers(channels, kernel, stride, padding, dilation)
    if numbers > MAX_ELEMENTS:
        raise ValueError(
            f"{name} has padding {list(padding)}, kernel {list(kernel)} and dilation "
            f"{list(dilation)}: {numbers:,} numbers from a one-pixel image, more than the "
            f"limit of {MAX_ELEMENTS:,}"
        )
    return kernel


def _pair(config: dict, key: str, default: Any, low: int = 1) -> tuple[int, int]:
    """A whole number or a pair of them, each from ``low`` to ``MAX_ELEMENTS``."""
    value = config.get(key, default)
    if isinstance(value, tuple):
        value = list(value)
    items = value if isinstance(value, list) and len(value) == 2 else [value, value]
    if not all(type(v) is int and low <= v <= MAX_ELEMENTS for v in items):
        raise ValueError(
            f"{key!r} must be a whole number from {low} to {MAX_ELEMENTS:,} or a pair of "
            f"them, got {str(value)[:100]}"
        )
    return items[0], items[1]


def window_numbers(
    channels: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
) -> int:
    """How many numbers a sliding window's forward pass makes from a one-pixel image
    (``channels`` x 1 x 1): the padded image, or its windows side by side (im2col),
    whichever is more. A conv or pool is held to the weights' limit with it, so a small
    file cannot make a tiny input ask for gigabytes.

    >>> window_numbers(3, (3, 3), (1, 1), (1, 1), (1, 1))  # 3 channels of 3 x 3 windows
    27
    """
    padded = [1 + 2 * p for p in padding]
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    outs = [max(0, (n - span) // s + 1) for n, span, s in zip(padded, spans, stride)]
    return channels * max(padded[0] * padded[1], outs[0] * outs[1] * kernel[0] * kernel[1])


def _layer_norm_size(c: dict) -> tuple[int, int]:
    affine = bool(c.get("elementwise_affine", True))
    return 2 * affine, 2 * affine * int(np.prod(_sizes(c, "normalized_shape"), dtype=object))


def _batch_norm_size(c: dict) -> tuple[int, int]:
    affine = bool(c.get("affine", True))  # weight and b, then the two running statistics
    return 2 * affine + 2, (2 * affine + 2) * _whole(c, "num_features")


def _rms_norm_size(c: dict) -> tuple[int, int]:
    affine = bool(c.get("elementwise_affine", True))
    return int(affine), affine * int(np.prod(_sizes(c, "normalized_shape"), dtype=object))


def _attention_size(c: dict) -> tuple[int, int]:
    return 4, 4 * _whole(c, "n_embd") ** 2


def _group_norm_size(c: dict) -> tuple[int, int]:
    affine, channels = bool(c.get("affine", True)), _whole(c, "num_channels")
    _whole(c, "num_groups")
    return 2 * affine, 2 * affine * channels


def _embedding_size(c: dict) -> tuple[int, int]:
    return 1, _whole(c, "num_embeddings") * _whole(c, "embedding_dim")


def holds_nothing(config: dict) -> tuple[int, int]:
    """The size rule of a layer that holds no tensors (an activation, Dropout)."""
    return 0, 0


# (number of tensors, number of elements) a class's config asks for, computed without
# building it (buffers count as tensors): every layer type of nn has one (an
# activation's is added with its Module class, in nn.activations).
SIZE_RULES: dict[str, Callable[[dict], tuple[int, int]]] = {
    "MLP": _mlp_size,
    "Linear": _linear_size,
    "Layer": _layer_size,
    "Neuron": _neuron_size,
    "Conv2d": _conv2d_size,
    "LayerNorm": _layer_norm_size,
    "BatchNorm1d": _batch_norm_size,
    "BatchNorm2d": _batch_norm_size,
    "Embedding": _embedding_size,
    "RMSNorm": _rms_norm_size,
    "CausalSelfAttention": _attention_size,
    "Dropout": holds_nothing,
    "Flatten": holds_nothing,
    "MaxPool2d": _pool_size("MaxPool2d"),
    "AvgPool2d": _pool_size("AvgPool2d"),
    "Conv1d": _conv1d_size,
    "ConvTranspose2d": _conv_transpose2d_size,
    "GroupNorm": _group_norm_size,
}


def describe(module: Any) -> dict:
    """The JSON-ready description that rebuilds ``module`` (without its numbers).

    >>> from nn import Sequential, Linear, Tanh
    >>> describe(Sequential(Linear(2, 3), Tanh()))["children"][1]
    {'class': 'Tanh', 'config': {}}
    """
    try:
        return {"class": file_name(type(module)), "config": module.config()}
    except NotImplementedError:
        if not _takes_only_modules(type(module)):
            raise
    return {
        "class": file_name(type(module)),
        "children": [describe(c) for _, c in module._children()],  # a layer twice: twice
    }


# ------------------------------------------------------------------ the class names
# Every Module class by the name a model file calls it: ours (the classes of ``nn``) by
# their plain name, always; a user's class by its plain name while no other class holds
# it, else by its module and qualified name (``__main__.Linear``), so that no user's class
# can replace ours for ``Module.load``.
CLASSES: dict[str, type] = {}
_NAMES: dict[type, str] = {}


def file_name(cls: type) -> str:
    """The name a model file gives ``cls``: its plain name for our classes (``Linear``)
    and for a user's class whose name is free, else its full name (``__main__.Linear``).

    >>> from nn import Linear
    >>> file_name(Linear)
    'Linear'
    """
    return _NAMES[cls]


def _ours(cls: type) -> bool:
    return cls.__module__ == "nn" or cls.__module__.startswith("nn.")


def _full_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def register(cls: type) -> None:
    """Add a Module class to ``CLASSES`` (every subclass, as it is made)."""
    name, held = cls.__name__, CLASSES.get(cls.__name__)
    if held is not None and _full_name(held) != _full_name(cls):  # a different class
        if _ours(held) and _ours(cls):
            raise TypeError(f"nn defines two Module classes named {name!r}")
        if not _ours(cls):  # ours keep the name: this one is known by its full name
            name = _full_name(cls)
        else:  # ours came later (a module of nn imported after the user's class)
            CLASSES[_full_name(held)] = held
            _NAMES[held] = _full_name(held)
    CLASSES[name] = cls
    _NAMES[cls] = name


# ------------------------------------------------------------------ the description
def parse_description(text: str) -> dict:
    if len(text) > MAX_META_BYTES:
        raise ValueError(f"its model description is longer than {MAX_META_BYTES:,} characters")
    try:
        description = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"unreadable model description ({err})") from None
    return description


def build_checked(
    description: Any,
    registry: dict[str, type],
    expected: type,
    tensors: dict,
    exact: bool,
    declared: int = 0,
) -> Any:
    """Check the description against the limits and the file's tensors, then build it.

    ``exact``: the file lists every tensor's shape (safetensors), so the numbers must
    match; otherwise ``declared`` is the archive's declared size in bytes.
    """
    kind = _check(description, registry, 0)
    if not issubclass(kind, expected):
        raise ValueError(f"holds a {kind.__name__}, not a {expected.__name__}")
    n_tensors, n_elements, known = _size(description)
    if n_tensors > MAX_TENSORS or n_elements > MAX_ELEMENTS:
        raise ValueError(
            f"its config asks for {n_tensors:,} tensors of {n_elements:,} numbers in all; "
            f"the limits are {MAX_TENSORS:,} tensors and {MAX_ELEMENTS:,} numbers"
        )
    if n_tensors > len(tensors) or (known and n_tensors != len(tensors)):
        raise ValueError(f"its config needs {n_tensors} tensors, the file holds {len(tensors)}")
    if exact:  # the file's header gives every shape: the numbers must match
        held = sum(int(np.prod(s, dtype=object)) for s in tensors.values())
        if n_elements > held or (known and n_elements != held):
            raise ValueError(f"its config needs {n_elements:,} numbers, the file holds {held:,}")
    elif 4 * n_elements > declared:  # float32 is the smallest a parameter takes
        raise ValueError(f"its config needs {n_elements:,} numbers, more than the file holds")
    try:
        return _build(description, registry)
    except (TypeError, ValueError) as err:
        raise ValueError(f"its config cannot build a model ({err})") from None


def _check(description: Any, registry: dict[str, type], depth: int) -> type:
    if depth > MAX_DEPTH:
        raise ValueError(f"its model description nests deeper than {MAX_DEPTH} levels")
    if not isinstance(description, dict) or not isinstance(description.get("class"), str):
        raise ValueError("its model description has no class name")
    name = description["class"]
    kind = registry.get(name)
    if kind is None:
        raise ValueError(f"unknown model class {name[:100]!r}")
    extra = set(description) - {"class", "config", "children"}
    if extra:
        raise ValueError(f"unexpected entries {sorted(extra)} in the description of {name}")
    if "children" in description:
        children = description["children"]
        if not _takes_only_modules(kind) or not isinstance(children, list):
            raise ValueError(f"{name} is not built from a list of modules")
        for child in children:
            _check(child, registry, depth + 1)
        return kind
    config = description.get("config")
    if not isinstance(config, dict):
        raise ValueError(f"the config of {name} is not an object")
    signature = inspect.signature(kind)  # the constructor's arguments
    accepted = {
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "rng"
    }
    unknown = sorted(set(config) - accepted)
    if unknown:
        raise ValueError(f"{name} has no arguments {unknown}; it takes {sorted(accepted)}")
    defaults = {
        p.name: p.default
        for p in signature.parameters.values()
        if p.default is not inspect.Parameter.empty
    }
    for key, value in config.items():
        items = value if isinstance(value, list) else [value]
        if not all(v is None or isinstance(v, (bool, int, float, str)) for v in items):
            raise ValueError(f"config argument {key!r} of {name} is not a plain value")
        if isinstance(defaults.get(key), bool) and not isinstance(value, bool):
            # "no" or "false" would read as True: a switch must be a real true/false
            raise ValueError(f"config argument {key!r} of {name} must be true or false")
    return kind


def _size(description: dict) -> tuple[int, int, bool]:
    """(tensors, elements, exact) the description asks for. A class with no size rule
    counts as (0, 0) and makes the count inexact (a lower bound); the rest still count."""
    if "children" in description:
        sizes = [_size(c) for c in description["children"]]
        return (
            sum(t for t, _, _ in sizes),
            sum(e for _, e, _ in sizes),
            all(x for _, _, x in sizes),
        )
    rule = SIZE_RULES.get(description["class"])
    if rule is None:
        return 0, 0, False
    return (*rule(description["config"]), True)


def _build(description: dict, registry: dict[str, type]) -> Any:
    kind = registry[description["class"]]
    if "children" in description:
        return kind(*(_build(c, registry) for c in description["children"]))
    return kind(**description["config"])


def _takes_only_modules(kind: type) -> bool:
    params = list(inspect.signature(kind).parameters.values())
    return len(params) == 1 and params[0].kind == params[0].VAR_POSITIONAL
