"""ONNX export: run one forward pass, walk the recorded ``Value`` graph, emit one ONNX node
per op (needs the ``onnx`` extra).

Each op name maps to one emitter in ``EMITTERS``; an op without one is a clear error
naming it. The exported model computes in float32 (what ONNX tools expect), takes a
batch of any size (``input``, first axis ``batch``) and names every weight by its
``named_parameters()`` name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd import Value, is_grad_enabled, ops

from .layers import MLP
from .model_files import atomic_write
from .module import Module

OPSET = 18

# The engine's ops that map one-to-one to an ONNX op with no attributes, keyed by the
# op table's own entries so a renamed op cannot drift from its translation.
_SAME = {
    op.name: onnx_type
    for op, onnx_type in (
        (ops.MATMUL, "MatMul"),
        (ops.SUB, "Sub"),
        (ops.MUL, "Mul"),
        (ops.DIV, "Div"),
        (ops.NEG, "Neg"),
        (ops.EXP, "Exp"),
        (ops.LOG, "Log"),
        (ops.SQRT, "Sqrt"),
        (ops.ABS, "Abs"),
        (ops.TANH, "Tanh"),
        (ops.SIGMOID, "Sigmoid"),
        (ops.RELU, "Relu"),
        (ops.SOFTPLUS, "Softplus"),
        (ops.ERF, "Erf"),
    )
}


def export_onnx(model: Module, example_input: Any, path: str | os.PathLike) -> None:
    """Write ``model`` as an ONNX file traced from one forward pass on ``example_input``
    (a batch, shape (N, ...)); the file is written atomically. The graph's input is
    ``input`` and its output ``output``, both with a first axis ``batch`` of any size; the
    weights are named by ``named_parameters()``. Dropout is traced in
    evaluation mode; a scalar-mode MLP is exported as its vectorized twin
    (``layers.0.W`` ...).

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
    was_training = model.training
    model.eval()
    try:
        dtype = next((p.dtype for p in model.parameters()), np.dtype(np.float64))
        x = Value(np.array(example_input, dtype=dtype), requires_grad=True, label="input")
        if x.ndim < 1:
            raise ValueError("export_onnx: example_input must be a batch, shape (N, ...)")
        out = model(x)
    finally:
        model.train(was_training)
    if not isinstance(out, Value):
        raise TypeError(f"export_onnx: the model returned {type(out).__name__}, not one Value")
    graph = _Graph({id(p): name for name, p in model.named_parameters()}, x)
    last = graph.name_of(out)
    if graph.nodes and graph.nodes[-1].output[0] == last:  # the root's node comes last
        graph.nodes[-1].output[0] = "output"
    else:  # the model passes its input through (Dropout, say) or returns a constant
        graph.nodes.append(onnx.helper.make_node("Identity", [last], ["output"], name="identity"))
    batch = x.shape[0]
    out_shape = ["batch", *out.shape[1:]] if out.ndim and out.shape[0] == batch else list(out.shape)
    onnx_graph = onnx.helper.make_graph(
        graph.nodes,
        type(model).__name__,
        [_tensor_info("input", ["batch", *x.shape[1:]])],
        [_tensor_info("output", out_shape)],
        graph.initializers,
    )
    opset = [onnx.helper.make_opsetid("", OPSET)]
    proto = onnx.helper.make_model(onnx_graph, producer_name="backproplab", opset_imports=opset)
    # The oldest IR version that carries this opset, so older runtimes read the file too.
    proto.ir_version = onnx.helper.find_min_ir_version_for(opset)
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    atomic_write(path, lambda f: f.write(data))


class _Graph:
    """The ONNX nodes and initializers for a recorded Value graph, built in one walk."""

    def __init__(self, param_names: dict[int, str], x: Value) -> None:
        self.param_names = param_names
        self.names: dict[int, str] = {id(x): "input"}
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def name_of(self, root: Value) -> str:
        for v in _order(root):
            if id(v) not in self.names:
                self._emit(v)
        return self.names[id(root)]

    def constant(self, value: Any, name: str | None = None) -> str:
        from onnx import numpy_helper

        name = name or f"const_{len(self.initializers)}"
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper

        name = f"{op_type.lower()}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name

    def _emit(self, v: Value) -> None:
        if not v.parents:  # a leaf: a parameter or a constant
            name = self.param_names.get(id(v))
            self.names[id(v)] = self.constant(np.asarray(v.data, np.float32), name)
            return
        inputs = [self.names[id(p)] for p in v.parents]
        emit = EMITTERS.get(v.op)
        if emit is None and v.op in _SAME:
            emit = lambda g, v, inputs, params: g.node(_SAME[v.op], inputs)
        if emit is None:
            raise ValueError(
                f"export_onnx: op {v.op!r} has no ONNX translation; supported ops: "
                f"{', '.join(sorted({*EMITTERS, *_SAME}))}"
            )
        self.names[id(v)] = emit(self, v, inputs, _params(v))


def _params(v: Value) -> tuple:
    # The op parameters (axis, shape, exponent) the Value recorded; autograd keeps them
    # on its Op, and the exporter is the one reader that needs them besides the vjps.
    return v._op.params


def _order(root: Value) -> list[Value]:
    """Every value ``root`` depends on, constants included, parents first (no recursion)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        v, expanded = stack.pop()
        if expanded:
            order.append(v)
            continue
        if id(v) in seen:
            continue
        seen.add(id(v))
        stack.append((v, True))
        stack.extend((p, False) for p in reversed(v.parents) if id(p) not in seen)
    return order


def _tensor_info(name: str, shape: list) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


# ------------------------------------------------------------------ emitters
def _linear(g: _Graph, v: Value, inputs: list[str], params: tuple) -> str:
    if v.parents[0].ndim == 2 and v.parents[2].ndim == 1:
        return g.node("Gemm", inputs)
    return g.node("Add", [g.node("MatMul", inputs[:2]), inputs[2]])


def _add(g: _Graph, v: Value, inputs: list[str], params: tuple) -> str:
    return g.node("Add" if len(inputs) == 2 else "Sum", inputs)


def _pow(g: _Graph, v: Value, inputs: list[str], params: tuple) -> str:
    if params:  # a constant exponent
        inputs = [*inputs, g.constant(np.float32(params[0]))]
    return g.node("Pow", inputs)


def _reduce(op_type: str) -> Callable:
    def emit(g: _Graph, v: Value, inputs: list[str], params: tuple) -> str:
        axis, keepdims = params
        if axis is not None:
            axes = [axis] if isinstance(axis, int) else list(axis)
            inputs = [*inputs, g.constant(np.array(axes, np.int64))]
        return g.node(op_type, inputs, keepdims=int(keepdims))

    return emit


def _softmax(op_type: str) -> Callable:
    return lambda g, v, inputs, params: g.node(op_type, inputs, axis=int(params[0]))


def _var(g: _Graph, v: Value, inputs: list[str], params: tuple) -> str:
    # ONNX has no variance: mean((x - mean(x))²), scaled by n/(n - ddof) (opset 18 takes
    # the axes as an input).
    axis, keepdims, ddof = params
    shape = v.parents[0].shape
    axes = (
        list(range(len(shape))) if axis is None else [axis] if isinstance(axis, int) else list(axis)
    )
    reduce = [g.constant(np.array(axes, np.int64))]
    mean = g.node("ReduceMean", [inputs[0], *reduce], keepdims=1)
    centered = g.node("Sub", [inputs[0], mean])
    out = g.node(
        "ReduceMean", [g.node("Mul", [centered, centered]), *reduce], keepdims=int(keepdims)
    )
    if ddof:
        n = int(np.prod([shape[a] for a in axes]))
        out = g.node("Mul", [out, g.constant(np.float32(n / (n - ddof)))])
    return out


def _reshape(g: _Graph, v: Value, inputs: list[str], params: tuple) -> str:
    shape = [int(n) for n in params[0]]
    source = v.parents[0].shape
    if shape and source and shape[0] == source[0]:
        shape[0] = 0  # ONNX's "keep this axis": a flattened batch stays of any size
    return g.node("Reshape", [inputs[0], g.constant(np.array(shape, np.int64))])


def _conv2d(g: _Graph, v: Value, inputs: list[str], params: tuple) -> str:
    stride, padding, dilation, groups = params
    return g.node(
        "Conv",
        inputs,
        kernel_shape=list(v.parents[1].shape[2:]),
        strides=list(stride),
        pads=[*padding, *padding],  # top, left, then bottom, right
        dilations=list(dilation),
        group=int(groups),
    )


def _max_pool2d(g: _Graph, v: Value, inputs: list[str], params: tuple) -> str:
    kernel, stride, padding, dilation = params
    return g.node(
        "MaxPool",
        inputs,
        kernel_shape=list(kernel),
        strides=list(stride),
        pads=[*padding, *padding],
        dilations=list(dilation),
    )


def _avg_pool2d(g: _Graph, v: Value, inputs: list[str], params: tuple) -> str:
    kernel, stride, padding, count_include_pad = params
    return g.node(
        "AveragePool",
        inputs,
        kernel_shape=list(kernel),
        strides=list(stride),
        pads=[*padding, *padding],
        count_include_pad=int(count_include_pad),
    )


def _gelu(g: _Graph, v: Value, inputs: list[str], params: tuple) -> str:
    # Gelu is an ONNX op from opset 20 only; at 18 it is its formula.
    (x,) = inputs
    if params[0] == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.constant(np.float32(0.044715))])])
        scaled = g.node("Mul", [inner, g.constant(np.float32(np.sqrt(2.0 / np.pi)))])
        curve = g.node("Tanh", [scaled])
    else:
        curve = g.node("Erf", [g.node("Mul", [x, g.constant(np.float32(1 / np.sqrt(2.0)))])])
    half = g.node("Mul", [x, g.constant(np.float32(0.5))])
    return g.node("Mul", [half, g.node("Add", [curve, g.constant(np.float32(1.0))])])


# One entry per op that needs more than a name (attributes, constants, arity);
# _SAME covers the rest.
EMITTERS: dict[str, Callable[[_Graph, Value, list[str], tuple], str]] = {
    ops.LINEAR.name: _linear,
    ops.ADD.name: _add,  # also the n-ary sum of add_n, which shares its name
    ops.POW.name: _pow,  # also POW_CONST, the same name with the exponent as a parameter
    ops.LEAKY_RELU.name: lambda g, v, inputs, params: g.node(
        "LeakyRelu", inputs, alpha=float(params[0])
    ),
    ops.SUM.name: _reduce("ReduceSum"),
    ops.MEAN.name: _reduce("ReduceMean"),
    ops.MAX.name: _reduce("ReduceMax"),
    ops.SOFTMAX.name: _softmax("Softmax"),
    ops.LOG_SOFTMAX.name: _softmax("LogSoftmax"),
    ops.TRANSPOSE.name: lambda g, v, inputs, params: g.node(
        "Transpose", inputs, perm=[int(a) for a in params[0]]
    ),
    ops.RESHAPE.name: _reshape,
    ops.VAR.name: _var,
    ops.CONV2D.name: _conv2d,  # also CONV2D_NO_BIAS, the same name without the bias input
    ops.MAX_POOL2D.name: _max_pool2d,
    ops.AVG_POOL2D.name: _avg_pool2d,
    ops.GELU.name: _gelu,
    ops.SILU.name: lambda g, v, inputs, params: g.node("Mul", [*inputs, g.node("Sigmoid", inputs)]),
    ops.ELU.name: lambda g, v, inputs, params: g.node("Elu", inputs, alpha=float(params[0])),
}
