"""Plots with matplotlib (the optional ``plot`` extra): decision boundaries, training
curves, a neuron's response, activation functions."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value, no_grad
from nn.activations import REGISTRY, check_activation
from nn.atomic import atomic_write

from .theme import NEGATIVE, NEGATIVE_HEX, NEUTRAL_HEX, POSITIVE, POSITIVE_HEX, get_theme, mix


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("plots need matplotlib: pip install 'backproplab[plot]'") from err
    return plt


def _style(theme: str = "default") -> Any:
    """matplotlib settings for a theme: one sans-serif family, sizes scaled for a
    projector. Use as ``with _style(theme): ...``."""
    k = get_theme(theme).plot_scale
    return _pyplot().rc_context(
        {
            "font.family": "sans-serif",
            "font.sans-serif": ["Helvetica", "Arial", "Liberation Sans", "DejaVu Sans"],
            "font.size": 10 * k,
            "axes.titlesize": 12 * k,
            "axes.labelsize": 10 * k,
            "xtick.labelsize": 9 * k,
            "ytick.labelsize": 9 * k,
            "legend.fontsize": 9 * k,
            "lines.linewidth": 1.6 * k,
            "axes.linewidth": 0.8 * k,
        }
    )


def _save(fig: Any, path: str | os.PathLike) -> Path:
    path = Path(path)
    try:
        fmt = path.suffix.lstrip(".") or "png"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: fig.savefig(f, dpi=110, bbox_inches="tight", format=fmt))
    finally:
        _pyplot().close(fig)
    return path


def model_scores(model: Any, points: np.ndarray, features: Any = None) -> np.ndarray:
    """A model's outputs on ``points`` (N, 2), one number per point (class score or
    probability, or the argmax class for several outputs)."""
    inputs = features(points) if features else points
    with no_grad():
        out = model(inputs)
    if isinstance(out, Value):
        data = np.asarray(out.data, dtype=float)
    else:
        data = np.array(
            [[o.data for o in row] if isinstance(row, list) else row.data for row in out],
            dtype=float,
        )
    data = data.reshape(len(points), -1)
    return data[:, 0] if data.shape[1] == 1 else data.argmax(axis=1).astype(float)


def score_grid(
    model: Any, extent: Sequence[float], features: Any = None, resolution: int = 150
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's scores on a ``resolution`` x ``resolution`` grid over
    ``extent = (x_min, x_max, y_min, y_max)``: returns ``xs, ys, z`` with z[row=y, col=x]."""
    xs = np.linspace(extent[0], extent[1], resolution)
    ys = np.linspace(extent[2], extent[3], resolution)
    grid = np.array(np.meshgrid(xs, ys)).reshape(2, -1).T
    return xs, ys, model_scores(model, grid, features).reshape(resolution, resolution)


def data_extent(X: np.ndarray) -> tuple[float, float, float, float]:
    """A view of the plane around the points ``X`` with a margin."""
    X = np.asarray(X, dtype=float)
    pad = 0.25 * (X.max(axis=0) - X.min(axis=0)) + 0.1
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    return (lo[0], hi[0], lo[1], hi[1])


# The Playground's palette (viz.theme): orange negative, blue positive; pale shading
# under strong points.
_CLASS_COLOURS = (NEGATIVE_HEX, POSITIVE_HEX)
_SHADES = (mix(NEGATIVE, 0.6), NEUTRAL_HEX, mix(POSITIVE, 0.6))
_TRAIN, _TEST = POSITIVE_HEX, NEGATIVE_HEX


def _colour_map(colours: Sequence[str]) -> Any:
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("backproplab", list(colours))


def _boundary_line(ax: Any, xs: np.ndarray, ys: np.ndarray, z: np.ndarray, level: float) -> Any:
    if z.min() < level < z.max():
        return ax.contour(xs, ys, z, levels=[level], colors="k", linewidths=1.5)
    return None


def draw_boundary(
    ax: Any,
    xs: np.ndarray,
    ys: np.ndarray,
    z: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    threshold: float,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    regression: bool = False,
    vrange: tuple[float, float] | None = None,
) -> tuple[Any, Any]:
    """Draw shaded scores ``z``, the boundary line at ``threshold`` and the points on
    ``ax``. Classes are orange/blue (split at ``threshold``); for a regression the
    points take the colour of their value and a colour bar beside the plot reads the
    shading. Test points are hollow. Returns the shading (an image) and the boundary
    line (or None), for an animation to update."""
    if vrange is None:
        span = max(abs(z.min() - threshold), abs(z.max() - threshold)) or 1.0
        vrange = (threshold - span, threshold + span)
    vmin, vmax = vrange
    image = ax.imshow(
        z,
        origin="lower",
        extent=(xs[0], xs[-1], ys[0], ys[-1]),
        cmap=_colour_map(_SHADES),
        vmin=vmin,
        vmax=vmax,
        interpolation="bilinear",
        aspect="auto",
    )
    line = None if regression else _boundary_line(ax, xs, ys, z, threshold)
    # Regression points: the class colours at the ends, pale grey for values near 0.
    cmap = _colour_map([_CLASS_COLOURS[0], NEUTRAL_HEX, _CLASS_COLOURS[1]])

    def colours(t: Any) -> Any:
        t = np.asarray(t, dtype=float)
        if regression:
            return cmap((np.clip(t, vmin, vmax) - vmin) / ((vmax - vmin) or 1.0))
        return np.where(t > threshold, *_CLASS_COLOURS[::-1])

    size = 12 if regression else 22  # a regression set has many more points
    X = np.asarray(X, dtype=float)
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=colours(y),
        s=size,
        edgecolors="#555555" if regression else "white",
        linewidths=0.3 if regression else 0.5,
        label="train",
    )
    if X_test is not None and y_test is not None:
        X_test = np.asarray(X_test, dtype=float)
        ax.scatter(
            X_test[:, 0],
            X_test[:, 1],
            facecolors="none",
            edgecolors=colours(y_test),
            s=size + 4,
            linewidths=1.0 if regression else 1.2,
            label="test",
        )
    _legend(ax, regression, X_test is not None and y_test is not None)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_aspect("equal", adjustable="box")
    if regression:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="model output")
    return image, line


def _legend(ax: Any, regression: bool, hollow: bool) -> None:
    """What the colours mean, inside the plot: the classes (orange negative, blue
    positive) and, with a test set, the hollow test points."""
    from matplotlib.lines import Line2D

    dot = {"marker": "o", "linestyle": "", "markersize": 6}
    handles = []
    if not regression:
        handles += [
            Line2D([], [], color=_CLASS_COLOURS[1], label="positive (+1)", **dot),
            Line2D([], [], color=_CLASS_COLOURS[0], label="negative (-1)", **dot),
        ]
    if hollow:
        handles += [
            Line2D([], [], color="#777777", label="train", **dot),
            Line2D([], [], color="#777777", markerfacecolor="none", label="test", **dot),
        ]
    if handles:
        ax.legend(handles=handles, loc="upper right", framealpha=0.85)


def plot_decision_boundary(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    path: str | os.PathLike,
    title: str = "",
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    features: Any = None,
    threshold: float | None = None,
    ax: Any = None,
    extent: Sequence[float] | None = None,
    regression: bool = False,
    vrange: tuple[float, float] | None = None,
    theme: str = "default",
) -> Path | None:
    """The model's output over the plane around ``X`` (shaded), its decision boundary
    (black line) and the points, coloured by class (test points hollow).

    ``features`` maps points (N, 2) to the model's inputs; ``extent`` fixes the view
    ``(x_min, x_max, y_min, y_max)``; ``regression=True`` colours points by value and
    draws no boundary; ``vrange`` fixes the colour scale. With ``ax`` it draws there
    and saves nothing. ``theme="projector"`` for larger type and lines."""
    plt = _pyplot()
    xs, ys, z = score_grid(model, extent or data_extent(X), features)
    if threshold is None:
        threshold = 0.5 if 0.0 <= z.min() and z.max() <= 1.0 else 0.0
    own = ax is None
    k = get_theme(theme).plot_scale
    with _style(theme):
        if own:
            fig, ax = plt.subplots(figsize=(5.2 * k, 4.6 * k))
        draw_boundary(ax, xs, ys, z, X, y, threshold, X_test, y_test, regression, vrange)
        ax.set_title(title or ("model output" if regression else "decision boundary"))
        return _save(fig, path) if own else None


def animate_boundaries(
    frames: Sequence[tuple[str, np.ndarray]],
    xs: np.ndarray,
    ys: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    path: str | os.PathLike,
    threshold: float = 0.0,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    regression: bool = False,
    vrange: tuple[float, float] | None = None,
    ms_per_frame: int = 150,
    theme: str = "default",
) -> Path:
    """A GIF of the decision boundary as it learns: one frame per ``(title, z)``, where
    ``z`` is a :func:`score_grid` over ``xs, ys``. The last frame stays up longer.
    Its title and axes are readable on a 1280x720 projector (``theme="projector"``
    makes the frames 700x640 pixels with type to match)."""
    plt = _pyplot()
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError("animations need pillow: pip install 'backproplab[plot]'") from err
    if not frames:
        raise ValueError("animate_boundaries needs at least one frame")
    big = get_theme(theme).name == "projector"
    with _style(theme):
        fig, ax = plt.subplots(figsize=(7.0, 6.4) if big else (5.2, 4.8), dpi=100)
        image, line = draw_boundary(
            ax, xs, ys, frames[0][1], X, y, threshold, X_test, y_test, regression, vrange
        )
        vmin, vmax = image.get_clim()  # every frame on the first frame's colour scale
        ax.locator_params(nbins=4)  # few ticks: each one costs drawing time in every frame
        title_text = ax.set_title(max((t for t, _ in frames), key=len))
        fig.tight_layout()  # with the longest title in place, so no title is clipped
        images = []
        for title, z in frames:
            image.set_data(np.clip(z, vmin, vmax))
            if line is not None:
                line.remove()
            line = None if regression else _boundary_line(ax, xs, ys, z, threshold)
            title_text.set_text(title)
            fig.canvas.draw()
            rgba = np.asarray(fig.canvas.buffer_rgba())
            frame = Image.fromarray(rgba[..., :3].copy())
            images.append(frame.quantize(256, method=Image.Quantize.FASTOCTREE))  # fast palette
        plt.close(fig)
    path = Path(path)
    durations = [ms_per_frame] * (len(images) - 1) + [2000]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(
        path,
        lambda f: images[0].save(
            f, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0
        ),
    )
    return path


def plot_history(
    history: Any, path: str | os.PathLike, title: str = "training", theme: str = "default"
) -> Path:
    """Loss (and accuracy, when there is one) per epoch, train and validation."""
    with _style(theme):
        return _plot_history(history, path, title, get_theme(theme).plot_scale)


def _plot_history(history: Any, path: str | os.PathLike, title: str, k: float) -> Path:
    plt = _pyplot()
    has_acc = any(a is not None for a in history.accuracy)
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=((9 if has_acc else 5) * k, 3.6 * k))
    axes = np.atleast_1d(axes)
    epochs = np.arange(1, len(history.loss) + 1)
    axes[0].plot(epochs, history.loss, label="train", color=_TRAIN)
    if any(v is not None for v in history.val_loss):
        axes[0].plot(epochs, history.val_loss, "--", label="test", color=_TEST)
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss")
    axes[0].set_yscale("log" if min(history.loss) > 0 else "linear")
    axes[0].legend()
    axes[0].set_title(f"{title}: loss")
    if has_acc:
        axes[1].plot(epochs, history.accuracy, label="train", color=_TRAIN)
        if any(v is not None for v in history.val_accuracy):
            axes[1].plot(epochs, history.val_accuracy, "--", label="test", color=_TEST)
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("accuracy")
        axes[1].set_ylim(0, 1.02)
        axes[1].legend()
        axes[1].set_title(f"{title}: accuracy")
    fig.tight_layout()
    return _save(fig, path)


def plot_neuron(
    path: str | os.PathLike,
    weights: Sequence[float] = (0.5, 1.0, 2.0),
    biases: Sequence[float] = (-2.0, 0.0, 2.0),
    activation: str = "sigmoid",
    theme: str = "default",
) -> Path:
    """A one-input neuron's ``y = f(w*x + b)``: left for several w (b = 0), right for
    several b (w = 1). The weight sets the steepness, the bias shifts it."""
    with _style(theme):
        return _plot_neuron(path, weights, biases, activation, get_theme(theme).plot_scale)


def _plot_neuron(path: Any, weights: Any, biases: Any, activation: str, k: float) -> Path:
    plt = _pyplot()
    x = np.linspace(-6, 6, 400)
    act = REGISTRY[check_activation(activation)]
    f = lambda z: act.curve(z)[0]  # the engine computes every curve
    fig, axes = plt.subplots(1, 2, figsize=(9 * k, 3.4 * k), sharey=True)
    for w in weights:
        axes[0].plot(x, f(w * x), label=f"w = {w:g}")
    for b in biases:
        axes[1].plot(x, f(x + b), label=f"b = {b:g}")
    axes[0].set_title(f"y = {activation}(w·x), b = 0")
    axes[1].set_title(f"y = {activation}(x + b), w = 1")
    for ax in axes:
        ax.axhline(0, color="#999", lw=0.6)
        ax.axvline(0, color="#999", lw=0.6)
        ax.set_xlabel("x")
        ax.legend()
    axes[0].set_ylabel("y")
    fig.tight_layout()
    return _save(fig, path)


# name -> f(x) on arrays, computed by the engine (kept for code that used this table).
ACTIVATION_FUNCTIONS = {name: (lambda z, a=act: a.curve(z)[0]) for name, act in REGISTRY.items()}


def plot_activations(
    path: str | os.PathLike, names: Sequence[str] | None = None, theme: str = "default"
) -> Path:
    """The activation functions side by side, each with its derivative (dashed), both
    computed by the engine (``backward`` gives the derivative)."""
    with _style(theme):
        return _plot_activations(path, names, get_theme(theme).plot_scale)


def _plot_activations(path: Any, names: Any, k: float) -> Path:
    plt = _pyplot()
    x = np.linspace(-4, 4, 401)
    names = [n for n in REGISTRY if n != "linear"] if names is None else list(names)
    fig, axes = plt.subplots(1, len(names), figsize=(3 * len(names) * k, 2.9 * k), sharey=True)
    for ax, name in zip(np.atleast_1d(axes), names):
        act = REGISTRY[check_activation(name)]
        y, dy = act.curve(x)
        ax.plot(x, y, color=_TRAIN, label=act.display)
        ax.plot(x, dy, "--", color=_TEST, label="derivative")
        ax.axhline(0, color="#999", lw=0.6)
        ax.axvline(0, color="#999", lw=0.6)
        ax.set_title(act.formula)
        ax.set_ylim(-1.5, 2.0)
        ax.legend(loc="upper left")
    fig.tight_layout()
    return _save(fig, path)


def attention(
    weights: Any,
    tokens: Sequence[str],
    path: str | os.PathLike | None = None,
    title: str = "attention weights",
    theme: str = "default",
) -> Any:
    """Attention weights as a heat map: row i is query position i, column j key position
    j, the colour how much i looks at j (white 0 to blue 1; grey: a key it may not look
    at, as the causal mask's later positions), each cell's number when there are at most
    10 positions. ``weights`` is ``(T, T)`` or ``(heads, T, T)`` (one map per head: side
    by side, or in a grid from 3 heads on), a Value or an array; ``tokens`` labels the T positions. Saves to ``path``
    and returns it, or without a path returns the matplotlib figure.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "attention.png"
    >>> attention([[1.0, 0.0], [0.3, 0.7]], ["<bos>", "a"], path).suffix
    '.png'
    """
    from .attention_map import attention_weights, draw_attention

    w, labels = attention_weights(weights, tokens)
    plt = _pyplot()
    k = get_theme(theme).plot_scale
    heads, t = w.shape[0], w.shape[-1]
    cols = heads if heads <= 2 else math.ceil(math.sqrt(heads))  # 4 heads: 2 x 2, to stay large
    rows = math.ceil(heads / cols)
    side = (1.4 + 0.32 * t) * k  # inches per map: room for the tick labels and numbers
    with _style(theme):
        fig, axes = plt.subplots(
            rows, cols, squeeze=False, figsize=(side * cols + 1.0 * k, side * rows + 0.4 * k)
        )
        image = draw_attention(axes, w, labels)
        fig.colorbar(image, ax=axes, fraction=0.046 / cols, pad=0.04, label="weight")
        fig.suptitle(title)
        return fig if path is None else _save(fig, path)
