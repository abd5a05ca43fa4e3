"""The sandbox exchange core: accounts, markets, order books, matching and settlement.

This module is sans-I/O. :class:`Exchange` takes requests as ``seto`` protobuf messages and
returns what to send as a list of ``(recipient, seto.Payload)`` pairs: :class:`ToAccount`
for private replies, :class:`ToMarket` for public market data, which the server fans out to
the market's subscribers. It opens no sockets, starts no threads and reads no clock but the
one it is given (for execution timestamps). Each payload has ``type`` and the one matching
message field set; ``eto_payload`` is left for the session layer to fill in.

Money model
-----------
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

An order is accepted only if ``available`` covers its reservation. When two orders trade,
both stakes move from the accounts' ``cash`` to their ``staked``, and each account's
position records its payoff. Settlement empties each account's stake in the market and pays
its payoffs into its ``cash``. Money only ever moves between accounts: the sum of ``cash +
staked`` over all accounts is always the sum of the balances the accounts were opened with.

Rounding. ``q * p / 10000`` is seldom a whole number, so one of the two stakes of a fill has
to be rounded up. If it were always the seller's, a resting sell filled in many small pieces
could pay up to one unit per fill more than it reserved, and the account's ``available``
would go negative through no action of its own. So the resting order (the maker) always
rounds *down*: its stake is ``buy_cost(f, p)`` for a buy and ``f - ceil(f * p / 10000)``
for a sell, which never exceeds the reservation the fill releases, and the incoming order
(the taker) pays ``f`` minus that. When the taker sells this is exactly ``buy_cost`` and
``sell_cost``; when the taker buys, it pays at most one unit more than ``buy_cost(f, p)``.
The taker's fills are all known before any is applied, so besides ``available >=
cost(quantity, limit)`` an order must also be able to pay what it will actually be charged
(its stakes plus the reservation of any remainder that rests); in the rare case where the
extra rounding units tip it over, it is rejected with INSUFFICIENT_FUNDS. No account's
``available`` ever goes negative.

Size limits
-----------
Every number the exchange publishes must fit its field on the wire, or building the
payload fails (and a book that cannot be published breaks every later snapshot of its
market). So:

- the balances of all accounts together are at most :data:`MAX_TOTAL_BALANCE`, 2**63 - 1
  (``account_state`` carries money as sint64): :meth:`Exchange.add_account` refuses a
  balance that would go beyond. As money only moves between accounts and no amount is
  ever negative, every account's ``cash``, ``exposure``, ``available`` and ``staked``
  then fit, whatever happens;
- a quantity is a uint64 on the wire, at most :data:`MAX_QUANTITY`, 2**64 - 1, and so must
  be the total of a price level and the volume traded in a contract. An order whose
  resting remainder would take its price level's total beyond, or whose fills would take
  the contract's volume beyond, is rejected with LIMIT_EXCEEDED before anything changes.
  (The volume cannot really get there: every unit traded is a unit staked until the
  market settles, and all the money together is below 2**63. The check costs nothing and
  does not rely on that.)

The open-order limit (``max_open_orders``, also LIMIT_EXCEEDED) counts the orders that
rest: an IMMEDIATE_OR_CANCEL order never rests, so it is never refused for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from google.protobuf.unknown_fields import UnknownFieldSet

from smarkets.proto import seto_pb2
from smarkets.sandbox.book import BUY, Book, Order

__all__ = [
    "CURRENCY",
    "MAX_OPEN_ORDERS_LIMIT",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "MAX_REFERENCE_BYTES",
    "MAX_TOTAL_BALANCE",
    "MIN_PRICE",
    "MIN_QUANTITY",
    "Exchange",
    "Output",
    "Recipient",
    "ToAccount",
    "ToMarket",
    "buy_cost",
    "reservation",
    "sell_cost",
]

_log = logging.getLogger(__name__)

MIN_PRICE = 1
MAX_PRICE = 9999
MIN_QUANTITY = 1000
MAX_REFERENCE_BYTES = 64
#: The largest quantity, price level total or contract volume: a uint64 on the wire.
MAX_QUANTITY = (1 << 64) - 1
#: The most money all accounts together may be opened with: account_state's sint64.
MAX_TOTAL_BALANCE = (1 << 63) - 1
#: The largest ``max_open_orders``: order_cancel_all_accepted's count is a uint32.
MAX_OPEN_ORDERS_LIMIT = (1 << 32) - 1
CURRENCY = "GBP"
#: Prices are in basis points: 10000 is certainty.
_PRICE_SCALE = 10000

_MASK64 = (1 << 64) - 1
_ID_LIMIT = 1 << 128

_GTC = seto_pb2.TIME_IN_FORCE_GOOD_TIL_CANCELLED
_IOC = seto_pb2.TIME_IN_FORCE_IMMEDIATE_OR_CANCEL
_OPEN = seto_pb2.MARKET_STATUS_OPEN
_HALTED = seto_pb2.MARKET_STATUS_HALTED
_SETTLED = seto_pb2.MARKET_STATUS_SETTLED
_TIF_FIELD_NUMBER = seto_pb2.OrderCreate.DESCRIPTOR.fields_by_name["time_in_force"].number

_Payload = seto_pb2.Payload


def buy_cost(quantity: int, price: int) -> int:
    """What buying ``quantity`` at ``price`` costs: ``quantity * price // 10000``."""
    return quantity * price // _PRICE_SCALE


def sell_cost(quantity: int, price: int) -> int:
    """What selling ``quantity`` at ``price`` costs: the rest of ``quantity``."""
    return quantity - quantity * price // _PRICE_SCALE


def reservation(side: int, quantity: int, price: int) -> int:
    """What an open order of ``side`` for ``quantity`` at limit ``price`` reserves."""
    if side == BUY:
        return quantity * price // _PRICE_SCALE
    return quantity - quantity * price // _PRICE_SCALE


def _maker_stake(side: int, quantity: int, price: int) -> int:
    """A resting order's stake in a fill of ``quantity`` at its price: rounded down."""
    if side == BUY:
        return quantity * price // _PRICE_SCALE
    return quantity * (_PRICE_SCALE - price) // _PRICE_SCALE


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


def _set_id(msg: seto_pb2.Uuid128, value: int) -> None:
    msg.low = value & _MASK64
    if value > _MASK64:
        msg.high = value >> 64


def _get_id(msg: seto_pb2.Uuid128) -> int:
    return msg.low | (msg.high << 64)


def _check_id(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _ID_LIMIT:
        raise ValueError(f"{what} id must be an int in 0 ... 2**128 - 1, not {value!r}")


def _has_unknown_time_in_force(create: seto_pb2.OrderCreate) -> bool:
    """Whether the wire carried a time_in_force number this schema doesn't know.

    A closed proto2 enum keeps an unknown number among the unknown fields, so the field
    itself reads as absent (and would default to GOOD_TIL_CANCELLED).
    """
    return any(f.field_number == _TIF_FIELD_NUMBER for f in UnknownFieldSet(create))


def _invalid_reasons(create: seto_pb2.OrderCreate) -> list[int]:
    """Every reason an order_create is malformed, in the enum's order; empty if none."""
    reasons = []
    if not create.HasField("price") or not MIN_PRICE <= create.price <= MAX_PRICE:
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_PRICE)
    if not create.HasField("quantity") or create.quantity < MIN_QUANTITY:
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_QUANTITY)
    if not create.HasField("side"):
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_SIDE)
    if not create.HasField("time_in_force") and _has_unknown_time_in_force(create):
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_TIME_IN_FORCE)
    if create.HasField("reference"):
        reference = create.reference
        if not isinstance(reference, str):
            # upb hands back bytes for a string that is not valid UTF-8.
            reasons.append(seto_pb2.ORDER_INVALID_INVALID_REFERENCE)
        # At most 4 bytes per character: only long strings need encoding.
        elif len(reference) * 4 > MAX_REFERENCE_BYTES and (
            len(reference.encode("utf-8", "surrogatepass")) > MAX_REFERENCE_BYTES
        ):
            reasons.append(seto_pb2.ORDER_INVALID_INVALID_REFERENCE)
    if not create.HasField("market"):
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_MARKET)
    if not create.HasField("contract"):
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_CONTRACT)
    return reasons


@dataclass(slots=True, eq=False)
class _Account:
    id: int
    name: str
    cash: int
    recipient: ToAccount
    exposure: int = 0
    staked: int = 0
    #: Open orders by id, oldest first.
    open_orders: dict[int, Order] = field(default_factory=dict)
    #: Market id -> the part of ``staked`` in that market.
    staked_by_market: dict[int, int] = field(default_factory=dict)
    #: Contract id -> [payoff if it wins, payoff if it loses].
    payoffs: dict[int, list[int]] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Contract:
    id: int
    name: str
    market_id: int
    state: int = seto_pb2.CONTRACT_STATUS_OPEN
    book: Book = field(default_factory=Book)


@dataclass(slots=True, eq=False)
class _Market:
    id: int
    name: str
    event_id: int
    recipient: ToMarket
    #: Contract id -> contract, in the order given to :meth:`Exchange.add_market`.
    contracts: dict[int, _Contract]
    state: int = _OPEN
    winner: int | None = None
    #: Accounts with matched trades in the market (stakes to settle).
    participants: set[int] = field(default_factory=set)


@dataclass(slots=True, eq=False)
class _Event:
    id: int
    name: str
    market_ids: list[int] = field(default_factory=list)


class Exchange:
    """Accounts, markets and their order books; matching and settlement.

    Request methods (:meth:`place_order`, :meth:`cancel_order`, :meth:`cancel_all`) take
    the request's eto ``seq`` so that replies can name it, and return the payloads to send
    as :data:`Output` pairs, private replies first, then public book updates. Admin methods
    (:meth:`add_account`, :meth:`add_market`, :meth:`halt`, :meth:`reopen`,
    :meth:`settle`) raise ``ValueError`` for a request that makes no sense and
    ``KeyError`` for an unknown id. Passing an account id that :meth:`add_account` did not
    return is a programming error and raises ``KeyError``.

    ``clock`` returns seconds since the Unix epoch; it is read once per call that trades,
    for the execution timestamps. ``max_open_orders`` is how many open (resting) orders one
    account may have, 0 ... :data:`MAX_OPEN_ORDERS_LIMIT` (0: IMMEDIATE_OR_CANCEL only).
    """

    def __init__(self, clock: Callable[[], float] = time.time, max_open_orders: int = 1000) -> None:
        if (
            isinstance(max_open_orders, bool)
            or not isinstance(max_open_orders, int)
            or not 0 <= max_open_orders <= MAX_OPEN_ORDERS_LIMIT
        ):
            raise ValueError(
                f"max_open_orders must be >= 0 and <= {MAX_OPEN_ORDERS_LIMIT},"
                f" not {max_open_orders!r}"
            )
        self._clock = clock
        self.max_open_orders = max_open_orders
        self._accounts: dict[int, _Account] = {}
        self._account_ids: dict[str, int] = {}
        self._events: dict[int, _Event] = {}
        self._markets: dict[int, _Market] = {}
        self._contracts: dict[int, _Contract] = {}
        #: Every open order by id.
        self._open: dict[int, Order] = {}
        #: The account of each order ever accepted, indexed by order id (0 is unused).
        self._order_owner: list[int] = [0]
        self._initial_total = 0

    # -- admin --------------------------------------------------------------------------

    def add_account(self, name: str, balance: int) -> int:
        """Open an account with ``balance`` in cash; return its id (1, 2, 3, ...).

        ``ValueError`` if the name is taken, if ``balance`` is negative, or if it would take
        the balances of all accounts together beyond :data:`MAX_TOTAL_BALANCE` (see the
        module's size limits).
        """
        if name in self._account_ids:
            raise ValueError(f"there is already an account named {name!r}")
        if isinstance(balance, bool) or not isinstance(balance, int):
            raise TypeError(f"balance must be an int (1/10,000 units), not {balance!r}")
        if balance < 0:
            raise ValueError(f"balance must be >= 0, not {balance}")
        room = MAX_TOTAL_BALANCE - self._initial_total
        if balance > room:
            raise ValueError(
                f"balance must be <= {room}: the balances of all accounts together may not"
                f" exceed {MAX_TOTAL_BALANCE} (2**63 - 1)"
            )
        account_id = len(self._accounts) + 1
        self._accounts[account_id] = _Account(account_id, name, balance, ToAccount(account_id))
        self._account_ids[name] = account_id
        self._initial_total += balance
        _log.info("account %d %r opened with %d", account_id, name, balance)
        return account_id

    def account_id(self, name: str) -> int:
        """The id of the account named ``name``; ``KeyError`` if there is none."""
        try:
            return self._account_ids[name]
        except KeyError:
            raise KeyError(f"no account named {name!r}") from None

    def add_market(
        self,
        market_id: int,
        name: str,
        event_id: int,
        event_name: str,
        contracts: Iterable[tuple[int, str]],
    ) -> None:
        """Open a market with its contracts, in an event created the first time it is named.

        ``ValueError`` if the market or a contract id already exists, if ``contracts`` is
        empty or repeats an id, or if the event exists under another name.
        """
        contracts = list(contracts)
        _check_id(market_id, "market")
        _check_id(event_id, "event")
        for contract_id, _ in contracts:
            _check_id(contract_id, "contract")
        if market_id in self._markets:
            raise ValueError(f"market {market_id} already exists")
        if not contracts:
            raise ValueError(f"market {market_id} needs at least one contract")
        contract_ids = [contract_id for contract_id, _ in contracts]
        if len(set(contract_ids)) != len(contract_ids):
            raise ValueError(f"market {market_id} names a contract id twice: {contract_ids}")
        for contract_id in contract_ids:
            if contract_id in self._contracts:
                raise ValueError(f"contract {contract_id} already exists")
        event = self._events.get(event_id)
        if event is not None and event.name != event_name:
            raise ValueError(f"event {event_id} is called {event.name!r}, not {event_name!r}")
        if event is None:
            event = self._events[event_id] = _Event(event_id, event_name)
        market = _Market(
            market_id,
            name,
            event_id,
            ToMarket(market_id),
            {cid: _Contract(cid, cname, market_id) for cid, cname in contracts},
        )
        self._markets[market_id] = market
        self._contracts.update(market.contracts)
        event.market_ids.append(market_id)
        _log.info("market %d %r opened in event %d", market_id, name, event_id)

    def has_market(self, market_id: int) -> bool:
        """Whether ``market_id`` is a market of this exchange (in any state)."""
        return market_id in self._markets

    def halt(self, market_id: int) -> list[Output]:
        """Halt an open market: new orders are refused; resting orders stay and can be cancelled.

        ``ValueError`` unless the market is open.
        """
        market = self._market(market_id)
        if market.state != _OPEN:
            raise ValueError(f"market {market_id} is not open")
        market.state = _HALTED
        _log.info("market %d halted", market_id)
        return [(market.recipient, self._market_state(market))]

    def reopen(self, market_id: int) -> list[Output]:
        """Let a halted market take orders again. ``ValueError`` unless it is halted."""
        market = self._market(market_id)
        if market.state != _HALTED:
            raise ValueError(f"market {market_id} is not halted")
        market.state = _OPEN
        _log.info("market %d reopened", market_id)
        return [(market.recipient, self._market_state(market))]

    def settle(self, market_id: int, winner_contract_id: int) -> list[Output]:
        """Settle a market: cancel its resting orders, pay out, close it for good.

        Outputs: an order_cancelled (MARKET_SETTLED) to the owner of each resting order,
        the emptied levels of each contract, the market_state, then the new account_state
        of every account that had orders or trades in the market. ``ValueError`` if the
        market is already settled or ``winner_contract_id`` is not one of its contracts.
        """
        market = self._market(market_id)
        if market.state == _SETTLED:
            raise ValueError(f"market {market_id} is already settled")
        if winner_contract_id not in market.contracts:
            raise ValueError(f"contract {winner_contract_id} is not in market {market_id}")
        out: list[Output] = []
        affected = set(market.participants)
        for contract in market.contracts.values():
            for order in contract.book.clear():
                account = self._accounts[order.account_id]
                cancelled = self._close(account, order, seto_pb2.ORDER_CANCELLED_MARKET_SETTLED)
                out.append((account.recipient, cancelled))
                affected.add(account.id)
        for contract in market.contracts.values():
            won = contract.id == winner_contract_id
            contract.state = seto_pb2.CONTRACT_STATUS_WON if won else seto_pb2.CONTRACT_STATUS_LOST
            quotes = self._contract_quotes(market, contract)
            if quotes is not None:
                out.append((market.recipient, quotes))
        market.state = _SETTLED
        market.winner = winner_contract_id
        out.append((market.recipient, self._market_state(market)))
        for account_id in sorted(affected):
            account = self._accounts[account_id]
            account.staked -= account.staked_by_market.pop(market_id, 0)
            for contract_id in market.contracts:
                payoff = account.payoffs.pop(contract_id, None)
                if payoff is not None:
                    account.cash += payoff[0] if contract_id == winner_contract_id else payoff[1]
            out.append((account.recipient, self.account_state(account_id)))
        _log.info("market %d settled, winner %d", market_id, winner_contract_id)
        return out

    # -- requests -----------------------------------------------------------------------

    def place_order(self, account_id: int, create: seto_pb2.OrderCreate, seq: int) -> list[Output]:
        """Validate, accept and match an order_create sent as eto ``seq``.

        Outputs: one order_invalid or order_rejected; or order_accepted, then an
        order_executed for each fill to each of the two accounts, then an order_cancelled
        for an IMMEDIATE_OR_CANCEL remainder, then the contract's book update. Nothing
        changes (not even an order id is used up) unless the order is accepted.
        """
        account = self._accounts[account_id]
        reference = create.reference if create.HasField("reference") else None
        reasons = _invalid_reasons(create)
        if reasons:
            if not isinstance(reference, str):
                reference = None  # not valid UTF-8 (bytes): it cannot be echoed
            return [(account.recipient, _order_invalid(seq, reasons, reference))]
        market = self._markets.get(_get_id(create.market))
        if market is None:
            return self._reject(account, seq, seto_pb2.ORDER_REJECTED_MARKET_NOT_FOUND, reference)
        contract = market.contracts.get(_get_id(create.contract))
        if contract is None:
            return self._reject(account, seq, seto_pb2.ORDER_REJECTED_CONTRACT_NOT_FOUND, reference)
        if market.state != _OPEN:
            reason = (
                seto_pb2.ORDER_REJECTED_MARKET_HALTED
                if market.state == _HALTED
                else seto_pb2.ORDER_REJECTED_MARKET_SETTLED
            )
            return self._reject(account, seq, reason, reference)
        side, price, quantity = create.side, create.price, create.quantity
        time_in_force = create.time_in_force
        # An IMMEDIATE_OR_CANCEL order never rests: the open-order limit does not concern it.
        if len(account.open_orders) >= self.max_open_orders and time_in_force != _IOC:
            return self._reject(account, seq, seto_pb2.ORDER_REJECTED_LIMIT_EXCEEDED, reference)
        available = account.cash - account.exposure
        if available < reservation(side, quantity, price):
            return self._reject(account, seq, seto_pb2.ORDER_REJECTED_INSUFFICIENT_FUNDS, reference)
        book = contract.book
        if book.crosses_own(account_id, side, price):
            return self._reject(account, seq, seto_pb2.ORDER_REJECTED_CROSSED_SELF, reference)
        plan = book.match_plan(side, price, quantity)
        remaining = quantity
        if plan:
            # What the order will really cost, rounding included (see the module docs).
            due = 0
            for maker, fill in plan:
                due += fill - _maker_stake(maker.side, fill, maker.price)
                remaining -= fill
            if time_in_force == _GTC:
                due += reservation(side, remaining, price)
            if available < due:
                return self._reject(
                    account, seq, seto_pb2.ORDER_REJECTED_INSUFFICIENT_FUNDS, reference
                )
            if book.volume + (quantity - remaining) > MAX_QUANTITY:
                return self._reject(account, seq, seto_pb2.ORDER_REJECTED_LIMIT_EXCEEDED, reference)
        # What rests must leave its price level's total publishable (see the module docs).
        if (
            remaining
            and time_in_force == _GTC
            and book.level_total(side, price) + remaining > MAX_QUANTITY
        ):
            return self._reject(account, seq, seto_pb2.ORDER_REJECTED_LIMIT_EXCEEDED, reference)

        order_id = len(self._order_owner)
        self._order_owner.append(account_id)
        order = Order(
            order_id,
            account_id,
            market.id,
            contract.id,
            side,
            price,
            quantity,
            time_in_force,
            reference,
            seq,
            quantity,
        )
        accepted = _Payload(type=seto_pb2.PAYLOAD_ORDER_ACCEPTED)
        msg = accepted.order_accepted
        msg.seq = seq
        _set_id(msg.order, order_id)
        if reference is not None:
            msg.reference = reference
        out: list[Output] = [(account.recipient, accepted)]
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "order %d accepted: account %d contract %d side %d %d @ %d, %d fills",
                order_id,
                account_id,
                contract.id,
                side,
                quantity,
                price,
                len(plan),
            )

        if plan:
            timestamp = int(self._clock() * 1_000_000)
            accounts = self._accounts
            for maker, fill in plan:
                fill_price = maker.price
                maker_account = accounts[maker.account_id]
                maker_stake = _maker_stake(maker.side, fill, fill_price)
                before = reservation(maker.side, maker.remaining, fill_price)
                book.fill(maker, fill)
                maker_account.exposure += (
                    reservation(maker.side, maker.remaining, fill_price) - before
                )
                if not maker.remaining:
                    del maker_account.open_orders[maker.id]
                    del self._open[maker.id]
                order.remaining -= fill
                order.filled += fill
                _stake(maker_account, market, contract.id, maker.side, fill, maker_stake)
                _stake(account, market, contract.id, side, fill, fill - maker_stake)
                book.record_trade(fill_price, fill, side, timestamp)
                out.append((account.recipient, _order_executed(order, fill_price, fill)))
                out.append((maker_account.recipient, _order_executed(maker, fill_price, fill)))

        if order.remaining:
            if time_in_force == _IOC:
                cancelled = self._close(
                    account, order, seto_pb2.ORDER_CANCELLED_IMMEDIATE_OR_CANCEL
                )
                out.append((account.recipient, cancelled))
            else:
                book.rest(order)
                account.open_orders[order_id] = order
                self._open[order_id] = order
                account.exposure += reservation(side, order.remaining, price)
        quotes = self._contract_quotes(market, contract)
        if quotes is not None:
            out.append((market.recipient, quotes))
        return out

    def cancel_order(self, account_id: int, order_id: int, seq: int) -> list[Output]:
        """Cancel one of the account's open orders, for the order_cancel sent as ``seq``.

        Outputs: order_cancelled (MEMBER_REQUESTED) and the book update; or
        order_cancel_rejected: ORDER_NOT_FOUND if the account never had such an order,
        TOO_LATE if it is already filled or cancelled. Allowed while the market is halted.
        """
        account = self._accounts[account_id]
        order = self._open.get(order_id)
        if order is None or order.account_id != account_id:
            owned = 0 < order_id < len(self._order_owner) and (
                self._order_owner[order_id] == account_id
            )
            rejected = _Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL_REJECTED)
            msg = rejected.order_cancel_rejected
            msg.seq = seq
            _set_id(msg.order, order_id)
            msg.reason = (
                seto_pb2.ORDER_CANCEL_REJECTED_TOO_LATE
                if owned
                else seto_pb2.ORDER_CANCEL_REJECTED_ORDER_NOT_FOUND
            )
            return [(account.recipient, rejected)]
        market = self._markets[order.market_id]
        contract = market.contracts[order.contract_id]
        contract.book.remove(order)
        cancelled = self._close(account, order, seto_pb2.ORDER_CANCELLED_MEMBER_REQUESTED, seq)
        out: list[Output] = [(account.recipient, cancelled)]
        quotes = self._contract_quotes(market, contract)
        if quotes is not None:
            out.append((market.recipient, quotes))
        return out

    def cancel_all(self, account_id: int, market_id: int | None, seq: int) -> list[Output]:
        """Cancel all the account's open orders in one market, or everywhere if None.

        Outputs: order_cancel_all_accepted with the count, an order_cancelled per order,
        then the book updates; or order_cancel_all_rejected (MARKET_NOT_FOUND).
        """
        account = self._accounts[account_id]
        if market_id is not None and market_id not in self._markets:
            rejected = _Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL_ALL_REJECTED)
            rejected.order_cancel_all_rejected.seq = seq
            rejected.order_cancel_all_rejected.reason = (
                seto_pb2.ORDER_CANCEL_ALL_REJECTED_MARKET_NOT_FOUND
            )
            return [(account.recipient, rejected)]
        orders = [
            order
            for order in account.open_orders.values()
            if market_id is None or order.market_id == market_id
        ]
        accepted = _Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED)
        accepted.order_cancel_all_accepted.seq = seq
        accepted.order_cancel_all_accepted.count = len(orders)
        out: list[Output] = [(account.recipient, accepted)]
        touched: dict[int, _Contract] = {}
        for order in orders:
            contract = self._contracts[order.contract_id]
            contract.book.remove(order)
            touched[contract.id] = contract
            cancelled = self._close(account, order, seto_pb2.ORDER_CANCELLED_MEMBER_REQUESTED, seq)
            out.append((account.recipient, cancelled))
        for contract in touched.values():
            market = self._markets[contract.market_id]
            quotes = self._contract_quotes(market, contract)
            if quotes is not None:
                out.append((market.recipient, quotes))
        return out

    # -- queries ------------------------------------------------------------------------

    def account_state(self, account_id: int, seq: int | None = None) -> seto_pb2.Payload:
        """The account's money (seto.AccountState), answering request ``seq`` if given."""
        account = self._accounts[account_id]
        payload = _Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE)
        msg = payload.account_state
        if seq is not None:
            msg.seq = seq
        _set_id(msg.account, account_id)
        msg.currency = CURRENCY
        msg.cash = account.cash
        msg.exposure = account.exposure
        msg.available = account.cash - account.exposure
        msg.staked = account.staked
        return payload

    def open_orders(
        self, account_id: int, market_id: int | None = None, seq: int | None = None
    ) -> seto_pb2.Payload:
        """The account's open orders (seto.Orders), oldest first; one market's if given.

        An unknown ``market_id`` simply has no orders.
        """
        account = self._accounts[account_id]
        payload = _Payload(type=seto_pb2.PAYLOAD_ORDERS)
        msg = payload.orders
        if seq is not None:
            msg.seq = seq
        for order in account.open_orders.values():
            if market_id is not None and order.market_id != market_id:
                continue
            info = msg.orders.add()
            _set_id(info.order, order.id)
            _set_id(info.market, order.market_id)
            _set_id(info.contract, order.contract_id)
            info.side = order.side
            info.price = order.price
            info.quantity = order.quantity
            info.remaining = order.remaining
            info.time_in_force = order.time_in_force
            if order.reference is not None:
                info.reference = order.reference
        return payload

    def catalogue(self, seq: int | None = None) -> seto_pb2.Payload:
        """Every event, its markets and their contracts, with states (seto.Markets)."""
        payload = _Payload(type=seto_pb2.PAYLOAD_MARKETS)
        msg = payload.markets
        if seq is not None:
            msg.seq = seq
        for event in self._events.values():
            event_msg = msg.events.add()
            _set_id(event_msg.id, event.id)
            event_msg.name = event.name
            for market_id in event.market_ids:
                market = self._markets[market_id]
                market_msg = event_msg.markets.add()
                _set_id(market_msg.id, market.id)
                market_msg.name = market.name
                market_msg.state = market.state
                for contract in market.contracts.values():
                    contract_msg = market_msg.contracts.add()
                    _set_id(contract_msg.id, contract.id)
                    contract_msg.name = contract.name
                    contract_msg.state = contract.state
                if market.winner is not None:
                    _set_id(market_msg.winner, market.winner)
        return payload

    def market_snapshot(self, market_id: int, seq: int | None = None) -> seto_pb2.Payload:
        """A market's state and every contract's whole book (seto.MarketQuotes).

        Per contract: bids high to low, offers low to high, the latest executions (at most
        10, oldest first) and the volume. ``KeyError`` for an unknown market.
        """
        market = self._market(market_id)
        payload = _Payload(type=seto_pb2.PAYLOAD_MARKET_QUOTES)
        msg = payload.market_quotes
        _set_id(msg.market, market_id)
        msg.state = market.state
        if seq is not None:
            msg.seq = seq
        for contract in market.contracts.values():
            book = contract.book
            bids, offers = book.depth()
            _fill_contract_quotes(
                msg.contract_quotes.add(), market, contract, bids, offers, book.recent
            )
        return payload

    def check_invariants(self) -> None:
        """Check the money and book invariants; ``AssertionError`` naming what is wrong.

        For tests and debugging: it looks at every open order, so it is O(open orders).
        """
        problems = []
        total = sum(a.cash + a.staked for a in self._accounts.values())
        if total != self._initial_total:
            problems.append(f"cash + staked is {total}, accounts opened with {self._initial_total}")
        for account in self._accounts.values():
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
                if self._open.get(order.id) is not order:
                    problems.append(f"order {order.id} missing from the open-order index")
        for order in self._open.values():
            if order.quantity != order.filled + order.cancelled + order.remaining:
                problems.append(f"order {order.id}: quantities don't add up")
            if order.id not in self._accounts[order.account_id].open_orders:
                problems.append(f"order {order.id} missing from its account")
        resting = 0
        for contract in self._contracts.values():
            problems.extend(f"contract {contract.id}: {p}" for p in contract.book.problems())
            resting += sum(1 for _ in contract.book.orders())
        if resting != len(self._open):
            problems.append(f"{resting} orders on the books, {len(self._open)} open")
        if problems:
            raise AssertionError("; ".join(problems))

    # -- helpers ------------------------------------------------------------------------

    def _market(self, market_id: int) -> _Market:
        try:
            return self._markets[market_id]
        except KeyError:
            raise KeyError(f"no market {market_id}") from None

    def _reject(
        self, account: _Account, seq: int, reason: int, reference: str | None
    ) -> list[Output]:
        payload = _Payload(type=seto_pb2.PAYLOAD_ORDER_REJECTED)
        msg = payload.order_rejected
        msg.seq = seq
        msg.reason = reason
        if reference is not None:
            msg.reference = reference
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "order seq %d of account %d rejected: %s",
                seq,
                account.id,
                seto_pb2.OrderRejectedReason.Name(reason),
            )
        return [(account.recipient, payload)]

    def _close(
        self, account: _Account, order: Order, reason: int, seq: int | None = None
    ) -> seto_pb2.Payload:
        """Cancel what remains of an order that is off the book; return its order_cancelled.

        ``seq`` is the cancel request's, if a request asked for it.
        """
        quantity = order.remaining
        if order.id in self._open:
            del self._open[order.id]
            del account.open_orders[order.id]
            account.exposure -= reservation(order.side, quantity, order.price)
        order.cancelled += quantity
        order.remaining = 0
        payload = _Payload(type=seto_pb2.PAYLOAD_ORDER_CANCELLED)
        msg = payload.order_cancelled
        _set_id(msg.order, order.id)
        msg.reason = reason
        msg.quantity = quantity
        if seq is not None:
            msg.seq = seq
        if order.reference is not None:
            msg.reference = order.reference
        return payload

    def _market_state(self, market: _Market) -> seto_pb2.Payload:
        payload = _Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)
        msg = payload.market_state
        _set_id(msg.market, market.id)
        msg.state = market.state
        if market.winner is not None:
            _set_id(msg.winner, market.winner)
        return payload

    def _contract_quotes(self, market: _Market, contract: _Contract) -> seto_pb2.Payload | None:
        """The public update for what changed in the contract's book, or None."""
        changes = contract.book.take_changes()
        if changes is None:
            return None
        bids, offers, trades = changes
        payload = _Payload(type=seto_pb2.PAYLOAD_CONTRACT_QUOTES)
        _fill_contract_quotes(payload.contract_quotes, market, contract, bids, offers, trades)
        return payload


def _stake(
    account: _Account, market: _Market, contract_id: int, side: int, quantity: int, stake: int
) -> None:
    """Move a fill's stake from cash to staked and record its payoff."""
    account.cash -= stake
    account.staked += stake
    by_market = account.staked_by_market
    by_market[market.id] = by_market.get(market.id, 0) + stake
    payoff = account.payoffs.get(contract_id)
    if payoff is None:
        payoff = account.payoffs[contract_id] = [0, 0]
    payoff[0 if side == BUY else 1] += quantity
    market.participants.add(account.id)


def _order_invalid(seq: int, reasons: list[int], reference: str | None) -> seto_pb2.Payload:
    payload = _Payload(type=seto_pb2.PAYLOAD_ORDER_INVALID)
    msg = payload.order_invalid
    msg.seq = seq
    msg.reasons.extend(reasons)
    if reference is not None:
        msg.reference = reference
    return payload


def _order_executed(order: Order, price: int, quantity: int) -> seto_pb2.Payload:
    payload = _Payload(type=seto_pb2.PAYLOAD_ORDER_EXECUTED)
    msg = payload.order_executed
    _set_id(msg.order, order.id)
    msg.price = price
    msg.quantity = quantity
    msg.side = order.side
    _set_id(msg.market, order.market_id)
    _set_id(msg.contract, order.contract_id)
    msg.seq = order.seq
    if order.reference is not None:
        msg.reference = order.reference
    msg.remaining = order.remaining
    return payload


def _fill_contract_quotes(
    msg: seto_pb2.ContractQuotes,
    market: _Market,
    contract: _Contract,
    bids: Iterable[tuple[int, int]],
    offers: Iterable[tuple[int, int]],
    trades: Iterable[tuple[int, int, int, int]],
) -> None:
    _set_id(msg.contract, contract.id)
    _set_id(msg.market, market.id)
    for price, quantity in bids:
        quote = msg.bids.add()
        quote.price = price
        quote.quantity = quantity
    for price, quantity in offers:
        quote = msg.offers.add()
        quote.price = price
        quote.quantity = quantity
    for price, quantity, side, timestamp in trades:
        execution = msg.executions.add()
        execution.price = price
        execution.quantity = quantity
        execution.side = side
        execution.timestamp = timestamp
    msg.volume = contract.book.volume
