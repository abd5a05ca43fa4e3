"""Stand-ins for what the server's plain objects are given: timers, cores, streams."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smarkets.proto import seto_pb2


class Timers:
    """``call_later`` on a clock the test moves (:meth:`advance`)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pending: list[Timer] = []

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Timer:
        timer = Timer(self.now + delay, callback, args)
        self.pending.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [t for t in self.pending if t.when <= self.now and not t.cancelled]
        self.pending = [t for t in self.pending if t not in due and not t.cancelled]
        for timer in due:
            timer.callback(*timer.args)

    @property
    def armed(self) -> list[Timer]:
        return [t for t in self.pending if not t.cancelled]


class Timer:
    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]):
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Core:
    """A session core that records what it is given to send."""

    def __init__(self) -> None:
        self.sent: list[seto_pb2.Payload] = []
        self.serialized: list[bytes] = []

    def send(self, payload: seto_pb2.Payload, now: float) -> int:
        self.sent.append(payload)
        return len(self.sent)

    def send_serialized(self, body: bytes, now: float) -> int:
        self.serialized.append(body)
        self.sent.append(seto_pb2.Payload.FromString(body))
        return len(self.sent)


class Stream:
    """A connection's shell, as the plain objects see it."""

    def __init__(self, peer: str = "10.0.0.1:1") -> None:
        self.peer = peer
        self.session: Any = None
        self.was_displaced = False

    def displaced(self) -> None:
        self.was_displaced = True
        self.session = None
