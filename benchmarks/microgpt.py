"""The microGPT workload: one training step (forward over one name, backward, Adam with
microGPT's linearly decaying rate) of microGPT's model, for every engine.

All engines start from ``nn.gpt.MicroGPT``'s weights for ``SEED`` and train on the same
name every step, so their first losses must agree. Engines:

- ``microgpt_value``: microGPT's own scalar ``Value``, written here from its description
  (a plain class holding its number, its gradient, its children and the local gradients
  towards them; backward in topological order), running microGPT-style model code: the
  floor of "no library";
- ``autograd_value``: that same model code with ``autograd.Value`` dropped in;
- ``backproplab_scalar``: ``nn.gpt``'s scalar mode (each dot product one
  ``weighted_sum`` node, ``nn.Adam``); ``backproplab``: its tensor mode;
- ``torch`` (one thread) and ``jax_jit``: the same model written in each.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nn import datasets, gpt

SEED = 1337
NAME = "kendra"  # one name of a usual length: 7 positions
NUM_STEPS = 1000  # microGPT's: the rate falls from LR to 0 over this many steps


def setup_microgpt(engine: str):
    tok = gpt.Tokenizer(datasets.names())
    tokens = tok.encode(NAME)
    model = gpt.MicroGPT(tok.vocab_size, rng=SEED)
    steps = iter(range(10**9))

    def rate() -> float:
        return gpt.LR * (1 - next(steps) % NUM_STEPS / NUM_STEPS)

    if engine in ("backproplab", "backproplab_scalar"):
        net = model if engine == "backproplab" else model.scalarize()
        opt = gpt.adam(net)
        return lambda: gpt.train_step(net, opt, tokens, rate())
    if engine in ("microgpt_value", "autograd_value"):
        if engine == "microgpt_value":
            value_class = PlainValue
        else:
            from autograd import Value as value_class
        style = MicroGPTStyle(value_class, microgpt_state(model.state_dict()), model.n_head)
        return lambda: style.train_step(tokens, rate())
    if engine == "torch":
        return _torch_step(model, tokens, rate)
    if engine == "jax_jit":
        return _jax_step(model, tokens, rate)
    raise ValueError(engine)


# ------------------------------------------------------------------ microGPT's own Value
class PlainValue:
    """A scalar that remembers its children and the local gradient towards each; the
    whole engine microGPT trains with (written here from its description)."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data: float, children: tuple = (), local_grads: tuple = ()) -> None:
        self.data, self.grad = data, 0
        self._children, self._local_grads = children, local_grads

    def __add__(self, other: Any) -> PlainValue:
        other = other if isinstance(other, PlainValue) else PlainValue(other)
        return PlainValue(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other: Any) -> PlainValue:
        other = other if isinstance(other, PlainValue) else PlainValue(other)
        return PlainValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k: float) -> PlainValue:
        return PlainValue(self.data**k, (self,), (k * self.data ** (k - 1),))

    def log(self) -> PlainValue:
        return PlainValue(math.log(self.data), (self,), (1 / self.data,))

    def exp(self) -> PlainValue:
        e = math.exp(self.data)
        return PlainValue(e, (self,), (e,))

    def relu(self) -> PlainValue:
        return PlainValue(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self) -> PlainValue:
        return self * -1

    def __radd__(self, other: Any) -> PlainValue:
        return self + other

    def __sub__(self, other: Any) -> PlainValue:
        return self + (-other)

    def __rsub__(self, other: Any) -> PlainValue:
        return other + (-self)

    def __rmul__(self, other: Any) -> PlainValue:
        return self * other

    def __truediv__(self, other: Any) -> PlainValue:
        return self * other**-1

    def __rtruediv__(self, other: Any) -> PlainValue:
        return other * self**-1

    def backward(self) -> None:
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # a depth-first walk without recursion: children before parents
            v, done = stack.pop()
            if done:
                order.append(v)
            elif v not in seen:
                seen.add(v)
                stack.append((v, True))
                stack.extend((c, False) for c in v._children)
        self.grad = 1
        for v in reversed(order):
            for child, local in zip(v._children, v._local_grads):
                child.grad += local * v.grad


# ------------------------------------------------------------------ microGPT-style code
def microgpt_state(state: dict[str, np.ndarray]) -> dict[str, list[list[float]]]:
    """MicroGPT's state dict in microGPT's names and layout (each matrix (nout, nin))."""
    names = {"wte.weight": "wte", "wpe.weight": "wpe", "lm_head.W": "lm_head"}
    for key in state:
        part, _, rest = key.partition(".")
        if part in ("attn", "fc1", "fc2"):
            layer, _, weight = rest.partition(".")
            what = f"attn_w{weight[1].lower()}" if part == "attn" else f"mlp_{part}"
            names[key] = f"layer{layer}.{what}"
    return {names[k]: (a if k.endswith(".weight") else a.T).tolist() for k, a in state.items()}


class MicroGPTStyle:
    """microGPT's model code as it is written for its own Value: lists of Values, Python's
    ``sum``, ``**``, ``p.grad = 0`` and ``p.data -= ...``; ``Value`` is any class with
    that interface (microGPT's, or ``autograd.Value`` as a drop-in)."""

    def __init__(self, Value: type, state: dict, n_head: int) -> None:
        self.state = {k: [[Value(w) for w in row] for row in m] for k, m in state.items()}
        self.params = [p for m in self.state.values() for row in m for p in row]
        self.n_head, self.n_layer = n_head, sum(k.endswith("attn_wq") for k in state)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.t = 0

    def linear(self, x: list, w: list) -> list:
        return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]

    def softmax(self, logits: list) -> list:
        top = max(z.data for z in logits)
        exps = [(z - top).exp() for z in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def rmsnorm(self, x: list) -> list:
        scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5
        return [xi * scale for xi in x]

    def gpt(self, token: int, pos: int, keys: list, values: list) -> list:
        sd = self.state
        x = self.rmsnorm([t + p for t, p in zip(sd["wte"][token], sd["wpe"][pos])])
        for li in range(self.n_layer):
            residual = x
            x = self.rmsnorm(x)
            q = self.linear(x, sd[f"layer{li}.attn_wq"])
            keys[li].append(self.linear(x, sd[f"layer{li}.attn_wk"]))
            values[li].append(self.linear(x, sd[f"layer{li}.attn_wv"]))
            hd = len(q) // self.n_head
            out = []
            for h in range(0, len(q), hd):
                logits = [sum(q[h + j] * k[h + j] for j in range(hd)) / hd**0.5 for k in keys[li]]
                weights = self.softmax(logits)
                out += [sum(w * v[h + j] for w, v in zip(weights, values[li])) for j in range(hd)]
            x = [a + b for a, b in zip(self.linear(out, sd[f"layer{li}.attn_wo"]), residual)]
            residual = x
            x = [xi.relu() for xi in self.linear(self.rmsnorm(x), sd[f"layer{li}.mlp_fc1"])]
            x = [a + b for a, b in zip(self.linear(x, sd[f"layer{li}.mlp_fc2"]), residual)]
        return self.linear(x, sd["lm_head"])

    def loss(self, tokens: list[int]) -> Any:
        n = min(len(self.state["wpe"]), len(tokens) - 1)
        keys, values = [[] for _ in range(self.n_layer)], [[] for _ in range(self.n_layer)]
        losses = []
        for pos in range(n):
            probs = self.softmax(self.gpt(tokens[pos], pos, keys, values))
            losses.append(-probs[tokens[pos + 1]].log())
        return (1 / n) * sum(losses)

    def train_step(self, tokens: list[int], lr: float, b1=0.85, b2=0.99, eps=1e-8) -> float:
        loss = self.loss(tokens)
        loss.backward()
        self.t += 1
        for i, p in enumerate(self.params):
            self.m[i] = b1 * self.m[i] + (1 - b1) * p.grad
            self.v[i] = b2 * self.v[i] + (1 - b2) * p.grad**2
            m_hat = self.m[i] / (1 - b1**self.t)
            v_hat = self.v[i] / (1 - b2**self.t)
            p.data -= lr * m_hat / (v_hat**0.5 + eps)
            p.grad = 0
        return loss.data


# ------------------------------------------------------------------ PyTorch and JAX
def torch_loss(P: dict, ids: Any, targets: Any, n_head: int) -> Any:
    """The model in PyTorch, on tensors named and laid out as MicroGPT's state dict."""
    import torch
    import torch.nn.functional as F

    t, c = len(ids), P["wte.weight"].shape[1]
    norm = lambda x: F.rms_norm(x, (c,), eps=1e-5)
    x = norm(P["wte.weight"][ids] + P["wpe.weight"][:t])
    for li in range(sum(k.endswith(".Wq") for k in P)):
        h = norm(x)
        q, k, v = (
            (h @ P[f"attn.{li}.{w}"]).view(t, n_head, -1).transpose(0, 1)
            for w in ("Wq", "Wk", "Wv")
        )
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + y.transpose(0, 1).reshape(t, c) @ P[f"attn.{li}.Wo"]
        x = x + torch.relu(norm(x) @ P[f"fc1.{li}.W"]) @ P[f"fc2.{li}.W"]
    return F.cross_entropy(x @ P["lm_head.W"], targets)


def _torch_step(model: Any, tokens: list[int], rate: Any):
    import torch

    torch.set_num_threads(1)
    P = {k: torch.tensor(a, requires_grad=True) for k, a in model.state_dict().items()}
    opt = torch.optim.Adam(P.values(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)
    ids, targets = torch.tensor(tokens[:-1]), torch.tensor(tokens[1:])

    def step():
        loss = torch_loss(P, ids, targets, model.n_head)
        opt.zero_grad()
        loss.backward()
        opt.param_groups[0]["lr"] = rate()
        opt.step()
        return loss.item()

    return step


def _jax_step(model: Any, tokens: list[int], rate: Any):
    """The whole step (loss, gradients, Adam) compiled by ``jax.jit`` into one program."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    n_head = model.n_head
    ids, targets = jnp.asarray(tokens[:-1]), jnp.asarray(tokens[1:])
    t = len(tokens) - 1
    causal = jnp.tril(jnp.ones((t, t), dtype=bool))

    def norm(x):
        return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + 1e-5)

    def loss_fn(P):
        c = P["wte.weight"].shape[1]
        x = norm(P["wte.weight"][ids] + P["wpe.weight"][:t])
        for li in range(model.n_layer):
            h = norm(x)
            q, k, v = (
                (h @ P[f"attn.{li}.{w}"]).reshape(t, n_head, -1).transpose(1, 0, 2)
                for w in ("Wq", "Wk", "Wv")
            )
            scores = jnp.where(causal, q @ k.transpose(0, 2, 1) / jnp.sqrt(q.shape[-1]), -jnp.inf)
            y = jax.nn.softmax(scores, axis=-1) @ v
            x = x + y.transpose(1, 0, 2).reshape(t, c) @ P[f"attn.{li}.Wo"]
            x = x + jax.nn.relu(norm(x) @ P[f"fc1.{li}.W"]) @ P[f"fc2.{li}.W"]
        logp = jax.nn.log_softmax(x @ P["lm_head.W"], axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, targets[:, None], axis=1))

    @jax.jit
    def adam_step(P, m, v, count, lr):
        loss, g = jax.value_and_grad(loss_fn)(P)
        b1, b2 = 0.85, 0.99
        m = jax.tree_util.tree_map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
        v = jax.tree_util.tree_map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
        step = lr / (1 - b1**count)
        root = jnp.sqrt(1 - b2**count)
        P = jax.tree_util.tree_map(
            lambda p, a, b: p - step * a / (jnp.sqrt(b) / root + 1e-8), P, m, v
        )
        return P, m, v, loss

    P = {k: jnp.asarray(a) for k, a in model.state_dict().items()}
    zeros = {k: jnp.zeros_like(a) for k, a in P.items()}
    state = {"P": P, "m": zeros, "v": zeros, "count": 0}

    def step():
        state["count"] += 1
        P, m, v, loss = adam_step(state["P"], state["m"], state["v"], state["count"], rate())
        jax.block_until_ready(P)
        state.update(P=P, m=m, v=v)
        return float(loss)

    return step
