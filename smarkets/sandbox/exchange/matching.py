"""Matching one well-formed order: what refuses it, what it really costs, how it fills.

:meth:`Exchange.place_order <smarkets.sandbox.exchange.engine.Exchange.place_order>` calls
these in turn: :func:`refusal` before matching (the ``order_rejected`` reasons, the first
that applies, in the published order), :func:`cannot_pay` once the book has said which
resting orders the order would trade with (the rounding rule of
:mod:`~smarkets.sandbox.exchange.money` may cost the taker a unit more per fill), and
:func:`fill`, which trades it against them: the books, the accounts' money and positions,
and an ``order_executed`` for each side of each fill.
"""

from __future__ import annotations

from smarkets.proto import seto_pb2
from smarkets.sandbox.exchange import messages
from smarkets.sandbox.exchange.accounts import Account, Ledger
from smarkets.sandbox.exchange.book import Book, Order
from smarkets.sandbox.exchange.markets import Contract, Market
from smarkets.sandbox.exchange.messages import Output
from smarkets.sandbox.exchange.money import maker_stake, reservation

__all__ = ["MAX_QUANTITY", "cannot_pay", "fill", "refusal"]

#: The largest contract volume: the extension field ``volume`` is a uint64.
MAX_QUANTITY = (1 << 64) - 1

_IOC = seto_pb2.IMMEDIATE_OR_CANCEL
_OPEN = seto_pb2.MARKET_STATUS_OPEN
_HALTED = seto_pb2.MARKET_STATUS_HALTED


def refusal(
    account: Account,
    market: Market | None,
    contract: Contract | None,
    side: int,
    price: int,
    quantity: int,
    time_in_force: int,
    *,
    orders_down: bool,
    max_open_orders: int,
) -> int:
    """The order_rejected reason of a well-formed order, before matching (0: none).

    ACCOUNT_SUSPENDED, SERVICE_TEMPORARILY_UNAVAILABLE (``orders_down``),
    MARKET_NOT_FOUND, CONTRACT_NOT_FOUND, MARKET_HALTED / MARKET_SETTLED, LIMIT_EXCEEDED
    (open orders; an IMMEDIATE_OR_CANCEL order never rests, so the limit does not concern
    it), INSUFFICIENT_FUNDS (the reservation at the limit price), CROSSED_SELF.
    """
    if account.suspended:
        return seto_pb2.ORDER_REJECTED_ACCOUNT_SUSPENDED
    if orders_down:
        return seto_pb2.ORDER_REJECTED_SERVICE_TEMPORARILY_UNAVAILABLE
    if market is None:
        return seto_pb2.ORDER_REJECTED_MARKET_NOT_FOUND
    if contract is None:
        return seto_pb2.ORDER_REJECTED_CONTRACT_NOT_FOUND
    if market.state != _OPEN:
        if market.state == _HALTED:
            return seto_pb2.ORDER_REJECTED_MARKET_HALTED
        return seto_pb2.ORDER_REJECTED_MARKET_SETTLED
    if len(account.open_orders) >= max_open_orders and time_in_force != _IOC:
        return seto_pb2.ORDER_REJECTED_LIMIT_EXCEEDED
    if account.cash - account.exposure < reservation(side, quantity, price):
        return seto_pb2.ORDER_REJECTED_INSUFFICIENT_FUNDS
    if contract.book.crosses_own(account.id, side, price):
        return seto_pb2.ORDER_REJECTED_CROSSED_SELF
    return 0


def cannot_pay(
    account: Account,
    book: Book,
    plan: list[tuple[Order, int]],
    side: int,
    price: int,
    quantity: int,
    rests: bool,
) -> int:
    """Why an order that matches ``plan`` cannot be taken after all (0: it can).

    INSUFFICIENT_FUNDS when the account cannot pay what the order will really cost: the
    taker's stakes, rounding included, plus the reservation of a remainder that rests;
    LIMIT_EXCEEDED when its fills would take the contract's volume past 2**64 - 1.
    """
    due = 0
    remaining = quantity
    for maker, matched in plan:
        due += matched - maker_stake(maker.side, matched, maker.price)
        remaining -= matched
    if rests:
        due += reservation(side, remaining, price)
    if account.cash - account.exposure < due:
        return seto_pb2.ORDER_REJECTED_INSUFFICIENT_FUNDS
    if book.volume + (quantity - remaining) > MAX_QUANTITY:
        return seto_pb2.ORDER_REJECTED_LIMIT_EXCEEDED
    return 0


def fill(
    ledger: Ledger,
    account: Account,
    order: Order,
    market: Market,
    contract: Contract,
    plan: list[tuple[Order, int]],
    out: list[Output],
) -> None:
    """Trade ``order`` (the taker, of ``account``) against the resting orders of ``plan``.

    Each fill trades at the resting order's price; the maker's stake rounds down, the taker
    pays the rest. Appends an order_executed to the taker, then one to the maker, per fill.
    """
    timestamp = order.created
    accounts = ledger.accounts
    book = contract.book
    side = order.side
    market_id, contract_id = market.id, contract.id
    participants = market.participants
    for maker, matched in plan:
        fill_price = maker.price
        maker_account = accounts[maker.account_id]
        stake = maker_stake(maker.side, matched, fill_price)
        before = reservation(maker.side, maker.remaining, fill_price)
        book.fill(maker, matched)
        maker_account.exposure += reservation(maker.side, maker.remaining, fill_price) - before
        if not maker.remaining:
            ledger.filled(maker_account, maker)
        order.remaining -= matched
        order.filled += matched
        maker_account.stake(market_id, contract_id, maker.side, matched, stake)
        account.stake(market_id, contract_id, side, matched, matched - stake)
        participants.add(maker_account.id)
        participants.add(account.id)
        book.record_trade(fill_price, matched, side, timestamp)
        taker_fill = messages.order_executed(order, fill_price, matched, account.next_fill())
        out.append((account.recipient, taker_fill))
        maker_fill = messages.order_executed(maker, fill_price, matched, maker_account.next_fill())
        out.append((maker_account.recipient, maker_fill))
