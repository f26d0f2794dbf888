"""``collapse="module"``: a model's graph drawn as one box per module (an embedding, an
attention layer, a linear layer) and per named part (a norm, the loss), read from the graph.

A module is the path of the parameters an op consumes (``attn.0`` for ``attn.0.Wq``, as
``Module`` labels them); its box holds those ops, the ones on a path between two of them
(an attention's reshapes, scores, mask and softmax between ``x @ Wq`` and ``... @ Wo``),
an activation applied to its output alone (``relu``), its parameters, and the constants
only it uses (a scale, a mask; not the data its ops read). The values the model labelled
alike (``norm``, ``loss``) are a box of their own too, with the unlabelled values computed
only for them (an RMSNorm's five nodes); a labelled value with nothing of its own stays a
plain box (``x``, the residual stream). Nothing is guessed from shapes or sizes.

>>> from autograd import Value
>>> from viz.collapse import forward_order, names_for
>>> W = Value([[1.0, -1.0]], label="fc.W"); x = Value([[2.0]], label="x")
>>> values = forward_order((x @ W).relu().sum())
>>> {names_for(values)[v]: box.name for v, box in group_by_module(values).items()}
{'fc.W': 'fc', 'v1': 'fc', 'v2': 'fc'}
"""

from __future__ import annotations

from collections import Counter

from autograd import Value
from nn.activations import REGISTRY

from .collapse import Box, is_constant, owner

MODULE = "module"
_ACTIVATIONS = frozenset(REGISTRY) - {"linear"}
_LINEAR = ("@", "linear", "w·x", "w·x+b")


def group_by_module(values: list[Value]) -> dict[Value, Box]:
    """The box each grouped value belongs to (``values`` in forward order, the root
    last): one box per module path, and one per label the model gave to values that
    have values of their own (or to several values: a scalar model's ``norm``)."""
    users: dict[Value, list[Value]] = {v: [] for v in values}
    for v in values:
        for p in dict.fromkeys(v.parents):
            users[p].append(v)
    seed_of: dict[Value, str] = {}  # an op -> the module whose parameters it consumes
    for v in values:
        paths = {owner(p) for p in v.parents} - {None} if v.op else set()
        if len(paths) == 1:
            seed_of[v] = paths.pop()
    home = _between(values, users, seed_of)  # value -> its box's name
    paths_taken = set(seed_of.values())  # a label that is a module path joins that box
    labelled: set[str] = set()  # the names that are labels, not module paths
    for v in values:
        if not v.op and owner(v) is not None:
            home[v] = owner(v)
        elif v not in home and v.op in _ACTIVATIONS and len(v.parents) == 1:
            x = v.parents[0]
            if x in home and x.op and users[x] == [v]:
                home[v] = home[x]
    for v in reversed(values):  # labelled values, and what only they use
        if v in home or not v.op:
            continue
        mine = {home.get(u) for u in users[v]}
        if v.label:
            home[v] = v.label
            if v.label not in paths_taken:
                labelled.add(v.label)
        elif not v.label and len(mine) == 1 and next(iter(mine)) in labelled:
            home[v] = mine.pop()
    inputs = {p for v in seed_of for p in v.parents}
    for v in values:  # constants go with the one box that uses them (not the data it reads)
        mine = {home.get(u) for u in users[v]}
        if v not in home and v not in inputs and is_constant(v) and len(mine) == 1:
            if None not in mine:
                home[v] = mine.pop()
    sizes = Counter(home.values())
    boxes: dict[str, Box] = {}
    box_of: dict[Value, Box] = {}
    for v in values:
        name = home.get(v)
        if name is None or (name in labelled and sizes[name] == 1):
            continue  # a labelled value with nothing of its own is drawn as itself
        if name not in boxes:
            boxes[name] = Box(f"g{len(boxes)}", name, MODULE)
        boxes[name].members.append(v)
        box_of[v] = boxes[name]
    return box_of


def _between(
    values: list[Value], users: dict[Value, list[Value]], seed_of: dict[Value, str]
) -> dict[Value, str]:
    """Each value on a path from an op of a module to an op of the same module (both
    included) that passes through no other module's op, mapped to that module: an
    attention's reshapes, scores, mask and softmax between ``x @ Wq`` and ``... @ Wo``.
    One pass each way, each value carrying the modules it is reached from (or reaches)."""
    empty: frozenset[str] = frozenset()
    after: dict[Value, frozenset[str]] = {}
    for v in values:
        own = seed_of.get(v)
        after[v] = frozenset((own,)) if own else empty.union(*(after[p] for p in v.parents))
    before: dict[Value, frozenset[str]] = {}
    for v in reversed(values):
        own = seed_of.get(v)
        before[v] = frozenset((own,)) if own else empty.union(*(before[u] for u in users[v]))
    rank = {path: i for i, path in enumerate(dict.fromkeys(seed_of.values()))}
    return {
        v: min(after[v] & before[v], key=rank.__getitem__) for v in values if after[v] & before[v]
    }


def module_cells(unit: Box, names: dict[Value, str], values: list[Value]) -> list[list[tuple]]:
    """A module box's label as rows of cells (as :func:`viz.graph.plan` keeps them): its
    name and what it computes, then the gradient of its output (the values used outside
    it; the root's box shows the root's value too), of an attention's weights and of
    each parameter (the scalar parameters of one tensor, ``Wq[0,1]``, ``Wq[0,2]``, ...,
    on one row). Each value's own numbers are in the drawing without ``collapse``."""
    members = set(unit.members)
    ops = [v for v in unit.members if v.op]
    params: dict[str, list[Value]] = {}
    for v in unit.members:
        if not v.op and owner(v) is not None:
            params.setdefault(names[v].rpartition(".")[2].split("[")[0], []).append(v)
    kind = _kind(ops, bool(params))
    rows: list[list[tuple]] = [[("text", [], f"{unit.name}: {kind}" if kind else unit.name)]]
    used_outside = {p for v in values if v not in members for p in v.parents}
    outs = [v for v in ops if v in used_outside or v is values[-1]] or ops[-1:]
    if outs:
        named = len(outs) == 1 and outs[0].label not in ("", unit.name)
        rows.append(_row(outs[0].label if named else "out", outs, values[-1] in outs))
    weights = [v for v in ops if v.op == "softmax" and v not in outs]
    if weights:
        rows.append(_row("weights", weights))
    rows += [_row(name, vals) for name, vals in params.items()]
    return rows


def _row(text: str, vals: list[Value], data: bool = False) -> list[tuple]:
    """One row: a name with its shape (or its count of scalars), the gradient (and with
    ``data``, the values)."""
    if len(vals) > 1:
        text = f"{text} ({len(vals)})"
    elif vals[0].ndim:
        text = f"{text} {vals[0].shape}"
    return [("text", [], text), *([("data", vals, "")] if data else []), ("grad", vals, "")]


def _kind(ops: list[Value], module: bool) -> str:
    """What a box computes, in a few words: ``attention, 4 heads``, ``relu(x @ W)``,
    ``lookup``, an RMS norm's formula; else a module's first ops in order, and nothing
    for a labelled part (its label says it)."""
    kinds = [v.op for v in ops]
    seen = tuple(dict.fromkeys(kinds))
    if seen in (("*", "mean", "+", "**"), ("w·x", "*", "+", "**")):  # nn.gpt's two RMS norms
        return "x / √(mean(x²) + ε)"
    if not module:
        return ""
    if "softmax" in kinds and kinds.count("@") >= 3:
        weights = ops[kinds.index("softmax")]
        heads = weights.shape[-3] if weights.ndim >= 3 else 1
        return f"attention, {heads} head{'s' * (heads != 1)}"
    if {"exp", "/", "w·x"} <= set(kinds):  # a scalar model's: each softmax written out
        return "attention"
    if set(kinds) == {"[]"}:
        return "lookup"
    if set(kinds) & set(_LINEAR) and set(kinds) <= {*_LINEAR, *_ACTIVATIONS}:
        acts = sorted(set(kinds) & _ACTIVATIONS)
        form = "x @ W + b" if set(kinds) & {"linear", "w·x+b"} else "x @ W"
        return f"{acts[0]}({form})" if len(acts) == 1 else form
    return " ".join(seen[:5]) + (" …" if len(seen) > 5 else "")
