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
from typing import Any

import numpy as np

from autograd import BackwardStep, Value, topological_order, trace_backward
from nn.model_files import atomic_write

from .collapse import inputs_first
from .graph import Scene, cell_text, draw_dot, fmt, grad_colour, natural_key, plan, summary
from .rendering import to_svg
from .theme import get_theme

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


def _elide(text: str, keep: int = 2) -> str:
    """A long sum shown by its first and last ``keep`` terms: ``a + b + … + y + z``."""
    terms = text.split(" + ")
    if len(terms) <= 2 * keep + 1:
        return text
    return " + ".join(terms[:keep] + ["…"] + terms[-keep:])


def _short_forward(v: Value, names: dict) -> str:
    """``forward_text`` with a long weighted sum elided (a neuron of 16 inputs)."""
    head, *parts = forward_text(v, names).split(" = ")
    return " = ".join([head] + [_elide(p) for p in parts])


class _Board:
    """What the page shows at a point of the walk: the values whose data is known and
    the gradients so far; it writes each unit's cells as the page's state."""

    def __init__(self, scene: Scene, scale: float) -> None:
        self.scene, self.scale = scene, scale
        self.data: dict[Value, Any] = {v: v.data for v in scene.values if not v.op}
        self.grad: dict[Value, Any] = {}
        # the value that colours a unit: itself, or a box's output (its last op)
        self.main = {scene.unit_of[v]: v for v in scene.values if v not in scene.box_of}
        for box in scene.box_of.values():
            ops = [v for v in box.members if v.op]
            self.main[box.id] = ops[-1] if ops else box.members[0]

    def state(self, uid: str) -> dict:
        cells = [c for row in self.scene.cells[uid] for c in row]
        texts = {
            str(len(cells) - i): cell_text(c, self.data.get, self.grad.get)
            for i, c in enumerate(cells)
            if c[0] != "text"
        }
        main = self.main[uid]
        g = self.grad.get(main)
        fill = "#ffffff" if g is None else grad_colour(g, self.scale)
        if uid.startswith("v"):  # a value's own box: {"data", "grad", "fill"} as pages read it
            d = self.data.get(main)
            return {
                "data": "?" if d is None else summary(d),
                "grad": "?" if g is None else summary(g),
                "fill": fill,
            }
        return {"t": texts, "fill": fill}

    def states(self, values: Iterable[Value]) -> dict:
        uids = dict.fromkeys(self.scene.unit_of[v] for v in values)
        return {u: self.state(u) for u in uids if u in self.scene.cells}


def build_steps(
    root: Value, order: list[Value], scene: Scene | None = None, lr: float | None = None
) -> tuple[list[dict], dict]:
    """The steps of the page and each drawn unit's starting state (leaves known, the
    rest ``?``); ``order`` is ``topological_order(root)``. A unit is a value, or a
    neuron's or layer's box when ``scene`` is collapsed: then one step covers a box,
    and its every chain-rule line is kept in the step's ``detail``. A value's state is
    ``{"data", "grad", "fill"}``, a box's ``{"t": {k: text of its k-th text from the
    end}, "fill"}``. With ``lr`` the last step is the SGD update ``p.data -= lr *
    p.grad`` (the model is not changed)."""
    scene = scene or plan(root, None)
    names, unit_of, box_of = scene.names, scene.unit_of, scene.box_of
    seed = np.ones_like(root.data) if root.ndim else 1.0
    trace = list(trace_backward(root, seed))
    finals = {root: seed} | {s.input: s.total for s in trace}
    scale = max(
        (
            float(np.max(np.abs(g)))
            for v, g in finals.items()
            if v is not root and np.all(np.isfinite(g))
        ),
        default=0.0,
    )
    board = _Board(scene, scale)
    initial = {u: board.state(u) for u in scene.cells}
    edges_into: dict[str, list[str]] = {}
    for src, dst in scene.edges:
        edges_into.setdefault(dst, []).append(f"{src}__{dst}")

    def lit(v: Value) -> tuple[list[str], list[str]]:
        """The op circle (for a value drawn alone) and the edges that carry ``v``."""
        u = unit_of[v]
        if v in box_of:
            return [], edges_into.get(u, [])
        return [u + "_op"], edges_into.get(u + "_op", []) + edges_into.get(u, [])

    as_written = inputs_first(scene.values)  # L0.n0 before L0.n1, x1*w1 before x2*w2
    given = [v for v in as_written if not v.op]
    shown = [v for v in given if v not in box_of]
    hidden_params = len(given) - len(shown)
    text = "Leaves hold numbers we chose: " + ", ".join(
        f"{names[v]} = {summary(v.data)}" for v in shown
    )
    if hidden_params:
        text += f"; and the {hidden_params} parameters inside the boxes"
    steps = [
        {
            "phase": "start",
            "title": "The inputs",
            "text": text,
            "focus": list(dict.fromkeys(unit_of[v] for v in shown)),
            "set": {},
        }
    ]

    # forward: one step per value drawn alone, one per box (its ops in order)
    units: dict[str, list[Value]] = {}
    computed = set(order)
    for v in as_written:
        if v.op and v in computed:
            units.setdefault(unit_of[v], []).append(v)
    for uid, members in units.items():
        for v in members:
            board.data[v] = v.data
        circles, edges = [], []
        for v in members:
            c, e = lit(v)
            circles += c
            edges += e
        box = box_of.get(members[0])
        title = f"Forward: compute {box.name}" if box else f"Forward: compute {names[members[0]]}"
        lines = [(_short_forward if box else forward_text)(v, names) for v in members]
        steps.append(
            {
                "phase": "forward",
                "title": title,
                "text": "\n".join(lines),
                "detail": "\n".join(forward_text(v, names) for v in members) if box else "",
                "focus": [uid] + circles,
                "edges": list(dict.fromkeys(edges)),
                "inputs": list(
                    dict.fromkeys(
                        unit_of[p]
                        for v in members
                        for p in v.parents
                        if unit_of[p] != uid and unit_of[p] in scene.cells
                    )
                ),
                "set": board.states(members),
            }
        )

    board.grad[root] = seed
    steps.append(
        {
            "phase": "backward",
            "title": f"Backward: seed {names[root]}.grad = 1",
            "text": f"d{names[root]}/d{names[root]} = 1: the gradient starts at the output.",
            "focus": [unit_of[root]],
            "set": board.states([root]),
        }
    )
    by_unit: dict[str, list[BackwardStep]] = {}
    for step in trace:
        by_unit.setdefault(unit_of[step.node], []).append(step)
    for uid, steps_of_unit in by_unit.items():
        lines = [backward_line(s, names) for s in steps_of_unit]
        touched = [s.input for s in steps_of_unit]
        for s in steps_of_unit:
            board.grad[s.input] = s.total
        node = steps_of_unit[0].node
        box = box_of.get(node)
        circles, edges = lit(node)
        shown_lines = (
            lines
            if not box or len(lines) <= 6
            else lines[:4]
            + [f"… and {len(lines) - 4} more chain-rule lines (tick “every line” to read them)"]
        )
        steps.append(
            {
                "phase": "backward",
                "title": f"Backward through {box.name}"
                if box
                else f"Backward through {names[node]} = {node.op}(…)",
                "text": "\n".join(shown_lines),
                "detail": "\n".join(lines) if box else "",
                "focus": [uid] + circles,
                "edges": edges,
                "inputs": list(
                    dict.fromkeys(
                        unit_of[p]
                        for p in touched
                        if unit_of[p] != uid and unit_of[p] in scene.cells
                    )
                ),
                "set": board.states([node, *touched]),
            }
        )
    steps.append(
        {
            "phase": "done",
            "title": "Done",
            "focus": [unit_of[root]],
            "set": {},
            "text": "Every value now holds d(output)/d(value). "
            "Blue means increasing it increases the output, orange decreases it.",
        }
    )
    params = sorted(
        (v for v in given if v.requires_grad and v in finals), key=lambda v: natural_key(names[v])
    )
    if lr is not None and params:
        lines = [
            f"{names[p]} = {summary(p.data)} - {fmt(lr)} × {summary(finals[p])} = "
            f"{summary(p.data - lr * finals[p])}"
            for p in params
        ]
        for p in params:
            board.data[p] = p.data - lr * finals[p]
        steps.append(
            {
                "phase": "update",
                "title": f"Update: every parameter takes a step against its gradient (lr = {fmt(lr)})",
                "text": "p.data -= lr × p.grad\n"
                + "\n".join(lines[:6])
                + (f"\n… and {len(lines) - 6} more" if len(lines) > 6 else ""),
                "detail": "p.data -= lr × p.grad\n" + "\n".join(lines),
                "focus": list(dict.fromkeys(unit_of[p] for p in params)),
                "set": board.states(params),
            }
        )
    return steps, initial


def widest_texts(initial: dict, steps: list[dict]) -> dict[str, dict[int, str]]:
    """Each box's widest text per field over the whole walk (box id -> position from the
    end, 1 = last -> text), for ``draw_dot(texts=)``: a box drawn around ``grad ?`` was
    too narrow for the ``grad mean 1.85e-17, range [-0.3164, 0.1661]`` written later."""
    widest: dict[str, dict[int, str]] = {}
    for states in [initial, *(step["set"] for step in steps)]:
        for uid, state in states.items():
            if "t" in state:
                fields = {int(k): text for k, text in state["t"].items()}
            else:
                fields = {2: f"data {state['data']}", 1: f"grad {state['grad']}"}
            best = widest.setdefault(uid, {})
            for k, text in fields.items():
                if len(text) > len(best.get(k, "")):
                    best[k] = text
    return widest


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
    collapse: str | None = "auto",
    lr: float | None = 0.1,
    theme: str = "default",
) -> Path:
    """Write a self-contained page (no network needed) that walks through the forward
    pass, then the backward pass, showing each chain-rule step in words and numbers,
    and ends with the SGD update ``p.data -= lr * p.grad`` (``lr=None``: no update
    step; the model itself is never changed). Next / Previous / Play buttons and the
    arrow keys move through the steps.

    A network's graph is walked box by box: ``collapse="neuron"`` (what ``"auto"``
    picks for a network too big to draw value by value) steps neuron by neuron, and
    the "every line" switch opens a box's inner chain-rule lines. The gradients come
    from :func:`autograd.trace_backward` (``.grad`` is not touched). A drawing of more
    than ``max_values`` boxes is refused before anything is laid out.

    >>> import tempfile, os
    >>> from autograd import Value
    >>> out = Value(2.0, label="a") * Value(-3.0, label="b")
    >>> backprop_html(out, os.path.join(tempfile.mkdtemp(), "ab.html")).suffix
    '.html'
    """
    if not isinstance(root, Value):
        raise TypeError(f"backprop_html needs a Value, got {type(root).__name__}")
    if not isinstance(title, str):
        raise TypeError(f"backprop_html: title must be text, got {type(title).__name__}")
    title = title.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate shows as ?
    scene = plan(root, collapse)
    if len(scene.units) > max_values:
        raise ValueError(
            f"backprop_html: the drawing has {len(scene.units)} boxes, more than "
            f"max_values={max_values}; collapse='neuron' or 'layer' draws a network in fewer"
        )
    order = topological_order(root)
    steps, initial = build_steps(root, order, scene, lr)
    drawing = draw_dot(
        root,
        max_nodes=None,
        legend=False,
        collapse=scene.level,
        theme=theme,
        texts=widest_texts(initial, steps),
    )
    svg = to_svg(drawing)
    svg = svg[svg.index("<svg") :]
    template = (Path(__file__).parent / "stepper.html").read_text(encoding="utf-8")
    page = fill_template(
        template,
        {
            "TITLE": html.escape(title),
            "THEME": get_theme(theme).name,
            "SVG": svg,
            "STEPS": script_json(steps),
            "INITIAL": script_json(initial),
        },
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(page.encode("utf-8", "replace")))  # lone surrogates: ?
    return path
