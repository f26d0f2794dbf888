"""One colour language and two sizes for every drawing, plot and page.

Signs and classes take the TensorFlow Playground's colours: orange for negative, blue
for positive; a gradient's size is the colour's saturation (pale = small). ``"default"``
suits a screen, ``"projector"`` has larger type and thicker lines for a classroom.

The live page takes its sizes and colours from here too: :func:`page_css` writes them as
CSS custom properties (``--bp-pos``, ``--bp-label``, ...), the default theme's on
``:root`` and the projector's on ``.present`` (the page's presenter mode), into
``viz/classroom/static/theme.css`` (a test keeps that file equal to it).

>>> signed_colour(1.0, 1.0), signed_colour(-1.0, 1.0), signed_colour(0.0, 1.0)
('#0877bd', '#f59322', '#ffffff')
>>> get_theme("projector").font > get_theme("default").font
True
>>> page_sizes("projector")["--bp-label"], page_sizes("projector")["--bp-step"]
('24px', '24px')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

POSITIVE_HEX = "#0877bd"  # blue: positive values, the positive class
NEGATIVE_HEX = "#f59322"  # orange: negative values, the negative class
POSITIVE = (8, 119, 189)
NEGATIVE = (245, 147, 34)
NEUTRAL_HEX = "#e8eaeb"  # the Playground's pale grey between the two
FONT = "Helvetica"  # one family in every drawing (graphviz names it, pages fall back)
CSS_FONT = 'Helvetica, Arial, "Liberation Sans", sans-serif'


@dataclass(frozen=True)
class Theme:
    """Sizes for one setting: graphviz font sizes in points, line widths, plot scale."""

    name: str
    font: float  # labels of boxes and neurons
    small: float  # op circles, edge labels, notes
    title: float  # legends and titles
    line: float  # edge width multiplier
    plot_scale: float  # matplotlib font and line scale
    # the live page, in CSS px: its text and controls, a step's text, the key numbers
    text: float = 18
    step: float = 18
    number: float = 30


THEMES = {
    "default": Theme("default", font=11, small=9, title=11, line=1.0, plot_scale=1.0),
    "projector": Theme(
        "projector", font=18, small=15, title=20, line=2.0, plot_scale=1.7,
        text=22, step=24, number=40,
    ),
}  # fmt: skip
PX_PER_POINT = 96 / 72  # CSS px are 1/96 inch, graphviz's points 1/72


def get_theme(theme: str | Theme = "default") -> Theme:
    """A theme by name (``"default"`` or ``"projector"``), or the theme itself."""
    if isinstance(theme, Theme):
        return theme
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {sorted(THEMES)}, got {theme!r}")
    return THEMES[theme]


def mix(rgb: tuple[int, int, int], t: float) -> str:
    """``rgb`` mixed with white: ``t = 0`` is white, ``t = 1`` the full colour."""
    t = min(1.0, max(0.0, t))
    r, g, b = (round(255 + (c - 255) * t) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def signed_colour(value: float, strength: float) -> str:
    """Blue for a positive ``value``, orange for a negative one, as saturated as
    ``strength`` (0 white .. 1 full); grey when the value is not finite."""
    if not math.isfinite(value):
        return "#bbbbbb"
    if value == 0:
        return "#ffffff"
    return mix(POSITIVE if value > 0 else NEGATIVE, strength)


def page_sizes(theme: str | Theme = "default") -> dict[str, str]:
    """The theme's sizes as the page's CSS custom properties: its text, step text and
    key numbers, and the drawings' label, small and title type (the drawings' points in
    CSS px) and line width."""
    t = get_theme(theme)
    px = lambda size: f"{size:g}px" if size == int(size) else f"{size:.2f}px"  # noqa: E731
    return {
        "--bp-text": px(t.text),
        "--bp-step": px(t.step),
        "--bp-number": px(t.number),
        "--bp-label": px(t.font * PX_PER_POINT),
        "--bp-small": px(t.small * PX_PER_POINT),
        "--bp-title": px(t.title * PX_PER_POINT),
        "--bp-line": f"{t.line:g}",
    }


# A phone (the page's panels stack below this width): a step's text as large as the
# back row needs it, since a phone is read at arm's length in a lecture hall too.
PHONE_WIDTH, PHONE_STEP = 760, 20


def page_css() -> str:
    """``theme.css``: the colours and the default theme's sizes on ``:root`` (a phone's
    step text larger), the projector theme's on ``.present``."""
    colours = {
        "--bp-pos": POSITIVE_HEX,
        "--bp-neg": NEGATIVE_HEX,
        "--bp-mid": NEUTRAL_HEX,
        "--bp-font": CSS_FONT,
    }
    block = lambda selector, props: (  # noqa: E731
        selector + " {\n" + "".join(f"  {k}: {v};\n" for k, v in props.items()) + "}\n"
    )
    head = (
        "/* Made by viz.theme.page_css() from viz/theme.py; tests/test_theme.py keeps it so. */\n"
    )
    phone = "  " + block(":root", {"--bp-step": f"{PHONE_STEP}px"}).replace("\n", "\n  ")
    return (
        head
        + block(":root", colours | page_sizes("default"))
        + f"@media (max-width: {PHONE_WIDTH}px) {{\n{phone.rstrip()}\n}}\n"
        + block(".present", page_sizes("projector"))
    )
