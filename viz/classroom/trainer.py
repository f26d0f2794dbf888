"""The Playground tab's training: TensorFlow Playground's data, features and controls,
trained by ``nn`` one epoch at a time, each epoch reported as one frame.

A frame carries the decision boundary over the plane, a small heatmap per neuron (its
output over the plane, features included), every weight and its gradient ∂loss/∂w over
the training set, and the train / test loss. The loss and the update are TensorFlow Playground's
(``nn.playground.objective``); the live settings (learning rate, regularization and its
rate, activation, batch size) change a run as it trains (:meth:`Trainer.update`), the
others need a new Trainer. Grids go as base64 bytes: a value v in
[-1, 1] is the byte round((v + 1) · 127.5).

>>> t = Trainer({"layers": [2]})
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

from autograd import Value, add_n, compile, no_grad
from autograd.compiler import read
from nn import MLP, SGD, cross_entropy, playground
from nn.activations import activate
from nn.datasets import batches, train_test_split
from nn.names import error_name, input_name, output_name, target_name

from .lessons import network_walk
from .settings import DATASETS as NAMES
from .settings import MAX_CSV_ROWS, MAX_EPOCHS, Parameter, Playground, SettingsError

BOUNDARY = 50  # grid points per side of the decision boundary
HEATMAP = 20  # grid points per side of a neuron's heatmap
LINE_BY_LINE = 60  # parameters up to which a point's backward pass goes line by line


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


# Each data set's task: the Playground's, then ours (3 classes read by softmax; an upload,
# whose labels decide: see read_csv).
DATASETS = {
    name: playground.task(name) if name in playground.DATASETS else "classification"
    for name in NAMES
}
CLASSES = {"spiral3": 3}  # more than two classes: softmax cross-entropy


def read_csv(text: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Points from CSV text: two feature columns and a label, an optional header row;
    any line ends (``\\n``, ``\\r\\n``, ``\\r``) and a UTF-8 byte order mark.

    Each feature is scaled into [-5, 5] (the Playground's plane); two label values make a
    classification (the smaller -1, the larger +1), more make a regression scaled into
    [-1, 1]. Anything else is a SettingsError naming the row and column.

    >>> X, y, task = read_csv("\\ufeff" + "\\r".join(f"{i},{-i},{i % 2}" for i in range(10)))
    >>> len(y), task, X[:, 0].min().item(), X[:, 0].max().item()
    (10, 'classification', -5.0, 5.0)
    """
    rows = []
    lines = io.StringIO(text.removeprefix("\ufeff"), newline=None)  # newline=None: any line end
    reader = csv.reader(lines)
    try:
        for line, row in enumerate(reader, start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise SettingsError(
                    f"row {line} has {len(row)} columns; a CSV needs 3: x, y, label"
                )
            try:
                values = [float(cell) for cell in row]
            except ValueError:
                if rows or line > 1:  # only the first row may be a header
                    bad = next(c for c in row if not _is_number(c))
                    raise SettingsError(
                        f"row {line}: {bad.strip()[:20]!r} is not a number"
                    ) from None
                continue
            if not all(math.isfinite(v) for v in values):
                raise SettingsError(f"row {line}: numbers must be finite")
            rows.append(values)
            if len(rows) > MAX_CSV_ROWS:
                raise SettingsError(f"the CSV has more than {MAX_CSV_ROWS} rows")
    except csv.Error as err:
        raise SettingsError(f"row {reader.line_num}: the CSV cannot be read ({err})") from None
    if len(rows) < 10:
        raise SettingsError(f"the CSV has {len(rows)} rows of numbers; it needs at least 10")
    data = np.array(rows)
    X, labels = _to_plane(data[:, :2]), data[:, 2]
    values = np.unique(labels)
    if len(values) == 1:
        raise SettingsError("the label column has only one value")
    if len(values) == 2:
        return X, np.where(labels == values[1], 1.0, -1.0), "classification"
    return X, labels / np.max(np.abs(labels)), "regression"


def _to_plane(X: np.ndarray) -> np.ndarray:
    """Each column scaled from its own range into [-5, 5]; a constant column to 0. Halves
    first, so the span of ±1.7e308 (3.4e308, past the largest float) never overflows."""
    low, high = X.min(axis=0) / 2, X.max(axis=0) / 2
    span = high - low
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (X / 2 - low) / safe * 10.0 - 5.0, 0.0)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bytes(values: np.ndarray) -> list[str]:
    """Values in about [-1, 1] as base64 bytes (0 = -1, 255 = +1; NaN as 0), one string
    per column of a matrix (a vector is one column). All columns are quantized at once:
    per column it was a third of a frame's time.

    >>> _bytes(np.array([[-1.0, 0.0], [1.0, np.nan]]))
    ['AP8=', 'gIA=']
    """
    clipped = np.clip(values.reshape(len(values), -1).T, -1.0, 1.0)
    clipped[np.isnan(clipped)] = 0.0
    q = np.round((clipped + 1.0) * 127.5).astype(np.uint8)
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in q]


def _finite(loss: float) -> None:
    if not math.isfinite(loss):
        raise FloatingPointError(f"the loss became {loss}")


def _grid(n: int) -> np.ndarray:
    """n × n points over the Playground's square, row by row from the top (y = +6)."""
    r = playground.RADIUS
    xs = np.linspace(-r, r, n)
    gx, gy = np.meshgrid(xs, xs[::-1])
    return np.column_stack([gx.ravel(), gy.ravel()])


class Trainer:
    """One playground run: its data, model and optimizer, trained an epoch at a time.
    ``settings`` are checked by the Playground's schema (defaults filled in)."""

    def __init__(self, settings: dict, upload: tuple | None = None) -> None:
        s = self.settings = Playground.check(settings)
        self.task = DATASETS[s["dataset"]]
        self.classes = CLASSES.get(s["dataset"], 0)
        if s["dataset"] == "csv":
            if upload is None:
                raise SettingsError("no CSV file yet: upload one (x, y, label columns)")
            X, y, self.task = upload
        elif self.classes:
            n = playground.POINTS["classification"]
            X, y = _spiral3(n, s["noise"] / 100.0, np.random.default_rng(s["seed"]))
        else:
            X, y = playground.data(s["dataset"], None, s["noise"] / 100.0, seed=s["seed"])
        s["problem"] = self.task
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
        self.optimizer = SGD(self.model.parameters(), lr=s["lr"])
        self.train_batch = compile(self._batch, fallback=True)  # traced, then replayed
        self.epoch = 0
        self.diverged: str | None = None
        self.boundary_features = self.features(_grid(BOUNDARY))
        self.heat_features = self.features(_grid(HEATMAP))
        # the features over the plane change only with a new run: encoded once
        self.heat_inputs = _bytes(_scaled(self.heat_features))

    def update(self, settings: dict) -> None:
        """Take new live settings (learning rate, regularization and its rate, activation,
        batch size, what the page shows) without a restart: the weights and the epoch
        stay, as in TensorFlow Playground. Other changes need a new Trainer."""
        new = Playground.check(settings)
        if Playground.restarts(self.settings, new):
            raise ValueError("these settings need a new run, not an update")
        self.settings = dict(new, problem=self.task)
        self.optimizer.lr = new["lr"]
        self.model.activation = new["activation"]
        self.train_batch = compile(self._batch, fallback=True)  # (a replay: its trace's settings)

    def set_parameter(self, message: dict) -> None:
        """Type in one weight or bias (``settings.Parameter``: its layer, neuron, source
        and value), as the Playground's hover card lets one do."""
        p = Parameter.check(message)
        if p["layer"] >= len(self.model.layers):
            raise SettingsError(f"Layer (layer) must be below {len(self.model.layers)}")
        layer = self.model.layers[p["layer"]]
        if p["neuron"] >= layer.W.shape[1] or p["source"] >= layer.W.shape[0]:
            raise SettingsError(
                f"layer {p['layer']} has {layer.W.shape[0]} inputs and {layer.W.shape[1]} neurons"
            )
        if p["kind"] == "w":
            layer.W.data[p["source"], p["neuron"]] = p["value"]
        else:
            layer.b.data[p["neuron"]] = p["value"]

    def features(self, P: np.ndarray) -> np.ndarray:
        return playground.features(P, self.settings["features"])

    def data_loss(self, out, y):
        """The Playground's square error ½(out − y)², averaged (softmax cross-entropy for
        3 classes)."""
        return cross_entropy(out, y) if self.classes else playground.square_error(out, y)

    def loss(self, out, y):
        """What one update descends: the data loss plus the Playground's regularization,
        ``rate / n`` times Σ|w| (L1) or Σ½w² (L2) for a batch of n points."""
        s = self.settings
        return playground.objective(out, y, self.weights, s["reg"], s["rate"], self.data_loss)

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

    def walk(self, index: int) -> dict:
        """Training point ``index``'s backprop through the network as it is now
        (:func:`point_walk`)."""
        return point_walk(self, index)

    def step(self, epochs: int = 1) -> dict:
        """Train ``epochs`` epochs (mini-batch SGD, shuffled) and return the frame."""
        if self.diverged is None and self.epoch < MAX_EPOCHS:
            try:
                with np.errstate(all="ignore"):
                    for _ in range(min(epochs, MAX_EPOCHS - self.epoch)):
                        self._epoch()
                        self.epoch += 1
            except FloatingPointError:
                self.epoch += 1
                self.diverged = (
                    f"the network diverged in epoch {self.epoch} (the loss is not a number): "
                    "lower the learning rate, then Reset"
                )
        return self.frame()

    def _epoch(self) -> None:
        """One epoch as ``nn.fit`` trains it (the same shuffled batches and updates, bit
        for bit: ``test_trainer`` checks), without what fit measures that no frame shows
        (each batch's accuracy, a history): a third of the epoch's time."""
        seed = self.settings["seed"] * 7919 + self.epoch
        for xb, yb in batches(self.F_train, self.y_train, self.settings["batch"], seed=seed):
            self.train_batch(xb, yb)

    def _batch(self, xb: np.ndarray, yb: np.ndarray) -> Value:
        """One update on a batch, the step that ``train_batch`` compiles."""
        loss = self.loss(self.model(xb), yb)
        read(loss, _finite)  # (compiled: checked on every replay, before the update)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss

    def _score(self, logits: Value, y: np.ndarray) -> tuple[float, float | None]:
        """Loss and accuracy of the model's outputs (the Playground's loss)."""
        if self.classes:
            right = logits.data.argmax(axis=1) == y
            with no_grad():
                return float(cross_entropy(logits, y).data), float(np.mean(right))
        out = logits.data.ravel()
        loss = float(0.5 * np.mean((out - y) ** 2))
        if self.task != "classification":
            return loss, None
        return loss, float(np.mean(np.where(out >= 0, 1.0, -1.0) == y))

    def frame(self) -> dict:
        """What the page draws now: one forward pass over the training set (its loss,
        and backward for ∂loss/∂w), the rest under ``no_grad``."""
        model = self.model
        with np.errstate(all="ignore"):
            model.zero_grad()
            out = model(self.F_train)
            self.data_loss(out, self.y_train).backward()  # ∂loss/∂w, data loss only
            train_loss, train_acc = self._score(out, self.y_train)
            with no_grad():
                test_loss, test_acc = self._score(model(self.F_test), self.y_test)
                grid = model(self.boundary_features)
                if self.classes:  # each point: its class, and how sure (max probability)
                    p = grid.softmax(axis=1).data
                    classes = base64.b64encode(p.argmax(axis=1).astype(np.uint8).tobytes())
                    boundary = 2 * (p.max(axis=1) - 1 / self.classes) / (1 - 1 / self.classes) - 1
                else:
                    boundary = grid.data.ravel()
                heat = self._heatmaps()
            layers = [
                {
                    "weights": layer.W.data.tolist(),
                    "grads": layer.W.grad.tolist(),
                    "biases": layer.b.data.tolist(),
                    "bias_grads": layer.b.grad.tolist(),
                    "heat": heat[li + 1],
                }
                for li, layer in enumerate(model.layers)
            ]
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
            "boundary": _bytes(boundary)[0],
            "boundary_classes": classes.decode("ascii") if self.classes else None,
            "boundary_size": BOUNDARY,
            "heat_size": HEATMAP,
            "inputs": heat[0],
            "layers": layers,
            "gradient_sizes": gradient_sizes(layers),
            "diverged": self.diverged,
        }

    def _heatmaps(self) -> list[list[str]]:
        """Each feature's and each neuron's value over the plane, one list per layer;
        unbounded outputs (relu, linear, x²) are scaled by their largest size."""
        h = self.heat_features
        out = [self.heat_inputs]
        for layer, act in zip(self.model.layers, self.model.activations):
            h = activate(layer(h), act).data
            out.append(_bytes(_scaled(h)))
        return out


def gradient_sizes(layers: list[dict]) -> list[float]:
    """Each layer's mean |∂loss/∂w| (a frame's ``layers``, their ``grads``): the page's
    strip, on a log scale, shows vanishing gradients as they happen (a deep sigmoid
    net's first layer orders of magnitude below its last).

    >>> gradient_sizes([{"grads": [[0.5, -1.5]]}, {"grads": [[0.0], [-1e-3]]}])
    [1.0, 0.0005]
    """
    return [float(np.mean(np.abs(np.asarray(layer["grads"], dtype=float)))) for layer in layers]


def point_walk(trainer: Trainer, index: int) -> dict:
    """The backprop of training point ``index`` through the trainer's network as it is
    now, as the Network tab walks its sample (``lessons.network_walk``): forward, the
    loss of that point alone (the Playground's ½(out − y)², or −log softmax for three
    classes; no regularization), backward (line by line for a small network, else
    neuron by neuron) and the SGD update this point's gradient would make.

    >>> t = Trainer({"layers": [2]})
    >>> walk = point_walk(t, 0)
    >>> walk["type"], walk["scene"]["steps"][-1]["phase"], len(walk["network"]["layers"])
    ('playground.point', 'update', 2)
    """
    if type(index) is not int or not 0 <= index < len(trainer.y_train):
        raise SettingsError(
            f"the point must be a training point's number, from 0 to {len(trainer.y_train) - 1}"
        )
    model = trainer.model.scalarize()
    features = trainer.F_train[index]
    xs = [Value(float(v), label=input_name(k), requires_grad=False) for k, v in enumerate(features)]
    layers = [xs]
    for layer in model.layers:
        out = layer(layers[-1])
        layers.append(out if isinstance(out, list) else [out])
    outs, label = layers[-1], float(trainer.y_train[index])
    for k, o in enumerate(outs):
        o.label = output_name(k, len(outs))
    if trainer.classes:  # softmax cross-entropy: log Σ exp(out_k) − out_label
        exps = [o.exp() for o in outs]
        for k, e in enumerate(exps):
            e.label = f"exp{k + 1}"
        total = add_n(exps)
        total.label = "Σexp"
        log = total.log()
        log.label = "log Σexp"
        loss = log - outs[int(label)]
    else:  # the Playground's square error ½(out − y)²
        error = outs[0] - Value(label, label=target_name(0, 1), requires_grad=False)
        error.label = error_name(0, 1)
        square = error**2
        square.label = f"{error.label}²"
        loss = square * 0.5
    loss.label = "loss"
    per = "line" if len(model.parameters()) <= LINE_BY_LINE else "unit"
    with np.errstate(all="ignore"):
        walk = network_walk(model, layers, loss, trainer.settings["lr"], per)
    return {
        "type": "playground.point",
        "index": index,
        "point": [*trainer.X_train[index].round(4).tolist(), label],
        **walk,
        "output": [o.data for o in outs],
        "loss": loss.data,
    }


def _scaled(values: np.ndarray) -> np.ndarray:
    """Each column divided by its largest size when that is above 1 (and finite)."""
    top = np.max(np.abs(values), axis=0) if len(values) else np.zeros(values.shape[1:])
    return values / np.where((top > 1.0) & np.isfinite(top), top, 1.0)
