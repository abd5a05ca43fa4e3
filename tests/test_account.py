"""smarkets.account: money from the published Decimal, exactly, and the open-order rows."""

from __future__ import annotations

import pytest

import smarkets
from smarkets.account import Account, decimal_to_units, open_orders
from smarkets.proto import seto_pb2


@pytest.mark.parametrize(
    ("value", "exponent", "units"),
    [
        (12345, 2, 1_234_500),  # 123.45
        (-1, 2, -100),
        (7, 0, 70_000),
        (2500, 4, 2500),
        (1_230_000, 6, 12_300),  # an exponent above 4, a whole number of units
        (0, 9, 0),
        (2**63 - 1, 4, 2**63 - 1),
    ],
)
def test_decimal_to_units_is_exact(value: int, exponent: int, units: int) -> None:
    assert decimal_to_units(seto_pb2.Decimal(value=value, exponent=exponent)) == units


@pytest.mark.parametrize(("value", "exponent"), [(1, 5), (123_456_789, 6), (-5, 9)])
def test_a_fraction_of_a_unit_is_an_error_not_a_rounding(value: int, exponent: int) -> None:
    with pytest.raises(smarkets.ProtocolError, match="not a whole number of 1/10,000"):
        decimal_to_units(seto_pb2.Decimal(value=value, exponent=exponent))


def test_the_published_account_state_has_no_staked_amount() -> None:
    state = seto_pb2.AccountState(
        account=seto_pb2.Uuid128(low=5, high=1),
        currency=seto_pb2.CURRENCY_EUR,
        cash=seto_pb2.Decimal(value=10_000),
        bonus=seto_pb2.Decimal(value=0),
        exposure=seto_pb2.Decimal(value=250),
    )
    account = Account.from_message(state)
    assert account.account == 5 | 1 << 64
    assert account.currency == "EUR"
    assert (account.cash, account.exposure, account.available) == (1_000_000, 25_000, 975_000)
    assert account.staked is None and account.seq is None


def test_open_orders_flatten_bids_as_buys_and_offers_as_sells() -> None:
    message = seto_pb2.orders_for_market(
        market=seto_pb2.Uuid128(low=1), price_type=seto_pb2.PRICE_PERCENT_ODDS
    )
    contract = message.contracts.add(contract=seto_pb2.Uuid128(low=2))
    for levels, price in ((contract.bids, 4000), (contract.offers, 6000)):
        state = levels.add(price=price).orders.add()
        state.order.low = price
        state.type = seto_pb2.ORDER_CREATE_LIMIT
        state.status = seto_pb2.ORDER_STATUS_PARTIALLY_FILLED
        state.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
        state.quantity = 10_000
        state.quantity_filled = 4_000
        state.created_microseconds = 1
    rows = open_orders(message)
    assert [(r.side, r.price, r.remaining) for r in rows] == [
        (seto_pb2.SIDE_BUY, 4000, 6_000),
        (seto_pb2.SIDE_SELL, 6000, 6_000),
    ]
