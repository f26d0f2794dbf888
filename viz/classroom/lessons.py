"""The Neuron, Expression and Network tabs: what the page shows, computed by the engine.

Each view is a plain dict ready for JSON. Graph pictures are ``draw_dot`` drawings as SVG;
every name, number and chain-rule step the page shows is in the view's ``scene``
(:mod:`viz.scene`, from ``trace_backward``), which the page's player reveals step by step.

>>> view = neuron_view(check_neuron({}))
>>> view["formula"]
'sigmoid(0·2 + 1·3 + 4) = 0.9991'
>>> NetworkLesson(check_network({})).view()["output"]
[0.7216325609518421]
"""

from __future__ import annotations

import numpy as np

from autograd import Value, add_n, topological_order
from nn import MLP, SGD
from nn.activations import REGISTRY, activate
from nn.names import error_name, input_name, model_names, neuron_name, short_name, target_name

from ..format import fmt
from ..graph import draw_dot, plan
from ..rendering import to_svg
from ..scene import build_scene
from ..stepper import widest_texts
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
    """The neuron as the articles draw it: x_i * w_i, summed with b into its
    pre-activation z, then f(z); returns ``out, xs, ws, b`` (``out`` is ``z`` itself for a
    linear neuron). Its inputs, weights and bias are named as :mod:`nn.names` names a
    lone neuron's (``x1``, ``w1``, ``b``).

    >>> out, xs, ws, b = neuron([2.0, 3.0], [0.0, 1.0], 4.0, "sigmoid")
    >>> out.data, out.parents[0].label, [v.label for v in [*xs, *ws, b]]
    (0.9990889488055994, 'z', ['x1', 'x2', 'w1', 'w2', 'b'])
    """
    xs = [Value(v, label=input_name(i)) for i, v in enumerate(x)]
    ws = [Value(v, label=short_name(f"w.{i}")) for i, v in enumerate(w)]
    bias = Value(b, label="b")
    products = []
    for xi, wi in zip(xs, ws):
        products.append(xi * wi)
        products[-1].label = f"{xi.label}*{wi.label}"
    z = add_n([*products, bias])
    z.label = "z"
    out = activate(z, activation)
    if out is not z:
        out.label = "out"
    return out, xs, ws, bias


def _neuron(state: dict) -> tuple[Value, list[Value], list[Value], Value]:
    return neuron(state["x"], state["w"], state["b"], state["activation"])


def _num(x: float) -> str:
    """A number inside a formula: 4 significant digits, negatives in parentheses."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def neuron_loss(state: dict) -> tuple[Value, Value, list[Value], list[Value], Value]:
    """The neuron and what "Learn" minimises: ``e = out - y`` and ``loss = e**2``
    against the target ``y``; returns ``loss, out, xs, ws, b``."""
    out, xs, ws, b = _neuron(state)
    error = out - Value(state["target"], label="y", requires_grad=False)
    error.label = "e"
    loss = error**2
    loss.label = "loss"
    return loss, out, xs, ws, b


def neuron_view(state: dict) -> dict:
    """The neuron's walk (``scene``): forward to its output and the loss
    ``(out - target)²``, backward to every input, weight and bias, and the update of w and
    b that "Learn" applies; with its output, formula and gradients as numbers for Python
    (``out``, ``formula``, ``loss``, ``values``: every input's, weight's and bias's data
    and ∂loss/∂value). :func:`neuron_graph` lays out the drawing the scene addresses."""
    loss, out, xs, ws, b = neuron_loss(state)
    drawing = plan(loss, None)
    scene = build_scene(loss, drawing, state["lr"], outputs=[out], params=[*ws, b])
    loss.backward()
    terms = " + ".join(f"{_num(w.data)}·{_num(x.data)}" for w, x in zip(ws, xs))
    inner = f"{terms} + {_num(b.data)}"
    act = state["activation"]
    formula = inner if act == "linear" else f"{act}({inner})"
    ids = {v: f"v{i}" for i, v in enumerate(drawing.values)}
    return {
        "type": "neuron",
        "state": state,
        "out": out.data,
        "formula": f"{formula} = {fmt(out.data)}",
        "formula_text": f"{formula} = ",  # the page adds the output once it is revealed
        "scene": scene,
        "shown": {
            "out": ids[out],
            "loss": ids[loss],
            "values": [ids[v] for pair in zip(xs, ws) for v in pair] + [ids[b]],
        },
        "values": {v.label: {"data": v.data, "grad": v.grad} for v in [*xs, *ws, b]},
        "loss": loss.data,
    }


def neuron_graph(state: dict, theme: str = "default") -> dict:
    """The neuron's and its loss's graph as ``draw_dot`` draws it, as SVG (the slow part:
    a layout), with room for every number the walk writes into it; ``theme="projector"``
    for the page's presenter mode."""
    loss = neuron_loss(state)[0]
    scene = build_scene(loss, plan(loss, None), state["lr"])
    return {"type": "neuron.graph", "state": state, "svg": _svg(loss, scene, theme)}


def neuron_step(state: dict) -> dict:
    """One step of gradient descent on w and b for loss = (out - target)²; the view of
    the new neuron, with the loss before and after."""
    loss, _, _, ws, b = neuron_loss(state)
    loss.backward()
    before = loss.data
    SGD([*ws, b], lr=state["lr"]).step()
    new = dict(state, w=[w.data for w in ws], b=b.data)
    view = neuron_view(new)
    view["step"] = {"loss_before": before, "loss_after": view["loss"]}
    return view


def _svg(root: Value, scene: dict, theme: str = "default") -> str:
    drawing = draw_dot(root, max_nodes=None, legend=False, texts=widest_texts(scene), theme=theme)
    svg = to_svg(drawing)
    return svg[svg.index("<svg") :]


# ------------------------------------------------------------------ an expression
def expression_view(text: str, variables: str, theme: str = "default") -> dict:
    """The formula's graph (SVG, in ``theme``) and its walk (``scene``: the forward and
    backward pass, the same steps as ``backprop_html``); ``out`` is the value, for
    Python."""
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
        drawing = plan(out, None)
        scene = build_scene(out, drawing)
    ids = {v: f"v{i}" for i, v in enumerate(drawing.values)}
    return {
        "type": "expression",
        "text": text,
        "variables": variables,
        "out": out.data,
        "svg": _svg(out, scene, theme),
        "scene": scene,
        "shown": {"out": ids[out], "values": [ids[v] for v in leaves.values()]},
        "unused": sorted(set(values) - set(leaves)),
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

    def same_model(self, settings: dict) -> bool:
        keys = ("sizes", "activation", "init", "seed")
        return all(self.settings[k] == settings[k] for k in keys)

    def forward(self) -> tuple[list[list[Value]], Value]:
        """Each layer's outputs (the inputs first, as constants ``x1, ...``) and the loss:
        the squared error ``e²`` of one output (``e = out - y``), the mean of ``e1², e2²,
        ...`` of several, every node named as :func:`nn.names.model_names` lists it."""
        s = self.settings
        xs = [Value(v, label=input_name(k), requires_grad=False) for k, v in enumerate(s["x"])]
        layers: list[list[Value]] = [xs]
        for layer in self.model.layers:
            out = layer(layers[-1])
            layers.append(out if isinstance(out, list) else [out])
        count = len(layers[-1])
        errors = []
        for k, (o, t) in enumerate(zip(layers[-1], s["target"])):
            errors.append(o - Value(t, label=target_name(k, count), requires_grad=False))
            errors[-1].label = error_name(k, count)
        squares = [e**2 for e in errors]
        if count == 1:
            loss = squares[0]
        else:
            for e, square in zip(errors, squares):
                square.label = f"{e.label}²"
            total = add_n(squares)
            total.label = " + ".join(sq.label for sq in squares)
            loss = total / count
        loss.label = "loss"
        return layers, loss

    def view(self) -> dict:
        """The page's view: the walk (``scene``, forward neuron by neuron, the loss, the
        backward pass line by line, the update), where each name is drawn (``network``:
        the node ids of the inputs, of each neuron's output, pre-activation, bias and
        weights, of the outputs and the loss), and the numbers for Python."""
        s = self.settings
        layers, loss = self.forward()
        return {
            "type": "network",
            "settings": s,
            **network_walk(self.model, layers, loss, s["lr"]),
            "output": [o.data for o in layers[-1]],
            "loss": loss.data,
            "updates": self.updates,
        }

    def names(self) -> list[str]:
        """Every name the walk uses (:func:`nn.names.model_names` of this network)."""
        return model_names(self.model)

    def update(self) -> None:
        """Apply one SGD step to the network (the update the walk's last step shows)."""
        loss = self.forward()[1]
        self.model.zero_grad()
        loss.backward()
        SGD(self.model.parameters(), lr=self.settings["lr"]).step()
        self.model.zero_grad()
        self.updates += 1


def network_walk(
    model: MLP, layers: list[list[Value]], loss: Value, lr: float, per: str = "line"
) -> dict:
    """The walk of a scalar-mode MLP on one sample, as the Network tab draws it: the
    ``scene`` (forward neuron by neuron, the loss, backward per chain-rule line or, with
    ``per="unit"``, per neuron, the SGD update of every parameter) of ``layers`` (each
    layer's outputs, the inputs first) and ``loss``, and where each name is drawn
    (``network``: the node ids of the inputs, of each neuron's output, pre-activation,
    bias and weights, of the outputs and of the loss)."""
    drawing = plan(loss, "neuron")
    scene = build_scene(loss, drawing, lr, per=per, params=model.parameters(), drawn=False)
    ids = {v: f"v{i}" for i, v in enumerate(drawing.values)}
    network = {"inputs": [ids[x] for x in layers[0]], "layers": [], "loss": ids[loss]}
    for li, (layer, outs) in enumerate(zip(model.layers, layers[1:])):
        row = []
        for j, (neuron, out) in enumerate(zip(layer.neurons, outs)):
            z = out if out.op in ("w·x+b", "w·x") else out.parents[0]
            row.append(
                {
                    "name": neuron_name(li, j),
                    "out": ids[out],
                    "z": ids[z],
                    "b": ids[neuron.b],
                    "w": [ids[w] for w in neuron.w],
                }
            )
        network["layers"].append(row)
    network["outputs"] = [ids[o] for o in layers[-1]]
    return {"scene": scene, "network": network}


def activation_formulas() -> dict[str, str]:
    """Each activation's formula, for the page's menus."""
    return {name: act.formula for name, act in REGISTRY.items()}
