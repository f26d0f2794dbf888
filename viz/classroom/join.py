"""How students reach a class: the join URL, its QR code (SVG, by segno) and the line
that says who can open it.

>>> join_url("192.168.1.20", 8000, "K7Q2XM")
'http://192.168.1.20:8000/#join=K7Q2XM'
>>> qr_svg("http://192.168.1.20:8000/#join=K7Q2XM").startswith("<svg")
True
"""

from __future__ import annotations

import io

from .guard import is_loopback, lan_address


def join_url(host: str, port: int, code: str) -> str:
    """The address students open; a wildcard bind is named by this machine's LAN
    address (what other devices can reach)."""
    if host in ("0.0.0.0", "::", ""):
        host = lan_address() or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/#join={code}"


def qr_svg(url: str) -> str:
    """The URL as a QR code, SVG text (black on white, a quiet zone around it)."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=8, border=4, xmldecl=False, light="#fff", omitsize=True
    )
    return out.getvalue().decode()


def reach(host: str) -> str:
    """One line saying who can open the class on ``host``."""
    if is_loopback(host):
        return (
            "Only this computer can join (127.0.0.1): start with --host 0.0.0.0 to let "
            "the room's devices in."
        )
    return (
        f"Listening on {host}: any device on this network that can reach this computer "
        "can open the page (the join code keeps the class to the room)."
    )
