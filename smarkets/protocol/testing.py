"""A client and a server :class:`~smarkets.protocol.connection.Connection` joined in memory.

For tests of anything that speaks the protocol: no socket, no thread, and time only moves
when the test says so::

    pair = ConnectedPair()
    pair.client.login(seto_pb2.Login(username="alice", password="pw"), pair.now)
    pair.settle()                                  # the server gets LoginRequested
    (request,) = pair.server_events
    pair.server.accept_login(SessionState("s1"), pair.now)
    pair.settle()                                  # the client gets LoggedIn

(:meth:`ConnectedPair.log_in` does that in one call, for tests about what comes after.)
:meth:`ConnectedPair.to_server` and :meth:`~ConnectedPair.to_client` move one side's
bytes to the other (a test may alter them on the way, or give its own);
:meth:`~ConnectedPair.drop` loses what both sides have to send, as a dropped connection
does; :meth:`~ConnectedPair.settle` moves both ways until neither has anything left to send.
Every event is kept, in order, and every payload that crossed, in :attr:`~ConnectedPair.wire`.
"""

from __future__ import annotations

from smarkets.errors import ProtocolError
from smarkets.proto import seto_pb2
from smarkets.protocol.connection import Connection
from smarkets.protocol.events import Event
from smarkets.protocol.framing import FrameDecoder
from smarkets.protocol.replay import SessionState
from smarkets.protocol.states import Role, State

__all__ = ["TO_CLIENT", "TO_SERVER", "ConnectedPair"]

#: The directions in :attr:`ConnectedPair.wire`.
TO_SERVER = "c>s"
TO_CLIENT = "s>c"


class ConnectedPair:
    """Two connections, ``client`` and ``server``, each receiving what the other sends.

    ``now`` is the time both are given (advance it with :meth:`advance`, or set it);
    the other keyword arguments (``heartbeat_interval``, ..., ``max_payload_size``) are
    :class:`~smarkets.protocol.connection.Connection`'s, for both sides.
    """

    def __init__(
        self,
        *,
        now: float = 0.0,
        client_state: SessionState | None = None,
        server_state: SessionState | None = None,
        **options: float,
    ) -> None:
        self.now = now
        self.client = Connection(Role.CLIENT, client_state, now=now, **options)
        self.server = Connection(Role.SERVER, server_state, now=now, **options)
        #: Every event each side has given, in order.
        self.client_events: list[Event] = []
        self.server_events: list[Event] = []
        #: Every payload that crossed, in order, as ``(direction, payload bytes)`` with
        #: direction :data:`TO_SERVER` (``"c>s"``) or :data:`TO_CLIENT` (``"s>c"``). What
        #: was dropped is not there; bytes that break the framing end their direction's log.
        self.wire: list[tuple[str, bytes]] = []
        # The log's own frame decoders, one per direction (the connections' are theirs).
        self._taps = {TO_SERVER: FrameDecoder(), TO_CLIENT: FrameDecoder()}

    def log_in(
        self,
        session: SessionState | None = None,
        credentials: seto_pb2.Login | None = None,
        extensions: int = 0,
    ) -> None:
        """Log the client in: its login crosses, the server accepts it, the answer crosses.

        The server serves ``session`` (by default a new session ``"s-1"``) and grants
        ``extensions``; the client logs in with ``credentials`` (by default alice's).
        Raises AssertionError unless both sides end up logged in.
        """
        if credentials is None:
            credentials = seto_pb2.Login(username="alice", password="pw")  # noqa: S106
        self.client.login(credentials, self.now)
        self.settle()
        if session is None:
            session = SessionState("s-1")
        self.server.accept_login(session, self.now, extensions)
        self.settle()
        if self.client.state is not State.LOGGED_IN or self.server.state is not State.LOGGED_IN:
            raise AssertionError(f"not logged in: {self.client.state}, {self.server.state}")

    def advance(self, seconds: float) -> list[Event]:
        """Move time on and run both sides' timers; return the events that fired."""
        self.now += seconds
        client = self.client.tick(self.now)
        server = self.server.tick(self.now)
        self.client_events += client
        self.server_events += server
        return client + server

    def to_server(self, data: bytes | None = None) -> list[Event]:
        """Give the server ``data`` (by default what the client has to send)."""
        if data is None:
            data = self.client.data_to_send()
        if not data:
            return []
        self._log(TO_SERVER, data)
        events = self.server.receive_data(data, self.now)
        self.server_events += events
        return events

    def to_client(self, data: bytes | None = None) -> list[Event]:
        """Give the client ``data`` (by default what the server has to send)."""
        if data is None:
            data = self.server.data_to_send()
        if not data:
            return []
        self._log(TO_CLIENT, data)
        events = self.client.receive_data(data, self.now)
        self.client_events += events
        return events

    def drop(self) -> None:
        """Lose whatever both sides have to send: the bytes in flight when a connection drops."""
        self.client.data_to_send()
        self.server.data_to_send()

    def settle(self, max_rounds: int = 100) -> None:
        """Move bytes both ways until neither side has anything left to send."""
        for _ in range(max_rounds):
            to_server = self.client.data_to_send()
            if to_server:
                self.to_server(to_server)
            to_client = self.server.data_to_send()
            if to_client:
                self.to_client(to_client)
            if not to_server and not to_client:
                return
        raise AssertionError(f"still talking after {max_rounds} rounds")

    def _log(self, direction: str, data: bytes) -> None:
        tap = self._taps[direction]
        if tap.failed:
            return
        try:
            self.wire += [(direction, payload) for payload in tap.feed(data)]
        except ProtocolError:
            pass  # the receiving connection finds it too, and says so
