"""The chain rule over a recorded graph: ``backward`` (fills ``.grad``) and ``grad`` (returns).

Both walk the graph in reverse topological order, so every value's gradient is complete
before it is passed on to its parents, and both call the same per-op vjps from
``ops.py``. Nothing here is recursive: a chain of a million ops is fine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops
from .value import Value, _constant, as_data


def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every value ``root`` depends on (with a gradient), parents before children.

    Iterative depth-first search. Expanding a value pushes it back with a ``None``
    marker above it, then its parents; when the marker pops, all of the parents have
    been emitted and the value under the marker is emitted too. A value can be pushed
    twice (by two children); the second time it pops it is already seen and skipped.
    ``leaves=False`` leaves out the inputs (``backward`` only visits values made by ops).
    """
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[Any] = [root]
    push, pop, emit, mark = stack.append, stack.pop, order.append, seen.add
    while stack:
        node = pop()
        if node is None:
            emit(pop())
            continue
        if node in seen:
            continue
        mark(node)
        push(node)
        push(None)
        for parent in node.parents:
            if parent.requires_grad and parent not in seen and (leaves or parent._op is not None):
                push(parent)
    return order


def _seed(root: Value, grad: Any) -> Any:
    if grad is None:
        if root.size != 1:
            raise ValueError(
                f"backward() on a value of shape {root.shape} needs grad=, the gradient of "
                f"whatever you are differentiating with respect to this value (for example "
                f"numpy.ones{root.shape}), or call .sum() first"
            )
        return 1.0 if type(root.data) is float else np.ones_like(root.data)
    seed = as_data(grad.data if isinstance(grad, Value) else grad, dtype=root.dtype)
    if np.shape(seed) != root.shape:
        raise ValueError(
            f"backward(): grad has shape {np.shape(seed)} but the value has shape {root.shape}"
        )
    return seed


def _fit(g: Any, data: Any) -> Any:
    """Make a raw gradient match the shape and dtype of the value it belongs to."""
    if type(data) is float:
        return g if type(g) is float else float(np.sum(g))
    if type(g) is not np.ndarray or g.shape != data.shape:
        g = np.asarray(ops.sum_to(g, data.shape))
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    return g


def _add_to(node: Value, g: Any, incoming: Any) -> None:
    """Accumulate ``g`` into ``node._g`` without ever writing into a shared array."""
    data = node.data
    if (
        type(g) is not np.ndarray
        or type(data) is float
        or g.shape != data.shape
        or g.dtype != data.dtype
    ):
        g = _fit(g, data)
    current = node._g
    if current is None:
        # A leaf keeps its gradient across calls and users may edit it in place, so it
        # must own it: copy anything that is a view or is the incoming gradient itself.
        if node._op is None and type(g) is not float and (g is incoming or g.base is not None):
            g = g.copy()
        node._g = g
    else:
        node._g = current + g


def backward(root: Value, grad: Any = None) -> None:
    """``root.backward(grad)``: see :meth:`Value.backward`."""
    seed = _seed(root, grad)
    if root._op is None:  # a leaf: its gradient is the seed
        _add_to(root, seed, None)
        return
    order = topological_order(root, leaves=False)
    for node in order:  # gradients of intermediate values are recomputed, never stale
        node._g = 0.0 if type(node.data) is float else None
    _add_to(root, seed, None)
    for node in reversed(order):
        op = node._op
        g, parents = node._g, node.parents
        if type(g) is float and not op.params:
            # The scalar engine's hot path: floats in, a float out, plain accumulation.
            if len(parents) == 2:
                a, b = parents
                x, y = a.data, b.data
                if type(x) is float and type(y) is float:
                    vjp_a, vjp_b = op.vjps
                    if a.requires_grad:
                        a._g += vjp_a(g, node.data, x, y)
                    if b.requires_grad:
                        b._g += vjp_b(g, node.data, x, y)
                    continue
            elif len(parents) == 1:
                a = parents[0]
                if type(a.data) is float and a.requires_grad:
                    a._g += op.vjps[0](g, node.data, a.data)
                    continue
        if g is None:
            continue
        if op.vjp_all is not None:  # an n-ary op: all of its inputs' gradients at once
            grads = op.vjp_all(g, node.data, *[p.data for p in parents], *op.params)
            for parent, gp in zip(parents, grads):
                if parent.requires_grad:
                    if type(gp) is float and type(parent.data) is float:
                        parent._g += gp
                    else:
                        _add_to(parent, gp, g)
            continue
        args = [p.data for p in parents]
        args.extend(op.params)
        for parent, vjp in zip(parents, op.vjps):
            if parent.requires_grad:
                gp = vjp(g, node.data, *args)
                if type(gp) is float and type(parent.data) is float:
                    parent._g += gp
                else:
                    _add_to(parent, gp, g)


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

    >>> x = Value(3.0)
    >>> dy = grad(x ** 3, x, create_graph=True)   # 3 x^2 = 27, as a Value
    >>> grad(dy, x)                               # 6 x
    18.0
    """
    single = isinstance(inputs, Value)
    targets = [inputs] if single else list(inputs)
    for t in targets:
        if not isinstance(t, Value):
            raise TypeError(f"grad(): inputs must be Values, got {type(t).__name__}")
    seed = _seed(output, grad_output)
    grads: dict[Value, Any] = {output: _constant(seed) if create_graph else seed}
    for node in reversed(topological_order(output)):
        g = grads.get(node)
        op = node._op
        if op is None or g is None:
            continue
        if create_graph:
            out, args = node, list(node.parents)
        else:
            out, args = node.data, [p.data for p in node.parents]
        args.extend(op.params)
        if op.vjp_all is not None:
            per_input = op.vjp_all(g, out, *args)
        else:
            per_input = (vjp(g, out, *args) for vjp in op.vjps)
        for parent, gp in zip(node.parents, per_input):
            if not parent.requires_grad:
                continue
            if create_graph:
                gp = gp if isinstance(gp, Value) else _constant(gp)
                if gp.shape != parent.shape:
                    gp = ops.sum_to(gp, parent.shape)
            else:
                gp = _fit(gp, parent.data)
            previous = grads.get(parent)
            grads[parent] = gp if previous is None else previous + gp
    results = []
    for t in targets:
        g = grads.get(t)
        if g is None:
            g = np.zeros_like(t.data) if t.ndim else 0.0
            g = _constant(g) if create_graph else g
        results.append(g)
    return results[0] if single else tuple(results)
