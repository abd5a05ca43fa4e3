"""What each payload a logged-in client sends does.

The session rules (sequencing, replays, heartbeats, logins and logouts) are the core's;
what reaches :meth:`Requests.handle` is each payload the core delivered. A request is carried
out on the :class:`~smarkets.sandbox.exchange.engine.Exchange` and what it causes routed
(:class:`~smarkets.sandbox.server.routing.Router`); subscriptions are kept in the
:class:`~smarkets.sandbox.server.sessions.SessionRegistry`; the listings' URLs are the HTTP
server's.

What a client sends that the server cannot act on is never answered by a silent disconnect
(PROTOCOL.md section 3.1): :meth:`Requests.handle` returns the LOGOUT to end the session
with: ``UNSUPPORTED_PAYLOAD`` for a kind the server does not serve (an unknown eto kind, a
published kind only a server sends such as ``order_accepted``, or an extension kind from a
session granted no extensions), ``INVALID_PAYLOAD`` for a request without its message. A
session without extensions is told ``LOGOUT_NONE`` (the core's business).

The account_state and orders requests answer the session's own account, whichever account
they name: no other account's existence or money is revealed. A market_subscribe or
market_quotes_request for a market that does not exist is refused with
market_subscribe_rejected (MARKET_NOT_FOUND) to a session with extensions; a session without
them, whose schema has no refusal, is sent a market_quotes with no contract quotes. Neither
subscribes. Every application payload counts against the session's throttle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from google.protobuf.unknown_fields import UnknownFieldSet

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import is_session_level, session_payload
from smarkets.protocol.extensions import FIRST_EXTENSION_CODE
from smarkets.protocol.ids import set_uuid128, uuid128_int
from smarkets.sandbox.exchange import Exchange
from smarkets.sandbox.exchange.catalogue import Listing
from smarkets.sandbox.exchange.messages import empty_market_quotes
from smarkets.sandbox.server.catalogue_http import CatalogueHttpServer
from smarkets.sandbox.server.routing import Router, type_name
from smarkets.sandbox.server.sessions import ServerSession, SessionRegistry

__all__ = ["REQUEST_FIELDS", "Requests"]

_log = logging.getLogger(__name__)

Payload = seto_pb2.Payload

_ORDER_CREATE = seto_pb2.PAYLOAD_ORDER_CREATE
_ORDER_CANCEL = seto_pb2.PAYLOAD_ORDER_CANCEL
_ORDER_CANCEL_ALL = seto_pb2.PAYLOAD_ORDER_CANCEL_ALL
_MARKET_SUBSCRIBE = seto_pb2.PAYLOAD_MARKET_SUBSCRIBE
_MARKET_UNSUBSCRIBE = seto_pb2.PAYLOAD_MARKET_UNSUBSCRIBE
_MARKET_QUOTES_REQUEST = seto_pb2.PAYLOAD_MARKET_QUOTES_REQUEST
_ORDERS_FOR_ACCOUNT_REQUEST = seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT_REQUEST
_ORDERS_FOR_MARKET_REQUEST = seto_pb2.PAYLOAD_ORDERS_FOR_MARKET_REQUEST
_ACCOUNT_STATE_REQUEST = seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST
_MARKETS_REQUEST = seto_pb2.PAYLOAD_MARKETS_REQUEST
_EVENTS_REQUEST = seto_pb2.PAYLOAD_EVENTS_REQUEST
_ETO_TYPE_FIELD = eto_pb2.Payload.DESCRIPTOR.fields_by_name["type"].number

#: The kinds a client may send, with the Payload field each needs set (None: an empty
#: request, served whether or not its empty message was set).
REQUEST_FIELDS: dict[int, str | None] = {
    _ORDER_CREATE: "order_create",
    _ORDER_CANCEL: "order_cancel",
    _MARKET_SUBSCRIBE: "market_subscribe",
    _MARKET_UNSUBSCRIBE: "market_unsubscribe",
    _MARKET_QUOTES_REQUEST: "market_quotes_request",
    _ORDERS_FOR_ACCOUNT_REQUEST: None,
    _ORDERS_FOR_MARKET_REQUEST: "orders_for_market_request",
    _ACCOUNT_STATE_REQUEST: None,
    _EVENTS_REQUEST: "events_request",
    # Extension kinds (a session without extensions may not send them).
    _ORDER_CANCEL_ALL: None,
    _MARKETS_REQUEST: None,
}

#: A LOGOUT to end a session with: (reason, why, for the log).
Logout = tuple[int, str]


class Requests:
    """Carries out what sessions send: requests on the exchange, subscriptions, listings.

    ``host_of`` gives the host name a session's listing URLs name (see
    :meth:`SandboxServer.url_host <smarkets.sandbox.server.app.SandboxServer.url_host>`).
    """

    def __init__(
        self,
        exchange: Exchange,
        registry: SessionRegistry,
        router: Router,
        listings: CatalogueHttpServer,
        host_of: Callable[[ServerSession], str],
    ) -> None:
        self.exchange = exchange
        self.registry = registry
        self.router = router
        self.listings = listings
        self._host_of = host_of

    def handle(self, session: ServerSession, payload: Payload, now: float) -> Logout | None:
        """Carry out one payload from a session and route what it causes; return the LOGOUT
        to end the session with if it cannot be served (None: served)."""
        if is_session_level(payload):
            eto = payload.eto_payload
            if not eto.HasField("type") and any(
                f.field_number == _ETO_TYPE_FIELD for f in UnknownFieldSet(eto)
            ):
                return _unsupported(payload, "an eto payload of a kind it does not know")
            return None  # heartbeats, pings, replays...: the core has dealt with them
        throttle = session.throttle
        if throttle is not None and throttle.take(now):
            _log.info(
                "session %s exceeds %g payloads/s: throttled", session.session_id, throttle.rate
            )
            self.router.send(session, session_payload(eto_pb2.PAYLOAD_THROTTLE_EXCEEDED), now)
        ptype = payload.type
        if ptype not in REQUEST_FIELDS:
            return _unsupported(
                payload, f"{type_name(payload)}, which is not a request the sandbox serves"
            )
        if ptype >= FIRST_EXTENSION_CODE and not session.extensions:
            return _unsupported(
                payload, f"{type_name(payload)}, an extension kind, without extensions"
            )
        name = REQUEST_FIELDS[ptype]
        if name is not None and not payload.HasField(name):
            return eto_pb2.LOGOUT_INVALID_PAYLOAD, f"{type_name(payload)} without its {name}"
        seq = payload.eto_payload.seq
        account_id = session.account_id
        exchange = self.exchange
        send = self.router.send
        if ptype == _ORDER_CREATE:
            outputs = exchange.place_order(account_id, payload.order_create, seq)
        elif ptype == _ORDER_CANCEL:
            outputs = exchange.cancel_order(
                account_id, uuid128_int(payload.order_cancel.order), seq
            )
        elif ptype == _ORDER_CANCEL_ALL:
            cancel_all = payload.order_cancel_all
            market = uuid128_int(cancel_all.market) if cancel_all.HasField("market") else None
            outputs = exchange.cancel_all(account_id, market, seq)
        elif ptype == _MARKET_SUBSCRIBE:
            market_id = uuid128_int(payload.market_subscribe.market)
            send(session, self._quotes(session, market_id, seq, subscribe=True), now)
            return None
        elif ptype == _MARKET_UNSUBSCRIBE:
            self.registry.unsubscribe(session, uuid128_int(payload.market_unsubscribe.market))
            return None
        elif ptype == _MARKET_QUOTES_REQUEST:
            market_id = uuid128_int(payload.market_quotes_request.market)
            send(session, self._quotes(session, market_id, seq, subscribe=False), now)
            return None
        elif ptype == _ACCOUNT_STATE_REQUEST:
            send(session, exchange.account_state(account_id, seq), now)
            return None
        elif ptype == _ORDERS_FOR_ACCOUNT_REQUEST:
            send(session, exchange.orders_for_account(account_id), now)
            return None
        elif ptype == _ORDERS_FOR_MARKET_REQUEST:
            market_id = uuid128_int(payload.orders_for_market_request.market)
            send(session, exchange.orders_for_market(account_id, market_id), now)
            return None
        elif ptype == _EVENTS_REQUEST:
            send(session, self._events_reply(session, payload.events_request, seq), now)
            return None
        else:  # _MARKETS_REQUEST
            send(session, exchange.markets.payload(seq), now)
            return None
        self.router.route(outputs, session, now)
        return None

    def _quotes(self, session: ServerSession, market_id: int, seq: int, subscribe: bool) -> Payload:
        """The answer to market_subscribe (``subscribe``) or market_quotes_request: a
        snapshot, or the refusal of a market that does not exist (see the module docs)."""
        if not self.exchange.has_market(market_id):
            if not session.extensions:
                return empty_market_quotes(market_id)
            rejected = Payload(type=seto_pb2.PAYLOAD_MARKET_SUBSCRIBE_REJECTED)
            msg = rejected.market_subscribe_rejected
            msg.seq = seq
            set_uuid128(msg.market, market_id)
            msg.reason = seto_pb2.MARKET_SUBSCRIBE_REJECTED_MARKET_NOT_FOUND
            return rejected
        if subscribe:
            self.registry.subscribe(session, market_id)
        return self.exchange.market_snapshot(market_id, seq)

    def _events_reply(
        self, session: ServerSession, request: seto_pb2.EventsRequest, seq: int
    ) -> Payload:
        """``http_found`` with the URL of the listing asked for, or ``invalid_request``
        DATE_OUT_OF_RANGE for a sport by date without a date within the window."""
        listing = Listing.from_request(request)
        http = self.listings
        if listing is None or not listing.in_window(http.today(), http.window_days):
            reply = Payload(type=seto_pb2.PAYLOAD_INVALID_REQUEST)
            reply.invalid_request.seq = seq
            reply.invalid_request.type = seto_pb2.INVALID_REQUEST_DATE_OUT_OF_RANGE
            return reply
        reply = Payload(type=seto_pb2.PAYLOAD_HTTP_FOUND)
        reply.http_found.seq = seq
        reply.http_found.url = http.url(self._host_of(session), listing.path)
        return reply


def _unsupported(payload: Payload, why: str) -> Logout:
    return eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD, f"sent {why} (seq {payload.eto_payload.seq})"
