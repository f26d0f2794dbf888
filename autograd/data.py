"""What a Value holds: user input turned into a float (0-d) or a float ndarray."""

from __future__ import annotations

from typing import Any

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def as_data(x: Any, dtype: Any = None, copy: bool = True) -> float | np.ndarray:
    """Convert user input to what a Value holds: a float (0-d) or a float ndarray.

    Integers and booleans become float64; float32 arrays stay float32 unless ``dtype``
    says otherwise. Anything that is not numbers is a ``TypeError``.
    """
    kind = type(x)
    if kind is float or kind is bool:
        return float(x)
    if kind is int:
        try:
            return float(x)
        except OverflowError:
            raise _too_large(x) from None
    # (an array is never a Value: it skips two failing hasattr, each a caught exception)
    if kind is not np.ndarray and hasattr(x, "parents") and hasattr(x, "data"):
        raise TypeError("Value(...) got a Value; use v.detach() to copy one without its graph")
    if isinstance(x, (np.ndarray, np.generic, list, tuple)):
        try:
            arr = np.asarray(x)
        except ValueError as err:  # ragged nested lists
            raise TypeError(f"Value(...) needs a rectangular list of numbers: {err}") from None
        if arr.dtype == object and all(type(v) is int for v in arr.flat):
            try:  # integers beyond int64: floats, where they fit
                arr = arr.astype(np.float64)
            except OverflowError:
                raise _too_large(max(arr.flat, key=abs)) from None
        if arr.dtype == object:
            raise TypeError(
                "Value(...) needs numbers, got a list holding other objects "
                "(to combine Values into a tensor, use autograd.stack)"
            )
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Value(...) needs real numbers, got an array of dtype {arr.dtype}")
        if dtype is None:
            target = arr.dtype if arr.dtype in FLOAT_DTYPES else np.dtype(np.float64)
        else:
            target = np.dtype(dtype)
            if target not in FLOAT_DTYPES:
                raise ValueError(f"Value dtype must be float32 or float64, got {target}")
        if arr.ndim == 0:
            return float(arr)
        return np.array(arr, dtype=target, copy=True) if copy else arr.astype(target, copy=False)
    raise TypeError(
        f"Value(...) takes a number, a nested list of numbers or a numpy array, got {kind.__name__}"
    )


def _too_large(n: int) -> ValueError:
    # (its bits, not its digits: printing a huge int is itself refused past 4,300 digits)
    return ValueError(
        f"Value(...): an integer of {n.bit_length()} bits is too large for a float "
        "(at most about 1.8e308)"
    )
