"""One name per parameter and node, the same string in every drawing, page, tab, widget,
table and error message.

A parameter's module path is Python's, counted from 0 as ``named_parameters()`` and
torch's ``state_dict`` give it (``layers.0.neurons.1.w.0``); its short name counts from 1
as the articles do: layers ``L1`` (the first layer of weights) to the output layer,
neurons ``n1, n2, ...``, a neuron's weights ``w1, w2, ...`` (``w_j`` multiplies input
``j`` of its layer) and its bias ``b``. ``Module`` labels every parameter with its short
name. The nodes around them are named by the same scheme: a neuron's pre-activation
``L1.n2.z`` and its output ``L1.n2``; the inputs ``x1, x2, ...``; the network's outputs
``out1, out2, ...`` (``out`` when there is one), the targets ``y1, ...`` (``y``), the
errors ``e1`` and their squares ``e1²`` (``e``, ``e²``) and ``loss``.

>>> short_name("layers.0.neurons.1.w.0"), short_name("layers.1.neurons.0.b")
('L1.n2.w1', 'L2.n1.b')
>>> short_name("layers.0.W"), short_name("neurons.1.w.0"), short_name("fc1.W")
('L1.W', 'n2.w1', 'fc1.W')
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "short_name",
    "neuron_name",
    "numbered",
    "input_name",
    "output_name",
    "target_name",
    "error_name",
    "model_names",
]

_LAYER = re.compile(r"(?:(?<=^)|(?<=\.))layers\.(\d+)(?=\.|$)")
_NEURON = re.compile(r"(?:(?<=^)|(?<=\.))neurons\.(\d+)(?=\.|$)")
_WEIGHT = re.compile(r"(?:(?<=^)|(?<=\.))w\.(\d+)$")


def short_name(path: str) -> str:
    """A parameter's short name from its module path (``named_parameters``, 0-based):
    ``layers.i`` becomes ``L{i+1}``, ``neurons.j`` ``n{j+1}`` and a list of scalar
    weights ``w.k`` ``w{k+1}``; every other part is kept (``fc1.W``, ``modules.2.W``).

    >>> short_name("layers.2.neurons.15.w.7"), short_name("encoder.layers.0.W")
    ('L3.n16.w8', 'encoder.L1.W')
    >>> short_name("w.0"), short_name("b")
    ('w1', 'b')
    """
    name = _LAYER.sub(lambda m: f"L{int(m[1]) + 1}", path)
    name = _NEURON.sub(lambda m: f"n{int(m[1]) + 1}", name)
    return _WEIGHT.sub(lambda m: f"w{int(m[1]) + 1}", name)


def neuron_name(layer: int, neuron: int) -> str:
    """Neuron ``neuron`` of layer ``layer``, both counted from 0 as Python's lists are.

    >>> neuron_name(0, 1)
    'L1.n2'
    """
    return f"L{layer + 1}.n{neuron + 1}"


def numbered(stem: str, k: int, count: int) -> str:
    """The ``k``-th (from 0) of ``count`` things called ``stem``: ``out`` alone, else
    ``out1, out2, ...``.

    >>> numbered("out", 0, 1), numbered("out", 1, 2)
    ('out', 'out2')
    """
    return stem if count == 1 else f"{stem}{k + 1}"


def input_name(k: int) -> str:
    """The network's input ``k`` (from 0): ``x1, x2, ...``."""
    return f"x{k + 1}"


def output_name(k: int, count: int) -> str:
    """The network's output ``k`` (from 0) of ``count``: ``out`` or ``out1, out2, ...``."""
    return numbered("out", k, count)


def target_name(k: int, count: int) -> str:
    """The target of output ``k``: ``y`` or ``y1, y2, ...``."""
    return numbered("y", k, count)


def error_name(k: int, count: int) -> str:
    """The error of output ``k`` (``out - y``): ``e`` or ``e1, e2, ...``; its square
    adds ``²``."""
    return numbered("e", k, count)


def model_names(model: Any, loss: bool = True) -> list[str]:
    """Every name a picture of a scalar MLP and one sample uses, in forward order: the
    inputs, per neuron its weights, bias, pre-activation and output (the output layer's
    outputs are the network's ``out1, ...``), then the targets, errors, squared errors
    and ``loss`` (a mean of the squares when there are several outputs, their sum
    named ``e1² + e2²``).

    >>> from nn import MLP
    >>> model_names(MLP(1, [1], activation="sigmoid", output_activation="sigmoid"))
    ['x1', 'L1.n1.w1', 'L1.n1.b', 'L1.n1.z', 'out', 'y', 'e', 'loss']
    """
    layers = model.layers
    nin = len(layers[0].neurons[0].w)
    acts = getattr(model, "activations", ["linear"] * len(layers))
    names = [input_name(i) for i in range(nin)]
    for li, (layer, act) in enumerate(zip(layers, acts)):
        last = li == len(layers) - 1
        count = len(layer.neurons)
        for j, neuron in enumerate(layer.neurons):
            own = neuron_name(li, j)
            names += [f"{own}.w{i + 1}" for i in range(len(neuron.w))] + [f"{own}.b"]
            out = output_name(j, count) if last else own
            names += [out] if act == "linear" else [f"{own}.z", out]
    if loss:
        count = len(layers[-1].neurons)
        names += [target_name(k, count) for k in range(count)]
        names += [error_name(k, count) for k in range(count)]
        if count > 1:
            squares = [error_name(k, count) + "²" for k in range(count)]
            names += squares + [" + ".join(squares)]
        names.append("loss")
    return names
