"""Load on the live classroom: N browser tabs training their own Playgrounds at once.

    python -m benchmarks.classroom_load [--sessions 30] [--seconds 10] [--fps 20]

Starts the server (``server.config``, 127.0.0.1, a free port) in a process of its own, so
its CPU time can be read apart from the clients'; opens N WebSocket sessions, each sends
the Playground's default settings and presses Play; one fresh tab joins while they start.
Once all play, for ``--seconds``: a fresh tab every quarter second (hello, then a Neuron
reply: 40 joins, so their p95 is not just the slowest). Prints, for that window, epochs a
second per session, the server's CPU time per frame, its worker processes' included
(frames a second per core: what a quiet machine could serve), and the fresh joins' p50 /
p95. Bounded: it stops by itself after ``--seconds`` (at most 120) and ``--sessions`` (at
most 200). Loopback only. Needs the classroom extra.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

MAX_SECONDS = 120.0
MAX_SESSIONS = 200
# Every simulated student comes from 127.0.0.1: lift the per-address limits (a server
# from before the limits, for a comparison, takes no such option).
_SERVER = """
import sys, uvicorn
from viz.classroom.server import config
try:
    from viz.classroom.settings import Limits
except ImportError:
    options = {}
else:
    options = {"limits": Limits(per_address=10_000, messages_per_second=1e6, burst=10**6)}
uvicorn.Server(config("127.0.0.1", int(sys.argv[1]), **options)).run()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server_process(script: str = _SERVER, stderr=None):  # noqa: ANN001 (a file or None)
    """The classroom in a child process on 127.0.0.1 (loopback only), its log to
    ``stderr``: yields ``(url, pid)``; the server is stopped on leaving, whatever
    happens, with every process it started (its worker processes outlive a SIGTERM:
    uvicorn re-raises it, so no exit handler stops them)."""
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(port)], stderr=stderr, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the classroom server did not start")
            time.sleep(0.1)
        yield f"ws://127.0.0.1:{port}/ws", child.pid
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # the server's group: its workers


def cpu_seconds(pid: int, children: bool = False) -> float:
    """A process's CPU time so far (user + system), with its child processes' (the
    server's training and layout workers) if ``children``, from /proc (Linux); NaN
    elsewhere."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    if children:
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                for child in open(f"/proc/{pid}/task/{task}/children").read().split():
                    seconds += cpu_seconds(int(child), children=True)
    return seconds


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB, from /proc (Linux); NaN elsewhere."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def quantile(xs: list[float], p: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


async def receive(ws, kind: str, timeout: float) -> dict:  # noqa: ANN001
    """The next message of type ``kind`` (others are skipped)."""
    end = time.perf_counter() + timeout
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), end - time.perf_counter()))
        if message["type"] == kind:
            return message


async def fresh_join(url: str) -> float | None:
    """A new tab: seconds from connecting to its Neuron numbers (None if it failed)."""
    import websockets

    start = time.perf_counter()
    try:
        async with websockets.connect(url, max_size=2**22, open_timeout=30) as ws:
            await receive(ws, "hello", 30)
            await ws.send(json.dumps({"type": "neuron", "state": {}}))
            await receive(ws, "neuron", 30)
            return time.perf_counter() - start
    except (OSError, asyncio.TimeoutError) as err:
        print(f"  a fresh join failed: {err}")
        return None


async def fresh_joins(url: str, seconds: float, every: float = 0.25) -> list[float]:
    """A new tab every ``every`` seconds for ``seconds``: each one's :func:`fresh_join`."""
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        if (took := await fresh_join(url)) is not None:
            times.append(took)
        await asyncio.sleep(max(0.0, every - (time.perf_counter() - start)))
    return times


async def _playground(url: str, fps: int, playing: list, seen: list, stop: asyncio.Event) -> None:
    """One tab: a new Playground, Play, then every frame's (time, epoch) into ``seen``
    until ``stop``; ``playing`` gets the time of its first frame of Play."""
    import websockets

    async with websockets.connect(url, max_size=2**22, open_timeout=60) as ws:
        await receive(ws, "hello", 60)
        await ws.send(json.dumps({"type": "playground", "settings": {}}))
        await receive(ws, "playground.frame", 60)
        await ws.send(json.dumps({"type": "playground.play", "fps": fps}))
        frames: list[tuple[float, int]] = []
        while not stop.is_set():
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
            except asyncio.TimeoutError:
                continue
            if message["type"] == "playground.frame":
                if not frames:
                    playing.append(time.perf_counter())
                frames.append((time.perf_counter(), message["epoch"]))
        seen.append(frames)
        await ws.send(json.dumps({"type": "playground.pause"}))


def _rate(frames: list[tuple[float, int]], start: float, end: float) -> tuple[float, int]:
    """Epochs a second between the first and last frame in [start, end], and the frames."""
    inside = [(t, epoch) for t, epoch in frames if start <= t <= end]
    if len(inside) < 2:
        return 0.0, len(inside)
    (t0, e0), (t1, e1) = inside[0], inside[-1]
    return (e1 - e0) / (t1 - t0), len(inside)


async def _run(url: str, pid: int, sessions: int, seconds: float, fps: int) -> None:
    started: list[float] = []  # when each session's first frame of Play came
    seen: list[list] = []
    stop = asyncio.Event()
    playing = asyncio.gather(*(_playground(url, fps, started, seen, stop) for _ in range(sessions)))
    first_join = await fresh_join(url)  # while the sessions start (their first frames)
    while len(started) < sessions and not playing.done():
        await asyncio.sleep(0.05)
    # The window: from when every session plays, for ``seconds``; the server's start (its
    # worker processes' imports) and the sessions' setup fall before it.
    cpu0, all0, start = cpu_seconds(pid), cpu_seconds(pid, True), time.perf_counter()
    ours0 = time.process_time()
    joins = await fresh_joins(url, seconds)
    cpu, every = cpu_seconds(pid) - cpu0, cpu_seconds(pid, True) - all0
    ours = time.process_time() - ours0
    end = time.perf_counter()
    wall = end - start
    stop.set()
    await playing
    rates, counts = zip(*(_rate(frames, start, end) for frames in seen))
    frames = sum(counts)
    print(f"{sessions} Playgrounds playing at up to {fps} epochs/s, {wall:.1f} s all at once:")
    print(
        f"  epochs/s per session: median {statistics.median(rates):.1f}, "
        f"min {min(rates):.1f}; {frames} frames in all ({frames / wall / sessions:.1f} a "
        "second each)"
    )
    print(
        f"  server CPU with its workers: {every:.1f} s in {wall:.1f} s ({every / wall:.2f} "
        f"cores), {1000 * every / max(frames, 1):.2f} ms a frame = {frames / every:.0f} "
        f"frames/s per core; its own process {cpu:.1f} s ({cpu / wall:.2f} cores)"
    )
    print(f"  the simulated tabs (this process): {ours / wall:.2f} cores")
    if joins:
        print(
            f"  a fresh join while all play (connect, hello, Neuron numbers): p50 "
            f"{1000 * quantile(joins, 0.5):.0f} ms, p95 {1000 * quantile(joins, 0.95):.0f} ms, "
            f"max {1000 * max(joins):.0f} ms ({len(joins)} joins)"
        )
    if first_join is not None:
        print(f"  a fresh join while the {sessions} start: {1000 * first_join:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=20)
    args = parser.parse_args()
    sessions = max(1, min(args.sessions, MAX_SESSIONS))
    seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    with server_process() as (url, pid):
        asyncio.run(_run(url, pid, sessions, seconds, args.fps))


if __name__ == "__main__":
    main()
