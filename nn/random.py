"""Reproducible randomness: one default generator, reseeded by ``manual_seed``."""

from __future__ import annotations

import numpy as np

_default = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the generator every module, dataset and Dropout uses when given no ``rng``.

    >>> from nn import manual_seed, MLP
    >>> manual_seed(0); a = MLP(2, [3, 1]).state_dict()
    >>> manual_seed(0); b = MLP(2, [3, 1]).state_dict()
    >>> all((a[k] == b[k]).all() for k in a)
    True
    """
    global _default
    _default = np.random.default_rng(seed)


def get_rng(rng: np.random.Generator | int | None = None) -> np.random.Generator:
    """``rng`` itself, a new generator seeded with it (an int), or the default one."""
    if rng is None:
        return _default
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng must be None, an int seed or a numpy Generator, got {type(rng).__name__}")
