"""The ops added for breadth (issue 14): each against finite differences over random
shapes and, where PyTorch is installed, values and gradients against torch (float64)."""

import math

import numpy as np
import pytest
from conftest import assert_like_torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, einsum, grad, gradcheck, maximum, minimum, one_hot, where

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


def inside_one(rng, shape):
    """Away from ±1, where asin and acos have infinite slopes."""
    return rng.uniform(-0.9, 0.9, size=shape)


def between_steps(rng, shape):
    """Away from whole numbers and halves: the jumps of floor, ceil and round."""
    return (
        rng.integers(-3, 3, size=shape)
        + rng.choice([0.25, 0.75], size=shape)
        + rng.uniform(-0.1, 0.1, size=shape)
    )


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
    # issue 25
    "tan": (inside_one, lambda v: v.tan(), lambda t: t.tan()),
    "sinh": (smooth, lambda v: v.sinh(), lambda t: t.sinh()),
    "cosh": (smooth, lambda v: v.cosh(), lambda t: t.cosh()),
    "asin": (inside_one, lambda v: v.asin(), lambda t: t.asin()),
    "acos": (inside_one, lambda v: v.acos(), lambda t: t.acos()),
    "atan": (smooth, lambda v: (v * 3).atan(), lambda t: (t * 3).atan()),
    "floor": (between_steps, lambda v: v.floor() * v, lambda t: t.floor() * t),
    "ceil": (between_steps, lambda v: v.ceil() * v, lambda t: t.ceil() * t),
    "round": (between_steps, lambda v: v.round() * v, lambda t: t.round() * t),
    "sign": (away_from_zero, lambda v: v.sign() * v, lambda t: t.sign() * t),
    "cumprod": (smooth, lambda v: v.cumprod(axis=0), lambda t: t.cumprod(0)),
    "cumprod_flat": (smooth, lambda v: v.cumprod(), lambda t: t.reshape(-1).cumprod(0)),
    "topk": (
        distinct,
        lambda v: v.topk(min(2, v.shape[-1])).values,
        lambda t: t.topk(min(2, t.shape[-1])).values,
    ),
    "topk_smallest": (
        distinct,
        lambda v: v.topk(1, axis=0, largest=False).values,
        lambda t: t.topk(1, dim=0, largest=False).values,
    ),
    "sort": (distinct, lambda v: v.sort(0).values * v, lambda t: t.sort(0).values * t),
    "sort_down": (
        distinct,
        lambda v: v.sort(descending=True).values,
        lambda t: t.sort(descending=True).values,
    ),
    "einsum_outer": (
        smooth,
        lambda v: einsum("...i,...j->...ij", v, v),
        lambda t: torch.einsum("...i,...j->...ij", t, t),
    ),
    "einsum_sum": (
        smooth,
        lambda v: einsum("i...->...", v),
        lambda t: torch.einsum("i...->...", t),
    ),
    "pad_reflect": (
        smooth,
        lambda v: v.pad([(min(2, n - 1), min(1, n - 1)) for n in v.shape], mode="reflect"),
        None,
    ),
    "pad_replicate": (smooth, lambda v: v.pad([(2, 1)] * v.ndim, mode="replicate"), None),
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
    "atan2": (lambda a, b: a.atan2(b), lambda a, b: torch.atan2(a, b)),
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


# ------------------------------------------------------------------ issue 25: edge values
EDGES = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1e-300, 40.0, 800.0])
SPECIAL = np.array([np.inf, -np.inf, np.nan])


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize(
    "name", ["tan", "sinh", "cosh", "asin", "acos", "atan", "floor", "ceil", "round", "sign"]
)
def test_edge_values_and_their_gradients_match_torch(name):
    # kinks, ties, 0, -0, ±1 (asin's infinite slope), halves (round: to even), overflow,
    # ±inf and nan; one gradient of 1 for each
    data = np.concatenate([EDGES, SPECIAL])
    x = Value(data)
    t = torch.tensor(data, requires_grad=True)
    out, tout = getattr(x, name)(), getattr(torch, name)(t)
    expected = tout.detach().numpy()
    if name == "sign":  # torch's sign(nan) is 0; ours stays nan, so a nan is never hidden
        assert np.isnan(out.data[-1]) and expected[-1] == 0
        out, expected = out[:-1], expected[:-1]
    np.testing.assert_array_equal(out.data, expected)
    numbers = ~np.isnan(expected)
    np.testing.assert_array_equal(np.signbit(out.data[numbers]), np.signbit(expected[numbers]))
    getattr(x, name)().backward(np.ones_like(data))  # (a sum of +inf and -inf would warn)
    tout.backward(torch.ones_like(t))
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-15)


def test_steps_pass_no_gradient_even_an_infinite_one():
    x = Value([0.5, 2.0, -3.0])
    x.floor().backward(np.full(3, np.inf))  # torch's zeros_like: 0, not 0 * inf
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    assert grad(grad(Value(1.3).round() * 5, Value(1.3), create_graph=True), Value(1.3)) == 0.0


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_atan2_at_the_origin_axes_and_infinities_matches_torch():
    ys = np.array([0.0, 0.0, -0.0, 1.0, -1.0, 0.0, np.inf, 1.0, 1e-200, 1e-160, np.nan])
    xs = np.array([0.0, -1.0, -1.0, 0.0, -0.0, 1.0, 1.0, np.inf, 0.0, 0.0, 1.0])
    a, b = Value(ys), Value(xs)
    ta, tb = (torch.tensor(d, requires_grad=True) for d in (ys, xs))
    out, tout = a.atan2(b), torch.atan2(ta, tb)
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_array_equal(a.grad, ta.grad.numpy())  # 0 at the origin, as torch
    np.testing.assert_array_equal(b.grad, tb.grad.numpy())


ZEROS = [
    [0.0, 2.0, 3.0, -1.0],
    [2.0, 0.0, 3.0, 0.0, 5.0],
    [0.0, 0.0, 1.5],
    [1.5, -2.0, 0.0],
    [[1.0, 0.0, 2.0, 3.0], [0.0, 4.0, 0.0, 2.0], [2.0, 3.0, 4.0, 5.0]],
]


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("data", ZEROS, ids=str)
@pytest.mark.parametrize("axis", [0, -1])
def test_cumprod_is_exact_where_an_element_is_zero_first_and_second_derivatives(data, axis):
    x0 = np.array(data)
    rng = np.random.default_rng(len(x0))
    w, d = rng.normal(size=x0.shape), rng.normal(size=x0.shape)
    x, t = Value(x0), torch.tensor(x0, requires_grad=True)
    first = grad((x.cumprod(axis) * w).sum(), x, create_graph=True)
    (tfirst,) = torch.autograd.grad((t.cumprod(axis) * torch.tensor(w)).sum(), t, create_graph=True)
    np.testing.assert_allclose(first.data, tfirst.detach().numpy(), rtol=1e-12)
    x.cumprod(axis).backward(w)  # the one-pass gradient of backward()
    np.testing.assert_allclose(x.grad, tfirst.detach().numpy(), rtol=1e-12)
    (tsecond,) = torch.autograd.grad((tfirst * torch.tensor(d)).sum(), t)
    np.testing.assert_allclose(grad((first * d).sum(), x), tsecond.numpy(), rtol=1e-12)
    assert gradcheck(lambda v: grad((v.cumprod(axis) * w).sum(), v, create_graph=True), Value(x0))


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_topk_and_sort_ties_and_nan_as_torch_documents():
    data = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 1.0], [np.nan, 0.0, -0.0, 2.0, np.nan, -1.0]])
    t = torch.tensor(data)
    for descending in (False, True):  # torch.sort(stable=True): the same indices
        ours = Value(data).sort(descending=descending)
        theirs = torch.sort(t, descending=descending, stable=True)
        np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices, theirs.indices.numpy())
    for largest in (True, False):  # torch.topk: the same values; tied indices lower first
        ours = Value(data).topk(3, largest=largest)
        theirs = torch.topk(t, 3, largest=largest)
        np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
        np.testing.assert_array_equal(np.take_along_axis(data, ours.indices, 1), ours.values.data)
    assert Value(data).topk(3).indices[0].tolist() == [1, 2, 4]
    x = Value(data[:1])
    (x.topk(2).values * [10.0, 1.0]).sum().backward()  # each gradient to the picked element
    np.testing.assert_array_equal(x.grad, [[0.0, 10.0, 1.0, 0.0, 0.0, 0.0]])


def test_topk_and_sort_second_derivative_and_bad_k():
    x0 = np.array([[0.3, -1.2, 2.0], [1.1, 0.4, -0.5]])
    assert gradcheck(
        lambda v: grad((v.topk(2, axis=1).values ** 3).sum(), v, create_graph=True), Value(x0)
    )
    assert gradcheck(lambda v: v.sort(axis=0, descending=True).values * v, Value(x0))
    assert Value(x0).topk(0).values.shape == (2, 0)
    for bad, words in [
        (lambda: Value(x0).topk(4), ["topk", "0 to 3", "(2, 3)"]),
        (lambda: Value(x0).topk(1, axis=2), ["topk", "axis 2"]),
        (lambda: Value(2.0).sort(), ["sort", "0-d"]),
    ]:
        with pytest.raises(ValueError) as err:
            bad()
        assert all(w in str(err.value) for w in words)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ij", [(2, 2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij->ji", [(2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(1, 2, 3), (4, 3, 2)]),
    ("...ij,jk->...ik", [(2, 5, 2, 3), (3, 2)]),
    ("i...->...", [(2, 3, 4)]),
    ("...->", [(2, 3)]),
    ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]),
    ("Ab,bC->AC", [(2, 3), (3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij, ij -> i", [(2, 3), (1, 3)]),
]


@pytest.mark.parametrize("subscripts, shapes", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_matches_torch_with_second_derivatives(subscripts, shapes):
    rng = np.random.default_rng(len(subscripts))
    data = [rng.normal(size=s) for s in shapes]
    values = [Value(d) for d in data]
    assert gradcheck(lambda *vs: einsum(subscripts, *vs), *values)

    def first(*vs):
        out = einsum(subscripts, *vs)
        return grad((out * out).sum(), vs[0], create_graph=True)

    assert gradcheck(first, *[Value(d) for d in data])
    if torch is None:
        return
    ts = [torch.tensor(d, requires_grad=True) for d in data]
    out, tout = einsum(subscripts, *values), torch.einsum(subscripts, *ts)
    assert_like_torch(out, tout, values, ts, rng, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: einsum("ij,jk", Value(np.ones((2, 3)))), ["einsum", "2 inputs", "(2, 3)"]),
        (lambda: einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 2))), ["einsum", "(4, 2)"]),
        (lambda: einsum("ij;k", Value(np.ones((2, 3)))), ["einsum", "letters"]),
        (lambda: einsum("ijk", Value(np.ones((2, 3)))), ["einsum", "(2, 3)"]),
        (lambda: einsum("i" * 300, Value(np.ones(2))), ["einsum", "200"]),
        (lambda: Value([1.0, 2.0]).pad(2, mode="reflect"), ["pad", "reflect", "(2,)"]),
        (lambda: Value(np.ones((0, 2))).pad(1, mode="replicate"), ["pad", "(0, 2)", "empty"]),
        (lambda: Value([1.0, 2.0]).pad(1, 3.0, mode="reflect"), ["pad", "value"]),
        (lambda: Value([1.0, 2.0]).pad(1, mode="circular"), ["pad", "mode"]),
        (lambda: Value([1.0, 2.0]).cumprod(axis=1), ["cumprod", "axis 1"]),
    ],
)
def test_bad_input_to_the_new_ops_is_one_clear_line(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize(
    "shape, pad",
    [((2, 5), [1, 3]), ((2, 3, 4), [2, 1, 0, 2]), ((1, 2, 3, 4), [3, 0, 1, 2]), ((2, 4), [0, 0])],
)
def test_pad_modes_match_torch(mode, shape, pad):
    data = np.random.default_rng(8).normal(size=shape)
    t = torch.tensor(data, requires_grad=True)
    tout = torch.nn.functional.pad(t, pad, mode=mode)
    pairs = [(0, 0)] * (len(shape) - len(pad) // 2) + [
        (pad[i], pad[i + 1]) for i in range(len(pad) - 2, -1, -2)
    ]
    x = Value(data)
    out = x.pad(pairs, mode=mode)
    np.testing.assert_array_equal(out.data, tout.detach().numpy())  # copies, to the bit
    assert_like_torch(out, tout, [x], [t], np.random.default_rng(9), rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    "f",
    [
        lambda v: v.tan() + v.sinh() + v.cosh() + (v * 0.5).asin() + (v * 0.5).acos() + v.atan(),
        lambda v: v.atan2(v.flip(-1)) + v.floor() + v.ceil() + v.round() + v.sign(),
        lambda v: v.cumprod(-1) + v.sort(-1).values + v.topk(4).values,
        lambda v: einsum("...ij,...kj->...ik", v, v),
        lambda v: v.pad(((0, 0),) * 3 + ((1, 2),), mode="reflect").pad(1, mode="replicate"),
        lambda v: __import__("autograd").interpolate(v, scale_factor=1.5, mode="bilinear"),
        lambda v: __import__("autograd").interpolate(v, size=(5, 2)),
        lambda v: __import__("autograd").conv_transpose2d(v, v[:2, :1] * 1.0, stride=2),
    ],
)
def test_float32_stays_float32_in_the_new_ops(f):
    data = np.random.default_rng(16).uniform(-0.9, 0.9, size=(2, 2, 3, 4)).astype(np.float32)
    x = Value(data)
    out = f(x)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_cumprod_of_a_single_number_and_einsum_of_a_list():
    x = Value(3.0)
    assert x.cumprod(0).data == 3.0 and x.cumprod(-1).data == 3.0 and x.cumprod().shape == (1,)
    a, b = Value(np.ones((2, 3))), Value(np.ones(3))
    assert einsum("ij,j->i", [a, b]).data.tolist() == [3.0, 3.0]  # operands as a list (torch)
