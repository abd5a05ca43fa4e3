"""The sandbox exchange core: accounts, markets, order books, matching and settlement.

This module is sans-I/O. :class:`Exchange` takes requests as ``seto`` protobuf messages and
returns what to send as a list of ``(recipient, seto.Payload)`` pairs: :class:`ToAccount`
for private replies, :class:`ToMarket` for public market data, which the server fans out to
the market's subscribers. It opens no sockets, starts no threads and reads no clock but the
one it is given (for execution and order timestamps). Each payload has ``type`` and the one
matching message field set; ``eto_payload`` is left for the session layer to fill in.

The payloads are built in full, extension fields included (PROTOCOL.md section 3.2); what a
session without extensions is sent instead is :func:`smarkets.protocol.extensions.published_view`'s
business, in the server.

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
rounds *down*: its stake is ``buy_cost(f, p)`` for a buy and ``f - ceil(f * p / 10000)``
for a sell, which never exceeds the reservation the fill releases, and the incoming order
(the taker) pays ``f`` minus that. When the taker sells this is exactly ``buy_cost`` and
``sell_cost``; when the taker buys, it pays at most one unit more than ``buy_cost(f, p)``.
The taker's fills are all known before any is applied, so besides ``available >=
cost(quantity, limit)`` an order must also be able to pay what it will actually be charged
(its stakes plus the reservation of any remainder that rests); in the rare case where the
extra rounding units tip it over, it is rejected with INSUFFICIENT_FUNDS. No account's
``available`` ever goes negative.

Orders
------
An ``order_create`` is checked first for what makes it malformed (``order_invalid``, every
reason found): INVALID_PRICE (missing, outside 1...9999, or a ``price_type`` this schema
does not know: the only price type is PERCENT_ODDS), INVALID_QUANTITY (below
:data:`MIN_QUANTITY`, above ``max_order_quantity``, or a ``maq`` above the quantity), and
the extension reasons INVALID_TIME_IN_FORCE (a ``tif`` number this schema does not know)
and INVALID_REFERENCE (over :data:`MAX_REFERENCE_BYTES` bytes of UTF-8, or not UTF-8). Then
for what refuses it (``order_rejected``, the first that applies, in this order):
ACCOUNT_SUSPENDED, SERVICE_TEMPORARILY_UNAVAILABLE (order-create downtime), MARKET_NOT_FOUND,
CONTRACT_NOT_FOUND, MARKET_HALTED / MARKET_SETTLED, LIMIT_EXCEEDED, INSUFFICIENT_FUNDS,
CROSSED_SELF.

``maq`` (minimum acceptable quantity): when given, at least ``maq`` must match at once or
nothing matches: the order is accepted, then cancelled whole (``order_cancelled``
INSUFFICIENT_LIQUIDITY) without trading. When enough matches, the rest rests (GOOD_TIL_
CANCELLED) or is cancelled (IMMEDIATE_OR_CANCEL, INSUFFICIENT_LIQUIDITY) as without ``maq``.

Order ids are 64-bit numbers that no account can guess from its own: a keyed permutation
(a four-round Feistel network over blake2b, keyed with a random secret unless the caller
gives the key) of a counter, so they are unique for the exchange's life, never 0, and
carry no visible order. An account's ``order_cancel`` naming an id it does not own (another
account's order included) is refused NOT_FOUND; one naming its own order that is no longer
open, NOT_LIVE, for the last :data:`FINISHED_ORDERS_REMEMBERED` orders of the account that
finished (filled or cancelled); older ones are NOT_FOUND.

Size limits
-----------
Every number the exchange publishes must fit its field on the wire. So:

- the balances of all accounts together are at most :data:`MAX_TOTAL_BALANCE`, 2**63 - 1
  (``Decimal.value`` is an int64): :meth:`Exchange.add_account` refuses a balance that
  would go beyond. As money only moves between accounts and no amount is ever negative,
  every account's ``cash``, ``exposure``, ``available`` and ``staked`` then fit, whatever
  happens;
- an order's quantity is at most ``max_order_quantity`` (at most :data:`MAX_UINT32`, the
  wire's uint32), so every fill and every order's quantities fit;
- a price level's total is not bounded by that: **a level total above 4294967295 is sent
  as 4294967295** (saturated; see :func:`_wire_quantity`). Internally totals are exact;
- the volume traded in a contract (extension, uint64) is at most :data:`MAX_QUANTITY`,
  2**64 - 1: an order whose fills would take it beyond is rejected with LIMIT_EXCEEDED
  before anything changes (it cannot really get there: every unit traded is a unit staked
  until the market settles, and all the money together is below 2**63);
- ``account_sequence`` (uint32) numbers an account's fills 1, 2, 3 ...; after 4294967295
  it starts again at 1.

The open-order limit (``max_open_orders``, also LIMIT_EXCEEDED) counts the orders that
rest: an IMMEDIATE_OR_CANCEL order never rests, so it is never refused for it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from google.protobuf.unknown_fields import UnknownFieldSet

from smarkets.proto import seto_pb2
from smarkets.sandbox.book import BUY, Book, Order

__all__ = [
    "CURRENCY",
    "DEFAULT_MAX_ORDER_QUANTITY",
    "FINISHED_ORDERS_REMEMBERED",
    "MAX_OPEN_ORDERS_LIMIT",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "MAX_REFERENCE_BYTES",
    "MAX_TOTAL_BALANCE",
    "MAX_UINT32",
    "MIN_PRICE",
    "MIN_QUANTITY",
    "MONEY_EXPONENT",
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
#: The largest value of a uint32 field (quantities, prices, account_sequence).
MAX_UINT32 = (1 << 32) - 1
#: The default largest order quantity (50,000.00 of payoff).
DEFAULT_MAX_ORDER_QUANTITY = 500_000_000
#: The largest contract volume: the extension field ``volume`` is a uint64.
MAX_QUANTITY = (1 << 64) - 1
#: The most money all accounts together may be opened with: Decimal.value is an int64.
MAX_TOTAL_BALANCE = (1 << 63) - 1
#: The largest ``max_open_orders``: order_cancel_all_accepted's count is a uint32.
MAX_OPEN_ORDERS_LIMIT = MAX_UINT32
#: How many of its finished (filled or cancelled) order ids each account's memory keeps,
#: so that a cancel of one is refused NOT_LIVE rather than NOT_FOUND.
FINISHED_ORDERS_REMEMBERED = 10_000
#: Money on the wire: Decimal(value=amount, exponent=4), amounts being 1/10,000 units.
MONEY_EXPONENT = 4
CURRENCY = seto_pb2.CURRENCY_GBP
#: Prices are in basis points: 10000 is certainty.
_PRICE_SCALE = 10000

_MASK64 = (1 << 64) - 1
_MASK32 = (1 << 32) - 1
_ID_LIMIT = 1 << 128

_GTC = seto_pb2.GOOD_TIL_CANCELLED
_IOC = seto_pb2.IMMEDIATE_OR_CANCEL
_OPEN = seto_pb2.MARKET_STATUS_OPEN
_HALTED = seto_pb2.MARKET_STATUS_HALTED
_SETTLED = seto_pb2.MARKET_STATUS_SETTLED
_PERCENT_ODDS = seto_pb2.PRICE_PERCENT_ODDS
_PAYOFF = seto_pb2.QUANTITY_PAYOFF_CURRENCY
_LIMIT = seto_pb2.ORDER_CREATE_LIMIT
_TIF_FIELD = seto_pb2.OrderCreate.DESCRIPTOR.fields_by_name["tif"].number
_PRICE_TYPE_FIELD = seto_pb2.OrderCreate.DESCRIPTOR.fields_by_name["price_type"].number

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


def _wire_quantity(total: int) -> int:
    """A price level's total as a uint32 Quote.quantity: above 4294967295, 4294967295.

    The saturation rule of PROTOCOL.md 3.1 (documented in docs/sandbox.rst and in the
    ``Quote`` comment of seto.piqi): the true total is at least what is shown.
    """
    return total if total <= MAX_UINT32 else MAX_UINT32


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


def _set_money(msg: seto_pb2.Decimal, amount: int) -> None:
    msg.value = amount
    msg.exponent = MONEY_EXPONENT


class OrderIds:
    """Order ids: a keyed permutation of 1, 2, 3 ... over 64 bits (never 0, never repeated).

    A four-round Feistel network whose round function is keyed blake2b: without the key,
    one id says nothing about the next or about another account's. ``key`` (bytes) makes
    the sequence reproducible, for tests; by default it is 32 random bytes (:mod:`secrets`).
    """

    __slots__ = ("_count", "_keys")

    def __init__(self, key: bytes | None = None) -> None:
        key = secrets.token_bytes(32) if key is None else bytes(key)
        self._keys = [hashlib.blake2b(key + bytes([i]), digest_size=32).digest() for i in range(4)]
        self._count = 0

    def _permute(self, value: int) -> int:
        left, right = value >> 32, value & _MASK32
        for key in self._keys:
            digest = hashlib.blake2b(right.to_bytes(4, "big"), digest_size=4, key=key).digest()
            left, right = right, left ^ int.from_bytes(digest, "big")
        return (left << 32) | right

    def next(self) -> int:
        """The next id."""
        while True:
            self._count += 1
            order_id = self._permute(self._count)
            if order_id:
                return order_id


def _unknown_numbers(message: object) -> set[int]:
    return {f.field_number for f in UnknownFieldSet(message)}  # type: ignore[arg-type]


def _invalid_reasons(create: seto_pb2.OrderCreate, max_quantity: int) -> list[int]:
    """Every reason an order_create is malformed, in the enum's order; empty if none.

    A closed proto2 enum keeps a number it does not know among the message's unknown
    fields, so the field itself reads as absent: an unknown ``price_type`` or ``tif`` is
    found there.
    """
    reasons = []
    unknown = (
        _unknown_numbers(create)
        if not (create.HasField("tif") and create.HasField("price_type"))
        else ()
    )
    if (
        not create.HasField("price")
        or not MIN_PRICE <= create.price <= MAX_PRICE
        or (create.HasField("price_type") and create.price_type != _PERCENT_ODDS)
        or (not create.HasField("price_type") and _PRICE_TYPE_FIELD in unknown)
    ):
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_PRICE)
    quantity = create.quantity
    if (
        quantity < MIN_QUANTITY
        or quantity > max_quantity
        or create.quantity_type != _PAYOFF
        or (create.HasField("maq") and create.maq > quantity)
    ):
        reasons.append(seto_pb2.ORDER_INVALID_INVALID_QUANTITY)
    if not create.HasField("tif") and _TIF_FIELD in unknown:
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
    return reasons


@dataclass(slots=True, eq=False)
class _Account:
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
        finished = self.finished
        finished[order_id] = None
        if len(finished) > FINISHED_ORDERS_REMEMBERED:
            finished.popitem(last=False)

    def next_fill(self) -> int:
        self.fills = self.fills % MAX_UINT32 + 1
        return self.fills


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
    :meth:`settle`, :meth:`suspend`, :meth:`unsuspend`) raise ``ValueError`` for a request
    that makes no sense and ``KeyError`` for an unknown id or name. Passing an account id
    that :meth:`add_account` did not return is a programming error and raises ``KeyError``.

    ``clock`` returns seconds since the Unix epoch; it is read once per accepted order, for
    the execution and creation timestamps. ``max_open_orders`` is how many open (resting)
    orders one account may have, 0 ... :data:`MAX_OPEN_ORDERS_LIMIT` (0: IMMEDIATE_OR_CANCEL
    only). ``max_order_quantity`` is the largest order quantity, :data:`MIN_QUANTITY` ...
    :data:`MAX_UINT32`. ``order_id_key`` makes the order ids reproducible (see
    :class:`OrderIds`); ``order_ids``, a function returning a new id at each call, replaces
    them (tests use 1, 2, 3 ... for readable expectations). :attr:`orders_down` set refuses
    every order_create with SERVICE_TEMPORARILY_UNAVAILABLE (order-create downtime).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        max_open_orders: int = 1000,
        *,
        max_order_quantity: int = DEFAULT_MAX_ORDER_QUANTITY,
        order_id_key: bytes | None = None,
        order_ids: Callable[[], int] | None = None,
    ) -> None:
        if (
            isinstance(max_open_orders, bool)
            or not isinstance(max_open_orders, int)
            or not 0 <= max_open_orders <= MAX_OPEN_ORDERS_LIMIT
        ):
            raise ValueError(
                f"max_open_orders must be >= 0 and <= {MAX_OPEN_ORDERS_LIMIT},"
                f" not {max_open_orders!r}"
            )
        if (
            isinstance(max_order_quantity, bool)
            or not isinstance(max_order_quantity, int)
            or not MIN_QUANTITY <= max_order_quantity <= MAX_UINT32
        ):
            raise ValueError(
                f"max_order_quantity must be >= {MIN_QUANTITY} and <= {MAX_UINT32}"
                f" (a uint32 on the wire), not {max_order_quantity!r}"
            )
        self._clock = clock
        self.max_open_orders = max_open_orders
        self.max_order_quantity = max_order_quantity
        #: True during order-create downtime: orders are rejected SERVICE_TEMPORARILY_UNAVAILABLE.
        self.orders_down = False
        #: Where order ids come from: by default unguessable (:class:`OrderIds`); tests may
        #: give their own (each call a new id, unique and not 0).
        self._next_id = order_ids if order_ids is not None else OrderIds(order_id_key).next
        self._accounts: dict[int, _Account] = {}
        self._account_ids: dict[str, int] = {}
        self._events: dict[int, _Event] = {}
        self._markets: dict[int, _Market] = {}
        self._contracts: dict[int, _Contract] = {}
        #: Every open order by id.
        self._open: dict[int, Order] = {}
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

    def suspend(self, name: str) -> None:
        """Suspend an account: its orders are rejected ACCOUNT_SUSPENDED (cancels still work)."""
        self._accounts[self.account_id(name)].suspended = True
        _log.info("account %r suspended", name)

    def unsuspend(self, name: str) -> None:
        """Let a suspended account place orders again."""
        self._accounts[self.account_id(name)].suspended = False
        _log.info("account %r unsuspended", name)

    def halt(self, market_id: int) -> list[Output]:
        """Halt an open market: its resting orders are cancelled, new orders refused.

        Outputs: an order_cancelled (MARKET_HALTED) to the owner of each resting order
        (its reservation released), the emptied levels of each contract, then the
        market_state (an extension kind). ``ValueError`` unless the market is open.
        """
        market = self._market(market_id)
        if market.state != _OPEN:
            raise ValueError(f"market {market_id} is not open")
        market.state = _HALTED
        out = self._clear_market(market, seto_pb2.ORDER_CANCELLED_MARKET_HALTED)
        out.append((market.recipient, self._market_state(market)))
        _log.info("market %d halted", market_id)
        return out

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

        Outputs: an order_cancelled (MARKET_SETTLED, an extension value whose published
        stand-in is MARKET_HALTED) to the owner of each resting order, the emptied levels
        of each contract, the market_state, then the new account_state of every account
        that had orders or trades in the market. ``ValueError`` if the market is already
        settled or ``winner_contract_id`` is not one of its contracts.
        """
        market = self._market(market_id)
        if market.state == _SETTLED:
            raise ValueError(f"market {market_id} is already settled")
        if winner_contract_id not in market.contracts:
            raise ValueError(f"contract {winner_contract_id} is not in market {market_id}")
        affected = set(market.participants)
        for contract in market.contracts.values():
            for order in contract.book.orders():
                affected.add(order.account_id)
            won = contract.id == winner_contract_id
            contract.state = seto_pb2.CONTRACT_STATUS_WON if won else seto_pb2.CONTRACT_STATUS_LOST
        out = self._clear_market(market, seto_pb2.ORDER_CANCELLED_MARKET_SETTLED)
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

    def _clear_market(self, market: _Market, reason: int) -> list[Output]:
        """Cancel every resting order of a market (``reason``); then the book updates."""
        out: list[Output] = []
        for contract in market.contracts.values():
            for order in contract.book.clear():
                account = self._accounts[order.account_id]
                out.append((account.recipient, self._close(account, order, reason)))
        for contract in market.contracts.values():
            quotes = self._contract_quotes(market, contract)
            if quotes is not None:
                out.append((market.recipient, quotes))
        return out

    # -- requests -----------------------------------------------------------------------

    def place_order(self, account_id: int, create: seto_pb2.OrderCreate, seq: int) -> list[Output]:
        """Validate, accept and match an order_create sent as eto ``seq``.

        Outputs: one order_invalid or order_rejected; or order_accepted, then an
        order_executed for each fill to each of the two accounts, then an order_cancelled
        (INSUFFICIENT_LIQUIDITY) for an IMMEDIATE_OR_CANCEL remainder or a ``maq`` not met,
        then the contract's book update. Nothing changes (not even an order id is used up)
        unless the order is accepted. See the module docstring for the checks' order.
        """
        account = self._accounts[account_id]
        reference = create.reference if create.HasField("reference") else None
        reasons = _invalid_reasons(create, self.max_order_quantity)
        if reasons:
            if not isinstance(reference, str):
                reference = None  # not valid UTF-8 (bytes): it cannot be echoed
            return [(account.recipient, _order_invalid(seq, reasons, reference))]
        if account.suspended:
            return self._reject(account, seq, seto_pb2.ORDER_REJECTED_ACCOUNT_SUSPENDED, reference)
        if self.orders_down:
            return self._reject(
                account, seq, seto_pb2.ORDER_REJECTED_SERVICE_TEMPORARILY_UNAVAILABLE, reference
            )
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
        time_in_force = create.tif
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
        if create.HasField("maq") and sum(fill for _, fill in plan) < create.maq:
            plan = []  # the minimum cannot match at once: nothing matches
            rests = False
        else:
            rests = time_in_force == _GTC
        remaining = quantity
        if plan:
            # What the order will really cost, rounding included (see the module docs).
            due = 0
            for maker, fill in plan:
                due += fill - _maker_stake(maker.side, fill, maker.price)
                remaining -= fill
            if rests:
                due += reservation(side, remaining, price)
            if available < due:
                return self._reject(
                    account, seq, seto_pb2.ORDER_REJECTED_INSUFFICIENT_FUNDS, reference
                )
            if book.volume + (quantity - remaining) > MAX_QUANTITY:
                return self._reject(account, seq, seto_pb2.ORDER_REJECTED_LIMIT_EXCEEDED, reference)

        order_id = self._next_id()
        now = self._clock()
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
            created=int(now * 1_000_000),
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
                "order %x accepted: account %d contract %d side %d %d @ %d, %d fills",
                order_id,
                account_id,
                contract.id,
                side,
                quantity,
                price,
                len(plan),
            )

        if plan:
            timestamp = order.created
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
                    maker_account.finish(maker.id)
                order.remaining -= fill
                order.filled += fill
                _stake(maker_account, market, contract.id, maker.side, fill, maker_stake)
                _stake(account, market, contract.id, side, fill, fill - maker_stake)
                book.record_trade(fill_price, fill, side, timestamp)
                out.append((account.recipient, _order_executed(order, fill_price, fill, account)))
                out.append(
                    (
                        maker_account.recipient,
                        _order_executed(maker, fill_price, fill, maker_account),
                    )
                )

        if order.remaining:
            if not rests:
                cancelled = self._close(
                    account, order, seto_pb2.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY
                )
                out.append((account.recipient, cancelled))
            else:
                book.rest(order)
                account.open_orders[order_id] = order
                self._open[order_id] = order
                account.exposure += reservation(side, order.remaining, price)
        else:
            account.finish(order_id)
        quotes = self._contract_quotes(market, contract)
        if quotes is not None:
            out.append((market.recipient, quotes))
        return out

    def cancel_order(self, account_id: int, order_id: int, seq: int) -> list[Output]:
        """Cancel one of the account's open orders, for the order_cancel sent as ``seq``.

        Outputs: order_cancelled (MEMBER_REQUESTED) and the book update; or
        order_cancel_rejected: NOT_FOUND for an id the account does not own (another
        account's order included: whether it exists is not revealed), NOT_LIVE for the
        account's own order that is already filled or cancelled (among the last
        :data:`FINISHED_ORDERS_REMEMBERED` it finished). Allowed while the account is
        suspended.
        """
        account = self._accounts[account_id]
        order = account.open_orders.get(order_id)
        if order is None:
            rejected = _Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL_REJECTED)
            msg = rejected.order_cancel_rejected
            msg.seq = seq
            _set_id(msg.order, order_id)
            msg.reason = (
                seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE
                if order_id in account.finished
                else seto_pb2.ORDER_CANCEL_REJECTED_NOT_FOUND
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

    def balance(self, account_id: int) -> tuple[int, int, int, int]:
        """The account's ``(cash, exposure, available, staked)``, in 1/10,000 units."""
        account = self._accounts[account_id]
        return (
            account.cash,
            account.exposure,
            account.cash - account.exposure,
            account.staked,
        )

    def account_state(self, account_id: int, seq: int | None = None) -> seto_pb2.Payload:
        """The account's money (seto.AccountState), answering request ``seq`` if given.

        Every amount is a ``Decimal(value=amount, exponent=4)``: exact. ``bonus`` is 0.
        """
        account = self._accounts[account_id]
        payload = _Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE)
        msg = payload.account_state
        _set_id(msg.account, account_id)
        msg.currency = CURRENCY
        _set_money(msg.cash, account.cash)
        _set_money(msg.bonus, 0)
        _set_money(msg.exposure, account.exposure)
        _set_money(msg.available, account.cash - account.exposure)
        _set_money(msg.staked, account.staked)
        if seq is not None:
            msg.seq = seq
        return payload

    def orders_for_account(self, account_id: int) -> seto_pb2.Payload:
        """The account's open orders, by market (seto.orders_for_account)."""
        payload = _Payload(type=seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT)
        by_market: dict[int, list[Order]] = {}
        for order in self._accounts[account_id].open_orders.values():
            by_market.setdefault(order.market_id, []).append(order)
        for market_id, orders in by_market.items():
            _fill_orders_for_market(payload.orders_for_account.markets.add(), market_id, orders)
        return payload

    def orders_for_market(self, account_id: int, market_id: int) -> seto_pb2.Payload:
        """The account's open orders in one market (seto.orders_for_market).

        An unknown market simply has no orders.
        """
        payload = _Payload(type=seto_pb2.PAYLOAD_ORDERS_FOR_MARKET)
        orders = [
            order
            for order in self._accounts[account_id].open_orders.values()
            if order.market_id == market_id
        ]
        _fill_orders_for_market(payload.orders_for_market, market_id, orders)
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
        """A market's whole book (seto.MarketQuotes), with its state and ``seq`` (extensions).

        Per contract: bids high to low, offers low to high, the latest executions (at most
        10, oldest first), the last execution and the volume. ``KeyError`` for an unknown
        market.
        """
        market = self._market(market_id)
        payload = _Payload(type=seto_pb2.PAYLOAD_MARKET_QUOTES)
        msg = payload.market_quotes
        _set_id(msg.market, market_id)
        msg.price_type = _PERCENT_ODDS
        msg.quantity_type = _PAYOFF
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

    @staticmethod
    def empty_market_quotes(market_id: int) -> seto_pb2.Payload:
        """A market_quotes with no contract quotes: a published session's answer for a
        market that does not exist (the published schema has no refusal)."""
        payload = _Payload(type=seto_pb2.PAYLOAD_MARKET_QUOTES)
        msg = payload.market_quotes
        _set_id(msg.market, market_id)
        msg.price_type = _PERCENT_ODDS
        msg.quantity_type = _PAYOFF
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
        account.finish(order.id)
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


def _order_executed(order: Order, price: int, quantity: int, account: _Account) -> seto_pb2.Payload:
    payload = _Payload(type=seto_pb2.PAYLOAD_ORDER_EXECUTED)
    msg = payload.order_executed
    _set_id(msg.order, order.id)
    msg.price = price
    msg.quantity_type = _PAYOFF
    msg.quantity = quantity
    msg.account_sequence = account.next_fill()
    msg.side = order.side
    _set_id(msg.market, order.market_id)
    _set_id(msg.contract, order.contract_id)
    msg.remaining = order.remaining
    if order.reference is not None:
        msg.reference = order.reference
    return payload


def _set_execution(msg: seto_pb2.Execution, trade: tuple[int, int, int, int]) -> None:
    price, quantity, side, timestamp = trade
    msg.price = price
    msg.quantity = quantity
    msg.liquidity = side
    msg.microseconds = timestamp


def _fill_contract_quotes(
    msg: seto_pb2.ContractQuotes,
    market: _Market,
    contract: _Contract,
    bids: Iterable[tuple[int, int]],
    offers: Iterable[tuple[int, int]],
    trades: Iterable[tuple[int, int, int, int]],
) -> None:
    _set_id(msg.contract, contract.id)
    for price, quantity in bids:
        quote = msg.bids.add()
        quote.price = price
        quote.quantity = _wire_quantity(quantity)  # saturated at 2**32 - 1
    for price, quantity in offers:
        quote = msg.offers.add()
        quote.price = price
        quote.quantity = _wire_quantity(quantity)  # saturated at 2**32 - 1
    for trade in trades:
        _set_execution(msg.executions.add(), trade)
    recent = contract.book.recent
    if recent:
        _set_execution(msg.last_execution, recent[-1])
    _set_id(msg.market, market.id)
    msg.volume = contract.book.volume


def _fill_orders_for_market(
    msg: seto_pb2.orders_for_market, market_id: int, orders: Iterable[Order]
) -> None:
    """The account's open ``orders`` of one market as an orders_for_market: by contract,
    bids by descending price, offers by ascending price, oldest first at a price."""
    _set_id(msg.market, market_id)
    msg.price_type = _PERCENT_ODDS
    by_contract: dict[int, tuple[dict[int, list[Order]], dict[int, list[Order]]]] = {}
    for order in orders:
        bids, offers = by_contract.setdefault(order.contract_id, ({}, {}))
        (bids if order.side == BUY else offers).setdefault(order.price, []).append(order)
    for contract_id, (bids, offers) in by_contract.items():
        contract_msg = msg.contracts.add()
        _set_id(contract_msg.contract, contract_id)
        for levels, side_orders, prices in (
            (contract_msg.bids, bids, sorted(bids, reverse=True)),
            (contract_msg.offers, offers, sorted(offers)),
        ):
            for price in prices:
                level = levels.add()
                level.price = price
                for order in side_orders[price]:
                    state = level.orders.add()
                    _set_id(state.order, order.id)
                    state.type = _LIMIT
                    state.status = (
                        seto_pb2.ORDER_STATUS_PARTIALLY_FILLED
                        if order.filled
                        else seto_pb2.ORDER_STATUS_LIVE
                    )
                    state.quantity_type = _PAYOFF
                    state.quantity = order.quantity
                    state.created_microseconds = order.created
                    state.quantity_filled = order.filled
                    state.remaining = order.remaining
                    if order.reference is not None:
                        state.reference = order.reference
