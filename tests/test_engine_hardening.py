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
