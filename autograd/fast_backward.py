"""``backward()``: the walk of ``backprop.chain_rule``, fast. It fills ``.grad`` with the
same numbers, bit for bit (tests/test_fast_backward.py checks it on random graphs).

Every speed trick of the backward pass lives here or in an op's own entry, each with its
gain: what the step of a benchmark workload costs without it (callgrind instructions,
benchmarks/workloads.py; the scalar moons step, a chain of 2e4 ops, the vectorized MLPs):

- the gradients accumulate in each value's ``_g``, not in a dictionary of totals;
- ``order_of_ops`` walks a chain without a search (without it: the chain +19%, the
  scalar moons +3.9%, the tiny MLP +2.9%);
- a scalar op with one or two float inputs adds its vjps straight in (without it: the
  chain +32%, the scalar moons +4.4%);
- a number beside a scalar (``y * 1.0001``) is kept as a float among the node's parents
  (``Value.parents`` makes it a constant when read), so this walk reads it as it is:
  without it the chain makes three objects per op for the collector where it makes two,
  and takes ~35% longer (CPU time; instructions +21% with the collector on);
- a first gradient that is an array of its input's shape and dtype is kept as it is,
  ``_add_to``'s commonest case written inline (twelve calls per tiny MLP step);
- an n-ary op may add its inputs' gradients itself, ``Op.add_floats`` (a neuron's
  weighted sum, ``ops.fused``), and skip them all when they are zero (without either:
  the scalar moons +20%; without the skip alone, +11%).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from . import tracing
from .backprop import _seed, fit_data
from .mode import check_unchanged, writes
from .quiet import quiet

if TYPE_CHECKING:  # for type hints only: value.py imports this module
    from .value import Value


def backward(root: Value, grad: Any = None) -> None:
    """``root.backward(grad)``: see :meth:`Value.backward`."""
    if tracing.active is not None and tracing.active.runs_backward(root, grad):
        return  # a step being compiled: its tracer ran this call, watching it
    seed = _seed(root, grad)
    if root._op is None:  # a leaf: its gradient is the seed
        _add_to(root, seed, None)
        return
    order = order_of_ops(root)
    check_unchanged(order)
    with quiet():  # inf and nan propagate as in torch, without warnings
        _backward_pass(root, seed, order)


def order_of_ops(root: Value) -> list[Value]:
    """``backprop.topological_order(root, leaves=False)``, the same list, faster.

    Where the graph is a chain (from ``root``, as long as a value has exactly one input
    made by an op that needs a gradient) the values walked come last, in reverse, with no
    search, stack or set: the search would expand them one after the other the same way.
    A vectorized MLP is such a chain down to its first layer, ``y = y * 1.0001 + 0.0``
    down to its start. Each input is asked whether an op made it before whether it needs
    a gradient: that turns a neuron's weights (most of its inputs) away at once.
    """
    chain: list[Value] = []
    while True:
        only = None
        for parent in root._parents:
            if type(parent) is not float and parent._op is not None and parent.requires_grad:
                if only is not None:
                    break  # a second one: the search goes on from this value
                only = parent
        else:
            chain.append(root)
            if only is None:  # the chain's first value: nothing to search
                chain.reverse()
                return chain
            root = only
            continue
        break
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
        parents = node._parents
        if len(parents) == 2:  # a binary op: one input may be a number kept as a float
            if type(parents[1]) is float:  # (checked per node, not per input: a neuron
                parents = parents[:1]  # has many inputs, and only a binary op a float)
            elif type(parents[0]) is float:
                parents = parents[1:]
        for parent in parents:
            if parent._op is not None and parent.requires_grad and parent not in seen:
                push(parent)
    chain.reverse()
    order.extend(chain)
    return order


def watch_gradient(g: Any) -> None:
    """Note a gradient set from outside the engine (``v.grad = g``, unpickling): a -0.0
    turns off the skip of zero terms in ``Op.add_floats`` (see ``mode.writes``)."""
    if type(g) is float and g == 0.0 and math.copysign(1.0, g) < 0:
        writes.negative_zero = True


def _backward_pass(root: Value, seed: Any, order: list[Value]) -> None:
    for node in order:  # gradients of intermediate values are recomputed, never stale
        node._g = 0.0 if type(node._data) is float else None
    _add_to(root, seed, None)
    op: Any  # an Op: the order holds the values made by ops (no check in this loop)
    for node in reversed(order):
        op, g, parents = node._op, node._g, node._parents
        if type(g) is float and not op.params:
            # The scalar engine: floats in, a float out, plain accumulation.
            if op.add_floats is not None:  # (first: a neuron's sum, the commonest node)
                if op.add_floats(g, parents):
                    continue
            elif len(parents) == 2:
                a, b = parents
                if type(b) is float:  # y * 2.0: the number kept as a float (see record)
                    if type(a._data) is float and a.requires_grad:
                        a._g += op.vjps[0](g, node._data, a._data, b)
                    continue
                if type(a) is float:  # 2.0 * y
                    if type(b._data) is float and b.requires_grad:
                        b._g += op.vjps[1](g, node._data, a, b._data)
                    continue
                x, y = a._data, b._data
                if type(x) is float and type(y) is float:
                    vjp_a, vjp_b = op.vjps
                    if a.requires_grad:
                        a._g += vjp_a(g, node._data, x, y)
                    if b.requires_grad:
                        b._g += vjp_b(g, node._data, x, y)
                    continue
            elif len(parents) == 1:
                (a,) = parents
                if type(a._data) is float and a.requires_grad:
                    a._g += op.vjps[0](g, node._data, a._data)
                    continue
        if g is None:  # nothing flows back through this node
            continue
        if len(parents) == 1:  # one or two inputs: no list comprehension (a call each)
            args = [parents[0]._data]
        elif len(parents) == 2:
            args = [parents[0]._data, parents[1]._data]
        else:
            args = [p._data for p in parents]
        args.extend(op.params)
        out = node._data
        if op.vjp_all is not None:  # an n-ary op: all of its inputs' gradients at once
            for parent, gp in zip(parents, op.vjp_all(g, out, *args)):
                if parent.requires_grad:
                    if type(gp) is float and type(parent._data) is float:
                        parent._g += gp
                    else:
                        _add_to(parent, gp, g)
            continue
        for parent, vjp in zip(parents, op.vjps):
            if not parent.requires_grad:
                continue
            gp = vjp(g, out, *args)
            data = parent._data
            # _add_to's commonest case inline: a first gradient that is an array of the
            # input's shape and dtype is kept as it is, unless the input is a leaf and the
            # array is not its own (the incoming gradient itself, or a view). ``is`` on
            # dtypes: numpy's built-in ones are shared objects (others go to _add_to).
            if (
                type(gp) is np.ndarray
                and parent._g is None
                and type(data) is np.ndarray
                and gp.dtype is data.dtype
                and gp.shape == data.shape
                and (parent._op is not None or (gp is not g and gp.base is None))
            ):
                parent._g = gp
            elif type(gp) is float and type(data) is float:
                parent._g += gp
            else:
                _add_to(parent, gp, g)


def _add_to(node: Value, g: Any, incoming: Any) -> None:
    """Accumulate ``g`` into ``node._g`` without ever writing into a shared array."""
    data = node._data
    if (
        type(g) is not np.ndarray
        or type(data) is float
        or g.shape != data.shape
        or g.dtype != data.dtype
    ):
        g = fit_data(g, data)
    current = node._g
    if current is None:
        # A leaf keeps its gradient across calls and users may edit it in place, so it
        # must own it: copy anything that is a view or is the incoming gradient itself.
        if node._op is None and type(g) is not float and (g is incoming or g.base is not None):
            g = g.copy()
        node._g = g
    else:
        node._g = current + g
