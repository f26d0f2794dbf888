"""nn under hostile use: bad optimizer arguments, Ctrl-C in the middle of training,
mismatched target shapes and edge-value numbers, each checked against PyTorch."""

import copy
import math
import signal

import numpy as np
import pytest

from autograd import Value
from nn import SGD, Adam

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
    """A deep copy of everything an optimizer keeps besides its parameters."""
    return copy.deepcopy({k: v for k, v in vars(opt).items() if k != "params"})


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
    """An array that sends this process SIGINT (Ctrl-C) when it is written to."""

    def __setitem__(self, index, value):
        super().__setitem__(index, value)
        signal.raise_signal(signal.SIGINT)

    def __isub__(self, other):
        out = super().__isub__(other)
        signal.raise_signal(signal.SIGINT)
        return out


def test_ctrl_c_while_parameters_are_written_waits_for_the_whole_step():
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is handled by someone else here")
    first, second = Value(np.ones(3)), Value(np.ones(2))
    first.data = np.ones(3).view(_SignallingArray)
    first.grad, second.grad = np.ones(3), np.ones(2)
    opt = SGD([first, second], lr=0.5)
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    np.testing.assert_array_equal(first.data, 0.5)
    np.testing.assert_array_equal(second.data, 0.5)  # written although Ctrl-C came before
