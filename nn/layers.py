"""Neurons, layers and MLPs: scalar mode (every weight its own Value) and vectorized mode."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from autograd import Value, linear, tracing, weighted_sum

from .activations import ACTIVATIONS, REGISTRY, activate, check_activation  # noqa: F401
from .init import check_init, init_scale, initial_weights
from .module import Module
from .random import get_rng


def _init_config(init: str) -> dict:
    """``init`` for a config, left out when it is the default (older files, same repr)."""
    return {} if init == "gaussian" else {"init": init}


# ---------------------------------------------------------------------- scalar mode
class Neuron(Module):
    """One neuron: ``activation(w . x + b)``, every weight a scalar Value.

    >>> n = Neuron(2, activation="sigmoid")
    >>> n.w[0].data, n.w[1].data, n.b.data = 0.0, 1.0, 4.0
    >>> n([2, 3]).data
    0.9990889488055994
    """

    def __init__(
        self, nin: int, activation: str = "tanh", rng: Any = None, init: str = "gaussian"
    ) -> None:
        self.nin = int(nin)
        self.activation = check_activation(activation)
        self.init = check_init(init)
        gen = get_rng(rng)
        if self.init == "gaussian":
            scale = init_scale(self.nin, activation)
            w = [float(gen.normal(0.0, scale)) for _ in range(self.nin)]
        else:
            w = initial_weights((self.nin,), self.nin, 1, self.init, activation, gen).tolist()
        self.w = [Value(wi, label=f"w{i + 1}") for i, wi in enumerate(w)]
        self.b = Value(0.0, label="b")

    def forward(self, x: Sequence[Any]) -> Value:
        if len(x) != self.nin:
            raise ValueError(f"Neuron expected {self.nin} inputs, got {len(x)}")
        total = weighted_sum(self.w, x, self.b)  # one node: w1*x1 + ... + wn*xn + b
        return REGISTRY[self.activation].apply(total)

    def config(self) -> dict:
        return {"nin": self.nin, "activation": self.activation, **_init_config(self.init)}


class Layer(Module):
    """``nout`` neurons reading the same inputs; returns a list of Values (one Value when
    ``nout == 1``, as micrograd does)."""

    def __init__(
        self, nin: int, nout: int, activation: str = "tanh", rng: Any = None, init: str = "gaussian"
    ) -> None:
        gen = get_rng(rng)
        self.nin, self.nout, self.activation = int(nin), int(nout), check_activation(activation)
        self.init = check_init(init)
        self.neurons = [Neuron(nin, activation, rng=gen, init=init) for _ in range(self.nout)]

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        if len(x) != self.nin:
            raise ValueError(f"Layer expected {self.nin} inputs, got {len(x)}")
        # Numbers become constant Values once here, shared by every neuron of the layer.
        x = [v if type(v) is Value else Value(v, requires_grad=False) for v in x]
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def config(self) -> dict:
        return {
            "nin": self.nin,
            "nout": self.nout,
            "activation": self.activation,
            **_init_config(self.init),
        }


# ---------------------------------------------------------------------- vectorized mode
class Linear(Module):
    """``x @ W + b`` for a batch ``x`` of shape (N, nin); ``W`` has shape (nin, nout).

    ``init`` names the initialization (``nn.init``: ``gaussian`` by default, ``xavier_*``,
    ``he_*``); ``init_activation`` names the activation that will follow, which sets the
    scale of the default one (He for the relu family, LeCun otherwise).

    A numpy batch of the layer's dtype is used as it is, not copied (as ``x @ W`` with an
    array would): writing into it before ``backward()`` changes ``W``'s gradient.

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
        init: str = "gaussian",
    ) -> None:
        gen = get_rng(rng)
        self.nin, self.nout, self.dtype = int(nin), int(nout), np.dtype(dtype).name
        self.init = check_init(init)
        W = initial_weights(
            (self.nin, self.nout), self.nin, self.nout, init, check_activation(init_activation), gen
        )
        self.W = Value(W, label="W", dtype=dtype)
        self.b = Value(np.zeros(self.nout), label="b", dtype=dtype) if bias else None
        self.init_activation = init_activation

    def forward(self, x: Any) -> Value:
        if type(x) is not np.ndarray or x.dtype != self.W.dtype:
            x = as_input(x, self.W.dtype)  # (an array of our dtype goes in as it is: no copy)
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
            **_init_config(self.init),
        }


def as_input(x: Any, dtype: Any = None) -> Value:
    """A batch as a Value that needs no gradient (arrays and lists are wrapped)."""
    if isinstance(x, Value):
        return x
    return Value(np.asarray(x), requires_grad=False, dtype=dtype)


class Flatten(Module):
    """Every axis after the first (the batch) flattened into one: (N, ...) -> (N, -1).

    >>> Flatten()(Value(np.ones((2, 3, 4)))).shape
    (2, 12)
    """

    def forward(self, x: Any) -> Value:
        x = as_input(x)
        return x.reshape(x.shape[0], -1)

    def config(self) -> dict:
        return {}


class Embedding(Module):
    """A lookup table: integer ids ``(...)`` -> rows of ``weight`` ``(num, dim)``, shape
    ``(..., dim)``; only the rows looked up get a gradient (repeats add up).

    >>> Embedding(10, 3, rng=0)([[1, 2], [1, 9]]).shape
    (2, 2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, rng: Any = None) -> None:
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        gen = get_rng(rng)
        self.weight = Value(gen.normal(0.0, 1.0, (self.num_embeddings, self.embedding_dim)))

    def forward(self, ids: Any) -> Value:
        idx = np.asarray(ids.data if isinstance(ids, Value) else ids)
        if idx.dtype.kind == "f" and np.all(np.mod(idx, 1) == 0):
            idx = idx.astype(np.int64)
        if idx.dtype.kind not in "iu":
            raise ValueError(f"Embedding: ids must be integers, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            raise ValueError(
                f"Embedding: ids must be in [0, {self.num_embeddings - 1}], got values from "
                f"{idx.min()} to {idx.max()}"
            )
        return self.weight[idx]

    def config(self) -> dict:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim}


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
            tracing.refuse("uses Dropout on a list of Values, whose mask picks in Python")
            mask = self._rng.random(len(x)) < keep
            return [v * (1.0 / keep) if m else v * 0.0 for v, m in zip(x, mask)]
        mask = dropout_mask(self._rng, x.shape, keep, x.dtype)
        tracing.note_random(mask, dropout_mask, self._rng, x.shape, keep, x.dtype)
        return x * mask

    def config(self) -> dict:
        return {"p": self.p}


def dropout_mask(rng: np.random.Generator, shape: tuple, keep: float, dtype: Any) -> np.ndarray:
    """Dropout's mask: 1 / keep where kept (probability ``keep``), 0 elsewhere."""
    return ((rng.random(shape) < keep) / keep).astype(dtype)


class Sequential(Module):
    """Modules applied one after the other.

    >>> from nn import Tanh
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

    ``activation`` is one name for every hidden layer or a list of names, one per hidden
    layer (or one per layer, the output layer's last). ``init`` names the initial
    weights (``nn.init``).

    >>> mlp = MLP(2, [16, 16, 1], activation="relu")
    >>> len(mlp.parameters())
    337
    >>> MLP(2, [8, 8, 1], activation=["gelu", "tanh"]).activations
    ['gelu', 'tanh', 'linear']
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | Sequence[str] = "tanh",
        output_activation: str = "linear",
        vectorized: bool = False,
        rng: Any = None,
        dtype: Any = "float64",
        init: str = "gaussian",
    ) -> None:
        if not nouts or any(int(n) < 1 for n in nouts) or int(nin) < 1:
            raise ValueError(
                f"MLP needs nin >= 1 and layer sizes >= 1, got nin={nin}, nouts={nouts}"
            )
        self.nin, self.nouts = int(nin), [int(n) for n in nouts]
        if isinstance(activation, str):
            self.activation: str | list[str] = check_activation(activation)
        else:
            names = [check_activation(a) for a in activation]
            if len(names) == len(self.nouts):
                names, output_activation = names[:-1], names[-1]
            elif len(names) != len(self.nouts) - 1:
                raise ValueError(
                    f"MLP: {len(names)} activations for {len(self.nouts)} layers; give one per "
                    f"hidden layer ({len(self.nouts) - 1}) or one per layer ({len(self.nouts)})"
                )
            self.activation = names
        self.output_activation = check_activation(output_activation)
        self.init = check_init(init)
        self.vectorized = bool(vectorized)
        self.dtype = np.dtype(dtype).name
        gen = get_rng(rng)
        sizes = [self.nin] + self.nouts
        acts = self.activations
        if self.vectorized:
            self.layers: list[Any] = [
                Linear(
                    sizes[i], sizes[i + 1], init_activation=acts[i], rng=gen, dtype=dtype, init=init
                )
                for i in range(len(self.nouts))
            ]
        else:
            if self.dtype != "float64":
                raise ValueError(
                    "scalar mode computes in Python floats (float64); use vectorized=True for float32"
                )
            self.layers = [
                Layer(sizes[i], sizes[i + 1], acts[i], rng=gen, init=init)
                for i in range(len(self.nouts))
            ]

    @property
    def activations(self) -> list[str]:
        """The activation after each layer."""
        hidden: str | list[str] = self.activation
        if isinstance(hidden, str):
            hidden = [hidden] * (len(self.nouts) - 1)
        return [*hidden, self.output_activation]

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
        # A batch that is already an array of the model's dtype is used as it is (the first
        # layer takes it as a constant, as ``x @ W`` would), not copied into a new Value:
        # the copy was a whole extra pass over the input, 1.6 MB a step for the medium MLP.
        if type(x) is not np.ndarray or x.dtype != self.dtype:
            x = as_input(x, self.dtype)
        if x.shape[-1:] != (self.nin,):
            raise ValueError(f"MLP expected inputs of width {self.nin}, got shape {x.shape}")
        for layer, act in zip(self.layers, self.activations):
            if type(layer) is Linear and layer.b is not None:  # Linear.forward, checks done
                x = linear(x, layer.W, layer.b)
            else:
                x = layer(x)
            x = activate(x, act)
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
            **_init_config(self.init),
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
