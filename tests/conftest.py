"""Shared test fixtures."""

import pytest

from autograd import Value


@pytest.fixture
def seed_neuron() -> Value:
    """The seed neuron (w=[0, 1], b=4, sigmoid, x=[2, 3]) after backward(): its output."""
    x1, x2 = Value(2.0, label="x1"), Value(3.0, label="x2")
    w1, w2, b = Value(0.0, label="w1"), Value(1.0, label="w2"), Value(4.0, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    out = n.sigmoid()
    out.label = "out"
    out.backward()
    return out


def page_steps(page: str) -> list[dict]:
    """The steps a step-through page carries (its JSON data block)."""
    import json
    import re

    block = re.search(r'<script type="application/json" id="steps-data">(.*?)</script>', page, re.S)
    return json.loads(block.group(1))


# Headless Chromium as the browser tests launch it (Debian's chromium; CI installs it).
# Without the background-networking flags it keeps trying hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def serving(**options):
    """The classroom served by uvicorn, as ``backproplab serve`` configures it
    (``server.config``, given ``options``), on 127.0.0.1 and a free port in a background
    thread: a context manager giving the page's URL."""
    import contextlib
    import socket
    import threading
    import time

    import uvicorn

    from viz.classroom.server import config

    @contextlib.contextmanager
    def run():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(config("127.0.0.1", port, **options))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}/"
        finally:
            server.should_exit = True
            thread.join(10)

    return run()
