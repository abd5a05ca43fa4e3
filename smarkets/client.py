"""What a trading script uses: :class:`Smarkets`.

The client queues requests as protobuf payloads; nothing touches the socket
until :meth:`Smarkets.flush`.  :meth:`Smarkets.read` waits for what the
exchange sends and hands each payload to the handlers registered for its
kind::

    session = smarkets.Session(settings)
    client = smarkets.Smarkets(session)
    client.add_handler('seto.order_accepted', lambda message: print(message.order))
    client.login()
    client.order(order)
    client.flush()
    client.read()

Handler names are ``eto.<type>`` for session payloads (``eto.login_response``,
``eto.pong``, ``eto.heartbeat``, ``eto.replay``, ``eto.logout``, …; the
handler gets the ``eto.Payload``) and ``seto.<kind>`` for exchange payloads
(``seto.order_accepted``, ``seto.market_quotes``, …; the handler gets that
kind's message).  :data:`HANDLER_NAMES` lists them all.  The eto news kinds
(``eto.downtime_alert``, and the extension ``eto.throttle_exceeded``) reach their
handlers in seq order like the exchange payloads.

The wire is the published eto v0.3.0 / seto v0.6.4; the client asks for the
project's extensions at login (``SessionSettings.extensions``).  What needs them
(:meth:`Smarkets.cancel_all`, :meth:`Smarkets.request_markets`, an order's
``reference``) raises :class:`~smarkets.errors.ExtensionNotGrantedError` when the
server granted none, rather than sending what it could not parse.  Everything
else works from the published fields: the client remembers each order's side,
market, contract and quantity, so fills and cancellations make sense without
the extension fields.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TypeVar

from google.protobuf.message import Message

from smarkets.client_base import ClientBase
from smarkets.errors import (
    InvalidRequestError,
    SocketTimeout,
)
from smarkets.events import EventsRequest, fetch_listing
from smarkets.handlers import GlobalHandler, Handler
from smarkets.orders import Order
from smarkets.proto import seto_pb2
from smarkets.protocol import Event, Received, ids
from smarkets.session import Session

__all__ = [
    "GlobalHandler",
    "Handler",
    "Smarkets",
]

log = logging.getLogger("smarkets.client")


_Message = TypeVar("_Message", bound=Message)


class Smarkets(ClientBase):
    """A trading client on top of a :class:`~smarkets.session.Session`.

    Requests (:meth:`ping`, :meth:`subscribe`, :meth:`order`, …) are queued;
    :meth:`flush` sends everything queued in one write.  :meth:`read`
    receives and dispatches payloads to the handlers.

    Threads: one thread may :meth:`read` (and so run the handlers) while
    others queue and :meth:`flush`; handlers may queue and flush too.  Only
    one thread may read at a time.

    ``auto_flush=True`` flushes each payload as soon as it is queued, as the 2013
    SDK's client did: each request is then a write of its own, and a request
    made while not logged in raises :class:`~smarkets.errors.NotLoggedInError`
    (it stays queued for the next flush).  Queueing and calling :meth:`flush`
    yourself, the default, sends a batch in one write.

    The requests and the dispatching of what arrives are
    :class:`~smarkets.client_base.ClientBase`'s, shared with the asyncio client; this
    class adds the blocking ways to wait (:meth:`login`, :meth:`read`, :meth:`logout`,
    :meth:`fetch_events`) and the 2013 SDK's names: those (its id conversions among them,
    as static methods) are what take it just over 300 lines.
    """

    #: The :class:`~smarkets.session.Session` underneath.
    session: Session

    def __init__(self, session: Session, auto_flush: bool = False) -> None:
        super().__init__(session, auto_flush)

    # -- session -----------------------------------------------------------

    def login(self, receive: bool = True) -> None:
        """Log in (resuming the session if it has an id); dispatch the login response.

        Payloads received earlier but not yet read are dispatched first, so the
        handlers still see everything in seq order across a resume.
        Raises what :meth:`smarkets.session.Session.login` raises.

        ``receive=False`` connects and sends the login without waiting for the
        answer: the thread that calls :meth:`read` then receives and dispatches
        ``eto.login_response`` (and what was received earlier), and the login is
        complete once it has.  See ``tests/threading_tests.py``.
        """
        if not receive:
            self.session.login(receive=False)
            return
        earlier = self.session.take_pending()
        try:
            events = self.session.login()
        except BaseException:
            self.session.unread(earlier)
            raise
        self._dispatch_events(earlier + events)

    def logout(self, receive: bool = True) -> None:
        """End the session (LOGOUT, wait for the confirmation, close).

        Payloads still queued are not sent (a warning says how many).  What
        arrives before the confirmation is dispatched.

        ``receive=False`` sends the LOGOUT without waiting: the thread that calls
        :meth:`read` dispatches what arrives up to the confirmation
        (``eto.logout``), and its next ``read()`` raises
        :class:`~smarkets.errors.ConnectionClosed` (the 2013 SDK's
        ``SocketDisconnected``): the session is over.
        """
        with self._queue_lock:
            dropped, self._queue = self._queue, []
        if dropped:
            log.warning("logging out with %d queued payloads not flushed: dropped", len(dropped))
        if not receive:
            self.session.logout(receive=False)
            return
        self._dispatch_events(self.session.logout())  # what was pending comes first

    # -- requests (the 2013 SDK's names among them) -----------------------------------

    def ping(self) -> None:
        """Queue a PING; the server answers PONG (``eto.pong``)."""
        self.queue_ping()

    def order(self, order: Order) -> Order:
        """Validate ``order`` and queue it; return it (its ``state`` is now ``'queued'``);
        see :meth:`~smarkets.client_base.ClientBase.queue_order`."""
        return self.queue_order(order)

    def cancel(self, order_or_id: Order | seto_pb2.Uuid128 | str | int) -> None:
        """Queue the cancellation of an order (an accepted :class:`Order` or an order id);
        see :meth:`~smarkets.client_base.ClientBase.queue_cancel`."""
        self.queue_cancel(order_or_id)

    def send(self, payload: seto_pb2.Payload) -> None:
        """The 2013 SDK's name of :meth:`queue` (preferred): queue a seto payload, sent at
        the next :meth:`flush` (at once with ``auto_flush``)."""
        self.queue(payload)

    def order_cancel(self, order_id: Order | seto_pb2.Uuid128 | str | int) -> None:
        """The 2013 SDK's name of :meth:`cancel` (preferred)."""
        self.cancel(order_id)

    # -- the catalogue: fetching a listing ----------------------------------------------

    def fetch_http_found(
        self,
        payload: seto_pb2.Payload | seto_pb2.HttpFound,
        incoming_payload: seto_pb2.Events | None = None,
    ) -> seto_pb2.Events:
        """Fetch and parse the listing an ``http_found`` points at; return it.

        ``payload`` is the ``seto.Payload`` carrying the ``http_found`` (what a global
        handler gets) or the ``seto.HttpFound`` itself (what a ``seto.http_found``
        handler gets).  ``incoming_payload``, when given, is filled and returned.  The
        download verifies TLS as the stream does; see
        :func:`smarkets.listing.fetch_listing` for the rules and the errors
        (:class:`~smarkets.errors.DownloadError`,
        :class:`~smarkets.errors.InvalidUrlError`).
        """
        if isinstance(payload, seto_pb2.Payload):
            if not payload.HasField("http_found"):
                raise ValueError(f"the payload carries no http_found (type {payload.type})")
            found = payload.http_found
        elif isinstance(payload, seto_pb2.HttpFound):
            found = payload
        else:
            raise TypeError(f"expected a seto Payload or HttpFound, not {type(payload).__name__}")
        listing = fetch_listing(found.url, self.session.settings)
        if incoming_payload is None:
            return listing
        incoming_payload.CopyFrom(listing)
        return incoming_payload

    def fetch_events(self, request: EventsRequest, timeout: float | None = None) -> seto_pb2.Events:
        """Ask for a listing and fetch it: :meth:`request_events`, :meth:`flush`, then
        :meth:`read` until the answer, then :meth:`fetch_http_found`.

        Everything read meanwhile is dispatched to the handlers as :meth:`read` does,
        the answer too.  Waits up to ``timeout`` seconds (default
        ``settings.socket_timeout``) for the answer, then raises
        :class:`~smarkets.errors.SocketTimeout`; raises
        :class:`~smarkets.errors.InvalidRequestError` when the server answers
        ``seto.invalid_request`` (a date outside the listed window), and what
        :meth:`fetch_http_found` raises.  Not for a script where another thread reads.
        """
        payload = self.request_events(request)
        if not self.auto_flush:
            self.flush()
        seq = payload.eto_payload.seq
        limit = self.session.settings.socket_timeout if timeout is None else timeout
        deadline = self.session.clock() + limit
        while True:
            for received in self._read(1, deadline):
                ptype = received.type
                if ptype == seto_pb2.PAYLOAD_HTTP_FOUND and received.http_found.seq == seq:
                    return self.fetch_http_found(received)
                if (
                    ptype == seto_pb2.PAYLOAD_INVALID_REQUEST
                    and received.invalid_request.seq == seq
                ):
                    raise InvalidRequestError(seq, received.invalid_request.type)

    # -- reading -----------------------------------------------------------------------

    def read(self, num: int = 1, timeout: float | None = None) -> list[seto_pb2.Payload]:
        """Receive and dispatch ``num`` payloads; return them.

        Every payload dispatched counts, session-level or exchange
        (duplicates and gapfills are never dispatched, so never count).
        Without ``timeout``, raises :class:`~smarkets.errors.SocketTimeout` when nothing
        arrives within ``settings.socket_timeout``; with ``timeout`` (seconds, 0 to poll),
        returns what was dispatched when it passes, fewer than ``num`` or none.  Raises the
        :class:`~smarkets.errors.SessionEndedError` subclass for the reason when
        the server ends the session (after dispatching what came before the end).
        """
        if timeout is None:
            return self._read(num)
        return self._read(num, self.session.clock() + max(timeout, 0.0), partial=True)

    def _read(
        self, num: int, deadline: float | None = None, *, partial: bool = False
    ) -> list[seto_pb2.Payload]:
        """:meth:`read`; with a ``deadline`` (on ``session.clock``), SocketTimeout once
        it passes, however much else arrives meanwhile (``partial``: what was dispatched
        by then is returned instead)."""
        session = self.session
        if num == 1:
            # The common case, a payload received already: no loop, no waiting.
            received = session.read_pending(1)
            if received:
                event = received[0]
                if isinstance(event, Received) and not session.ending:
                    self._dispatch_received(event)
                    return [event.payload]
                session.unread(received)  # anything else: the general way below
        elif num < 1:
            raise ValueError(f"num must be at least 1, not {num}")
        dispatched: list[seto_pb2.Payload] = []
        dispatch = self._dispatch_received
        while True:
            # Only what is to be dispatched is taken from the session, the one backlog: the
            # rest waits there for the next read (and what a handler that raised left is
            # given back).  The end of the session comes after what preceded it: once it
            # has ended, everything before the end is dispatched, then the read raises it.
            limit = None if session.ending else num - len(dispatched)
            received = session.read_pending(limit)  # received already: no waiting
            if not received:
                if deadline is None:
                    received = session.read_events(limit=limit)
                elif partial:
                    left = deadline - session.clock()
                    if left <= 0 and dispatched:
                        return dispatched
                    received = session.read_events(max(left, 0.0), limit)
                    if not received and left <= 0:
                        return dispatched
                else:
                    received = session.read_events(self._time_left(deadline), limit)
            for index, event in enumerate(received):
                if not isinstance(event, Received):
                    continue
                try:
                    dispatch(event)
                except BaseException:
                    session.unread(received[index + 1 :])
                    raise
                dispatched.append(event.payload)
            if len(dispatched) >= num and not session.ending:
                return dispatched

    def _time_left(self, deadline: float) -> float:
        """Seconds until ``deadline``; SocketTimeout when it has passed."""
        left = deadline - self.session.clock()
        if left <= 0:
            settings = self.session.settings
            raise SocketTimeout(
                f"no answer from {settings.address} in time", settings.host, settings.port
            )
        return left

    def _dispatch_received(self, event: Received) -> None:
        """Dispatch a received payload, then report it processed to the session."""
        try:
            self.dispatch(event.payload)
        finally:
            # A session-level payload's seq is not one the session waits for: ignored there.
            self.session.processed(event.seq)

    def _dispatch_events(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, Received):
                self._dispatch_received(event)

    # -- ids -------------------------------------------------------------------------------

    @staticmethod
    def str_to_uuid128(
        uuid_str: str, uuid128: seto_pb2.Uuid128 | None = None, strip_tag: bool = True
    ) -> seto_pb2.Uuid128:
        """``'fc024'`` → ``Uuid128(low=0xf)``; see :func:`smarkets.protocol.ids.str_to_uuid128`.

        With ``uuid128`` given (the 2013 SDK's signature), that ``Uuid128`` is filled and
        returned instead of a new one.
        """
        result = ids.str_to_uuid128(uuid_str, strip_tag=strip_tag)
        if uuid128 is None:
            return result
        if not isinstance(uuid128, seto_pb2.Uuid128):
            raise TypeError(f"uuid128 must be a Uuid128 to fill, not {type(uuid128).__name__}")
        uuid128.CopyFrom(result)
        return uuid128

    @staticmethod
    def copy_payload(payload: _Message) -> _Message:
        """A copy of a payload (any protobuf message): what a handler keeps, apart from
        whatever later changes the original (the 2013 SDK's way to keep one)."""
        if not isinstance(payload, Message):
            raise TypeError(f"expected a protobuf message, not {type(payload).__name__}")
        copy = type(payload)()
        copy.CopyFrom(payload)
        return copy

    @staticmethod
    def uuid_to_str(u: seto_pb2.Uuid128 | int, kind: str) -> str:
        """``(Uuid128(low=0xf), 'market')`` → ``'fc024'``.

        See :func:`smarkets.protocol.ids.uuid128_to_str`.
        """
        return ids.uuid128_to_str(u, kind)

    @staticmethod
    def uuid128_to_int(u: seto_pb2.Uuid128) -> int:
        """The number a ``Uuid128`` carries; see :func:`smarkets.protocol.ids.uuid128_to_int`."""
        return ids.uuid128_to_int(u)

    @staticmethod
    def int_to_uuid128(n: int) -> seto_pb2.Uuid128:
        """The ``Uuid128`` carrying ``n``; see :func:`smarkets.protocol.ids.int_to_uuid128`."""
        return ids.int_to_uuid128(n)

    @staticmethod
    def str_to_int(text: str, strip_tag: bool = True) -> int:
        """The number of a tagged hex id; see :func:`smarkets.protocol.ids.str_to_int`."""
        return ids.str_to_int(text, strip_tag=strip_tag)

    def __repr__(self) -> str:
        return f"<Smarkets {self.session!r} queued={self.queued}>"
