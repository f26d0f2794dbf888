"""``backprop_html``: a self-contained page that steps through the forward pass, then the
backward pass layer by layer from the loss back, saying each chain-rule step in words and
numbers, and ends with the SGD update.

The page plays the scene of :mod:`viz.scene` (every name, text and number comes from the
engine: the forward text from each op's ``formula``, each backward line from one step of
:func:`autograd.trace_backward` and the op's ``derivative`` text) with the live pages'
own step-through player, ``player.js``, written into the page. Nothing from a label
reaches the page as markup or script.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

from autograd import Value
from nn.atomic import atomic_write

from .graph import draw_dot, plan
from .rendering import to_svg
from .scene import build_scene
from .theme import get_theme

STATIC = Path(__file__).parent / "classroom" / "static"


def widest_texts(scene: dict) -> dict[str, dict[int, str]]:
    """Each box's widest text per field over the whole walk (box id -> position from the
    end, 1 = last -> text), for ``draw_dot(texts=)``: a box drawn around ``grad ?`` was
    too narrow for the ``grad mean 1.85e-17, range [-0.3164, 0.1661]`` written later."""
    widest: dict[str, dict[int, str]] = {}
    for states in [scene["initial"], *(step.get("set", {}) for step in scene["steps"])]:
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


def player_source() -> str:
    """``player.js`` as the step-through page writes it into its own ``<script>``: the
    module the live pages import, with nothing that could end the element early."""
    code = (STATIC / "player.js").read_text(encoding="utf-8")
    if re.search(r"</script|<!--", code, re.I):
        raise ValueError("player.js must not contain '</script' or '<!--'")
    return code


def player_style() -> str:
    """``player.css`` as the step-through page writes it into its ``<style>``."""
    css = (STATIC / "player.css").read_text(encoding="utf-8")
    if re.search(r"</style", css, re.I):
        raise ValueError("player.css must not contain '</style'")
    return css


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
    step; the model itself is never changed). The live pages' player steps through it:
    Next / Previous / Play, a clicker's PageDown / PageUp, the arrow keys and Space,
    Home / End, and keys to the next phase and layer (``?`` lists them); "show all"
    reveals every number for review.

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
    drawing = plan(root, collapse)
    if len(drawing.units) > max_values:
        raise ValueError(
            f"backprop_html: the drawing has {len(drawing.units)} boxes, more than "
            f"max_values={max_values}; collapse='neuron' or 'layer' draws a network in fewer"
        )
    scene = build_scene(root, drawing, lr)
    picture = draw_dot(
        root,
        max_nodes=None,
        legend=False,
        collapse=drawing.level,
        theme=theme,
        texts=widest_texts(scene),
    )
    svg = to_svg(picture)
    svg = svg[svg.index("<svg") :]
    template = (Path(__file__).parent / "stepper.html").read_text(encoding="utf-8")
    page = fill_template(
        template,
        {
            "TITLE": html.escape(title),
            "THEME": get_theme(theme).name,
            "SVG": svg,
            "SCENE": script_json(scene),
            "PLAYER": player_source(),
            "PLAYERSTYLE": player_style(),
        },
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(page.encode("utf-8", "replace")))  # lone surrogates: ?
    return path
