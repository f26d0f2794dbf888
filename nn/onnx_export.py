"""ONNX export: run one forward pass, walk the recorded ``Value`` graph, and write each
node as its op entry's ONNX translation (``op.onnx``, in ``autograd/ops/``; needs the
``onnx`` extra).

A translation is a small function of an :class:`Emitter`, the node's inputs and its
params: ``onnx=lambda emit, x: emit("Tanh", x)``; an op without one (an entry that says
``Without(reason)``) is a clear error naming it. The exported model computes in float32
(what ONNX tools expect), takes a batch of any size (``input``, first axis ``batch``)
and names every weight by its ``named_parameters()`` name.

A model of integer ids (a GPT: ``Embedding`` first) is traced on the ids array itself:
the lookup ``table[ids]`` records that very array as its index, which the export
writes as a ``Gather`` of the graph's int64 ``input``.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np

from autograd import Value, is_grad_enabled, ops, topological_order

from .atomic import atomic_write
from .layers import MLP
from .module import Module

OPSET = 18


def export_onnx(model: Module, example_input: Any, path: str | os.PathLike) -> None:
    """Write ``model`` as an ONNX file traced from one forward pass on ``example_input``
    (a batch, shape (N, ...)); the file is written atomically. The graph's input is
    ``input`` and its output ``output``, both with a first axis ``batch`` of any size; the
    weights are named by ``named_parameters()``. Dropout is traced in
    evaluation mode; a scalar-mode MLP is exported as its vectorized twin
    (``layers.0.W`` ...). An integer ``example_input`` is token ids: ``input`` is then
    int64, and its other axes (a GPT's sequence length) keep the example's sizes.

    >>> import tempfile, pathlib, numpy as np
    >>> from nn import MLP
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mlp.onnx"
    >>> export_onnx(MLP(2, [4, 1], vectorized=True, rng=0), np.zeros((3, 2)), path)
    >>> path.stat().st_size > 0
    True
    """
    import onnx

    if not is_grad_enabled():
        raise RuntimeError("export_onnx traces the recorded graph; call it outside no_grad()")
    if isinstance(model, MLP) and not model.vectorized:
        model = model.vectorize()
    example = np.asarray(example_input)
    if example.ndim < 1:
        raise ValueError("export_onnx: example_input must be a batch, shape (N, ...)")
    traced = None
    if example.dtype.kind in "iu":  # token ids, if a table looks them up (see the module)
        traced = _traced(model, example.astype(np.int64))
    if traced is None or not traced[0].reads_input():  # numbers, as any other model's
        dtype = next((p.dtype for p in model.parameters()), np.dtype(np.float64))
        x = Value(np.array(example, dtype=dtype), requires_grad=True, label="input")
        traced = _traced(model, x)
        if example.dtype.kind in "iu" and not traced[0].reads_input():
            raise ValueError(
                "export_onnx: the model's output does not depend on its integer input: ids "
                "are exported where a table is indexed by them as given (Embedding(ids))"
            )
    graph, x, out, last = traced
    kind = "INT64" if isinstance(x, np.ndarray) else "FLOAT"
    if graph.nodes and graph.nodes[-1].output[0] == last:  # the root's node comes last
        graph.nodes[-1].output[0] = "output"
    else:  # the model passes its input through (Dropout, say) or returns a constant
        graph.nodes.append(onnx.helper.make_node("Identity", [last], ["output"], name="identity"))
    batch = x.shape[0]
    out_shape = ["batch", *out.shape[1:]] if out.ndim and out.shape[0] == batch else list(out.shape)
    onnx_graph = onnx.helper.make_graph(
        graph.nodes,
        type(model).__name__,
        [_tensor_info("input", ["batch", *x.shape[1:]], kind)],
        [_tensor_info("output", out_shape, "FLOAT")],
        graph.initializers,
    )
    opset = [onnx.helper.make_opsetid("", OPSET)]
    proto = onnx.helper.make_model(onnx_graph, producer_name="backproplab", opset_imports=opset)
    # The oldest IR version that carries this opset, so older runtimes read the file too.
    proto.ir_version = onnx.helper.find_min_ir_version_for(opset)
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    atomic_write(path, lambda f: f.write(data))


def _traced(model: Module, x: Value | np.ndarray) -> tuple[_Graph, Any, Value, str]:
    """The ONNX graph of one forward pass of ``model`` (in evaluation mode) on ``x``, the
    input, and the output Value and its name in the graph."""
    was_training = model.training
    model.eval()
    try:
        out = model(x)
    finally:
        model.train(was_training)
    if not isinstance(out, Value):
        raise TypeError(f"export_onnx: the model returned {type(out).__name__}, not one Value")
    graph = _Graph({id(p): name for name, p in model.named_parameters()}, x)
    return graph, x, out, graph.name_of(out)


class Tensor(NamedTuple):
    """A value in the ONNX graph: its name, and its shape when it is an input of the node
    being translated (None for what a translation makes itself)."""

    name: str
    shape: tuple | None = None


class Emitter:
    """What an op's translation writes with: ``emit("Tanh", x)`` adds one ONNX node and
    returns its output; ``emit.constant(0.5)`` adds a float32 (or bool) constant and
    ``emit.ints([0, 1])`` an int64 one (or the graph's input, when the ints are the very
    ids array the model was traced with). ``None`` among a node's inputs is ONNX's
    "left out" (an optional input, such as Clip's bound)."""

    def __init__(self, ids: np.ndarray | None = None) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.ids = ids

    def __call__(self, op_type: str, *inputs: Tensor | None, **attrs: Any) -> Tensor:
        from onnx import helper

        name = f"{op_type.lower()}_{len(self.nodes)}"
        names = ["" if x is None else x.name for x in inputs]
        self.nodes.append(helper.make_node(op_type, names, [name], name=name, **attrs))
        return Tensor(name)

    def constant(self, value: Any, name: str | None = None) -> Tensor:
        array = np.asarray(value)
        return self._initializer(array if array.dtype == bool else array.astype(np.float32), name)

    def ints(self, values: Any) -> Tensor:
        """An int64 constant: 0-d for one int, an array's shape for an array, else 1-d;
        the graph's ``input`` for the ids the model was traced with."""
        if self.ids is not None and values is self.ids:
            return Tensor("input", self.ids.shape)
        shaped = values if isinstance(values, (int, np.integer, np.ndarray)) else list(values)
        return self._initializer(np.asarray(shaped, dtype=np.int64), None)

    def _initializer(self, array: np.ndarray, name: str | None) -> Tensor:
        from onnx import numpy_helper

        name = name or f"const_{len(self.initializers)}"
        self.initializers.append(numpy_helper.from_array(array, name))
        return Tensor(name, array.shape)


class _Graph:
    """The ONNX nodes and initializers for a recorded Value graph, built in one walk."""

    def __init__(self, param_names: dict[int, str], x: Value | np.ndarray) -> None:
        self.param_names = param_names
        self.names: dict[int, str] = {id(x): "input"}
        self.emit = Emitter(x if isinstance(x, np.ndarray) else None)

    def reads_input(self) -> bool:
        return any("input" in node.input for node in self.nodes)

    @property
    def nodes(self) -> list[Any]:
        return self.emit.nodes

    @property
    def initializers(self) -> list[Any]:
        return self.emit.initializers

    def name_of(self, root: Value) -> str:
        for v in topological_order(root, constants=True):  # the engine's order
            if id(v) not in self.names:
                self._translate(v)
        return self.names[id(root)]

    def _translate(self, v: Value) -> None:
        if not v.parents:  # a leaf: a parameter or a constant
            name = self.param_names.get(id(v))
            self.names[id(v)] = self.emit.constant(np.asarray(v.data, np.float32), name).name
            return
        op = v._op
        assert op is not None  # (a value with parents was made by an op)
        translate = op.onnx
        if not callable(translate):
            why = f" ({translate.reason})" if isinstance(translate, ops.Without) else ""
            raise ValueError(
                f"export_onnx: op {op.name!r} has no ONNX translation{why}; ops that have "
                f"one: {', '.join(_translated())}"
            )
        inputs = [Tensor(self.names[id(p)], p.shape) for p in v.parents]
        try:
            out = translate(self.emit, *inputs, *op.params)
        except NotImplementedError as err:
            raise ValueError(
                f"export_onnx: op {op.name!r} has no ONNX translation for {err}"
            ) from None
        self.names[id(v)] = out.name


def _translated() -> list[str]:
    """The names of the ops that have an ONNX translation (compositions are made of them)."""
    entries = ops.ENTRIES.values()
    return sorted({e.name for e in entries if isinstance(e, ops.Op) and callable(e.onnx)})


def _tensor_info(name: str, shape: list, kind: str) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, getattr(TensorProto, kind), shape)
