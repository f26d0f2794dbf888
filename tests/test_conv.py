"""conv1d, conv2d, max_pool2d and avg_pool2d: one node each, gradients against finite
differences and, where PyTorch is installed, values and gradients against torch (float64)
over random shapes and stride / padding / dilation / groups combinations."""

import numpy as np
import pytest
from conftest import assert_like_torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Value, avg_pool2d, conv1d, conv2d, gradcheck, max_pool2d

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the finite-difference checks still run
    torch = None


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 1)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    hw = (draw(st.integers(3, 6)), draw(st.integers(3, 6)))
    assume(all(d * (kk - 1) + 1 <= n + 2 * p for n, kk, p, d in zip(hw, k, padding, dilation)))
    n = draw(st.integers(1, 2))
    return dict(
        x=(n, cin) + hw,
        w=(cout, cin // groups) + k,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


def _data(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=case["x"])
    w = rng.normal(size=case["w"])
    b = rng.normal(size=case["w"][0]) if case["bias"] else None
    return rng, x, w, b


def _geometry(case):
    return {k: case[k] for k in ("stride", "padding", "dilation", "groups")}


@settings(max_examples=25, deadline=None)
@given(conv_cases())
def test_conv2d_gradcheck(case):
    _, x, w, b = _data(case)
    vals = [Value(x), Value(w)] + ([Value(b)] if b is not None else [])
    fn = lambda xv, wv, *bv: conv2d(xv, wv, bv[0] if bv else None, **_geometry(case))  # noqa: E731
    assert gradcheck(fn, *vals, atol=1e-6, rtol=1e-5)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_conv2d_matches_torch(case):
    rng, x, w, b = _data(case)
    vx, vw = Value(x), Value(w)
    vb = Value(b) if b is not None else None
    tx, tw = (torch.tensor(a, requires_grad=True) for a in (x, w))
    tb = torch.tensor(b, requires_grad=True) if b is not None else None
    out = conv2d(vx, vw, vb, **_geometry(case))
    tout = F.conv2d(tx, tw, tb, **_geometry(case))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = rng.normal(size=out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for ours, theirs in ((vx, tx), (vw, tw), (vb, tb)):
        if ours is not None:
            np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    o=st.integers(1, 3),
    length=st.integers(4, 9),
    k=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    seed=st.integers(0, 2**31),
)
def test_conv1d_gradcheck_and_torch(n, c, o, length, k, stride, padding, dilation, seed):
    assume(dilation * (k - 1) + 1 <= length + 2 * padding)
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=(n, c, length)), rng.normal(size=(o, c, k)), rng.normal(size=o)
    kw = dict(stride=stride, padding=padding, dilation=dilation)
    vx, vw, vb = Value(x), Value(w), Value(b)
    assert gradcheck(lambda *v: conv1d(*v, **kw), vx, vw, vb, atol=1e-6, rtol=1e-5)
    if torch is None:
        return
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out, tout = conv1d(vx, vw, vb, **kw), F.conv1d(*ts, **kw)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    for v, t in zip((vx, vw, vb), ts):
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)


@st.composite
def pool_cases(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([None, (1, 1), (2, 1), (2, 2), (3, 2)]))
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    hw = (draw(st.integers(3, 7)), draw(st.integers(3, 7)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + hw
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    size = int(np.prod(shape))
    # well-separated values: no ties inside a window, so max has one clear winner
    x = (rng.permutation(size) * 0.5 + rng.uniform(-0.1, 0.1, size)).reshape(shape)
    return x, dict(kernel_size=k, stride=stride, padding=padding), rng


@settings(max_examples=40, deadline=None)
@given(pool_cases(), st.booleans())
def test_pools_gradcheck_and_torch(case, average):
    x, kw, rng = case
    _pool_matches_torch("avg" if average else "max", x, kw, rng)


def _pool_matches_torch(kind, x, kw, rng):
    """Gradients against finite differences and, with torch, values and gradients."""
    pool = avg_pool2d if kind == "avg" else max_pool2d
    v = Value(x)
    assert gradcheck(lambda u: pool(u, **kw), v, atol=1e-6, rtol=1e-5)
    if torch is None:
        return
    t = torch.tensor(x, requires_grad=True)
    tout = (F.avg_pool2d if kind == "avg" else F.max_pool2d)(t, **kw)
    assert_like_torch(pool(v, **kw), tout, [v], [t], rng)


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_avg_pool_without_padding_in_the_count_and_dilated_max_pool():
    x = np.random.default_rng(1).normal(size=(2, 2, 5, 6))
    v, t = Value(x), torch.tensor(x, requires_grad=True)
    out = avg_pool2d(v, 3, 2, 1, count_include_pad=False)
    tout = F.avg_pool2d(t, 3, 2, 1, count_include_pad=False)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12)
    y = np.random.default_rng(2).permutation(2 * 2 * 7 * 7).reshape(2, 2, 7, 7) * 1.0
    np.testing.assert_array_equal(
        max_pool2d(Value(y), 2, 1, 0, dilation=2).data,
        F.max_pool2d(torch.tensor(y), 2, 1, 0, dilation=2).numpy(),
    )


def test_float32_stays_float32():
    x = Value(np.ones((2, 3, 5, 5), dtype=np.float32))
    w = Value(np.ones((4, 3, 3, 3), dtype=np.float32))
    out = max_pool2d(conv2d(x, w, padding=1), 2)
    out.sum().backward()
    assert out.dtype == np.float32 and w.grad.dtype == np.float32


@pytest.mark.parametrize(
    "call, words",
    [
        (
            lambda: conv2d(np.ones((1, 3, 5, 5)), Value(np.ones((2, 2, 3, 3)))),
            ["conv2d", "(1, 3, 5, 5)", "(2, 2, 3, 3)"],
        ),
        (lambda: conv2d(np.ones((3, 5, 5)), Value(np.ones((2, 3, 3, 3)))), ["conv2d", "(3, 5, 5)"]),
        (
            lambda: conv2d(np.ones((1, 1, 2, 2)), Value(np.ones((1, 1, 3, 3)))),
            ["conv2d", "kernel", "(1, 1, 2, 2)"],
        ),
        (
            lambda: conv2d(np.ones((1, 1, 5, 5)), Value(np.ones((1, 1, 3, 3))), stride=0),
            ["conv2d", "stride"],
        ),
        (
            lambda: conv2d(np.ones((1, 1, 5, 5)), Value(np.ones((1, 1, 3, 3))), padding=-1),
            ["conv2d", "padding"],
        ),
        (
            lambda: conv2d(np.ones((1, 4, 5, 5)), Value(np.ones((3, 2, 3, 3))), groups=2),
            ["conv2d", "groups"],
        ),
        (
            lambda: conv2d(np.ones((1, 1, 5, 5)), Value(np.ones((2, 1, 3, 3))), np.ones(3)),
            ["conv2d", "bias", "(3,)"],
        ),
        (
            lambda: conv1d(np.ones((1, 2, 5)), Value(np.ones((1, 3, 2)))),
            ["conv1d", "channels", "(1, 2, 5)"],
        ),
        (
            lambda: conv1d(np.ones((1, 1, 2)), Value(np.ones((1, 1, 3)))),
            ["conv1d", "kernel", "(1, 1, 2)"],
        ),
        (
            lambda: max_pool2d(Value(np.ones((1, 1, 2, 2))), 3),
            ["max_pool2d", "kernel", "(1, 1, 2, 2)"],
        ),
        (lambda: max_pool2d(Value(np.ones((1, 1, 4, 4))), 2, padding=2), ["max_pool2d", "padding"]),
        (lambda: avg_pool2d(Value(np.ones((1, 4, 4))), 2), ["avg_pool2d", "(1, 4, 4)"]),
        (
            lambda: avg_pool2d(Value(np.ones((1, 1, 4, 4))), 2, stride=(1, 0)),
            ["avg_pool2d", "stride"],
        ),
    ],
)
def test_bad_input_names_the_op_the_argument_and_the_shapes(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value)


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_cnn_benchmark_workload_agrees_with_torch():
    from benchmarks.workloads import WORKLOADS

    setup = WORKLOADS["cnn_digits_f32"].setup
    ours, theirs = setup("backproplab"), setup("torch")
    for _ in range(3):  # the same losses step after step (float32)
        assert ours() == pytest.approx(theirs(), rel=1e-4)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@settings(max_examples=12, deadline=None)
@given(conv_cases())
def test_second_derivatives_through_conv_and_pools_match_torch(case):
    from autograd import grad

    rng, x, w, b = _data(case)
    geo = _geometry(case)
    ours = [Value(x), Value(w)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w)]

    def ours_f(xv, wv):
        h = conv2d(xv, wv, None if b is None else Value(b), **geo).tanh()
        return (max_pool2d(h, 1) * avg_pool2d(h, 1)).sum() + (h * h).sum()

    def torch_f(tx, tw):
        h = F.conv2d(tx, tw, None if b is None else torch.tensor(b), **geo).tanh()
        return (F.max_pool2d(h, 1) * F.avg_pool2d(h, 1)).sum() + (h * h).sum()

    firsts = grad(ours_f(*ours), ours, create_graph=True)
    tfirsts = torch.autograd.grad(torch_f(*theirs), theirs, create_graph=True)
    dirs = [rng.normal(size=a.shape) for a in (x, w)]
    seconds = grad(sum((g * d).sum() for g, d in zip(firsts, dirs)), ours)
    tseconds = torch.autograd.grad(
        sum((g * torch.tensor(d)).sum() for g, d in zip(tfirsts, dirs)), theirs
    )
    for a, t in zip(seconds, tseconds):
        np.testing.assert_allclose(a, t.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_second_derivatives_through_pools_with_overlap(pool):
    from autograd import grad

    rng = np.random.default_rng(3)
    size = 2 * 2 * 6 * 5
    x0 = (rng.permutation(size) * 0.3 + rng.uniform(-0.05, 0.05, size)).reshape(2, 2, 6, 5)
    kw = dict(kernel_size=3, stride=(2, 1), padding=1)
    x, t = Value(x0), torch.tensor(x0, requires_grad=True)
    tpool = F.max_pool2d if pool is max_pool2d else F.avg_pool2d
    first = grad((pool(x, **kw) ** 3).sum(), x, create_graph=True)
    (tfirst,) = torch.autograd.grad((tpool(t, **kw) ** 3).sum(), t, create_graph=True)
    d = rng.normal(size=x0.shape)
    second = grad((first * d).sum(), x)
    (tsecond,) = torch.autograd.grad((tfirst * torch.tensor(d)).sum(), t)
    np.testing.assert_allclose(first.data, tfirst.detach().numpy(), rtol=1e-9)
    np.testing.assert_allclose(second, tsecond.numpy(), rtol=1e-9, atol=1e-12)


def test_kept_columns_live_as_long_as_the_output():
    import gc

    from autograd import no_grad
    from autograd.ops import im2col as conv_math

    before = len(conv_math._COLUMNS)
    x, w = Value(np.ones((2, 1, 5, 5))), Value(np.ones((3, 1, 3, 3)))
    out = conv2d(x, w, padding=1)
    assert len(conv_math._COLUMNS) == before + 1
    out.sum().backward()
    np.testing.assert_allclose(w.grad[0, 0], [[32, 40, 32], [40, 50, 40], [32, 40, 32]])
    del out
    gc.collect()
    assert len(conv_math._COLUMNS) == before
    with no_grad():
        conv2d(x, w)
    assert len(conv_math._COLUMNS) == before


# ------------------------------------------------------------------ issue 25: transposed
# convolution, pooling's ceil_mode and interpolate
from autograd import conv_transpose2d, grad, interpolate  # noqa: E402


@st.composite
def transpose_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 1)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, s - 1)) for s in stride)
    hw = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    sizes = [
        (n - 1) * s - 2 * p + d * (kk - 1) + op + 1
        for n, kk, s, p, d, op in zip(hw, k, stride, padding, dilation, output_padding)
    ]
    assume(min(sizes) >= 1)
    return dict(
        x=(draw(st.integers(1, 2)), cin) + hw,
        w=(cin, cout // groups) + k,
        geometry=dict(
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            groups=groups,
            dilation=dilation,
        ),
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


@settings(max_examples=25, deadline=None)
@given(transpose_cases())
def test_conv_transpose2d_gradcheck_and_torch(case):
    rng = np.random.default_rng(case["seed"])
    x, w = rng.normal(size=case["x"]), rng.normal(size=case["w"])
    b = rng.normal(size=case["w"][1] * case["geometry"]["groups"]) if case["bias"] else None
    geo = case["geometry"]
    values = [Value(x), Value(w)] + ([Value(b)] if b is not None else [])

    def ours(xv, wv, *bv):
        return conv_transpose2d(xv, wv, bv[0] if bv else None, **geo)

    assert gradcheck(ours, *values, atol=1e-6, rtol=1e-5)
    if torch is None:
        return
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w) + (() if b is None else (b,))]
    tout = F.conv_transpose2d(ts[0], ts[1], ts[2] if b is not None else None, **geo)
    assert_like_torch(ours(*values), tout, values, ts, rng)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@settings(max_examples=10, deadline=None)
@given(transpose_cases())
def test_second_derivatives_through_conv_transpose2d_match_torch(case):
    rng = np.random.default_rng(case["seed"])
    x, w = rng.normal(size=case["x"]), rng.normal(size=case["w"])
    geo = case["geometry"]
    ours, theirs = [Value(x), Value(w)], [torch.tensor(a, requires_grad=True) for a in (x, w)]
    out = conv_transpose2d(*ours, **geo)
    tout = F.conv_transpose2d(*theirs, **geo)
    weights = rng.normal(size=out.shape)
    firsts = grad((out.tanh() * weights).sum(), ours, create_graph=True)
    tfirsts = torch.autograd.grad(
        (tout.tanh() * torch.tensor(weights)).sum(), theirs, create_graph=True
    )
    dirs = [rng.normal(size=a.shape) for a in (x, w)]
    seconds = grad(sum((g * d).sum() for g, d in zip(firsts, dirs)), ours)
    tseconds = torch.autograd.grad(
        sum((g * torch.tensor(d)).sum() for g, d in zip(tfirsts, dirs)), theirs
    )
    for a, t in zip(seconds, tseconds):
        np.testing.assert_allclose(a, t.numpy(), rtol=1e-8, atol=1e-10)


@st.composite
def ceil_pool_cases(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    hw = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    assume(all(kk <= n + 2 * p + s - 1 for kk, n, p, s in zip(k, hw, padding, stride)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + hw
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    size = int(np.prod(shape))
    x = (rng.permutation(size) * 0.5 + rng.uniform(-0.1, 0.1, size)).reshape(shape)
    return x, dict(kernel_size=k, stride=stride, padding=padding, ceil_mode=True), rng


@settings(max_examples=60, deadline=None)
@given(ceil_pool_cases(), st.sampled_from(["max", "avg", "avg_no_pad_count"]))
def test_ceil_mode_pools_gradcheck_and_torch(case, kind):
    x, kw, rng = case
    if kind != "max":
        kw["count_include_pad"] = kind == "avg"
    _pool_matches_torch(kind[:3], x, kw, rng)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_ceil_mode_second_derivatives_match_torch(pool):
    rng = np.random.default_rng(4)
    x0 = (rng.permutation(2 * 7 * 6) * 0.3 + rng.uniform(-0.05, 0.05, 84)).reshape(1, 2, 7, 6)
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    x, t = Value(x0), torch.tensor(x0, requires_grad=True)
    tpool = F.max_pool2d if pool is max_pool2d else F.avg_pool2d
    first = grad((pool(x, **kw) ** 3).sum(), x, create_graph=True)
    (tfirst,) = torch.autograd.grad((tpool(t, **kw) ** 3).sum(), t, create_graph=True)
    d = rng.normal(size=x0.shape)
    (tsecond,) = torch.autograd.grad((tfirst * torch.tensor(d)).sum(), t)
    np.testing.assert_allclose(grad((first * d).sum(), x), tsecond.numpy(), rtol=1e-9)


INTERPOLATIONS = [
    dict(scale_factor=2),
    dict(scale_factor=1.5),
    dict(scale_factor=(0.5, 3)),
    dict(scale_factor=0.7),
    dict(size=(7, 3)),
    dict(size=5),
    dict(size=(2, 9), mode="bilinear"),
    dict(size=(2, 9), mode="bilinear", align_corners=True),
    dict(scale_factor=1.7, mode="bilinear"),
    dict(scale_factor=(0.6, 2), mode="bilinear", align_corners=True),
    dict(size=1, mode="bilinear", align_corners=True),
    dict(scale_factor=2, mode="bilinear"),
    dict(size=(4, 5), mode="bilinear"),  # the same size: the identity
]


@pytest.mark.parametrize("kw", INTERPOLATIONS, ids=str)
def test_interpolate_gradcheck_and_torch(kw):
    rng = np.random.default_rng(5)
    x0 = rng.normal(size=(2, 3, 4, 5))
    x = Value(x0)
    assert gradcheck(lambda v: interpolate(v, **kw), x, atol=1e-6, rtol=1e-5)
    if torch is None:
        return
    t = torch.tensor(x0, requires_grad=True)
    out, tout = interpolate(x, **kw), F.interpolate(t, **kw)
    assert_like_torch(out, tout, [x], [t], rng, rtol=1e-12, atol=1e-14)


def test_interpolate_second_derivative_and_a_nan_stays_in_its_pixels():
    x0 = np.random.default_rng(6).normal(size=(1, 1, 3, 4))

    def first(v):
        out = interpolate(v, scale_factor=1.5, mode="bilinear")
        return grad((out**3).sum(), v, create_graph=True)

    assert gradcheck(first, Value(x0), atol=1e-6, rtol=1e-5)
    x0[0, 0, 0, 0] = np.nan
    near = interpolate(Value(x0), scale_factor=2).data
    assert np.isnan(near[0, 0, :2, :2]).all() and np.isfinite(near[0, 0, 2:]).all()


@pytest.mark.parametrize(
    "call, words",
    [
        (
            lambda: conv_transpose2d(np.ones((1, 2, 3, 3)), Value(np.ones((3, 1, 2, 2)))),
            ["conv_transpose2d", "(1, 2, 3, 3)", "(3, 1, 2, 2)"],
        ),
        (
            lambda: conv_transpose2d(
                np.ones((1, 1, 3, 3)), Value(np.ones((1, 1, 2, 2))), output_padding=1
            ),
            ["conv_transpose2d", "output_padding", "stride"],
        ),
        (
            lambda: conv_transpose2d(
                np.ones((1, 1, 1, 1)), Value(np.ones((1, 1, 1, 1))), padding=1
            ),
            ["conv_transpose2d", "padding", "(1, 1, 1, 1)"],
        ),
        (
            lambda: conv_transpose2d(np.ones((1, 1, 2, 2)), Value(np.ones((1, 2, 2, 2))), [1.0]),
            ["conv_transpose2d", "bias", "(2,)"],
        ),
        (lambda: conv_transpose2d(np.ones((2, 2)), Value(np.ones((2, 2)))), ["(N, C_in, H, W)"]),
        (
            lambda: max_pool2d(Value(np.ones((1, 1, 1, 1))), 3, stride=1, ceil_mode=True),
            ["max_pool2d", "kernel", "(1, 1, 1, 1)"],
        ),
        (lambda: interpolate(Value(np.ones((1, 2, 2))), size=3), ["interpolate", "(1, 2, 2)"]),
        (lambda: interpolate(Value(np.ones((1, 1, 2, 2)))), ["interpolate", "size"]),
        (
            lambda: interpolate(Value(np.ones((1, 1, 2, 2))), size=3, scale_factor=2),
            ["interpolate", "one of them"],
        ),
        (
            lambda: interpolate(Value(np.ones((1, 1, 2, 2))), size=3, align_corners=True),
            ["interpolate", "align_corners"],
        ),
        (lambda: interpolate(Value(np.ones((1, 1, 2, 2))), size=3, mode="cubic"), ["mode"]),
        (
            lambda: interpolate(Value(np.ones((1, 1, 2, 2))), scale_factor=0.1),
            ["interpolate", "(1, 1, 2, 2)"],
        ),
        (lambda: interpolate(Value(np.ones((1, 1, 2, 2))), scale_factor=-1), ["scale_factor"]),
        (lambda: interpolate(Value(np.ones((1, 1, 2, 2))), size=0), ["interpolate", "size"]),
    ],
)
def test_bad_input_to_the_new_image_ops_is_one_clear_line(call, words):
    with pytest.raises(ValueError) as err:
        call()
    for w in words:
        assert w in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda x: max_pool2d(x, 2, ceil_mode=True),
        lambda x: max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
        lambda x: avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
        lambda x: avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False),
        lambda x: avg_pool2d(x, 3, 2, 1, count_include_pad=False, ceil_mode=True),
        # a last window that would start in the right padding, or past the input: none
        lambda x: max_pool2d(x, 2, stride=2, padding=1, ceil_mode=True),
        lambda x: max_pool2d(x, 2, stride=3, ceil_mode=True),
        lambda x: avg_pool2d(x, 2, 2, 1, ceil_mode=True),
        lambda x: avg_pool2d(x, 2, 3, 1, count_include_pad=False, ceil_mode=True),
        lambda x: interpolate(x, scale_factor=2),
        lambda x: interpolate(x, size=(7, 4)),
        lambda x: interpolate(x, scale_factor=(0.5, 1.5)),
        lambda x: interpolate(x, size=(7, 4), mode="bilinear"),
        lambda x: interpolate(x, size=(7, 4), mode="bilinear", align_corners=True),
        lambda x: interpolate(x, scale_factor=0.6, mode="bilinear"),
        lambda x: conv_transpose2d(x, np.ones((2, 1, 3, 3)), None, 2, 1, 1, 2),
    ],
)
def test_onnxruntime_runs_the_image_ops(make, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from nn import Module, export_onnx

    class Model(Module):
        def forward(self, x):
            return make(x)

    x = np.random.default_rng(7).normal(size=(2, 2, 5, 6))
    export_onnx(Model(), x, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(["output"], {"input": x.astype(np.float32)})[0]
    np.testing.assert_allclose(got, make(Value(x)).data, rtol=1e-5, atol=1e-5)
