"""``backprop_html``: a self-contained page that steps through the forward pass node by
node, then the backward pass in reverse topological order, saying each chain-rule step
in words and numbers."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import numpy as np

from autograd import Value, no_grad, topological_order
from autograd.backprop import _fit

from .graph import collect, colour_scale, draw_dot, fmt, grad_colour, names_for, summary
from .render import to_svg

# The local derivative d(out)/d(input i) of each op, as a formula in the input names.
# {a}, {b}: the inputs; {out}: the op's result; {p}: the op's parameter.
LOCAL = {
    "+": ("1", "1"),
    "-": ("1", "-1"),
    "*": ("{b}", "{a}"),
    "/": ("1/{b}", "-{a}/{b}²"),
    "neg": ("-1",),
    "exp": ("{out}",),
    "log": ("1/{a}",),
    "tanh": ("(1 - {out}²)",),
    "sigmoid": ("{out}·(1 - {out})",),
    "relu": ("[{a} > 0]",),
    "leaky_relu": ("[{a} > 0 ? 1 : {p}]",),
    "abs": ("sign({a})",),
    "sqrt": ("1/(2·{out})",),
    "**": ("{b}·{a}^({b}-1)", "{out}·log({a})"),
}
FUNCTIONS = {
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "abs",
    "sqrt",
    "sum",
    "mean",
    "max",
    "softmax",
    "log_softmax",
    "reshape",
    "transpose",
    "broadcast_to",
}


def _is_scalar(v: Value) -> bool:
    return v.ndim == 0


def forward_text(v: Value, names: dict) -> str:
    """``c = a * b = 2 * -3 = -6``: what an op computed, in names and numbers."""
    ps = v.parents
    pn = [names[p] for p in ps]
    num = [summary(p.data) for p in ps]
    out = summary(v.data)
    op = v.op
    if op == "**" and len(ps) == 1:
        p = v._op.params[0]
        return f"{names[v]} = {pn[0]} ** {fmt(p)} = {num[0]} ** {fmt(p)} = {out}"
    if op in ("+", "-", "*", "/", "@", "**") and len(ps) >= 2:
        sep = f" {op} "
        return f"{names[v]} = {sep.join(pn)} = {sep.join(num)} = {out}"
    if op == "neg":
        return f"{names[v]} = -{pn[0]} = -({num[0]}) = {out}"
    if op.startswith("w·x"):  # weighted_sum: inputs w1..wn, x1..xn[, b]
        n = len(ps) // 2
        terms = [f"{pn[i]}·{pn[n + i]}" for i in range(n)] + pn[2 * n :]
        values = [f"{num[i]}·{num[n + i]}" for i in range(n)] + num[2 * n :]
        return f"{names[v]} = {' + '.join(terms)} = {' + '.join(values)} = {out}"
    return f"{names[v]} = {op}({', '.join(pn)}) = {op}({', '.join(num)}) = {out}"


def backward_lines(v: Value, names: dict, running: dict) -> list[tuple[Value, str]]:
    """One chain-rule line per input of ``v`` (and the update of ``running`` grads)."""
    g = v.grad
    args = [p.data for p in v.parents] + list(v._op.params)
    lines = []
    for i, (p, vjp) in enumerate(zip(v.parents, v._op.vjps)):
        if not p.requires_grad:
            continue
        with no_grad(), np.errstate(all="ignore"):
            contribution = _fit(vjp(g, v.data, *args), p.data)
        before = running.get(p, 0.0)
        running[p] = before + contribution
        pname, cname = names[p], names[v]
        if _is_scalar(v) and _is_scalar(p) and all(_is_scalar(q) for q in v.parents):
            with no_grad(), np.errstate(all="ignore"):
                local = vjp(1.0, v.data, *args)
            formula = _formula(v, i, names)
            lines.append(
                (
                    p,
                    f"{pname}.grad += {formula} × {cname}.grad = {fmt(local)} × {fmt(g)} = {fmt(contribution)}"
                    f"   →  {pname}.grad = {fmt(running[p])}",
                )
            )
        else:
            lines.append(
                (
                    p,
                    f"{pname}.grad += vjp_{v.op}({cname}.grad) = {summary(contribution)}"
                    f"   →  {pname}.grad = {summary(running[p])}",
                )
            )
    return lines


def _formula(v: Value, i: int, names: dict) -> str:
    op = v.op
    ps = v.parents
    fields = {"out": names[v], "a": names[ps[0]], "b": names[ps[1]] if len(ps) > 1 else ""}
    if v._op.params:
        fields["p"] = fmt(v._op.params[0])
        if op == "**":
            fields["b"] = fmt(v._op.params[0])
    if op in LOCAL and i < len(LOCAL[op]):
        return LOCAL[op][i].format(**fields)
    if op == "+":  # many inputs: each gets the gradient unchanged
        return "1"
    if op.startswith("w·x"):  # a weight's local derivative is its input, and vice versa
        n = len(ps) // 2
        return "1" if i == 2 * n else names[ps[(i + n) % (2 * n)]]
    return f"∂{names[v]}/∂{names[ps[i]]}"


def build_steps(root: Value, order: list[Value]) -> tuple[list[dict], dict]:
    """The steps of the page and each value's starting state (leaves known, rest '?');
    ``order`` is ``topological_order(root)``."""
    drawn = collect(root)[0]  # draw_dot's numbering and names, so the page matches the picture
    names = names_for(drawn)
    ids = {v: f"v{i}" for i, v in enumerate(drawn)}
    scale = colour_scale(drawn, root)
    initial = {
        ids[v]: {
            "data": "data " + summary(v.data) if not v.op else "data ?",
            "grad": "grad ?",
            "fill": "#ffffff",
        }
        for v in order
    }
    steps = [
        {
            "phase": "start",
            "title": "The inputs",
            "text": "Leaves hold numbers we chose: "
            + ", ".join(f"{names[v]} = {summary(v.data)}" for v in order if not v.op),
            "focus": [ids[v] for v in order if not v.op],
            "set": {},
        }
    ]
    for v in order:
        if v.op:
            steps.append(
                {
                    "phase": "forward",
                    "title": f"Forward: compute {names[v]}",
                    "text": forward_text(v, names),
                    "focus": [ids[v]],
                    "inputs": [ids[p] for p in v.parents if p in ids],
                    "set": {ids[v]: {"data": "data " + summary(v.data)}},
                }
            )
    seed = np.ones_like(root.data) if root.ndim else 1.0
    steps.append(
        {
            "phase": "backward",
            "title": f"Backward: seed {names[root]}.grad = 1",
            "text": f"d{names[root]}/d{names[root]} = 1: the gradient starts at the output.",
            "focus": [ids[root]],
            "set": {ids[root]: {"grad": "grad " + summary(seed), "fill": grad_colour(seed, scale)}},
        }
    )
    running: dict = {root: seed}
    for v in reversed(order):
        if not v.op:
            continue
        lines = backward_lines(v, names, running)
        steps.append(
            {
                "phase": "backward",
                "title": f"Backward through {names[v]} = {v.op}(…)",
                "text": "\n".join(line for _, line in lines)
                or f"{names[v]}'s inputs need no gradient.",
                "focus": [ids[v]],
                "inputs": [ids[p] for p, _ in lines],
                "set": {
                    ids[p]: {
                        "grad": "grad " + summary(running[p]),
                        "fill": grad_colour(running[p], scale),
                    }
                    for p, _ in lines
                },
            }
        )
    steps.append(
        {
            "phase": "done",
            "title": "Done",
            "focus": [ids[root]],
            "set": {},
            "text": "Every value now holds d(output)/d(value). "
            "Blue means increasing it increases the output, red decreases it.",
        }
    )
    return steps, initial


def backprop_html(
    root: Value,
    path: str | os.PathLike,
    title: str = "Backpropagation, step by step",
    max_values: int = 200,
) -> Path:
    """Write a self-contained page (no network needed) that walks through the forward
    pass node by node, then the backward pass, showing each chain-rule step in words and
    numbers. Next / Previous / Play buttons and the arrow keys move through the steps.

    ``root`` should have had ``backward()`` called (the page shows its gradients); if
    not, this calls it.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backprop_html needs a Value, got {type(root).__name__}")
    order = topological_order(root)
    if len(order) > max_values:
        raise ValueError(
            f"backprop_html: the graph has {len(order)} values, more than max_values={max_values}; "
            "a step-through page is for small graphs (one neuron, a tiny network)"
        )
    if root.size == 1 and all(np.all(np.asarray(v.grad) == 0) for v in order):
        root.backward()
    steps, initial = build_steps(root, order)
    svg = to_svg(draw_dot(root, max_nodes=None, legend=False))
    svg = svg[svg.index("<svg") :]
    template = (Path(__file__).parent / "stepper.html").read_text()
    page = (
        template.replace("{{TITLE}}", html.escape(title))
        .replace("{{SVG}}", svg)
        .replace("{{STEPS}}", json.dumps(steps).replace("</", "<\\/"))
        .replace("{{INITIAL}}", json.dumps(initial))
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
