"""The engine: every op against finite differences, the reference numbers, the rules."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import (
    Value,
    add_n,
    apply,
    concat,
    detect_anomaly,
    grad,
    gradcheck,
    linear,
    no_grad,
    ops,
    stack,
    sum_of_squares,
    weighted_sum,
)

FAST = settings(max_examples=25, deadline=None)


def arrays(shape_strategy=None, low=-3.0, high=3.0):
    shapes = (
        shape_strategy
        if shape_strategy is not None
        else hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
    )
    return hnp.arrays(
        np.float64, shapes, elements=st.floats(low, high, allow_nan=False, allow_infinity=False)
    )


# ------------------------------------------------------------------ reference numbers
def test_seed_neuron_reference_numbers():
    w = [Value(0.0), Value(1.0)]
    b = Value(4.0)
    x = [Value(2.0), Value(3.0)]
    out = (w[0] * x[0] + w[1] * x[1] + b).sigmoid()
    assert out.data == 0.9990889488055994
    out.backward()
    s = out.data * (1 - out.data)  # sigmoid'(7)
    assert w[0].grad == pytest.approx(s * 2, rel=1e-15)
    assert w[1].grad == pytest.approx(s * 3, rel=1e-15)
    assert b.grad == pytest.approx(s, rel=1e-15)
    assert x[1].grad == pytest.approx(s * 1.0, rel=1e-15)
    assert x[0].grad == 0.0


def test_micrograd_sanity_check():
    # micrograd's test_engine.py::test_sanity_check; the numbers are PyTorch's.
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.data == -20.0
    assert x.grad == 46.0


def test_micrograd_more_ops():
    # micrograd's test_engine.py::test_more_ops; numbers as PyTorch computes them.
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    tol = 1e-6
    assert abs(g.data - 24.70408163265306) < tol
    assert abs(a.grad - 138.83381924198252) < tol
    assert abs(b.grad - 645.5772594752186) < tol


# ------------------------------------------------------------------ gradcheck, every op
UNARY = {
    "exp": lambda v: v.exp(),
    "tanh": lambda v: v.tanh(),
    "sigmoid": lambda v: v.sigmoid(),
    "relu": lambda v: v.relu(),
    "leaky_relu": lambda v: v.leaky_relu(0.1),
    "abs": lambda v: v.abs(),
    "neg": lambda v: -v,
    "square": lambda v: v**2,
    "cube": lambda v: v**3,
    "sum": lambda v: v.sum(),
    "sum_axis0": lambda v: v.sum(axis=0),
    "sum_last_keep": lambda v: v.sum(axis=-1, keepdims=True),
    "mean": lambda v: v.mean(),
    "mean_axis0": lambda v: v.mean(axis=0),
    "max": lambda v: v.max(),
    "max_axis_last": lambda v: v.max(axis=-1),
    "softmax": lambda v: v.softmax(),
    "log_softmax": lambda v: v.log_softmax(axis=0),
    "reshape": lambda v: v.reshape(-1) * Value(np.arange(v.size, dtype=float)),
    "transpose": lambda v: v.T * Value(np.arange(v.size, dtype=float).reshape(v.T.shape)),
    "index_first": lambda v: v[0],
    "index_slice": lambda v: v[..., ::2],
}
POSITIVE = {
    "log": lambda v: v.log(),
    "sqrt": lambda v: v.sqrt(),
    "pow_frac": lambda v: v**1.5,
    "rdiv": lambda v: 1.0 / v,
    "rpow": lambda v: 2.0**v,
    "pow_value": lambda v: v ** Value(np.full(v.shape, 1.3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@FAST
@given(x=arrays())
def test_unary_ops_gradcheck(name, x):
    if name in ("relu", "leaky_relu", "abs"):
        x = np.where(np.abs(x) < 1e-3, 0.5, x)  # keep off the kink
    if name.startswith("max"):
        # No ties or near-ties: x's own order, as distinct values 0.05 apart (adding
        # arange * 1e-3 left [0, 0.001] a near-tie that finite differences straddle).
        ranks = np.argsort(np.argsort(x, axis=None, kind="stable")).reshape(x.shape)
        x = (ranks - x.size / 2) * 0.05
    assert gradcheck(UNARY[name], Value(x))


@pytest.mark.parametrize("name", sorted(POSITIVE))
@FAST
@given(x=arrays(low=0.2, high=3.0))
def test_positive_domain_ops_gradcheck(name, x):
    assert gradcheck(POSITIVE[name], Value(x))


BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((4,), ()),
    ((), (2, 2)),
]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES)
@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_binary_ops_broadcast_gradcheck(shapes, op):
    rng = np.random.default_rng(len(shapes[0]) * 10 + len(shapes[1]))
    a = Value(rng.uniform(0.5, 2.0, shapes[0]) if shapes[0] else 1.3)
    b = Value(rng.uniform(0.5, 2.0, shapes[1]) if shapes[1] else 0.7)
    fn = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "/": lambda x, y: x / y,
    }[op]
    assert gradcheck(fn, a, b)
    out = fn(a, b)
    assert out.shape == np.broadcast_shapes(shapes[0], shapes[1])


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((3, 4), (4, 2)),
        ((4,), (4, 2)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((2, 3, 4), (4, 5)),
        ((2, 3, 4), (2, 4, 2)),
    ],
)
def test_matmul_gradcheck(sa, sb):
    rng = np.random.default_rng(7)
    assert gradcheck(lambda a, b: a @ b, Value(rng.normal(size=sa)), Value(rng.normal(size=sb)))


@FAST
@given(
    x=arrays(hnp.array_shapes(min_dims=1, max_dims=2, min_side=2, max_side=5)),
    data=st.data(),
)
def test_integer_array_indexing_scatter_adds(x, data):
    idx = data.draw(
        hnp.arrays(np.int64, st.integers(1, 6), elements=st.integers(0, x.shape[0] - 1))
    )
    v = Value(x)
    assert gradcheck(lambda t: t[idx], v)
    v[idx].sum().backward()
    counts = np.bincount(idx, minlength=x.shape[0]).astype(float)
    expected = np.broadcast_to(counts.reshape((-1,) + (1,) * (x.ndim - 1)), x.shape)
    np.testing.assert_array_equal(v.grad, expected)


def test_repeated_indices_accumulate():
    v = Value([1.0, 2.0, 3.0])
    v[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(v.grad, [3.0, 0.0, 1.0])


def test_concat_and_stack_gradcheck():
    rng = np.random.default_rng(3)
    a, b, c = (Value(rng.normal(size=(2, n))) for n in (1, 2, 3))
    assert gradcheck(lambda x, y, z: concat([x, y, z], axis=1) ** 2, a, b, c)
    p, q = Value(rng.normal(size=(2, 3))), Value(rng.normal(size=(2, 3)))
    assert gradcheck(lambda x, y: stack([x, y], axis=1).tanh(), p, q)
    assert stack([p, q], axis=-1).shape == (2, 3, 2)
    s = stack([Value(1.0), Value(2.0), 3.0])
    np.testing.assert_array_equal(s.data, [1.0, 2.0, 3.0])


def test_add_n_is_one_node_and_right():
    xs = [Value(float(i)) for i in range(5)]
    total = add_n(xs + [10.0])
    assert total.data == 20.0 and total.op == "+" and len(total.parents) == 6
    (total * total).backward()
    assert all(x.grad == 40.0 for x in xs)
    m = Value(np.ones((2, 3)))
    assert gradcheck(lambda a, b: add_n([a, b, a * b]), m, Value(np.arange(3.0)))


@settings(max_examples=40, deadline=None)
@given(
    ws=st.lists(st.floats(-3, 3), min_size=1, max_size=6),
    data=st.data(),
    with_bias=st.booleans(),
)
def test_weighted_sum_equals_the_chain_of_products_bit_for_bit(ws, data, with_bias):
    xs = data.draw(st.lists(st.floats(-3, 3), min_size=len(ws), max_size=len(ws)))
    b = data.draw(st.floats(-3, 3))
    W1, X1 = [Value(w) for w in ws], [Value(x) for x in xs]
    W2, X2 = [Value(w) for w in ws], [Value(x) for x in xs]
    B1, B2 = Value(b), Value(b)
    fused = weighted_sum(W1, X1, B1 if with_bias else None)
    chain = add_n([w * x for w, x in zip(W2, X2)] + ([B2] if with_bias else []))
    assert fused.data == chain.data  # same order of summation, same bits
    assert len(fused.parents) == 2 * len(ws) + with_bias
    fused.tanh().backward()
    chain.tanh().backward()
    assert [v.grad for v in W1 + X1] == [v.grad for v in W2 + X2]
    assert B1.grad == (B2.grad if with_bias else 0.0)


def test_weighted_sum_tensors_constants_second_derivatives_and_errors():
    rng = np.random.default_rng(5)
    w = [Value(rng.normal(size=3)) for _ in range(2)]
    x = [Value(rng.normal(size=(4, 3))), Value(rng.normal(size=3))]
    assert gradcheck(lambda a, b, c, d, e: weighted_sum([a, b], [c, d], e), *w, *x, Value(0.5))
    n = weighted_sum([Value(2.0)], [3.0], 1.0)  # numbers are constants
    assert n.data == 7.0
    a = Value(1.5)
    d1 = grad(weighted_sum([a], [a]), a, create_graph=True)  # d(a*a)/da = 2a, as a Value
    assert d1.data == 3.0 and grad(d1, a) == 2.0
    with pytest.raises(ValueError, match="2 weights but 1 inputs"):
        weighted_sum([Value(1.0), Value(2.0)], [Value(1.0)])
    with pytest.raises(ValueError, match="at least one"):
        weighted_sum([], [])
    with pytest.raises(TypeError, match="weighted_sum: cannot use a str"):
        weighted_sum([Value(1.0)], ["x"])
    with pytest.raises(ValueError, match=r"w·x: cannot combine shapes \(3,\) and \(2,\)"):
        weighted_sum([Value(np.ones(3))], [Value(np.ones(2))])


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 5), nin=st.integers(1, 4), nout=st.integers(1, 4), seed=st.integers(0, 99))
def test_linear_is_matmul_plus_bias(n, nin, nout, seed):
    rng = np.random.default_rng(seed)
    x, W, b = (Value(rng.normal(size=s)) for s in ((n, nin), (nin, nout), (nout,)))
    out = linear(x, W, b)
    assert out.op == "linear" and len(out.parents) == 3
    np.testing.assert_allclose(out.data, x.data @ W.data + b.data)
    assert gradcheck(lambda a, w, c: linear(a, w, c).tanh(), x, W, b)
    assert gradcheck(lambda a, w, c: linear(a[0], w, c), x, W, b)  # one sample, 1-d


def test_sum_of_squares_is_one_node_over_scalars_and_tensors():
    a, m = Value(3.0), Value(np.arange(6.0).reshape(2, 3))
    total = sum_of_squares([a, m])
    assert total.data == 9.0 + 55.0 and total.op == "Σx²"
    total.backward()
    assert a.grad == 6.0
    np.testing.assert_array_equal(m.grad, 2 * m.data)
    assert gradcheck(lambda p, q: sum_of_squares([p, q]) * p, Value(-1.5), Value([0.5, 2.0]))
    f32 = sum_of_squares([Value(np.ones(3), dtype="float32")])
    assert f32.data == 3.0
    with pytest.raises(ValueError, match="sum_of_squares: needs a non-empty list"):
        sum_of_squares([])


@settings(max_examples=30, deadline=None)
@given(
    scores=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-3, 3)),
    seed=st.integers(0, 99),
)
def test_hinge_op_matches_its_formula(scores, seed):
    y = np.random.default_rng(seed).choice([-1.0, 1.0], size=scores.shape)
    s = Value(scores)
    assert apply(ops.HINGE, s, y).data == pytest.approx(np.maximum(1 - scores * y, 0).mean())
    if np.all(np.abs(1 - scores * y) > 1e-3):  # away from the kink
        assert gradcheck(lambda v: apply(ops.HINGE, v, y), s)
    # the same through the engine's elementary ops
    a, b = Value(scores), Value(scores)
    apply(ops.HINGE, a, y).backward()
    (1.0 - b * y).relu().mean().backward()
    np.testing.assert_allclose(a.grad, b.grad, atol=1e-15)


def test_max_ties_share_gradient():
    v = Value([1.0, 3.0, 3.0])
    v.max().backward()
    np.testing.assert_array_equal(v.grad, [0.0, 0.5, 0.5])


# ------------------------------------------------------------------ stability
def test_softmax_family_is_stable_at_extremes():
    v = Value([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    p = v.softmax()
    lp = v.log_softmax()
    assert p.isfinite() and lp.isfinite()
    np.testing.assert_allclose(p.data.sum(axis=-1), 1.0)
    np.testing.assert_allclose(lp.data[0], [0.0, -2000.0, -1000.0])
    lp[0, 1].backward()
    assert np.isfinite(v.grad).all()


def test_sigmoid_stable_for_huge_inputs():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    big = Value(np.array([-1000.0, 0.0, 1000.0])).sigmoid()
    np.testing.assert_allclose(big.data, [0.0, 0.5, 1.0])


def test_scalar_and_tensor_paths_agree():
    rng = np.random.default_rng(11)
    xs = rng.normal(size=6)
    fns = [
        lambda v: (v * 1.5 + 0.2).tanh() * v.exp() - v.sigmoid() / (v * v + 1.0),
        lambda v: (
            (v.abs() + 0.1).log() + (v.abs() + 0.2).sqrt() + v.relu() ** 2 - v.leaky_relu(0.2)
        ),
    ]
    for fn in fns:
        vector = Value(xs)
        fn(vector).sum().backward()
        for i, x in enumerate(xs):
            scalar = Value(float(x))
            out = fn(scalar)
            out.backward()
            assert out.data == pytest.approx(fn(Value(xs)).data[i], rel=1e-12)
            assert scalar.grad == pytest.approx(vector.grad[i], rel=1e-12)


# ------------------------------------------------------------------ backward rules
def test_gradients_accumulate_across_backward_calls():
    a = Value(3.0)
    b = a * a
    b.backward()
    b.backward()
    assert a.grad == 12.0
    assert b.grad == 1.0  # an intermediate gradient is this pass's, not a running sum
    a.grad = 0.0
    (a * 2).backward()
    assert a.grad == 2.0


def test_tensor_leaf_grad_is_owned_not_shared():
    a = Value(np.ones(3))
    b = Value(np.ones(3))
    (a + b).sum().backward()
    a.grad += 5.0  # editing one gradient in place must not touch the other
    np.testing.assert_array_equal(b.grad, np.ones(3))


def test_backward_of_many_elements_needs_grad():
    v = Value(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"needs grad="):
        (v * 2).backward()
    (v * 2).backward(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(v.grad, np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        (v * 2).backward(np.ones(3))


def test_million_op_chain_backpropagates():
    x = Value(1.0)
    y = x
    for _ in range(500_000):
        y = y * 1.0000001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0000001**500_000, rel=1e-9)
    assert y.data == pytest.approx(1.0000001**500_000, rel=1e-9)


def test_grad_leaves_dot_grad_alone():
    a, b = Value(2.0), Value(5.0)
    c = a * b + a
    ga, gb = grad(c, [a, b])
    assert (ga, gb) == (6.0, 2.0)
    assert a.grad == 0.0 and b.grad == 0.0
    unused = Value(1.0)
    assert grad(c, unused) == 0.0


def test_second_derivatives():
    x = Value(2.0)
    d1 = grad(x**3, x, create_graph=True)
    assert d1.data == 12.0
    assert grad(d1, x) == 12.0  # 6x
    t = Value(0.7)
    dt = grad(t.tanh(), t, create_graph=True)
    th = math.tanh(0.7)
    assert grad(dt, t) == pytest.approx(-2 * th * (1 - th**2), rel=1e-12)
    s = Value(-0.3)
    ds = grad(s.sigmoid(), s, create_graph=True)
    sg = 1 / (1 + math.exp(0.3))
    assert grad(ds, s) == pytest.approx(sg * (1 - sg) * (1 - 2 * sg), rel=1e-12)
    a, b = Value(1.5), Value(-2.0)
    f = a * a * b + (a * b).exp()
    dfa = grad(f, a, create_graph=True)
    # d2f/da db = 2a + exp(ab) + ab exp(ab)
    expected = 2 * 1.5 + math.exp(-3.0) * (1 - 3.0)
    assert grad(dfa, b) == pytest.approx(expected, rel=1e-12)


def test_second_derivative_of_tensor_expression():
    rng = np.random.default_rng(5)
    W = Value(rng.normal(size=(3, 2)))
    x = Value(rng.normal(size=(4, 3)))
    loss = ((x @ W).tanh() ** 2).sum()
    (gW,) = grad(loss, [W], create_graph=True)
    # the Hessian-vector product along V, against finite differences of the gradient
    V = rng.normal(size=(3, 2))
    hv = grad((gW * V).sum(), W)
    eps = 1e-6
    plus = grad(((x @ Value(W.data + eps * V)).tanh() ** 2).sum(), x)  # sanity: runs
    assert plus.shape == (4, 3)
    gp = grad(((x @ (W + eps * V)).tanh() ** 2).sum(), W)
    gm = grad(((x @ (W - eps * V)).tanh() ** 2).sum(), W)
    np.testing.assert_allclose(hv, (gp - gm) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_no_grad_and_detach():
    w = Value(2.0)
    with no_grad():
        y = w * 3
    assert y.parents == () and y.op == "" and not y.requires_grad
    z = (w * 3).detach()
    assert z.parents == () and z.data == 6.0
    t = Value(np.ones(3))
    d = t.detach()
    assert d.data is t.data and not d.requires_grad


def test_requires_grad_false_gets_no_gradient():
    x = Value(np.ones((2, 2)), requires_grad=False)
    W = Value(np.eye(2))
    (x @ W).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 2)))
    np.testing.assert_array_equal(W.grad, np.full((2, 2), 2.0))


def test_float32_stays_float32():
    W = Value(np.ones((3, 2)), dtype="float32")
    x = Value(np.ones((4, 3), dtype=np.float32), requires_grad=False)
    out = (x @ W).relu().sum()
    out.backward()
    assert W.dtype == np.float32 and W.grad.dtype == np.float32
    assert (x @ W).dtype == np.float32
    with pytest.raises(ValueError, match="float32 or float64"):
        Value([1, 2], dtype="int32")


# ------------------------------------------------------------------ construction, repr
def test_construction_and_properties():
    assert type(Value(3).data) is float
    assert Value(np.float32(2.5)).data == 2.5
    v = Value([[1, 2], [3, 4]])
    assert v.data.dtype == np.float64 and v.shape == (2, 2) and v.ndim == 2 and v.size == 4
    assert Value(np.array([True, False])).data.dtype == np.float64
    assert Value(np.array(5)).data == 5.0 and Value(np.array(5)).shape == ()
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert "shape=(2, 2)" in repr(v)
    assert Value([[7.0]]).item() == 7.0
    with pytest.raises(ValueError, match="one element"):
        v.item()
    src = np.ones(3)
    copied = Value(src)
    src[0] = 5.0
    assert copied.data[0] == 1.0


def test_operators_with_numbers_and_arrays_on_both_sides():
    v = Value(np.array([1.0, 2.0]))
    for expr, expected in [
        (v + 1, [2, 3]),
        (1 + v, [2, 3]),
        (np.array([1.0, 1.0]) + v, [2, 3]),
        (v - np.array([1.0, 1.0]), [0, 1]),
        (np.array([3.0, 3.0]) - v, [2, 1]),
        (2 * v, [2, 4]),
        (v / 2, [0.5, 1]),
        (2 / v, [2, 1]),
        (v**2, [1, 4]),
        (2**v, [2, 4]),
        ([1.0, 1.0] * v, [1, 2]),
    ]:
        assert isinstance(expr, Value)
        np.testing.assert_allclose(expr.data, expected)
    assert (np.ones((2, 2)) @ v).shape == (2,)


# ------------------------------------------------------------------ bad input
def test_shape_mismatch_names_op_and_shapes():
    a = Value(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\+.*\(2, 3\).*\(4,\)"):
        a + Value(np.ones(4))
    with pytest.raises(ValueError, match=r"@ \(matmul\).*\(2, 3\).*\(2, 3\)"):
        a @ a
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\)"):
        a.reshape(4, 2)
    with pytest.raises(ValueError, match=r"concat"):
        concat([a, Value(np.ones((3, 3)))], axis=1)
    with pytest.raises(ValueError, match="axis"):
        a.sum(axis=2)


def test_unsupported_operands_are_type_errors():
    v = Value(1.0)
    with pytest.raises(TypeError):
        v + "1"
    with pytest.raises(TypeError):
        None * v
    with pytest.raises(TypeError):
        Value("abc")
    with pytest.raises(TypeError):
        Value([Value(1.0)])
    with pytest.raises(TypeError):
        Value(np.ones(3))[Value(0.0)]


def test_log_and_sqrt_outside_domain_give_nan_inf_not_crashes():
    cases = [(0.0, "log"), (-1.0, "log"), (-1.0, "sqrt"), (0.0, "reciprocal")]
    fns = {"log": lambda v: v.log(), "sqrt": lambda v: v.sqrt(), "reciprocal": lambda v: 1.0 / v}
    for x, name in cases:
        v = Value(x)
        out = fns[name](v)
        assert not out.isfinite(), name
        out.backward()  # no crash: the gradient is inf or nan, as numpy would give
        if x == 0.0:
            assert not math.isfinite(v.grad), name
    assert Value(0.0).log().data == -math.inf
    assert math.isnan(Value(-1.0).sqrt().data)
    assert Value(1.0).isfinite()
    arr = Value(np.array([1.0, 0.0]))
    with np.errstate(divide="ignore"):
        assert not arr.log().isfinite()
    assert math.isnan((Value(-8.0) ** 0.5).data)
    assert Value(1000.0).exp().data == math.inf


def test_detect_anomaly_names_the_op():
    with detect_anomaly():
        Value(1.0).log()  # fine
        with pytest.raises(FloatingPointError, match="log"):
            Value(-1.0).log()
    Value(-1.0).log()  # off again


def test_gradcheck_catches_a_wrong_gradient():
    from autograd import ops

    original = ops.TANH.vjps
    ops.TANH.vjps = (lambda g, out, a: g * (1 + out * out),)  # a deliberately wrong rule
    try:
        with pytest.raises(AssertionError, match=r"input 0.*analytic"):
            gradcheck(lambda v: v.tanh(), Value(np.array([0.5, -0.3])))
    finally:
        ops.TANH.vjps = original


def test_gradcheck_checks_a_second_derivative_computed_with_grad():
    # fn differentiates inside (grad of grad): its finite differences need a graph too.
    x = Value(np.array([0.3, -1.2]))
    assert gradcheck(lambda v: grad(v.tanh().sum(), v, create_graph=True), x)
    s = Value(0.7)
    assert gradcheck(lambda v: grad(v**3, v, create_graph=True), s)  # 3 s² -> 6 s
    with pytest.raises(AssertionError, match="analytic"):  # and still catches a wrong one
        gradcheck(lambda v: grad(v**3, v, create_graph=True).detach() * v, s)


def test_weighted_sum_in_place_backward_matches_the_trace_even_with_shared_inputs():
    # The scalar fast path (Op.add_floats) adds in the order w's, x's, bias, as vjp_all;
    # a Value used as a weight and as an input gets both parts, in that order.
    from autograd import trace_backward

    a, b, c = Value(0.3), Value(-1.7), Value(2.5)
    out = weighted_sum([a, b, a], [b, c, a], c).tanh() * a
    out.backward()
    totals = {}
    for s in trace_backward(out):
        totals[s.input] = s.total
    assert [a.grad, b.grad, c.grad] == [totals[a], totals[b], totals[c]]


@pytest.mark.parametrize("bias", [False, True])
def test_forward_floats_gives_the_forwards_bits_and_leaves_arrays_to_it(bias):
    # weighted_sum runs Op.forward_floats before looking at its inputs: on floats it must
    # give the forward's number to the bit, and refuse an array wherever it sits, which
    # then reaches the quiet forward (no numpy warning, the same numbers).
    import warnings

    op = ops.weighted_sum_op(3, bias)
    rng = np.random.default_rng(7)
    floats = [float(v) for v in rng.normal(size=7 if bias else 6)]
    assert op.forward_floats(*floats) == op.forward(*floats)
    for where in range(len(floats)):
        with pytest.raises(TypeError):
            op.forward_floats(*floats[:where], np.array([1.0, 2.0]), *floats[where + 1 :])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for where in range(len(floats)):
            parts = [Value(v) for v in floats]
            parts[where] = Value(np.array([floats[where], np.inf, 1e308]))
            n = len(floats) // 2
            out = weighted_sum(parts[:n], parts[n : 2 * n], parts[2 * n] if bias else None)
            with np.errstate(all="ignore"):
                expected = op.forward(*(p.data for p in parts))
            assert type(out.data) is np.ndarray
            np.testing.assert_array_equal(out.data, expected)


def test_weighted_sum_backward_falls_back_when_an_input_became_an_array():
    w, x = Value(2.0), Value(3.0)
    out = weighted_sum([w, Value(1.0)], [x, Value(1.0)])
    # Changed after the forward behind the engine's back (``_data``, which skips the
    # stale-graph check that ``x.data = ...`` triggers): no float fast path.
    x._data = np.array([3.0, 4.0])
    out.backward()
    assert w.grad == 7.0 and type(w.grad) is float


# ------------------------------------------------------------------ quiet() and mean_all


def test_quiet_is_errstate_ignore_and_restores_the_state():
    import warnings

    from autograd.quiet import quiet

    before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with quiet():
            assert np.geterr() == dict.fromkeys(before, "ignore")
            assert np.array([1.0]) / 0.0 == np.inf
            with quiet():  # nested: still quiet, and the outer block still restores
                np.log(np.array([0.0]))
            assert np.geterr() == dict.fromkeys(before, "ignore")
    assert np.geterr() == before


def test_quiet_keeps_numpy_other_settings_and_an_outer_errstate():
    from autograd.quiet import quiet

    with np.errstate(divide="raise"):
        with quiet():
            np.array([1.0]) / 0.0  # ignored inside
        with pytest.raises(FloatingPointError):
            np.array([1.0]) / 0.0  # the user's setting is back
    size = np.getbufsize()
    np.setbufsize(size * 2)
    try:
        with quiet():
            assert np.getbufsize() == size * 2
    finally:
        np.setbufsize(size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1,), (7,), (100, 1), (256, 10), (3, 1000)])
def test_mean_all_is_np_mean_to_the_bit(dtype, shape):
    from autograd.ops import mean_all

    rng = np.random.default_rng(sum(shape))
    for scale in (1.0, 1e-30, 1e30):
        a = (rng.normal(size=shape) * scale).astype(dtype)
        expected, got = np.mean(a), mean_all(a)
        assert type(got) is type(expected) and got.tobytes() == expected.tobytes()


def test_numbers_in_ops_are_constant_values_among_the_parents():
    # A node's inputs are read one way: ``parents``, a tuple of Values; a number used in
    # an op (``y * 2.0``) is a constant Value there, on either side.
    from autograd import trace_backward

    x = Value(1.5, label="x")
    ys = [x * 2.0, 2.0 * x, x + 3, 3 - x, x / 4.0, 4.0 / x, 2.5**x, x - True]
    for y in ys:
        assert all(type(p) is Value for p in y.parents) and x in y.parents
        const = next(p for p in y.parents if p is not x)
        assert not const.requires_grad and const.op == "" and const.parents == ()
        assert y.parents is y.parents  # stored, not made on each read
        out = y * y
        out.backward()
        steps = {s.input: s.total for s in trace_backward(out)}
        assert steps[x] == x.grad  # bit for bit, with constants on either side
        x.grad = None
    assert ys[0].parents[1].data == 2.0 and ys[3].parents[0].data == 3.0
    assert x.tanh().parents == (x,)


def test_a_number_beside_a_scalar_is_no_object_until_the_parents_are_read():
    # y = y * 1.0001 + 0 records two objects per op for the garbage collector (the result
    # and its inputs' tuple), not three: the number stays a float among the parents until
    # ``parents`` is read (autograd/fast_backward.py says what that saves).
    import gc

    x = Value(1.5, label="x")
    y = x
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(1000):
        y = y * 1.0001 + 0
    assert len(gc.get_objects()) - before <= 2 * 2000 + 50
    assert type(y.parents[1]) is Value and y.parents[0].parents[1].data == 1.0001
    # backward() before the parents are read and after: the same gradient, to the bit
    makers = [
        lambda: x * 2.0,
        lambda: 2.0 * x,
        lambda: 3 - x,
        lambda: 4.0 / x,
        lambda: 2.5**x,
        lambda: (x * x - 1) / 3,
    ]
    for make in makers:
        kept, read = make() * x, make() * x
        assert all(type(p) is Value for p in read.parents[0].parents)
        kept.backward()
        first, x.grad = x.grad, None
        read.backward()
        assert x.grad == first == grad(make() * x, x)
        x.grad = None


def test_a_graph_pickled_when_inputs_were_slots_loads_with_its_parents():
    # An older version kept one or two inputs in slots ``_a`` and ``_b`` (a number as a
    # plain float); such a pickle loads with ``parents`` as today.
    from autograd import ops

    x = Value(1.5)
    old = Value.__new__(Value)
    slots = {"_data": 3.0, "_op": ops.MUL, "_parents": None, "_a": x, "_b": 2.0}
    old.__setstate__((None, {**slots, "requires_grad": True, "_label": "", "_stamp": (0, 5)}))
    assert old.parents[0] is x and old.parents[1].data == 2.0
    old.backward()
    assert x.grad == 2.0


def test_plain_number_inputs_keep_the_graph_checks():
    w = Value(2.0, label="w")
    y = (w * 3.0 + 1.0) * w
    w.data = 5.0
    with pytest.raises(RuntimeError, match="'w', an input of"):
        y.backward()
    with no_grad():
        assert (Value(1.0) * 2.0).parents == ()
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"\*.*\[\(\), \(\)\]"):
        Value(1.0) * math.inf
    assert grad(Value(3.0) * 2.0 + 1.0, [Value(0.0)]) == (0.0,)


def test_a_neuron_with_zero_gradient_skips_its_terms_only_where_that_changes_nothing(monkeypatch):
    from autograd.mode import writes

    monkeypatch.setattr(writes, "negative_zero", False)  # restored after the test
    w, x, b = Value(2.0), Value(-3.0), Value(0.5)
    (weighted_sum([w], [x], b).relu() * 1.0).backward()  # relu is off: g = 0 below it
    assert (w.grad, x.grad, b.grad) == (0.0, 0.0, 0.0) and not writes.negative_zero
    # An infinite input makes 0 * inf = nan, as the full sum does: nothing is skipped.
    w.grad = None
    n = weighted_sum([w, Value(1.0)], [Value(-math.inf), Value(-5.0)])  # relu off
    n.relu().backward()
    assert math.isnan(w.grad)
    # A gradient set to -0.0 by hand: -0.0 + 0.0 is +0.0, so the terms are added again.
    v = Value(-2.0)
    v.grad = -0.0
    assert writes.negative_zero
    weighted_sum([v], [Value(3.0)], Value(0.0)).relu().backward()  # off; the term is +0.0
    assert math.copysign(1.0, v.grad) == 1.0


def test_copies_and_pickles_keep_constant_inputs_and_signed_zero_gradients(monkeypatch):
    import copy
    import pickle

    from autograd.mode import writes

    x = Value(1.5)
    out = 3.0 - (x * 2.0 + 1.0).tanh() * x
    x2, out2 = copy.deepcopy((x, out))
    out.backward()
    out2.backward()
    assert x2.grad == x.grad and out2.parents[0].data == 3.0
    monkeypatch.setattr(writes, "negative_zero", False)
    w = Value(2.0)
    w.grad = -0.0
    writes.negative_zero = False
    assert math.copysign(1.0, pickle.loads(pickle.dumps(w)).grad) == -1.0
    assert writes.negative_zero  # an unpickled -0.0 gradient turns the skip off as well
    old = Value.__new__(Value)  # a Value pickled when ``parents`` was a slot
    old.__setstate__((None, {"_data": 1.0, "_g": 0.0, "_op": None, "parents": ()}))
    assert old.parents == ()


def _reference_order(root, leaves):
    """Depth-first post-order, recursively: the order ``topological_order`` promises."""
    order, seen = [], set()

    def visit(v):
        if v in seen:
            return
        seen.add(v)
        for p in reversed(v.parents):
            if p.requires_grad and (leaves or p._op is not None):
                visit(p)
        order.append(v)

    visit(root)
    return order


def test_topological_order_of_chains_branches_and_repeated_inputs():
    import random

    from autograd import add_n
    from autograd.backprop import topological_order
    from autograd.fast_backward import order_of_ops

    rng = random.Random(0)
    for _ in range(300):
        nodes = [Value(rng.uniform(-1, 1), requires_grad=rng.random() < 0.8) for _ in range(3)]
        for _ in range(rng.randint(1, 20)):
            a, b, c = rng.choice(nodes), rng.choice(nodes[-3:]), rng.choice(nodes)
            kind = rng.randrange(5)
            if kind == 0:
                v = a * b
            elif kind == 1:
                v = a + 2.0  # one input made by an op: a chain goes on
            elif kind == 2:
                v = b * b  # the same input twice
            elif kind == 3:
                v = b.tanh()
            else:
                v = add_n([a, b, c])
            nodes.append(v)
        for root in nodes[-2:]:
            for leaves in (False, True):
                assert topological_order(root, leaves) == _reference_order(root, leaves)
            assert order_of_ops(root) == _reference_order(root, False)  # backward()'s
    x = Value(np.ones(3))
    y = (x * 2.0 + x).tanh() * 3.0 - 1.0  # a chain above a branch
    order = topological_order(y, leaves=False)
    assert order == _reference_order(y, leaves=False) == order_of_ops(y) and len(order) == 5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "shapes", [((100, 1), (100, 1)), ((7,), (7,)), ((5, 1), (5,)), ((4, 3), (3,))]
)
def test_hinge_vjp_on_arrays_gives_the_general_rules_bits(dtype, shapes):
    from autograd import ops

    rng = np.random.default_rng(0)
    a = rng.normal(size=shapes[0]).astype(dtype)
    y = rng.choice([-1.0, 1.0, 0.0, np.nan], size=shapes[1]).astype(dtype)
    a.flat[0] = np.inf
    with np.errstate(all="ignore"):
        for g in (1.0, 0.5, -2.0, np.nan, 0.0):
            for i, (x, other) in enumerate(((a, y), (y, a))):
                fast = ops.HINGE.vjps[i](g, None, a, y)
                margin = 1.0 - x * other  # the general rule, written out
                active = (margin > 0) * (-1.0 / np.size(margin))
                general = ops.sum_to(g * active * other, ops.shape_of(x))
                assert fast.dtype == general.dtype and fast.shape == general.shape
                assert fast.tobytes() == general.tobytes()


def test_setting_a_number_as_the_gradient_of_a_scalar_takes_the_short_way(monkeypatch):
    # ``p.grad = 0`` in a training loop: no array made, the same result as the long way
    import autograd.value
    from autograd.mode import writes

    v = Value(2.0)
    monkeypatch.setattr(writes, "negative_zero", False)
    monkeypatch.setattr(autograd.value, "as_data", None)  # the long way would call it
    for number, expected in ((0, 0.0), (3, 3.0), (True, 1.0), (-1.5, -1.5)):
        v.grad = number
        assert type(v.grad) is float and v.grad == expected
    assert not writes.negative_zero
    v.grad = -0.0
    assert math.copysign(1.0, v.grad) == -1.0 and writes.negative_zero
    with pytest.raises(OverflowError):
        v.grad = 10**400  # as float(10**400) says
    monkeypatch.undo()
    t = Value([1.0, 2.0])
    t.grad = 0  # a number on a tensor: spread to its shape (the long way)
    assert t.grad.shape == (2,) and not t.grad.any()
