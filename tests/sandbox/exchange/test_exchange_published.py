"""The exchange's published behaviour (PROTOCOL.md 3.1): maq, ids, cancel refusals, halts,
suspension and downtime, open orders and fills as the published messages carry them."""

from __future__ import annotations

import itertools

import pytest

from smarkets.proto import seto_pb2
from smarkets.sandbox.exchange import Exchange, OrderIds, ToAccount, ToMarket
from smarkets.sandbox.exchange import accounts as accounts_module

BUY, SELL = seto_pb2.SIDE_BUY, seto_pb2.SIDE_SELL
IOC = seto_pb2.IMMEDIATE_OR_CANCEL
MARKET, HOME, AWAY = 10, 11, 12
OTHER, YES = 20, 21
ALICE, BOB = 1, 2
BALANCE = 10_000_000


def make(**kwargs: object) -> Exchange:
    kwargs.setdefault("order_ids", itertools.count(1).__next__)
    ex = Exchange(clock=lambda: 1_700_000_000.0, **kwargs)  # type: ignore[arg-type]
    ex.add_account("alice", BALANCE)
    ex.add_account("bob", BALANCE)
    ex.add_market(MARKET, "m", 1, "e", [(HOME, "h"), (AWAY, "a")])
    ex.add_market(OTHER, "o", 1, "e", [(YES, "y")])
    return ex


def order(
    market: int = MARKET,
    contract: int = HOME,
    side: int = BUY,
    quantity: int = 10_000,
    price: int = 5000,
    **extra: object,
) -> seto_pb2.OrderCreate:
    msg = seto_pb2.OrderCreate(
        type=seto_pb2.ORDER_CREATE_LIMIT,
        side=side,
        quantity_type=seto_pb2.QUANTITY_PAYOFF_CURRENCY,
        quantity=quantity,
        price_type=seto_pb2.PRICE_PERCENT_ODDS,
        price=price,
        **extra,  # type: ignore[arg-type]
    )
    msg.market.low = market
    msg.contract.low = contract
    return msg


def kinds(outputs: list) -> list[str]:
    return [seto_pb2.PayloadType.Name(p.type).removeprefix("PAYLOAD_") for _, p in outputs]


def mine(outputs: list, account: int, kind: int) -> list[seto_pb2.Payload]:
    return [p for to, p in outputs if to == ToAccount(account) and p.type == kind]


# --- maq and immediate-or-cancel -----------------------------------------------------------------


def test_maq_not_met_cancels_the_whole_order_without_trading() -> None:
    ex = make()
    ex.place_order(BOB, order(side=SELL, quantity=3000), 1)
    out = ex.place_order(ALICE, order(quantity=10_000, maq=5000), 1)
    assert kinds(out) == ["ORDER_ACCEPTED", "ORDER_CANCELLED"]
    (cancelled,) = mine(out, ALICE, seto_pb2.PAYLOAD_ORDER_CANCELLED)
    assert cancelled.order_cancelled.reason == seto_pb2.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY
    assert cancelled.order_cancelled.quantity == 10_000
    assert ex.balance(ALICE) == (BALANCE, 0, BALANCE, 0)
    assert ex.balance(BOB)[1] > 0  # Bob's offer untouched
    ex.check_invariants()


def test_maq_met_matches_and_the_rest_rests_or_is_cancelled() -> None:
    ex = make()
    ex.place_order(BOB, order(side=SELL, quantity=6000), 1)
    out = ex.place_order(ALICE, order(quantity=10_000, maq=5000), 1)
    assert kinds(out)[:3] == ["ORDER_ACCEPTED", "ORDER_EXECUTED", "ORDER_EXECUTED"]
    assert not mine(out, ALICE, seto_pb2.PAYLOAD_ORDER_CANCELLED)  # 4000 rests (GTC)
    ex.place_order(BOB, order(side=SELL, quantity=6000, price=5000), 2)
    out = ex.place_order(ALICE, order(contract=AWAY, quantity=10_000, maq=1000, tif=IOC), 3)
    # nothing to match on AWAY: maq not met, all cancelled
    (cancelled,) = mine(out, ALICE, seto_pb2.PAYLOAD_ORDER_CANCELLED)
    assert cancelled.order_cancelled.quantity == 10_000
    ex.check_invariants()


def test_ioc_remainder_is_cancelled_insufficient_liquidity() -> None:
    ex = make()
    ex.place_order(BOB, order(side=SELL, quantity=3000), 1)
    out = ex.place_order(ALICE, order(quantity=10_000, tif=IOC), 1)
    (cancelled,) = mine(out, ALICE, seto_pb2.PAYLOAD_ORDER_CANCELLED)
    msg = cancelled.order_cancelled
    assert (msg.reason, msg.quantity) == (seto_pb2.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY, 7000)
    assert not msg.HasField("seq")


# --- order ids -----------------------------------------------------------------------------------


def test_default_order_ids_are_unguessable_unique_and_never_zero() -> None:
    ex = Exchange()
    ex.add_account("alice", BALANCE)
    ex.add_market(MARKET, "m", 1, "e", [(HOME, "h")])
    ids = []
    for seq in range(1, 51):
        out = ex.place_order(1, order(quantity=1000, price=100), seq)
        ids.append(out[0][1].order_accepted.order.low)
    assert len(set(ids)) == 50 and 0 not in ids
    assert all(i < 1 << 64 for i in ids)
    # not small, not consecutive
    assert sum(1 for a, b in itertools.pairwise(ids) if abs(a - b) < 1000) == 0
    assert min(ids) > 1 << 32
    # another exchange has other ids
    other = Exchange()
    other.add_account("alice", BALANCE)
    other.add_market(MARKET, "m", 1, "e", [(HOME, "h")])
    first = other.place_order(1, order(quantity=1000, price=100), 1)[0][1]
    assert first.order_accepted.order.low != ids[0]


def test_order_ids_from_a_key_are_reproducible_and_a_permutation() -> None:
    a, b = OrderIds(b"key"), OrderIds(b"key")
    seq_a = [a.next() for _ in range(1000)]
    assert seq_a == [b.next() for _ in range(1000)]
    assert len(set(seq_a)) == 1000
    assert seq_a != [OrderIds(b"other").next() for _ in range(1000)]


# --- order_cancel refusals -----------------------------------------------------------------------


def _cancel_reason(ex: Exchange, account: int, order_id: int) -> int:
    (_, payload), *_ = ex.cancel_order(account, order_id, 99)
    assert payload.type == seto_pb2.PAYLOAD_ORDER_CANCEL_REJECTED
    assert payload.order_cancel_rejected.seq == 99
    assert payload.order_cancel_rejected.order.low == order_id
    return payload.order_cancel_rejected.reason


def test_cancel_of_another_accounts_order_is_not_found_live_or_not() -> None:
    ex = make()
    ex.place_order(BOB, order(side=SELL), 1)  # order 1: Bob's, live
    ex.place_order(BOB, order(contract=AWAY, quantity=1000, tif=IOC), 2)  # 2: Bob's, finished
    for order_id in (1, 2, 3, 12345):
        assert _cancel_reason(ex, ALICE, order_id) == seto_pb2.ORDER_CANCEL_REJECTED_NOT_FOUND
    assert _cancel_reason(ex, BOB, 2) == seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE


def test_not_live_for_filled_and_cancelled_own_orders() -> None:
    ex = make()
    ex.place_order(BOB, order(side=SELL), 1)  # 1
    ex.place_order(ALICE, order(), 1)  # 2: fills 1 and itself
    ex.place_order(ALICE, order(price=100), 2)  # 3: rests
    out = ex.cancel_order(ALICE, 3, 3)
    msg = out[0][1].order_cancelled
    assert (msg.reason, msg.quantity, msg.seq) == (
        seto_pb2.ORDER_CANCELLED_MEMBER_REQUESTED,
        10_000,
        3,
    )
    assert _cancel_reason(ex, BOB, 1) == seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE
    assert _cancel_reason(ex, ALICE, 2) == seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE
    assert _cancel_reason(ex, ALICE, 3) == seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE


def test_the_memory_of_finished_orders_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts_module, "FINISHED_ORDERS_REMEMBERED", 3)
    ex = make()
    for seq in range(1, 6):  # orders 1..5, each cancelled at once (IOC, nothing to match)
        ex.place_order(ALICE, order(tif=IOC), seq)
    assert _cancel_reason(ex, ALICE, 5) == seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE
    assert _cancel_reason(ex, ALICE, 3) == seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE
    assert _cancel_reason(ex, ALICE, 2) == seto_pb2.ORDER_CANCEL_REJECTED_NOT_FOUND
    assert len(ex.ledger.accounts[ALICE].finished) == 3


# --- fills ---------------------------------------------------------------------------------------


def test_order_executed_carries_the_published_fields_and_an_account_sequence() -> None:
    ex = make()
    ex.place_order(BOB, order(side=SELL, quantity=2000, price=4000), 1)
    ex.place_order(BOB, order(side=SELL, quantity=2000, price=4500), 2)
    out = ex.place_order(ALICE, order(quantity=4000, price=5000, reference="r"), 1)
    alice = [p.order_executed for p in mine(out, ALICE, seto_pb2.PAYLOAD_ORDER_EXECUTED)]
    bob = [p.order_executed for p in mine(out, BOB, seto_pb2.PAYLOAD_ORDER_EXECUTED)]
    assert [(e.price, e.quantity, e.account_sequence) for e in alice] == [
        (4000, 2000, 1),
        (4500, 2000, 2),
    ]
    assert [e.account_sequence for e in bob] == [1, 2]
    first = alice[0]
    assert first.quantity_type == seto_pb2.QUANTITY_PAYOFF_CURRENCY
    assert (first.side, first.market.low, first.contract.low) == (BUY, MARKET, HOME)
    assert (first.remaining, first.reference) == (2000, "r")
    # The counter is the account's, across orders.
    ex.place_order(BOB, order(side=SELL, quantity=1000, price=5000), 3)
    out = ex.place_order(ALICE, order(quantity=1000, price=5000), 2)
    (again,) = mine(out, ALICE, seto_pb2.PAYLOAD_ORDER_EXECUTED)
    assert again.order_executed.account_sequence == 3


def test_account_sequence_wraps_to_one_after_the_uint32_maximum() -> None:
    ex = make()
    ex.ledger.accounts[ALICE].fills = (1 << 32) - 2
    ex.place_order(BOB, order(side=SELL, quantity=2000), 1)
    out = ex.place_order(ALICE, order(quantity=1000), 1)
    out += ex.place_order(ALICE, order(quantity=1000), 2)
    seqs = [p.order_executed.account_sequence for p in mine(out, ALICE, 6)]
    assert seqs == [(1 << 32) - 1, 1]


# --- halts, settlement, suspension, downtime -----------------------------------------------------


def test_halt_cancels_resting_orders_and_refuses_new_ones_until_reopened() -> None:
    ex = make()
    ex.place_order(ALICE, order(price=4000), 1)
    ex.place_order(BOB, order(side=SELL, price=6000), 1)
    ex.place_order(BOB, order(market=OTHER, contract=YES, side=SELL), 2)
    out = ex.halt(MARKET)
    cancelled = [(to, p.order_cancelled) for to, p in out if p.type == 8]
    assert [(to, c.order.low, c.reason) for to, c in cancelled] == [
        (ToAccount(ALICE), 1, seto_pb2.ORDER_CANCELLED_MARKET_HALTED),
        (ToAccount(BOB), 2, seto_pb2.ORDER_CANCELLED_MARKET_HALTED),
    ]
    assert ex.balance(ALICE) == (BALANCE, 0, BALANCE, 0)
    assert ex.balance(BOB)[1] == 5000  # the other market's order stays
    assert out[-1] == (ToMarket(MARKET), out[-1][1])
    assert out[-1][1].type == seto_pb2.PAYLOAD_MARKET_STATE
    refused = ex.place_order(ALICE, order(), 2)[0][1].order_rejected
    assert refused.reason == seto_pb2.ORDER_REJECTED_MARKET_HALTED
    ex.reopen(MARKET)
    assert ex.place_order(ALICE, order(), 3)[0][1].type == seto_pb2.PAYLOAD_ORDER_ACCEPTED


def test_settle_cancels_market_settled_then_rejects_and_sends_account_states() -> None:
    ex = make()
    ex.place_order(BOB, order(side=SELL, quantity=5000), 1)
    ex.place_order(ALICE, order(quantity=2000), 1)  # trades 2000
    out = ex.settle(MARKET, HOME)
    (cancel,) = [p.order_cancelled for _, p in out if p.type == seto_pb2.PAYLOAD_ORDER_CANCELLED]
    assert cancel.reason == seto_pb2.ORDER_CANCELLED_MARKET_SETTLED
    states = [(to, p.account_state) for to, p in out if p.type == seto_pb2.PAYLOAD_ACCOUNT_STATE]
    assert [to for to, _ in states] == [ToAccount(ALICE), ToAccount(BOB)]
    assert all(not s.HasField("seq") for _, s in states)
    assert states[0][1].cash.value == BALANCE - 1000 + 2000
    rejected = ex.place_order(ALICE, order(), 2)[0][1].order_rejected
    assert rejected.reason == seto_pb2.ORDER_REJECTED_MARKET_SETTLED


def test_suspended_account_is_rejected_but_may_cancel() -> None:
    ex = make()
    ex.place_order(ALICE, order(price=100), 1)
    ex.suspend("alice")
    rejected = ex.place_order(ALICE, order(), 2)[0][1].order_rejected
    assert rejected.reason == seto_pb2.ORDER_REJECTED_ACCOUNT_SUSPENDED
    assert ex.place_order(BOB, order(side=SELL, price=9000), 1)[0][1].type == 5
    assert ex.cancel_order(ALICE, 1, 3)[0][1].type == seto_pb2.PAYLOAD_ORDER_CANCELLED
    ex.unsuspend("alice")
    assert ex.place_order(ALICE, order(), 4)[0][1].type == seto_pb2.PAYLOAD_ORDER_ACCEPTED
    with pytest.raises(KeyError):
        ex.suspend("nobody")


def test_orders_down_rejects_service_temporarily_unavailable() -> None:
    ex = make()
    ex.orders_down = True
    rejected = ex.place_order(ALICE, order(), 1)[0][1].order_rejected
    assert rejected.reason == seto_pb2.ORDER_REJECTED_SERVICE_TEMPORARILY_UNAVAILABLE
    ex.orders_down = False
    assert ex.place_order(ALICE, order(), 2)[0][1].type == seto_pb2.PAYLOAD_ORDER_ACCEPTED


def test_limit_exceeded_for_open_orders() -> None:
    ex = make(max_open_orders=1)
    ex.place_order(ALICE, order(price=100), 1)
    rejected = ex.place_order(ALICE, order(price=200), 2)[0][1].order_rejected
    assert rejected.reason == seto_pb2.ORDER_REJECTED_LIMIT_EXCEEDED


# --- open orders ---------------------------------------------------------------------------------


def test_orders_for_account_and_market_group_and_sort() -> None:
    ex = make()
    ex.place_order(ALICE, order(price=3000), 1)  # 1
    ex.place_order(ALICE, order(price=4000), 2)  # 2
    ex.place_order(ALICE, order(price=4000, quantity=2000), 3)  # 3
    ex.place_order(ALICE, order(side=SELL, price=7000), 4)  # 4
    ex.place_order(ALICE, order(side=SELL, price=6000), 5)  # 5
    ex.place_order(ALICE, order(market=OTHER, contract=YES, price=100), 6)  # 6
    ex.place_order(BOB, order(side=SELL, price=4000, quantity=1000), 1)  # 7: fills 1000 of 2
    account = ex.orders_for_account(ALICE)
    assert account.type == seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT
    markets = account.orders_for_account.markets
    assert [m.market.low for m in markets] == [MARKET, OTHER]
    (contract,) = markets[0].contracts
    assert [(lvl.price, [o.order.low for o in lvl.orders]) for lvl in contract.bids] == [
        (4000, [2, 3]),
        (3000, [1]),
    ]
    assert [(lvl.price, [o.order.low for o in lvl.orders]) for lvl in contract.offers] == [
        (6000, [5]),
        (7000, [4]),
    ]
    partial = contract.bids[0].orders[0]
    assert partial.status == seto_pb2.ORDER_STATUS_PARTIALLY_FILLED
    assert (partial.quantity, partial.quantity_filled, partial.remaining) == (10_000, 1000, 9000)
    assert contract.bids[1].orders[0].status == seto_pb2.ORDER_STATUS_LIVE
    one = ex.orders_for_market(ALICE, OTHER)
    assert one.type == seto_pb2.PAYLOAD_ORDERS_FOR_MARKET
    assert one.orders_for_market.price_type == seto_pb2.PRICE_PERCENT_ODDS
    assert [c.bids[0].orders[0].order.low for c in one.orders_for_market.contracts] == [6]
    empty = ex.orders_for_market(BOB, 99).orders_for_market
    assert (empty.market.low, list(empty.contracts)) == (99, [])
    for payload in (account, one):
        payload.eto_payload.seq = 1
        payload.SerializeToString()  # every required field is set
