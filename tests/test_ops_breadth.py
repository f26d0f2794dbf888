"""The ops added for breadth (issue 14): each against finite differences over random
shapes and, where PyTorch is installed, values and gradients against torch (float64)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, grad, gradcheck, maximum, minimum, one_hot, where

FAST = settings(max_examples=15, deadline=None)
SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def smooth(rng, shape):
    return rng.normal(size=shape)


def away_from_zero(rng, shape):
    """No element near 0 (the kink of elu / abs)."""
    x = rng.normal(size=shape)
    return np.sign(x) * (0.2 + np.abs(x))


def distinct(rng, shape):
    """Well-separated values (no ties for max / min / argmax), in random order."""
    n = math.prod(shape)
    return (rng.permutation(n) * 0.37 - 0.2 * n + rng.uniform(-0.05, 0.05, n)).reshape(shape)


def positive(rng, shape):
    return rng.uniform(0.3, 2.0, size=shape)


def off_bounds(rng, shape):
    """No element within 0.1 of the clip bounds -1 and 1."""
    x = rng.uniform(-2.0, 2.0, size=shape)
    return np.where(np.abs(np.abs(x) - 1.0) < 0.1, x * 0.5, x)


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


torch = _torch()
F = torch.nn.functional if torch else None

# name: (data maker, ours, torch's)
UNARY = {
    "sin": (smooth, lambda v: v.sin(), lambda t: t.sin()),
    "cos": (smooth, lambda v: v.cos(), lambda t: t.cos()),
    "erf": (smooth, lambda v: v.erf(), lambda t: torch.erf(t)),
    "log1p": (positive, lambda v: v.log1p(), lambda t: t.log1p()),
    "expm1": (smooth, lambda v: v.expm1(), lambda t: t.expm1()),
    "square": (smooth, lambda v: v.square(), lambda t: t.square()),
    "reciprocal": (positive, lambda v: v.reciprocal(), lambda t: t.reciprocal()),
    "softplus": (smooth, lambda v: (v * 3).softplus(), lambda t: F.softplus(t * 3)),
    "silu": (smooth, lambda v: v.silu(), lambda t: F.silu(t)),
    "elu": (away_from_zero, lambda v: v.elu(0.7), lambda t: F.elu(t, 0.7)),
    "gelu": (smooth, lambda v: v.gelu(), lambda t: F.gelu(t)),
    "gelu_tanh": (smooth, lambda v: v.gelu("tanh"), lambda t: F.gelu(t, approximate="tanh")),
    "clip": (off_bounds, lambda v: v.clip(-1, 1), lambda t: t.clamp(-1, 1)),
    "clip_low": (off_bounds, lambda v: v.clip(low=-1), lambda t: t.clamp(min=-1)),
    # reductions, over the last axis and over everything
    "min": (distinct, lambda v: v.min(axis=-1), lambda t: t.amin(-1)),
    "min_all": (distinct, lambda v: v.min(), lambda t: t.amin()),
    "prod": (positive, lambda v: v.prod(axis=0, keepdims=True), lambda t: t.prod(0, keepdim=True)),
    "prod_all": (smooth, lambda v: v.prod(), lambda t: t.prod()),
    "var": (smooth, lambda v: v.var(axis=-1), lambda t: t.var(-1, correction=0)),
    "var_ddof": (smooth, lambda v: v.var(ddof=1) if v.size > 1 else v.var(), None),
    "std": (
        lambda rng, shape: distinct(rng, (shape[0] + 1,) + shape[1:]),  # std > 0: no kink
        lambda v: v.std(axis=0, keepdims=True),
        lambda t: t.std(0, correction=0, keepdim=True),
    ),
    "logsumexp": (smooth, lambda v: v.logsumexp(axis=-1), lambda t: t.logsumexp(-1)),
    "logsumexp_all": (
        smooth,
        lambda v: (v * 30).logsumexp(),
        lambda t: (t * 30).logsumexp(tuple(range(t.ndim))),
    ),
    "norm": (smooth, lambda v: v.norm(), lambda t: t.norm()),
    "norm_1": (away_from_zero, lambda v: v.norm(1, axis=-1), lambda t: t.norm(1, dim=-1)),
    "norm_inf": (distinct, lambda v: v.norm(math.inf, axis=0), lambda t: t.norm(math.inf, dim=0)),
    "cumsum": (smooth, lambda v: v.cumsum(axis=-1), lambda t: t.cumsum(-1)),
    "cumsum_flat": (smooth, lambda v: v.cumsum(), lambda t: t.reshape(-1).cumsum(0)),
    # shape
    "squeeze": (smooth, lambda v: v.unsqueeze(1).squeeze(1), lambda t: t.unsqueeze(1).squeeze(1)),
    "expand_dims": (
        smooth,
        lambda v: v.expand_dims(-1) * v.unsqueeze(0).sum(),
        lambda t: t.unsqueeze(-1) * t.unsqueeze(0).sum(),
    ),
    "flip": (smooth, lambda v: v.flip(0) * v, lambda t: t.flip(0) * t),
    "flip_all": (smooth, lambda v: v.flip(), lambda t: t.flip(tuple(range(t.ndim)))),
    "pad": (smooth, lambda v: v.pad(((1, 2),) + ((0, 1),) * (v.ndim - 1), 0.5).square(), None),
    "tile": (smooth, lambda v: v.tile((2, 1, 3)[: v.ndim]), lambda t: t.tile((2, 1, 3)[: t.ndim])),
    "tile_more": (
        smooth,
        lambda v: v.tile((2,) * (v.ndim + 1)),
        lambda t: t.tile((2,) * (t.ndim + 1)),
    ),
    "repeat": (smooth, lambda v: v.repeat(3, axis=0), lambda t: t.repeat_interleave(3, 0)),
    "repeat_flat": (smooth, lambda v: v.repeat(2), lambda t: t.reshape(-1).repeat_interleave(2)),
    "chunk": (smooth, lambda v: v.chunk(2, axis=0)[-1] * 2, lambda t: t.chunk(2, 0)[-1] * 2),
}


@pytest.mark.parametrize("name", list(UNARY))
@FAST
@given(shape=SHAPES, seed=st.integers(0, 2**31))
def test_gradcheck_over_random_shapes(name, shape, seed):
    make, ours, _ = UNARY[name]
    x = Value(make(np.random.default_rng(seed), shape))
    assert gradcheck(ours, x, atol=1e-6, rtol=1e-5)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("name", [n for n, (_, _, t) in UNARY.items() if t is not None])
@settings(max_examples=8, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**31))
def test_values_and_gradients_match_torch(name, shape, seed):
    make, ours, theirs = UNARY[name]
    rng = np.random.default_rng(seed)
    data = make(rng, shape)
    x = Value(data)
    t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    out, tout = ours(x), theirs(t)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    weights = rng.normal(size=out.shape)
    (out * weights).sum().backward()
    (tout * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)


BINARY = {
    "maximum": (lambda a, b: maximum(a, b), lambda a, b: torch.maximum(a, b)),
    "minimum": (lambda a, b: minimum(a, b), lambda a, b: torch.minimum(a, b)),
    "where": (
        lambda a, b: where(a.data > b.data, a * 2, b.sin()),
        lambda a, b: torch.where(a > b, a * 2, b.sin()),
    ),
}


@pytest.mark.parametrize("name", list(BINARY))
@FAST
@given(shape=SHAPES, seed=st.integers(0, 2**31), broadcast=st.booleans())
def test_binary_ops_gradcheck_and_torch(name, shape, seed, broadcast):
    ours, theirs = BINARY[name]
    rng = np.random.default_rng(seed)
    both = distinct(rng, (2,) + shape)  # no ties anywhere
    a_data, b_data = both[0], both[1][..., :1] if broadcast else both[1]
    a, b = Value(a_data), Value(b_data)
    assert gradcheck(ours, a, b, atol=1e-6, rtol=1e-5)
    if torch is None:
        return
    ta, tb = (torch.tensor(d, requires_grad=True) for d in (a_data, b_data))
    out, tout = ours(a, b), theirs(ta, tb)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9)
    w = rng.normal(size=out.shape)
    (out * w).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.grad, tb.grad.numpy(), rtol=1e-9, atol=1e-12)


@FAST
@given(
    shape=st.lists(st.integers(1, 4), min_size=2, max_size=3).map(tuple), seed=st.integers(0, 2**31)
)
def test_take_along_axis_and_gather(shape, seed):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=shape)
    idx = rng.integers(0, shape[1], size=shape[:1] + (3,) + shape[2:])  # repeats add up
    x = Value(data)
    assert gradcheck(lambda v: v.take_along_axis(idx, axis=1), x)
    np.testing.assert_array_equal(x.gather(idx, 1).data, np.take_along_axis(data, idx, 1))
    if torch is not None:
        t = torch.tensor(data, requires_grad=True)
        torch.gather(t, 1, torch.tensor(idx)).sum().backward()
        x.gather(idx, 1).sum().backward()
        np.testing.assert_allclose(x.grad, t.grad.numpy())


def test_scalar_values_take_the_fast_path():
    x = Value(0.5)
    y = x.sin() * x.cos() + x.log1p() + x.maximum(0.2) + x.silu() + x.elu() + x.gelu()
    y.backward()
    expected = (
        math.cos(1.0) + 1 / 1.5 + 1.0 + (s := 1 / (1 + math.exp(-0.5))) * (1 + 0.5 * (1 - s)) + 1.0
    )
    cdf = 0.5 * (1 + math.erf(0.5 / math.sqrt(2)))
    expected += cdf + 0.5 * math.exp(-0.125) / math.sqrt(2 * math.pi)
    assert type(y.data) is float and x.grad == pytest.approx(expected, rel=1e-12)


def test_second_derivatives_of_the_smooth_ops():
    for f, d2 in [
        (lambda v: v.sin(), lambda x: -math.sin(x)),
        (lambda v: v.softplus(), lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2),
        (lambda v: v.square(), lambda x: 2.0),
        (lambda v: v.reciprocal(), lambda x: 2 / x**3),
        (lambda v: v.expm1(), math.exp),
    ]:
        x = Value(0.7)
        first = grad(f(x), x, create_graph=True)
        assert grad(first, x) == pytest.approx(d2(0.7), rel=1e-9)
    x = np.array([-0.8, 0.3, 1.4])
    for f in (lambda v: v.silu(), lambda v: v.gelu(), lambda v: v.gelu("tanh"), lambda v: v.elu()):
        _check_second_derivative(f, x)
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    for f in (lambda v: v.var(axis=0), lambda v: v.logsumexp(axis=1), lambda v: v.prod(axis=1)):
        _check_second_derivative(f, x)


def _check_second_derivative(f, x0, eps=1e-6):
    """grad of (w . grad(f)) against central differences of grad(f)."""
    w = np.random.default_rng(0).normal(size=x0.shape)
    x = Value(x0)
    first = grad(f(x).sum(), x, create_graph=True)
    exact = grad((first * w).sum(), x)
    for i in np.ndindex(x0.shape):
        step = np.zeros_like(x0)
        step[i] = eps
        up, down = Value(x0 + step), Value(x0 - step)
        up, down = grad(f(up).sum(), up), grad(f(down).sum(), down)
        assert exact[i] == pytest.approx(
            float(np.sum((up - down) * w)) / (2 * eps), rel=1e-5, abs=1e-6
        )


def test_prod_gradient_is_exact_at_zero():
    x = Value(np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0]]))
    x.prod(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_comparisons_are_constant_masks():
    v = Value([1.0, 2.0, 3.0])
    assert v.gt(1.5).data.tolist() == [0.0, 1.0, 1.0] and not v.gt(1.5).requires_grad
    assert v.le(Value(2.0)).data.tolist() == [1.0, 1.0, 0.0]
    assert v.eq(2.0).data.tolist() == [0.0, 1.0, 0.0]
    assert v.ne(2.0).data.tolist() == [1.0, 0.0, 1.0]
    assert v.lt(2.0).data.tolist() == [1.0, 0.0, 0.0]
    assert v.ge(2.0).data.tolist() == [0.0, 1.0, 1.0]
    assert (v == v) is True and (v == Value([1.0, 2.0, 3.0])) is False  # identity


def test_argmax_argmin_split_one_hot():
    v = Value([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert v.argmax() == 3 and v.argmin() == 4
    assert v.argmax(axis=1).tolist() == [1, 0] and v.argmin(axis=0, keepdims=True).shape == (1, 3)
    parts = v.split(3, axis=1)
    assert [p.shape for p in parts] == [(2, 1)] * 3
    assert [p.shape for p in v.split([1, 2], axis=1)] == [(2, 1), (2, 1), (2, 1)]
    np.testing.assert_array_equal(one_hot(np.array([[1], [0]]), 2).data, [[[0, 1]], [[1, 0]]])
    np.testing.assert_array_equal(one_hot(np.array([True, False]), 2).data, [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: one_hot([0, 3], 3), ["one_hot", "[0, 2]", "3"]),
        (lambda: one_hot([0.5], 3), ["one_hot", "integers"]),
        (lambda: where(np.ones(3, bool), Value(np.ones(2)), 0.0), ["where", "(3,)", "(2,)"]),
        (lambda: Value(np.ones((2, 3))).squeeze(0), ["squeeze", "(2, 3)"]),
        (lambda: Value(np.ones(4)).split(3), ["split", "3"]),
        (lambda: Value(np.ones(3)).var(ddof=3), ["var", "ddof"]),
        (lambda: Value(np.ones(3)).clip(2, 1), ["clip"]),
        (lambda: Value(np.ones(3)).norm(3), ["norm", "ord"]),
        (lambda: Value(np.ones(3)).gelu("fast"), ["gelu"]),
        (lambda: Value(np.ones((2, 2))).take_along_axis([[2]], 1), ["take_along_axis", "[-2, 1]"]),
        (lambda: Value(np.ones((2, 2))).pad(((1, 1),) * 3), ["pad", "(2, 2)"]),
    ],
)
def test_bad_input_names_the_op_and_the_shapes(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value)
