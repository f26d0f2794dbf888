"""Every differentiable operation: its forward and its vector-Jacobian products, side by side.

An :class:`Op` is a name, a ``forward`` function on raw data (Python floats or numpy
arrays) and one ``vjp`` function per input, in the style of JAX's ``defvjp``::

    MUL = Op("*", lambda a, b: a * b,
             lambda g, out, a, b: g * b,     # d(out)/da, times the incoming gradient g
             lambda g, out, a, b: g * a)     # d(out)/db, times g

A vjp gets the gradient ``g`` flowing into the op's output, the output ``out`` and the
op's inputs (then any op parameters, such as ``axis``). It returns the gradient for its
input. Only the vjps of inputs that need a gradient are called, so a matmul with a
constant batch ``x`` never computes ``dx``.

The vjps are written with operations that numpy arrays, floats *and* Values all support
(``* + - / @``, ``.sum``, ``.reshape``, ``.transpose`` and the helpers below), so the
same rule serves ``backward()`` (on raw data) and ``grad(..., create_graph=True)``
(on Values, which records a graph of the backward pass for second derivatives).

Adding an op: one ``Op(...)`` entry here, a method on ``Value`` that applies it, one test.
"""

from .arithmetic import ADD, DIV, MATMUL, MUL, NEG, POW, POW_CONST, SUB
from .conv import (
    AVG_POOL2D,
    AVG_POOL2D_GRAD,
    CONV2D,
    CONV2D_INPUT_GRAD,
    CONV2D_NO_BIAS,
    CONV2D_WEIGHT_GRAD,
    MAX_POOL2D,
    MAX_POOL2D_GRAD,
    MAX_POOL2D_PICK,
)
from .elementwise import (
    ABS,
    CLIP,
    COS,
    ELU,
    ERF,
    EXP,
    EXPM1,
    GELU,
    LEAKY_RELU,
    LOG,
    LOG1P,
    MAXIMUM,
    MINIMUM,
    RECIPROCAL,
    RELU,
    SIGMOID,
    SILU,
    SIN,
    SOFTPLUS,
    SQRT,
    SQUARE,
    TANH,
    WHERE,
)
from .fused import LINEAR, add_n_op, sum_of_squares_op, weighted_sum_op
from .losses import BCE_EPS, BCE_WITH_LOGITS, BINARY_CROSS_ENTROPY, CROSS_ENTROPY, HINGE, MSE
from .op import Op, broadcast_to, expand_reduced, raw, reshape, shape_of, sum_to
from .reductions import (
    CUMSUM,
    LOG_SOFTMAX,
    LOGSUMEXP,
    MAX,
    MEAN,
    MIN,
    PROD,
    SOFTMAX,
    SUM,
    VAR,
    mean_all,
)
from .shape import (
    BROADCAST,
    FLIP,
    GETITEM,
    PAD,
    REPEAT,
    RESHAPE,
    SCATTER,
    TILE,
    TRANSPOSE,
    concat_op,
    scatter_add,
    stack_op,
)

__all__ = [
    "Op",
    "raw",
    "shape_of",
    "broadcast_to",
    "reshape",
    "sum_to",
    "expand_reduced",
    "ADD",
    "SUB",
    "MUL",
    "DIV",
    "NEG",
    "POW",
    "POW_CONST",
    "MATMUL",
    "EXP",
    "LOG",
    "TANH",
    "SIGMOID",
    "SQRT",
    "ABS",
    "RELU",
    "LEAKY_RELU",
    "SIN",
    "COS",
    "ERF",
    "LOG1P",
    "EXPM1",
    "SQUARE",
    "RECIPROCAL",
    "SOFTPLUS",
    "SILU",
    "ELU",
    "GELU",
    "CLIP",
    "MAXIMUM",
    "MINIMUM",
    "WHERE",
    "mean_all",
    "SUM",
    "MEAN",
    "MAX",
    "LOG_SOFTMAX",
    "SOFTMAX",
    "MIN",
    "PROD",
    "VAR",
    "LOGSUMEXP",
    "CUMSUM",
    "scatter_add",
    "RESHAPE",
    "TRANSPOSE",
    "BROADCAST",
    "GETITEM",
    "SCATTER",
    "FLIP",
    "PAD",
    "TILE",
    "REPEAT",
    "concat_op",
    "stack_op",
    "LINEAR",
    "add_n_op",
    "weighted_sum_op",
    "sum_of_squares_op",
    "HINGE",
    "BCE_WITH_LOGITS",
    "BCE_EPS",
    "BINARY_CROSS_ENTROPY",
    "CROSS_ENTROPY",
    "MSE",
    "CONV2D",
    "CONV2D_NO_BIAS",
    "CONV2D_INPUT_GRAD",
    "CONV2D_WEIGHT_GRAD",
    "MAX_POOL2D",
    "MAX_POOL2D_GRAD",
    "MAX_POOL2D_PICK",
    "AVG_POOL2D",
    "AVG_POOL2D_GRAD",
]
