"""``backproplab class``: make the room, say how to join and how to teach, and serve it."""

from __future__ import annotations

from .join import join_url, reach
from .room import Room
from .server import serve


def start_class(host: str, port: int, open_browser: bool, allow_hosts: list[str]) -> None:
    """``backproplab class``: make the room, say how to join and how to teach, serve."""
    import segno

    room = Room()
    room.url = join_url(host, port, room.code)
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    # the teacher's page is the projector's: it opens in presenter mode (key F leaves it)
    teacher = f"http://{local}:{port}/#teach={room.token}&present=true"
    print(f"backproplab class: students open {room.url}  (join code {room.code})")
    segno.make(room.url, error="m").terminal(compact=True)
    print(reach(host))
    print(f"Teach from {teacher}  (this link drives the class: keep it to yourself)")
    print("Ctrl+C ends the class; answers are kept in memory only (download them as CSV).")
    serve(host, port, open_browser, allow_hosts, room=room, page=teacher)
