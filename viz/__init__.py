"""Drawings of backpropagation: computation graphs with every gradient, networks, a
step-through page of the backward pass, and plots.

>>> from autograd import Value
>>> from viz import draw_dot
>>> c = Value(2.0, label="a") * Value(-3.0, label="b"); c.backward()
>>> type(draw_dot(c)).__name__
'Drawing'
"""

import sys

from . import rendering
from .graph import draw_dot
from .network import draw_mlp
from .rendering import Drawing, render, to_svg
from .stepper import backprop_html

# The module is ``viz.rendering``; ``viz.render`` is the function. Code that imported the
# module by its old name (``from viz.render import to_svg``) still finds it.
sys.modules.setdefault(f"{__name__}.render", rendering)

__all__ = ["draw_dot", "draw_mlp", "render", "to_svg", "backprop_html", "Drawing", "rendering"]
