"""The engine against hostile or careless use (issue 25): one-hot sizes, no_grad across
threads, stale graphs, and one clear line for each refused input."""

import threading
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from autograd import Value, is_grad_enabled, no_grad, one_hot


def test_one_hot_allocates_its_output_only():
    # np.eye(num_classes)[labels] made a num_classes² matrix: 6.7 GiB for 30,000 classes.
    tracemalloc.start()
    try:
        out = one_hot([0, 29_999], 30_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * out.data.nbytes, peak
    np.testing.assert_array_equal(np.flatnonzero(out.data), [0, 2 * 30_000 - 1])


@pytest.mark.parametrize("num_classes", [2.5, 3.0, "3", None, True])
def test_one_hot_takes_only_an_integer_number_of_classes(num_classes):
    with pytest.raises(TypeError, match="one_hot: num_classes must be an integer"):
        one_hot([0, 1], num_classes)


def _train():
    w = Value(3.0)
    (w * w).backward()
    return is_grad_enabled(), w.grad


def test_no_grad_exited_in_another_thread_restores_the_thread_that_entered_it():
    # A generator yielding inside no_grad, entered in a pool's worker and finished here:
    # the worker gets its recording back and this thread's stays as it was, even while
    # a third thread holds no_grad (before: zero gradients here, silently).
    def rows():
        with no_grad():
            yield is_grad_enabled()

    held, release = threading.Event(), threading.Event()

    def hold():
        with no_grad():
            held.set()
            release.wait(10)

    gen = rows()
    holder = threading.Thread(target=hold)
    with ThreadPoolExecutor(1) as worker:
        assert worker.submit(next, gen).result() is False
        assert next(gen, "done") == "done"
        holder.start()
        try:
            assert held.wait(10)
            assert _train() == (True, 6.0)
            assert worker.submit(_train).result() == (True, 6.0)
        finally:
            release.set()
            holder.join()
    assert _train() == (True, 6.0)


# ------------------------------------------------------------------ one clear answer
@pytest.mark.parametrize(
    "data", [10**400, -(10**400), [1, 10**400], [[2**1030]]], ids=["int", "neg", "list", "nested"]
)
def test_an_integer_beyond_any_float_is_one_clear_value_error(data):
    with pytest.raises(ValueError, match=r"^Value\(\.\.\.\): an integer of \d+ bits is too large"):
        Value(data)


def test_integers_beyond_int64_that_fit_a_float_are_taken():
    np.testing.assert_array_equal(Value([2**1023, 1]).data, [2.0**1023, 1.0])


torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "shape, axis", [((2, 0), 1), ((0, 3), 0), ((0, 3), 1), ((2, 0), None)], ids=str
)
@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
def test_normalising_over_an_empty_axis_answers_as_torch(name, shape, axis):
    # torch: logsumexp over nothing is -inf, a softmax of nothing is empty (numpy's max
    # of nothing raised "zero-size array to reduction operation maximum").
    if axis is None and name != "logsumexp":
        return
    x = Value(np.zeros(shape))
    out = getattr(x, name)(axis=axis)
    t = torch.zeros(shape, dtype=torch.float64)
    dims = tuple(range(len(shape))) if axis is None else axis
    want = getattr(torch, name)(t, dims if name == "logsumexp" else axis)
    np.testing.assert_array_equal(np.asarray(out.data), want.numpy())
    out.sum().backward()
    assert x.grad.shape == shape


@pytest.mark.parametrize("method, n", [("split", 2), ("chunk", 2), ("split", 1)])
def test_an_empty_axis_splits_into_empty_pieces(method, n):
    x = Value(np.zeros((0, 3)))
    pieces = getattr(x, method)(n, axis=0)
    want = getattr(torch.zeros(0, 3), "chunk" if method == "chunk" else "tensor_split")(n)
    assert [p.shape for p in pieces] == [tuple(w.shape) for w in want]


@pytest.mark.parametrize("name", ["conv2d", "max_pool2d", "avg_pool2d"])
def test_a_stride_beyond_the_input_takes_one_window_as_torch(name):
    import autograd

    x = np.arange(16.0).reshape(1, 1, 4, 4)
    args = (np.ones((1, 1, 2, 2)),) if name == "conv2d" else (2,)
    v = Value(x)
    out = getattr(autograd, name)(
        v, *(map(Value, args) if name == "conv2d" else args), stride=10**18
    )
    out.sum().backward()
    t = torch.tensor(x, requires_grad=True)
    targs = tuple(torch.tensor(a) for a in args) if name == "conv2d" else args
    want = getattr(F, name)(t, *targs, stride=2**30)
    want.sum().backward()
    np.testing.assert_array_equal(out.data, want.detach().numpy())
    np.testing.assert_array_equal(v.grad, t.grad.numpy())


F = torch.nn.functional
