"""TensorFlow Playground, offline: train a small net on a 2-D data set and draw what it
learned — the decision boundary, a GIF of it learning, loss curves, the network.

>>> import tempfile
>>> settings = Settings(dataset="gauss", layers=[2], epochs=3, frames=2, points=60)
>>> result = run(settings, tempfile.mkdtemp(), progress=False)
>>> sorted(result.files)
['animation', 'boundary', 'loss', 'network']
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nn import MLP, SGD, fit, mse_loss, playground
from nn.datasets import train_test_split
from nn.train import History, evaluate

from .. import plots
from ..network import draw_mlp
from ..rendering import render

EXTENT = (-playground.RADIUS, playground.RADIUS, -playground.RADIUS, playground.RADIUS)
_FRAME_RESOLUTION = 100  # grid points per side in the animation (the still uses 150)


@dataclass
class Settings:
    """Everything the Playground's controls set. ``points=None`` means the Playground's
    500 (classification) or 1200 (regression); ``frames`` is the GIF's length."""

    dataset: str = "spiral"
    noise: float = 0.1
    layers: list[int] = field(default_factory=lambda: [8, 8])
    activation: str = "tanh"
    lr: float = 0.03
    epochs: int = 300
    batch_size: int = 10
    l2: float = 0.001
    features: list[str] = field(default_factory=lambda: list(playground.FEATURES))
    test_ratio: float = 0.5
    seed: int = 1
    points: int | None = None
    frames: int = 30
    theme: str = "default"  # "projector": larger type and lines in every picture


@dataclass
class Result:
    """The trained model, its history, the final numbers and the files written."""

    model: MLP
    history: History
    train: dict  # {"loss": float, "accuracy": float | None}
    test: dict
    files: dict[str, Path]
    task: str


def run(settings: Settings, out_dir: str | os.PathLike, progress: bool = True) -> Result:
    """Generate the data, train, and write ``boundary.png``, ``animation.gif``,
    ``loss.png`` and ``network.svg`` into ``out_dir``.

    Like the Playground: classification labels are -1/+1 read by a tanh output,
    regression uses a linear output, the loss is the mean squared error, training is
    SGD with L2 weight decay, and half the points (``test_ratio``) are held out."""
    s = settings
    task = playground.task(s.dataset)
    names = playground.check_features(s.features)
    X, y = playground.data(s.dataset, s.points, s.noise, seed=s.seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, s.test_ratio, seed=s.seed)
    inputs = lambda P: playground.features(P, names)
    F_train, F_test = inputs(X_train), inputs(X_test)
    model = MLP(
        len(names),
        [*s.layers, 1],
        activation=s.activation,
        output_activation="tanh" if task == "classification" else "linear",
        vectorized=True,
        rng=s.seed,
    )
    regression = task == "regression"
    snapshot_epochs = set(np.linspace(0, s.epochs, max(s.frames, 2)).round().astype(int).tolist())
    xs, ys, z0 = plots.score_grid(model, EXTENT, inputs, _FRAME_RESOLUTION)
    frames = [("epoch 0", z0)]

    def snapshot(epoch: int, logs: dict, model: MLP) -> bool:
        if epoch + 1 in snapshot_epochs:
            z = plots.score_grid(model, EXTENT, inputs, _FRAME_RESOLUTION)[2]
            frames.append((f"epoch {epoch + 1}   test loss {logs['val_loss']:.3f}", z))
        return False

    history = fit(
        model,
        F_train,
        y_train,
        loss="mse",
        optimizer=SGD(model.parameters(), lr=s.lr, weight_decay=s.l2),
        epochs=s.epochs,
        batch_size=min(s.batch_size, len(X_train)),
        val=(F_test, y_test),
        callbacks=[snapshot] if s.frames else [],
        progress=progress,
        seed=s.seed,
    )
    if history.interrupted and not history.epochs:  # Ctrl-C before one epoch: nothing to draw
        raise KeyboardInterrupt
    # After a Ctrl-C later on, the pictures show the model as far as it got (fit says so).
    train = evaluate(model, F_train, y_train, mse_loss, "mse")
    test = evaluate(model, F_test, y_test, mse_loss, "mse")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    title = f"{s.dataset}: {'-'.join(map(str, [len(names), *s.layers, 1]))} {s.activation}"
    common = dict(threshold=0.0, regression=regression, vrange=(-1.0, 1.0))
    files = {
        "boundary": plots.plot_decision_boundary(
            model,
            X_train,
            y_train,
            out_dir / "boundary.png",
            title=f"{title}, test {_score(test, task)}",
            X_test=X_test,
            y_test=y_test,
            features=inputs,
            extent=EXTENT,
            theme=s.theme,
            **common,
        ),
        "loss": plots.plot_history(history, out_dir / "loss.png", title=s.dataset, theme=s.theme),
        "network": render(
            draw_mlp(
                model, input_names=[playground.FEATURE_LABELS[n] for n in names], theme=s.theme
            ),
            out_dir / "network.svg",
        ),
    }
    if s.frames:
        files["animation"] = plots.animate_boundaries(
            frames, xs, ys, X_train, y_train, out_dir / "animation.gif", theme=s.theme, **common
        )
    return Result(model, history, train, test, files, task)


def _score(logs: dict, task: str) -> str:
    if task == "classification":
        return f"accuracy {logs['accuracy']:.1%}"
    return f"loss {logs['loss']:.4f}"


def summary(result: Result) -> str:
    """The final numbers as two lines, train then test."""
    lines = []
    for name, logs in (("train", result.train), ("test", result.test)):
        line = f"{name:>5}: loss {logs['loss']:.4f}"
        if logs["accuracy"] is not None:
            line += f"   accuracy {logs['accuracy']:.1%}"
        lines.append(line)
    return "\n".join(lines)


def describe(settings: Settings) -> str:
    """One line naming the run, for the top of the command's output."""
    s = settings
    layers = ",".join(map(str, s.layers)) or "none"
    return (
        f"{s.dataset} (noise {s.noise:g}), features {','.join(s.features)}, hidden layers "
        f"{layers}, {s.activation}, lr {s.lr:g}, l2 {s.l2:g}, batch {s.batch_size}, "
        f"{s.epochs} epochs, seed {s.seed}"
    )
