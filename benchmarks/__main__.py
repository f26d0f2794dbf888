"""Run every workload for every engine, side by side, and print medians and ratios.

    make bench        (or: python -m benchmarks [--quick] [workload ...])

Each (workload, engine) runs in a fresh process, engines alternate round by round, each
process does a warm-up step and then several timed steps. Before timing, every engine's
first loss from the same starting weights must agree with ours."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from .workloads import WORKLOADS, engine_available

THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
STEPS = {"scalar_moons": 5, "chain_1e6": 1, "chain_1e5": 2, "drawing_1000": 3}


def run_one(workload: str, engine: str, steps: int) -> dict:
    """Time ``steps`` steps of one engine in a fresh Python process."""
    code = (
        "import json, sys, time, gc\n"
        "from benchmarks.workloads import WORKLOADS\n"
        f"setup, _ = WORKLOADS[{workload!r}]\n"
        f"engine = {engine!r}\n"
        "step = setup('micrograd' if engine == 'micrograd_gc_off' else engine)\n"
        "first = step()\n"
        "if engine == 'micrograd_gc_off': gc.disable()\n"
        "times = []\n"
        f"for _ in range({steps}):\n"
        "    t = time.perf_counter(); step(); times.append(time.perf_counter() - t)\n"
        "print(json.dumps({'first': first, 'times': times}))\n"
    )
    env = {**os.environ, **THREADS}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=1200
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    names = [a for a in argv if not a.startswith("--")] or list(WORKLOADS)
    rounds = 1 if quick else 3
    rows = []
    for name in names:
        _, engines = WORKLOADS[name]
        engines = [e for e in engines if engine_available(e)]
        results: dict[str, list] = {e: [] for e in engines}
        firsts: dict[str, float] = {}
        for _ in range(rounds):
            for engine in engines:
                r = run_one(name, engine, 1 if quick else STEPS.get(name, 30))
                if "error" in r:
                    results[engine].append(None)
                    firsts[engine] = r["error"]
                    continue
                firsts[engine] = r["first"]
                results[engine].append(statistics.median(r["times"]))
        ours = firsts.get("backproplab")
        for engine in engines:
            f = firsts[engine]
            if isinstance(f, str):
                continue
            tol = 1e-4 if "f32" in name else 1e-8
            if abs(f - ours) > tol * max(1.0, abs(ours)):
                raise SystemExit(
                    f"{name}: {engine} computed loss {f!r}, backproplab {ours!r}: not timing a wrong answer"
                )
        base = [t for t in results.get("backproplab", []) if t is not None]
        ours_median = statistics.median(base) if base else None
        for engine in engines:
            times = [t for t in results[engine] if t is not None]
            if not times:
                rows.append((name, engine, None, None, firsts[engine]))
                continue
            med = statistics.median(times)
            ratio = med / ours_median if ours_median else None
            rows.append((name, engine, med, ratio, None))
    print(f"\n{'workload':16} {'engine':18} {'median':>12} {'engine / ours':>14}")
    for name, engine, med, ratio, err in rows:
        if med is None:
            print(f"{name:16} {engine:18} {'failed':>12}   {str(err)[:60]}")
        else:
            shown = f"{med * 1e3:10.3f} ms" if med < 1 else f"{med:10.3f} s "
            print(f"{name:16} {engine:18} {shown:>12} {ratio:13.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
