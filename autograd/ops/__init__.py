"""The op table: every operation the engine knows, one entry each, by family.

An entry is an :class:`Op`: its forward and one vector-Jacobian product (vjp) per input,
side by side, in the style of JAX's ``defvjp``, with everything else the library needs
to know about it::

    MUL = Op("*", operator.mul,
             lambda g, out, a, b: g * b,     # d(out)/da times g, the output's gradient
             lambda g, out, a, b: g * a,     # d(out)/db times g
             show="{a} * {b}", local=("{b}", "{a}"),         # how it reads in pictures
             method="__mul__",                               # v * w (and 2 * v)
             onnx=lambda emit, a, b: emit("Mul", a, b),      # its ONNX node
             torch=lambda t, a, b: a * b)                    # the same in PyTorch (tests)

The vjps are written with operations that numpy arrays, floats *and* Values all support
(``* + - / @``, ``.sum``, ``.reshape`` and the helpers of ``op.py``), so one rule serves
``backward()`` (on raw data) and ``grad(..., create_graph=True)`` (on Values, recording
the backward pass to differentiate it again). An op that is a composition of others is
a :class:`Composition` instead: ``SQUARE = Composition("square", lambda x: x * x, ...)``
needs no rule, drawing text or ONNX translation; its parts have them.

**Adding an op** is one entry in the family file it belongs to, plus one row in
``tests/test_op_coverage.py`` (an activation also gets one line in
``nn.activations.REGISTRY``: its Module, PyTorch layer and model-file rule). The entry
makes the ``Value`` method (when it is a one-input op without params, or an operator),
the formula grammar's function (with ``grammar=``) and the ONNX node; drawings and the
step-through page read its ``show`` and ``local``. The coverage test then takes it
through every interpretation (forward, backward, second derivative, ``trace_backward``,
drawing, step-through page, grammar, PyTorch, ONNX) and fails naming the entry and the
one it misses; an interpretation it cannot have is declared with ``Without("why")``.
Compose before you add a rule: a composition needs no vjp of its own, unless one node is
measurably faster or reads better (then its comment says which, with the number).

Reading order: ``op.py`` (the entry and the dual-mode helpers), ``arithmetic.py``, then
any family: ``elementwise.py``, ``rounding.py``, ``activations.py``, ``reductions.py``,
``scans.py`` (cumprod, sort, topk), ``einsum.py``, ``shape.py``, ``fused.py`` (one node
where a composition would do, each with its measured reason), ``losses.py``, ``conv.py``
(with ``im2col.py``, the numpy behind it) and ``resize.py`` (``interpolate``).
"""

from . import (
    activations,
    arithmetic,
    conv,
    einsum,
    elementwise,
    fused,
    losses,
    reductions,
    resize,
    rounding,
    scans,
    shape,
)
from .activations import (  # noqa: F401 (re-exported)
    ELU,
    GELU,
    LEAKY_RELU,
    RELU,
    SIGMOID,
    SILU,
    SOFTPLUS,
    TANH,
)
from .arithmetic import (  # noqa: F401 (re-exported)
    ADD,
    DIV,
    MATMUL,
    MUL,
    NEG,
    POW,
    POW_CONST,
    SUB,
)
from .conv import (  # noqa: F401 (re-exported)
    AVG_POOL2D,
    AVG_POOL2D_GRAD,
    CONV2D,
    CONV2D_INPUT_GRAD,
    CONV2D_NO_BIAS,
    CONV2D_WEIGHT_GRAD,
    CONV_TRANSPOSE2D,
    CONV_TRANSPOSE2D_NO_BIAS,
    MAX_POOL2D,
    MAX_POOL2D_GRAD,
    MAX_POOL2D_PICK,
)
from .einsum import EINSUM, einsum_op  # noqa: F401 (re-exported)
from .elementwise import (  # noqa: F401 (re-exported)
    ABS,
    ACOS,
    ASIN,
    ATAN,
    ATAN2,
    CLIP,
    COS,
    COSH,
    ERF,
    EXP,
    EXPM1,
    LOG,
    LOG1P,
    MAXIMUM,
    MINIMUM,
    RECIPROCAL,
    SIN,
    SINH,
    SQRT,
    SQUARE,
    TAN,
    WHERE,
)
from .fused import (  # noqa: F401 (re-exported)
    ADD_N,
    LINEAR,
    SUM_OF_SQUARES,
    WEIGHTED_SUM,
    add_n_op,
    sum_of_squares_op,
    weighted_sum_op,
)
from .losses import (  # noqa: F401 (re-exported)
    BCE_EPS,
    BCE_WITH_LOGITS,
    BINARY_CROSS_ENTROPY,
    CROSS_ENTROPY,
    HINGE,
    MSE,
)
from .op import (  # noqa: F401 (re-exported)
    Composition,
    Op,
    Without,
    broadcast_to,
    expand_reduced,
    raw,
    reshape,
    shape_of,
    sum_to,
)
from .reductions import (  # noqa: F401 (re-exported)
    CUMSUM,
    LOG_SOFTMAX,
    LOGSUMEXP,
    MAX,
    MEAN,
    MIN,
    NORM,
    PROD,
    SOFTMAX,
    STD,
    SUM,
    VAR,
    mean_all,
)
from .resize import INTERPOLATE  # noqa: F401 (re-exported)
from .rounding import CEIL, FLOOR, ROUND, SIGN  # noqa: F401 (re-exported)
from .scans import CUMPROD, SORT, TOPK  # noqa: F401 (re-exported)
from .shape import (  # noqa: F401 (re-exported)
    BROADCAST,
    CONCAT,
    FLIP,
    GETITEM,
    PAD,
    PAD_REFLECT,
    PAD_REPLICATE,
    REPEAT,
    RESHAPE,
    SCATTER,
    STACK,
    TILE,
    TRANSPOSE,
    concat_op,
    scatter_add,
    stack_op,
)

FAMILIES = (
    arithmetic,
    elementwise,
    rounding,
    activations,
    reductions,
    scans,
    einsum,
    shape,
    fused,
    losses,
    conv,
    resize,
)


def _entries() -> dict[str, Op | Composition]:
    """Every entry of the family modules, by key, in reading order."""
    found: dict[str, Op | Composition] = {}
    for family in FAMILIES:
        for value in vars(family).values():
            if not isinstance(value, (Op, Composition)) or found.get(value.key) is value:
                continue
            if value.key in found:
                raise ValueError(f"two op entries share the key {value.key!r}: give one a key=")
            found[value.key] = value
    return found


ENTRIES = _entries()
