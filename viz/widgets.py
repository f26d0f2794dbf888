"""Jupyter widgets: ``NeuronWidget``, ``GraphWidget`` and ``NetworkWidget`` (needs the ``widgets`` extra).

The widgets live in ``viz.classroom.widgets`` (they run the classroom's Neuron tab); this
name stays an alias of that module, as ``viz.cli`` is of ``viz.classroom.cli``.
"""

import sys

from .classroom import widgets as _moved

sys.modules[__name__] = _moved
