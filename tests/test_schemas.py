"""The project's extensions to the published wire (PROTOCOL.md section 3.2), pinned.

The published part of the schemas is checked row by row against ``../shared/wire/`` by
``test_wire_tables.py``. This module pins what the project adds: every extension kind, field
and enum value, numbered from 100, as the documentation lists them. Fields are written
``"<code> <mode> <type> <name>[ = <default>]"`` with types in the message's own package
written without it. Reordering or renumbering a .piqi file changes the wire silently; these
tables catch it.
"""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol.extensions import FIRST_EXTENSION_CODE

_TYPE_NAMES = {
    getattr(FieldDescriptor, name): name[len("TYPE_") :].lower()
    for name in dir(FieldDescriptor)
    if name.startswith("TYPE_")
}


def _field(f: FieldDescriptor, package: str) -> str:
    if f.message_type is not None:
        type_name = f.message_type.full_name
    elif f.enum_type is not None:
        type_name = f.enum_type.full_name
    else:
        type_name = _TYPE_NAMES[f.type]
    type_name = type_name.removeprefix(package + ".")
    mode = "required" if f.is_required else "repeated" if f.is_repeated else "optional"
    text = f"{f.number} {mode} {type_name} {f.name}"
    if f.has_default_value:
        default = f.default_value
        if f.enum_type is not None:
            default = f.enum_type.values_by_number[default].name
        elif isinstance(default, bool):
            default = str(default).lower()
        text += f" = {default}"
    return text


def _extension_fields(message: Descriptor) -> list[str]:
    package = message.file.package
    return [_field(f, package) for f in message.fields if f.number >= FIRST_EXTENSION_CODE]


# Extension fields of published messages.
EXTENSION_FIELDS = {
    eto_pb2.LoginResponse: ["100 optional uint32 extensions"],
    seto_pb2.Login: ["100 optional uint32 extensions"],
    seto_pb2.OrderCreate: ["100 optional string reference"],
    seto_pb2.OrderAccepted: ["100 optional string reference"],
    seto_pb2.OrderRejected: ["100 optional string reference"],
    seto_pb2.OrderInvalid: ["100 optional string reference"],
    seto_pb2.OrderCancelRejected: ["100 optional Uuid128 order"],
    seto_pb2.OrderExecuted: [
        "100 optional Side side",
        "101 optional Uuid128 market",
        "102 optional Uuid128 contract",
        "103 optional uint32 remaining",
        "104 optional string reference",
    ],
    seto_pb2.OrderCancelled: [
        "100 optional uint32 quantity",
        "101 optional uint64 seq",
        "102 optional string reference",
    ],
    seto_pb2.MarketQuotes: ["100 optional MarketStatus state", "101 optional uint64 seq"],
    seto_pb2.ContractQuotes: ["100 optional Uuid128 market", "101 optional uint64 volume"],
    seto_pb2.OrderState: ["100 optional uint32 remaining", "101 optional string reference"],
    seto_pb2.AccountState: [
        "100 optional Decimal available",
        "101 optional Decimal staked",
        "102 optional uint64 seq",
    ],
}

# Extension enum values of published enums.
EXTENSION_VALUES = {
    eto_pb2.PayloadType: {"PAYLOAD_THROTTLE_EXCEEDED": 100},
    eto_pb2.LogoutReason: {"LOGOUT_INVALID_PAYLOAD": 100, "LOGOUT_UNSUPPORTED_PAYLOAD": 101},
    seto_pb2.OrderCancelledReason: {"ORDER_CANCELLED_MARKET_SETTLED": 100},
    seto_pb2.OrderInvalidReason: {
        "ORDER_INVALID_INVALID_TIME_IN_FORCE": 100,
        "ORDER_INVALID_INVALID_REFERENCE": 101,
    },
}

# Extension payload kinds: the same number for the Payload field and the PayloadType value.
EXTENSION_KINDS = {
    "market_state": 100,
    "order_cancel_all": 101,
    "order_cancel_all_accepted": 102,
    "order_cancel_all_rejected": 103,
    "market_subscribe_rejected": 104,
    "markets_request": 105,
    "markets": 106,
}


@pytest.mark.parametrize("message", list(EXTENSION_FIELDS), ids=lambda m: m.DESCRIPTOR.full_name)
def test_extension_fields(message: type) -> None:
    assert _extension_fields(message.DESCRIPTOR) == EXTENSION_FIELDS[message]


def test_no_other_published_message_has_extension_fields() -> None:
    pinned = {m.DESCRIPTOR.full_name for m in EXTENSION_FIELDS}
    for module in (eto_pb2, seto_pb2):
        for message in module.DESCRIPTOR.message_types_by_name.values():
            if message.name != "Payload" and message.full_name not in pinned:
                assert not _extension_fields(message), message.full_name


@pytest.mark.parametrize("enum", list(EXTENSION_VALUES), ids=lambda e: e.DESCRIPTOR.full_name)
def test_extension_values(enum: object) -> None:
    values = {v.name: v.number for v in enum.DESCRIPTOR.values if v.number >= FIRST_EXTENSION_CODE}
    assert values == EXTENSION_VALUES[enum]


def test_extension_kinds() -> None:
    fields = {
        f.name: f.number
        for f in seto_pb2.Payload.DESCRIPTOR.fields
        if f.number >= FIRST_EXTENSION_CODE
    }
    values = {
        v.name: v.number
        for v in seto_pb2.PayloadType.DESCRIPTOR.values
        if v.number >= FIRST_EXTENSION_CODE
    }
    assert fields == EXTENSION_KINDS
    assert values == {f"PAYLOAD_{kind.upper()}": code for kind, code in EXTENSION_KINDS.items()}


def test_every_payload_type_has_exactly_one_optional_field() -> None:
    """Each kind's message sits in exactly one optional field named after the kind."""
    payload = seto_pb2.Payload.DESCRIPTOR
    kinds = set()
    for value in seto_pb2.PayloadType.DESCRIPTOR.values:
        if value.name == "PAYLOAD_ETO":
            continue
        kind = value.name.removeprefix("PAYLOAD_").lower()
        kinds.add(kind)
        f = payload.fields_by_name[kind]
        assert not f.is_required and not f.is_repeated, kind
        assert f.message_type is not None, kind
    assert {f.name for f in payload.fields} - kinds == {"type", "eto_payload"}


def test_eto_heartbeat_bytes() -> None:
    payload = eto_pb2.Payload(seq=5, type=eto_pb2.PAYLOAD_HEARTBEAT)
    assert payload.SerializeToString() == bytes.fromhex("08051005")


def test_order_create_bytes_follow_the_published_numbering() -> None:
    """order_create is field 4; in it type 1, market 2, contract 3, side 4, quantity_type 5,
    quantity 6, price_type 7, price 8 (seto v0.6.4)."""
    create = seto_pb2.OrderCreate(
        type=seto_pb2.ORDER_CREATE_LIMIT,
        market=seto_pb2.Uuid128(low=1),
        contract=seto_pb2.Uuid128(low=2),
        side=seto_pb2.SIDE_SELL,
        quantity_type=seto_pb2.QUANTITY_PAYOFF_CURRENCY,
        quantity=1000,
        price_type=seto_pb2.PRICE_PERCENT_ODDS,
        price=2500,
    )
    assert create.SerializeToString() == bytes.fromhex(
        "0801120208011a0208022002280130e807380140c413"
    )


def test_decimal_exponent_defaults_to_two() -> None:
    decimal = seto_pb2.Decimal(value=-1)
    assert decimal.exponent == 2
    assert decimal.SerializeToString() == bytes.fromhex("0801")  # sint64 zigzag: -1 -> 1
