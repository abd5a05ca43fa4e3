"""What every client does, whatever its I/O: :class:`ClientBase`.

The synchronous :class:`~smarkets.client.Smarkets` and the asyncio
:class:`~smarkets.aio.AsyncClient` are this plus their own way of waiting: both build
requests here (queued, then written by :meth:`ClientBase.flush` in one go), and both hand
each payload received to :meth:`ClientBase.dispatch`, which applies it to the books, the
account and the order it concerns before calling the handlers.  So a payload means the
same to both clients, and a request is spelled once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Protocol

from smarkets.account import Account
from smarkets.book import BOOK_HANDLER_NAMES, Books, MarketBook
from smarkets.errors import InvalidOrderError, NotLoggedInError
from smarkets.events import EventsRequest
from smarkets.handlers import GlobalHandler, Handler, Handlers
from smarkets.order_tracking import ORDER_REPLIES, Cancel, OrderTracker
from smarkets.orders import Order
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import ids, session_payload
from smarkets.protocol.names import payload_name
from smarkets.settings import SessionSettings

__all__ = ["ClientBase", "SessionLike"]

log = logging.getLogger("smarkets.client")


class SessionLike(Protocol):
    """What a client needs of its session: to number and write payloads at once, and to
    know what the server granted."""

    settings: SessionSettings
    auto_commit: bool

    @property
    def extensions(self) -> int | None: ...

    def send_all(self, payloads: Iterable[seto_pb2.Payload]) -> list[int]: ...

    def require_extensions(self, feature: str) -> None: ...


class ClientBase:
    """Requests, queued and flushed; payloads, dispatched; the books, the account, the
    orders and the handlers they update.  See the module docstring.

    Over 300 lines because it is a method per request the exchange understands, each
    with its own checks; what the replies do lives elsewhere (the order tracking in
    :mod:`smarkets.order_tracking`, the books in :mod:`smarkets.book`, the handlers in
    :mod:`smarkets.handlers`).
    """

    def __init__(self, session: SessionLike, auto_flush: bool = False) -> None:
        #: The session underneath (a :class:`~smarkets.session.Session`, or the asyncio
        #: :class:`~smarkets.aio.AsyncSession`).
        self.session = session
        #: Flush each payload as soon as it is queued (see the class docstring).
        self.auto_flush = auto_flush
        # A payload counts as processed once its handlers have run (it is then reported
        # with session.processed), not when the session hands it over.
        session.auto_commit = False
        self._queue: list[tuple[seto_pb2.Payload, Order | Cancel | None]] = []
        self._queue_lock = threading.Lock()
        #: The orders this client follows (:class:`~smarkets.order_tracking.OrderTracker`).
        self.orders = OrderTracker()
        #: The handlers, by payload name, and the global ones
        #: (:class:`~smarkets.handlers.Handlers`).
        self.handlers = Handlers()
        #: The latest account state (:class:`~smarkets.account.Account`, money in 1/10,000
        #: of the currency), kept up to date from ``seto.account_state`` before its
        #: handlers run; ``None`` until one arrived.
        self.account: Account | None = None
        #: The order books of the subscribed markets (:class:`~smarkets.book.Books`), kept
        #: up to date from the quotes before their handlers run.
        self.books = Books()

    def book(self, market: seto_pb2.Uuid128 | str | int) -> MarketBook | None:
        """The :class:`~smarkets.book.MarketBook` of a subscribed market (``None`` until
        its snapshot arrived)."""
        return self.books.get(market)

    # -- handlers --------------------------------------------------------------

    def add_handler(self, name: str, fn: Handler) -> None:
        """Call ``fn(message)`` for every payload named ``name`` (see
        :data:`~smarkets.protocol.names.HANDLER_NAMES`)."""
        self.handlers.add(name, fn)

    def del_handler(self, name: str, fn: Handler) -> None:
        """Stop calling ``fn`` for ``name``."""
        self.handlers.remove(name, fn)

    def add_global_handler(self, fn: GlobalHandler) -> None:
        """Call ``fn(name, payload)`` for every payload dispatched (the whole seto Payload)."""
        self.handlers.add_global(fn)

    def del_global_handler(self, fn: GlobalHandler) -> None:
        """Stop calling global handler ``fn``."""
        self.handlers.remove_global(fn)

    # -- queueing ----------------------------------------------------------------

    def queue(self, payload: seto_pb2.Payload) -> None:
        """Queue any seto payload (its eto seq is set when it is flushed)."""
        if not isinstance(payload, seto_pb2.Payload):
            raise TypeError(f"expected a seto Payload, not {type(payload).__name__}")
        self._queue_payload(payload, None)

    def _queue_payload(self, payload: seto_pb2.Payload, order: Order | Cancel | None) -> None:
        with self._queue_lock:
            self._queue.append((payload, order))
        if self.auto_flush:
            self.flush()

    @property
    def extensions(self) -> int | None:
        """The protocol extensions version the server granted (``session.extensions``):
        ``None`` before the first login, ``0`` for none."""
        return getattr(self.session, "extensions", None)

    @property
    def queued(self) -> int:
        """How many payloads wait for :meth:`flush`."""
        return len(self._queue)

    def queue_ping(self) -> None:
        """Queue a PING; the server answers PONG (``eto.pong``)."""
        self._queue_payload(session_payload(eto_pb2.PAYLOAD_PING), None)

    def subscribe(self, market: seto_pb2.Uuid128 | str | int) -> None:
        """Queue a subscription to ``market``'s quotes (answered by ``seto.market_quotes``)."""
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKET_SUBSCRIBE)
        payload.market_subscribe.market.CopyFrom(ids.to_uuid128(market, "market"))
        self._queue_payload(payload, None)

    def unsubscribe(self, market: seto_pb2.Uuid128 | str | int) -> None:
        """Queue the end of a subscription to ``market``; its book is dropped at once."""
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKET_UNSUBSCRIBE)
        payload.market_unsubscribe.market.CopyFrom(ids.to_uuid128(market, "market"))
        self.books.drop(market)
        self._queue_payload(payload, None)

    def queue_order(self, order: Order) -> Order:
        """Validate ``order`` and queue it; return it (its ``state`` is now ``'queued'``).

        Raises :class:`~smarkets.errors.InvalidOrderError` listing every problem,
        before anything is queued.  An order can be placed once.
        """
        if not isinstance(order, Order):
            raise TypeError(f"expected a smarkets.Order, not {type(order).__name__}")
        if order.state is not None:
            raise InvalidOrderError([f"this order was already placed (state {order.state!r})"])
        order.validate()
        if order.reference is not None:
            self.session.require_extensions("an order reference")
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
        order._fill(payload.order_create)  # in place: no OrderCreate to copy
        order._queued()
        self._queue_payload(payload, order)
        return order

    def queue_cancel(self, order_or_id: Order | seto_pb2.Uuid128 | str | int) -> None:
        """Queue the cancellation of an order (an accepted :class:`Order` or an order id).

        Answered by ``seto.order_cancelled`` (the order's ``on_cancelled`` is called) or
        ``seto.order_cancel_rejected`` (NOT_FOUND, NOT_LIVE), which names the cancel by the
        seq :meth:`flush` gave it; the order's ``on_cancel_rejected`` is then called.
        """
        order: Order | None = None
        if isinstance(order_or_id, Order):
            order = order_or_id
            if order_or_id.id is None:
                raise InvalidOrderError(
                    [
                        f"the order has no id yet (state {order_or_id.state!r}): "
                        "it can be cancelled once accepted"
                    ]
                )
            order_id = order_or_id.id
        else:
            order_id = ids.to_uuid128(order_or_id, "order")
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL)
        payload.order_cancel.order.CopyFrom(order_id)
        self._queue_payload(payload, self.orders.cancel_of(order_id, order))

    def cancel_all(self, market: seto_pb2.Uuid128 | str | int | None = None) -> None:
        """Queue the cancellation of every open order, in ``market`` or in all markets.

        A protocol extension: raises :class:`~smarkets.errors.ExtensionNotGrantedError`
        when the server granted none (cancel the orders one by one then, e.g. those of
        :meth:`request_orders`).
        """
        self.session.require_extensions("cancel_all (order_cancel_all)")
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL_ALL)
        payload.order_cancel_all.SetInParent()
        if market is not None:
            payload.order_cancel_all.market.CopyFrom(ids.to_uuid128(market, "market"))
        self._queue_payload(payload, None)

    def request_account_state(self) -> None:
        """Queue a request for the account's balance (answered by ``seto.account_state``;
        :attr:`account` holds it converted to 1/10,000 units)."""
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
        payload.account_state_request.SetInParent()
        self._queue_payload(payload, None)

    def request_markets(self) -> None:
        """Queue a request for the market catalogue (answered by ``seto.markets``).

        The catalogue over the stream is a protocol extension: raises
        :class:`~smarkets.errors.ExtensionNotGrantedError` when the server granted none.
        """
        self.session.require_extensions("the market catalogue (markets_request)")
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKETS_REQUEST)
        payload.markets_request.SetInParent()
        self._queue_payload(payload, None)

    # -- the catalogue (published: events_request, then HTTP) ---------------------------

    def request_events(self, request: EventsRequest) -> seto_pb2.Payload:
        """Queue an events request (:class:`~smarkets.events.Politics`,
        :class:`~smarkets.events.FootballByDate`, ...); return the payload queued.

        Answered by ``seto.http_found`` (fetch it with :meth:`fetch_http_found`) or
        ``seto.invalid_request``, each naming the request by the seq the payload gets at
        :meth:`flush`.  :meth:`fetch_events` does it all in one call.
        """
        if not isinstance(request, EventsRequest):
            raise TypeError(
                f"expected an events request (smarkets.Politics(), ...), not {request!r}"
            )
        payload = request.to_payload()
        self._queue_payload(payload, None)
        return payload

    def request_orders(self, market: seto_pb2.Uuid128 | str | int | None = None) -> None:
        """Queue a request for the open orders: of ``market`` (answered by
        ``seto.orders_for_market``) or of every market (``seto.orders_for_account``).

        :func:`smarkets.account.open_orders` flattens either answer.
        """
        if market is None:
            self.request_orders_for_account()
        else:
            self.request_orders_for_market(market)

    def request_orders_for_account(self) -> None:
        """Queue ``orders_for_account_request`` (answered by ``seto.orders_for_account``)."""
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT_REQUEST)
        payload.orders_for_account_request.SetInParent()
        self._queue_payload(payload, None)

    def request_orders_for_market(self, market: seto_pb2.Uuid128 | str | int) -> None:
        """Queue ``orders_for_market_request`` (answered by ``seto.orders_for_market``)."""
        payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDERS_FOR_MARKET_REQUEST)
        payload.orders_for_market_request.market.CopyFrom(ids.to_uuid128(market, "market"))
        self._queue_payload(payload, None)

    # -- sending ---------------------------------------------------------------------

    def flush(self) -> list[int]:
        """Send everything queued, in one write; return the seqs given to the payloads.

        Orders get their ``seq`` and the state ``'sent'``.  Raises
        :class:`~smarkets.errors.NotLoggedInError` (the payloads stay queued)
        when not logged in.  If the connection fails during the write, the
        payloads are numbered and kept by the session all the same and reach
        the server after the next :meth:`login` (it asks for them).
        """
        with self.orders.lock:
            with self._queue_lock:
                items, self._queue = self._queue, []
            if not items:
                return []
            try:
                seqs = self.session.send_all([payload for payload, _ in items])
            except NotLoggedInError:
                with self._queue_lock:
                    self._queue[:0] = items
                raise
            except BaseException:
                # The payloads numbered before the failure are kept by the session.
                for payload, order in items:
                    if order is not None and payload.eto_payload.HasField("seq"):
                        self.orders.sent(order, payload.eto_payload.seq)
                raise
            for (_, order), seq in zip(items, seqs, strict=True):
                if order is not None:
                    self.orders.sent(order, seq)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("flushed %d payloads (seq %d to %d)", len(seqs), seqs[0], seqs[-1])
            return seqs

    # -- dispatching ---------------------------------------------------------------------

    def dispatch(self, payload: seto_pb2.Payload) -> str:
        """Hand ``payload`` to its handlers (as :meth:`read` does); return its name.

        Quotes are applied to :attr:`books` first; the order it concerns (if
        any) is updated and its callback called, then the handlers for the
        name, then the global handlers.
        """
        name, message = payload_name(payload)
        if name in BOOK_HANDLER_NAMES:
            self.books.apply(name, message)
        elif name == "seto.account_state":
            self.account = Account.from_message(message)
        if name in ORDER_REPLIES:
            self.orders.reply(name, message)
        self.handlers.call(name, message, payload)
        return name

    def order_for(self, order_id: ids.IdLike) -> Order | None:
        """The :class:`~smarkets.orders.Order` tracked under ``order_id`` (``None`` if none);
        see :meth:`OrderTracker.order_for <smarkets.order_tracking.OrderTracker.order_for>`."""
        return self.orders.order_for(order_id)
