"""Jupyter widgets: ``NeuronWidget``, ``GraphWidget``, ``NetworkWidget`` and
``PlaygroundWidget`` (the ``widgets`` extra), the live classroom's tabs in a notebook.

They are made in ``viz.classroom.widgets``; this is their public name. Like the classroom,
this module belongs to the application layer: it imports the classroom, and nothing in
``viz`` imports it.
"""

from .classroom.widgets import GraphWidget, NetworkWidget, NeuronWidget, PlaygroundWidget

__all__ = ["NeuronWidget", "GraphWidget", "NetworkWidget", "PlaygroundWidget"]
