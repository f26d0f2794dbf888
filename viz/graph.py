"""``draw_dot``: the computation graph, one box per Value (label | data | grad), one small
node per op, coloured by gradient; a network's graph collapsed to one box per neuron, per
layer or per module."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import Value

from .collapse import (
    LEVELS,
    Box,
    Roles,
    find_roles,
    forward_order,
    group,
    names_for,
    natural_key,
)
from .format import fmt, summary
from .module_level import MODULE, group_by_module, module_cells
from .rendering import Drawing
from .theme import FONT, get_theme, signed_colour

MAX_BOXES = 150  # the automatic collapse keeps a drawing under this many boxes
MAX_EDGES = 3000  # past this, layout takes too long to wait for (2,500 edges: ~5 s in-process)


def grad_colour(g: Any, scale: float) -> str:
    """Fill colour for a gradient: blue for positive, orange for negative, more saturated
    when larger (relative to the largest gradient in the drawing, on a square-root scale)."""
    value = float(np.mean(g)) if np.ndim(g) else float(g)
    if not math.isfinite(value):
        return "#bbbbbb"
    if scale <= 0 or value == 0:
        return "#ffffff"
    return signed_colour(value, min(1.0, math.sqrt(abs(value) / scale)) * 0.7)


def colour_scale(values: list[Value], root: Value) -> float:
    """The largest |gradient| among the values, the root's own (always 1) left out."""
    grads = [
        np.max(np.abs(v.grad)) for v in values if v is not root and np.all(np.isfinite(v.grad))
    ]
    return float(max(grads, default=0.0))


def collect(root: Value, max_nodes: int | None = None) -> tuple[list[Value], int]:
    """Values ``root`` depends on, ``root`` first and then back towards the inputs (the
    reverse of :func:`~viz.collapse.forward_order`), at most ``max_nodes`` of them;
    also returns how many were left out."""
    order = forward_order(root)[::-1]
    if max_nodes is not None and len(order) > max_nodes:
        return order[:max_nodes], len(order) - max_nodes
    return order, 0


def op_text(v: Value) -> str:
    """The op's symbol for a drawing; a power by a constant shows it (``**2``)."""
    params = v._op.params if v._op is not None else ()
    if v.op == "**" and params:
        return f"**{fmt(float(params[0]))}"
    return v.op


MAX_LABEL = 200  # characters of one field; Graphviz refuses labels past 16,384


def _escape(text: str) -> str:
    """Text for a record label, shown as given: the record syntax characters are
    escaped, ``&`` is kept from reading as an HTML entity and a newline breaks the line.
    Characters Graphviz cannot take (NUL and other controls, lone surrogates) show as
    ``\ufffd``, and a very long label is cut with an ellipsis."""
    if len(text) > MAX_LABEL:
        text = text[: MAX_LABEL - 1] + "…"
    text = "".join(
        c if (c.isprintable() or c == "\n") and not 0xD800 <= ord(c) <= 0xDFFF else "\ufffd"
        for c in text
    )
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("&", "&amp;").replace("\n", "\\n")


Cell = tuple  # (kind, values, text): kind "text", "data", "grad" or "wgrad"


@dataclass
class Plan:
    """What a drawing shows, worked out before any layout: the values (in forward order,
    the root last), their names, the units drawn (a Value or a :class:`Box`, in forward
    order), the id of the unit each value is in, the edges between units (source, target,
    the edge's id: a value used twice by one op has two), the roles found in the graph
    and the cells of each unit's label (for the step-through page)."""

    values: list[Value]
    names: dict[Value, str]
    units: list[Any]
    unit_of: dict[Value, str]
    box_of: dict[Value, Box]
    edges: list[tuple[str, str, str]]
    hidden: int
    level: str | None
    roles: Roles
    cells: dict[str, list[list[Cell]]] = field(default_factory=dict)


def plan(
    root: Value,
    collapse: str | None = "auto",
    max_nodes: int | None = None,
    max_edges: int = MAX_EDGES,
) -> Plan:
    """Decide what to draw for ``root``: the collapse level (``"auto"`` picks the
    finest level that stays under ``MAX_BOXES`` boxes), the units and edges. Raises
    ``ValueError`` when the drawing would have more than ``max_edges`` edges."""
    values = forward_order(root)
    roles = find_roles(values)
    names = names_for(values, roles)
    if collapse == "auto":
        level, box_of = None, {}
        if len(values) > MAX_BOXES and roles.owners:
            for level in LEVELS:
                box_of = group(values, level, roles)
                drawn = len(set(box_of.values())) + len(values) - len(box_of)
                if drawn <= MAX_BOXES and len(_edges(values, box_of)) <= max_edges:
                    break
    elif collapse is None:
        level, box_of = None, {}
    elif collapse == MODULE:
        level, box_of = collapse, group_by_module(values)
    else:
        level, box_of = collapse, group(values, collapse, roles)
    ids = {v: f"v{i}" for i, v in enumerate(values)}
    unit_of = {v: box_of[v].id if v in box_of else ids[v] for v in values}
    units, seen = [], set()
    for v in reversed(values):  # the root's unit first: max_nodes keeps the nearest
        u = unit_of[v]
        if u not in seen:
            seen.add(u)
            units.append(box_of.get(v, v))
    hidden = 0
    if max_nodes is not None and len(units) > max_nodes:
        hidden = len(units) - max_nodes
        units = units[:max_nodes]
    units.reverse()  # drawn in forward order: dot then stacks the inputs top down as written
    edges = _edges(values, box_of, {_uid(u, ids) for u in units}, unit_of)
    if len(edges) > max_edges:
        raise ValueError(
            f"draw_dot: {len(edges)} edges with collapse={level!r}, more than "
            f"max_edges={max_edges}; draw it with collapse='layer' or a smaller max_nodes"
        )
    drawing = Plan(values, names, units, unit_of, box_of, edges, hidden, level, roles)
    drawing.cells = {
        _uid(u, ids): module_cells(u, names, values)
        if level == MODULE and isinstance(u, Box)
        else _cells(u, names)
        for u in units
    }
    return drawing


def _uid(unit: Any, ids: dict[Value, str]) -> str:
    return unit.id if isinstance(unit, Box) else ids[unit]


def _edges(
    values: list[Value],
    box_of: dict[Value, Box],
    drawn: set[str] | None = None,
    unit_of: dict[Value, str] | None = None,
) -> list[tuple[str, str, str]]:
    """Edges between drawn units, each with its id: parent -> op circle -> value, or
    box -> box. A value an op uses twice (``a*a``) has an edge per use (``v0__v1_op``
    and ``v0__v1_op__2``); boxes are joined once."""
    if unit_of is None:
        unit_of = {v: box_of[v].id if v in box_of else f"v{i}" for i, v in enumerate(values)}
    edges: dict[tuple[str, str, int], None] = {}
    for v in values:
        if not v.op:
            continue
        dst = unit_of[v]
        if drawn is not None and dst not in drawn:
            continue
        if v not in box_of:
            edges[(dst + "_op", dst, 1)] = None
            dst += "_op"
        uses: Counter = Counter()
        for p in v.parents:
            src = unit_of[p]
            if src != dst and (drawn is None or src in drawn):
                uses[src] += dst.endswith("_op")  # a box takes each source once
                edges[(src, dst, max(1, uses[src]))] = None
    return [(src, dst, f"{src}__{dst}" + (f"__{k}" if k > 1 else "")) for src, dst, k in edges]


def _local(v: Value, names: dict[Value, str]) -> str:
    """A value's name inside its box: ``L1.n3.w2`` -> ``w2``, ``L2.n0.z #3`` -> ``z``."""
    return names[v].split(" #")[0].rpartition(".")[2]


def _cells(unit: Any, names: dict[Value, str]) -> list[list[Cell]]:
    """The label of a unit as rows of cells, in the order the drawing shows them."""
    if isinstance(unit, Value):
        head = names[unit] if unit.ndim == 0 else f"{names[unit]} {unit.shape}"
        return [[("text", [], head), ("data", [unit], ""), ("grad", [unit], "")]]
    zs = [v for v in unit.members if v.op in ("w·x+b", "w·x", "linear")]
    outs = [v for v in unit.members if v.op and v not in zs]
    params = []
    for z in zs:
        params += [p for p in z.parents if p in unit.members and p not in params]
    rest = [v for v in unit.members if not v.op and v not in params]
    params += sorted(rest, key=lambda v: (_local(v, names) == "b", natural_key(names[v])))
    act = outs[0].op if outs else ""
    form = "x @ W + b" if zs and zs[0].op == "linear" else "w·x + b"
    if len(zs) == 1 or (not zs and unit.level == "neuron"):
        head = f"{unit.name}: {act}({form})" if act else f"{unit.name}: {form}"
        head = head if zs else unit.name
        rows = [[("text", [], head)]]
        rows += [
            [("text", [], "z" if v in zs else "out"), ("data", [v], ""), ("grad", [v], "")]
            for v in (zs + outs)[::-1]
        ]
        if len(params) <= 4 or any(p.ndim for p in params):
            rows += [
                [("text", [], _local(p, names)), ("data", [p], ""), ("grad", [p], "")]
                for p in params
            ]
        else:
            bias = [p for p in params if _local(p, names) == "b"]
            rows += [[("text", [], "b"), ("data", [p], ""), ("grad", [p], "")] for p in bias]
            rows.append([("text", [], "gradients of the weights")])
            cells = [("wgrad", [p], _local(p, names)) for p in params if p not in bias]
            per_row = 4 if len(cells) <= 8 else 8  # 16 weights: two rows of eight
            rows += [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
        return rows
    biases = [p for p in params if _local(p, names) == "b"]
    weights = [p for p in params if p not in biases]
    head = f"{unit.name}: {len(zs)} neurons" + (f", {act}" if act else "") if zs else unit.name
    rows = [[("text", [], head)]]
    for text, vals in (("out", outs), ("z", zs), ("weights", weights), ("biases", biases)):
        if vals:
            rows.append([("text", [], text), ("data", vals, ""), ("grad", vals, "")])
    return rows


def cell_text(cell: Cell, data: Any = None, grad: Any = None) -> str:
    """A cell's text; ``data``/``grad`` look a value's numbers up (None: unknown, ``?``)."""
    kind, vals, text = cell
    if kind == "text":
        return text
    look = (data if kind == "data" else grad) or (
        (lambda v: v.data) if kind == "data" else (lambda v: v.grad)
    )
    numbers = [look(v) for v in vals]
    if any(n is None for n in numbers):
        shown = "?"
    elif len(numbers) == 1:
        shown = summary(numbers[0])
    else:
        shown = summary(np.concatenate([np.ravel(n) for n in numbers]))
    return f"{text} {shown}" if kind == "wgrad" else f"{kind} {shown}"


def record(rows: list[list[str]], rankdir: str) -> str:
    """A record label from rows of escaped texts: one row per line, cells side by side."""
    parts = ["{ " + " | ".join(r) + " }" if len(r) > 1 else r[0] for r in rows]
    if len(rows) == 1:
        return parts[0]
    text = " | ".join(parts)
    return "{ " + text + " }" if rankdir in ("TB", "BT") else text


_SMALL = 60  # boxes; smaller drawings get dot's full layout effort


def draw_dot(
    root: Value,
    rankdir: str | None = None,
    show_grad: bool = True,
    max_nodes: int | None = 250,
    legend: bool = True,
    collapse: str | None = "auto",
    theme: str = "default",
    max_edges: int = MAX_EDGES,
    texts: Mapping[str, Mapping[int, str]] | None = None,
) -> Drawing:
    """Draw the graph that produced ``root``.

    One box per Value (label | data | grad, 4 significant digits; tensors show their
    shape and a summary), one small node per op, edges in the direction data flows:
    left to right (``rankdir``; top down for ``collapse="module"``). The fill colour is
    the gradient (blue positive, orange negative, more saturated = larger). Parameters
    are named by module path, shown short (``L1.n3.w2``).

    ``collapse="neuron"`` draws each neuron as one box (its ``z = w·x + b``, its output,
    its weights' gradients), ``"layer"`` one box per layer, ``"module"`` one box per
    module of a model (an embedding, an attention, a linear layer: the path of the
    parameters its ops consume) and per part the model labelled (``norm``, ``loss``),
    each with the gradients of its output and its parameters. ``"auto"`` (the default)
    keeps a small graph as it is and collapses a network's graph enough to stay under
    150 boxes. Past ``max_nodes`` boxes only the nearest to ``root`` are drawn; a
    drawing of more than ``max_edges`` edges is refused before any layout.
    ``theme="projector"`` uses larger type and thicker lines. ``texts`` lays boxes out
    for other texts than their own (box id -> position from the end, 1 = last -> text):
    the step-through page passes the widest each field will show, so that no number it
    writes in later runs past its box.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b"); c = a * b; c.backward()
    >>> "data -6" in draw_dot(c).source
    True
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot needs a Value, got {type(root).__name__}")
    rankdir = rankdir or ("TB" if collapse == MODULE else "LR")  # a model reads top down
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_dot: rankdir must be LR, TB, RL or BT, got {rankdir!r}")
    if collapse not in (None, "auto", *LEVELS, MODULE):
        raise ValueError(
            f"draw_dot: collapse must be 'neuron', 'layer', 'module', 'auto' or None, got "
            f"{collapse!r}"
        )
    t = get_theme(theme)
    drawing_plan = plan(root, collapse, max_nodes, max_edges)
    drawn = [v for v in drawing_plan.values if drawing_plan.unit_of[v] in drawing_plan.cells]
    scale = colour_scale(drawn, root)
    graph_attr = {"rankdir": rankdir, "bgcolor": "white", "fontname": FONT}
    if len(drawing_plan.units) > _SMALL:
        # Network simplex (dot's ranking and x-placement) can take minutes on graphs
        # where one value feeds many ops (a+a+...+a: 70 terms took 30 s in-process, 100
        # over a minute); a few passes per node give the same picture, give or take.
        graph_attr.update(nslimit="2", nslimit1="2")
    dot = Drawing(format="svg", graph_attr=graph_attr)
    dot.attr("node", fontname=FONT, fontsize=str(t.font))
    dot.attr("edge", color="#777777", arrowsize="0.7", penwidth=str(t.line))
    for unit in drawing_plan.units:
        uid = unit.id if isinstance(unit, Box) else drawing_plan.unit_of[unit]
        rows = [
            [cell_text(c) for c in row if show_grad or c[0] != "grad"]
            for row in drawing_plan.cells[uid]
        ]
        if texts and uid in texts:
            places = [(i, j) for i, row in enumerate(rows) for j in range(len(row))]
            for k, text in texts[uid].items():
                if 1 <= k <= len(places):
                    i, j = places[-k]
                    rows[i][j] = text
        rows = [[_escape(text) for text in row] for row in rows]
        main = _main_value(unit)
        dot.node(
            uid,
            record(rows, rankdir),
            shape="record",
            style="rounded,filled",
            id=uid,
            fillcolor=grad_colour(main.grad, scale) if show_grad else "#ffffff",
            color="#333333" if main is root else "#888888",
            penwidth=str((2 if main is root else 1) * t.line),
        )
        if isinstance(unit, Value) and unit.op:
            dot.node(
                uid + "_op",
                _escape(op_text(unit)),
                shape="circle",
                width="0.3",
                fixedsize="false",
                margin="0.02",
                id=uid + "_op",
                style="filled",
                fillcolor="#f3f3f3",
                fontsize=str(t.small + 1),
            )
    for src, dst, edge in drawing_plan.edges:
        dot.edge(src, dst, id=edge)
    if drawing_plan.hidden:
        dot.node(
            "more",
            f"… {drawing_plan.hidden} more {'boxes' if drawing_plan.level else 'values'} not drawn "
            f"(max_nodes={max_nodes})",
            shape="note",
            fontcolor="#555555",
            color="#aaaaaa",
        )
    if legend and show_grad:
        dot.attr(
            label="fill = gradient d(output)/d(value): blue > 0, orange < 0, "
            "more saturated = larger |grad|",
            labelloc="b",
            labeljust="l",
            fontsize=str(t.title - 1),
            fontcolor="#555555",
        )
    return dot


def _main_value(unit: Any) -> Value:
    """The value whose gradient colours a unit: itself, or a box's output."""
    if isinstance(unit, Value):
        return unit
    ops = [v for v in unit.members if v.op]
    return ops[-1] if ops else unit.members[0]
