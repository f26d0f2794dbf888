"""Data augmentation: random changes to a training batch, for ``fit(transform=...)``.

Each function returns a transform ``t(batch) -> batch`` (a new array; the input is never
changed) that draws from its own generator, so a seeded run is reproducible. ``fit``
applies the transform to every training batch and never to validation data.

Points ``(N, D)``: ``jitter``. Images ``(N, H, W)`` or ``(N, C, H, W)``: ``shift``,
``flip``, ``rotate``, ``noise``. ``compose`` chains transforms.

>>> t = compose(shift(1, rng=0), noise(0.1, rng=0))
>>> t(np.zeros((4, 1, 8, 8))).shape
(4, 1, 8, 8)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .random import get_rng

Transform = Callable[[np.ndarray], np.ndarray]


def compose(*transforms: Transform) -> Transform:
    """The transforms applied one after the other.

    >>> compose()(np.ones(2))
    array([1., 1.])
    """

    def apply(batch: np.ndarray) -> np.ndarray:
        for t in transforms:
            batch = t(batch)
        return batch

    return apply


def jitter(std: float, rng: Any = None) -> Transform:
    """Points moved by Gaussian noise of standard deviation ``std`` in every coordinate.

    >>> jitter(0.0)(np.ones((2, 2)))
    array([[1., 1.],
           [1., 1.]])
    """
    gen = get_rng(rng)
    return lambda batch: batch + gen.normal(0.0, std, np.shape(batch)).astype(_dtype(batch))


def noise(std: float, rng: Any = None) -> Transform:
    """Gaussian noise of standard deviation ``std`` added to every pixel of an image.

    >>> noise(0.0)(np.zeros((1, 2, 2))).sum()
    np.float64(0.0)
    """
    return jitter(std, rng)


def _images(batch: Any, name: str) -> np.ndarray:
    x = np.asarray(batch)
    if x.ndim not in (3, 4):
        raise ValueError(f"augment.{name}: needs images (N, H, W) or (N, C, H, W), got {x.shape}")
    return x


def _dtype(batch: Any) -> np.dtype:
    dtype = np.asarray(batch).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def shift(max_pixels: int = 1, rng: Any = None) -> Transform:
    """Each image moved by a random whole number of pixels, up to ``max_pixels`` in each
    direction; uncovered pixels become 0.

    >>> shift(0)(np.arange(4.0).reshape(1, 2, 2)).tolist()
    [[[0.0, 1.0], [2.0, 3.0]]]
    """
    gen = get_rng(rng)
    m = int(max_pixels)

    def apply(batch: np.ndarray) -> np.ndarray:
        x = _images(batch, "shift")
        h, w = x.shape[-2:]
        padded = np.zeros(x.shape[:-2] + (h + 2 * m, w + 2 * m), dtype=_dtype(x))
        padded[..., m : m + h, m : m + w] = x
        dy, dx = gen.integers(0, 2 * m + 1, (2, len(x)))
        out = np.empty(x.shape, dtype=padded.dtype)
        for i in range(len(x)):  # a crop per image: cheap next to a training step
            out[i] = padded[i, ..., dy[i] : dy[i] + h, dx[i] : dx[i] + w]
        return out

    return apply


def flip(p: float = 0.5, rng: Any = None) -> Transform:
    """Each image mirrored left-right with probability ``p`` (not for digits or text).

    >>> flip(1.0)(np.array([[[1.0, 2.0]]])).tolist()
    [[[2.0, 1.0]]]
    """
    gen = get_rng(rng)

    def apply(batch: np.ndarray) -> np.ndarray:
        x = _images(batch, "flip")
        chosen = gen.random(len(x)) < p
        out = np.array(x, dtype=_dtype(x))
        out[chosen] = out[chosen][..., ::-1]
        return out

    return apply


def rotate(max_degrees: float = 10.0, rng: Any = None) -> Transform:
    """Each image turned about its centre by a random angle in ±``max_degrees``
    (bilinear interpolation, 0 outside the image).

    >>> np.allclose(rotate(0.0)(np.eye(3)[None]), np.eye(3)[None])
    True
    """
    gen = get_rng(rng)

    def apply(batch: np.ndarray) -> np.ndarray:
        x = _images(batch, "rotate")
        n, (h, w) = len(x), x.shape[-2:]
        angles = np.radians(gen.uniform(-max_degrees, max_degrees, n))
        cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        cy, cx = (h - 1) / 2, (w - 1) / 2
        # where each output pixel comes from: the inverse rotation of its coordinates
        sy = cos * (yy - cy) + sin * (xx - cx) + cy
        sx = -sin * (yy - cy) + cos * (xx - cx) + cx
        return _bilinear(x.astype(_dtype(x)), sy, sx)

    return apply


def _bilinear(x: np.ndarray, sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
    """Sample images (N, [C,] H, W) at per-image coordinates (N, H, W); 0 outside."""
    h, w = x.shape[-2:]
    y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
    fy, fx = sy - y0, sx - x0
    out = np.zeros(x.shape, dtype=x.dtype)
    batch = np.arange(len(x))[:, None, None]
    for dy, dx, weight in (
        (0, 0, (1 - fy) * (1 - fx)),
        (0, 1, (1 - fy) * fx),
        (1, 0, fy * (1 - fx)),
        (1, 1, fy * fx),
    ):
        yi, xi = y0 + dy, x0 + dx
        inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        yc, xc = np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)
        wgt = (weight * inside).astype(x.dtype)
        if x.ndim == 3:
            out += wgt * x[batch, yc, xc]
        else:
            out += wgt[:, None] * np.moveaxis(x, 1, -1)[batch, yc, xc].transpose(0, 3, 1, 2)
    return out
