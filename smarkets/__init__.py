"""smarkets: a client for a betting exchange's streaming API, and a sandbox exchange.

A trading script::

    import smarkets
    settings = smarkets.SessionSettings(username, password)
    session = smarkets.Session(settings)
    client = smarkets.Smarkets(session)
    client.login()
    client.ping()
    client.flush()
    client.read()
    client.logout()
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from smarkets.client import Smarkets
from smarkets.errors import (
    ConnectError,
    ConnectionClosed,
    Error,
    HeartbeatTimeoutError,
    InvalidIdError,
    InvalidOrderError,
    LoggedOutError,
    LoginError,
    LoginTimeoutError,
    NotLoggedInError,
    ProtocolError,
    SessionEndedError,
    SettingsError,
    SocketError,
    SocketTimeout,
    StateStoreError,
    TLSError,
    UnknownHandlerError,
    UnknownSessionError,
)
from smarkets.ids import (
    int_to_uuid128,
    str_to_int,
    str_to_uuid128,
    uuid128_to_int,
    uuid128_to_str,
)
from smarkets.orders import Order
from smarkets.session import Session
from smarkets.session_socket import SessionSocket
from smarkets.settings import SessionSettings
from smarkets.state_store import FileStateStore, SavedSession

try:
    __version__ = _version("smarkets")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

#: ``uuid_to_str(u, kind)``: the same as :func:`uuid128_to_str`.
uuid_to_str = uuid128_to_str

__all__ = [
    "ConnectError",
    "ConnectionClosed",
    "Error",
    "FileStateStore",
    "HeartbeatTimeoutError",
    "InvalidIdError",
    "InvalidOrderError",
    "LoggedOutError",
    "LoginError",
    "LoginTimeoutError",
    "NotLoggedInError",
    "Order",
    "ProtocolError",
    "SavedSession",
    "Session",
    "SessionEndedError",
    "SessionSettings",
    "SessionSocket",
    "SettingsError",
    "Smarkets",
    "SocketError",
    "SocketTimeout",
    "StateStoreError",
    "TLSError",
    "UnknownHandlerError",
    "UnknownSessionError",
    "__version__",
    "int_to_uuid128",
    "str_to_int",
    "str_to_uuid128",
    "uuid128_to_int",
    "uuid128_to_str",
    "uuid_to_str",
]
