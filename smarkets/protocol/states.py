"""Where a connection is in its life: the roles, the states, and the allowed transitions.

:data:`TRANSITIONS` is the whole state machine of :class:`~smarkets.protocol.core.SessionCore`
as a table: the core changes state only through it, so a reader can check every move here.

=================  ===============================================================
state              the moves out of it (and why)
=================  ===============================================================
AWAITING_LOGIN     LOGGING_IN: client sent its login / server received one;
                   CLOSED: no login in time, a login refused, an abort
LOGGING_IN         LOGGED_IN: the login response arrived / the application accepted;
                   CLOSED: refused, timed out, the peer logged out, an abort
LOGGED_IN          LOGGING_OUT: this side sent LOGOUT;
                   CLOSED: the peer's LOGOUT (confirmed), a heartbeat timeout, an abort,
                   a replay asked from before what is kept (UNKNOWN_SESSION)
LOGGING_OUT        CLOSED: the confirmation arrived, or never did (heartbeat timeout)
CLOSED             none: nothing more is sent or received on this connection
=================  ===============================================================

A detached core (no connection; :meth:`SessionCore.detached
<smarkets.protocol.core.SessionCore.detached>`) starts LOGGED_IN and never moves.
"""

from __future__ import annotations

import enum

__all__ = ["TRANSITIONS", "Role", "State"]


class Role(enum.Enum):
    """Which end of the connection a core plays."""

    CLIENT = "client"
    SERVER = "server"


class State(enum.Enum):
    """Where a connection is in its life."""

    #: Client: nothing sent yet.  Server: waiting for the login.
    AWAITING_LOGIN = "awaiting login"
    #: Client: login sent, waiting for the response.  Server: login received,
    #: waiting for the application to accept or refuse it.
    LOGGING_IN = "logging in"
    LOGGED_IN = "logged in"
    #: A logout was sent; waiting for its confirmation.
    LOGGING_OUT = "logging out"
    #: Ended by a logout (either side) or a timeout; nothing more is sent.
    CLOSED = "closed"


#: The states each state may move to (see the module docstring).
TRANSITIONS: dict[State, frozenset[State]] = {
    State.AWAITING_LOGIN: frozenset({State.LOGGING_IN, State.CLOSED}),
    State.LOGGING_IN: frozenset({State.LOGGED_IN, State.CLOSED}),
    State.LOGGED_IN: frozenset({State.LOGGING_OUT, State.CLOSED}),
    State.LOGGING_OUT: frozenset({State.CLOSED}),
    State.CLOSED: frozenset(),
}
