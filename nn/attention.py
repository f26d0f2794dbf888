"""What a GPT adds to an MLP: RMS normalization and (causal) scaled dot-product attention.

Each is a composition of the engine's existing ops (``*``, ``mean``, ``**``, ``@``,
``transpose``, ``softmax``, ...): no op entry of its own, so every gradient, second
derivative, drawing and trace comes from those ops' rules (as tinygrad builds its
activations). ``rms_norm`` is five nodes, ``scaled_dot_product_attention`` about six.

>>> from nn import CausalSelfAttention
>>> CausalSelfAttention(8, 2, rng=0)(np.ones((5, 8))).shape
(5, 8)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Value

from .init import initial_weights
from .layers import as_input
from .module import Module
from .random import get_rng


def rms_norm(
    x: Any,
    normalized_shape: int | Sequence[int] | None = None,
    weight: Any = None,
    eps: float = 1e-5,
) -> Value:
    """``x / sqrt(mean(x²) + eps) * weight`` over the last axes (``normalized_shape``;
    the last axis when None), as ``torch.nn.functional.rms_norm`` with an explicit
    ``eps`` (torch's None means the dtype's machine epsilon; 1e-5 is microGPT's).

    >>> np.round(rms_norm(Value([[3.0, 4.0]]), eps=0.0).data, 4)
    array([[0.8485, 1.1314]])
    """
    x = as_input(x)
    shape = _normalized(normalized_shape, x.shape[-1:] if x.ndim else ())
    if not shape or x.ndim < len(shape) or x.shape[x.ndim - len(shape) :] != shape:
        raise ValueError(
            f"rms_norm: normalized_shape {shape} must be the last axes of x, got x of shape "
            f"{x.shape}"
        )
    if weight is not None:
        weight = weight if isinstance(weight, Value) else as_input(weight)
        if weight.shape != shape:
            raise ValueError(f"rms_norm: weight must have shape {shape}, got {weight.shape}")
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps >= 0):
        raise ValueError(f"rms_norm: eps must be a finite number >= 0, got {eps!r}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    # x * x rather than x.square(): the same one node, and export_onnx translates it
    y = x * ((x * x).mean(axis=axes, keepdims=True) + float(eps)) ** -0.5
    return y if weight is None else y * weight


def scaled_dot_product_attention(
    q: Any,
    k: Any,
    v: Any,
    mask: Any = None,
    causal: bool = False,
    scale: float | None = None,
) -> Value:
    """``softmax(q @ kᵀ · scale + mask) @ v``: each query's weighted average of the values,
    weighted by how well it matches each key, as ``torch.nn.functional.
    scaled_dot_product_attention``. ``q`` is ``(..., L, d)``, ``k`` ``(..., S, d)``, ``v``
    ``(..., S, dv)``, leading axes broadcast; the result is ``(..., L, dv)``.

    ``scale`` defaults to 1/sqrt(d). ``mask`` broadcasts to ``(..., L, S)``: booleans
    (True: the query may look at that key) or numbers added to the scores. ``causal``
    lets query i look at keys 0..i only (torch's ``is_causal``; with a mask, both apply).
    A query that may look at no key gets zeros (as torch does), not NaN.

    >>> q = k = Value(np.eye(2)); v = Value([[1.0, 0.0], [0.0, 1.0]])
    >>> scaled_dot_product_attention(q, k, v, causal=True).data[0]
    array([1., 0.])
    """
    q, k, v = (t if isinstance(t, Value) else as_input(t) for t in (q, k, v))
    name = "scaled_dot_product_attention"
    shapes = f"q {q.shape}, k {k.shape}, v {v.shape}"
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError(f"{name}: q, k and v need at least 2 dimensions, got {shapes}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"{name}: q and k must share their last axis and k and v their second-to-last, "
            f"got {shapes}"
        )
    try:
        lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{name}: the leading axes of {shapes} do not broadcast") from None
    n_queries, n_keys = q.shape[-2], k.shape[-2]
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    scores = (q @ _swap_last_two(k)) * float(scale)
    if mask is None and causal and n_keys:  # the common case: a cached mask (no row empty)
        add, empty = _causal_shift(n_queries, n_keys), None
    else:
        add, empty = _shift(mask, causal, lead + (n_queries, n_keys), name)
    if add is not None:
        scores = scores + add.astype(scores.dtype, copy=False)
    weights = scores.softmax(axis=-1)
    if empty is not None:
        weights = weights * (~empty).astype(weights.dtype)
    return weights @ v


class RMSNorm(Module):
    """Root-mean-square normalization over the last axes (``normalized_shape``), with a
    learned per-element ``weight`` (``elementwise_affine``), as ``torch.nn.RMSNorm``:
    LayerNorm without subtracting the mean and without a bias (GPT-style models use it).

    >>> np.round(RMSNorm(2, eps=0.0)(np.array([[3.0, 4.0]])).data, 4)
    array([[0.8485, 1.1314]])
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
    ) -> None:
        self.normalized_shape = _normalized(normalized_shape, ())
        if not self.normalized_shape or min(self.normalized_shape) < 1:
            raise ValueError(
                f"RMSNorm: normalized_shape must be sizes >= 1, got {normalized_shape!r}"
            )
        self.eps = float(eps)
        self.weight = (
            Value(np.ones(self.normalized_shape), label="weight") if elementwise_affine else None
        )

    def forward(self, x: Any) -> Value:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def config(self) -> dict:
        return {
            "normalized_shape": list(self.normalized_shape),
            "eps": self.eps,
            "elementwise_affine": self.weight is not None,
        }


class CausalSelfAttention(Module):
    """Multi-head causal self-attention without biases, as in GPT-2 and microGPT: each
    position's query, key and value (``x @ Wq``, ``x @ Wk``, ``x @ Wv``, split into
    ``n_head`` heads of ``n_embd // n_head``), attention to the positions up to its own,
    the heads joined again and mixed by ``Wo``. ``x`` is ``(..., T, n_embd)`` (one
    sequence, or a batch of them); every weight is ``(n_embd, n_embd)``, input by output
    (``Linear``'s layout). ``to_torch`` makes a ``torch.nn.MultiheadAttention``.

    >>> CausalSelfAttention(8, 2, rng=0)(np.ones((3, 5, 8))).shape
    (3, 5, 8)
    """

    Wq: Value
    Wk: Value
    Wv: Value
    Wo: Value

    def __init__(self, n_embd: int, n_head: int, rng: Any = None) -> None:
        self.n_embd, self.n_head = int(n_embd), int(n_head)
        if self.n_embd < 1 or self.n_head < 1 or self.n_embd % self.n_head:
            raise ValueError(
                f"CausalSelfAttention: n_embd ({n_embd}) must be a positive multiple of "
                f"n_head ({n_head})"
            )
        gen = get_rng(rng)
        n = self.n_embd
        for name in ("Wq", "Wk", "Wv", "Wo"):
            setattr(self, name, Value(initial_weights((n, n), n, n, rng=gen), label=name))

    def forward(self, x: Any) -> Value:
        x = as_input(x)
        if x.ndim < 2 or x.shape[-1] != self.n_embd:
            raise ValueError(
                f"CausalSelfAttention: expected inputs (..., T, {self.n_embd}), got shape {x.shape}"
            )
        *lead, t, c = x.shape
        heads = (*lead, t, self.n_head, c // self.n_head)
        order = (*range(len(lead)), len(lead) + 1, len(lead), len(lead) + 2)  # T <-> heads
        q, k, v = ((x @ w).reshape(heads).transpose(*order) for w in (self.Wq, self.Wk, self.Wv))
        y = scaled_dot_product_attention(q, k, v, causal=True)
        return y.transpose(*order).reshape(x.shape) @ self.Wo

    def config(self) -> dict:
        return {"n_embd": self.n_embd, "n_head": self.n_head}


def _normalized(shape: Any, default: tuple) -> tuple:
    if shape is None:
        return tuple(default)
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _swap_last_two(t: Value) -> Value:
    n = t.ndim
    return t.transpose(*range(n - 2), n - 1, n - 2)


@functools.lru_cache(maxsize=64)
def _causal_shift(n_queries: int, n_keys: int) -> np.ndarray:
    """0 where query i may look at key j (j <= i), -inf elsewhere; kept, as it is the
    same for every call of a model (~5% of the instructions of a microGPT tensor step)."""
    shift = np.where(np.tri(n_queries, n_keys, dtype=bool), 0.0, -np.inf)
    shift.flags.writeable = False
    return shift


def _shift(mask: Any, causal: bool, shape: tuple, name: str) -> tuple[Any, Any]:
    """What to add to the scores (0, -inf, or the mask's numbers) and the rows that may
    look at no key (None when there is none): those get all keys, then zero weights."""
    keep, add = _mask_parts(mask, shape, name)
    if causal:
        tri = np.tri(shape[-2], shape[-1], dtype=bool)
        keep = tri if keep is None else keep & tri
    if keep is not None:
        shut = np.where(keep, 0.0, -np.inf)
        add = shut if add is None else add + shut
    if add is None:
        return None, None
    empty = np.isneginf(add).all(axis=-1, keepdims=True)
    if not empty.any():
        return add, None
    return np.where(empty, 0.0, add), empty


def _mask_parts(mask: Any, shape: tuple, name: str) -> tuple[Any, Any]:
    """A mask as (keep, add): a boolean array of the queries' allowed keys, or numbers to
    add to the scores; each broadcast to the scores' ``shape`` (or None)."""
    if mask is None:
        return None, None
    m = np.asarray(mask.data if isinstance(mask, Value) else mask)
    try:
        np.broadcast_to(m, shape)
    except ValueError:
        raise ValueError(
            f"{name}: a mask of shape {m.shape} does not broadcast to the scores' shape {shape}"
        ) from None
    if m.dtype == bool:
        return m, None
    if m.dtype.kind not in "iuf":
        raise ValueError(f"{name}: mask must be booleans or numbers, got dtype {m.dtype}")
    return None, m.astype(np.float64)
