"""The tensor MLP step (forward, loss, backward, SGD) for every tensor engine.

``setup_tensor_mlp(engine, sizes, batch, act, loss, dtype)`` returns ``step`` with
``step.arrays()``: the engine's input, parameters and last output, each of which must have
``dtype`` (checked by the runner before timing)."""

from __future__ import annotations

import numpy as np

from .workloads import SEED, mlp_weights, moons_data

LR = 0.01
L2 = 1e-4  # the hinge workloads add L2 * (sum of squared parameters), as micrograd's demo


def setup_tensor_mlp(engine: str, sizes: list[int], batch: int, act: str, loss: str, dtype: str):
    dt = np.dtype(dtype)
    weights = mlp_weights(sizes, dt)
    if sizes[0] == 2 and batch == 100:
        X, yv = moons_data(batch)
        X = X.astype(dt)
        y = yv.astype(dt).reshape(-1, 1) if loss == "mse" else yv.astype(dt)
    else:
        rng = np.random.default_rng(SEED + 1)
        X = rng.normal(size=(batch, sizes[0])).astype(dt)
        y = rng.integers(0, sizes[-1], batch)
    setup = {
        "backproplab": _backproplab,
        "backproplab_compiled": _backproplab,
        "numpy": _numpy,
        "matmuls": _matmuls,
        "torch": _torch,
        "jax_jit": _jax,
        "jax_eager": _jax,
    }[engine]
    return setup(engine, weights, X, y, act, loss, dt)


def _backproplab(engine, weights, X, y, act, loss, dt):
    from autograd import sum_of_squares
    from nn import MLP, SGD, cross_entropy, hinge_loss, mse_loss

    sizes = [weights[0][0].shape[0]] + [W.shape[1] for W, _ in weights]
    model = MLP(sizes[0], sizes[1:], activation=act, vectorized=True, dtype=dt.name, rng=0)
    for layer, (W, b) in zip(model.layers, weights):
        layer.W.data[...] = W
        layer.b.data[...] = b
    params = model.parameters()
    opt = SGD(params, lr=LR)
    fn = {"mse": mse_loss, "ce": cross_entropy, "hinge": hinge_loss}[loss]
    last = {}

    def train(X, y):
        out = model(X)
        total = fn(out, y)
        if loss == "hinge":
            total = total + L2 * sum_of_squares(params)
        opt.zero_grad()
        total.backward()
        opt.step()
        return total, out

    if engine == "backproplab_compiled":  # traced on the warm-up step, then replayed
        from autograd import compile

        compiled = compile(train)

        def step():
            total, last["out"] = compiled(X, y)
            return total

    else:

        def step():
            total, out = train(X, y)
            last["out"] = out.data
            return total.item()

    step.arrays = lambda: [p.data for p in params] + [last["out"]]
    return step


def _numpy(engine, weights, X, y, act, loss, dt):
    Ws = [(W.astype(dt), b.astype(dt)) for W, b in weights]
    n_layers = len(Ws)
    f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[act]
    last = {}

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
            value = float(np.mean(np.maximum(margin, 0))) + L2 * sum(
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
        last["g"] = g
        for k in range(n_layers - 1, -1, -1):
            W, b = Ws[k]
            gW = acts[k].T @ g
            gb = g.sum(axis=0)
            if loss == "hinge":
                gW += 2 * L2 * W
                gb += 2 * L2 * b
            if k:
                g = g @ W.T
                g = g * (acts[k] > 0) if act == "relu" else g * (1 - acts[k] * acts[k])
            W -= LR * gW
            b -= LR * gb
        last["out"] = out
        return value

    step.arrays = lambda: [X] + [a for pair in Ws for a in pair] + [last["out"], last["g"]]
    return step


def _matmuls(engine, weights, X, y, act, loss, dt):
    """The floor of the medium MLP: only its matrix products, forward (``h @ W``) and
    backward (``h.T @ g`` for each weight, ``g @ W.T`` for each hidden layer), on the real
    activations and gradients of one step. Computes no loss: returns None."""
    Ws = [W.astype(dt) for W, _ in weights]
    acts, h = [X], X
    for k, W in enumerate(Ws):
        h = h @ W
        acts.append(np.maximum(h, 0) if k < len(Ws) - 1 else h)
    g = (np.random.default_rng(SEED).normal(size=acts[-1].shape) / len(X)).astype(dt)

    def step():
        h = X
        for W in Ws:
            h = h @ W
        g_k = g
        for k in range(len(Ws) - 1, -1, -1):
            acts[k].T @ g_k
            if k:
                g_k = g_k @ Ws[k].T
        return None

    step.arrays = lambda: [X, g, *Ws, *acts]
    return step


def _torch(engine, weights, X, y, act, loss, dt):
    import torch

    torch.set_num_threads(1)
    tdt = {"float64": torch.float64, "float32": torch.float32}[dt.name]
    Ws = [
        (
            torch.tensor(W, dtype=tdt, requires_grad=True),
            torch.tensor(b, dtype=tdt, requires_grad=True),
        )
        for W, b in weights
    ]
    params = [p for pair in Ws for p in pair]
    opt = torch.optim.SGD(params, lr=LR)
    tX = torch.tensor(X)
    ty = torch.tensor(y)
    f = {"relu": torch.relu, "tanh": torch.tanh}[act]
    last = {}

    def step():
        h = tX
        for k, (W, b) in enumerate(Ws):
            h = h @ W + b
            if k < len(Ws) - 1:
                h = f(h)
        if loss == "mse":
            total = torch.mean((h - ty) ** 2)
        elif loss == "hinge":
            total = torch.relu(1 - h[:, 0] * ty).mean() + L2 * sum((p * p).sum() for p in params)
        else:
            total = torch.nn.functional.cross_entropy(h, ty)
        opt.zero_grad()
        total.backward()
        opt.step()
        last["out"] = h
        return total.item()

    step.arrays = lambda: [tX, *params, last["out"]]
    return step


def _jax(engine, weights, X, y, act, loss, dt):
    """JAX on the CPU: ``jax_jit`` compiles the whole step (loss, gradients, update) into
    one XLA program, ``jax_eager`` runs the same Python function op by op."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # float64 workloads; float32 stays float32
    params = [(jnp.asarray(W, dtype=dt), jnp.asarray(b, dtype=dt)) for W, b in weights]
    jX, jy = jnp.asarray(X), jnp.asarray(y)
    f = {"relu": jax.nn.relu, "tanh": jnp.tanh}[act]

    def loss_fn(params):
        h = jX
        for k, (W, b) in enumerate(params):
            h = h @ W + b
            if k < len(params) - 1:
                h = f(h)
        if loss == "mse":
            total = jnp.mean((h - jy) ** 2)
        elif loss == "hinge":
            total = jnp.mean(jax.nn.relu(1 - h[:, 0] * jy)) + L2 * sum(
                jnp.sum(W * W) + jnp.sum(b * b) for W, b in params
            )
        else:
            logp = jax.nn.log_softmax(h, axis=1)
            total = -jnp.mean(jnp.take_along_axis(logp, jy[:, None], axis=1))
        return total, h

    def sgd_step(params):
        (total, h), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        new = jax.tree_util.tree_map(lambda p, g: p - LR * g, params, grads)
        return new, total, h

    run = jax.jit(sgd_step) if engine == "jax_jit" else sgd_step
    state = {"params": params}

    def step():
        new, total, h = run(state["params"])
        jax.block_until_ready(new)
        state["params"], state["out"] = new, h
        return float(total)

    step.arrays = lambda: [jX, *(a for pair in state["params"] for a in pair), state["out"]]
    return step
