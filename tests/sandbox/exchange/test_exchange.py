"""Tests of the sandbox exchange core: validation, matching, money, cancels, settlement."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
from google.protobuf import text_format
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from smarkets.proto import seto_pb2
from smarkets.sandbox.exchange import (
    MAX_OPEN_ORDERS_LIMIT,
    MAX_QUANTITY,
    MAX_TOTAL_BALANCE,
    MAX_UINT32,
    Exchange,
    Output,
    ToAccount,
    ToMarket,
    buy_cost,
    reservation,
    sell_cost,
)

BUY = seto_pb2.SIDE_BUY
SELL = seto_pb2.SIDE_SELL
GTC = seto_pb2.GOOD_TIL_CANCELLED
IOC = seto_pb2.IMMEDIATE_OR_CANCEL

NOW = 1_700_000_000.25
NOW_US = 1_700_000_000_250_000
T = f"microseconds: {NOW_US}"
EVENT = 100
MARKET, HOME, AWAY, DRAW = 10, 11, 12, 13
OTHER, YES, NO = 20, 21, 22
BALANCE = 1_000_000
ALICE, BOB, CAROL = 1, 2, 3
A, B, C = ToAccount(ALICE), ToAccount(BOB), ToAccount(CAROL)
M, M2 = ToMarket(MARKET), ToMarket(OTHER)


@pytest.fixture
def ex() -> Exchange:
    ex = Exchange(order_ids=itertools.count(1).__next__, clock=lambda: NOW)
    assert ex.add_account("alice", BALANCE) == ALICE
    assert ex.add_account("bob", BALANCE) == BOB
    assert ex.add_account("carol", BALANCE) == CAROL
    ex.add_market(
        MARKET,
        "Full time result",
        EVENT,
        "Reds v Blues",
        [(HOME, "Reds"), (AWAY, "Blues"), (DRAW, "Draw")],
    )
    ex.add_market(OTHER, "Both teams score", EVENT, "Reds v Blues", [(YES, "Yes"), (NO, "No")])
    return ex


def create(
    *,
    market: int | None = MARKET,
    contract: int | None = HOME,
    side: int | None = BUY,
    quantity: int | None = 10_000,
    price: int | None = 5000,
    tif: int | None = None,
    reference: str | None = None,
    maq: int | None = None,
    price_type: int | None = None,
) -> seto_pb2.OrderCreate:
    msg = seto_pb2.OrderCreate(
        type=seto_pb2.ORDER_CREATE_LIMIT, quantity_type=seto_pb2.QUANTITY_PAYOFF_CURRENCY
    )
    if price_type is not None:
        msg.price_type = price_type
    if maq is not None:
        msg.maq = maq
    if market is not None:
        msg.market.low = market
    if contract is not None:
        msg.contract.low = contract
    if side is not None:
        msg.side = side
    if quantity is not None:
        msg.quantity = quantity
    if price is not None:
        msg.price = price
    if tif is not None:
        msg.tif = tif
    if reference is not None:
        msg.reference = reference
    return msg


def _without_counters(payload: seto_pb2.Payload) -> seto_pb2.Payload:
    """A copy without account_sequence and last_execution (tested on their own below)."""
    copy = seto_pb2.Payload()
    copy.CopyFrom(payload)
    copy.order_executed.ClearField("account_sequence")
    copy.contract_quotes.ClearField("last_execution")
    for quote in copy.market_quotes.contract_quotes:
        quote.ClearField("last_execution")
    for name in ("order_executed", "contract_quotes", "market_quotes"):
        if not payload.HasField(name):
            copy.ClearField(name)
    return copy


def show(outputs: list[Output]) -> list[tuple[object, str]]:
    """Outputs as (recipient, one-line text) for readable comparisons.

    account_sequence and last_execution are left out: see their own tests.
    """
    return [
        (to, text_format.MessageToString(_without_counters(p), as_one_line=True))
        for to, p in outputs
    ]


def open_states(ex: Exchange, account: int) -> list[tuple[int, int, seto_pb2.OrderState]]:
    """(side, price, OrderState) of each open order of the account, from orders_for_account."""
    return [
        (side, level.price, o)
        for m in ex.orders_for_account(account).orders_for_account.markets
        for c in m.contracts
        for side, levels in ((BUY, c.bids), (SELL, c.offers))
        for level in levels
        for o in level.orders
    ]


def open_ids(ex: Exchange, account: int, market: int | None = None) -> list[int]:
    """The ids of the account's open orders (from orders_for_account/market), sorted."""
    if market is None:
        markets = list(ex.orders_for_account(account).orders_for_account.markets)
    else:
        markets = [ex.orders_for_market(account, market).orders_for_market]
    return sorted(
        o.order.low
        for m in markets
        for c in m.contracts
        for level in [*c.bids, *c.offers]
        for o in level.orders
    )


def expect(*pairs: tuple[object, str]) -> list[tuple[object, str]]:
    """Expected outputs written as text, normalised like :func:`show`."""
    return [
        (
            to,
            text_format.MessageToString(
                text_format.Parse(text, seto_pb2.Payload()), as_one_line=True
            ),
        )
        for to, text in pairs
    ]


def text(payload: seto_pb2.Payload) -> str:
    return text_format.MessageToString(payload, as_one_line=True)


def parse(pb_text: str) -> str:
    return text(text_format.Parse(pb_text, seto_pb2.Payload()))


def state(ex: Exchange, account: int) -> tuple[int, int, int, int]:
    """(cash, exposure, available, staked) from the public account_state payload."""
    msg = ex.account_state(account).account_state
    for money in (msg.cash, msg.exposure, msg.available, msg.staked):
        assert money.exponent == 4
    return msg.cash.value, msg.exposure.value, msg.available.value, msg.staked.value


def accepted(seq: int, order: int, reference: str | None = None) -> str:
    ref = f' reference: "{reference}"' if reference is not None else ""
    return (
        f"type: PAYLOAD_ORDER_ACCEPTED order_accepted"
        f" {{ seq: {seq} order {{ low: {order} }}{ref} }}"
    )


def rejected(seq: int, reason: str, reference: str | None = None) -> str:
    ref = f' reference: "{reference}"' if reference is not None else ""
    return (
        f"type: PAYLOAD_ORDER_REJECTED order_rejected"
        f" {{ seq: {seq} reason: ORDER_REJECTED_{reason}{ref} }}"
    )


def executed(
    order: int,
    price: int,
    quantity: int,
    side: int,
    seq: int,
    remaining: int,
    contract: int = HOME,
    market: int = MARKET,
    reference: str | None = None,
) -> str:
    ref = f' reference: "{reference}"' if reference is not None else ""
    side_name = "SIDE_BUY" if side == BUY else "SIDE_SELL"
    return (
        f"type: PAYLOAD_ORDER_EXECUTED order_executed {{ order {{ low: {order} }} price: {price}"
        f" quantity_type: QUANTITY_PAYOFF_CURRENCY"
        f" quantity: {quantity} side: {side_name} market {{ low: {market} }}"
        f" contract {{ low: {contract} }}{ref} remaining: {remaining} }}"
    )


def quotes(body: str, volume: int = 0, contract: int = HOME, market: int = MARKET) -> str:
    return (
        f"type: PAYLOAD_CONTRACT_QUOTES contract_quotes {{ contract {{ low: {contract} }}"
        f" market {{ low: {market} }} {body} volume: {volume} }}"
    )


def place(ex: Exchange, account: int, seq: int, **kwargs: object) -> list[Output]:
    return ex.place_order(account, create(**kwargs), seq)


def cancel_rejected(seq: int, order: int, reason: str) -> str:
    return (
        "type: PAYLOAD_ORDER_CANCEL_REJECTED order_cancel_rejected"
        f" {{ seq: {seq} order {{ low: {order} }} reason: ORDER_CANCEL_REJECTED_{reason} }}"
    )


# --- recipients ----------------------------------------------------------------------------------


def test_recipients_are_small_frozen_values() -> None:
    assert ToAccount(1) == ToAccount(1)
    assert ToAccount(1) != ToMarket(1)
    assert {ToAccount(1), ToAccount(1), ToMarket(1)} == {ToAccount(1), ToMarket(1)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        ToAccount(1).account_id = 2  # type: ignore[misc]
    assert not hasattr(ToMarket(1), "__dict__")


# --- costs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "buy", "sell"),
    [(10_000, 2500, 2500, 7500), (1999, 5001, 999, 1000), (1000, 1, 0, 1000), (1000, 9999, 999, 1)],
)
def test_costs(quantity: int, price: int, buy: int, sell: int) -> None:
    assert buy_cost(quantity, price) == buy
    assert sell_cost(quantity, price) == sell
    assert reservation(BUY, quantity, price) == buy
    assert reservation(SELL, quantity, price) == sell


# --- accepting and validating --------------------------------------------------------------------


def test_resting_order_is_accepted_and_published(ex: Exchange) -> None:
    out = place(ex, ALICE, 7, quantity=10_000, price=2500, reference="first")
    assert show(out) == expect(
        (A, accepted(7, 1, "first")),
        (M, quotes("bids { price: 2500 quantity: 10000 }")),
    )
    assert state(ex, ALICE) == (BALANCE, 2500, BALANCE - 2500, 0)
    assert text(ex.orders_for_market(ALICE, MARKET)) == parse(
        "type: PAYLOAD_ORDERS_FOR_MARKET orders_for_market { market { low: 10 }"
        " price_type: PRICE_PERCENT_ODDS contracts { contract { low: 11 } bids { price: 2500"
        " orders { order { low: 1 } type: ORDER_CREATE_LIMIT status: ORDER_STATUS_LIVE"
        f" quantity_type: QUANTITY_PAYOFF_CURRENCY quantity: 10000 created_microseconds: {NOW_US}"
        ' quantity_filled: 0 remaining: 10000 reference: "first" } } } }'
    )


def test_order_ids_count_up_from_one_and_sell_reserves_the_rest(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=3000)
    out = place(ex, BOB, 1, side=SELL, price=6000, quantity=20_000)
    assert show(out) == expect(
        (B, accepted(1, 2)),
        (M, quotes("offers { price: 6000 quantity: 20000 }")),
    )
    assert state(ex, BOB) == (BALANCE, 8000, BALANCE - 8000, 0)


def test_empty_order_create_is_invalid_price_and_quantity(ex: Exchange) -> None:
    # (A real one lacks required fields and never gets past the session layer: LOGOUT.)
    out = ex.place_order(ALICE, seto_pb2.OrderCreate(), 3)
    assert show(out) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_INVALID order_invalid { seq: 3"
            " reasons: ORDER_INVALID_INVALID_PRICE reasons: ORDER_INVALID_INVALID_QUANTITY }",
        )
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"price": None}, "INVALID_PRICE"),
        ({"price": 0}, "INVALID_PRICE"),
        ({"price": 10_000}, "INVALID_PRICE"),
        ({"quantity": None}, "INVALID_QUANTITY"),
        ({"quantity": 999}, "INVALID_QUANTITY"),
        ({"quantity": 500_000_001}, "INVALID_QUANTITY"),
        ({"quantity": 5000, "maq": 5001}, "INVALID_QUANTITY"),
    ],
)
def test_one_invalid_field(ex: Exchange, fields: dict[str, int | None], reason: str) -> None:
    out = place(ex, ALICE, 5, reference="mine", **fields)
    assert show(out) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_INVALID order_invalid"
            f' {{ seq: 5 reasons: ORDER_INVALID_{reason} reference: "mine" }}',
        )
    )
    assert state(ex, ALICE) == (BALANCE, 0, BALANCE, 0)


def test_reference_limit_is_64_bytes_of_utf8(ex: Exchange) -> None:
    ok = "é" * 32  # 64 bytes
    too_long = "é" * 32 + "x"  # 33 characters, 65 bytes
    assert show(place(ex, ALICE, 1, reference=ok))[0] == (A, parse(accepted(1, 1, ok)))
    assert show(place(ex, ALICE, 2, reference=too_long, price=0)) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_INVALID order_invalid"
            " { seq: 2 reasons: ORDER_INVALID_INVALID_PRICE"
            f' reasons: ORDER_INVALID_INVALID_REFERENCE reference: "{too_long}" }}',
        )
    )
    assert show(place(ex, ALICE, 3, reference="x" * 65)) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_INVALID order_invalid { seq: 3"
            f' reasons: ORDER_INVALID_INVALID_REFERENCE reference: "{"x" * 65}" }}',
        )
    )


def _with_raw_field(msg: seto_pb2.OrderCreate, raw: bytes) -> seto_pb2.OrderCreate:
    """The message as received from the wire with one more (raw-encoded) field."""
    return seto_pb2.OrderCreate.FromString(msg.SerializeToString() + raw)


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"ok\xc3", b"\xed\xa0\x80"])
def test_a_reference_that_is_not_utf8_is_invalid(ex: Exchange, raw: bytes) -> None:
    # field 100 (reference), length-delimited: upb hands such a string back as bytes
    wire = _with_raw_field(create(), bytes([0xA2, 0x06, len(raw)]) + raw)
    assert wire.reference == raw
    before = text(ex.market_snapshot(MARKET))
    # answered without the reference (it cannot be echoed), with every other reason too
    assert show(ex.place_order(ALICE, wire, 4)) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_INVALID order_invalid"
            " { seq: 4 reasons: ORDER_INVALID_INVALID_REFERENCE }",
        )
    )
    wire.price = 0
    assert show(ex.place_order(ALICE, wire, 5)) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_INVALID order_invalid { seq: 5"
            " reasons: ORDER_INVALID_INVALID_PRICE reasons: ORDER_INVALID_INVALID_REFERENCE }",
        )
    )
    # nothing allocated: no money reserved, no book change, the next order is order 1
    assert state(ex, ALICE) == (BALANCE, 0, BALANCE, 0)
    assert text(ex.market_snapshot(MARKET)) == before
    assert show(place(ex, ALICE, 6))[0] == (A, parse(accepted(6, 1)))


def test_unknown_price_type_number_on_the_wire_is_invalid_price(ex: Exchange) -> None:
    wire = _with_raw_field(create(), b"\x38\x07")  # field 7 (price_type) = 7
    assert not wire.HasField("price_type")
    assert show(ex.place_order(ALICE, wire, 4)) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_INVALID order_invalid"
            " { seq: 4 reasons: ORDER_INVALID_INVALID_PRICE }",
        )
    )
    # The one known price type is fine.
    out = place(ex, ALICE, 5, price_type=seto_pb2.PRICE_PERCENT_ODDS)
    assert show(out)[0] == (A, parse(accepted(5, 1)))


def test_unknown_time_in_force_number_on_the_wire_is_invalid(ex: Exchange) -> None:
    wire = _with_raw_field(create(), b"\x50\x09")  # field 10 (tif) = 9
    assert not wire.HasField("tif")
    assert show(ex.place_order(ALICE, wire, 4)) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_INVALID order_invalid"
            " { seq: 4 reasons: ORDER_INVALID_INVALID_TIME_IN_FORCE }",
        )
    )


def test_unknown_other_fields_are_ignored(ex: Exchange) -> None:
    wire = _with_raw_field(create(), b"\xf8\x06\x01")  # field 111 = 1
    assert show(ex.place_order(ALICE, wire, 4))[0] == (A, parse(accepted(4, 1)))


def test_missing_time_in_force_means_good_til_cancelled(ex: Exchange) -> None:
    place(ex, ALICE, 1, side=SELL, price=5000, quantity=1000)
    place(ex, BOB, 1, price=5000, quantity=3000)  # fills 1000, rests 2000
    (info,) = ex.orders_for_account(BOB).orders_for_account.markets[0].contracts[0].bids[0].orders
    assert (info.order.low, info.remaining, info.quantity_filled) == (2, 2000, 1000)
    assert info.status == seto_pb2.ORDER_STATUS_PARTIALLY_FILLED


# --- rejections ----------------------------------------------------------------------------------


def test_unknown_market(ex: Exchange) -> None:
    assert show(place(ex, ALICE, 9, market=99, reference="r")) == expect(
        (A, rejected(9, "MARKET_NOT_FOUND", "r"))
    )


@pytest.mark.parametrize("contract", [99, YES])
def test_unknown_contract_or_one_of_another_market(ex: Exchange, contract: int) -> None:
    assert show(place(ex, ALICE, 9, contract=contract)) == expect(
        (A, rejected(9, "CONTRACT_NOT_FOUND"))
    )


def test_halted_market_refuses_orders_until_reopened(ex: Exchange) -> None:
    place(ex, BOB, 1, side=SELL, price=5000, reference="b")
    assert state(ex, BOB)[1] == 5000
    # The halt cancels Bob's resting order (funds released) and empties the level.
    assert show(ex.halt(MARKET)) == expect(
        (
            B,
            "type: PAYLOAD_ORDER_CANCELLED order_cancelled { order { low: 1 }"
            ' reason: ORDER_CANCELLED_MARKET_HALTED quantity: 10000 reference: "b" }',
        ),
        (M, quotes("offers { price: 5000 quantity: 0 }")),
        (
            M,
            "type: PAYLOAD_MARKET_STATE market_state"
            " { market { low: 10 } state: MARKET_STATUS_HALTED }",
        ),
    )
    assert state(ex, BOB) == (BALANCE, 0, BALANCE, 0)
    assert show(ex.cancel_order(BOB, 1, 2)) == expect((B, cancel_rejected(2, 1, "NOT_LIVE")))
    assert show(place(ex, ALICE, 1, price=5000, reference="h")) == expect(
        (A, rejected(1, "MARKET_HALTED", "h"))
    )
    # The other market is unaffected.
    assert show(place(ex, ALICE, 2, market=OTHER, contract=YES))[0] == (A, parse(accepted(2, 2)))
    assert show(ex.reopen(MARKET)) == expect(
        (
            M,
            "type: PAYLOAD_MARKET_STATE market_state"
            " { market { low: 10 } state: MARKET_STATUS_OPEN }",
        )
    )
    # Orders are taken again; Bob's was cancelled by the halt, so Alice's rests.
    place(ex, BOB, 2, side=SELL, price=5000)
    out = place(ex, ALICE, 3, price=5000)
    assert show(out)[:3] == expect(
        (A, accepted(3, 4)),
        (A, executed(4, 5000, 10_000, BUY, 3, 0)),
        (B, executed(3, 5000, 10_000, SELL, 1, 0)),
    )


def test_settled_market_refuses_orders(ex: Exchange) -> None:
    ex.settle(MARKET, HOME)
    assert show(place(ex, ALICE, 1)) == expect((A, rejected(1, "MARKET_SETTLED")))


def test_open_order_limit() -> None:
    ex = Exchange(order_ids=itertools.count(1).__next__, clock=lambda: NOW, max_open_orders=2)
    ex.add_account("alice", BALANCE)
    ex.add_account("bob", BALANCE)
    ex.add_market(MARKET, "m", EVENT, "e", [(HOME, "h")])
    place(ex, ALICE, 1, price=1000)
    place(ex, ALICE, 2, price=1100)
    assert show(place(ex, ALICE, 3, price=1200)) == expect((A, rejected(3, "LIMIT_EXCEEDED")))
    # Another account has its own allowance.
    assert show(place(ex, BOB, 1, side=SELL, price=9000))[0] == (B, parse(accepted(1, 3)))
    ex.cancel_order(ALICE, 1, 4)
    assert show(place(ex, ALICE, 5, price=1200))[0] == (A, parse(accepted(5, 4)))
    # Orders that trade away completely never count.
    ex.cancel_order(ALICE, 4, 6)
    place(ex, ALICE, 7, price=9000, quantity=1000, tif=IOC)
    assert len(open_ids(ex, ALICE)) == 1
    assert show(place(ex, ALICE, 8, price=1300))[0] == (A, parse(accepted(8, 6)))


def test_immediate_or_cancel_is_not_held_to_the_open_order_limit() -> None:
    ex = Exchange(order_ids=itertools.count(1).__next__, clock=lambda: NOW, max_open_orders=1)
    ex.add_account("alice", BALANCE)
    ex.add_account("bob", BALANCE)
    ex.add_market(MARKET, "m", EVENT, "e", [(HOME, "h")])
    place(ex, ALICE, 1, price=1000)  # order 1: alice is at her limit
    place(ex, BOB, 1, side=SELL, price=6000, quantity=1000)  # order 2
    assert show(place(ex, ALICE, 2, price=1100)) == expect((A, rejected(2, "LIMIT_EXCEEDED")))
    # an IMMEDIATE_OR_CANCEL order never rests: it trades, and what is left is cancelled
    out = place(ex, ALICE, 3, price=6000, quantity=3000, tif=IOC)
    assert show(out)[:4] == expect(
        (A, accepted(3, 3)),
        (A, executed(3, 6000, 1000, BUY, 3, 2000)),
        (B, executed(2, 6000, 1000, SELL, 1, 0)),
        (
            A,
            "type: PAYLOAD_ORDER_CANCELLED order_cancelled"
            " { order { low: 3 } reason: ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY quantity: 2000 }",
        ),
    )
    # even with nothing to trade with, and even when no order may rest at all
    none_rest = Exchange(
        order_ids=itertools.count(1).__next__, clock=lambda: NOW, max_open_orders=0
    )
    none_rest.add_account("alice", BALANCE)
    none_rest.add_market(MARKET, "m", EVENT, "e", [(HOME, "h")])
    assert show(place(none_rest, ALICE, 1)) == expect((A, rejected(1, "LIMIT_EXCEEDED")))
    out = place(none_rest, ALICE, 2, tif=IOC)
    assert [p.type for _, p in out] == [
        seto_pb2.PAYLOAD_ORDER_ACCEPTED,
        seto_pb2.PAYLOAD_ORDER_CANCELLED,
    ]
    assert len(open_ids(ex, ALICE)) == 1
    ex.check_invariants()
    none_rest.check_invariants()


def test_insufficient_funds_at_the_boundary() -> None:
    ex = Exchange(order_ids=itertools.count(1).__next__, clock=lambda: NOW)
    ex.add_account("alice", 2500)
    ex.add_market(MARKET, "m", EVENT, "e", [(HOME, "h")])
    # 10,000 at 2501 costs 2501: one unit too many.
    assert show(place(ex, ALICE, 1, price=2501)) == expect((A, rejected(1, "INSUFFICIENT_FUNDS")))
    assert show(place(ex, ALICE, 2, price=2500))[0] == (A, parse(accepted(2, 1)))
    assert state(ex, ALICE) == (2500, 2500, 0, 0)
    # Nothing is left for even the cheapest order.
    assert show(place(ex, ALICE, 3, price=10, quantity=1000)) == expect(
        (A, rejected(3, "INSUFFICIENT_FUNDS"))
    )
    # A sell of 10,000 at 7500 also costs 2500; freed by cancelling the buy it fits exactly.
    ex.cancel_order(ALICE, 1, 4)
    assert show(place(ex, ALICE, 5, side=SELL, price=7500))[0] == (A, parse(accepted(5, 2)))
    assert state(ex, ALICE) == (2500, 2500, 0, 0)


def test_crossed_self_rejects_the_whole_order_before_any_fill(ex: Exchange) -> None:
    place(ex, BOB, 1, side=SELL, price=4000, quantity=5000)  # order 1, best offer
    place(ex, ALICE, 1, side=SELL, price=5000, quantity=5000)  # order 2
    before = text(ex.market_snapshot(MARKET))
    assert show(place(ex, ALICE, 2, price=5000, reference="x")) == expect(
        (A, rejected(2, "CROSSED_SELF", "x"))
    )
    assert text(ex.market_snapshot(MARKET)) == before
    # Not crossing her own offer, she may trade with Bob's.
    out = place(ex, ALICE, 3, price=4999, quantity=5000)
    assert show(out)[:2] == expect((A, accepted(3, 3)), (A, executed(3, 4000, 5000, BUY, 3, 0)))


def test_crossed_self_on_the_sell_side_and_other_contracts_are_independent(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=4000)
    assert show(place(ex, ALICE, 2, side=SELL, price=3000)) == expect(
        (A, rejected(2, "CROSSED_SELF"))
    )
    assert show(place(ex, ALICE, 3, side=SELL, price=4001))[0] == (A, parse(accepted(3, 2)))
    assert show(place(ex, ALICE, 4, side=SELL, price=3000, contract=AWAY))[0] == (
        A,
        parse(accepted(4, 3)),
    )


def test_rejection_order_funds_before_crossed_self() -> None:
    ex = Exchange(order_ids=itertools.count(1).__next__, clock=lambda: NOW)
    ex.add_account("alice", 5000)
    ex.add_market(MARKET, "m", EVENT, "e", [(HOME, "h")])
    place(ex, ALICE, 1, side=SELL, price=5000)  # reserves 5000: nothing left
    assert show(place(ex, ALICE, 2, price=6000)) == expect((A, rejected(2, "INSUFFICIENT_FUNDS")))


# --- matching ------------------------------------------------------------------------------------


def test_full_match_at_the_resting_price(ex: Exchange) -> None:
    place(ex, BOB, 4, side=SELL, price=4000, reference="bob's")
    out = place(ex, ALICE, 9, price=5000, reference="alice's")
    assert show(out) == expect(
        (A, accepted(9, 2, "alice's")),
        (A, executed(2, 4000, 10_000, BUY, 9, 0, reference="alice's")),
        (B, executed(1, 4000, 10_000, SELL, 4, 0, reference="bob's")),
        (
            M,
            quotes(
                "offers { price: 4000 quantity: 0 }"
                f" executions {{ price: 4000 quantity: 10000 liquidity: SIDE_BUY {T} }}",
                volume=10_000,
            ),
        ),
    )
    assert state(ex, ALICE) == (BALANCE - 4000, 0, BALANCE - 4000, 4000)
    assert state(ex, BOB) == (BALANCE - 6000, 0, BALANCE - 6000, 6000)
    assert open_ids(ex, ALICE) == []
    assert open_ids(ex, BOB) == []


def test_price_time_priority_and_partial_fill_of_the_taker(ex: Exchange) -> None:
    place(ex, BOB, 1, side=SELL, price=4000, quantity=2000)  # order 1
    place(ex, CAROL, 1, side=SELL, price=4000, quantity=3000)  # order 2
    place(ex, CAROL, 2, side=SELL, price=3900, quantity=1000)  # order 3
    place(ex, BOB, 2, side=SELL, price=4100, quantity=1000)  # order 4: above the limit
    out = place(ex, ALICE, 1, price=4000, quantity=8000)
    t = f"microseconds: {NOW_US}"
    assert show(out) == expect(
        (A, accepted(1, 5)),
        (A, executed(5, 3900, 1000, BUY, 1, 7000)),
        (C, executed(3, 3900, 1000, SELL, 2, 0)),
        (A, executed(5, 4000, 2000, BUY, 1, 5000)),
        (B, executed(1, 4000, 2000, SELL, 1, 0)),
        (A, executed(5, 4000, 3000, BUY, 1, 2000)),
        (C, executed(2, 4000, 3000, SELL, 1, 0)),
        (
            M,
            quotes(
                "bids { price: 4000 quantity: 2000 }"
                " offers { price: 3900 quantity: 0 } offers { price: 4000 quantity: 0 }"
                f" executions {{ price: 3900 quantity: 1000 liquidity: SIDE_BUY {t} }}"
                f" executions {{ price: 4000 quantity: 2000 liquidity: SIDE_BUY {t} }}"
                f" executions {{ price: 4000 quantity: 3000 liquidity: SIDE_BUY {t} }}",
                volume=6000,
            ),
        ),
    )
    # The rest of Alice's order rests and reserves at its limit.
    assert state(ex, ALICE) == (BALANCE - 390 - 800 - 1200, 800, BALANCE - 2390 - 800, 2390)
    assert ex.market_snapshot(MARKET).market_quotes.contract_quotes[0].offers[0].price == 4100


def test_sell_taker_hits_highest_bids_and_partially_fills_the_maker(ex: Exchange) -> None:
    place(ex, BOB, 1, price=6000, quantity=5000)  # order 1
    place(ex, CAROL, 1, price=6500, quantity=1000)  # order 2
    out = place(ex, ALICE, 1, side=SELL, price=6000, quantity=3000)
    assert show(out)[1:5] == expect(
        (A, executed(3, 6500, 1000, SELL, 1, 2000)),
        (C, executed(2, 6500, 1000, BUY, 1, 0)),
        (A, executed(3, 6000, 2000, SELL, 1, 0)),
        (B, executed(1, 6000, 2000, BUY, 1, 3000)),
    )
    assert show(out)[5] == (
        M,
        parse(
            quotes(
                "bids { price: 6500 quantity: 0 } bids { price: 6000 quantity: 3000 }"
                f" executions {{ price: 6500 quantity: 1000 liquidity: SIDE_SELL {T} }}"
                f" executions {{ price: 6000 quantity: 2000 liquidity: SIDE_SELL {T} }}",
                volume=3000,
            )
        ),
    )
    # Bob's remaining 3000 at 6000 reserves 1800; his fill staked 1200.
    assert state(ex, BOB) == (BALANCE - 1200, 1800, BALANCE - 3000, 1200)
    # Alice sold 1000 at 6500 (stake 350) and 2000 at 6000 (stake 800).
    assert state(ex, ALICE) == (BALANCE - 1150, 0, BALANCE - 1150, 1150)


def test_immediate_or_cancel_remainder_is_cancelled(ex: Exchange) -> None:
    place(ex, BOB, 1, side=SELL, price=5000, quantity=4000)
    out = place(ex, ALICE, 2, price=5500, quantity=10_000, tif=IOC, reference="ioc")
    assert show(out) == expect(
        (A, accepted(2, 2, "ioc")),
        (A, executed(2, 5000, 4000, BUY, 2, 6000, reference="ioc")),
        (B, executed(1, 5000, 4000, SELL, 1, 0)),
        (
            A,
            "type: PAYLOAD_ORDER_CANCELLED order_cancelled { order { low: 2 }"
            ' reason: ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY quantity: 6000 reference: "ioc" }',
        ),
        (
            M,
            quotes(
                "offers { price: 5000 quantity: 0 }"
                f" executions {{ price: 5000 quantity: 4000 liquidity: SIDE_BUY {T} }}",
                volume=4000,
            ),
        ),
    )
    assert state(ex, ALICE) == (BALANCE - 2000, 0, BALANCE - 2000, 2000)
    assert open_ids(ex, ALICE) == []


def test_immediate_or_cancel_with_nothing_to_match_leaves_the_book_alone(ex: Exchange) -> None:
    out = place(ex, ALICE, 2, price=5500, quantity=1000, tif=IOC)
    assert show(out) == expect(
        (A, accepted(2, 1)),
        (
            A,
            "type: PAYLOAD_ORDER_CANCELLED order_cancelled { order { low: 1 }"
            " reason: ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY quantity: 1000 }",
        ),
    )
    assert state(ex, ALICE) == (BALANCE, 0, BALANCE, 0)


def test_each_fill_is_stamped_with_the_clock() -> None:
    times = iter([5.0, 10.0, 20.5])
    ex = Exchange(clock=lambda: next(times))
    ex.add_account("alice", BALANCE)
    ex.add_account("bob", BALANCE)
    ex.add_market(MARKET, "m", EVENT, "e", [(HOME, "h")])
    place(ex, BOB, 1, side=SELL, price=5000, quantity=5000)  # read once: created at 5.0
    first = place(ex, ALICE, 1, price=5000, quantity=1000)
    second = place(ex, ALICE, 2, price=5000, quantity=1000)
    assert [e.microseconds for e in first[-1][1].contract_quotes.executions] == [10_000_000]
    assert [e.microseconds for e in second[-1][1].contract_quotes.executions] == [20_500_000]
    assert second[-1][1].contract_quotes.last_execution.microseconds == 20_500_000
    (level,) = ex.orders_for_account(BOB).orders_for_account.markets[0].contracts[0].offers
    assert level.orders[0].created_microseconds == 5_000_000


# --- money ---------------------------------------------------------------------------------------


def test_resting_sell_filled_in_pieces_never_pays_more_than_it_reserved() -> None:
    # sell_cost(3998, 5001) == 1999, but sell_cost(1999, 5001) == 1000 twice would be 2000:
    # the maker rounds down instead (999 per piece), the takers pay the rounding.
    ex = Exchange(order_ids=itertools.count(1).__next__, clock=lambda: NOW)
    seller = ex.add_account("seller", 1999)
    b1 = ex.add_account("b1", 1000)
    b2 = ex.add_account("b2", 1000)
    ex.add_market(MARKET, "m", EVENT, "e", [(HOME, "h")])
    place(ex, seller, 1, side=SELL, price=5001, quantity=3998)
    assert state(ex, seller) == (1999, 1999, 0, 0)
    place(ex, b1, 1, price=5001, quantity=1999)
    assert state(ex, seller) == (1000, 1000, 0, 999)
    assert state(ex, b1) == (0, 0, 0, 1000)
    place(ex, b2, 1, price=5001, quantity=1999)
    assert state(ex, seller) == (1, 0, 1, 1998)
    assert state(ex, b2) == (0, 0, 0, 1000)
    ex.check_invariants()
    ex.settle(MARKET, HOME)  # the buyers win 1999 each
    assert [state(ex, a) for a in (seller, b1, b2)] == [
        (1, 0, 1, 0),
        (1999, 0, 1999, 0),
        (1999, 0, 1999, 0),
    ]


def test_taker_that_cannot_pay_the_rounding_is_rejected() -> None:
    ex = Exchange(order_ids=itertools.count(1).__next__, clock=lambda: NOW)
    seller = ex.add_account("seller", BALANCE)
    buyer = ex.add_account("buyer", 999)
    ex.add_market(MARKET, "m", EVENT, "e", [(HOME, "h")])
    place(ex, seller, 1, side=SELL, price=5001, quantity=1999)
    # buy_cost(1999, 5001) == 999 fits, but as taker the buyer's stake would be 1000.
    assert buy_cost(1999, 5001) == 999
    assert show(place(ex, buyer, 1, price=5001, quantity=1999)) == expect(
        (ToAccount(buyer), rejected(1, "INSUFFICIENT_FUNDS"))
    )
    assert state(ex, buyer) == (999, 0, 999, 0)


def test_a_taker_sell_pays_exactly_sell_cost(ex: Exchange) -> None:
    place(ex, BOB, 1, price=5001, quantity=1999)
    place(ex, ALICE, 1, side=SELL, price=5001, quantity=1999)
    assert state(ex, BOB)[3] == buy_cost(1999, 5001) == 999
    assert state(ex, ALICE)[3] == sell_cost(1999, 5001) == 1000


def test_settlement_pays_payoffs_and_conserves_money(ex: Exchange) -> None:
    place(ex, BOB, 1, side=SELL, price=4000, quantity=10_000)  # HOME
    place(ex, ALICE, 1, price=4000, quantity=10_000)
    place(ex, CAROL, 1, contract=AWAY, price=3000, quantity=5000)
    place(ex, ALICE, 2, contract=AWAY, side=SELL, price=3000, quantity=5000)
    ex.check_invariants()
    ex.settle(MARKET, HOME)
    # Alice: won 10,000 on HOME (staked 4000); sold AWAY, which lost: gets 5000 (staked 3500).
    assert state(ex, ALICE) == (BALANCE - 4000 - 3500 + 10_000 + 5000, 0, BALANCE + 7500, 0)
    assert state(ex, BOB) == (BALANCE - 6000, 0, BALANCE - 6000, 0)
    assert state(ex, CAROL) == (BALANCE - 1500, 0, BALANCE - 1500, 0)
    assert sum(state(ex, a)[0] for a in (ALICE, BOB, CAROL)) == 3 * BALANCE
    ex.check_invariants()


def test_stakes_in_one_market_survive_settling_another(ex: Exchange) -> None:
    place(ex, BOB, 1, side=SELL, price=4000, quantity=10_000)
    place(ex, ALICE, 1, price=4000, quantity=10_000)
    place(ex, BOB, 2, market=OTHER, contract=YES, side=SELL, price=5000, quantity=2000)
    place(ex, ALICE, 2, market=OTHER, contract=YES, price=5000, quantity=2000)
    ex.settle(OTHER, NO)
    assert state(ex, ALICE) == (BALANCE - 4000 - 1000, 0, BALANCE - 5000, 4000)
    assert state(ex, BOB) == (BALANCE - 6000 - 1000 + 2000, 0, BALANCE - 5000, 6000)
    ex.check_invariants()


# --- cancelling ----------------------------------------------------------------------------------


def test_cancel_after_partial_fill(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=4000, quantity=10_000, reference="r")
    place(ex, BOB, 1, side=SELL, price=4000, quantity=3000)
    out = ex.cancel_order(ALICE, 1, 2)
    assert show(out) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_CANCELLED order_cancelled { order { low: 1 }"
            ' reason: ORDER_CANCELLED_MEMBER_REQUESTED quantity: 7000 seq: 2 reference: "r" }',
        ),
        (M, quotes("bids { price: 4000 quantity: 0 }", volume=3000)),
    )
    assert state(ex, ALICE) == (BALANCE - 1200, 0, BALANCE - 1200, 1200)


def test_cancel_keeps_the_rest_of_the_level(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=4000, quantity=1000)
    place(ex, BOB, 1, price=4000, quantity=2000)
    out = ex.cancel_order(ALICE, 1, 2)
    assert show(out)[1] == (M, parse(quotes("bids { price: 4000 quantity: 2000 }")))


def test_cancel_rejections(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=4000)  # order 1
    place(ex, BOB, 1, side=SELL, price=6000, quantity=1000)  # order 2
    place(ex, CAROL, 1, side=SELL, price=6000, quantity=1000, tif=IOC)  # order 3, cancelled
    place(ex, ALICE, 2, price=6000, quantity=1000)  # order 4, fills order 2

    assert show(ex.cancel_order(ALICE, 99, 5)) == expect((A, cancel_rejected(5, 99, "NOT_FOUND")))
    assert show(ex.cancel_order(ALICE, 0, 6)) == expect((A, cancel_rejected(6, 0, "NOT_FOUND")))
    # Bob's order, filled or not, is not Alice's to cancel.
    assert show(ex.cancel_order(ALICE, 2, 7)) == expect((A, cancel_rejected(7, 2, "NOT_FOUND")))
    assert show(ex.cancel_order(BOB, 1, 8)) == expect((B, cancel_rejected(8, 1, "NOT_FOUND")))
    assert show(ex.cancel_order(BOB, 2, 9)) == expect((B, cancel_rejected(9, 2, "NOT_LIVE")))
    assert show(ex.cancel_order(CAROL, 3, 10)) == expect((C, cancel_rejected(10, 3, "NOT_LIVE")))
    assert show(ex.cancel_order(ALICE, 4, 11)) == expect((A, cancel_rejected(11, 4, "NOT_LIVE")))
    ex.cancel_order(ALICE, 1, 12)
    assert show(ex.cancel_order(ALICE, 1, 13)) == expect((A, cancel_rejected(13, 1, "NOT_LIVE")))


def test_a_halt_cancels_so_a_cancel_after_it_is_not_live(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=4000)
    out = ex.halt(MARKET)
    assert show(out)[0] == (
        A,
        parse(
            "type: PAYLOAD_ORDER_CANCELLED order_cancelled { order { low: 1 }"
            " reason: ORDER_CANCELLED_MARKET_HALTED quantity: 10000 }"
        ),
    )
    assert state(ex, ALICE) == (BALANCE, 0, BALANCE, 0)
    assert show(ex.cancel_order(ALICE, 1, 2)) == expect((A, cancel_rejected(2, 1, "NOT_LIVE")))


def test_cancel_all_in_one_market(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=4000, reference="a")  # order 1
    place(ex, ALICE, 2, contract=AWAY, side=SELL, price=7000, quantity=2000)  # order 2
    place(ex, ALICE, 3, market=OTHER, contract=YES, price=1000)  # order 3
    place(ex, BOB, 1, price=4000, quantity=5000)  # order 4
    out = ex.cancel_all(ALICE, MARKET, 4)
    assert show(out) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED order_cancel_all_accepted { seq: 4 count: 2 }",
        ),
        (
            A,
            "type: PAYLOAD_ORDER_CANCELLED order_cancelled { order { low: 1 }"
            ' reason: ORDER_CANCELLED_MEMBER_REQUESTED quantity: 10000 seq: 4 reference: "a" }',
        ),
        (
            A,
            "type: PAYLOAD_ORDER_CANCELLED order_cancelled { order { low: 2 }"
            " reason: ORDER_CANCELLED_MEMBER_REQUESTED quantity: 2000 seq: 4 }",
        ),
        (M, quotes("bids { price: 4000 quantity: 5000 }")),
        (M, quotes("offers { price: 7000 quantity: 0 }", contract=AWAY)),
    )
    assert open_ids(ex, ALICE) == [3]
    assert state(ex, ALICE) == (BALANCE, 1000, BALANCE - 1000, 0)


def test_cancel_all_everywhere_and_when_there_is_nothing(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=4000)
    place(ex, ALICE, 2, market=OTHER, contract=YES, price=1000)
    out = ex.cancel_all(ALICE, None, 3)
    assert show(out)[0] == (
        A,
        parse(
            "type: PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED order_cancel_all_accepted { seq: 3 count: 2 }"
        ),
    )
    assert [to for to, _ in out] == [A, A, A, M, M2]
    assert show(ex.cancel_all(ALICE, OTHER, 4)) == expect(
        (A, "type: PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED order_cancel_all_accepted { seq: 4 count: 0 }")
    )
    assert state(ex, ALICE) == (BALANCE, 0, BALANCE, 0)


def test_cancel_all_unknown_market(ex: Exchange) -> None:
    assert show(ex.cancel_all(ALICE, 99, 4)) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_CANCEL_ALL_REJECTED order_cancel_all_rejected"
            " { seq: 4 reason: ORDER_CANCEL_ALL_REJECTED_MARKET_NOT_FOUND }",
        )
    )


# --- halting, reopening, settling ----------------------------------------------------------------


def test_market_state_transitions_that_make_no_sense(ex: Exchange) -> None:
    with pytest.raises(ValueError, match="market 10 is not halted"):
        ex.reopen(MARKET)
    ex.halt(MARKET)
    with pytest.raises(ValueError, match="market 10 is not open"):
        ex.halt(MARKET)
    ex.settle(MARKET, DRAW)
    with pytest.raises(ValueError, match="market 10 is already settled"):
        ex.settle(MARKET, DRAW)
    with pytest.raises(ValueError, match="market 10 is not open"):
        ex.halt(MARKET)
    with pytest.raises(ValueError, match="market 10 is not halted"):
        ex.reopen(MARKET)
    with pytest.raises(ValueError, match="contract 11 is not in market 20"):
        ex.settle(OTHER, HOME)
    with pytest.raises(KeyError, match="no market 99"):
        ex.halt(99)


def test_settle_outputs(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=4000, quantity=3000, reference="left")  # order 1, rests
    place(ex, BOB, 1, side=SELL, price=4000, quantity=1000)  # order 2, fills 1000 of it
    place(ex, CAROL, 1, contract=DRAW, side=SELL, price=8000, quantity=1000)  # order 3
    place(ex, CAROL, 2, market=OTHER, contract=YES, price=1000)  # order 4: other market
    out = ex.settle(MARKET, HOME)

    def account_state(account: int, cash: int, staked: int = 0) -> str:
        return (
            "type: PAYLOAD_ACCOUNT_STATE account_state {"
            f" account {{ low: {account} }} currency: CURRENCY_GBP"
            f" cash {{ value: {cash} exponent: 4 }} bonus {{ value: 0 exponent: 4 }}"
            f" exposure {{ value: {1000 if account == CAROL else 0} exponent: 4 }}"
            f" available {{ value: {cash - (1000 if account == CAROL else 0)} exponent: 4 }}"
            f" staked {{ value: {staked} exponent: 4 }} }}"
        )

    assert show(out) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_CANCELLED order_cancelled { order { low: 1 }"
            ' reason: ORDER_CANCELLED_MARKET_SETTLED quantity: 2000 reference: "left" }',
        ),
        (
            C,
            "type: PAYLOAD_ORDER_CANCELLED order_cancelled { order { low: 3 }"
            " reason: ORDER_CANCELLED_MARKET_SETTLED quantity: 1000 }",
        ),
        (M, quotes("bids { price: 4000 quantity: 0 }", volume=1000)),
        (M, quotes("offers { price: 8000 quantity: 0 }", contract=DRAW)),
        (
            M,
            "type: PAYLOAD_MARKET_STATE market_state { market { low: 10 }"
            " state: MARKET_STATUS_SETTLED winner { low: 11 } }",
        ),
        (A, account_state(ALICE, BALANCE - 400 + 1000)),
        (B, account_state(BOB, BALANCE - 600)),
        (C, account_state(CAROL, BALANCE)),
    )
    assert open_ids(ex, CAROL) == [4]
    ex.check_invariants()


def test_settle_a_halted_market(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=4000)
    assert [p.type for _, p in ex.halt(MARKET)] == [
        seto_pb2.PAYLOAD_ORDER_CANCELLED,
        seto_pb2.PAYLOAD_CONTRACT_QUOTES,
        seto_pb2.PAYLOAD_MARKET_STATE,
    ]
    # The halt cancelled the order already: nothing left to cancel or pay.
    out = ex.settle(MARKET, AWAY)
    assert [p.type for _, p in out] == [seto_pb2.PAYLOAD_MARKET_STATE]
    assert state(ex, ALICE) == (BALANCE, 0, BALANCE, 0)


def test_settle_an_empty_market(ex: Exchange) -> None:
    assert show(ex.settle(OTHER, YES)) == expect(
        (
            M2,
            "type: PAYLOAD_MARKET_STATE market_state { market { low: 20 }"
            " state: MARKET_STATUS_SETTLED winner { low: 21 } }",
        )
    )


# --- queries -------------------------------------------------------------------------------------


def test_catalogue(ex: Exchange) -> None:
    ex.add_market(30, "Next goal", 200, "Greens v Golds", [(31, "Greens"), (32, "Golds")])
    ex.settle(OTHER, NO)
    ex.halt(30)
    assert text(ex.markets.payload(seq=12)) == parse(
        "type: PAYLOAD_MARKETS markets { seq: 12"
        ' events { id { low: 100 } name: "Reds v Blues"'
        '  markets { id { low: 10 } name: "Full time result" state: MARKET_STATUS_OPEN'
        '   contracts { id { low: 11 } name: "Reds" state: CONTRACT_STATUS_OPEN }'
        '   contracts { id { low: 12 } name: "Blues" state: CONTRACT_STATUS_OPEN }'
        '   contracts { id { low: 13 } name: "Draw" state: CONTRACT_STATUS_OPEN } }'
        '  markets { id { low: 20 } name: "Both teams score" state: MARKET_STATUS_SETTLED'
        '   contracts { id { low: 21 } name: "Yes" state: CONTRACT_STATUS_LOST }'
        '   contracts { id { low: 22 } name: "No" state: CONTRACT_STATUS_WON }'
        "   winner { low: 22 } } }"
        ' events { id { low: 200 } name: "Greens v Golds"'
        '  markets { id { low: 30 } name: "Next goal" state: MARKET_STATUS_HALTED'
        '   contracts { id { low: 31 } name: "Greens" state: CONTRACT_STATUS_OPEN }'
        '   contracts { id { low: 32 } name: "Golds" state: CONTRACT_STATUS_OPEN } } } }'
    )
    assert text(ex.markets.payload()) == parse(
        text(ex.markets.payload(seq=12)).replace("seq: 12 ", "")
    )


def test_market_snapshot(ex: Exchange) -> None:
    for seq, (side, price, quantity) in enumerate(
        [
            (BUY, 3000, 1000),
            (BUY, 3500, 2000),
            (BUY, 3000, 4000),
            (SELL, 6000, 1000),
            (SELL, 5500, 3000),
        ],
        start=1,
    ):
        place(ex, BOB, seq, side=side, price=price, quantity=quantity)
    place(ex, ALICE, 1, side=SELL, price=3500, quantity=1500)
    assert show([(M, ex.market_snapshot(MARKET, seq=42))])[0][1] == parse(
        "type: PAYLOAD_MARKET_QUOTES market_quotes { market { low: 10 } state: MARKET_STATUS_OPEN"
        " price_type: PRICE_PERCENT_ODDS quantity_type: QUANTITY_PAYOFF_CURRENCY"
        " contract_quotes { contract { low: 11 } market { low: 10 }"
        "  bids { price: 3500 quantity: 500 } bids { price: 3000 quantity: 5000 }"
        "  offers { price: 5500 quantity: 3000 } offers { price: 6000 quantity: 1000 }"
        f"  executions {{ price: 3500 quantity: 1500 liquidity: SIDE_SELL {T} }}"
        "  volume: 1500 }"
        " contract_quotes { contract { low: 12 } market { low: 10 } volume: 0 }"
        " contract_quotes { contract { low: 13 } market { low: 10 } volume: 0 }"
        " seq: 42 }"
    )


def test_market_snapshot_keeps_the_last_ten_executions(ex: Exchange) -> None:
    for i in range(12):
        place(ex, BOB, i + 1, side=SELL, price=4000 + i, quantity=1000)
        place(ex, ALICE, i + 1, price=4000 + i, quantity=1000)
    quotes_msg = ex.market_snapshot(MARKET).market_quotes.contract_quotes[0]
    assert [e.price for e in quotes_msg.executions] == [4000 + i for i in range(2, 12)]
    assert quotes_msg.volume == 12_000


def test_market_snapshot_unknown_market(ex: Exchange) -> None:
    assert ex.has_market(MARKET)
    assert not ex.has_market(99)
    with pytest.raises(KeyError, match="no market 99"):
        ex.market_snapshot(99)


def test_open_orders_by_market_oldest_first(ex: Exchange) -> None:
    place(ex, ALICE, 1, market=OTHER, contract=NO, side=SELL, price=2000, quantity=1000, tif=GTC)
    place(ex, ALICE, 2, price=3000)
    place(ex, ALICE, 3, contract=DRAW, price=1000)
    assert open_ids(ex, ALICE) == [1, 2, 3]
    assert open_ids(ex, ALICE, MARKET) == [2, 3]
    assert open_ids(ex, ALICE, OTHER) == [1]
    assert open_ids(ex, ALICE, 99) == []
    assert open_ids(ex, BOB) == []


def test_account_state_payload(ex: Exchange) -> None:
    place(ex, ALICE, 1, price=3000)
    assert text(ex.account_state(ALICE, seq=5)) == parse(
        "type: PAYLOAD_ACCOUNT_STATE account_state { seq: 5 account { low: 1 }"
        f" currency: CURRENCY_GBP cash {{ value: {BALANCE} exponent: 4 }}"
        " bonus { value: 0 exponent: 4 } exposure { value: 3000 exponent: 4 }"
        f" available {{ value: {BALANCE - 3000} exponent: 4 }} staked {{ value: 0 exponent: 4 }} }}"
    )
    # Decimal {value, exponent}: value * 10 ** -exponent, exact: 100.0000 is 1000000e-4.
    msg = ex.account_state(ALICE).account_state
    assert not msg.HasField("seq")
    assert (msg.cash.value, msg.cash.exponent) == (BALANCE, 4)


def test_big_ids_use_the_high_half() -> None:
    market, contract = (7 << 64) | 10, (7 << 64) | 11
    ex = Exchange(order_ids=itertools.count(1).__next__, clock=lambda: NOW)
    ex.add_account("alice", BALANCE)
    ex.add_market(market, "m", 1 << 100, "e", [(contract, "c")])
    msg = seto_pb2.OrderCreate(side=BUY, quantity=1000, price=100)
    msg.market.low, msg.market.high = 10, 7
    msg.contract.low, msg.contract.high = 11, 7
    out = ex.place_order(ALICE, msg, 1)
    assert show(out)[1] == (
        ToMarket(market),
        parse(
            "type: PAYLOAD_CONTRACT_QUOTES contract_quotes { contract { low: 11 high: 7 }"
            " market { low: 10 high: 7 } bids { price: 100 quantity: 1000 } volume: 0 }"
        ),
    )
    event = ex.markets.payload().markets.events[0]
    assert (event.id.low, event.id.high) == (0, 1 << 36)


# --- size limits ---------------------------------------------------------------------------------


def _whale_exchange(**kwargs: Any) -> Exchange:
    ex = Exchange(order_ids=itertools.count(1).__next__, clock=lambda: NOW, **kwargs)
    ex.add_account("alice", 10**16)
    ex.add_account("bob", 10**16)
    ex.add_market(MARKET, "m", EVENT, "e", [(HOME, "h")])
    return ex


def test_a_price_level_total_above_a_uint32_is_sent_saturated() -> None:
    ex = _whale_exchange(max_order_quantity=MAX_UINT32)
    big = 3_000_000_000
    place(ex, ALICE, 1, price=1, quantity=big)
    out = place(ex, BOB, 1, price=1, quantity=big)
    # The level holds 6,000,000,000: the wire's uint32 shows 4294967295.
    assert show(out)[1] == (M, parse(quotes(f"bids {{ price: 1 quantity: {MAX_UINT32} }}")))
    snapshot = ex.market_snapshot(MARKET)
    assert snapshot.market_quotes.contract_quotes[0].bids[0].quantity == MAX_UINT32
    snapshot.eto_payload.seq = 1
    snapshot.SerializeToString()  # every number fits its field
    # Back below: exact again.
    out = ex.cancel_order(ALICE, 1, 2)
    assert show(out)[1] == (M, parse(quotes(f"bids {{ price: 1 quantity: {big} }}")))
    ex.check_invariants()


def test_max_order_quantity_is_a_setting_within_a_uint32() -> None:
    ex = _whale_exchange(max_order_quantity=10_000)
    assert show(place(ex, ALICE, 1, quantity=10_000))[0] == (A, parse(accepted(1, 1)))
    assert show(place(ex, ALICE, 2, quantity=10_001)) == expect(
        (
            A,
            "type: PAYLOAD_ORDER_INVALID order_invalid"
            " { seq: 2 reasons: ORDER_INVALID_INVALID_QUANTITY }",
        )
    )
    assert Exchange().max_order_quantity == 500_000_000
    for bad in (999, MAX_UINT32 + 1, True, 1.5):
        with pytest.raises(ValueError, match="max_order_quantity"):
            Exchange(max_order_quantity=bad)  # type: ignore[arg-type]


def test_volume_never_grows_beyond_a_uint64() -> None:
    ex = _whale_exchange()
    # Unreachable with real money (every unit traded is staked until settlement, and all the
    # money is below 2**63): the volume is set by hand to show the check.
    book = ex.markets.contracts[HOME].book
    book.volume = MAX_QUANTITY - 1500
    place(ex, BOB, 1, side=SELL, price=5000, quantity=3000)  # order 1
    assert show(place(ex, ALICE, 1, quantity=1000))[0] == (A, parse(accepted(1, 2)))
    before = (text(ex.market_snapshot(MARKET)), state(ex, ALICE), state(ex, BOB))
    out = place(ex, ALICE, 2, quantity=1000, tif=IOC, reference="v")
    assert show(out) == expect((A, rejected(2, "LIMIT_EXCEEDED", "v")))
    assert (text(ex.market_snapshot(MARKET)), state(ex, ALICE), state(ex, BOB)) == before
    assert book.volume == MAX_QUANTITY - 500


def test_all_the_money_together_fits_an_int64() -> None:
    ex = Exchange(order_ids=itertools.count(1).__next__, clock=lambda: NOW)
    half = 1 << 61
    ex.add_account("alice", MAX_TOTAL_BALANCE - half)
    ex.add_account("bob", half)
    for name, balance in (("carol", 1), ("dave", MAX_TOTAL_BALANCE)):
        with pytest.raises(ValueError, match=r"balance must be <= 0: .*2\*\*63 - 1"):
            ex.add_account(name, balance)
        with pytest.raises(KeyError):
            ex.account_id(name)  # nothing half-opened
    ex.add_account("carol", 0)
    # alice wins what bob staked; the money on the wire is exact and fits Decimal's int64
    ex.add_market(MARKET, "m", EVENT, "e", [(HOME, "h")])
    place(ex, ALICE, 1, price=5000, quantity=400_000_000)
    place(ex, BOB, 1, side=SELL, price=5000, quantity=400_000_000)
    assert state(ex, BOB) == (half - 200_000_000, 0, half - 200_000_000, 200_000_000)
    ex.settle(MARKET, HOME)
    rich = MAX_TOTAL_BALANCE - half + 200_000_000
    assert state(ex, ALICE) == (rich, 0, rich, 0)
    ex.account_state(ALICE).account_state.SerializeToString()  # fits its int64 fields
    ex.check_invariants()
    # one account alone
    other = Exchange()
    with pytest.raises(ValueError, match="balance must be <= 9223372036854775807"):
        other.add_account("whale", 1 << 63)
    assert other.add_account("whale", MAX_TOTAL_BALANCE) == 1


# --- admin ---------------------------------------------------------------------------------------


def test_accounts() -> None:
    ex = Exchange()
    assert ex.add_account("alice", 0) == 1
    assert ex.add_account("bob", 5) == 2
    assert ex.account_id("bob") == 2
    with pytest.raises(KeyError, match="no account named 'carol'"):
        ex.account_id("carol")
    with pytest.raises(ValueError, match="already an account named 'alice'"):
        ex.add_account("alice", 1)
    with pytest.raises(ValueError, match="balance must be >= 0, not -1"):
        ex.add_account("carol", -1)
    with pytest.raises(TypeError, match="balance must be an int"):
        ex.add_account("carol", 1.5)  # type: ignore[arg-type]
    for bad in (-1, MAX_OPEN_ORDERS_LIMIT + 1, 1.5, True):
        with pytest.raises(ValueError, match="max_open_orders must be >= 0 and <= 4294967295"):
            Exchange(max_open_orders=bad)  # type: ignore[arg-type]
    assert Exchange(max_open_orders=MAX_OPEN_ORDERS_LIMIT).max_open_orders == MAX_OPEN_ORDERS_LIMIT


def test_add_market_errors(ex: Exchange) -> None:
    # The catalogue checks (ids as tagged hex): it is where the markets that exist are kept.
    with pytest.raises(ValueError, match="market 'ac024' is defined twice"):
        ex.add_market(MARKET, "again", EVENT, "Reds v Blues", [(50, "x")])
    with pytest.raises(ValueError, match="contract 'bcccc' is already in another market"):
        ex.add_market(30, "m", EVENT, "Reds v Blues", [(HOME, "x")])
    with pytest.raises(ValueError, match="names a contract id twice"):
        ex.add_market(30, "m", EVENT, "Reds v Blues", [(31, "x"), (31, "y")])
    with pytest.raises(ValueError, match="needs at least one contract"):
        ex.add_market(30, "m", EVENT, "Reds v Blues", [])
    with pytest.raises(ValueError, match="event '641100' is both 'Reds v Blues' and 'Other'"):
        ex.add_market(30, "m", EVENT, "Other", [(31, "x")])
    with pytest.raises(ValueError, match="market id must be an int"):
        ex.add_market(-1, "m", EVENT, "Reds v Blues", [(31, "x")])
    with pytest.raises(ValueError, match="contract id must be an int"):
        ex.add_market(30, "m", EVENT, "Reds v Blues", [(1 << 128, "x")])
    # None of the failures left anything behind.
    assert not ex.has_market(30)
    ex.add_market(30, "m", EVENT, "Reds v Blues", [(31, "x")])
    assert [m.id.low for m in ex.markets.payload().markets.events[0].markets] == [10, 20, 30]


# --- random sequences ----------------------------------------------------------------------------

# The payload field each payload type carries.
_FIELD_OF_TYPE = {
    value: name.removeprefix("PAYLOAD_").lower()
    for name, value in seto_pb2.PayloadType.items()
    if name != "PAYLOAD_ETO"
}
# Mostly a few prices close together, so that orders cross and queue; sometimes any price.
_PRICES = st.one_of(
    st.sampled_from([4000, 4999, 5000, 5001, 6000]),
    st.sampled_from([1, 9999]),
    st.integers(1, 9999),
)


class ExchangeMachine(RuleBasedStateMachine):
    """Random orders, cancels, halts and settlements across a few accounts and markets.

    Balances run from nothing to a few dozen orders' worth and prices cluster, so that
    rejections for funds, partial fills and the rounding of odd quantities all happen;
    ``take`` prices orders at the other side's levels so that they trade. After every step
    the invariants are checked through the exchange's own audit and, independently, through
    its public payloads.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ex = Exchange(
            order_ids=itertools.count(1).__next__, clock=lambda: NOW, max_open_orders=5
        )
        self.accounts: list[int] = []
        self.initial = 0
        self.markets: list[int] = []
        self.next_market = 1000
        self.seq = 0
        self.orders: dict[int, tuple[int, int]] = {}  # id -> (account, quantity)
        self.filled: dict[int, int] = {}
        self.cancelled: dict[int, int] = {}
        self.fills: dict[int, int] = {}  # account -> its last account_sequence

    @initialize(
        balances=st.lists(
            st.one_of(st.sampled_from([0, 1999, 20_000, 100_000]), st.integers(0, 200_000)),
            min_size=2,
            max_size=4,
        )
    )
    def open_accounts(self, balances: list[int]) -> None:
        for i, balance in enumerate(balances):
            self.accounts.append(self.ex.add_account(f"trader{i}", balance))
            self.initial += balance
        self._add_market()
        self._add_market()

    def _add_market(self) -> None:
        market = self.next_market
        self.next_market += 10
        self.ex.add_market(market, "m", 1, "e", [(market + 1, "x"), (market + 2, "y")])
        self.markets.append(market)

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _record(self, outputs: list[Output], account: int | None = None, quantity: int = 0) -> None:
        """Check each payload's shape and keep count of what happened to each order."""
        executions: list[seto_pb2.OrderExecuted] = []
        for to, payload in outputs:
            names = [f.name for f, _ in payload.ListFields()]
            assert names == ["type", _FIELD_OF_TYPE[payload.type]]
            wire = seto_pb2.Payload()
            wire.CopyFrom(payload)
            wire.eto_payload.seq = 1
            wire.SerializeToString()  # every required field is set
            if payload.type == seto_pb2.PAYLOAD_ORDER_ACCEPTED:
                order_id = payload.order_accepted.order.low
                assert order_id == len(self.orders) + 1
                assert to == ToAccount(account)
                self.orders[order_id] = (account, quantity)
            elif payload.type == seto_pb2.PAYLOAD_ORDER_EXECUTED:
                msg = payload.order_executed
                owner, ordered = self.orders[msg.order.low]
                assert to == ToAccount(owner)
                self.filled[msg.order.low] = self.filled.get(msg.order.low, 0) + msg.quantity
                assert msg.remaining == ordered - self.filled[msg.order.low]
                assert msg.account_sequence == self.fills.get(owner, 0) + 1
                self.fills[owner] = msg.account_sequence
                executions.append(msg)
            elif payload.type == seto_pb2.PAYLOAD_ORDER_CANCELLED:
                msg = payload.order_cancelled
                assert to == ToAccount(self.orders[msg.order.low][0])
                self.cancelled[msg.order.low] = self.cancelled.get(msg.order.low, 0) + msg.quantity
        # Fills come in pairs: taker's, then maker's, same trade, opposite sides.
        assert len(executions) % 2 == 0
        for taker, maker in zip(executions[::2], executions[1::2], strict=True):
            assert (taker.price, taker.quantity) == (maker.price, maker.quantity)
            assert taker.side != maker.side

    @rule(
        account=st.integers(0, 3),
        market=st.integers(0, 1),
        contract=st.sampled_from([1, 2]),
        side=st.sampled_from([BUY, SELL]),
        price=_PRICES,
        quantity=st.one_of(st.integers(1000, 6000), st.sampled_from([999, 1999, 3998])),
        tif=st.sampled_from([None, GTC, IOC]),
        maq=st.one_of(st.none(), st.integers(0, 6000)),
    )
    def place(
        self,
        account: int,
        market: int,
        contract: int,
        side: int,
        price: int,
        quantity: int,
        tif: int | None,
        maq: int | None = None,
    ) -> None:
        account_id = self.accounts[account % len(self.accounts)]
        market_id = self.markets[-1 - market]
        msg = create(
            market=market_id,
            contract=market_id + contract,
            side=side,
            price=price,
            quantity=quantity,
            tif=tif,
            maq=maq,
        )
        before = {a: self._available(a) for a in self.accounts}
        out = self.ex.place_order(account_id, msg, self._next_seq())
        self._record(out, account_id, quantity)
        # Being filled as a resting order never costs an account more than it reserved.
        for other in self.accounts:
            if other != account_id:
                assert self._available(other) >= before[other]

    @rule(
        account=st.integers(0, 3),
        market=st.integers(0, 1),
        contract=st.sampled_from([1, 2]),
        side=st.sampled_from([BUY, SELL]),
        depth=st.integers(0, 2),
        quantity=st.integers(1000, 6000),
        tif=st.sampled_from([None, IOC]),
    )
    def take(
        self,
        account: int,
        market: int,
        contract: int,
        side: int,
        depth: int,
        quantity: int,
        tif: int | None,
    ) -> None:
        """An order priced to trade: at the ``depth``-th best level of the other side."""
        market_id = self.markets[-1 - market]
        quotes_msg = self.ex.market_snapshot(market_id).market_quotes.contract_quotes[contract - 1]
        levels = quotes_msg.offers if side == BUY else quotes_msg.bids
        if levels:
            price = levels[min(depth, len(levels) - 1)].price
            self.place(account, market, contract, side, price, quantity, tif)

    def _available(self, account_id: int) -> int:
        return self.ex.account_state(account_id).account_state.available.value

    @rule(account=st.integers(0, 3), order=st.integers(0, 60))
    def cancel(self, account: int, order: int) -> None:
        account_id = self.accounts[account % len(self.accounts)]
        out = self.ex.cancel_order(account_id, order, self._next_seq())
        assert out[0][1].type in (
            seto_pb2.PAYLOAD_ORDER_CANCELLED,
            seto_pb2.PAYLOAD_ORDER_CANCEL_REJECTED,
        )
        self._record(out)

    @rule(account=st.integers(0, 3), market=st.sampled_from([0, 1, None]))
    def cancel_all(self, account: int, market: int | None) -> None:
        account_id = self.accounts[account % len(self.accounts)]
        market_id = None if market is None else self.markets[-1 - market]
        self._record(self.ex.cancel_all(account_id, market_id, self._next_seq()))
        assert open_ids(self.ex, account_id, market_id) == []

    @rule(market=st.integers(0, 1), account=st.integers(0, 3), order=st.integers(0, 60))
    def halt_briefly(self, market: int, account: int, order: int) -> None:
        """Halt a market, try to trade and cancel in it, reopen it."""
        market_id = self.markets[-1 - market]
        account_id = self.accounts[account % len(self.accounts)]
        self._record(self.ex.halt(market_id))
        before = text(self.ex.market_snapshot(market_id))
        refused = self.ex.place_order(
            account_id, create(market=market_id, contract=market_id + 1), self._next_seq()
        )
        assert refused[0][1].order_rejected.reason == seto_pb2.ORDER_REJECTED_MARKET_HALTED
        assert text(self.ex.market_snapshot(market_id)) == before
        self.cancel(account, order)
        self._record(self.ex.reopen(market_id))

    @rule(market=st.integers(0, 1), winner=st.sampled_from([1, 2]))
    def settle(self, market: int, winner: int) -> None:
        market_id = self.markets[-1 - market]
        self._record(self.ex.settle(market_id, market_id + winner))
        assert all(not open_ids(self.ex, a, market_id) for a in self.accounts)
        self.markets.remove(market_id)
        self._add_market()

    @invariant()
    def audit(self) -> None:
        self.ex.check_invariants()

    @invariant()
    def money_is_conserved_and_reserved_exactly(self) -> None:
        if not self.accounts:
            return
        total = 0
        remaining: dict[int, int] = {}
        for account in self.accounts:
            msg = self.ex.account_state(account).account_state
            cash, staked = msg.cash.value, msg.staked.value
            exposure, available = msg.exposure.value, msg.available.value
            total += cash + staked
            assert available == cash - exposure >= 0
            infos = open_states(self.ex, account)
            assert exposure == sum(reservation(side, o.remaining, p) for side, p, o in infos)
            remaining.update((o.order.low, o.remaining) for _, _, o in infos)
        assert total == self.initial
        for order_id, (_, quantity) in self.orders.items():
            assert quantity == (
                self.filled.get(order_id, 0)
                + self.cancelled.get(order_id, 0)
                + remaining.get(order_id, 0)
            )

    @invariant()
    def books_are_sorted_and_never_crossed(self) -> None:
        for market in self.markets:
            for quotes_msg in self.ex.market_snapshot(market).market_quotes.contract_quotes:
                bids = [q.price for q in quotes_msg.bids]
                offers = [q.price for q in quotes_msg.offers]
                assert bids == sorted(set(bids), reverse=True)
                assert offers == sorted(set(offers))
                assert all(q.quantity > 0 for q in [*quotes_msg.bids, *quotes_msg.offers])
                if bids and offers:
                    assert bids[0] < offers[0]


TestExchangeMachine = ExchangeMachine.TestCase
TestExchangeMachine.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
