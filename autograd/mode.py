"""Switches that change how operations are recorded: ``no_grad`` and ``detect_anomaly``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class _Flags:
    """Module-wide switches, read by every operation.

    ``plain`` is True when graphs are recorded and nothing is checked: the scalar hot
    path reads this one flag and leaves every other case to the general path.
    """

    grad_enabled = True
    detect_anomaly = False
    plain = True

    def refresh(self) -> None:
        self.plain = self.grad_enabled and not self.detect_anomaly


flags = _Flags()


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block operations record no graph: results have no parents.

    >>> from autograd import Value, no_grad
    >>> w = Value(2.0)
    >>> with no_grad():
    ...     y = w * 3
    >>> y.parents
    ()
    """
    before = flags.grad_enabled
    flags.grad_enabled = False
    flags.refresh()
    try:
        yield
    finally:
        flags.grad_enabled = before
        flags.refresh()


def is_grad_enabled() -> bool:
    """True unless inside a ``no_grad()`` block."""
    return flags.grad_enabled


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Inside this block, an operation whose result holds a NaN or an infinity raises
    ``FloatingPointError`` naming the op and its inputs' shapes (slower; for debugging).

    >>> from autograd import Value, detect_anomaly
    >>> with detect_anomaly():
    ...     Value(-1.0).log()
    Traceback (most recent call last):
    FloatingPointError: log produced a non-finite value (nan) from inputs of shapes [()]
    """
    before = flags.detect_anomaly
    flags.detect_anomaly = True
    flags.refresh()
    try:
        yield
    finally:
        flags.detect_anomaly = before
        flags.refresh()
