"""A client and a server :class:`~smarkets.protocol.connection.Connection` joined in memory.

For tests of anything that speaks the protocol: no socket, no thread, and time only moves
when the test says so::

    pair = ConnectedPair()
    pair.client.login(seto_pb2.Login(username="alice", password="pw"), pair.now)
    pair.settle()                                  # the server gets LoginRequested
    (request,) = pair.server_events
    pair.server.accept_login(SessionState("s1"), pair.now)
    pair.settle()                                  # the client gets LoggedIn

:meth:`ConnectedPair.to_server` and :meth:`~ConnectedPair.to_client` move one side's
bytes to the other (a test may drop or alter them on the way); :meth:`~ConnectedPair.settle`
moves both ways until neither has anything left to send. Every event is kept, in order.
"""

from __future__ import annotations

from smarkets.protocol.connection import Connection
from smarkets.protocol.events import Event
from smarkets.protocol.replay import SessionState
from smarkets.protocol.states import Role

__all__ = ["ConnectedPair"]


class ConnectedPair:
    """Two connections, ``client`` and ``server``, each receiving what the other sends.

    ``now`` is the time both are given (advance it with :meth:`advance`); ``timings``
    (``heartbeat_interval``, ...) apply to both sides.
    """

    def __init__(
        self,
        *,
        now: float = 0.0,
        client_state: SessionState | None = None,
        server_state: SessionState | None = None,
        **timings: float,
    ) -> None:
        self.now = now
        self.client = Connection(Role.CLIENT, client_state, now=now, **timings)
        self.server = Connection(Role.SERVER, server_state, now=now, **timings)
        #: Every event each side has given, in order.
        self.client_events: list[Event] = []
        self.server_events: list[Event] = []

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
        events = self.server.receive_data(data, self.now) if data else []
        self.server_events += events
        return events

    def to_client(self, data: bytes | None = None) -> list[Event]:
        """Give the client ``data`` (by default what the server has to send)."""
        if data is None:
            data = self.server.data_to_send()
        events = self.client.receive_data(data, self.now) if data else []
        self.client_events += events
        return events

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
