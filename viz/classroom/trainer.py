"""The Playground tab's training: TensorFlow Playground's data, features and controls,
trained by ``nn`` one epoch at a time, each epoch reported as one frame.

A frame carries the decision boundary over the plane, a small heatmap per neuron (its
output over the plane, features included), every weight and its gradient ∂loss/∂w over
the training set, and the train / test loss. Grids go as base64 bytes: a value v in
[-1, 1] is the byte round((v + 1) · 127.5).

>>> t = Trainer(check_playground({"layers": [2]}))
>>> frame = t.step()
>>> frame["epoch"], len(frame["layers"]), len(t.points()["train"])
(1, 2, 250)
"""

from __future__ import annotations

import base64
import csv
import io
import math

import numpy as np

from autograd import add_n, no_grad, sum_of_squares
from nn import MLP, SGD, cross_entropy, fit, mse_loss, playground
from nn.activations import ACTIVATIONS, activate
from nn.datasets import train_test_split

from .limits import MAX_HIDDEN, SettingsError, choice, integer, number, sizes

BOUNDARY = 50  # grid points per side of the decision boundary
HEATMAP = 20  # grid points per side of a neuron's heatmap
REGULARIZATION = ("none", "L1", "L2")
MAX_EPOCHS = 100_000


def _spiral3(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Beyond the Playground: three spiral arms (labels 0, 1, 2), one turn each out to
    radius 5, each point jittered by ±noise like the Playground's two-arm spiral."""
    X, y = [], []
    for k, count in enumerate(np.diff(np.linspace(0, n, 4).round().astype(int))):
        r = np.linspace(0.05, 1.0, count)
        t = 2 * np.pi * r + 2 * np.pi * k / 3
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(count, float(k)))
    X = 5.0 * (np.vstack(X) + rng.uniform(-noise / 5, noise / 5, (n, 2)))
    order = rng.permutation(n)
    return X[order], np.concatenate(y)[order]


# The Playground's data sets (their task), then ours: 3 classes read by softmax.
DATASETS = {name: playground.task(name) for name in playground.DATASETS}
DATASETS["spiral3"] = "classification"
DATASETS["csv"] = "classification"  # an uploaded file; its labels decide (see read_csv)
MAX_CSV_ROWS = 2000
CLASSES = {"spiral3": 3}  # more than two classes: softmax cross-entropy


def check_playground(settings: dict) -> dict:
    """The Playground's settings with its defaults, each bounded; the data set decides
    the problem type (classification or regression)."""
    dataset = choice(settings, "dataset", "circle", tuple(DATASETS))
    features = settings.get("features", ["x", "y"])
    if not isinstance(features, list) or len(features) > len(playground.FEATURES):
        raise SettingsError("features must be a list of feature names")
    try:
        features = playground.check_features([str(f)[:10] for f in features])
    except ValueError as err:
        raise SettingsError(str(err)) from None
    return {
        "dataset": dataset,
        "problem": DATASETS[dataset],
        "noise": integer(settings, "noise", 0, 0, 50),
        "ratio": integer(settings, "ratio", 50, 10, 90),
        "batch": integer(settings, "batch", 10, 1, 30),
        "features": features,
        "layers": sizes(settings, "layers", [4, 2], 0, MAX_HIDDEN),
        "activation": choice(settings, "activation", "tanh", ACTIVATIONS),
        "lr": number(settings, "lr", 0.03, 1e-5, 10.0),
        "reg": choice(settings, "reg", "none", REGULARIZATION),
        "rate": number(settings, "rate", 0.0, 0.0, 10.0),
        "seed": integer(settings, "seed", 1, 0, 10**6),
    }


def read_csv(text: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Points from CSV text: two feature columns and a label, an optional header row.

    Each feature is scaled into [-5, 5] (the Playground's plane); two label values make a
    classification (the smaller -1, the larger +1), more make a regression scaled into
    [-1, 1]. Anything else is a SettingsError naming the row and column.
    """
    rows = []
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise SettingsError(f"row {line} has {len(row)} columns; a CSV needs 3: x, y, label")
        try:
            values = [float(cell) for cell in row]
        except ValueError:
            if rows or line > 1:  # only the first row may be a header
                bad = next(c for c in row if not _is_number(c))
                raise SettingsError(f"row {line}: {bad.strip()[:20]!r} is not a number") from None
            continue
        if not all(math.isfinite(v) for v in values):
            raise SettingsError(f"row {line}: numbers must be finite")
        rows.append(values)
        if len(rows) > MAX_CSV_ROWS:
            raise SettingsError(f"the CSV has more than {MAX_CSV_ROWS} rows")
    if len(rows) < 10:
        raise SettingsError(f"the CSV has {len(rows)} rows of numbers; it needs at least 10")
    data = np.array(rows)
    X, labels = data[:, :2], data[:, 2]
    low, high = X.min(axis=0), X.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    X = np.where(high > low, (X - low) / span * 10.0 - 5.0, 0.0)
    values = np.unique(labels)
    if len(values) == 1:
        raise SettingsError("the label column has only one value")
    if len(values) == 2:
        return X, np.where(labels == values[1], 1.0, -1.0), "classification"
    return X, labels / np.max(np.abs(labels)), "regression"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bytes(values: np.ndarray) -> str:
    """Values in about [-1, 1] as base64 bytes (0 = -1, 255 = +1)."""
    q = np.round((np.clip(np.nan_to_num(values), -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def _grid(n: int) -> np.ndarray:
    """n × n points over the Playground's square, row by row from the top (y = +6)."""
    r = playground.RADIUS
    xs = np.linspace(-r, r, n)
    gx, gy = np.meshgrid(xs, xs[::-1])
    return np.column_stack([gx.ravel(), gy.ravel()])


class Trainer:
    """One playground run: its data, model and optimizer, trained an epoch at a time."""

    def __init__(self, settings: dict, upload: tuple | None = None) -> None:
        s = self.settings = settings
        self.task = s["problem"]
        self.classes = CLASSES.get(s["dataset"], 0)
        if s["dataset"] == "csv":
            if upload is None:
                raise SettingsError("no CSV file yet: upload one (x, y, label columns)")
            X, y, self.task = upload
            s["problem"] = self.task
        elif self.classes:
            n = playground.POINTS["classification"]
            X, y = _spiral3(n, s["noise"] / 100.0, np.random.default_rng(s["seed"]))
        else:
            X, y = playground.data(s["dataset"], None, s["noise"] / 100.0, seed=s["seed"])
        test_ratio = 1.0 - s["ratio"] / 100.0
        self.X_train, self.X_test, self.y_train, self.y_test = train_test_split(
            X, y, test_ratio, seed=s["seed"]
        )
        self.F_train, self.F_test = self.features(self.X_train), self.features(self.X_test)
        regression = self.task == "regression"
        self.model = MLP(
            len(s["features"]),
            [*s["layers"], self.classes or 1],
            activation=s["activation"],
            output_activation="linear" if regression or self.classes else "tanh",
            vectorized=True,
            rng=s["seed"],
        )
        self.weights = [layer.W for layer in self.model.layers]
        # fit reads the loss's name to score accuracy: give it the data loss's name
        self.fit_loss = lambda out, y: self.loss(out, y)
        self.fit_loss.__name__ = "cross_entropy" if self.classes else "mse_loss"
        self.optimizer = SGD(self.model.parameters(), lr=s["lr"])
        self.epoch = 0
        self.diverged: str | None = None
        self.boundary_grid, self.heat_grid = _grid(BOUNDARY), _grid(HEATMAP)
        self.heat_features = self.features(self.heat_grid)

    def features(self, P: np.ndarray) -> np.ndarray:
        return playground.features(P, self.settings["features"])

    def data_loss(self, out, y):
        """Squared error as the Playground (softmax cross-entropy for 3 classes)."""
        return cross_entropy(out, y) if self.classes else mse_loss(out, y)

    def loss(self, out, y):
        """The data loss (mean squared error, as the Playground) plus the penalty."""
        s, loss = self.settings, self.data_loss(out, y)
        if s["reg"] == "L2" and s["rate"]:
            loss = loss + s["rate"] * sum_of_squares(self.weights)
        elif s["reg"] == "L1" and s["rate"]:
            loss = loss + s["rate"] * add_n([W.abs().sum() for W in self.weights])
        return loss

    def points(self) -> dict:
        """The data set, sent once per reset: [x, y, label] rows, train and test."""
        row = lambda X, y: np.column_stack([X, y]).round(4).tolist()
        return {
            "type": "playground.reset",
            "settings": self.settings,
            "train": row(self.X_train, self.y_train),
            "test": row(self.X_test, self.y_test),
            "features": [playground.FEATURE_LABELS[f] for f in self.settings["features"]],
        }

    def step(self, epochs: int = 1) -> dict:
        """Train ``epochs`` epochs (mini-batch SGD, shuffled) and return the frame."""
        if self.diverged is None and self.epoch < MAX_EPOCHS:
            try:
                with np.errstate(all="ignore"):
                    for _ in range(epochs):
                        fit(
                            self.model,
                            self.F_train,
                            self.y_train,
                            loss=self.fit_loss,
                            optimizer=self.optimizer,
                            epochs=1,
                            batch_size=self.settings["batch"],
                            progress=False,
                            seed=self.settings["seed"] * 7919 + self.epoch,
                        )
                        self.epoch += 1
            except FloatingPointError:
                self.epoch += 1
                self.diverged = (
                    f"the network diverged in epoch {self.epoch} (the loss is not a number): "
                    "lower the learning rate, then Reset"
                )
        return self.frame()

    def _score(self, F: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        if self.classes:
            logits = self.model(F)
            right = logits.data.argmax(axis=1) == y
            return float(cross_entropy(logits, y).data), float(np.mean(right))
        out = self.model(F).data.ravel()
        loss = float(np.mean((out - y) ** 2))
        if self.task != "classification":
            return loss, None
        return loss, float(np.mean(np.where(out >= 0, 1.0, -1.0) == y))

    def frame(self) -> dict:
        """What the page draws now (computed under ``no_grad``, plus one gradient pass)."""
        model = self.model
        with np.errstate(all="ignore"):
            with no_grad():
                train_loss, train_acc = self._score(self.F_train, self.y_train)
                test_loss, test_acc = self._score(self.F_test, self.y_test)
                grid = model(self.features(self.boundary_grid))
                if self.classes:  # each point: its class, and how sure (max probability)
                    p = grid.softmax(axis=1).data
                    classes = base64.b64encode(p.argmax(axis=1).astype(np.uint8).tobytes())
                    boundary = 2 * (p.max(axis=1) - 1 / self.classes) / (1 - 1 / self.classes) - 1
                else:
                    boundary = grid.data.ravel()
                heat = self._heatmaps()
            model.zero_grad()
            self.data_loss(model(self.F_train), self.y_train).backward()  # ∂loss/∂w, data
            layers = []
            for li, layer in enumerate(model.layers):
                layers.append(
                    {
                        "weights": layer.W.data.tolist(),
                        "grads": layer.W.grad.tolist(),
                        "biases": layer.b.data.tolist(),
                        "bias_grads": layer.b.grad.tolist(),
                        "heat": heat[li + 1],
                    }
                )
            model.zero_grad()
        if self.diverged is None and not math.isfinite(train_loss):
            self.diverged = "the network diverged (the loss is not a number): lower the learning rate, then Reset"
        return {
            "type": "playground.frame",
            "epoch": self.epoch,
            "train_loss": train_loss,
            "test_loss": test_loss,
            "train_accuracy": train_acc,
            "test_accuracy": test_acc,
            "boundary": _bytes(boundary),
            "boundary_classes": classes.decode("ascii") if self.classes else None,
            "boundary_size": BOUNDARY,
            "heat_size": HEATMAP,
            "inputs": heat[0],
            "layers": layers,
            "diverged": self.diverged,
        }

    def _heatmaps(self) -> list[list[str]]:
        """Each feature's and each neuron's value over the plane, one list per layer;
        unbounded outputs (relu, linear, x²) are scaled by their largest size."""
        x = self.heat_features
        out = [[_bytes(_scaled(col)) for col in x.T]]
        h = x
        for layer, act in zip(self.model.layers, self.model.activations):
            h = activate(layer(h), act).data
            out.append([_bytes(_scaled(col)) for col in h.T])
        return out


def _scaled(values: np.ndarray) -> np.ndarray:
    top = float(np.max(np.abs(values))) if values.size else 0.0
    return values / top if top > 1.0 and math.isfinite(top) else values
