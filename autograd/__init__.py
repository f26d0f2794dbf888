"""backproplab's reverse-mode autograd engine: one ``Value`` for scalars and tensors.

>>> from autograd import Value
>>> a = Value(2.0); b = Value(-3.0)
>>> c = a * b; c.backward()
>>> a.grad, b.grad
(-3.0, 2.0)

Reading order for a newcomer: four files, about 1,160 lines, in one sitting.

1. ``ops/op.py``: ``Op``, an entry of the op table: an operation's forward and its
   vector-Jacobian products side by side, with how it reads in pictures and where else
   it appears; and the helpers the vjps share.
2. ``ops/arithmetic.py``: the first entries: ``+ - * / **``, unary ``-`` and ``@``.
3. ``value.py``: ``Value``, whose operators and methods apply those entries and record
   the graph (one helper, ``record``, makes every node).
4. ``backprop.py``: the chain rule over the recorded graph: ``chain_rule``, the one walk,
   read by ``trace_backward`` (every step, for pictures) and ``grad`` (higher order).

Then, as needed: the other families of ``ops/`` (whose docstring says how to add an op),
``fast_backward.py`` (``backward()``, the walk's fast twin, where every speed trick is),
``value_math.py`` and ``value_shape.py`` (the methods that take arguments),
``functions.py`` (n-ary ops such as ``weighted_sum``), ``convolution.py`` (``conv2d``
and pooling), ``contraction.py`` (``einsum``), ``upsampling.py`` (``conv_transpose2d``,
``interpolate``), ``mode.py`` (``no_grad`` and the stale-graph check), ``gradcheck.py``
(finite differences), ``copies.py`` (pickling), ``arguments.py`` and ``data.py`` (what
comes in, checked) and ``quiet.py`` (numpy's floating-point warnings off, cheaply: inf
and nan propagate silently, as in torch). ``compiler.py`` (``compile``: a training step
traced once and replayed as flat numpy calls; its parts are ``compiler_*.py`` and
``tracing.py``).
"""

from .backprop import BackwardStep, grad, topological_order, trace_backward
from .compiler import Compiled, compile
from .contraction import einsum
from .convolution import avg_pool2d, conv1d, conv2d, max_pool2d
from .functions import (
    add_n,
    apply,
    concat,
    linear,
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
from .upsampling import conv_transpose2d, interpolate
from .value import Value

__all__ = [
    "Value",
    "grad",
    "compile",
    "Compiled",
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
    "einsum",
    "conv_transpose2d",
    "interpolate",
]
