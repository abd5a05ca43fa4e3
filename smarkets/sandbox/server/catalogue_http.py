"""The catalogue over HTTP: the sandbox's listing server, an asyncio shell around ``h11``.

An ``events_request`` on the stream is answered with ``http_found`` and a URL on this server
(PROTOCOL.md section 3.1); a GET of that URL returns the listing, a ``seto.Events``, as
``application/x-protobuf``. It listens on its own port, beside the stream, on the same event
loop and (with TLS on) with the same certificate.

HTTP is parsed by `h11 <https://h11.readthedocs.io>`_, a small, well-kept, sans-I/O
HTTP/1.1 library (the sandbox's ``sandbox`` extra): it turns bytes into request events and
responses into bytes, leaving sockets and timers to this module, as the project's own
protocol core does for the stream. The standard library has no asyncio HTTP server, and its
threaded ``http.server`` would put the catalogue on other threads than the exchange's.

What a client gets (:func:`respond` decides, a pure function of method, target and date):

* ``GET``/``HEAD`` of a listing's path (:attr:`~smarkets.sandbox.exchange.catalogue.Listing.path`)
  within the window: 200 and the listing;
* a path that is no listing, or a date outside the window: 404;
* another method: 405 (``Allow: GET, HEAD``);
* a request that HTTP cannot parse: 400 (501 for a transfer coding it does not know);
* a request line and headers over :data:`MAX_HEADER_SIZE`: 431; a body over
  :data:`MAX_BODY_SIZE` (sent, or only declared by ``Content-Length``): 413;
* a request not complete within ``timeout`` seconds of its first byte (a slow client): 408;
  a connection idle that long between requests is closed;
* beyond ``max_connections`` connections at once: 503 at once.

Every error response closes the connection and is logged with the peer and the reason.
None of it reaches the exchange: a listing is built from the catalogue (and kept until the
catalogue changes), and a client that does not read its responses stops being read from (once
the connection's output buffer is full) and is dropped when responses have waited ``timeout``
seconds unread (also when the connection is closing: a close never waits for ever).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable
from typing import Any

import h11

from smarkets.sandbox.exchange.catalogue import Catalogue, Listing

__all__ = [
    "MAX_BODY_SIZE",
    "MAX_HEADER_SIZE",
    "CatalogueHttpServer",
    "Response",
    "respond",
]

_log = logging.getLogger(__name__)

#: The largest request line plus headers accepted (beyond: 431).
MAX_HEADER_SIZE = 16 << 10
#: The largest request body accepted, and thrown away (beyond: 413).
MAX_BODY_SIZE = 16 << 10
#: The media type of a listing.
PROTOBUF = "application/x-protobuf"

_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    405: b"Method Not Allowed",
    408: b"Request Timeout",
    413: b"Content Too Large",
    431: b"Request Header Fields Too Large",
    501: b"Not Implemented",
    503: b"Service Unavailable",
}


class Response:
    """A response to send: status, extra headers and body (``why`` is for the log)."""

    __slots__ = ("body", "content_type", "headers", "status", "why")

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain; charset=utf-8",
        headers: list[tuple[str, str]] | None = None,
        why: str = "",
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or []
        self.why = why

    @classmethod
    def error(cls, status: int, why: str, headers: list[tuple[str, str]] | None = None) -> Response:
        """A plain-text error response whose body says ``why``."""
        return cls(status, (why + "\n").encode(), headers=headers, why=why)


def respond(
    catalogue: Catalogue, method: bytes, target: bytes, today: datetime.date, window_days: int
) -> Response:
    """The response to one request: the listing at ``target``, or why there is none."""
    if method not in (b"GET", b"HEAD"):
        return Response.error(
            405, f"{method.decode('latin-1')} is not served here", [("Allow", "GET, HEAD")]
        )
    path = target.split(b"?", 1)[0]
    try:
        listing = Listing.from_path(path.decode("ascii"))
    except UnicodeDecodeError:
        listing = None
    if listing is None:
        return Response.error(404, "no listing at this path")
    if not listing.in_window(today, window_days):
        return Response.error(
            404, f"no listing for {listing.date}: dates within {window_days} days of {today}"
        )
    return Response(200, catalogue.listing_body(listing), PROTOBUF)


def _body_too_large() -> Response:
    return Response.error(413, f"a request body is at most {MAX_BODY_SIZE} bytes")


class _HttpConnection(asyncio.Protocol):
    """One HTTP connection: bytes through an ``h11.Connection``, listings out."""

    def __init__(self, server: CatalogueHttpServer) -> None:
        self.server = server
        self.http = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_SIZE)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.method = b""
        self.target = b""
        self.body_size = 0
        self.timer: asyncio.TimerHandle | None = None
        self.paused = False

    # -- asyncio ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        server = self.server
        server.connections.add(self)
        if len(server.connections) > server.max_connections:
            self._fail(Response.error(503, "too many connections; try again later"))
            return
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.http.receive_data(data)
        self._process()

    def eof_received(self) -> bool | None:
        self.http.receive_data(b"")
        self._process()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self.server.connections.discard(self)

    def pause_writing(self) -> None:
        # A client that sends requests but does not read the answers: stop reading them.
        if self.transport is not None:
            self.transport.pause_reading()
            self.paused = True

    def resume_writing(self) -> None:
        if self.transport is not None and self.paused:
            self.paused = False
            self.transport.resume_reading()
            self._process()

    # -- HTTP ------------------------------------------------------------------------------

    def _process(self) -> None:
        """Act on every event h11 has, until it needs more bytes (or the peer must wait)."""
        while self.transport is not None and not self.transport.is_closing() and not self.paused:
            try:
                event = self.http.next_event()
            except h11.RemoteProtocolError as exc:
                status = exc.error_status_hint
                why = {431: "request header fields too large"}.get(status, str(exc))
                self._fail(Response.error(status, why))
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return  # PAUSED: a pipelined request waits until this one is answered
            if isinstance(event, h11.Request):
                self.method, self.target = event.method, event.target
                self.body_size = 0
                # h11 bounds a request head that arrives in pieces; one that arrives whole
                # is measured here.
                size = len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers)
                if size > MAX_HEADER_SIZE:
                    self._fail(Response.error(431, "request header fields too large"))
                    return
                # A body declared too long is refused at once, not waited for (h11 has
                # checked that a Content-Length is one number).
                if any(k == b"content-length" and int(v) > MAX_BODY_SIZE for k, v in event.headers):
                    self._fail(_body_too_large())
                    return
            elif isinstance(event, h11.Data):
                self.body_size += len(event.data)
                if self.body_size > MAX_BODY_SIZE:
                    self._fail(_body_too_large())
                    return
            elif isinstance(event, h11.EndOfMessage):
                server = self.server
                response = respond(
                    server.catalogue, self.method, self.target, server.today(), server.window_days
                )
                if response.status != 200:
                    self._fail(response)
                    return
                _log.debug("%s: %s %r -> 200", self.peer, self.method.decode(), self.target)
                self._send(response)
            elif isinstance(event, h11.ConnectionClosed):
                self._close()
                return

    def _next_request(self) -> None:
        """The response is out: on to the next request of a kept-alive connection."""
        if self.http.our_state is h11.MUST_CLOSE or self.http.their_state is h11.MUST_CLOSE:
            self._close()
            return
        self.http.start_next_cycle()
        # What the log and the next response know of "the request" is the next one's.
        self.method, self.target, self.body_size = b"", b"", 0
        self._arm_timer()

    def _send(self, response: Response, close: bool = False) -> None:
        """Write ``response`` (headers only for HEAD); close after it if asked."""
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", "no-cache"),
            *response.headers,
        ]
        if close:
            headers.append(("Connection", "close"))
        try:
            data = self.http.send(
                h11.Response(
                    status_code=response.status,
                    headers=headers,
                    reason=_REASONS.get(response.status, b""),
                )
            )
            if self.method != b"HEAD":
                data += self.http.send(h11.Data(data=response.body)) or b""
            data += self.http.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError as exc:  # no response is possible in this state
            _log.info("%s: closed without a response (%s)", self.peer, exc)
            self._close()
            return
        assert self.transport is not None
        self.transport.write(data or b"")
        if close or self.http.our_state is h11.MUST_CLOSE:
            self._close()
        elif self.http.our_state is h11.DONE and self.http.their_state is h11.DONE:
            self._next_request()

    def _fail(self, response: Response) -> None:
        """Answer with an error status, log why, and close the connection."""
        _log.info(
            "%s: HTTP %d (%s) for %s %r",
            self.peer,
            response.status,
            response.why,
            self.method.decode("latin-1") or "-",
            self.target[:200],
        )
        if self.http.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self._send(response, close=True)
        else:
            self._close()

    def _close(self) -> None:
        """Close after what is buffered is written; drop a peer that does not read it."""
        self._cancel_timer()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self.paused:  # the peer does not read: what is buffered would never drain
            transport.abort()
            return
        transport.close()
        # What is buffered (for TLS, below the TLS layer too) must drain within the timeout,
        # or the connection is dropped: connection_lost cancels this once it is closed.
        self.timer = self.server.loop.call_later(self.server.timeout, transport.abort)

    # -- the deadline ----------------------------------------------------------------------

    def _arm_timer(self) -> None:
        self._cancel_timer()
        self.timer = self.server.loop.call_later(self.server.timeout, self._on_timeout)

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _on_timeout(self) -> None:
        self.timer = None
        transport = self.transport
        if transport is not None and (self.paused or transport.get_write_buffer_size()):
            # Responses not read for that long: the peer is not reading; nothing it sent
            # after them is answered (it was not read either).
            _log.info(
                "%s: dropped: does not read its responses (left unread for %s s)",
                self.peer,
                self.server.timeout,
            )
            transport.abort()
            return
        started = self.http.their_state is not h11.IDLE or bool(self.http.trailing_data[0])
        if started:
            self._fail(Response.error(408, f"no complete request within {self.server.timeout} s"))
        else:
            _log.debug("%s: idle for %s s, closed", self.peer, self.server.timeout)
            self._close()


class CatalogueHttpServer:
    """The listing server: ``await start(host, port)``, then :attr:`port`, :meth:`url_for`.

    ``today`` gives the date the window is centred on (UTC's by default); ``window_days``
    is how many days either side a sport's listing is served; ``timeout`` is how long a
    request may take to arrive (and a kept-alive connection may idle); beyond
    ``max_connections`` connections at once, a new one is answered 503.
    """

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        window_days: int = 30,
        ssl_context: Any = None,
        timeout: float = 10.0,
        max_connections: int = 256,
        today: Callable[[], datetime.date] | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.window_days = window_days
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.max_connections = max_connections
        self.today = today or (lambda: datetime.datetime.now(datetime.timezone.utc).date())
        self.connections: set[_HttpConnection] = set()
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the server runs on."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` (0: a free port)."""
        self._server = await self.loop.create_server(
            lambda: _HttpConnection(self),
            host,
            port,
            ssl=self.ssl_context,
            ssl_handshake_timeout=self.timeout if self.ssl_context else None,
            reuse_address=True,
        )
        _log.info("catalogue served on port %d", self.port)

    @property
    def port(self) -> int:
        """The port listened on (0 before :meth:`start`)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return 0

    @property
    def scheme(self) -> str:
        """``https`` with TLS on, else ``http``."""
        return "https" if self.ssl_context is not None else "http"

    def url(self, host: str, path: str = "/events/") -> str:
        """The URL of ``path`` on this server, reached as ``host`` (a listing's
        :attr:`~smarkets.sandbox.exchange.catalogue.Listing.path`; by default the listings'
        root)."""
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 address
        return f"{self.scheme}://{host}:{self.port}{path}"

    async def close(self) -> None:
        """Stop listening and close every connection."""
        if self._server is None:
            return
        self._server.close()
        for conn in list(self.connections):
            conn._close()
        try:
            await asyncio.wait_for(self._server.wait_closed(), 2.0)
        except asyncio.TimeoutError:  # pragma: no cover - a client that never closes
            _log.warning("some HTTP connections did not close in time")
        self._server = None
