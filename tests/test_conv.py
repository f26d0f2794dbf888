"""conv1d, conv2d, max_pool2d and avg_pool2d: one node each, gradients against finite
differences and, where PyTorch is installed, values and gradients against torch (float64)
over random shapes and stride / padding / dilation / groups combinations."""

import numpy as np
import pytest
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
    pool = avg_pool2d if average else max_pool2d
    v = Value(x)
    assert gradcheck(lambda u: pool(u, **kw), v, atol=1e-6, rtol=1e-5)
    if torch is None:
        return
    t = torch.tensor(x, requires_grad=True)
    tout = (F.avg_pool2d if average else F.max_pool2d)(t, **kw)
    out = pool(v, **kw)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = rng.normal(size=out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)


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
