"""One contract's limit order book: price levels with FIFO queues, and what changed.

The book knows nothing about money or messages. The exchange decides whether an order may
trade, asks the book which resting orders it would trade with (:meth:`Book.match_plan`),
applies those fills one by one (:meth:`Book.fill`), and after each call collects the price
levels that changed and the trades for the public market data (:meth:`Book.take_changes`).

Layout: each side maps ``price -> level`` (a FIFO deque of orders plus their total remaining
quantity) and keeps the prices that have a level in an ascending list maintained with
:mod:`bisect`, so the best bid is the last bid price and the best offer the first offer
price. Finding the best level is O(1); opening or closing a level is a binary search plus a
list insert or delete over at most 9999 prices; a fill is O(1); cancelling an order is
O(length of its level's queue).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from smarkets.proto import seto_pb2

__all__ = ["BUY", "RECENT_TRADES", "SELL", "Book", "Order", "Trade"]

BUY: int = seto_pb2.SIDE_BUY
SELL: int = seto_pb2.SIDE_SELL

#: How many of the latest trades a book keeps for market snapshots.
RECENT_TRADES = 10


@dataclass(slots=True, eq=False)
class Order:
    """An accepted order. ``quantity == filled + cancelled + remaining`` at all times."""

    id: int
    account_id: int
    market_id: int
    contract_id: int
    side: int
    price: int
    quantity: int
    time_in_force: int
    reference: str | None
    #: The eto seq of the order_create that placed the order.
    seq: int
    remaining: int
    filled: int = 0
    cancelled: int = 0
    #: When the order was accepted, in microseconds since the Unix epoch.
    created: int = 0


class Trade(NamedTuple):
    """A public execution: at ``price``, ``quantity``, the taker's ``side``, time in µs."""

    price: int
    quantity: int
    side: int
    timestamp: int


class _Level:
    """The orders resting at one price, oldest first, and their total remaining quantity."""

    __slots__ = ("orders", "total")

    def __init__(self) -> None:
        self.orders: deque[Order] = deque()
        self.total = 0


class _Side:
    """The bids or the offers of a book."""

    __slots__ = ("changed", "levels", "prices")

    def __init__(self) -> None:
        self.levels: dict[int, _Level] = {}
        #: Prices that have a level, ascending.
        self.prices: list[int] = []
        #: Prices whose level changed since the last :meth:`Book.take_changes`.
        self.changed: set[int] = set()

    def add(self, order: Order) -> None:
        level = self.levels.get(order.price)
        if level is None:
            level = self.levels[order.price] = _Level()
            insort(self.prices, order.price)
        level.orders.append(order)
        level.total += order.remaining
        self.changed.add(order.price)

    def drop_level(self, price: int) -> None:
        del self.levels[price]
        del self.prices[bisect_left(self.prices, price)]

    def changes(self, best_first_descending: bool) -> list[tuple[int, int]]:
        levels = self.levels
        out = []
        for price in sorted(self.changed, reverse=best_first_descending):
            level = levels.get(price)
            out.append((price, level.total if level is not None else 0))
        self.changed.clear()
        return out

    def depth(self, best_first_descending: bool) -> list[tuple[int, int]]:
        prices = reversed(self.prices) if best_first_descending else self.prices
        return [(price, self.levels[price].total) for price in prices]


class Book:
    """The limit order book of one contract, with its trade record.

    Bids and offers rest in price-time priority. The book also remembers, per account and
    side, the prices of that account's resting orders, so that "would this order trade
    with the same account's own order?" is answered without scanning the book.
    """

    __slots__ = ("_own", "_trades", "bids", "offers", "recent", "volume")

    def __init__(self) -> None:
        self.bids = _Side()
        self.offers = _Side()
        #: Total quantity traded so far.
        self.volume = 0
        #: The latest trades, oldest first.
        self.recent: deque[Trade] = deque(maxlen=RECENT_TRADES)
        self._trades: list[Trade] = []
        # (account id, side) -> ascending prices of its resting orders, one entry per order.
        self._own: dict[tuple[int, int], list[int]] = {}

    def best_bid(self) -> int | None:
        """The highest bid price, or None when there are no bids."""
        prices = self.bids.prices
        return prices[-1] if prices else None

    def best_offer(self) -> int | None:
        """The lowest offer price, or None when there are no offers."""
        prices = self.offers.prices
        return prices[0] if prices else None

    def level_total(self, side: int, price: int) -> int:
        """The total remaining quantity of the ``side`` orders resting at ``price`` (0: none)."""
        level = (self.bids if side == BUY else self.offers).levels.get(price)
        return level.total if level is not None else 0

    def crosses_own(self, account_id: int, side: int, price: int) -> bool:
        """Whether an order of ``account_id`` would cross one of its own resting orders."""
        if side == BUY:
            own = self._own.get((account_id, SELL))
            return own is not None and own[0] <= price
        own = self._own.get((account_id, BUY))
        return own is not None and own[-1] >= price

    def match_plan(self, side: int, price: int, quantity: int) -> list[tuple[Order, int]]:
        """The fills an order (side, limit price, quantity) would get, in order; no change.

        Each fill is ``(resting order, quantity)`` and trades at the resting order's price.
        """
        plan: list[tuple[Order, int]] = []
        if side == BUY:
            opposite = self.offers
            prices: Iterator[int] = iter(opposite.prices)
        else:
            opposite = self.bids
            prices = reversed(opposite.prices)
        levels = opposite.levels
        for level_price in prices:
            if (level_price > price) if side == BUY else (level_price < price):
                break
            for order in levels[level_price].orders:
                fill = order.remaining if order.remaining < quantity else quantity
                plan.append((order, fill))
                quantity -= fill
                if not quantity:
                    return plan
        return plan

    def rest(self, order: Order) -> None:
        """Put an order on the book, behind the orders already at its price."""
        (self.bids if order.side == BUY else self.offers).add(order)
        insort(self._own.setdefault((order.account_id, order.side), []), order.price)

    def fill(self, order: Order, quantity: int) -> None:
        """Fill ``quantity`` of a resting order at the head of its level.

        Updates the order's ``remaining`` and ``filled``; a filled order leaves the book.
        """
        side = self.bids if order.side == BUY else self.offers
        price = order.price
        level = side.levels[price]
        order.remaining -= quantity
        order.filled += quantity
        level.total -= quantity
        side.changed.add(price)
        if not order.remaining:
            head = level.orders.popleft()
            assert head is order, "fills must follow the match plan"
            self._forget_own(order)
            if not level.orders:
                side.drop_level(price)

    def remove(self, order: Order) -> None:
        """Take a resting order off the book (its quantities are the caller's business)."""
        side = self.bids if order.side == BUY else self.offers
        price = order.price
        level = side.levels[price]
        level.orders.remove(order)
        level.total -= order.remaining
        side.changed.add(price)
        if not level.orders:
            side.drop_level(price)
        self._forget_own(order)

    def _forget_own(self, order: Order) -> None:
        key = (order.account_id, order.side)
        prices = self._own[key]
        del prices[bisect_left(prices, order.price)]
        if not prices:
            del self._own[key]

    def clear(self) -> list[Order]:
        """Take every order off the book; return them, bids then offers, best first."""
        removed: list[Order] = []
        for side, prices in (
            (self.bids, reversed(self.bids.prices)),
            (self.offers, self.offers.prices),
        ):
            for price in prices:
                removed.extend(side.levels[price].orders)
                side.changed.add(price)
        for side in (self.bids, self.offers):
            side.levels.clear()
            side.prices.clear()
        self._own.clear()
        return removed

    def record_trade(self, price: int, quantity: int, side: int, timestamp: int) -> None:
        """Record a public execution (``side`` is the taker's) and add it to the volume."""
        trade = Trade(price, quantity, side, timestamp)
        self.volume += quantity
        self.recent.append(trade)
        self._trades.append(trade)

    def take_changes(
        self,
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[Trade]] | None:
        """What changed since the last call: (bids, offers, trades), or None if nothing.

        ``bids`` and ``offers`` are the changed levels, best first, each as ``(price, new
        total quantity)`` where 0 means the level is gone; ``trades`` are oldest first.
        """
        if not (self.bids.changed or self.offers.changed or self._trades):
            return None
        trades = self._trades
        self._trades = []
        return self.bids.changes(True), self.offers.changes(False), trades

    def depth(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The whole book as (bids, offers), best first, each level ``(price, total)``."""
        return self.bids.depth(True), self.offers.depth(False)

    def orders(self) -> Iterator[Order]:
        """Every resting order (bids then offers, best first, oldest first in a level)."""
        for side, prices in (
            (self.bids, reversed(self.bids.prices)),
            (self.offers, self.offers.prices),
        ):
            for price in prices:
                yield from side.levels[price].orders

    def problems(self) -> list[str]:
        """Internal consistency checks, for tests: an empty list means all is well."""
        found = []
        best_bid, best_offer = self.best_bid(), self.best_offer()
        if best_bid is not None and best_offer is not None and best_bid >= best_offer:
            found.append(f"book crossed: best bid {best_bid} >= best offer {best_offer}")
        own: dict[tuple[int, int], list[int]] = {}
        for name, side, side_code in (("bid", self.bids, BUY), ("offer", self.offers, SELL)):
            if side.prices != sorted(side.levels):
                found.append(f"{name} prices {side.prices} != levels {sorted(side.levels)}")
            for price, level in side.levels.items():
                if not level.orders:
                    found.append(f"empty {name} level at {price}")
                if level.total != sum(order.remaining for order in level.orders):
                    found.append(f"{name} level {price}: total {level.total} is wrong")
                for order in level.orders:
                    if order.side != side_code or order.price != price or order.remaining <= 0:
                        found.append(f"order {order.id} misplaced in {name} level {price}")
                    own.setdefault((order.account_id, order.side), []).append(order.price)
        if {key: sorted(prices) for key, prices in own.items()} != self._own:
            found.append("own-order price index out of date")
        return found
