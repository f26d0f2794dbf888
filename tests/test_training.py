"""Playground runs in worker processes (viz/classroom/training.py): the same numbers as a
Trainer in the server's process, the same one-line errors, no worker outliving its
server, and a fresh student answered while every training process is frozen."""

import gc
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("pydantic")

from viz.classroom.sessions import Session  # noqa: E402
from viz.classroom.training import TrainingPool  # noqa: E402


@pytest.fixture(scope="module")
def pool():
    pool = TrainingPool(workers=2)
    pool.warm()
    yield pool
    pool.close()


def frames(session: Session) -> list[dict]:
    """Every reply of a Playground lesson: a run, steps, live settings, a typed-in
    weight, a point's walk, bad messages."""
    messages = [
        {"type": "playground", "settings": {"dataset": "xor", "layers": [3, 2], "seed": 4}},
        {"type": "playground.step"},
        {"type": "playground.step"},
        {
            "type": "playground",
            "settings": {
                "dataset": "xor",
                "layers": [3, 2],
                "seed": 4,
                "lr": 0.3,
                "reg": "L2",
                "rate": 0.01,
            },
        },
        {"type": "playground.parameter", "kind": "w", "layer": 1, "source": 2, "value": 0.5},
        {"type": "playground.parameter", "kind": "b", "layer": 7},
        {"type": "playground.step"},
        {"type": "playground.point", "index": 3},
        {"type": "playground.point", "index": 10**9},
        {"type": "playground", "settings": {"layers": [9]}},
    ]
    replies = [r for m in messages for r in session.handle(m)]
    return replies + [session.tick()]


def test_a_run_in_a_worker_gives_the_numbers_and_errors_of_a_run_here(pool):
    here, there = frames(Session()), frames(Session(pool.trainer))
    assert json.dumps(there) == json.dumps(here)  # bit for bit, errors word for word
    assert [r["type"] for r in there].count("error") == 3
    assert there[-1]["epoch"] == 4 and there[-1]["layers"][0]["weights"]


def test_runs_share_the_workers_and_forgotten_runs_are_freed(pool):
    gc.collect()  # the sessions of the test before (a Session is a reference cycle)
    assert [w.runs for w in pool._slots] == [0, 0]
    runs = [pool.trainer({"layers": [2], "seed": k}) for k in range(4)]
    assert sorted(w.runs for w in pool._slots) == [2, 2]
    assert runs[3].step()["epoch"] == 1 and runs[3].settings["seed"] == 3
    del runs
    gc.collect()
    assert sorted(w.runs for w in pool._slots) == [0, 0]


def test_a_stopped_worker_asks_for_a_reset_and_a_reset_trains_again():
    pool = TrainingPool(workers=1)
    try:
        session = Session(pool.trainer)
        session.handle({"type": "playground", "settings": {}})
        pool._slots[0].process.kill()
        pool._slots[0].process.join(10)
        reply = session.handle({"type": "playground.step"})[0]
        assert reply["message"] == (
            "this Playground run is gone (its training process restarted); press Reset"
        )
        reset, frame = session.handle({"type": "playground", "settings": {}, "reset": True})
        assert reset["type"] == "playground.reset" and frame["epoch"] == 0
        assert session.handle({"type": "playground.step"})[0]["epoch"] == 1
    finally:
        pool.close()


_KILLED_SERVER = """
import os, signal
from viz.classroom.training import TrainingPool
pool = TrainingPool(workers=2)
pool.warm()
print(*(w.process.pid for w in pool._slots), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_no_worker_outlives_its_server_even_a_killed_one():
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_SERVER], capture_output=True, text=True, timeout=60
    )
    assert child.returncode == -signal.SIGKILL
    pids = [int(p) for p in child.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 30  # a bound on the wait, not a timing assert
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except OSError:
        return False


def test_a_fresh_student_is_answered_while_every_training_process_is_frozen():
    """A join never waits behind frames: with the training processes stopped (SIGSTOP)
    in the middle of a Step, a new tab still gets its hello and Neuron numbers; the
    Step's frame comes once they go on."""
    pytest.importorskip("uvicorn")
    sync = pytest.importorskip("websockets.sync.client")
    from conftest import serving

    from viz.classroom.training import shared_pool

    with serving() as url, sync.connect(url.replace("http", "ws") + "ws") as player:
        assert json.loads(player.recv(timeout=30))["type"] == "hello"
        player.send(json.dumps({"type": "playground", "settings": {}}))
        assert json.loads(player.recv(timeout=60))["type"] == "playground.reset"
        assert json.loads(player.recv(timeout=60))["epoch"] == 0
        workers = [w.process.pid for w in shared_pool()._slots if w is not None]
        assert workers
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        try:
            player.send(json.dumps({"type": "playground.step"}))
            with sync.connect(url.replace("http", "ws") + "ws") as fresh:
                assert json.loads(fresh.recv(timeout=30))["type"] == "hello"
                fresh.send(json.dumps({"type": "neuron", "state": {}}))
                neuron = json.loads(fresh.recv(timeout=30))
                assert neuron["type"] == "neuron" and np.isclose(neuron["out"], 0.9990889488055994)
            with pytest.raises(TimeoutError):  # the Step waits for its frozen worker
                player.recv(timeout=0.2)
        finally:
            for pid in workers:
                os.kill(pid, signal.SIGCONT)
        assert json.loads(player.recv(timeout=60))["epoch"] == 1


def test_a_play_frame_that_catches_up_shows_the_same_run_as_one_frame_an_epoch(pool):
    """A busy server's Play trains the epochs it owes before one frame (server.epochs_owed):
    the run is the same, bit for bit, as with a frame for every epoch."""
    settings = {"type": "playground", "settings": {"dataset": "spiral", "layers": [5, 3]}}
    each, caught_up = Session(), Session(pool.trainer)
    each.handle(settings)
    caught_up.handle(settings)
    frames = [each.tick() for _ in range(5)]
    late = [caught_up.tick(2), caught_up.tick(3)]
    assert [f["epoch"] for f in late] == [2, 5]
    assert json.dumps(late) == json.dumps([frames[1], frames[4]])
