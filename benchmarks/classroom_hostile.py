"""Hostile clients against the live classroom, while a fresh student keeps joining.

    python -m benchmarks.classroom_hostile [--seconds 20]

Starts the server (``server.config``, its default limits, 127.0.0.1) in a process of its
own and, all at once, for ``--seconds`` (at most 60):

- a page of another site after DNS rebinding (``Host: evil.example``), over HTTP and
  WebSocket, twice a second;
- a connection flood from one address: up to 1,100 WebSockets held open;
- a unique-type flood: 1,500 messages of 60 KB, each of a new ``type``, on one socket;
- heavy formulas from 10 clients (10 addresses): a legal 363-character formula with 91
  products, sent again as soon as its graph comes back;
- and a fresh student (another address) joining every half second: hello, the Neuron
  numbers, the Neuron graph.

Prints the fresh student's p50 / p95 (numbers and graph), what each hostile client got,
the server's memory (RSS, its own process) at the start, peak and end, and how many
lines the server logged. Loopback only (the clients use 127.0.0.x source addresses,
which Linux routes to this machine); bounded in count and time; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import socket
import tempfile
import time

from .classroom_load import quantile, rss_mb, server_process

HEAVY = "+".join(["a*b"] * 91)  # 363 characters, 91 products, 183 values (the limit: 200)
FLOOD = 1100
UNIQUE = 1500
MAX_SECONDS = 60.0
_SERVER = """
import sys, uvicorn
from viz.classroom.server import config
uvicorn.Server(config("127.0.0.1", int(sys.argv[1]))).run()
"""


def _socket(port: int, source: str) -> socket.socket:
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    return s


async def _connect(port: int, source: str, host: str | None = None, **options):  # noqa: ANN202
    import websockets

    host = host or f"127.0.0.1:{port}"
    sock = await asyncio.to_thread(_socket, port, source)
    return await websockets.connect(
        f"ws://{host}/ws", sock=sock, max_size=2**22, open_timeout=30, **options
    )


async def _next(ws, kinds: tuple[str, ...], timeout: float = 60) -> dict:  # noqa: ANN001
    end = time.perf_counter() + timeout
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), end - time.perf_counter()))
        if message["type"] in kinds:
            return message


async def rebinding(port: int, end: float, seen: dict) -> None:
    from websockets.exceptions import InvalidStatus

    while time.perf_counter() < end:
        try:
            ws = await _connect(
                port, "127.0.0.3", f"evil.example:{port}", origin=f"http://evil.example:{port}"
            )
            seen["websocket opened"] = seen.get("websocket opened", 0) + 1
            await ws.close()
        except InvalidStatus as err:
            key = f"websocket refused ({err.response.status_code})"
            seen[key] = seen.get(key, 0) + 1
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET / HTTP/1.1\r\nHost: evil.example:{port}\r\n\r\n".encode())
        status = (await reader.readline()).decode().split(" ")[1]
        writer.close()
        seen[f"GET / {status}"] = seen.get(f"GET / {status}", 0) + 1
        await asyncio.sleep(0.5)


async def connection_flood(port: int, end: float, seen: dict) -> None:
    held = []

    async def one() -> None:
        try:
            ws = await _connect(port, "127.0.0.1")
            first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        except (OSError, asyncio.TimeoutError, Exception) as err:  # noqa: BLE001
            seen[type(err).__name__] = seen.get(type(err).__name__, 0) + 1
            return
        key = "accepted" if first["type"] == "hello" else f"refused: {first['message'][:40]}…"
        seen[key] = seen.get(key, 0) + 1
        held.append(ws)

    try:
        for start in range(0, FLOOD, 100):
            if time.perf_counter() >= end:
                break
            await asyncio.gather(*(one() for _ in range(min(100, FLOOD - start))))
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
    finally:
        await asyncio.gather(*(ws.close() for ws in held), return_exceptions=True)


async def unique_types(port: int, end: float, seen: dict) -> None:
    ws = await _connect(port, "127.0.0.4")
    await ws.recv()
    try:
        for k in range(UNIQUE):
            if time.perf_counter() >= end:
                break
            await ws.send(json.dumps({"type": f"{k:05d}" + "t" * 60_000}))
        seen["sent"] = k + 1
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                reply = json.loads(await asyncio.wait_for(ws.recv(), 2))
                key = re.sub(r"'[^']*'", "'…'", reply["message"])[:50]
                seen[key] = seen.get(key, 0) + 1
    finally:
        await ws.close()


async def heavy_formulas(port: int, client: int, end: float, seen: dict) -> None:
    ws = await _connect(port, f"127.0.0.{10 + client}")
    await ws.recv()
    try:
        while time.perf_counter() < end:
            await ws.send(json.dumps({"type": "expression", "text": HEAVY, "variables": "a=1 b=2"}))
            reply = await _next(ws, ("expression", "error"), timeout=end - time.perf_counter() + 60)
            seen[reply["type"]] = seen.get(reply["type"], 0) + 1
    except asyncio.TimeoutError:
        pass
    finally:
        await ws.close()


async def fresh_student(port: int, end: float, numbers: list, graphs: list, failed: list) -> None:
    k = 0
    while time.perf_counter() < end:
        k += 1
        start = time.perf_counter()
        try:
            ws = await _connect(port, "127.0.0.2")
            await _next(ws, ("hello",), 30)
            await ws.send(json.dumps({"type": "neuron", "state": {"b": k % 7}}))
            await _next(ws, ("neuron",), 30)
            numbers.append(time.perf_counter() - start)
            await _next(ws, ("neuron.graph",), 60)
            graphs.append(time.perf_counter() - start)
            await ws.close()
        except (OSError, asyncio.TimeoutError) as err:
            failed.append(repr(err))
        await asyncio.sleep(max(0.0, 0.5 - (time.perf_counter() - start)))


async def memory(pid: int, end: float, samples: list) -> None:
    while time.perf_counter() < end:
        samples.append(rss_mb(pid))
        await asyncio.sleep(1.0)
    samples.append(rss_mb(pid))


async def _run(port: int, pid: int, seconds: float) -> None:
    await asyncio.sleep(3)  # the layout workers start (each compiles Graphviz once)
    rss: list[float] = []
    base = rss_mb(pid)
    numbers: list[float] = []
    graphs: list[float] = []
    failed: list[str] = []
    seen: dict[str, dict] = {k: {} for k in ("rebinding", "flood", "unique types", "heavy")}
    end = time.perf_counter() + seconds
    await asyncio.gather(
        rebinding(port, end, seen["rebinding"]),
        connection_flood(port, end, seen["flood"]),
        unique_types(port, end, seen["unique types"]),
        *(heavy_formulas(port, c, end, seen["heavy"]) for c in range(10)),
        fresh_student(port, end, numbers, graphs, failed),
        memory(pid, end, rss),
    )
    await asyncio.sleep(2)
    after = rss_mb(pid)
    print(f"hostile clients for {seconds:g} s, and a fresh student joining every 0.5 s:")
    for name, counts in seen.items():
        print(f"  {name}: " + ", ".join(f"{k} x{v}" for k, v in counts.items()))
    ms = lambda xs, p: f"{1000 * quantile(xs, p):.0f} ms"  # noqa: E731
    print(
        f"  fresh student, to its numbers: p50 {ms(numbers, 0.5)}, p95 {ms(numbers, 0.95)}; "
        f"to its graph: p50 {ms(graphs, 0.5)}, p95 {ms(graphs, 0.95)} "
        f"({len(numbers)} joins, {len(failed)} failed{': ' + failed[0] if failed else ''})"
    )
    print(
        f"  server RSS: {base:.0f} MB before, peak {max(rss):.0f} MB, {after:.0f} MB after "
        "(its own process; the layout workers are others)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    seconds = max(2.0, min(args.seconds, MAX_SECONDS))
    with tempfile.TemporaryFile("w+") as log:
        with server_process(_SERVER, stderr=log) as (url, pid):
            port = int(url.split(":")[2].split("/")[0])
            asyncio.run(_run(port, pid, seconds))
        log.seek(0)
        lines = log.read().splitlines()
    print(f"  server log: {len(lines)} lines")
    for line in lines[:5]:
        print(f"    {line[:160]}")


if __name__ == "__main__":
    main()
