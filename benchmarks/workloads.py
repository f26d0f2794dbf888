"""The benchmark workloads. Each ``setup_<workload>(engine)`` builds one engine's version
from the same numbers and returns ``(step, first_loss)``: ``step()`` runs one timed step.

Every engine starts from identical weights (drawn with numpy from a fixed seed), so the
first losses must agree before anything is timed."""

from __future__ import annotations

import random
import sys

import numpy as np

SEED = 1337


def moons_data(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    from nn import datasets

    X, y = datasets.make_moons(n, noise=0.1, seed=SEED)
    return X, y * 2.0 - 1.0


def mlp_weights(sizes: list[int], dtype=np.float64) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(SEED)
    return [
        (
            rng.uniform(-1, 1, (nin, nout)).astype(dtype) / np.sqrt(nin),
            rng.uniform(-0.1, 0.1, nout).astype(dtype),
        )
        for nin, nout in zip(sizes[:-1], sizes[1:])
    ]


# ------------------------------------------------------------------ 1. scalar moons step
def setup_scalar_moons(engine: str):
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
    if engine.startswith("micrograd"):
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
    raise ValueError(engine)


def _load_scalar(model, weights):
    for layer, (W, b) in zip(model.layers, weights):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                w.data = float(W[i, j])
            neuron.b.data = float(b[j])


# ------------------------------------------------------------------ 2. deep chain
def setup_chain(engine: str, n: int):
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


# ------------------------------------------------------------------ 3-5. tensor MLPs
def setup_tensor_mlp(engine: str, sizes: list[int], batch: int, act: str, loss: str, dtype: str):
    dt = np.dtype(dtype)
    weights = mlp_weights(sizes, dt)
    rng = np.random.default_rng(SEED + 1)
    if sizes[0] == 2 and batch == 100:
        X, yv = moons_data(batch)
        X = X.astype(dt)
        y = yv.astype(dt).reshape(-1, 1) if loss == "mse" else yv.astype(dt)
    else:
        X = rng.normal(size=(batch, sizes[0])).astype(dt)
        y = rng.integers(0, sizes[-1], batch)
    lr = 0.01
    if engine == "backproplab":
        from autograd import sum_of_squares
        from nn import MLP, SGD, cross_entropy, hinge_loss, mse_loss

        model = MLP(sizes[0], sizes[1:], activation=act, vectorized=True, dtype=dtype, rng=0)
        for layer, (W, b) in zip(model.layers, weights):
            layer.W.data[...] = W
            layer.b.data[...] = b
        params = model.parameters()
        opt = SGD(params, lr=lr)
        fn = {"mse": mse_loss, "ce": cross_entropy, "hinge": hinge_loss}[loss]

        def step():
            out = model(X)
            total = fn(out, y)
            if loss == "hinge":
                total = total + 1e-4 * sum_of_squares(params)
            opt.zero_grad()
            total.backward()
            opt.step()
            return total.item()

        return step
    if engine == "numpy":
        Ws = [(W.copy(), b.copy()) for W, b in weights]
        n_layers = len(Ws)
        f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[act]

        def step():
            acts, h = [X], X
            for k, (W, b) in enumerate(Ws):
                z = h @ W + b
                h = f(z) if k < n_layers - 1 else z
                acts.append(h)
            out = acts[-1]
            if loss == "mse":
                diff = out - y
                value = float(np.mean(diff * diff))
                g = (2.0 / diff.size) * diff
            elif loss == "hinge":
                margin = 1.0 - out[:, 0] * y
                value = float(np.mean(np.maximum(margin, 0))) + 1e-4 * sum(
                    float((W * W).sum() + (b * b).sum()) for W, b in Ws
                )
                g = (-(margin > 0).astype(dt) * y / len(y)).reshape(-1, 1)
            else:
                shifted = out - out.max(axis=1, keepdims=True)
                logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
                value = float(-logp[np.arange(len(y)), y].mean())
                g = np.exp(logp)
                g[np.arange(len(y)), y] -= 1
                g /= len(y)
            for k in range(n_layers - 1, -1, -1):
                W, b = Ws[k]
                gW = acts[k].T @ g
                gb = g.sum(axis=0)
                if loss == "hinge":
                    gW += 2e-4 * W
                    gb += 2e-4 * b
                if k:
                    g = g @ W.T
                    g = g * (acts[k] > 0) if act == "relu" else g * (1 - acts[k] * acts[k])
                W -= lr * gW
                b -= lr * gb
            return value

        return step
    if engine == "torch":
        import torch

        torch.set_num_threads(1)
        tdt = {"float64": torch.float64, "float32": torch.float32}[dtype]
        Ws = [
            (
                torch.tensor(W, dtype=tdt, requires_grad=True),
                torch.tensor(b, dtype=tdt, requires_grad=True),
            )
            for W, b in weights
        ]
        params = [p for pair in Ws for p in pair]
        opt = torch.optim.SGD(params, lr=lr)
        tX = torch.tensor(X)
        ty = torch.tensor(y)
        f = {"relu": torch.relu, "tanh": torch.tanh}[act]

        def step():
            h = tX
            for k, (W, b) in enumerate(Ws):
                h = h @ W + b
                if k < len(Ws) - 1:
                    h = f(h)
            if loss == "mse":
                total = torch.mean((h - ty) ** 2)
            elif loss == "hinge":
                total = torch.relu(1 - h[:, 0] * ty).mean() + 1e-4 * sum(
                    (p * p).sum() for p in params
                )
            else:
                total = torch.nn.functional.cross_entropy(h, ty)
            opt.zero_grad()
            total.backward()
            opt.step()
            return total.item()

        return step
    raise ValueError(engine)


# ------------------------------------------------------------------ 6. drawing
def setup_drawing(engine: str):
    from autograd import Value
    from viz import draw_dot, to_svg

    x = Value(0.5, label="x")
    y = x
    for _ in range(500):  # 500 ops: 1,000 drawn nodes (value boxes + op circles)
        y = (y * 0.99).tanh()
    y.backward()

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
    if engine == "backproplab":
        from autograd import Value, conv2d, max_pool2d
        from nn import SGD, cross_entropy

        params = [Value(w) for w in weights]
        w1, b1, w2, b2, W, b = params
        opt = SGD(params, lr=lr)

        def step():
            h = max_pool2d(conv2d(X, w1, b1, padding=1).relu(), 2)
            h = conv2d(h, w2, b2, padding=1).relu()
            total = cross_entropy(h.reshape(batch, -1) @ W + b, y)
            opt.zero_grad()
            total.backward()
            opt.step()
            return total.item()

        return step
    if engine == "torch":
        import torch
        import torch.nn.functional as F

        torch.set_num_threads(1)
        params = [torch.tensor(w, requires_grad=True) for w in weights]
        w1, b1, w2, b2, W, b = params
        opt = torch.optim.SGD(params, lr=lr)
        tX, ty = torch.tensor(X), torch.tensor(y)

        def step():
            h = F.max_pool2d(F.conv2d(tX, w1, b1, padding=1).relu(), 2)
            h = F.conv2d(h, w2, b2, padding=1).relu()
            total = F.cross_entropy(h.reshape(batch, -1) @ W + b, ty)
            opt.zero_grad()
            total.backward()
            opt.step()
            return total.item()

        return step
    raise ValueError(engine)


WORKLOADS = {
    "scalar_moons": (setup_scalar_moons, ("backproplab", "micrograd", "micrograd_gc_off")),
    "chain_1e3": (lambda e: setup_chain(e, 1_000), ("backproplab",)),
    "chain_400": (lambda e: setup_chain(e, 400), ("backproplab", "micrograd")),
    "chain_1e5": (lambda e: setup_chain(e, 100_000), ("backproplab",)),
    "chain_1e6": (lambda e: setup_chain(e, 1_000_000), ("backproplab",)),
    "vector_moons": (
        lambda e: setup_tensor_mlp(e, [2, 16, 16, 1], 100, "relu", "hinge", "float64"),
        ("backproplab", "numpy"),
    ),
    "tiny_mlp": (
        lambda e: setup_tensor_mlp(e, [2, 16, 16, 1], 100, "tanh", "mse", "float64"),
        ("backproplab", "numpy", "torch"),
    ),
    "medium_mlp_f32": (
        lambda e: setup_tensor_mlp(e, [784, 256, 128, 10], 256, "relu", "ce", "float32"),
        ("backproplab", "numpy", "torch"),
    ),
    "medium_mlp_f64": (
        lambda e: setup_tensor_mlp(e, [784, 256, 128, 10], 256, "relu", "ce", "float64"),
        ("backproplab", "numpy", "torch"),
    ),
    "drawing_1000": (setup_drawing, ("backproplab",)),
    "cnn_digits_f32": (setup_cnn_digits, ("backproplab", "torch")),
}


def engine_available(engine: str) -> bool:
    module = {"micrograd": "micrograd", "micrograd_gc_off": "micrograd", "torch": "torch"}.get(
        engine
    )
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


if __name__ == "__main__":  # pragma: no cover - used by the runner
    print(sys.argv)
