"""``draw_dot``: the computation graph, one box per Value (label | data | grad), one small
node per op, coloured by gradient."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from autograd import Value

from .render import Drawing

POSITIVE = (47, 111, 196)  # blue: increasing this value increases the output
NEGATIVE = (214, 69, 65)  # red: increasing this value decreases the output


def fmt(x: float) -> str:
    """A number in 4 significant digits (``-3``, ``0.0009109``, ``1.235e+04``)."""
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return f"{x:.4g}"


def summary(a: Any) -> str:
    """A float, or an array in brief: every number when there are few, else statistics."""
    if type(a) is float or np.ndim(a) == 0:
        return fmt(float(a))
    a = np.asarray(a)
    if a.size <= 4:
        return "[" + ", ".join(fmt(float(v)) for v in a.ravel()) + "]"
    return f"mean {fmt(float(a.mean()))}, range [{fmt(float(a.min()))}, {fmt(float(a.max()))}]"


def grad_colour(g: Any, scale: float) -> str:
    """Fill colour for a gradient: blue for positive, red for negative, stronger when
    larger (relative to the largest gradient in the drawing, on a square-root scale)."""
    value = float(np.mean(g)) if np.ndim(g) else float(g)
    if not math.isfinite(value):
        return "#bbbbbb"
    if scale <= 0 or value == 0:
        return "#ffffff"
    t = min(1.0, math.sqrt(abs(value) / scale)) * 0.75
    base = POSITIVE if value > 0 else NEGATIVE
    r, g_, b = (round(255 + (c - 255) * t) for c in base)
    return f"#{r:02x}{g_:02x}{b:02x}"


def colour_scale(values: list[Value], root: Value) -> float:
    """The largest |gradient| among the values, the root's own (always 1) left out."""
    grads = [
        np.max(np.abs(v.grad)) for v in values if v is not root and np.all(np.isfinite(v.grad))
    ]
    return float(max(grads, default=0.0))


def collect(root: Value, max_nodes: int | None = None) -> tuple[list[Value], int]:
    """Values reachable from ``root``, nearest first (breadth-first), at most ``max_nodes``;
    also returns how many were left out."""
    seen = {root}
    order = [root]
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for parent in node.parents:
            if parent not in seen:
                seen.add(parent)
                order.append(parent)
                queue.append(parent)
    if max_nodes is not None and len(order) > max_nodes:
        return order[:max_nodes], len(order) - max_nodes
    return order, 0


def op_text(v: Value) -> str:
    """The op's symbol for a drawing; a power by a constant shows it (``**2``)."""
    params = v._op.params if v._op is not None else ()
    if v.op == "**" and params:
        return f"**{fmt(float(params[0]))}"
    return v.op


def names_for(values: list[Value]) -> dict[Value, str]:
    """A display name per value: its label, else ``v1``, ``v2``, ... (unique)."""
    names, used = {}, set()
    for i, v in enumerate(reversed(values)):
        name = v.label or f"v{i + 1}"
        while name in used:
            name += "'"
        used.add(name)
        names[v] = name
    return names


def _escape(text: str) -> str:
    """Text for a record label, shown as given: the record syntax characters are
    escaped, ``&`` is kept from reading as an HTML entity and a newline breaks the line."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("&", "&amp;").replace("\r", "").replace("\n", "\\n")


def value_label(v: Value, name: str, show_grad: bool) -> str:
    """The record label of one Value box: ``{ name | data ... | grad ... }``."""
    head = _escape(name if v.ndim == 0 else f"{name} {v.shape}")
    parts = [head, "data " + _escape(summary(v.data))]
    if show_grad:
        parts.append("grad " + _escape(summary(v.grad)))
    return "{ " + " | ".join(parts) + " }"


def draw_dot(
    root: Value,
    rankdir: str = "LR",
    show_grad: bool = True,
    max_nodes: int | None = 250,
    legend: bool = True,
) -> Drawing:
    """Draw the graph that produced ``root``.

    One box per Value (label | data | grad, 4 significant digits; tensors show their
    shape and a summary), one small node per op, edges in the direction data flows. The
    fill colour is the gradient (blue positive, red negative, stronger = larger). Past
    ``max_nodes`` values only the nearest to ``root`` are drawn and a note says how many
    are left out.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b"); c = a * b; c.backward()
    >>> "data -6" in draw_dot(c).source
    True
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot needs a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_dot: rankdir must be LR, TB, RL or BT, got {rankdir!r}")
    values, hidden = collect(root, max_nodes)
    kept = set(values)
    names = names_for(values)
    ids = {v: f"v{i}" for i, v in enumerate(values)}
    scale = colour_scale(values, root)

    dot = Drawing(
        format="svg", graph_attr={"rankdir": rankdir, "bgcolor": "white", "fontname": "Helvetica"}
    )
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", color="#777777", arrowsize="0.7")
    for v in values:
        vid = ids[v]
        dot.node(
            vid,
            value_label(v, names[v], show_grad),
            shape="record",
            style="rounded,filled",
            id=vid,
            fillcolor=grad_colour(v.grad, scale) if show_grad else "#ffffff",
            color="#333333" if v is root else "#888888",
            penwidth="2" if v is root else "1",
        )
        if v.op:
            oid = vid + "_op"
            dot.node(
                oid,
                _escape(op_text(v)),
                shape="circle",
                width="0.3",
                fixedsize="false",
                margin="0.02",
                id=oid,
                style="filled",
                fillcolor="#f3f3f3",
                fontsize="10",
            )
            dot.edge(oid, vid)
            for p in v.parents:
                if p in kept:
                    dot.edge(ids[p], oid)
    if hidden:
        dot.node(
            "more",
            f"… {hidden} more values not drawn (max_nodes={max_nodes})",
            shape="note",
            fontcolor="#555555",
            color="#aaaaaa",
        )
    if legend and show_grad:
        dot.node(
            "legend",
            "fill = gradient d(output)/d(value): blue > 0, red < 0, darker = larger |grad|",
            shape="plaintext",
            fontsize="10",
            fontcolor="#555555",
        )
    return dot
