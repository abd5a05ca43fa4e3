"""A real local HTTP(S) server (stdlib ``http.server`` in a thread) serving event listings.

Each path is a behaviour a test needs::

    with ListingServer(ssl_context=server_ssl_context) as server:
        server.routes["/events"] = Route(body=listing.SerializeToString())
        url = server.url("/events")

A :class:`Route` gives the status, headers and body, and optionally a delay before the
answer or between the chunks of the body (a slow server). ``requests`` records the paths
asked for, in order.
"""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from dataclasses import dataclass, field

from smarkets.proto import seto_pb2

PROTOBUF = "application/x-protobuf"


def listing() -> seto_pb2.Events:
    """A small valid listing: one event with one market of two contracts, and its parent."""
    result = seto_pb2.Events()
    event = result.with_markets.add(
        type=seto_pb2.EVENT_FOOTBALL_MATCH,
        category=seto_pb2.EVENT_CATEGORY_SPORT,
        slug="arsenal-v-chelsea",
        name="Arsenal v Chelsea",
    )
    event.event.low = 0x51
    event.parent.low = 0x50
    event.start_date.year, event.start_date.month, event.start_date.day = 2024, 5, 17
    market = event.markets.add(slug="match-odds", name="Match Odds")
    market.market.low = 0xF
    for n, name in ((0xF, "Arsenal"), (0x10, "Chelsea")):
        contract = market.contracts.add(
            type=seto_pb2.CONTRACT_GENERIC, slug=name.lower(), name=name
        )
        contract.contract.low = n
    parent = result.parents.add(
        type=seto_pb2.EVENT_FOOTBALL_SEASON,
        category=seto_pb2.EVENT_CATEGORY_SPORT,
        slug="premier-league",
        name="Premier League",
    )
    parent.event.low = 0x50
    return result


@dataclass
class Route:
    """What the server answers on one path."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = PROTOBUF
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering.
    delay: float = 0.0
    #: Send the body in chunks of this many bytes, ``drip`` seconds apart (no length).
    chunk: int | None = None
    drip: float = 0.0
    #: Declare this Content-Length instead of the body's (and close after the body).
    declared_length: int | None = None


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self.server.owner.requests.append(self.path)
        route = self.server.owner.routes.get(self.path.split("?", 1)[0])
        if route is None:
            route = Route(status=404, body=b"not found", content_type="text/plain")
        if route.delay:
            time.sleep(route.delay)
        self.send_response(route.status)
        if route.content_type is not None:
            self.send_header("Content-Type", route.content_type)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.chunk is None:
            length = len(route.body) if route.declared_length is None else route.declared_length
            self.send_header("Content-Length", str(length))
        self.end_headers()
        try:
            if route.chunk is None:
                self.wfile.write(route.body)
                return
            for start in range(0, len(route.body), route.chunk):
                self.wfile.write(route.body[start : start + route.chunk])
                self.wfile.flush()
                if route.drip:
                    time.sleep(route.drip)
        except OSError:
            pass  # the client gave up

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: ListingServer

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # failed handshakes and clients that hang up: the tests look at the client side


class ListingServer:
    """The server, on 127.0.0.1 and a free port; TLS when given a server context."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.tls = ssl_context is not None
        if ssl_context is not None:
            # The handshake happens in the handler's thread, not in the accepting one.
            self._server.socket = ssl_context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> ListingServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
