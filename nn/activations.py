"""The one registry of activation functions: name -> the engine's method, its display
name and formula, and its curve and derivative computed by the engine itself.

``nn`` layers, the classroom's formula grammar, ``viz.plots`` and the pages all read this
table, so an activation added here (one entry, plus its ``Value`` method) is known
everywhere, and every derivative comes from the engine's own vjp.

>>> ACTIVATIONS
('tanh', 'relu', 'sigmoid', 'leaky_relu', 'linear', 'gelu', 'silu', 'softplus', 'elu')
>>> REGISTRY["sigmoid"](Value(0.0)).data
0.5
>>> REGISTRY["relu"].curve([-1.0, 2.0])
(array([0., 2.]), array([0., 1.]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd import Value


@dataclass(frozen=True)
class Activation:
    """One activation: ``apply`` maps a Value to a Value (elementwise, recorded)."""

    name: str
    apply: Callable[..., Value]
    display: str  # for titles and legends
    formula: str  # y as a function of x, for pictures
    parameter: str | None = None  # an optional number after x (leaky_relu's slope)
    # Variance gain for initialization: weights drawn with variance gain / fan_in keep
    # activations the same size layer after layer (2 for the relu family: He et al. 2015).
    gain: float = 1.0

    def __call__(self, v: Value, *args: float) -> Value:
        return self.apply(v, *args)

    def curve(self, x: Any, *args: float) -> tuple[np.ndarray, np.ndarray]:
        """``f(x)`` and ``f'(x)`` at the points ``x``, both computed by the engine."""
        v = Value(np.atleast_1d(np.asarray(x, dtype=np.float64)))
        out = self.apply(v, *args)
        if out is v:  # the identity records nothing
            return v.data.copy(), np.ones_like(v.data)
        out.backward(np.ones_like(v.data))
        return out.data, v.grad


def _identity(v: Value) -> Value:
    return v


REGISTRY: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("tanh", Value.tanh, "tanh", "y = tanh(x)"),
        Activation("relu", Value.relu, "ReLU", "y = max(x, 0)", gain=2.0),
        Activation("sigmoid", Value.sigmoid, "sigmoid", "y = 1 / (1 + e^-x)"),
        Activation(
            "leaky_relu",
            Value.leaky_relu,
            "leaky ReLU",
            "y = x if x > 0 else 0.01·x",
            "slope",
            gain=2.0,
        ),
        Activation("linear", _identity, "linear", "y = x"),
        Activation("gelu", Value.gelu, "GELU", "y = x·Φ(x)", gain=2.0),
        Activation("silu", Value.silu, "SiLU", "y = x·sigmoid(x)", gain=2.0),
        Activation("softplus", Value.softplus, "softplus", "y = log(1 + e^x)"),
        Activation("elu", Value.elu, "ELU", "y = x if x > 0 else e^x - 1", "alpha", gain=2.0),
    )
}
ACTIVATIONS = tuple(REGISTRY)  # the names, in the order menus show them


def check_activation(name: str) -> str:
    """``name`` if it is a known activation, else a ValueError listing the valid ones."""
    if name not in REGISTRY:
        raise ValueError(f"unknown activation {name!r}; valid ones are {', '.join(ACTIVATIONS)}")
    return name


def activate(v: Any, name: str) -> Any:
    """Apply the activation called ``name`` to a Value (``linear`` returns ``v`` itself)."""
    try:
        act = REGISTRY[name]  # (once per layer and forward pass: no separate check)
    except KeyError:
        check_activation(name)
        raise
    return act.apply(v)
