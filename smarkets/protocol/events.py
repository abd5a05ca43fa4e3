"""The events the session rules hand to their shell: what happened, typed.

A shell (the client's session, the sandbox's server) feeds bytes in and acts on these:
:class:`Received` (a payload for the application, in order, exactly once),
:class:`LoginRequested` (server: decide on a login), :class:`LoggedIn` and
:class:`SessionEnded` (the end of the session on this connection, with why).
"""

from __future__ import annotations

from dataclasses import dataclass

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.redact import redacted_text as describe

__all__ = [
    "RESUMABLE_REASONS",
    "Event",
    "LoggedIn",
    "LoginRequested",
    "Received",
    "SessionEnded",
]

Payload = seto_pb2.Payload

#: Logout reasons that end a *connection* rather than the session: a timed-out
#: heartbeat or login means the link failed, so the session stays resumable
#: (until the server's session expiry), like one whose connection dropped.
RESUMABLE_REASONS = frozenset({eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT, eto_pb2.LOGOUT_LOGIN_TIMEOUT})


@dataclass(slots=True, repr=False)
class Received:
    """A payload for the application, in order and exactly once.

    ``seq`` is its eto seq, as the core read it (so that a shell need not fetch it from
    the payload again); ``None`` only for an event made by hand without it.
    """

    payload: Payload
    seq: int | None = None

    def __repr__(self) -> str:
        return f"Received({describe(self.payload)})"


@dataclass(slots=True, repr=False)
class LoginRequested:
    """Server only: a client sent its login; accept or refuse it.

    ``session_id`` is the session the client wants to resume, or ``None`` for a
    new one; ``seq`` is the login's seq.
    """

    payload: Payload
    session_id: str | None
    seq: int

    def __repr__(self) -> str:
        # The payload carries the credentials: never show them.
        return f"LoginRequested(session_id={self.session_id!r}, seq={self.seq})"


@dataclass(slots=True)
class LoggedIn:
    """The login completed (client: the response arrived; server: accepted).

    ``extensions`` is the version of the project's extensions granted to the session
    (0: none, the published schema only; see :mod:`smarkets.protocol.extensions`).
    """

    session_id: str
    reset: int
    extensions: int = 0


@dataclass(slots=True)
class SessionEnded:
    """The session is over on this connection; no more payloads will flow.

    ``reason`` is the eto ``LogoutReason`` (``LOGOUT_…``).  ``by_peer`` tells
    whether the peer ended it (its logout reached us) or this side did
    (our logout, a heartbeat timeout, a login timeout).  ``resumable`` is true
    when the session may be continued on a new connection.
    """

    reason: int
    by_peer: bool

    @property
    def resumable(self) -> bool:
        """Whether the session may be continued on a new connection."""
        return self.reason in RESUMABLE_REASONS


Event = Received | LoginRequested | LoggedIn | SessionEnded
