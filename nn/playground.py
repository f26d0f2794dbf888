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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .datasets import make_spiral
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
# Upper bounds on what a setting may ask for, checked before any work starts: the
# Playground itself stops at 6 hidden layers of 8 neurons; these leave room, and keep
# one request from taking gigabytes or hours.
LIMITS = {
    "points": 20_000,
    "hidden_layers": 8,
    "neurons": 64,
    "epochs": 100_000,
    "batch_size": 20_000,
    "frames": 200,
    "steps": 2_000_000,  # optimizer steps in one run (epochs x batches per epoch)
    "work": 10**10,  # epochs x training points x weights: about a minute of numpy
}


def check_work(
    points: int, test_ratio: float, epochs: int, batch_size: int, sizes: Sequence[int]
) -> None:
    """Refuse a run whose settings are each in bounds but together too much work
    (20,000 points in batches of 1 for 100,000 epochs is weeks), or that leaves no
    point to train or test on.

    >>> check_work(500, 0.5, 300, 10, [7, 8, 8, 1])
    """
    n_test = max(1, int(round(points * test_ratio)))
    n_train = points - n_test
    if n_train < 1:
        raise ValueError(
            f"{points} points with test ratio {test_ratio:g} leave none to train on; "
            "use more points or a smaller ratio"
        )
    steps = epochs * -(-n_train // min(batch_size, n_train))
    weights = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    if steps > LIMITS["steps"]:
        raise ValueError(
            f"{epochs:,} epochs of {n_train:,} points in batches of {batch_size} are "
            f"{steps:,} steps, more than {LIMITS['steps']:,}; use fewer epochs or larger batches"
        )
    if epochs * n_train * weights > LIMITS["work"]:
        raise ValueError(
            f"{epochs:,} epochs x {n_train:,} points x {weights:,} weights is more than "
            f"{LIMITS['work']:,}; use fewer epochs, points or neurons"
        )


def check_limit(name: str, value: int) -> int:
    """``value`` if it is within ``LIMITS[name]``, else a ValueError saying the bound.

    >>> check_limit("epochs", 300)
    300
    """
    if value > LIMITS[name]:
        raise ValueError(f"{name} must be at most {LIMITS[name]:,}, got {value:,}")
    return value


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
    n = POINTS[kind] if n is None else check_limit("points", int(n))
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
