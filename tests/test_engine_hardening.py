"""The engine against hostile or careless use (issue 25): one-hot sizes, no_grad across
threads, stale graphs, and one clear line for each refused input."""

import tracemalloc

import numpy as np
import pytest

from autograd import one_hot


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
