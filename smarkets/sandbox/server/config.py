"""The sandbox server's settings: :class:`ServerConfig` (the command line's options)."""

from __future__ import annotations

from dataclasses import dataclass

from smarkets.protocol import DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_LOGIN_TIMEOUT
from smarkets.protocol.framing import DEFAULT_MAX_PAYLOAD_SIZE
from smarkets.sandbox.exchange.validation import (
    DEFAULT_MAX_ORDER_QUANTITY,
    check_max_open_orders,
    check_max_order_quantity,
)

__all__ = ["ServerConfig"]


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
    the wire's uint32. Both configure the :class:`~smarkets.sandbox.exchange.engine.Exchange`
    the server builds when it is given none (one given keeps its own).

    The catalogue over HTTP (:mod:`smarkets.sandbox.server.catalogue_http`) listens on ``host``,
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
            ("http_port", 0),
            ("listing_days", 0),
            ("max_http_connections", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}")
        # The exchange's own checks: every order's quantities then fit the wire's uint32.
        check_max_open_orders(self.max_open_orders)
        check_max_order_quantity(self.max_order_quantity)
