"""What the exchange sends: who to (:class:`ToAccount`, :class:`ToMarket`) and the payloads.

Every request and admin method of the :class:`~smarkets.sandbox.exchange.engine.Exchange`
returns :data:`Output` pairs: a recipient and a ``seto.Payload`` with ``type`` and its one
message field set (``eto_payload`` is left for the session layer). The payloads are built
here in full, extension fields included (PROTOCOL.md section 3.2); what a session without
extensions is sent instead is :func:`smarkets.protocol.extensions.published_view`'s business,
in the server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smarkets.proto import seto_pb2
from smarkets.protocol.ids import set_uuid128
from smarkets.protocol.orders import MAX_UINT32
from smarkets.sandbox.exchange.book import BUY, Order, Trade

__all__ = [
    "Output",
    "Recipient",
    "ToAccount",
    "ToMarket",
    "contract_quotes",
    "empty_market_quotes",
    "market_state",
    "order_accepted",
    "order_cancel_all_accepted",
    "order_cancel_all_rejected",
    "order_cancel_rejected",
    "order_cancelled",
    "order_executed",
    "order_invalid",
    "order_rejected",
    "orders_for_account",
    "orders_for_market",
    "wire_quantity",
]

Payload = seto_pb2.Payload

_PERCENT_ODDS = seto_pb2.PRICE_PERCENT_ODDS
_PAYOFF = seto_pb2.QUANTITY_PAYOFF_CURRENCY
_LIMIT = seto_pb2.ORDER_CREATE_LIMIT


@dataclass(frozen=True, slots=True)
class ToAccount:
    """Send the payload to one account (a private reply)."""

    account_id: int


@dataclass(frozen=True, slots=True)
class ToMarket:
    """Send the payload to every subscriber of a market (public market data)."""

    market_id: int


Recipient = ToAccount | ToMarket
#: One payload to send and who to send it to.
Output = tuple[Recipient, seto_pb2.Payload]


def wire_quantity(total: int) -> int:
    """A price level's total as a uint32 Quote.quantity: above 4294967295, 4294967295.

    The saturation rule of PROTOCOL.md 3.1 (documented in docs/sandbox.rst and in the
    ``Quote`` comment of seto.piqi): the true total is at least what is shown.
    """
    return total if total <= MAX_UINT32 else MAX_UINT32


def order_invalid(seq: int, reasons: list[int], reference: str | None) -> Payload:
    """order_invalid for the order_create sent as ``seq``, with every reason found."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_INVALID)
    msg = payload.order_invalid
    msg.seq = seq
    msg.reasons.extend(reasons)
    if reference is not None:
        msg.reference = reference
    return payload


def order_rejected(seq: int, reason: int, reference: str | None) -> Payload:
    """order_rejected for the order_create sent as ``seq``."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_REJECTED)
    msg = payload.order_rejected
    msg.seq = seq
    msg.reason = reason
    if reference is not None:
        msg.reference = reference
    return payload


def order_accepted(order: Order) -> Payload:
    """order_accepted for a new order (its request's seq, its id and reference)."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_ACCEPTED)
    msg = payload.order_accepted
    msg.seq = order.seq
    set_uuid128(msg.order, order.id)
    if order.reference is not None:
        msg.reference = order.reference
    return payload


def order_executed(order: Order, price: int, quantity: int, account_sequence: int) -> Payload:
    """order_executed for one fill of ``order`` (whose ``remaining`` is already updated)."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_EXECUTED)
    msg = payload.order_executed
    set_uuid128(msg.order, order.id)
    msg.price = price
    msg.quantity_type = _PAYOFF
    msg.quantity = quantity
    msg.account_sequence = account_sequence
    msg.side = order.side
    set_uuid128(msg.market, order.market_id)
    set_uuid128(msg.contract, order.contract_id)
    msg.remaining = order.remaining
    if order.reference is not None:
        msg.reference = order.reference
    return payload


def order_cancelled(order: Order, reason: int, quantity: int, seq: int | None) -> Payload:
    """order_cancelled for ``quantity`` of ``order``; ``seq`` is the cancel request's, if any."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCELLED)
    msg = payload.order_cancelled
    set_uuid128(msg.order, order.id)
    msg.reason = reason
    msg.quantity = quantity
    if seq is not None:
        msg.seq = seq
    if order.reference is not None:
        msg.reference = order.reference
    return payload


def order_cancel_rejected(order_id: int, reason: int, seq: int) -> Payload:
    """order_cancel_rejected for the order_cancel sent as ``seq``."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL_REJECTED)
    msg = payload.order_cancel_rejected
    msg.seq = seq
    set_uuid128(msg.order, order_id)
    msg.reason = reason
    return payload


def market_state(market_id: int, state: int, winner: int | None) -> Payload:
    """market_state (an extension kind): a market halted, reopened or settled."""
    payload = Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)
    msg = payload.market_state
    set_uuid128(msg.market, market_id)
    msg.state = state
    if winner is not None:
        set_uuid128(msg.winner, winner)
    return payload


def empty_market_quotes(market_id: int) -> Payload:
    """A market_quotes with no contract quotes: a published session's answer for a market
    that does not exist (the published schema has no refusal)."""
    payload = Payload(type=seto_pb2.PAYLOAD_MARKET_QUOTES)
    msg = payload.market_quotes
    set_uuid128(msg.market, market_id)
    msg.price_type = _PERCENT_ODDS
    msg.quantity_type = _PAYOFF
    return payload


def _set_execution(msg: seto_pb2.Execution, trade: Trade) -> None:
    price, quantity, side, timestamp = trade
    msg.price = price
    msg.quantity = quantity
    msg.liquidity = side
    msg.microseconds = timestamp


def contract_quotes(
    msg: seto_pb2.ContractQuotes,
    market_id: int,
    contract_id: int,
    bids: Iterable[tuple[int, int]],
    offers: Iterable[tuple[int, int]],
    trades: Iterable[Trade],
    last: Trade | None,
    volume: int,
) -> None:
    """Fill ``msg`` with a contract's levels (``(price, total)``, best first), its
    executions, its last execution and its volume."""
    set_uuid128(msg.contract, contract_id)
    for price, quantity in bids:
        quote = msg.bids.add()
        quote.price = price
        quote.quantity = wire_quantity(quantity)  # saturated at 2**32 - 1
    for price, quantity in offers:
        quote = msg.offers.add()
        quote.price = price
        quote.quantity = wire_quantity(quantity)  # saturated at 2**32 - 1
    for trade in trades:
        _set_execution(msg.executions.add(), trade)
    if last is not None:
        _set_execution(msg.last_execution, last)
    set_uuid128(msg.market, market_id)
    msg.volume = volume


def order_cancel_all_accepted(seq: int, count: int) -> Payload:
    """order_cancel_all_accepted (an extension kind): ``count`` orders cancelled."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED)
    payload.order_cancel_all_accepted.seq = seq
    payload.order_cancel_all_accepted.count = count
    return payload


def order_cancel_all_rejected(seq: int, reason: int) -> Payload:
    """order_cancel_all_rejected (an extension kind)."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL_ALL_REJECTED)
    payload.order_cancel_all_rejected.seq = seq
    payload.order_cancel_all_rejected.reason = reason
    return payload


def orders_for_account(orders: Iterable[Order]) -> Payload:
    """orders_for_account: an account's open ``orders``, by market (first seen first)."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT)
    by_market: dict[int, list[Order]] = {}
    for order in orders:
        by_market.setdefault(order.market_id, []).append(order)
    for market_id, market_orders in by_market.items():
        _fill_orders_for_market(payload.orders_for_account.markets.add(), market_id, market_orders)
    return payload


def orders_for_market(market_id: int, orders: Iterable[Order]) -> Payload:
    """orders_for_market: an account's open ``orders`` of one market."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDERS_FOR_MARKET)
    _fill_orders_for_market(payload.orders_for_market, market_id, orders)
    return payload


def _fill_orders_for_market(
    msg: seto_pb2.orders_for_market, market_id: int, orders: Iterable[Order]
) -> None:
    """Fill ``msg`` with an account's open ``orders`` of one market: by contract, bids by
    descending price, offers by ascending price, oldest first at a price."""
    set_uuid128(msg.market, market_id)
    msg.price_type = _PERCENT_ODDS
    by_contract: dict[int, tuple[dict[int, list[Order]], dict[int, list[Order]]]] = {}
    for order in orders:
        bids, offers = by_contract.setdefault(order.contract_id, ({}, {}))
        (bids if order.side == BUY else offers).setdefault(order.price, []).append(order)
    for contract_id, (bids, offers) in by_contract.items():
        contract_msg = msg.contracts.add()
        set_uuid128(contract_msg.contract, contract_id)
        for levels, side_orders, prices in (
            (contract_msg.bids, bids, sorted(bids, reverse=True)),
            (contract_msg.offers, offers, sorted(offers)),
        ):
            for price in prices:
                level = levels.add()
                level.price = price
                for order in side_orders[price]:
                    _order_state(level.orders.add(), order)


def _order_state(state: seto_pb2.OrderState, order: Order) -> None:
    set_uuid128(state.order, order.id)
    state.type = _LIMIT
    state.status = (
        seto_pb2.ORDER_STATUS_PARTIALLY_FILLED if order.filled else seto_pb2.ORDER_STATUS_LIVE
    )
    state.quantity_type = _PAYOFF
    state.quantity = order.quantity
    state.created_microseconds = order.created
    state.quantity_filled = order.filled
    state.remaining = order.remaining
    if order.reference is not None:
        state.reference = order.reference
