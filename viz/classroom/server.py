"""``backproplab serve``: the live classroom, a Starlette app served by uvicorn.

``GET /`` is the page; ``/static/...`` its scripts and styles (package data, nothing from
a CDN); ``/ws`` is one WebSocket per browser tab, carrying JSON messages that
:class:`~viz.classroom.sessions.Session` answers. The engine's work runs in a worker
thread so one busy tab never stalls the others; Playground runs live in worker processes
(``training.py``) and graph layouts in others (``layouts.py``), so the server's own
process answers a fresh student while 30 Playgrounds play. The Play loop is a task per
WebSocket, capped at ``settings.MAX_FPS`` frames a second; every epoch, Play's or a
Step's, waits for one of the few training slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .guard import (
    LOOPBACK_NAMES,
    Door,
    HostCheck,
    Rate,
    allowed_hosts,
    calm_accept_errors,
    raise_descriptor_limit,
)
from .layouts import LayoutPool
from .lifeline import exit_on_sigterm
from .room import Room
from .sessions import Later, Session, SettingsError, decode, encode
from .settings import MAX_CATCH_UP, MAX_FRAME, MAX_MESSAGE, MAX_WAITING, Limits, Play
from .trainer import Trainer
from .training import TrainingPool, shared_pool

STATIC = Path(__file__).resolve().parent / "static"
ROOM = Limits()  # the default limits of one server
_CLOSED = object()  # put in the inbox when the socket closes
# Playground epochs asked for at once, all tabs together: two per training process keep
# each busy; more would only hold threads the Neuron / Network tabs' messages need.
_TRAINING = asyncio.Semaphore(2 * max(2, os.cpu_count() or 1))
_NO_WAIT = contextlib.nullcontext()
log = logging.getLogger("backproplab.serve")


async def index(request):  # noqa: ANN001
    return FileResponse(STATIC / "index.html", headers=_HEADERS)


_HEADERS = {
    # The page loads nothing from elsewhere and runs no inline script.
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'",
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
    """One WebSocket: its Session, a reader that queues the page's messages (within the
    room's :class:`~.guard.Limits`), a worker that answers them in turn, a lock so
    messages and the play loop take turns, and the play task."""

    def __init__(
        self,
        ws: WebSocket,
        limits: Limits,
        layouts: LayoutPool,
        room: Room | None = None,
        address: str = "",
        training: TrainingPool | None = None,
    ) -> None:
        self.ws, self.session = ws, Session(training.trainer if training else Trainer)
        self.limits, self.layouts = limits, layouts
        self.room, self.address = room, address  # the class session, if this is one
        self.rate = Rate(limits.messages_per_second, limits.burst)
        self.lock = asyncio.Lock()
        self.player: asyncio.Task | None = None
        self.fps = Play.defaults()["fps"]
        self.closed = False
        self.inbox: asyncio.Queue = asyncio.Queue()  # (decoded message or refusal, size)
        self.pending = 0  # characters of the messages in the inbox
        self.told: dict[str, float] = {}  # when each kind of refusal was last said
        # types of the messages in the inbox (known ones only; none kept at zero), so a
        # slow reply is skipped when a newer one of its type waits
        self.waiting: Counter[str] = Counter()

    async def send(self, reply: dict) -> None:
        if self.closed:
            return
        try:
            text = encode(reply)
        except (ValueError, RecursionError):  # a bug: say so, keep the socket alive
            log.exception("a reply could not be encoded")
            text = encode(_error("server", "internal error (logged)"))
        if self.room is not None:
            self.room.forward(self, reply, text)  # the teacher's views go to the room
        await self.send_text(text)

    async def send_text(self, text: str) -> None:
        if self.closed:
            return
        try:
            await self.ws.send_text(text)
        except Exception:  # the page went away (each server raises its own kind)
            self.closed = True

    async def read(self) -> None:
        """Decode the socket's messages into the inbox, refusing (with one line, at most
        once a second) what goes past the connection's rate or pending limits."""
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    data = message.get("bytes") or b""
                    text = data.decode("utf-8", "replace") if len(data) <= MAX_MESSAGE else data
                if not self.rate.take():
                    await self.refuse(
                        f"too many messages (at most {self.limits.messages_per_second:g} a "
                        "second); this one was dropped"
                    )
                    continue
                size = min(len(text), MAX_MESSAGE + 1)
                full = self.pending + size > self.limits.pending_bytes
                if full or self.inbox.qsize() >= MAX_WAITING:
                    await self.refuse(
                        "too many messages waiting for an answer; this one was dropped"
                    )
                    continue
                try:
                    decoded = decode(text)
                except SettingsError as err:
                    decoded = _Refusal(_error("message", str(err)))
                else:
                    if decoded["type"] in self.session.handlers:
                        self.waiting[decoded["type"]] += 1
                self.pending += size
                self.inbox.put_nowait((decoded, size))
        finally:
            self.closed = True
            self.inbox.put_nowait((_CLOSED, 0))

    async def refuse(self, text: str) -> None:
        """Say why a message was dropped, once a second at most for each reason."""
        now = time.monotonic()
        if now - self.told.get(text, -1.0) >= 1.0:
            self.told[text] = now
            await self.send(_error("message", text))

    async def handle(self, message: dict | _Refusal, size: int) -> None:
        self.pending -= size
        if isinstance(message, _Refusal):
            await self.send(message.reply)
            return
        kind = message["type"]
        if kind in self.waiting:
            self.waiting[kind] -= 1
            if not self.waiting[kind]:
                del self.waiting[kind]
        if kind in ("playground.play", "playground.pause"):
            await self.play(kind == "playground.play", message)
            return
        if kind.startswith("class."):
            if self.room is None:
                await self.send(
                    _error("class", "this is no class session: start one with backproplab class")
                )
            else:
                try:
                    await self.room.handle(self, message, self.address)
                except Exception:  # a bug must not end the connection: say so, keep serving
                    log.exception("a class message failed")
                    await self.send(_error("class", "internal error (logged)"))
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
            if isinstance(reply, Later):
                if self.waiting[kind] > 0:  # a newer one is waiting: its reply will do
                    continue
                reply = await self.lay_out(reply)
            for r in reply if isinstance(reply, list) else [reply]:
                await self.send(r)

    async def lay_out(self, later: Later) -> dict | list:
        """A slow reply, computed in a layout worker when this connection's turn comes."""
        try:
            return await self.layouts.run(self, later, big=later.big)
        except Exception:  # a worker died or a bug: say so, keep serving
            log.exception("a layout failed")
            return [_error("server", "internal error (logged)")]

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
            epochs = 1
            while True:
                start = time.perf_counter()
                async with _TRAINING, self.lock:
                    frame = await run_in_threadpool(self.session.tick, epochs)
                await self.send(frame)
                if self.closed:
                    return
                if frame["diverged"]:
                    await self.send({"type": "playground.playing", "playing": False})
                    return
                wait = 1.0 / self.fps - (time.perf_counter() - start)
                await asyncio.sleep(max(wait, 0.001))
                epochs = epochs_owed(time.perf_counter() - start, self.fps)
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


def epochs_owed(seconds: float, fps: float) -> int:
    """Epochs the play loop trains before its next frame, ``seconds`` after the last
    began: Play's speed is ``fps`` epochs a second, and a server too busy to send a frame
    for every epoch trains the ones it owes and sends the last one's frame (a frame costs
    more than an epoch; the page plots the loss by epoch). At most ``MAX_CATCH_UP``.

    >>> epochs_owed(0.05, 20), epochs_owed(0.11, 20), epochs_owed(5.0, 20)
    (1, 2, 4)
    """
    return max(1, min(MAX_CATCH_UP, round(seconds * fps)))


class _Refusal:
    """An answer the reader queues in the message's place (a message that could not be
    decoded), so replies keep the order of the messages."""

    def __init__(self, reply: dict) -> None:
        self.reply = reply


@functools.cache
def _hello() -> str:
    """The first message of every connection, made once (its schemas take a while)."""
    return encode(Session().hello())


async def websocket(ws: WebSocket) -> None:
    if not _same_origin(ws):
        await ws.close(code=1008)
        return
    state = ws.app.state
    address = ws.client.host if ws.client else "unknown"
    refused = state.door.enter(address)
    if refused:  # politely: the page shows why, then the socket closes
        await ws.accept()
        await ws.send_text(encode(_error("connection", refused)))
        await ws.close(code=1013)  # try again later
        return
    conn = Connection(ws, state.limits, state.layouts, state.room, address, state.training)
    try:
        await ws.accept()
        await ws.send_text(_hello())
        reader = asyncio.create_task(conn.read())
        try:
            while (item := await conn.inbox.get())[0] is not _CLOSED:
                await conn.handle(*item)
        finally:
            reader.cancel()
            conn.stop()
    except (WebSocketDisconnect, OSError):
        pass
    finally:
        state.door.leave(address)
        state.layouts.forget(conn)
        if state.room is not None:
            state.room.leave(conn)
        conn.session.trainer = None  # its run in a training process goes now, not at a GC


def _error(about: str, text: str) -> dict:
    return {"type": "error", "about": about, "message": text}


def create_app(
    hosts: Iterable[str] = LOOPBACK_NAMES,
    limits: Limits = ROOM,
    layouts: LayoutPool | None = None,
    room: Room | None = None,
    training: TrainingPool | None = None,
) -> Starlette:
    """The classroom app: the page, its static files and the WebSocket, answering only
    requests addressed to one of ``hosts`` (``guard.allowed_hosts``), each client within
    ``limits``; graph layouts run in ``layouts`` (a pool of worker processes), Playground
    runs in ``training`` (another); with a ``room``, a class session (``class.*``
    messages)."""
    layouts = layouts or LayoutPool()
    training = training or shared_pool()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):  # noqa: ANN202
        calm_accept_errors(asyncio.get_running_loop())
        layouts.warm()
        training.warm()
        yield

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/favicon.ico", lambda request: Response(status_code=204)),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            WebSocketRoute("/ws", websocket),
        ],
        middleware=[Middleware(HostCheck, hosts=list(hosts))],
        lifespan=lifespan,
    )
    app.state.limits, app.state.layouts, app.state.door = limits, layouts, Door(limits)
    app.state.room, app.state.training = room, training
    return app


def config(
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_hosts: Iterable[str] = (),
    limits: Limits = ROOM,
    room: Room | None = None,
):  # noqa: ANN201 (uvicorn.Config)
    """uvicorn's settings for the classroom: its frame limit is well above the server's
    own message limit, so a message too large gets the server's one-line answer rather
    than a cut connection; the app answers the names of ``host`` and ``allow_hosts``;
    the connection cap stays below the open-file limit."""
    import uvicorn

    descriptors = raise_descriptor_limit()
    if limits.total > descriptors // 2:  # each socket is a descriptor; keep room for files
        limits = dataclasses.replace(limits, total=max(8, descriptors // 2))
    app = create_app(allowed_hosts(host, allow_hosts), limits, room=room)
    return uvicorn.Config(app, host=host, port=port, ws_max_size=MAX_FRAME, log_level="warning")


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    allow_hosts: Iterable[str] = (),
    room: Room | None = None,
    page: str | None = None,
) -> None:
    """Run the classroom with uvicorn until interrupted (binds 127.0.0.1 by default);
    with a ``room``, a class session; ``open_browser`` opens ``page`` (default: /)."""
    import uvicorn

    if open_browser:
        import threading
        import webbrowser

        where = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        threading.Timer(1.0, webbrowser.open, [page or f"http://{where}:{port}/"]).start()
    exit_on_sigterm()  # so the exit handlers stop the worker pools, as after Ctrl+C
    uvicorn.Server(config(host, port, allow_hosts, room=room)).run()
