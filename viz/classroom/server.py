"""``backproplab serve``: the live classroom, a Starlette app served by uvicorn.

``GET /`` is the page; ``/static/...`` its scripts and styles (package data, nothing from
a CDN); ``/ws`` is one WebSocket per browser tab, carrying JSON messages that
:class:`~viz.classroom.sessions.Session` answers. The engine's work runs in a worker
thread so one busy tab never stalls the others; the playground's Play loop is a task per
WebSocket, capped at ``settings.MAX_FPS`` frames a second; every epoch, Play's or a Step's,
waits for one of the few training slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .sessions import Session, SettingsError, decode, encode
from .settings import MAX_FRAME, MAX_MESSAGE, MAX_WAITING, Play

STATIC = Path(__file__).resolve().parent / "static"
_CLOSED = object()  # put in the inbox when the socket closes
# Playground epochs running at once, all tabs together: more only fight over the GIL, and
# the Neuron / Network tabs' messages (one at a time per tab) would wait behind them.
_TRAINING = asyncio.Semaphore(os.cpu_count() or 1)
_NO_WAIT = contextlib.nullcontext()
log = logging.getLogger("backproplab.serve")


async def index(request):  # noqa: ANN001
    return FileResponse(STATIC / "index.html", headers=_HEADERS)


_HEADERS = {
    # The page loads nothing from elsewhere and runs no inline script.
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _same_origin(ws: WebSocket) -> bool:
    """Refuse WebSockets opened by pages of other sites (a browser sends their Origin)."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == ws.headers.get("host", "")


class Connection:
    """One WebSocket: its Session, a reader that queues the page's messages, a worker
    that answers them in turn, a lock so messages and the play loop take turns, and
    the play task."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws, self.session = ws, Session()
        self.lock = asyncio.Lock()
        self.player: asyncio.Task | None = None
        self.fps = Play.defaults()["fps"]
        self.closed = False
        self.inbox: asyncio.Queue = asyncio.Queue()  # decoded messages (or errors)
        self.waiting: Counter[str] = Counter()  # their types, to skip stale slow replies

    async def send(self, reply: dict) -> None:
        if self.closed:
            return
        try:
            await self.ws.send_text(encode(reply))
        except Exception:  # the page went away (each server raises its own kind)
            self.closed = True

    async def read(self) -> None:
        """Decode the socket's messages into the inbox, at most MAX_WAITING at a time."""
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    data = message.get("bytes") or b""
                    text = data.decode("utf-8", "replace") if len(data) <= MAX_MESSAGE else data
                if self.inbox.qsize() >= MAX_WAITING:
                    await self.send(_error("message", "too many messages at once"))
                    continue
                try:
                    decoded = decode(text)
                except SettingsError as err:
                    decoded = _error("message", str(err))
                self.waiting[decoded["type"]] += 1
                self.inbox.put_nowait(decoded)
        finally:
            self.closed = True
            self.inbox.put_nowait(_CLOSED)

    async def handle(self, message: dict) -> None:
        kind = message["type"]
        self.waiting[kind] -= 1
        if kind == "error":
            await self.send(message)
            return
        if kind in ("playground.play", "playground.pause"):
            await self.play(kind == "playground.play", message)
            return
        # A Step trains as Play does: it waits for a training slot like every epoch
        training = _TRAINING if kind == "playground.step" else _NO_WAIT
        async with training, self.lock:
            replies = await run_in_threadpool(self._guarded, self.session.replies, message)
            restarted = any(
                isinstance(r, dict) and r["type"] == "playground.reset" for r in replies
            )
            if restarted and self.stop():  # a new run starts paused (live settings do not)
                await self.send({"type": "playground.playing", "playing": False})
            for reply in replies:
                if callable(reply):
                    if self.waiting[kind] > 0:  # a newer one is waiting: its reply will do
                        continue
                    reply = await run_in_threadpool(self._guarded, self.session.resolve, reply)
                for r in reply if isinstance(reply, list) else [reply]:
                    await self.send(r)

    @staticmethod
    def _guarded(method: Callable, argument: Any) -> dict | list:
        try:
            return method(argument)
        except Exception:  # a bug must not end the connection: say so, keep serving
            log.exception("a reply failed")
            return [_error("server", "internal error (logged)")]

    async def play(self, on: bool, message: dict) -> None:
        if on:
            try:
                self.fps = Play.check({"fps": message.get("fps", self.fps)})["fps"]
            except SettingsError as err:
                await self.send(_error("playground", str(err)))
                return
        self.stop()
        if on and self.session.trainer is None:
            await self.send(_error("playground", "no playground yet"))
            return
        await self.send({"type": "playground.playing", "playing": on})  # before any frame
        if on:
            self.player = asyncio.create_task(self._play())

    async def _play(self) -> None:
        try:
            while True:
                start = time.perf_counter()
                async with _TRAINING, self.lock:
                    frame = await run_in_threadpool(self.session.tick)
                await self.send(frame)
                if self.closed:
                    return
                if frame["diverged"]:
                    await self.send({"type": "playground.playing", "playing": False})
                    return
                wait = 1.0 / self.fps - (time.perf_counter() - start)
                await asyncio.sleep(max(wait, 0.001))
        except asyncio.CancelledError:
            raise
        except Exception:  # a closed socket or a bug: stop playing, keep the server up
            log.exception("play loop stopped")

    def stop(self) -> bool:
        """Stop the play loop; True if it was running."""
        if self.player is None:
            return False
        self.player.cancel()
        self.player = None
        return True


async def websocket(ws: WebSocket) -> None:
    if not _same_origin(ws):
        await ws.close(code=1008)
        return
    await ws.accept()
    conn = Connection(ws)
    await conn.send(conn.session.hello())
    reader = asyncio.create_task(conn.read())
    try:
        while (message := await conn.inbox.get()) is not _CLOSED:
            await conn.handle(message)
    except WebSocketDisconnect:
        pass
    finally:
        reader.cancel()
        conn.stop()


def _error(about: str, text: str) -> dict:
    return {"type": "error", "about": about, "message": text}


def create_app() -> Starlette:
    """The classroom app: the page, its static files and the WebSocket."""
    return Starlette(
        routes=[
            Route("/", index),
            Route("/favicon.ico", lambda request: Response(status_code=204)),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            WebSocketRoute("/ws", websocket),
        ]
    )


def config(host: str = "127.0.0.1", port: int = 8000):  # noqa: ANN201 (uvicorn.Config)
    """uvicorn's settings for the classroom: its frame limit is well above the server's
    own message limit, so a message too large gets the server's one-line answer rather
    than a cut connection."""
    import uvicorn

    return uvicorn.Config(
        create_app(), host=host, port=port, ws_max_size=MAX_FRAME, log_level="warning"
    )


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False) -> None:
    """Run the classroom with uvicorn until interrupted (binds 127.0.0.1 by default)."""
    import uvicorn

    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, [f"http://{host}:{port}/"]).start()
    uvicorn.Server(config(host, port)).run()
