"""A tiny GPT on backproplab: microGPT's model, trained on census first names.

The model is ``nn.gpt.MicroGPT`` (Karpathy's microGPT: embeddings, RMSNorm, 4-head causal
self-attention, a ReLU MLP, 4,192 parameters), in one of two modes that compute the same
numbers:

- ``--mode tensor`` (the default): one matrix per weight, a name's positions at once;
- ``--mode scalar``: every weight its own Value, one position at a time (``ScalarGPT``),
  as microGPT itself runs.

It prints the loss falling, samples new names, saves the model (safetensors), reloads it,
runs it in PyTorch (``to_torch``, if installed) and tries the ONNX export. Lesson 09
(``lessons/09_tiny_gpt.ipynb``) opens the model up: attention weights, the graph, the loss.

The names come from the ``names`` package (the US census first names, nothing is
downloaded): pip install -e ".[data]"   (or: pip install names==0.3.0)

Run:  python examples/microgpt.py [--mode scalar] [--steps 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from nn import Module, datasets
from nn.gpt import MicroGPT, Tokenizer, sample, shuffled, train

OUT = Path(__file__).resolve().parent.parent / "out"


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
        names = datasets.names()
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
