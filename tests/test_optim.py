"""The optimizers (nn/optim/) against torch.optim's, step by step in float64: parameters
frozen and unfrozen, parameters a step's backward does not reach, and the state each
optimizer keeps (momentum buffers, moments, per-parameter step counts)."""

import numpy as np
import pytest

from autograd import Value, compile
from nn import SGD, Adagrad, Adam, AdamW, RMSprop

torch = pytest.importorskip("torch")

# (name, ours, torch's, the torch state keys and our attribute holding each)
CASES = [
    ("SGD momentum", dict(lr=0.1, momentum=0.9), {"momentum_buffer": "_buffers"}),
    (
        "SGD nesterov decay",
        dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
        {"momentum_buffer": "_buffers"},
    ),
    ("SGD decay", dict(lr=0.1, weight_decay=0.5), {}),
    ("SGD", dict(lr=0.1), {}),
    ("Adam", dict(lr=0.05), {"step": "_steps", "exp_avg": "_m", "exp_avg_sq": "_v"}),
    (
        "Adam decay",
        dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.1),
        {"step": "_steps", "exp_avg": "_m", "exp_avg_sq": "_v"},
    ),
    (
        "AdamW",
        dict(lr=0.05, weight_decay=0.3),
        {"step": "_steps", "exp_avg": "_m", "exp_avg_sq": "_v"},
    ),
    ("RMSprop", dict(lr=0.01), {"square_avg": "_square"}),
    (
        "RMSprop centered momentum decay",
        dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
        {"square_avg": "_square", "grad_avg": "_mean", "momentum_buffer": "_buffers"},
    ),
    ("Adagrad", dict(lr=0.1), {"step": "_steps", "sum": "_sum"}),
    (
        "Adagrad decays",
        dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5),
        {"step": "_steps", "sum": "_sum"},
    ),
]
OURS = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "RMSprop": RMSprop, "Adagrad": Adagrad}


def _pair(name, kwargs, params, tparams):
    kind = name.split()[0]
    return OURS[kind](params, **kwargs), getattr(torch.optim, kind)(tparams, **kwargs)


def _assert_state_like_torch(opt, topt, params, tparams, keys):
    """Every parameter's numbers, whether it holds a gradient, and every piece of the
    optimizer's state for it, as torch's."""
    for i, (p, tp) in enumerate(zip(params, tparams)):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14)
        assert (p._g is None) == (tp.grad is None), f"parameter {i}: grad None?"
        theirs = topt.state.get(tp, {})
        for key, attribute in keys.items():
            ours = getattr(opt, attribute)[i]
            if key not in theirs:  # torch makes the state at a parameter's first gradient
                assert ours is None or np.all(np.asarray(ours) == 0), (key, i, ours)
                continue
            expected = theirs[key]
            expected = expected.item() if expected.ndim == 0 else expected.numpy()
            np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14, err_msg=key)


def _model(rng):
    """W (3, 2), b (2,), c (2,) as our Values and as torch leaves with the same numbers."""
    arrays = [rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=2)]
    ours = [Value(a.copy()) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _loss(x, W, b, c, with_c, lib):
    tanh = torch.tanh if lib is torch else (lambda v: v.tanh())
    loss = (tanh(x @ W + b) ** 2).sum()
    if with_c:  # c reached by backward on some steps only
        loss = loss + (tanh(x[:, :2] * c) * x[:, 2:]).sum()
    return loss


def _training_step(params, opt, with_c):
    """One eager training step of ``_loss`` (to compile, or to run as it is)."""

    def step(x):
        opt.zero_grad()
        loss = _loss(Value(x), *params, with_c, Value)
        loss.backward()
        opt.step()
        return loss

    return step


# step -> (frozen parameters, is c in the loss)
SCHEDULE = [
    ({1}, True),  # b frozen from the start: torch has no state for it yet
    ({1}, False),
    (set(), True),  # b unfrozen: its first step is step 1 of its own count
    ({0}, True),  # W frozen for three steps
    ({0}, False),
    ({0}, True),
    (set(), False),  # W back: its step count goes on from 2, not from 6
    (set(), True),
    ({2}, True),  # c frozen although the loss reaches it: no gradient, no step
    (set(), True),
]


@pytest.mark.parametrize("name, kwargs, keys", CASES, ids=[c[0] for c in CASES])
def test_frozen_and_unreached_parameters_step_as_torch_grad_none(name, kwargs, keys):
    rng = np.random.default_rng(8)
    params, tparams = _model(rng)
    opt, topt = _pair(name, kwargs, params, tparams)
    for frozen, with_c in SCHEDULE:
        x = rng.normal(size=(5, 3))
        for i, (p, tp) in enumerate(zip(params, tparams)):
            p.requires_grad = i not in frozen
            tp.requires_grad_(i not in frozen)
        opt.zero_grad()
        topt.zero_grad()
        _loss(Value(x), *params, with_c, Value).backward()
        _loss(torch.tensor(x), *tparams, with_c, torch).backward()
        opt.step()
        topt.step()
        _assert_state_like_torch(opt, topt, params, tparams, keys)


@pytest.mark.parametrize("name, kwargs, keys", CASES, ids=[c[0] for c in CASES])
def test_a_compiled_step_skips_an_unreached_parameter_as_the_eager_step(name, kwargs, keys):
    """c is in the model but not in the loss: the compiled replay leaves it, its gradient
    None and its state as the eager step does, to the bit."""
    xs = [np.random.default_rng(9 + k).normal(size=(5, 3)) for k in range(4)]
    runs = []
    for compiled in (False, True):
        params, _ = _model(np.random.default_rng(1))
        opt = _pair(name, kwargs, params, [torch.zeros(1, requires_grad=True)])[0]

        step = _training_step(params, opt, with_c=False)
        run = compile(step) if compiled else step
        losses = [np.asarray(getattr(loss, "data", loss)) for loss in map(run, xs)]
        state = [
            np.asarray(s, dtype=float)
            for a in keys.values()
            for s in getattr(opt, a)
            if s is not None
        ]
        runs.append((losses, [p.data for p in params], state, params[2]._g))
    (eager, compiled) = runs
    assert eager[3] is None and compiled[3] is None
    for ours, theirs in zip(eager[:3], compiled[:3]):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, kwargs, keys", CASES, ids=[c[0] for c in CASES])
def test_a_scalar_parameter_backward_did_not_reach_steps_with_a_zero_gradient(name, kwargs, keys):
    """What README says: a scalar's unset gradient is 0.0, so the engine cannot tell it
    from a zero one; it steps as torch's does with a zero gradient (decay, moments)."""
    w, u = Value(0.7), Value(-1.3)
    tw, tu = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.7, -1.3))
    opt, topt = _pair(name, kwargs, [w, u], [tw, tu])
    for k in range(4):
        opt.zero_grad()
        topt.zero_grad()
        (w * w * (k + 1.5)).tanh().backward()
        (tw * tw * (k + 1.5)).tanh().backward()
        tu.grad = torch.zeros_like(tu)  # what our u's 0.0 stands for
        opt.step()
        topt.step()
        assert u._g == 0.0
        _assert_state_like_torch(opt, topt, [w, u], [tw, tu], keys)


def test_reading_an_unset_gradient_makes_it_a_zero_gradient():
    """README: ``.grad`` read on a tensor parameter backward did not reach makes its zeros,
    and the step then decays it as torch's does for a zero gradient (not a None one)."""
    w, c = Value(np.ones(2)), Value(np.full(2, 3.0))
    tw, tc = (torch.tensor(v.data.copy(), requires_grad=True) for v in (w, c))
    opt, topt = AdamW([w, c], lr=0.1), torch.optim.AdamW([tw, tc], lr=0.1)
    (w * w).sum().backward()
    (tw * tw).sum().backward()
    np.testing.assert_array_equal(c.grad, [0.0, 0.0])  # the read
    tc.grad = torch.zeros(2, dtype=torch.float64)
    opt.step()
    topt.step()
    assert c.data[0] < 3.0 and opt._steps == [1, 1]
    _assert_state_like_torch(opt, topt, [w, c], [tw, tc], CASES[6][2])


def _eager_and_compiled(make_opt, seed, xs, before_step):
    """The losses and every parameter's numbers after the steps on ``xs``, run eagerly
    and compiled, the same ``before_step(k, params)`` before step k of each."""
    runs = []
    for compiled in (False, True):
        params, _ = _model(np.random.default_rng(seed))
        step = _training_step(params, make_opt(params), with_c=True)
        run = compile(step) if compiled else step
        losses = []
        for k, x in enumerate(xs):
            before_step(k, params)
            losses.append(float(run(x)))
        runs.append((losses, [p.data for p in params]))
    (eager_losses, eager), (replayed_losses, replayed) = runs
    assert eager_losses == replayed_losses
    for ours, theirs in zip(eager, replayed):
        np.testing.assert_array_equal(ours, theirs)


def _inputs(seed, n):
    return [np.random.default_rng(seed + k).normal(size=(5, 3)) for k in range(n)]


@pytest.mark.parametrize("name, kwargs, keys", CASES, ids=[c[0] for c in CASES])
def test_a_parameter_frozen_after_compiling_is_left_as_the_eager_step_leaves_it(name, kwargs, keys):
    """Plain SGD's compiled update (``compiled_update``) wrote every parameter it was
    made with, a parameter frozen since included."""

    def make_opt(params):
        return _pair(name, kwargs, params, [torch.zeros(1, requires_grad=True)])[0]

    def freeze(k, params):
        params[0].requires_grad = k < 2  # W frozen from the third step on

    _eager_and_compiled(make_opt, 2, _inputs(20, 5), freeze)


def test_a_parameter_unfrozen_after_compiling_steps_as_the_eager_step():
    # A leaf's requires_grad is among a compiled step's guards: unfreezing (or freezing)
    # a parameter traces the step again, as does new data for a frozen one.
    def unfreeze(k, params):
        params[0].requires_grad = k >= 2  # W frozen when traced, trained from step 3

    _eager_and_compiled(lambda params: Adam(params, lr=0.05), 3, _inputs(30, 4), unfreeze)


def test_new_numbers_for_a_frozen_parameter_reach_the_compiled_step():
    # A replay held a frozen parameter's array as a constant: numbers assigned to it
    # after the trace (a checkpoint loaded, a hand edit) were not seen.
    def frozen_then_changed(k, params):
        if k == 0:
            params[0].requires_grad = False
        if k == 1:
            params[0].data = params[0].data * 2.0  # W frozen, given new numbers

    _eager_and_compiled(
        lambda params: Adam(params, lr=0.05), 4, _inputs(40, 3), frozen_then_changed
    )
