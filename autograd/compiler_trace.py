"""The trace of a step being compiled (``compiler``): the tracer, which watches one call
of the step (every node recorded, every read of numbers, the ``backward()``, the
optimizer's ``step()``, the random draws), and what it swaps into ``Value`` for that call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import backprop, tracing
from . import value as value_module
from .compiler_inputs import named, refuse
from .value import Value

# the methods that read a value's numbers
_READS = "item __float__ isfinite __lt__ __le__ __gt__ __ge__ _mask argmax argmin __repr__".split()


class Recorded(NamedTuple):
    """What a trace saw, for ``compiler_program.write``."""

    args: tuple
    nodes: list  # every node recorded in the step, in order
    events: list  # (position, kind, ...): "backward", "update", "read", "random"
    result: Any
    after: dict  # leaf -> its gradient when the step ended (None: cleared)
    graphless: dict  # the nodes made without a graph: node -> (op, inputs)
    created: set  # the leaves made during the step


class Tracer:
    """Watches one call of a step, in the thread that runs it."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.nodes: list[Value] = []
        self.events: list[tuple] = []
        self.reads: list[tuple[int, int, str]] = []
        self.graphless: dict[Value, tuple] = {}  # node made without a graph: (op, inputs)
        self.created: list[Value] = []  # leaves made in the step (from its arguments?)
        self.grads: dict[Value, Any] = {}
        self.busy = False  # inside a backward() or optimizer step the tracer runs
        self.problems: list[str] = []

    def mine(self) -> bool:
        return not self.busy and threading.get_ident() == self.thread

    # ------------------------------------------------------------ hooks
    def recorded(self, node: Value, op: Any, parents: tuple) -> None:
        if self.mine():
            self.nodes.append(node)
            if node._op is None:  # no input needs a gradient: computed again all the same
                self.graphless[node] = (op, parents)

    def read(self, value: Any, how: str) -> None:
        if self.mine() and isinstance(value, Value) and (value._op is not None or how == ".grad"):
            self.reads.append((len(self.nodes), len(self.events), f"{how} of {named(value)}"))

    def runs_backward(self, root: Value, grad: Any) -> bool:
        """Run ``root.backward(grad)`` watched, unless this is that very call."""
        if not self.mine():
            return False
        if any(e[1] == "backward" for e in self.events):
            self.problems.append("calls backward() twice; a compiled step takes one")
        leaves = [v for v in backprop.topological_order(root) if v._op is None]
        held = [v for v in leaves if v.requires_grad and _holds_gradient(v)]
        if held:
            self.problems.append(
                f"runs backward() while {named(held[0])} already holds a gradient; call "
                "the optimizer's zero_grad() in the step (a replay computes fresh ones)"
            )
        seed = backprop._seed(root, grad)
        self.busy = True
        try:
            root.backward(grad)
        finally:
            self.busy = False
        self.grads = {v: _copy(v._g) for v in leaves if v.requires_grad}
        self.events.append((len(self.nodes), "backward", root, seed))
        return True

    def runs_step(self, optimizer: Any) -> bool:
        """Run ``optimizer.step()`` watched, unless this is that very call."""
        if not self.mine():
            return False
        edited = [v for v, g in self.grads.items() if not _same(v._g, g)]
        if edited:
            self.problems.append(
                f"changes the gradient of {named(edited[0])} between backward() and the "
                "optimizer's step; a replay would not"
            )
        update = optimizer.compiled_update()
        self.busy = True
        try:
            optimizer.step()
        finally:
            self.busy = False
        self.events.append((len(self.nodes), "update", update))
        return True

    def reads_with(self, value: Value, fn: Callable) -> None:
        if self.mine():
            self.events.append((len(self.nodes), "read", value, fn))
        self.busy, busy = True, self.busy
        try:
            fn(value._data)
        finally:
            self.busy = busy

    def random(self, data: Any, draw: Callable, args: tuple) -> None:
        if threading.get_ident() == self.thread:
            self.events.append((len(self.nodes), "random", data, draw, args))

    def refuse(self, why: str) -> None:
        if self.mine():
            self.problems.append(why)

    # ------------------------------------------------------------ after the step
    def finish(self, args: tuple, result: Any) -> Recorded:
        """What the trace saw, or a RuntimeError naming the first thing a replay
        could not do."""
        for count, events, what in self.reads:
            if count < len(self.nodes) or events < len(self.events):
                self.problems.append(
                    f"reads {what} and goes on; a replay does not run the step's Python, "
                    "so nothing in it may depend on numbers: return the value and read it "
                    "after the call"
                )
                break
        if not _returns_values(result):
            self.problems.append(
                f"returns a {type(result).__name__}; return Values (or a tuple or list of "
                "them, or None): the compiled step returns their numbers"
            )
        for i, a in enumerate(args):
            if not isinstance(a, np.ndarray):
                try:
                    hash(a)
                except TypeError:
                    self.problems.append(
                        f"argument {i} is a {type(a).__name__}; pass numpy arrays (or numbers "
                        "and other fixed, hashable values)"
                    )
        if self.problems:
            refuse(self.problems[0])
        after = {v: getattr(v, "_g", None) for v in self.grads}
        return Recorded(
            args, self.nodes, self.events, result, after, self.graphless, set(self.created)
        )


# ---------------------------------------------------------------- what the trace swaps in
_trace_lock = threading.Lock()
_INHERITED = object()


class watching:  # noqa: N801 (a context manager)
    """For one trace: ``tracing.active`` set, and the recording and reading methods of
    ``Value`` swapped for watched ones (every thread uses them; only this one is watched)."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> None:
        _trace_lock.acquire()
        tracer = self.tracer
        record = value_module.record

        def watched_record(out: Any, op: Any, parents: tuple) -> Value:
            # A number kept as a float among the parents (``y * 2.0``) becomes its
            # constant now: the compiler reads every input as a Value.
            parents = tuple(map(value_module._operand_of, parents))
            node = record(out, op, parents)
            tracer.recorded(node, op, parents)
            return node

        def chain_rule(root: Any, seed: Any, on_values: bool = False, caller: str = "") -> Any:
            if on_values:
                tracer.refuse(
                    "calls grad(..., create_graph=True), whose vjps pick some numbers in "
                    "Python (relu's mask, max's winner) that a replay would keep; take "
                    "second derivatives outside a compiled step"
                )
            else:
                tracer.refuse(
                    f"calls {caller or 'grad()'} for numbers, which a replay cannot follow; "
                    "call backward() and let the optimizer read the gradients"
                )
            return original_chain_rule(root, seed, on_values, caller or "grad()")

        init = Value.__init__

        def watched_init(self: Value, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            if tracer.mine():
                tracer.created.append(self)

        self._swap(Value, "__init__", watched_init)
        original_chain_rule = backprop.chain_rule
        self._swap(value_module, "record", watched_record)
        self._swap(backprop, "chain_rule", chain_rule)
        data: Any = Value.data  # (a property: mypy reads the class's overloads)
        self._swap(Value, "data", property(_reading(data.fget, ".data", tracer), data.fset))
        grad: Any = Value.grad
        self._swap(
            Value,
            "grad",
            property(_reading(grad.fget, ".grad", tracer), _set_grad(grad.fset, tracer)),
        )
        for name in _READS:
            self._swap(Value, name, _reading(getattr(Value, name), name, tracer))
        tracing.active = tracer

    def __exit__(self, *exc: Any) -> None:
        tracing.active = None
        for owner, name, original in self.saved[::-1]:
            if original is _INHERITED:  # (a method of MathMethods, say)
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        _trace_lock.release()

    def _swap(self, owner: Any, name: str, new: Any) -> None:
        self.saved.append((owner, name, vars(owner).get(name, _INHERITED)))
        setattr(owner, name, new)


def _reading(fn: Callable, how: str, tracer: Tracer) -> Callable:
    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        tracer.read(self, how)
        return fn(self, *args, **kwargs)

    return read


def _set_grad(fset: Callable, tracer: Tracer) -> Callable:
    def set_grad(self: Any, value: Any) -> None:
        if value is not None:
            tracer.refuse(f"sets the gradient of {named(self)} by hand; a replay would not")
        fset(self, value)

    return set_grad


# ---------------------------------------------------------------- helpers
def _holds_gradient(v: Value) -> bool:
    g = getattr(v, "_g", None)
    return g is not None and not (type(g) is float and g == 0.0)


def _copy(g: Any) -> Any:
    return np.array(g) if isinstance(g, np.ndarray) else g


def _same(g: Any, kept: Any) -> bool:
    if type(g) is not type(kept):
        return False
    if isinstance(g, np.ndarray):
        return g.shape == kept.shape and np.array_equal(g, kept, equal_nan=True)
    return g == kept or (g != g and kept != kept)


def _returns_values(result: Any) -> bool:
    if result is None or isinstance(result, Value):
        return True
    return isinstance(result, (tuple, list)) and all(_returns_values(r) for r in result)
