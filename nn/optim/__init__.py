"""Optimizers and learning-rate schedules, as ``torch.optim``'s: one step of ``SGD`` or
``Adam`` here equals one step of torch's on the same numbers.

``optimizer.py`` holds the contract every optimizer keeps (checked parameters, an atomic
``step()``); ``sgd.py`` SGD and its in-place fast paths; ``adaptive.py`` Adam, AdamW,
RMSprop and Adagrad; ``schedules.py`` the learning-rate schedules. The schedule that
watches the loss, ``ReduceLROnPlateau``, and ``EarlyStopping`` are ``fit``'s callbacks,
in ``nn.callbacks``.
"""

from .adaptive import Adagrad, Adam, AdamW, RMSprop
from .optimizer import Optimizer
from .schedules import CosineAnnealingLR, ExponentialLR, StepLR
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
]
