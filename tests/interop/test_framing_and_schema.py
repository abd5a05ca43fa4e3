"""The foreign client's own parts, without a server: framing, the TSV-built classes, the check."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import FieldDescriptor

from .foreign_client import FrameDecoder, FramingError, encode_frame, kind_of, uleb128
from .published_schema import (
    WIRE_DIR,
    UnpublishedContent,
    check_published,
    eto,
    parse_published,
    read_rows,
    seto,
)

# -- framing: PROTOCOL.md section 2 -----------------------------------------------------------

VECTORS = [
    (b"", bytes.fromhex("00000000")),
    (bytes.fromhex("0801"), bytes.fromhex("02080100")),
    (bytes.fromhex("0a0b0c"), bytes.fromhex("030a0b0c")),
    (b"\xab" * 200, bytes.fromhex("c801") + b"\xab" * 200),
    (bytes(range(256)) + bytes(44), bytes.fromhex("ac02") + bytes(range(256)) + bytes(44)),
]


@pytest.mark.parametrize(("payload", "frame"), VECTORS)
def test_encode_matches_the_vectors(payload: bytes, frame: bytes) -> None:
    assert encode_frame(payload) == frame


@pytest.mark.parametrize(("payload", "frame"), VECTORS)
def test_decode_matches_the_vectors_split_anywhere(payload: bytes, frame: bytes) -> None:
    assert FrameDecoder().feed(frame) == [payload]
    for cut in range(len(frame) + 1):
        decoder = FrameDecoder()
        assert decoder.feed(frame[:cut]) + decoder.feed(frame[cut:]) == [payload]
    decoder = FrameDecoder()
    one_by_one = [p for i in range(len(frame)) for p in decoder.feed(frame[i : i + 1])]
    assert one_by_one == [payload]


def test_decode_a_stream_of_frames_in_order() -> None:
    payloads = [p for p, _ in VECTORS] * 3
    stream = b"".join(encode_frame(p) for p in payloads)
    for size in (1, 2, 3, 5, 7, 64, len(stream)):
        decoder = FrameDecoder()
        out = [p for i in range(0, len(stream), size) for p in decoder.feed(stream[i : i + size])]
        assert out == payloads


def test_uleb128() -> None:
    assert uleb128(0) == b"\x00"
    assert uleb128(127) == b"\x7f"
    assert uleb128(128) == b"\x80\x01"
    assert uleb128(300) == b"\xac\x02"


def test_a_header_longer_than_10_bytes_is_an_error_at_once() -> None:
    decoder = FrameDecoder(max_payload_size=1 << 80)  # so that only the length counts
    with pytest.raises(FramingError, match="longer than 10"):
        decoder.feed(b"\x80" * 10)
    with pytest.raises(FramingError):
        decoder.feed(b"\x00")  # unusable afterwards


def test_a_declared_length_above_the_maximum_is_an_error_before_the_payload() -> None:
    decoder = FrameDecoder()
    with pytest.raises(FramingError, match="above"):
        decoder.feed(uleb128((1 << 20) + 1))
    assert FrameDecoder().feed(encode_frame(b"x" * 100)) == [b"x" * 100]
    with pytest.raises(FramingError):
        FrameDecoder(max_payload_size=99).feed(encode_frame(b"x" * 100)[:2])


# -- the classes built from the wire tables ---------------------------------------------------

_TYPES = {
    "uint64": FieldDescriptor.TYPE_UINT64,
    "uint32": FieldDescriptor.TYPE_UINT32,
    "bool": FieldDescriptor.TYPE_BOOL,
    "string": FieldDescriptor.TYPE_STRING,
    "bytes": FieldDescriptor.TYPE_BYTES,
    "sint64": FieldDescriptor.TYPE_SINT64,
}


def _label(field: FieldDescriptor) -> str:
    if field.is_required:
        return "required"
    return "repeated" if field.is_repeated else "optional"


def test_the_wire_tables_are_where_ci_puts_them() -> None:
    assert (WIRE_DIR / "eto-0.3.0.tsv").is_file()
    assert (WIRE_DIR / "seto-0.6.4.tsv").is_file()


def test_every_row_is_in_the_built_descriptors() -> None:
    modules = {"eto": eto, "seto": seto}
    rows = read_rows()
    assert len(rows) > 250
    for row in rows:
        module = modules[row.module]
        if row.kind == "enum":
            value = module.enums[row.name].values_by_name[row.member]
            assert value.number == row.code, row
            continue
        field = module.messages[row.name].DESCRIPTOR.fields_by_name[row.member]
        assert field.number == row.code, row
        assert _label(field) == row.label, row
        if row.type in _TYPES:
            assert field.type == _TYPES[row.type], row
        else:
            target = field.message_type or field.enum_type
            expected = row.type if "." in row.type else f"{row.module}.{row.type}"
            assert target.full_name == f"smarkets.{expected}", row
        assert field.has_default_value == bool(row.default), row
        if row.default:
            if field.enum_type is not None:
                assert field.enum_type.values_by_number[field.default_value].name == row.default
            else:
                assert str(field.default_value).lower() == row.default, row
    # Nothing more than the rows: each field and value is one row.
    classes = [m for mod in modules.values() for m in mod.messages.values()]
    fields = sum(len(m.DESCRIPTOR.fields) for m in classes)
    values = sum(len(e.values) for mod in modules.values() for e in mod.enums.values())
    assert fields + values == len(rows)


def test_messages_named_only_as_a_type_are_empty() -> None:
    assert seto.orders_for_account_request.DESCRIPTOR.fields == []
    payload = seto.Payload(type=seto.PAYLOAD_ORDERS_FOR_ACCOUNT_REQUEST)
    payload.eto_payload.seq = 3
    payload.orders_for_account_request.SetInParent()
    data = payload.SerializeToString()
    assert seto.Payload.FromString(data).HasField("orders_for_account_request")


def test_defaults() -> None:
    assert seto.Uuid128(low=5).high == 0
    assert seto.Decimal(value=1).exponent == 2
    assert eto.Payload(seq=1).is_replay is False
    assert seto.OrderState().quantity_filled == 0


def _order_create_payload() -> object:
    payload = seto.Payload(type=seto.PAYLOAD_ORDER_CREATE)
    payload.eto_payload.seq = 7
    payload.eto_payload.type = eto.PAYLOAD_NONE
    order = payload.order_create
    order.type = seto.ORDER_CREATE_LIMIT
    order.market.low = 1
    order.contract.low = 2
    order.side = seto.SIDE_SELL
    order.quantity_type = seto.QUANTITY_PAYOFF_CURRENCY
    order.quantity = 400_000
    order.price_type = seto.PRICE_PERCENT_ODDS
    order.price = 2500
    order.tif = seto.IMMEDIATE_OR_CANCEL
    return payload


def test_round_trip() -> None:
    samples = [_order_create_payload()]
    login = seto.Payload(type=seto.PAYLOAD_LOGIN)
    login.eto_payload.seq = 1
    login.eto_payload.type = eto.PAYLOAD_LOGIN
    login.login.username, login.login.password = "alice", "alice-pw"
    samples.append(login)
    alert = seto.Payload(type=seto.PAYLOAD_ETO)
    alert.eto_payload.seq = 9
    alert.eto_payload.type = eto.PAYLOAD_DOWNTIME_ALERT
    alert.eto_payload.downtime_alert.type = eto.DOWNTIME_ALERT_CONNECTION
    alert.eto_payload.downtime_alert.datetime.date.year = 2026
    alert.eto_payload.downtime_alert.datetime.date.month = 12
    alert.eto_payload.downtime_alert.datetime.date.day = 2
    alert.eto_payload.downtime_alert.datetime.time.hour = 13
    alert.eto_payload.downtime_alert.datetime.time.minute = 30
    alert.eto_payload.downtime_alert.description = "upgrade"
    samples.append(alert)
    quotes = seto.Payload(type=seto.PAYLOAD_CONTRACT_QUOTES)
    quotes.eto_payload.seq = 10
    quotes.contract_quotes.contract.low = 1
    quotes.contract_quotes.bids.add(price=3500, quantity=0)
    quotes.contract_quotes.executions.add(
        price=3500, quantity=20000, liquidity=seto.SIDE_BUY, microseconds=1
    )
    samples.append(quotes)
    for payload in samples:
        data = payload.SerializeToString()
        again = parse_published(data)
        assert again == payload
        assert again.SerializeToString() == data
    assert kind_of(samples[0]) == "order_create"
    assert kind_of(samples[2]) == "eto.downtime_alert"


# -- the no-extension check -------------------------------------------------------------------


def _varint(value: int) -> bytes:
    return uleb128(value)


def _field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _payload_bytes(seto_type: int, eto_type: int, *extra: bytes) -> bytes:
    eto_bytes = _field(1, 5) + _field(2, eto_type)
    return _field(1, seto_type) + _field(2, eto_bytes) + b"".join(extra)


def test_the_check_passes_published_payloads() -> None:
    data = _order_create_payload().SerializeToString()
    assert parse_published(data).order_create.price == 2500
    check_published(seto.Payload.FromString(_payload_bytes(1, 2)))  # a PING


def test_the_check_finds_a_field_numbered_100() -> None:
    # seto.Login {username = "alice"; 100: 1}: an extension field in the login.
    login = _field(1, b"alice") + _field(100, 1)
    data = _payload_bytes(2, 7, _field(3, login))
    with pytest.raises(UnpublishedContent, match="unknown field 100"):
        parse_published(data)


def test_the_check_finds_a_field_numbered_100_deep_down() -> None:
    # order_accepted.order (a Uuid128) carrying field 100.
    uuid = _field(1, 42) + _field(100, b"x")
    accepted = _field(1, 3) + _field(2, uuid)
    with pytest.raises(UnpublishedContent, match=r"order_accepted\.order: unknown field 100"):
        parse_published(_payload_bytes(5, 1, _field(6, accepted)))


def test_the_check_finds_a_seto_payload_kind_100() -> None:
    data = _payload_bytes(100, 1, _field(100, b""))
    with pytest.raises(UnpublishedContent, match="unknown field"):
        parse_published(data)


def test_the_check_finds_an_enum_value_100() -> None:
    # order_cancelled {order, reason = 100}: an extension cancel reason.
    cancelled = _field(1, _field(1, 1)) + _field(2, 100)
    data = _payload_bytes(8, 1, _field(9, cancelled))
    with pytest.raises(UnpublishedContent, match=r"order_cancelled: unknown field 2"):
        parse_published(data)
    # eto.Payload.type = 100 (an extension session kind), an optional field.
    with pytest.raises(UnpublishedContent, match=r"eto_payload: unknown field 2"):
        parse_published(_payload_bytes(1, 100))
    # eto.Logout.reason = 100 (an extension logout reason).
    logout = _field(1, 5) + _field(2, 9) + _field(7, _field(1, 100))
    with pytest.raises(UnpublishedContent, match=r"eto_payload\.logout: unknown field 1"):
        parse_published(_field(1, 1) + _field(2, logout))


def test_the_check_finds_a_missing_required_field() -> None:
    accepted = _field(1, 3)  # no order
    with pytest.raises(UnpublishedContent, match="required"):
        parse_published(_payload_bytes(5, 1, _field(6, accepted)))
