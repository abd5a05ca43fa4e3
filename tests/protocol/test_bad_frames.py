"""Why a batch of frames is refused (classify_bad_frames), the order limits both ends share,
and the unchecked id getter."""

from __future__ import annotations

import smarkets
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import orders as limits
from smarkets.protocol.ids import int_to_uuid128, uuid128_int
from smarkets.protocol.payloads import classify_bad_frames

Payload = seto_pb2.Payload


def good() -> bytes:
    payload = Payload(type=seto_pb2.PAYLOAD_ETO)
    payload.eto_payload.seq = 1
    payload.eto_payload.type = eto_pb2.PAYLOAD_HEARTBEAT
    return payload.SerializeToString()


def raw(seto_type: int, body: bytes = b"") -> bytes:
    """A seto payload of any type number: eto {seq 1, type NONE}, then ``body``."""
    eto = eto_pb2.Payload(seq=1, type=eto_pb2.PAYLOAD_NONE).SerializeToString()
    return bytes([0x08, seto_type, 0x12, len(eto)]) + eto + body


def test_undecodable_is_invalid() -> None:
    reason, why = classify_bad_frames([good(), b"\x0a\xff\xff\xff"])
    assert reason == eto_pb2.LOGOUT_INVALID_PAYLOAD
    assert why == "undecodable payload (4 bytes)"


def test_a_missing_required_field_is_invalid() -> None:
    lacking = Payload(type=seto_pb2.PAYLOAD_LOGIN).SerializePartialToString()
    reason, why = classify_bad_frames([lacking])
    assert reason == eto_pb2.LOGOUT_INVALID_PAYLOAD
    assert why == "payload lacks required fields: eto_payload"


def test_an_unknown_kind_is_unsupported() -> None:
    reason, why = classify_bad_frames([good(), raw(99)])
    assert reason == eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD
    assert why == "payload of unknown kind 99"


def test_an_unknown_enum_number_in_a_required_field_is_unsupported() -> None:
    create = seto_pb2.OrderCreate(type=seto_pb2.ORDER_CREATE_LIMIT, quantity=1000, price=10)
    create.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    create.market.low = create.contract.low = 1
    body = create.SerializePartialToString() + bytes([0x20, 0x09])  # side (field 4) = 9
    frame = raw(seto_pb2.PAYLOAD_ORDER_CREATE, bytes([0x22, len(body)]) + body)
    reason, why = classify_bad_frames([frame])
    assert reason == eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD
    assert why == "unknown enum value in order_create.side"


def test_a_batch_of_sound_payloads_is_invalid_all_the_same() -> None:
    assert classify_bad_frames([good()]) == (eto_pb2.LOGOUT_INVALID_PAYLOAD, "invalid payload")


def test_the_client_checks_the_shared_order_limits() -> None:
    order = smarkets.Order
    assert (order.MIN_PRICE, order.MAX_PRICE) == (limits.MIN_PRICE, limits.MAX_PRICE) == (1, 9999)
    assert order.MIN_QUANTITY == limits.MIN_QUANTITY == 1000
    assert order.MAX_QUANTITY == limits.MAX_QUANTITY == limits.MAX_UINT32 == (1 << 32) - 1
    assert order.MAX_REFERENCE_BYTES == limits.MAX_REFERENCE_BYTES == 64


def test_uuid128_int() -> None:
    for number in (0, 1, (1 << 64) - 1, 1 << 64, (7 << 64) | 10, (1 << 128) - 1):
        assert uuid128_int(int_to_uuid128(number)) == number
