"""``backward()`` (autograd/fast_backward.py) is the readable chain rule's fast twin: on
random graphs, scalar and tensor, it gives every value the gradient ``trace_backward``
and ``grad`` give it, bit for bit."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, add_n, grad, linear, sum_of_squares, trace_backward, weighted_sum

SCALAR_OPS = ["add", "mul", "sub", "div", "tanh", "relu", "sigmoid", "pow", "wsum", "add_n"]
TENSOR_OPS = ["add", "mul", "sub", "matmul", "tanh", "relu", "sum", "mean", "linear", "square"]


def _scalar_graph(choices, numbers):
    leaves = [Value(x, label=f"x{k}") for k, x in enumerate(numbers)]
    leaves.append(Value(0.5, requires_grad=False))  # a constant among the inputs
    pool = list(leaves)
    for kind, i, j in choices:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if kind == "add":
            pool.append(a + b)
        elif kind == "mul":
            pool.append(a * b * 0.5)  # and a number: a constant parent
        elif kind == "sub":
            pool.append(1.0 - a - b)
        elif kind == "div":
            pool.append(a / (b * b + 1.0))
        elif kind == "tanh":
            pool.append(a.tanh())
        elif kind == "relu":
            pool.append((a - 0.25).relu())  # off for some inputs: zero gradients flow
        elif kind == "sigmoid":
            pool.append(a.sigmoid())
        elif kind == "pow":
            pool.append(a**2)
        elif kind == "wsum":
            pool.append(weighted_sum([a, b], [b, pool[0]], a).relu())
        else:
            pool.append(add_n([a, b, a]))
    return leaves, pool[-1] * pool[len(pool) // 2] + sum_of_squares(leaves[:2])


def _tensor_graph(choices, rng):
    leaves = [Value(rng.normal(size=(3, 3)), label=f"x{k}") for k in range(2)]
    leaves.append(Value(rng.normal(size=3), label="b"))
    pool = list(leaves)
    for kind, i, j in choices:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if kind == "add":
            pool.append(a + b)
        elif kind == "mul":
            pool.append(a * b * 0.5)
        elif kind == "sub":
            pool.append(a - b)
        elif kind == "matmul":
            pool.append((a @ b) * 0.3 if a.ndim == b.ndim == 2 else a * b)
        elif kind == "tanh":
            pool.append(a.tanh())
        elif kind == "relu":
            pool.append(a.relu())
        elif kind == "sum":
            pool.append(a.sum(axis=0) + b if a.ndim else a + b)  # broadcasting back
        elif kind == "mean":
            pool.append(a.mean() * b)
        elif kind == "linear":
            pool.append(linear(a, leaves[0], leaves[2]) if a.ndim == 2 else a + 1.0)
        else:
            pool.append(a.square())
    return leaves, (pool[-1] * pool[len(pool) // 2]).sum()


def _same_gradients(leaves, root):
    root.backward()  # first: on the graph as recorded, its numbers kept as floats
    totals = {}
    for step in trace_backward(root):
        totals[step.input] = step.total
    exact = grad(root, leaves)
    for leaf, g in zip(leaves, exact):
        if not leaf.requires_grad:
            continue
        traced = totals.get(leaf, np.zeros_like(leaf.data) if leaf.ndim else 0.0)
        for other in (traced, g):
            assert _bits(leaf.grad) == _bits(other), (leaf.label, leaf.grad, other)


def _bits(x):
    """The bytes of ``x``, with -0.0 as +0.0: ``backward`` starts a scalar's sum at
    +0.0, so a first term of -0.0 becomes +0.0 there (and nowhere else)."""
    return (np.asarray(x, dtype=np.float64) + 0.0).tobytes()


def _choices(kinds):
    return st.lists(
        st.tuples(st.sampled_from(kinds), st.integers(0, 40), st.integers(0, 40)),
        min_size=1,
        max_size=25,
    )


@settings(max_examples=80, deadline=None)
@given(_choices(SCALAR_OPS), st.lists(st.floats(-3, 3), min_size=1, max_size=4))
def test_backward_equals_the_readable_walk_on_random_scalar_graphs(choices, numbers):
    leaves, root = _scalar_graph(choices, numbers)
    if math.isfinite(root.data):
        _same_gradients(leaves, root)


@settings(max_examples=40, deadline=None)
@given(_choices(TENSOR_OPS), st.integers(0, 2**32 - 1))
def test_backward_equals_the_readable_walk_on_random_tensor_graphs(choices, seed):
    leaves, root = _tensor_graph(choices, np.random.default_rng(seed))
    if np.isfinite(root.data):
        _same_gradients(leaves, root)
