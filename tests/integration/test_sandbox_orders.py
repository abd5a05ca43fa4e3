"""Orders against the sandbox run as a separate process, through the library's own client.

Every test gets fresh accounts and a fresh market (opened through the sandbox's admin
console), so the tests share one sandbox per transport without seeing one another, and the
sandbox runs without bots: everything is deterministic. Waiting is always "read until the
expected payload has arrived"; a ping answered by a pong is the barrier after which nothing
more can be on its way (the server answers each connection in order).

Money: every expected amount is an exact integer of 1/10,000 units, computed by hand from
the money model of ``smarkets/sandbox/exchange.py``: a buy of ``q`` at ``p`` reserves
``q*p//10000``, a sell ``q - q*p//10000``; in a trade the resting order (the maker) pays
``f*p//10000`` (buy) or ``f*(10000-p)//10000`` (sell) and the incoming one the rest of ``f``.
On the wire money is a ``seto.Decimal``; the client converts it exactly to those units
(:class:`smarkets.account.Account`).

Order ids are unguessable 64-bit numbers: the tests only ever compare them with the ids the
exchange gave.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from support import sandbox_settings

import smarkets
from smarkets.account import Account, OpenOrder
from smarkets.account import open_orders as list_open_orders
from smarkets.proto import seto_pb2
from smarkets.protocol.framing import uleb128
from smarkets.protocol.names import payload_name
from smarkets.sandbox.process import SandboxAdminError, SandboxProcess

BUY = smarkets.Order.BUY
SELL = smarkets.Order.SELL
GTC = smarkets.Order.GOOD_TIL_CANCELLED
IOC = smarkets.Order.IMMEDIATE_OR_CANCEL
#: 1,000.00: the opening balance of the test accounts.
BALANCE = 10_000_000
#: Seconds a read may wait for something to arrive before the test fails.
WAIT = 5.0
#: How many open orders an account may have: the sandbox runs with --max-open-orders this.
MAX_OPEN_ORDERS = 20

_ids = itertools.count(0x100)
_CREATE_FIELDS = seto_pb2.OrderCreate.DESCRIPTOR.fields_by_name


# -- helpers ---------------------------------------------------------------------------------


class Trader:
    """One account's :class:`smarkets.Smarkets` session, recording every payload dispatched."""

    def __init__(self, sandbox: SandboxProcess, name: str, extensions: bool = True) -> None:
        self.name = name
        settings = sandbox_settings(sandbox, name, socket_timeout=WAIT, extensions=extensions)
        self.client = smarkets.Smarkets(smarkets.Session(settings))
        #: (handler name, message) of everything dispatched, in order.
        self.seen: list[tuple[str, Any]] = []
        self.client.add_global_handler(self._record)
        self.client.login()

    def _record(self, name: str, payload: seto_pb2.Payload) -> None:
        self.seen.append((name, payload_name(payload)[1]))

    # sending

    def send(self, payload: seto_pb2.Payload) -> int:
        """Queue a raw payload and flush it; its seq."""
        self.client.queue(payload)
        (seq,) = self.client.flush()
        return seq

    def place(
        self,
        market: str,
        contract: str,
        side: int,
        price: int,
        quantity: int,
        time_in_force: int = GTC,
        reference: str | None = None,
    ) -> smarkets.Order:
        """Place an order through :meth:`smarkets.Smarkets.order` and flush it."""
        order = smarkets.Order(quantity, price, side, market, contract, time_in_force, reference)
        self.client.order(order)
        self.client.flush()
        return order

    def flush_one(self) -> int:
        """Flush the one request queued; its seq."""
        (seq,) = self.client.flush()
        return seq

    # receiving

    def messages(self, name: str, where: Callable[[Any], bool] = lambda m: True) -> list[Any]:
        """The messages named ``name`` received so far that satisfy ``where``."""
        return [message for kind, message in self.seen if kind == name and where(message)]

    def wait_for(
        self, name: str, where: Callable[[Any], bool] = lambda m: True, count: int = 1
    ) -> list[Any]:
        """Read until ``count`` messages named ``name`` satisfying ``where`` have arrived."""
        while True:
            found = self.messages(name, where)
            if len(found) >= count:
                return found
            try:
                self.client.read()
            except smarkets.SocketTimeout:
                got = [kind for kind, _ in self.seen]
                raise AssertionError(f"{self.name}: no {name} in {WAIT}s; got {got}") from None

    def any_reply(self, seq: int) -> tuple[str, Any]:
        """The first reply to the request sent as ``seq``, whatever its kind (waiting for it)."""
        while not self.replies_to(seq):
            try:
                self.client.read()
            except smarkets.SocketTimeout:
                got = [kind for kind, _ in self.seen]
                raise AssertionError(
                    f"{self.name}: no reply to {seq} in {WAIT}s; got {got}"
                ) from None
        return self.replies_to(seq)[0]

    def reply(self, name: str, seq: int) -> Any:
        """The one ``name`` reply to the request sent as ``seq`` (waiting for it)."""
        (message,) = self.wait_for(name, lambda m: m.HasField("seq") and m.seq == seq)
        return message

    def replies_to(self, seq: int) -> list[tuple[str, Any]]:
        """Every payload received so far that names request ``seq``."""
        return [(kind, message) for kind, message in self.seen if names_request(kind, message, seq)]

    def sync(self) -> None:
        """Ping and wait for the pong: whatever the server sent before is in ``seen``."""
        pongs = len(self.messages("eto.pong"))
        self.client.ping()
        self.client.flush()
        self.wait_for("eto.pong", count=pongs + 1)

    def account(self) -> Account:
        """The account's state, asked for over the protocol (money in 1/10,000 units)."""
        self.client.request_account_state()
        message = self.reply("seto.account_state", self.flush_one())
        account = Account.from_message(message)
        # the client keeps the latest one, converted the same way
        assert self.client.account == account
        return account

    def money(self) -> tuple[int, int, int, int | None]:
        """(cash, exposure, available, staked), asked for over the protocol."""
        state = self.account()
        return state.cash, state.exposure, state.available, state.staked

    def open_orders(self, market: str | None = None) -> list[OpenOrder]:
        """The account's open orders, asked for over the protocol (orders_for_account, or
        orders_for_market for one market: neither names its request, so the next one)."""
        name = "seto.orders_for_account" if market is None else "seto.orders_for_market"
        before = len(self.messages(name))
        self.client.request_orders(market)
        self.flush_one()
        return list_open_orders(self.wait_for(name, count=before + 1)[before])

    def subscribe(self, market: str) -> seto_pb2.MarketQuotes:
        """Subscribe to ``market``; its snapshot."""
        self.client.subscribe(market)
        return self.reply("seto.market_quotes", self.flush_one())


@dataclass
class Market:
    """A market opened for one test: tagged hex ids."""

    id: str
    contracts: list[str]


class Exchange:
    """Fresh accounts and markets on the shared sandbox, for one test."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        self.sandbox = sandbox
        self.traders: list[Trader] = []

    def trader(self, balance: int = BALANCE, extensions: bool = True) -> Trader:
        """A new account with ``balance``, logged in (``extensions=False``: with the
        published schema alone)."""
        n = next(_ids)
        name = f"trader{n:x}"
        self.sandbox.add_account(name, f"pw-{n:x}", balance)
        trader = Trader(self.sandbox, name, extensions)
        self.traders.append(trader)
        return trader

    def market(self, contracts: int = 2) -> Market:
        """A new open market with ``contracts`` contracts."""
        market_id = smarkets.uuid_to_str(next(_ids), "market")
        contract_ids = [smarkets.uuid_to_str(next(_ids), "contract") for _ in range(contracts)]
        self.sandbox.add_market(
            {
                "id": market_id,
                "name": f"Market {market_id}",
                "event": "Integration tests",
                "contracts": [
                    {"id": contract, "name": f"Contract {contract}"} for contract in contract_ids
                ],
            }
        )
        return Market(market_id, contract_ids)

    def close(self) -> None:
        for trader in self.traders:
            try:
                trader.client.logout()
            except smarkets.Error:  # a session the server has already dropped
                pass


@pytest.fixture(scope="module", params=[True, False], ids=["tls", "plain"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxProcess]:
    """One quiet sandbox (no bots, no throttle) per transport for the whole module."""
    args = ["--throttle", "0", "--max-open-orders", str(MAX_OPEN_ORDERS)]
    with SandboxProcess(tls=request.param, bots=0, extra_args=args) as process:
        yield process


@pytest.fixture
def exchange(sandbox: SandboxProcess) -> Iterator[Exchange]:
    """Fresh accounts and markets; every session logged out at the end."""
    made = Exchange(sandbox)
    yield made
    made.close()


def names_request(kind: str, message: Any, seq: int) -> bool:
    """Whether a dispatched payload is an exchange reply naming request ``seq``.

    (Session payloads, ``eto.*``, carry their own seq: that is not a reply's.)
    """
    if not kind.startswith("seto.") or "seq" not in message.DESCRIPTOR.fields_by_name:
        return False
    return bool(message.HasField("seq") and message.seq == seq)


def uuid(text: str) -> seto_pb2.Uuid128:
    """A tagged hex id as a Uuid128."""
    return smarkets.str_to_uuid128(text)


def create(
    market: str,
    contract: str,
    side: int = BUY,
    price: int | None = 5000,
    quantity: int = 10_000,
    reference: str | None = None,
    maq: int | None = None,
) -> seto_pb2.Payload:
    """A raw order_create payload (a LIMIT order of PAYOFF_CURRENCY quantity, with every
    required field); ``price=None`` leaves the (optional) price out."""
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
    message = payload.order_create
    message.type = seto_pb2.ORDER_CREATE_LIMIT
    message.market.CopyFrom(uuid(market))
    message.contract.CopyFrom(uuid(contract))
    message.side = side
    message.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    message.quantity = quantity
    message.price_type = seto_pb2.PRICE_PERCENT_ODDS
    if price is not None:
        message.price = price
    if maq is not None:
        message.maq = maq
    if reference is not None:
        message.reference = reference
    return payload


def with_unknown_enum(payload: seto_pb2.Payload, field: str, number: int) -> seto_pb2.Payload:
    """``payload`` whose order_create carries optional enum ``field`` = ``number``, a value
    the schema does not have (added as raw bytes: protobuf keeps them as an unknown field)."""
    payload.order_create.ClearField(field)
    tag = _CREATE_FIELDS[field].number << 3  # wire type 0: varint
    raw = uleb128(tag) + uleb128(number)  # a protobuf varint is ULEB128
    payload.order_create.MergeFromString(raw)
    assert not payload.order_create.HasField(field)
    return payload


def levels_of(quotes: seto_pb2.ContractQuotes) -> tuple[list[tuple[int, int]], ...]:
    """A contract's (bids, offers) as lists of (price, quantity)."""
    return (
        [(q.price, q.quantity) for q in quotes.bids],
        [(q.price, q.quantity) for q in quotes.offers],
    )


def reason_name(enum: Any, value: int) -> str:
    return str(enum.Name(value))


# -- order_rejected: every reason ------------------------------------------------------------


def assert_rejected(trader: Trader, seq: int, reason: int, reference: str | None) -> None:
    """The request ``seq`` was answered by exactly one order_rejected for ``reason``."""
    rejected = trader.reply("seto.order_rejected", seq)
    assert reason_name(seto_pb2.OrderRejectedReason, rejected.reason) == reason_name(
        seto_pb2.OrderRejectedReason, reason
    )
    if reference is None:
        assert not rejected.HasField("reference")
    else:
        assert rejected.reference == reference
    trader.sync()
    assert [kind for kind, _ in trader.replies_to(seq)] == ["seto.order_rejected"]


def test_rejected_insufficient_funds(exchange: Exchange) -> None:
    market = exchange.market()
    alice = exchange.trader(balance=49_999)
    # a buy of 100,000 at 50.00% reserves 50,000: one unit more than the balance
    order = alice.place(market.id, market.contracts[0], BUY, 5000, 100_000, reference="too-big")
    assert_rejected(alice, order.seq, seto_pb2.ORDER_REJECTED_INSUFFICIENT_FUNDS, "too-big")
    assert order.state == "rejected" and order.remaining == 0
    # a sell of 100,000 at 50.01% reserves 100,000 - 50,010 = 49,990: it fits
    fits = alice.place(market.id, market.contracts[0], SELL, 5001, 100_000)
    alice.reply("seto.order_accepted", fits.seq)
    assert alice.money() == (49_999, 49_990, 9, 0)


def test_rejected_insufficient_funds_for_the_taker_rounding(exchange: Exchange) -> None:
    market = exchange.market()
    contract = market.contracts[0]
    bob = exchange.trader()
    bob.place(market.id, contract, SELL, 5001, 1001)  # the maker's stake rounds down: 500
    bob.wait_for("seto.order_accepted")
    assert bob.money() == (BALANCE, 501, BALANCE - 501, 0)  # reserves 1001 - 1001*5001//10000
    # The taker's buy reserves 1001*5001//10000 = 500 but pays 1001 - 500 = 501.
    poor = exchange.trader(balance=500)
    order = poor.place(market.id, contract, BUY, 5001, 1001, reference="rounding")
    assert_rejected(poor, order.seq, seto_pb2.ORDER_REJECTED_INSUFFICIENT_FUNDS, "rounding")
    assert poor.money() == (500, 0, 500, 0)
    rich = exchange.trader(balance=501)
    order = rich.place(market.id, contract, BUY, 5001, 1001)
    rich.reply("seto.order_accepted", order.seq)
    (executed,) = rich.wait_for("seto.order_executed")
    assert (executed.price, executed.quantity, executed.remaining) == (5001, 1001, 0)
    assert rich.money() == (0, 0, 0, 501)
    assert bob.money() == (BALANCE - 500, 0, BALANCE - 500, 500)


def test_rejected_limit_exceeded(exchange: Exchange) -> None:
    market = exchange.market()
    # A buy at 0.01% of 1,000 reserves 1000*1//10000 = 0: an empty account can place them.
    alice = exchange.trader(balance=0)
    orders = [
        alice.client.order(smarkets.Order(1000, 1, BUY, market.id, market.contracts[0]))
        for _ in range(MAX_OPEN_ORDERS)
    ]
    alice.client.flush()
    alice.wait_for("seto.order_accepted", count=MAX_OPEN_ORDERS)
    assert all(order.state == "accepted" for order in orders)
    one_more = alice.place(market.id, market.contracts[1], BUY, 1, 1000, reference="one more")
    assert_rejected(alice, one_more.seq, seto_pb2.ORDER_REJECTED_LIMIT_EXCEEDED, "one more")
    # an IMMEDIATE_OR_CANCEL order never rests: the limit does not concern it
    ioc = alice.place(market.id, market.contracts[1], BUY, 1, 1000, IOC, reference="ioc")
    alice.reply("seto.order_accepted", ioc.seq)
    (cancelled,) = alice.wait_for("seto.order_cancelled", lambda m: m.reference == "ioc")
    assert cancelled.reason == seto_pb2.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY
    assert len(alice.open_orders()) == MAX_OPEN_ORDERS
    # once one is cancelled there is room again
    alice.client.cancel(orders[0])
    seq = alice.flush_one()
    alice.reply("seto.order_cancelled", seq)
    again = alice.place(market.id, market.contracts[1], BUY, 1, 1000)
    alice.reply("seto.order_accepted", again.seq)


def test_rejected_market_settled(exchange: Exchange) -> None:
    market = exchange.market()
    exchange.sandbox.settle(market.id, market.contracts[1])
    alice = exchange.trader()
    order = alice.place(market.id, market.contracts[0], BUY, 5000, 10_000, reference="late")
    assert_rejected(alice, order.seq, seto_pb2.ORDER_REJECTED_MARKET_SETTLED, "late")
    assert alice.money() == (BALANCE, 0, BALANCE, 0)


def test_rejected_market_halted(exchange: Exchange) -> None:
    market = exchange.market()
    exchange.sandbox.halt(market.id)
    alice = exchange.trader()
    order = alice.place(market.id, market.contracts[0], SELL, 5000, 10_000)
    assert_rejected(alice, order.seq, seto_pb2.ORDER_REJECTED_MARKET_HALTED, None)
    assert alice.money() == (BALANCE, 0, BALANCE, 0)


def test_rejected_crossed_self(exchange: Exchange) -> None:
    market = exchange.market()
    contract = market.contracts[0]
    alice, bob = exchange.trader(), exchange.trader()
    resting = alice.place(market.id, contract, SELL, 5000, 20_000)
    alice.reply("seto.order_accepted", resting.seq)
    crossing = alice.place(market.id, contract, BUY, 5200, 10_000, reference="self")
    assert_rejected(alice, crossing.seq, seto_pb2.ORDER_REJECTED_CROSSED_SELF, "self")
    # not crossing (below the offer) is fine, and another account may take the offer
    below = alice.place(market.id, contract, BUY, 4900, 10_000)
    alice.reply("seto.order_accepted", below.seq)
    taker = bob.place(market.id, contract, BUY, 5000, 10_000)
    bob.reply("seto.order_accepted", taker.seq)
    (executed,) = bob.wait_for("seto.order_executed")
    assert (executed.price, executed.quantity) == (5000, 10_000)


def test_rejected_market_not_found(exchange: Exchange) -> None:
    market = exchange.market()
    alice = exchange.trader()
    seq = alice.send(create("fffffc024", market.contracts[0], reference="nowhere"))
    assert_rejected(alice, seq, seto_pb2.ORDER_REJECTED_MARKET_NOT_FOUND, "nowhere")


@pytest.mark.parametrize("which", ["unknown", "of another market"])
def test_rejected_contract_not_found(exchange: Exchange, which: str) -> None:
    market, other = exchange.market(), exchange.market()
    contract = "fffffcccc" if which == "unknown" else other.contracts[0]
    alice = exchange.trader()
    seq = alice.send(create(market.id, contract, reference=which))
    assert_rejected(alice, seq, seto_pb2.ORDER_REJECTED_CONTRACT_NOT_FOUND, which)


# -- order_invalid: every reason, with raw payloads that bypass the client's checks ----------

PRICE = seto_pb2.ORDER_INVALID_INVALID_PRICE
QUANTITY = seto_pb2.ORDER_INVALID_INVALID_QUANTITY
TIME_IN_FORCE = seto_pb2.ORDER_INVALID_INVALID_TIME_IN_FORCE
REFERENCE = seto_pb2.ORDER_INVALID_INVALID_REFERENCE
#: The sandbox's default maximum order quantity (--max-order-quantity).
MAX_ORDER_QUANTITY = 500_000_000

#: name -> (order_create fields to override, unknown enum (field, number) or None, reasons).
#: Side, market and contract are required fields: a payload without them (or with a side
#: the schema does not know) is not an order but a bad payload, which ends the session with
#: a LOGOUT (tests/sandbox/test_server_published.py, tests/integration/test_hostile_sandbox.py).
INVALID_CASES: dict[str, tuple[dict[str, Any], tuple[str, int] | None, list[int]]] = {
    "price 0": ({"price": 0}, None, [PRICE]),
    "price 10000": ({"price": 10_000}, None, [PRICE]),
    "no price": ({"price": None}, None, [PRICE]),
    "unknown price type": ({}, ("price_type", 7), [PRICE]),
    "quantity 999": ({"quantity": 999}, None, [QUANTITY]),
    "quantity 0": ({"quantity": 0}, None, [QUANTITY]),
    "quantity above the maximum": ({"quantity": MAX_ORDER_QUANTITY + 1}, None, [QUANTITY]),
    "quantity of a uint32's maximum": ({"quantity": 2**32 - 1}, None, [QUANTITY]),
    "maq above the quantity": ({"quantity": 10_000, "maq": 10_001}, None, [QUANTITY]),
    "unknown time in force": ({}, ("tif", 7), [TIME_IN_FORCE]),
    "reference of 65 bytes": ({"reference": "r" * 65}, None, [REFERENCE]),
    "reference of 22 characters, 66 bytes": ({"reference": "€" * 22}, None, [REFERENCE]),
    "everything wrong": (
        {"price": 0, "quantity": 1, "reference": "x" * 65},
        ("tif", 9),
        [PRICE, QUANTITY, TIME_IN_FORCE, REFERENCE],
    ),
}


def test_the_invalid_cases_cover_every_reason() -> None:
    covered = {reason for _, _, reasons in INVALID_CASES.values() for reason in reasons}
    assert covered == set(seto_pb2.OrderInvalidReason.values())


@pytest.mark.parametrize("case", list(INVALID_CASES))
def test_order_invalid(exchange: Exchange, case: str) -> None:
    overrides, unknown, reasons = INVALID_CASES[case]
    market = exchange.market()
    alice = exchange.trader()
    fields: dict[str, Any] = {"reference": "ref-" + case.replace(" ", "-")}
    fields.update(overrides)
    payload = create(market.id, market.contracts[0], **fields)
    if unknown is not None:
        with_unknown_enum(payload, *unknown)
    seq = alice.send(payload)
    invalid = alice.reply("seto.order_invalid", seq)
    names = seto_pb2.OrderInvalidReason.Name
    assert [names(r) for r in invalid.reasons] == [names(r) for r in reasons]
    assert invalid.reference == fields["reference"]
    alice.sync()
    assert [kind for kind, _ in alice.replies_to(seq)] == ["seto.order_invalid"]
    assert alice.money() == (BALANCE, 0, BALANCE, 0)


def test_order_at_the_limits_is_valid(exchange: Exchange) -> None:
    market = exchange.market()
    alice = exchange.trader()
    reference = "€" * 21 + "x"  # 64 bytes of UTF-8
    seqs = [
        alice.send(create(market.id, market.contracts[0], BUY, 1, 1000, reference)),
        alice.send(create(market.id, market.contracts[1], SELL, 9999, 1000)),
    ]
    first = alice.reply("seto.order_accepted", seqs[0])
    assert first.reference == reference
    alice.reply("seto.order_accepted", seqs[1])
    # buy 1000 at 0.01% reserves 0; sell 1000 at 99.99% reserves 1000 - 999 = 1
    assert alice.money() == (BALANCE, 1, BALANCE - 1, 0)


def test_a_reference_that_is_not_utf8_is_invalid(exchange: Exchange) -> None:
    market = exchange.market()
    alice = exchange.trader()
    payload = create(market.id, market.contracts[0])
    # field 100 (reference, an extension), length-delimited, 2 bytes that are not UTF-8:
    # only raw bytes can carry them (a Python str cannot)
    tag = _CREATE_FIELDS["reference"].number << 3 | 2
    payload.order_create.MergeFromString(uleb128(tag) + bytes([2, 0xFF, 0xFE]))
    seq = alice.send(payload)
    invalid = alice.reply("seto.order_invalid", seq)
    assert list(invalid.reasons) == [REFERENCE]
    assert alice.money() == (BALANCE, 0, BALANCE, 0)


# -- cancels ---------------------------------------------------------------------------------


def test_cancel(exchange: Exchange) -> None:
    market = exchange.market()
    alice = exchange.trader()
    order = alice.place(market.id, market.contracts[0], BUY, 2500, 40_000, reference="mine")
    alice.reply("seto.order_accepted", order.seq)
    assert alice.money() == (BALANCE, 10_000, BALANCE - 10_000, 0)
    alice.client.cancel(order)
    seq = alice.flush_one()
    cancelled = alice.reply("seto.order_cancelled", seq)
    assert cancelled.order == order.id
    assert cancelled.reason == seto_pb2.ORDER_CANCELLED_MEMBER_REQUESTED
    assert (cancelled.quantity, cancelled.reference) == (40_000, "mine")
    assert order.state == "cancelled" and order.remaining == 0
    assert alice.money() == (BALANCE, 0, BALANCE, 0)
    assert alice.open_orders() == []


def test_cancel_rejected_not_found(exchange: Exchange) -> None:
    market = exchange.market()
    alice, bob = exchange.trader(), exchange.trader()
    alice.client.cancel("abcdef0fff0")
    seq = alice.flush_one()
    rejected = alice.reply("seto.order_cancel_rejected", seq)
    assert rejected.reason == seto_pb2.ORDER_CANCEL_REJECTED_NOT_FOUND
    assert rejected.order == uuid("abcdef0fff0")
    # someone else's order is not found either, and stays on the book
    order = alice.place(market.id, market.contracts[0], BUY, 3000, 10_000)
    alice.reply("seto.order_accepted", order.seq)
    assert order.id is not None
    bob.client.cancel(order.id)
    seq = bob.flush_one()
    rejected = bob.reply("seto.order_cancel_rejected", seq)
    assert rejected.reason == seto_pb2.ORDER_CANCEL_REJECTED_NOT_FOUND
    assert rejected.order == order.id
    assert [info.order for info in alice.open_orders()] == [order.id]


def test_cancel_rejected_not_live(exchange: Exchange) -> None:
    market = exchange.market()
    contract = market.contracts[0]
    alice, bob = exchange.trader(), exchange.trader()
    filled = alice.place(market.id, contract, SELL, 6000, 10_000)
    alice.reply("seto.order_accepted", filled.seq)
    bob.place(market.id, contract, BUY, 6000, 10_000)
    alice.wait_for("seto.order_executed")
    assert filled.state == "filled"
    cancelled = alice.place(market.id, contract, SELL, 7000, 10_000)
    alice.reply("seto.order_accepted", cancelled.seq)
    alice.client.cancel(cancelled)
    alice.reply("seto.order_cancelled", alice.flush_one())
    for order in (filled, cancelled):
        alice.client.cancel(order)
        seq = alice.flush_one()
        rejected = alice.reply("seto.order_cancel_rejected", seq)
        assert rejected.reason == seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE
        assert rejected.order == order.id


def test_cancel_all(exchange: Exchange) -> None:
    first, second = exchange.market(), exchange.market()
    alice = exchange.trader()
    orders = [
        alice.place(first.id, first.contracts[0], BUY, 1000, 10_000, reference="a"),
        alice.place(first.id, first.contracts[1], SELL, 8000, 10_000, reference="b"),
        alice.place(second.id, second.contracts[0], BUY, 2000, 10_000, reference="c"),
    ]
    for order in orders:
        alice.reply("seto.order_accepted", order.seq)
    # reserves 1,000 + (10,000 - 8,000) + 2,000
    assert alice.money() == (BALANCE, 5000, BALANCE - 5000, 0)
    alice.client.cancel_all(first.id)
    seq = alice.flush_one()
    assert alice.reply("seto.order_cancel_all_accepted", seq).count == 2
    cancelled = alice.wait_for("seto.order_cancelled", lambda m: m.seq == seq, count=2)
    assert sorted(m.reference for m in cancelled) == ["a", "b"]
    assert {m.reason for m in cancelled} == {seto_pb2.ORDER_CANCELLED_MEMBER_REQUESTED}
    assert [order.state for order in orders] == ["cancelled", "cancelled", "accepted"]
    assert alice.money() == (BALANCE, 2000, BALANCE - 2000, 0)
    # every market, then nothing left
    alice.client.cancel_all()
    seq = alice.flush_one()
    assert alice.reply("seto.order_cancel_all_accepted", seq).count == 1
    (last,) = alice.wait_for("seto.order_cancelled", lambda m: m.seq == seq)
    assert (last.order, last.quantity, last.reference) == (orders[2].id, 10_000, "c")
    alice.client.cancel_all()
    seq = alice.flush_one()
    assert alice.reply("seto.order_cancel_all_accepted", seq).count == 0
    assert alice.money() == (BALANCE, 0, BALANCE, 0)


def test_cancel_all_rejected(exchange: Exchange) -> None:
    market = exchange.market()
    alice = exchange.trader()
    order = alice.place(market.id, market.contracts[0], BUY, 1000, 10_000)
    alice.reply("seto.order_accepted", order.seq)
    alice.client.cancel_all("fffffc024")
    seq = alice.flush_one()
    rejected = alice.reply("seto.order_cancel_all_rejected", seq)
    assert rejected.reason == seto_pb2.ORDER_CANCEL_ALL_REJECTED_MARKET_NOT_FOUND
    alice.sync()
    assert [kind for kind, _ in alice.replies_to(seq)] == ["seto.order_cancel_all_rejected"]
    assert [info.order for info in alice.open_orders()] == [order.id]


# -- matching --------------------------------------------------------------------------------


def test_immediate_or_cancel_partial_fill(exchange: Exchange) -> None:
    market = exchange.market()
    contract = market.contracts[0]
    alice, bob, carol = exchange.trader(), exchange.trader(), exchange.trader()
    carol.subscribe(market.id)
    resting = bob.place(market.id, contract, SELL, 6000, 30_000)
    bob.reply("seto.order_accepted", resting.seq)
    order = alice.place(market.id, contract, BUY, 6500, 50_000, IOC, reference="ioc")
    accepted = alice.reply("seto.order_accepted", order.seq)
    assert accepted.reference == "ioc"
    (executed,) = alice.wait_for("seto.order_executed")
    assert (executed.price, executed.quantity, executed.remaining) == (6000, 30_000, 20_000)
    assert (executed.order, executed.reference, executed.side) == (order.id, "ioc", BUY)
    (cancelled,) = alice.wait_for("seto.order_cancelled")
    assert cancelled.reason == seto_pb2.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY
    assert (cancelled.order, cancelled.quantity, cancelled.reference) == (order.id, 20_000, "ioc")
    assert not cancelled.HasField("seq")  # no cancel request asked for it
    assert (order.state, order.filled, order.remaining) == ("cancelled", 30_000, 0)
    # the maker (a sell at 60.00%) stakes 30,000*4000//10000 = 12,000; the taker the rest
    assert alice.money() == (BALANCE - 18_000, 0, BALANCE - 18_000, 18_000)
    assert bob.money() == (BALANCE - 12_000, 0, BALANCE - 12_000, 12_000)
    bob.wait_for("seto.order_executed")
    assert (resting.state, resting.filled) == ("filled", 30_000)  # bob's client tracks it
    # nothing of the IOC order rests: the book shows the offer taken and no bid
    (update,) = carol.wait_for("seto.contract_quotes", lambda m: len(m.executions) > 0)
    assert [(q.price, q.quantity) for q in update.offers] == [(6000, 0)]
    assert list(update.bids) == []
    assert [(e.price, e.quantity, e.liquidity) for e in update.executions] == [(6000, 30_000, BUY)]


def test_immediate_or_cancel_with_nothing_to_match(exchange: Exchange) -> None:
    market = exchange.market()
    alice, carol = exchange.trader(), exchange.trader()
    carol.subscribe(market.id)
    order = alice.place(market.id, market.contracts[0], SELL, 4000, 25_000, IOC)
    alice.reply("seto.order_accepted", order.seq)
    (cancelled,) = alice.wait_for("seto.order_cancelled")
    assert (cancelled.reason, cancelled.quantity) == (
        seto_pb2.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY,
        25_000,
    )
    assert (order.state, order.filled) == ("cancelled", 0)
    assert alice.money() == (BALANCE, 0, BALANCE, 0)
    carol.sync()  # the book never changed: the subscriber was told nothing
    assert carol.messages("seto.contract_quotes") == []


def test_crossing_orders_from_two_accounts(exchange: Exchange) -> None:
    market = exchange.market()
    contract = market.contracts[0]
    alice, bob, carol = exchange.trader(), exchange.trader(), exchange.trader()
    snapshot = carol.subscribe(market.id)
    assert [smarkets.uuid_to_str(q.contract, "contract") for q in snapshot.contract_quotes] == (
        market.contracts
    )
    buy = alice.place(market.id, contract, BUY, 4000, 100_000, reference="a-buy")
    alice.reply("seto.order_accepted", buy.seq)
    (rested,) = carol.wait_for("seto.contract_quotes")
    assert [(q.price, q.quantity) for q in rested.bids] == [(4000, 100_000)]
    assert (list(rested.offers), list(rested.executions)) == ([], [])
    sell = bob.place(market.id, contract, SELL, 3500, 60_000, reference="b-sell")
    bob.reply("seto.order_accepted", sell.seq)
    # both sides are told, at the resting order's price, each with its own order's details
    (bob_fill,) = bob.wait_for("seto.order_executed")
    (alice_fill,) = alice.wait_for("seto.order_executed")
    assert (bob_fill.order, bob_fill.price, bob_fill.quantity) == (sell.id, 4000, 60_000)
    assert (bob_fill.side, bob_fill.remaining) == (SELL, 0)
    assert bob_fill.reference == "b-sell"
    assert (bob_fill.market, bob_fill.contract) == (uuid(market.id), uuid(contract))
    assert (alice_fill.order, alice_fill.price, alice_fill.quantity) == (buy.id, 4000, 60_000)
    assert (alice_fill.side, alice_fill.remaining) == (BUY, 40_000)
    assert alice_fill.reference == "a-buy"
    assert (buy.state, buy.filled, buy.remaining) == ("accepted", 60_000, 40_000)
    assert (sell.state, sell.filled, sell.remaining) == ("filled", 60_000, 0)
    # the subscriber sees the trade and what is left of the bid
    (traded,) = carol.wait_for("seto.contract_quotes", lambda m: len(m.executions) > 0)
    assert [(q.price, q.quantity) for q in traded.bids] == [(4000, 40_000)]
    assert [(e.price, e.quantity, e.liquidity) for e in traded.executions] == [(4000, 60_000, SELL)]
    assert traded.volume == 60_000
    # alice (maker) stakes 60,000*4000//10000 = 24,000 and still reserves 40,000*4000//10000
    assert alice.money() == (BALANCE - 24_000, 16_000, BALANCE - 40_000, 24_000)
    assert bob.money() == (BALANCE - 36_000, 0, BALANCE - 36_000, 36_000)
    balance = exchange.sandbox.balance(alice.name)
    assert (balance.cash, balance.exposure, balance.available, balance.staked) == (alice.money())
    (info,) = alice.open_orders(market.id)
    assert (info.order, info.quantity, info.remaining, info.price) == (
        buy.id,
        100_000,
        40_000,
        4000,
    )
    assert (info.side, info.reference) == (BUY, "a-buy")
    assert bob.open_orders() == []


def test_an_order_sweeps_several_levels(exchange: Exchange) -> None:
    market = exchange.market()
    contract = market.contracts[0]
    alice, bob, carol = exchange.trader(), exchange.trader(), exchange.trader()
    carol.subscribe(market.id)
    high = alice.place(market.id, contract, BUY, 5000, 20_000)
    low = alice.place(market.id, contract, BUY, 4800, 20_000)
    alice.wait_for("seto.order_accepted", count=2)
    sell = bob.place(market.id, contract, SELL, 4700, 30_000)
    fills = bob.wait_for("seto.order_executed", count=2)
    assert [(m.price, m.quantity, m.remaining) for m in fills] == [
        (5000, 20_000, 10_000),
        (4800, 10_000, 0),
    ]
    alice.wait_for("seto.order_executed", count=2)
    assert (high.state, low.state, low.remaining, sell.state) == (
        "filled",
        "accepted",
        10_000,
        "filled",
    )
    (traded,) = carol.wait_for("seto.contract_quotes", lambda m: len(m.executions) > 0)
    assert {(q.price, q.quantity) for q in traded.bids} == {(5000, 0), (4800, 10_000)}
    assert [(e.price, e.quantity) for e in traded.executions] == [(5000, 20_000), (4800, 10_000)]
    # alice stakes 10,000 + 4,800 and reserves 4,800 for the rest; bob pays the remainders
    assert alice.money() == (BALANCE - 14_800, 4_800, BALANCE - 19_600, 14_800)
    assert bob.money() == (BALANCE - 15_200, 0, BALANCE - 15_200, 15_200)


def test_book_updates_seen_by_a_subscriber(exchange: Exchange) -> None:
    market = exchange.market()
    contract = market.contracts[1]
    alice, carol = exchange.trader(), exchange.trader()
    carol.subscribe(market.id)
    bid = alice.place(market.id, contract, BUY, 3000, 10_000)
    offer = alice.place(market.id, contract, SELL, 3300, 20_000)
    more = alice.place(market.id, contract, SELL, 3300, 5_000)
    alice.wait_for("seto.order_accepted", count=3)
    updates = carol.wait_for("seto.contract_quotes", count=3)
    assert [levels_of(m) for m in updates] == [
        ([(3000, 10_000)], []),
        ([], [(3300, 20_000)]),
        ([], [(3300, 25_000)]),
    ]
    assert all(m.contract == uuid(contract) and m.market == uuid(market.id) for m in updates)
    for order in (bid, offer):
        alice.client.cancel(order)
    alice.client.flush()
    alice.wait_for("seto.order_cancelled", count=2)
    updates = carol.wait_for("seto.contract_quotes", count=5)[3:]
    assert [levels_of(m) for m in updates] == [([(3000, 0)], []), ([], [(3300, 5_000)])]
    # a new subscriber's snapshot is the whole book now
    snapshot = exchange.trader().subscribe(market.id)
    books = {
        smarkets.uuid_to_str(q.contract, "contract"): levels_of(q) for q in snapshot.contract_quotes
    }
    assert books == {market.contracts[0]: ([], []), contract: ([], [(3300, 5_000)])}
    assert more.state == "accepted"


def test_an_order_above_the_maximum_quantity_is_invalid(exchange: Exchange) -> None:
    market = exchange.market()
    alice = exchange.trader()
    # the wire carries up to 2**32 - 1 (the client lets it through); the sandbox allows less
    too_big = alice.place(market.id, market.contracts[0], BUY, 1, MAX_ORDER_QUANTITY + 1)
    invalid = alice.reply("seto.order_invalid", too_big.seq)
    assert list(invalid.reasons) == [QUANTITY]
    assert too_big.state == "invalid"
    largest = alice.place(market.id, market.contracts[0], BUY, 1, MAX_ORDER_QUANTITY)
    alice.reply("seto.order_accepted", largest.seq)
    # a buy at 0.01% reserves quantity // 10000
    assert alice.money() == (
        BALANCE,
        MAX_ORDER_QUANTITY // 10_000,
        BALANCE - MAX_ORDER_QUANTITY // 10_000,
        0,
    )


def test_a_level_too_big_for_a_uint32_is_shown_saturated(exchange: Exchange) -> None:
    market = exchange.market()
    contract = market.contracts[0]
    carol = exchange.trader()
    carol.subscribe(market.id)
    # 9 orders of 500,000,000 at 0.01% (each reserves 50,000): a level of 4,500,000,000,
    # more than a Quote's uint32 quantity carries
    whale = exchange.trader()
    orders = [
        whale.client.order(smarkets.Order(MAX_ORDER_QUANTITY, 1, BUY, market.id, contract))
        for _ in range(9)
    ]
    whale.client.flush()
    whale.wait_for("seto.order_accepted", count=9)
    assert all(order.state == "accepted" for order in orders)
    assert whale.money() == (BALANCE, 450_000, BALANCE - 450_000, 0)
    # the updates: each level total, saturated at 4294967295 once beyond it
    updates = carol.wait_for("seto.contract_quotes", count=9)
    totals = [MAX_ORDER_QUANTITY * n for n in range(1, 10)]
    assert [levels_of(m) for m in updates] == [([(1, min(t, 2**32 - 1))], []) for t in totals]
    # and the snapshot of a new subscriber
    snapshot = exchange.trader().subscribe(market.id)
    assert snapshot.market == uuid(market.id)
    assert levels_of(snapshot.contract_quotes[0]) == ([(1, 2**32 - 1)], [])
    # the market still works: cancelling one brings the total back below the limit
    whale.client.cancel(orders[0])
    whale.reply("seto.order_cancelled", whale.flush_one())
    (update,) = carol.wait_for("seto.contract_quotes", count=10)[9:]
    assert levels_of(update) == ([(1, 8 * MAX_ORDER_QUANTITY)], [])


def test_a_balance_too_big_for_an_int64_is_refused(exchange: Exchange) -> None:
    sandbox = exchange.sandbox
    with pytest.raises(SandboxAdminError, match=r"2\*\*63 - 1"):
        sandbox.add_account("toorich", "pw-toorich", 2**63)
    with pytest.raises(SandboxAdminError, match="no account named 'toorich'"):
        sandbox.balance("toorich")


# -- where the news of an order goes ---------------------------------------------------------


def test_fills_of_an_order_whose_session_logged_out_reach_the_accounts_new_session(
    exchange: Exchange,
) -> None:
    market = exchange.market()
    contract = market.contracts[0]
    alice, bob = exchange.trader(), exchange.trader()
    resting = alice.place(market.id, contract, BUY, 4000, 30_000, reference="while away")
    alice.reply("seto.order_accepted", resting.seq)
    first_session = alice.client.session.session
    alice.client.logout()
    # a new session of the same account (a new login, not a resume)
    again = Trader(exchange.sandbox, alice.name)
    exchange.traders.append(again)
    assert again.client.session.session not in (None, first_session)
    taking = bob.place(market.id, contract, SELL, 4000, 10_000)
    bob.reply("seto.order_accepted", taking.seq)
    (fill,) = again.wait_for("seto.order_executed")
    assert fill.order == resting.id and fill.reference == "while away"
    assert (fill.price, fill.quantity, fill.remaining) == (4000, 10_000, 20_000)
    # and the settlement's cancellation of what is left
    exchange.sandbox.settle(market.id, contract)
    (cancelled,) = again.wait_for("seto.order_cancelled")
    assert cancelled.order == resting.id and cancelled.quantity == 20_000
    assert cancelled.reason == seto_pb2.ORDER_CANCELLED_MARKET_SETTLED


# -- replies name their request --------------------------------------------------------------


def test_every_reply_names_its_request(exchange: Exchange) -> None:
    market = exchange.market()
    alice = exchange.trader()
    client = alice.client
    client.request_account_state()
    client.request_markets()
    client.request_orders()
    client.subscribe(market.id)
    client.subscribe("fffffc024")
    client.order(smarkets.Order(10_000, 2000, BUY, market.id, market.contracts[0], reference="r1"))
    seqs = client.flush()
    # orders_for_account (published) has no seq: it is the one reply that names no request
    expected = [
        "seto.account_state",
        "seto.markets",
        None,
        "seto.market_quotes",
        "seto.market_subscribe_rejected",
        "seto.order_accepted",
    ]
    for name, seq in zip(expected, seqs, strict=True):
        if name is not None:
            alice.reply(name, seq)
    alice.sync()
    for name, seq in zip(expected, seqs, strict=True):
        assert [kind for kind, _ in alice.replies_to(seq)] == ([name] if name else [])
    (orders,) = alice.messages("seto.orders_for_account")
    assert list_open_orders(orders) == []  # answered before the order was placed
    assert alice.reply("seto.order_accepted", seqs[-1]).reference == "r1"
    assert alice.reply("seto.market_subscribe_rejected", seqs[4]).reason == (
        seto_pb2.MARKET_SUBSCRIBE_REJECTED_MARKET_NOT_FOUND
    )
