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

A session that survives a dropped connection (it reconnects and resumes by itself) and the
death of the process (``alice.session`` keeps it; the next run resumes it)::

    session = smarkets.Session(
        settings,
        reconnect=smarkets.ReconnectPolicy(),
        state_store=smarkets.FileStateStore("alice.session"),
    )

The names below are the ones a script needs: the client and its session, settings and
orders, the market books, reconnecting, the state store, the journal, ids, the catalogue's
events requests, and every exception of :mod:`smarkets.errors` with those of the modules
that define their own.

Scripts written for the 2013 SDK run too: its module paths (``smarkets.sessions``,
``smarkets.clients``, ``smarkets.orders``, ``smarkets.events``, ``smarkets.exceptions``)
and its exception names (``smarkets.SocketDisconnected``, ``smarkets.ConnectionError``,
``smarkets.InvalidCallbackError``, ...) are here as aliases of the project's own; see
:mod:`smarkets.exceptions`. ``smarkets.ConnectionError`` is left out of ``__all__`` so that
``from smarkets import *`` does not hide Python's builtin ``ConnectionError``.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from smarkets.account import Account, OpenOrder
from smarkets.book import Books, ContractBook, MarketBook, UnknownContractError
from smarkets.client import Smarkets
from smarkets.errors import (
    ClientClosedError,
    ConnectError,
    ConnectionClosed,
    DownloadError,
    DowntimeError,
    Error,
    ExtensionNotGrantedError,
    HeartbeatTimeoutError,
    InvalidIdError,
    InvalidOrderError,
    InvalidRequestError,
    InvalidUrlError,
    LocalProtocolError,
    LoggedOutError,
    LoginError,
    LoginTimeoutError,
    NotLoggedInError,
    PayloadRejectedError,
    ProtocolError,
    RemoteProtocolError,
    SessionEndedError,
    SettingsError,
    SocketError,
    SocketTimeout,
    StateStoreError,
    TLSError,
    UnknownHandlerError,
    UnknownSessionError,
)
from smarkets.events import (
    AmericanFootballByDate,
    BaseballByDate,
    BasketballByDate,
    CricketByDate,
    CurrentAffairs,
    EventsRequest,
    FootballByDate,
    HandballByDate,
    HorseRacingByDate,
    Politics,
    RugbyByDate,
    RugbyLeagueByDate,
    SportByDate,
    SportOther,
    TennisByDate,
    TvAndEntertainment,
    VolleyballByDate,
)
from smarkets.exceptions import (
    ConnectionError as ConnectionError,  # 2013's SocketError; not in __all__ (see above)
)
from smarkets.exceptions import (
    DecodeError,
    InvalidCallbackError,
    ParseError,
    SocketDisconnected,
)
from smarkets.journal import Journal, JournalError, read_journal
from smarkets.orders import Order
from smarkets.protocol.ids import (
    int_to_uuid128,
    str_to_int,
    str_to_uuid128,
    uuid128_to_int,
    uuid128_to_str,
)
from smarkets.reconnect import ConnectionEvent, ConnectionState, ReconnectPolicy
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
    "Account",
    "AmericanFootballByDate",
    "BaseballByDate",
    "BasketballByDate",
    "Books",
    "ClientClosedError",
    "ConnectError",
    "ConnectionClosed",
    "ConnectionEvent",
    "ConnectionState",
    "ContractBook",
    "CricketByDate",
    "CurrentAffairs",
    "DecodeError",
    "DownloadError",
    "DowntimeError",
    "Error",
    "EventsRequest",
    "ExtensionNotGrantedError",
    "FileStateStore",
    "FootballByDate",
    "HandballByDate",
    "HeartbeatTimeoutError",
    "HorseRacingByDate",
    "InvalidCallbackError",
    "InvalidIdError",
    "InvalidOrderError",
    "InvalidRequestError",
    "InvalidUrlError",
    "Journal",
    "JournalError",
    "LoggedOutError",
    "LoginError",
    "LoginTimeoutError",
    "MarketBook",
    "NotLoggedInError",
    "OpenOrder",
    "Order",
    "ParseError",
    "PayloadRejectedError",
    "Politics",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "ReconnectPolicy",
    "RugbyByDate",
    "RugbyLeagueByDate",
    "SavedSession",
    "Session",
    "SessionEndedError",
    "SessionSettings",
    "SessionSocket",
    "SettingsError",
    "Smarkets",
    "SocketDisconnected",
    "SocketError",
    "SocketTimeout",
    "SportByDate",
    "SportOther",
    "StateStoreError",
    "TLSError",
    "TennisByDate",
    "TvAndEntertainment",
    "UnknownContractError",
    "UnknownHandlerError",
    "UnknownSessionError",
    "VolleyballByDate",
    "__version__",
    "int_to_uuid128",
    "read_journal",
    "str_to_int",
    "str_to_uuid128",
    "uuid128_to_int",
    "uuid128_to_str",
    "uuid_to_str",
]
