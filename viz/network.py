"""``draw_mlp``: a network as the articles draw it, neurons in columns, weighted edges."""

from __future__ import annotations

from typing import Any

import numpy as np

from .graph import fmt
from .render import Drawing
from .theme import NEGATIVE, POSITIVE


def layer_matrices(model: Any, show: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer, W of shape (nin, nout): weights, or their gradients."""
    pick = (lambda v: v.data) if show == "weights" else (lambda v: v.grad)
    mats = []
    for layer in model.layers:
        if hasattr(layer, "neurons"):
            W = np.array([[pick(w) for w in n.w] for n in layer.neurons], dtype=float).T
            b = np.array([pick(n.b) for n in layer.neurons], dtype=float)
        else:
            W = np.asarray(pick(layer.W), dtype=float)
            b = (
                np.asarray(pick(layer.b), dtype=float)
                if layer.b is not None
                else np.zeros(W.shape[1])
            )
        mats.append((W, b))
    return mats


_NEURON = {"shape": "circle", "style": "filled", "width": "0.6", "fixedsize": "true"}


def _hex(rgb: tuple[int, int, int], strength: float) -> str:
    t = 0.25 + 0.75 * strength
    r, g, b = (round(255 + (c - 255) * t) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def draw_mlp(
    model: Any, show: str = "weights", max_neurons: int = 24, input_names: list[str] | None = None
) -> Drawing:
    """Draw an MLP: input, hidden and output neurons in columns, one edge per weight,
    coloured by sign (blue positive, red negative) and as wide as its magnitude.
    ``show="grads"`` draws the gradients of the weights instead. A layer wider than
    ``max_neurons`` shows its first neurons and a note.

    >>> from nn import MLP
    >>> "->" in draw_mlp(MLP(2, [3, 1], rng=0)).source
    True
    """
    if show not in ("weights", "grads"):
        raise ValueError(f"draw_mlp: show must be 'weights' or 'grads', got {show!r}")
    if not hasattr(model, "layers"):
        raise TypeError(f"draw_mlp needs an MLP, got {type(model).__name__}")
    mats = layer_matrices(model, show)
    sizes = [mats[0][0].shape[0]] + [W.shape[1] for W, _ in mats]
    acts = getattr(model, "activations", ["?"] * len(mats))
    biggest = max(float(np.max(np.abs(W))) for W, _ in mats) or 1.0
    dot = Drawing(
        format="svg",
        graph_attr={
            "rankdir": "LR",
            "splines": "line",
            "nodesep": "0.25",
            "ranksep": "1.4",
            "fontname": "Helvetica",
        },
    )
    dot.attr("node", fontname="Helvetica", fontsize="10")
    shown = [min(n, max_neurons) for n in sizes]
    for col, n in enumerate(sizes):
        # One rank per layer; the invisible chain title -> n_0 -> n_1 -> ... keeps the
        # neurons in their order, top to bottom (clusters would let dot reorder them).
        with dot.subgraph(name=f"layer_{col}") as sub:
            sub.attr(rank="same")
            title = (
                "input" if col == 0 else ("output" if col == len(sizes) - 1 else f"hidden {col}")
            )
            act = "" if col == 0 else f"\n{acts[col - 1]}"
            chain = [f"title{col}"]
            sub.node(chain[0], f"{title}{act}", shape="plaintext", fontsize="11")
            for i in range(shown[col]):
                chain.append(f"n{col}_{i}")
                if col == 0:
                    text = input_names[i] if input_names and i < len(input_names) else f"x{i + 1}"
                    sub.node(chain[-1], text, fillcolor="#eeeeee", fontsize="9", **_NEURON)
                else:
                    b = float(mats[col - 1][1][i])
                    sub.node(chain[-1], f"b={b:.2g}", fillcolor="#fff8e1", fontsize="8", **_NEURON)
            if n > shown[col]:
                chain.append(f"more{col}")
                sub.node(chain[-1], f"+{n - shown[col]} more", shape="plaintext", fontsize="9")
            for a, b in zip(chain, chain[1:]):
                sub.edge(a, b, style="invis")
    for col, (W, _) in enumerate(mats):
        for i in range(shown[col]):
            for j in range(shown[col + 1]):
                w = float(W[i, j])
                strength = min(1.0, abs(w) / biggest)
                label = fmt(w) if W.shape[1] == 1 or W.size <= 4 else ""
                dot.edge(
                    f"n{col}_{i}",
                    f"n{col + 1}_{j}",
                    color=_hex(POSITIVE if w >= 0 else NEGATIVE, strength),
                    penwidth=f"{0.4 + 3.6 * strength:.2f}",
                    arrowsize="0.4",
                    taillabel=label,
                    labeldistance="3.5",
                    labelangle="18",
                    fontsize="8",
                    fontcolor="#333333",
                )
    what = "weight" if show == "weights" else "gradient of the weight"
    dot.attr(
        label=f"edge colour: sign of the {what} (blue +, red -); width: its size",
        labelloc="b",
        fontsize="10",
        fontcolor="#555555",
    )
    return dot
