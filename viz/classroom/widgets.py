"""Jupyter widgets (anywidget, the ``widgets`` extra): the live classroom's Neuron and
Network tabs and ``draw_dot``'s graph in a notebook, public as ``viz.widgets``.

Every number is computed in Python by the functions the live tabs use
(:func:`~viz.classroom.lessons.check_neuron`, :func:`~viz.classroom.lessons.neuron_view`,
:class:`~viz.classroom.lessons.NetworkLesson`) and synced through traitlets; the browser
side is the page's own ES modules from ``static/`` (``common.js``, ``neuron.js``,
``network.js``, ``widgets.js``), linked in the browser without a build step.

>>> w = NeuronWidget()
>>> w.output
0.9990889488055994
>>> w.formula
'sigmoid(0·2 + 1·3 + 4) = 0.9991'
>>> NetworkWidget().output
[0.7216325609518421]
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import anywidget
import traitlets

from autograd import Value
from nn.activations import ACTIVATIONS

from .. import to_svg
from ..graph import draw_dot, plan, summary
from ..scene import build_scene
from ..stepper import widest_texts
from .lessons import NetworkLesson, check_network, check_neuron, neuron_graph, neuron_view
from .sessions import _finite
from .settings import MAX_FPS, Neuron, Playground, SettingsError, Tab
from .trainer import DATASETS, Trainer

__all__ = ["NeuronWidget", "GraphWidget", "NetworkWidget", "PlaygroundWidget"]

STATIC = Path(__file__).resolve().parent / "static"
MODULES = (
    "common.js",
    "player.js",
    "settings.js",
    "neuron.js",
    "network.js",
    "playground.js",
    "widgets.js",
)  # each after the modules it imports

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
    """The ES module anywidget loads for one widget (``"neuron"``, ``"graph"``, ``"network"``)."""
    sources = {name: (STATIC / name).read_text(encoding="utf-8") for name in MODULES}
    return _LOADER % (json.dumps(sources), json.dumps(kind))


def _css() -> str:
    return "\n".join(
        (STATIC / name).read_text(encoding="utf-8")
        for name in ("theme.css", "player.css", "widgets.css")
    )


_TRAITS = {"number": traitlets.Float, "integer": traitlets.Int, "boolean": traitlets.Bool,
           "string": traitlets.Unicode}  # fmt: skip


def settings_traits(tab: type[Tab]) -> type[anywidget.AnyWidget]:
    """A widget base class with one synced trait per setting of ``tab``, its type and
    default from the tab's schema (the same settings as the live page's tab)."""
    traits = {}
    for key, prop in tab.schema()["properties"].items():
        default = prop["default"]
        if prop["type"] == "array":
            trait = traitlets.List(default_value=default)
        else:
            trait = _TRAITS[prop["type"]](default)
        traits[key] = trait.tag(sync=True)
    return type(f"{tab.__name__}Settings", (anywidget.AnyWidget,), traits)


class NeuronWidget(settings_traits(Neuron)):
    """One neuron with sliders for its inputs ``x``, weights ``w``, bias ``b`` and its
    activation; shows the output, the formula with numbers, ``draw_dot``'s graph and every
    gradient. Set ``x``, ``w``, ``b`` or ``activation`` from Python or from the sliders;
    ``output``, ``formula``, ``gradients`` and the drawing follow. A bad setting (w and x
    of different lengths) keeps the last good numbers and says why in ``error``."""

    _esm = widget_module("neuron")
    _css = _css()

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

    @traitlets.observe(*Neuron.model_fields)
    def _changed(self, change) -> None:
        if self._shape is not None:  # not while __init__ sets the first values
            self._update()

    def _update(self) -> None:
        try:
            state = check_neuron({key: getattr(self, key) for key in Neuron.model_fields})
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
            self.view = {
                k: view[k]
                for k in ("out", "formula", "values", "loss", "scene", "shown", "formula_text")
            }


class GraphWidget(anywidget.AnyWidget):
    """``draw_dot``'s drawing of ``value`` (call ``backward()`` first to see gradients) and
    a table of every labelled value with its data and gradient; :meth:`refresh` redraws
    after the numbers change."""

    _esm = widget_module("graph")
    _css = _css()

    svg = traitlets.Unicode("").tag(sync=True)
    gradients = traitlets.List().tag(sync=True)  # [{"name", "data", "grad"}], inputs first
    scene = traitlets.Dict().tag(sync=True)  # {"scene": its walk, "rows": the table's ids}

    def __init__(self, value: Value, **kwargs) -> None:
        if not isinstance(value, Value):
            raise TypeError(f"GraphWidget draws a Value, not {type(value).__name__}")
        super().__init__(**kwargs)
        self.value = value
        self.refresh()

    def refresh(self) -> None:
        drawing = plan(self.value, "auto", max_nodes=250)
        scene = build_scene(self.value, drawing)
        svg = to_svg(draw_dot(self.value, texts=widest_texts(scene)))
        labelled = {f"v{i}": v for i, v in enumerate(drawing.values) if v.label}
        rows = [
            {"name": v.label, "data": _number(v.data), "grad": _number(v.grad)}
            for v in labelled.values()
        ]
        with self.hold_sync():
            self.svg = svg[svg.index("<svg") :]
            self.gradients = rows
            self.scene = _finite({"scene": scene, "rows": list(labelled)})


class NetworkWidget(anywidget.AnyWidget):
    """The Network tab for a scalar-mode ``MLP`` and one sample ``x`` with target ``y``:
    step through the forward pass neuron by neuron, the loss, the backward pass weight by
    weight (``trace_backward``) and the SGD update; *Apply the SGD update* (or
    :meth:`update`) changes the model's own weights. Without a model: the articles' 2-2-1
    sigmoid network (every w = [0, 1], b = 0) on x = [2, 3], y = [1]."""

    _esm = widget_module("network")
    _css = _css()

    view = traitlets.Dict().tag(sync=True)  # NetworkLesson.view(), as the page gets it
    output = traitlets.List().tag(sync=True)
    loss = traitlets.Float(None, allow_none=True).tag(sync=True)
    updates = traitlets.Int(0).tag(sync=True)

    def __init__(self, model=None, x=None, y=None, lr: float | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        given = {"x": x, "target": y, "lr": lr}
        given = {k: list(v) if k != "lr" else v for k, v in given.items() if v is not None}
        if model is None:
            self.lesson = NetworkLesson(check_network(given))
        else:
            self.lesson = _lesson(model, given)
        self.on_msg(self._message)
        self._show()

    @property
    def model(self):
        return self.lesson.model

    def update(self) -> None:
        """One SGD step on the model's weights (the update the last step shows)."""
        self.lesson.update()
        self._show()

    def _message(self, widget, content, buffers) -> None:
        if isinstance(content, dict) and content.get("type") == "update":
            self.update()

    def _show(self) -> None:
        view = _finite(self.lesson.view())
        with self.hold_sync():
            self.view = view
            self.output = view["output"]
            self.loss = view["loss"]
            self.updates = view["updates"]


class PlaygroundWidget(settings_traits(Playground)):
    """The Playground tab: its settings as traits (the tab's schema), trained by the live
    tab's own :class:`~viz.classroom.trainer.Trainer` (one epoch a frame). :meth:`step`
    trains from Python; the Step, Play, Pause and Reset buttons ask Python to. :meth:`play`
    trains in a background thread, at most ``frames`` frames (then it pauses); :meth:`pause`
    stops it. As on the page, a live setting (learning rate, regularization, activation,
    batch size) changes the run as it trains, any other starts a new run; a bad one keeps
    the last run and says why in ``error``."""

    _esm = widget_module("playground")
    _css = _css()

    schema = traitlets.Dict(Playground.schema()).tag(sync=True)  # the page builds menus from it
    datasets = traitlets.Dict(DATASETS).tag(sync=True)
    points = traitlets.Dict().tag(sync=True)  # Trainer.points(): the data, once per run
    frame = traitlets.Dict().tag(sync=True)  # Trainer.frame(), as the page gets it
    epoch = traitlets.Int(0).tag(sync=True)
    train_loss = traitlets.Float(None, allow_none=True).tag(sync=True)
    test_loss = traitlets.Float(None, allow_none=True).tag(sync=True)
    playing = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    SETTINGS = tuple(Playground.model_fields)

    def __init__(self, **kwargs) -> None:
        self.trainer: Trainer | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        super().__init__(**kwargs)
        self.on_msg(self._message)
        self.reset()

    @property
    def model(self):
        return self.trainer.model

    @traitlets.observe(*SETTINGS)
    def _changed(self, change) -> None:
        if self.trainer is None:  # not while __init__ sets the first values
            return
        try:
            settings = Playground.check(self.settings())
        except SettingsError as e:
            self.error = str(e)
            return
        if Playground.restarts(self.trainer.settings, settings):
            self.reset()
            return
        with self._lock:  # the same run goes on, as on the page
            self.trainer.update(settings)
            self.error = ""

    def settings(self) -> dict:
        return {name: getattr(self, name) for name in self.SETTINGS}

    def reset(self) -> None:
        """A new run with the current settings (new data, new weights, epoch 0)."""
        self.pause()
        try:
            trainer = Trainer(self.settings())
        except SettingsError as e:
            if self.trainer is None:  # bad settings from the start: no run to keep
                raise
            self.error = str(e)
            return
        with self._lock:
            self.trainer = trainer
            points = _finite(trainer.points())
            with self.hold_sync():
                self.error = ""
                self.points = points
                self._show(trainer.frame())

    def step(self, epochs: int = 1) -> dict:
        """Train ``epochs`` epochs and show the frame (returned too)."""
        with self._lock:
            frame = self.trainer.step(epochs)
            self._show(frame)
        return frame

    def play(self, frames: int = 1000, epochs: int = 1) -> None:
        """Train in a background thread, ``epochs`` epochs a frame, until :meth:`pause`,
        ``frames`` frames, or the run diverges."""
        self.pause()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(frames, epochs), daemon=True)
        self.playing = True
        self._thread.start()

    def pause(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self.playing = False

    def _run(self, frames: int, epochs: int) -> None:
        try:
            for _ in range(frames):
                if self._stop.is_set():
                    break
                if self.step(epochs)["diverged"]:
                    break
                self._stop.wait(1 / MAX_FPS)  # at most the page's rate
        finally:
            self.playing = False

    def _message(self, widget, content, buffers) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "step":
            self.pause()
            self.step()
        elif kind == "play":
            self.play()
        elif kind == "pause":
            self.pause()
        elif kind == "reset":
            self.reset()

    def _show(self, frame: dict) -> None:
        frame = _finite(frame)
        with self.hold_sync():
            self.frame = frame
            self.epoch = frame["epoch"]
            self.train_loss = frame["train_loss"]
            self.test_loss = frame["test_loss"]
            if frame["diverged"]:
                self.error = frame["diverged"]


def _lesson(model, given: dict) -> NetworkLesson:
    """A NetworkLesson stepping through ``model`` itself (its weights, not new ones)."""
    layers = getattr(model, "layers", None)
    if not layers or not all(hasattr(layer, "neurons") for layer in layers):
        raise TypeError(
            "NetworkWidget steps through a scalar-mode MLP (MLP(..., vectorized=False))"
        )
    neurons = [n for layer in layers for n in layer.neurons]
    activations = {n.activation for n in neurons}
    if len(activations) != 1:
        raise ValueError(
            "NetworkWidget shows networks whose neurons share one activation, this one has "
            f"{sorted(activations)}: build it with output_activation= the hidden activation"
        )
    sizes = [layers[0].neurons[0].nin, *(len(layer.neurons) for layer in layers)]
    settings = dict(check_network({}), **given)  # the Network tab's defaults for the rest
    x, y = settings["x"], settings["target"]
    if len(x) != sizes[0] or len(y) != sizes[-1]:
        raise ValueError(
            f"the model takes {sizes[0]} inputs and gives {sizes[-1]} outputs; "
            f"x has {len(x)} and y has {len(y)}"
        )
    settings = check_network(
        dict(settings, sizes=sizes, activation=activations.pop(), init="random")
    )
    lesson = NetworkLesson(settings)
    lesson.model = model
    return lesson


def _number(x) -> float | str | None:
    """A scalar as a number (None when not finite); a tensor as draw_dot's summary text."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    return summary(x)
