"""The classroom server's door: who may reach it and how much each client may ask.

A server open to a room meets pages of other sites and clients that misbehave, so every
request passes here first:

- :class:`HostCheck` (ASGI middleware) answers only requests whose ``Host`` names this
  server (the bound address, this machine's names, an allow-list): a page of another
  site that rebinds its own name to our address (DNS rebinding) is refused on every
  route; every response forbids framing (``frame-ancestors 'none'``, ``X-Frame-Options``).
- :class:`Door` counts WebSockets per address and in all, refusing past
  :class:`Limits`; refusals are logged by :class:`BurstLog`, one line per burst.
- :class:`Rate` is a token bucket: messages a second per connection; :class:`Gate`
  slows down guessing a class's join code or teacher token.

>>> check = HostCheck(None, allowed_hosts("127.0.0.1"))
>>> check.allows("127.0.0.1:8000"), check.allows("localhost"), check.allows("evil.example:8000")
(True, True, False)
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections import Counter
from collections.abc import Iterable

from .settings import Limits

log = logging.getLogger("backproplab.serve")

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
FRAMING = {b"x-frame-options": b"DENY"}
FRAME_POLICY = "frame-ancestors 'none'"


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> set[str]:
    """The host names a request may use to reach a server bound to ``bind``: the address
    itself, this machine's loopback names, and for a wildcard (``0.0.0.0``, ``::``) this
    machine's name and addresses; plus ``extra`` (``--allow-host``).

    >>> sorted(allowed_hosts("127.0.0.1", ["class.local"]))
    ['127.0.0.1', '::1', 'class.local', 'localhost']
    """
    hosts = {*LOOPBACK_NAMES, _bare(bind), *(_bare(h) for h in extra)}
    if bind in ("0.0.0.0", "::", ""):
        hosts |= set(machine_addresses())
        name = socket.gethostname().lower()
        hosts |= {name, f"{name}.local"}
    return hosts


def machine_addresses() -> list[str]:
    """This machine's addresses (IPv4 and IPv6) as other machines may reach it."""
    found = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.append(info[4][0])
    except OSError:
        pass
    lan = lan_address()
    if lan:
        found.append(lan)
    return sorted({_bare(a) for a in found})


def lan_address() -> str | None:
    """The address this machine uses towards a local network, or None (no packet is
    sent: a UDP socket only picks its route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.168.255.255", 9))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback else address


def is_loopback(host: str) -> bool:
    """True for an address or name that only this machine can reach.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bare(host: str) -> str:
    """A Host header's name without its port or IPv6 brackets, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.split(":")[0]
    return host


class HostCheck:
    """ASGI middleware: refuse requests whose Host header is not one of ``hosts``
    (HTTP 400 with one line; a WebSocket is closed before its handshake), and forbid
    framing on every response."""

    def __init__(self, app, hosts: Iterable[str]) -> None:  # noqa: ANN001 (an ASGI app)
        self.app, self.hosts = app, {_bare(h) for h in hosts}

    def allows(self, host: str) -> bool:
        return _bare(host) in self.hosts

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if not self.allows(host):
            log.debug("refused Host %r", host[:80])
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await _refuse(
                send, f"unknown host {host[:80]!r}: open the address the server printed"
            )
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)

        async def framed(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", FRAME_POLICY.encode()))
                headers += [(k, v) for k, v in FRAMING.items() if k not in names]
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, framed)


async def _refuse(send, text: str) -> None:  # noqa: ANN001
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *FRAMING.items(),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BurstLog:
    """Log a repeated event once per burst: the first line, then silence until ``quiet``
    seconds pass without one; the next burst's line says how many the last one had.

    >>> burst = BurstLog(logging.getLogger("doctest"), quiet=60)
    >>> [burst.note("room full") for _ in range(3)]
    [True, False, False]
    """

    def __init__(self, logger: logging.Logger, quiet: float = 10.0) -> None:
        self.logger, self.quiet = logger, quiet
        self.last = -float("inf")
        self.count = 0

    def note(self, text: str) -> bool:
        """Count one event; log it if it starts a burst (and say so: True)."""
        now = time.monotonic()
        starts = now - self.last > self.quiet
        self.last = now
        if starts:
            before = f" (the last burst: {self.count})" if self.count > 1 else ""
            self.logger.warning(
                "%s; more like it are not logged until %g s of quiet%s", text, self.quiet, before
            )
            self.count = 0
        self.count += 1
        return starts


class Door:
    """Counts open WebSockets by address: :meth:`enter` says why one may not open
    (None: it may), :meth:`leave` when it closes.

    >>> door = Door(Limits(per_address=1, total=5))
    >>> door.enter("10.0.0.7"), door.enter("10.0.0.7") is not None
    (None, True)
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.by_address: Counter[str] = Counter()
        self.refusals = BurstLog(log)

    @property
    def open(self) -> int:
        return sum(self.by_address.values())

    def enter(self, address: str) -> str | None:
        if self.open >= self.limits.total:
            reason = f"the room is full ({self.limits.total} connections); try again later"
        elif self.by_address[address] >= self.limits.per_address:
            reason = (
                f"too many connections from one address (at most {self.limits.per_address}); "
                "close a tab"
            )
        else:
            self.by_address[address] += 1
            return None
        self.refusals.note(f"refusing connections: {reason} (from {address})")
        return reason

    def leave(self, address: str) -> None:
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]


class Gate:
    """Slows down guessing: after ``free`` wrong tries from one address, each further
    try waits twice as long as the last (``first`` seconds, then twice as long each
    time, up to ``longest``) before any check.

    >>> gate = Gate(free=1)
    >>> gate.wait("10.0.0.9"), gate.failed("10.0.0.9"), gate.failed("10.0.0.9") > 0
    (0.0, 0.0, True)
    """

    def __init__(self, free: int = 3, first: float = 1.0, longest: float = 30.0) -> None:
        self.free, self.first, self.longest = free, first, longest
        self.failures: Counter[str] = Counter()
        self.until: dict[str, float] = {}

    def wait(self, address: str) -> float:
        """Seconds ``address`` must still wait before its next try is checked."""
        return max(0.0, self.until.get(address, 0.0) - time.monotonic())

    def failed(self, address: str) -> float:
        """Count a wrong try; the seconds to wait before the next."""
        self.failures[address] += 1
        extra = self.failures[address] - self.free
        if extra <= 0:
            return 0.0
        pause = min(self.longest, self.first * 2.0 ** (extra - 1))
        self.until[address] = time.monotonic() + pause
        return pause


class Rate:
    """A token bucket: :meth:`take` is True while a connection keeps to ``per_second``
    messages a second (``burst`` at once).

    >>> rate = Rate(per_second=1, burst=2)
    >>> [rate.take() for _ in range(3)]
    [True, True, False]
    """

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second, self.burst = per_second, burst
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def calm_accept_errors(loop) -> None:  # noqa: ANN001 (an asyncio loop)
    """Log asyncio's "socket.accept() out of system resource" (a traceback per try while
    the file descriptors run out) once per burst; other errors as before."""
    burst = BurstLog(log)
    previous = loop.get_exception_handler()

    def handler(loop, context: dict) -> None:  # noqa: ANN001
        if str(context.get("message", "")).startswith("socket.accept() out of system resource"):
            burst.note("out of file descriptors: new connections wait")
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


def raise_descriptor_limit() -> int:
    """Raise this process's open-file limit to its hard limit (Linux, macOS); the limit."""
    try:
        import resource
    except ImportError:  # Windows
        return 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        return want
    except (OSError, ValueError):
        return soft
