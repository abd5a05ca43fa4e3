"""The exchange's accounts: money, open orders and positions, and the ledger that holds them.

An :class:`Account` is what the exchange knows of a trader: its money (see
:mod:`~smarkets.sandbox.exchange.money`), its open orders, the ids of the orders it finished
lately (so that a cancel of one is refused NOT_LIVE rather than NOT_FOUND), and its
positions. The :class:`Ledger` opens accounts (ids 1, 2, 3 ... in order), finds them by
name, keeps every open order (each reserves money until it is filled or cancelled), and
checks that no money was made or lost.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field

from smarkets.proto import seto_pb2
from smarkets.protocol.ids import set_uuid128
from smarkets.protocol.orders import MAX_UINT32
from smarkets.sandbox.exchange import messages
from smarkets.sandbox.exchange.book import BUY, Order
from smarkets.sandbox.exchange.messages import Payload, ToAccount
from smarkets.sandbox.exchange.money import (
    CURRENCY,
    MAX_TOTAL_BALANCE,
    reservation,
    set_money,
)

__all__ = ["FINISHED_ORDERS_REMEMBERED", "Account", "Ledger"]

_log = logging.getLogger(__name__)

#: How many of its finished (filled or cancelled) order ids each account's memory keeps,
#: so that a cancel of one is refused NOT_LIVE rather than NOT_FOUND.
FINISHED_ORDERS_REMEMBERED = 10_000


@dataclass(slots=True, eq=False)
class Account:
    """One account: its money (1/10,000 units), open orders and positions."""

    id: int
    name: str
    cash: int
    recipient: ToAccount
    exposure: int = 0
    staked: int = 0
    suspended: bool = False
    #: The account_sequence of its last fill.
    fills: int = 0
    #: Open orders by id, oldest first.
    open_orders: dict[int, Order] = field(default_factory=dict)
    #: Ids of its latest finished orders (at most FINISHED_ORDERS_REMEMBERED), oldest first.
    finished: OrderedDict[int, None] = field(default_factory=OrderedDict)
    #: Market id -> the part of ``staked`` in that market.
    staked_by_market: dict[int, int] = field(default_factory=dict)
    #: Contract id -> [payoff if it wins, payoff if it loses].
    payoffs: dict[int, list[int]] = field(default_factory=dict)

    def finish(self, order_id: int) -> None:
        """Remember that ``order_id`` was filled or cancelled (the latest ones only)."""
        finished = self.finished
        finished[order_id] = None
        if len(finished) > FINISHED_ORDERS_REMEMBERED:
            finished.popitem(last=False)

    def next_fill(self) -> int:
        """The ``account_sequence`` of the account's next fill: 1, 2, ... 2**32 - 1, 1, ..."""
        self.fills = self.fills % MAX_UINT32 + 1
        return self.fills

    def stake(self, market_id: int, contract_id: int, side: int, quantity: int, stake: int) -> None:
        """Move a fill's ``stake`` from cash to staked and record its payoff."""
        self.cash -= stake
        self.staked += stake
        by_market = self.staked_by_market
        by_market[market_id] = by_market.get(market_id, 0) + stake
        payoff = self.payoffs.get(contract_id)
        if payoff is None:
            payoff = self.payoffs[contract_id] = [0, 0]
        payoff[0 if side == BUY else 1] += quantity

    def settle(self, market_id: int, contract_ids: list[int], winner: int) -> None:
        """Release the stakes of a settled market and pay its payoffs into cash."""
        self.staked -= self.staked_by_market.pop(market_id, 0)
        for contract_id in contract_ids:
            payoff = self.payoffs.pop(contract_id, None)
            if payoff is not None:
                self.cash += payoff[0] if contract_id == winner else payoff[1]

    def state(self, seq: int | None = None) -> seto_pb2.Payload:
        """The account's money as an account_state (answering request ``seq`` if given).

        Every amount is a ``Decimal(value=amount, exponent=4)``: exact. ``bonus`` is 0.
        """
        payload = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE)
        msg = payload.account_state
        set_uuid128(msg.account, self.id)
        msg.currency = CURRENCY
        set_money(msg.cash, self.cash)
        set_money(msg.bonus, 0)
        set_money(msg.exposure, self.exposure)
        set_money(msg.available, self.cash - self.exposure)
        set_money(msg.staked, self.staked)
        if seq is not None:
            msg.seq = seq
        return payload


class Ledger:
    """Every account, by id and by name, every open order, and the money the accounts were
    opened with."""

    __slots__ = ("_ids", "accounts", "initial_total", "orders")

    def __init__(self) -> None:
        #: Account id -> account.
        self.accounts: dict[int, Account] = {}
        self._ids: dict[str, int] = {}
        #: Every open (resting) order, by id.
        self.orders: dict[int, Order] = {}
        #: The sum of the opening balances: cash + staked over all accounts, always.
        self.initial_total = 0

    def add(self, name: str, balance: int) -> int:
        """Open an account with ``balance`` in cash; return its id (1, 2, 3, ...).

        ``ValueError`` if the name is taken, if ``balance`` is negative, or if it would take
        the balances of all accounts together beyond :data:`MAX_TOTAL_BALANCE` (so that
        every amount of every ``account_state`` fits its int64, whatever happens).
        """
        if name in self._ids:
            raise ValueError(f"there is already an account named {name!r}")
        if isinstance(balance, bool) or not isinstance(balance, int):
            raise TypeError(f"balance must be an int (1/10,000 units), not {balance!r}")
        if balance < 0:
            raise ValueError(f"balance must be >= 0, not {balance}")
        room = MAX_TOTAL_BALANCE - self.initial_total
        if balance > room:
            raise ValueError(
                f"balance must be <= {room}: the balances of all accounts together may not"
                f" exceed {MAX_TOTAL_BALANCE} (2**63 - 1)"
            )
        account_id = len(self.accounts) + 1
        self.accounts[account_id] = Account(account_id, name, balance, ToAccount(account_id))
        self._ids[name] = account_id
        self.initial_total += balance
        _log.info("account %d %r opened with %d", account_id, name, balance)
        return account_id

    def id_of(self, name: str) -> int:
        """The id of the account named ``name``; ``KeyError`` if there is none."""
        try:
            return self._ids[name]
        except KeyError:
            raise KeyError(f"no account named {name!r}") from None

    def named(self, name: str) -> Account:
        """The account named ``name``; ``KeyError`` if there is none."""
        return self.accounts[self.id_of(name)]

    def rest(self, account: Account, order: Order) -> None:
        """``order`` (just put on its book) is open: its remainder reserves money."""
        account.open_orders[order.id] = order
        self.orders[order.id] = order
        account.exposure += reservation(order.side, order.remaining, order.price)

    def filled(self, account: Account, order: Order) -> None:
        """A resting ``order`` of ``account`` was filled whole: no longer open."""
        del account.open_orders[order.id]
        del self.orders[order.id]
        account.finish(order.id)

    def close(self, account: Account, order: Order, reason: int, seq: int | None = None) -> Payload:
        """Cancel what remains of an order that is off its book; return its order_cancelled.

        Its reservation, if it was open, is released. ``seq`` is the cancel request's, if a
        request asked for it.
        """
        quantity = order.remaining
        if order.id in self.orders:
            del self.orders[order.id]
            del account.open_orders[order.id]
            account.exposure -= reservation(order.side, quantity, order.price)
        account.finish(order.id)
        order.cancelled += quantity
        order.remaining = 0
        return messages.order_cancelled(order, reason, quantity, seq)

    def problems(self) -> list[str]:
        """The money and open-order invariants: an empty list if all is well."""
        problems = []
        accounts = self.accounts.values()
        total = sum(a.cash + a.staked for a in accounts)
        if total != self.initial_total:
            problems.append(f"cash + staked is {total}, accounts opened with {self.initial_total}")
        for account in accounts:
            reserved = sum(
                reservation(o.side, o.remaining, o.price) for o in account.open_orders.values()
            )
            if account.exposure != reserved:
                problems.append(
                    f"account {account.id}: exposure {account.exposure} != reserved {reserved}"
                )
            if account.cash - account.exposure < 0:
                problems.append(f"account {account.id}: available is negative")
            if account.staked != sum(account.staked_by_market.values()):
                problems.append(f"account {account.id}: staked != sum of stakes per market")
            for order in account.open_orders.values():
                if self.orders.get(order.id) is not order:
                    problems.append(f"order {order.id} missing from the open-order index")
        for order in self.orders.values():
            if order.quantity != order.filled + order.cancelled + order.remaining:
                problems.append(f"order {order.id}: quantities don't add up")
            if order.id not in self.accounts[order.account_id].open_orders:
                problems.append(f"order {order.id} missing from its account")
        return problems
