"""What the stream shell is made of: its timers, the limit on what it holds unsent, the tap
that keeps a read's frames, its socket options, and what it needs of its server.

Small pieces of :class:`~smarkets.sandbox.server.stream.StreamProtocol`, apart so that each
can be read (and tested) alone.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any, Protocol

from smarkets.sandbox.server.config import ServerConfig
from smarkets.sandbox.server.login import LoginGate
from smarkets.sandbox.server.requests import Requests
from smarkets.sandbox.server.routing import Router
from smarkets.sandbox.server.sessions import ServerSession, SessionRegistry

__all__ = ["LastBatch", "OutputLimit", "StreamHost", "Timer", "tune"]


class StreamHost(Protocol):
    """What a :class:`StreamProtocol` needs of its server (a
    :class:`~smarkets.sandbox.server.app.SandboxServer`)."""

    config: ServerConfig
    registry: SessionRegistry
    router: Router
    gate: LoginGate
    requests: Requests
    closing: bool

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop."""

    def connection_made(self, stream: Any) -> bool:
        """Count a new connection in (False: it was closed at once)."""

    def connection_lost(self, stream: Any) -> None:
        """Count a connection out."""

    def check_password(self, username: str, password: str) -> asyncio.Future[bool]:
        """Check a password off the event loop."""

    def park(self, session: ServerSession) -> None:
        """Keep a session whose connection went."""

    def flush(self) -> None:
        """Write out what every connection touched has to send."""


class LastBatch:
    """The connection's :class:`~smarkets.protocol.connection.PayloadTap`: it keeps the
    frames of the read being taken, so that a batch refused can be told why
    (:func:`~smarkets.protocol.payloads.classify_bad_frames`)."""

    __slots__ = ("frames",)

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def record_in(self, payloads: list[bytes]) -> None:
        self.frames = payloads

    def record_out(self, payloads: list[bytes], inseq: int | None = None) -> None:
        pass


class Timer:
    """One event-loop timer of a connection: it fires once, at the deadline it was set for
    (set again for an earlier deadline, it moves; for a later one, it stays)."""

    __slots__ = ("_callback", "_handle", "_host", "when")

    def __init__(self, host: StreamHost, callback: Callable[[], None]) -> None:
        self._host = host
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = None
        self.when = 0.0

    @property
    def armed(self) -> bool:
        """Whether it is set."""
        return self._handle is not None

    def at(self, when: float) -> None:
        """Fire at loop time ``when``, or earlier if it is already set for earlier."""
        if self._handle is not None:
            if self.when <= when:
                return
            self._handle.cancel()
        self.when = when
        self._handle = self._host.loop.call_at(when, self._fire)

    def cancel(self) -> None:
        """Do not fire."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        self._callback()


class OutputLimit:
    """How many unsent bytes a connection may hold: ``max_write_buffer``, plus the bytes of
    a replay until they have been taken, so that a resume that has a lot to catch up on is
    not dropped for it (the core queues each kept payload once per write)."""

    __slots__ = ("allowance", "limit", "replayed")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        #: Unsent bytes of a replay, allowed on top of ``limit`` until drained.
        self.allowance = 0
        #: A replay was asked for since the last write.
        self.replayed = False

    def exceeded(self, before: int, after: int) -> bool:
        """Whether ``after`` unsent bytes (``before`` the last write) are too many."""
        if self.replayed:
            self.replayed = False
            self.allowance = max(self.allowance, after - before)
        self.allowance = min(self.allowance, after)
        return after > self.limit + self.allowance


def tune(transport: asyncio.Transport, config: ServerConfig) -> None:
    """TCP_NODELAY on, and the kernel's send buffer as configured (``socket_send_buffer``)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if config.socket_send_buffer:
                size = config.socket_send_buffer
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
        except OSError:  # pragma: no cover - the socket is already gone
            pass
