"""``quiet()``: numpy's floating-point warnings off inside a block, cheaply.

The engine promises what torch does: an overflow or a NaN is an answer that propagates,
never a ``RuntimeWarning`` (tests/test_edge_values.py, tests/test_hostile.py). Every
``backward()``, optimizer step and loss needs such a block, several per training step.

``with quiet():`` means exactly ``with np.errstate(all="ignore"):`` (numpy's other
settings, such as ``setbufsize`` or ``seterrcall``, are kept), at a fraction of its cost:
``np.errstate`` builds numpy's error state object anew on every entry (~10,000
instructions); ``quiet`` builds it once per outer state and reuses it, and inside a block
that is already quiet it does nothing at all. With ``np.errstate`` the tiny MLP step (six
blocks: backward, the optimizer, the loss and its vjp, two tanh) takes 2.8% more
instructions (callgrind, benchmarks/workloads.py). It relies on two names of numpy's private
``_core.umath``, which are exactly what ``np.errstate`` itself calls; without them it is
``np.errstate(all="ignore")``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

try:  # numpy >= 2.0: np.errstate is a context variable holding an "extobj"
    from numpy._core.umath import _extobj_contextvar, _make_extobj

    # Private names can change meaning, not only disappear: use them only if they still
    # build a state that silences numpy, else take the public, slower way.
    _token = _extobj_contextvar.set(_make_extobj(all="ignore"))
    try:
        if np.geterr() != {
            "divide": "ignore",
            "over": "ignore",
            "under": "ignore",
            "invalid": "ignore",
        }:
            raise ValueError("numpy's private error state changed")
    finally:
        _extobj_contextvar.reset(_token)
except Exception:  # pragma: no cover - another numpy: the public, slower way
    _extobj_contextvar = None  # type: ignore[misc, assignment]

# The last outer error state seen, and the same state with every warning ignored. One
# tuple, replaced whole, so two threads never pair one's state with the other's twin.
_twin: tuple[Any, Any] = (None, None)


class quiet:  # noqa: N801 (a context manager, named as np.errstate)
    """``with quiet():`` is ``with np.errstate(all="ignore"):``, cheaper (see the module).

    >>> import numpy as np
    >>> with quiet():
    ...     float(np.float64(1.0) / 0.0)
    inf
    """

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        global _twin
        current = _extobj_contextvar.get()
        state, silent = _twin
        if current is silent:  # nested in a quiet block: already quiet
            self._token = None
            return
        if current is not state:
            silent = _make_extobj(all="ignore")  # from the current state: keeps bufsize, call
            _twin = (current, silent)
        self._token = _extobj_contextvar.set(silent)

    def __exit__(self, *exc_info: Any) -> None:
        if self._token is not None:
            _extobj_contextvar.reset(self._token)


def quietly(fn: Callable, *args: Any) -> Any:
    """``fn(*args)`` inside ``quiet()``: the same, for one call, at about half the cost
    of the block (no object made, no method called: an op's forward takes one each).

    >>> import numpy as np
    >>> float(quietly(np.subtract, np.float64("inf"), np.float64("inf")))
    nan
    """
    global _twin
    current = _extobj_contextvar.get()
    state, silent = _twin
    if current is silent:  # already quiet
        return fn(*args)
    if current is not state:
        silent = _make_extobj(all="ignore")
        _twin = (current, silent)
    token = _extobj_contextvar.set(silent)
    try:
        return fn(*args)
    finally:
        _extobj_contextvar.reset(token)


if _extobj_contextvar is None:  # pragma: no cover

    def quiet() -> Any:  # type: ignore[no-redef]  # noqa: F811
        return np.errstate(all="ignore")

    def quietly(fn: Callable, *args: Any) -> Any:  # noqa: F811
        with np.errstate(all="ignore"):
            return fn(*args)
