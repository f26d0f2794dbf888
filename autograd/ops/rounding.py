"""The steps: floor, ceil, round and sign. Each is flat between its jumps, so its
gradient is 0 everywhere (at a jump too), as in PyTorch: a step passes no gradient back.
"""

from __future__ import annotations

import numpy as np

from .op import Op, raw


def _flat(g, out, a):
    """The gradient of a step: zeros shaped as the input, whatever ``g`` holds (an
    infinite ``g`` too, as torch's ``zeros_like``); a constant even under create_graph."""
    x = raw(a)
    return 0.0 if type(x) is float else np.zeros_like(x)


FLOOR = Op(
    "floor",
    np.floor,
    _flat,
    local=("0",),
    method="floor",
    grammar="floor",
    onnx=lambda emit, a: emit("Floor", a),
    torch=lambda t, a: t.floor(a),
    doc="The largest whole number <= x; its gradient is 0.",
)
CEIL = Op(
    "ceil",
    np.ceil,
    _flat,
    local=("0",),
    method="ceil",
    grammar="ceil",
    onnx=lambda emit, a: emit("Ceil", a),
    torch=lambda t, a: t.ceil(a),
    doc="The smallest whole number >= x; its gradient is 0.",
)
# np.round, torch.round and ONNX's Round all take a half to the even neighbour.
ROUND = Op(
    "round",
    np.round,
    _flat,
    local=("0",),
    method="round",
    grammar="round",
    onnx=lambda emit, a: emit("Round", a),
    torch=lambda t, a: t.round(a),
    doc="The nearest whole number, a half to the even one (2.5 -> 2.0); its gradient is 0.",
)
# Of nan: nan, as numpy (torch says 0, which would hide the nan).
SIGN = Op(
    "sign",
    np.sign,
    _flat,
    local=("0",),
    method="sign",
    grammar="sign",
    onnx=lambda emit, a: emit("Sign", a),
    torch=lambda t, a: t.sign(a),
    doc="-1, 0 or 1 as x is negative, zero or positive (nan stays nan); its gradient is 0.",
)
