"""Plots with matplotlib (the optional ``plot`` extra): decision boundaries, training
curves, a neuron's response, activation functions."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value, no_grad


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("plots need matplotlib: pip install 'backproplab[plot]'") from err
    return plt


def _save(fig: Any, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
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
) -> Path | None:
    """The model's output over the plane around ``X`` (shaded), its decision boundary
    (black line) and the points, coloured by class (test points hollow)."""
    plt = _pyplot()
    X = np.asarray(X, dtype=float)
    pad = 0.25 * (X.max(axis=0) - X.min(axis=0)) + 0.1
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    xs, ys = np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150)
    grid = np.array(np.meshgrid(xs, ys)).reshape(2, -1).T
    z = model_scores(model, grid, features).reshape(150, 150)
    if threshold is None:
        threshold = 0.5 if 0.0 <= z.min() and z.max() <= 1.0 else 0.0
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(5.2, 4.6))
    span = max(abs(z.min() - threshold), abs(z.max() - threshold)) or 1.0
    ax.contourf(
        xs, ys, z, levels=30, cmap="RdBu", vmin=threshold - span, vmax=threshold + span, alpha=0.55
    )
    if z.min() < threshold < z.max():
        ax.contour(xs, ys, z, levels=[threshold], colors="k", linewidths=1.5)
    y = np.asarray(y)
    colours = np.where(y > (0.5 if threshold != 0.0 or y.min() >= 0 else 0), "#1f4e9c", "#b2302b")
    ax.scatter(X[:, 0], X[:, 1], c=colours, s=22, edgecolors="white", linewidths=0.6, label="train")
    if X_test is not None:
        tc = np.where(np.asarray(y_test) > 0.5, "#1f4e9c", "#b2302b")
        ax.scatter(
            X_test[:, 0],
            X_test[:, 1],
            facecolors="none",
            edgecolors=tc,
            s=26,
            linewidths=1.2,
            label="test",
        )
        ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title(title or "decision boundary")
    ax.set_aspect("equal", adjustable="box")
    return _save(fig, path) if own else None


def plot_history(history: Any, path: str | os.PathLike, title: str = "training") -> Path:
    """Loss (and accuracy, when there is one) per epoch, train and validation."""
    plt = _pyplot()
    has_acc = any(a is not None for a in history.accuracy)
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(9 if has_acc else 5, 3.6))
    axes = np.atleast_1d(axes)
    epochs = np.arange(1, len(history.loss) + 1)
    axes[0].plot(epochs, history.loss, label="train", color="#1f4e9c")
    if any(v is not None for v in history.val_loss):
        axes[0].plot(epochs, history.val_loss, label="test", color="#d9822b")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss")
    axes[0].set_yscale("log" if min(history.loss) > 0 else "linear")
    axes[0].legend()
    axes[0].set_title(f"{title}: loss")
    if has_acc:
        axes[1].plot(epochs, history.accuracy, label="train", color="#1f4e9c")
        if any(v is not None for v in history.val_accuracy):
            axes[1].plot(epochs, history.val_accuracy, label="test", color="#d9822b")
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
) -> Path:
    """A one-input neuron's ``y = f(w*x + b)``: left for several w (b = 0), right for
    several b (w = 1). The weight sets the steepness, the bias shifts it."""
    plt = _pyplot()
    x = np.linspace(-6, 6, 400)
    f = ACTIVATION_FUNCTIONS[activation]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
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
        ax.legend(fontsize=8)
    axes[0].set_ylabel("y")
    fig.tight_layout()
    return _save(fig, path)


ACTIVATION_FUNCTIONS = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.1 * z),
    "linear": lambda z: z,
}


def plot_activations(path: str | os.PathLike) -> Path:
    """The activation functions side by side, each with its derivative (dashed)."""
    plt = _pyplot()
    x = np.linspace(-4, 4, 400)
    names = ["sigmoid", "tanh", "relu", "leaky_relu"]
    fig, axes = plt.subplots(1, len(names), figsize=(12, 2.9), sharey=True)
    for ax, name in zip(axes, names):
        v = Value(x)
        out = getattr(v, name)() if name != "leaky_relu" else v.leaky_relu(0.1)
        out.sum().backward()
        ax.plot(x, out.data, color="#1f4e9c", label=name)
        ax.plot(x, v.grad, "--", color="#d9822b", label="derivative")
        ax.axhline(0, color="#999", lw=0.6)
        ax.axvline(0, color="#999", lw=0.6)
        ax.set_title(name)
        ax.set_ylim(-1.5, 2.0)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return _save(fig, path)
