"""The benchmark workloads: what each one computes, for which engines, and its floors.

``WORKLOADS[name].setup(engine)`` builds one engine's version from the same numbers and
returns ``step``: ``step()`` runs one timed step and returns its loss (``None`` for a floor
that computes no loss). A tensor workload's ``step.arrays()`` lists the engine's inputs,
parameters and outputs, so the runner can check their dtype before timing anything.

Every engine starts from identical weights (drawn with numpy from a fixed seed), so the
first losses must agree before anything is timed. Engines:

- ``backproplab``; peers ``micrograd`` (``micrograd_gc_off`` times it with ``gc.disable()``),
  ``numpy`` (forward and backward written by hand), ``torch``, ``jax_jit``, ``jax_eager``;
- floors, the least work the step needs: ``python`` (the scalar moons step on plain Python
  floats, forward and backward by hand, written for speed: see ``_scalar_moons_fast``; the
  chains as one small object per op) and ``matmuls`` (only the medium MLP's forward and
  backward matrix products, in numpy);
- ``python_plain``: the scalar moons step by hand written plainly, with generator
  expressions (the floor this project quoted until it was shown not to be the fastest);
- the ``microgpt`` workload's own engines (microGPT's Value, ``autograd.Value`` dropped
  into its code, the example's scalar and tensor modes): see ``benchmarks/microgpt.py``."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from itertools import repeat
from operator import add, mul, truth
from typing import Any, NamedTuple

import numpy as np

SEED = 1337
FLOORS = ("python", "matmuls")
# Each engine's import name: an engine whose module does not import is skipped.
MODULES = {
    "micrograd": "micrograd",
    "micrograd_gc_off": "micrograd",
    "torch": "torch",
    "jax_jit": "jax",
    "jax_eager": "jax",
}


class Workload(NamedTuple):
    setup: Callable[[str], Callable[[], Any]]
    engines: tuple[str, ...]
    title: str
    dtype: str | None = None  # tensor workloads: every engine's arrays have this dtype
    ops: int | None = None  # chains: the number of ops recorded per step
    # whether ``--against``'s older code must give the same first result: not for the
    # drawing, whose result (the SVG's length) changes whenever the drawing does
    same_result: bool = True


class WrongDtype(AssertionError):
    """An engine's array does not have the workload's dtype: its timing would be wrong."""


def engine_available(engine: str) -> bool:
    """Whether the engine's package is installed (found, not imported: the runner stays
    small, and the memory of the processes it starts is their own)."""
    module = MODULES.get(engine)
    return module is None or importlib.util.find_spec(module) is not None


def check_dtypes(engine: str, step: Callable, dtype: str | None) -> None:
    """Raise WrongDtype unless every array ``step.arrays()`` lists has ``dtype``."""
    if dtype is None:
        return
    arrays = step.arrays()
    if not arrays:
        raise WrongDtype(f"{engine}: lists no arrays to check")
    for i, a in enumerate(arrays):
        # torch spells its dtypes "torch.float32"; numpy and JAX spell them "float32"
        found = str(a.dtype).removeprefix("torch.")
        if found != dtype:
            raise WrongDtype(f"{engine}: array {i} {tuple(a.shape)} is {found}, not {dtype}")


def moons_data(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    from nn import datasets

    X, y = datasets.make_moons(n, noise=0.1, seed=SEED)
    return X, y * 2.0 - 1.0


def mlp_weights(sizes: list[int], dtype: Any = np.float64) -> list[tuple[np.ndarray, np.ndarray]]:
    # Scale, then cast: a float32 array divided by a numpy float64 scalar is float64 in
    # numpy 2, which once made the "numpy" engine of the float32 workload run in float64.
    rng = np.random.default_rng(SEED)
    return [
        (
            (rng.uniform(-1, 1, (nin, nout)) / np.sqrt(nin)).astype(dtype),
            rng.uniform(-0.1, 0.1, nout).astype(dtype),
        )
        for nin, nout in zip(sizes[:-1], sizes[1:])
    ]


# ------------------------------------------------------------------ scalar moons step
def setup_scalar_moons(engine: str):
    """One SGD step of a 2-16-16-1 ReLU MLP on 100 moons, hinge loss + 1e-4 L2."""
    X, y = moons_data()
    weights = mlp_weights([2, 16, 16, 1])
    if engine == "backproplab":
        from autograd import sum_of_squares
        from nn import MLP, SGD, hinge_loss

        model = MLP(2, [16, 16, 1], activation="relu", rng=0)
        _load_scalar(model, weights)
        params = model.parameters()
        opt = SGD(params, lr=0.05)

        def step():
            loss = hinge_loss(model(X), y) + 1e-4 * sum_of_squares(params)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.data

        return step
    if engine in ("micrograd", "micrograd_gc_off"):
        from micrograd.engine import Value
        from micrograd.nn import MLP

        random.seed(SEED)
        model = MLP(2, [16, 16, 1])
        _load_scalar(model, weights)
        Xl, yl = X.tolist(), y.tolist()

        def step():
            inputs = [list(map(Value, row)) for row in Xl]
            scores = list(map(model, inputs))
            losses = [(1 + -yi * si).relu() for yi, si in zip(yl, scores)]
            data_loss = sum(losses) * (1.0 / len(losses))
            reg_loss = 1e-4 * sum(p * p for p in model.parameters())
            total = data_loss + reg_loss
            model.zero_grad()
            total.backward()
            for p in model.parameters():
                p.data -= 0.05 * p.grad
            return total.data

        return step
    if engine == "python":
        return _scalar_moons_fast(X.tolist(), y.tolist(), weights)
    if engine == "python_plain":
        return _scalar_moons_by_hand(X.tolist(), y.tolist(), weights)
    raise ValueError(engine)


def _load_scalar(model, weights):
    for layer, (W, b) in zip(model.layers, weights):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                w.data = float(W[i, j])
            neuron.b.data = float(b[j])


def _scalar_moons_by_hand(X: list, y: list, weights: list, lr: float = 0.05, l2: float = 1e-4):
    """The floor of the scalar step: the same numbers on plain Python floats, no graph.
    ``layers[l][j]`` is neuron j of layer l as ``[w_1, ..., w_nin, b]``."""
    layers = [[[*map(float, W[:, j]), float(b[j])] for j in range(W.shape[1])] for W, b in weights]
    last = len(layers) - 1
    n = len(X)

    def step():
        grads = [[[0.0] * len(neuron) for neuron in layer] for layer in layers]
        data_loss = 0.0
        for x, target in zip(X, y):
            inputs = [x]  # the input of each layer
            for k, layer in enumerate(layers):
                h = inputs[-1]
                z = [sum(w * hi for w, hi in zip(neuron, h)) + neuron[-1] for neuron in layer]
                inputs.append(z if k == last else [zj if zj > 0.0 else 0.0 for zj in z])
            margin = 1.0 - target * inputs[-1][0]
            if margin <= 0.0:  # hinge is flat here: no gradient from this point
                continue
            data_loss += margin
            g = [-target / n]  # d loss / d output
            for k in range(last, -1, -1):
                h, out = inputs[k], inputs[k + 1]
                if k != last:  # ReLU: pass the gradient where the unit was on
                    g = [gj if oj > 0.0 else 0.0 for gj, oj in zip(g, out)]
                g_h = [0.0] * len(h)
                for neuron, grad, gj in zip(layers[k], grads[k], g):
                    if gj == 0.0:
                        continue
                    for i, hi in enumerate(h):
                        grad[i] += gj * hi
                        g_h[i] += gj * neuron[i]
                    grad[-1] += gj
                g = g_h
        reg = 0.0
        for layer, layer_grads in zip(layers, grads):
            for neuron, grad in zip(layer, layer_grads):
                for i, w in enumerate(neuron):
                    reg += w * w
                    neuron[i] = w - lr * (grad[i] + 2.0 * l2 * w)
        return data_loss / n + l2 * reg

    return step


def _scalar_moons_fast(X: list, y: list, weights: list, lr: float = 0.05, l2: float = 1e-4):
    """The floor of the scalar step written for speed: the same numbers as
    ``_scalar_moons_by_hand``, to the bit (the same products, summed in the same order),
    in ~0.75x its time (best of 40 steps: 3.24 ms against 4.29 ms, Python 3.11).

    How: every list is prepared once (a row of weights per neuron, the biases apart, the
    points as lists of floats), and every loop over numbers is a ``map`` over ``operator``
    functions, which CPython runs in C with no bytecode per element: a neuron is
    ``sum(map(mul, row, h))``; the first layer, with two inputs, is computed column by
    column (two ``map``s for all 16 neurons instead of 16 dot products of two); the
    backward pass is kept for the end of the step, where each weight's gradient is one
    dot product over the points whose hinge is not flat (in their order, as the plain
    version adds them). A unit that is off adds ``±0.0`` where the plain version skips it:
    the same numbers. No object is made per operation, and nothing is computed that nothing
    reads (the inputs' gradient). Tried and slower: ``max`` for ReLU (a slow builtin call
    per element), every point through every layer at once (more products: the points and
    units that pass no gradient are no longer skipped), accumulating gradients point by
    point with ``map`` (a slice assignment per neuron and point).
    """
    rows = [[[*map(float, W[:, j])] for j in range(W.shape[1])] for W, _ in weights]
    biases = [[*map(float, b)] for _, b in weights]
    first, *others = rows
    n = len(X)
    X = [[*map(float, x)] for x in X]

    def columns(table: list, width: int) -> list:
        return [*zip(*table)] if table else [()] * width

    def descend(w: float, grad: float) -> float:
        return w - lr * (grad + 2.0 * l2 * w)

    def step():
        first_cols, b_first = columns(first, len(first[0])), biases[0]
        hidden, hidden_biases = others[:-1], biases[1:-1]
        ((out_row,), (out_bias,)) = others[-1], biases[-1]
        kept = []  # the input and layer outputs of each point whose hinge is not flat
        gs = []  # and d loss / d output there
        data_loss = 0.0
        for x, target in zip(X, y):
            z = map(mul, first_cols[0], repeat(x[0]))
            for col, xi in zip(first_cols[1:], x[1:]):
                z = map(add, z, map(mul, col, repeat(xi)))
            h = [v if v > 0.0 else 0.0 for v in map(add, z, b_first)]
            acts = [x, h]
            for rs, bs in zip(hidden, hidden_biases):
                z = map(add, [sum(map(mul, r, h)) for r in rs], bs)
                h = [v if v > 0.0 else 0.0 for v in z]
                acts.append(h)
            margin = 1.0 - target * (sum(map(mul, out_row, h)) + out_bias)
            if margin <= 0.0:  # hinge is flat here: no gradient from this point
                continue
            data_loss += margin
            kept.append(acts)
            gs.append(-target / n)
        # d loss / d z of each layer, one row per kept point, from the output back
        deltas = [[[g] for g in gs]]
        last = len(rows) - 1
        gz = [
            [*map(mul, map(mul, repeat(g), out_row), map(truth, acts[last]))]
            for g, acts in zip(gs, kept)
        ]
        deltas.append(gz)
        for k in range(last - 1, 0, -1):
            cols = [*zip(*rows[k])]
            gz = [
                [*map(mul, [sum(map(mul, g, c)) for c in cols], map(truth, acts[k]))]
                for g, acts in zip(gz, kept)
            ]
            deltas.append(gz)
        deltas.reverse()
        reg = 0.0
        for k, (rs, bs, gz) in enumerate(zip(rows, biases, deltas)):
            in_cols = columns([acts[k] for acts in kept], len(rs[0]))
            for j, (r, g) in enumerate(zip(rs, columns(gz, len(rs)))):
                grads = [sum(map(mul, g, c)) for c in in_cols]
                b = bs[j]
                reg = sum(map(mul, r, r), reg) + b * b
                r[:] = map(descend, r, grads)
                bs[j] = descend(b, sum(g))
        return data_loss / n + l2 * reg

    return step


# ------------------------------------------------------------------ deep chain
def setup_chain(engine: str, n: int):
    """``x * 1.0001 + 0.0`` repeated n times (2n ops), then backward."""
    if engine == "python":
        return _chain_by_hand(n)
    if engine == "backproplab":
        from autograd import Value
    else:
        from micrograd.engine import Value

    def step():
        x = Value(1.0)
        y = x
        for _ in range(n):
            y = y * 1.0001 + 0.0
        y.backward()
        return x.grad

    return step


class _Link:
    """The least a recorded op can be: its number, its gradient and its input, in one
    object the garbage collector tracks (as every engine's node)."""

    __slots__ = ("data", "grad", "input", "slope")

    def __init__(self, data: float, input: _Link | None = None, slope: float = 1.0) -> None:
        self.data, self.grad, self.input, self.slope = data, 0.0, input, slope


def _chain_by_hand(n: int):
    """The floor of the chain: the same ops as links, and backward by following each
    link's one input (no search of the graph, no op table), the same gradient."""

    def step():
        x = _Link(1.0)
        y = x
        for _ in range(n):
            y = _Link(y.data * 1.0001, y, 1.0001)
            y = _Link(y.data + 0.0, y)
        y.grad = 1.0
        while y.input is not None:
            y.input.grad += y.grad * y.slope
            y = y.input
        return x.grad

    return step


# ------------------------------------------------------------------ drawing
DRAWING_LINKS = 500  # (y * 0.99).tanh(), 500 times: 2,502 drawn nodes


def drawing_graph():
    from autograd import Value

    x = Value(0.5, label="x")
    y = x
    for _ in range(DRAWING_LINKS):
        y = (y * 0.99).tanh()
    y.backward()
    return y


def drawn_nodes(dot) -> int:
    """The nodes of a graphviz.Digraph: body lines that are neither edges nor defaults."""
    return sum(
        1
        for line in dot.body
        if "->" not in line and not line.lstrip().startswith(("node ", "edge ", "graph "))
    )


def setup_drawing(engine: str):
    from viz import draw_dot, to_svg

    y = drawing_graph()

    def step():
        return float(len(to_svg(draw_dot(y, max_nodes=None))))

    return step


# ------------------------------------------------------------------ 7. CNN on digits
def setup_cnn_digits(engine: str, batch: int = 64):
    """One SGD step of examples/digits_cnn.py's CNN (conv 1->16, relu, max-pool, conv
    16->32, relu, flatten, linear 512->10, softmax cross-entropy) on a batch of 8x8
    digits, float32."""
    rng = np.random.default_rng(SEED)
    try:
        from sklearn.datasets import load_digits

        digits = load_digits()
        X = (digits.data[:batch] / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
        y = digits.target[:batch].astype(np.int64)
    except ImportError:  # the same shapes without scikit-learn
        X = rng.uniform(0, 1, (batch, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 10, batch)
    shapes = [(16, 1, 3, 3), (16,), (32, 16, 3, 3), (32,), (32 * 4 * 4, 10), (10,)]
    weights = [(rng.normal(size=s) * 0.3).astype(np.float32) for s in shapes]
    lr = 0.05
    if engine in ("backproplab", "backproplab_compiled"):
        from autograd import Value, compile, conv2d, max_pool2d
        from nn import SGD, cross_entropy

        params = [Value(w) for w in weights]
        w1, b1, w2, b2, W, b = params
        opt = SGD(params, lr=lr)

        last = {}

        def train(X, y):
            h = max_pool2d(conv2d(X, w1, b1, padding=1).relu(), 2)
            h = conv2d(h, w2, b2, padding=1).relu()
            out = h.reshape(batch, -1) @ W + b
            total = cross_entropy(out, y)
            opt.zero_grad()
            total.backward()
            opt.step()
            return total, out

        run = compile(train) if engine == "backproplab_compiled" else None

        def step():
            if run is not None:
                total, last["out"] = run(X, y)
                return total
            total, out = train(X, y)
            last["out"] = out.data
            return total.item()

        step.arrays = lambda: [X] + [p.data for p in params] + [last["out"]]
        return step
    if engine == "torch":
        import torch
        import torch.nn.functional as F

        torch.set_num_threads(1)
        params = [torch.tensor(w, requires_grad=True) for w in weights]
        w1, b1, w2, b2, W, b = params
        opt = torch.optim.SGD(params, lr=lr)
        tX, ty = torch.tensor(X), torch.tensor(y)

        last = {}

        def step():
            h = F.max_pool2d(F.conv2d(tX, w1, b1, padding=1).relu(), 2)
            h = F.conv2d(h, w2, b2, padding=1).relu()
            last["out"] = out = h.reshape(batch, -1) @ W + b
            total = F.cross_entropy(out, ty)
            opt.zero_grad()
            total.backward()
            opt.step()
            return total.item()

        step.arrays = lambda: [tX, *params, last["out"]]
        return step
    raise ValueError(engine)


# ------------------------------------------------------------------ the registry
def _mlp(sizes, batch, act, loss, dtype):
    from .tensor_mlp import setup_tensor_mlp

    return lambda engine: setup_tensor_mlp(engine, sizes, batch, act, loss, dtype)


def _chain(n):
    return lambda engine: setup_chain(engine, n)


def _microgpt(engine):
    from .microgpt import setup_microgpt

    return setup_microgpt(engine)


_PEERS = ("backproplab", "backproplab_compiled", "numpy", "torch", "jax_jit", "jax_eager")
_MEDIUM = [784, 256, 128, 10]
WORKLOADS = {
    "scalar_moons": Workload(
        setup_scalar_moons,
        ("backproplab", "micrograd", "micrograd_gc_off", "python", "python_plain"),
        "scalar moons step (2-16-16-1 ReLU, 100 points, hinge + L2, SGD)",
    ),
    "chain_400": Workload(
        _chain(400), ("backproplab", "micrograd", "python"), "deep chain, N = 400", ops=800
    ),
    "chain_1e3": Workload(
        _chain(1_000), ("backproplab", "python"), "deep chain, N = 1,000", ops=2_000
    ),
    "chain_1e4": Workload(
        _chain(10_000), ("backproplab", "python"), "deep chain, N = 10,000", ops=20_000
    ),
    "chain_1e5": Workload(
        _chain(100_000), ("backproplab", "python"), "deep chain, N = 100,000", ops=200_000
    ),
    "chain_1e6": Workload(
        _chain(1_000_000), ("backproplab", "python"), "deep chain, N = 1,000,000", ops=2_000_000
    ),
    "vector_moons": Workload(
        _mlp([2, 16, 16, 1], 100, "relu", "hinge", "float64"),
        _PEERS,
        "vectorized moons step (2-16-16-1 ReLU, full batch, hinge + L2, float64)",
        dtype="float64",
    ),
    "tiny_mlp": Workload(
        _mlp([2, 16, 16, 1], 100, "tanh", "mse", "float64"),
        _PEERS,
        "tiny MLP 2-16-16-1, batch 100, tanh, MSE, float64",
        dtype="float64",
    ),
    "medium_mlp_f32": Workload(
        _mlp(_MEDIUM, 256, "relu", "ce", "float32"),
        (*_PEERS, "matmuls"),
        "medium MLP 784-256-128-10, batch 256, ReLU, CE, float32",
        dtype="float32",
    ),
    "medium_mlp_f64": Workload(
        _mlp(_MEDIUM, 256, "relu", "ce", "float64"),
        (*_PEERS, "matmuls"),
        "medium MLP 784-256-128-10, batch 256, ReLU, CE, float64",
        dtype="float64",
    ),
    "drawing_2502": Workload(
        setup_drawing,
        ("backproplab",),
        "draw_dot + to_svg of a 2,502-node graph (system dot when installed, else in-process)",
        same_result=False,
    ),
    "cnn_digits_f32": Workload(
        setup_cnn_digits,
        ("backproplab", "backproplab_compiled", "torch"),
        "CNN conv16-pool-conv32-linear on 8x8 digits, batch 64, CE, float32",
        dtype="float32",
    ),
    "microgpt": Workload(
        _microgpt,
        (
            "backproplab",
            "backproplab_compiled",
            "backproplab_scalar",
            "autograd_value",
            "microgpt_value",
            "torch",
            "jax_jit",
        ),
        "microGPT step on one name (n_embd 16, 4 heads, 1 layer; backproplab: tensor mode)",
    ),
}
