"""backproplab's reverse-mode autograd engine: one ``Value`` for scalars and tensors.

>>> from autograd import Value
>>> a = Value(2.0); b = Value(-3.0)
>>> c = a * b; c.backward()
>>> a.grad, b.grad
(-3.0, 2.0)

Reading order for a newcomer — three files, about 1,000 lines:

1. ``ops/``: every operation as one entry, its forward and its vector-Jacobian
   products side by side (``MUL = Op("*", forward, vjp_a, vjp_b, ...)``).
2. ``value.py``: ``Value``, whose operators and methods apply those entries and
   record the graph (one helper, ``record``, makes every node).
3. ``backprop.py``: the chain rule over the recorded graph — ``trace_backward`` (every
   step, for pictures), ``backward`` (its fast twin) and ``grad`` (higher order).

Then ``functions.py`` (n-ary ops such as ``weighted_sum``, and ``conv2d``), ``ops/im2col.py``
(the numpy behind convolution and pooling), ``mode.py`` (``no_grad``),
``gradcheck.py`` (finite differences) and ``quiet.py`` (numpy's floating-point warnings
off, cheaply: inf and nan propagate silently, as in torch).
"""

from .backprop import BackwardStep, grad, topological_order, trace_backward
from .functions import (
    add_n,
    apply,
    avg_pool2d,
    concat,
    conv1d,
    conv2d,
    linear,
    max_pool2d,
    maximum,
    minimum,
    one_hot,
    stack,
    sum_of_squares,
    weighted_sum,
    where,
)
from .gradcheck import gradcheck
from .mode import detect_anomaly, is_grad_enabled, no_grad
from .ops import Op
from .value import Value

__all__ = [
    "Value",
    "grad",
    "trace_backward",
    "BackwardStep",
    "gradcheck",
    "no_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "concat",
    "add_n",
    "weighted_sum",
    "sum_of_squares",
    "linear",
    "apply",
    "stack",
    "topological_order",
    "Op",
    "where",
    "maximum",
    "minimum",
    "one_hot",
    "conv1d",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
]
