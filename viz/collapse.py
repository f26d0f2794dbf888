"""Names and groups for a network's graph: every value gets a short display name from the
model (``L1.n3.w2``, ``L1.n3.z``, ``L1.n3.out``), and the values of one neuron or one
layer can be drawn as one box.

It reads only the graph: a parameter's label is its module path (``Module`` sets it,
``layers.1.neurons.3.w2``); a ``w·x+b`` (or ``linear``) node belongs to the module of
the weights it consumes; the one activation applied to it belongs there too. Nothing
is guessed from shapes or sizes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from autograd import Value

LEVELS = ("neuron", "layer")
_WEIGHTED = ("w·x+b", "w·x")


def short_name(label: str) -> str:
    """A module path shown short: ``layers.1.neurons.3.w2`` -> ``L1.n3.w2``.

    >>> short_name("layers.1.neurons.3.w2"), short_name("fc1.W"), short_name("x1")
    ('L1.n3.w2', 'fc1.W', 'x1')
    """
    label = re.sub(r"(?<![\w.])layers\.(\d+)", r"L\1", label)
    label = re.sub(r"(?<=\.)neurons\.(\d+)|^neurons\.(\d+)", lambda m: "n" + (m[1] or m[2]), label)
    return label


def owner(v: Value) -> str | None:
    """The module path a parameter belongs to (``layers.1.neurons.3`` for
    ``layers.1.neurons.3.w2``), or None for a value with no dotted label."""
    head, dot, _ = v.label.rpartition(".")
    return head if dot and not v.op else None


def layer_of(path: str) -> str:
    """The layer a neuron's path belongs to: ``layers.1.neurons.3`` -> ``layers.1``."""
    return re.sub(r"\.?neurons\.\d+$", "", path) or path


@dataclass
class Roles:
    """What the graph says about each value: the module that computed it (``owners``),
    its role there (``z`` or ``out``), and which input set (sample) it saw."""

    owners: dict[Value, str] = field(default_factory=dict)
    role: dict[Value, str] = field(default_factory=dict)
    sample: dict[Value, int] = field(default_factory=dict)  # z and out: 0, 1, ... per layer
    inputs: dict[Value, str] = field(default_factory=dict)  # unnamed inputs: x1, x2, ...


def find_roles(values: list[Value]) -> Roles:
    """Find every neuron's (or dense layer's) pre-activation ``z`` and output ``out``."""
    roles = Roles()
    users = Counter(p for v in values for p in v.parents)
    samples: dict[str, dict[tuple, int]] = {}
    for v in reversed(values):  # inputs before outputs, so samples number in order
        op = v.op
        if op in _WEIGHTED:
            n = len(v.parents) // 2
            weights, inputs = v.parents[:n], v.parents[n : 2 * n]
        elif op == "linear":
            weights, inputs = v.parents[1:2], v.parents[:1]
        else:
            continue
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
                roles.inputs[x] = f"x{i + 1}" if op in _WEIGHTED else "x"
    for v in values:
        if len(v.parents) == 1 and v.op:
            z = v.parents[0]
            if roles.role.get(z) == "z" and users[z] == 1:
                roles.owners[v], roles.role[v] = roles.owners[z], "out"
                roles.sample[v] = roles.sample[z]
    return roles


def names_for(values: list[Value], roles: Roles | None = None) -> dict[Value, str]:
    """A display name per value, unique, no apostrophes: its label shown short, a
    neuron's ``L1.n3.z`` and ``L1.n3.out``, else ``v1``, ``v2``, ...; a repeated name
    gets ``#2``, ``#3``, ..."""
    roles = roles or find_roles(values)
    names, used, unnamed = {}, Counter(), 0
    for v in inputs_first(values):
        if v.label:
            name = short_name(v.label)
        elif v in roles.role:
            name = f"{short_name(roles.owners[v])}.{roles.role[v]}"
        elif v in roles.inputs:
            name = roles.inputs[v]
        else:
            unnamed += 1
            name = f"v{unnamed}"
        used[name] += 1
        names[v] = name if used[name] == 1 else f"{name} #{used[name]}"
    return names


def inputs_first(values: list[Value]) -> list[Value]:
    """``values`` (``values[0]`` the output) with every input before what it feeds, each
    op's inputs left to right: ``x1*w1`` is numbered before ``x2*w2``."""
    keep, order, seen = set(values), [], set()
    stack: list = [(values[0], False)] if values else []
    while stack:
        v, expanded = stack.pop()
        if expanded:
            order.append(v)
            continue
        if v in seen:
            continue
        seen.add(v)
        stack.append((v, True))
        stack.extend((p, False) for p in reversed(v.parents) if p in keep and p not in seen)
    return order + [v for v in values if v not in seen]


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
            boxes[name] = Box(f"g{len(boxes)}", short_name(name), level)
        return boxes[name]

    for v in reversed(values):
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
