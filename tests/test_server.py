"""The live classroom without a browser: the session logic as plain Python, then the
Starlette app through its TestClient (HTTP, and each tab's WebSocket messages, bad input
and limits). Skips without the ``classroom`` extra."""

import json
import re
import warnings

import numpy as np
import pytest
from conftest import scene_values

pytest.importorskip("starlette")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # starlette would rather have httpx2; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from autograd import Value  # noqa: E402
from nn import MLP, short_name  # noqa: E402
from viz.classroom import sessions  # noqa: E402
from viz.classroom.lessons import NetworkLesson, check_network  # noqa: E402
from viz.classroom.server import STATIC, create_app  # noqa: E402
from viz.classroom.sessions import MAX_MESSAGE, Session, decode, encode  # noqa: E402

SEED_OUT = 0.9990889488055994
NETWORK_OUT = 0.7216325609518421


@pytest.fixture
def client():
    with TestClient(create_app(hosts=["testserver"])) as c:  # TestClient's Host
        yield c


def talk(ws, message):
    """Send one message and return the replies up to the one that answers it."""
    ws.send_text(json.dumps(message) if isinstance(message, dict) else message)
    return ws.receive_json()


# ------------------------------------------------------------------ sessions, no server
def test_state_round_trips_through_json_and_bad_input_is_one_error():
    s = Session()
    view = s.handle({"type": "neuron", "state": {}})[0]
    again = s.handle(json.loads(json.dumps({"type": "neuron", "state": view["state"]})))[0]
    assert again["out"] == view["out"] == SEED_OUT
    for bad in (
        {"type": "neuron", "state": {"x": [1] * 9, "w": [1] * 9}},
        {"type": "neuron", "state": {"b": "4; import os"}},
        {"type": "neuron", "state": {"b": 1e308}},
        {"type": "neuron", "state": {"x": [1, 2], "w": [1]}},
        {"type": "neuron", "state": {"activation": "__import__"}},
        {"type": "neuron", "state": []},
        {"type": "network", "settings": {"sizes": [2, 9, 1]}},
        {"type": "network", "settings": {"sizes": [2] + [2] * 20}},
        {"type": "playground", "settings": {"layers": [9]}},
        {"type": "playground", "settings": {"noise": 80}},
        {"type": "playground", "settings": {"lr": float("nan")}},
        {"type": "playground", "settings": {"features": ["x", "__class__"]}},
        {"type": "playground.step"},
        {"type": "network.update"},
    ):
        replies = s.handle(bad)
        assert [r["type"] for r in replies] == ["error"], bad
        assert replies[0]["message"]
    assert s.handle({"type": "neuron", "state": {}})[0]["out"] == SEED_OUT  # still working


def test_decode_refuses_oversized_and_malformed_messages_and_encode_has_no_nan():
    with pytest.raises(sessions.SettingsError, match="too large"):
        decode("x" * (MAX_MESSAGE + 1))
    for text in ("{", "[1, 2]", '{"no": "type"}', "[" * 100_000):
        with pytest.raises(sessions.SettingsError):
            decode(text)
    assert json.loads(encode({"a": float("nan"), "b": [float("inf"), 1.0]})) == {
        "a": None,
        "b": [None, 1.0],
    }


def test_neuron_numbers_are_the_engines():
    view, graph = Session().handle(
        {"type": "neuron", "state": {"x": [2, -1], "w": [0.5, 3], "b": 1}}
    )
    x = [Value(2.0), Value(-1.0)]
    w = [Value(0.5), Value(3.0)]
    out = (x[0] * w[0] + x[1] * w[1] + 1.0).sigmoid()
    loss = (out - 0.0) ** 2  # what "Learn" minimises, against the target 0
    loss.backward()
    assert view["out"] == out.data and view["loss"] == loss.data
    assert view["values"]["w2"]["grad"] == pytest.approx(w[1].grad, rel=1e-15)
    assert view["formula"] == f"sigmoid(0.5·2 + 3·(-1) + 1) = {out.data:.4g}"
    assert graph["type"] == "neuron.graph"
    assert graph["svg"].startswith("<svg") and 'id="v0"' in graph["svg"]
    assert {"data": "0.5", "grad": "?", "fill": "#ffffff"} in view["scene"]["initial"].values()
    # the walk reveals the same numbers, named as the drawing names them
    walk = scene_values(view["scene"])
    assert walk["w1"]["grad"]["text"] == f"{w[0].grad:.4g}"
    assert walk["loss"]["data"]["value"] == loss.data and walk["y"]["data"]["value"] == 0.0
    assert walk["w2"]["after"]["value"] == 3.0 - 1.0 * w[1].grad  # the update, lr = 1


def test_one_step_of_gradient_descent_lowers_the_loss():
    view = Session().handle({"type": "neuron.step", "state": {"target": 0.0, "lr": 10}})[0]
    step = view["step"]
    assert step["loss_after"] < step["loss_before"]
    b = Value(4.0)
    loss = (Value(2.0) * 0.0 + Value(3.0) * 1.0 + b).sigmoid() ** 2
    loss.backward()
    assert view["state"]["b"] == 4.0 - 10 * b.grad


def test_expression_gives_graph_gradients_and_steps_and_never_runs_the_text():
    s = Session()
    view = s.handle(
        {"type": "expression", "text": "tanh(a*b + c)", "variables": "a=2, b=-3, c=10"}
    )[0]
    assert view["out"] == pytest.approx(np.tanh(4.0))
    walk = scene_values(view["scene"])
    assert walk["c"]["grad"]["value"] == pytest.approx(1 - np.tanh(4.0) ** 2)
    steps = view["scene"]["steps"]
    assert steps[0]["phase"] == "start" and steps[-1]["title"] == "Backward: done"
    for text in ("__import__('os').system('true')", "a.__class__", "(lambda: 1)()", "a" * 2000):
        reply = s.handle({"type": "expression", "text": text, "variables": "a=1"})[0]
        assert reply["type"] == "error"
    big = "+".join(["a*a"] * 150)
    assert (
        "at most" in s.handle({"type": "expression", "text": big, "variables": "a=1"})[0]["message"]
    )


def test_presenter_mode_asks_for_the_projector_themes_drawings():
    from viz.theme import get_theme

    s = Session()
    expression = {"type": "expression", "text": "a*b", "variables": "a=2, b=3"}
    sizes = {}
    for theme in ("default", "projector"):
        svg = s.handle({**expression, "theme": theme})[0]["svg"]
        sizes[theme] = {float(f) for f in re.findall(r'font-size="([\d.]+)"', svg)}
        graph = s.handle({"type": "neuron", "state": {}, "theme": theme})[1]
        assert f'font-size="{get_theme(theme).font:.2f}"' in graph["svg"]
    assert max(sizes["projector"]) == get_theme("projector").font > max(sizes["default"])
    for message in (
        expression,
        {"type": "neuron", "state": {}},
        {"type": "neuron.step", "state": {}},
    ):
        reply = s.handle({**message, "theme": "<huge>"})[0]
        assert reply["type"] == "error"
        assert reply["message"] == "theme must be one of default, projector, got '<huge>'"


def test_a_playground_point_walks_through_the_network_as_it_is():
    s = Session()
    assert s.handle({"type": "playground.point", "index": 0})[0]["type"] == "error"
    s.handle({"type": "playground", "settings": {"layers": [2]}})
    s.handle({"type": "playground.step"})
    walk = s.handle({"type": "playground.point", "index": 4})[0]
    assert walk["type"] == "playground.point" and walk["index"] == 4
    assert [len(col) for col in walk["network"]["layers"]] == [2, 1]
    assert walk["scene"]["steps"][-1]["phase"] == "update"
    json.dumps(sessions._finite(walk), allow_nan=False)
    bad = s.handle({"type": "playground.point", "index": 10**9})[0]
    assert bad["type"] == "error" and "training point" in bad["message"]


def test_the_neurons_sum_is_z_as_the_lessons_call_it():
    view = Session().handle({"type": "neuron", "state": {}})[0]
    names = {n["name"] for n in view["scene"]["nodes"].values()}
    assert {"x1", "x2", "w1", "w2", "b", "z", "out", "loss"} <= names and "n" not in names
    assert any("out = sigmoid(z) = sigmoid(7)" in step["text"] for step in view["scene"]["steps"])


def test_network_steps_and_gradients_come_from_trace_backward():
    lesson = NetworkLesson(check_network({}))
    view = lesson.view()
    assert view["output"] == [NETWORK_OUT]
    # the engine, independently: the scalar MLP with the articles' weights
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid")
    for layer in model.layers:
        for neuron in layer.neurons:
            neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.0, 1.0, 0.0
    out = model([2.0, 3.0])
    assert out.data == NETWORK_OUT
    loss = (out - 1.0) ** 2
    loss.backward()
    walk = scene_values(view["scene"])
    for name, p in model.named_parameters():
        assert walk[short_name(name)]["grad"]["value"] == p.grad
    steps = view["scene"]["steps"]
    phases = [s["phase"] for s in steps]
    assert phases[:6] == ["start", "forward", "forward", "forward", "loss", "loss"]
    assert phases[-1] == "update" and phases.count("backward") == 1 + 16 + 1  # seed, lines, done
    nodes = view["scene"]["nodes"]
    w2 = next(s for s in steps if s["input"] and nodes[s["input"]]["name"] == "L2.n1.w2")
    assert re.search(
        r"L2\.n1\.w2\.grad \+= L1\.n2 × L2\.n1\.z\.grad = 0\.9526 × -0\.1118", w2["text"]
    )
    before = view["loss"]
    lesson.update()
    after = lesson.view()
    assert after["loss"] < before and after["updates"] == 1
    for name, p in lesson.model.named_parameters():  # the walk's update is nn.SGD's, exactly
        assert walk[short_name(name)]["after"]["value"] == p.data


def test_network_sizes_are_editable_and_bounded():
    s = Session()
    view = s.handle({"type": "network", "settings": {"sizes": [3, 8, 8, 2], "init": "random"}})[0]
    assert [len(layer) for layer in view["network"]["layers"]] == [8, 8, 2]
    assert len(view["settings"]["x"]) == 3 and len(view["settings"]["target"]) == 2
    assert s.handle({"type": "network", "settings": {"sizes": [1]}})[0]["type"] == "error"


def test_playground_trains_and_reaches_90_percent_on_circle():
    s = Session()
    reset, frame = s.handle({"type": "playground", "settings": {"dataset": "circle"}})
    assert reset["type"] == "playground.reset" and len(reset["train"]) == 250
    assert frame["epoch"] == 0 and len(frame["layers"]) == 3
    for _ in range(60):
        frame = s.tick()
        if frame["test_accuracy"] >= 0.9:
            break
    assert frame["test_accuracy"] >= 0.9, frame["epoch"]
    layer = frame["layers"][0]
    assert np.shape(layer["weights"]) == np.shape(layer["grads"]) == (2, 4)
    assert len(layer["heat"]) == 4


def test_the_same_settings_reproduce_the_same_run():
    settings = {"dataset": "xor", "noise": 20, "layers": [3], "reg": "L1", "rate": 0.001}
    runs = []
    for _ in range(2):
        s = Session()
        reset, _ = s.handle({"type": "playground", "settings": json.loads(json.dumps(settings))})
        runs.append((reset["train"], [s.tick() for _ in range(3)]))
    assert runs[0] == runs[1]


def test_beyond_the_playground_a_three_class_spiral_learns_with_softmax():
    s = Session()
    settings = {"dataset": "spiral3", "layers": [8, 8], "lr": 0.3, "activation": "relu"}
    reset, frame = s.handle({"type": "playground", "settings": settings})
    assert {row[2] for row in reset["train"]} == {0.0, 1.0, 2.0}
    assert np.shape(frame["layers"][-1]["weights"]) == (8, 3)
    for _ in range(60):
        frame = s.tick()
        if frame["test_accuracy"] >= 0.9:
            break
    assert frame["test_accuracy"] >= 0.9, frame["epoch"]
    assert frame["boundary_classes"]


def test_a_csv_upload_trains_and_bad_files_get_a_clear_message():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)) * [100, 0.01] + [1000, 5]  # any units: scaled to the plane
    rows = [f"{a},{b},{'yes' if a > 1000 else 'no'}" for a, b in X]
    s = Session()
    bad = s.handle({"type": "playground.csv", "text": "x,y,label\n" + "\n".join(rows)})[0]
    assert bad["type"] == "error" and "row 2: 'yes' is not a number" in bad["message"]
    rows = [f"{a},{b},{int(a > 1000)}" for a, b in X]
    reset, frame = s.handle({"type": "playground.csv", "text": "x,y,label\n" + "\n".join(rows)})
    assert (
        reset["settings"]["dataset"] == "csv" and reset["settings"]["problem"] == "classification"
    )
    points = np.array(reset["train"] + reset["test"])
    assert points[:, :2].min() >= -5 and points[:, :2].max() <= 5
    assert set(points[:, 2]) == {-1.0, 1.0}
    for _ in range(30):
        frame = s.tick()
    assert frame["test_accuracy"] >= 0.9
    # the upload stays for new settings; the URL's dataset=csv needs one in this session
    new_run = {"type": "playground", "settings": {"dataset": "csv", "seed": 2}}
    assert s.handle(new_run)[0]["type"] == "playground.reset"
    fresh = Session().handle({"type": "playground", "settings": {"dataset": "csv"}})[0]
    assert "upload" in fresh["message"]
    for text, words in (
        ("1,2\n3,4", "3: x, y, label"),
        ("\n".join(["1,2,3"] * 2001), "more than 2000 rows"),
        ("1,2,1\n" * 20, "only one value"),
        ("1,2,nan\n" * 20, "finite"),
    ):
        reply = s.handle({"type": "playground.csv", "text": text})[0]
        assert reply["type"] == "error" and words in reply["message"], (words, reply)
    assert s.tick()["epoch"] == 1  # the last good run is still there


def test_a_diverging_playground_says_so_and_the_session_keeps_working():
    s = Session()
    s.handle(
        {
            "type": "playground",
            "settings": {"dataset": "plane", "lr": 10, "activation": "relu", "layers": [8, 8, 8]},
        }
    )
    for _ in range(5):
        frame = s.tick()
        if frame["diverged"]:
            break
    assert "diverged" in frame["diverged"]
    assert encode(frame)  # NaN weights still make valid JSON
    assert s.handle({"type": "playground", "settings": {}})[1]["diverged"] is None


# ------------------------------------------------------------------ the app over HTTP
def test_page_and_assets_are_served_from_package_data_with_no_cdn(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for path in STATIC.iterdir():
        response = client.get(f"/static/{path.name}")
        assert response.status_code == 200, path.name
        assert not re.search(
            r"(src|href)=\"https?:|from \"https?:|import\(\"https?:", response.text
        )
        assert "innerHTML" not in response.text and "eval(" not in response.text
    assert client.get("/static/../server.py").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404


# ------------------------------------------------------------------ the app over WebSocket
def test_each_tab_over_the_websocket(client):
    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        activations = hello["tabs"]["neuron"]["properties"]["activation"]["enum"]
        assert hello["type"] == "hello" and "sigmoid" in activations
        assert talk(ws, {"type": "neuron", "state": {}})["out"] == SEED_OUT
        assert "data 0.9991" in ws.receive_json()["svg"]
        moved = talk(ws, {"type": "neuron", "state": {"w": [0, 2]}})
        assert moved["out"] == Value(10.0).sigmoid().data
        assert ws.receive_json()["type"] == "neuron.graph"
        step = talk(ws, {"type": "neuron.step", "state": {}})["step"]
        assert step["loss_after"] < step["loss_before"]
        assert ws.receive_json()["type"] == "neuron.graph"
        assert talk(ws, {"type": "expression", "text": "a*b", "variables": "a=2 b=3"})["out"] == 6
        assert talk(ws, {"type": "network", "settings": {}})["output"] == [NETWORK_OUT]
        assert talk(ws, {"type": "network.update"})["updates"] == 1
        assert talk(ws, {"type": "playground", "settings": {}})["type"] == "playground.reset"
        assert ws.receive_json()["epoch"] == 0
        assert talk(ws, {"type": "playground.step"})["epoch"] == 1
        assert talk(ws, {"type": "playground.play", "fps": 30}) == {
            "type": "playground.playing",
            "playing": True,
        }
        epochs = [ws.receive_json()["epoch"] for _ in range(3)]
        assert epochs == [2, 3, 4]
        ws.send_json({"type": "playground.pause"})
        while (m := ws.receive_json())["type"] != "playground.playing":
            assert m["type"] == "playground.frame"
        assert m["playing"] is False


def test_a_moving_slider_gets_every_number_and_the_newest_graph(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        for k in range(8):
            ws.send_json({"type": "neuron", "state": {"b": k}})
        numbers, graphs = [], []
        while len(numbers) < 8 or not graphs or graphs[-1]["state"]["b"] != 7:
            reply = ws.receive_json()
            (numbers if reply["type"] == "neuron" else graphs).append(reply)
        assert [n["state"]["b"] for n in numbers] == list(range(8))
        assert len(graphs) <= 8


def test_bad_messages_get_an_error_and_the_connection_keeps_serving(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        for bad in (
            "not json",
            "[]",
            json.dumps({"type": "neuron", "state": {"x": list(range(100))}}),
            json.dumps({"type": "x" * 1000}),
            "{" + " " * (MAX_MESSAGE + 10) + "}",
        ):
            reply = talk(ws, bad)
            assert reply["type"] == "error" and reply["message"], bad
        ws.send_bytes(b"\xff" * (MAX_MESSAGE + 1))
        assert ws.receive_json()["type"] == "error"
        assert talk(ws, {"type": "neuron", "state": {}})["out"] == SEED_OUT
        assert ws.receive_json()["type"] == "neuron.graph"
    # and another tab is served as before
    with client.websocket_connect("/ws") as other:
        other.receive_json()
        assert talk(other, {"type": "neuron", "state": {}})["out"] == SEED_OUT


def test_websockets_from_other_sites_are_refused(client):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws:
            ws.receive_json()


def test_the_cli_has_a_serve_command():
    import inspect

    from viz.classroom.cli import build_parser
    from viz.classroom.server import serve

    args = build_parser().parse_args(["serve", "--port", "8123"])
    assert (args.host, args.port, args.open) == ("127.0.0.1", 8123, False)
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--port", "99999"])


# ------------------------------------------------------------------ settings and hostile input
def test_a_live_setting_keeps_the_run_and_another_restarts_it():
    s = Session()
    s.handle({"type": "playground", "settings": {"layers": [4, 2]}})
    for _ in range(3):
        s.tick()
    W = s.trainer.model.layers[0].W.data.copy()
    live = {"layers": [4, 2], "lr": 0.3, "reg": "L1", "rate": 0.003, "activation": "relu"}
    answer, frame = s.handle({"type": "playground", "settings": live})
    assert answer["type"] == "playground.settings" and answer["settings"]["lr"] == 0.3
    assert frame["epoch"] == 3 and (s.trainer.model.layers[0].W.data == W).all()
    assert s.tick()["epoch"] == 4
    reset, frame = s.handle({"type": "playground", "settings": dict(live, noise=10)})
    assert reset["type"] == "playground.reset" and frame["epoch"] == 0  # new data: a new run
    again = s.handle({"type": "playground", "settings": dict(live, noise=10), "reset": True})
    assert again[0]["type"] == "playground.reset"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"noise": float("nan")}, "Noise (noise) must be a whole number from 0 to 50 (%), got nan"),
        ({"seed": float("inf")}, "Seed (seed) must be a whole number from 0 to 1000000, got inf"),
        (
            {"layers": [2, float("nan")]},
            "Hidden layers (layers) must be a list of 0 to 6 items, each a whole number from 1 "
            "to 8, got nan",
        ),
        ({"lr": float("nan")}, "Learning rate (lr) must be a number from 0.00001 to 10, got nan"),
        ({"rate": -1}, "Regularization rate (rate) must be a number from 0 to 10, got -1"),
        ({"batch": True}, "Batch size (batch) must be a whole number from 1 to 30, got True"),
    ],
)
def test_every_number_setting_is_finite_checked_and_named(settings, message):
    reply = Session().handle({"type": "playground", "settings": settings})
    assert reply == [{"type": "error", "about": "playground", "message": message}]


def test_a_network_lr_of_zero_stays_zero():
    view = Session().handle({"type": "network", "settings": {"lr": 0}})[0]
    assert view["settings"]["lr"] == 0
    walk = scene_values(view["scene"])
    params = [n["name"] for n in view["scene"]["nodes"].values() if n["role"] == "param"]
    assert params and all(walk[p]["after"]["value"] == walk[p]["data"]["value"] for p in params)


def test_play_with_a_nan_fps_gets_one_line_and_the_connection_keeps_serving(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        talk(ws, {"type": "playground", "settings": {}})
        ws.receive_json()
        reply = talk(ws, '{"type": "playground.play", "fps": NaN}')
        assert reply["message"] == "Frames a second (fps) must be a number from 1 to 30, got nan"
        assert talk(ws, {"type": "playground.step"})["epoch"] == 1


def test_a_step_waits_for_a_training_slot_as_play_does(client, monkeypatch):
    import asyncio

    from viz.classroom import server

    class Counted(asyncio.Semaphore):
        taken = 0

        async def acquire(self):
            Counted.taken += 1
            return await super().acquire()

    monkeypatch.setattr(server, "_TRAINING", Counted(1))
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        talk(ws, {"type": "playground", "settings": {}})
        ws.receive_json()
        for epoch in (1, 2, 3):
            assert talk(ws, {"type": "playground.step"})["epoch"] == epoch
    assert Counted.taken == 3


# ------------------------------------------------------------------ a real server, real frames
def quoted_csv(rows: int) -> str:
    """A CSV as spreadsheets write it: every cell quoted, long numbers (~26 bytes a row)."""
    rng = np.random.default_rng(0)
    lines = ['"x","y","label"']
    for a, b in rng.uniform(-9, 9, (rows, 2)):
        lines.append(f'"{a:.5f}","{b:.5f}","{int(a * b > 0)}"')
    return "\r\n".join(lines)


def test_a_2000_row_csv_fits_and_a_message_too_large_gets_the_servers_own_answer():
    pytest.importorskip("uvicorn")
    sync = pytest.importorskip("websockets.sync.client")
    from conftest import serving

    text = quoted_csv(2000)
    message = json.dumps({"type": "playground.csv", "text": text, "settings": {}})
    assert len(text) > 50_000 and len(message) > 64 * 1024  # more than the old limit
    with serving() as url, sync.connect(url.replace("http", "ws") + "ws") as ws:
        assert json.loads(ws.recv())["type"] == "hello"
        ws.send(message)
        reset = json.loads(ws.recv(timeout=30))
        assert reset["type"] == "playground.reset" and len(reset["train"]) == 1000
        json.loads(ws.recv(timeout=30))  # its first frame
        ws.send(json.dumps({"type": "playground.csv", "text": "1" * MAX_MESSAGE}))
        reply = json.loads(ws.recv(timeout=30))
        assert reply["type"] == "error" and "message too large" in reply["message"]
        ws.send(json.dumps({"type": "neuron", "state": {}}))
        assert json.loads(ws.recv(timeout=30))["out"] == SEED_OUT
