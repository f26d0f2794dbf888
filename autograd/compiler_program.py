"""The compiled step written out: from what a trace recorded (``compiler_trace.Recorded``), one
Python function of straight-line calls over names bound to arrays made once.

The function checks its guards (the arguments' shapes and dtypes, every parameter's
array), computes the arguments' conversions, then follows the step as it ran: each node's
forward, at the point of ``backward()`` the chain rule, at the point of the optimizer's
``step()`` its update, then returns the numbers. Its backward is ``fast_backward``'s walk
unrolled: the same order (``order_of_ops``), the same vjps with the same inputs, each
gradient fitted (``fit_data``) and summed in the same order, so every number is the same
to the bit (tests/test_compile.py). An op with a twin in ``compiler_kernels`` writes into
arrays of its own instead of making new ones.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .backprop import fit_data
from .compiler_inputs import Inputs, guard_arguments, named, refuse
from .data import FLOAT_DTYPES
from .fast_backward import order_of_ops
from .value import Value

STALE = object()  # what a replay returns when a guard fails: trace again


class Replay(NamedTuple):
    """A written step: ``run(*args)`` and its ``source``."""

    run: Callable[..., Any]
    source: str


class Grad(NamedTuple):
    """A gradient being summed: the name holding it, and whether that array is the
    sum's own (it may be added to in place) or shared with another name."""

    name: str
    owned: bool


class Program:
    """A function being written: lines of Python over names bound in ``space``."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.space: dict[str, Any] = {"STALE": STALE, "node_data": node_data}
        self.space["fit_data"] = fit_data
        self.slot: dict[Value, str] = {}  # each value's numbers, by name
        self.graded: set[Value] = set()  # the inputs whose .grad the replay sets
        self.drawn: dict[int, list[Value]] = {}  # random arrays: the values holding them
        self.kept: dict[Value, str] = {}  # what a kernel's forward keeps for its backward
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def bind(self, obj: Any, prefix: str = "k") -> str:
        """A name for ``obj``: the function reads it from its globals."""
        name = self.name(prefix)
        self.space[name] = obj
        return name

    def numpy(self, fn: str) -> str:
        """The name of numpy's ``fn`` (``"matmul"``, ``"add.reduce"``) in the function."""
        name = fn.replace(".", "_")
        self.space[name] = _attribute(np, fn)
        return name

    def buffer(self, like: Any) -> str:
        """An array made now with the shape, dtype and layout of ``like``."""
        return self.bind(np.empty_like(like), "b")

    def emit(self, line: str) -> None:
        self.lines.append(line)

    def function(self) -> Replay:
        body = "\n".join(f"    {line}" for line in self.lines)
        source = f"def replay(*args):\n{body}\n"
        builtins.exec(builtins.compile(source, "<compiled step>", "exec"), self.space)
        return Replay(self.space["replay"], source)


def _attribute(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def node_data(out: Any) -> Any:
    """What ``value.record`` makes of an op's result: a float for a 0-d result, float64
    for an array of another dtype."""
    if type(out) is float:
        return out
    if isinstance(out, np.ndarray) and out.ndim:
        return out if out.dtype in FLOAT_DTYPES else out.astype(np.float64)
    return float(out)


# ---------------------------------------------------------------- one node's forward
def forward(prog: Program, node: Value, op: Any, parents: tuple, params: list[str]) -> None:
    """Compute ``node``'s numbers (``op`` of ``parents``) into ``prog.slot[node]``."""
    from .compiler_kernels import KERNELS

    args = [prog.slot[p] for p in parents]
    kernel = KERNELS.get(op.key) if node._op is not None else None  # (not graphless)
    if kernel is not None and kernel.forward is not None:
        name = kernel.forward(prog, node, args, params)
        if name is not None:
            prog.slot[node] = name
            return
    name = prog.name("v")
    fn = prog.bind(op.forward, "f")
    prog.emit(f"{name} = node_data({fn}({', '.join(args + params)}))  # {op.name}")
    prog.slot[node] = name


# ---------------------------------------------------------------- the chain rule
def backward(prog: Program, root: Value, seed: str, params: dict) -> dict[Value, str]:
    """The chain rule from ``root`` (gradient ``seed``), ``fast_backward``'s walk
    unrolled; returns the name of each input's gradient. ``params`` names each node's
    params (``forward``'s)."""
    from .compiler_kernels import KERNELS

    grads: dict[Value, Grad] = {}
    _add(prog, grads, root, seed, fitted=False, owned=False)
    for node in reversed(order_of_ops(root)):
        op, parents = node._op, node._parents
        assert op is not None  # (order_of_ops lists the nodes an op made)
        scalar = type(node._data) is float
        g = grads.get(node)
        if g is None and not scalar:
            continue  # nothing flows back through this node
        g_name = g.name if g is not None else "0.0"  # a float node's sum starts at 0.0
        args = [prog.slot[p] for p in parents] + params[node]
        needs = [p.requires_grad for p in parents]
        kernel = KERNELS.get(op.key)
        found = None
        if kernel is not None and kernel.backward is not None:
            found = kernel.backward(prog, node, g_name, prog.slot[node], args)
        if found is None:
            found = _vjps(prog, node, g_name, args, needs)
        for parent, contribution in zip(parents, found):
            if contribution is not None:
                _add(prog, grads, parent, *contribution)
    return {v: g.name for v, g in grads.items() if v._op is None}


def _vjps(prog: Program, node: Value, g: str, args: list[str], needs: list[bool]) -> list:
    """Each input's gradient from the op's vjps, as ``backward()`` calls them: one
    ``vjp_all`` call for an n-ary op, else one vjp per input that needs a gradient
    (as ``backward()``'s scalar path does for one or two float inputs)."""
    op, parents = node._op, node._parents
    assert op is not None  # (a leaf has no vjps to call)
    out = prog.slot[node]
    floats = type(node._data) is float and all(type(p._data) is float for p in parents)
    scalar_path = floats and not op.params and len(parents) in (1, 2)
    call = f"({g}, {', '.join([out] + args)})"
    if op.vjp_all is not None and not scalar_path:
        every = prog.name("t")
        prog.emit(f"{every} = {prog.bind(op.vjp_all, 'd')}{call}  # {op.name}'s vjps")
        return [(f"{every}[{i}]", False, False) if need else None for i, need in enumerate(needs)]
    found: list = []
    for i, (vjp, need) in enumerate(zip(op.vjps, needs)):
        if not need:
            found.append(None)
            continue
        name = prog.name("t")
        prog.emit(f"{name} = {prog.bind(vjp, 'd')}{call}  # {op.name}'s vjp {i}")
        found.append((name, scalar_path, False))  # the scalar path adds it as it is
    return found


def _add(prog: Program, grads: dict, value: Value, c: str, fitted: bool, owned: bool) -> None:
    """Add contribution ``c`` to ``value``'s gradient as ``fast_backward`` does: fitted
    to its shape and dtype (``fit_data``, unless ``fitted``: already, or added as it is
    by the scalar path), a float sum starting at 0.0, an array sum ``current + c`` (in
    place when the current array is the sum's own: the same numbers)."""
    data = value._data
    current = grads.get(value)
    if type(data) is float:
        if not fitted:
            c = f"fit_data({c}, 0.0)"
        name = prog.name("g")
        prog.emit(f"{name} = {current.name if current else '0.0'} + {c}")
        grads[value] = Grad(name, False)
        return
    if not fitted:
        template = prog.bind(np.broadcast_to(np.empty((), data.dtype), data.shape), "s")
        name = prog.name("g")
        prog.emit(f"{name} = fit_data({c}, {template})")
        c, owned = name, False
    if current is None:
        grads[value] = Grad(c, owned)
    elif current.owned:
        prog.emit(f"{prog.numpy('add')}({current.name}, {c}, {current.name})")
    else:
        total = prog.buffer(data)
        prog.emit(f"{prog.numpy('add')}({current.name}, {c}, {total})")
        grads[value] = Grad(total, True)


# ---------------------------------------------------------------- the whole step
def write(rec: Any) -> Replay:
    """The replay of a trace (``compiler_trace.Recorded``), or a RuntimeError naming what it
    cannot replay."""
    prog = Program()
    args = rec.args
    names = [f"a{i}" for i in range(len(args))]
    roots = [e[2] for e in rec.events if e[1] in ("backward", "read")] + _values(rec.result)
    made = {v: (v._op, v._parents) for v in rec.nodes if v._op is not None}
    made.update(rec.graphless)  # computed without a graph: computed again all the same
    ops, leaves = _reached(roots, made)
    for node in ops:
        if node not in made:
            refuse(f"uses {named(node)}, computed before it; compute it in the step")
    randoms = {id(e[2]): e for e in rec.events if e[1] == "random"}
    guards = guard_arguments(prog, args, names)
    inputs = Inputs(prog, args, names)
    floats_read = []
    for leaf in leaves:
        data = leaf._data
        if id(data) in randoms:
            prog.drawn.setdefault(id(data), []).append(leaf)  # named where it is drawn
            continue
        name = inputs.find(data, derive=not leaf.requires_grad or leaf in rec.created)
        if name is not None:
            prog.slot[leaf] = name
            continue
        # A parameter frozen or unfrozen since the trace is another step: trace again.
        owner = prog.bind(leaf, "p")
        if leaf.requires_grad and type(data) is float:
            prog.slot[leaf] = prog.name("w")
            floats_read.append(leaf)
            guards.append(f"not {owner}.requires_grad")
        elif leaf.requires_grad:
            array = prog.bind(data, "w")
            guards.append(f"not {owner}.requires_grad or {owner}._data is not {array}")
            prog.slot[leaf] = array
        else:  # (its numbers too: a frozen parameter may be assigned new ones)
            prog.slot[leaf] = constant = prog.bind(data, "k")
            guards.append(f"{owner}.requires_grad or {owner}._data is not {constant}")
    params = {
        node: [inputs.find(p, derive=True) or prog.bind(p, "q") for p in made[node][0].params]
        for node in ops
    }
    inputs.check_all_used()
    if guards:
        prog.emit(f"if {' or '.join(guards)}:")
        prog.emit("    return STALE")
    prog.lines += inputs.lines
    _read_floats(prog, floats_read)
    events, at = rec.events, 0
    for i, node in enumerate([*rec.nodes, None]):
        while at < len(events) and events[at][0] <= i:
            _event(prog, events[at], params, floats_read)
            at += 1
        if node in ops:
            forward(prog, node, *made[node], params[node])
    for leaf, grad in rec.after.items():
        if leaf in prog.graded and (grad is None or type(grad) is float):
            prog.emit(f"{prog.bind(leaf, 'p')}._g = {grad!r}  # as the step left it")
    prog.emit(f"return {_returned(prog, rec.result)}")
    return prog.function()


def _values(result: Any) -> list[Value]:
    if isinstance(result, Value):
        return [result]
    if isinstance(result, (tuple, list)):
        return [v for r in result for v in _values(r)]
    return []


def _reached(roots: list[Value], made: dict) -> tuple[set[Value], list[Value]]:
    """The nodes (an op made them: ``made``'s, or before the step) and the leaves the
    roots depend on (a loop: any depth)."""
    ops: set[Value] = set()
    leaves: dict[Value, None] = {}
    stack, seen = list(roots), set()
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if v in made or v._op is not None:
            ops.add(v)
            stack.extend(made[v][1] if v in made else v._parents)
        else:
            leaves[v] = None
    return ops, list(leaves)


def _read_floats(prog: Program, leaves: list[Value]) -> None:
    for leaf in leaves:  # a float parameter: a new Python float after each step
        prog.emit(f"{prog.slot[leaf]} = {prog.bind(leaf, 'p')}._data")


def _event(prog: Program, event: tuple, params: dict, floats: list[Value]) -> None:
    kind = event[1]
    if kind == "backward":
        _, _, root, seed = event
        prog.emit("# backward()")
        for leaf, name in backward(prog, root, prog.bind(seed, "k"), params).items():
            if leaf.requires_grad:
                prog.emit(f"{prog.bind(leaf, 'p')}._g = {name}")
                prog.graded.add(leaf)
    elif kind == "update":
        prog.emit(f"{prog.bind(event[2], 'u')}()  # the optimizer's step")
        _read_floats(prog, floats)
    elif kind == "read":
        _, _, value, fn = event
        prog.emit(f"{prog.bind(fn, 'f')}({prog.slot[value]})  # read(value, fn)")
    elif kind == "random":
        _, _, data, draw, args = event
        name = prog.name("r")
        values = ", ".join(prog.bind(a, "q") for a in args)
        prog.emit(f"{name} = {prog.bind(draw, 'f')}({values})  # a new random draw")
        for leaf in prog.drawn.get(id(data), ()):
            prog.slot[leaf] = name


def _returned(prog: Program, result: Any) -> str:
    if result is None:
        return "None"
    if isinstance(result, Value):
        name = prog.slot[result]
        return name if type(result._data) is float else f"{prog.numpy('array')}({name})"
    inner = ", ".join(_returned(prog, r) for r in result)
    if isinstance(result, list):
        return f"[{inner}]"
    return f"({inner}{',' if len(result) == 1 else ''})"
