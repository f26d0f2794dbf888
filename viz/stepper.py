"""``backprop_html``: a self-contained page that steps through the forward pass node by
node, then the backward pass in reverse topological order, saying each chain-rule step
in words and numbers.

Every number and formula comes from the engine: the forward text from each op's
``formula``, each backward line from one step of :func:`autograd.trace_backward` and
the op's ``derivative`` text. Nothing from a label reaches the page as markup or script.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from autograd import BackwardStep, Value, topological_order, trace_backward

from .graph import collect, draw_dot, fmt, grad_colour, names_for, summary
from .render import to_svg

_OPERATOR = re.compile(r"[\s+\-*/@^·=<>]")


def term(text: str) -> str:
    """``text`` ready to stand inside a formula: parenthesised when it holds an operator
    or is a negative number, so ``(a*b + c).grad`` and ``2 * (-3)`` read right.

    >>> term("a*b + c"), term("-3"), term("w1")
    ('(a*b + c)', '(-3)', 'w1')
    """
    return f"({text})" if _OPERATOR.search(text[1:] if text[:1] == "(" else text) else text


def forward_text(v: Value, names: dict) -> str:
    """``c = a * b = 2 * (-3) = -6``: what an op computed, in names and numbers."""
    op = v._op
    custom = op.show is not None  # a function call needs no parentheses inside
    wrap = term if custom else str
    in_names = [wrap(names[p]) for p in v.parents]
    in_numbers = [wrap(summary(p.data)) for p in v.parents]
    return f"{names[v]} = {op.formula(in_names)} = {op.formula(in_numbers)} = {summary(v.data)}"


def backward_line(step: BackwardStep, names: dict) -> str:
    """One chain-rule step as text: ``w1.grad += x1 × n.grad = 2 × 0.25 = 0.5  →  ...``."""
    node, parent = step.node, step.input
    pname, cname = term(names[parent]), term(names[node])
    if step.local is not None:
        in_names = [term(names[p]) for p in node.parents]
        formula = node._op.derivative(step.index, in_names, cname) or f"∂{cname}/∂{pname}"
        return (
            f"{pname}.grad += {formula} × {cname}.grad = {fmt(step.local)} × "
            f"{fmt(float(step.upstream))} = {fmt(float(step.contribution))}"
            f"   →  {pname}.grad = {fmt(float(step.total))}"
        )
    return (
        f"{pname}.grad += vjp_{node.op}({cname}.grad) = {summary(step.contribution)}"
        f"   →  {pname}.grad = {summary(step.total)}"
    )


def _by_node(trace: Iterable[BackwardStep]) -> list[tuple[Value, list[BackwardStep]]]:
    """The trace's steps grouped by the node that hands gradient back (in trace order)."""
    groups: list[tuple[Value, list[BackwardStep]]] = []
    for step in trace:
        if not groups or groups[-1][0] is not step.node:
            groups.append((step.node, []))
        groups[-1][1].append(step)
    return groups


def build_steps(root: Value, order: list[Value]) -> tuple[list[dict], dict]:
    """The steps of the page and each value's starting state (leaves known, rest '?');
    ``order`` is ``topological_order(root)``."""
    drawn = collect(root)[0]  # draw_dot's numbering and names, so the page matches the picture
    names = names_for(drawn)
    ids = {v: f"v{i}" for i, v in enumerate(drawn)}
    seed = np.ones_like(root.data) if root.ndim else 1.0
    groups = _by_node(trace_backward(root, seed))
    finals = {root: seed}
    for _, steps_of_node in groups:
        for step in steps_of_node:
            finals[step.input] = step.total
    scale = max(
        (
            float(np.max(np.abs(g)))
            for v, g in finals.items()
            if v is not root and np.all(np.isfinite(g))
        ),
        default=0.0,
    )
    initial = {
        ids[v]: {
            "data": summary(v.data) if not v.op else "?",
            "grad": "?",
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
                    "set": {ids[v]: {"data": summary(v.data)}},
                }
            )
    steps.append(
        {
            "phase": "backward",
            "title": f"Backward: seed {names[root]}.grad = 1",
            "text": f"d{names[root]}/d{names[root]} = 1: the gradient starts at the output.",
            "focus": [ids[root]],
            "set": {ids[root]: {"grad": summary(seed), "fill": grad_colour(seed, scale)}},
        }
    )
    for node, steps_of_node in groups:
        steps.append(
            {
                "phase": "backward",
                "title": f"Backward through {names[node]} = {node.op}(…)",
                "text": "\n".join(backward_line(s, names) for s in steps_of_node),
                "focus": [ids[node]],
                "inputs": [ids[s.input] for s in steps_of_node],
                "set": {
                    ids[s.input]: {"grad": summary(s.total), "fill": grad_colour(s.total, scale)}
                    for s in steps_of_node
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


def script_json(data: object) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or
    ``&`` (so no ``</script>`` or comment can end it) and no U+2028/9 line breaks.

    >>> script_json({"t": "</script><b>&"})
    '{"t": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(data, ensure_ascii=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, code)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def fill_template(template: str, values: dict[str, str]) -> str:
    """Replace every ``{{NAME}}`` in one pass: text put in is never searched again, so a
    title or label holding ``{{STEPS}}`` stays text. An unknown name is an error."""
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: values[m.group(1)], template)


def backprop_html(
    root: Value,
    path: str | os.PathLike,
    title: str = "Backpropagation, step by step",
    max_values: int = 200,
) -> Path:
    """Write a self-contained page (no network needed) that walks through the forward
    pass node by node, then the backward pass, showing each chain-rule step in words and
    numbers. Next / Previous / Play buttons and the arrow keys move through the steps.

    The gradients come from :func:`autograd.trace_backward` (``.grad`` is not touched).
    A graph of more than ``max_values`` values is refused before anything is drawn.

    >>> import tempfile, os
    >>> from autograd import Value
    >>> out = Value(2.0, label="a") * Value(-3.0, label="b")
    >>> backprop_html(out, os.path.join(tempfile.mkdtemp(), "ab.html")).suffix
    '.html'
    """
    if not isinstance(root, Value):
        raise TypeError(f"backprop_html needs a Value, got {type(root).__name__}")
    order = topological_order(root)
    if len(order) > max_values:
        raise ValueError(
            f"backprop_html: the graph has {len(order)} values, more than max_values={max_values}; "
            "a step-through page is for small graphs (one neuron, a tiny network)"
        )
    steps, initial = build_steps(root, order)
    svg = to_svg(draw_dot(root, max_nodes=None, legend=False, collapse=None))
    svg = svg[svg.index("<svg") :]
    template = (Path(__file__).parent / "stepper.html").read_text(encoding="utf-8")
    page = fill_template(
        template,
        {
            "TITLE": html.escape(title),
            "SVG": svg,
            "STEPS": script_json(steps),
            "INITIAL": script_json(initial),
        },
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, page)
    return path


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``
    (never following a symlink at ``path``, never leaving half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
