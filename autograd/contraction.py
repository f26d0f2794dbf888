"""``einsum``: Einstein summation over any number of Values, one node (the op entry and
its gradient are ``ops/einsum.py``); this module reads the subscripts."""

from __future__ import annotations

from typing import Any

from . import ops
from .functions import _lift_all
from .value import Value, _apply


def einsum(subscripts: str, *operands: Any) -> Value:
    """Einstein summation as numpy's ``einsum`` (and torch's), one node: the subscripts
    name each input's axes; a letter in two inputs is multiplied along, a letter not in
    the output (after ``->``) is summed. Each input's gradient is an einsum again.

    >>> import numpy as np
    >>> a, b = Value([[1.0, 2.0]]), Value([[3.0], [4.0]])
    >>> einsum("ij,jk->ik", a, b).data, einsum("ii", Value(np.eye(2))).data
    (array([[11.]]), 2.0)
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        if all(isinstance(v, Value) for v in operands[0]):  # torch's einsum(eq, [a, b])
            operands = tuple(operands[0])
    parts = _lift_all(operands, "einsum")
    spec = _explicit(subscripts, parts)
    return _apply(ops.einsum_op(len(parts)), tuple(parts), (spec,))


def _explicit(subscripts: str, parts: list[Value]) -> str:
    """The subscripts with their output written out (``"ij,jk"`` -> ``"ij,jk->ik"``, as
    numpy reads them: the letters used once, in alphabetical order, after any ``...``)."""
    text = subscripts.replace(" ", "")
    if len(text) > 200 or set(text) - set(ops.einsum.LETTERS + ",.->"):
        raise ValueError(
            f"einsum: subscripts are letters, ',', '...' and '->', at most 200 of them; "
            f"got {subscripts[:60]!r}"
        )
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(parts):
        raise ValueError(
            f"einsum: subscripts {subscripts!r} name {len(terms)} inputs, got {len(parts)} "
            f"values of shapes {[p.shape for p in parts]}"
        )
    if not arrow:
        letters = "".join(terms).replace(".", "")
        once = sorted(c for c in set(letters) if letters.count(c) == 1)
        output = ("..." if "..." in inputs else "") + "".join(once)
    elif "..." in inputs and "..." not in output:  # torch sums those axes; numpy needs letters
        terms, output = ops.einsum.spelled_out(terms, output, [p.shape for p in parts])
        inputs = ",".join(terms)
    return f"{inputs}->{output}"
