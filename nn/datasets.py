"""Toy 2-D classification sets (scikit-learn's classics and a spiral), splits, batches,
and a list of first names for language models.

Every generator takes ``n`` points, ``noise`` and ``seed`` and returns ``X`` (n, 2)
float64, about unit scale, and ``y`` (n,) integer labels 0/1. TensorFlow Playground's
six data sets, in its own units, are in :mod:`nn.playground`. :func:`names` reads the US
census first names that the ``names`` package ships (the ``data`` extra).
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .random import get_rng


def _rng(seed: Any) -> np.random.Generator:
    return get_rng(seed)


def _check(n: int, noise: float) -> None:
    if int(n) < 1:
        raise ValueError(f"a data set needs n >= 1 points, got {n}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")


def make_moons(n: int = 100, noise: float = 0.1, seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``)."""
    _check(n, noise)
    rng = _rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [
            np.column_stack([np.cos(t_out), np.sin(t_out)]),
            np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]),
        ]
    )
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    X = X + rng.normal(0.0, noise, X.shape)
    order = rng.permutation(n)
    return X[order], y[order]


def make_circles(
    n: int = 100, noise: float = 0.05, seed: Any = None, factor: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (label 1) inside a large one (label 0)."""
    _check(n, noise)
    rng = _rng(seed)
    n_out = n // 2
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.where(np.arange(n) < n_out, 1.0, factor)
    X = np.column_stack([r * np.cos(t), r * np.sin(t)]) + rng.normal(0.0, noise, (n, 2))
    y = (np.arange(n) >= n_out).astype(np.int64)
    order = rng.permutation(n)
    return X[order], y[order]


def make_spiral(
    n: int = 200, noise: float = 0.1, seed: Any = None, turns: float = 1.75
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals (TensorFlow Playground's hardest set), radius up to 1."""
    _check(n, noise)
    rng = _rng(seed)
    half = n // 2
    parts, labels = [], []
    for label, count, delta in ((0, half, 0.0), (1, n - half, np.pi)):
        r = np.linspace(0.05, 1.0, count)
        t = turns * 2 * np.pi * r + delta
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        labels.append(np.full(count, label, dtype=np.int64))
    X = np.vstack(parts) + rng.uniform(-noise, noise, (n, 2))  # the Playground's noise
    y = np.concatenate(labels)
    order = rng.permutation(n)
    return X[order], y[order]


def make_xor(n: int = 200, noise: float = 0.1, seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-1, 1]^2 labelled 1 where x*y > 0 (the four-quadrant XOR)."""
    _check(n, noise)
    rng = _rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    X = X + np.sign(X) * 0.05  # a small gap around the axes, as in the Playground
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + rng.normal(0.0, noise * 0.5, (n, 2)), y


def make_gaussians(
    n: int = 200, noise: float = 0.1, seed: Any = None, distance: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs, centred at (+d/2, +d/2) (label 1) and (-d/2, -d/2) (label 0)."""
    _check(n, noise)
    rng = _rng(seed)
    half = n // 2
    spread = 0.15 + noise
    centre = np.full(2, distance / 2)
    X = np.vstack(
        [rng.normal(-centre, spread, (half, 2)), rng.normal(centre, spread, (n - half, 2))]
    )
    y = np.concatenate([np.zeros(half, dtype=np.int64), np.ones(n - half, dtype=np.int64)])
    order = rng.permutation(n)
    return X[order], y[order]


def train_test_split(X: Any, y: Any, test_ratio: float = 0.2, seed: Any = None) -> tuple:
    """Shuffle and split: returns ``X_train, X_test, y_train, y_test``."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} rows but y has {len(y)}")
    if not 0 < test_ratio < 1:
        raise ValueError(f"train_test_split: test_ratio must be between 0 and 1, got {test_ratio}")
    order = _rng(seed).permutation(len(X))
    n_test = max(1, int(round(len(X) * test_ratio)))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def batches(
    X: Any, y: Any, batch_size: int, shuffle: bool = True, seed: Any = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X_batch, y_batch)`` covering the data once (the last batch may be smaller)."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"batches: X has {len(X)} rows but y has {len(y)}")
    if int(batch_size) < 1:
        raise ValueError(f"batches: batch_size must be >= 1, got {batch_size}")
    order = _rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), int(batch_size)):
        idx = order[start : start + int(batch_size)]
        yield X[idx], y[idx]


NAME_FILES = ("dist.female.first", "dist.male.first")  # 4,275 + 1,219 census names
MAX_NAMES_FILE = 1 << 20  # bytes; each file is under 150 KB
_CENSUS_LINE = re.compile(r"([A-Z]{1,32}) +\d+\.\d+ +\d+\.\d+ +\d+")
NAMES_HINT = 'pip install -e ".[data]" (or: pip install names==0.3.0)'


def names(folder: Any = None) -> list[str]:
    """The US census first names shipped by the ``names`` package (or in ``folder``,
    any path or ``importlib.resources`` folder holding its two files), lower-cased, each
    once, in file order: female then male names, most frequent first (5,163 names).
    Nothing is downloaded. Every file is read to at most 1 MB and every line must be
    ``NAME freq cumulative rank``: anything else is one ``ValueError`` naming the file
    and the line.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for file in NAME_FILES:
    ...     _ = (folder / file).write_text("MARY  2.629  2.629  1\\nANNA  0.5  3.1  2\\n")
    >>> names(folder)
    ['mary', 'anna']
    """
    if folder is None:
        try:
            folder = importlib.resources.files("names")
        except ModuleNotFoundError:
            raise ValueError(f"the census names are not installed: {NAMES_HINT}") from None
    elif isinstance(folder, str):
        folder = Path(folder)
    found: dict[str, None] = {}
    for file_name in NAME_FILES:
        try:
            with (folder / file_name).open("rb") as f:
                raw = f.read(MAX_NAMES_FILE + 1)
        except OSError:
            raise ValueError(f"no names file {file_name} in {folder}: {NAMES_HINT}") from None
        if len(raw) > MAX_NAMES_FILE:
            raise ValueError(
                f"{file_name} is larger than {MAX_NAMES_FILE:,} bytes: not a names file"
            )
        for number, line in enumerate(raw.split(b"\n"), 1):
            text = line.decode("ascii", "replace").strip()
            if not text:
                continue
            match = _CENSUS_LINE.fullmatch(text)
            if match is None:
                raise ValueError(
                    f"{file_name} line {number}: expected 'NAME freq cumulative rank', "
                    f"got {text[:40]!r}"
                )
            found.setdefault(match.group(1).lower(), None)
    if not found:
        raise ValueError(f"the names files in {folder} hold no names")
    return list(found)
