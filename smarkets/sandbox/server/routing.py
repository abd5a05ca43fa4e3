"""Routing: who receives each of the exchange's outputs, and in which view.

The rules (:meth:`Router.targets`):

* a reply to a request (order_accepted/rejected/invalid, order_cancel_rejected,
  order_cancel_all_accepted/rejected, order_cancelled carrying the request's seq,
  account_state carrying a seq, orders_for_account/market, markets, market_quotes,
  market_subscribe_rejected) goes to the session that sent the request;
* order_executed, and an order_cancelled with no seq (an IMMEDIATE_OR_CANCEL remainder or a
  ``maq`` not met, a halt, a settlement), go to the session that placed the order while it
  exists (connected or parked); once that session has ended (logout, expiry), to every
  session of the order's account, connected or parked (none: nothing is sent; the orders
  and account state requests still tell the truth);
* an account_state with no seq (after a settlement) goes to every session of the account;
* public market data (``ToMarket``) goes to every session subscribed to the market.

Extensions (PROTOCOL.md section 3.2): a session granted none is sent only what the published
schema parses: every payload goes through
:func:`smarkets.protocol.extensions.published_view` on its way to it (an extension kind is
not sent; extension fields are left out; an extension enum value becomes its published
stand-in), and routing is decided on the full payload before the view is made (the request
seqs that route order_cancelled and account_state are extension fields). The market-data
fan-out serialises each payload once per variant.

A session's payloads go to its core: written out if it is attached (its connection's shell
is then in :attr:`Router.dirty`, to be flushed), kept for a resume if it is parked. The
:class:`Router` is a plain object: it touches no socket and reads no clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from smarkets.errors import LocalProtocolError
from smarkets.proto import seto_pb2
from smarkets.protocol import serialize_once
from smarkets.protocol.extensions import published_view
from smarkets.protocol.ids import uuid128_int
from smarkets.sandbox.exchange.messages import Output, ToMarket
from smarkets.sandbox.server.sessions import ServerSession, SessionRegistry

__all__ = ["Router", "type_name"]

_log = logging.getLogger(__name__)

Payload = seto_pb2.Payload

_ORDER_ACCEPTED = seto_pb2.PAYLOAD_ORDER_ACCEPTED
_ORDER_EXECUTED = seto_pb2.PAYLOAD_ORDER_EXECUTED
_ORDER_CANCELLED = seto_pb2.PAYLOAD_ORDER_CANCELLED
_ACCOUNT_STATE = seto_pb2.PAYLOAD_ACCOUNT_STATE


def type_name(payload: Payload) -> str:
    """The name of ``payload``'s seto type (its number if the schema does not know it)."""
    try:
        return seto_pb2.PayloadType.Name(payload.type)
    except ValueError:
        return str(payload.type)


class Router:
    """Delivers the exchange's outputs (and the server's own payloads) to sessions."""

    def __init__(self, registry: SessionRegistry) -> None:
        self.registry = registry
        #: The shells of the connections given something to write since the last flush.
        self.dirty: dict[Any, None] = {}

    def route(self, outputs: Iterable[Output], requester: ServerSession | None, now: float) -> None:
        """Send each of the exchange's outputs to the sessions it concerns.

        ``requester`` is the session whose request produced ``outputs`` (``None`` for the
        bots and administration). See the module docstring for the rules.
        """
        send = self.send
        for recipient, payload in outputs:
            if type(recipient) is ToMarket:
                subscribers = self.registry.subscribers.get(recipient.market_id)
                if subscribers:
                    self._fan_out(payload, subscribers, now)
                continue
            for session in self.targets(recipient.account_id, payload, requester):
                send(session, payload, now)

    def _fan_out(self, payload: Payload, subscribers: Iterable[ServerSession], now: float) -> None:
        """Market data to its subscribers: serialised once per variant, each subscriber's
        seq appended: the full payload, and (made only if a subscriber has no extensions)
        its published view (None: not sent to those)."""
        try:
            body = serialize_once(payload)
        except LocalProtocolError as exc:
            _log.debug("%s cannot be sent (%s): dropped", type_name(payload), exc)
            return
        published: bytes | None = None
        viewed = False
        send_serialized = self.send_serialized
        for session in subscribers:
            if session.extensions:
                send_serialized(session, body, now)
                continue
            if not viewed:
                viewed = True
                view = published_view(payload)
                if view is not None:
                    published = body if view is payload else serialize_once(view)
            if published is not None:
                send_serialized(session, published, now)

    def targets(
        self, account_id: int, payload: Payload, requester: ServerSession | None
    ) -> list[ServerSession]:
        """The sessions a private payload for ``account_id`` goes to (see :meth:`route`).

        Also keeps the order id -> placing session map up to date as orders are accepted,
        filled and cancelled. Decided on the full payload: the request seqs it looks at are
        extension fields, which the published view of the payload leaves out.
        """
        registry = self.registry
        ptype = payload.type
        if ptype == _ORDER_EXECUTED:
            executed = payload.order_executed
            order_id = uuid128_int(executed.order)
            owner = registry.owner_of(order_id)
            if executed.HasField("remaining") and executed.remaining == 0:
                registry.forget_order(order_id)
            if owner is not None:
                return [owner]
            return registry.of_account(account_id)
        if ptype == _ORDER_CANCELLED:
            cancelled = payload.order_cancelled
            order_id = uuid128_int(cancelled.order)
            owner = registry.owner_of(order_id)
            registry.forget_order(order_id)
            if cancelled.HasField("seq") and requester is not None:
                return [requester] if requester.account_id == account_id else []
            if owner is not None:
                return [owner]
            return registry.of_account(account_id)
        if ptype == _ACCOUNT_STATE and not payload.account_state.HasField("seq"):
            return registry.of_account(account_id)
        if requester is None or requester.account_id != account_id:
            if requester is not None:
                _log.warning(
                    "%s for account %d produced by a request of account %d: dropped",
                    type_name(payload),
                    account_id,
                    requester.account_id,
                )
            return []
        if ptype == _ORDER_ACCEPTED:
            registry.own_order(requester, uuid128_int(payload.order_accepted.order))
        return [requester]

    def send(self, session: ServerSession, payload: Payload, now: float) -> None:
        """Give ``payload`` to the session's core: written out if attached, kept if parked.

        A session without extensions is given the published view of it (or nothing).
        """
        core = session.core
        if core is None:
            return
        if not session.extensions:
            view = published_view(payload)
            if view is None:
                return
            payload = view
        self._deliver(session, core.send, payload, now)

    def send_serialized(self, session: ServerSession, body: bytes, now: float) -> None:
        """:meth:`send` for a payload serialised once for many sessions (``serialize_once``)."""
        core = session.core
        if core is not None:
            self._deliver(session, core.send_serialized, body, now)

    def _deliver(
        self, session: ServerSession, send: Callable[[Any, float], int], what: Any, now: float
    ) -> None:
        """``send(what, now)`` on the session's core, and its connection marked for writing
        (a parked session's detached core queues nothing: its replay store keeps it)."""
        try:
            send(what, now)
        except LocalProtocolError as exc:
            _log.debug("session %s cannot send now (%s): dropped", session.session_id, exc)
            return
        stream = session.stream
        if stream is not None:
            self.dirty[stream] = None

    def announce(self, payload: Payload, now: float) -> None:
        """Send ``payload`` to every session, connected or parked."""
        for session in list(self.registry.sessions.values()):
            self.send(session, payload, now)
