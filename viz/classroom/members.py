"""Who is in a class session: a student (anonymous id, resume key, display name) and a
follower's mailbox, which keeps only the newest message of each type, sent in order (a
slow phone skips frames, it never queues them).

>>> f = Follower(conn=None)
>>> f.post("frame", "1"); f.post("state", "a"); f.post("frame", "2")
>>> list(f.mail.items())
[('state', 'a'), ('frame', '2')]
"""

from __future__ import annotations

import asyncio
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from .settings import MAX_NAME

CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a projector
CODE_LENGTH = 6


def new_code() -> str:
    """A short join code read off a projector (6 characters, ~1e9 of them)."""
    return "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))


def clean_name(text: Any) -> str:
    """A display name as others will see it: printable, one line, at most MAX_NAME
    characters ('' for none). The page shows it as text, never as markup.

    >>> clean_name("  Ada\\n<b>Lovelace</b>\\u202e  "), clean_name(3)
    ('Ada <b>Lovelace</b>', '')
    """
    if not isinstance(text, str):
        return ""
    kept = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text[: 4 * MAX_NAME])
    return re.sub(r"\s+", " ", kept).strip()[:MAX_NAME]


@dataclass
class Student:
    id: str
    key: str  # to rejoin after a reload, as the same student
    name: str = ""
    conn: Any = None  # the Connection, while connected
    following: bool = True

    @property
    def shown(self) -> str:
        return self.name or f"student {self.id[1:]}"


@dataclass
class Follower:
    """A student's mailbox: the newest message of each type, sent in order."""

    conn: Any
    mail: dict[str, str] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None

    def post(self, kind: str, text: str) -> None:
        self.mail.pop(kind, None)  # to the end: the newest of each, in the order they came
        self.mail[kind] = text
        self.ready.set()

    async def run(self) -> None:
        while not self.conn.closed:
            await self.ready.wait()
            self.ready.clear()
            while self.mail:
                kind = next(iter(self.mail))
                await self.conn.send_text(self.mail.pop(kind))
