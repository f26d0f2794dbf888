"""The one registry of activation functions: one line each, made from an op entry.

The op entry (``autograd/ops/activations.py``) already makes the ``Value`` method, the
formula grammar's function, the ONNX node and the drawings. A line here adds what ``nn``
needs, and everything else reads it:

- ``MLP(activation=...)``, ``Neuron`` and ``Layer`` apply it by name, ``nn.init`` scales
  the first weights by its ``gain``;
- its Module class (``module=``: ``nn.Tanh``, ``nn.LeakyReLU``, ...), made here as an
  :class:`Activation` for that function, taking the ``Value`` method's arguments;
- its PyTorch layer (``torch=``) for ``to_torch`` and ``from_torch``, and its size rule
  in model files;
- the drawings, plots and classroom menus (its name, ``display`` and ``formula``, and its
  curve and derivative computed by the engine itself).

>>> ACTIVATIONS[:4]
('tanh', 'relu', 'sigmoid', 'leaky_relu')
>>> REGISTRY["sigmoid"](Value(0.0)).data
0.5
>>> REGISTRY["relu"].curve([-1.0, 2.0])
(array([0., 2.]), array([0., 1.]))
>>> MODULES["leaky_relu"](0.1)
LeakyReLU(slope=0.1)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from autograd import Value
from autograd.ops import Composition, Op, Without
from autograd.ops import activations as entries

from .model_config import SIZE_RULES, file_name, holds_nothing
from .module import Module


@dataclass(frozen=True)
class TorchLayer:
    """The ``torch.nn`` layer an activation is: its class name, its arguments (torch's
    name -> ours, ``negative_slope="slope"``) and the settings of torch's layer we need
    (``needs``: torch's name -> the value, or a test of it; ``from_torch`` refuses others).
    """

    name: str
    args: dict[str, str] = field(default_factory=dict)
    needs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AtLeast:
    """A setting of torch's we accept from ``bound`` up (``TorchLayer.needs``)."""

    bound: float

    def __call__(self, value: Any) -> bool:
        return value >= self.bound

    def __repr__(self) -> str:
        return f"at least {self.bound:g}"


@dataclass(frozen=True)
class ActivationFunction:
    """One activation: its op ``entry`` (None for ``linear``, which is no op), how
    pictures name it (``display``, ``formula``), the variance ``gain`` for initialization
    (weights drawn with variance gain / fan_in keep the activations the same size layer
    after layer: 2 for the relu family, He et al. 2015), its Module class's name and its
    PyTorch layer (or ``Without(why)``)."""

    entry: Op | Composition | None
    display: str
    formula: str
    gain: float = 1.0
    module: str | None = None
    torch: TorchLayer | Without | None = None

    @property
    def name(self) -> str:
        """What ``MLP(activation=...)`` calls it: the entry's name."""
        return self.entry.name if self.entry is not None else "linear"

    @cached_property  # (looked up once: a scalar network applies it to every neuron)
    def apply(self) -> Callable[..., Value]:
        """The ``Value`` method that applies it (the identity for ``linear``)."""
        if self.entry is None:
            return _identity
        if self.entry.method is None or not hasattr(Value, self.entry.method):
            raise TypeError(
                f"activation {self.name!r}: its op entry needs method=... (the Value "
                "method nn applies)"
            )
        return getattr(Value, self.entry.method)

    def __call__(self, v: Value, *args: Any) -> Value:
        return self.apply(v, *args)

    def curve(self, x: Any, *args: Any) -> tuple[np.ndarray, np.ndarray]:
        """``f(x)`` and ``f'(x)`` at the points ``x``, both computed by the engine."""
        v = Value(np.atleast_1d(np.asarray(x, dtype=np.float64)))
        out = self.apply(v, *args)
        if out is v:  # the identity records nothing
            return v.data.copy(), np.ones_like(v.data)
        out.backward(np.ones_like(v.data))
        return out.data, np.asarray(v.grad)


def _identity(v: Value) -> Value:
    return v


# The registry, in the order menus show the activations.
REGISTRY: dict[str, ActivationFunction] = {
    f.name: f
    for f in (
        ActivationFunction(
            entries.TANH, "tanh", "y = tanh(x)", module="Tanh", torch=TorchLayer("Tanh")
        ),
        ActivationFunction(
            entries.RELU, "ReLU", "y = max(x, 0)", 2.0, module="ReLU", torch=TorchLayer("ReLU")
        ),
        ActivationFunction(
            entries.SIGMOID,
            "sigmoid",
            "y = 1 / (1 + e^-x)",
            module="Sigmoid",
            torch=TorchLayer("Sigmoid"),
        ),
        ActivationFunction(
            entries.LEAKY_RELU,
            "leaky ReLU",
            "y = x if x > 0 else 0.01·x",
            2.0,
            module="LeakyReLU",
            torch=TorchLayer("LeakyReLU", {"negative_slope": "slope"}),
        ),
        ActivationFunction(None, "linear", "y = x"),
        ActivationFunction(
            entries.GELU,
            "GELU",
            "y = x·Φ(x)",
            2.0,
            module="GELU",
            torch=TorchLayer("GELU", {"approximate": "approximate"}),
        ),
        ActivationFunction(
            entries.SILU, "SiLU", "y = x·sigmoid(x)", 2.0, module="SiLU", torch=TorchLayer("SiLU")
        ),
        ActivationFunction(
            entries.SOFTPLUS,
            "softplus",
            "y = log(1 + e^x)",
            module="Softplus",
            # torch is linear above its threshold, ours exact (they differ below 3e-9)
            torch=TorchLayer("Softplus", needs={"beta": 1.0, "threshold": AtLeast(20)}),
        ),
        ActivationFunction(
            entries.ELU,
            "ELU",
            "y = x if x > 0 else e^x - 1",
            2.0,
            module="ELU",
            torch=TorchLayer("ELU", {"alpha": "alpha"}),
        ),
        ActivationFunction(
            entries.SOFTSIGN,
            "softsign",
            "y = x / (1 + |x|)",
            module="Softsign",
            torch=TorchLayer("Softsign"),
        ),
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


# ---------------------------------------------------------------- the Module classes
class Activation(Module):
    """An activation function as a layer, elementwise on a Value or on each of a list of
    Values. ``nn.Tanh``, ``nn.LeakyReLU``, ... are this class made for one function of
    the registry each (``MODULES``); they take the arguments of its ``Value`` method
    (``LeakyReLU(slope=0.01)``, ``GELU(approximate="none")``).

    >>> MODULES["tanh"]()([Value(0.0), Value(1.0)])[1].data == Value(1.0).tanh().data
    True
    """

    function: ClassVar[ActivationFunction]
    __signature__: ClassVar[inspect.Signature] = inspect.Signature()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if type(self) is Activation:
            raise TypeError(
                "Activation is made for one function: use nn.Tanh, nn.ReLU, ... or "
                "nn.activations.MODULES[name]"
            )
        bound = self.__signature__.bind(*args, **kwargs)
        bound.apply_defaults()
        for p in self.__signature__.parameters.values():
            value = bound.arguments[p.name]
            setattr(self, p.name, float(value) if type(p.default) is float else value)

    def forward(self, x: Any) -> Any:
        apply, args = self.function.apply, tuple(self.config().values())
        if isinstance(x, (list, tuple)):
            return [apply(v, *args) for v in x]
        return apply(x, *args)

    def config(self) -> dict:
        return {name: getattr(self, name) for name in self.__signature__.parameters}


def _module_class(function: ActivationFunction) -> type[Activation]:
    """The Activation class for ``function``, named ``function.module``."""
    method = function.apply
    arguments = list(inspect.signature(method).parameters.values())[1:]  # after self
    summary = (method.__doc__ or function.formula).strip().split("\n\n")[0]
    doc = f"{summary} (the ``{function.name}`` activation as a layer: :class:`Activation`)"
    namespace = {
        "function": function,
        "__signature__": inspect.Signature(arguments),
        "__doc__": doc,
        "__module__": __name__,
        "__qualname__": function.module,
    }
    return type(str(function.module), (Activation,), namespace)


# Each activation's Module class, by activation name; also nn.Tanh, ... by class name.
MODULES: dict[str, type[Activation]] = {
    f.name: _module_class(f) for f in REGISTRY.values() if f.module is not None
}
globals().update({kind.__name__: kind for kind in MODULES.values()})
SIZE_RULES.update({file_name(kind): holds_nothing for kind in MODULES.values()})  # in files
