"""Neural networks on the autograd engine: neurons, layers, MLPs (scalar and vectorized),
losses, optimizers, regularization, toy data sets and a training loop.

>>> from nn import MLP, manual_seed
>>> manual_seed(0)
>>> model = MLP(2, [4, 1])
>>> model([1.0, -1.0]).data != 0.0
True
"""

from . import (
    _engine,  # noqa: F401  (first: names a clashing 'autograd' package)
    activations,
    augment,
    datasets,
    gpt,
    init,
    names,
    playground,
)
from .activations import ACTIVATIONS, MODULES, Activation
from .attention import CausalSelfAttention, RMSNorm, rms_norm, scaled_dot_product_attention
from .callbacks import EarlyStopping, ReduceLROnPlateau
from .conv import AvgPool2d, Conv1d, Conv2d, ConvTranspose2d, MaxPool2d
from .interop import from_torch, to_torch
from .layers import MLP, Dropout, Embedding, Flatten, Layer, Linear, Neuron, Sequential
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
    nll_loss,
)
from .module import Module
from .names import model_names, short_name
from .norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .onnx_export import export_onnx
from .optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    CosineAnnealingLR,
    ExponentialLR,
    Optimizer,
    RMSprop,
    StepLR,
)
from .random import get_rng, manual_seed
from .train import History, evaluate, fit, predict

__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Linear",
    "Sequential",
    "Activation",
    "Dropout",
    "Flatten",
    "Embedding",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "Conv1d",
    "ConvTranspose2d",
    "GroupNorm",
    "LayerNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "RMSNorm",
    "rms_norm",
    "CausalSelfAttention",
    "scaled_dot_product_attention",
    "init",
    "augment",
    "ACTIVATIONS",
    "mse_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "nll_loss",
    "Optimizer",
    "SGD",
    "Adam",
    "StepLR",
    "ExponentialLR",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "CosineAnnealingLR",
    "ReduceLROnPlateau",
    "EarlyStopping",
    "fit",
    "evaluate",
    "predict",
    "History",
    "manual_seed",
    "get_rng",
    "datasets",
    "gpt",
    "playground",
    "activations",
    "names",
    "short_name",
    "model_names",
    "to_torch",
    "from_torch",
    "export_onnx",
]

# One Module class per activation (nn.Tanh, nn.LeakyReLU, ...), made from its registry
# line in nn.activations. (__all__ above stays one literal list: the API pages read it.)
globals().update({kind.__name__: kind for kind in MODULES.values()})
__all__ += [kind.__name__ for kind in MODULES.values()]
