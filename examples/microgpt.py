"""A tiny GPT on backproplab: microGPT's model, trained on census first names.

Karpathy's microGPT (February 2026) is a whole GPT in plain Python on a scalar autograd
`Value`: token and position embeddings, RMSNorm, 4-head causal self-attention, a ReLU MLP,
residual connections, cross-entropy, Adam with a learning rate decaying linearly to zero;
n_embd 16, 4 heads, 1 layer, block 16, trained one name at a time. Here is the same
model written with backproplab, in two modes that compute the same numbers:

- ``--mode tensor`` (the default): one matrix per weight; a name's positions go through
  at once, a causal mask keeping each from looking ahead (``nn.CausalSelfAttention``).
- ``--mode scalar``: every weight its own Value, one position at a time with the list of
  keys and values seen so far, as microGPT does; each dot product is one
  ``weighted_sum`` node, so the graph can be drawn and stepped through.

It prints the loss falling, samples new names, saves the model (safetensors), reloads it,
runs it in PyTorch (``to_torch``, if installed) and tries the ONNX export.

The names come from the ``names`` package (the US census first names, nothing is
downloaded): pip install -e ".[data]"   (or: pip install names==0.3.0)

Run:  python examples/microgpt.py [--mode scalar] [--steps 1000]
"""

from __future__ import annotations

import argparse
import importlib.resources
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value, add_n, no_grad, weighted_sum
from nn import (
    Adam,
    CausalSelfAttention,
    Embedding,
    Linear,
    Module,
    cross_entropy,
    rms_norm,
)
from nn.interop import TO_TORCH
from nn.model_config import SIZE_RULES

OUT = Path(__file__).resolve().parent.parent / "out"
N_EMBD, N_HEAD, N_LAYER, BLOCK_SIZE = 16, 4, 1, 16
INIT_STD = 0.08  # microGPT's: every weight drawn from N(0, 0.08²)
LR, BETAS, ADAM_EPS = 0.01, (0.85, 0.99), 1e-8
NORM_EPS = 1e-5

# ------------------------------------------------------------------ the names
NAME_FILES = ("dist.female.first", "dist.male.first")  # 4,275 + 1,219 census names
MAX_FILE_BYTES = 1 << 20  # each file is under 150 KB
CENSUS_LINE = re.compile(r"([A-Z]{1,32}) +\d+\.\d+ +\d+\.\d+ +\d+")
INSTALL_HINT = 'pip install -e ".[data]" (or: pip install names==0.3.0)'


def load_names(folder: Any = None) -> list[str]:
    """The census first names shipped by the ``names`` package (or in ``folder``),
    lower-cased, each once, in file order (female then male names, most frequent first).
    Every file is read to at most 1 MB and every line must be ``NAME freq cumul rank``:
    anything else is one ``ValueError`` naming the file and the line.
    """
    if folder is None:
        try:
            folder = importlib.resources.files("names")
        except ModuleNotFoundError:
            raise ValueError(f"the census names are not installed: {INSTALL_HINT}") from None
    found: dict[str, None] = {}
    for file_name in NAME_FILES:
        try:
            with (folder / file_name).open("rb") as f:
                raw = f.read(MAX_FILE_BYTES + 1)
        except OSError:
            raise ValueError(f"no names file {file_name} in {folder}: {INSTALL_HINT}") from None
        if len(raw) > MAX_FILE_BYTES:
            raise ValueError(
                f"{file_name} is larger than {MAX_FILE_BYTES:,} bytes: not a names file"
            )
        for number, line in enumerate(raw.split(b"\n"), 1):
            text = line.decode("ascii", "replace").strip()
            if not text:
                continue
            match = CENSUS_LINE.fullmatch(text)
            if match is None:
                raise ValueError(
                    f"{file_name} line {number}: expected 'NAME freq cumulative rank', "
                    f"got {text[:40]!r}"
                )
            found.setdefault(match.group(1).lower(), None)
    if not found:
        raise ValueError(f"the names files in {folder} hold no names")
    return list(found)


class Tokenizer:
    """One token per character of the names, plus BOS (the last id), which marks both
    the start and the end of a name."""

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
        x = rms_norm(self.wte(ids) + self.wpe(np.arange(t)), eps=NORM_EPS)
        for attn, fc1, fc2 in zip(self.attn, self.fc1, self.fc2):
            x = x + attn(rms_norm(x, eps=NORM_EPS))
            x = x + fc2(fc1(rms_norm(x, eps=NORM_EPS)).relu())
        return self.lm_head(x)

    def loss(self, tokens: list[int]) -> Value:
        """The mean cross-entropy of predicting each next token of one name."""
        tokens = tokens[: self.block_size + 1]
        return cross_entropy(self(np.array(tokens[:-1])), tokens[1:])

    def predictor(self, temperature: float) -> Any:
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
        x = _rms_norm([a + b for a, b in zip(w["wte.weight"][token], w["wpe.weight"][pos])])
        for layer in range(self.n_layer):
            attn = {k: w[f"attn.{layer}.{k}"] for k in ("Wq", "Wk", "Wv", "Wo")}
            h = _rms_norm(x)
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
            x = [a + b for a, b in zip(_linear(heads, attn["Wo"]), x)]
            hidden = [u.relu() for u in _linear(_rms_norm(x), w[f"fc1.{layer}.W"])]
            x = [a + b for a, b in zip(_linear(hidden, w[f"fc2.{layer}.W"]), x)]
        return _linear(x, w["lm_head.W"])

    def loss(self, tokens: list[int]) -> Value:
        n = min(self.block_size, len(tokens) - 1)
        keys, values = [[] for _ in range(self.n_layer)], [[] for _ in range(self.n_layer)]
        losses = []
        for pos in range(n):
            probs = _softmax(self.position(tokens[pos], pos, keys, values))
            losses.append(-probs[tokens[pos + 1]].log())
        return add_n(losses) * (1.0 / n)

    def predictor(self, temperature: float) -> Any:
        """As MicroGPT's, one position per call: the keys and values of the positions
        before are kept in lists, as microGPT samples."""
        keys, values = [[] for _ in range(self.n_layer)], [[] for _ in range(self.n_layer)]

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
def adam(net: Any) -> Adam:
    """microGPT's optimizer: Adam with betas (0.85, 0.99); the rate is set every step."""
    return Adam(net.parameters(), lr=LR, betas=BETAS, eps=ADAM_EPS)


def train_step(net: Any, opt: Adam, tokens: list[int], lr: float) -> float:
    """One step on one name: forward to the loss, backward, Adam at rate ``lr``."""
    loss = net.loss(tokens)
    opt.zero_grad()
    loss.backward()
    opt.lr = lr
    opt.step()
    return loss.item()


def train(net: Any, names: list[str], tok: Tokenizer, steps: int, report: Any = None) -> list:
    """``steps`` steps, one name each, the learning rate falling linearly to 0."""
    opt = adam(net)
    losses = []
    for step in range(steps):
        tokens = tok.encode(names[step % len(names)])
        losses.append(train_step(net, opt, tokens, LR * (1 - step / steps)))
        if report:
            report(step, losses)
    return losses


def sample(net: Any, tok: Tokenizer, count: int, seed: int, temperature: float = 0.5) -> list:
    gen = np.random.default_rng(seed)
    names = []
    for _ in range(count):
        probs_after, token, ids = net.predictor(temperature), tok.bos, []
        while len(ids) < net.block_size:  # (a name fills the block at most)
            token = int(gen.choice(tok.vocab_size, p=probs_after(token)))
            if token == tok.bos:
                break
            ids.append(token)
        names.append(tok.decode(ids))
    return names


def shuffled(names: list[str], seed: int) -> list[str]:
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


def check_in_torch(model: MicroGPT, ids: np.ndarray) -> None:
    try:
        import torch
    except ImportError:
        print('PyTorch: not installed (pip install -e ".[torch]"), skipped')
        return
    from nn import to_torch

    theirs = to_torch(model)
    with torch.no_grad():
        logits = theirs(torch.from_numpy(ids)).numpy()
    diff = np.abs(logits - model(ids).data).max()
    torch.save(theirs.state_dict(), OUT / "microgpt.pt")
    print(f"PyTorch: the same logits to {diff:.1e}; wrote {OUT / 'microgpt.pt'}")


def try_onnx(model: MicroGPT, ids: np.ndarray) -> None:
    try:
        from nn import export_onnx

        export_onnx(model, ids[None], OUT / "microgpt.onnx")
        print(f"ONNX: wrote {OUT / 'microgpt.onnx'}")
    except ImportError:
        print('ONNX: not installed (pip install -e ".[onnx]"), skipped')
    except ValueError as err:  # an op the exporter cannot translate yet
        reason = str(err).split("; supported")[0]
        print(f"ONNX: skipped, the exporter cannot translate this model yet ({reason})")


# ------------------------------------------------------------------ the story
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="microgpt.py", description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("tensor", "scalar"), default="tensor")
    parser.add_argument("--steps", type=int, default=1000, help="training steps (one name each)")
    parser.add_argument("--samples", type=int, default=10, help="names to sample after training")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if not 1 <= args.steps <= 1_000_000 or not 0 <= args.samples <= 1000:
        parser.error("--steps must be in 1..1,000,000 and --samples in 0..1,000")
    try:
        names = load_names()
    except ValueError as err:
        print(f"microgpt: {err}", file=sys.stderr)
        return 2
    tok = Tokenizer(names)
    order = shuffled(names, args.seed)
    model = MicroGPT(tok.vocab_size, rng=args.seed)
    net = model if args.mode == "tensor" else model.scalarize()
    print(
        f"{len(names):,} names, vocabulary {tok.vocab_size}, {len(net.parameters()):,} "
        f"{'scalar Values' if args.mode == 'scalar' else 'weight matrices'}, "
        f"{sum(p.size for p in model.parameters()):,} parameters, {args.mode} mode"
    )
    print("samples before training:", " ".join(sample(net, tok, 5, args.seed)))
    every = max(1, args.steps // 10)

    def report(step: int, losses: list) -> None:
        if (step + 1) % every == 0 or step + 1 == args.steps:
            recent = losses[-every:]
            print(
                f"step {step + 1:5d} / {args.steps}  loss {sum(recent) / len(recent):.4f}  "
                f"(mean of the last {len(recent)})"
            )

    start = time.perf_counter()
    train(net, order, tok, args.steps, report)
    seconds = time.perf_counter() - start
    print(f"{seconds:.1f} s, {seconds / args.steps * 1e3:.2f} ms per step")
    known = set(names)
    made = sample(net, tok, args.samples, args.seed)
    print("samples after training:", " ".join(n + ("" if n in known else "*") for n in made))
    print("(* not in the census list)")

    if net is not model:
        model.load_state_dict(net.state_dict())
    OUT.mkdir(exist_ok=True)
    path = OUT / "microgpt.safetensors"
    model.save(path)
    again = Module.load(path)
    ids = np.array(tok.encode(order[0])[:-1])
    same = np.array_equal(again(ids).data, model(ids).data)
    print(f"saved {path} and loaded it back: {'the same logits' if same else 'DIFFERENT logits'}")
    check_in_torch(again, ids)
    try_onnx(again, ids)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
