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
    PAYLOAD_MARKET_QUOTES_REQUEST: _ClassVar[PayloadType]
    PAYLOAD_MARKET_QUOTES: _ClassVar[PayloadType]
    PAYLOAD_CONTRACT_QUOTES: _ClassVar[PayloadType]
    PAYLOAD_EVENTS_REQUEST: _ClassVar[PayloadType]
    PAYLOAD_HTTP_FOUND: _ClassVar[PayloadType]
    PAYLOAD_INVALID_REQUEST: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CANCEL_REJECTED: _ClassVar[PayloadType]
    PAYLOAD_ORDERS_FOR_ACCOUNT_REQUEST: _ClassVar[PayloadType]
    PAYLOAD_ORDERS_FOR_ACCOUNT: _ClassVar[PayloadType]
    PAYLOAD_ORDERS_FOR_MARKET_REQUEST: _ClassVar[PayloadType]
    PAYLOAD_ORDERS_FOR_MARKET: _ClassVar[PayloadType]
    PAYLOAD_ACCOUNT_STATE_REQUEST: _ClassVar[PayloadType]
    PAYLOAD_ACCOUNT_STATE: _ClassVar[PayloadType]
    PAYLOAD_DOWNTIME_ALERT: _ClassVar[PayloadType]
    PAYLOAD_MARKET_STATE: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CANCEL_ALL: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED: _ClassVar[PayloadType]
    PAYLOAD_ORDER_CANCEL_ALL_REJECTED: _ClassVar[PayloadType]
    PAYLOAD_MARKET_SUBSCRIBE_REJECTED: _ClassVar[PayloadType]
    PAYLOAD_MARKETS_REQUEST: _ClassVar[PayloadType]
    PAYLOAD_MARKETS: _ClassVar[PayloadType]

class OrderCreateType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_CREATE_LIMIT: _ClassVar[OrderCreateType]

class TimeInForceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GOOD_TIL_CANCELLED: _ClassVar[TimeInForceType]
    IMMEDIATE_OR_CANCEL: _ClassVar[TimeInForceType]

class OrderRejectedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_REJECTED_INSUFFICIENT_FUNDS: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_LIMIT_EXCEEDED: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_MARKET_NOT_OPEN: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_MARKET_SETTLED: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_MARKET_HALTED: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_CROSSED_SELF: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_MARKET_NOT_FOUND: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_SERVICE_TEMPORARILY_UNAVAILABLE: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_CONTRACT_NOT_FOUND: _ClassVar[OrderRejectedReason]
    ORDER_REJECTED_ACCOUNT_SUSPENDED: _ClassVar[OrderRejectedReason]

class OrderCancelRejectedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_CANCEL_REJECTED_NOT_FOUND: _ClassVar[OrderCancelRejectedReason]
    ORDER_CANCEL_REJECTED_NOT_LIVE: _ClassVar[OrderCancelRejectedReason]

class OrderCancelledReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_CANCELLED_MEMBER_REQUESTED: _ClassVar[OrderCancelledReason]
    ORDER_CANCELLED_MARKET_HALTED: _ClassVar[OrderCancelledReason]
    ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY: _ClassVar[OrderCancelledReason]
    ORDER_CANCELLED_MARKET_SETTLED: _ClassVar[OrderCancelledReason]

class OrderInvalidReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_INVALID_INVALID_PRICE: _ClassVar[OrderInvalidReason]
    ORDER_INVALID_INVALID_QUANTITY: _ClassVar[OrderInvalidReason]
    ORDER_INVALID_INVALID_TIME_IN_FORCE: _ClassVar[OrderInvalidReason]
    ORDER_INVALID_INVALID_REFERENCE: _ClassVar[OrderInvalidReason]

class OrderCancelAllRejectedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_CANCEL_ALL_REJECTED_MARKET_NOT_FOUND: _ClassVar[OrderCancelAllRejectedReason]

class QuantityType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUANTITY_PAYOFF_CURRENCY: _ClassVar[QuantityType]

class PriceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRICE_PERCENT_ODDS: _ClassVar[PriceType]

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_BUY: _ClassVar[Side]
    SIDE_SELL: _ClassVar[Side]

class MarketStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MARKET_STATUS_OPEN: _ClassVar[MarketStatus]
    MARKET_STATUS_HALTED: _ClassVar[MarketStatus]
    MARKET_STATUS_SETTLED: _ClassVar[MarketStatus]

class MarketSubscribeRejectedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MARKET_SUBSCRIBE_REJECTED_MARKET_NOT_FOUND: _ClassVar[MarketSubscribeRejectedReason]

class ContentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTENT_TYPE_PROTOBUF: _ClassVar[ContentType]

class EventsRequestType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENTS_REQUEST_POLITICS: _ClassVar[EventsRequestType]
    EVENTS_REQUEST_CURRENT_AFFAIRS: _ClassVar[EventsRequestType]
    EVENTS_REQUEST_TV_AND_ENTERTAINMENT: _ClassVar[EventsRequestType]
    EVENTS_REQUEST_SPORT_BY_DATE: _ClassVar[EventsRequestType]
    EVENTS_REQUEST_SPORT_OTHER: _ClassVar[EventsRequestType]

class SportByDateType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPORT_BY_DATE_FOOTBALL: _ClassVar[SportByDateType]
    SPORT_BY_DATE_HORSE_RACING: _ClassVar[SportByDateType]
    SPORT_BY_DATE_TENNIS: _ClassVar[SportByDateType]
    SPORT_BY_DATE_BASKETBALL: _ClassVar[SportByDateType]
    SPORT_BY_DATE_AMERICANFOOTBALL: _ClassVar[SportByDateType]
    SPORT_BY_DATE_BASEBALL: _ClassVar[SportByDateType]
    SPORT_BY_DATE_CRICKET: _ClassVar[SportByDateType]
    SPORT_BY_DATE_HANDBALL: _ClassVar[SportByDateType]
    SPORT_BY_DATE_RUGBY: _ClassVar[SportByDateType]
    SPORT_BY_DATE_RUGBYLEAGUE: _ClassVar[SportByDateType]
    SPORT_BY_DATE_VOLLEYBALL: _ClassVar[SportByDateType]

class ContractType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTRACT_HALF_TIME_FULL_TIME: _ClassVar[ContractType]
    CONTRACT_CORRECT_SCORE: _ClassVar[ContractType]
    CONTRACT_GENERIC: _ClassVar[ContractType]
    CONTRACT_WINNER: _ClassVar[ContractType]
    CONTRACT_BINARY: _ClassVar[ContractType]
    CONTRACT_OVER_UNDER: _ClassVar[ContractType]

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_FOOTBALL_MATCH: _ClassVar[EventType]
    EVENT_FOOTBALL_SEASON: _ClassVar[EventType]
    EVENT_FOOTBALL: _ClassVar[EventType]
    EVENT_GENERIC: _ClassVar[EventType]
    EVENT_FOOTBALL_GENERIC: _ClassVar[EventType]
    EVENT_GOLF_SEASON: _ClassVar[EventType]
    EVENT_BOXING_SEASON: _ClassVar[EventType]
    EVENT_FORMULA_1_RACE: _ClassVar[EventType]
    EVENT_FORMULA_1_SEASON: _ClassVar[EventType]
    EVENT_HORSE_RACING_RACE: _ClassVar[EventType]
    EVENT_HORSE_RACING_COURSE: _ClassVar[EventType]
    EVENT_HORSE_RACING: _ClassVar[EventType]
    EVENT_GOLF_GENERIC: _ClassVar[EventType]
    EVENT_EUROVISION_SEASON: _ClassVar[EventType]
    EVENT_TENNIS_ROUND: _ClassVar[EventType]
    EVENT_TENNIS_FORMAT: _ClassVar[EventType]
    EVENT_TENNIS_TOURNAMENT: _ClassVar[EventType]
    EVENT_CYCLING_SEASON: _ClassVar[EventType]
    EVENT_CYCLING_RACE: _ClassVar[EventType]
    EVENT_MOTOGP_SEASON: _ClassVar[EventType]
    EVENT_BOXING_MATCH: _ClassVar[EventType]
    EVENT_AMERICAN_FOOTBALL_MATCH: _ClassVar[EventType]
    EVENT_RUGBY_UNION_MATCH: _ClassVar[EventType]
    EVENT_BASKETBALL_MATCH: _ClassVar[EventType]
    EVENT_BASKETBALL_SEASON: _ClassVar[EventType]
    EVENT_CRICKET_MATCH: _ClassVar[EventType]
    EVENT_CRICKET_SEASON: _ClassVar[EventType]
    EVENT_VOLLEYBALL_MATCH: _ClassVar[EventType]
    EVENT_HANDBALL_MATCH: _ClassVar[EventType]
    EVENT_RUGBY_UNION_SEASON: _ClassVar[EventType]
    EVENT_RUGBY_LEAGUE_MATCH: _ClassVar[EventType]
    EVENT_RUGBY_LEAGUE_SEASON: _ClassVar[EventType]
    EVENT_AMERICAN_FOOTBALL_SEASON: _ClassVar[EventType]
    EVENT_BASEBALL_MATCH: _ClassVar[EventType]
    EVENT_BASEBALL_SEASON: _ClassVar[EventType]

class EntityRelationshipType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTITY_RELATIONSHIP_FOOTBALL_HOME_TEAM: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_FOOTBALL_AWAY_TEAM: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_FOOTBALL_COMPETITION: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_HORSE_RACING_COURSE: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_HORSE_RACING_HORSE: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_HORSE_RACING_JOCKEY: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_CONTRACT_ASSOCIATED: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_GENERIC: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_TENNIS_PLAYER_A: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_TENNIS_PLAYER_B: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_HOME_TEAM: _ClassVar[EntityRelationshipType]
    ENTITY_RELATIONSHIP_AWAY_TEAM: _ClassVar[EntityRelationshipType]

class InvalidRequestType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVALID_REQUEST_DATE_OUT_OF_RANGE: _ClassVar[InvalidRequestType]

class EventCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_CATEGORY_SPORT: _ClassVar[EventCategory]
    EVENT_CATEGORY_POLITICS: _ClassVar[EventCategory]
    EVENT_CATEGORY_CURRENT_AFFAIRS: _ClassVar[EventCategory]
    EVENT_CATEGORY_TV_AND_ENTERTAINMENT: _ClassVar[EventCategory]
    EVENT_CATEGORY_GENERIC: _ClassVar[EventCategory]
    EVENT_CATEGORY_FOOTBALL: _ClassVar[EventCategory]
    EVENT_CATEGORY_TENNIS: _ClassVar[EventCategory]
    EVENT_CATEGORY_HORSE_RACING: _ClassVar[EventCategory]
    EVENT_CATEGORY_AMERICAN_FOOTBALL: _ClassVar[EventCategory]
    EVENT_CATEGORY_RUGBY: _ClassVar[EventCategory]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_LIVE: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_CANCELLED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]

class Currency(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CURRENCY_GBP: _ClassVar[Currency]
    CURRENCY_EUR: _ClassVar[Currency]

class DowntimeAlertType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOWNTIME_ALERT_ORDER_CREATE: _ClassVar[DowntimeAlertType]

class ContractStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTRACT_STATUS_OPEN: _ClassVar[ContractStatus]
    CONTRACT_STATUS_WON: _ClassVar[ContractStatus]
    CONTRACT_STATUS_LOST: _ClassVar[ContractStatus]
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
PAYLOAD_MARKET_QUOTES_REQUEST: PayloadType
PAYLOAD_MARKET_QUOTES: PayloadType
PAYLOAD_CONTRACT_QUOTES: PayloadType
PAYLOAD_EVENTS_REQUEST: PayloadType
PAYLOAD_HTTP_FOUND: PayloadType
PAYLOAD_INVALID_REQUEST: PayloadType
PAYLOAD_ORDER_CANCEL_REJECTED: PayloadType
PAYLOAD_ORDERS_FOR_ACCOUNT_REQUEST: PayloadType
PAYLOAD_ORDERS_FOR_ACCOUNT: PayloadType
PAYLOAD_ORDERS_FOR_MARKET_REQUEST: PayloadType
PAYLOAD_ORDERS_FOR_MARKET: PayloadType
PAYLOAD_ACCOUNT_STATE_REQUEST: PayloadType
PAYLOAD_ACCOUNT_STATE: PayloadType
PAYLOAD_DOWNTIME_ALERT: PayloadType
PAYLOAD_MARKET_STATE: PayloadType
PAYLOAD_ORDER_CANCEL_ALL: PayloadType
PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED: PayloadType
PAYLOAD_ORDER_CANCEL_ALL_REJECTED: PayloadType
PAYLOAD_MARKET_SUBSCRIBE_REJECTED: PayloadType
PAYLOAD_MARKETS_REQUEST: PayloadType
PAYLOAD_MARKETS: PayloadType
ORDER_CREATE_LIMIT: OrderCreateType
GOOD_TIL_CANCELLED: TimeInForceType
IMMEDIATE_OR_CANCEL: TimeInForceType
ORDER_REJECTED_INSUFFICIENT_FUNDS: OrderRejectedReason
ORDER_REJECTED_LIMIT_EXCEEDED: OrderRejectedReason
ORDER_REJECTED_MARKET_NOT_OPEN: OrderRejectedReason
ORDER_REJECTED_MARKET_SETTLED: OrderRejectedReason
ORDER_REJECTED_MARKET_HALTED: OrderRejectedReason
ORDER_REJECTED_CROSSED_SELF: OrderRejectedReason
ORDER_REJECTED_MARKET_NOT_FOUND: OrderRejectedReason
ORDER_REJECTED_SERVICE_TEMPORARILY_UNAVAILABLE: OrderRejectedReason
ORDER_REJECTED_CONTRACT_NOT_FOUND: OrderRejectedReason
ORDER_REJECTED_ACCOUNT_SUSPENDED: OrderRejectedReason
ORDER_CANCEL_REJECTED_NOT_FOUND: OrderCancelRejectedReason
ORDER_CANCEL_REJECTED_NOT_LIVE: OrderCancelRejectedReason
ORDER_CANCELLED_MEMBER_REQUESTED: OrderCancelledReason
ORDER_CANCELLED_MARKET_HALTED: OrderCancelledReason
ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY: OrderCancelledReason
ORDER_CANCELLED_MARKET_SETTLED: OrderCancelledReason
ORDER_INVALID_INVALID_PRICE: OrderInvalidReason
ORDER_INVALID_INVALID_QUANTITY: OrderInvalidReason
ORDER_INVALID_INVALID_TIME_IN_FORCE: OrderInvalidReason
ORDER_INVALID_INVALID_REFERENCE: OrderInvalidReason
ORDER_CANCEL_ALL_REJECTED_MARKET_NOT_FOUND: OrderCancelAllRejectedReason
QUANTITY_PAYOFF_CURRENCY: QuantityType
PRICE_PERCENT_ODDS: PriceType
SIDE_BUY: Side
SIDE_SELL: Side
MARKET_STATUS_OPEN: MarketStatus
MARKET_STATUS_HALTED: MarketStatus
MARKET_STATUS_SETTLED: MarketStatus
MARKET_SUBSCRIBE_REJECTED_MARKET_NOT_FOUND: MarketSubscribeRejectedReason
CONTENT_TYPE_PROTOBUF: ContentType
EVENTS_REQUEST_POLITICS: EventsRequestType
EVENTS_REQUEST_CURRENT_AFFAIRS: EventsRequestType
EVENTS_REQUEST_TV_AND_ENTERTAINMENT: EventsRequestType
EVENTS_REQUEST_SPORT_BY_DATE: EventsRequestType
EVENTS_REQUEST_SPORT_OTHER: EventsRequestType
SPORT_BY_DATE_FOOTBALL: SportByDateType
SPORT_BY_DATE_HORSE_RACING: SportByDateType
SPORT_BY_DATE_TENNIS: SportByDateType
SPORT_BY_DATE_BASKETBALL: SportByDateType
SPORT_BY_DATE_AMERICANFOOTBALL: SportByDateType
SPORT_BY_DATE_BASEBALL: SportByDateType
SPORT_BY_DATE_CRICKET: SportByDateType
SPORT_BY_DATE_HANDBALL: SportByDateType
SPORT_BY_DATE_RUGBY: SportByDateType
SPORT_BY_DATE_RUGBYLEAGUE: SportByDateType
SPORT_BY_DATE_VOLLEYBALL: SportByDateType
CONTRACT_HALF_TIME_FULL_TIME: ContractType
CONTRACT_CORRECT_SCORE: ContractType
CONTRACT_GENERIC: ContractType
CONTRACT_WINNER: ContractType
CONTRACT_BINARY: ContractType
CONTRACT_OVER_UNDER: ContractType
EVENT_FOOTBALL_MATCH: EventType
EVENT_FOOTBALL_SEASON: EventType
EVENT_FOOTBALL: EventType
EVENT_GENERIC: EventType
EVENT_FOOTBALL_GENERIC: EventType
EVENT_GOLF_SEASON: EventType
EVENT_BOXING_SEASON: EventType
EVENT_FORMULA_1_RACE: EventType
EVENT_FORMULA_1_SEASON: EventType
EVENT_HORSE_RACING_RACE: EventType
EVENT_HORSE_RACING_COURSE: EventType
EVENT_HORSE_RACING: EventType
EVENT_GOLF_GENERIC: EventType
EVENT_EUROVISION_SEASON: EventType
EVENT_TENNIS_ROUND: EventType
EVENT_TENNIS_FORMAT: EventType
EVENT_TENNIS_TOURNAMENT: EventType
EVENT_CYCLING_SEASON: EventType
EVENT_CYCLING_RACE: EventType
EVENT_MOTOGP_SEASON: EventType
EVENT_BOXING_MATCH: EventType
EVENT_AMERICAN_FOOTBALL_MATCH: EventType
EVENT_RUGBY_UNION_MATCH: EventType
EVENT_BASKETBALL_MATCH: EventType
EVENT_BASKETBALL_SEASON: EventType
EVENT_CRICKET_MATCH: EventType
EVENT_CRICKET_SEASON: EventType
EVENT_VOLLEYBALL_MATCH: EventType
EVENT_HANDBALL_MATCH: EventType
EVENT_RUGBY_UNION_SEASON: EventType
EVENT_RUGBY_LEAGUE_MATCH: EventType
EVENT_RUGBY_LEAGUE_SEASON: EventType
EVENT_AMERICAN_FOOTBALL_SEASON: EventType
EVENT_BASEBALL_MATCH: EventType
EVENT_BASEBALL_SEASON: EventType
ENTITY_RELATIONSHIP_FOOTBALL_HOME_TEAM: EntityRelationshipType
ENTITY_RELATIONSHIP_FOOTBALL_AWAY_TEAM: EntityRelationshipType
ENTITY_RELATIONSHIP_FOOTBALL_COMPETITION: EntityRelationshipType
ENTITY_RELATIONSHIP_HORSE_RACING_COURSE: EntityRelationshipType
ENTITY_RELATIONSHIP_HORSE_RACING_HORSE: EntityRelationshipType
ENTITY_RELATIONSHIP_HORSE_RACING_JOCKEY: EntityRelationshipType
ENTITY_RELATIONSHIP_CONTRACT_ASSOCIATED: EntityRelationshipType
ENTITY_RELATIONSHIP_GENERIC: EntityRelationshipType
ENTITY_RELATIONSHIP_TENNIS_PLAYER_A: EntityRelationshipType
ENTITY_RELATIONSHIP_TENNIS_PLAYER_B: EntityRelationshipType
ENTITY_RELATIONSHIP_HOME_TEAM: EntityRelationshipType
ENTITY_RELATIONSHIP_AWAY_TEAM: EntityRelationshipType
INVALID_REQUEST_DATE_OUT_OF_RANGE: InvalidRequestType
EVENT_CATEGORY_SPORT: EventCategory
EVENT_CATEGORY_POLITICS: EventCategory
EVENT_CATEGORY_CURRENT_AFFAIRS: EventCategory
EVENT_CATEGORY_TV_AND_ENTERTAINMENT: EventCategory
EVENT_CATEGORY_GENERIC: EventCategory
EVENT_CATEGORY_FOOTBALL: EventCategory
EVENT_CATEGORY_TENNIS: EventCategory
EVENT_CATEGORY_HORSE_RACING: EventCategory
EVENT_CATEGORY_AMERICAN_FOOTBALL: EventCategory
EVENT_CATEGORY_RUGBY: EventCategory
ORDER_STATUS_LIVE: OrderStatus
ORDER_STATUS_PARTIALLY_FILLED: OrderStatus
ORDER_STATUS_FILLED: OrderStatus
ORDER_STATUS_PARTIALLY_CANCELLED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
CURRENCY_GBP: Currency
CURRENCY_EUR: Currency
DOWNTIME_ALERT_ORDER_CREATE: DowntimeAlertType
CONTRACT_STATUS_OPEN: ContractStatus
CONTRACT_STATUS_WON: ContractStatus
CONTRACT_STATUS_LOST: ContractStatus

class Payload(_message.Message):
    __slots__ = ("type", "eto_payload", "login", "order_create", "order_rejected", "order_accepted", "order_executed", "order_cancel", "order_cancelled", "order_invalid", "market_subscribe", "market_unsubscribe", "market_quotes_request", "market_quotes", "contract_quotes", "events_request", "http_found", "invalid_request", "order_cancel_rejected", "orders_for_account_request", "orders_for_account", "orders_for_market_request", "orders_for_market", "account_state_request", "account_state", "downtime_alert", "market_state", "order_cancel_all", "order_cancel_all_accepted", "order_cancel_all_rejected", "market_subscribe_rejected", "markets_request", "markets")
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
    MARKET_QUOTES_REQUEST_FIELD_NUMBER: _ClassVar[int]
    MARKET_QUOTES_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_QUOTES_FIELD_NUMBER: _ClassVar[int]
    EVENTS_REQUEST_FIELD_NUMBER: _ClassVar[int]
    HTTP_FOUND_FIELD_NUMBER: _ClassVar[int]
    INVALID_REQUEST_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCEL_REJECTED_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FOR_ACCOUNT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FOR_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FOR_MARKET_REQUEST_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FOR_MARKET_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_STATE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_STATE_FIELD_NUMBER: _ClassVar[int]
    DOWNTIME_ALERT_FIELD_NUMBER: _ClassVar[int]
    MARKET_STATE_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCEL_ALL_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCEL_ALL_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCEL_ALL_REJECTED_FIELD_NUMBER: _ClassVar[int]
    MARKET_SUBSCRIBE_REJECTED_FIELD_NUMBER: _ClassVar[int]
    MARKETS_REQUEST_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
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
    market_quotes_request: MarketQuotesRequest
    market_quotes: MarketQuotes
    contract_quotes: ContractQuotes
    events_request: EventsRequest
    http_found: HttpFound
    invalid_request: InvalidRequest
    order_cancel_rejected: OrderCancelRejected
    orders_for_account_request: orders_for_account_request
    orders_for_account: orders_for_account
    orders_for_market_request: orders_for_market_request
    orders_for_market: orders_for_market
    account_state_request: AccountStateRequest
    account_state: AccountState
    downtime_alert: DowntimeAlert
    market_state: MarketState
    order_cancel_all: OrderCancelAll
    order_cancel_all_accepted: OrderCancelAllAccepted
    order_cancel_all_rejected: OrderCancelAllRejected
    market_subscribe_rejected: MarketSubscribeRejected
    markets_request: MarketsRequest
    markets: Markets
    def __init__(self, type: _Optional[_Union[PayloadType, str]] = ..., eto_payload: _Optional[_Union[_eto_pb2.Payload, _Mapping]] = ..., login: _Optional[_Union[Login, _Mapping]] = ..., order_create: _Optional[_Union[OrderCreate, _Mapping]] = ..., order_rejected: _Optional[_Union[OrderRejected, _Mapping]] = ..., order_accepted: _Optional[_Union[OrderAccepted, _Mapping]] = ..., order_executed: _Optional[_Union[OrderExecuted, _Mapping]] = ..., order_cancel: _Optional[_Union[OrderCancel, _Mapping]] = ..., order_cancelled: _Optional[_Union[OrderCancelled, _Mapping]] = ..., order_invalid: _Optional[_Union[OrderInvalid, _Mapping]] = ..., market_subscribe: _Optional[_Union[MarketSubscribe, _Mapping]] = ..., market_unsubscribe: _Optional[_Union[MarketUnsubscribe, _Mapping]] = ..., market_quotes_request: _Optional[_Union[MarketQuotesRequest, _Mapping]] = ..., market_quotes: _Optional[_Union[MarketQuotes, _Mapping]] = ..., contract_quotes: _Optional[_Union[ContractQuotes, _Mapping]] = ..., events_request: _Optional[_Union[EventsRequest, _Mapping]] = ..., http_found: _Optional[_Union[HttpFound, _Mapping]] = ..., invalid_request: _Optional[_Union[InvalidRequest, _Mapping]] = ..., order_cancel_rejected: _Optional[_Union[OrderCancelRejected, _Mapping]] = ..., orders_for_account_request: _Optional[_Union[orders_for_account_request, _Mapping]] = ..., orders_for_account: _Optional[_Union[orders_for_account, _Mapping]] = ..., orders_for_market_request: _Optional[_Union[orders_for_market_request, _Mapping]] = ..., orders_for_market: _Optional[_Union[orders_for_market, _Mapping]] = ..., account_state_request: _Optional[_Union[AccountStateRequest, _Mapping]] = ..., account_state: _Optional[_Union[AccountState, _Mapping]] = ..., downtime_alert: _Optional[_Union[DowntimeAlert, _Mapping]] = ..., market_state: _Optional[_Union[MarketState, _Mapping]] = ..., order_cancel_all: _Optional[_Union[OrderCancelAll, _Mapping]] = ..., order_cancel_all_accepted: _Optional[_Union[OrderCancelAllAccepted, _Mapping]] = ..., order_cancel_all_rejected: _Optional[_Union[OrderCancelAllRejected, _Mapping]] = ..., market_subscribe_rejected: _Optional[_Union[MarketSubscribeRejected, _Mapping]] = ..., markets_request: _Optional[_Union[MarketsRequest, _Mapping]] = ..., markets: _Optional[_Union[Markets, _Mapping]] = ...) -> None: ...

class Uuid128(_message.Message):
    __slots__ = ("low", "high")
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    low: int
    high: int
    def __init__(self, low: _Optional[int] = ..., high: _Optional[int] = ...) -> None: ...

class Login(_message.Message):
    __slots__ = ("username", "password", "cookie", "extensions")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    COOKIE_FIELD_NUMBER: _ClassVar[int]
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    cookie: bytes
    extensions: int
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ..., cookie: _Optional[bytes] = ..., extensions: _Optional[int] = ...) -> None: ...

class OrderCreate(_message.Message):
    __slots__ = ("type", "market", "contract", "side", "quantity_type", "quantity", "price_type", "price", "maq", "tif", "reference")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    MAQ_FIELD_NUMBER: _ClassVar[int]
    TIF_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    type: OrderCreateType
    market: Uuid128
    contract: Uuid128
    side: Side
    quantity_type: QuantityType
    quantity: int
    price_type: PriceType
    price: int
    maq: int
    tif: TimeInForceType
    reference: str
    def __init__(self, type: _Optional[_Union[OrderCreateType, str]] = ..., market: _Optional[_Union[Uuid128, _Mapping]] = ..., contract: _Optional[_Union[Uuid128, _Mapping]] = ..., side: _Optional[_Union[Side, str]] = ..., quantity_type: _Optional[_Union[QuantityType, str]] = ..., quantity: _Optional[int] = ..., price_type: _Optional[_Union[PriceType, str]] = ..., price: _Optional[int] = ..., maq: _Optional[int] = ..., tif: _Optional[_Union[TimeInForceType, str]] = ..., reference: _Optional[str] = ...) -> None: ...

class OrderRejected(_message.Message):
    __slots__ = ("seq", "reason", "reference")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    reason: OrderRejectedReason
    reference: str
    def __init__(self, seq: _Optional[int] = ..., reason: _Optional[_Union[OrderRejectedReason, str]] = ..., reference: _Optional[str] = ...) -> None: ...

class OrderCancelRejected(_message.Message):
    __slots__ = ("seq", "reason", "order")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    seq: int
    reason: OrderCancelRejectedReason
    order: Uuid128
    def __init__(self, seq: _Optional[int] = ..., reason: _Optional[_Union[OrderCancelRejectedReason, str]] = ..., order: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class OrderAccepted(_message.Message):
    __slots__ = ("seq", "order", "reference")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    order: Uuid128
    reference: str
    def __init__(self, seq: _Optional[int] = ..., order: _Optional[_Union[Uuid128, _Mapping]] = ..., reference: _Optional[str] = ...) -> None: ...

class OrderExecuted(_message.Message):
    __slots__ = ("order", "price", "quantity_type", "quantity", "account_sequence", "side", "market", "contract", "remaining", "reference")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    order: Uuid128
    price: int
    quantity_type: QuantityType
    quantity: int
    account_sequence: int
    side: Side
    market: Uuid128
    contract: Uuid128
    remaining: int
    reference: str
    def __init__(self, order: _Optional[_Union[Uuid128, _Mapping]] = ..., price: _Optional[int] = ..., quantity_type: _Optional[_Union[QuantityType, str]] = ..., quantity: _Optional[int] = ..., account_sequence: _Optional[int] = ..., side: _Optional[_Union[Side, str]] = ..., market: _Optional[_Union[Uuid128, _Mapping]] = ..., contract: _Optional[_Union[Uuid128, _Mapping]] = ..., remaining: _Optional[int] = ..., reference: _Optional[str] = ...) -> None: ...

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

class OrderInvalid(_message.Message):
    __slots__ = ("seq", "reasons", "reference")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    reasons: _containers.RepeatedScalarFieldContainer[OrderInvalidReason]
    reference: str
    def __init__(self, seq: _Optional[int] = ..., reasons: _Optional[_Iterable[_Union[OrderInvalidReason, str]]] = ..., reference: _Optional[str] = ...) -> None: ...

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

class MarketQuotesRequest(_message.Message):
    __slots__ = ("market",)
    MARKET_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class MarketQuotes(_message.Message):
    __slots__ = ("market", "contract_quotes", "price_type", "quantity_type", "state", "seq")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_QUOTES_FIELD_NUMBER: _ClassVar[int]
    PRICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    contract_quotes: _containers.RepeatedCompositeFieldContainer[ContractQuotes]
    price_type: PriceType
    quantity_type: QuantityType
    state: MarketStatus
    seq: int
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ..., contract_quotes: _Optional[_Iterable[_Union[ContractQuotes, _Mapping]]] = ..., price_type: _Optional[_Union[PriceType, str]] = ..., quantity_type: _Optional[_Union[QuantityType, str]] = ..., state: _Optional[_Union[MarketStatus, str]] = ..., seq: _Optional[int] = ...) -> None: ...

class ContractQuotes(_message.Message):
    __slots__ = ("contract", "bids", "offers", "executions", "last_execution", "market", "volume")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    LAST_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    contract: Uuid128
    bids: _containers.RepeatedCompositeFieldContainer[Quote]
    offers: _containers.RepeatedCompositeFieldContainer[Quote]
    executions: _containers.RepeatedCompositeFieldContainer[Execution]
    last_execution: Execution
    market: Uuid128
    volume: int
    def __init__(self, contract: _Optional[_Union[Uuid128, _Mapping]] = ..., bids: _Optional[_Iterable[_Union[Quote, _Mapping]]] = ..., offers: _Optional[_Iterable[_Union[Quote, _Mapping]]] = ..., executions: _Optional[_Iterable[_Union[Execution, _Mapping]]] = ..., last_execution: _Optional[_Union[Execution, _Mapping]] = ..., market: _Optional[_Union[Uuid128, _Mapping]] = ..., volume: _Optional[int] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("price", "quantity")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    price: int
    quantity: int
    def __init__(self, price: _Optional[int] = ..., quantity: _Optional[int] = ...) -> None: ...

class Execution(_message.Message):
    __slots__ = ("price", "quantity", "liquidity", "microseconds")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LIQUIDITY_FIELD_NUMBER: _ClassVar[int]
    MICROSECONDS_FIELD_NUMBER: _ClassVar[int]
    price: int
    quantity: int
    liquidity: Side
    microseconds: int
    def __init__(self, price: _Optional[int] = ..., quantity: _Optional[int] = ..., liquidity: _Optional[_Union[Side, str]] = ..., microseconds: _Optional[int] = ...) -> None: ...

class MarketState(_message.Message):
    __slots__ = ("market", "state", "winner")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    state: MarketStatus
    winner: Uuid128
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ..., state: _Optional[_Union[MarketStatus, str]] = ..., winner: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class MarketSubscribeRejected(_message.Message):
    __slots__ = ("seq", "market", "reason")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    MARKET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    seq: int
    market: Uuid128
    reason: MarketSubscribeRejectedReason
    def __init__(self, seq: _Optional[int] = ..., market: _Optional[_Union[Uuid128, _Mapping]] = ..., reason: _Optional[_Union[MarketSubscribeRejectedReason, str]] = ...) -> None: ...

class EventsRequest(_message.Message):
    __slots__ = ("type", "content_type", "sport_by_date")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SPORT_BY_DATE_FIELD_NUMBER: _ClassVar[int]
    type: EventsRequestType
    content_type: ContentType
    sport_by_date: SportByDate
    def __init__(self, type: _Optional[_Union[EventsRequestType, str]] = ..., content_type: _Optional[_Union[ContentType, str]] = ..., sport_by_date: _Optional[_Union[SportByDate, _Mapping]] = ...) -> None: ...

class SportByDate(_message.Message):
    __slots__ = ("type", "date")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    type: SportByDateType
    date: Date
    def __init__(self, type: _Optional[_Union[SportByDateType, str]] = ..., date: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class Events(_message.Message):
    __slots__ = ("with_markets", "parents")
    WITH_MARKETS_FIELD_NUMBER: _ClassVar[int]
    PARENTS_FIELD_NUMBER: _ClassVar[int]
    with_markets: _containers.RepeatedCompositeFieldContainer[EventInfo]
    parents: _containers.RepeatedCompositeFieldContainer[EventInfo]
    def __init__(self, with_markets: _Optional[_Iterable[_Union[EventInfo, _Mapping]]] = ..., parents: _Optional[_Iterable[_Union[EventInfo, _Mapping]]] = ...) -> None: ...

class EventInfo(_message.Message):
    __slots__ = ("event", "type", "category", "slug", "name", "parent", "start_date", "start_time", "end_date", "end_time", "entities", "markets", "description")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    event: Uuid128
    type: EventType
    category: EventCategory
    slug: str
    name: str
    parent: Uuid128
    start_date: Date
    start_time: Time
    end_date: Date
    end_time: Time
    entities: _containers.RepeatedCompositeFieldContainer[EntityRelationship]
    markets: _containers.RepeatedCompositeFieldContainer[MarketInfo]
    description: str
    def __init__(self, event: _Optional[_Union[Uuid128, _Mapping]] = ..., type: _Optional[_Union[EventType, str]] = ..., category: _Optional[_Union[EventCategory, str]] = ..., slug: _Optional[str] = ..., name: _Optional[str] = ..., parent: _Optional[_Union[Uuid128, _Mapping]] = ..., start_date: _Optional[_Union[Date, _Mapping]] = ..., start_time: _Optional[_Union[Time, _Mapping]] = ..., end_date: _Optional[_Union[Date, _Mapping]] = ..., end_time: _Optional[_Union[Time, _Mapping]] = ..., entities: _Optional[_Iterable[_Union[EntityRelationship, _Mapping]]] = ..., markets: _Optional[_Iterable[_Union[MarketInfo, _Mapping]]] = ..., description: _Optional[str] = ...) -> None: ...

class MarketInfo(_message.Message):
    __slots__ = ("market", "contracts", "slug", "name", "start_date", "start_time", "end_date", "end_time", "entities", "shortname")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    CONTRACTS_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    SHORTNAME_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    contracts: _containers.RepeatedCompositeFieldContainer[ContractInfo]
    slug: str
    name: str
    start_date: Date
    start_time: Time
    end_date: Date
    end_time: Time
    entities: _containers.RepeatedCompositeFieldContainer[EntityRelationship]
    shortname: str
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ..., contracts: _Optional[_Iterable[_Union[ContractInfo, _Mapping]]] = ..., slug: _Optional[str] = ..., name: _Optional[str] = ..., start_date: _Optional[_Union[Date, _Mapping]] = ..., start_time: _Optional[_Union[Time, _Mapping]] = ..., end_date: _Optional[_Union[Date, _Mapping]] = ..., end_time: _Optional[_Union[Time, _Mapping]] = ..., entities: _Optional[_Iterable[_Union[EntityRelationship, _Mapping]]] = ..., shortname: _Optional[str] = ...) -> None: ...

class ContractInfo(_message.Message):
    __slots__ = ("contract", "type", "slug", "name", "entities", "shortname")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    SHORTNAME_FIELD_NUMBER: _ClassVar[int]
    contract: Uuid128
    type: ContractType
    slug: str
    name: str
    entities: _containers.RepeatedCompositeFieldContainer[EntityRelationship]
    shortname: str
    def __init__(self, contract: _Optional[_Union[Uuid128, _Mapping]] = ..., type: _Optional[_Union[ContractType, str]] = ..., slug: _Optional[str] = ..., name: _Optional[str] = ..., entities: _Optional[_Iterable[_Union[EntityRelationship, _Mapping]]] = ..., shortname: _Optional[str] = ...) -> None: ...

class EntityRelationship(_message.Message):
    __slots__ = ("entity", "relationship")
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIP_FIELD_NUMBER: _ClassVar[int]
    entity: Uuid128
    relationship: EntityRelationshipType
    def __init__(self, entity: _Optional[_Union[Uuid128, _Mapping]] = ..., relationship: _Optional[_Union[EntityRelationshipType, str]] = ...) -> None: ...

class HttpFound(_message.Message):
    __slots__ = ("seq", "url")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    seq: int
    url: str
    def __init__(self, seq: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...

class InvalidRequest(_message.Message):
    __slots__ = ("seq", "type")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    type: InvalidRequestType
    def __init__(self, seq: _Optional[int] = ..., type: _Optional[_Union[InvalidRequestType, str]] = ...) -> None: ...

class Date(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class Time(_message.Message):
    __slots__ = ("hour", "minute")
    HOUR_FIELD_NUMBER: _ClassVar[int]
    MINUTE_FIELD_NUMBER: _ClassVar[int]
    hour: int
    minute: int
    def __init__(self, hour: _Optional[int] = ..., minute: _Optional[int] = ...) -> None: ...

class orders_for_account_request(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class orders_for_account(_message.Message):
    __slots__ = ("markets",)
    MARKETS_FIELD_NUMBER: _ClassVar[int]
    markets: _containers.RepeatedCompositeFieldContainer[orders_for_market]
    def __init__(self, markets: _Optional[_Iterable[_Union[orders_for_market, _Mapping]]] = ...) -> None: ...

class orders_for_market_request(_message.Message):
    __slots__ = ("market",)
    MARKET_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class orders_for_market(_message.Message):
    __slots__ = ("market", "price_type", "contracts")
    MARKET_FIELD_NUMBER: _ClassVar[int]
    PRICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTRACTS_FIELD_NUMBER: _ClassVar[int]
    market: Uuid128
    price_type: PriceType
    contracts: _containers.RepeatedCompositeFieldContainer[orders_for_contract]
    def __init__(self, market: _Optional[_Union[Uuid128, _Mapping]] = ..., price_type: _Optional[_Union[PriceType, str]] = ..., contracts: _Optional[_Iterable[_Union[orders_for_contract, _Mapping]]] = ...) -> None: ...

class orders_for_contract(_message.Message):
    __slots__ = ("contract", "bids", "offers")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    contract: Uuid128
    bids: _containers.RepeatedCompositeFieldContainer[orders_for_price]
    offers: _containers.RepeatedCompositeFieldContainer[orders_for_price]
    def __init__(self, contract: _Optional[_Union[Uuid128, _Mapping]] = ..., bids: _Optional[_Iterable[_Union[orders_for_price, _Mapping]]] = ..., offers: _Optional[_Iterable[_Union[orders_for_price, _Mapping]]] = ...) -> None: ...

class orders_for_price(_message.Message):
    __slots__ = ("price", "orders")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    price: int
    orders: _containers.RepeatedCompositeFieldContainer[OrderState]
    def __init__(self, price: _Optional[int] = ..., orders: _Optional[_Iterable[_Union[OrderState, _Mapping]]] = ...) -> None: ...

class OrderState(_message.Message):
    __slots__ = ("order", "type", "status", "quantity_type", "quantity", "created_microseconds", "quantity_filled", "remaining", "reference")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CREATED_MICROSECONDS_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FILLED_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    order: Uuid128
    type: OrderCreateType
    status: OrderStatus
    quantity_type: QuantityType
    quantity: int
    created_microseconds: int
    quantity_filled: int
    remaining: int
    reference: str
    def __init__(self, order: _Optional[_Union[Uuid128, _Mapping]] = ..., type: _Optional[_Union[OrderCreateType, str]] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., quantity_type: _Optional[_Union[QuantityType, str]] = ..., quantity: _Optional[int] = ..., created_microseconds: _Optional[int] = ..., quantity_filled: _Optional[int] = ..., remaining: _Optional[int] = ..., reference: _Optional[str] = ...) -> None: ...

class AccountStateRequest(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: Uuid128
    def __init__(self, account: _Optional[_Union[Uuid128, _Mapping]] = ...) -> None: ...

class AccountState(_message.Message):
    __slots__ = ("account", "currency", "cash", "bonus", "exposure", "available", "staked", "seq")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CASH_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    STAKED_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    account: Uuid128
    currency: Currency
    cash: Decimal
    bonus: Decimal
    exposure: Decimal
    available: Decimal
    staked: Decimal
    seq: int
    def __init__(self, account: _Optional[_Union[Uuid128, _Mapping]] = ..., currency: _Optional[_Union[Currency, str]] = ..., cash: _Optional[_Union[Decimal, _Mapping]] = ..., bonus: _Optional[_Union[Decimal, _Mapping]] = ..., exposure: _Optional[_Union[Decimal, _Mapping]] = ..., available: _Optional[_Union[Decimal, _Mapping]] = ..., staked: _Optional[_Union[Decimal, _Mapping]] = ..., seq: _Optional[int] = ...) -> None: ...

class Decimal(_message.Message):
    __slots__ = ("value", "exponent")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EXPONENT_FIELD_NUMBER: _ClassVar[int]
    value: int
    exponent: int
    def __init__(self, value: _Optional[int] = ..., exponent: _Optional[int] = ...) -> None: ...

class DowntimeAlert(_message.Message):
    __slots__ = ("type",)
    TYPE_FIELD_NUMBER: _ClassVar[int]
    type: DowntimeAlertType
    def __init__(self, type: _Optional[_Union[DowntimeAlertType, str]] = ...) -> None: ...

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
