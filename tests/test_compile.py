"""``autograd.compile``: a replayed step equals the eager step to the bit (every benchmark
workload for 100 steps, every op entry, random graphs), its gradients are the ones
``trace_backward`` describes, it traces again for new shapes, and it refuses, with one
line, what a replay cannot do."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_op_coverage import ROWS, _run

from autograd import Value, compile, grad, linear, no_grad, trace_backward
from autograd.compiler import read
from benchmarks.workloads import WORKLOADS
from nn import (
    MLP,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Dropout,
    Linear,
    RMSprop,
    Sequential,
    Tanh,
    fit,
    hinge_loss,
    mse_loss,
)


def bits(x):
    """Every bit of a number or an array (its dtype and shape too)."""
    a = np.asarray(x)
    return a.dtype.str, a.shape, a.tobytes()


# ---------------------------------------------------------------- the benchmark workloads
WORKLOADS_COMPILED = [n for n, w in WORKLOADS.items() if "backproplab_compiled" in w.engines]


@pytest.mark.parametrize("name", WORKLOADS_COMPILED)
def test_a_compiled_workload_equals_the_eager_one_for_100_steps(name):
    eager = WORKLOADS[name].setup("backproplab")
    compiled = WORKLOADS[name].setup("backproplab_compiled")
    steps = 100 if name != "microgpt" else 30
    assert [bits(eager()) for _ in range(steps)] == [bits(compiled()) for _ in range(steps)]
    if hasattr(eager, "arrays"):  # the parameters and the last output
        assert list(map(bits, eager.arrays())) == list(map(bits, compiled.arrays()))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act, loss", [("tanh", "mse"), ("relu", "hinge"), ("relu", "ce")])
def test_the_small_mlps_in_both_dtypes(dtype, act, loss):
    from benchmarks.tensor_mlp import setup_tensor_mlp

    sizes = [2, 16, 16, 1] if loss != "ce" else [5, 16, 3]
    runs = [
        setup_tensor_mlp(e, sizes, 100, act, loss, dtype)
        for e in ("backproplab", "backproplab_compiled")
    ]
    losses = [[bits(step()) for _ in range(30)] for step in runs]
    assert losses[0] == losses[1]
    assert list(map(bits, runs[0].arrays())) == list(map(bits, runs[1].arrays()))


OPTIMIZERS = {
    "sgd": lambda ps: SGD(ps, lr=0.05),
    "momentum": lambda ps: SGD(ps, lr=0.05, momentum=0.9),
    "momentum+decay": lambda ps: SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "adam": lambda ps: Adam(ps, lr=0.01),
    "adamw": lambda ps: AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: RMSprop(ps, lr=0.01),
    "adagrad": lambda ps: Adagrad(ps, lr=0.05),
}


def _mlp_run(kind, dtype, act, compiled):
    """The tiny MLP (tanh, MSE) or the vector moons' (relu, hinge + L2) for 100 steps
    on new batches each step: every loss, and the parameters at the end."""
    model = MLP(2, [16, 16, 1], activation=act, vectorized=True, rng=0, dtype=dtype)
    opt = OPTIMIZERS[kind](model.parameters())
    params = model.parameters()

    def step(x, y):
        out = model(x)
        if act == "tanh":
            loss = mse_loss(out, y)
        else:
            loss = hinge_loss(out, y) + 1e-4 * sum((p * p).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    run = compile(step) if compiled else lambda x, y: step(x, y).data
    rng = np.random.default_rng(7)
    losses = []
    for _ in range(100):
        x = rng.normal(size=(100, 2)).astype(dtype)
        y = np.sign(rng.normal(size=(100, 1))).astype(dtype)
        losses.append(bits(run(x, y)))
    return losses, [bits(p.data) for p in params], getattr(run, "traces", 1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", ["tanh", "relu"])
@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_every_optimizer_replays_the_mlps_to_the_bit_for_100_steps(kind, dtype, act):
    eager, compiled = _mlp_run(kind, dtype, act, False), _mlp_run(kind, dtype, act, True)
    assert eager[:2] == compiled[:2]
    assert compiled[2] == 1  # traced once, replayed 99 times


def test_a_scalar_mlp_is_refused_and_fit_runs_it_uncompiled_with_one_warning():
    from nn import datasets

    X, y = datasets.make_moons(20, noise=0.1, seed=0)
    model = MLP(2, [4, 1], rng=0)  # scalar mode: each input a float taken in Python
    step = _mse_step(model, SGD(model.parameters(), lr=0.1))
    _refused(step, X[:5], y[:5], match="uses argument 0 .* in no op")
    runs = []
    for compiled in (False, True):
        model = MLP(2, [4, 1], rng=0)
        opt = SGD(model.parameters(), lr=0.1, momentum=0.5)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = fit(
                model,
                X,
                y,
                "mse",
                opt,
                epochs=2,
                batch_size=8,
                progress=False,
                seed=0,
                compile=compiled,
            )
        said = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        assert said == ([] if not compiled else [said[0]])
        runs.append((history.loss, [bits(p.data) for p in model.parameters()]))
    assert said[0].startswith("compile: the step uses argument 0") and said[0].endswith(
        "uncompiled"
    )
    assert runs[0] == runs[1]


# ---------------------------------------------------------------- every op entry
def _twins(key):
    """The same step twice, one compiled: the entry's row (test_op_coverage), its first
    input made from an argument (new numbers each call), the others parameters that SGD
    updates."""
    made = []
    for _ in range(2):
        params = [Value(np.array(x, dtype=np.float64)) for x in ROWS[key].inputs[1:]]
        opt = SGD(params, lr=0.01) if params else None

        def step(x, params=params, opt=opt):
            first = Value(x)
            out, _ = _run(key, [first, *params])
            loss = (out * np.linspace(0.5, 1.5, out.size).reshape(out.shape)).sum()
            loss = loss + first.sum()  # (some rows' outputs depend on its shape alone)
            if opt is not None:
                opt.zero_grad()
            loss.backward()
            if opt is not None:
                opt.step()
            return loss, out

        made.append((step, params))
    return made


# The ops of gradients, reached through grad(create_graph=True): refused (whose vjps
# pick masks and routings in Python)
SECOND_ORDER = {
    "conv2d_input_grad",
    "conv2d_weight_grad",
    "max_pool2d_grad",
    "max_pool2d_pick",
    "avg_pool2d_grad",
}


# The ops whose method looks at the numbers first (norm and std: torch's rule for a
# square root at 0, ops.reductions._root): refused, a replay could not take the other branch
PICKS_IN_PYTHON = {"norm", "std"}


@pytest.mark.parametrize("key", sorted(ROWS))
def test_every_op_entry_replays_to_the_bit(key):
    (eager, params_e), (step, params_c) = _twins(key)
    compiled = compile(step)
    x0 = np.array(ROWS[key].inputs[0], dtype=np.float64)
    if key in SECOND_ORDER:
        with pytest.raises(RuntimeError, match="create_graph=True"):
            compiled(x0)
        return
    if key in PICKS_IN_PYTHON:
        with pytest.raises(RuntimeError, match="reads .data of the result of"):
            compiled(x0)
        return
    for k in range(3):
        x = x0 * (1.0 + 0.01 * k)  # new numbers each call (a replay from the second)
        loss_e, out_e = eager(x)
        loss_c, out_c = compiled(x)
        assert bits(loss_e.data) == bits(loss_c) and bits(out_e.data) == bits(out_c), key
        for a, b in zip(params_e, params_c):
            assert bits(a.data) == bits(b.data), key
    assert compiled.traces == 1


# ---------------------------------------------------------------- random graphs
UNARY = ["tanh", "relu", "sigmoid", "exp", "abs", "neg", "square", "softplus", "silu", "elu"]
BINARY = ["add", "sub", "mul", "div", "maximum"]
REDUCE = ["sum", "mean", "max", "logsumexp", "softmax", "log_softmax"]
SHAPES = ["transpose", "reshape", "getitem", "broadcast"]


def _apply(kind, a, b, axis):
    if kind in UNARY:
        return {
            "neg": lambda v: -v,
            "square": lambda v: v * v,
            "exp": lambda v: (v * 0.3).exp(),
        }.get(kind, lambda v: getattr(v, kind)())(a)
    if kind == "div":
        return a / (b * b + 1.0)
    if kind in BINARY:
        return {"add": a + b, "sub": a - b, "mul": a * b}.get(kind) or a.maximum(b)
    if kind in ("sum", "mean", "max", "logsumexp"):
        return getattr(a, kind)(axis=axis, keepdims=True) + a * 0.5  # broadcast back
    if kind in ("softmax", "log_softmax"):
        return getattr(a, kind)(axis=axis)
    if kind == "transpose":
        return a.T.T * 1.5
    if kind == "reshape":
        return a.reshape(-1).reshape(a.shape) - 0.25
    if kind == "getitem":
        return a[:, :1] * b
    return a.sum(axis=0).broadcast_to(a.shape) * b


def _graph(choices, x, params, axis):
    pool = [linear(x, params[0], params[1]), *params[2:]]
    for kind, i, j in choices:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if a.shape != pool[0].shape:
            a = a * pool[0]
        if b.shape != pool[0].shape:
            b = b + pool[0]
        pool.append(_apply(kind, a, b, axis))
    last = pool[-1] * pool[len(pool) // 2] + pool[0]
    return last.mean() + 1e-3 * (params[0] * params[0]).sum()


def _random_step(choices, dtype, axis, seed, shape):
    rng = np.random.default_rng(seed)
    n, width = shape
    params = [
        Value(rng.normal(size=(3, width)), dtype=dtype),
        Value(rng.normal(size=width), dtype=dtype),
        Value(rng.normal(size=(n, width)), dtype=dtype),
    ]
    opt = Adam(params, lr=0.01)

    def step(x):
        opt.zero_grad()
        loss = _graph(choices, x, params, axis)
        loss.backward()
        opt.step()
        return loss

    return step, params


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(UNARY + BINARY + REDUCE + SHAPES),
            st.integers(0, 30),
            st.integers(0, 30),
        ),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["float32", "float64"]),
    st.sampled_from([0, 1]),
    st.integers(0, 2**32 - 1),
    st.tuples(st.integers(1, 5), st.integers(1, 4)),
)
def test_random_graphs_replay_to_the_bit(choices, dtype, axis, seed, shape):
    eager, params_e = _random_step(choices, dtype, axis, seed, shape)
    step, params_c = _random_step(choices, dtype, axis, seed, shape)
    compiled = compile(step)
    rng = np.random.default_rng(seed + 1)
    for _ in range(3):
        x = rng.normal(size=(shape[0], 3)).astype(dtype)
        assert bits(eager(x).data) == bits(compiled(x))
        for a, b in zip(params_e, params_c):
            assert bits(a.data) == bits(b.data) and bits(a.grad) == bits(b.grad)


def test_a_replays_gradients_are_the_totals_trace_backward_describes():
    rng = np.random.default_rng(3)
    W, b = Value(rng.normal(size=(3, 4))), Value(rng.normal(size=4))
    X = rng.normal(size=(5, 3))

    def loss_of(x):
        return (linear(x, W, b).tanh() ** 2).mean() + (W * W).sum() * 0.1

    @compile
    def step(x):
        W.grad, b.grad = None, None
        loss = loss_of(x)
        loss.backward()
        return loss

    step(X)
    step(X)  # a replay: its gradients are in W.grad and b.grad
    totals = {s.input: s.total for s in trace_backward(loss_of(X))}
    assert bits(W.grad) == bits(totals[W]) and bits(b.grad) == bits(totals[b])
    assert step.traces == 1


# ---------------------------------------------------------------- traces, kept and new
def _mlp_step(dtype="float64", p=0.0):
    model = Sequential(
        Linear(2, 8, rng=0, dtype=dtype),
        Dropout(p, rng=1),
        Tanh(),
        Linear(8, 1, rng=2, dtype=dtype),
    )
    return _mse_step(model, SGD(model.parameters(), lr=0.1)), model


def _mse_step(model, opt):
    def step(x, y):
        loss = mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def test_new_shapes_or_dtypes_trace_again_and_old_ones_are_kept():
    step, _ = _mlp_step()
    compiled = compile(step, max_traces=2)
    x, y = np.ones((4, 2)), np.zeros(4)
    compiled(x, y), compiled(x, y)
    assert compiled.traces == 1
    compiled(np.ones((3, 2)), np.zeros(3))  # a new shape
    compiled(x, y)  # the first shape again: kept
    assert compiled.traces == 2
    compiled(x.astype(np.float32), y)  # a new dtype: a third trace, the oldest dropped
    compiled(np.ones((3, 2)), np.zeros(3))
    assert compiled.traces == 4


def test_a_parameter_given_a_new_array_traces_again():
    step, model = _mlp_step()
    compiled = compile(step)
    x, y = np.ones((4, 2)), np.zeros(4)
    compiled(x, y)
    model.modules[0].W.data = np.zeros((2, 8))  # a new array: the replay's is stale
    eager_step, eager_model = _mlp_step()
    eager_step(x, y)
    eager_model.modules[0].W.data = np.zeros((2, 8))
    assert bits(compiled(x, y)) == bits(eager_step(x, y).data)
    assert compiled.traces == 2


def test_dropout_draws_a_new_mask_each_replay_from_the_same_stream_as_eager():
    eager, m_e = _mlp_step(p=0.5)
    compiled, m_c = _mlp_step(p=0.5)
    compiled = compile(compiled)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(5):
        x, y = rng.normal(size=(6, 2)), rng.normal(size=6)
        a, b = eager(x, y).data, compiled(x, y)
        assert bits(a) == bits(b)
        losses.append(b)
    assert len(set(losses)) == 5  # new masks: new losses
    for p, q in zip(m_e.parameters(), m_c.parameters()):
        assert bits(p.data) == bits(q.data)


def test_fit_compiled_equals_fit_and_keeps_its_steps_in_a_dict():
    from nn import datasets

    X, y = datasets.make_moons(90, noise=0.1, seed=0)
    runs = []
    for compiled in (False, True, {}):
        model = MLP(2, [8, 1], activation="relu", vectorized=True, rng=0)
        opt = SGD(model.parameters(), lr=0.1)
        history = fit(
            model,
            X,
            y * 2 - 1,
            "hinge",
            opt,
            epochs=3,
            batch_size=32,
            progress=False,
            seed=1,
            l2=1e-3,
            compile=compiled,
        )
        runs.append((history.loss, history.accuracy, [bits(p.data) for p in model.parameters()]))
        if isinstance(compiled, dict):  # the next call replays the steps kept there
            ((step, _),) = compiled.values()
            before = step.traces
            fit(
                model,
                X,
                y * 2 - 1,
                "hinge",
                opt,
                epochs=1,
                batch_size=32,
                progress=False,
                l2=1e-3,
                compile=compiled,
            )
            assert step.traces == before == 2  # 32-point batches and the last, of 26
    assert runs[0] == runs[1] == runs[2]


def test_fit_compiled_stops_on_a_non_finite_loss_before_the_update():
    model = MLP(1, [1], vectorized=True, rng=0)
    X, y = np.array([[1.0], [2.0], [np.inf]]), np.zeros(3)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(FloatingPointError, match="epoch 1 \\(after 2 samples"):
        fit(
            model,
            X,
            y,
            optimizer=SGD(model.parameters(), lr=0.0),
            epochs=1,
            batch_size=1,
            shuffle=False,
            progress=False,
            compile=True,
        )
    assert all(bits(a) == bits(p.data) for a, p in zip(before, model.parameters()))


def test_read_calls_its_function_on_every_replay():
    seen = []
    w = Value([1.0, 2.0])

    @compile
    def step(x):
        loss = (w * x).sum()
        read(loss, seen.append)
        return loss

    step(np.ones(2)), step(np.full(2, 2.0))
    assert seen == [3.0, 6.0]


# ---------------------------------------------------------------- what a replay cannot do
def _refused(step, *args, match):
    with pytest.raises(RuntimeError, match=match) as err:
        compile(step)(*args)
    assert err.value.args[0].startswith("compile: the step ") and "\n" not in err.value.args[0]


W = Value(np.ones((2, 1)), label="W")


def test_python_that_depends_on_a_number_is_refused():
    def step(x):
        loss = (x @ W).sum()
        if loss.item() > 0:  # a replay would always take this branch
            loss = loss * 2.0
        return loss

    _refused(step, np.ones((3, 2)), match="reads item of the result of sum")


def test_reading_numbers_at_the_end_is_fine_but_a_number_is_not_returned():
    def step(x):
        loss = (x @ W).sum()
        return loss.item()

    _refused(step, np.ones((3, 2)), match="returns a float; return Values")


def test_an_argument_used_other_than_as_it_is_is_refused():
    def step(x):
        return (np.exp(x) @ W).sum()  # numpy's work on it: not in the graph

    _refused(step, np.ones((3, 2)), match="uses argument 0 .* in no op")


def test_a_value_computed_before_the_step_is_refused_one_without_a_graph_computed_again():
    h = W * 2.0

    def before(x):
        return (x @ h).sum()

    _refused(before, np.ones((3, 2)), match="computed before it")

    def without(x):
        with no_grad():
            h = Value(x) * 2.0  # from the argument: new numbers each call
        return (x @ W).sum() + h.sum()

    compiled = compile(without)
    for k in range(3):
        x = np.full((3, 2), float(k))
        assert bits(compiled(x)) == bits(without(x).data)


def test_gradients_by_hand_and_two_backwards_are_refused():
    def held(x):
        loss = (x @ W).sum()
        loss.backward()  # W.grad is not cleared first: it would accumulate
        return loss

    W.grad = None
    held(np.ones((3, 2)))
    _refused(held, np.ones((3, 2)), match="already holds a gradient")

    def twice(x):
        W.grad = None
        loss = (x @ W).sum()
        loss.backward()
        (x @ W).sum().backward()
        return loss

    _refused(twice, np.ones((3, 2)), match="calls backward\\(\\) twice")

    opt = SGD([W], lr=0.1)

    def clipped(x):
        opt.zero_grad()
        loss = (x @ W).sum()
        loss.backward()
        W.grad[...] = np.clip(W.grad, -1, 1)  # an edit the replay would not make
        opt.step()
        return loss

    _refused(clipped, np.ones((3, 2)), match="changes the gradient of 'W'")


def test_grad_for_numbers_and_unhashable_arguments_are_refused():
    def numbers(x):
        loss = (x @ W).sum()
        g = grad(loss, W)
        return loss + float(g.sum())

    _refused(numbers, np.ones((3, 2)), match="calls grad\\(\\) for numbers")

    def listed(x, lst):
        return (x @ W).sum()

    _refused(listed, np.ones((3, 2)), [1], match="argument 1 is a list")


def test_dropout_on_a_list_of_values_is_refused():
    drop = Dropout(0.5, rng=0)

    def step(x):
        return sum(drop([Value(x.sum()) * W.sum()]), Value(0.0))

    _refused(step, np.ones(2), match="Dropout on a list of Values")


def test_the_source_reads_as_numpy_calls():
    step, _ = _mlp_step()
    compiled = compile(step)
    compiled(np.ones((4, 2)), np.zeros(4))
    source = compiled.source
    assert "matmul(" in source and "# backward()" in source and "# the optimizer's step" in source
    assert "Value" not in source
