"""The life of a client :class:`~smarkets.session.Session`, as one declared state machine.

The protocol core's :class:`~smarkets.protocol.states.State` is the life of *one
connection*; a :class:`~smarkets.session.Session` outlives its connections (it resumes,
reconnects, is logged out by another thread), and what it must do next depends on where
it is in that longer life: whether a dropped connection is to be resumed, whether the
reading thread or :meth:`~smarkets.session.Session.login` waits for a login's answer,
whether an end of session was asked for.  :class:`Phase` names each place and
:data:`TRANSITIONS` lists every move, so the rules can be read in one place:

``IDLE``
    No connection wanted: new, after ``disconnect()``, after a login that failed, or
    after ``reset()``.  Left by a login (answered: ``LIVE``; sent with ``receive=False``:
    ``LOGIN_SENT``).
``LOGIN_SENT``
    ``login(receive=False)``: the answer is for the reading thread
    (``read_events``), which moves on to ``LIVE`` or raises the refusal.
``LIVE``
    Logged in, and meant to stay so: a reconnect policy resumes a dropped
    connection.  Left by a logout, a ``disconnect()`` or the session's end.
``LOGGING_OUT``
    ``logout()`` waits for the confirmation; ``ENDED`` follows, always.
``LOGOUT_SENT``
    ``logout(receive=False)``: the confirmation is for the reading thread
    (``LOGGED_OUT`` when it comes).
``LOGGED_OUT``
    Confirmed; the reading thread's next read is told once that the connection
    closed, and the session is ``ENDED``.
``ENDED``
    Over for good: the next login starts a new session (``IDLE`` first).

Sans-I/O and free of threads: :class:`Lifecycle` only records the phase and refuses a
move the table does not list (a bug in the caller, never the peer's doing).
"""

from __future__ import annotations

import enum
import logging

__all__ = ["TRANSITIONS", "Lifecycle", "Phase"]

log = logging.getLogger("smarkets.session")


class Phase(enum.Enum):
    """Where a client session is in its life (see the module's table)."""

    IDLE = "idle"
    LOGIN_SENT = "login sent"
    LIVE = "live"
    LOGGING_OUT = "logging out"
    LOGOUT_SENT = "logout sent"
    LOGGED_OUT = "logged out"
    ENDED = "ended"


_ANY_LOGIN = frozenset({Phase.IDLE, Phase.LOGIN_SENT, Phase.LIVE})

#: Every move a session may make, by the phase it is in.  Staying put is always allowed.
TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    # A login from anywhere alive (IDLE, LOGIN_SENT, LIVE) may be answered (LIVE), be sent
    # for the reading thread (LOGIN_SENT), be taken back by a login that waits itself or
    # a disconnect (IDLE), be refused for good (ENDED); and a logout may start.
    Phase.IDLE: _ANY_LOGIN | {Phase.LOGGING_OUT, Phase.ENDED},
    Phase.LOGIN_SENT: _ANY_LOGIN | {Phase.LOGGING_OUT, Phase.ENDED},
    Phase.LIVE: _ANY_LOGIN | {Phase.LOGGING_OUT, Phase.LOGOUT_SENT, Phase.ENDED},
    Phase.LOGGING_OUT: frozenset({Phase.ENDED}),
    # A login sent before the confirmation came abandons the logout (IDLE).
    Phase.LOGOUT_SENT: frozenset({Phase.IDLE, Phase.LOGGED_OUT, Phase.ENDED}),
    Phase.LOGGED_OUT: frozenset({Phase.IDLE, Phase.ENDED}),
    Phase.ENDED: frozenset({Phase.IDLE}),
}

_LOGOUT_ASKED = frozenset({Phase.LOGGING_OUT, Phase.LOGOUT_SENT, Phase.LOGGED_OUT})
_FINISHED = frozenset({Phase.LOGGED_OUT, Phase.ENDED})


class Lifecycle:
    """The phase of one session, moved only along :data:`TRANSITIONS`."""

    __slots__ = ("phase",)

    def __init__(self) -> None:
        self.phase = Phase.IDLE

    def enter(self, phase: Phase) -> None:
        """Move to ``phase``; :class:`RuntimeError` for a move the table does not list."""
        current = self.phase
        if phase is current:
            return
        if phase not in TRANSITIONS[current]:
            raise RuntimeError(f"session lifecycle: no move from {current.name} to {phase.name}")
        log.debug("session: %s -> %s", current.value, phase.value)
        self.phase = phase

    @property
    def wants_connection(self) -> bool:
        """Logged in and meant to stay so: a dropped connection is to be resumed."""
        return self.phase is Phase.LIVE

    @property
    def logout_asked(self) -> bool:
        """A logout was sent: its end of the session is the one asked for (quiet)."""
        return self.phase in _LOGOUT_ASKED

    @property
    def finished(self) -> bool:
        """The session is over for good: the next login starts a new one."""
        return self.phase in _FINISHED

    def __repr__(self) -> str:
        return f"<Lifecycle {self.phase.value}>"
