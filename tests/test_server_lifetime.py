"""No worker process outlives the classroom server: ``backproplab serve`` runs as a real
subprocess on 127.0.0.1, a WebSocket makes it lay out a graph and step a Playground (so
both pools of worker processes are busy), then the server is stopped as a teacher's
terminal or systemd stops it (SIGTERM) or killed outright (SIGKILL); every process it
started must be gone within a deadline. Processes are read from /proc (Linux only)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
ws_client = pytest.importorskip("websockets.sync.client")
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

from viz.classroom.layouts import default_workers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 10.0  # seconds for the server to start, or for its workers to end


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a live process, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name in (...) may hold spaces
    return fields[0], int(fields[1]), int(fields[19])


def descendants(pid: int) -> dict[int, int]:
    """Every process below ``pid``: pid -> start time (a reused pid is not the same)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            parents[int(entry.name)] = stat[1:]
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, start) in parents.items():
            if ppid == parent and child not in found:
                found[child] = start
                frontier.append(child)
    return found


def alive(processes: dict[int, int]) -> list[int]:
    """Those of ``processes`` still running (a zombie has ended: only its entry is left)."""
    running = []
    for pid, start in processes.items():
        stat = _stat(pid)
        if stat and stat[0] != "Z" and stat[2] == start:
            running.append(pid)
    return running


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _talk(ws, message: dict, wanted: str) -> dict:
    ws.send(json.dumps(message))
    while (reply := json.loads(ws.recv(timeout=DEADLINE)))["type"] != wanted:
        assert reply["type"] != "error", reply
    return reply


@pytest.fixture
def server():
    """``python -m viz.classroom serve`` on a free port, its layout and training workers
    at work; every process it started is killed afterwards whatever the test did."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "viz.classroom", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: dict[int, int] = {}
    try:
        deadline = time.monotonic() + DEADLINE
        while True:
            assert process.poll() is None, "the server ended at its start"
            try:
                ws = ws_client.connect(f"ws://127.0.0.1:{port}/ws", open_timeout=DEADLINE)
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        with ws:
            assert json.loads(ws.recv(timeout=DEADLINE))["type"] == "hello"
            assert "<svg" in _talk(ws, {"type": "neuron", "state": {}}, "neuron.graph")["svg"]
            assert _talk(ws, {"type": "playground"}, "playground.frame")["epoch"] == 0
            assert _talk(ws, {"type": "playground.step"}, "playground.frame")["epoch"] == 1
        # a layout pool and a training pool, each of default_workers(), and the
        # multiprocessing resource tracker
        while len(workers := descendants(process.pid)) < 2 * default_workers() + 1:
            assert time.monotonic() < deadline, f"only {len(workers)} workers started"
            time.sleep(0.1)
        yield process, workers
    finally:
        process.kill()
        process.wait()
        for pid in alive(workers):
            os.kill(pid, signal.SIGKILL)


def _assert_all_end(workers: dict[int, int]) -> None:
    deadline = time.monotonic() + DEADLINE
    while running := alive(workers):
        assert time.monotonic() < deadline, f"{len(running)} of {len(workers)} still running"
        time.sleep(0.1)


def test_sigterm_ends_the_server_and_every_worker(server):
    process, workers = server
    process.send_signal(signal.SIGTERM)
    process.wait(DEADLINE)
    _assert_all_end(workers)


def test_sigkill_of_the_server_ends_every_worker(server):
    process, workers = server
    process.kill()
    process.wait(DEADLINE)
    _assert_all_end(workers)
