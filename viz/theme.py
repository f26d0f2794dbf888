"""One colour language and two sizes for every drawing, plot and page.

Signs and classes take the TensorFlow Playground's colours: orange for negative, blue
for positive; a gradient's size is the colour's saturation (pale = small). ``"default"``
suits a screen, ``"projector"`` has larger type and thicker lines for a classroom.

>>> signed_colour(1.0, 1.0), signed_colour(-1.0, 1.0), signed_colour(0.0, 1.0)
('#0877bd', '#f59322', '#ffffff')
>>> get_theme("projector").font > get_theme("default").font
True
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


THEMES = {
    "default": Theme("default", font=11, small=9, title=11, line=1.0, plot_scale=1.0),
    "projector": Theme("projector", font=18, small=15, title=20, line=2.0, plot_scale=1.7),
}


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
