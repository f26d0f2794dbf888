"""TensorFlow Playground, offline: train a small net on a 2-D data set and draw what it
learned — the decision boundary, a GIF of it learning, loss curves, the network.

The settings are ``settings.PlaygroundRun``'s (the Playground tab's and how long to train):

>>> import tempfile
>>> settings = {"dataset": "gauss", "layers": [2], "epochs": 3, "frames": 2, "points": 60}
>>> result = run(settings, tempfile.mkdtemp(), progress=False)
>>> sorted(result.files)
['animation', 'boundary', 'loss', 'network']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nn import MLP, SGD, fit, playground
from nn.datasets import train_test_split
from nn.train import History, evaluate

from .. import plots
from ..network import draw_mlp
from ..rendering import render
from .settings import MAX_STEPS, MAX_WORK, PlaygroundRun

EXTENT = (-playground.RADIUS, playground.RADIUS, -playground.RADIUS, playground.RADIUS)
_FRAME_RESOLUTION = 100  # grid points per side in the animation (the still uses 150)


@dataclass
class Result:
    """The trained model, its history, the final numbers and the files written."""

    model: MLP
    history: History
    train: dict  # {"loss": float, "accuracy": float | None}
    test: dict
    files: dict[str, Path]
    task: str


def run(
    settings: dict, out_dir: str | os.PathLike, progress: bool = True, theme: str = "default"
) -> Result:
    """Generate the data, train, and write ``boundary.png``, ``animation.gif``,
    ``loss.png`` and ``network.svg`` into ``out_dir`` (``theme="projector"``: larger type
    and lines in every picture).

    Like the Playground: classification labels are -1/+1 read by a tanh output,
    regression uses a linear output, the loss is its square error ½(out − y)² averaged,
    each mini-batch update adds its L1 / L2 regularization (``nn.playground.objective``),
    and ``ratio`` percent of the points train, the rest test."""
    s = check(settings)
    task = playground.task(s["dataset"])
    names = s["features"]
    X, y = playground.data(s["dataset"], s["points"], s["noise"] / 100, seed=s["seed"])
    test_ratio = 1 - s["ratio"] / 100
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_ratio, seed=s["seed"])
    inputs = lambda P: playground.features(P, names)
    F_train, F_test = inputs(X_train), inputs(X_test)
    model = MLP(
        len(names),
        [*s["layers"], 1],
        activation=s["activation"],
        output_activation="tanh" if task == "classification" else "linear",
        vectorized=True,
        rng=s["seed"],
    )
    weights = [layer.W for layer in model.layers]

    def objective(out, y):
        return playground.objective(out, y, weights, s["reg"], s["rate"])

    regression = task == "regression"
    epochs, frame_count = s["epochs"], s["frames"]
    snapshot_epochs = set(np.linspace(0, epochs, max(frame_count, 2)).round().astype(int).tolist())
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
        loss=objective,
        metric="targets",  # -1/+1 classes by the sign; a regression has no accuracy
        optimizer=SGD(model.parameters(), lr=s["lr"]),
        epochs=epochs,
        batch_size=min(s["batch"], len(X_train)),
        val=(F_test, y_test),
        callbacks=[snapshot] if frame_count else [],
        progress=progress,
        seed=s["seed"],
    )
    if history.interrupted and not history.epochs:  # Ctrl-C before one epoch: nothing to draw
        raise KeyboardInterrupt
    # After a Ctrl-C later on, the pictures show the model as far as it got (fit says so).
    train = evaluate(model, F_train, y_train, playground.square_error, "targets")
    test = evaluate(model, F_test, y_test, playground.square_error, "targets")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    title = f"{s['dataset']}: {'-'.join(map(str, [len(names), *s['layers'], 1]))} {s['activation']}"
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
            theme=theme,
            **common,
        ),
        "loss": plots.plot_history(history, out_dir / "loss.png", title=s["dataset"], theme=theme),
        "network": render(
            draw_mlp(model, input_names=[playground.FEATURE_LABELS[n] for n in names], theme=theme),
            out_dir / "network.svg",
        ),
    }
    if frame_count:
        files["animation"] = plots.animate_boundaries(
            frames, xs, ys, X_train, y_train, out_dir / "animation.gif", theme=theme, **common
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


def describe(settings: dict) -> str:
    """One line naming the run, for the top of the command's output."""
    s = check(settings)
    layers = ",".join(map(str, s["layers"])) or "none"
    reg = f"{s['reg']} {s['rate']:g}" if s["reg"] != "none" else "no regularization"
    return (
        f"{s['dataset']} (noise {s['noise']}%), features {','.join(s['features'])}, hidden "
        f"layers {layers}, {s['activation']}, lr {s['lr']:g}, {reg}, batch {s['batch']}, "
        f"{s['epochs']} epochs, seed {s['seed']}"
    )


def check(settings: dict) -> dict:
    """The run's settings (``settings.PlaygroundRun``, ``points`` filled in), each in
    bounds and together not too much work, before any work starts.

    >>> check({"epochs": 10})["points"]
    500
    """
    s = PlaygroundRun.check(settings)
    s["points"] = s["points"] or playground.POINTS[playground.task(s["dataset"])]
    sizes = [len(s["features"]), *s["layers"], 1]
    check_work(s["points"], 1 - s["ratio"] / 100, s["epochs"], s["batch"], sizes)
    return s


def check_work(
    points: int, test_ratio: float, epochs: int, batch_size: int, sizes: list[int]
) -> None:
    """Refuse a run whose settings are each in bounds but together too much work, or
    that leaves no point to train on.

    >>> check_work(500, 0.5, 300, 10, [7, 8, 8, 1])
    """
    n_test = max(1, int(round(points * test_ratio)))
    n_train = points - n_test
    if n_train < 1:
        raise ValueError(
            f"{points} points with {100 - test_ratio * 100:.0f}% training leave none to "
            "train on; use more points"
        )
    steps = epochs * -(-n_train // min(batch_size, n_train))
    weights = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    if steps > MAX_STEPS:
        raise ValueError(
            f"{epochs:,} epochs of {n_train:,} points in batches of {batch_size} are "
            f"{steps:,} steps, more than {MAX_STEPS:,}; use fewer epochs or larger batches"
        )
    if epochs * n_train * weights > MAX_WORK:
        raise ValueError(
            f"{epochs:,} epochs x {n_train:,} points x {weights:,} weights is more than "
            f"{MAX_WORK:,}; use fewer epochs, points or neurons"
        )
