"""Time one engine on one workload in this (fresh) process and print one JSON line.

    python -m benchmarks.measure WORKLOAD ENGINE STEPS MIN_SECONDS

(The engine ``before`` is backproplab imported from the folder ``$BENCHMARK_BEFORE``:
``python -m benchmarks --against REV``.)

The runner starts one such process per (round, workload, engine). It builds the step, runs
it once untimed (the warm-up, which gives the first loss and compiles what JAX compiles),
checks the dtype of every array, then times ``STEPS`` steps, more (up to 1,000) while
they add up to less than ``MIN_SECONDS``, each by the wall clock and by this process's CPU
time (every engine runs on one thread, so the two agree on a quiet machine; on a busy one
CPU time leaves out the time other programs had the core). CPU time includes the programs
a step runs, such as the system ``dot`` that renders a drawing. Memory is the process's peak
resident set (``VmHWM``, else ``ru_maxrss``): ``peak_rss_mb`` for the whole process
(interpreter, imports and all), ``step_rss_mb`` for how far the steps (warm-up included)
pushed it above where setup left it."""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time

from .workloads import WORKLOADS, WrongDtype, check_dtypes


def max_rss_mb() -> float:
    """This process's peak resident set. ``ru_maxrss`` survives ``exec``, so a child
    would report its parent's peak when larger: Linux's ``VmHWM`` is this program's own."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux, BSD: kB


MAX_STEPS = 1000


def children_cpu() -> float:
    """CPU seconds of the finished programs this process ran."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, engine: str, steps: int, min_seconds: float = 0.0) -> dict:
    workload = WORKLOADS[name]
    step = workload.setup("backproplab" if engine == "before" else engine)
    setup_rss = max_rss_mb()
    first = step()
    try:
        check_dtypes(engine, step, workload.dtype)
    except WrongDtype as e:
        return {"wrong": str(e)}
    if engine == "micrograd_gc_off":
        gc.disable()
    times, cpu_times = [], []
    children = children_cpu()
    while len(times) < steps or (sum(times) < min_seconds and len(times) < MAX_STEPS):
        t, c = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - c)
    # programs the steps ran (the system `dot` of the drawing): their CPU time, evenly
    children = (children_cpu() - children) / len(times)
    cpu_times = [c + children for c in cpu_times]
    peak = max_rss_mb()
    return {
        "first": first,
        "times": times,
        "cpu_times": cpu_times,
        "peak_rss_mb": round(peak, 1),
        "step_rss_mb": round(peak - setup_rss, 1),
    }


if __name__ == "__main__":
    name, engine, steps, min_seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if engine == "before":  # an older autograd/nn/viz, imported before today's
        sys.path.insert(0, os.environ["BENCHMARK_BEFORE"])
    print(json.dumps(measure(name, engine, steps, float(min_seconds))))
