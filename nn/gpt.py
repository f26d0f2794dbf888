"""A tiny GPT: microGPT's model, in a tensor mode and a scalar mode that compute the same
numbers, with its tokenizer, its training step and its sampler.

Karpathy's microGPT (February 2026) is a whole GPT in plain Python on a scalar autograd
`Value`: token and position embeddings, RMSNorm, multi-head causal self-attention, a ReLU
MLP, residual connections, cross-entropy, Adam with a learning rate decaying linearly to
zero; n_embd 16, 4 heads, 1 layer, block 16 (4,192 parameters), trained one name at a time.

- :class:`MicroGPT` (tensor mode): one matrix per weight; a name's positions go through at
  once, a causal mask keeping each from looking ahead (:class:`nn.CausalSelfAttention`).
- :class:`ScalarGPT` (scalar mode): every weight its own Value, one position at a time with
  the lists of keys and values seen so far, as microGPT does; each dot product is one
  ``weighted_sum`` node, so the graph can be drawn and stepped through.

Both forward passes label what a drawing shows, by the same names: the residual stream
``x``, ``x + attn.0``, ``x + mlp.0``; the norms ``norm``, ``norm1.0`` (before the
attention), ``norm2.0`` (before the MLP); the ``logits`` and the ``loss``. So
``draw_dot(loss, collapse="module")`` reads embedding, norm, attention, MLP, logits and
loss from the graph.

>>> tok = Tokenizer(["ava", "eve"])
>>> model = MicroGPT(tok.vocab_size, n_embd=8, n_head=2, rng=0)
>>> model(np.array(tok.encode("ava")[:-1])).shape  # next-token logits at each position
(4, 4)
>>> abs(model.loss(tok.encode("ava")).item() - model.scalarize().loss(tok.encode("ava")).item()) < 1e-12
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd import Value, add_n, no_grad, topological_order, weighted_sum

from .attention import CausalSelfAttention, rms_norm
from .interop import TO_TORCH
from .layers import Embedding, Linear
from .losses import cross_entropy
from .model_config import SIZE_RULES
from .module import Module
from .optim import Adam

N_EMBD, N_HEAD, N_LAYER, BLOCK_SIZE = 16, 4, 1, 16
INIT_STD = 0.08  # microGPT's: every weight drawn from N(0, 0.08²)
LR, BETAS, ADAM_EPS = 0.01, (0.85, 0.99), 1e-8
NORM_EPS = 1e-5


class Tokenizer:
    """One token per character of the names, plus BOS (the last id), which marks both
    the start and the end of a name.

    >>> tok = Tokenizer(["ab", "ba"]); tok.encode("ab"), tok.decode([1, 0])
    ([2, 0, 1, 2], 'ba')
    """

    def __init__(self, names: list[str]) -> None:
        self.chars = sorted(set("".join(names)))
        self.bos = len(self.chars)
        self.vocab_size = len(self.chars) + 1
        self._ids = {c: i for i, c in enumerate(self.chars)}

    def encode(self, name: str) -> list[int]:
        return [self.bos, *(self._ids[c] for c in name), self.bos]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.chars[i] for i in ids)


# ------------------------------------------------------------------ tensor mode
class MicroGPT(Module):
    """microGPT's architecture: ids ``(..., T)`` -> next-token logits ``(..., T, vocab)``.
    No biases; RMSNorm without a learned weight; the embedding is normalized once before
    the blocks, and each block adds attention, then a ReLU MLP, to its input."""

    def __init__(
        self,
        vocab_size: int,
        n_embd: int = N_EMBD,
        n_head: int = N_HEAD,
        n_layer: int = N_LAYER,
        block_size: int = BLOCK_SIZE,
        rng: Any = None,
    ) -> None:
        self.vocab_size, self.n_embd, self.n_head = int(vocab_size), int(n_embd), int(n_head)
        self.n_layer, self.block_size = int(n_layer), int(block_size)
        gen = np.random.default_rng(rng)
        self.wte = Embedding(self.vocab_size, n_embd, rng=gen)
        self.wpe = Embedding(self.block_size, n_embd, rng=gen)
        layers = range(self.n_layer)
        self.attn = [CausalSelfAttention(n_embd, n_head, rng=gen) for _ in layers]
        self.fc1 = [Linear(n_embd, 4 * n_embd, bias=False, rng=gen) for _ in layers]
        self.fc2 = [Linear(4 * n_embd, n_embd, bias=False, rng=gen) for _ in layers]
        self.lm_head = Linear(n_embd, self.vocab_size, bias=False, rng=gen)
        for _, p in self.named_parameters():  # then microGPT's initialization
            p.data = gen.normal(0.0, INIT_STD, p.shape)

    def forward(self, ids: Any) -> Value:
        t = np.shape(ids)[-1]
        if not 1 <= t <= self.block_size:
            raise ValueError(f"MicroGPT: sequences of 1 to {self.block_size} tokens, got {t}")
        x = self.wte(ids) + self.wpe(np.arange(t))
        x.label = "x"  # (each part named for the drawings, the same names as ScalarGPT's)
        x = rms_norm(x, eps=NORM_EPS)
        x.label = "norm"
        for layer, (attn, fc1, fc2) in enumerate(zip(self.attn, self.fc1, self.fc2)):
            h = rms_norm(x, eps=NORM_EPS)
            h.label = f"norm1.{layer}"
            x = x + attn(h)
            x.label = f"x + attn.{layer}"
            h = rms_norm(x, eps=NORM_EPS)
            h.label = f"norm2.{layer}"
            x = x + fc2(fc1(h).relu())
            x.label = f"x + mlp.{layer}"
        logits = self.lm_head(x)
        logits.label = "logits"
        return logits

    def loss(self, tokens: list[int]) -> Value:
        """The mean cross-entropy of predicting each next token of one name."""
        tokens = tokens[: self.block_size + 1]
        loss = cross_entropy(self(np.array(tokens[:-1])), tokens[1:])
        loss.label = "loss"
        return loss

    def attention_weights(self, ids: Any) -> np.ndarray:
        """How much each position looked at each earlier one in the forward pass of
        ``ids`` (T tokens): an array ``(n_layer, n_head, T, T)``, row i of a head is query
        position i's softmax over the keys 0..i (zeros after i). Read from the graph: the
        attention's ``softmax`` nodes, in the order the layers ran.

        >>> w = MicroGPT(5, n_embd=8, n_head=2, rng=0).attention_weights([4, 0, 1])
        >>> w.shape, float(w[0, 0, 2].sum().round(12)), float(w[0, 0, 0, 1])
        ((1, 2, 3, 3), 1.0, 0.0)
        """
        logits = self(np.asarray(ids))
        found = [v.data for v in topological_order(logits) if v.op == "softmax"]
        return np.stack(found)

    def predictor(self, temperature: float) -> Callable[[int], np.ndarray]:
        """A function of the next token that gives the probabilities of the one after:
        the whole name so far goes through again at each call (no gradients)."""
        ids = []

        def probs_after(token: int) -> np.ndarray:
            ids.append(token)
            with no_grad():
                return (self(np.array(ids))[-1] / temperature).softmax().data

        return probs_after

    def scalarize(self) -> ScalarGPT:
        """The same numbers as a ScalarGPT (every weight its own Value)."""
        return ScalarGPT(self.state_dict(), self.n_head, self.n_layer)

    def config(self) -> dict:
        return {
            "vocab_size": self.vocab_size,
            "n_embd": self.n_embd,
            "n_head": self.n_head,
            "n_layer": self.n_layer,
            "block_size": self.block_size,
        }


def _named(v: Any, label: str) -> Any:
    """``v`` (a Value or a list of them) labelled for the drawings: the same names in
    both modes (one attribute set per value: nothing is computed)."""
    for value in v if isinstance(v, list) else [v]:
        value.label = label
    return v


def _microgpt_size(config: dict) -> tuple[int, int]:
    """The tensors and numbers a MicroGPT config asks for, computed before anything is
    built, so a model file cannot ask for a huge model (``nn.model_config``'s rules)."""
    keys = ("vocab_size", "n_embd", "n_layer", "block_size")
    v, n, layers, block = (config.get(k, 1) for k in keys)
    if not all(type(x) is int and 1 <= x <= 1_000_000 for x in (v, n, layers, block)):
        raise ValueError(f"MicroGPT: {', '.join(keys)} must be whole numbers from 1 to 1,000,000")
    return 3 + 6 * layers, (2 * v + block) * n + 12 * n * n * layers


SIZE_RULES["MicroGPT"] = _microgpt_size


# ------------------------------------------------------------------ scalar mode
class ScalarGPT:
    """The same model with every weight a scalar Value, computed one position at a time
    with the keys and values of the positions before (microGPT's ``gpt()``). A matrix is
    a list of rows, one per output unit (microGPT's layout), so each unit is one
    ``weighted_sum(row, x)`` node; ``state_dict()`` gives MicroGPT's names and layouts."""

    def __init__(self, state: dict[str, np.ndarray], n_head: int, n_layer: int) -> None:
        self.n_head, self.n_layer = n_head, n_layer
        self.block_size = len(state["wpe.weight"])
        self.rows: dict[str, list[list[Value]]] = {}
        for name, array in state.items():
            self.rows[name] = [
                [Value(float(w), label=_scalar_label(name, i, j)) for j, w in enumerate(row)]
                for i, row in enumerate(_by_row(name, array))
            ]

    def parameters(self) -> list[Value]:
        return [p for rows in self.rows.values() for row in rows for p in row]

    def state_dict(self) -> dict[str, np.ndarray]:
        return {
            name: _by_row(name, np.array([[p.data for p in row] for row in rows]))
            for name, rows in self.rows.items()
        }

    def position(self, token: int, pos: int, keys: list, values: list) -> list[Value]:
        """The logits after ``token`` at ``pos``; appends this position's keys and values."""
        w = self.rows
        x = _named([a + b for a, b in zip(w["wte.weight"][token], w["wpe.weight"][pos])], "x")
        x = _named(_rms_norm(x), "norm")
        for layer in range(self.n_layer):
            attn = {k: w[f"attn.{layer}.{k}"] for k in ("Wq", "Wk", "Wv", "Wo")}
            h = _named(_rms_norm(x), f"norm1.{layer}")
            q = _linear(h, attn["Wq"])
            keys[layer].append(_linear(h, attn["Wk"]))
            values[layer].append(_linear(h, attn["Wv"]))
            size = len(q) // self.n_head
            heads = []
            for s in range(0, len(q), size):
                scores = [
                    weighted_sum(q[s : s + size], k[s : s + size]) * size**-0.5 for k in keys[layer]
                ]
                weights = _softmax(scores)
                heads += [
                    weighted_sum(weights, [v[s + j] for v in values[layer]]) for j in range(size)
                ]
            x = _named([a + b for a, b in zip(_linear(heads, attn["Wo"]), x)], f"x + attn.{layer}")
            h = _named(_rms_norm(x), f"norm2.{layer}")
            hidden = [u.relu() for u in _linear(h, w[f"fc1.{layer}.W"])]
            x = _named(
                [a + b for a, b in zip(_linear(hidden, w[f"fc2.{layer}.W"]), x)], f"x + mlp.{layer}"
            )
        return _named(_linear(x, w["lm_head.W"]), "logits")

    def loss(self, tokens: list[int]) -> Value:
        n = min(self.block_size, len(tokens) - 1)
        keys: list[list] = [[] for _ in range(self.n_layer)]
        values: list[list] = [[] for _ in range(self.n_layer)]
        losses = []
        for pos in range(n):
            probs = _softmax(self.position(tokens[pos], pos, keys, values))
            losses.append(-probs[tokens[pos + 1]].log())
        return _named(add_n(losses) * (1.0 / n), "loss")

    def predictor(self, temperature: float) -> Callable[[int], np.ndarray]:
        """As MicroGPT's, one position per call: the keys and values of the positions
        before are kept in lists, as microGPT samples."""
        keys: list[list] = [[] for _ in range(self.n_layer)]
        values: list[list] = [[] for _ in range(self.n_layer)]

        def probs_after(token: int) -> np.ndarray:
            with no_grad():
                logits = self.position(token, len(keys[0]), keys, values)
                return np.array([p.data for p in _softmax([z / temperature for z in logits])])

        return probs_after


def _by_row(name: str, array: np.ndarray) -> np.ndarray:
    """An embedding is looked up by row as it is; a (nin, nout) matrix is read by output
    unit, so its rows are its columns (and back: the transpose is its own inverse)."""
    return array if name.endswith(".weight") else array.T


def _scalar_label(name: str, row: int, col: int) -> str:
    """A scalar weight's label: its index in MicroGPT's tensor of that name."""
    return f"{name}[{row},{col}]" if name.endswith(".weight") else f"{name}[{col},{row}]"


def _linear(x: list[Value], rows: list[list[Value]]) -> list[Value]:
    return [weighted_sum(row, x) for row in rows]


def _rms_norm(x: list[Value]) -> list[Value]:
    scale = (weighted_sum(x, x) * (1.0 / len(x)) + NORM_EPS) ** -0.5  # x·x: one node
    return [xi * scale for xi in x]


def _softmax(z: list[Value]) -> list[Value]:
    top = max(v.data for v in z)  # a constant: shifting by it changes no gradient
    exps = [(v - top).exp() for v in z]
    total = add_n(exps)
    return [e / total for e in exps]


# ------------------------------------------------------------------ training and sampling
GPT = Any  # a MicroGPT or a ScalarGPT: both have loss, parameters, predictor, block_size


def adam(net: GPT) -> Adam:
    """microGPT's optimizer: Adam with betas (0.85, 0.99); the rate is set every step."""
    return Adam(net.parameters(), lr=LR, betas=BETAS, eps=ADAM_EPS)


def train_step(net: GPT, opt: Adam, tokens: list[int], lr: float) -> float:
    """One step on one name: forward to the loss, backward, Adam at rate ``lr``."""
    loss = net.loss(tokens)
    opt.zero_grad()
    loss.backward()
    opt.lr = lr
    opt.step()
    return loss.item()


def train(
    net: GPT,
    names: list[str],
    tok: Tokenizer,
    steps: int,
    report: Callable[[int, list[float]], None] | None = None,
) -> list[float]:
    """``steps`` steps, one name each (in order, round and round), the learning rate
    falling linearly from ``LR`` to 0; returns the losses. ``report(step, losses)`` is
    called after each step."""
    opt = adam(net)
    losses: list[float] = []
    for step in range(steps):
        tokens = tok.encode(names[step % len(names)])
        losses.append(train_step(net, opt, tokens, LR * (1 - step / steps)))
        if report:
            report(step, losses)
    return losses


def sample(net: GPT, tok: Tokenizer, count: int, seed: int, temperature: float = 0.5) -> list[str]:
    """``count`` new names, each drawn one character at a time from the model's
    probabilities (sharpened by ``temperature`` < 1) until it gives BOS or fills the block."""
    gen = np.random.default_rng(seed)
    names = []
    for _ in range(count):
        probs_after, token = net.predictor(temperature), tok.bos
        ids: list[int] = []
        while len(ids) < net.block_size:
            token = int(gen.choice(tok.vocab_size, p=probs_after(token)))
            if token == tok.bos:
                break
            ids.append(token)
        names.append(tok.decode(ids))
    return names


def shuffled(names: list[str], seed: int) -> list[str]:
    """``names`` in a random order fixed by ``seed``."""
    return [names[i] for i in np.random.default_rng(seed).permutation(len(names))]


# ------------------------------------------------------------------ PyTorch
def _microgpt_to_torch(model: MicroGPT, path: str) -> tuple[Any, list]:
    """to_torch's entry for MicroGPT: its parts through their own entries, joined by a
    torch module that runs microGPT's forward."""
    import torch

    class TorchMicroGPT(torch.nn.Module):
        def __init__(self, parts: dict) -> None:
            super().__init__()
            for name, part in parts.items():
                setattr(self, name, part)

        wte: Any  # (set from parts; typed for mypy, which sees torch's Tensor | Module)
        wpe: Any
        attn: Any
        fc1: Any
        fc2: Any
        lm_head: Any

        def forward(self, ids: Any) -> Any:
            norm = lambda x: torch.nn.functional.rms_norm(x, x.shape[-1:], eps=NORM_EPS)
            x = norm(self.wte(ids) + self.wpe(torch.arange(ids.shape[-1])))
            for attn, fc1, fc2 in zip(self.attn, self.fc1, self.fc2):
                x = x + attn(norm(x))
                x = x + fc2(torch.relu(fc1(norm(x))))
            return self.lm_head(x)

    parts, links = {}, []
    for name, child in model.named_children():
        part, child_links = TO_TORCH[type(child)](child, f"{path}{name}.")
        parts[name] = part
        links += [(f"{name}.{t}", _read_under(name, read)) for t, read in child_links]
    lists = ("attn", "fc1", "fc2")
    joined = {
        n: torch.nn.ModuleList([parts.pop(f"{n}.{i}") for i in range(model.n_layer)]) for n in lists
    }
    return TorchMicroGPT({**parts, **joined}), links


def _read_under(prefix: str, read: Any) -> Any:
    return lambda get: read(lambda name: get(f"{prefix}.{name}"))


TO_TORCH[MicroGPT] = _microgpt_to_torch
