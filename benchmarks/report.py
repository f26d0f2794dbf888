"""Read a benchmark run: the goal ratios, the printed table and README's markdown table.

    python -m benchmarks.report RESULTS.json     (markdown for README from a saved run)

A run is the dict ``python -m benchmarks --json`` writes: ``meta`` (date, machine,
versions, rounds), ``rows`` (one per workload and engine) and ``goals``."""

from __future__ import annotations

import json
import sys
from functools import partial

from .workloads import WORKLOADS

NAMES = {
    "backproplab": "backproplab",
    "backproplab_compiled": "backproplab, compiled (autograd.compile)",
    "micrograd": "micrograd, gc on",
    "micrograd_gc_off": "micrograd, gc.disable()",
    "python": "floor: pure Python written for speed",
    "python_plain": "hand-written pure Python, plain",
    "numpy": "hand-written numpy",
    "matmuls": "floor: matmuls alone (numpy)",
    "torch": "PyTorch (1 thread)",
    "jax_jit": "JAX jit (CPU, 1 thread)",
    "jax_eager": "JAX eager (CPU, 1 thread)",
    "backproplab_scalar": "backproplab, scalar mode",
    "autograd_value": "autograd.Value in microGPT's code",
    "microgpt_value": "microGPT's own Value (no library)",
}


def engine_name(engine: str, meta: dict) -> str:
    """How a row names its engine (``before``: the revision ``--against`` named)."""
    if engine == "before":
        return f"backproplab at {meta.get('against', 'an earlier revision')} (before)"
    return NAMES[engine]


# The ratios later engine work aims at: (workload, reference engine) pairs, each read as
# "backproplab's time / the reference's time" (below 1: we are faster).
GOAL_PAIRS = [
    ("scalar_moons", "python"),
    ("scalar_moons", "python_plain"),
    ("scalar_moons", "micrograd"),
    ("scalar_moons", "micrograd_gc_off"),
    ("tiny_mlp", "numpy"),
    ("tiny_mlp", "jax_jit"),
    ("vector_moons", "numpy"),
    ("vector_moons", "jax_jit"),
    ("medium_mlp_f32", "matmuls"),
    ("medium_mlp_f32", "torch"),
    ("medium_mlp_f32", "jax_jit"),
    ("medium_mlp_f64", "matmuls"),
    ("medium_mlp_f64", "torch"),
    ("medium_mlp_f64", "jax_jit"),
    ("microgpt", "torch"),
    ("microgpt", "jax_jit"),
]
# The microGPT goals of issue 26: (engine, goal) speedups over microGPT's own Value.
MICROGPT_SPEEDUPS = [("autograd_value", 6.0), ("backproplab_scalar", 10.0)]
MICROGPT_TENSOR_GOAL_S = 0.5e-3  # a tensor-mode step: forward, backward and Adam


def goals(rows: list[dict]) -> list[dict]:
    """The goal ratios of one run; a pair whose engine did not run is left out."""
    cpu = {(r["workload"], r["engine"]): r["cpu_s"] for r in rows if r["median_s"]}
    out = []
    for name, ref in GOAL_PAIRS:
        ours, theirs = cpu.get((name, "backproplab")), cpu.get((name, ref))
        if ours and theirs:
            out.append(
                {
                    "goal": f"{name}: backproplab / {NAMES[ref]}",
                    "value": ours / theirs,
                    "kind": "time ratio",
                }
            )
    out += _microgpt_goals(cpu)
    big, small = cpu.get(("chain_1e6", "backproplab")), cpu.get(("chain_1e4", "backproplab"))
    if big:
        out.append({"goal": "chain_1e6: forward + backward", "value": big, "kind": "seconds"})
        per_op = big / WORKLOADS["chain_1e6"].ops
        out.append({"goal": "chain_1e6: cost per op", "value": per_op * 1e6, "kind": "µs"})
    # How the cost per op grows from 1e4 to 1e6 ops, ours and the floor's (one small
    # Python object per op): the part the floor shows too is Python's own (its collector
    # walking the growing graph, and memory), not the engine's.
    for engine, who in (("backproplab", ""), ("python", " (floor)")):
        big, small = cpu.get(("chain_1e6", engine)), cpu.get(("chain_1e4", engine))
        if big and small:
            out.append(
                {
                    "goal": f"chain: cost per op at 1e6 / at 1e4{who}",
                    "value": (big / WORKLOADS["chain_1e6"].ops)
                    / (small / WORKLOADS["chain_1e4"].ops),
                    "kind": "per-op ratio",
                }
            )
    return out


def _microgpt_goals(cpu: dict) -> list[dict]:
    out = []
    floor = cpu.get(("microgpt", "microgpt_value"))
    for engine, goal in MICROGPT_SPEEDUPS:
        if floor and cpu.get(("microgpt", engine)):
            out.append(
                {
                    "goal": f"microgpt: {NAMES[engine]}, x faster than microGPT's Value (goal {goal:g})",
                    "value": floor / cpu["microgpt", engine],
                    "kind": "speedup",
                }
            )
    tensor = cpu.get(("microgpt", "backproplab"))
    if tensor:
        goal = MICROGPT_TENSOR_GOAL_S * 1e3
        out.append(
            {
                "goal": f"microgpt: tensor-mode step (goal {goal:g} ms)",
                "value": tensor,
                "kind": "seconds",
            }
        )
    return out


def seconds(t: float) -> str:
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms" if t >= 0.01 else f"{t * 1e3:.2f} ms"
    return f"{t * 1e6:.0f} µs"


def compared(ratio: float | None) -> str:
    """``ratio`` = our time / the engine's time, as words."""
    if ratio is None:
        return ""
    if 0.995 <= ratio <= 1.005:
        return "="
    return f"{1 / ratio:.2f}x faster" if ratio < 1 else f"{ratio:.2f}x slower"


def goal_value(g: dict) -> str:
    if g["kind"] == "time ratio":
        return f"{g['value']:.3f}  (backproplab {compared(g['value'])})"
    if g["kind"] == "seconds":
        return seconds(g["value"])
    if g["kind"] == "speedup":
        return f"{g['value']:.2f}x"
    if g["kind"] == "µs":
        return f"{g['value']:.2f} µs"
    return f"{g['value']:.2f}"


def _cpu_cell(r: dict) -> str:
    ops = WORKLOADS[r["workload"]].ops
    if ops and r["engine"] == "backproplab":
        return f"{seconds(r['cpu_s'])} ({r['cpu_s'] / ops * 1e6:.2f} µs/op)"
    return seconds(r["cpu_s"])


def text(run: dict) -> str:
    """The table the runner prints: every row, then the goal ratios."""
    name = partial(engine_name, meta=run["meta"])
    lines = [
        f"{'workload':15} {'engine':32} {'wall':>9} {'CPU':>22} {'spread':>7}"
        f" {'backproplab is':>15} {'peak RSS':>9} {'+steps':>7}"
    ]
    for r in run["rows"]:
        if r["median_s"] is None:
            lines.append(f"{r['workload']:15} {name(r['engine']):32} failed: {r['error'][:70]}")
            continue
        spread = f"{r['spread'] * 100:.0f}%" if len(r["round_cpu_s"]) > 1 else ""
        lines.append(
            f"{r['workload']:15} {name(r['engine']):32} {seconds(r['median_s']):>9}"
            f" {_cpu_cell(r):>22}"
            f" {spread:>7} {compared(r['ratio']):>15}"
            f" {r['peak_rss_mb']:6.0f} MB {r['step_rss_mb']:4.0f} MB"
        )
    lines += ["", "Goal ratios (backproplab's CPU time / the reference's; below 1: faster):"]
    lines += [f"  {g['goal']:60} {goal_value(g)}" for g in run["goals"]]
    return "\n".join(lines)


def markdown(run: dict) -> str:
    """README's benchmark table, with the date and the machine of the run: today's code
    (the rows of ``--against``'s older code are in the printed table only)."""
    m = run["meta"]
    name = partial(engine_name, meta=m)
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    load = m["load_average"]
    quick = "`--quick` (few steps per process), " if m.get("quick") else ""
    lines = [
        f"Measured {m['date']} on {m['machine']} ({m['platform']}; Python {m['python']}, "
        f"{versions}); {m['rounds']} round(s) of fresh processes, engines interleaved, "
        f"{quick}single-threaded. Medians by the wall clock and in CPU time; "
        '"backproplab is" and the goal ratios compare CPU times (less disturbed by other '
        "programs on a shared machine); a floor is the least work the step needs; peak RSS is the whole process's "
        "(interpreter and imports included). The machine's 1-minute load average was "
        f"{load[0]:.1f} at the start and {load[1]:.1f} at the end. SVG renderer: "
        f"{m.get('svg_renderer', 'not recorded')}."
        + (
            f" The run also timed backproplab as it was at {m['against']} (`--against`); "
            "those rows are in the table the run prints."
            if m.get("against")
            else ""
        ),
        "",
        "| workload | engine | median (wall) | median (CPU) | backproplab is | peak RSS |",
        "|---|---|---:|---:|---:|---:|",
    ]
    previous = None
    for r in run["rows"]:
        if r["engine"] == "before":
            continue
        title = WORKLOADS[r["workload"]].title if r["workload"] != previous else ""
        previous = r["workload"]
        if r["median_s"] is None:
            lines.append(f"| {title} | {name(r['engine'])} | failed: {r['error'][:60]} | | | |")
            continue
        lines.append(
            f"| {title} | {name(r['engine'])} | {seconds(r['median_s'])} | {_cpu_cell(r)} "
            f"| {compared(r['ratio'])} "
            f"| {r['peak_rss_mb']:.0f} MB |"
        )
    lines += ["", "| goal (CPU time) | this run |", "|---|---:|"]
    lines += [f"| {g['goal']} | {goal_value(g)} |" for g in run["goals"]]
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(markdown(json.load(f)))
