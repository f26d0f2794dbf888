"""``draw_mlp``: a network as the articles draw it, neurons in columns, weighted edges."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from nn.activations import REGISTRY
from nn.names import input_name, neuron_name, output_name

from .format import fmt
from .rendering import Drawing
from .theme import FONT, NEUTRAL_HEX, get_theme, signed_colour

MAX_EDGE_LABELS = 12  # between two layers; more and a weight shows on hover only


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


def forward_values(model: Any, x: Any) -> list[np.ndarray]:
    """Every layer's outputs for one sample ``x`` (the inputs first), computed by the
    engine's activations from the model's numbers."""
    acts = getattr(model, "activations", ["linear"] * len(model.layers))
    outs = [np.asarray(x, dtype=float).reshape(-1)]
    for (W, b), act in zip(layer_matrices(model, "weights"), acts):
        outs.append(REGISTRY[act].curve(outs[-1] @ W + b)[0])
    return outs


def draw_mlp(
    model: Any,
    show: str = "weights",
    max_neurons: int = 24,
    input_names: list[str] | None = None,
    x: Any = None,
    theme: str = "default",
) -> Drawing:
    """Draw an MLP: input, hidden and output neurons in columns, one edge per weight,
    coloured by sign (blue positive, orange negative), saturated and wide by size.
    ``show="grads"`` draws the gradients of the weights instead. Each neuron shows its
    bias (the circle grows to fit); with a sample ``x`` it also shows its output and is
    filled by it. Every neuron, input, output and weight is named as in every other
    picture (``L1.n2``, ``x1``, ``out1``, ``L1.n2.w1`` on hover). A weight's number is
    written on its edge when there are few edges between two layers, else it shows on
    hover. A layer wider than ``max_neurons``
    shows its first neurons and a note. ``theme="projector"`` for a classroom.

    >>> from nn import MLP
    >>> "->" in draw_mlp(MLP(2, [3, 1], rng=0)).source
    True
    """
    if show not in ("weights", "grads"):
        raise ValueError(f"draw_mlp: show must be 'weights' or 'grads', got {show!r}")
    if not hasattr(model, "layers"):
        raise TypeError(f"draw_mlp needs an MLP, got {type(model).__name__}")
    t = get_theme(theme)
    mats = layer_matrices(model, show)
    params = layer_matrices(model, "weights") if show == "grads" else mats
    sizes = [mats[0][0].shape[0]] + [W.shape[1] for W, _ in mats]
    acts = getattr(model, "activations", ["?"] * len(mats))
    outs = forward_values(model, x) if x is not None else None
    biggest = max(float(np.max(np.abs(W))) for W, _ in mats) or 1.0
    shown = [min(n, max_neurons) for n in sizes]
    tall = max(shown)
    dot = Drawing(
        format="svg",
        graph_attr={
            "rankdir": "LR",
            "splines": "line",
            "nodesep": "0.12",
            # wide columns for tall layers keep the drawing landscape and the edges apart
            "ranksep": f"{max(1.4, 0.33 * tall) * (1 + 0.3 * (t.font > 12)):.2f}",
            "fontname": FONT,
            "bgcolor": "white",
        },
    )
    dot.attr("node", fontname=FONT, fontsize=str(t.font))
    dot.attr("edge", fontname=FONT, fontsize=str(t.small))
    neuron = {"shape": "circle", "style": "filled", "fixedsize": "true"}
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
            sub.node(chain[0], f"{title}{act}", shape="plaintext", fontsize=str(t.title))
            texts, fills = [], []
            for i in range(shown[col]):
                value = f" = {_short(outs[col][i])}" if outs is not None else ""
                if col == 0:
                    name = input_names[i] if input_names and i < len(input_names) else input_name(i)
                    lines = [name + value]
                else:
                    lines = [neuron_name(col - 1, i)]
                    if col == len(sizes) - 1:  # the network's outputs by their own names
                        lines.append(output_name(i, n) + value)
                    elif value:
                        lines[0] += value
                    lines.append(f"b {_short(params[col - 1][1][i])}")
                    if show == "grads":
                        lines.append(f"∇b {_short(mats[col - 1][1][i])}")
                if outs is not None:
                    fills.append(signed_colour(outs[col][i], min(1.0, abs(outs[col][i])) * 0.7))
                else:
                    fills.append(NEUTRAL_HEX if col == 0 else "#ffffff")
                texts.append(lines)
            # one circle size per layer, wide enough for its longest text
            chars = max((len(line) for lines in texts for line in lines), default=1)
            rows = max((len(lines) for lines in texts), default=1)
            diameter = math.hypot(chars * t.font * 0.6, rows * t.font * 1.25) + t.font
            for i, (lines, fill) in enumerate(zip(texts, fills)):
                chain.append(f"n{col}_{i}")
                sub.node(
                    chain[-1],
                    "\n".join(lines),
                    fillcolor=fill,
                    width=f"{max(0.5, diameter / 72):.2f}",
                    **neuron,
                )
            if n > shown[col]:
                chain.append(f"more{col}")
                sub.node(chain[-1], f"+{n - shown[col]} more", shape="plaintext")
            for a, b in zip(chain, chain[1:]):
                sub.edge(a, b, style="invis")
    what = "weight" if show == "weights" else "gradient of the weight"
    for col, (W, _) in enumerate(mats):
        labelled = shown[col] * shown[col + 1] <= MAX_EDGE_LABELS
        for i in range(shown[col]):
            for j in range(shown[col + 1]):
                w = float(W[i, j])
                strength = min(1.0, abs(w) / biggest)
                source = input_name(i) if col == 0 else neuron_name(col - 1, i)
                tip = f"{weight_name(model, col, i, j)}: {what} from {source} to "
                tip += f"{neuron_name(col, j)}: {fmt(w)}"
                # an edge's own label: dot lays it out as a node between the two
                # columns, so no two overlap (xlabels collided); on white, so the
                # edges that cross it do not strike it through
                extra = {"label": _on_white(fmt(w)), "fontcolor": "#333333"} if labelled else {}
                dot.edge(
                    f"n{col}_{i}",
                    f"n{col + 1}_{j}",
                    color=signed_colour(w, 0.2 + 0.8 * strength) if w else "#dddddd",
                    penwidth=f"{(0.4 + 3.6 * strength) * t.line:.2f}",
                    arrowsize="0.4",
                    tooltip=tip,
                    **extra,
                )
    legend = f"edge colour: sign of the {what} (blue +, orange -); width and strength: its size"
    if outs is not None:
        legend += "; neuron fill: its output"
    dot.attr(label=legend, labelloc="b", fontsize=str(t.title - 1), fontcolor="#555555")
    return dot


def weight_name(model: Any, layer: int, i: int, j: int) -> str:
    """The name of the weight from input ``i`` of ``layer`` to its neuron ``j`` (all
    from 0): ``L1.n2.w1`` (a vectorized layer's entry of its matrix: ``L1.W[0, 1]``)."""
    dense = model.layers[layer]
    if hasattr(dense, "neurons"):
        return dense.neurons[j].w[i].label
    return f"{dense.W.label}[{i}, {j}]"


def _on_white(text: str) -> str:
    """``text`` as a graphviz HTML label on a white ground."""
    cell = html.escape(text)
    return f'<<table border="0" cellpadding="1" cellspacing="0" bgcolor="white"><tr><td>{cell}</td></tr></table>>'


def _short(x: float) -> str:
    """A number in 2 significant digits, to fit inside a neuron (never a whole number
    it is not: a saturated output reads ``0.99995``, not ``1``)."""
    return fmt(float(x), 2)
