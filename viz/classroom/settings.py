"""Every setting of the classroom, declared once: one pydantic model per tab.

A field is a setting: its name is also its URL key, its type and bounds (or choices) are
the checks, and :func:`setting` adds its label, unit, help and how the page shows it. The
server checks each message with the model (:meth:`Tab.check`), the page gets the model's
JSON Schema (:meth:`Tab.schema`) and builds its controls, defaults and URL from it, the CLI
builds its options from the same schema (``cli.py``) and the Jupyter widgets their traits
(``widgets.py``). The limits of the server itself (message size, frames a second) sit
here too, so there is one set of bounds.

>>> Playground.check({"lr": 0.3})["lr"], Playground.defaults()["layers"]
(0.3, [4, 2])
>>> Playground.check({"lr": float("nan")})
Traceback (most recent call last):
...
viz.classroom.settings.SettingsError: Learning rate (lr) must be a number from 0.00001 to 10, got nan
>>> Neuron.defaults()  # the seed neuron of the articles: out = 0.9990889488055994
{'x': [2.0, 3.0], 'w': [0.0, 1.0], 'b': 4.0, 'activation': 'sigmoid', 'target': 0.0, 'lr': 1.0}
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nn import playground
from nn.activations import ACTIVATIONS

# ------------------------------------------------------------------ limits
MAX_MESSAGE = 256 * 1024  # characters of one WebSocket message, checked before decoding
# uvicorn cuts frames above its ws_max_size (close 1009, no message): keep it well above
# MAX_MESSAGE so a message too large gets the server's own one-line answer.
MAX_FRAME = 4 * MAX_MESSAGE
MAX_WAITING = 64  # messages queued per connection before new ones are refused
MAX_NAME = 24  # characters of a student's display name in a class session
MAX_STUDENTS = 200  # students who may join one class session
MAX_DEPTH = 16  # nesting of a message's lists and objects; the page sends 3 levels at most
MAX_CSV_ROWS = 2000
MAX_CSV_BYTES = 160 * 1024  # a file the page may send: 2,000 quoted rows of long numbers
MAX_FPS = 30  # frames a second the playground streams at most
MAX_CATCH_UP = 4  # epochs one Play frame trains at most when the server is behind
MAX_EPOCHS = 100_000  # epochs of one live playground run
MAX_GRAPH_VALUES = 200  # values one drawing or step-through page shows
BIG_FORMULA = 120  # characters past which a formula's layout may take seconds (its own queue)
MAX_FORMULA = 1000  # characters of a formula; deeper nesting is not a classroom formula
MAX_INPUTS = 8  # inputs of the Neuron and Network tabs
MAX_NEURONS = 8  # neurons in one layer (TensorFlow Playground's limit)
MAX_HIDDEN = 6  # hidden layers (TensorFlow Playground's limit)
NUMBER = 1000.0  # |any number typed in| at most
# `backproplab playground` runs offline: a run is bounded before it starts
MAX_POINTS = 20_000
MAX_RUN_EPOCHS = 100_000
MAX_FRAMES = 200
MAX_STEPS = 2_000_000  # optimizer steps in one run (epochs x batches per epoch)
MAX_WORK = 10**10  # epochs x training points x weights: about a minute of numpy


@dataclass(frozen=True)
class Limits:
    """What one client of the live server, and all together, may hold or ask of it
    (``guard.Door``, ``guard.Rate`` and the server's reader enforce them)."""

    per_address: int = 16  # WebSockets open from one address (a student's tabs)
    total: int = 256  # WebSockets open in all (a room, the teacher, and room to spare)
    messages_per_second: float = 20.0  # a connection's sustained rate; the page sends fewer
    burst: int = 40  # messages a connection may send at once before the rate applies
    pending_bytes: int = 1 << 20  # characters of messages waiting for their answer


# TensorFlow Playground's menus
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
REGULARIZATION_RATES = (0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
DATASETS = (*playground.DATASETS, "spiral3", "csv")  # ours: 3 spiral arms, an upload


class SettingsError(ValueError):
    """A message or setting that cannot be used; the text (one line) says why."""


Real = Annotated[float, Field(allow_inf_nan=False)]
Number = Annotated[float, Field(ge=-NUMBER, le=NUMBER, allow_inf_nan=False)]
Neurons = Annotated[int, Field(ge=1, le=MAX_NEURONS)]
Activation = Literal[tuple(ACTIVATIONS)]


def setting(
    default: Any,
    label: str,
    help: str = "",
    *,
    lo: float | None = None,
    hi: float | None = None,
    length: tuple[int, int] | None = None,
    unit: str = "",
    menu: tuple | None = None,
    step: float | None = None,
    live: bool = False,
    control: str | None = None,
    cli: bool = True,
) -> Any:
    """One setting: its default, label and help, its bounds (``lo``/``hi`` for a number,
    ``length`` for a list or text), and for the page its ``unit``, a ``menu`` of usual
    values, a slider ``step``, the kind of ``control``; ``live`` settings change a running
    Playground without a restart; ``cli=False`` keeps it off the command line."""
    extra = {"unit": unit, "menu": menu and list(menu), "step": step, "control": control}
    extra = {k: v for k, v in extra.items() if v}
    extra.update(live=live, cli=cli)
    lengths = {"min_length": length[0], "max_length": length[1]} if length else {}
    return Field(
        default, title=label, description=help, ge=lo, le=hi, json_schema_extra=extra, **lengths
    )


class Tab(BaseModel):
    """A tab's settings. ``check`` a dict from the page, the CLI or a widget; ``schema``
    is what the page reads."""

    model_config = ConfigDict(strict=True, extra="ignore")
    name: ClassVar[str]

    @classmethod
    def check(cls, values: Any) -> dict:
        """``values`` with the defaults filled in, every one checked, or a SettingsError
        naming the first bad setting by its label and URL key, and what it may be."""
        if not isinstance(values, dict):
            raise SettingsError(f"the {cls.name} settings must be a JSON object")
        try:
            return cls.model_validate(values).model_dump()
        except ValidationError as err:
            raise SettingsError(cls._explain(err.errors()[0])) from None

    @classmethod
    def schema(cls) -> dict:
        """The JSON Schema of the settings (titles, defaults, bounds, choices, extras)."""
        return _schema(cls)

    @classmethod
    def defaults(cls) -> dict:
        return cls().model_dump()

    @classmethod
    def live(cls) -> set[str]:
        """The settings that change a running Playground without a restart."""
        return {k for k, p in cls.schema()["properties"].items() if p.get("live")}

    @classmethod
    def describe(cls, key: str) -> str:
        """What ``key`` may be, in words: ``'a number from 0.00001 to 10'``."""
        return allowed(cls.schema()["properties"][key])

    @classmethod
    def _explain(cls, error: dict) -> str:
        if not error["loc"] or error["loc"][0] not in cls.model_fields:  # a check of several
            return str(error.get("ctx", {}).get("error", error["msg"]))
        key = error["loc"][0]
        label = cls.model_fields[key].title
        return f"{label} ({key}) must be {cls.describe(key)}, got {show(error['input'])}"


@cache
def _schema(cls: type[Tab]) -> dict:
    return cls.model_json_schema()


def allowed(prop: dict) -> str:
    """A JSON Schema property's type and bounds in words.

    >>> allowed({"type": "integer", "minimum": 0, "maximum": 50, "unit": "%"})
    'a whole number from 0 to 50 (%)'
    """
    kind = prop.get("type")
    if "enum" in prop:
        return f"one of {', '.join(map(str, prop['enum']))}"
    if kind == "array":
        lo, hi = prop.get("minItems", 0), prop.get("maxItems")
        count = f"{lo} to {hi}" if hi is not None else f"at least {lo}"
        return f"a list of {count} items, each {allowed(prop['items'])}"
    if kind == "string":
        return f"valid text of at most {prop.get('maxLength')} characters"
    if kind == "boolean":
        return "true or false"
    words = "a whole number" if kind == "integer" else "a number"
    if "minimum" in prop and "maximum" in prop:
        words += f" from {show(prop['minimum'])} to {show(prop['maximum'])}"
    elif kind == "number":
        words = "a finite number"
    return f"{words} ({prop['unit']})" if prop.get("unit") else words


def show(value: Any) -> str:
    """A value as a message shows it: numbers in full (never 1e-05), text quoted, short."""
    if isinstance(value, bool) or value is None:
        text = repr(value)
    elif isinstance(value, float) and (value == 0 or 1e-6 <= abs(value) < 1e9):
        text = np.format_float_positional(value, trim="-")
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, (list, tuple)):
        text = f"a list of {len(value)}"
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ------------------------------------------------------------------ the tabs
class Neuron(Tab):
    """The Neuron tab (and ``backproplab neuron``): one neuron out = f(w·x + b)."""

    name: ClassVar[str] = "neuron"
    x: list[Number] = setting(
        [2.0, 3.0], "Inputs x", "one number per input", length=(1, MAX_INPUTS)
    )
    w: list[Number] = setting(
        [0.0, 1.0], "Weights w", "one weight per input", length=(1, MAX_INPUTS)
    )
    b: Number = setting(4.0, "Bias b")
    activation: Activation = setting("sigmoid", "Activation")
    target: Number = setting(0.0, "Target", "what one step of gradient descent aims for", cli=False)
    lr: Real = setting(
        1.0, "Learning rate", "of the gradient descent step", lo=0, hi=100, cli=False
    )

    @model_validator(mode="after")
    def _as_many_weights_as_inputs(self) -> Neuron:
        if len(self.w) != len(self.x):
            raise ValueError(
                f"Weights w (w) has {len(self.w)} numbers but Inputs x (x) has {len(self.x)}: "
                "give one weight per input"
            )
        return self


class Expression(Tab):
    """The Expression tab (and ``backproplab graph``): a formula and its variables."""

    name: ClassVar[str] = "expression"
    text: str = setting(
        "tanh(a*b + c)",
        "Formula",
        "numbers, variables, + - * / ** and functions",
        length=(0, MAX_FORMULA),
    )
    variables: str = setting(
        "a=2, b=-3, c=10",
        "Values",
        "a value for each variable, e.g. a=2, b=-3",
        length=(0, MAX_FORMULA),
    )


class Network(Tab):
    """The Network tab: a small MLP (the articles' 2-2-1 sigmoid network) on one sample."""

    name: ClassVar[str] = "network"
    sizes: list[Neurons] = setting(
        [2, 2, 1], "Layer sizes", "inputs, hidden layers, outputs", length=(2, MAX_HIDDEN + 2)
    )
    x: list[Number] = setting([2.0, 3.0], "Input x", "one number per input", length=(1, MAX_INPUTS))
    target: list[Number] = setting(
        [1.0], "Target y", "one number per output", length=(1, MAX_NEURONS)
    )
    activation: Activation = setting("sigmoid", "Activation")
    init: Literal["article", "random"] = setting(
        "article", "Weights", "article: every w = 0, 1, ...; b = 0"
    )
    seed: int = setting(1, "Seed", "of the random weights", lo=0, hi=10**6)
    lr: Real = setting(0.5, "Learning rate", "of the SGD update", lo=0, hi=100)

    @model_validator(mode="after")
    def _one_number_per_input_and_output(self) -> Network:
        # a layer size changed: keep what was typed, cut or padded
        self.x = (self.x + [0.0] * self.sizes[0])[: self.sizes[0]]
        self.target = (self.target + [1.0] * self.sizes[-1])[: self.sizes[-1]]
        return self


class Playground(Tab):
    """The Playground tab: TensorFlow Playground's controls, in its units (its ``State``)."""

    name: ClassVar[str] = "playground"
    dataset: Literal[DATASETS] = setting("circle", "Data", control="buttons")
    noise: int = setting(
        0, "Noise", "labels read at jittered points", lo=0, hi=50, step=5, unit="%", control="range"
    )
    ratio: int = setting(
        50,
        "Ratio of training to test data",
        lo=10,
        hi=90,
        step=10,
        unit="% training",
        control="range",
    )
    batch: int = setting(
        10,
        "Batch size",
        "points per gradient step",
        lo=1,
        hi=30,
        step=1,
        control="range",
        live=True,
    )
    features: list[Literal[tuple(playground.FEATURES)]] = setting(
        ["x", "y"], "Features", "the network's inputs", length=(1, len(playground.FEATURES))
    )
    layers: list[Neurons] = setting(
        [4, 2], "Hidden layers", "neurons in each hidden layer", length=(0, MAX_HIDDEN)
    )
    activation: Activation = setting("tanh", "Activation", "of the hidden layers", live=True)
    lr: Real = setting(0.03, "Learning rate", lo=0.00001, hi=10, menu=LEARNING_RATES, live=True)
    reg: Literal["none", "L1", "L2"] = setting(
        "none", "Regularization", "L1: |w|, L2: ½w², added to each update", live=True
    )
    rate: Real = setting(
        0.0, "Regularization rate", lo=0, hi=10, menu=REGULARIZATION_RATES, live=True
    )
    seed: int = setting(1, "Seed", "data, split and first weights", lo=0, hi=10**6)
    show_test: bool = setting(False, "Show test data", live=True, cli=False)
    discretize: bool = setting(False, "Discretize output", live=True, cli=False)

    @model_validator(mode="after")
    def _each_feature_once(self) -> Playground:
        try:
            playground.check_features(self.features)
        except ValueError as err:
            raise ValueError(f"Features (features): {err}") from None
        return self

    @classmethod
    def restarts(cls, old: dict, new: dict) -> bool:
        """Whether going from settings ``old`` to ``new`` needs a new run (new data or
        another network), as in TensorFlow Playground; the live ones apply as it trains."""
        return any(old.get(k) != new.get(k) for k in cls.model_fields if k not in cls.live())


class PlaygroundRun(Playground):
    """``backproplab playground``: the Playground's settings and how long to train."""

    name: ClassVar[str] = "playground run"
    epochs: int = setting(300, "Epochs", lo=1, hi=MAX_RUN_EPOCHS)
    points: int = setting(
        0, "Points", "0: the Playground's 500 (1200 for regression)", lo=0, hi=MAX_POINTS
    )
    frames: int = setting(30, "Frames", "of animation.gif, 0 for none", lo=0, hi=MAX_FRAMES)


class Play(Tab):
    """The Playground's Play message."""

    name: ClassVar[str] = "play"
    fps: Real = setting(20.0, "Frames a second", lo=1, hi=MAX_FPS)


class Parameter(Tab):
    """A weight or bias typed into the Playground's network (click an edge or a neuron):
    in ``layer`` (0: the first hidden layer), into its neuron ``neuron``, from neuron
    ``source`` of the layer before (a weight ``w``) or its bias ``b``."""

    name: ClassVar[str] = "parameter"
    kind: Literal["w", "b"] = setting("w", "Weight or bias")
    layer: int = setting(0, "Layer", lo=0, hi=MAX_HIDDEN)
    source: int = setting(0, "From neuron", lo=0, hi=len(playground.FEATURES) - 1)
    neuron: int = setting(0, "Neuron", lo=0, hi=MAX_NEURONS - 1)
    value: Number = setting(0.0, "Value")


class Page(Tab):
    """The page around the tabs: presenter mode (the projector theme's big print, each
    tab fitted to the window; also the key F)."""

    name: ClassVar[str] = "page"
    present: bool = setting(
        False,
        "Presenter mode",
        "big print for a projector, each tab fits the window (F)",
        cli=False,
    )


TABS: dict[str, type[Tab]] = {t.name: t for t in (Neuron, Expression, Network, Playground)}


def schemas() -> dict:
    """Every tab's JSON Schema and the server's limits, for the page's ``hello``."""
    return {
        "tabs": {name: tab.schema() for name, tab in TABS.items()},
        "page": Page.schema(),
        "parameter": Parameter.schema(),
        "limits": {"message": MAX_MESSAGE, "csv_bytes": MAX_CSV_BYTES, "csv_rows": MAX_CSV_ROWS},
    }
