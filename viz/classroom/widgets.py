"""Jupyter widgets (anywidget, the ``widgets`` extra): the live classroom's Neuron tab and
``draw_dot``'s graph in a notebook, public as ``viz.widgets``.

Every number is computed in Python by the functions the live Neuron tab uses
(:func:`~viz.classroom.lessons.check_neuron`, :func:`~viz.classroom.lessons.neuron_view`)
and synced through traitlets; the browser side is the page's own ES modules from
``static/`` (``common.js``, ``neuron.js``, ``widgets.js``), linked in the browser without a
build step.

>>> w = NeuronWidget()
>>> w.output
0.9990889488055994
>>> w.formula
'sigmoid(0·2 + 1·3 + 4) = 0.9991'
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import anywidget
import traitlets

from autograd import Value, topological_order
from nn.activations import ACTIVATIONS

from ..graph import summary
from .lessons import check_neuron, neuron_graph, neuron_view
from .limits import SettingsError
from .sessions import _finite

__all__ = ["NeuronWidget", "GraphWidget"]

STATIC = Path(__file__).resolve().parent / "static"
MODULES = ("common.js", "neuron.js", "widgets.js")  # each after the modules it imports

# anywidget loads one module from a string; this one turns each page module into a blob
# URL, pointing its `from "./x.js"` imports at the blob URLs made before it.
_LOADER = """\
const SOURCES = %s;
const urls = {};
for (const [name, code] of Object.entries(SOURCES)) {
  const linked = code.replace(/from\\s+"\\.\\/([\\w-]+\\.js)"/g, (m, dep) => `from "${urls[dep]}"`);
  urls[name] = URL.createObjectURL(new Blob([linked], { type: "text/javascript" }));
}
const widgets = await import(urls["widgets.js"]);
export default widgets[%s];
"""


def widget_module(kind: str) -> str:
    """The ES module anywidget loads for one widget (``"neuron"`` or ``"graph"``)."""
    sources = {name: (STATIC / name).read_text(encoding="utf-8") for name in MODULES}
    return _LOADER % (json.dumps(sources), json.dumps(kind))


def _css() -> str:
    return (STATIC / "widgets.css").read_text(encoding="utf-8")


class NeuronWidget(anywidget.AnyWidget):
    """One neuron with sliders for its inputs ``x``, weights ``w``, bias ``b`` and its
    activation; shows the output, the formula with numbers, ``draw_dot``'s graph and every
    gradient. Set ``x``, ``w``, ``b`` or ``activation`` from Python or from the sliders;
    ``output``, ``formula``, ``gradients`` and the drawing follow. A bad setting (w and x
    of different lengths) keeps the last good numbers and says why in ``error``."""

    _esm = widget_module("neuron")
    _css = _css()

    x = traitlets.List(traitlets.Float(), default_value=[2.0, 3.0]).tag(sync=True)
    w = traitlets.List(traitlets.Float(), default_value=[0.0, 1.0]).tag(sync=True)
    b = traitlets.Float(4.0).tag(sync=True)
    activation = traitlets.Unicode("sigmoid").tag(sync=True)
    activations = traitlets.List(traitlets.Unicode(), default_value=list(ACTIVATIONS)).tag(
        sync=True
    )
    output = traitlets.Float(None, allow_none=True).tag(sync=True)
    formula = traitlets.Unicode("").tag(sync=True)
    gradients = traitlets.Dict().tag(sync=True)  # label -> {"data": ..., "grad": ...}
    view = traitlets.Dict().tag(sync=True)  # neuron_view's answer, as the page gets it
    svg = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs) -> None:
        self._shape: tuple | None = None
        super().__init__(**kwargs)
        self._update()

    @traitlets.observe("x", "w", "b", "activation")
    def _changed(self, change) -> None:
        if self._shape is not None:  # not while __init__ sets the first values
            self._update()

    def _update(self) -> None:
        try:
            state = check_neuron(
                {"x": self.x, "w": self.w, "b": self.b, "activation": self.activation}
            )
        except SettingsError as e:
            self.error = str(e)
            return
        view = _finite(neuron_view(state))
        shape = (len(state["x"]), state["activation"])
        with self.hold_sync():
            if shape != self._shape:  # other boxes: lay the drawing out anew (the slow part)
                self.svg = neuron_graph(state)["svg"]
                self._shape = shape
            self.error = ""
            self.output = view["out"]
            self.formula = view["formula"]
            self.gradients = view["values"]
            self.view = {k: view[k] for k in ("out", "formula", "nodes", "values", "loss")}


class GraphWidget(anywidget.AnyWidget):
    """``draw_dot``'s drawing of ``value`` (call ``backward()`` first to see gradients) and
    a table of every labelled value with its data and gradient; :meth:`refresh` redraws
    after the numbers change."""

    _esm = widget_module("graph")
    _css = _css()

    svg = traitlets.Unicode("").tag(sync=True)
    gradients = traitlets.List().tag(sync=True)  # [{"name", "data", "grad"}], inputs first

    def __init__(self, value: Value, **kwargs) -> None:
        if not isinstance(value, Value):
            raise TypeError(f"GraphWidget draws a Value, not {type(value).__name__}")
        super().__init__(**kwargs)
        self.value = value
        self.refresh()

    def refresh(self) -> None:
        from ..graph import draw_dot
        from ..render import to_svg

        svg = to_svg(draw_dot(self.value))
        rows = [
            {"name": v.label, "data": _number(v.data), "grad": _number(v.grad)}
            for v in topological_order(self.value)
            if v.label
        ]
        with self.hold_sync():
            self.svg = svg[svg.index("<svg") :]
            self.gradients = rows


def _number(x) -> float | str | None:
    """A scalar as a number (None when not finite); a tensor as draw_dot's summary text."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    return summary(x)
