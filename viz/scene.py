"""The scene: one description of a walk through the forward and backward pass, made here
from :func:`autograd.trace_backward`, that every view plays with the one step-through
player (``viz/classroom/static/player.js``): the step-through page, the Expression,
Neuron and Network tabs and the Jupyter widgets. No view names a node or words a step
on its own; every name, text and number comes from here.

A scene is a plain dict, ready for JSON::

    {"root": "v8", "outputs": ["v6"], "loss": "v8" | None, "params": ["v1", ...],
     "nodes": {"v1": {"name": "L1.n1.w1", "role": "param", "layer": 1}, ...},
     "initial": {unit id: state},        # the drawing (draw_dot) at step 1
     "steps": [{"phase": "forward", "layer": 1, "title": ..., "text": ..., "detail": ...,
                "node": "v5", "input": None,
                "reveal": [{"node": "v5", "field": "data", "text": "0.9526",
                            "value": 0.9526}, ...],
                "focus": [unit ids], "inputs": [unit ids], "edges": [edge ids],
                "set": {unit id: state}}, ...]}

``role`` is one of ``input param const target op output loss``; ``layer`` counts from
1 (0 for the network's inputs, None off the layers); ``phase`` is ``start forward loss
backward update``. A step's ``reveal`` lists exactly the numbers that step makes known
(``field`` ``data``, ``grad`` — the running total — or ``after``, a parameter's value
after the update); nothing in a view may show a number before the step that reveals it.
``focus``, ``inputs``, ``edges``, ``set`` and ``initial`` address the ``draw_dot``
drawing of the same graph (its unit and edge ids); a state is a value's ``{"data",
"grad", "fill"}`` or a box's ``{"t": {k: text of its k-th text from the end}, "fill"}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from autograd import BackwardStep, Value, trace_backward

from .collapse import is_constant, layer_number, natural_key, owner
from .format import fmt, summary
from .graph import Plan, cell_text, grad_colour, plan
from .step_text import backward_line, forward_text, short_forward, term

SHOWN_LINES = 6  # lines of a long step shown before "every line" opens the rest


def build_scene(
    root: Value,
    drawing: Plan | None = None,
    lr: float | None = None,
    per: str = "unit",
    outputs: Sequence[Value] | None = None,
    params: Sequence[Value] | None = None,
    drawn: bool = True,
) -> dict:
    """The scene of ``root``'s forward and backward pass (see the module docstring).

    ``drawing`` is the :func:`~viz.graph.plan` the views draw (value by value when not
    given); a forward step computes one of its units (a value, or a neuron's or layer's
    box), the backward pass gives a step per unit (``per="unit"``) or per chain-rule line
    (``per="line"``). The forward pass goes layer by layer, then the loss (the values
    computed from ``outputs``: the network's outputs unless given); the backward pass
    goes from the loss back, layer by layer. With ``lr`` the last step is the SGD update
    of ``params`` (by default every leaf that takes a gradient and is not a constant: the
    inputs of a formula are its parameters then). ``drawn=False`` leaves out what only
    a ``draw_dot`` drawing reads (``initial`` and each step's ``set``), for a view that
    draws the walk its own way.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> scene = build_scene(a * b)
    >>> [s["phase"] for s in scene["steps"]]
    ['start', 'forward', 'backward', 'backward', 'backward']
    >>> scene["steps"][3]["text"]
    'a.grad += b × v1.grad = -3 × 1 = -3\\nb.grad += a × v1.grad = 2 × 1 = 2'
    """
    if per not in ("unit", "line"):
        raise ValueError(f"build_scene: per must be 'unit' or 'line', got {per!r}")
    return _Walk(root, drawing or plan(root, None), lr, per, outputs, params, drawn).scene()


class _Walk:
    """The steps of one scene, built in order: start, forward, loss, backward, update."""

    def __init__(self, root, drawing, lr, per, outputs, params, drawn) -> None:
        self.root, self.drawing, self.lr, self.per = root, drawing, lr, per
        values = drawing.values
        self.names = drawing.names
        self.ids = {v: f"v{i}" for i, v in enumerate(values)}
        self.outputs = list(drawing.roles.outputs if outputs is None else outputs)
        after = set(self.outputs)
        self.targets = set(drawing.roles.targets) | {  # out - y, y a number: the target
            v.parents[1]
            for v in values
            if v.op == "-" and v.parents[0] in after and not v.parents[1].op
            if not v.parents[1].requires_grad
        }
        self.phase = {}
        for v in values:
            if v.op:
                late = v not in self.outputs and any(p in after for p in v.parents)
                self.phase[v] = "loss" if late else "forward"
                if late:
                    after.add(v)
        self.leaves = [v for v in values if not v.op]
        self.layers = _layers(drawing)
        if params is None:  # with an update: every leaf that takes a gradient
            params = self._params() if lr is not None else []
        self.params = list(params)
        self.seed = np.ones_like(root.data) if root.ndim else 1.0
        self.trace = list(trace_backward(root, self.seed))
        self.finals = {root: self.seed} | {s.input: s.total for s in self.trace}
        finite = [np.max(np.abs(g)) for v, g in self.finals.items() if v is not root]
        scale = max((float(g) for g in finite if np.isfinite(g)), default=0.0)
        self.board = _Board(drawing, scale, drawn)
        self.into: dict[str, list[tuple[str, str]]] = {}  # a unit -> (source, edge id)
        for src, dst, edge in drawing.edges:
            self.into.setdefault(dst, []).append((src, edge))
        self.steps: list[dict] = []

    # ------------------------------------------------------------ what is what
    def _params(self) -> list[Value]:
        params = [v for v in self.leaves if v.requires_grad and not is_constant(v)]
        return sorted(params, key=self._param_key)

    def _param_key(self, v: Value) -> tuple:
        module = owner(v) or ""
        local = self.names[v][len(module) + 1 :] if module else self.names[v]
        return (natural_key(module), local == "b", natural_key(local))

    def layer(self, v: Value) -> int | None:
        return self.layers.get(v)

    def role(self, v: Value) -> str:
        if v is self.root and self.phase.get(v) == "loss":
            return "loss"
        if v in self.outputs:
            return "output"
        if v.op:
            return "op"
        if v in self.drawing.roles.inputs:
            return "input"
        if v in self.targets:
            return "target"
        if is_constant(v):
            return "const"
        return "param" if v in self.params else "input"

    # ------------------------------------------------------------ the walk
    def scene(self) -> dict:
        self.start()
        self.forward()
        self.backward()
        if self.lr is not None and self.params:
            self.update()
        ids = self.ids
        return {
            "root": ids[self.root],
            "outputs": [ids[v] for v in self.outputs],
            "loss": ids[self.root] if self.phase.get(self.root) == "loss" else None,
            "params": [ids[p] for p in self.params],
            "nodes": {
                ids[v]: {"name": self.names[v], "role": self.role(v), "layer": self.layer(v)}
                for v in self.drawing.values
            },
            "initial": self.initial,
            "steps": self.steps,
        }

    def add(self, phase: str, title: str, text: str, reveal: list, **more: Any) -> None:
        step = {"phase": phase, "layer": None, "title": title, "text": text, "detail": ""}
        step.update(node=None, input=None, reveal=reveal, focus=[], inputs=[], edges=[])
        step.update(more)
        self.steps.append(step)

    def reveal(self, v: Value, field: str, number: Any) -> dict:
        scalar = np.ndim(number) == 0 and math.isfinite(float(number))
        value = float(number) if scalar else None
        return {"node": self.ids[v], "field": field, "text": summary(number), "value": value}

    def start(self) -> None:
        drawing, names = self.drawing, self.names
        shown = [v for v in self.leaves if v not in drawing.box_of]
        inputs = [v for v in shown if self.role(v) in ("input", "param")]
        targets = [v for v in shown if self.role(v) == "target"]
        constants = [v for v in shown if self.role(v) == "const"]
        parts = [", ".join(f"{names[v]} = {summary(v.data)}" for v in inputs)]
        if targets:
            listed = ", ".join(f"{names[v]} = {summary(v.data)}" for v in targets)
            parts.append(f"the target{'s' * (len(targets) > 1)} {listed}")
        if constants:
            listed = ", ".join(summary(v.data) for v in constants)
            parts.append(f"the constant{'s' * (len(constants) > 1)} {listed}")
        inside = len(self.leaves) - len(shown)
        if inside:
            parts.append(f"and the {inside} parameters inside the boxes")
        self.initial = self.board.states(drawing.values)
        self.add(
            "start",
            "The inputs",
            "Leaves hold numbers we chose: " + "; ".join(p for p in parts if p),
            [self.reveal(v, "data", v.data) for v in self.leaves],
            focus=list(dict.fromkeys(drawing.unit_of[v] for v in shown)),
        )

    def forward(self) -> None:
        drawing, names, unit_of = self.drawing, self.names, self.drawing.unit_of
        ops = [v for v in drawing.values if v.op]
        rank = {"forward": 0, "loss": 1}
        ops = _keep_valid(
            ops, sorted(ops, key=lambda v: (rank[self.phase[v]], self.layer(v) or 0)), "parents"
        )
        units: dict[str, list[Value]] = {}
        for v in ops:
            units.setdefault(unit_of[v], []).append(v)
        for uid, members in units.items():
            for v in members:
                self.board.data[v] = v.data
            box = drawing.box_of.get(members[0])
            circles, edges = [], []
            for v in members:
                c, e = self.lit(v)
                circles, edges = circles + c, edges + e
            lines = [(short_forward if box else forward_text)(v, names) for v in members]
            main = members[-1]
            self.add(
                self.phase[main],
                f"Forward: compute {box.name if box else names[main]}",
                "\n".join(lines),
                [self.reveal(v, "data", v.data) for v in members],
                detail="\n".join(forward_text(v, names) for v in members) if box else "",
                layer=self.layer(main),
                node=self.ids[main],
                focus=[uid] + circles,
                edges=list(dict.fromkeys(edges)),
                inputs=self.drawn_units(p for v in members for p in v.parents if unit_of[p] != uid),
                set=self.board.states(members),
            )

    def backward(self) -> None:
        root, names, unit_of = self.root, self.names, self.drawing.unit_of
        self.board.grad[root] = self.seed
        self.add(
            "backward",
            f"Backward: seed {names[root]}.grad = 1",
            f"∂{term(names[root])}/∂{term(names[root])} = 1: the gradient starts at the output.",
            [self.reveal(root, "grad", self.seed)],
            layer=self.layer(root),
            node=self.ids[root],
            focus=[unit_of[root]],
            set=self.board.states([root]),
        )
        by_node: dict[Value, list[BackwardStep]] = {}
        for s in self.trace:
            by_node.setdefault(s.node, []).append(s)
        rank = {"loss": 0, "forward": 1}
        nodes = list(by_node)
        nodes = _keep_valid(
            nodes,
            sorted(nodes, key=lambda v: (rank[self.phase[v]], -(self.layer(v) or 0))),
            "users",
        )
        totals: dict[Value, Any] = {}
        groups: dict[Any, list[BackwardStep]] = {}
        for node in nodes:
            for s in by_node[node]:
                key = len(groups) if self.per == "line" else unit_of[node]
                groups.setdefault(key, []).append(s)
        for group in groups.values():
            lines, reveals = [], []
            for s in group:
                before = totals.get(s.input)
                totals[s.input] = s.contribution if before is None else before + s.contribution
                self.board.grad[s.input] = totals[s.input]
                lines.append(backward_line(s, names, totals[s.input]))
                reveals.append(self.reveal(s.input, "grad", totals[s.input]))
            self.add_backward(group, lines, reveals)
        self.add(
            "backward",
            "Backward: done",
            f"Every value now holds ∂{term(names[root])}/∂(value). Blue means increasing "
            f"the value increases {names[root]}, orange that it decreases it.",
            [],
            focus=[unit_of[root]],
        )

    def add_backward(self, group: list[BackwardStep], lines: list[str], reveals: list) -> None:
        names, unit_of, box_of = self.names, self.drawing.unit_of, self.drawing.box_of
        node = group[0].node
        uid = unit_of[node]
        box = box_of.get(node)
        touched = [s.input for s in group]
        if self.per == "line":
            s = group[0]
            title = f"Backward: ∂{term(names[self.root])}/∂{term(names[s.input])}"
            circles, _ = self.lit(node)
            edges = self.edges_between(s.input, node)
        else:
            title = (
                f"Backward through {box.name}"
                if box
                else f"Backward through {names[node]} = {node.op}(…)"
            )
            circles, edges = self.lit(node)
        long = box is not None and len(lines) > SHOWN_LINES
        shown = lines[:4] + [
            f"… and {len(lines) - 4} more chain-rule lines (tick “every line” to read them)"
        ]
        self.add(
            "backward",
            title,
            "\n".join(shown if long else lines),
            reveals,
            detail="\n".join(lines) if box else "",
            layer=self.layer(node),
            node=self.ids[node],
            input=self.ids[group[0].input] if self.per == "line" else None,
            focus=[uid] + circles,
            edges=edges,
            inputs=self.drawn_units(p for p in touched if unit_of[p] != uid),
            set=self.board.states([node, *touched]),
        )

    def update(self) -> None:
        lr, names = self.lr, self.names
        rows = []
        for p in self.params:
            g = self.finals.get(p, np.zeros_like(p.data) if p.ndim else 0.0)
            after = p.data - lr * g
            rows.append((p, g, after))
            self.board.data[p] = after
        lines = [
            f"{names[p]} ← {summary(p.data)} − {fmt(lr)} × {term(summary(g))} = {summary(a)}"
            for p, g, a in rows
        ]
        text = lines
        if len(lines) > SHOWN_LINES:
            biggest = sorted(rows, key=lambda r: -float(np.max(np.abs(r[1]))))[:3]
            text = [f"{len(lines)} parameters; the largest steps:"] + [
                f"{names[p]}: {summary(p.data)} → {summary(a)}" for p, _, a in biggest
            ]
            text.append("(tick “every line” to read every parameter's update)")
        self.add(
            "update",
            f"Update: every parameter takes a step against its gradient (lr = {fmt(lr)})",
            "p ← p − lr × p.grad\n" + "\n".join(text),
            [self.reveal(p, "after", a) for p, _, a in rows],
            detail="p ← p − lr × p.grad\n" + "\n".join(lines),
            focus=list(dict.fromkeys(self.drawing.unit_of[p] for p in self.params)),
            set=self.board.states(self.params),
        )

    # ------------------------------------------------------------ the drawing
    def lit(self, v: Value) -> tuple[list[str], list[str]]:
        """The op circle (for a value drawn alone) and the edges that carry ``v``."""
        u = self.drawing.unit_of[v]
        if v in self.drawing.box_of:
            return [], [e for _, e in self.into.get(u, [])]
        return [u + "_op"], [e for _, e in self.into.get(u, []) + self.into.get(u + "_op", [])]

    def edges_between(self, source: Value, v: Value) -> list[str]:
        """The edges that carry ``source`` into ``v``'s op (or box)."""
        unit_of = self.drawing.unit_of
        src, dst = unit_of[source], unit_of[v]
        into = dst if v in self.drawing.box_of else dst + "_op"
        return [e for a, e in self.into.get(into, []) if a == src]

    def drawn_units(self, values: Iterable[Value]) -> list[str]:
        unit_of, cells = self.drawing.unit_of, self.drawing.cells
        return list(dict.fromkeys(unit_of[v] for v in values if unit_of[v] in cells))


def _layers(drawing: Plan) -> dict[Value, int | None]:
    """Each value's layer, from 1 (``L2.n1.w1``, ``L2.n1.z``: 2); the inputs of a
    layer's neurons that no layer computed are in the layer before (``x1``: 0)."""
    roles, layers = drawing.roles, {}
    for v in drawing.values:
        module = roles.owners.get(v) or owner(v)
        if module:
            layers[v] = layer_number(module)
    for z, role in roles.role.items():
        if role == "z" and layers.get(z):
            for p in z.parents:
                if not p.op and p not in layers:
                    layers[p] = layers[z] - 1
    return layers


def _keep_valid(order: list[Value], wanted: list[Value], after: str) -> list[Value]:
    """``wanted`` (a reordering of ``order``) when each value still comes after its
    ``parents`` (forward) or after every value that uses it (``users``, backward);
    else ``order`` as it was."""
    place = {v: i for i, v in enumerate(wanted)}
    for v in wanted:
        for p in v.parents:
            if p in place and (place[p] > place[v] if after == "parents" else place[p] < place[v]):
                return order
    return wanted


class _Board:
    """What the drawing shows at a point of the walk: the values whose data is known and
    the gradients so far; it writes each unit's cells as the drawing's state."""

    def __init__(self, drawing: Plan, scale: float, drawn: bool = True) -> None:
        self.drawing, self.scale, self.drawn = drawing, scale, drawn
        self.data: dict[Value, Any] = {v: v.data for v in drawing.values if not v.op}
        self.grad: dict[Value, Any] = {}
        # the value that colours a unit: itself, or a box's output (its last op)
        self.main = {drawing.unit_of[v]: v for v in drawing.values if v not in drawing.box_of}
        for box in drawing.box_of.values():
            ops = [v for v in box.members if v.op]
            self.main[box.id] = ops[-1] if ops else box.members[0]

    def state(self, uid: str) -> dict:
        cells = [c for row in self.drawing.cells[uid] for c in row]
        main = self.main[uid]
        g = self.grad.get(main)
        fill = "#ffffff" if g is None else grad_colour(g, self.scale)
        if uid.startswith("v"):  # a value's own box: {"data", "grad", "fill"}
            d = self.data.get(main)
            none = "–" if not main.requires_grad else "?"  # a constant's is never computed
            return {
                "data": "?" if d is None else summary(d),
                "grad": none if g is None else summary(g),
                "fill": fill,
            }
        texts = {
            str(len(cells) - i): cell_text(c, self.data.get, self.grad.get)
            for i, c in enumerate(cells)
            if c[0] != "text"
        }
        return {"t": texts, "fill": fill}

    def states(self, values: Iterable[Value]) -> dict:
        if not self.drawn:
            return {}
        uids = dict.fromkeys(self.drawing.unit_of[v] for v in values)
        return {u: self.state(u) for u in uids if u in self.drawing.cells}
