"""How a step of the walk reads: what an op computed (``c = a * b = 2 * (-3) = -6``) and
one step of the chain rule (``w1.grad += x1 × n.grad = 2 × 0.25 = 0.5``), in the nodes'
names and the engine's numbers; each op's formula and derivative text come from its
entry in the op table."""

from __future__ import annotations

import re
from typing import Any

from autograd import BackwardStep, Value

from .format import fmt, summary

_OPERATOR = re.compile(r"[\s+\-*/@^·=<>]")


def term(text: str) -> str:
    """``text`` ready to stand inside a formula: parenthesised when it holds an operator
    or is a negative number, so ``(a*b + c).grad`` and ``2 * (-3)`` read right.

    >>> term("a*b + c"), term("-3"), term("w1")
    ('(a*b + c)', '(-3)', 'w1')
    """
    return f"({text})" if _OPERATOR.search(text[1:] if text[:1] == "(" else text) else text


def forward_text(v: Value, names: dict) -> str:
    """``c = a * b = 2 * (-3) = -6``: what an op computed, in names and numbers."""
    op = v._op
    custom = op.show is not None  # a function call needs no parentheses inside
    wrap = term if custom else str
    in_names = [wrap(names[p]) for p in v.parents]
    in_numbers = [wrap(summary(p.data)) for p in v.parents]
    return f"{names[v]} = {op.formula(in_names)} = {op.formula(in_numbers)} = {summary(v.data)}"


def backward_line(step: BackwardStep, names: dict, total: Any = None) -> str:
    """One chain-rule step as text: ``w1.grad += x1 × n.grad = 2 × 0.25 = 0.5``, and the
    input's gradient so far (``total``, by default the step's own) when this step was
    not its first: ``  →  x.grad = 0.75``."""
    node, parent = step.node, step.input
    pname, cname = term(names[parent]), term(names[node])
    total = step.total if total is None else total
    if step.local is not None:
        in_names = [term(names[p]) for p in node.parents]
        formula = node._op.derivative(step.index, in_names, cname) or f"∂{cname}/∂{pname}"
        text = (
            f"{pname}.grad += {formula} × {cname}.grad = {fmt(step.local)} × "
            f"{fmt(float(step.upstream))} = {fmt(float(step.contribution))}"
        )
        shown = fmt(float(total))
    else:
        text = f"{pname}.grad += vjp_{node.op}({cname}.grad) = {summary(step.contribution)}"
        shown = summary(total)
    if shown != summary(step.contribution):
        text += f"   →  {pname}.grad = {shown}"
    return text


def _elide(text: str, keep: int = 2) -> str:
    """A long sum shown by its first and last ``keep`` terms: ``a + b + … + y + z``."""
    terms = text.split(" + ")
    if len(terms) <= 2 * keep + 1:
        return text
    return " + ".join(terms[:keep] + ["…"] + terms[-keep:])


def short_forward(v: Value, names: dict) -> str:
    """``forward_text`` with a long weighted sum elided (a neuron of 16 inputs)."""
    head, *parts = forward_text(v, names).split(" = ")
    return " = ".join([head] + [_elide(p) for p in parts])
