"""The class race: every student who joins trains their own Playground, starting from
the teacher's settings (each may change their own learning rate, features, layers); the
projector shows a wall of thumbnails, each student's decision boundary and test loss,
and the settings of the best.

The server only watches: a racer's own session sends its frames as usual, and the race
keeps the newest summary of each (the boundary as the frame's bytes, the test loss, the
epoch, the settings), sent to the teacher's screens at most once a second.

>>> race = Race()
>>> race.frame("s1", "Ada", {"type": "playground.frame", "epoch": 3, "test_loss": 0.2,
...                         "boundary": "AP8=", "boundary_size": 1}, {"lr": 0.03})
>>> race.wall()["racers"][0]["name"], race.wall()["best"]["settings"]
('Ada', {'lr': 0.03})
"""

from __future__ import annotations

import math
from typing import Any

SHOWN = ("dataset", "lr", "activation", "layers", "features", "reg", "rate", "batch")


class Race:
    def __init__(self) -> None:
        self.on = False
        self.settings: dict = {}  # the teacher's Playground settings when the race began
        self.racers: dict[str, dict] = {}  # student id -> their newest summary
        self.changed = False

    def start(self, settings: dict) -> dict:
        self.on, self.settings, self.racers = True, settings, {}
        return {"type": "class.race", "on": True, "settings": settings}

    def stop(self) -> dict:
        self.on = False
        return {"type": "class.race", "on": False}

    def frame(self, student: str, name: str, frame: dict, settings: dict | None) -> None:
        """A racer's frame, as their own session sent it."""
        loss = frame.get("test_loss")
        self.racers[student] = {
            "name": name,
            "epoch": frame.get("epoch"),
            "test_loss": loss if isinstance(loss, float) and math.isfinite(loss) else None,
            "boundary": frame.get("boundary"),
            "size": frame.get("boundary_size"),
            "settings": {k: (settings or {}).get(k) for k in SHOWN if k in (settings or {})},
        }
        self.changed = True

    def wall(self) -> dict:
        """Every racer's thumbnail, best test loss first, and the best one's settings."""
        ranked = sorted(
            self.racers.values(), key=lambda r: (r["test_loss"] is None, r["test_loss"] or 0.0)
        )
        self.changed = False
        return {
            "type": "class.wall",
            "racers": ranked,
            "best": ranked[0] if ranked and ranked[0]["test_loss"] is not None else None,
        }


def settings_of(conn: Any) -> dict | None:
    """The settings of a connection's own Playground run, if it has one."""
    trainer = getattr(getattr(conn, "session", None), "trainer", None)
    return trainer.settings if trainer is not None else None
