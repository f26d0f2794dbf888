"""The chain rule over a recorded graph, with the vjps of the op table (``ops/``).

One walk, ``chain_rule``, visits the graph from the output back to the inputs: every
value's gradient is complete before it is passed on, because the values are taken in
reverse topological order. Two readers share it:

- ``trace_backward(root)`` yields every step (node, input, local derivative, upstream
  gradient, contribution, running total) for pictures, pages and tests to watch;
- ``grad(output, inputs)`` returns the gradients, as Values with ``create_graph`` (so
  they can be differentiated again).

``backward()`` fills ``.grad`` with the same numbers, faster: it is this walk's twin in
``fast_backward.py``, tested equal bit for bit. Nothing here is recursive (a chain of a
million ops is fine), and this module never imports ``value.py`` (which imports it): it
reads a node's ``_data``, ``_op``, ``parents`` and ``requires_grad``, and makes
constants with ``type(node)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import ops
from .data import as_data
from .mode import check_unchanged
from .quiet import quiet

if TYPE_CHECKING:  # for type hints only: value.py imports this module
    from .value import Value


def topological_order(root: Value, leaves: bool = True, constants: bool = False) -> list[Value]:
    """Every value ``root`` depends on (with a gradient), parents before children.

    Iterative depth-first search. Expanding a value pushes it back with a ``None``
    marker above it, then its parents; when the marker pops, all of the parents have
    been emitted and the value under the marker is emitted too. A value can be pushed
    twice (by two children); the second time it pops it is already seen and skipped.
    ``leaves=False`` leaves out the inputs (the chain rule only visits values made by ops);
    ``constants=True`` keeps the values that need no gradient too (the ONNX export).
    """
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is None:
            order.append(stack.pop())
            continue
        if node in seen:
            continue
        seen.add(node)
        stack += [node, None]
        for parent in node.parents:
            wanted = parent.requires_grad or constants
            if wanted and (leaves or parent._op is not None) and parent not in seen:
                stack.append(parent)
    return order


def chain_rule(
    root: Value, seed: Any, on_values: bool = False, caller: str = "grad()"
) -> Iterator[tuple]:
    """The chain rule from ``root`` (whose gradient is ``seed``) to every input: one
    ``(node, i, input, upstream, contribution, total)`` per input that needs a gradient,
    nodes in reverse topological order.

    ``upstream`` is the node's gradient, complete; ``contribution`` is the node's vjp for
    input ``i`` (shaped as the input); ``total`` the input's gradient so far. Raw data by
    default; with ``on_values`` the vjps run on Values, recording a graph of the backward
    pass itself. ``caller`` names the function in the error about a stale graph.
    """
    order = topological_order(root, leaves=False)
    check_unchanged(order, caller)
    totals: dict[Value, Any] = {root: seed}
    for node in reversed(order):
        g = totals.get(node)
        if g is None:  # nothing flows back through this node
            continue
        op, inputs = node._op, node.parents
        assert op is not None  # (the order holds the values made by ops)
        args = [p if on_values else p._data for p in inputs]
        args.extend(op.params)
        out = node if on_values else node._data
        with quiet():  # inf and nan are answers, as in torch: no warnings
            if op.vjp_all is not None:  # an n-ary op: every input's gradient in one call
                grads = list(op.vjp_all(g, out, *args))
            else:
                grads = [
                    vjp(g, out, *args) if p.requires_grad else None
                    for p, vjp in zip(inputs, op.vjps)
                ]
        for i, parent in enumerate(inputs):
            if not parent.requires_grad:
                continue
            contribution = _fit(grads[i], parent, on_values)
            before = totals.get(parent)
            total = contribution if before is None else before + contribution
            totals[parent] = total
            yield node, i, parent, g, contribution, total


class BackwardStep(NamedTuple):
    """One step of the chain rule: ``node`` hands gradient to its input ``input``.

    ``contribution = vjp(upstream)``, which for a scalar op is ``local * upstream``;
    ``total`` is the input's gradient so far (complete once its last step has passed).
    ``local`` is d(node)/d(input) as a number when both are scalars, else None.
    """

    node: Value
    input: Value
    index: int  # type: ignore[assignment]  # the input's position in node.parents
    local: float | None
    upstream: Any
    contribution: Any
    total: Any


def trace_backward(root: Value, grad: Any = None) -> Iterator[BackwardStep]:
    """Walk the chain rule from ``root`` step by step, without touching any ``.grad``.

    Yields one :class:`BackwardStep` per (node, input that needs a gradient), nodes in
    reverse topological order. It calls the same vjps as ``backward()``, and the last
    ``total`` of each value equals the ``.grad`` that ``backward()`` gives it.

    >>> from autograd import Value
    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> for s in trace_backward(a * b):
    ...     print(s.input.label, s.local, s.upstream, s.contribution, s.total)
    a -3.0 1.0 -3.0 -3.0
    b 2.0 1.0 2.0 2.0
    """
    seed = _seed(root, grad)
    if root._op is None:
        return
    for node, i, parent, upstream, contribution, total in chain_rule(
        root, seed, caller="trace_backward()"
    ):
        yield BackwardStep(node, parent, i, _local(node, i), upstream, contribution, total)


def _local(node: Value, i: int) -> float | None:
    """d(node)/d(input i) as a number, when the node and its inputs are scalars."""
    if type(node._data) is not float or any(type(p._data) is not float for p in node.parents):
        return None
    op = node._op
    assert op is not None  # (a node: made by an op)
    args = [p._data for p in node.parents] + list(op.params)
    with quiet():
        if op.vjp_all is not None:
            return float(op.vjp_all(1.0, node._data, *args)[i])
        return float(op.vjps[i](1.0, node._data, *args))


def grad(
    output: Value,
    inputs: Value | Sequence[Value],
    grad_output: Any = None,
    create_graph: bool = False,
) -> Any:
    """The gradients of ``output`` with respect to ``inputs``, leaving every ``.grad`` alone.

    Returns one gradient per input (a single one when ``inputs`` is a single Value). An
    input that ``output`` does not depend on gets zeros. Without ``create_graph`` the
    gradients are plain floats / arrays; with it they are Values whose own graph leads
    back to the inputs, so they can be differentiated again:

    >>> from autograd import Value
    >>> x = Value(3.0)
    >>> dy = grad(x ** 3, x, create_graph=True)   # 3 x^2 = 27, as a Value
    >>> grad(dy, x)                               # 6 x
    18.0
    """
    single = isinstance(inputs, type(output))
    targets: list[Value] = [inputs] if single else list(inputs)  # type: ignore[list-item]
    for t in targets:
        if not isinstance(t, type(output)):
            raise TypeError(f"grad(): inputs must be Values, got {type(t).__name__}")
    seed = _seed(output, grad_output)
    if create_graph:
        seed = _constant(output, seed)
    totals: dict[Value, Any] = {output: seed}
    if output._op is not None:
        with quiet():
            for _, _, parent, _, _, total in chain_rule(output, seed, on_values=create_graph):
                totals[parent] = total
    results = []
    for t in targets:
        g = totals.get(t)
        if g is None:
            g = np.zeros_like(t._data) if t.ndim else 0.0
            g = _constant(output, g) if create_graph else g
        results.append(g)
    return results[0] if single else tuple(results)


# ---------------------------------------------------------------- gradients' shapes
def _seed(root: Value, grad: Any) -> Any:
    """The gradient the walk starts from: 1 for a one-element ``root``, else ``grad``."""
    if grad is None:
        data = root._data
        if type(data) is float:
            return 1.0
        if data.size != 1:
            raise ValueError(
                f"backward() on a value of shape {root.shape} needs grad=, the gradient of "
                f"whatever you are differentiating with respect to this value (for example "
                f"numpy.ones{root.shape}), or call .sum() first"
            )
        return np.ones_like(data)
    seed = as_data(grad._data if isinstance(grad, type(root)) else grad, dtype=root.dtype)
    if np.shape(seed) != root.shape:
        raise ValueError(
            f"backward(): grad has shape {np.shape(seed)} but the value has shape {root.shape}"
        )
    return seed


def _fit(g: Any, value: Value, on_values: bool = False) -> Any:
    """A gradient shaped as ``value``'s numbers (summed over broadcast axes), of their
    dtype; with ``on_values`` a Value (a number becomes a constant)."""
    if on_values:
        g = g if isinstance(g, type(value)) else _constant(value, g)
        return g if g.shape == value.shape else ops.sum_to(g, value.shape)
    return fit_data(g, value._data)


def fit_data(g: Any, data: Any) -> Any:
    """Make a raw gradient match the shape and dtype of the data it belongs to."""
    if type(data) is float:
        if type(g) is float:
            return g
        # A numpy scalar (a stacked value's part of the gradient) is its own sum, and
        # float() of it is ~50x cheaper than float(np.sum()) of it.
        return float(g) if isinstance(g, np.generic) else float(np.sum(g))
    if type(g) is not np.ndarray or g.shape != data.shape:
        g = np.asarray(ops.sum_to(g, data.shape))
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    return g


def _constant(like: Value, data: Any) -> Value:
    """A constant (no gradient) of the same class as ``like``."""
    return type(like)(data, requires_grad=False)
