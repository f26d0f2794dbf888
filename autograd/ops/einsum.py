"""``einsum``: numpy's Einstein summation, one node for any number of inputs.

Its subscripts are a param, made explicit by ``autograd.einsum`` (``"ij,jk->ik"``, with
``...`` where the inputs have one). The gradient of an input is an einsum again: of the
output's gradient with the other inputs, onto that input's subscripts. Three details:
a letter only that input has is summed in the forward, so its gradient is spread along
it (an einsum with a vector of ones); a letter written twice in one input (a diagonal,
``"ii->i"``) gets its gradient on the diagonal (an einsum with an identity matrix); and
``...`` is written out as letters, so a broadcast (size-1) axis is summed back by the
chain rule's usual undoing of broadcasting.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .op import _RAW, Op, raw, shape_of

LETTERS = string.ascii_letters


def split_subscripts(subscripts: str) -> tuple[list[str], str]:
    """``"ij,jk->ik"`` as ``(["ij", "jk"], "ik")`` (explicit subscripts only)."""
    inputs, _, output = subscripts.partition("->")
    return inputs.split(","), output


def spelled_out(terms: list[str], output: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """The subscripts with each ``...`` replaced by letters no term uses: the ellipsis
    covers the same axes in every term, counted from the right (numpy's broadcasting)."""
    spans = [len(shape) - (len(t) - 3) if "..." in t else 0 for t, shape in zip(terms, shapes)]
    width = max(spans, default=0)
    free = [c for c in LETTERS if c not in "".join(terms) + output][:width]
    if len(free) < width:
        raise ValueError("einsum: too many axes under '...' for the letters left")

    def spell(term: str, span: int) -> str:
        return term.replace("...", "".join(free[width - span :]))

    return [spell(t, s) for t, s in zip(terms, spans)], spell(output, width)


def _einsum(subscripts: str, *operands):
    """np.einsum on raw data; on Values, the einsum op recorded (second derivatives)."""
    if all(isinstance(x, _RAW) for x in operands):
        return np.einsum(subscripts, *operands, optimize=len(operands) > 2)
    first = next(x for x in operands if not isinstance(x, _RAW))
    if first is not operands[0]:  # the op is applied from its first input: make it a Value
        operands = (type(first)(operands[0], requires_grad=False), *operands[1:])
    return operands[0]._apply_op(einsum_op(len(operands)), operands[1:], (subscripts,))


def _constant_like(g, array: np.ndarray):
    """``array`` as a constant of ``g``'s kind (raw data, or a Value without a gradient)."""
    return array if isinstance(g, _RAW) else type(g)(array, requires_grad=False)


def _input_grad(i: int, g, operands: tuple, subscripts: str):
    """The gradient of input ``i``: an einsum of ``g`` with the other inputs."""
    terms, output = split_subscripts(subscripts)
    terms, output = spelled_out(terms, output, [shape_of(x) for x in operands])
    mine, shape = terms[i], shape_of(operands[i])
    size = dict(zip(mine, shape))
    dtype = np.result_type(*(raw(x) for x in operands))
    others = [t for j, t in enumerate(terms) if j != i]
    seen = set(output + "".join(others))
    kept = "".join(dict.fromkeys(mine))  # each letter once, in order
    spread = [c for c in kept if c not in seen]  # summed in the forward by input i alone
    spec = ",".join([output, *others, *spread]) + "->" + kept
    ones = [_constant_like(g, np.ones(size[c], dtype)) for c in spread]
    rest = [x for j, x in enumerate(operands) if j != i]
    grad = _einsum(spec, g, *rest, *ones)
    if kept == mine:
        return grad
    # a letter written twice: the gradient of the diagonal, put back on it
    fresh = iter(c for c in LETTERS if c not in "".join(terms) + output)
    renamed, pairs = "", []
    for c in mine:
        if c in renamed:  # again: a new letter, tied to the first by an identity matrix
            pairs.append((c, next(fresh)))
            renamed += pairs[-1][1]
        else:
            renamed += c
    eyes = [_constant_like(g, np.eye(size[c], dtype=dtype)) for c, _ in pairs]
    spec = ",".join([kept, *(c + f for c, f in pairs)]) + "->" + renamed
    return _einsum(spec, grad, *eyes)


@lru_cache(maxsize=64)
def einsum_op(n: int) -> Op:
    """The einsum of ``n`` inputs; its param is the explicit subscripts."""

    def vjp_for(i: int) -> Callable:
        def vjp(g, out, *args):
            *operands, subscripts = args
            return _input_grad(i, g, tuple(operands), subscripts)

        return vjp

    return Op(
        "einsum",
        lambda *args: np.einsum(args[-1], *args[:-1], optimize=len(args) > 3),
        *map(vjp_for, range(n)),
        show=lambda names, params: f"einsum({params[0]}, {', '.join(names)})",
        onnx=lambda emit, *args: emit("Einsum", *args[:-1], equation=args[-1]),
        torch=lambda t, *args: t.einsum(args[-1], *args[:-1]),
    )


# The table's entry: every number of inputs makes an op with the same fields.
EINSUM = einsum_op(2)
