"""Tests of one contract's order book: levels, priority, fills, cancels and change tracking."""

from __future__ import annotations

import pytest

from smarkets.proto import seto_pb2
from smarkets.sandbox.exchange.book import BUY, SELL, Book, Order, Trade

GTC = seto_pb2.GOOD_TIL_CANCELLED
_next_id = iter(range(1, 1_000_000))


def order(side: int, price: int, quantity: int, account: int = 1) -> Order:
    return Order(
        id=next(_next_id),
        account_id=account,
        market_id=10,
        contract_id=11,
        side=side,
        price=price,
        quantity=quantity,
        time_in_force=GTC,
        reference=None,
        seq=1,
        remaining=quantity,
    )


def test_empty_book() -> None:
    book = Book()
    assert book.best_bid() is None
    assert book.best_offer() is None
    assert book.depth() == ([], [])
    assert book.take_changes() is None
    assert book.match_plan(BUY, 9999, 1000) == []
    assert book.volume == 0


def test_depth_is_best_first_and_levels_aggregate() -> None:
    book = Book()
    for side, price, quantity in [
        (BUY, 4000, 1000),
        (BUY, 4500, 2000),
        (BUY, 4000, 3000),
        (SELL, 6000, 1000),
        (SELL, 5500, 1500),
        (SELL, 7000, 2500),
    ]:
        book.rest(order(side, price, quantity))
    assert book.depth() == (
        [(4500, 2000), (4000, 4000)],
        [(5500, 1500), (6000, 1000), (7000, 2500)],
    )
    assert book.best_bid() == 4500
    assert book.best_offer() == 5500
    assert book.problems() == []


def test_level_total_per_side_and_price() -> None:
    book = Book()
    assert book.level_total(BUY, 4000) == 0
    first, second = order(BUY, 4000, 1000), order(BUY, 4000, 3000)
    book.rest(first)
    book.rest(second)
    book.rest(order(SELL, 6000, 2000))
    assert book.level_total(BUY, 4000) == 4000
    assert book.level_total(SELL, 4000) == 0  # the other side's level at that price
    assert book.level_total(SELL, 6000) == 2000
    book.fill(first, 1000)
    assert book.level_total(BUY, 4000) == 3000
    book.remove(second)
    assert book.level_total(BUY, 4000) == 0


def test_match_plan_buy_takes_lowest_offers_first_then_time_priority() -> None:
    book = Book()
    first = order(SELL, 5000, 1000, account=2)
    cheaper = order(SELL, 4900, 1500, account=3)
    second = order(SELL, 5000, 2000, account=3)
    too_dear = order(SELL, 5100, 5000, account=2)
    for o in (first, cheaper, second, too_dear):
        book.rest(o)
    assert book.match_plan(BUY, 5000, 3000) == [(cheaper, 1500), (first, 1000), (second, 500)]
    assert book.match_plan(BUY, 5000, 10000) == [(cheaper, 1500), (first, 1000), (second, 2000)]
    assert book.match_plan(BUY, 4899, 10000) == []
    # Planning changes nothing.
    assert book.depth() == ([], [(4900, 1500), (5000, 3000), (5100, 5000)])
    assert book.take_changes() == ([], [(4900, 1500), (5000, 3000), (5100, 5000)], [])


def test_match_plan_sell_takes_highest_bids_first() -> None:
    book = Book()
    low = order(BUY, 4000, 1000)
    high = order(BUY, 4200, 1000)
    book.rest(low)
    book.rest(high)
    assert book.match_plan(SELL, 4000, 1500) == [(high, 1000), (low, 500)]
    assert book.match_plan(SELL, 4100, 1500) == [(high, 1000)]


def test_fill_updates_order_level_and_changes() -> None:
    book = Book()
    a = order(SELL, 5000, 1000)
    b = order(SELL, 5000, 2000)
    book.rest(a)
    book.rest(b)
    book.take_changes()
    book.fill(a, 400)
    assert (a.remaining, a.filled) == (600, 400)
    assert book.depth() == ([], [(5000, 2600)])
    book.fill(a, 600)
    book.fill(b, 500)
    book.record_trade(5000, 1500, BUY, 123)
    assert book.depth() == ([], [(5000, 1500)])
    assert book.take_changes() == ([], [(5000, 1500)], [Trade(5000, 1500, BUY, 123)])
    assert book.take_changes() is None
    book.fill(b, 1500)
    assert book.depth() == ([], [])
    assert book.take_changes() == ([], [(5000, 0)], [])
    assert book.volume == 1500
    assert book.problems() == []


def test_remove_from_the_middle_of_a_level() -> None:
    book = Book()
    a, b, c = order(BUY, 3000, 1000), order(BUY, 3000, 2000), order(BUY, 3000, 3000)
    for o in (a, b, c):
        book.rest(o)
    book.remove(b)
    assert book.match_plan(SELL, 3000, 10000) == [(a, 1000), (c, 3000)]
    assert book.depth() == ([(3000, 4000)], [])
    book.remove(a)
    book.remove(c)
    assert book.depth() == ([], [])
    assert book.problems() == []


def test_changes_report_levels_best_first_with_zero_for_gone() -> None:
    book = Book()
    bids = [order(BUY, p, 1000) for p in (3000, 3200, 3100)]
    offers = [order(SELL, p, 1000) for p in (6000, 5800, 5900)]
    for o in bids + offers:
        book.rest(o)
    book.take_changes()
    book.remove(bids[0])
    book.remove(bids[1])
    book.remove(offers[1])
    book.remove(offers[0])
    assert book.take_changes() == ([(3200, 0), (3000, 0)], [(5800, 0), (6000, 0)], [])


def test_crosses_own() -> None:
    book = Book()
    book.rest(order(SELL, 5000, 1000, account=1))
    book.rest(order(SELL, 5200, 1000, account=1))
    book.rest(order(BUY, 4000, 1000, account=1))
    book.rest(order(SELL, 4500, 1000, account=2))
    assert book.crosses_own(1, BUY, 5000)
    assert not book.crosses_own(1, BUY, 4999)
    assert book.crosses_own(1, SELL, 4000)
    assert not book.crosses_own(1, SELL, 4001)
    assert not book.crosses_own(2, SELL, 1)  # account 2 has no bids
    assert book.crosses_own(2, BUY, 4500)
    assert not book.crosses_own(3, BUY, 9999)


def test_crosses_own_forgets_filled_and_removed_orders() -> None:
    book = Book()
    a = order(SELL, 5000, 1000, account=1)
    b = order(SELL, 5000, 1000, account=1)
    book.rest(a)
    book.rest(b)
    book.fill(a, 1000)
    assert book.crosses_own(1, BUY, 5000)
    book.remove(b)
    assert not book.crosses_own(1, BUY, 5000)
    assert book.problems() == []


def test_clear_returns_everything_and_marks_levels_gone() -> None:
    book = Book()
    bid1, bid2 = order(BUY, 3000, 1000), order(BUY, 3100, 1000)
    offer1, offer2 = order(SELL, 6000, 1000), order(SELL, 5900, 1000)
    for o in (bid1, bid2, offer1, offer2):
        book.rest(o)
    book.take_changes()
    assert book.clear() == [bid2, bid1, offer2, offer1]
    assert book.depth() == ([], [])
    assert book.take_changes() == ([(3100, 0), (3000, 0)], [(5900, 0), (6000, 0)], [])
    assert not book.crosses_own(1, BUY, 9999)
    assert book.problems() == []


def test_recent_trades_keep_the_last_ten() -> None:
    book = Book()
    for i in range(12):
        book.record_trade(5000 + i, 1000, SELL, i)
    assert list(book.recent) == [Trade(5000 + i, 1000, SELL, i) for i in range(2, 12)]
    assert book.volume == 12000


def test_problems_reports_a_crossed_book() -> None:
    book = Book()
    book.rest(order(BUY, 5000, 1000))
    book.rest(order(SELL, 5000, 1000, account=2))
    assert book.problems() == ["book crossed: best bid 5000 >= best offer 5000"]


def test_fill_out_of_priority_is_caught() -> None:
    book = Book()
    a, b = order(SELL, 5000, 1000), order(SELL, 5000, 1000)
    book.rest(a)
    book.rest(b)
    with pytest.raises(AssertionError, match="match plan"):
        book.fill(b, 1000)
