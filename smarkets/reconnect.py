"""Reconnecting and resuming a session by itself: :class:`ReconnectPolicy`.

Give a :class:`~smarkets.session.Session` a policy and it resumes its session on its own
when the connection fails, instead of raising::

    session = smarkets.Session(settings, reconnect=ReconnectPolicy(),
                               on_connection_event=print)
    client = smarkets.Smarkets(session)

What counts as a failure to recover from (while reading, in
:meth:`~smarkets.session.Session.read_events` and so in
:meth:`Smarkets.read <smarkets.client.Smarkets.read>`): the connection closed or reset,
any other :class:`~smarkets.errors.SocketError` that left the connection closed, and a
*resumable* end of the session -- a heartbeat timeout on either side
(:class:`~smarkets.errors.HeartbeatTimeoutError`, or the server's LOGOUT
``HEARTBEAT_TIMEOUT``) or an unanswered login
(:class:`~smarkets.errors.LoginTimeoutError`). The session then logs in again with the
same session id, ``inseq`` and ``outseq`` (PROTOCOL.md section 4, rule 8): the server
replays what the client missed, the client replays what the server missed, and the
application sees every payload exactly once, in order.

Attempts follow the policy: attempt ``n`` (1, 2, ...) waits
``min(max_delay, initial_delay * multiplier ** (n - 1))``, less a random fraction of up to
``jitter`` of it, then connects and logs in. A failure of the attempt itself (connection
refused, a timeout, the connection dropping again, a login timeout) leads to the next
attempt; after ``max_attempts`` failed attempts in a row the last error is raised. Nothing
retries a *final* answer: a refused login (:class:`~smarkets.errors.LoginError`), an
unknown or expired session (:class:`~smarkets.errors.UnknownSessionError`), a logout for
another reason (:class:`~smarkets.errors.LoggedOutError`) or a
:class:`~smarkets.errors.ProtocolError` is raised at once. After a final end, the next
:meth:`~smarkets.session.Session.login` starts a new session.

Off by default: a :class:`~smarkets.session.Session` made without ``reconnect`` raises
each failure, as it always did, and the script decides. A script that turns it on gives up
the certainty that :meth:`~smarkets.session.Session.read_events` returns or raises within
``settings.socket_timeout``: while it reconnects, a read can take as long as the policy's
delays and attempts add up to.

The script observes what happens through ``on_connection_event``, called (in the thread
that reads) with a :class:`ConnectionEvent` at every change, and through the
:class:`~smarkets.protocol.events.LoggedIn` event that a read returns after each resume.
"""

from __future__ import annotations

import enum
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from smarkets.errors import SessionEndedError, SocketError

__all__ = [
    "DEFAULT_INITIAL_DELAY",
    "DEFAULT_JITTER",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_DELAY",
    "DEFAULT_MULTIPLIER",
    "ConnectionEvent",
    "ConnectionListener",
    "ConnectionState",
    "ReconnectPolicy",
    "is_transient",
]

log = logging.getLogger("smarkets.session")

#: Failed attempts in a row before giving up (about 2.5 minutes of trying with the other
#: defaults, half the sandbox's default session expiry).
DEFAULT_MAX_ATTEMPTS = 10
#: Seconds before the first attempt.
DEFAULT_INITIAL_DELAY = 0.5
#: The longest wait between two attempts, in seconds.
DEFAULT_MAX_DELAY = 30.0
#: How much longer each wait is than the one before.
DEFAULT_MULTIPLIER = 2.0
#: The fraction of each wait that is taken off at random, so that many clients dropped at
#: once do not all come back at the same instant.
DEFAULT_JITTER = 0.2


@dataclass(frozen=True)
class ReconnectPolicy:
    """How a :class:`~smarkets.session.Session` reconnects: how often and how patiently.

    ``max_attempts`` failed attempts in a row end the trying (``None``: never give up).
    Attempt ``n`` waits :meth:`delay` ``(n)`` seconds first. ``seed`` seeds the jitter
    (``None``: unpredictable), for reproducible tests. ``sleep`` waits that long
    (:func:`time.sleep`; tests give a fake clock's).
    """

    max_attempts: int | None = DEFAULT_MAX_ATTEMPTS
    initial_delay: float = DEFAULT_INITIAL_DELAY
    max_delay: float = DEFAULT_MAX_DELAY
    multiplier: float = DEFAULT_MULTIPLIER
    jitter: float = DEFAULT_JITTER
    seed: int | None = None
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts is not None and (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            raise ValueError(f"max_attempts must be None or an int >= 1, not {self.max_attempts!r}")
        if not self.initial_delay >= 0:
            raise ValueError(f"initial_delay must be >= 0, not {self.initial_delay!r}")
        if not self.max_delay >= self.initial_delay:
            raise ValueError(
                f"max_delay ({self.max_delay!r}) must be >= initial_delay ({self.initial_delay!r})"
            )
        if not self.multiplier >= 1:
            raise ValueError(f"multiplier must be >= 1, not {self.multiplier!r}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1, not {self.jitter!r}")

    def base_delay(self, attempt: int) -> float:
        """The wait before attempt ``attempt`` (1, 2, ...) without jitter."""
        if attempt < 1:
            raise ValueError(f"attempts are numbered from 1, not {attempt}")
        delay = self.initial_delay
        for _ in range(attempt - 1):
            delay *= self.multiplier
            if delay >= self.max_delay:
                return self.max_delay
        return min(delay, self.max_delay)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before attempt ``attempt``: :meth:`base_delay` less up to ``jitter`` of it."""
        base = self.base_delay(attempt)
        if not self.jitter or not base:
            return base
        draw = (rng or random).random()
        return base * (1.0 - self.jitter * draw)

    def rng(self) -> random.Random:
        """A generator for the jitter, seeded with ``seed``."""
        return random.Random(self.seed)


class ConnectionState(enum.Enum):
    """What a :class:`ConnectionEvent` reports."""

    #: Logged in: the first login, or a resume (``attempt`` tells which attempt it took).
    CONNECTED = "connected"
    #: The connection failed (``error`` says how); the session is resumable and the
    #: policy will try to reconnect.
    DISCONNECTED = "disconnected"
    #: Attempt ``attempt`` is about to be made, after waiting ``delay`` seconds.
    RECONNECTING = "reconnecting"
    #: ``attempt`` attempts failed in a row: no more are made; ``error`` is raised.
    GAVE_UP = "gave up"
    #: The session ended for good (``error``: a refused login, UNKNOWN_SESSION, a logout):
    #: it cannot be resumed, and the next login starts a new one.
    ENDED = "ended"


@dataclass(frozen=True)
class ConnectionEvent:
    """A change in a session's connection, as given to ``on_connection_event``."""

    state: ConnectionState
    session_id: str | None
    #: The attempt this is about (0 for a login the script made itself).
    attempt: int = 0
    #: RECONNECTING: the seconds waited before the attempt.
    delay: float = 0.0
    #: DISCONNECTED, RECONNECTING, GAVE_UP, ENDED: the error that caused it (for
    #: RECONNECTING, the one that made the previous attempt fail).
    error: BaseException | None = None

    def __str__(self) -> str:
        text = f"session {self.session_id or '(new)'}: {self.state.value}"
        if self.attempt:
            text += f", attempt {self.attempt}"
        if self.state is ConnectionState.RECONNECTING:
            text += f" in {self.delay:.3g}s"
        if self.error is not None:
            text += f" ({type(self.error).__name__}: {self.error})"
        return text


#: ``fn(event)``: told of every :class:`ConnectionEvent`.
ConnectionListener = Callable[[ConnectionEvent], None]


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is a failure a policy recovers from by resuming the session: a
    connection that failed (:class:`~smarkets.errors.SocketError`) or a resumable end of
    the session.  Anything else (a refused login, UNKNOWN_SESSION, a protocol violation)
    is final.  The blocking and the asyncio session both ask this."""
    if isinstance(error, SessionEndedError):
        return error.resumable
    return isinstance(error, SocketError)


def notify(listener: ConnectionListener | None, event: ConnectionEvent) -> None:
    """Log ``event`` and tell ``listener``; a listener that raises is logged, not propagated.

    The listener runs inside a read, at a point where the session must go on (reconnect,
    or raise what ended it): an error of the listener's own would only get in the way.
    """
    if event.state in (ConnectionState.CONNECTED, ConnectionState.RECONNECTING):
        log.info("%s", event)
    else:
        log.warning("%s", event)
    if listener is None:
        return
    try:
        listener(event)
    except Exception:
        log.exception("the connection event listener raised (ignored)")
