"""TensorFlow Playground's data sets and input features, in the Playground's own units.

The recipes follow the Playground's ``dataset.ts``: points live in the square
[-6, 6]², ``noise`` is its slider divided by 100 (0 to 0.5), classification labels are
-1/+1 (read by a tanh output) and regression targets lie in about [-1, 1]. So a teacher who
knows the web page gets the same pictures, and ``sin(x)`` is a useful feature.

>>> X, y = data("spiral", n=100, noise=0.1, seed=0)
>>> X.shape, sorted(set(y.tolist()))
((100, 2), [-1.0, 1.0])
>>> features(X, ["x", "y", "xy"]).shape
(100, 3)

Its loss and regularization are the Playground's own (``nn.ts``): the error of a point is
½(out − y)², the loss the mean over the points; L2 costs ½w² and L1 |w| per weight (never
a bias), added to each mini-batch update as ``w ← w − lr/n · (Σ ∂error/∂w + rate · R′(w))``
for a batch of n points, which is one SGD step on :func:`objective`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd import Value, add_n

from .datasets import make_spiral
from .losses import mse_loss
from .random import get_rng

RADIUS = 6.0  # the Playground draws and samples its plane over [-6, 6]²


def _circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A disc of radius 2.5 (+1) inside a ring from 3.5 to 5 (-1); noise flips labels
    near the edge, because the label is read at the jittered position."""
    half = n // 2
    r = np.concatenate([rng.uniform(0, 2.5, half), rng.uniform(3.5, 5, n - half)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    jittered = X + rng.uniform(-5, 5, (n, 2)) * noise
    y = np.where(np.hypot(jittered[:, 0], jittered[:, 1]) < 2.5, 1.0, -1.0)
    return X, y


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in the four quadrants, kept 0.3 off the axes; +1 where x*y >= 0."""
    X = rng.uniform(-5, 5, (n, 2))
    X = X + np.where(X > 0, 0.3, -0.3)
    jittered = X + rng.uniform(-5, 5, (n, 2)) * noise
    y = np.where(jittered[:, 0] * jittered[:, 1] >= 0, 1.0, -1.0)
    return X, y


def _gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs at (2, 2) (+1) and (-2, -2) (-1); noise widens them (variance
    0.5 at noise 0, 4 at noise 0.5)."""
    half = n // 2
    std = np.sqrt(0.5 + 7.0 * noise)
    X = np.vstack([rng.normal(2.0, std, (half, 2)), rng.normal(-2.0, std, (n - half, 2))])
    y = np.concatenate([np.ones(half), -np.ones(n - half)])
    return X, y


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two arms of 1.75 turns out to radius 5, each point jittered by ±noise."""
    X, y = make_spiral(n, noise / 5.0, seed=rng)  # the unit spiral, scaled by 5
    return 5.0 * X, np.where(y == 0, 1.0, -1.0)


def _plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Regression: the tilted plane (x + y) / 10, read at a jittered position."""
    X = rng.uniform(-RADIUS, RADIUS, (n, 2))
    jittered = X + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    return X, jittered.sum(axis=1) / 10.0


_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)


def _multi_gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Regression: six cones of height ±1 and radius 2; each point takes the tallest."""
    X = rng.uniform(-RADIUS, RADIUS, (n, 2))
    jittered = X + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    dist = np.hypot(jittered[:, None, 0] - _BUMPS[:, 0], jittered[:, None, 1] - _BUMPS[:, 1])
    heights = _BUMPS[:, 2] * np.clip(1.0 - dist / 2.0, 0.0, 1.0)  # (n, 6)
    tallest = np.abs(heights).argmax(axis=1)
    return X, heights[np.arange(n), tallest]


CLASSIFICATION: dict[str, Callable] = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
}
REGRESSION: dict[str, Callable] = {"plane": _plane, "multi-gauss": _multi_gauss}
DATASETS = (*CLASSIFICATION, *REGRESSION)
POINTS = {"classification": 500, "regression": 1200}  # the Playground's sample counts


def task(name: str) -> str:
    """``"classification"`` or ``"regression"`` for a data set name."""
    if name in CLASSIFICATION:
        return "classification"
    if name in REGRESSION:
        return "regression"
    raise ValueError(f"unknown data set {name!r}; valid ones are {', '.join(DATASETS)}")


def data(
    name: str, n: int | None = None, noise: float = 0.0, seed: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the Playground data set ``name``: ``X`` (n, 2) and ``y`` (n,),
    -1/+1 labels for classification, numbers in about [-1, 1] for regression. ``n`` defaults
    to the Playground's 500 (classification) or 1200 (regression)."""
    kind = task(name)
    n = POINTS[kind] if n is None else int(n)
    if n < 2:
        raise ValueError(f"a Playground data set needs n >= 2 points, got {n}")
    if not 0 <= noise <= 1:
        raise ValueError(
            f"noise must be between 0 and 1 (the Playground's 0-50% is 0-0.5), got {noise}"
        )
    recipe = CLASSIFICATION.get(name) or REGRESSION[name]
    return recipe(n, float(noise), get_rng(seed))


FEATURES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x": lambda x, y: x,
    "y": lambda x, y: y,
    "xy": lambda x, y: x * y,
    "x2": lambda x, y: x * x,
    "y2": lambda x, y: y * y,
    "sinx": lambda x, y: np.sin(x),
    "siny": lambda x, y: np.sin(y),
}
FEATURE_LABELS = {
    "x": "x",
    "y": "y",
    "xy": "x·y",
    "x2": "x²",
    "y2": "y²",
    "sinx": "sin(x)",
    "siny": "sin(y)",
}


def check_features(names: Sequence[str]) -> list[str]:
    """``names`` as a list, if each is a known feature and none repeats."""
    names = list(names)
    for name in names:
        if name not in FEATURES:
            raise ValueError(f"unknown feature {name!r}; valid ones are {', '.join(FEATURES)}")
    if not names:
        raise ValueError("choose at least one feature")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"feature {repeated[0]!r} is given twice")
    return names


def features(X: Any, names: Sequence[str]) -> np.ndarray:
    """The network's inputs: one column per feature name, computed from points (N, 2)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"features expects points of shape (N, 2), got {X.shape}")
    return np.column_stack([FEATURES[n](X[:, 0], X[:, 1]) for n in check_features(names)])


# ------------------------------------------------------------------ the Playground's loss
REGULARIZATIONS = ("none", "L1", "L2")


def square_error(out: Any, y: Any) -> Value:
    """The Playground's loss: ½(out − y)² averaged over the points (its ``Errors.SQUARE``).

    >>> square_error(Value([[1.0], [0.0]]), [0.0, 0.0]).data
    0.25
    """
    return 0.5 * mse_loss(out, y)


def penalty(weights: Sequence[Value], kind: str) -> Value | None:
    """The Playground's regularization of the weight matrices: Σ|w| for ``"L1"``, Σ½w²
    for ``"L2"``, None for ``"none"`` (biases are never regularized)."""
    if kind not in REGULARIZATIONS:
        raise ValueError(f"unknown regularization {kind!r}; valid ones are {REGULARIZATIONS}")
    if kind == "L1":
        return add_n([W.abs().sum() for W in weights])
    if kind == "L2":
        return add_n([0.5 * (W * W).sum() for W in weights])
    return None


def objective(
    out: Any,
    y: Any,
    weights: Sequence[Value],
    kind: str,
    rate: float,
    error: Callable[[Any, Any], Value] | None = None,
) -> Value:
    """The loss one Playground update descends on a batch of n points: its mean square
    error (or ``error``) plus ``rate / n`` times the penalty. The Playground sums each weight's error
    derivatives over the batch, adds ``rate · R′(w)`` once and divides by n, so one SGD
    step on this is its update, to the last bit of arithmetic order.

    >>> W = Value([[1.0], [-2.0]])
    >>> objective(Value([[1.0], [0.0]]), [0.0, 0.0], [W], "L2", 0.1).data  # 0.25 + 0.1/2 * 2.5
    0.375
    """
    loss = (error or square_error)(out, y)
    extra = penalty(weights, kind)
    if extra is None or not rate:
        return loss
    return loss + (rate / len(np.asarray(y))) * extra
