"""The class session (``backproplab class``): one teacher drives, the room follows,
predicts, then sees the engine's answer.

The teacher's page proves itself with the room's secret ``token`` (``class.teach``);
students join with the short ``code`` (``class.join``, an optional display name) and get
an anonymous id and a resume key (a reload rejoins as the same student). Wrong codes and
tokens from one address are slowed down (:class:`Gate`).

Following: every view the teacher's own session sends (Neuron, Expression, Network,
Playground replies and frames) is encoded once and forwarded to the students who follow,
through a mailbox per student that keeps only the newest message of each type (a slow
phone skips frames, never queues them); ``class.show`` says which tab and step the
teacher shows. A student may explore on their own (``class.follow`` false) and come back:
they get the newest of each view at once.

Questions (``class.ask``) are bound to the engine's numbers in the teacher's newest
view — a gradient, its sign, the output, the weight that changes most — never to a
number the page sends; the answer stays on the server until ``class.reveal``. Answers
are counted once per student (a new answer replaces the last), kept in memory only, and
exported as an anonymous CSV (``class.export``).

>>> room = Room(code="K7Q2XM", token="secret")
>>> room.check_code("k7q2xm"), room.check_code("AAAAAA")
(True, False)
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import time
from typing import Any

from .guard import BurstLog, Gate, log
from .members import Follower, Student, clean_name, new_code
from .questions import Question, SettingsError, ask, export_csv, tally
from .race import Race, settings_of
from .settings import MAX_STUDENTS

VIEWS = (
    "neuron",
    "neuron.graph",
    "expression",
    "network",
    "playground.reset",
    "playground.settings",
    "playground.frame",
    "playground.playing",
)
TEACHER_ONLY = (
    "class.show",
    "class.ask",
    "class.reveal",
    "class.close",
    "class.export",
    "class.race",
)


class Room:
    """One class session: its code and token, who is in it, what the teacher shows,
    the question asked and the answers."""

    def __init__(self, code: str | None = None, token: str | None = None, url: str = "") -> None:
        self.code = (code or new_code()).upper()
        self.token = token or secrets.token_urlsafe(24)
        self.url = url  # the join URL students open (with the code)
        self.students: dict[str, Student] = {}
        self.by_conn: dict[Any, Student] = {}
        self.teachers: set[Any] = set()
        self.followers: dict[Any, Follower] = {}
        self.views: dict[str, str] = {}  # the teacher's newest message of each view type
        self.shown: dict = {"type": "class.state", "tab": "neuron", "step": None}
        self.question: Question | None = None
        self.asked: list[Question] = []
        self.gate = Gate()
        self.refusals = BurstLog(log)
        self._tally_due = False
        self.race = Race()
        self.racing: set[Any] = set()  # connections of students in the race

    # ------------------------------------------------------------ who is who
    def check_code(self, code: Any) -> bool:
        given = str(code).strip().upper().encode() if isinstance(code, str) else b""
        return secrets.compare_digest(given, self.code.encode())

    def is_teacher(self, conn: Any) -> bool:
        return conn in self.teachers

    def leave(self, conn: Any) -> None:
        """A connection closed: it stays in the class (answers, name), not connected."""
        self.teachers.discard(conn)
        self.racing.discard(conn)
        follower = self.followers.pop(conn, None)
        if follower and follower.task:
            follower.task.cancel()
        student = self.by_conn.pop(conn, None)
        if student is not None:
            student.conn = None
            self._roster_later()

    # ------------------------------------------------------------ messages
    async def handle(self, conn: Any, message: dict, address: str) -> None:
        kind = message["type"]
        try:
            if kind in TEACHER_ONLY and not self.is_teacher(conn):
                raise SettingsError("only the teacher's page can do that")
            handler = getattr(self, "_" + kind.removeprefix("class.").replace(".", "_"), None)
            if handler is None or not kind.startswith("class."):
                raise SettingsError(f"unknown class message {kind[:40]!r}")
            await handler(conn, message, address)
        except SettingsError as err:
            await conn.send({"type": "error", "about": "class", "message": str(err)})

    async def _teach(self, conn: Any, message: dict, address: str) -> None:
        if await self._slowed(conn, address):
            return
        token = message.get("token")
        given = token.encode() if isinstance(token, str) else b""
        if not secrets.compare_digest(given, self.token.encode()):
            self._failed(address, "a wrong teacher token")
            raise SettingsError("that is not this class's teacher link")
        self.teachers.add(conn)
        self.by_conn.pop(conn, None)
        await conn.send(self.welcome())
        await conn.send(self.roster())
        if self.question:
            await conn.send(self.question.public(teacher=True))

    async def _join(self, conn: Any, message: dict, address: str) -> None:
        if await self._slowed(conn, address):
            return
        if not self.check_code(message.get("code")):
            self._failed(address, "a wrong join code")
            raise SettingsError("wrong join code: check the code on the teacher's screen")
        student = self._returning(message)
        if student is None:
            if len(self.students) >= MAX_STUDENTS:
                raise SettingsError(f"the class is full ({MAX_STUDENTS} students)")
            number = len(self.students) + 1
            student = Student(f"s{number}", secrets.token_urlsafe(12))
            self.students[student.id] = student
        if message.get("name") is not None:
            student.name = clean_name(message.get("name"))
        if student.conn is not None and student.conn is not conn:
            self.by_conn.pop(student.conn, None)
        student.conn = conn
        self.by_conn[conn] = student
        await conn.send(
            {"type": "class.joined", "id": student.id, "key": student.key, "name": student.name}
        )
        await self._follow(conn, {"on": student.following}, address)
        self._roster_later()

    def _returning(self, message: dict) -> Student | None:
        student = self.students.get(str(message.get("id", ""))[:8])
        key = message.get("key")
        if (
            student
            and isinstance(key, str)
            and secrets.compare_digest(key.encode(), student.key.encode())
        ):
            return student
        return None

    async def _name(self, conn: Any, message: dict, address: str) -> None:
        student = self._student(conn)
        student.name = clean_name(message.get("name"))
        await conn.send(
            {"type": "class.joined", "id": student.id, "key": student.key, "name": student.name}
        )
        self._roster_later()

    async def _follow(self, conn: Any, message: dict, address: str) -> None:
        """Follow the teacher (the newest of each view at once) or explore alone."""
        student = self._student(conn)
        student.following = bool(message.get("on", True))
        old = self.followers.pop(conn, None)
        if old and old.task:
            old.task.cancel()
        await conn.send({"type": "class.following", "on": student.following})
        if student.following:
            follower = self.followers[conn] = Follower(conn)
            for kind, text in self.views.items():
                follower.post(kind, text)
            follower.post("class.state", _encode(self.shown))
            if self.question:
                follower.post("class.question", _encode(self.question.public()))
            follower.task = asyncio.create_task(follower.run())
        elif self.question:
            await conn.send(self.question.public())

    async def _answer(self, conn: Any, message: dict, address: str) -> None:
        student, question = self._student(conn), self.question
        if question is None or question.id != message.get("question"):
            raise SettingsError("that question is closed")
        if question.revealed:
            raise SettingsError("the answer is already revealed")
        question.answer(student.id, message.get("value"))
        await conn.send(
            {
                "type": "class.answered",
                "question": question.id,
                "value": question.answers[student.id][0],
            }
        )
        self._tally_later()

    # ------------------------------------------------------------ the teacher's
    async def _show(self, conn: Any, message: dict, address: str) -> None:
        tab, step = message.get("tab"), message.get("step")
        if tab not in ("neuron", "expression", "network", "playground"):
            raise SettingsError("tab must be neuron, expression, network or playground")
        if step is not None and (
            not isinstance(step, int) or isinstance(step, bool) or not 0 <= step < 10_000
        ):
            raise SettingsError("step must be a whole number from 0 to 9999")
        self.shown = {"type": "class.state", "tab": tab, "step": step}
        self._broadcast(self.shown)

    async def _ask(self, conn: Any, message: dict, address: str) -> None:
        self.question = ask(message, self.views, len(self.asked) + 1)
        self.asked.append(self.question)
        self._broadcast(self.question.public())
        await self._send_teachers(self.question.public(teacher=True))
        await self._send_teachers(tally(self.question, self))

    async def _reveal(self, conn: Any, message: dict, address: str) -> None:
        if self.question is None:
            raise SettingsError("no question to reveal")
        self.question.revealed = time.monotonic()
        reveal = self.question.reveal(self)
        self._broadcast(reveal)
        await self._send_teachers(reveal)

    async def _close(self, conn: Any, message: dict, address: str) -> None:
        self.question = None
        self._broadcast({"type": "class.question", "question": None})
        await self._send_teachers({"type": "class.question", "question": None})

    async def _race(self, conn: Any, message: dict, address: str) -> None:
        """Start the race from the teacher's Playground settings, or end it."""
        if message.get("on"):
            shown = self.views.get("playground.settings") or self.views.get("playground.reset")
            if shown is None:
                raise SettingsError("show the Playground first: the race starts from its settings")
            announce = self.race.start(json.loads(shown)["settings"])
            asyncio.ensure_future(self._wall_loop())
        else:
            announce, self.racing = self.race.stop(), set()
        self._broadcast(announce)
        await self._send_teachers(announce)

    async def _racing(self, conn: Any, message: dict, address: str) -> None:
        """A student joins the race (their own Playground; they follow no longer)."""
        if not self.race.on:
            raise SettingsError("no race now")
        self._student(conn)
        self.racing.add(conn)
        await conn.send(
            {"type": "class.race", "on": True, "settings": self.race.settings, "racing": True}
        )

    async def _wall_loop(self) -> None:
        while self.race.on:
            if self.race.changed:
                await self._send_teachers(self.race.wall())
            await asyncio.sleep(1.0)

    async def _export(self, conn: Any, message: dict, address: str) -> None:
        await conn.send(
            {
                "type": "class.csv",
                "filename": f"class-{self.code}.csv",
                "text": export_csv(self.asked),
            }
        )

    # ------------------------------------------------------------ following
    def forward(self, conn: Any, reply: dict, text: str) -> None:
        """A message the teacher's own session sent: the newest of its type goes to
        every follower (encoded once)."""
        kind = reply.get("type")
        if conn in self.racing and kind == "playground.frame":
            student = self.by_conn.get(conn)
            if student is not None:
                self.race.frame(student.id, student.shown, reply, settings_of(conn))
        if conn not in self.teachers or kind not in VIEWS:
            return
        self.views.pop(kind, None)
        self.views[kind] = text
        for follower in self.followers.values():
            follower.post(kind, text)

    def welcome(self) -> dict:
        from .join import qr_svg

        return {
            "type": "class.teaching",
            "code": self.code,
            "url": self.url,
            "qr": qr_svg(self.url) if self.url else "",
        }

    def roster(self) -> dict:
        here = [s for s in self.students.values() if s.conn is not None]
        return {
            "type": "class.roster",
            "joined": len(self.students),
            "here": len(here),
            "following": sum(s.following for s in here),
            "names": sorted(s.shown for s in here)[:MAX_STUDENTS],
        }

    # ------------------------------------------------------------ helpers
    def _student(self, conn: Any) -> Student:
        student = self.by_conn.get(conn)
        if student is None:
            raise SettingsError("join the class first (class.join with its code)")
        return student

    async def _slowed(self, conn: Any, address: str) -> bool:
        wait = self.gate.wait(address)
        if wait:
            await conn.send(
                {
                    "type": "error",
                    "about": "class",
                    "message": f"too many wrong tries: wait {math.ceil(wait)} s",
                }
            )
        return bool(wait)

    def _failed(self, address: str, what: str) -> None:
        pause = self.gate.failed(address)
        if pause:
            self.refusals.note(
                f"slowing down {address}: {what}, {self.gate.failures[address]} in all"
            )

    def _broadcast(self, message: dict) -> None:
        text = _encode(message)
        for follower in self.followers.values():
            follower.post(message["type"], text)
        for student in self.students.values():
            if (
                student.conn is not None
                and student.conn not in self.followers
                and message["type"] != "class.state"
            ):
                asyncio.ensure_future(student.conn.send_text(text))

    async def _send_teachers(self, message: dict) -> None:
        for conn in list(self.teachers):
            await conn.send(message)

    def _tally_later(self) -> None:
        """Send the count and distribution to the teacher's screens, at most 5 times a
        second however fast answers come."""
        if self._tally_due:
            return
        self._tally_due = True

        async def later() -> None:
            await asyncio.sleep(0.2)
            self._tally_due = False
            if self.question:
                await self._send_teachers(tally(self.question, self))

        asyncio.ensure_future(later())

    def _roster_later(self) -> None:
        asyncio.ensure_future(self._send_teachers(self.roster()))


def _encode(message: dict) -> str:
    from .sessions import encode

    return encode(message)
