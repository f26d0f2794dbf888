"""Attention weights as a heat map on matplotlib axes: one row per query position, one
column per key position, the tokens as tick labels (``viz.plots.attention`` makes the
figure around it).

The weights are probabilities, so the colour runs from white (0) to the Playground's
blue (1), saturation for size as everywhere; a key a query may not look at (a weight of
exactly 0, the causal mask's upper triangle) is the pale grey between the two colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Value

from .theme import NEUTRAL_HEX, POSITIVE_HEX

MAX_POSITIONS = 64  # rows and columns of one map
MAX_HEADS = 16
MAX_TOKEN = 12  # characters of one tick label
ANNOTATE_UP_TO = 10  # positions: each cell shows its number up to this size


def attention_weights(weights: Any, tokens: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """``weights`` as a float array of shape (heads, T, T) and ``tokens`` as T short
    labels; anything else is one ``ValueError`` saying what.

    >>> w, t = attention_weights([[1.0, 0.0], [0.25, 0.75]], ["a", "$b"])
    >>> w.shape, t
    ((1, 2, 2), ['a', '\\\\$b'])
    """
    data = weights.data if isinstance(weights, Value) else weights
    try:
        w = np.array(data, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"attention: weights must be numbers, got {type(weights).__name__}"
        ) from None
    if w.ndim == 2:
        w = w[None]
    if w.ndim != 3 or w.shape[1] != w.shape[2]:
        raise ValueError(
            f"attention: weights must be (T, T) or (heads, T, T), queries by keys, got shape "
            f"{np.shape(data)}"
        )
    heads, t, _ = w.shape
    if not 1 <= t <= MAX_POSITIONS or not 1 <= heads <= MAX_HEADS:
        raise ValueError(
            f"attention: at most {MAX_HEADS} heads of {MAX_POSITIONS} positions, got {heads} of {t}"
        )
    if not np.isfinite(w).all() or w.min() < -1e-9 or w.max() > 1 + 1e-9:
        raise ValueError("attention: weights are probabilities, numbers from 0 to 1")
    labels = [str(token) for token in tokens]
    if len(labels) != t:
        raise ValueError(f"attention: {t} positions but {len(labels)} tokens")
    # "$" would start matplotlib's math mode; a long token would crowd its neighbours
    labels = [s[:MAX_TOKEN].replace("$", r"\$") for s in labels]
    return w, labels


def draw_attention(axes: np.ndarray, w: np.ndarray, labels: list[str]) -> Any:
    """One heat map per head on a grid of ``axes`` (rows, columns), filled row by row,
    the axes left over hidden (``w`` and ``labels`` from :func:`attention_weights`);
    returns the last image, for a colour bar."""
    from matplotlib.colors import LinearSegmentedColormap

    white_to_blue = LinearSegmentedColormap.from_list("attention", ["#ffffff", POSITIVE_HEX])
    cmap = white_to_blue.with_extremes(bad=NEUTRAL_HEX)  # bad: the masked keys
    heads, t = w.shape[0], w.shape[-1]
    rows, cols = axes.shape
    image = None
    for n, ax in enumerate(axes.ravel()):
        if n >= heads:
            ax.set_axis_off()
            continue
        grid = np.ma.masked_equal(w[n], 0.0)
        image = ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_xticks(range(t), labels)
        ax.set_yticks(range(t), labels)
        first_column, last_row = n % cols == 0, n + cols >= heads
        ax.tick_params(length=0, labelleft=first_column)  # the rows read across
        if last_row:
            ax.set_xlabel("key (looked at)")
        if first_column:
            ax.set_ylabel("query (looking)")
        if heads > 1:
            ax.set_title(f"head {n + 1}")
        if t <= ANNOTATE_UP_TO:
            _numbers(ax, w[n])
    return image


def _numbers(ax: Any, w: np.ndarray) -> None:
    """Each weight a query may use, written in its cell (2 decimals)."""
    for (i, j), weight in np.ndenumerate(w):
        if weight != 0.0:
            colour = "white" if weight > 0.6 else "#333333"
            ax.text(j, i, f"{weight:.2f}", ha="center", va="center", fontsize="small", color=colour)
