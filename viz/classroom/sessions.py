"""One browser tab of the live classroom: its state and what each message does.

Pure Python, no server: :class:`Session` takes a message (a dict decoded from JSON) and
returns the replies (dicts to encode as JSON). The server only moves text. Every setting
is checked and bounded here, *before* any work is done; a bad one is a
:class:`SettingsError` whose message the page shows as it is.

Messages (``type``) and their replies:

- ``neuron`` (``state``) -> ``neuron``: the walk (``scene``) through the neuron and its
  loss, then ``neuron.graph``, the drawing it addresses; ``neuron.step`` (``state``) ->
  ``neuron`` after one step of gradient descent on w and b;
- ``expression`` (``text``, ``variables``) -> ``expression``: graph and walk;
- ``network`` (``settings``, optional ``reset`` and ``at``, the step to show) ->
  ``network``: the walk (``scene``) through a small MLP on one sample, forward, loss,
  backward and update, and where each name is drawn; ``network.update`` applies SGD;
- ``playground`` (``settings``) -> ``playground.reset`` (points) and a ``playground.frame``,
  or, when only live settings changed (``settings.Playground.live``), ``playground.settings``
  and a frame of the same run; ``playground.step`` -> one epoch and a frame (the server's
  play loop calls :meth:`Session.tick` the same way); ``playground.parameter`` types in a
  weight or bias (``settings.Parameter``) and answers with a frame;
  ``playground.point`` (``index``, a training point's number) -> ``playground.point``:
  that point's walk through the network as it is now (``trainer.point_walk``), which
  ends with the update its gradient would make.

>>> s = Session()
>>> reply = s.handle({"type": "neuron", "state": {}})[0]
>>> reply["type"], reply["out"]
('neuron', 0.9990889488055994)
>>> s.handle({"type": "launch-missiles"})[0]["message"]
"unknown message type 'launch-missiles'; known ones are expression, network, network.update, neuron, neuron.step, playground, playground.csv, playground.parameter, playground.point, playground.step"
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nn import playground

from ..rendering import LayoutError, LayoutTimeout
from ..theme import THEMES
from . import lessons
from .expression import FUNCTIONS
from .settings import (
    BIG_FORMULA,
    MAX_DEPTH,
    MAX_MESSAGE,
    Expression,
    Playground,
    SettingsError,
    schemas,
    show,
)
from .trainer import DATASETS, Trainer, read_csv

__all__ = ["Session", "SettingsError", "MAX_MESSAGE", "Later", "decode", "encode"]


def decode(text: str | bytes) -> dict:
    """One message from the page as a dict, refusing oversized or malformed ones."""
    if len(text) > MAX_MESSAGE:
        raise SettingsError(f"message too large ({len(text)} bytes; the limit is {MAX_MESSAGE})")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        raise SettingsError("message is not valid JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise SettingsError('message must be a JSON object with a "type"')
    if _depth(message) > MAX_DEPTH:
        raise SettingsError(f"message is nested too deeply (more than {MAX_DEPTH} levels)")
    return message


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in a decoded message (no recursion).

    >>> _depth({"a": [1, [2]]}), _depth(3)
    (3, 0)
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def encode(reply: dict) -> str:
    """A reply as JSON text; NaN and infinities become null (JSON has no such numbers)."""
    return json.dumps(_finite(reply), allow_nan=False, separators=(",", ":"))


def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


@dataclass(frozen=True)
class Later:
    """A slow reply (a graph to lay out): ``work(*args)``, a module-level function of
    plain data, so the server can run it in a worker process; an error in it becomes
    one ``error`` reply about ``about``."""

    about: str
    work: Callable[..., dict]
    args: tuple
    big: bool = False  # known to be slow before it starts (a long formula's layout)

    def __call__(self) -> dict:
        try:
            return self.work(*self.args)
        except (ValueError, ArithmeticError, LayoutTimeout, LayoutError) as err:
            return {"type": "error", "about": self.about, "message": str(err)}


class Session:
    """The state of one browser tab: the network being stepped through and the
    playground being trained (the other tabs send their whole state with each message).
    ``trainers`` makes each Playground run (``training.TrainingPool.trainer``: in a
    worker process); by default a :class:`~viz.classroom.trainer.Trainer` here."""

    def __init__(self, trainers: Callable[..., Trainer] = Trainer) -> None:
        self.network: lessons.NetworkLesson | None = None
        self.new_trainer = trainers
        self.trainer: Trainer | None = None
        self.upload: tuple | None = None  # the last CSV's points, labels and task
        # The server runs messages and the play loop in worker threads: one at a time.
        self._lock = threading.Lock()
        self.handlers: dict[str, Callable[[dict], list[dict]]] = {
            "neuron": self._neuron,
            "neuron.step": self._neuron_step,
            "expression": self._expression,
            "network": self._network,
            "network.update": self._network_update,
            "playground": self._playground,
            "playground.step": self._playground_step,
            "playground.csv": self._playground_csv,
            "playground.parameter": self._playground_parameter,
            "playground.point": self._playground_point,
        }

    def hello(self) -> dict:
        """The first message of a connection: every tab's settings schema (the page
        builds its controls from it) and what the page's menus offer."""
        return {
            "type": "hello",
            **schemas(),
            "functions": list(FUNCTIONS),
            "datasets": DATASETS,
            "features": playground.FEATURE_LABELS,
        }

    def handle(self, message: dict) -> list[dict]:
        """The replies to one decoded message; a bad message gets one ``error`` reply
        and leaves the session as it was."""
        return [self.resolve(r) if callable(r) else r for r in self.replies(message)]

    def replies(self, message: dict) -> list[dict | Later]:
        """Like :meth:`handle`, but a slow reply (a graph to lay out) may come as a
        :class:`Later` to call with :meth:`resolve` (the server runs it in a layout
        worker): the server skips it when a newer message of the same type is already
        waiting (a slider still moving)."""
        kind = message.get("type")
        handler = self.handlers.get(kind)
        with self._lock:
            return self._run(kind, handler, message)

    def resolve(self, later: Later) -> dict:
        """Compute a reply that :meth:`replies` left for later."""
        with self._lock:
            return later()

    def _run(self, kind: Any, handler: Callable | None, message: dict) -> list:
        try:
            if handler is None:
                raise SettingsError(
                    f"unknown message type {str(kind)[:40]!r}; known ones are "
                    f"{', '.join(sorted(self.handlers))}"
                )
            return handler(message)
        except (ValueError, ArithmeticError) as err:
            return [{"type": "error", "about": str(kind)[:40], "message": str(err)}]

    # ------------------------------------------------------------ tabs
    def _neuron(self, message: dict) -> list:
        state, theme = lessons.check_neuron(_dict(message, "state")), _theme(message)
        return [lessons.neuron_view(state), Later("graph", lessons.neuron_graph, (state, theme))]

    def _neuron_step(self, message: dict) -> list:
        theme = _theme(message)
        view = lessons.neuron_step(lessons.check_neuron(_dict(message, "state")))
        return [view, Later("graph", lessons.neuron_graph, (view["state"], theme))]

    def _expression(self, message: dict) -> list[Later]:
        s = Expression.check({k: message[k] for k in ("text", "variables") if k in message})
        big = len(s["text"]) > BIG_FORMULA
        args = (s["text"], s["variables"], _theme(message))
        return [Later("expression", lessons.expression_view, args, big)]

    def _network(self, message: dict) -> list[dict]:
        settings = lessons.check_network(_dict(message, "settings"))
        lesson = self.network
        if lesson is None or message.get("reset") or not lesson.same_model(settings):
            lesson = lessons.NetworkLesson(settings)
        else:
            lesson.settings = settings  # same network: keep its trained weights
        self.network = lesson
        view = lesson.view()
        at = message.get("at")
        if type(at) is int and at >= 0:  # the step the page goes back to (an undo)
            view["at"] = at
        return [view]

    def _network_update(self, message: dict) -> list[dict]:
        if self.network is None:
            raise SettingsError("no network yet: send the network's settings first")
        self.network.update()
        return [self.network.view()]

    def _playground(self, message: dict) -> list[dict]:
        settings, trainer = Playground.check(_dict(message, "settings")), self.trainer
        if (
            trainer is None
            or message.get("reset")
            or Playground.restarts(trainer.settings, settings)
        ):
            self.trainer = self.new_trainer(settings, self.upload)
            return [self.trainer.points(), self.trainer.frame()]
        trainer.update(settings)  # the same run goes on, as in TensorFlow Playground
        return [{"type": "playground.settings", "settings": trainer.settings}, trainer.frame()]

    def _playground_parameter(self, message: dict) -> list[dict]:
        if self.trainer is None:
            raise SettingsError("no playground yet: send its settings first")
        self.trainer.set_parameter(message)
        return [self.trainer.frame()]

    def _playground_point(self, message: dict) -> list[dict]:
        if self.trainer is None:
            raise SettingsError("no playground yet: send its settings first")
        return [self.trainer.walk(message.get("index"))]

    def _playground_csv(self, message: dict) -> list[dict]:
        text = message.get("text")
        if not isinstance(text, str):
            raise SettingsError("the CSV must be text")
        upload = read_csv(text)
        self.trainer = self.new_trainer(dict(_dict(message, "settings"), dataset="csv"), upload)
        self.upload = upload  # kept only once it trains
        return [self.trainer.points(), self.trainer.frame()]

    def _playground_step(self, message: dict) -> list[dict]:
        if self.trainer is None:
            raise SettingsError("no playground yet: send its settings first")
        return [self.trainer.step()]

    def tick(self, epochs: int = 1) -> dict:
        """``epochs`` epochs of playground training and the frame after the last (the
        play loop)."""
        with self._lock:
            if self.trainer is None:
                raise SettingsError("no playground yet: send its settings first")
            return self.trainer.step(epochs)


def _theme(message: dict) -> str:
    """The drawings' theme a message asks for (the page's presenter mode: "projector")."""
    theme = message.get("theme", "default")
    if theme not in THEMES:
        raise SettingsError(f"theme must be one of {', '.join(THEMES)}, got {show(theme)}")
    return theme


def _dict(message: dict, key: str) -> dict:
    value = message.get(key, {})
    if not isinstance(value, dict):
        raise SettingsError(f'"{key}" must be a JSON object')
    return value
