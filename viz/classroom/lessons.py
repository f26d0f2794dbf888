"""The Neuron, Expression and Network tabs: what the page shows, computed by the engine.

Each view is a plain dict ready for JSON. Graph pictures are ``draw_dot`` drawings as SVG;
every gradient and every chain-rule step comes from ``backward`` / ``trace_backward``.

>>> view = neuron_view(check_neuron({}))
>>> view["formula"]
'sigmoid(0·2 + 1·3 + 4) = 0.9991'
>>> NetworkLesson(check_network({})).view()["output"]
[0.7216325609518421]
"""

from __future__ import annotations

import numpy as np

from autograd import Value, add_n, topological_order, trace_backward
from nn import MLP, SGD
from nn.activations import REGISTRY, activate

from ..graph import collect, colour_scale, draw_dot, fmt, grad_colour, summary
from ..rendering import to_svg
from ..stepper import backward_line, build_steps
from .expression import build, parse_assignments
from .settings import MAX_GRAPH_VALUES as MAX_VALUES
from .settings import Network, Neuron, SettingsError


# ------------------------------------------------------------------ the neuron
def check_neuron(state: dict) -> dict:
    """The Neuron tab's state with defaults filled in (the seed neuron), or an error."""
    return Neuron.check(state)


def neuron(
    x: list[float], w: list[float], b: float, activation: str
) -> tuple[Value, list[Value], list[Value], Value]:
    """The neuron as the articles draw it: x_i * w_i, summed with b into n, then f(n);
    returns ``out, xs, ws, b`` (``out`` is ``n`` itself for a linear neuron).

    >>> neuron([2.0, 3.0], [0.0, 1.0], 4.0, "sigmoid")[0].data
    0.9990889488055994
    """
    xs = [Value(v, label=f"x{i + 1}") for i, v in enumerate(x)]
    ws = [Value(v, label=f"w{i + 1}") for i, v in enumerate(w)]
    bias = Value(b, label="b")
    products = []
    for i, (xi, wi) in enumerate(zip(xs, ws)):
        products.append(xi * wi)
        products[-1].label = f"x{i + 1}*w{i + 1}"
    n = add_n([*products, bias])
    n.label = "n"
    out = activate(n, activation)
    if out is not n:
        out.label = "out"
    return out, xs, ws, bias


def _neuron(state: dict) -> tuple[Value, list[Value], list[Value], Value]:
    return neuron(state["x"], state["w"], state["b"], state["activation"])


def _num(x: float) -> str:
    """A number inside a formula: 4 significant digits, negatives in parentheses."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def neuron_view(state: dict) -> dict:
    """Output, formula with numbers, every value's gradient, and what each box of the
    graph now reads (``nodes``: draw_dot's ids -> data, grad and fill), so the page can
    update the drawing it has at once; :func:`neuron_graph` lays out the new one."""
    out, xs, ws, b = _neuron(state)
    out.backward()
    values = collect(out)[0]
    scale = colour_scale(values, out)
    terms = " + ".join(f"{_num(w.data)}·{_num(x.data)}" for w, x in zip(ws, xs))
    inner = f"{terms} + {_num(b.data)}"
    act = state["activation"]
    formula = inner if act == "linear" else f"{act}({inner})"
    loss = (out - state["target"]) ** 2
    return {
        "type": "neuron",
        "state": state,
        "out": out.data,
        "formula": f"{formula} = {fmt(out.data)}",
        "nodes": {
            f"v{i}": {
                "data": summary(v.data),
                "grad": summary(v.grad),
                "fill": grad_colour(v.grad, scale),
            }
            for i, v in enumerate(values)
        },
        "values": {v.label: {"data": v.data, "grad": v.grad} for v in [*xs, *ws, b]},
        "loss": loss.data,
    }


def neuron_graph(state: dict) -> dict:
    """The neuron's graph as ``draw_dot`` draws it, as SVG (the slow part: a layout)."""
    out = _neuron(state)[0]
    out.backward()
    return {"type": "neuron.graph", "state": state, "svg": _svg(out)}


def neuron_step(state: dict) -> dict:
    """One step of gradient descent on w and b for loss = (out - target)²; the view of
    the new neuron, with each parameter's before / gradient / after and both losses."""
    out, xs, ws, b = _neuron(state)
    loss = (out - state["target"]) ** 2
    loss.backward()
    params = [*ws, b]
    before = [(p.label, p.data, p.grad) for p in params]
    SGD(params, lr=state["lr"]).step()
    new = dict(state, w=[w.data for w in ws], b=b.data)
    view = neuron_view(new)
    view["step"] = {
        "loss_before": loss.data,
        "loss_after": view["loss"],
        "changes": [
            {"name": name, "before": data, "grad": g, "after": p.data}
            for (name, data, g), p in zip(before, params)
        ],
    }
    return view


def _svg(root: Value) -> str:
    svg = to_svg(draw_dot(root, max_nodes=None, legend=False))
    return svg[svg.index("<svg") :]


# ------------------------------------------------------------------ an expression
def expression_view(text: str, variables: str) -> dict:
    """The formula's graph (SVG), each variable's gradient, and the step-through of the
    forward and backward pass (the same steps as ``backprop_html``)."""
    try:
        values = parse_assignments(p for p in variables.replace(",", " ").split() if p)
        out, leaves = build(text, values)
    except RecursionError:
        raise SettingsError("the expression is nested too deeply") from None
    order = topological_order(out)
    if len(order) > MAX_VALUES:
        raise SettingsError(
            f"the expression makes {len(order)} values; the page draws at most {MAX_VALUES}"
        )
    if out.ndim:
        raise SettingsError("the expression must give one number")
    with np.errstate(all="ignore"):
        steps, initial = build_steps(out, order)
        out.backward()
    return {
        "type": "expression",
        "text": text,
        "variables": variables,
        "out": out.data,
        "svg": _svg(out),
        "gradients": [{"name": n, "data": v.data, "grad": v.grad} for n, v in leaves.items()],
        "unused": sorted(set(values) - set(leaves)),
        "steps": steps,
        "initial": initial,
    }


# ------------------------------------------------------------------ a small network
def check_network(settings: dict) -> dict:
    """The Network tab's settings with defaults (the articles' 2-2-1 sigmoid network)."""
    return Network.check(settings)


class NetworkLesson:
    """A scalar-mode MLP and one training sample: forward neuron by neuron, the loss,
    backward weight by weight (from ``trace_backward``), then the SGD update."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        s = settings
        self.model = MLP(
            s["sizes"][0], s["sizes"][1:], s["activation"], s["activation"], rng=s["seed"]
        )
        if s["init"] == "article":  # every neuron w = [0, 1, 0, 1, ...], b = 0
            for layer in self.model.layers:
                for neuron in layer.neurons:
                    for i, w in enumerate(neuron.w):
                        w.data = float(i % 2)
                    neuron.b.data = 0.0
        self.updates = 0
        self.last_update: list[dict] | None = None

    def same_model(self, settings: dict) -> bool:
        keys = ("sizes", "activation", "init", "seed")
        return all(self.settings[k] == settings[k] for k in keys)

    def _forward(self) -> tuple[list[list[Value]], Value]:
        """Each layer's outputs (inputs first, as constants) and the loss."""
        s = self.settings
        layers: list[list[Value]] = [[Value(v, requires_grad=False) for v in s["x"]]]
        for layer in self.model.layers:
            out = layer(layers[-1])
            layers.append(out if isinstance(out, list) else [out])
        errors = [o - t for o, t in zip(layers[-1], s["target"])]
        for k, e in enumerate(errors):
            e.label = f"e{k + 1}"
        squares = [e**2 for e in errors]
        loss = squares[0] if len(squares) == 1 else add_n(squares) / len(squares)
        loss.label = "loss"
        return layers, loss

    def view(self) -> dict:
        s, model = self.settings, self.model
        layers, loss = self._forward()
        names: dict[Value, str] = {}
        edges, neurons = [], []
        for k, v in enumerate(layers[0]):
            names[v] = f"x{k + 1}"
        forward = []
        for li, layer in enumerate(model.layers):
            row = []
            for j, (neuron, out) in enumerate(zip(layer.neurons, layers[li + 1])):
                nid = f"L{li + 1}.n{j + 1}"
                z = out if s["activation"] == "linear" else out.parents[0]
                names[out] = nid
                if z is not out:
                    names[z] = f"{nid}.z"
                names[neuron.b] = f"{nid}.b"
                for i, w in enumerate(neuron.w):
                    names[w] = f"{nid}.w{i + 1}"
                    edges.append({"id": names[w], "from": [li, i], "to": [li + 1, j], "w": w.data})
                row.append({"id": nid, "b": neuron.b.data, "z": z.data, "out": out.data})
                forward.append(self._forward_step(li, j, neuron, layers[li], out, z, names))
            neurons.append(row)
        for v in collect(loss)[0]:
            names.setdefault(v, v.label or fmt(float(v.data)))
        steps = forward + [self._loss_step(layers[-1], loss)]
        grads: dict[str, float] = {}
        for step in trace_backward(loss):
            name = names[step.input]
            grads[name] = step.total
            steps.append(
                {
                    "phase": "backward",
                    "title": f"Backward: ∂loss/∂{name}",
                    "text": backward_line(step, names),
                    "focus": name,
                    "reveal": {"grad": {name: step.total}},
                }
            )
        update = self._planned_update(loss, names)
        steps.append(
            {
                "phase": "update",
                "title": f"Update: w ← w − lr·grad, lr = {fmt(s['lr'])}",
                "text": "\n".join(
                    f"{u['name']} ← {fmt(u['before'])} − {fmt(s['lr'])} × {_num(u['grad'])}"
                    f" = {fmt(u['after'])}"
                    for u in update
                ),
                "focus": None,
                "reveal": {"after": {u["name"]: u["after"] for u in update}},
            }
        )
        return {
            "type": "network",
            "settings": s,
            "inputs": [{"id": f"x{k + 1}", "value": v} for k, v in enumerate(s["x"])],
            "neurons": neurons,
            "edges": edges,
            "output": [o.data for o in layers[-1]],
            "loss": loss.data,
            "grads": grads,
            "update": update,
            "updates": self.updates,
            "last_update": self.last_update,
            "steps": steps,
        }

    def _forward_step(self, li, j, neuron, inputs, out, z, names) -> dict:
        act = self.settings["activation"]
        nid = names[out]
        terms = (
            " + ".join(f"{names[w]}·{names[x]}" for w, x in zip(neuron.w, inputs)) + f" + {nid}.b"
        )
        nums = " + ".join(f"{_num(w.data)}·{_num(x.data)}" for w, x in zip(neuron.w, inputs))
        nums += f" + {_num(neuron.b.data)}"
        if act == "linear":
            text = f"{nid} = {terms} = {nums} = {fmt(out.data)}"
        else:
            text = (
                f"{nid} = {act}({terms})\n    = {act}({nums}) = {act}({fmt(z.data)})"
                f" = {fmt(out.data)}"
            )
        return {
            "phase": "forward",
            "title": f"Forward: layer {li + 1}, neuron {j + 1}",
            "text": text,
            "focus": nid,
            "reveal": {"out": {nid: out.data}},
        }

    def _loss_step(self, outputs: list[Value], loss: Value) -> dict:
        parts = [f"({fmt(o.data)} − {_num(t)})²" for o, t in zip(outputs, self.settings["target"])]
        text = " + ".join(parts)
        if len(parts) > 1:
            text = f"({text}) / {len(parts)}"
        return {
            "phase": "loss",
            "title": "The loss: squared error against the target",
            "text": f"loss = {text} = {fmt(loss.data)}",
            "focus": "loss",
            "reveal": {"loss": loss.data},
        }

    def _planned_update(self, loss: Value, names: dict) -> list[dict]:
        """What one SGD step would do, computed by ``nn.SGD`` itself and then undone."""
        params = self.model.parameters()
        self.model.zero_grad()
        loss.backward()
        before = [(p.data, p.grad) for p in params]
        SGD(params, lr=self.settings["lr"]).step()
        update = [
            {"name": names.get(p, "?"), "before": d, "grad": g, "after": p.data}
            for p, (d, g) in zip(params, before)
        ]
        for p, (d, _) in zip(params, before):
            p.data = d
        self.model.zero_grad()
        return update

    def update(self) -> None:
        """Apply one SGD step to the network (the planned update of :meth:`view`)."""
        update = self.view()["update"]
        for p, u in zip(self.model.parameters(), update):
            p.data = u["after"]
        self.updates += 1
        self.last_update = update


def activation_formulas() -> dict[str, str]:
    """Each activation's formula, for the page's menus."""
    return {name: act.formula for name, act in REGISTRY.items()}
