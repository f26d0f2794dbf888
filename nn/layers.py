"""Neurons, layers and MLPs: scalar mode (every weight its own Value) and vectorized mode."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from autograd import Value, linear, weighted_sum

from .activations import ACTIVATIONS, REGISTRY, activate, check_activation  # noqa: F401
from .module import Module
from .random import get_rng


def init_scale(nin: int, activation: str) -> float:
    """Standard deviation of the initial weights: He (sqrt(2/nin)) before a ReLU, else
    LeCun (sqrt(1/nin)), so activations keep a similar size from layer to layer."""
    return float(np.sqrt((2.0 if activation in ("relu", "leaky_relu") else 1.0) / nin))


# ---------------------------------------------------------------------- scalar mode
class Neuron(Module):
    """One neuron: ``activation(w . x + b)``, every weight a scalar Value.

    >>> n = Neuron(2, activation="sigmoid")
    >>> n.w[0].data, n.w[1].data, n.b.data = 0.0, 1.0, 4.0
    >>> n([2, 3]).data
    0.9990889488055994
    """

    def __init__(self, nin: int, activation: str = "tanh", rng: Any = None) -> None:
        self.nin = int(nin)
        self.activation = check_activation(activation)
        gen = get_rng(rng)
        scale = init_scale(self.nin, activation)
        self.w = [Value(float(gen.normal(0.0, scale)), label=f"w{i + 1}") for i in range(self.nin)]
        self.b = Value(0.0, label="b")

    def forward(self, x: Sequence[Any]) -> Value:
        if len(x) != self.nin:
            raise ValueError(f"Neuron expected {self.nin} inputs, got {len(x)}")
        total = weighted_sum(self.w, x, self.b)  # one node: w1*x1 + ... + wn*xn + b
        return REGISTRY[self.activation].apply(total)

    def config(self) -> dict:
        return {"nin": self.nin, "activation": self.activation}


class Layer(Module):
    """``nout`` neurons reading the same inputs; returns a list of Values (one Value when
    ``nout == 1``, as micrograd does)."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh", rng: Any = None) -> None:
        gen = get_rng(rng)
        self.nin, self.nout, self.activation = int(nin), int(nout), check_activation(activation)
        self.neurons = [Neuron(nin, activation, rng=gen) for _ in range(self.nout)]

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        if len(x) != self.nin:
            raise ValueError(f"Layer expected {self.nin} inputs, got {len(x)}")
        # Numbers become constant Values once here, shared by every neuron of the layer.
        x = [v if type(v) is Value else Value(v, requires_grad=False) for v in x]
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def config(self) -> dict:
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation}


# ---------------------------------------------------------------------- vectorized mode
class Linear(Module):
    """``x @ W + b`` for a batch ``x`` of shape (N, nin); ``W`` has shape (nin, nout).

    ``init_activation`` names the activation that will follow; it only sets the scale of
    the initial weights (He for relu, LeCun otherwise).

    >>> Linear(3, 2)(np.ones((5, 3))).shape
    (5, 2)
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = True,
        init_activation: str = "linear",
        rng: Any = None,
        dtype: Any = "float64",
    ) -> None:
        gen = get_rng(rng)
        self.nin, self.nout, self.dtype = int(nin), int(nout), np.dtype(dtype).name
        scale = init_scale(self.nin, check_activation(init_activation))
        self.W = Value(gen.normal(0.0, scale, (self.nin, self.nout)), label="W", dtype=dtype)
        self.b = Value(np.zeros(self.nout), label="b", dtype=dtype) if bias else None
        self.init_activation = init_activation

    def forward(self, x: Any) -> Value:
        x = as_input(x, self.W.dtype)
        if x.shape[-1:] != (self.nin,):
            raise ValueError(f"Linear expected inputs of width {self.nin}, got shape {x.shape}")
        return x @ self.W if self.b is None else linear(x, self.W, self.b)

    def config(self) -> dict:
        return {
            "nin": self.nin,
            "nout": self.nout,
            "bias": self.b is not None,
            "init_activation": self.init_activation,
            "dtype": self.dtype,
        }


def as_input(x: Any, dtype: Any = None) -> Value:
    """A batch as a Value that needs no gradient (arrays and lists are wrapped)."""
    if isinstance(x, Value):
        return x
    return Value(np.asarray(x), requires_grad=False, dtype=dtype)


class _Activation(Module):
    name = "linear"

    def forward(self, x: Any) -> Any:
        if isinstance(x, (list, tuple)):
            return [activate(v, self.name) for v in x]
        return activate(x, self.name)

    def config(self) -> dict:
        return {}


class Tanh(_Activation):
    """Elementwise tanh, on a Value or a list of Values."""

    name = "tanh"


class ReLU(_Activation):
    """Elementwise max(x, 0), on a Value or a list of Values."""

    name = "relu"


class Sigmoid(_Activation):
    """Elementwise 1 / (1 + exp(-x)), on a Value or a list of Values."""

    name = "sigmoid"


class Dropout(Module):
    """In training mode, zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``; in evaluation mode, pass everything through unchanged."""

    def __init__(self, p: float = 0.5, rng: Any = None) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = float(p)
        self._rng = get_rng(rng)

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        if isinstance(x, (list, tuple)):
            mask = self._rng.random(len(x)) < keep
            return [v * (1.0 / keep) if m else v * 0.0 for v, m in zip(x, mask)]
        mask = (self._rng.random(x.shape) < keep) / keep
        return x * mask.astype(x.dtype)

    def config(self) -> dict:
        return {"p": self.p}


class Sequential(Module):
    """Modules applied one after the other.

    >>> net = Sequential(Linear(2, 8), Tanh(), Linear(8, 1))
    >>> net(np.zeros((4, 2))).shape
    (4, 1)
    """

    def __init__(self, *modules: Module) -> None:
        for m in modules:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes Modules, got {type(m).__name__}")
        self.modules = list(modules)

    def forward(self, x: Any) -> Any:
        for m in self.modules:
            x = m(x)
        return x


# ---------------------------------------------------------------------- MLP
class MLP(Module):
    """A multi-layer perceptron: ``nin`` inputs, then one layer per entry of ``nouts``.

    Scalar mode (the default) is made of Neurons, every weight its own node in the
    graph, for teaching and drawing; it takes one sample (a list of ``nin`` numbers) or
    a batch (a list of samples / a 2-D array, giving a list of outputs).
    ``vectorized=True`` keeps one weight matrix per layer and takes a batch (N, nin).
    ``vectorize()`` and ``scalarize()`` make the other kind with the same numbers.

    >>> mlp = MLP(2, [16, 16, 1], activation="relu")
    >>> len(mlp.parameters())
    337
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str = "linear",
        vectorized: bool = False,
        rng: Any = None,
        dtype: Any = "float64",
    ) -> None:
        if not nouts or any(int(n) < 1 for n in nouts) or int(nin) < 1:
            raise ValueError(
                f"MLP needs nin >= 1 and layer sizes >= 1, got nin={nin}, nouts={nouts}"
            )
        self.nin, self.nouts = int(nin), [int(n) for n in nouts]
        self.activation = check_activation(activation)
        self.output_activation = check_activation(output_activation)
        self.vectorized = bool(vectorized)
        self.dtype = np.dtype(dtype).name
        gen = get_rng(rng)
        sizes = [self.nin] + self.nouts
        acts = self.activations
        if self.vectorized:
            self.layers = [
                Linear(sizes[i], sizes[i + 1], init_activation=acts[i], rng=gen, dtype=dtype)
                for i in range(len(self.nouts))
            ]
        else:
            if self.dtype != "float64":
                raise ValueError(
                    "scalar mode computes in Python floats (float64); use vectorized=True for float32"
                )
            self.layers = [
                Layer(sizes[i], sizes[i + 1], acts[i], rng=gen) for i in range(len(self.nouts))
            ]

    @property
    def activations(self) -> list[str]:
        """The activation after each layer."""
        return [self.activation] * (len(self.nouts) - 1) + [self.output_activation]

    def forward(self, x: Any) -> Any:
        if self.vectorized:
            return self._forward_batch(x)
        if isinstance(x, Value) and x.ndim:
            x = x.data
        if (
            isinstance(x, np.ndarray)
            and x.ndim == 2
            or (isinstance(x, (list, tuple)) and x and isinstance(x[0], (list, tuple, np.ndarray)))
        ):
            # A batch records tens of thousands of nodes, all freed by reference counting
            # (the graph has no cycles); the collector's passes over them are wasted work
            # (scalar moons step: -2% to -4% instructions, callgrind, over several runs).
            with _collector_paused():
                return [self._forward_one(row) for row in x]
        return self._forward_one(x)

    def _forward_one(self, x: Sequence[Any]) -> Any:
        if len(x) != self.nin:
            raise ValueError(f"MLP expected {self.nin} inputs, got {len(x)}")
        if isinstance(x, np.ndarray):
            x = x.tolist()
        for layer in self.layers:
            x = layer(x)
            if isinstance(x, Value):
                x = [x]
        return x[0] if len(x) == 1 else x

    def _forward_batch(self, x: Any) -> Value:
        x = as_input(x, self.dtype)
        if x.shape[-1:] != (self.nin,):
            raise ValueError(f"MLP expected inputs of width {self.nin}, got shape {x.shape}")
        for layer, act in zip(self.layers, self.activations):
            x = activate(layer(x), act)
        return x

    # ------------------------------------------------------------ conversions
    def vectorize(self) -> MLP:
        """A vectorized MLP with this one's numbers (a new model; this one is unchanged)."""
        if self.vectorized:
            return self
        other = MLP(
            self.nin, self.nouts, self.activation, self.output_activation, vectorized=True, rng=0
        )
        for layer, dense in zip(self.layers, other.layers):
            dense.W.data[...] = np.array(
                [[n.w[i].data for n in layer.neurons] for i in range(layer.nin)]
            )
            dense.b.data[...] = [n.b.data for n in layer.neurons]
        return other

    def scalarize(self) -> MLP:
        """A scalar-mode MLP with this one's numbers (a new model; this one is unchanged)."""
        if not self.vectorized:
            return self
        other = MLP(
            self.nin, self.nouts, self.activation, self.output_activation, vectorized=False, rng=0
        )
        for dense, layer in zip(self.layers, other.layers):
            W = dense.W.data.astype(np.float64)
            for j, neuron in enumerate(layer.neurons):
                for i, w in enumerate(neuron.w):
                    w.data = float(W[i, j])
                neuron.b.data = float(dense.b.data[j])
        return other

    def config(self) -> dict:
        return {
            "nin": self.nin,
            "nouts": self.nouts,
            "activation": self.activation,
            "output_activation": self.output_activation,
            "vectorized": self.vectorized,
            "dtype": self.dtype,
        }


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block, leaving it as the user
    had it afterwards (on again only if it was on), even when the block raises."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
