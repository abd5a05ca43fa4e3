"""The generated modules carry exactly the wire contract of PROTOCOL.md section 3.

Every field is pinned as ``"<code> <mode> <type> <name>[ = <default>]"``, with types
in the message's own package written without it.  Fields are numbered by their
position in the .piqi file unless they have a ``.code``, so reordering a .piqi
file silently renumbers the wire: these tables are what catches that.
"""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from smarkets.proto import eto_pb2, seto_pb2

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


def _fields(message: Descriptor) -> list[str]:
    return [_field(f, message.file.package) for f in message.fields]


def _values(enum: EnumDescriptor) -> dict[str, int]:
    return {v.name: v.number for v in enum.values}


# ---------------------------------------------------------------------------
# ETO (package smarkets.eto): the whole session layer.

ETO_MESSAGES = {
    "Payload": [
        "1 required uint64 seq",
        "2 optional PayloadType type",
        "3 optional bool is_replay = false",
        "4 optional Replay replay",
        "5 optional Login login",
        "6 optional LoginResponse login_response",
        "7 optional Logout logout",
    ],
    "Replay": ["1 required uint64 seq"],
    "Login": ["1 required string session"],
    "LoginResponse": [
        "1 required string session",
        "2 optional uint64 reset",
        "3 optional string email",
        "4 optional uint64 id",
    ],
    "Logout": ["1 optional LogoutReason reason"],
}

ETO_ENUMS = {
    "PayloadType": {
        "PAYLOAD_NONE": 1,
        "PAYLOAD_PING": 2,
        "PAYLOAD_PONG": 3,
        "PAYLOAD_GAPFILL": 4,
        "PAYLOAD_HEARTBEAT": 5,
        "PAYLOAD_REPLAY": 6,
        "PAYLOAD_LOGIN": 7,
        "PAYLOAD_LOGIN_RESPONSE": 8,
        "PAYLOAD_LOGOUT": 9,
        "PAYLOAD_THROTTLE_EXCEEDED": 10,
    },
    "LogoutReason": {
        "LOGOUT_NONE": 1,
        "LOGOUT_HEARTBEAT_TIMEOUT": 2,
        "LOGOUT_CONFIRMATION": 3,
        "LOGOUT_LOGIN_TIMEOUT": 4,
        "LOGOUT_LOGIN_NOT_FIRST_SEQ": 5,
        "LOGOUT_UNKNOWN_SESSION": 6,
        "LOGOUT_UNAUTHORISED": 7,
        "LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE": 8,
        "LOGOUT_DOWNTIME": 9,
        "LOGOUT_UNVERIFIED": 10,
    },
}


# ---------------------------------------------------------------------------
# SETO (package smarkets.seto).

# Payload kind -> (code of its field in Payload, its PayloadType value).
SETO_KINDS = {
    "login": (3, 2),
    "order_create": (4, 3),
    "order_rejected": (5, 4),
    "order_accepted": (6, 5),
    "order_executed": (7, 6),
    "order_cancel": (8, 7),
    "order_cancelled": (9, 8),
    "order_invalid": (10, 9),
    "market_subscribe": (11, 10),
    "market_unsubscribe": (12, 11),
    "market_quotes": (13, 12),
    "contract_quotes": (14, 13),
    "order_cancel_rejected": (15, 14),
    "market_state": (17, 16),
    "order_cancel_all": (34, 33),
    "order_cancel_all_accepted": (35, 34),
    "order_cancel_all_rejected": (36, 35),
    # This project's own kinds: the same number in Payload and PayloadType.
    "account_state_request": (100, 100),
    "account_state": (101, 101),
    "markets_request": (102, 102),
    "markets": (103, 103),
    "orders_request": (104, 104),
    "orders": (105, 105),
    "market_subscribe_rejected": (106, 106),
}

SETO_MESSAGES = {
    "Uuid128": ["1 required uint64 low", "2 optional uint64 high = 0"],
    "Login": [
        "1 optional string username",
        "2 optional string password",
        "3 optional bytes cookie",
    ],
    "OrderCreate": [
        "1 optional Uuid128 market",
        "2 optional Uuid128 contract",
        "3 optional Side side",
        "4 optional uint64 quantity",
        "5 optional uint32 price",
        "6 optional TimeInForce time_in_force = TIME_IN_FORCE_GOOD_TIL_CANCELLED",
        "7 optional string reference",
    ],
    "OrderAccepted": [
        "1 required uint64 seq",
        "2 required Uuid128 order",
        "3 optional string reference",
    ],
    "OrderRejected": [
        "1 required uint64 seq",
        "2 required OrderRejectedReason reason",
        "3 optional string reference",
    ],
    "OrderInvalid": [
        "1 required uint64 seq",
        "2 repeated OrderInvalidReason reasons",
        "3 optional string reference",
    ],
    "OrderExecuted": [
        "1 required Uuid128 order",
        "2 required uint32 price",
        "3 required uint64 quantity",
        "4 optional Side side",
        "5 optional Uuid128 market",
        "6 optional Uuid128 contract",
        "7 optional uint64 seq",
        "8 optional string reference",
        "9 optional uint64 remaining",
    ],
    "OrderCancel": ["1 required Uuid128 order"],
    "OrderCancelled": [
        "1 required Uuid128 order",
        "2 required OrderCancelledReason reason",
        "3 optional uint64 quantity",
        "4 optional uint64 seq",
        "5 optional string reference",
    ],
    "OrderCancelRejected": [
        "1 required uint64 seq",
        "2 optional Uuid128 order",
        "3 required OrderCancelRejectedReason reason",
    ],
    "OrderCancelAll": ["1 optional Uuid128 market"],
    "OrderCancelAllAccepted": ["1 required uint64 seq", "2 optional uint32 count"],
    "OrderCancelAllRejected": [
        "1 required uint64 seq",
        "2 required OrderCancelAllRejectedReason reason",
    ],
    "MarketSubscribe": ["1 required Uuid128 market"],
    "MarketUnsubscribe": ["1 required Uuid128 market"],
    "MarketSubscribeRejected": [
        "1 required uint64 seq",
        "2 required Uuid128 market",
        "3 required MarketSubscribeRejectedReason reason",
    ],
    "Quote": ["1 required uint32 price", "2 required uint64 quantity"],
    "Execution": [
        "1 required uint32 price",
        "2 required uint64 quantity",
        "3 optional Side side",
        "4 optional uint64 timestamp",
    ],
    "ContractQuotes": [
        "1 required Uuid128 contract",
        "2 optional Uuid128 market",
        "3 repeated Quote bids",
        "4 repeated Quote offers",
        "5 repeated Execution executions",
        "6 optional uint64 volume",
    ],
    "MarketQuotes": [
        "1 required Uuid128 market",
        "2 optional MarketStatus state",
        "3 repeated ContractQuotes contract_quotes",
        "4 optional uint64 seq",
    ],
    "MarketState": [
        "1 required Uuid128 market",
        "2 required MarketStatus state",
        "3 optional Uuid128 winner",
    ],
    "AccountStateRequest": [],
    "AccountState": [
        "1 optional uint64 seq",
        "2 required Uuid128 account",
        "3 optional string currency = GBP",
        "4 required sint64 cash",
        "5 required sint64 exposure",
        "6 required sint64 available",
        "7 required sint64 staked",
    ],
    "OrdersRequest": ["1 optional Uuid128 market"],
    "OrderInfo": [
        "1 required Uuid128 order",
        "2 required Uuid128 market",
        "3 required Uuid128 contract",
        "4 required Side side",
        "5 required uint32 price",
        "6 required uint64 quantity",
        "7 required uint64 remaining",
        "8 optional TimeInForce time_in_force = TIME_IN_FORCE_GOOD_TIL_CANCELLED",
        "9 optional string reference",
    ],
    "Orders": ["1 optional uint64 seq", "2 repeated OrderInfo orders"],
    "MarketsRequest": [],
    "Contract": [
        "1 required Uuid128 id",
        "2 required string name",
        "3 optional ContractStatus state = CONTRACT_STATUS_OPEN",
    ],
    "Market": [
        "1 required Uuid128 id",
        "2 required string name",
        "3 optional MarketStatus state = MARKET_STATUS_OPEN",
        "4 repeated Contract contracts",
        "5 optional Uuid128 winner",
    ],
    "Event": [
        "1 required Uuid128 id",
        "2 required string name",
        "3 repeated Market markets",
    ],
    "Markets": ["1 optional uint64 seq", "2 repeated Event events"],
}

SETO_ENUMS = {
    "Side": {"SIDE_BUY": 1, "SIDE_SELL": 2},
    "TimeInForce": {
        "TIME_IN_FORCE_GOOD_TIL_CANCELLED": 1,
        "TIME_IN_FORCE_IMMEDIATE_OR_CANCEL": 2,
    },
    "MarketStatus": {
        "MARKET_STATUS_OPEN": 1,
        "MARKET_STATUS_HALTED": 2,
        "MARKET_STATUS_SETTLED": 3,
    },
    "ContractStatus": {
        "CONTRACT_STATUS_OPEN": 1,
        "CONTRACT_STATUS_WON": 2,
        "CONTRACT_STATUS_LOST": 3,
    },
    "OrderRejectedReason": {
        "ORDER_REJECTED_INSUFFICIENT_FUNDS": 1,
        "ORDER_REJECTED_LIMIT_EXCEEDED": 2,
        "ORDER_REJECTED_MARKET_SETTLED": 3,
        "ORDER_REJECTED_MARKET_HALTED": 4,
        "ORDER_REJECTED_CROSSED_SELF": 5,
        "ORDER_REJECTED_MARKET_NOT_FOUND": 6,
        "ORDER_REJECTED_CONTRACT_NOT_FOUND": 7,
    },
    "OrderInvalidReason": {
        "ORDER_INVALID_INVALID_PRICE": 1,
        "ORDER_INVALID_INVALID_QUANTITY": 2,
        "ORDER_INVALID_INVALID_SIDE": 3,
        "ORDER_INVALID_INVALID_TIME_IN_FORCE": 4,
        "ORDER_INVALID_INVALID_REFERENCE": 5,
        "ORDER_INVALID_INVALID_MARKET": 6,
        "ORDER_INVALID_INVALID_CONTRACT": 7,
    },
    "OrderCancelledReason": {
        "ORDER_CANCELLED_MEMBER_REQUESTED": 1,
        "ORDER_CANCELLED_IMMEDIATE_OR_CANCEL": 2,
        "ORDER_CANCELLED_MARKET_SETTLED": 3,
    },
    "OrderCancelRejectedReason": {
        "ORDER_CANCEL_REJECTED_ORDER_NOT_FOUND": 1,
        "ORDER_CANCEL_REJECTED_TOO_LATE": 2,
    },
    "OrderCancelAllRejectedReason": {"ORDER_CANCEL_ALL_REJECTED_MARKET_NOT_FOUND": 1},
    "MarketSubscribeRejectedReason": {"MARKET_SUBSCRIBE_REJECTED_MARKET_NOT_FOUND": 1},
}


def _camel(kind: str) -> str:
    return "".join(word.capitalize() for word in kind.split("_"))


# ---------------------------------------------------------------------------
# ETO


def test_eto_package() -> None:
    assert eto_pb2.DESCRIPTOR.package == "smarkets.eto"


def test_eto_has_exactly_the_contract_types() -> None:
    assert set(eto_pb2.DESCRIPTOR.message_types_by_name) == set(ETO_MESSAGES)
    assert set(eto_pb2.DESCRIPTOR.enum_types_by_name) == set(ETO_ENUMS)


@pytest.mark.parametrize("name", sorted(ETO_MESSAGES))
def test_eto_message(name: str) -> None:
    assert _fields(eto_pb2.DESCRIPTOR.message_types_by_name[name]) == ETO_MESSAGES[name]


@pytest.mark.parametrize("name", sorted(ETO_ENUMS))
def test_eto_enum(name: str) -> None:
    assert _values(eto_pb2.DESCRIPTOR.enum_types_by_name[name]) == ETO_ENUMS[name]


def test_eto_heartbeat_bytes() -> None:
    payload = eto_pb2.Payload(seq=5, type=eto_pb2.PAYLOAD_HEARTBEAT)
    assert payload.SerializeToString() == bytes.fromhex("08051005")


def test_eto_is_replay_defaults_to_false() -> None:
    payload = eto_pb2.Payload(seq=1)
    assert payload.is_replay is False
    assert not payload.HasField("is_replay")


# ---------------------------------------------------------------------------
# SETO


def test_seto_package_and_import() -> None:
    assert seto_pb2.DESCRIPTOR.package == "smarkets.seto"
    assert [d.name for d in seto_pb2.DESCRIPTOR.dependencies] == ["smarkets/proto/eto.proto"]


def test_seto_has_exactly_the_contract_types() -> None:
    assert set(seto_pb2.DESCRIPTOR.message_types_by_name) == {"Payload", *SETO_MESSAGES}
    assert set(seto_pb2.DESCRIPTOR.enum_types_by_name) == {"PayloadType", *SETO_ENUMS}


def test_seto_payload_envelope() -> None:
    fields = _fields(seto_pb2.Payload.DESCRIPTOR)
    assert fields[:2] == [
        "1 required PayloadType type",
        "2 required smarkets.eto.Payload eto_payload",
    ]
    assert fields[2:] == [
        f"{code} optional {_camel(kind)} {kind}"
        for kind, (code, _) in sorted(SETO_KINDS.items(), key=lambda item: item[1])
    ]


def test_seto_payload_types() -> None:
    expected = {"PAYLOAD_ETO": 1} | {
        f"PAYLOAD_{kind.upper()}": value for kind, (_, value) in SETO_KINDS.items()
    }
    assert _values(seto_pb2.PayloadType.DESCRIPTOR) == expected


@pytest.mark.parametrize("kind", sorted(SETO_KINDS))
def test_seto_kind_codes(kind: str) -> None:
    field_code, type_value = SETO_KINDS[kind]
    assert seto_pb2.Payload.DESCRIPTOR.fields_by_name[kind].number == field_code
    assert seto_pb2.PayloadType.Value(f"PAYLOAD_{kind.upper()}") == type_value


def test_seto_project_kinds_use_the_same_number_twice() -> None:
    project = [v for v in seto_pb2.PayloadType.DESCRIPTOR.values if v.number >= 100]
    assert project, "the project's own kinds start at 100"
    for value in project:
        kind = value.name.removeprefix("PAYLOAD_").lower()
        assert seto_pb2.Payload.DESCRIPTOR.fields_by_name[kind].number == value.number


def test_seto_every_payload_type_has_exactly_one_field() -> None:
    payload = seto_pb2.Payload.DESCRIPTOR
    kinds = set()
    for value in seto_pb2.PayloadType.DESCRIPTOR.values:
        if value.name == "PAYLOAD_ETO":
            continue
        kind = value.name.removeprefix("PAYLOAD_").lower()
        kinds.add(kind)
        matching = [f for f in payload.fields if f.name == kind]
        assert len(matching) == 1, value.name
        (f,) = matching
        assert not f.is_required and not f.is_repeated, kind
        assert f.message_type is not None and f.message_type.name == _camel(kind), kind
    # ... and every field except the envelope carries one of those kinds.
    assert {f.name for f in payload.fields} - kinds == {"type", "eto_payload"}


@pytest.mark.parametrize("name", sorted(SETO_MESSAGES))
def test_seto_message(name: str) -> None:
    assert _fields(seto_pb2.DESCRIPTOR.message_types_by_name[name]) == SETO_MESSAGES[name]


@pytest.mark.parametrize("name", sorted(SETO_ENUMS))
def test_seto_enum(name: str) -> None:
    assert _values(seto_pb2.DESCRIPTOR.enum_types_by_name[name]) == SETO_ENUMS[name]


def test_seto_round_trip() -> None:
    payload = seto_pb2.Payload(
        type=seto_pb2.PAYLOAD_ORDER_CREATE,
        eto_payload=eto_pb2.Payload(seq=2),
        order_create=seto_pb2.OrderCreate(price=2500, quantity=10000, side=seto_pb2.SIDE_BUY),
    )
    decoded = seto_pb2.Payload.FromString(payload.SerializeToString())
    assert decoded == payload
    assert decoded.order_create.time_in_force == seto_pb2.TIME_IN_FORCE_GOOD_TIL_CANCELLED
    assert decoded.order_create.HasField("time_in_force") is False
