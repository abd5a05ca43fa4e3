"""Settlement, halting and reopening, driven through the sandbox's admin console.

The sandbox runs as a separate process (with and without TLS); traders are the library's own
client (the helpers of ``test_sandbox_orders.py``). Each test opens its own accounts and
market, so the payouts are exact integers computed by hand from the money model of
``smarkets/sandbox/exchange.py``: a matched pair's two stakes add up to the quantity, and at
settlement each side of a trade is paid the quantity if it is right (a buy if the contract
won, a sell if it lost), nothing if it is wrong.
"""

from __future__ import annotations

import pytest
from test_sandbox_orders import (  # the shared helpers and fixtures
    BALANCE,
    BUY,
    SELL,
    Exchange,
    Market,
    Trader,
    exchange,
    levels_of,
    sandbox,
    uuid,
)

import smarkets
from smarkets.account import Account
from smarkets.proto import seto_pb2
from smarkets.sandbox.process import SandboxAdminError

__all__ = ["exchange", "sandbox"]  # fixtures, imported to be used here

SETTLED = seto_pb2.MARKET_STATUS_SETTLED
HALTED = seto_pb2.MARKET_STATUS_HALTED
OPEN = seto_pb2.MARKET_STATUS_OPEN


def catalogue_entry(trader: Trader, market: Market) -> seto_pb2.Market:
    """The market as the catalogue (``seto.markets``) shows it to ``trader``."""
    trader.client.request_markets()
    catalogue = trader.reply("seto.markets", trader.flush_one())
    (entry,) = [m for event in catalogue.events for m in event.markets if m.id == uuid(market.id)]
    return entry


def trade(
    maker: Trader,
    taker: Trader,
    market: Market,
    contract: str,
    side: int,
    price: int,
    quantity: int,
) -> None:
    """``maker`` rests an order of ``side``; ``taker`` takes all of it."""
    resting = maker.place(market.id, contract, side, price, quantity)
    maker.reply("seto.order_accepted", resting.seq)
    taking = taker.place(market.id, contract, SELL if side == BUY else BUY, price, quantity)
    taker.reply("seto.order_accepted", taking.seq)
    maker.wait_for("seto.order_executed", lambda m: m.order == resting.id)
    taker.wait_for("seto.order_executed", lambda m: m.order == taking.id)
    assert resting.state == taking.state == "filled"


# What each account is paid at settlement, by winning contract (index), for the trades of
# test_settlement_pays_out: alice bought A and sold B, 100,000 and 50,000; bob the opposite.
PAYOUTS = {
    0: (150_000, 0),  # A won: alice's buy of A and her sell of B are right
    1: (0, 150_000),  # B won: bob's sell of A and his buy of B are right
    2: (50_000, 100_000),  # C won: both sells are right, both buys wrong
}


@pytest.mark.parametrize("winner", sorted(PAYOUTS), ids=["A wins", "B wins", "C wins"])
def test_settlement_pays_out(exchange: Exchange, winner: int) -> None:
    market = exchange.market(contracts=3)
    a, b, c = market.contracts
    alice, bob, carol = exchange.trader(), exchange.trader(), exchange.trader()
    alice_again = Trader(exchange.sandbox, alice.name)  # a second session of alice's account
    exchange.traders.append(alice_again)
    carol.subscribe(market.id)

    # alice buys 100,000 of A at 40.00% from bob: stakes 40,000 and 60,000
    trade(alice, bob, market, a, BUY, 4000, 100_000)
    # bob buys 50,000 of B at 30.00% from alice: stakes 15,000 and 35,000
    trade(bob, alice, market, b, BUY, 3000, 50_000)
    # and orders that rest: they reserve 2,000, 10,000 - 9,000 and 500
    alice_rest = alice.place(market.id, c, BUY, 1000, 20_000, reference="alice-rest")
    bob_rest = bob.place(market.id, a, SELL, 9000, 10_000, reference="bob-rest")
    carol_rest = carol.place(market.id, b, BUY, 500, 10_000, reference="carol-rest")
    for trader, order in ((alice, alice_rest), (bob, bob_rest), (carol, carol_rest)):
        trader.reply("seto.order_accepted", order.seq)
    assert alice.money() == (BALANCE - 75_000, 2_000, BALANCE - 77_000, 75_000)
    assert bob.money() == (BALANCE - 75_000, 1_000, BALANCE - 76_000, 75_000)
    assert carol.money() == (BALANCE, 500, BALANCE - 500, 0)
    carol.sync()
    carol_before = len(carol.seen)

    exchange.sandbox.settle(market.id, market.contracts[winner])

    # the subscriber: its order cancelled, the emptied levels, the market's new state, then
    # its account (in the order settle() documents)
    carol.wait_for("seto.account_state", lambda m: not m.HasField("seq"))
    after = carol.seen[carol_before:]
    names = [name for name, _ in after if name.startswith("seto.")]
    assert names == [
        "seto.order_cancelled",
        "seto.contract_quotes",
        "seto.contract_quotes",
        "seto.contract_quotes",
        "seto.market_state",
        "seto.account_state",
    ]
    emptied = {
        smarkets.uuid_to_str(m.contract, "contract"): levels_of(m)
        for name, m in after
        if name == "seto.contract_quotes"
    }
    assert emptied == {a: ([], [(9000, 0)]), b: ([(500, 0)], []), c: ([(1000, 0)], [])}
    (state,) = [m for name, m in after if name == "seto.market_state"]
    assert (state.market, state.state, state.winner) == (
        uuid(market.id),
        SETTLED,
        uuid(market.contracts[winner]),
    )

    # every resting order is cancelled, told to the session that placed it, with no seq
    for trader, order, quantity in (
        (alice, alice_rest, 20_000),
        (bob, bob_rest, 10_000),
        (carol, carol_rest, 10_000),
    ):
        (cancelled,) = trader.wait_for("seto.order_cancelled", lambda m, o=order: m.order == o.id)
        assert cancelled.reason == seto_pb2.ORDER_CANCELLED_MARKET_SETTLED
        assert (cancelled.quantity, cancelled.reference) == (quantity, order.reference)
        assert not cancelled.HasField("seq")
        assert (order.state, order.remaining) == ("cancelled", 0)
    # every session of every account concerned is sent its new state (no seq: unasked)
    alice_paid, bob_paid = PAYOUTS[winner]
    expected = {
        alice.name: (BALANCE - 75_000 + alice_paid, 0, BALANCE - 75_000 + alice_paid, 0),
        bob.name: (BALANCE - 75_000 + bob_paid, 0, BALANCE - 75_000 + bob_paid, 0),
        carol.name: (BALANCE, 0, BALANCE, 0),
    }
    for trader in (alice, alice_again, bob, carol):
        (pushed,) = trader.wait_for("seto.account_state", lambda m: not m.HasField("seq"))
        money = Account.from_message(pushed)  # Decimal on the wire, 1/10,000 units here
        assert (money.cash, money.exposure, money.available, money.staked) == (
            expected[trader.name]
        )
        assert trader.money() == expected[trader.name]
        balance = exchange.sandbox.balance(trader.name)
        assert (balance.cash, balance.exposure, balance.available, balance.staked) == (
            expected[trader.name]
        )
    assert alice_paid + bob_paid == 150_000  # the stakes, all paid out: no money made or lost

    # the catalogue shows the market settled, its winner, and which contracts won and lost
    entry = catalogue_entry(alice, market)
    assert (entry.state, entry.winner) == (SETTLED, uuid(market.contracts[winner]))
    assert [contract.state for contract in entry.contracts] == [
        seto_pb2.CONTRACT_STATUS_WON if index == winner else seto_pb2.CONTRACT_STATUS_LOST
        for index in range(3)
    ]
    # a subscription now gives an empty book in a settled market
    snapshot = exchange.trader().subscribe(market.id)
    assert snapshot.state == SETTLED
    assert all(levels_of(q) == ([], []) for q in snapshot.contract_quotes)

    # nothing more can happen in the market
    late = bob.place(market.id, a, BUY, 5000, 10_000, reference="late")
    rejected = bob.reply("seto.order_rejected", late.seq)
    assert (rejected.reason, rejected.reference) == (
        seto_pb2.ORDER_REJECTED_MARKET_SETTLED,
        "late",
    )
    alice.client.cancel(alice_rest.id)  # type: ignore[arg-type]
    seq = alice.flush_one()
    assert alice.reply("seto.order_cancel_rejected", seq).reason == (
        seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE
    )
    for command in (
        lambda: exchange.sandbox.settle(market.id, a),
        lambda: exchange.sandbox.halt(market.id),
        lambda: exchange.sandbox.reopen(market.id),
    ):
        with pytest.raises(SandboxAdminError):
            command()
    assert alice.money() == expected[alice.name]


def test_settlement_errors_change_nothing(exchange: Exchange) -> None:
    market, other = exchange.market(), exchange.market()
    alice = exchange.trader()
    order = alice.place(market.id, market.contracts[0], BUY, 2000, 10_000)
    alice.reply("seto.order_accepted", order.seq)
    for market_id, winner in (
        (market.id, other.contracts[0]),  # not one of the market's contracts
        (market.id, "fffffcccc"),  # no such contract
        ("fffffc024", market.contracts[0]),  # no such market
    ):
        with pytest.raises(SandboxAdminError):
            exchange.sandbox.settle(market_id, winner)
    assert catalogue_entry(alice, market).state == OPEN
    assert [info.order for info in alice.open_orders()] == [order.id]
    assert alice.money() == (BALANCE, 2_000, BALANCE - 2_000, 0)


def test_halt_and_reopen(exchange: Exchange) -> None:
    market = exchange.market()
    contract = market.contracts[0]
    alice, bob, carol = exchange.trader(), exchange.trader(), exchange.trader()
    carol.subscribe(market.id)
    first = alice.place(market.id, contract, BUY, 4000, 10_000, reference="first")
    second = alice.place(market.id, contract, BUY, 3000, 10_000, reference="second")
    alice.wait_for("seto.order_accepted", count=2)
    assert alice.money() == (BALANCE, 7_000, BALANCE - 7_000, 0)
    carol.wait_for("seto.contract_quotes", count=2)

    exchange.sandbox.halt(market.id)
    # a halt cancels every resting order (MARKET_HALTED), releasing what it reserved
    cancelled = alice.wait_for(
        "seto.order_cancelled", lambda m: m.reason == seto_pb2.ORDER_CANCELLED_MARKET_HALTED, 2
    )
    assert sorted((m.reference, m.quantity) for m in cancelled) == [
        ("first", 10_000),
        ("second", 10_000),
    ]
    assert all(not m.HasField("seq") for m in cancelled)  # no cancel request asked for them
    assert (first.state, second.state) == ("cancelled", "cancelled")
    assert alice.open_orders(market.id) == []
    assert alice.money() == (BALANCE, 0, BALANCE, 0)
    # the subscriber sees the emptied levels, then the market's new state
    (halted,) = carol.wait_for("seto.market_state")
    assert (halted.market, halted.state) == (uuid(market.id), HALTED)
    assert not halted.HasField("winner")
    (emptied,) = carol.wait_for("seto.contract_quotes", count=3)[2:]
    assert levels_of(emptied) == ([(4000, 0), (3000, 0)], [])
    assert catalogue_entry(bob, market).state == HALTED
    snapshot = exchange.trader().subscribe(market.id)
    assert snapshot.state == HALTED
    assert all(levels_of(q) == ([], []) for q in snapshot.contract_quotes)
    with pytest.raises(SandboxAdminError):
        exchange.sandbox.halt(market.id)  # already halted
    # no new orders, not even one that would have traded
    crossing = bob.place(market.id, contract, SELL, 4000, 10_000, reference="halted")
    rejected = bob.reply("seto.order_rejected", crossing.seq)
    assert (rejected.reason, rejected.reference) == (
        seto_pb2.ORDER_REJECTED_MARKET_HALTED,
        "halted",
    )
    # a cancelled order cannot be cancelled again
    alice.client.cancel(second.id)  # type: ignore[arg-type]
    seq = alice.flush_one()
    assert alice.reply("seto.order_cancel_rejected", seq).reason == (
        seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE
    )
    assert bob.money() == (BALANCE, 0, BALANCE, 0)

    exchange.sandbox.reopen(market.id)
    (_, reopened) = carol.wait_for("seto.market_state", count=2)
    assert (reopened.state, reopened.HasField("winner")) == (OPEN, False)
    assert catalogue_entry(bob, market).state == OPEN
    with pytest.raises(SandboxAdminError):
        exchange.sandbox.reopen(market.id)  # not halted
    # trading resumes on an empty book: nothing rested through the halt
    again = alice.place(market.id, contract, BUY, 4000, 10_000, reference="again")
    alice.reply("seto.order_accepted", again.seq)
    taker = bob.place(market.id, contract, SELL, 4000, 10_000)
    bob.reply("seto.order_accepted", taker.seq)
    (filled,) = alice.wait_for("seto.order_executed")
    assert (filled.order, filled.price, filled.quantity, filled.remaining) == (
        again.id,
        4000,
        10_000,
        0,
    )
    assert alice.money() == (BALANCE - 4_000, 0, BALANCE - 4_000, 4_000)
    assert bob.money() == (BALANCE - 6_000, 0, BALANCE - 6_000, 6_000)


def test_a_halted_market_can_be_settled(exchange: Exchange) -> None:
    market = exchange.market()
    winner, loser = market.contracts
    alice, bob = exchange.trader(), exchange.trader()
    # alice sells 20,000 of the loser at 25.00% to bob: stakes 15,000 and 5,000
    trade(alice, bob, market, loser, SELL, 2500, 20_000)
    resting = alice.place(market.id, winner, SELL, 9000, 10_000)
    alice.reply("seto.order_accepted", resting.seq)
    exchange.sandbox.halt(market.id)
    # the halt cancels the resting order; the settlement then has none left to cancel
    (cancelled,) = alice.wait_for("seto.order_cancelled")
    assert (cancelled.order, cancelled.reason) == (
        resting.id,
        seto_pb2.ORDER_CANCELLED_MARKET_HALTED,
    )
    exchange.sandbox.settle(market.id, winner)
    alice.wait_for("seto.account_state", lambda m: not m.HasField("seq"))
    assert len(alice.messages("seto.order_cancelled")) == 1
    # alice's sell was right (the contract lost): paid 20,000 for her 15,000 stake
    assert alice.money() == (BALANCE + 5_000, 0, BALANCE + 5_000, 0)
    assert bob.money() == (BALANCE - 5_000, 0, BALANCE - 5_000, 0)
    assert catalogue_entry(bob, market).state == SETTLED


def test_a_session_without_extensions_is_told_of_a_settlement_as_a_halt(
    exchange: Exchange,
) -> None:
    """ORDER_CANCELLED_MARKET_SETTLED is an extension value: a session that logged in with the
    published schema alone is told MARKET_HALTED instead, and no market_state (an extension
    kind) reaches it."""
    market = exchange.market()
    contract = market.contracts[0]
    modern = exchange.trader()
    published = exchange.trader(extensions=False)
    assert (modern.client.extensions, published.client.extensions) == (1, 0)
    orders = {}
    for trader in (modern, published):
        order = trader.place(market.id, contract, BUY, 1000 + len(orders), 10_000)
        trader.wait_for("seto.order_accepted")
        orders[trader.name] = order
    published.client.subscribe(market.id)  # its snapshot names no request: no seq
    published.flush_one()
    published.wait_for("seto.market_quotes")
    exchange.sandbox.settle(market.id, contract)
    (told,) = modern.wait_for("seto.order_cancelled")
    assert (told.order, told.reason) == (
        orders[modern.name].id,
        seto_pb2.ORDER_CANCELLED_MARKET_SETTLED,
    )
    (told,) = published.wait_for("seto.order_cancelled")
    assert (told.order, told.reason) == (
        orders[published.name].id,
        seto_pb2.ORDER_CANCELLED_MARKET_HALTED,
    )
    assert not told.HasField("quantity") and not told.HasField("seq")  # extension fields
    assert orders[published.name].state == "cancelled"
    published.wait_for("seto.account_state")  # the new state after the settlement
    published.sync()
    assert published.messages("seto.market_state") == []
