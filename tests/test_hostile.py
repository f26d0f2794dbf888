"""nn under hostile use: bad optimizer arguments, Ctrl-C in the middle of training,
mismatched target shapes and edge-value numbers, each checked against PyTorch."""

import copy
import math
import re
import signal
import warnings

import numpy as np
import pytest

from autograd import Value, grad, gradcheck, trace_backward
from nn import (
    MLP,
    SGD,
    Adam,
    EarlyStopping,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    datasets,
    fit,
    hinge_loss,
    mse_loss,
)

# ------------------------------------------------------------------ optimizer arguments


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1), lambda p: Adam(p, lr=0.1)])
def test_optimizer_refuses_a_single_value_as_torch_does(make):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="iterable of Tensors"):
        torch.optim.SGD(torch.zeros(3, requires_grad=True), lr=0.1)
    for params in (Value(np.ones((3, 2))), Value(1.0), 3.0, "w"):
        with pytest.raises(TypeError, match=r"params must be an iterable of Values"):
            make(params)


def test_optimizer_refuses_duplicates_and_non_leaves():
    w = Value(np.ones(3))
    with pytest.raises(ValueError, match="parameter 1 is parameter 0 again"):
        SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match=r"parameter 0 is the result of an op \('\*'\)"):
        SGD([w * 2.0], lr=0.1)


@pytest.mark.parametrize(
    "ours,theirs,match",
    [
        (lambda p: SGD(p, lr=-0.1), lambda t, p: t.optim.SGD(p, lr=-0.1), "learning rate"),
        (
            lambda p: Adam(p, lr=math.nan),
            lambda t, p: t.optim.Adam(p, lr=math.nan),
            "learning rate",
        ),
        (lambda p: SGD(p, momentum=-1), lambda t, p: t.optim.SGD(p, momentum=-1), "momentum"),
        (
            lambda p: SGD(p, weight_decay=-1),
            lambda t, p: t.optim.SGD(p, weight_decay=-1),
            "weight_decay",
        ),
        (lambda p: Adam(p, lr=-1e-3), lambda t, p: t.optim.Adam(p, lr=-1e-3), "learning rate"),
        (lambda p: Adam(p, eps=-1e-8), lambda t, p: t.optim.Adam(p, eps=-1e-8), "eps"),
        (
            lambda p: Adam(p, betas=(1.0, 0.999)),
            lambda t, p: t.optim.Adam(p, betas=(1.0, 0.999)),
            r"betas\[0\]",
        ),
        (
            lambda p: Adam(p, betas=(0.9, -0.1)),
            lambda t, p: t.optim.Adam(p, betas=(0.9, -0.1)),
            r"betas\[1\]",
        ),
        (
            lambda p: Adam(p, weight_decay=-0.1),
            lambda t, p: t.optim.Adam(p, weight_decay=-0.1),
            "weight_decay",
        ),
    ],
)
def test_optimizer_hyperparameters_checked_as_torch_does(ours, theirs, match):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        theirs(torch, [torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match=match):
        ours([Value(np.zeros(2))])


def test_optimizer_refuses_numbers_no_step_can_use():
    # torch.optim.SGD takes lr=nan and inf and then fills the model with NaN; we refuse.
    for bad in (math.nan, math.inf):
        with pytest.raises(
            ValueError, match=f"SGD: learning rate must be a finite number >= 0, got {bad}"
        ):
            SGD([Value(1.0)], lr=bad)
    with pytest.raises(TypeError, match="Adam: eps must be a number, got 'small'"):
        Adam([Value(1.0)], eps="small")
    with pytest.raises(ValueError, match="betas must be a pair"):
        Adam([Value(1.0)], betas=0.9)


def test_optimizer_accepts_what_torch_accepts():
    torch = pytest.importorskip("torch")
    torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.0)
    torch.optim.Adam([torch.zeros(2, requires_grad=True)], lr=0.0, betas=(0.0, 0.0), eps=0.0)
    w = Value(np.ones(2))
    w.grad = np.ones(2)
    SGD([w], lr=0.0).step()  # lr = 0 is allowed (warm-up schedules start there)
    Adam((p for p in [w]), lr=0.0, betas=(0.0, 0.0), eps=0.0).step()
    np.testing.assert_array_equal(w.data, np.ones(2))


# ------------------------------------------------------------------ atomic steps


class _InterruptingList(list):
    """A parameter list whose next walk raises KeyboardInterrupt at its second item."""

    armed = False

    def __iter__(self):
        for i, p in enumerate(list.__iter__(self)):
            if self.armed and i == 1:
                self.armed = False
                raise KeyboardInterrupt
            yield p


def _optimizer_state(opt):
    """A deep copy of everything an optimizer keeps besides its parameters (and SGD's
    ``_scratch``: working memory each step overwrites before reading, not state)."""
    return copy.deepcopy({k: v for k, v in vars(opt).items() if k not in ("params", "_scratch")})


def _assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.1),
        lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
        lambda p: Adam(p, lr=0.1),
    ],
)
def test_interrupted_step_changes_nothing(make):
    rng = np.random.default_rng(0)
    params = [Value(rng.normal(size=(3, 2))), Value(0.5), Value(rng.normal(size=4))]
    opt = make(params)
    opt.params = _InterruptingList(opt.params)
    for _ in range(2):
        for p in params:
            p.grad = rng.normal(size=np.shape(p.data)) if np.ndim(p.data) else 0.3
        opt.step()
    before, state = [np.copy(p.data) for p in params], _optimizer_state(opt)
    opt.params.armed = True
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    _assert_same([p.data for p in params], before)
    _assert_same(_optimizer_state(opt), state)


class _SignallingArray(np.ndarray):
    """A parameter's array that sends this process SIGINT (Ctrl-C) when it is written to
    in place for the ``writes``-th time (``_SignallingArray.writes`` counts down)."""

    writes, target = 0, None

    def _count(self):
        if self is _SignallingArray.target and _SignallingArray.writes > 0:
            _SignallingArray.writes -= 1
            if _SignallingArray.writes == 0:
                signal.raise_signal(signal.SIGINT)

    def __setitem__(self, index, value):
        super().__setitem__(index, value)
        self._count()

    def __isub__(self, other):
        out = super().__isub__(other)
        self._count()
        return out


def _signalling(value, writes):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is handled by someone else here")
    data = np.empty_like(value.data).view(_SignallingArray)
    np.ndarray.__setitem__(data, ..., value.data)
    value.data, _SignallingArray.writes, _SignallingArray.target = data, writes, data


def test_ctrl_c_while_parameters_are_written_finishes_the_step():
    first, second = Value(np.ones(3)), Value(np.ones(2))
    _signalling(first, writes=1)
    first.grad, second.grad = np.ones(3), np.ones(2)
    opt = Adam([first, second], lr=0.5)
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    assert _SignallingArray.writes == 0
    np.testing.assert_allclose(first.data, 0.5)
    np.testing.assert_allclose(second.data, 0.5)  # written although Ctrl-C came before
    assert opt.t == 1


# ------------------------------------------------------------------ Ctrl-C during fit


def _fit(*args, **kwargs):
    """``fit``, failing the test (not ending the test run) if Ctrl-C gets out of it."""
    try:
        return fit(*args, **kwargs)
    except KeyboardInterrupt:
        pytest.fail("fit let KeyboardInterrupt out")


def _interrupt_after(epochs):
    def callback(epoch, logs, model):
        if epoch + 1 == epochs:
            raise KeyboardInterrupt

    return callback


def test_ctrl_c_in_a_callback_returns_the_history_so_far(capsys):
    X, y = datasets.make_gaussians(40, noise=0.0, seed=0)
    model = MLP(2, [4, 1], vectorized=True, rng=0)
    h = _fit(
        model,
        X,
        y,
        loss="bce_with_logits",
        epochs=10,
        callbacks=[_interrupt_after(3)],
        progress=False,
    )
    assert h.interrupted and not h.stopped_early and h.epochs == 3
    assert not model.training
    err = capsys.readouterr().err
    assert err == (
        "fit: interrupted in epoch 3; the model keeps the weights after the last complete step\n"
    )
    assert not fit(model, X, y, epochs=1, progress=False).interrupted


@pytest.mark.parametrize(
    "make", [lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p, lr=0.05)]
)
def test_ctrl_c_inside_an_optimizer_step_leaves_no_parameter_half_updated(make, capsys):
    X, y = datasets.make_gaussians(64, noise=0.1, seed=0)
    model = MLP(2, [8, 1], vectorized=True, rng=0)
    opt = make(model.parameters())
    opt.params = _InterruptingList(opt.params)
    calls, seen = [0], {}
    real_step = opt.step

    def step():
        calls[0] += 1
        if calls[0] == 6:  # the second batch of epoch 2
            seen["before"] = model.state_dict()
            seen["state"] = _optimizer_state(opt)
            opt.params.armed = True
        real_step()

    opt.step = step
    h = _fit(
        model,
        X,
        y,
        loss="bce_with_logits",
        optimizer=opt,
        epochs=5,
        batch_size=16,
        shuffle=False,
        progress=False,
    )
    assert h.interrupted and h.epochs == 1 and not model.training
    assert "interrupted in epoch 2" in capsys.readouterr().err
    # rolled back to the state before the step: no parameter stepped, the count unchanged
    _assert_same(model.state_dict(), seen["before"])
    _assert_same(_optimizer_state(opt), seen["state"])
    # and training goes on from there as if the interrupted step never started
    again = make(model.parameters())
    assert (
        fit(model, X, y, loss="bce_with_logits", optimizer=again, epochs=1, progress=False).epochs
        == 1
    )


# ------------------------------------------------------------------ target shapes

_LOSSES = {
    "mse": (mse_loss, "mse_loss"),
    "bce": (binary_cross_entropy, "binary_cross_entropy"),
    "bce_with_logits": (binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits"),
    "hinge": (hinge_loss, "hinge_loss"),
}

_LOSS_FNS = {**{k: f for k, (f, _) in _LOSSES.items()}, "cross_entropy": cross_entropy}


def _torch_loss(torch, name):
    F = torch.nn.functional
    return {
        "mse": F.mse_loss,
        "bce": F.binary_cross_entropy,
        "bce_with_logits": F.binary_cross_entropy_with_logits,
        "hinge": lambda s, y: torch.clamp(1 - s * y, min=0).mean(),
    }[name]


@pytest.mark.parametrize("name", list(_LOSSES))
@pytest.mark.parametrize(
    "pred_shape,target_shape", [((3, 2), (2, 3)), ((2, 3), (3, 2)), ((6,), (3, 2)), ((4,), (2,))]
)
def test_losses_refuse_targets_of_another_shape_as_torch_does(name, pred_shape, target_shape):
    torch = pytest.importorskip("torch")
    pred = np.full(pred_shape, 0.5)
    target = np.ones(target_shape)
    with pytest.raises((ValueError, RuntimeError)), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's "likely incorrect" broadcast
        _torch_loss(torch, name)(torch.tensor(pred), torch.tensor(target))
    fn, full = _LOSSES[name]
    with pytest.raises(
        ValueError,
        match=re.escape(f"{full}: predictions have shape {pred_shape}, targets {target_shape}"),
    ):
        fn(Value(pred), target)


@pytest.mark.parametrize("name", list(_LOSSES))
def test_losses_take_n_targets_for_n_by_1_outputs(name):
    fn, _ = _LOSSES[name]
    pred = Value(np.array([[0.25], [0.75], [0.5]]))
    flat = np.array([1.0, 1.0, 1.0]) if name != "bce" else np.array([0.0, 1.0, 1.0])
    assert fn(pred, flat).item() == fn(pred, flat.reshape(3, 1)).item()
    # the other way round broadcasts to (3, 3) in torch: refused
    with pytest.raises(ValueError, match=r"predictions have shape \(3,\), targets \(3, 1\)"):
        fn(Value(pred.data.ravel()), flat.reshape(3, 1))


def test_mse_and_hinge_broadcast_a_target_into_the_predictions_shape_as_torch_does():
    torch = pytest.importorskip("torch")
    pred = np.array([[0.5, -2.0], [1.5, 0.25]])
    for target in (1.0, np.array([1.0, -1.0]), np.array([[1.0], [-1.0]])):
        for name in ("mse", "hinge"):
            ours = _LOSSES[name][0](Value(pred), target).item()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "likely incorrect": it is not
                theirs = _torch_loss(torch, name)(torch.tensor(pred), torch.tensor(target))
            assert ours == pytest.approx(theirs.item(), rel=1e-15)
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy: predictions have shape \(2, 2\), targets \(2,\)"
    ):
        binary_cross_entropy(Value(np.full((2, 2), 0.5)), np.ones(2))


# ------------------------------------------------------------------ early stopping


@pytest.mark.parametrize("patience", [1, 2, 3])
def test_early_stopping_stops_after_patience_epochs_without_improvement_as_keras(patience):
    # Keras: "patience: number of epochs with no improvement after which training will
    # be stopped"; its docs' example (patience=3, a loss that stops improving at once)
    # runs 4 epochs.
    stop = EarlyStopping(patience=patience)
    flags = [stop(epoch, {"loss": 1.0}) for epoch in range(6)]
    assert flags == [False] * patience + [True] + [True] * (5 - patience)
    assert stop.stopped_epoch == 5 and stop.best_epoch == 0
    X, y = datasets.make_xor(20, noise=0.0, seed=0)
    model = MLP(2, [3, 1], vectorized=True, rng=0)
    h = fit(
        model, X, y, epochs=10, callbacks=[EarlyStopping(patience, min_delta=10.0)], progress=False
    )
    assert h.stopped_early and h.epochs == patience + 1


# ------------------------------------------------------------------ edge values vs torch

_TINY = 5e-324  # the smallest subnormal
_EDGES = [
    0.0,
    -0.0,
    2.0,
    -3.0,
    math.inf,
    -math.inf,
    math.nan,
    1e308,
    -1e308,
    _TINY,
    -_TINY,
    1e-308,
    2.2250738585072014e-308,
]
_PROBS = [0.0, -0.0, 1.0, 0.5, 0.25, _TINY, 1e-308, 1e-300, 1 - 2**-53, 2**-53]


def _edge_cases():
    for z in _EDGES:
        for y in (0.0, 1.0, 0.5, 0.25):
            yield "bce_with_logits", [z], [y]
        for y in (0.0, 1.0, -1e308, math.inf, math.nan):
            yield "mse", [z], [y]
        for y in (-1.0, 1.0):
            yield "hinge", [z], [y]
        for label in (0, 1):
            yield "cross_entropy", [[z, 0.0]], [label]
            yield "cross_entropy", [[z, -z, 1.0]], [label]
    for p in _PROBS:
        for y in (0.0, 1.0, 0.5, 0.25):
            yield "bce", [p], [y]
    # a batch: the mean's factor 1/N in every gradient
    yield "bce_with_logits", [0.0, -0.0, 3.0, -2.0], [1.0, 0.0, 0.25, 1.0]
    yield "bce", [0.0, 1.0, 0.5, 0.9], [0.0, 1.0, 0.25, 1.0]
    yield "mse", [1e308, -1e308, 0.0], [-1e308, 1e308, 0.0]
    yield "hinge", [0.5, -2.0, 3.0], [1.0, 1.0, -1.0]


# Where we give another answer than torch on purpose: (loss, input, target) -> why.
# torch's formula (1 - y) * z - logsigmoid(z) computes 0 * inf = nan at z = +inf, y = 1 and
# inf - inf at z = -inf; the loss's limit there is well defined and is what we return
# (the gradient, sigmoid(z) - y, is torch's own).
_LIMITS = {
    ("bce_with_logits", math.inf, 1.0): 0.0,
    ("bce_with_logits", -math.inf, 0.0): 0.0,
    ("bce_with_logits", -math.inf, 1.0): math.inf,
    ("bce_with_logits", -math.inf, 0.5): math.inf,
    ("bce_with_logits", -math.inf, 0.25): math.inf,
}


def _ours(name, pred, target):
    fn = _LOSS_FNS[name]
    v = Value(np.array(pred, dtype=np.float64))
    loss = fn(v, np.array(target))
    loss.backward()
    return loss.item(), np.asarray(v.grad)


def _theirs(torch, name, pred, target):
    t = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    if name == "cross_entropy":
        loss = torch.nn.functional.cross_entropy(t, torch.tensor(target))
    else:
        loss = _torch_loss(torch, name)(t, torch.tensor(target, dtype=torch.float64))
    loss.backward()
    return loss.item(), t.grad.numpy()


@pytest.mark.filterwarnings("error")  # no RuntimeWarning (overflow, invalid, divide) leaks
@pytest.mark.parametrize("name,pred,target", list(_edge_cases()), ids=repr)
def test_losses_match_torch_at_edge_values(name, pred, target):
    torch = pytest.importorskip("torch")
    loss, grad = _ours(name, pred, target)
    want, want_grad = _theirs(torch, name, pred, target)
    key = (name, pred[0], target[0])
    if len(pred) == 1 and not isinstance(pred[0], list) and key in _LIMITS:
        assert math.isnan(want) and loss == _LIMITS[key]
    else:
        np.testing.assert_allclose(loss, want, rtol=1e-13, atol=0, equal_nan=True)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-13, atol=0, equal_nan=True)


def test_bce_with_logits_is_one_node_with_torchs_gradient_at_a_zero_logit():
    torch = pytest.importorskip("torch")
    y = np.array([1.0, 0.0, 1.0, 0.25])
    z = Value(np.zeros((4, 1)))
    loss = binary_cross_entropy_with_logits(z, y)
    assert loss.op == "bce_with_logits" and loss.parents[0] is z
    loss.backward()
    np.testing.assert_array_equal(z.grad.ravel(), (0.5 - y) / 4)
    t = torch.zeros((4, 1), dtype=torch.float64, requires_grad=True)
    F = torch.nn.functional
    F.binary_cross_entropy_with_logits(t, torch.tensor(y).reshape(4, 1)).backward()
    np.testing.assert_array_equal(z.grad, t.grad.numpy())
    # a zero-initialised output layer: its bias learns from mean(0.5 - y), not mean(-y)
    model = MLP(2, [3, 1], vectorized=True, rng=0)
    model.layers[-1].W.data[...] = 0.0
    model.layers[-1].b.data[...] = 0.0
    binary_cross_entropy_with_logits(model(np.ones((4, 2))), y).backward()
    assert model.layers[-1].b.grad[0] == pytest.approx(np.mean(0.5 - y), abs=1e-15)


def test_bce_at_p_equal_to_its_target_is_zero_not_negative():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    ones, zeros = torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    assert F.binary_cross_entropy(ones, ones).item() == 0.0
    assert binary_cross_entropy(Value(np.ones(3)), np.ones(3)).item() == 0.0
    assert binary_cross_entropy(Value(np.zeros(3)), np.zeros(3)).item() == 0.0
    assert F.binary_cross_entropy(zeros, ones).item() == 100.0  # torch clamps log at -100
    assert binary_cross_entropy(Value(np.zeros(3)), np.ones(3)).item() == 100.0


def test_bce_refuses_probabilities_outside_0_1_and_passes_nan_on():
    with pytest.raises(
        ValueError, match=r"probabilities must be in \[0, 1\], got values from -0.5 to 0.5"
    ):
        binary_cross_entropy(Value([-0.5, 0.5]), [0.0, 1.0])
    with pytest.raises(ValueError, match=r"targets must be in \[0, 1\]"):
        binary_cross_entropy(Value([0.5, 0.5]), [0.0, 2.0])
    assert math.isnan(binary_cross_entropy(Value([math.nan, 0.5]), [0.0, 1.0]).item())


@pytest.mark.parametrize(
    "name,pred,target",
    [
        ("bce_with_logits", [0.0, -1.5, 2.0, 30.0], [1.0, 0.0, 0.25, 1.0]),
        ("bce", [0.5, 0.1, 0.75, 0.99], [1.0, 0.0, 0.25, 1.0]),
        ("mse", [0.5, -1.0, 3.0, 0.0], [1.0, 0.0, 0.25, 1.0]),
    ],
)
def test_fused_losses_second_derivatives_match_torch(name, pred, target):
    torch = pytest.importorskip("torch")
    fn = _LOSSES[name][0]
    p = Value(np.array(pred))
    (gp,) = grad(fn(p, np.array(target)), [p], create_graph=True)
    (hp,) = grad((gp * gp).sum(), [p])
    t = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    loss = _torch_loss(torch, name)(t, torch.tensor(target, dtype=torch.float64))
    (gt,) = torch.autograd.grad(loss, [t], create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), [t])
    np.testing.assert_allclose(gp.data, gt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(hp, ht.numpy(), rtol=1e-9)
    assert gradcheck(lambda v: fn(v, np.array(target)), Value(np.array(pred)))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", [*_LOSSES, "cross_entropy"])
def test_losses_refuse_an_empty_batch(name):
    fn = _LOSS_FNS[name]
    shape, target = ((0, 3), np.zeros(0, dtype=int)) if name == "cross_entropy" else ((0,), [])
    with pytest.raises(ValueError, match=r"loss: got an empty batch of predictions, shape \(0"):
        fn(Value(np.zeros(shape)), target)
    with pytest.raises(ValueError, match="empty list of predictions"):
        fn([], target)


def test_ctrl_c_while_fit_writes_the_weights_keeps_the_whole_step(capsys):
    X, y = datasets.make_gaussians(32, noise=0.2, seed=0)

    def train(epochs, signal_at_step=None):
        model = MLP(2, [4, 1], vectorized=True, rng=0)
        if signal_at_step:
            _signalling(model.layers[0].W, writes=signal_at_step)
        opt = Adam(model.parameters(), lr=0.05)
        kw = dict(loss="bce_with_logits", optimizer=opt, shuffle=False, progress=False)
        return model, opt, _fit(model, X, y, epochs=epochs, **kw)

    model, opt, h = train(10, signal_at_step=3)  # full batch: one step an epoch
    assert h.interrupted and h.epochs == 2 and opt.t == 3 and not model.training
    assert "interrupted in epoch 3" in capsys.readouterr().err
    reference, _, _ = train(3)
    _assert_same(model.state_dict(), reference.state_dict())  # after the whole 3rd step


@pytest.mark.parametrize("name", ["mse", "bce", "bce_with_logits"])
def test_fused_losses_read_the_same_in_trace_backward(name):
    fn = _LOSS_FNS[name]
    for pred, target in ((0.25, 1.0), ([0.25, 0.75, 0.5], [1.0, 0.0, 0.25])):
        p = Value(pred, label="p")
        loss = fn(p, target)
        (step,) = list(trace_backward(loss))
        loss.backward()
        np.testing.assert_array_equal(step.total, p.grad)
        if np.ndim(pred) == 0:
            assert step.local == p.grad  # the local derivative the step-through page shows
            assert loss._op.derivative(0, ["p", "y"], "L") is not None


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "ours,theirs",
    [
        (lambda p: Adam(p, lr=0.1), lambda t, p: t.optim.Adam(p, lr=0.1)),
        (
            lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.5),
            lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.5),
        ),
    ],
)
def test_optimizer_steps_match_torch_at_edge_gradients(ours, theirs):
    torch = pytest.importorskip("torch")
    g = np.array([1e200, 1e308, -1e308, math.inf, -math.inf, math.nan, 0.0, -0.0, _TINY, 1.0])
    w = Value(np.full(g.shape, 1e308))
    t = torch.tensor(w.data.copy(), requires_grad=True)
    opt, topt = ours([w]), theirs(torch, [t])
    for _ in range(2):
        w.grad, t.grad = g, torch.tensor(g)
        opt.step()
        topt.step()
        np.testing.assert_allclose(w.data, t.detach().numpy(), rtol=1e-15, equal_nan=True)


# ------------------------------------------------------------------ stale graphs (item 11)
STALE = "was assigned new data after the result was computed"


def _one_line_stale_error(excinfo: pytest.ExceptionInfo, *words: str) -> None:
    message = str(excinfo.value)
    assert STALE in message and "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("shape", [(), (3,)])
def test_backward_after_assigning_data_raises_as_torchs_version_counter(shape):
    w = Value(np.full(shape, 2.0) if shape else 2.0, label="w")
    x = Value(np.full(shape, 3.0) if shape else 3.0)
    loss = (w * x).sum() if shape else w * x
    w.data -= 0.5  # what a hand-written SGD step does: an assignment, even for arrays
    with pytest.raises(RuntimeError) as excinfo:
        loss.backward()
    _one_line_stale_error(excinfo, "'w'", "input of *", "backward()")
    assert np.all(w.grad == 0.0)  # nothing was half-accumulated


def test_a_stale_value_without_a_label_is_named_by_its_shape():
    w, x = Value(np.ones((2, 3))), Value(np.ones(3), label="x")
    loss = (w * x).sum()
    w.data = w.data * 2
    with pytest.raises(RuntimeError) as excinfo:
        loss.backward()
    _one_line_stale_error(excinfo, "an input of * (shape (2, 3), no label)")
    y = Value(0.5).tanh()
    y.data = 0.0
    with pytest.raises(RuntimeError) as excinfo:
        y.backward()
    _one_line_stale_error(excinfo, "the result of tanh (a scalar, no label)")


def test_an_intermediate_node_computed_before_the_write_is_caught():
    w, x = Value(2.0, label="w"), Value(3.0)
    y = w * x  # uses w = 2
    w.data = 5.0
    z = y + w * x  # the second product uses w = 5: z itself is younger than the write
    with pytest.raises(RuntimeError, match="'w', an input of \\*"):
        z.backward()


def test_assigning_a_results_own_data_is_caught():
    x = Value(0.5)
    y = x.tanh()  # tanh's derivative reads its own output
    y.data = 0.0
    with pytest.raises(RuntimeError, match="the result of tanh"):
        y.backward()


def test_trace_backward_and_grad_refuse_a_stale_graph_too():
    w = Value(2.0, label="w")
    y = w * w
    w.data = 3.0
    with pytest.raises(RuntimeError, match=r"^trace_backward\(\): 'w'"):
        list(trace_backward(y))
    with pytest.raises(RuntimeError, match=r"^grad\(\): 'w'"):
        grad(y, w)


@pytest.mark.parametrize("vectorized", [False, True])
def test_optimizer_step_before_backward_raises_and_the_usual_loop_does_not(vectorized):
    x, y = np.array([[0.5, -1.0], [1.5, 2.0]]), np.array([[1.0], [0.0]])

    def loss_of(model):
        if vectorized:
            return mse_loss(model(x), y)
        return sum((model(list(row)) - t) ** 2 for row, t in zip(x, y[:, 0]))

    model = MLP(2, [3, 1], rng=0, vectorized=vectorized)
    opt = SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(3):  # the usual order: forward, backward, step
        opt.zero_grad()
        loss = loss_of(model)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[2] < losses[0]
    loss = loss_of(model)
    opt.step()  # the classic slip: a step between forward and backward
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_load_state_dict_makes_earlier_graphs_stale():
    model = MLP(2, [2, 1], rng=0, vectorized=True)
    loss = model(np.ones((1, 2))).sum()
    model.load_state_dict(model.state_dict())
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_writes_to_values_outside_the_graph_or_after_backward_are_fine():
    w, x, other = Value(2.0), Value(3.0), Value(1.0)
    y = w * x
    other.data = 7.0  # not in y's graph: the slow check looks and finds nothing
    y.backward()
    assert (w.grad, x.grad) == (3.0, 2.0)
    w.data = 4.0  # after backward: the next forward sees it
    (w * x).backward()
    assert x.grad == 2.0 + 4.0


def test_gradcheck_leaves_graphs_built_before_it_usable():
    x = Value(np.array([0.3, -0.7]))
    y = (x * x).sum()
    assert gradcheck(lambda v: (v * v).sum(), x)
    y.backward()  # gradcheck moves x and puts it back without counting as a write
    np.testing.assert_array_equal(x.grad, 2 * x.data)


def test_gradcheck_puts_an_input_back_even_when_fn_raises():
    # gradcheck moves an input by eps without counting a write: if fn raised on a moved
    # input, the input kept the moved numbers and graphs built before silently used them.
    x = Value(np.array([0.3, -0.7]), label="x")
    y = (x * x).sum()
    calls = []

    def fn(v):
        calls.append(v.data.copy())
        if len(calls) == 3:  # 1: the analytic pass, 2: element 0 at +eps, 3: at -eps
            raise KeyError("fn failed")
        return (v * v).sum()

    with pytest.raises(KeyError, match="fn failed"):
        gradcheck(fn, x)
    np.testing.assert_array_equal(x.data, [0.3, -0.7])
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.6, -1.4])


_TRAINED_ELSEWHERE = """
import pickle, sys
import numpy as np
from autograd import Value
from nn import MLP, SGD, mse_loss
model = MLP(2, [3, 1], rng=0, vectorized=True)
w = Value(np.ones(2), label="w")
opt = SGD([*model.parameters(), w], lr=0.01)
for _ in range(300):  # this process's write clock runs far ahead of the test's
    opt.zero_grad()
    (mse_loss(model(np.ones((4, 2))), np.zeros((4, 1))) + (w * w).sum()).backward()
    opt.step()
sys.stdout.buffer.write(pickle.dumps((model, w)))
"""


def test_values_pickled_in_another_process_are_not_stale_here():
    # Stamps count one process's writes: a model trained and pickled elsewhere (a
    # multiprocessing worker, a file from yesterday) carried its stamps, "assigned at
    # write 1200", into a process whose clock is low, and its first graph that spans a
    # write (here: a step on another value between two forwards) raised.
    import pickle
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _TRAINED_ELSEWHERE], capture_output=True, check=True
    )
    model, w = pickle.loads(done.stdout)
    w.grad = None  # it arrives with the gradient of its last step
    x, y = np.ones((4, 2)), np.zeros((4, 1))
    h = model(x)
    other = Value(1.0)
    other.data = 2.0  # any write between two parts of one graph
    (mse_loss(h, y) + (w * w).sum()).backward()
    assert np.all(w.grad == 2 * w.data)
    opt = SGD(model.parameters(), lr=0.01)
    for _ in range(2):  # and training goes on as usual
        opt.zero_grad()
        loss = mse_loss(model(x), y)
        loss.backward()
        opt.step()
    opt.step()  # while a slip after loading is still caught
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_copies_made_in_this_process_keep_a_stale_graph_stale():
    import pickle

    w = Value(np.array([1.0, 2.0]), label="w")
    y = (w * w).sum()
    w.data = np.zeros(2)
    for copied in (copy.deepcopy(y), copy.deepcopy([y])[0]):
        with pytest.raises(RuntimeError, match="'w', an input of \\*"):
            copied.backward()
    again = pickle.loads(pickle.dumps(w))
    np.testing.assert_array_equal(again.data, w.data)
    assert again.label == "w"
