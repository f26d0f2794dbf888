"""Check analytic gradients against central finite differences."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .backprop import grad
from .value import Value


def _as_loss(out: Value, weights: np.ndarray | None) -> float:
    """A scalar from ``out``: itself, or its dot product with fixed random weights."""
    if weights is None:
        return out.item()
    return float(np.sum(np.asarray(out._data) * weights))


def gradcheck(
    fn: Callable[..., Value],
    *inputs: Value,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare ``grad`` of ``fn(*inputs)`` with central finite differences, element by element.

    A many-element output is reduced to a scalar with fixed random weights first, which
    checks the whole vector-Jacobian product. Returns True, or raises ``AssertionError``
    naming the input, the element and both numbers. ``fn`` may call ``grad(...,
    create_graph=True)`` itself: gradcheck then checks a second derivative.

    >>> x = Value([1.0, 2.0])
    >>> gradcheck(lambda v: (v * v).sum(), x)
    True
    """
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradcheck: input {i} is a {type(x).__name__}, not a Value")
    out = fn(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
    weights = None
    if out.size != 1:
        weights = np.random.default_rng(0).standard_normal(out.shape)
    analytic = grad(out, list(inputs), grad_output=weights)

    for i, (x, g) in enumerate(zip(inputs, analytic)):
        name = f"input {i}" + (f" ({x.label!r})" if x.label else "")
        g = np.asarray(g, dtype=np.float64)
        original = x._data
        scalar = type(original) is float
        base = np.array(original, dtype=np.float64, copy=True)
        for index in np.ndindex(base.shape):
            numeric = []
            try:  # x is moved without counting as a write, so it must always move back
                for step in (eps, -eps):
                    moved = base.copy()
                    moved[index] += step
                    x._data = float(moved) if scalar else moved.astype(original.dtype)
                    # With gradients on: fn may differentiate inside (grad of grad).
                    numeric.append(_as_loss(fn(*inputs), weights))
            finally:
                x._data = original
            estimate = (numeric[0] - numeric[1]) / (2 * eps)
            exact = float(g[index])
            if not np.isclose(exact, estimate, atol=atol, rtol=rtol, equal_nan=True):
                where = f"element {index}" if index else "its only element"
                raise AssertionError(
                    f"gradcheck: {name}, {where}: analytic gradient {exact!r} but "
                    f"finite differences give {estimate!r}"
                )
    return True
