"""Unit tests of Order: validation, conversion, encoding, and state from replies."""

from __future__ import annotations

import pytest

import smarkets
from smarkets.orders import Order
from smarkets.proto import seto_pb2


def valid_order(**changes) -> Order:
    order = Order()
    order.quantity = 400000
    order.price = 2500
    order.side = Order.BUY
    order.market = "fc024"
    order.contract = "1cccc"
    for name, value in changes.items():
        setattr(order, name, value)
    return order


def test_constants_are_the_protocol_values() -> None:
    assert Order.BUY == seto_pb2.SIDE_BUY
    assert Order.SELL == seto_pb2.SIDE_SELL
    assert Order.GOOD_TIL_CANCELLED == seto_pb2.GOOD_TIL_CANCELLED
    assert Order.IMMEDIATE_OR_CANCEL == seto_pb2.IMMEDIATE_OR_CANCEL
    assert Order().time_in_force == Order.GOOD_TIL_CANCELLED


def test_valid_order_encodes() -> None:
    order = valid_order(reference="mine")
    order.validate()
    message = order.to_message()
    assert (message.quantity, message.price, message.side) == (400000, 2500, Order.BUY)
    assert message.market == seto_pb2.Uuid128(low=0xF)
    assert message.contract == seto_pb2.Uuid128(low=1)
    assert message.reference == "mine"
    assert message.tif == Order.GOOD_TIL_CANCELLED
    assert not message.HasField("maq")


def test_the_published_order_create() -> None:
    order = valid_order(time_in_force=Order.IMMEDIATE_OR_CANCEL, maq=2000)
    message = order.to_message()
    assert message.IsInitialized()
    assert message.type == seto_pb2.ORDER_CREATE_LIMIT
    assert message.quantity_type == seto_pb2.QUANTITY_PAYOFF_CURRENCY
    assert message.price_type == seto_pb2.PRICE_PERCENT_ODDS
    assert (message.maq, message.tif) == (2000, seto_pb2.IMMEDIATE_OR_CANCEL)
    assert not message.HasField("reference")
    # Nothing in it is an extension: a server of 2013 parses it as it is.
    assert all(field.number < 100 for field, _ in message.ListFields())


def test_every_problem_is_listed() -> None:
    with pytest.raises(smarkets.InvalidOrderError) as caught:
        Order().validate()
    problems = caught.value.problems
    assert len(problems) == 5
    text = str(caught.value)
    for word in ("price", "quantity", "side", "market", "contract"):
        assert word in text
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"price": 0}, "price"),
        ({"price": 10000}, "price"),
        ({"price": 25.0}, "price"),
        ({"price": True}, "price"),
        ({"quantity": 999}, "quantity"),
        ({"quantity": 1000.0}, "quantity"),
        ({"quantity": 1 << 64}, "quantity"),
        ({"quantity": 4_294_967_296}, "uint32"),
        ({"maq": 0}, "maq"),
        ({"maq": 400001}, "must not exceed"),
        ({"maq": 1.5}, "maq"),
        ({"side": 3}, "side"),
        ({"side": None}, "side"),
        ({"time_in_force": 7}, "time_in_force"),
        ({"market": None}, "market"),
        ({"contract": None}, "contract"),
        ({"reference": "x" * 65}, "65 bytes"),
        ({"reference": "é" * 33}, "66 bytes"),
        ({"reference": 5}, "reference"),
    ],
)
def test_each_problem(changes: dict, word: str) -> None:
    order = valid_order(**changes)
    with pytest.raises(smarkets.InvalidOrderError, match=word) as caught:
        order.validate()
    assert len(caught.value.problems) == 1


def test_limits_are_inclusive() -> None:
    valid_order(price=1, quantity=1000, reference="x" * 64).validate()
    valid_order(price=9999, reference="é" * 32).validate()
    valid_order(quantity=4_294_967_295, maq=4_294_967_295).validate()


def test_ids_are_converted_and_checked() -> None:
    order = Order()
    order.contract = "1cccc"
    assert order.contract == seto_pb2.Uuid128(low=1)
    order.market = 0xF
    assert order.market == seto_pb2.Uuid128(low=0xF)
    uuid = seto_pb2.Uuid128(low=5)
    order.market = uuid
    uuid.low = 6
    assert order.market.low == 5  # a copy is kept
    with pytest.raises(smarkets.InvalidIdError, match="contract"):
        order.contract = "fc024"  # a market id
    with pytest.raises(TypeError):
        order.market = 1.5


def test_state_follows_replies() -> None:
    order = valid_order(quantity=5000)
    assert order.state is None and order.remaining == 5000
    order._queued()
    order._sent(7)
    assert (order.state, order.seq) == ("sent", 7)
    order._accepted(seto_pb2.OrderAccepted(seq=7, order=seto_pb2.Uuid128(low=0x42)))
    assert order.state == "accepted" and order.id.low == 0x42
    order._executed(seto_pb2.OrderExecuted(order=order.id, price=2500, quantity=2000))
    assert (order.state, order.filled, order.remaining) == ("accepted", 2000, 3000)
    order._executed(seto_pb2.OrderExecuted(order=order.id, price=2500, quantity=3000, remaining=0))
    assert (order.state, order.filled, order.remaining, order.done) == ("filled", 5000, 0, True)


def test_cancel_and_rejections() -> None:
    order = valid_order()
    order._accepted(seto_pb2.OrderAccepted(seq=1, order=seto_pb2.Uuid128(low=1)))
    order._executed(seto_pb2.OrderExecuted(order=order.id, price=2500, quantity=100000))
    order._cancelled(seto_pb2.OrderCancelled(order=order.id, reason=1))
    assert (order.state, order.remaining, order.done) == ("cancelled", 0, True)
    assert order.cancelled_quantity == 300000  # what was open: the published reply is silent
    told = valid_order()
    told._cancelled(seto_pb2.OrderCancelled(order=order.id, reason=1, quantity=1234))
    assert told.cancelled_quantity == 1234  # the extension field, when the server sends it
    rejected = valid_order()
    rejected._rejected(seto_pb2.OrderRejected(seq=1, reason=1))
    assert rejected.state == "rejected"
    invalid = valid_order()
    invalid._invalid(seto_pb2.OrderInvalid(seq=1))
    assert invalid.state == "invalid" and invalid.done


def test_repr() -> None:
    order = valid_order(reference="r1", time_in_force=Order.IMMEDIATE_OR_CANCEL)
    text = repr(order)
    for part in (
        "BUY",
        "quantity=400000",
        "price=2500",
        "fc024",
        "1cccc",
        "IMMEDIATE_OR_CANCEL",
        "r1",
    ):
        assert part in text
    assert "None" in repr(Order())


def test_constructor_arguments() -> None:
    calls = []
    order = Order(
        1000,
        1,
        Order.SELL,
        "fc024",
        "2cccc",
        Order.IMMEDIATE_OR_CANCEL,
        "ref",
        on_accepted=lambda o, m: calls.append(m),
    )
    order.validate()
    assert order.on_accepted is not None and order.reference == "ref"
