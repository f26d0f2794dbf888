"""Every elementwise op and operator against PyTorch at edge values (0, -0.0, ±inf, nan,
±1e308, subnormals): the same value, the same gradient, and no numpy warning."""

import itertools
import math
import warnings

import numpy as np
import pytest
from test_op_coverage import ROWS, _run, _scalar, _weights

from autograd import Value, grad, ops

torch = pytest.importorskip("torch")

EDGES = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 1e308, -1e308, 1e-308, 5e-324]
EDGES += [-5e-324, 2.5, -2.5]
PAIRS = list(
    itertools.product([0.0, -0.0, 1.0, -2.0, math.inf, -math.inf, math.nan, 0.5], repeat=2)
)
F = torch.nn.functional
UNARY = {
    "exp": (lambda v: v.exp(), torch.exp),
    "log": (lambda v: v.log(), torch.log),
    "tanh": (lambda v: v.tanh(), torch.tanh),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid),
    "relu": (lambda v: v.relu(), torch.relu),
    "leaky_relu": (lambda v: v.leaky_relu(0.01), lambda t: F.leaky_relu(t, 0.01)),
    "abs": (lambda v: v.abs(), torch.abs),
    "sqrt": (lambda v: v.sqrt(), torch.sqrt),
    "neg": (lambda v: -v, torch.neg),
    "x**0.5": (lambda v: v**0.5, lambda t: t**0.5),
    "x**2": (lambda v: v**2, lambda t: t**2),
    "x**0": (lambda v: v**0, lambda t: t**0),
    "x**-1": (lambda v: v**-1, lambda t: t**-1),
    "x**3": (lambda v: v**3, lambda t: t**3),
    "2**x": (lambda v: 2.0**v, lambda t: 2.0**t),
    "0**x": (lambda v: 0.0**v, lambda t: torch.tensor(0.0, dtype=torch.float64) ** t),
}
BINARY = {
    "+": (lambda a, b: a + b),
    "-": (lambda a, b: a - b),
    "*": (lambda a, b: a * b),
    "/": (lambda a, b: a / b),
    "**": (lambda a, b: a**b),
}
# Where we knowingly differ (each a NaN or a signed-zero subtlety, none a finite number):
# the slope of abs at a NaN input (torch: 0; ours: NaN on tensors, as the input) and the
# sign of sqrt's infinite slope at -0.0.
KNOWN = {
    ("abs", "tensor", (math.nan,)),
    ("x**0.5", "scalar", (-0.0,)),
    ("x**0.5", "tensor", (-0.0,)),
}


def _same(x, y) -> bool:
    x, y = float(x), float(y)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-300)


def _ours(fn, values, mode):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if mode == "scalar":
            vs = [Value(x) for x in values]
            out = fn(*vs)
            out.backward()
            data, grads = out.data, [v.grad for v in vs]
        else:
            vs = [Value(np.array([x])) for x in values]
            out = fn(*vs)
            out.sum().backward()
            data, grads = out.data[0], [v.grad[0] for v in vs]
    return data, grads, [str(w.message) for w in caught]


def _torch(fn, values):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in values]
    out = fn(*ts)
    out.backward()
    return out.item(), [t.grad.item() for t in ts]


def _key(x):
    return "nan" if math.isnan(x) else repr(x)


@pytest.mark.parametrize("mode", ["scalar", "tensor"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_match_torch_at_edge_values(name, mode):
    ours_fn, torch_fn = UNARY[name]
    for x in EDGES:
        if any(k[:2] == (name, mode) and _key(k[2][0]) == _key(x) for k in KNOWN):
            continue
        data, grads, caught = _ours(ours_fn, [x], mode)
        want, want_grads = _torch(torch_fn, [x])
        assert _same(data, want), (name, mode, x, data, want)
        assert _same(grads[0], want_grads[0]), (name, mode, x, grads, want_grads)
        assert caught == [], (name, mode, x, caught)


@pytest.mark.parametrize("mode", ["scalar", "tensor"])
@pytest.mark.parametrize("name", list(BINARY))
def test_operators_match_torch_at_edge_values(name, mode):
    fn = BINARY[name]
    for a, b in PAIRS:
        data, grads, caught = _ours(fn, [a, b], mode)
        want, want_grads = _torch(fn, [a, b])
        assert _same(data, want), (name, mode, a, b, data, want)
        assert all(map(_same, grads, want_grads)), (name, mode, a, b, grads, want_grads)
        assert caught == [], (name, mode, a, b, caught)


def test_softmax_of_a_single_number_and_the_mean_of_nothing():
    for method in ("softmax", "log_softmax"):
        x = Value(2.0)
        y = getattr(x, method)()
        y.backward()
        assert (y.data, x.grad) == ((1.0, 0.0) if method == "softmax" else (0.0, 0.0))
    empty = Value(np.zeros((0, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = empty.mean(axis=0)
        assert np.isnan(m.data).all()
        m.sum().backward()
    assert empty.grad.shape == (0, 3)


@pytest.mark.parametrize(
    "size, dtype",  # a scalar (size 1), a small and a big array (relu's two forwards)
    [(1, "float64"), (3, "float64"), (5000, "float64"), (3, "float32"), (5000, "float32")],
)
def test_relu_passes_no_gradient_where_it_is_zero_even_an_infinite_one(size, dtype):
    # sqrt or log after relu sends an infinite gradient back at a zero output; torch's
    # relu gradient is 0 there (threshold_backward), not 0 * inf = nan.
    for x in (-1.0, 0.0, -0.0, 2.0):
        for name, fn in (("sqrt", lambda v: v.sqrt()), ("log", lambda v: v.log())):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                if size == 1:
                    v = Value(x)
                    fn(v.relu()).backward()
                    ours = np.array([v.grad])
                else:
                    v = Value(np.full(size, x, dtype=dtype))
                    fn(v.relu()).sum().backward()
                    ours = v.grad
            t = torch.tensor(np.full(size, x, dtype=dtype), requires_grad=True)
            getattr(torch, name)(torch.relu(t)).sum().backward()
            want = t.grad.numpy()
            assert ours.dtype == want.dtype, (name, x, ours.dtype)
            np.testing.assert_array_equal(ours, want, err_msg=f"{name}(relu({x}))")


@pytest.mark.parametrize("x", [-1.0, np.array([-1.0, 0.0, -0.0, 2.0])])
def test_relu_passes_no_gradient_where_it_is_zero_under_create_graph(x):
    # The same as backward() when the gradient is recorded to be differentiated again:
    # the first and second derivatives of sqrt(relu(x)) are torch's (0 at x <= 0).
    from autograd import grad

    v = Value(x)
    g = grad(v.relu().sqrt().sum(), v, create_graph=True)
    h = grad(g.sum(), v)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.relu(t).sqrt().sum(), t, create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), t)
    np.testing.assert_array_equal(np.asarray(g.data), tg.detach().numpy())
    np.testing.assert_array_equal(np.asarray(h), th.numpy())


# ------------------------------------------------------------------ every entry, quietly
# Every entry of the op table, reached as tests/test_op_coverage.py reaches it, with inputs
# holding +inf and -inf (next to a 0: inf - inf, 0 * inf) or NaN: its forward, gradient
# and second derivative are answers (inf or nan, as torch gives), never a numpy warning.
_NON_FINITE = {"inf": [math.inf, -math.inf, 0.0], "nan": [math.nan, math.inf, -math.inf]}


def _non_finite(x: np.ndarray, fill: list) -> np.ndarray:
    x = np.array(x, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writes land in x
    flat[: len(fill)] = fill[: flat.size]
    return x


@pytest.mark.parametrize("fill", list(_NON_FINITE))
@pytest.mark.parametrize("key", list(ops.ENTRIES))
def test_every_entry_is_silent_at_infinities_and_nan(key, fill):
    values = [Value(_non_finite(x, _NON_FINITE[fill])) for x in ROWS[key].inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, _ = _run(key, values)
        loss = _scalar(out)
        loss.backward()
        firsts = grad(loss, values, create_graph=True)
        for first in firsts:
            grad((first * _weights(first.shape)).sum(), values)
        assert str(out) and str(values[0])  # the summary of an array with inf and nan


_ELEMENTWISE = (ops.elementwise, ops.activations)
_ONE_NUMBER = [  # the entries that take one value and nothing else that must be an array
    key
    for key, entry in ops.ENTRIES.items()
    if len(ROWS[key].inputs) == 1
    and ROWS[key].call is None
    and any(entry in vars(f).values() for f in (*_ELEMENTWISE, ops.reductions))
]


@pytest.mark.parametrize("key", _ONE_NUMBER)
def test_every_one_input_entry_is_silent_on_a_single_number(key):
    # A 0-d value is a Python float, which takes other paths (math, not numpy).
    entry = ops.ENTRIES[key]
    args = (
        ()
        if entry in vars(ops.reductions).values()
        else tuple(a for a in ROWS[key].args if isinstance(a, float))
    )
    for x in [*EDGES, 800.0, -800.0]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            v = Value(x)
            y = getattr(v, entry.method)(*args)
            y.backward()
            first = grad(y, v, create_graph=True)
            grad(first, v)


# ------------------------------------------------------------------ where torch defines a kink
def _torch_grads(fn, x, create_graph=False):
    """torch's first derivative of sum(fn(x) * w) and, with ``create_graph``, the
    gradient of the sum of that first derivative (a second derivative)."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = fn(t)
    (first,) = torch.autograd.grad(
        (out * torch.as_tensor(np.asarray(_weights(tuple(out.shape)), dtype=np.float64))).sum(),
        t,
        create_graph=True,
    )
    if not create_graph:
        return first.detach().numpy(), None
    (second,) = torch.autograd.grad(first.sum(), t, allow_unused=True)
    return first.detach().numpy(), (
        np.zeros_like(x) if second is None else second.numpy(force=True)
    )


def _our_grads(fn, x):
    """Our first derivative by backward() and by grad(create_graph=True), and the second."""
    v = Value(np.array(x, dtype=np.float64))
    out = fn(v)
    _scalar(out).backward()
    w = Value(np.array(x, dtype=np.float64))
    first = grad(_scalar(fn(w)), w, create_graph=True)
    return v.grad, first.data, grad(first.sum(), w)


_KINKS = {  # name: (ours, torch's, inputs where torch's rule picks a subgradient)
    "std": (lambda v: v.std(axis=1), lambda t: t.std(dim=1, correction=0)),
    "std_ddof1": (lambda v: v.std(axis=1, ddof=1), lambda t: t.std(dim=1)),
    "std_all": (lambda v: v.std(), lambda t: t.std(correction=0)),
    "var": (lambda v: v.var(axis=1), lambda t: t.var(dim=1, correction=0)),
    "norm": (lambda v: v.norm(axis=1), lambda t: torch.linalg.vector_norm(t, dim=1)),
    "norm_all": (lambda v: v.norm(), lambda t: torch.linalg.vector_norm(t)),
    "norm_1": (lambda v: v.norm(1, axis=1), lambda t: torch.linalg.vector_norm(t, 1, dim=1)),
    "norm_inf": (
        lambda v: v.norm(math.inf, axis=1),
        lambda t: torch.linalg.vector_norm(t, math.inf, dim=1),
    ),
    "prod": (lambda v: v.prod(axis=1), lambda t: t.prod(dim=1)),
    "prod_all": (lambda v: v.prod(), lambda t: t.prod()),
}
_KINK_INPUTS = {
    "constant rows": np.array([[2.0, 2.0, 2.0], [0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]),
    "zeros": np.array([[0.0, 2.0, 3.0, -1.0], [0.0, 0.0, 3.0, 1.5], [0.0, 0.0, 0.0, 2.0]]),
}


@pytest.mark.parametrize("where", list(_KINK_INPUTS))
@pytest.mark.parametrize("name", list(_KINKS))
def test_gradients_at_kinks_are_torchs(name, where):
    # A constant row under std, a zero vector under a norm penalty, a zero in a product:
    # torch's gradient there is a number (0 for std and norm), never NaN; so is ours, by
    # backward() and by grad(create_graph=True), and so is the second derivative, except
    # norm's at a zero vector: torch's is NaN there, ours 0 (the first derivative's rule).
    ours, theirs = _KINKS[name]
    x = _KINK_INPUTS[where]
    by_backward, first, second = _our_grads(ours, x)
    want_first, want_second = _torch_grads(theirs, x, create_graph=True)
    np.testing.assert_allclose(by_backward, want_first, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(first, want_first, rtol=1e-12, atol=1e-12)
    if name == "norm" and where == "constant rows":
        assert np.isnan(want_second[1]).all() and not np.isnan(want_second[[0, 2]]).any()
        want_second[1] = 0.0
    np.testing.assert_allclose(second, want_second, rtol=1e-12, atol=1e-12)


def test_prod_under_create_graph_is_exact_at_a_zero():
    # The case: [0, 2, 3, -1] gives the first derivative [-6, -0, -0, 0] and the
    # second [1, -3, -2, 6] (torch), not NaN where the element is 0.
    v = Value(np.array([0.0, 2.0, 3.0, -1.0]))
    first = grad(v.prod(), v, create_graph=True)
    np.testing.assert_array_equal(first.data, [-6.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad(first.sum(), v), [1.0, -3.0, -2.0, 6.0])


def _pool_cases():
    nan = math.nan
    yield "one NaN", np.array([[[[1.0, nan], [0.0, 2.0]]]]), {}
    yield "two NaNs", np.array([[[[nan, nan], [0.0, 2.0]]]]), {}
    yield "NaN beside inf", np.array([[[[math.inf, 3.0], [nan, -math.inf]]]]), {}
    image = np.arange(36.0).reshape(1, 1, 6, 6)
    image[0, 0, 1, 1] = image[0, 0, 2, 4] = image[0, 0, 5, 5] = nan
    yield "overlapping windows", image, {"kernel_size": 3, "stride": 2, "padding": 1}
    yield "dilated", image, {"kernel_size": 2, "stride": 1, "dilation": 2}


@pytest.mark.parametrize("case", list(_pool_cases()), ids=lambda c: c[0])
def test_max_pool_sends_a_windows_gradient_to_its_nan_as_torch(case):
    from autograd import max_pool2d

    _, x, kw = case
    kw = {"kernel_size": 2, **kw}
    by_backward, first, second = _our_grads(lambda v: max_pool2d(v, **kw), x)
    want_first, want_second = _torch_grads(lambda t: F.max_pool2d(t, **kw), x, create_graph=True)
    # (overlapping windows add their gradients in another order than torch: 1 ulp)
    for ours in (by_backward, first):
        np.testing.assert_allclose(ours, want_first, rtol=1e-15, atol=0)
    np.testing.assert_allclose(second, want_second, rtol=1e-15, atol=0)
