"""The session registry: every live or parked session, by id and by account, with what it
subscribed to and the orders it placed.

Sessions outlive connections. A :class:`ServerSession` is registered when its login is
accepted; when its connection drops (or times out on heartbeats) it is *parked*: it keeps
receiving its private messages and the market data it subscribed to, numbered and kept by a
connection-less core (:meth:`SessionCore.detached
<smarkets.protocol.core.SessionCore.detached>`) in the session's replay store, for
``session_expiry`` seconds. A resume within that time picks the same
:class:`~smarkets.protocol.replay.SessionState` up on the new connection, and the core
replays exactly what the client missed. A session ended by a logout is forgotten at once.

:class:`SessionRegistry` is a plain object: it opens no socket and reads no clock (every
call that needs the time takes ``now``); the expiry of a parked session is a timer it asks
for through the ``call_later`` it is given (the event loop's, in the server).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from smarkets.protocol import ReplayStore, Role, SessionCore, SessionState
from smarkets.protocol.ids import uuid128_to_str
from smarkets.sandbox.server.throttle import Throttle

__all__ = ["ServerSession", "SessionRegistry"]

_log = logging.getLogger(__name__)


class Cancellable(Protocol):
    """A timer that can be cancelled (an :class:`asyncio.TimerHandle`)."""

    def cancel(self) -> None: ...


#: ``call_later(delay, callback, *args)``: run ``callback(*args)`` in ``delay`` seconds.
CallLater = Callable[..., Cancellable]


class ServerSession:
    """A logged-in session: its numbering, subscriptions and orders; outlives connections.

    ``core`` is the live connection's :class:`~smarkets.protocol.connection.Connection`
    while ``stream`` (the connection's shell) is set; while parked it is a connection-less
    core that numbers and keeps what the session is sent, so that a resume replays it.
    """

    __slots__ = (
        "account_id",
        "core",
        "expiry",
        "extensions",
        "markets",
        "orders",
        "state",
        "stream",
        "throttle",
        "username",
    )

    def __init__(
        self,
        state: SessionState,
        username: str,
        account_id: int,
        throttle: Throttle | None,
        extensions: int = 0,
    ) -> None:
        self.state = state
        #: The extensions version granted at the session's creation (0: published only);
        #: a resume keeps it.
        self.extensions = extensions
        self.username = username
        self.account_id = account_id
        self.core: SessionCore | None = None
        #: The connection's shell while attached (a
        #: :class:`~smarkets.sandbox.server.stream.StreamProtocol`), None while parked.
        self.stream: Any = None
        #: The expiry timer while parked.
        self.expiry: Cancellable | None = None
        #: Markets this session is subscribed to.
        self.markets: set[int] = set()
        #: Ids of the open orders this session placed.
        self.orders: set[int] = set()
        #: Its budget of application payloads (None: not throttled).
        self.throttle = throttle

    @property
    def session_id(self) -> str:
        """The session's id (tagged hex, tag ``9999``)."""
        return self.state.session_id or ""

    def __repr__(self) -> str:
        where = "attached" if self.stream is not None else "parked"
        return f"<ServerSession {self.session_id} {self.username} {where}>"


class SessionRegistry:
    """Every live or parked session, by id and by account; subscriptions; order owners.

    ``expiry`` is how long a parked session can be resumed; ``replay_limit`` how many
    payloads each new session keeps for replay (None: no limit).
    """

    def __init__(self, *, expiry: float, replay_limit: int | None, call_later: CallLater) -> None:
        self.expiry = expiry
        self.replay_limit = replay_limit
        self._call_later = call_later
        #: Session id -> session, for every live or parked session.
        self.sessions: dict[str, ServerSession] = {}
        #: Account id -> its sessions.
        self.by_account: dict[int, dict[ServerSession, None]] = {}
        #: Market id -> the sessions subscribed to it.
        self.subscribers: dict[int, dict[ServerSession, None]] = {}
        #: Open order id -> the session that placed it.
        self.order_owner: dict[int, ServerSession] = {}

    def __len__(self) -> int:
        return len(self.sessions)

    def get(self, session_id: str) -> ServerSession | None:
        """The live or parked session ``session_id``, if there is one."""
        return self.sessions.get(session_id)

    def of_account(self, account_id: int) -> list[ServerSession]:
        """Every session (live or parked) of an account, oldest first."""
        return list(self.by_account.get(account_id, ()))

    # -- life cycle -----------------------------------------------------------------------

    def create(
        self, username: str, account_id: int, extensions: int, throttle: Throttle | None
    ) -> ServerSession:
        """Register a new session (a fresh id, an empty replay store); not attached yet."""
        state = SessionState(
            session_id=self._new_session_id(), sent=ReplayStore(limit=self.replay_limit)
        )
        session = ServerSession(state, username, account_id, throttle, extensions)
        self.sessions[session.session_id] = session
        self.by_account.setdefault(account_id, {})[session] = None
        return session

    def _new_session_id(self) -> str:
        while True:
            session_id = uuid128_to_str(secrets.randbits(64), "session")
            if session_id not in self.sessions:
                return session_id

    def attach(self, session: ServerSession, stream: Any, core: SessionCore) -> None:
        """``session`` is now served by ``stream``'s ``core`` (a parked one stops expiring)."""
        if session.expiry is not None:
            session.expiry.cancel()
            session.expiry = None
        session.stream = stream
        session.core = core

    def park(self, session: ServerSession, now: float) -> None:
        """Keep a session with no connection: still numbered and stored, until it expires.

        A fresh detached core, as the live one may have ended (a heartbeat timeout) and no
        longer sends.
        """
        session.stream = None
        session.core = SessionCore.detached(Role.SERVER, session.state, now=now)
        if session.expiry is not None:
            session.expiry.cancel()
        session.expiry = self._call_later(self.expiry, self.expire, session)

    def expire(self, session: ServerSession) -> None:
        """The expiry of a parked session: forgotten, unless it was resumed meanwhile."""
        session.expiry = None
        if session.stream is None and self.sessions.get(session.session_id) is session:
            _log.info("session %s of %r expired", session.session_id, session.username)
            self.forget(session)

    def forget(self, session: ServerSession) -> None:
        """Drop a session for good: no resume, no more messages."""
        if session.expiry is not None:
            session.expiry.cancel()
            session.expiry = None
        self.sessions.pop(session.session_id, None)
        _discard(self.by_account, session.account_id, session)
        for market_id in session.markets:
            _discard(self.subscribers, market_id, session)
        session.markets.clear()
        owners = self.order_owner
        for order_id in session.orders:
            if owners.get(order_id) is session:
                del owners[order_id]
        session.orders.clear()
        session.stream = None

    def forget_all(self) -> None:
        """Forget every session (the server is closing)."""
        for session in list(self.sessions.values()):
            self.forget(session)

    # -- subscriptions and orders ---------------------------------------------------------

    def subscribe(self, session: ServerSession, market_id: int) -> None:
        """``session`` receives ``market_id``'s market data from now on."""
        session.markets.add(market_id)
        self.subscribers.setdefault(market_id, {})[session] = None

    def unsubscribe(self, session: ServerSession, market_id: int) -> None:
        """``session`` receives no more of ``market_id``'s market data."""
        session.markets.discard(market_id)
        _discard(self.subscribers, market_id, session)

    def subscribed(self, market_id: int) -> Iterable[ServerSession]:
        """The sessions subscribed to ``market_id`` (live view: do not change meanwhile)."""
        return self.subscribers.get(market_id, ())

    def own_order(self, session: ServerSession, order_id: int) -> None:
        """``session`` placed ``order_id`` (just accepted)."""
        self.order_owner[order_id] = session
        session.orders.add(order_id)

    def owner_of(self, order_id: int) -> ServerSession | None:
        """The live or parked session that placed the open order ``order_id``, if any."""
        return self.order_owner.get(order_id)

    def forget_order(self, order_id: int) -> None:
        """``order_id`` is no longer open (filled or cancelled)."""
        owner = self.order_owner.pop(order_id, None)
        if owner is not None:
            owner.orders.discard(order_id)


def _discard(index: dict[int, dict[ServerSession, None]], key: int, session: ServerSession) -> None:
    sessions = index.get(key)
    if sessions is not None:
        sessions.pop(session, None)
        if not sessions:
            del index[key]
