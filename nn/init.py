"""Initial weights by name. ``fan_in`` is the number of inputs feeding one output unit
(``nin`` for a dense layer, ``C/groups · kh · kw`` for a convolution), ``fan_out`` the
number of outputs one input feeds (``nout``, ``O/groups · kh · kw``).

==================  ==========================================================
name                distribution
==================  ==========================================================
``gaussian``        N(0, gain / fan_in), gain 2 before the relu family, else 1
                    (He before a relu, LeCun otherwise): the default
``xavier_normal``   N(0, 2 / (fan_in + fan_out))      (Glorot & Bengio, 2010)
``xavier_uniform``  U(-a, a), a = sqrt(6 / (fan_in + fan_out))
``he_normal``       N(0, 2 / fan_in)                  (He et al., 2015)
``he_uniform``      U(-a, a), a = sqrt(6 / fan_in)
==================  ==========================================================

``glorot_*`` and ``kaiming_*`` are the same as ``xavier_*`` and ``he_*``.

>>> w = initial_weights((400, 300), 400, 300, "xavier_uniform", rng=0)
>>> bool(abs(w).max() <= (6 / 700) ** 0.5)
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .activations import REGISTRY, check_activation
from .random import get_rng

INITS = ("gaussian", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform")
_ALIASES = {
    "glorot_normal": "xavier_normal",
    "glorot_uniform": "xavier_uniform",
    "kaiming_normal": "he_normal",
    "kaiming_uniform": "he_uniform",
}


def check_init(name: str) -> str:
    """The canonical name of an initialization, or a ValueError listing the valid ones."""
    name = _ALIASES.get(name, name)
    if name not in INITS:
        valid = ", ".join(INITS + tuple(_ALIASES))
        raise ValueError(f"unknown initialization {name!r}; valid ones are {valid}")
    return name


def init_scale(nin: int, activation: str) -> float:
    """Standard deviation of the default (``gaussian``) weights: sqrt(gain / nin), the
    gain of the activation that follows (2 for the relu family: He; else 1: LeCun).

    >>> init_scale(2, "relu"), init_scale(4, "tanh")
    (1.0, 0.5)
    """
    return math.sqrt(REGISTRY[check_activation(activation)].gain / nin)


def initial_weights(
    shape: tuple,
    fan_in: int,
    fan_out: int,
    init: str = "gaussian",
    activation: str = "linear",
    rng: Any = None,
) -> np.ndarray:
    """Weights of ``shape`` drawn by the initialization called ``init`` (see the table).

    >>> initial_weights((3, 2), 3, 2, "he_normal", rng=0).shape
    (3, 2)
    """
    gen = get_rng(rng)
    init = check_init(init)
    if init == "gaussian":
        return gen.normal(0.0, init_scale(fan_in, activation), shape)
    if init == "xavier_normal":
        return gen.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), shape)
    if init == "he_normal":
        return gen.normal(0.0, math.sqrt(2.0 / fan_in), shape)
    bound = math.sqrt(6.0 / ((fan_in + fan_out) if init == "xavier_uniform" else fan_in))
    return gen.uniform(-bound, bound, shape)
