"""The money model: what an order reserves, what a fill stakes, how money is shown.

Every amount is an integer number of 1/10,000 of the account currency, never a float. A
quantity ``q`` is a payoff: a buy of ``q`` at price ``p`` (basis points of probability,
1...9999) pays ``q`` if the contract wins, a sell of ``q`` pays ``q`` if it loses. What each
side costs is

- ``buy_cost(q, p) = q * p // 10000``,
- ``sell_cost(q, p) = q - buy_cost(q, p)``,

so the two stakes of a matched pair add up to exactly ``q``. Each account has

- ``cash``: its balance, not counting the stakes of matched trades;
- ``exposure``: what its open orders reserve, the sum over them of ``cost(remaining, limit
  price)`` on their side, recomputed per order from what remains so that rounding never
  accumulates;
- ``available = cash - exposure``: what a new order may reserve;
- ``staked``: the stakes of matched trades, held until their market settles.

On the wire (``account_state``) money is a ``Decimal {value, exponent}``: the integer amount
with exponent 4, exact.

An order is accepted only if ``available`` covers its reservation. When two orders trade,
both stakes move from the accounts' ``cash`` to their ``staked``, and each account's
position records its payoff. Settlement empties each account's stake in the market and pays
its payoffs into its ``cash``. Money only ever moves between accounts: the sum of ``cash +
staked`` over all accounts is always the sum of the balances the accounts were opened with.

Rounding. ``q * p / 10000`` is seldom a whole number, so one of the two stakes of a fill has
to be rounded up. If it were always the seller's, a resting sell filled in many small pieces
could pay up to one unit per fill more than it reserved, and the account's ``available``
would go negative through no action of its own. So the resting order (the maker) always
rounds *down* (:func:`maker_stake`): its stake is ``buy_cost(f, p)`` for a buy and ``f -
ceil(f * p / 10000)`` for a sell, which never exceeds the reservation the fill releases, and
the incoming order (the taker) pays ``f`` minus that. When the taker sells this is exactly
``buy_cost`` and ``sell_cost``; when the taker buys, it pays at most one unit more than
``buy_cost(f, p)``. The taker's fills are all known before any is applied, so besides
``available >= cost(quantity, limit)`` an order must also be able to pay what it will
actually be charged (its stakes plus the reservation of any remainder that rests); in the
rare case where the extra rounding units tip it over, it is rejected with
INSUFFICIENT_FUNDS. No account's ``available`` ever goes negative.
"""

from __future__ import annotations

from smarkets.proto import seto_pb2
from smarkets.protocol.orders import PRICE_SCALE
from smarkets.sandbox.exchange.book import BUY

__all__ = [
    "CURRENCY",
    "MAX_TOTAL_BALANCE",
    "MONEY_EXPONENT",
    "buy_cost",
    "maker_stake",
    "reservation",
    "sell_cost",
    "set_money",
]

#: Money on the wire: Decimal(value=amount, exponent=4), amounts being 1/10,000 units.
MONEY_EXPONENT = 4
#: The currency of every account.
CURRENCY = seto_pb2.CURRENCY_GBP
#: The most money all accounts together may be opened with: Decimal.value is an int64.
MAX_TOTAL_BALANCE = (1 << 63) - 1


def buy_cost(quantity: int, price: int) -> int:
    """What buying ``quantity`` at ``price`` costs: ``quantity * price // 10000``."""
    return quantity * price // PRICE_SCALE


def sell_cost(quantity: int, price: int) -> int:
    """What selling ``quantity`` at ``price`` costs: the rest of ``quantity``."""
    return quantity - quantity * price // PRICE_SCALE


def reservation(side: int, quantity: int, price: int) -> int:
    """What an open order of ``side`` for ``quantity`` at limit ``price`` reserves."""
    if side == BUY:
        return quantity * price // PRICE_SCALE
    return quantity - quantity * price // PRICE_SCALE


def maker_stake(side: int, quantity: int, price: int) -> int:
    """A resting order's stake in a fill of ``quantity`` at its price: rounded down."""
    if side == BUY:
        return quantity * price // PRICE_SCALE
    return quantity * (PRICE_SCALE - price) // PRICE_SCALE


def set_money(msg: seto_pb2.Decimal, amount: int) -> None:
    """Write ``amount`` (1/10,000 units) into a ``Decimal``: exact, exponent 4."""
    msg.value = amount
    msg.exponent = MONEY_EXPONENT
