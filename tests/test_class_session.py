"""The class session (viz.classroom.room, questions, join) over real WebSockets: uvicorn
on 127.0.0.1, a teacher and three students. Following, refusing a student's teacher
actions, join codes and their slowdown, answers counted once, the engine's number at
the reveal, the anonymous CSV."""

import contextlib
import json
import math

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("segno")
sync = pytest.importorskip("websockets.sync.client")
from conftest import serving  # noqa: E402

from viz.classroom.guard import Gate  # noqa: E402
from viz.classroom.members import clean_name  # noqa: E402
from viz.classroom.room import Room  # noqa: E402


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# The articles' 2-2-1 network (every w = [0, 1], b = 0, sigmoid, x = [2, 3], target 1),
# by hand: loss = (out - 1)², out = σ(h1·0 + h2·1), h1 = h2 = σ(3).
H = sigmoid(3.0)
OUT = sigmoid(H)
DLOSS_DW21 = 2 * (OUT - 1) * OUT * (1 - OUT) * H  # ∂loss/∂L2.n1.w1


def receive(ws, kind: str, timeout: float = 30) -> dict:
    """The next message of type ``kind`` (others are skipped)."""
    while True:
        message = json.loads(ws.recv(timeout=timeout))
        if message["type"] == kind:
            return message


def say(ws, message: dict) -> None:
    ws.send(json.dumps(message))


@contextlib.contextmanager
def classroom(room: Room):
    with serving(room=room) as url, contextlib.ExitStack() as stack:
        ws_url = url.replace("http", "ws") + "ws"

        def connect():
            ws = stack.enter_context(sync.connect(ws_url, max_size=2**22, open_timeout=30))
            receive(ws, "hello")
            return ws

        yield connect


def teacher_and_students(connect, room: Room, names=("Ada", "Grace", "Alan")):
    teacher = connect()
    say(teacher, {"type": "class.teach", "token": room.token})
    welcome = receive(teacher, "class.teaching")
    assert welcome["code"] == room.code and welcome["qr"].startswith("<svg")
    students = []
    for name in names:
        ws = connect()
        say(ws, {"type": "class.join", "code": room.code.lower(), "name": name})
        joined = receive(ws, "class.joined")
        assert joined["name"] == name and joined["id"].startswith("s")
        students.append(ws)
    return teacher, students


def test_students_follow_the_teachers_views_and_steps():
    room = Room(url="http://127.0.0.1:8000/#join=x")
    with classroom(room) as connect:
        teacher, students = teacher_and_students(connect, room)
        say(teacher, {"type": "network", "settings": {}})
        mine = receive(teacher, "network")
        for ws in students:  # the teacher's own reply, forwarded as it was
            assert receive(ws, "network") == mine
        say(teacher, {"type": "class.show", "tab": "network", "step": 5})
        for ws in students:
            assert receive(ws, "class.state") == {
                "type": "class.state",
                "tab": "network",
                "step": 5,
            }
        # one explores on their own: no more of the teacher's views, their own work
        say(students[0], {"type": "class.follow", "on": False})
        assert receive(students[0], "class.following")["on"] is False
        say(students[0], {"type": "network", "settings": {"lr": 2}})
        assert receive(students[0], "network")["settings"]["lr"] == 2
        say(teacher, {"type": "class.show", "tab": "playground", "step": None})
        assert receive(students[1], "class.state")["tab"] == "playground"
        # back to the class: the newest of each view at once
        say(students[0], {"type": "class.follow", "on": True})
        assert receive(students[0], "network") == mine
        assert receive(students[0], "class.state")["tab"] == "playground"


def test_a_students_teacher_actions_are_refused_and_change_nothing():
    room = Room(url="http://127.0.0.1:8000/#join=x")
    with classroom(room) as connect:
        teacher, (student, other, _) = teacher_and_students(connect, room)
        say(teacher, {"type": "network", "settings": {}})
        receive(teacher, "network")
        for action in (
            {"type": "class.show", "tab": "expression", "step": 1},
            {"type": "class.ask", "kind": "output", "tab": "network"},
            {"type": "class.reveal"},
            {"type": "class.close"},
            {"type": "class.export"},
            {"type": "class.teach", "token": "guess"},
        ):
            say(student, action)
            reply = receive(student, "error")
            assert reply["about"] == "class", action
        assert room.question is None and room.asked == []
        assert room.shown["tab"] == "neuron" and len(room.teachers) == 1
        # nor do a student's own views reach the others
        say(student, {"type": "network", "settings": {"lr": 3}})
        receive(student, "network")
        say(teacher, {"type": "class.show", "tab": "network", "step": 2})
        assert receive(other, "network")["settings"]["lr"] == 0.5  # the teacher's
        assert receive(other, "class.state")["step"] == 2


def test_a_wrong_join_code_is_refused_and_repeated_tries_are_slowed():
    room = Room(url="http://127.0.0.1:8000/#join=x")
    room.gate = Gate(free=2, first=60.0, longest=60.0)  # the third wrong try: a minute
    with classroom(room) as connect:
        ws = connect()
        for _ in range(2):
            say(ws, {"type": "class.join", "code": "AAAAAA"})
            assert receive(ws, "error")["message"].startswith("wrong join code")
        say(ws, {"type": "class.join", "code": "AAAAAA"})
        receive(ws, "error")
        say(ws, {"type": "class.join", "code": room.code})  # right, but too soon
        assert receive(ws, "error")["message"].startswith("too many wrong tries: wait")
        assert room.students == {}


def test_answers_count_once_per_student_and_the_reveal_is_the_engines_number():
    room = Room(url="http://127.0.0.1:8000/#join=x")
    with classroom(room) as connect:
        teacher, students = teacher_and_students(connect, room)
        say(teacher, {"type": "network", "settings": {}})
        receive(teacher, "network")
        say(teacher, {"type": "class.ask", "kind": "grad", "tab": "network", "target": "L2.n1.w1"})
        asked = receive(teacher, "class.question")["question"]
        assert asked["prompt"] == "What is ∂loss/∂L2.n1.w1?" and "truth" not in asked
        for ws in students:
            assert "truth" not in receive(ws, "class.question")["question"]
        for ws, value in zip(students, (-0.1, "−0.5", 2)):
            say(ws, {"type": "class.answer", "question": asked["id"], "value": value})
            receive(ws, "class.answered")
        say(students[0], {"type": "class.answer", "question": asked["id"], "value": -0.11})
        assert receive(students[0], "class.answered")["value"] == -0.11
        say(students[1], {"type": "class.answer", "question": asked["id"], "value": "1e999"})
        assert "finite" in receive(students[1], "error")["message"]
        while (tally := receive(teacher, "class.tally"))["count"] < 3:
            pass
        assert tally["count"] == 3 and sum(c for _, _, c in tally["bins"]) == 3
        say(teacher, {"type": "class.reveal"})
        reveal = receive(teacher, "class.reveal")
        assert reveal["truth"] == pytest.approx(DLOSS_DW21, rel=1e-12)
        assert reveal["close"] == ["Ada"] and reveal["count"] == 3
        assert receive(students[2], "class.reveal")["truth"] == reveal["truth"]
        say(students[2], {"type": "class.answer", "question": asked["id"], "value": 0})
        assert "revealed" in receive(students[2], "error")["message"]
        say(teacher, {"type": "class.export"})
        rows = receive(teacher, "class.csv")["text"].splitlines()
        assert rows[0] == "question,kind,prompt,truth,student,answer,close,seconds"
        assert [r.split(",")[4:7] for r in rows[1:]] == [
            ["s1", "-0.11", "True"],
            ["s2", "-0.5", "False"],
            ["s3", "2.0", "False"],
        ]
        assert not any(name in "".join(rows) for name in ("Ada", "Grace", "Alan"))


def test_which_weight_changes_most_and_which_sign():
    room = Room(url="http://127.0.0.1:8000/#join=x")
    with classroom(room) as connect:
        teacher, students = teacher_and_students(connect, room, names=("", "Bo"))
        say(teacher, {"type": "network", "settings": {}})
        receive(teacher, "network")
        say(teacher, {"type": "class.ask", "kind": "most", "tab": "network"})
        question = receive(students[0], "class.question")["question"]
        assert "L1.n2.w2" in question["options"]
        for ws, pick in zip(students, ("L2.n1.w1", "L1.n2.w2")):
            say(ws, {"type": "class.answer", "question": question["id"], "value": pick})
            receive(ws, "class.answered")
        say(students[1], {"type": "class.answer", "question": question["id"], "value": "rm -rf"})
        assert "one of" in receive(students[1], "error")["message"]
        say(teacher, {"type": "class.reveal"})
        reveal = receive(teacher, "class.reveal")
        assert reveal["truth"] == ["L2.n1.w1", "L2.n1.w2"]  # equal: both h = σ(3)
        assert reveal["close"] == ["student 1"] and reveal["counts"]["L1.n2.w2"] == 1
        say(teacher, {"type": "class.ask", "kind": "sign", "tab": "network", "target": "L1.n2.w1"})
        question = receive(students[1], "class.question")["question"]
        assert question["options"] == ["+", "−", "0"]
        say(teacher, {"type": "class.reveal"})
        assert receive(students[1], "class.reveal")["truth"] == "−"


def test_names_are_bounded_one_line_text():
    assert clean_name("<img src=x onerror=alert(1)>" * 3) == "<img src=x onerror=alert"
    assert clean_name("a\u0000b\u202ec\n\td") == "a b c d"
    assert clean_name(None) == "" and len(clean_name("x" * 10_000)) == 24


def test_the_race_walls_each_racers_own_playground():
    room = Room(url="http://127.0.0.1:8000/#join=x")
    with classroom(room) as connect:
        teacher, (racer, other) = teacher_and_students(connect, room, names=("Ada", "Bo"))
        say(racer, {"type": "class.racing"})
        assert receive(racer, "error")["message"] == "no race now"
        say(teacher, {"type": "class.race", "on": True})
        assert "Playground first" in receive(teacher, "error")["message"]
        say(teacher, {"type": "playground", "settings": {"dataset": "xor", "lr": 0.1}})
        receive(teacher, "playground.frame")
        say(other, {"type": "class.race", "on": False})
        assert receive(other, "error")["message"] == "only the teacher's page can do that"
        say(teacher, {"type": "class.race", "on": True})
        announced = receive(racer, "class.race")
        assert announced["on"] and announced["settings"]["dataset"] == "xor"
        say(racer, {"type": "class.follow", "on": False})
        say(racer, {"type": "class.racing"})
        assert receive(racer, "class.race")["racing"] is True
        say(racer, {"type": "playground", "settings": dict(announced["settings"], lr=0.03)})
        for _ in range(3):
            say(racer, {"type": "playground.step"})
        last = [receive(racer, "playground.frame") for _ in range(4)][-1]
        wall = receive(teacher, "class.wall", timeout=30)
        while wall["racers"][0]["epoch"] < 3:
            wall = receive(teacher, "class.wall", timeout=30)
        (entry,) = wall["racers"]
        assert entry["name"] == "Ada" and entry["test_loss"] == last["test_loss"]
        assert entry["boundary"] == last["boundary"] and wall["best"]["settings"]["lr"] == 0.03
        say(teacher, {"type": "class.race", "on": False})
        assert receive(racer, "class.race")["on"] is False


def test_the_class_command_and_how_students_reach_it():
    from viz.classroom.cli import build_parser
    from viz.classroom.join import join_url, reach

    args = build_parser().parse_args(["class", "--port", "8123", "--allow-host", "room.local"])
    assert (args.command, args.host, args.port, args.allow_host) == (
        "class",
        "127.0.0.1",
        8123,
        ["room.local"],
    )
    assert build_parser().parse_args(["serve", "--class"]).as_class is True
    assert reach("127.0.0.1").startswith("Only this computer can join")
    assert reach("0.0.0.0").startswith("Listening on 0.0.0.0: any device on this network")
    assert join_url("::1", 8000, "ABCDEF") == "http://[::1]:8000/#join=ABCDEF"
