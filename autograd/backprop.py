"""The chain rule over a recorded graph, walked three ways with the same vjps from ``ops/``:

- ``trace_backward(root)`` yields every step — node, input, local derivative, upstream
  gradient, contribution, running total — for pictures, pages and tests to watch;
- ``backward(root)`` is its fast twin that only fills ``.grad`` (tested equal);
- ``grad(output, inputs)`` returns gradients instead, as Values with ``create_graph``.

All walk the graph in reverse topological order, so every value's gradient is complete
before it is passed on to its parents. Nothing here is recursive: a chain of a million
ops is fine. This module never imports ``value.py`` (which imports it): it works on any
node with ``data``, ``parents``, ``_op``, ``_g`` and ``requires_grad``, and makes new
constants with ``type(node)``. The hot paths read the inputs as recorded (``_parents``,
or ``_a`` and ``_b`` for an op with one or two: see ``value.record``), where a number
used in a scalar op is a plain float (``Value.parents`` wraps it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import ops
from .data import as_data
from .mode import writes
from .quiet import quiet

if TYPE_CHECKING:  # for type hints only: value.py imports this module
    from .value import Value


def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every value ``root`` depends on (with a gradient), parents before children.

    Iterative depth-first search. Expanding a value pushes it back with a ``None``
    marker above it, then its parents; when the marker pops, all of the parents have
    been emitted and the value under the marker is emitted too. A value can be pushed
    twice (by two children); the second time it pops it is already seen and skipped.
    ``leaves=False`` leaves out the inputs (``backward`` only visits values made by ops).

    With ``leaves=False`` the search starts where the graph stops being a chain: from
    ``root``, as long as a value has exactly one input made by an op (that needs a
    gradient), that input is the only way on, so the values walked so far come last, in
    reverse, and no search, stack or set is needed for them. The order is the search's
    own: it would expand them one after the other the same way. A vectorized MLP is such
    a chain down to its first layer, ``y = y * 1.0001 + 0.0`` down to its start.
    """
    chain: list[Value] = []
    if not leaves:
        while True:
            inputs = root._parents
            if inputs is None:
                inputs = (root._a, root._b)  # None or a plain float: not made by an op
            only = None
            for parent in inputs:
                if (
                    parent is not None
                    and type(parent) is not float
                    and parent._op is not None
                    and parent.requires_grad
                ):
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
        # Separate loops rather than one test of ``leaves``: backward's walk asks about
        # the op first, which turns a neuron's weights (most of its inputs) away at once
        # (the scalar moons step: -1.9% instructions). The order is unchanged. A plain
        # float (a number used in a binary op, see ``Value.parents``) is tested for only
        # where it can be: asking every input of every neuron cost +3.9%.
        if leaves:
            for parent in node.parents:
                if parent.requires_grad and parent not in seen:
                    push(parent)
        elif node._parents is not None:
            for parent in node._parents:
                if parent._op is not None and parent.requires_grad and parent not in seen:
                    push(parent)
        else:  # one or two inputs, in _a and _b (None for none); only they can be floats
            a, b = node._a, node._b
            if type(a) is not float and a._op is not None and a.requires_grad and a not in seen:
                push(a)
            if b is not None and type(b) is not float and b._op is not None:
                if b.requires_grad and b not in seen:
                    push(b)
    if chain:
        chain.reverse()
        order.extend(chain)
    return order


def check_unchanged(order: list[Value], caller: str = "backward()") -> None:
    """Raise ``RuntimeError`` if a value in the graph was assigned new ``.data`` after a
    node that uses it was computed: its gradient would mix old and new numbers.

    ``order`` holds the recorded nodes (``topological_order(root, leaves=False)``). A
    recorded node's ``_stamp`` is the write count at its birth (``mode.writes``); an
    assignment to ``.data`` sets it to minus the count after the write. One number per
    value, not two: every slot costs each value's memory and the collector's walks.
    Most graphs are walked before anything is written, so one look settles it.
    """
    now = writes.now
    for node in order:
        if node._stamp != now:
            break
    else:
        return
    for node in order:
        born = node._stamp
        if born < 0:
            _stale(caller, node, node)
        parents = node._parents
        for parent in (node._a, node._b) if parents is None else parents:
            stamp = getattr(parent, "_stamp", 0)  # 0 for a constant (or None)
            if stamp < 0 and -stamp > born:
                _stale(caller, node, parent)


def _stale(caller: str, node: Value, value: Value) -> None:
    label = getattr(value, "_label", "")
    role = "the result" if value is node else "an input"
    if label:
        what = f"{label!r}, {role} of {node._op.name}"
    else:  # no name to give: its shape at least tells which of the op's inputs it is
        kind = "a scalar" if value.shape == () else f"shape {value.shape}"
        what = f"{role} of {node._op.name} ({kind}, no label)"
    raise RuntimeError(
        f"{caller}: {what} was assigned new data after the result was "
        f"computed, so the gradient would mix old and new numbers; compute the result "
        f"again after changing the value (or change it after backward())"
    )


def _constant(like: Value, data: Any) -> Value:
    """A constant (no gradient) of the same class as ``like``."""
    return type(like)(data, requires_grad=False)


def _is_node(x: Any, like: Value) -> bool:
    return isinstance(x, type(like))


def _seed(root: Value, grad: Any) -> Any:
    if grad is None:
        data = root._data
        if type(data) is float:  # (a loss, every step: no size property)
            return 1.0
        if data.size != 1:
            raise ValueError(
                f"backward() on a value of shape {root.shape} needs grad=, the gradient of "
                f"whatever you are differentiating with respect to this value (for example "
                f"numpy.ones{root.shape}), or call .sum() first"
            )
        return np.ones_like(data)
    seed = as_data(grad._data if _is_node(grad, root) else grad, dtype=root.dtype)
    if np.shape(seed) != root.shape:
        raise ValueError(
            f"backward(): grad has shape {np.shape(seed)} but the value has shape {root.shape}"
        )
    return seed


def _fit(g: Any, data: Any) -> Any:
    """Make a raw gradient match the shape and dtype of the value it belongs to."""
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


def _add_to(node: Value, g: Any, incoming: Any) -> None:
    """Accumulate ``g`` into ``node._g`` without ever writing into a shared array."""
    data = node._data
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
    check_unchanged(order)
    with quiet():  # inf and nan propagate as in torch, without warnings
        _backward_pass(root, seed, order)


def _backward_pass(root: Value, seed: Any, order: list[Value]) -> None:
    for node in order:  # gradients of intermediate values are recomputed, never stale
        node._g = 0.0 if type(node._data) is float else None
    _add_to(root, seed, None)
    for node in reversed(order):
        op = node._op
        g, parents = node._g, node._parents
        if type(g) is float and not op.params:
            # The scalar engine's hot path: floats in, a float out, plain accumulation.
            if parents is None:  # one or two inputs, in _a and _b
                a, b = node._a, node._b
                if b is None:
                    if type(a._data) is float and a.requires_grad:
                        a._g += op.vjps[0](g, node._data, a._data)
                        continue
                else:
                    # A plain float is a constant (``y * 2.0``): its own data, no gradient.
                    x = a if type(a) is float else a._data
                    y = b if type(b) is float else b._data
                    if type(x) is float and type(y) is float:
                        vjp_a, vjp_b = op.vjps
                        if a is not x and a.requires_grad:
                            a._g += vjp_a(g, node._data, x, y)
                        if b is not y and b.requires_grad:
                            b._g += vjp_b(g, node._data, x, y)
                        continue
            elif op.add_floats is not None and op.add_floats(g, parents):
                continue
        if g is None:
            continue
        # The tensor path. The inputs and their data without ``node.parents`` and a list
        # comprehension for an op with one or two (each a call: the tiny MLP step makes
        # six such nodes). A plain float input (a scalar op's constant) has no ``_data``:
        # ``node.parents`` makes it a constant Value.
        if parents is None:
            a, b = node._a, node._b
            if b is None and type(a) is not float:
                parents, args = (a,), [a._data]
            elif type(a) is not float and type(b) is not float:
                parents, args = (a, b), [a._data, b._data]
            else:
                parents = node.parents
                args = [p._data for p in parents]
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
            # _add_to's commonest case inline (twelve calls per tiny MLP step): a first
            # gradient that is already an array of the input's shape and dtype is kept as
            # it is, unless the input is a leaf and the array is not its own to keep (the
            # incoming gradient itself, or a view). ``is`` on dtypes: numpy's built-in
            # ones are shared objects; any other dtype object goes to _add_to.
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


class BackwardStep(NamedTuple):
    """One step of the chain rule: ``node`` hands gradient to its input ``input``.

    ``contribution = vjp(upstream)``, which for a scalar op is ``local * upstream``;
    ``total`` is the input's gradient so far (complete once its last step has passed).
    ``local`` is d(node)/d(input) as a number when both are scalars, else None.
    """

    node: Value
    input: Value
    index: int  # the input's position in node.parents
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
    totals: dict[Value, Any] = {root: _seed(root, grad)}
    if root._op is None:
        return
    order = topological_order(root, leaves=False)
    check_unchanged(order, "trace_backward()")
    for node in reversed(order):
        g = totals.get(node)
        op, parents = node._op, node.parents
        if g is None:
            continue
        args = [p._data for p in parents]
        args.extend(op.params)
        scalar = type(node._data) is float and all(type(a) is float for a in args[: len(parents)])
        with quiet():
            if op.vjp_all is not None:
                grads = list(op.vjp_all(g, node._data, *args))
                locals_ = op.vjp_all(1.0, node._data, *args) if scalar else None
            else:
                grads = [
                    vjp(g, node._data, *args) if p.requires_grad else None
                    for p, vjp in zip(parents, op.vjps)
                ]
                locals_ = None
        for i, parent in enumerate(parents):
            if not parent.requires_grad:
                continue
            contribution = _fit(grads[i], parent._data)
            before = totals.get(parent)
            total = contribution if before is None else before + contribution
            totals[parent] = total
            local = None
            if scalar:
                if locals_ is None:
                    with quiet():
                        local = float(op.vjps[i](1.0, node._data, *args))
                else:
                    local = float(locals_[i])
            yield BackwardStep(node, parent, i, local, g, contribution, total)


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
    single = _is_node(inputs, output)
    targets = [inputs] if single else list(inputs)
    for t in targets:
        if not _is_node(t, output):
            raise TypeError(f"grad(): inputs must be Values, got {type(t).__name__}")
    seed = _seed(output, grad_output)
    with quiet():
        return _grad_pass(output, targets, single, seed, create_graph)


def _grad_pass(output: Value, targets: list, single: bool, seed: Any, create_graph: bool) -> Any:
    grads: dict[Value, Any] = {output: _constant(output, seed) if create_graph else seed}
    order = topological_order(output)
    check_unchanged([n for n in order if n._op is not None], "grad()")
    for node in reversed(order):
        g = grads.get(node)
        op = node._op
        if op is None or g is None:
            continue
        if create_graph:
            out, args = node, list(node.parents)
        else:
            out, args = node._data, [p._data for p in node.parents]
        args.extend(op.params)
        if op.vjp_all is not None:
            per_input = op.vjp_all(g, out, *args)
        else:
            per_input = (vjp(g, out, *args) for vjp in op.vjps)
        for parent, gp in zip(node.parents, per_input):
            if not parent.requires_grad:
                continue
            if create_graph:
                gp = gp if _is_node(gp, output) else _constant(output, gp)
                if gp.shape != parent.shape:
                    gp = ops.sum_to(gp, parent.shape)
            else:
                gp = _fit(gp, parent._data)
            previous = grads.get(parent)
            grads[parent] = gp if previous is None else previous + gp
    results = []
    for t in targets:
        g = grads.get(t)
        if g is None:
            g = np.zeros_like(t._data) if t.ndim else 0.0
            g = _constant(output, g) if create_graph else g
        results.append(g)
    return results[0] if single else tuple(results)
