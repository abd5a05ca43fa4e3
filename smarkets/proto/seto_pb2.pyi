from smarkets.proto import eto_pb2 as _eto_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PayloadType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYLOAD_ETO: _ClassVar[PayloadType]
    PAYLOAD_LOGIN: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CREATE: _ClassVar[PayloadType]
    PAYLOAD_ORDER_REJECTED: _ClassVar[PayloadType]
    PAYLOAD_ORDER_ACCEPTED: _ClassVar[PayloadType]
    PAYLOAD_ORDER_EXECUTED: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CANCEL: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CANCELLED: _ClassVar[PayloadType]
    PAYLOAD_ORDER_INVALID: _ClassVar[PayloadType]
    PAYLOAD_MARKET_SUBSCRIBE: _ClassVar[PayloadType]
    PAYLOAD_MARKET_UNSUBSCRIBE: _ClassVar[PayloadType]
    PAYLOAD_MARKET_QUOTES: _ClassVar[PayloadType]
    PAYLOAD_CONTRACT_QUOTES: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CANCEL_REJECTED: _ClassVar[PayloadType]
    PAYLOAD_MARKET_STATE: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CANCEL_ALL: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CANCEL_ALL_REJECTED: _ClassVar[PayloadType]
    PAYLOAD_ACCOUNT_STATE_REQUEST: _ClassVar[PayloadType]
    PAYLOAD_ACCOUNT_STATE: _ClassVar[PayloadType]
    PAYLOAD_MARKETS_REQUEST: _ClassVar[PayloadType]
    PAYLOAD_MARKETS: _ClassVar[PayloadType]
    PAYLOAD_ORDERS_REQUEST: _ClassVar[PayloadType]
    PAYLOAD_ORDERS: _ClassVar[PayloadType]
    PAYLOAD_MARKET_SUBSCRIBE_REJECTED: _ClassVar[PayloadType]

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_BUY: _ClassVar[Side]
    SIDE_SELL: _ClassVar[Side]

class TimeInForce(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_IN_FORCE_GOOD_TIL_CANCELLED: _ClassVar[TimeInForce]
    TIME_IN_FORCE_IMMEDIATE_OR_CANCEL: _ClassVar[TimeInForce]

class MarketStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MARKET_STATUS_OPEN: _ClassVar[MarketStatus]
    MARKET_STATUS_HALTED: _ClassVar[MarketStatus]
    MARKET_STATUS_SETTLED: _ClassVar[MarketStatus]

class ContractStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTRACT_STATUS_OPEN: _ClassVar[ContractStatus]
    CONTRACT_STATUS_WON: _ClassVar[ContractStatus]
    CONTRACT_STATUS_LOST: _ClassVar[ContractStatus]

class OrderRejectedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_REJECTED_INSUFFICIENT_FUNDS: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_LIMIT_EXCEEDED: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_MARKET_SETTLED: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_MARKET_HALTED: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_CROSSED_SELF: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_MARKET_NOT_FOUND: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_CONTRACT_NOT_FOUND: _ClassVar[OrderRejectedReason]

class OrderInvalidReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_INVALID_INVALID_PRICE: _ClassVar[OrderInvalidReason]
    ORDER_INVALID_INVALID_QUANTITY: _ClassVar[OrderInvalidReason]
    ORDER_INVALID_INVALID_SIDE: _ClassVar[OrderInvalidReason]
    ORDER_INVALID_INVALID_TIME_IN_FORCE: _ClassVar[OrderInvalidReason]
    ORDER_INVALID_INVALID_REFERENCE: _ClassVar[OrderInvalidReason]
    ORDER_INVALID_INVALID_MARKET: _ClassVar[OrderInvalidReason]
    ORDER_INVALID_INVALID_CONTRACT: _ClassVar[OrderInvalidReason]

class OrderCancelledReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_CANCELLED_MEMBER_REQUESTED: _ClassVar[OrderCancelledReason]
    ORDER_CANCELLED_IMMEDIATE_OR_CANCEL: _ClassVar[OrderCancelledReason]
    ORDER_CANCELLED_MARKET_SETTLED: _ClassVar[OrderCancelledReason]

class OrderCancelRejectedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_CANCEL_REJECTED_ORDER_NOT_FOUND: _ClassVar[OrderCancelRejectedReason]
    ORDER_CANCEL_REJECTED_TOO_LATE: _ClassVar[OrderCancelRejectedReason]

class OrderCancelAllRejectedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_CANCEL_ALL_REJECTED_MARKET_NOT_FOUND: _ClassVar[OrderCancelAllRejectedReason]

class MarketSubscribeRejectedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MARKET_SUBSCRIBE_REJECTED_MARKET_NOT_FOUND: _ClassVar[MarketSubscribeRejectedReason]
PAYLOAD_ETO: PayloadType
PAYLOAD_LOGIN: PayloadType
PAYLOAD_ORDER_CREATE: PayloadType
PAYLOAD_ORDER_REJECTED: PayloadType
PAYLOAD_ORDER_ACCEPTED: PayloadType
PAYLOAD_ORDER_EXECUTED: PayloadType
PAYLOAD_ORDER_CANCEL: PayloadType
PAYLOAD_ORDER_CANCELLED: PayloadType
PAYLOAD_ORDER_INVALID: PayloadType
PAYLOAD_MARKET_SUBSCRIBE: PayloadType
PAYLOAD_MARKET_UNSUBSCRIBE: PayloadType
PAYLOAD_MARKET_QUOTES: PayloadType
PAYLOAD_CONTRACT_QUOTES: PayloadType
PAYLOAD_ORDER_CANCEL_REJECTED: PayloadType
PAYLOAD_MARKET_STATE: PayloadType
PAYLOAD_ORDER_CANCEL_ALL: PayloadType
PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED: PayloadType
PAYLOAD_ORDER_CANCEL_ALL_REJECTED: PayloadType
PAYLOAD_ACCOUNT_STATE_REQUEST: PayloadType
PAYLOAD_ACCOUNT_STATE: PayloadType
PAYLOAD_MARKETS_REQUEST: PayloadType
PAYLOAD_MARKETS: PayloadType
PAYLOAD_ORDERS_REQUEST: PayloadType
PAYLOAD_ORDERS: PayloadType
PAYLOAD_MARKET_SUBSCRIBE_REJECTED: PayloadType
SIDE_BUY: Side
SIDE_SELL: Side
TIME_IN_FORCE_GOOD_TIL_CANCELLED: TimeInForce
TIME_IN_FORCE_IMMEDIATE_OR_CANCEL: TimeInForce
MARKET_STATUS_OPEN: MarketStatus
MARKET_STATUS_HALTED: MarketStatus
MARKET_STATUS_SETTLED: MarketStatus
CONTRACT_STATUS_OPEN: ContractStatus
CONTRACT_STATUS_WON: ContractStatus
CONTRACT_STATUS_LOST: ContractStatus
ORDER_REJECTED_INSUFFICIENT_FUNDS: OrderRejectedReason
ORDER_REJECTED_LIMIT_EXCEEDED: OrderRejectedReason
ORDER_REJECTED_MARKET_SETTLED: OrderRejectedReason
ORDER_REJECTED_MARKET_HALTED: OrderRejectedReason
ORDER_REJECTED_CROSSED_SELF: OrderRejectedReason
ORDER_REJECTED_MARKET_NOT_FOUND: OrderRejectedReason
ORDER_REJECTED_CONTRACT_NOT_FOUND: OrderRejectedReason
ORDER_INVALID_INVALID_PRICE: OrderInvalidReason
ORDER_INVALID_INVALID_QUANTITY: OrderInvalidReason
ORDER_INVALID_INVALID_SIDE: OrderInvalidReason
ORDER_INVALID_INVALID_TIME_IN_FORCE: OrderInvalidReason
ORDER_INVALID_INVALID_REFERENCE: OrderInvalidReason
ORDER_INVALID_INVALID_MARKET: OrderInvalidReason
ORDER_INVALID_INVALID_CONTRACT: OrderInvalidReason
ORDER_CANCELLED_MEMBER_REQUESTED: OrderCancelledReason
ORDER_CANCELLED_IMMEDIATE_OR_CANCEL: OrderCancelledReason
ORDER_CANCELLED_MARKET_SETTLED: OrderCancelledReason
ORDER_CANCEL_REJECTED_ORDER_NOT_FOUND: OrderCancelRejectedReason
ORDER_CANCEL_REJECTED_TOO_LATE: OrderCancelRejectedReason
ORDER_CANCEL_ALL_REJECTED_MARKET_NOT_FOUND: OrderCancelAllRejectedReason
MARKET_SUBSCRIBE_REJECTED_MARKET_NOT_FOUND: MarketSubscribeRejectedReason

class Payload(_message.Message):
    __slots__ = ("type", "eto_payload", "login", "order_create", "order_rejected", "order_accepted", "order_executed", "order_cancel", "order_cancelled", "order_invalid", "market_subscribe", "market_unsubscribe", "market_quotes", "contract_quotes", "order_cancel_rejected", "market_state", "order_cancel_all", "order_cancel_all_accepted", "order_cancel_all_rejected", "account_state_request", "account_state", "markets_request", "markets", "orders_request", "orders", "market_subscribe_rejected")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ETO_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    ORDER_CREATE_FIELD_NUMBER: _ClassVar[int]
    ORDER_REJECTED_FIELD_NUMBER: _ClassVar[int]
    ORDER_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ORDER_EXECUTED_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCEL_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    ORDER_INVALID_FIELD_NUMBER: _ClassVar[int]
    MARKET_SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    MARKET_UNSUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    MARKET_QUOTES_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_QUOTES_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCEL_REJECTED_FIELD_NUMBER: _ClassVar[int]
    MARKET_STATE_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCEL_ALL_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCEL_ALL_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCEL_ALL_REJECTED_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_STATE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_STATE_FIELD_NUMBER: _ClassVar[int]
    MARKETS_REQUEST_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_REQUEST_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    MARKET_SUBSCRIBE_REJECTED_FIELD_NUMBER: _ClassVar[int]
    type: PayloadType
    eto_payload: _eto_pb2.Payload
    login: Login
    order_create: OrderCreate
    order_rejected: OrderRejected
    order_accepted: OrderAccepted
    order_executed: OrderExecuted
    order_cancel: OrderCancel
    order_cancelled: OrderCancelled
    order_invalid: OrderInvalid
    market_subscribe: MarketSubscribe
    market_unsubscribe: MarketUnsubscribe
    market_quotes: MarketQuotes
    contract_quotes: ContractQuotes
    order_cancel_rejected: OrderCancelRejected
    market_state: MarketState
    order_cancel_all: OrderCancelAll
    order_cancel_all_accepted: OrderCancelAllAccepted
    order_cancel_all_rejected: OrderCancelAllRejected
    account_state_request: AccountStateRequest
    account_state: AccountState
    markets_request: MarketsRequest
    markets: Markets
    orders_request: OrdersRequest
    orders: Orders
    market_subscribe_rejected: MarketSubscribeRejected
    def __init__(self, type: _Optional[_Union[PayloadType, str]] = ..., eto_payload: _Optional[_Union[_eto_pb2.Payload, _Mapping]] = ..., login: _Optional[_Union[Login, _Mapping]] = ..., order_create: _Optional[_Union[OrderCreate, _Mapping]] = ..., order_rejected: _Optional[_Union[OrderRejected, _Mapping]] = ..., order_accepted: _Optional[_Union[OrderAccepted, _Mapping]] = ..., order_executed: _Optional[_Union[OrderExecuted, _Mapping]] = ..., order_cancel: _Optional[_Union[OrderCancel, _Mapping]] = ..., order_cancelled: _Optional[_Union[OrderCancelled, _Mapping]] = ..., order_invalid: _Optional[_Union[OrderInvalid, _Mapping]] = ..., market_subscribe: _Optional[_Union[MarketSubscribe, _Mapping]] = ..., market_unsubscribe: _Optional[_Union[MarketUnsubscribe, _Mapping]] = ..., market_quotes: _Optional[_Union[MarketQuotes, _Mapping]] = ..., contract_quotes: _Optional[_Union[ContractQuotes, _Mapping]] = ..., order_cancel_rejected: _Optional[_Union[OrderCancelRejected, _Mapping]] = ..., market_state: _Optional[_Union[MarketState, _Mapping]] = ..., order_cancel_all: _Optional[_Union[OrderCancelAll, _Mapping]] = ..., order_cancel_all_accepted: _Optional[_Union[OrderCancelAllAccepted, _Mapping]] = ..., order_cancel_all_rejected: _Optional[_Union[OrderCancelAllRejected, _Mapping]] = ..., account_state_request: _Optional[_Union[AccountStateRequest, _Mapping]] = ..., account_state: _Optional[_Union[AccountState, _Mapping]] = ..., markets_request: _Optional[_Union[MarketsRequest, _Mapping]] = ..., markets: _Optional[_Union[Markets, _Mapping]] = ..., orders_request: _Optional[_Union[OrdersRequest, _Mapping]] = ..., orders: _Optional[_Union[Orders, _Mapping]] = ..., market_subscribe_rejected: _Optional[_Union[MarketSubscribeRejected, _Mapping]] = ...) -> None: ...

class Uuid128(_message.Message):
    __slots__ = ("low", "high")
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    low: int
    high: int
    def __init__(self, low: _Optional[int] = ..., high: _Optional[int] = ...) -> None: ...

class Login(_message.Message):
    __slots__ = ("username", "password", "cookie")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    COOKIE_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    cookie: bytes
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ..., cookie: _Optional[bytes] = ...) -> None: ...

class OrderCreate(_message.Message):
    __slots__ = ("market", "contract", "side", "quantity", "price", "time_in_force", "reference")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    contract: Uuid128
    side: Side
    quantity: int
    price: int
    time_in_force: TimeInForce
    reference: str
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ..., contract: _Optional[_Union[Uuid128, _Mapping]] = ..., side: _Optional[_Union[Side, str]] = ..., quantity: _Optional[int] = ..., price: _Optional[int] = ..., time_in_force: _Optional[_Union[TimeInForce, str]] = ..., reference: _Optional[str] = ...) -> None: ...

class OrderAccepted(_message.Message):
    __slots__ = ("seq", "order", "reference")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    order: Uuid128
    reference: str
    def __init__(self, seq: _Optional[int] = ..., order: _Optional[_Union[Uuid128, _Mapping]] = ..., reference: _Optional[str] = ...) -> None: ...

class OrderRejected(_message.Message):
    __slots__ = ("seq", "reason", "reference")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    reason: OrderRejectedReason
    reference: str
    def __init__(self, seq: _Optional[int] = ..., reason: _Optional[_Union[OrderRejectedReason, str]] = ..., reference: _Optional[str] = ...) -> None: ...

class OrderInvalid(_message.Message):
    __slots__ = ("seq", "reasons", "reference")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    reasons: _containers.RepeatedScalarFieldContainer[OrderInvalidReason]
    reference: str
    def __init__(self, seq: _Optional[int] = ..., reasons: _Optional[_Iterable[_Union[OrderInvalidReason, str]]] = ..., reference: _Optional[str] = ...) -> None: ...

class OrderExecuted(_message.Message):
    __slots__ = ("order", "price", "quantity", "side", "market", "contract", "seq", "reference", "remaining")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    order: Uuid128
    price: int
    quantity: int
    side: Side
    market: Uuid128
    contract: Uuid128
    seq: int
    reference: str
    remaining: int
    def __init__(self, order: _Optional[_Union[Uuid128, _Mapping]] = ..., price: _Optional[int] = ..., quantity: _Optional[int] = ..., side: _Optional[_Union[Side, str]] = ..., market: _Optional[_Union[Uuid128, _Mapping]] = ..., contract: _Optional[_Union[Uuid128, _Mapping]] = ..., seq: _Optional[int] = ..., reference: _Optional[str] = ..., remaining: _Optional[int] = ...) -> None: ...

class OrderCancel(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Uuid128
    def __init__(self, order: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class OrderCancelled(_message.Message):
    __slots__ = ("order", "reason", "quantity", "seq", "reference")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    order: Uuid128
    reason: OrderCancelledReason
    quantity: int
    seq: int
    reference: str
    def __init__(self, order: _Optional[_Union[Uuid128, _Mapping]] = ..., reason: _Optional[_Union[OrderCancelledReason, str]] = ..., quantity: _Optional[int] = ..., seq: _Optional[int] = ..., reference: _Optional[str] = ...) -> None: ...

class OrderCancelRejected(_message.Message):
    __slots__ = ("seq", "order", "reason")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    seq: int
    order: Uuid128
    reason: OrderCancelRejectedReason
    def __init__(self, seq: _Optional[int] = ..., order: _Optional[_Union[Uuid128, _Mapping]] = ..., reason: _Optional[_Union[OrderCancelRejectedReason, str]] = ...) -> None: ...

class OrderCancelAll(_message.Message):
    __slots__ = ("market",)
    MARKET_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class OrderCancelAllAccepted(_message.Message):
    __slots__ = ("seq", "count")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    seq: int
    count: int
    def __init__(self, seq: _Optional[int] = ..., count: _Optional[int] = ...) -> None: ...

class OrderCancelAllRejected(_message.Message):
    __slots__ = ("seq", "reason")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    seq: int
    reason: OrderCancelAllRejectedReason
    def __init__(self, seq: _Optional[int] = ..., reason: _Optional[_Union[OrderCancelAllRejectedReason, str]] = ...) -> None: ...

class MarketSubscribe(_message.Message):
    __slots__ = ("market",)
    MARKET_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class MarketUnsubscribe(_message.Message):
    __slots__ = ("market",)
    MARKET_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class MarketSubscribeRejected(_message.Message):
    __slots__ = ("seq", "market", "reason")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    seq: int
    market: Uuid128
    reason: MarketSubscribeRejectedReason
    def __init__(self, seq: _Optional[int] = ..., market: _Optional[_Union[Uuid128, _Mapping]] = ..., reason: _Optional[_Union[MarketSubscribeRejectedReason, str]] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("price", "quantity")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    price: int
    quantity: int
    def __init__(self, price: _Optional[int] = ..., quantity: _Optional[int] = ...) -> None: ...

class Execution(_message.Message):
    __slots__ = ("price", "quantity", "side", "timestamp")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    price: int
    quantity: int
    side: Side
    timestamp: int
    def __init__(self, price: _Optional[int] = ..., quantity: _Optional[int] = ..., side: _Optional[_Union[Side, str]] = ..., timestamp: _Optional[int] = ...) -> None: ...

class ContractQuotes(_message.Message):
    __slots__ = ("contract", "market", "bids", "offers", "executions", "volume")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    contract: Uuid128
    market: Uuid128
    bids: _containers.RepeatedCompositeFieldContainer[Quote]
    offers: _containers.RepeatedCompositeFieldContainer[Quote]
    executions: _containers.RepeatedCompositeFieldContainer[Execution]
    volume: int
    def __init__(self, contract: _Optional[_Union[Uuid128, _Mapping]] = ..., market: _Optional[_Union[Uuid128, _Mapping]] = ..., bids: _Optional[_Iterable[_Union[Quote, _Mapping]]] = ..., offers: _Optional[_Iterable[_Union[Quote, _Mapping]]] = ..., executions: _Optional[_Iterable[_Union[Execution, _Mapping]]] = ..., volume: _Optional[int] = ...) -> None: ...

class MarketQuotes(_message.Message):
    __slots__ = ("market", "state", "contract_quotes", "seq")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_QUOTES_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    state: MarketStatus
    contract_quotes: _containers.RepeatedCompositeFieldContainer[ContractQuotes]
    seq: int
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ..., state: _Optional[_Union[MarketStatus, str]] = ..., contract_quotes: _Optional[_Iterable[_Union[ContractQuotes, _Mapping]]] = ..., seq: _Optional[int] = ...) -> None: ...

class MarketState(_message.Message):
    __slots__ = ("market", "state", "winner")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    state: MarketStatus
    winner: Uuid128
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ..., state: _Optional[_Union[MarketStatus, str]] = ..., winner: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class AccountStateRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AccountState(_message.Message):
    __slots__ = ("seq", "account", "currency", "cash", "exposure", "available", "staked")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CASH_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    STAKED_FIELD_NUMBER: _ClassVar[int]
    seq: int
    account: Uuid128
    currency: str
    cash: int
    exposure: int
    available: int
    staked: int
    def __init__(self, seq: _Optional[int] = ..., account: _Optional[_Union[Uuid128, _Mapping]] = ..., currency: _Optional[str] = ..., cash: _Optional[int] = ..., exposure: _Optional[int] = ..., available: _Optional[int] = ..., staked: _Optional[int] = ...) -> None: ...

class OrdersRequest(_message.Message):
    __slots__ = ("market",)
    MARKET_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class OrderInfo(_message.Message):
    __slots__ = ("order", "market", "contract", "side", "price", "quantity", "remaining", "time_in_force", "reference")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    order: Uuid128
    market: Uuid128
    contract: Uuid128
    side: Side
    price: int
    quantity: int
    remaining: int
    time_in_force: TimeInForce
    reference: str
    def __init__(self, order: _Optional[_Union[Uuid128, _Mapping]] = ..., market: _Optional[_Union[Uuid128, _Mapping]] = ..., contract: _Optional[_Union[Uuid128, _Mapping]] = ..., side: _Optional[_Union[Side, str]] = ..., price: _Optional[int] = ..., quantity: _Optional[int] = ..., remaining: _Optional[int] = ..., time_in_force: _Optional[_Union[TimeInForce, str]] = ..., reference: _Optional[str] = ...) -> None: ...

class Orders(_message.Message):
    __slots__ = ("seq", "orders")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    seq: int
    orders: _containers.RepeatedCompositeFieldContainer[OrderInfo]
    def __init__(self, seq: _Optional[int] = ..., orders: _Optional[_Iterable[_Union[OrderInfo, _Mapping]]] = ...) -> None: ...

class MarketsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Contract(_message.Message):
    __slots__ = ("id", "name", "state")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    id: Uuid128
    name: str
    state: ContractStatus
    def __init__(self, id: _Optional[_Union[Uuid128, _Mapping]] = ..., name: _Optional[str] = ..., state: _Optional[_Union[ContractStatus, str]] = ...) -> None: ...

class Market(_message.Message):
    __slots__ = ("id", "name", "state", "contracts", "winner")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONTRACTS_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    id: Uuid128
    name: str
    state: MarketStatus
    contracts: _containers.RepeatedCompositeFieldContainer[Contract]
    winner: Uuid128
    def __init__(self, id: _Optional[_Union[Uuid128, _Mapping]] = ..., name: _Optional[str] = ..., state: _Optional[_Union[MarketStatus, str]] = ..., contracts: _Optional[_Iterable[_Union[Contract, _Mapping]]] = ..., winner: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("id", "name", "markets")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    id: Uuid128
    name: str
    markets: _containers.RepeatedCompositeFieldContainer[Market]
    def __init__(self, id: _Optional[_Union[Uuid128, _Mapping]] = ..., name: _Optional[str] = ..., markets: _Optional[_Iterable[_Union[Market, _Mapping]]] = ...) -> None: ...

class Markets(_message.Message):
    __slots__ = ("seq", "events")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    seq: int
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, seq: _Optional[int] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...
