"""The sandbox exchange's network side: an asyncio server speaking the streaming protocol.

Each TCP (or TLS) connection is a :class:`Connection`, an :class:`asyncio.Protocol` that
feeds what it reads through a :class:`~smarkets.protocol.framing.FrameDecoder` into a
:class:`~smarkets.protocol.core.SessionCore` (``Role.SERVER``) and writes out, framed, what
the core gives back. The session rules (sequencing, replay, gap detection, heartbeats,
login and logout) are the core's; this module only decides what the core leaves to the
application: who may log in, which session a login resumes, what each request does and who
receives each of the exchange's answers.

Sessions outlive connections. A :class:`ServerSession` is registered when its login is
accepted; when its connection drops (or times out on heartbeats) it is *parked*: it keeps
receiving its private messages and the market data it subscribed to, numbered and kept by
a connection-less core in the session's replay store, for ``session_expiry`` seconds. A
resume within that time picks the same :class:`~smarkets.protocol.replay.SessionState` up on
the new connection, and the core replays exactly what the client missed. A session ended by
a logout is forgotten at once.

Routing of the exchange's outputs (see :meth:`SandboxServer.route`):

* a reply to a request (order_accepted/rejected/invalid, order_cancel_rejected,
  order_cancel_all_accepted/rejected, order_cancelled carrying the request's seq,
  account_state carrying a seq, orders_for_account/market, markets, market_quotes,
  market_subscribe_rejected) goes to the session that sent the request;
* order_executed, and an order_cancelled with no seq (an IMMEDIATE_OR_CANCEL remainder or a
  ``maq`` not met, a halt, a settlement), go to the session that placed the order while it
  exists (connected or parked); once that session has ended (logout, expiry), to every
  session of the order's account, connected or parked (none: nothing is sent; the orders
  and account state requests still tell the truth);
* an account_state with no seq (after a settlement) goes to every session of the account;
* public market data (``ToMarket``) goes to every session subscribed to the market.

Extensions (PROTOCOL.md section 3.2): a login whose ``seto.Login.extensions`` is above 0 is
granted ``min(requested, EXTENSIONS_VERSION)``, fixed for the session's life: a resume keeps
the grant the session was created with, whatever the resuming login asks for. A session
granted none is sent only what the published schema parses: every payload goes through
:func:`smarkets.protocol.extensions.published_view` on its way to it (an extension kind is not sent;
extension fields are left out; an extension enum value becomes its published stand-in), and
routing is decided on the full payload before the view is made (the request seqs that route
order_cancelled and account_state are extension fields). The market-data fan-out serialises
each payload once per variant. Such a session that sends an extension kind is logged out
(LOGOUT_UNSUPPORTED_PAYLOAD, LOGOUT_NONE on its wire).

What a client sends that the server cannot act on is never answered by a silent
disconnect: a payload that cannot be decoded or lacks a required field ends the session with
LOGOUT ``INVALID_PAYLOAD``; one of a kind or with an enum value the server does not serve (an
unknown payload type, or a published kind only a server sends such as ``order_accepted``),
with LOGOUT
``UNSUPPORTED_PAYLOAD`` (a session without extensions is told ``LOGOUT_NONE``); each with a
log line naming the peer, the session and why. Only a peer that cannot be written to (see
``max_write_buffer``) or one over ``max_connections`` is closed without a LOGOUT, with a log
line.

Downtime (:meth:`SandboxServer.downtime_connection`, :meth:`~SandboxServer.downtime_orders`,
:meth:`~SandboxServer.downtime_cancel`, :meth:`~SandboxServer.downtime_resumed`; the admin
console's ``downtime`` commands): announced to every session with eto (and, for order
creation, seto) ``downtime_alert``; a connection downtime logs every session out (LOGOUT
``DOWNTIME``, not resumable) when it starts and refuses logins until service is resumed; an
order-create downtime rejects orders (SERVICE_TEMPORARILY_UNAVAILABLE) until then.

Logins: the credentials are checked against salted scrypt hashes
(:class:`~smarkets.sandbox.accounts.CredentialStore`), about 20 ms per login, on a small pool
of worker threads (``login_workers``) so that a flood of logins never stalls the event loop
for the sessions already trading. While its check runs, a connection is not read from. At
most ``max_pending_logins`` checks wait or run at once; a login beyond that is answered
LOGOUT ``SERVICE_TEMPORARILY_UNAVAILABLE``. A resume must give the same account's
credentials and a session id that is live or parked (else UNKNOWN_SESSION); if that session
is still attached to another connection, that connection is closed without a logout and the
session moves to the new one.

Limits on what one client can make the server hold (see :class:`ServerConfig`; the
security page of the documentation lists them all): at most ``max_connections`` connections
are served, and a connection beyond that has its login refused with
``SERVICE_TEMPORARILY_UNAVAILABLE`` (and is aborted at once when even those are too many);
before its login, a connection may hold at most ``max_login_size`` bytes of an unfinished
frame; a client that does not read is dropped once ``max_write_buffer`` bytes wait for it.

Throttling: every session has a token bucket (``throttle_rate`` application payloads per
second, ``throttle_burst`` at most). When a client outruns it, the server sends one eto
THROTTLE_EXCEEDED notice (an extension kind: only to a session granted extensions) and
stops reading from the connection until the bucket has refilled:
backpressure through TCP, never a dropped or reordered request. The debt a burst runs into is
one bucket at most, so that the pause stays short. Likewise, while a client leaves unread more
than the transport's high-water mark, the server stops reading it (output backpressure): a
client that sends requests without reading their answers is stalled, not buffered for.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import logging
import secrets
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from google.protobuf.unknown_fields import UnknownFieldSet

from smarkets.errors import ProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_LOGIN_TIMEOUT,
    Event,
    LoggedIn,
    LoginRequested,
    Received,
    ReplayStore,
    Role,
    SessionCore,
    SessionEnded,
    SessionState,
    State,
    is_session_level,
    logout_reason_name,
    serialize_once,
    session_payload,
)
from smarkets.protocol.extensions import EXTENSIONS_VERSION, FIRST_EXTENSION_CODE, published_view
from smarkets.protocol.framing import DEFAULT_MAX_PAYLOAD_SIZE, FrameDecoder, encode_frames
from smarkets.protocol.ids import str_to_int, uuid128_to_str
from smarkets.protocol.payloads import classify_bad_frames
from smarkets.sandbox.exchange import (
    DEFAULT_MAX_ORDER_QUANTITY,
    MAX_OPEN_ORDERS_LIMIT,
    MAX_UINT32,
    MIN_QUANTITY,
    Exchange,
    Output,
    ToMarket,
)
from smarkets.sandbox.exchange.accounts_file import MAX_NAME_LENGTH, AccountsError
from smarkets.sandbox.exchange.bots import BotFleet
from smarkets.sandbox.exchange.catalogue import (
    Catalogue,
    EventSpec,
    Listing,
    MarketSpec,
)
from smarkets.sandbox.exchange.markets_file import parse_event, parse_market
from smarkets.sandbox.server.catalogue_http import CatalogueHttpServer
from smarkets.sandbox.server.credentials import CredentialStore

__all__ = [
    "Balance",
    "Connection",
    "SandboxServer",
    "ServerConfig",
    "ServerSession",
    "TokenBucket",
]

_log = logging.getLogger(__name__)

Payload = seto_pb2.Payload

_ORDER_CREATE = seto_pb2.PAYLOAD_ORDER_CREATE
_ORDER_CANCEL = seto_pb2.PAYLOAD_ORDER_CANCEL
_ORDER_CANCEL_ALL = seto_pb2.PAYLOAD_ORDER_CANCEL_ALL
_ORDER_ACCEPTED = seto_pb2.PAYLOAD_ORDER_ACCEPTED
_ORDER_EXECUTED = seto_pb2.PAYLOAD_ORDER_EXECUTED
_ORDER_CANCELLED = seto_pb2.PAYLOAD_ORDER_CANCELLED
_ACCOUNT_STATE = seto_pb2.PAYLOAD_ACCOUNT_STATE
_MARKET_SUBSCRIBE = seto_pb2.PAYLOAD_MARKET_SUBSCRIBE
_MARKET_UNSUBSCRIBE = seto_pb2.PAYLOAD_MARKET_UNSUBSCRIBE
_MARKET_QUOTES_REQUEST = seto_pb2.PAYLOAD_MARKET_QUOTES_REQUEST
_ORDERS_FOR_ACCOUNT_REQUEST = seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT_REQUEST
_ORDERS_FOR_MARKET_REQUEST = seto_pb2.PAYLOAD_ORDERS_FOR_MARKET_REQUEST
_ACCOUNT_STATE_REQUEST = seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST
_MARKETS_REQUEST = seto_pb2.PAYLOAD_MARKETS_REQUEST
_EVENTS_REQUEST = seto_pb2.PAYLOAD_EVENTS_REQUEST
_ETO_TYPE_FIELD = eto_pb2.Payload.DESCRIPTOR.fields_by_name["type"].number

#: The kinds a client may send, with the Payload field each needs set (None: an empty
#: request, served whether or not its empty message was set).
_REQUEST_FIELDS: dict[int, str | None] = {
    _ORDER_CREATE: "order_create",
    _ORDER_CANCEL: "order_cancel",
    _MARKET_SUBSCRIBE: "market_subscribe",
    _MARKET_UNSUBSCRIBE: "market_unsubscribe",
    _MARKET_QUOTES_REQUEST: "market_quotes_request",
    _ORDERS_FOR_ACCOUNT_REQUEST: None,
    _ORDERS_FOR_MARKET_REQUEST: "orders_for_market_request",
    _ACCOUNT_STATE_REQUEST: None,
    _EVENTS_REQUEST: "events_request",
    # Extension kinds (a session without extensions may not send them).
    _ORDER_CANCEL_ALL: None,
    _MARKETS_REQUEST: None,
}

_MASK64 = (1 << 64) - 1


def _uuid(msg: seto_pb2.Uuid128) -> int:
    return msg.low | msg.high << 64


def _set_uuid(msg: seto_pb2.Uuid128, value: int) -> None:
    msg.low = value & _MASK64
    if value > _MASK64:
        msg.high = value >> 64


def _type_name(payload: Payload) -> str:
    try:
        return seto_pb2.PayloadType.Name(payload.type)
    except ValueError:
        return str(payload.type)


@dataclass
class ServerConfig:
    """The server's settings (the command line's options; defaults in brackets).

    ``heartbeat_timeout`` defaults to three heartbeat intervals. ``throttle_rate`` 0 turns
    throttling off; ``throttle_burst`` defaults to twice the rate. ``replay_limit`` is how
    many payloads each session keeps for replay (``None``: no limit).
    ``max_write_buffer`` is how many unsent bytes a connection may pile up (a client that
    does not read) before it is dropped; its session stays resumable.

    Hardening (see the module docstring): ``max_connections`` connections are served at
    once, the login of any other is refused (``SERVICE_TEMPORARILY_UNAVAILABLE``);
    ``login_workers`` threads check passwords off the event loop (0 checks them on the loop,
    which only a cheap hash, as in-memory tests use, can afford); ``max_pending_logins``
    checks may wait or run at once, a login beyond that is refused
    (``SERVICE_TEMPORARILY_UNAVAILABLE``); ``max_login_size`` is the most bytes of an
    unfinished frame a connection may send before its login (a protocol error beyond).
    ``socket_send_buffer`` sets each connection's kernel send buffer (``SO_SNDBUF``; 0 leaves
    the system's, which on Linux grows to several MiB per connection): with it, what a client
    that does not read can make the host hold is about that plus ``max_write_buffer``.

    ``max_open_orders`` is how many open (resting) orders one account may have, beyond which
    an order is rejected with LIMIT_EXCEEDED (IMMEDIATE_OR_CANCEL orders never rest and are
    not counted); ``max_order_quantity`` is the largest order quantity (above it:
    order_invalid INVALID_QUANTITY), at most 4294967295 so that every order's quantities fit
    the wire's uint32. Both configure the :class:`~smarkets.sandbox.exchange.Exchange` the
    server builds when it is given none (one given keeps its own).

    The catalogue over HTTP (:mod:`smarkets.sandbox.catalogue_http`) listens on ``host``,
    port ``http_port`` (0: a free one); its URLs name ``url_host`` (default: ``host``, or the
    address a client connected to when ``host`` is a wildcard). A sport's listing is served
    for dates within ``listing_days`` of today (UTC), either side; other dates get
    ``invalid_request`` DATE_OUT_OF_RANGE. An HTTP request must arrive within
    ``http_timeout`` seconds; ``max_http_connections`` are served at once.
    """

    host: str = "127.0.0.1"
    port: int = 3701
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL
    heartbeat_timeout: float | None = None
    login_timeout: float = DEFAULT_LOGIN_TIMEOUT
    session_expiry: float = 300.0
    replay_limit: int | None = 100_000
    throttle_rate: float = 1000.0
    throttle_burst: float | None = None
    max_payload_size: int = DEFAULT_MAX_PAYLOAD_SIZE
    max_write_buffer: int = 64 << 20
    max_connections: int = 1000
    login_workers: int = 2
    max_pending_logins: int = 64
    max_login_size: int = 64 << 10
    socket_send_buffer: int = 0
    max_open_orders: int = 1000
    max_order_quantity: int = DEFAULT_MAX_ORDER_QUANTITY
    http_port: int = 0
    url_host: str | None = None
    listing_days: int = 30
    http_timeout: float = 10.0
    max_http_connections: int = 256

    def __post_init__(self) -> None:
        if self.heartbeat_timeout is None:
            self.heartbeat_timeout = 3 * self.heartbeat_interval
        for name in ("heartbeat_interval", "heartbeat_timeout", "login_timeout", "http_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")
        if self.session_expiry < 0:
            raise ValueError(f"session_expiry must be >= 0, not {self.session_expiry!r}")
        if self.replay_limit is not None and self.replay_limit < 1:
            raise ValueError(f"replay_limit must be >= 1, not {self.replay_limit!r}")
        if self.throttle_rate < 0:
            raise ValueError(f"throttle_rate must be >= 0, not {self.throttle_rate!r}")
        if self.throttle_burst is None:
            self.throttle_burst = 2 * self.throttle_rate
        if self.throttle_rate and self.throttle_burst < 1:
            raise ValueError(f"throttle_burst must be >= 1, not {self.throttle_burst!r}")
        for name, minimum in (
            ("max_payload_size", 1),
            ("max_write_buffer", 1),
            ("max_connections", 1),
            ("login_workers", 0),
            ("max_pending_logins", 1),
            ("max_login_size", 1),
            ("socket_send_buffer", 0),
            ("max_open_orders", 0),
            ("max_order_quantity", MIN_QUANTITY),
            ("http_port", 0),
            ("listing_days", 0),
            ("max_http_connections", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}")
        if self.max_open_orders > MAX_OPEN_ORDERS_LIMIT:
            raise ValueError(
                f"max_open_orders must be <= {MAX_OPEN_ORDERS_LIMIT}, not {self.max_open_orders!r}"
            )
        # Every order's quantity, fill and remainder then fits the wire's uint32.
        if self.max_order_quantity > MAX_UINT32:
            raise ValueError(
                f"max_order_quantity must be <= {MAX_UINT32} (a uint32 on the wire),"
                f" not {self.max_order_quantity!r}"
            )


@dataclass(frozen=True)
class Balance:
    """An account's money, in 1/10,000 units (see ``seto.AccountState``)."""

    cash: int
    exposure: int
    available: int
    staked: int


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` held; a take may run into debt.

    The debt is at most one ``burst``: a read may carry thousands of requests at once (all
    served), and the wait it earns must stay short, or the session, not read meanwhile,
    would end on its own heartbeat timeout (and a resume of it would wait as long).
    """

    __slots__ = ("_last", "burst", "rate", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self._last = now

    def refill(self, now: float) -> float:
        """Add what accrued since the last call; return the tokens now held."""
        elapsed = now - self._last
        self._last = now
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        return self.tokens

    def take(self, count: int, now: float) -> bool:
        """Take ``count`` tokens (going into debt, of one burst at most); False if in debt."""
        self.refill(now)
        self.tokens = max(self.tokens - count, -self.burst)
        return self.tokens >= 0

    def time_until(self, level: float) -> float:
        """Seconds until ``level`` tokens are held (0 if they already are)."""
        missing = level - self.tokens
        return missing / self.rate if missing > 0 else 0.0


class ServerSession:
    """A logged-in session: its numbering, subscriptions and orders; outlives connections.

    ``core`` is the live connection's core while ``connection`` is set; while parked it is
    a connection-less core that numbers and keeps what the session is sent, so that a
    resume replays it.
    """

    __slots__ = (
        "account_id",
        "bucket",
        "connection",
        "core",
        "expiry",
        "extensions",
        "markets",
        "orders",
        "state",
        "throttled",
        "username",
    )

    def __init__(
        self,
        state: SessionState,
        username: str,
        account_id: int,
        bucket: TokenBucket | None,
        extensions: int = 0,
    ) -> None:
        self.state = state
        #: The extensions version granted at the session's creation (0: published only);
        #: a resume keeps it.
        self.extensions = extensions
        self.username = username
        self.account_id = account_id
        self.core: SessionCore | None = None
        self.connection: Connection | None = None
        self.expiry: asyncio.TimerHandle | None = None
        #: Markets this session is subscribed to.
        self.markets: set[int] = set()
        #: Ids of the open orders this session placed.
        self.orders: set[int] = set()
        self.bucket = bucket
        #: True from a THROTTLE_EXCEEDED notice until the bucket has refilled.
        self.throttled = False

    @property
    def session_id(self) -> str:
        """The session's id (tagged hex, tag ``9999``)."""
        return self.state.session_id or ""

    def __repr__(self) -> str:
        where = "attached" if self.connection is not None else "parked"
        return f"<ServerSession {self.session_id} {self.username} {where}>"


class Connection(asyncio.Protocol):
    """One client connection: bytes in and out of a server :class:`SessionCore`."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.decoder = FrameDecoder(server.config.max_payload_size)
        self.core: SessionCore | None = None
        self.session: ServerSession | None = None
        self.closed = False
        #: Counted among the ``max_connections`` served (False for one beyond the cap).
        self.admitted = False
        #: Beyond ``max_connections``: its login is refused.
        self.over_cap = False
        #: A replay was queued since the last flush (see :meth:`flush`).
        self.replayed = False
        #: Unsent bytes of a replay, allowed on top of ``max_write_buffer`` until drained.
        self.allowance = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0
        self._resume: asyncio.TimerHandle | None = None
        # Why reading is paused ("login", "throttle", "output"); read while it is empty.
        self._held: set[str] = set()

    def __repr__(self) -> str:
        return f"<Connection {self.peer}>"

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.peer = f"{peer[0]}:{peer[1]}"
        elif peer:
            self.peer = str(peer)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.server.config.socket_send_buffer:
                    size = self.server.config.socket_send_buffer
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
            except OSError:  # pragma: no cover - the socket is already gone
                pass
        self.server._connection_made(self)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.server._data_received(self, data)

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._connection_lost(self, exc)

    def pause_writing(self) -> None:
        # The client is not taking what it is sent: take nothing more from it meanwhile, so
        # that it cannot pile up answers by sending requests (output backpressure).
        self.hold_reading("output")

    def resume_writing(self) -> None:
        self.release_reading("output")

    # -- reading ------------------------------------------------------------------------------

    def hold_reading(self, reason: str) -> None:
        """Stop reading from the client, for ``reason``, until :meth:`release_reading`."""
        if self.transport is None or self.closed:
            return
        if not self._held:
            self.transport.pause_reading()
        self._held.add(reason)

    def release_reading(self, reason: str) -> None:
        """Drop ``reason`` to stop reading; read again once no reason is left."""
        if reason not in self._held:
            return
        self._held.discard(reason)
        if not self._held and self.transport is not None and not self.closed:
            self.transport.resume_reading()

    # -- writing and closing ------------------------------------------------------------------

    def flush(self) -> None:
        """Write out, framed, whatever the core has produced.

        A client that does not read is dropped (its session parked, resumable) once more
        than ``max_write_buffer`` bytes wait for it; the bytes of a replay are allowed on
        top of that until they have been taken, so that a resume that has a lot to catch up
        on is not dropped for it (the core queues each kept payload once per write).
        """
        core = self.core
        transport = self.transport
        if core is None or transport is None:
            return
        out = core.payloads_to_send()
        if not out or self.closed:
            return
        before = transport.get_write_buffer_size()
        transport.write(encode_frames(out))
        size = transport.get_write_buffer_size()
        if self.replayed:
            self.replayed = False
            self.allowance = max(self.allowance, size - before)
        self.allowance = min(self.allowance, size)
        if size > self.server.config.max_write_buffer + self.allowance:
            _log.warning(
                "%s: more than %d bytes unsent (the client is not reading): dropping the"
                " connection, the session stays resumable",
                self.peer,
                self.server.config.max_write_buffer,
            )
            self.server._drop(self)

    def close(self, abort: bool = False) -> None:
        """Close the transport (after writing what is buffered, unless ``abort``)."""
        self.closed = True
        self.cancel_timers()
        if self.transport is not None:
            if abort:
                self.transport.abort()
            else:
                self.transport.close()

    def cancel_timers(self) -> None:
        """Cancel the heartbeat timer and any throttle wake-up."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None

    def update_timer(self) -> None:
        """Make sure the core is ticked at (or just after) its next deadline."""
        core = self.core
        if core is None or self.closed:
            return
        deadline = core.next_deadline()
        if deadline is None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return
        if self._timer is not None:
            if self._timer_when <= deadline:
                return  # fires in time; it re-checks the deadline then
            self._timer.cancel()
        # A hair late rather than early, so that the core finds the deadline passed.
        when = deadline + 0.001
        self._timer_when = when
        self._timer = self.server.loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if not self.closed:
            self.server._tick(self)

    def pause_for(self, delay: float) -> None:
        """Stop reading for ``delay`` seconds (throttle backpressure)."""
        if self.transport is None or self.closed or self._resume is not None:
            return
        self.hold_reading("throttle")
        self._resume = self.server.loop.call_later(delay, self._on_resume)

    def _on_resume(self) -> None:
        self._resume = None
        if not self.closed:
            self.server._throttle_resume(self)


class SandboxServer:
    """The sandbox exchange server: sessions, routing, bots, and administration.

    Build it around an :class:`~smarkets.sandbox.exchange.Exchange`, add accounts and markets
    (:meth:`add_account`, :meth:`add_market`), then ``await start()``. The administration
    methods (:meth:`halt`, :meth:`reopen`, :meth:`settle`, :meth:`add_account`,
    :meth:`add_market`, :meth:`balance`) may be called at any time from the event loop's
    thread; what they cause is sent to the sessions concerned at once.
    """

    def __init__(
        self,
        exchange: Exchange | None = None,
        config: ServerConfig | None = None,
        *,
        ssl_context: Any = None,
        credentials: CredentialStore | None = None,
        bots: int = 0,
        seed: int = 0,
    ) -> None:
        self.config = config if config is not None else ServerConfig()
        self.exchange = (
            exchange
            if exchange is not None
            else Exchange(
                max_open_orders=self.config.max_open_orders,
                max_order_quantity=self.config.max_order_quantity,
            )
        )
        self.ssl_context = ssl_context
        self.credentials = credentials if credentials is not None else CredentialStore()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[Connection] = set()
        #: Session id -> session, for every live or parked session.
        self._sessions: dict[str, ServerSession] = {}
        #: Account id -> its sessions.
        self._account_sessions: dict[int, dict[ServerSession, None]] = {}
        #: Market id -> the sessions subscribed to it.
        self._subscribers: dict[int, dict[ServerSession, None]] = {}
        #: Open order id -> the session that placed it.
        self._order_owner: dict[int, ServerSession] = {}
        #: Connections with output waiting to be written.
        self._dirty: dict[Connection, None] = {}
        #: The catalogue over HTTP (started by :meth:`start`).
        self.catalogue_http = CatalogueHttpServer(
            self.catalogue,
            window_days=self.config.listing_days,
            ssl_context=ssl_context,
            timeout=self.config.http_timeout,
            max_connections=self.config.max_http_connections,
        )
        self._bot_count = bots
        self._seed = seed
        self._bots: BotFleet | None = None
        self._bot_timer: asyncio.TimerHandle | None = None
        self._closing = False
        #: Connections counted against ``max_connections``.
        self._admitted = 0
        #: Worker threads checking passwords (started at the first login that needs one).
        self._login_executor: ThreadPoolExecutor | None = None
        #: Password checks waiting for or running on a worker.
        self._pending_logins = 0
        #: Connection downtime in force: logins refused (LOGOUT DOWNTIME).
        self._connection_down = False
        #: The start of the downtime announced, pending.
        self._downtime_timer: asyncio.TimerHandle | None = None

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the server runs on (the running loop, once known)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    async def start(self) -> None:
        """Start listening (``config.port`` 0 picks a free port) and start the bots."""
        loop = self.loop
        if self._bot_count and self._bots is None:
            # Opened after the accounts given so far, so that those get the first ids.
            self._bots = BotFleet(
                self.exchange,
                self._bot_count,
                self._seed,
                [(spec.id, spec.contract_ids()) for spec in self.catalogue.markets.values()],
            )
        self._server = await loop.create_server(
            lambda: Connection(self),
            self.config.host,
            self.config.port,
            ssl=self.ssl_context,
            ssl_handshake_timeout=self.config.login_timeout if self.ssl_context else None,
            reuse_address=True,
        )
        await self.catalogue_http.start(self.config.host, self.config.http_port)
        if self._bots is not None:
            self._bot_timer = loop.call_soon(self._bot_step)
        _log.info("listening on %s:%d", self.host, self.port)

    @property
    def host(self) -> str:
        """The host the server listens on."""
        return self.config.host

    @property
    def port(self) -> int:
        """The port the server listens on (the real one once started)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self.config.port

    async def close(self) -> None:
        """Stop: no new connections, each session logged out (DOWNTIME), bots stopped."""
        if self._closing:
            return
        self._closing = True
        self._cancel_downtime_timer()
        if self._bot_timer is not None:
            self._bot_timer.cancel()
            self._bot_timer = None
        if self._server is not None:
            self._server.close()
        now = self.loop.time()
        for conn in list(self._connections):
            core = conn.core
            if core is not None and core.state is State.LOGGED_IN:
                try:
                    core.logout(now, eto_pb2.LOGOUT_DOWNTIME)
                    conn.flush()
                except Exception:  # pragma: no cover - never let one block the shutdown
                    _log.exception("%s: logout at shutdown failed", conn.peer)
            if conn.session is not None:
                conn.session.connection = None
                conn.session = None
            conn.close()
        for session in list(self._sessions.values()):
            self._forget(session)
        if self._login_executor is not None:
            self._login_executor.shutdown(wait=False, cancel_futures=True)
            self._login_executor = None
        await self.catalogue_http.close()
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            except asyncio.TimeoutError:  # pragma: no cover - a client that never closes
                _log.warning("some connections did not close in time")
        _log.info("stopped")

    # -- administration -----------------------------------------------------------------------

    def add_account(self, name: str, password: str, balance: int) -> int:
        """Open an account that can log in with ``password``; return its account id."""
        if name in self.credentials:
            raise AccountsError(f"there is already an account named {name!r}")
        self.credentials.add(name, password)  # checks the name and password
        try:
            return self.exchange.add_account(name, balance)
        except (TypeError, ValueError):
            # The exchange refused (e.g. a bad balance or a bot's name): nothing half-made.
            self.credentials.remove(name)
            raise

    @property
    def catalogue(self) -> Catalogue:
        """What the listings show (events, markets, contracts): the exchange's catalogue;
        :meth:`add_market` and :meth:`add_events` add to it."""
        return self.exchange.catalogue

    def add_events(self, events: Iterable[EventSpec | dict[str, Any]]) -> None:
        """Describe events for the listings (:class:`EventSpec` or markets-file objects):
        the markets added after may name them by ``event_id``."""
        self.catalogue.add_events(
            event if isinstance(event, EventSpec) else parse_event(event) for event in events
        )

    def open_catalogue(self, catalogue: Catalogue) -> None:
        """Add the events and open the markets of ``catalogue`` (a markets file's)."""
        self.add_events(event for event in catalogue.events.values())
        for spec in catalogue.markets.values():
            self.add_market(spec)

    def add_market(self, market: MarketSpec | dict[str, Any]) -> MarketSpec:
        """Open a market (a :class:`MarketSpec` or a markets-file object); bots trade it too."""
        spec = market if isinstance(market, MarketSpec) else parse_market(market)
        spec = self.exchange.open_market(spec)
        if self._bots is not None:
            self._bots.add_market(spec.id, spec.contract_ids())
        return spec

    def halt(self, market: int | str) -> None:
        """Halt a market: its resting orders cancelled (MARKET_HALTED), new orders refused."""
        self._admin(self.exchange.halt(_market_id(market)))

    def reopen(self, market: int | str) -> None:
        """Reopen a halted market; subscribers are told."""
        self._admin(self.exchange.reopen(_market_id(market)))

    def settle(self, market: int | str, winner: int | str) -> None:
        """Settle a market with ``winner`` (a contract id): orders cancelled, stakes paid."""
        winner_id = str_to_int(winner, kind="contract") if isinstance(winner, str) else winner
        self._admin(self.exchange.settle(_market_id(market), winner_id))

    def balance(self, name: str) -> Balance:
        """An account's money: cash, exposure, available, staked (1/10,000 units)."""
        return Balance(*self.exchange.balance(self.exchange.account_id(name)))

    def suspend(self, name: str) -> None:
        """Suspend an account: its orders are rejected ACCOUNT_SUSPENDED until unsuspended."""
        self.exchange.suspend(name)

    def unsuspend(self, name: str) -> None:
        """Let a suspended account place orders again."""
        self.exchange.unsuspend(name)

    # -- downtime -----------------------------------------------------------------------------

    def downtime_connection(self, seconds: float, description: str = "") -> datetime.datetime:
        """Announce that every connection closes in ``seconds``; return the UTC start.

        Every session is sent an eto downtime_alert CONNECTION (the start, to the minute,
        and ``description``). When it starts, every session is logged out (LOGOUT
        ``DOWNTIME``, not resumable) and logins are refused with LOGOUT ``DOWNTIME`` until
        :meth:`downtime_resumed`. A downtime announced before is replaced.
        """
        return self._schedule_downtime(
            seconds, description, eto_pb2.DOWNTIME_ALERT_CONNECTION, self._connection_downtime
        )

    def downtime_orders(self, seconds: float, description: str = "") -> datetime.datetime:
        """Announce that order creation stops in ``seconds``; return the UTC start.

        Every session is sent a seto downtime_alert ORDER_CREATE and an eto downtime_alert
        FUNCTIONALITY (the start and ``description``). From the start, order_create is
        rejected SERVICE_TEMPORARILY_UNAVAILABLE until :meth:`downtime_resumed`.
        """
        alert = Payload(type=seto_pb2.PAYLOAD_DOWNTIME_ALERT)
        alert.downtime_alert.type = seto_pb2.DOWNTIME_ALERT_ORDER_CREATE
        self._announce(alert)
        return self._schedule_downtime(
            seconds, description, eto_pb2.DOWNTIME_ALERT_FUNCTIONALITY, self._orders_downtime
        )

    def downtime_cancel(self) -> None:
        """Drop the downtime announced (eto downtime_alert CANCELLED to every session)."""
        self._cancel_downtime_timer()
        self._announce(_eto_downtime_alert(eto_pb2.DOWNTIME_ALERT_CANCELLED))

    def downtime_resumed(self) -> None:
        """End any downtime: logins and orders accepted again (eto SERVICE_RESUMED to all)."""
        self._cancel_downtime_timer()
        self._connection_down = False
        self.exchange.orders_down = False
        self._announce(_eto_downtime_alert(eto_pb2.DOWNTIME_ALERT_SERVICE_RESUMED))

    @property
    def downtime(self) -> str | None:
        """The downtime in force: ``"connection"``, ``"orders"`` or None."""
        if self._connection_down:
            return "connection"
        if self.exchange.orders_down:
            return "orders"
        return None

    def _schedule_downtime(
        self, seconds: float, description: str, kind: int, start: Any
    ) -> datetime.datetime:
        if not seconds >= 0 or seconds == float("inf"):
            raise ValueError(f"seconds must be a number >= 0, not {seconds!r}")
        when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
        when = when.replace(second=0, microsecond=0)
        self._announce(_eto_downtime_alert(kind, when, description))
        self._cancel_downtime_timer()
        self._downtime_timer = self.loop.call_later(seconds, start)
        _log.info("downtime (%s) announced in %gs", eto_pb2.DowntimeAlertType.Name(kind), seconds)
        return when

    def _cancel_downtime_timer(self) -> None:
        if self._downtime_timer is not None:
            self._downtime_timer.cancel()
            self._downtime_timer = None

    def _announce(self, payload: Payload) -> None:
        """Send ``payload`` to every session, connected or parked."""
        now = self.loop.time()
        try:
            for session in list(self._sessions.values()):
                self._send(session, payload, now)
        finally:
            self._flush()

    def _connection_downtime(self) -> None:
        self._downtime_timer = None
        self._connection_down = True
        _log.info("connection downtime: logging every session out")
        now = self.loop.time()
        try:
            for session in list(self._sessions.values()):
                conn = session.connection
                core = conn.core if conn is not None else None
                if conn is not None and core is not None and not conn.closed:
                    self._handle_events(conn, core.abort(eto_pb2.LOGOUT_DOWNTIME, now))
                if self._sessions.get(session.session_id) is session:
                    self._forget(session)
        finally:
            self._flush()

    def _orders_downtime(self) -> None:
        self._downtime_timer = None
        self.exchange.orders_down = True
        _log.info("order-create downtime: orders refused")

    def session_count(self) -> int:
        """How many sessions are live or parked."""
        return len(self._sessions)

    def _admin(self, outputs: list[Output]) -> None:
        try:
            self.route(outputs, None)
        finally:
            self._flush()

    # -- connections --------------------------------------------------------------------------

    def _connection_made(self, conn: Connection) -> None:
        config = self.config
        conn.core = SessionCore(
            Role.SERVER,
            now=self.loop.time(),
            heartbeat_interval=config.heartbeat_interval,
            heartbeat_timeout=config.heartbeat_timeout,
            login_timeout=config.login_timeout,
        )
        if self._closing:
            conn.close(abort=True)
            return
        self._connections.add(conn)
        if self._admitted < config.max_connections:
            conn.admitted = True
            self._admitted += 1
            _log.debug("%s: connected", conn.peer)
        else:
            conn.over_cap = True
            if len(self._connections) - self._admitted > config.max_connections:
                # Even the connections waiting to be refused are too many: no word.
                _log.warning("%s: too many connections: aborted", conn.peer)
                conn.close(abort=True)
                return
            _log.warning(
                "%s: %d connections open, the most allowed: its login will be refused",
                conn.peer,
                self._admitted,
            )
        conn.update_timer()

    def _data_received(self, conn: Connection, data: bytes) -> None:
        core = conn.core
        assert core is not None
        frames: list[bytes] = []
        try:
            try:
                frames = conn.decoder.feed(data)
            except ProtocolError as exc:
                # A bad frame header: the framing is lost, but we can still say why.
                self._abort(conn, eto_pb2.LOGOUT_INVALID_PAYLOAD, str(exc))
                return
            if frames:
                try:
                    events = core.receive_payloads(frames, self.loop.time())
                except ProtocolError as exc:
                    reason, why = classify_bad_frames(frames)
                    self._abort(conn, reason, f"{why} ({exc})")
                    return
                self._handle_events(conn, events)
            buffered = conn.decoder.buffered
            if core.state is State.AWAITING_LOGIN and buffered > self.config.max_login_size:
                self._abort(
                    conn,
                    eto_pb2.LOGOUT_INVALID_PAYLOAD,
                    f"{buffered} bytes of an unfinished frame before the login"
                    f" (at most {self.config.max_login_size})",
                )
                return
            if conn.closed:
                return
            if conn.session is not None and conn.session.bucket is not None:
                self._check_throttle(conn, conn.session)
            # Written out, and its timer updated, once, with every other connection this
            # read gave something to (see _flush).
            self._dirty[conn] = None
        except ProtocolError as exc:
            _log.warning("%s: protocol error, closing the connection: %s", conn.peer, exc)
            self._abort(conn, eto_pb2.LOGOUT_INVALID_PAYLOAD, str(exc))
        except Exception:
            _log.exception("%s: error while handling what the client sent; closing", conn.peer)
            self._drop(conn)
        finally:
            self._flush()

    def _tick(self, conn: Connection) -> None:
        core = conn.core
        assert core is not None
        try:
            self._handle_events(conn, core.tick(self.loop.time()))
            conn.flush()
            conn.update_timer()
        except Exception:
            _log.exception("%s: error in the session timer; closing", conn.peer)
            self._drop(conn)
        finally:
            self._flush()

    def _connection_lost(self, conn: Connection, exc: Exception | None) -> None:
        conn.closed = True
        conn.cancel_timers()
        self._connections.discard(conn)
        if conn.admitted:
            conn.admitted = False
            self._admitted -= 1
        self._dirty.pop(conn, None)
        session = conn.session
        conn.session = None
        if session is not None and session.connection is conn:
            _log.info(
                "%s: connection lost (%s): session %s parked",
                conn.peer,
                exc or "closed",
                session.session_id,
            )
            self._park(session)
        else:
            _log.debug("%s: connection closed", conn.peer)

    def _abort(self, conn: Connection, reason: int, why: str) -> None:
        """End a connection's session over what its client sent: LOGOUT ``reason``, closed.

        The client is told why (``reason``, or its published stand-in for a session without
        extensions) and the log says who and why. Not resumable. A connection whose core can
        no longer send is closed without a LOGOUT (also logged).
        """
        core = conn.core
        session = conn.session
        who = session.session_id if session is not None else "(not logged in)"
        _log.warning(
            "%s: session %s: %s: logging out (%s)",
            conn.peer,
            who,
            why,
            logout_reason_name(reason),
        )
        events = core.abort(reason, self.loop.time()) if core is not None else []
        if events:
            self._handle_events(conn, events)
        if not conn.closed:
            _log.warning("%s: session %s: no LOGOUT could be sent: closing", conn.peer, who)
            conn.flush()
            self._drop(conn)

    def _drop(self, conn: Connection) -> None:
        """Close a connection at once; its session (if any) is parked, still resumable."""
        session = conn.session
        conn.session = None
        self._dirty.pop(conn, None)
        conn.close(abort=True)
        if session is not None and session.connection is conn:
            self._park(session)

    # -- events from a connection's core ------------------------------------------------------

    def _handle_events(self, conn: Connection, events: Iterable[Event]) -> None:
        for event in events:
            if type(event) is Received:
                session = conn.session
                if session is not None:
                    self._dispatch(session, event.payload)
            elif type(event) is LoginRequested:
                self._check_login(conn, event)
            elif type(event) is SessionEnded:
                self._ended(conn, event)
            elif type(event) is LoggedIn:
                _log.info(
                    "%s: session %s logged in (reset %d)", conn.peer, event.session_id, event.reset
                )

    def _check_login(self, conn: Connection, event: LoginRequested) -> None:
        """Check a login's credentials (on a worker thread), then answer it (:meth:`_login`)."""
        core = conn.core
        assert core is not None
        login = event.payload.login
        username = login.username if login.HasField("username") else ""
        password = login.password if login.HasField("password") else ""
        if conn.over_cap:
            _log.info("%s: login refused: too many connections", conn.peer)
            self._refuse_login(conn, eto_pb2.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE)
            return
        if self._connection_down:
            _log.info("%s: login refused: connection downtime", conn.peer)
            self._refuse_login(conn, eto_pb2.LOGOUT_DOWNTIME)
            return
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            # upb hands back bytes for a string that is not valid UTF-8: no account has it.
            self._handle_events(conn, self._login(conn, event, "", verified=False))
            return
        if not self.config.login_workers:
            verified = self.credentials.verify(username, password)
            self._handle_events(conn, self._login(conn, event, username, verified))
            return
        if self._pending_logins >= self.config.max_pending_logins or self._closing:
            _log.warning(
                "%s: login refused: %d logins are being checked already",
                conn.peer,
                self._pending_logins,
            )
            self._refuse_login(conn, eto_pb2.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE)
            return
        if self._login_executor is None:
            self._login_executor = ThreadPoolExecutor(
                max_workers=self.config.login_workers, thread_name_prefix="sandbox-login"
            )
        self._pending_logins += 1
        conn.hold_reading("login")  # nothing more is taken until the login is decided
        future = self.loop.run_in_executor(
            self._login_executor, self.credentials.verify, username, password
        )
        future.add_done_callback(functools.partial(self._login_checked, conn, event, username))

    def _login_checked(
        self, conn: Connection, event: LoginRequested, username: str, future: asyncio.Future[bool]
    ) -> None:
        """On the loop, once a worker has checked a login's password: answer the login."""
        self._pending_logins -= 1
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            _log.error("%s: checking the password failed: %s", conn.peer, type(exc).__name__)
        verified = exc is None and bool(future.result())
        core = conn.core
        if conn.closed or core is None or core.state is not State.LOGGING_IN:
            return  # the connection went away, or its login timed out meanwhile
        try:
            self._handle_events(conn, self._login(conn, event, username, verified))
            conn.flush()
            conn.release_reading("login")
            if not conn.closed and conn.session is not None and conn.session.bucket is not None:
                self._check_throttle(conn, conn.session)
            conn.update_timer()
        except ProtocolError as err:
            _log.warning("%s: protocol error, closing the connection: %s", conn.peer, err)
            self._drop(conn)
        except Exception:
            _log.exception("%s: error while answering the login; closing", conn.peer)
            self._drop(conn)
        finally:
            self._flush()

    def _refuse_login(self, conn: Connection, reason: int) -> None:
        core = conn.core
        assert core is not None
        self._handle_events(conn, core.refuse_login(reason, self.loop.time()))

    def _login(
        self, conn: Connection, event: LoginRequested, username: str, verified: bool
    ) -> list[Event]:
        """Answer a login whose password has been checked (``verified``: it is right)."""
        core = conn.core
        assert core is not None
        now = self.loop.time()
        if not verified:
            _log.info(
                "%s: login refused for %r: bad credentials",
                conn.peer,
                username[: MAX_NAME_LENGTH + 1],
            )
            return core.refuse_login(eto_pb2.LOGOUT_UNAUTHORISED, now)
        if self._connection_down:
            _log.info("%s: login refused for %r: connection downtime", conn.peer, username)
            return core.refuse_login(eto_pb2.LOGOUT_DOWNTIME, now)
        account_id = self.exchange.account_id(username)
        login = event.payload.login
        requested = login.extensions if login.HasField("extensions") else 0
        granted = min(requested, EXTENSIONS_VERSION)
        if event.session_id is not None:
            session = self._sessions.get(event.session_id)
            if session is None or session.account_id != account_id:
                _log.info(
                    "%s: %r tried to resume unknown session %r",
                    conn.peer,
                    username,
                    event.session_id,
                )
                return core.refuse_login(eto_pb2.LOGOUT_UNKNOWN_SESSION, now)
            old = session.connection
            if old is not None and old is not conn:
                _log.info(
                    "%s: session %s resumed elsewhere: closing its old connection %s",
                    conn.peer,
                    session.session_id,
                    old.peer,
                )
                old.session = None
                self._dirty.pop(old, None)
                old.close(abort=True)
            if session.expiry is not None:
                session.expiry.cancel()
                session.expiry = None
            session.connection = conn
            session.core = core
            conn.session = session
            _log.info("%s: %r resumes session %s", conn.peer, username, session.session_id)
            # The grant is the session's, fixed when it was created (see the module docs).
            return core.accept_login(session.state, now, extensions=session.extensions)
        state = SessionState(session_id=self._new_session_id(), sent=self._replay_store())
        bucket = None
        if self.config.throttle_rate:
            burst = self.config.throttle_burst
            bucket = TokenBucket(self.config.throttle_rate, burst, now)
        session = ServerSession(state, username, account_id, bucket, granted)
        session.connection = conn
        session.core = core
        conn.session = session
        self._sessions[session.session_id] = session
        self._account_sessions.setdefault(account_id, {})[session] = None
        _log.info(
            "%s: %r logs in, new session %s (extensions %d)",
            conn.peer,
            username,
            session.session_id,
            granted,
        )
        return core.accept_login(state, now, extensions=granted)

    def _ended(self, conn: Connection, event: SessionEnded) -> None:
        reason = logout_reason_name(event.reason)
        session = conn.session
        conn.session = None
        conn.flush()
        self._dirty.pop(conn, None)
        conn.close()
        if session is None or session.connection is not conn:
            _log.info("%s: closed (%s)", conn.peer, reason)
            return
        if event.resumable:
            _log.info("%s: session %s parked (%s)", conn.peer, session.session_id, reason)
            self._park(session)
        else:
            who = "client" if event.by_peer else "server"
            _log.info(
                "%s: session %s ended by the %s (%s)", conn.peer, session.session_id, who, reason
            )
            self._forget(session)

    # -- the session registry -----------------------------------------------------------------

    def _new_session_id(self) -> str:
        while True:
            session_id = uuid128_to_str(secrets.randbits(64), "session")
            if session_id not in self._sessions:
                return session_id

    def _replay_store(self) -> ReplayStore:
        return ReplayStore(limit=self.config.replay_limit)

    def _park(self, session: ServerSession) -> None:
        """Keep a session with no connection: still numbered and stored, until it expires."""
        session.connection = None
        if self._closing:
            self._forget(session)
            return
        # A core with no connection numbers and keeps what the session is sent: a resume
        # replays it. A fresh one, as the live core may have ended (heartbeat timeout) and
        # no longer sends.
        session.core = SessionCore.detached(Role.SERVER, session.state, now=self.loop.time())
        if session.expiry is not None:
            session.expiry.cancel()
        session.expiry = self.loop.call_later(self.config.session_expiry, self._expire, session)

    def _expire(self, session: ServerSession) -> None:
        session.expiry = None
        if session.connection is None and self._sessions.get(session.session_id) is session:
            _log.info("session %s of %r expired", session.session_id, session.username)
            self._forget(session)

    def _forget(self, session: ServerSession) -> None:
        """Drop a session for good: no resume, no more messages."""
        if session.expiry is not None:
            session.expiry.cancel()
            session.expiry = None
        self._sessions.pop(session.session_id, None)
        sessions = self._account_sessions.get(session.account_id)
        if sessions is not None:
            sessions.pop(session, None)
            if not sessions:
                del self._account_sessions[session.account_id]
        for market_id in session.markets:
            subscribers = self._subscribers.get(market_id)
            if subscribers is not None:
                subscribers.pop(session, None)
                if not subscribers:
                    del self._subscribers[market_id]
        session.markets.clear()
        owners = self._order_owner
        for order_id in session.orders:
            if owners.get(order_id) is session:
                del owners[order_id]
        session.orders.clear()
        session.connection = None

    # -- requests -----------------------------------------------------------------------------

    def _dispatch(self, session: ServerSession, payload: Payload) -> None:
        """Carry out one request from a session and route what it causes."""
        if is_session_level(payload):
            eto = payload.eto_payload
            if not eto.HasField("type") and any(
                f.field_number == _ETO_TYPE_FIELD for f in UnknownFieldSet(eto)
            ):
                self._unsupported(session, payload, "an eto payload of a kind it does not know")
                return
            # Heartbeats, pings, replays...: the core has dealt with them. A replay may
            # write much at once: the connection allows for it (see Connection.flush).
            if eto.type == eto_pb2.PAYLOAD_REPLAY and session.connection:
                session.connection.replayed = True
            return
        bucket = session.bucket
        if bucket is not None and not bucket.take(1, self.loop.time()) and not session.throttled:
            self._throttle_notice(session)
        ptype = payload.type
        if ptype not in _REQUEST_FIELDS:
            why = f"{_type_name(payload)}, which is not a request the sandbox serves"
            self._unsupported(session, payload, why)
            return
        if ptype >= FIRST_EXTENSION_CODE and not session.extensions:
            self._unsupported(
                session, payload, f"{_type_name(payload)}, an extension kind, without extensions"
            )
            return
        name = _REQUEST_FIELDS[ptype]
        if name is not None and not payload.HasField(name):
            self._abort_session(
                session,
                eto_pb2.LOGOUT_INVALID_PAYLOAD,
                f"{_type_name(payload)} without its {name}",
            )
            return
        seq = payload.eto_payload.seq
        account_id = session.account_id
        exchange = self.exchange
        if ptype == _ORDER_CREATE:
            outputs = exchange.place_order(account_id, payload.order_create, seq)
        elif ptype == _ORDER_CANCEL:
            outputs = exchange.cancel_order(account_id, _uuid(payload.order_cancel.order), seq)
        elif ptype == _ORDER_CANCEL_ALL:
            cancel_all = payload.order_cancel_all
            market = _uuid(cancel_all.market) if cancel_all.HasField("market") else None
            outputs = exchange.cancel_all(account_id, market, seq)
        elif ptype == _MARKET_SUBSCRIBE:
            self._quotes(session, _uuid(payload.market_subscribe.market), seq, subscribe=True)
            return
        elif ptype == _MARKET_UNSUBSCRIBE:
            self._unsubscribe(session, _uuid(payload.market_unsubscribe.market))
            return
        elif ptype == _MARKET_QUOTES_REQUEST:
            market_id = _uuid(payload.market_quotes_request.market)
            self._quotes(session, market_id, seq, subscribe=False)
            return
        elif ptype == _ACCOUNT_STATE_REQUEST:
            # The session's own account, whichever account the request names: no other
            # account's existence or money is revealed (see docs/sandbox.rst).
            self._send(session, exchange.account_state(account_id, seq))
            return
        elif ptype == _ORDERS_FOR_ACCOUNT_REQUEST:
            self._send(session, exchange.orders_for_account(account_id))
            return
        elif ptype == _ORDERS_FOR_MARKET_REQUEST:
            market_id = _uuid(payload.orders_for_market_request.market)
            self._send(session, exchange.orders_for_market(account_id, market_id))
            return
        elif ptype == _EVENTS_REQUEST:
            self._send(session, self._events_reply(session, payload.events_request, seq))
            return
        else:  # _MARKETS_REQUEST
            self._send(session, exchange.markets.payload(seq))
            return
        self.route(outputs, session)

    def _events_reply(
        self, session: ServerSession, request: seto_pb2.EventsRequest, seq: int
    ) -> Payload:
        """``http_found`` with the URL of the listing asked for, or ``invalid_request``
        DATE_OUT_OF_RANGE for a sport by date without a date within the window."""
        listing = Listing.from_request(request)
        http = self.catalogue_http
        if listing is None or not listing.in_window(http.today(), http.window_days):
            reply = Payload(type=seto_pb2.PAYLOAD_INVALID_REQUEST)
            reply.invalid_request.seq = seq
            reply.invalid_request.type = seto_pb2.INVALID_REQUEST_DATE_OUT_OF_RANGE
            return reply
        reply = Payload(type=seto_pb2.PAYLOAD_HTTP_FOUND)
        reply.http_found.seq = seq
        reply.http_found.url = http.url(self.url_host(session.connection), listing.path)
        return reply

    def url_host(self, conn: Connection | None = None) -> str:
        """The host name put in listing URLs: ``config.url_host``, else the host listened
        on, else (listening on every address) the address the client connected to."""
        host = self.config.url_host or self.config.host
        if host in ("", "0.0.0.0", "::") and conn is not None and conn.transport is not None:
            sockname = conn.transport.get_extra_info("sockname")
            if isinstance(sockname, tuple):
                host = str(sockname[0])
        return host

    def _unsupported(self, session: ServerSession, payload: Payload, why: str) -> None:
        self._abort_session(
            session,
            eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD,
            f"sent {why} (seq {payload.eto_payload.seq})",
        )

    def _abort_session(self, session: ServerSession, reason: int, why: str) -> None:
        conn = session.connection
        if conn is None:  # pragma: no cover - requests only come from a connection
            return
        self._abort(conn, reason, why)

    def _quotes(self, session: ServerSession, market_id: int, seq: int, subscribe: bool) -> None:
        """Answer market_subscribe (``subscribe``) or market_quotes_request with a snapshot.

        An unknown market: an extension session gets market_subscribe_rejected
        (MARKET_NOT_FOUND); a session without extensions, whose schema has no refusal, a
        market_quotes with no contract quotes. Neither subscribes.
        """
        if not self.exchange.has_market(market_id):
            if session.extensions:
                rejected = Payload(type=seto_pb2.PAYLOAD_MARKET_SUBSCRIBE_REJECTED)
                msg = rejected.market_subscribe_rejected
                msg.seq = seq
                _set_uuid(msg.market, market_id)
                msg.reason = seto_pb2.MARKET_SUBSCRIBE_REJECTED_MARKET_NOT_FOUND
                self._send(session, rejected)
            else:
                self._send(session, Exchange.empty_market_quotes(market_id))
            return
        if subscribe:
            session.markets.add(market_id)
            self._subscribers.setdefault(market_id, {})[session] = None
        self._send(session, self.exchange.market_snapshot(market_id, seq))

    def _unsubscribe(self, session: ServerSession, market_id: int) -> None:
        session.markets.discard(market_id)
        subscribers = self._subscribers.get(market_id)
        if subscribers is not None:
            subscribers.pop(session, None)
            if not subscribers:
                del self._subscribers[market_id]

    # -- routing ------------------------------------------------------------------------------

    def route(self, outputs: Iterable[Output], requester: ServerSession | None) -> None:
        """Send each of the exchange's outputs to the sessions it concerns.

        ``requester`` is the session whose request produced ``outputs`` (``None`` for the
        bots and administration). See the module docstring for the rules.
        """
        now = self.loop.time()
        send = self._send
        for recipient, payload in outputs:
            if type(recipient) is ToMarket:
                subscribers = self._subscribers.get(recipient.market_id)
                if subscribers:
                    # Serialised once per variant, each subscriber's seq appended: the full
                    # payload, and (made only if a subscriber has no extensions) its
                    # published view (None: not sent to those).
                    try:
                        body = serialize_once(payload)
                    except ProtocolError as exc:
                        _log.debug("%s cannot be sent (%s): dropped", _type_name(payload), exc)
                        continue
                    published: bytes | None = None
                    viewed = False
                    send_serialized = self._send_serialized
                    for session in subscribers:
                        if session.extensions:
                            send_serialized(session, body, now)
                            continue
                        if not viewed:
                            viewed = True
                            view = published_view(payload)
                            if view is not None:
                                published = body if view is payload else serialize_once(view)
                        if published is not None:
                            send_serialized(session, published, now)
                continue
            for session in self.targets(recipient.account_id, payload, requester):
                send(session, payload, now)

    def targets(
        self, account_id: int, payload: Payload, requester: ServerSession | None
    ) -> list[ServerSession]:
        """The sessions a private payload for ``account_id`` goes to (see :meth:`route`).

        Also keeps the order id -> placing session map up to date as orders are accepted,
        filled and cancelled. Decided on the full payload: the request seqs it looks at are
        extension fields, which the published view of the payload leaves out.
        """
        ptype = payload.type
        if ptype == _ORDER_EXECUTED:
            executed = payload.order_executed
            order_id = _uuid(executed.order)
            owner = self._order_owner.get(order_id)
            if executed.HasField("remaining") and executed.remaining == 0:
                self._forget_order(order_id)
            if owner is not None:
                return [owner]
            return list(self._account_sessions.get(account_id, ()))
        if ptype == _ORDER_CANCELLED:
            cancelled = payload.order_cancelled
            order_id = _uuid(cancelled.order)
            owner = self._order_owner.get(order_id)
            self._forget_order(order_id)
            if cancelled.HasField("seq") and requester is not None:
                return [requester] if requester.account_id == account_id else []
            if owner is not None:
                return [owner]
            return list(self._account_sessions.get(account_id, ()))
        if ptype == _ACCOUNT_STATE and not payload.account_state.HasField("seq"):
            return list(self._account_sessions.get(account_id, ()))
        if requester is None or requester.account_id != account_id:
            if requester is not None:
                _log.warning(
                    "%s for account %d produced by a request of account %d: dropped",
                    _type_name(payload),
                    account_id,
                    requester.account_id,
                )
            return []
        if ptype == _ORDER_ACCEPTED:
            order_id = _uuid(payload.order_accepted.order)
            self._order_owner[order_id] = requester
            requester.orders.add(order_id)
        return [requester]

    def _forget_order(self, order_id: int) -> None:
        owner = self._order_owner.pop(order_id, None)
        if owner is not None:
            owner.orders.discard(order_id)

    def _send(self, session: ServerSession, payload: Payload, now: float | None = None) -> None:
        """Give ``payload`` to the session's core: written out if attached, kept if parked.

        A session without extensions is given the published view of it (or nothing).
        """
        core = session.core
        if core is None:
            return
        if not session.extensions:
            view = published_view(payload)
            if view is None:
                return
            payload = view
        try:
            core.send(payload, self.loop.time() if now is None else now)
        except ProtocolError as exc:
            _log.debug("session %s cannot send now (%s): dropped", session.session_id, exc)
            return
        conn = session.connection
        if conn is not None:  # parked: the detached core queued nothing, its store has it
            self._dirty[conn] = None

    def _send_serialized(self, session: ServerSession, body: bytes, now: float) -> None:
        """:meth:`_send` for a payload serialised once for many sessions (``serialize_once``)."""
        core = session.core
        if core is None:
            return
        try:
            core.send_serialized(body, now)
        except ProtocolError as exc:
            _log.debug("session %s cannot send now (%s): dropped", session.session_id, exc)
            return
        conn = session.connection
        if conn is not None:  # parked: the detached core queued nothing, its store has it
            self._dirty[conn] = None

    def _flush(self) -> None:
        """Write out what every connection touched since the last flush has to send."""
        while self._dirty:
            dirty = self._dirty
            self._dirty = {}
            for conn in dirty:
                try:
                    conn.flush()
                    conn.update_timer()
                except Exception:
                    _log.exception("%s: error while writing; closing", conn.peer)
                    self._drop(conn)

    # -- throttling ---------------------------------------------------------------------------

    def _throttle_notice(self, session: ServerSession) -> None:
        session.throttled = True
        _log.info(
            "session %s exceeds %g payloads/s: throttled",
            session.session_id,
            self.config.throttle_rate,
        )
        self._send(session, session_payload(eto_pb2.PAYLOAD_THROTTLE_EXCEEDED))

    def _check_throttle(self, conn: Connection, session: ServerSession) -> None:
        """After a read: if the session's bucket is in debt, stop reading until it is not."""
        bucket = session.bucket
        assert bucket is not None
        bucket.refill(self.loop.time())
        if bucket.tokens < 0:
            conn.pause_for(bucket.time_until(0.0) + 0.001)
        elif session.throttled:
            session.throttled = False

    def _throttle_resume(self, conn: Connection) -> None:
        session = conn.session
        bucket = session.bucket if session is not None else None
        if bucket is not None:
            bucket.refill(self.loop.time())
            if bucket.tokens < 0:
                conn.pause_for(bucket.time_until(0.0) + 0.001)
                return
            if session is not None:
                session.throttled = False
        conn.release_reading("throttle")

    # -- bots ---------------------------------------------------------------------------------

    def _bot_step(self) -> None:
        self._bot_timer = None
        bots = self._bots
        if bots is None or self._closing:
            return
        try:
            self.route(bots.step(), None)
        except Exception:
            _log.exception("bot step failed")
        finally:
            self._flush()
        self._bot_timer = self.loop.call_later(bots.next_delay(), self._bot_step)

    @property
    def bots(self) -> BotFleet | None:
        """The simulated traders, if any."""
        return self._bots


def _eto_downtime_alert(
    kind: int, when: datetime.datetime | None = None, description: str = ""
) -> Payload:
    """An eto downtime_alert (a seto payload of type ETO) of ``kind``."""
    payload = session_payload(eto_pb2.PAYLOAD_DOWNTIME_ALERT)
    alert = payload.eto_payload.downtime_alert
    alert.type = kind
    if when is not None:
        moment = alert.datetime
        moment.date.year = when.year
        moment.date.month = when.month
        moment.date.day = when.day
        moment.time.hour = when.hour
        moment.time.minute = when.minute
    if description:
        alert.description = description
    return payload


def _market_id(market: int | str) -> int:
    if isinstance(market, str):
        return str_to_int(market, kind="market")
    return market
