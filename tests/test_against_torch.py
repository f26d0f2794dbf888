"""Values and gradients of random expression graphs agree with PyTorch (float64, 1e-9)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, concat, stack

torch = pytest.importorskip("torch")

# Each entry: (name, arity, our op, torch op, needs positive input)
UNARY = [
    ("exp", lambda v: (v * 0.3).exp(), lambda t: (t * 0.3).exp()),
    ("log", lambda v: (v * v + 0.5).log(), lambda t: (t * t + 0.5).log()),
    ("tanh", lambda v: v.tanh(), lambda t: t.tanh()),
    ("sigmoid", lambda v: v.sigmoid(), lambda t: t.sigmoid()),
    ("relu", lambda v: v.relu(), lambda t: t.relu()),
    ("leaky", lambda v: v.leaky_relu(0.05), lambda t: torch.nn.functional.leaky_relu(t, 0.05)),
    ("abs", lambda v: v.abs(), lambda t: t.abs()),
    ("sqrt", lambda v: (v * v + 1.0).sqrt(), lambda t: (t * t + 1.0).sqrt()),
    ("pow", lambda v: v**3, lambda t: t**3),
    ("neg", lambda v: -v, lambda t: -t),
    ("softmax", lambda v: v.softmax(), lambda t: t.softmax(-1)),
    ("log_softmax", lambda v: v.log_softmax(), lambda t: t.log_softmax(-1)),
    (
        "sum_keep",
        lambda v: v.sum(axis=-1, keepdims=True) + v,
        lambda t: t.sum(-1, keepdim=True) + t,
    ),
    (
        "mean_keep",
        lambda v: v - v.mean(axis=0, keepdims=True),
        lambda t: t - t.mean(0, keepdim=True),
    ),
    (
        "max_keep",
        lambda v: v.max(axis=-1, keepdims=True) * v,
        lambda t: t.amax(-1, keepdim=True) * t,
    ),
    ("flip", lambda v: v[::-1], lambda t: t.flip(0)),
    ("double_T", lambda v: v.T.T, lambda t: t.T.T),
    ("reshape", lambda v: v.reshape(-1).reshape(v.shape), lambda t: t.reshape(-1).reshape(t.shape)),
]
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
    ("pow", lambda a, b: (a * a + 0.5) ** (b * 0.5), lambda a, b: (a * a + 0.5) ** (b * 0.5)),
    ("matmul", lambda a, b: a @ b.T, lambda a, b: a @ b.T),
    ("concat", lambda a, b: concat([a, b], axis=0)[2:5], lambda a, b: torch.cat([a, b], 0)[2:5]),
    (
        "stack",
        lambda a, b: stack([a, b], axis=1).sum(axis=1),
        lambda a, b: torch.stack([a, b], 1).sum(1),
    ),
]


def _random_graph(rng, steps):
    """A list of instructions: which op to apply to which earlier results."""
    program = []
    for i in range(steps):
        if rng.random() < 0.5:
            program.append(("u", int(rng.integers(len(UNARY))), int(rng.integers(i + 2))))
        else:
            j, k = rng.integers(i + 2, size=2)
            program.append(("b", int(rng.integers(len(BINARY))), int(j), int(k)))
    return program


def _run(program, inputs, unary_col, binary_col):
    values = list(inputs)
    for instr in program:
        if instr[0] == "u":
            values.append(UNARY[instr[1]][unary_col](values[instr[2]]))
        else:
            a, b = values[instr[2]], values[instr[3]]
            values.append(BINARY[instr[1]][binary_col](a, b))
    return values


def _close(ours, theirs):
    theirs = np.zeros(np.shape(ours)) if theirs is None else theirs.detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 8))
def test_random_expression_graphs_match_torch(seed, steps):
    rng = np.random.default_rng(seed)
    shape = (3, 3)  # square, so every binary op (matmul with .T included) fits
    data = [rng.normal(size=shape) for _ in range(2)]
    program = _random_graph(rng, steps)
    ours_in = [Value(d) for d in data]
    torch_in = [torch.tensor(d, dtype=torch.float64, requires_grad=True) for d in data]
    ours = _run(program, ours_in, 1, 1)
    theirs = _run(program, torch_in, 2, 2)
    if not all(np.isfinite(v.data).all() for v in ours):
        return  # an overflow (exp of exp, say): nothing to compare
    weights = rng.normal(size=ours[-1].shape)
    (ours[-1] * weights).sum().backward()
    (theirs[-1] * torch.tensor(weights)).sum().backward()
    for v, t in zip(ours, theirs):
        _close(v.data, t)
    for v, t in zip(ours_in, torch_in):
        _close(v.grad, t.grad)


def test_broadcasting_and_indexing_match_torch():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(4, 3)), rng.normal(size=(3,)), rng.normal(size=(4, 1))
    idx = np.array([0, 2, 2, 3, 0])
    va, vb, vc = Value(a), Value(b), Value(c)
    ta, tb, tc = (torch.tensor(x, requires_grad=True) for x in (a, b, c))
    out = ((va * vb + vc).tanh()[idx] @ vb).log_softmax(axis=0)[1:].sum()
    tout = ((ta * tb + tc).tanh()[torch.tensor(idx)] @ tb).log_softmax(0)[1:].sum()
    out.backward()
    tout.backward()
    _close(out.data, tout)
    for v, t in ((va, ta), (vb, tb), (vc, tc)):
        _close(v.grad, t.grad)


def test_scalar_engine_matches_torch():
    x = Value(0.37)
    tx = torch.tensor(0.37, dtype=torch.float64, requires_grad=True)
    f = lambda v, lib: (v * v).tanh() * lib(v) + (v * 2.0) ** 3 / (v + 4.0)  # noqa: E731
    y = f(x, lambda v: v.sigmoid())
    ty = f(tx, torch.sigmoid)
    y.backward()
    ty.backward()
    assert y.data == pytest.approx(ty.item(), rel=1e-12)
    assert x.grad == pytest.approx(tx.grad.item(), rel=1e-12)
