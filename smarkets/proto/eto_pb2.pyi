from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PayloadType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYLOAD_NONE: _ClassVar[PayloadType]
    PAYLOAD_PING: _ClassVar[PayloadType]
    PAYLOAD_PONG: _ClassVar[PayloadType]
    PAYLOAD_GAPFILL: _ClassVar[PayloadType]
    PAYLOAD_HEARTBEAT: _ClassVar[PayloadType]
    PAYLOAD_REPLAY: _ClassVar[PayloadType]
    PAYLOAD_LOGIN: _ClassVar[PayloadType]
    PAYLOAD_LOGIN_RESPONSE: _ClassVar[PayloadType]
    PAYLOAD_LOGOUT: _ClassVar[PayloadType]
    PAYLOAD_DOWNTIME_ALERT: _ClassVar[PayloadType]
    PAYLOAD_THROTTLE_EXCEEDED: _ClassVar[PayloadType]

class LogoutReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOGOUT_NONE: _ClassVar[LogoutReason]
    LOGOUT_HEARTBEAT_TIMEOUT: _ClassVar[LogoutReason]
    LOGOUT_CONFIRMATION: _ClassVar[LogoutReason]
    LOGOUT_LOGIN_TIMEOUT: _ClassVar[LogoutReason]
    LOGOUT_LOGIN_NOT_FIRST_SEQ: _ClassVar[LogoutReason]
    LOGOUT_UNKNOWN_SESSION: _ClassVar[LogoutReason]
    LOGOUT_UNAUTHORISED: _ClassVar[LogoutReason]
    LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE: _ClassVar[LogoutReason]
    LOGOUT_DOWNTIME: _ClassVar[LogoutReason]
    LOGOUT_INVALID_PAYLOAD: _ClassVar[LogoutReason]
    LOGOUT_UNSUPPORTED_PAYLOAD: _ClassVar[LogoutReason]

class DowntimeAlertType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOWNTIME_ALERT_CONNECTION: _ClassVar[DowntimeAlertType]
    DOWNTIME_ALERT_FUNCTIONALITY: _ClassVar[DowntimeAlertType]
    DOWNTIME_ALERT_CANCELLED: _ClassVar[DowntimeAlertType]
    DOWNTIME_ALERT_SERVICE_RESUMED: _ClassVar[DowntimeAlertType]
PAYLOAD_NONE: PayloadType
PAYLOAD_PING: PayloadType
PAYLOAD_PONG: PayloadType
PAYLOAD_GAPFILL: PayloadType
PAYLOAD_HEARTBEAT: PayloadType
PAYLOAD_REPLAY: PayloadType
PAYLOAD_LOGIN: PayloadType
PAYLOAD_LOGIN_RESPONSE: PayloadType
PAYLOAD_LOGOUT: PayloadType
PAYLOAD_DOWNTIME_ALERT: PayloadType
PAYLOAD_THROTTLE_EXCEEDED: PayloadType
LOGOUT_NONE: LogoutReason
LOGOUT_HEARTBEAT_TIMEOUT: LogoutReason
LOGOUT_CONFIRMATION: LogoutReason
LOGOUT_LOGIN_TIMEOUT: LogoutReason
LOGOUT_LOGIN_NOT_FIRST_SEQ: LogoutReason
LOGOUT_UNKNOWN_SESSION: LogoutReason
LOGOUT_UNAUTHORISED: LogoutReason
LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE: LogoutReason
LOGOUT_DOWNTIME: LogoutReason
LOGOUT_INVALID_PAYLOAD: LogoutReason
LOGOUT_UNSUPPORTED_PAYLOAD: LogoutReason
DOWNTIME_ALERT_CONNECTION: DowntimeAlertType
DOWNTIME_ALERT_FUNCTIONALITY: DowntimeAlertType
DOWNTIME_ALERT_CANCELLED: DowntimeAlertType
DOWNTIME_ALERT_SERVICE_RESUMED: DowntimeAlertType

class Payload(_message.Message):
    __slots__ = ("seq", "type", "is_replay", "replay", "login", "login_response", "logout", "downtime_alert")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    IS_REPLAY_FIELD_NUMBER: _ClassVar[int]
    REPLAY_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    LOGIN_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    LOGOUT_FIELD_NUMBER: _ClassVar[int]
    DOWNTIME_ALERT_FIELD_NUMBER: _ClassVar[int]
    seq: int
    type: PayloadType
    is_replay: bool
    replay: Replay
    login: Login
    login_response: LoginResponse
    logout: Logout
    downtime_alert: DowntimeAlert
    def __init__(self, seq: _Optional[int] = ..., type: _Optional[_Union[PayloadType, str]] = ..., is_replay: _Optional[bool] = ..., replay: _Optional[_Union[Replay, _Mapping]] = ..., login: _Optional[_Union[Login, _Mapping]] = ..., login_response: _Optional[_Union[LoginResponse, _Mapping]] = ..., logout: _Optional[_Union[Logout, _Mapping]] = ..., downtime_alert: _Optional[_Union[DowntimeAlert, _Mapping]] = ...) -> None: ...

class Replay(_message.Message):
    __slots__ = ("seq",)
    SEQ_FIELD_NUMBER: _ClassVar[int]
    seq: int
    def __init__(self, seq: _Optional[int] = ...) -> None: ...

class Login(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: str
    def __init__(self, session: _Optional[str] = ...) -> None: ...

class LoginResponse(_message.Message):
    __slots__ = ("session", "reset", "extensions")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    RESET_FIELD_NUMBER: _ClassVar[int]
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    session: str
    reset: int
    extensions: int
    def __init__(self, session: _Optional[str] = ..., reset: _Optional[int] = ..., extensions: _Optional[int] = ...) -> None: ...

class Logout(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: LogoutReason
    def __init__(self, reason: _Optional[_Union[LogoutReason, str]] = ...) -> None: ...

class DowntimeAlert(_message.Message):
    __slots__ = ("type", "datetime", "description")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DATETIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    type: DowntimeAlertType
    datetime: DateTime
    description: str
    def __init__(self, type: _Optional[_Union[DowntimeAlertType, str]] = ..., datetime: _Optional[_Union[DateTime, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

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

class DateTime(_message.Message):
    __slots__ = ("date", "time")
    DATE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    date: Date
    time: Time
    def __init__(self, date: _Optional[_Union[Date, _Mapping]] = ..., time: _Optional[_Union[Time, _Mapping]] = ...) -> None: ...
