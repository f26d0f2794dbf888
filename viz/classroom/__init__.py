"""The classroom: what runs a lesson, built on the drawings of ``viz``.

- ``cli``: the ``backproplab`` command (``neuron``, ``graph``, ``playground``);
- ``expression``: a formula such as ``"tanh(a*b + c)"`` turned into Values, never ``eval``'d;
- ``playground``: TensorFlow Playground's training loop and its pictures;
- ``server`` (``backproplab serve``): the live classroom, a Starlette app whose WebSocket
  messages ``sessions`` answers, with ``lessons`` (Neuron, Expression, Network tabs),
  ``trainer`` (the Playground tab; its runs live in ``training``'s worker processes) and
  ``settings`` (one schema per tab: every setting and bound, checked before work);
  the page is ``static/`` (plain ES modules, no build step).

Imports flow one way, ``viz.classroom -> viz -> nn -> autograd``: nothing in ``viz``'s
drawing modules imports this package.
"""
