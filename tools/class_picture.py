"""Retake docs/classroom-class.png, the README's picture of a class session: the teacher's
page as ``backproplab class`` opens it (presenter mode, 1280×720), the Network tab, the
class panel beside it after 15 of 18 students answered "What is ∂loss/∂L2.n1.w1?".

    PYTHONPATH=. python tools/class_picture.py [OUT.png] [--reveal]

The classroom runs in this process on 127.0.0.1 (a free port); the students are 18
WebSocket clients, the teacher is headless Chromium (Playwright with Debian's chromium).
The join URL shown is a LAN address, as a class on 0.0.0.0 prints it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "docs" / "classroom-class.png"
CODE, LAN = "K7Q2XM", "http://192.168.1.20:8000/"
NAMES = "Ada Grace Alan Emmy Kurt Rosalind Niels Lise Dorothy Marie Paul Hedy Linus Mary Carl Sofia Srinivasa Barbara".split()
ANSWERS = [
    float(a)
    for a in "-0.3 -0.2 -0.15 -0.12 -0.11 -0.11 -0.1 -0.1 -0.1 -0.09 -0.05 0 0.05 0.1 0.2".split()
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT = 30  # seconds for any one thing


def _serve(room):  # noqa: ANN001, ANN202
    """The classroom for ``room`` on 127.0.0.1 in a thread (as tests/conftest.py's
    serving()), enough connections from one address for the whole class."""
    import uvicorn

    from viz.classroom.server import config
    from viz.classroom.settings import Limits

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(config("127.0.0.1", port, limits=Limits(per_address=64), room=room))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("the classroom did not start")
        time.sleep(0.05)
    return server, port


def _join(students: contextlib.ExitStack, port: int, name: str):  # noqa: ANN202
    """A student's connection, joined, open until ``students`` closes."""
    from websockets.sync.client import connect

    ws = students.enter_context(connect(f"ws://127.0.0.1:{port}/ws", open_timeout=WAIT))
    ws.send(json.dumps({"type": "class.join", "code": CODE, "name": name}))
    _until(ws, "class.joined")
    return ws


def _until(ws, kind: str, question: bool = False) -> dict:  # noqa: ANN001
    while True:
        message = json.loads(ws.recv(timeout=WAIT))
        if message["type"] == "error":
            raise SystemExit(f"the server said: {message['message']}")
        if message["type"] == kind and (not question or message.get("question")):
            return message


def take(out: Path = OUT, reveal: bool = False) -> Path:
    """Run a class of 18 to its answers (and the engine's, if ``reveal``) and write the
    teacher's page to ``out``."""
    from playwright.sync_api import sync_playwright

    from viz.classroom.room import Room

    room = Room(code=CODE, url=f"{LAN}#join={CODE}")
    server, port = _serve(room)
    try:
        with contextlib.ExitStack() as stack, sync_playwright() as p:
            students = [_join(stack, port, name) for name in NAMES]
            chromium = shutil.which("chromium") or shutil.which("chromium-browser")
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            teacher = browser.new_page(viewport={"width": 1280, "height": 720})
            teacher.set_default_timeout(WAIT * 1000)
            teacher.goto(f"http://127.0.0.1:{port}/#teach={room.token}&present=true")
            teacher.wait_for_selector(f".class-code:has-text('{CODE}')")
            teacher.click('nav button[data-tab="network"]')
            teacher.wait_for_selector("#net-player .bp-counter:has-text('step 1 /')")
            teacher.fill("#class-target", "L2.n1.w1")
            teacher.click("#class-ask")
            for ws, value in zip(students, ANSWERS):
                asked = _until(ws, "class.question", question=True)["question"]
                ws.send(
                    json.dumps({"type": "class.answer", "question": asked["id"], "value": value})
                )
            teacher.wait_for_selector(f".class-count:has-text('{len(ANSWERS)} of {len(NAMES)}')")
            if reveal:
                teacher.click("#class-reveal")
                teacher.wait_for_selector(".class-histogram .truthlab")
            teacher.wait_for_timeout(500)  # the histogram's last bars drawn
            with tempfile.NamedTemporaryFile(dir=out.parent, suffix=".png", delete=False) as f:
                temp = f.name
            teacher.screenshot(path=temp)
            os.replace(temp, out)
            browser.close()
    finally:
        server.should_exit = True
    return out


if __name__ == "__main__":  # the classroom's workers are spawned: they import this module
    args = [a for a in sys.argv[1:] if a != "--reveal"]
    print(f"wrote {take(Path(args[0]) if args else OUT, reveal='--reveal' in sys.argv)}")
