"""A class session under load: a teacher and N students following and answering.

    python -m benchmarks.classroom_class [--students 60] [--steps 20]

Starts ``backproplab class``'s server (a Room, the default limits) in a process of its
own on 127.0.0.1; each student connects from its own loopback address (127.0.1.k, as
devices of a room would) and joins. The teacher then shows ``--steps`` steps, one every
half second: the fan-out time is from the teacher's message to each student's screen
receiving it. Then the teacher asks for ∂loss/∂w, every student answers: the time to
each student's receipt and until the teacher's tally counts them all. Last the teacher
plays the Playground for 5 s: the frames a second each student receives. Bounded (at most
200 students, 100 steps), loopback only, stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time

from .classroom_hostile import _connect, _next
from .classroom_load import cpu_seconds, quantile, server_process

_SERVER = """
import sys, uvicorn
from viz.classroom.room import Room
from viz.classroom.server import config
room = Room(code=sys.argv[2], token=sys.argv[3])
uvicorn.Server(config("127.0.0.1", int(sys.argv[1]), room=room)).run()
"""


async def _student(port: int, k: int, code: str, record: dict) -> None:
    ws = await _connect(port, f"127.0.1.{k + 1}")
    try:
        await _next(ws, ("hello",))
        await ws.send(json.dumps({"type": "class.join", "code": code, "name": f"s{k}"}))
        await _next(ws, ("class.joined",))
        record["joined"] += 1
        frames = 0
        while True:
            message = json.loads(await ws.recv())
            now = time.perf_counter()
            if message["type"] == "class.state" and message["step"] is not None:
                record["steps"].append((message["step"], now))
            elif message["type"] == "class.question":
                question = message["question"]
                await ws.send(
                    json.dumps({"type": "class.answer", "question": question["id"], "value": -0.1})
                )
                sent = time.perf_counter()
                await _next(ws, ("class.answered",))
                record["answered"].append(time.perf_counter() - sent)
            elif message["type"] == "playground.frame":
                frames += 1
                record["frames"][k] = frames
    except (OSError, asyncio.CancelledError):
        return
    finally:
        await ws.close()


async def _run(port: int, pid: int, students: int, steps: int, code: str, token: str) -> None:
    record = {"joined": 0, "steps": [], "answered": [], "frames": {}}
    tasks = [asyncio.ensure_future(_student(port, k, code, record)) for k in range(students)]
    teacher = await _connect(port, "127.0.0.1")
    await _next(teacher, ("hello",))
    await teacher.send(json.dumps({"type": "class.teach", "token": token}))
    await _next(teacher, ("class.teaching",))
    start = time.perf_counter()
    while record["joined"] < students and time.perf_counter() - start < 120:
        await asyncio.sleep(0.1)
    joined = time.perf_counter() - start
    await teacher.send(json.dumps({"type": "network", "settings": {}}))
    await _next(teacher, ("network",))
    sent: dict[int, float] = {}
    cpu0 = cpu_seconds(pid)
    for step in range(steps):
        sent[step] = time.perf_counter()
        await teacher.send(json.dumps({"type": "class.show", "tab": "network", "step": step}))
        await asyncio.sleep(0.5)
    fanout = [t - sent[step] for step, t in record["steps"] if step in sent]
    cpu_steps = cpu_seconds(pid) - cpu0
    ask = {"type": "class.ask", "kind": "grad", "tab": "network", "target": "L2.n1.w1"}
    asked = time.perf_counter()
    await teacher.send(json.dumps(ask))
    while (tally := await _next(teacher, ("class.tally",)))["count"] < students:
        if time.perf_counter() - asked > 60:
            break
    all_counted = time.perf_counter() - asked
    await teacher.send(json.dumps({"type": "playground", "settings": {}}))
    await teacher.send(json.dumps({"type": "playground.play", "fps": 20}))
    await asyncio.sleep(5)
    await teacher.send(json.dumps({"type": "playground.pause"}))
    per_student = [n / 5 for n in record["frames"].values()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await teacher.close()
    ms = lambda xs, p: f"{1000 * quantile(xs, p):.0f} ms"  # noqa: E731
    print(f"{students} students ({record['joined']} joined in {joined:.1f} s), {steps} steps:")
    print(
        f"  fan-out of a step to every screen: p50 {ms(fanout, 0.5)}, p95 {ms(fanout, 0.95)}, "
        f"max {ms(fanout, 1.0)} ({len(fanout)} deliveries; server CPU {cpu_steps:.2f} s)"
    )
    print(
        f"  an answer to its receipt: p50 {ms(record['answered'], 0.5)}, p95 "
        f"{ms(record['answered'], 0.95)}; the tally counted {tally['count']} in {all_counted:.2f} s"
    )
    if per_student:
        print(
            f"  the teacher's Playground playing at 20 epochs/s: each student receives median "
            f"{statistics.median(per_student):.1f}, min {min(per_student):.1f} frames/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    students = max(1, min(args.students, 200))
    steps = max(1, min(args.steps, 100))
    code, token = "BENCH2", secrets.token_urlsafe(16)
    script = _SERVER.replace("sys.argv[2]", repr(code)).replace("sys.argv[3]", repr(token))
    with server_process(script) as (url, pid):
        port = int(url.split(":")[2].split("/")[0])
        asyncio.run(_run(port, pid, students, steps, code, token))


if __name__ == "__main__":
    main()
