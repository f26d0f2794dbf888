"""backproplab's reverse-mode autograd engine: one ``Value`` for scalars and tensors.

>>> from autograd import Value
>>> a = Value(2.0); b = Value(-3.0)
>>> c = a * b; c.backward()
>>> a.grad, b.grad
(-3.0, 2.0)
"""

from .backprop import grad, topological_order
from .gradcheck import gradcheck
from .mode import detect_anomaly, is_grad_enabled, no_grad
from .ops import Op
from .value import Value, add_n, apply, concat, linear, stack, sum_of_squares, weighted_sum

__all__ = [
    "Value",
    "grad",
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
]
