"""Load on the live classroom: N browser tabs training the playground at once.

    python -m benchmarks.classroom_load [--sessions 30] [--seconds 10] [--fps 30]

Starts the server (uvicorn, 127.0.0.1, a free port) in this process, opens N WebSocket
sessions, each sends the Playground's default settings and presses Play, then counts the
frames each receives. Prints frames a second per session and the gap between frames
(p50 / p95), and how long a Neuron-tab message takes to answer while all of that runs.
Needs the classroom extra and ``websockets``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import threading
import time


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _session(url: str, seconds: float, fps: int, gaps: list, counts: list) -> None:
    import websockets

    async with websockets.connect(url, max_size=2**22) as ws:
        await ws.recv()  # hello
        await ws.send(json.dumps({"type": "playground", "settings": {}}))
        await ws.send(json.dumps({"type": "playground.play", "fps": fps}))
        frames, last, end = 0, None, time.perf_counter() + seconds
        while (now := time.perf_counter()) < end:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), end - now))
            except asyncio.TimeoutError:
                break
            if message["type"] == "playground.frame":
                t = time.perf_counter()
                if last is not None:
                    gaps.append(t - last)
                last, frames = t, frames + 1
        counts.append(frames / seconds)
        await ws.send(json.dumps({"type": "playground.pause"}))


async def _neuron_latency(url: str, seconds: float) -> list[float]:
    import websockets

    times = []
    async with websockets.connect(url) as ws:
        await ws.recv()
        end = time.perf_counter() + seconds
        k = 0
        while time.perf_counter() < end:
            k += 1
            t = time.perf_counter()
            await ws.send(json.dumps({"type": "neuron", "state": {"b": k % 7}}))
            while json.loads(await ws.recv())["type"] != "neuron":
                pass
            times.append(time.perf_counter() - t)
            while json.loads(await ws.recv())["type"] != "neuron.graph":
                pass
            await asyncio.sleep(0.2)
    return times


async def _run(url: str, sessions: int, seconds: float, fps: int) -> None:
    gaps: list[float] = []
    counts: list[float] = []
    tasks = [_session(url, seconds, fps, gaps, counts) for _ in range(sessions)]
    neuron = asyncio.ensure_future(_neuron_latency(url, seconds))
    await asyncio.gather(*tasks)
    times = await neuron
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000
    print(f"{sessions} playground sessions at up to {fps} frames/s for {seconds:g} s:")
    print(
        f"  frames/s per session: median {statistics.median(counts):.1f}, "
        f"min {min(counts):.1f}, total {sum(counts):.0f}"
    )
    if gaps:
        print(f"  gap between frames: p50 {q(gaps, 0.5):.0f} ms, p95 {q(gaps, 0.95):.0f} ms")
    if times:
        print(
            f"  a neuron message meanwhile: p50 {q(times, 0.5):.0f} ms, p95 {q(times, 0.95):.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=30)
    args = parser.parse_args()

    import uvicorn

    from viz.classroom.server import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        asyncio.run(_run(f"ws://127.0.0.1:{port}/ws", args.sessions, args.seconds, args.fps))
    finally:
        server.should_exit = True
        thread.join(10)


if __name__ == "__main__":
    main()
