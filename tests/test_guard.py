"""The classroom server against hostile clients (viz.classroom.guard and the server's
connection limits): DNS rebinding, framing, connection floods, message floods, memory per
message type, client-sent errors and deep nesting. Real uvicorn on 127.0.0.1 where the
transport matters; the connection's reader alone where it does not."""

import asyncio
import contextlib
import http.client
import json
import logging
import socket
import time

import pytest

pytest.importorskip("uvicorn")
sync = pytest.importorskip("websockets.sync.client")
from conftest import serving  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402

from viz.classroom.guard import allowed_hosts  # noqa: E402
from viz.classroom.layouts import InlineExecutor, LayoutPool  # noqa: E402
from viz.classroom.server import Connection  # noqa: E402
from viz.classroom.sessions import MAX_MESSAGE  # noqa: E402
from viz.classroom.settings import Limits  # noqa: E402


def port_of(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def get(port: int, path: str, host: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": host})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def open_socket(port: int, host: str | None = None, origin: str | None = None):
    """A WebSocket to the server on 127.0.0.1 that says ``Host: host``."""
    host = host or f"127.0.0.1:{port}"
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    return sync.connect(f"ws://{host}/ws", sock=raw, origin=origin, open_timeout=30)


def test_a_rebinding_host_is_refused_on_every_route():
    with serving() as url:
        port = port_of(url)
        evil = f"evil.example:{port}"
        for path in ("/", "/static/app.js", "/favicon.ico", "/nothing"):
            response = get(port, path, evil)
            assert response.status == 400, path
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
            assert get(port, "/", host).status == 200, host
        # a page of evil.example whose name now points here: Host and Origin agree
        with pytest.raises(InvalidStatus):
            open_socket(port, evil, origin=f"http://{evil}")
        with open_socket(port) as ws:
            assert json.loads(ws.recv(timeout=30))["type"] == "hello"


def test_a_lan_server_answers_its_own_names_and_an_allow_list():
    hosts = allowed_hosts("0.0.0.0", ["class.example"])
    assert {"127.0.0.1", "localhost", socket.gethostname().lower(), "class.example"} <= hosts
    assert "evil.example" not in hosts
    assert allowed_hosts("192.168.1.20") >= {"192.168.1.20", "localhost"}


def test_no_other_site_can_frame_the_page():
    with serving() as url:
        port = port_of(url)
        for path in ("/", "/static/app.js"):
            response = get(port, path, f"127.0.0.1:{port}")
            assert response.status == 200
            assert response.getheader("X-Frame-Options") == "DENY", path
            assert "frame-ancestors 'none'" in response.getheader("Content-Security-Policy"), path


def test_a_connection_flood_is_refused_politely_and_logged_once(caplog):
    caplog.set_level(logging.WARNING)
    with serving(limits=Limits(per_address=3)) as url:
        port = port_of(url)
        kept = contextlib.ExitStack()
        sockets = [kept.enter_context(open_socket(port)) for _ in range(3)]
        for ws in sockets:
            assert json.loads(ws.recv(timeout=30))["type"] == "hello"
        for _ in range(20):
            with open_socket(port) as extra:
                reply = json.loads(extra.recv(timeout=30))
                assert reply["type"] == "error"
                assert reply["message"].startswith("too many connections from one address")
                with pytest.raises(ConnectionClosed) as closed:
                    extra.recv(timeout=30)
                assert closed.value.rcvd.code == 1013  # try again later
        sockets.pop().close()
        with open_socket(port) as again:  # a place is free again
            assert json.loads(again.recv(timeout=30))["type"] == "hello"
        kept.close()
    lines = [r for r in caplog.records if r.name.startswith(("backproplab", "uvicorn"))]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert "refusing connections: too many connections" in lines[0].getMessage()
    assert lines[0].exc_info is None


def test_messages_past_the_rate_are_dropped_with_one_line_and_the_socket_keeps_serving():
    with serving(limits=Limits(messages_per_second=1, burst=5)) as url:
        port = port_of(url)
        with open_socket(port) as ws:
            ws.recv(timeout=30)
            for _ in range(30):
                ws.send(json.dumps({"type": "network.update"}))  # cheap: "no network yet"
            time.sleep(2.5)  # the bucket fills again: a message a second
            ws.send(json.dumps({"type": "neuron", "state": {}}))
            replies = []
            while not replies or replies[-1]["type"] != "neuron":
                replies.append(json.loads(ws.recv(timeout=30)))
            answered = [r for r in replies if r.get("message", "").startswith("no network yet")]
            assert 5 <= len(answered) < 30
            assert sum("too many messages" in r.get("message", "") for r in replies) == 1
        with open_socket(port) as ws:  # a fresh connection has its own budget
            ws.recv(timeout=30)
            ws.send(json.dumps({"type": "neuron", "state": {}}))
            assert json.loads(ws.recv(timeout=30))["type"] == "neuron"


# ------------------------------------------------------------------ one connection's reader
class FakeSocket:
    """What the Connection reads and sends, without a transport."""

    def __init__(self, texts: list[str]) -> None:
        self.incoming = [{"type": "websocket.receive", "text": t} for t in texts]
        self.incoming.append({"type": "websocket.disconnect"})
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        return self.incoming.pop(0)

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))


def connection(texts: list[str], **limits) -> Connection:
    generous = dict(messages_per_second=1e6, burst=10**6)
    pool = LayoutPool(workers=2, executor=InlineExecutor())
    return Connection(FakeSocket(texts), Limits(**{**generous, **limits}), pool)


async def answer(conn: Connection) -> None:
    while conn.inbox.qsize() > 1:  # the last item marks the socket's end
        await conn.handle(*conn.inbox.get_nowait())


def test_unique_message_types_keep_no_memory():
    types = [json.dumps({"type": f"{k:06d}" + "t" * 60_000}) for k in range(300)]
    conn = connection(types)
    asyncio.run(conn.read())
    assert len(conn.waiting) == 0  # unknown types are not counted at all
    conn = connection([json.dumps({"type": "neuron", "state": {"b": k}}) for k in range(5)])
    asyncio.run(conn.read())
    assert conn.waiting == {"neuron": 5}
    asyncio.run(answer(conn))
    assert len(conn.waiting) == 0  # nor kept once answered


def test_pending_work_is_bounded_in_bytes():
    big = json.dumps({"type": "playground.csv", "text": "1," * 90_000})
    conn = connection([big] * 20, pending_bytes=1 << 20)
    asyncio.run(conn.read())  # nothing answers: every message would wait
    assert conn.inbox.qsize() - 1 == (1 << 20) // len(big)  # and the end-of-socket mark
    assert conn.pending <= 1 << 20
    assert [m["message"] for m in conn.ws.sent] == [
        "too many messages waiting for an answer; this one was dropped"
    ]


def test_a_client_sent_error_is_refused_not_echoed_and_deep_nesting_is_one_line():
    with serving() as url, open_socket(port_of(url)) as ws:
        ws.recv(timeout=30)
        ws.send(json.dumps({"type": "error", "about": "neuron", "message": "hacked"}))
        reply = json.loads(ws.recv(timeout=30))
        assert reply["type"] == "error" and "unknown message type 'error'" in reply["message"]
        deep = '{"type": "error", "message": ' + "[" * 960 + "]" * 960 + "}"
        ws.send(deep)
        reply = json.loads(ws.recv(timeout=30))
        assert reply["message"] == "message is nested too deeply (more than 16 levels)"
        ws.send(json.dumps({"type": "neuron", "state": {}}))  # the socket is alive
        assert json.loads(ws.recv(timeout=30))["type"] == "neuron"


def test_a_message_too_large_for_the_frame_limit_is_answered_by_the_server():
    with serving() as url, open_socket(port_of(url)) as ws:
        ws.recv(timeout=30)
        ws.send("x" * (MAX_MESSAGE + 1))
        assert "message too large" in json.loads(ws.recv(timeout=30))["message"]
