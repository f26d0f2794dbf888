"""Neural networks on the autograd engine: neurons, layers, MLPs (scalar and vectorized),
losses, optimizers, regularization, toy data sets and a training loop.

>>> from nn import MLP, manual_seed
>>> manual_seed(0)
>>> model = MLP(2, [4, 1])
>>> model([1.0, -1.0]).data != 0.0
True
"""

from . import activations, datasets, playground
from .interop import from_torch, to_torch
from .layers import (
    ACTIVATIONS,
    MLP,
    Dropout,
    Layer,
    Linear,
    Neuron,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
)
from .module import Module
from .onnx_export import export_onnx
from .optim import SGD, Adam, EarlyStopping, ExponentialLR, Optimizer, StepLR
from .random import get_rng, manual_seed
from .train import History, evaluate, fit

__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Linear",
    "Sequential",
    "Tanh",
    "ReLU",
    "Sigmoid",
    "Dropout",
    "ACTIVATIONS",
    "mse_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "Optimizer",
    "SGD",
    "Adam",
    "StepLR",
    "ExponentialLR",
    "EarlyStopping",
    "fit",
    "evaluate",
    "History",
    "manual_seed",
    "get_rng",
    "datasets",
    "playground",
    "activations",
    "to_torch",
    "from_torch",
    "export_onnx",
]
