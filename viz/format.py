"""How a number reads in every drawing, page and table: 4 significant digits, ``-0`` as
``0``, infinities as ``∞``, and never a whole number for one that is not whole.

>>> fmt(0.0009109), fmt(-0.0), fmt(float("-inf")), fmt(1 / (1 + 2.718281828459045 ** -17.4))
('0.0009109', '0', '-∞', '0.99999997')
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def fmt(x: float, digits: int = 4) -> str:
    """A number in ``digits`` significant digits (``-3``, ``0.0009109``, ``1.235e+04``).
    ``-0`` reads ``0`` and ±inf ``∞`` / ``-∞``; a number that would round to a whole
    number it is not gets as many digits as it takes to show it is not (a saturated
    sigmoid is ``0.99999997``, never ``1``).

    >>> fmt(-3.0), fmt(12345.0), fmt(2.00004), fmt(float("nan")), fmt(0.96, 1)
    ('-3', '1.234e+04', '2.00004', 'nan', '0.96')
    >>> fmt(1234.5), fmt(-0.99999), fmt(1e-30)
    ('1234.5', '-0.99999', '1e-30')
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"  # and -0
    text = f"{x:.{digits}g}"
    if float(text) != x and text.lstrip("-").isdigit():  # reads as a whole number: 1, 3
        for more in range(digits + 1, 18):
            text = f"{x:.{more}g}"
            if not float(text).is_integer():
                break
    return text


def summary(a: Any) -> str:
    """A float, or an array in brief: every number when there are few, else statistics.

    >>> summary(2.0), summary(np.array([1.0, -0.0])), summary(np.arange(6.0))
    ('2', '[1, 0]', 'mean 2.5, range [0, 5]')
    """
    if type(a) is float or np.ndim(a) == 0:
        return fmt(float(a))
    a = np.asarray(a)
    if a.size <= 4:
        return "[" + ", ".join(fmt(float(v)) for v in a.ravel()) + "]"
    return f"mean {fmt(float(a.mean()))}, range [{fmt(float(a.min()))}, {fmt(float(a.max()))}]"
