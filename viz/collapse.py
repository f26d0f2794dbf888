"""Names, order and groups for a graph: every value gets its display name by the scheme of
:mod:`nn.names` (``L1.n2.w1``, ``L1.n2.z``, ``L1.n2``, ``out1``, ``e1``, ``loss``), the
values are put in one forward order, and the values of one neuron or one layer can be
drawn as one box.

It reads only the graph: a parameter's label is its short name (``Module`` sets it,
``L1.n2.w1``); a ``w·x+b`` (or ``linear``) node belongs to the module of the weights it
consumes; the one activation applied to it belongs there too; a network output minus a
constant is an error against a target. Nothing is guessed from shapes or sizes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from autograd import Value, topological_order
from nn.names import error_name, input_name, output_name, target_name

from .format import summary

LEVELS = ("neuron", "layer")
_WEIGHTED = ("w·x+b", "w·x")
_AS_WRITTEN = 200_000  # path entries; past this a graph keeps the engine's order as it is


def forward_order(root: Value) -> list[Value]:
    """Every value ``root`` depends on, each after its inputs, ``root`` last: the
    engine's :func:`autograd.topological_order`, with the constants it leaves out (they
    need no gradient) placed before their first use. A graph that is not too deep for it
    is then put in the order it was written, each op's inputs left to right (``x1*w1``
    before ``x2*w2``), whatever order the engine's search happened to take.

    >>> a, b = Value(2.0, label="a"), Value(3.0, label="b")
    >>> [v.label or v.op for v in forward_order(a * b + 1.0)]
    ['a', 'b', '*', '', '+']
    """
    order: list[Value] = []
    seen: set[Value] = set()
    for v in topological_order(root):
        for p in v.parents:
            if p not in seen:  # no gradient: left out by the engine's order
                for q in topological_order(p):
                    if q not in seen:
                        seen.add(q)
                        order.append(q)
        seen.add(v)
        order.append(v)
    return _as_written(order)


def _as_written(order: list[Value]) -> list[Value]:
    """``order`` (a valid forward order, its root last) as a left-to-right depth-first
    search from the root would emit it: each value keeps the smallest path of input
    positions that reaches it from the root, and a value comes before every value whose
    path is a prefix of its own (its users) and after every path to its left."""
    paths: dict[Value, tuple] = {order[-1]: ()}
    size = 0
    for v in reversed(order):  # every user of v has been seen: its path is final
        path = paths[v]
        size += len(path)
        if size > _AS_WRITTEN:
            return order
        for i, p in enumerate(v.parents):
            mine = (*path, i)
            if p not in paths or mine < paths[p]:
                paths[p] = mine
    last = float("inf")
    return sorted(order, key=lambda v: (*paths[v], last))


def owner(v: Value) -> str | None:
    """The module a parameter belongs to (``L2.n4`` for ``L2.n4.w2``, ``L1`` for
    ``L1.W``), or None for a value with no dotted label."""
    head, dot, _ = v.label.rpartition(".")
    return head if dot and not v.op else None


def layer_of(module: str) -> str:
    """The layer a neuron belongs to: ``L2.n4`` -> ``L2`` (a layer is its own)."""
    return re.sub(r"(?:^|\.)n\d+$", "", module) or module


def layer_number(module: str) -> int | None:
    """The layer's number in the short names, from 1: ``L2.n4`` -> 2; None when the
    module is not a layer of an MLP (``fc1``)."""
    found = re.fullmatch(r"(?:.*\.)?L(\d+)", layer_of(module))
    return int(found[1]) if found else None


def is_constant(v: Value) -> bool:
    """A number in the graph rather than an input: an unlabelled leaf that needs no
    gradient, or a leaf labelled with its own number (the ``1`` of ``a*b + 1``)."""
    if v.op:
        return False
    if not v.requires_grad and not v.label:
        return True
    try:
        float(v.label)
    except ValueError:
        return False
    return True


@dataclass
class Roles:
    """What the graph says about each value: the module that computed it (``owners``),
    its role there (``z`` or ``out``), which input set (sample) it saw, and the names of
    the nodes around a network (inputs, outputs, targets, errors)."""

    owners: dict[Value, str] = field(default_factory=dict)
    role: dict[Value, str] = field(default_factory=dict)
    sample: dict[Value, int] = field(default_factory=dict)  # z and out: 0, 1, ... per layer
    inputs: dict[Value, str] = field(default_factory=dict)  # unnamed inputs: x1, x2, ...
    given: dict[Value, str] = field(default_factory=dict)  # out1, y1, e1, e1², loss, ...
    targets: set[Value] = field(default_factory=set)  # the y of each error out - y
    outputs: list[Value] = field(default_factory=list)  # the network's outputs


def find_roles(values: list[Value]) -> Roles:
    """Find every neuron's (or dense layer's) pre-activation ``z`` and output, the
    network's outputs (an output no weighted op reads), and the errors ``out - y``
    against a constant target and their squares. ``values`` in forward order."""
    roles = Roles()
    users = Counter(p for v in values for p in v.parents)
    samples: dict[str, dict[tuple, int]] = {}
    read = set()  # values a weighted op reads
    for v in values:  # inputs before outputs, so samples number in order
        op = v.op
        if op in _WEIGHTED:
            n = len(v.parents) // 2
            weights, inputs = v.parents[:n], v.parents[n : 2 * n]
        elif op == "linear":
            weights, inputs = v.parents[1:2], v.parents[:1]
        else:
            continue
        read.update(inputs)
        paths = {owner(w) for w in weights}
        if len(paths) != 1 or None in paths:
            continue
        path = paths.pop()
        seen = samples.setdefault(layer_of(path), {})
        key = tuple(map(id, inputs))
        roles.owners[v], roles.role[v] = path, "z"
        roles.sample[v] = seen.setdefault(key, len(seen))
        for i, x in enumerate(inputs):  # the network's own inputs, unnamed constants
            if not x.op and not x.label and x not in roles.inputs:
                roles.inputs[x] = input_name(i) if op in _WEIGHTED else "x"
    ends = {}  # z -> the value that ends its neuron: its activation, or z itself
    for v in values:
        if roles.role.get(v) == "z":
            ends[v] = v
        elif len(v.parents) == 1 and v.op:
            z = v.parents[0]
            if roles.role.get(z) == "z" and users[z] == 1:
                roles.owners[v], roles.role[v] = roles.owners[z], "out"
                roles.sample[v] = roles.sample[z]
                ends[z] = v
    _name_outputs(roles, [end for end in ends.values() if end not in read], values)
    return roles


def _name_outputs(roles: Roles, outputs: list[Value], values: list[Value]) -> None:
    """The network's outputs ``out1, ...`` per sample; an output minus a constant is
    its error ``e1`` against the target ``y1``, the error squared ``e1²``."""
    by_sample: dict[int, list[Value]] = {}
    for v in outputs:
        by_sample.setdefault(roles.sample[v], []).append(v)
    errors = {}
    for group in by_sample.values():
        group.sort(key=lambda v: natural_key(roles.owners[v]))
        for k, v in enumerate(group):
            roles.given[v] = output_name(k, len(group))
            errors[v] = (k, len(group))
    roles.outputs = [v for group in by_sample.values() for v in group]
    for v in values:
        if v.op == "-" and v.parents[0] in errors:
            target = v.parents[1]
            if not target.op and not target.requires_grad:
                roles.targets.add(target)
                k, count = errors[v.parents[0]]
                if not target.label:
                    roles.given[target] = target_name(k, count)
                if not v.label:
                    roles.given[v] = error_name(k, count)
        elif v.op == "**" and not v.label and v.parents[0] in roles.given:
            base = roles.given[v.parents[0]]
            params = v._op.params if v._op is not None else ()
            if base.startswith("e") and tuple(params) == (2.0,):
                roles.given[v] = base + "²"


def names_for(values: list[Value], roles: Roles | None = None) -> dict[Value, str]:
    """A display name per value (``values`` in forward order, the root last): its label
    as given, a neuron's ``L1.n2.z`` and ``L1.n2``, the network's ``x1``, ``out1``,
    ``y1``, ``e1``, ``e1²``, an unlabelled root after the outputs ``loss``, a constant
    its number, else ``v1``, ``v2``, ...; a repeated name gets ``#2``, ``#3``, ...
    (constants may share theirs: ``1``)."""
    roles = roles or find_roles(values)
    has_out = {v.parents[0] for v in values if roles.role.get(v) == "out"}
    after_outputs = _downstream(values, roles.outputs)
    names, used, unnamed = {}, Counter(), 0
    for v in values:
        if v.label:
            name = v.label
        elif v is values[-1] and v in after_outputs:
            name = "loss"
        elif v in roles.given:
            name = roles.given[v]
        elif roles.role.get(v) == "z":
            name = f"{roles.owners[v]}.z" if v in has_out else roles.owners[v]
        elif v in roles.role:
            name = roles.owners[v]
        elif v in roles.inputs:
            name = roles.inputs[v]
        elif is_constant(v) and v.ndim == 0:
            names[v] = summary(v.data)
            continue
        else:
            unnamed += 1
            name = f"v{unnamed}"
        used[name] += 1
        names[v] = name if used[name] == 1 else f"{name} #{used[name]}"
    return names


def _downstream(values: list[Value], starts: list[Value]) -> set[Value]:
    """The values computed from any of ``starts`` (``values`` in forward order)."""
    found = set(starts)
    for v in values:
        if any(p in found for p in v.parents):
            found.add(v)
    return found - set(starts)


def natural_key(name: str) -> list:
    """Sort key reading numbers as numbers: ``w10`` after ``w9``.

    >>> sorted(["w10", "w9", "w1"], key=natural_key)
    ['w1', 'w9', 'w10']
    """
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


@dataclass(eq=False)
class Box:
    """Values drawn as one box: a neuron's (or a layer's) parameters, ``z`` and ``out``."""

    id: str
    name: str
    level: str
    members: list[Value] = field(default_factory=list)


def group(values: list[Value], level: str, roles: Roles | None = None) -> dict[Value, Box]:
    """The box each grouped value belongs to, at ``level`` ``"neuron"`` or ``"layer"``.
    One box per module and sample (``L1.n3``, ``L1.n3 #2``, ...); when a module saw
    several samples its parameters get a box of their own (``L1.n3 params``)."""
    if level not in LEVELS:
        raise ValueError(f"collapse must be one of {LEVELS} or None, got {level!r}")
    roles = roles or find_roles(values)
    key = (lambda p: p) if level == "neuron" else layer_of
    counts: dict[str, set] = {}
    for v, path in roles.owners.items():
        counts.setdefault(key(path), set()).add(roles.sample[v])
    boxes: dict[str, Box] = {}
    box_of: dict[Value, Box] = {}

    def box(name: str) -> Box:
        if name not in boxes:
            boxes[name] = Box(f"g{len(boxes)}", name, level)
        return boxes[name]

    for v in values:
        path = roles.owners.get(v)
        if path is not None:
            k = key(path)
            many = len(counts[k]) > 1
            name = f"{k} #{roles.sample[v] + 1}" if many else k
        else:
            path = owner(v)
            if path is None or key(path) not in counts:
                continue
            k = key(path)
            name = f"{k} params" if len(counts[k]) > 1 else k
        b = box(name)
        b.members.append(v)
        box_of[v] = b
    return box_of
