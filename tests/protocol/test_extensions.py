"""What a session without extensions is sent (smarkets.protocol.extensions, PROTOCOL.md 3.2)."""

from __future__ import annotations

import pytest
from google.protobuf.unknown_fields import UnknownFieldSet

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol.extensions import (
    EXTENSIONS_VERSION,
    is_extension_kind,
    logout_reason_for,
    published_view,
)


def _executed() -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_EXECUTED)
    payload.eto_payload.seq = 7
    executed = payload.order_executed
    executed.order.low = 0xABC
    executed.price = 2500
    executed.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    executed.quantity = 10_000
    executed.account_sequence = 3
    executed.side = seto_pb2.SIDE_BUY
    executed.market.low = 1
    executed.contract.low = 2
    executed.remaining = 5_000
    executed.reference = "mine"
    return payload


def _published_fields_only(message) -> bool:
    """Parsed by a schema without the extension fields: nothing would be unknown."""
    return all(
        f.number < 100
        and (
            f.type != f.TYPE_MESSAGE
            or all(_published_fields_only(m) for m in (v if f.is_repeated else [v]))
        )
        for f, v in message.ListFields()
    )


def test_extension_fields_are_left_out_and_the_payload_is_not_changed() -> None:
    payload = _executed()
    original = payload.SerializeToString()
    view = published_view(payload)
    assert view is not None and view is not payload
    assert payload.SerializeToString() == original
    executed = view.order_executed
    assert (executed.order.low, executed.price, executed.quantity) == (0xABC, 2500, 10_000)
    assert executed.account_sequence == 3
    for name in ("side", "market", "contract", "remaining", "reference"):
        assert not executed.HasField(name), name
    assert _published_fields_only(view)
    assert not UnknownFieldSet(view)
    assert view.IsInitialized()


def test_a_payload_without_extensions_is_sent_as_it_is() -> None:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_ACCEPTED)
    payload.eto_payload.seq = 3
    payload.order_accepted.seq = 2
    payload.order_accepted.order.low = 9
    assert published_view(payload) is payload


@pytest.mark.parametrize(
    "kind",
    [
        seto_pb2.PAYLOAD_MARKET_STATE,
        seto_pb2.PAYLOAD_MARKETS,
        seto_pb2.PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED,
    ],
)
def test_extension_kinds_are_not_sent(kind: int) -> None:
    payload = seto_pb2.Payload(type=kind)
    assert is_extension_kind(payload)
    assert published_view(payload) is None


def test_an_extension_eto_kind_is_not_sent() -> None:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ETO)
    payload.eto_payload.type = eto_pb2.PAYLOAD_THROTTLE_EXCEEDED
    assert published_view(payload) is None
    payload.eto_payload.type = eto_pb2.PAYLOAD_DOWNTIME_ALERT
    assert published_view(payload) is payload


def test_a_settlement_cancel_is_told_as_a_halt() -> None:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CANCELLED)
    cancelled = payload.order_cancelled
    cancelled.order.low = 5
    cancelled.reason = seto_pb2.ORDER_CANCELLED_MARKET_SETTLED
    cancelled.quantity = 1000
    view = published_view(payload)
    assert view.order_cancelled.reason == seto_pb2.ORDER_CANCELLED_MARKET_HALTED
    assert not view.order_cancelled.HasField("quantity")
    assert payload.order_cancelled.reason == seto_pb2.ORDER_CANCELLED_MARKET_SETTLED


def test_extension_reasons_leave_a_repeated_list() -> None:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_INVALID)
    invalid = payload.order_invalid
    invalid.seq = 4
    invalid.reasons.extend(
        [
            seto_pb2.ORDER_INVALID_INVALID_PRICE,
            seto_pb2.ORDER_INVALID_INVALID_REFERENCE,
            seto_pb2.ORDER_INVALID_INVALID_QUANTITY,
        ]
    )
    view = published_view(payload)
    assert list(view.order_invalid.reasons) == [
        seto_pb2.ORDER_INVALID_INVALID_PRICE,
        seto_pb2.ORDER_INVALID_INVALID_QUANTITY,
    ]


def test_extensions_inside_repeated_messages_are_left_out() -> None:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT)
    market = payload.orders_for_account.markets.add()
    market.market.low = 1
    market.price_type = seto_pb2.PRICE_PERCENT_ODDS
    level = market.contracts.add(contract=seto_pb2.Uuid128(low=2)).bids.add(price=2500)
    state = level.orders.add()
    state.order.low = 3
    state.type = seto_pb2.ORDER_CREATE_LIMIT
    state.status = seto_pb2.ORDER_STATUS_LIVE
    state.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    state.quantity = 1000
    state.created_microseconds = 1
    state.remaining = 1000
    state.reference = "r"
    view = published_view(payload)
    (viewed,) = view.orders_for_account.markets[0].contracts[0].bids[0].orders
    assert not viewed.HasField("remaining") and not viewed.HasField("reference")
    assert viewed.quantity == 1000
    assert _published_fields_only(view)


@pytest.mark.parametrize(
    ("reason", "extensions", "sent"),
    [
        (eto_pb2.LOGOUT_INVALID_PAYLOAD, 0, eto_pb2.LOGOUT_NONE),
        (eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD, 0, eto_pb2.LOGOUT_NONE),
        (eto_pb2.LOGOUT_INVALID_PAYLOAD, EXTENSIONS_VERSION, eto_pb2.LOGOUT_INVALID_PAYLOAD),
        (eto_pb2.LOGOUT_DOWNTIME, 0, eto_pb2.LOGOUT_DOWNTIME),
    ],
)
def test_logout_reasons(reason: int, extensions: int, sent: int) -> None:
    assert logout_reason_for(reason, extensions) == sent
