"""The catalogue over HTTP: :func:`respond` branch by branch, then the server on real sockets.

:func:`~smarkets.sandbox.server.catalogue_http.respond` is a pure function: every answer it can give
is checked without a socket. :class:`~smarkets.sandbox.server.catalogue_http.CatalogueHttpServer` is
then run on an asyncio loop, plain and with TLS (the trustme CA of ``conftest.py``):

* the normal path through the standard library's clients (``urllib``, ``http.client``): the
  listing and its headers, HEAD, keep-alive, a query string;
* every hostile request through raw sockets: each gets its status code, closes the connection
  and is logged with the peer and the status (404, 405, 400, 501, 431 in one write and
  dribbled, 413 sent or only declared, 408 for a slow client);
* what bounds a client: an idle connection is closed, connections beyond ``max_connections``
  get 503, a client that pipelines requests but never reads is no longer read from (its
  connection's output stays bounded) and is dropped after the timeout, a TLS client that
  never finishes its handshake is dropped.

Timeouts are short (tenths of a second) so that the timeout behaviours show quickly; nothing
asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import http.client
import logging
import socket
import ssl
import urllib.request
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec

import pytest

from smarkets.proto import seto_pb2
from smarkets.sandbox.exchange.catalogue import Catalogue, Listing
from smarkets.sandbox.exchange.markets_file import default_catalogue
from smarkets.sandbox.server.catalogue_http import (
    MAX_BODY_SIZE,
    MAX_HEADER_SIZE,
    PROTOBUF,
    CatalogueHttpServer,
    Response,
    respond,
)

P = ParamSpec("P")
LOGGER = "smarkets.sandbox.server.catalogue_http"
TODAY = datetime.date(2026, 12, 5)
WINDOW = 30
CATALOGUE = default_catalogue(TODAY)
POLITICS = Listing(seto_pb2.EVENTS_REQUEST_POLITICS)
FOOTBALL_TODAY = Listing(
    seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, seto_pb2.SPORT_BY_DATE_FOOTBALL, TODAY
)
#: How long any one wait of a test may take before the test fails.
WAIT = 5.0
#: A short request timeout for the tests of timeouts.
SHORT = 0.3


def asyncio_test(fn: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an ``async def`` test on a fresh event loop (failing if it takes over 20 s)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 20.0))

    return wrapper


def body_of(listing: Listing) -> bytes:
    return CATALOGUE.listing_body(listing)


def get(path: str, host: str = "x") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


# -- respond(): the pure part -------------------------------------------------------------------


def answer(method: bytes, target: bytes, catalogue: Catalogue = CATALOGUE) -> Response:
    return respond(catalogue, method, target, TODAY, WINDOW)


@pytest.mark.parametrize("method", [b"GET", b"HEAD"])
def test_respond_serves_a_listing(method: bytes) -> None:
    response = answer(method, b"/events/politics")
    assert response.status == 200
    assert response.content_type == PROTOBUF == "application/x-protobuf"
    assert response.headers == []
    events = seto_pb2.Events.FromString(response.body)
    assert [event.name for event in events.with_markets] == ["Next General Election"]
    assert [market.name for market in events.with_markets[0].markets] == ["Most Seats"]


def test_respond_serves_a_sport_by_date_with_its_parents() -> None:
    response = answer(b"GET", FOOTBALL_TODAY.path.encode())
    assert response.status == 200
    events = seto_pb2.Events.FromString(response.body)
    assert [event.name for event in events.with_markets] == ["Arsenal v Chelsea"]
    assert [event.name for event in events.parents] == ["Premier League 2026/27"]
    assert response.body == body_of(FOOTBALL_TODAY)


@pytest.mark.parametrize("days", [-WINDOW, -1, 1, WINDOW])
def test_respond_serves_every_date_of_the_window(days: int) -> None:
    date = TODAY + datetime.timedelta(days=days)
    response = answer(b"GET", f"/events/tennis/{date.isoformat()}".encode())
    assert response.status == 200
    assert response.content_type == PROTOBUF
    seto_pb2.Events.FromString(response.body)  # parses (nothing is listed that day)


@pytest.mark.parametrize("days", [-WINDOW - 1, WINDOW + 1, 3650])
def test_respond_refuses_a_date_outside_the_window(days: int) -> None:
    date = TODAY + datetime.timedelta(days=days)
    response = answer(b"GET", f"/events/football/{date.isoformat()}".encode())
    assert response.status == 404
    assert str(date) in response.why and f"within {WINDOW} days of {TODAY}" in response.why
    assert response.body == (response.why + "\n").encode()
    assert response.content_type.startswith("text/plain")


def test_respond_ignores_the_query_string() -> None:
    response = answer(b"GET", b"/events/politics?date=1999-01-01&x=%ff")
    assert response.status == 200
    assert response.body == body_of(POLITICS)


@pytest.mark.parametrize(
    "target",
    [
        b"/",
        b"*",
        b"/events",
        b"/events/",
        b"/events/nope",
        b"/events/Politics",
        b"/events/politics/",
        b"/events/politics/2026-12-05",
        b"/events/sport-by-date",
        b"/events/football",
        b"/events/football/",
        b"/events/football/2026-13-01",
        b"/events/football/2026-02-30",
        b"/events/football/20261205",
        b"/events/football/2026-12-5",
        b"/events/football/2026-12-05/x",
        b"/events/curling/2026-12-05",
        b"//events/politics",
        b"/events/\xffpolitics",
        b"http://x/events/politics",
        b"?/events/politics",
    ],
)
def test_respond_finds_no_listing(target: bytes) -> None:
    response = answer(b"GET", target)
    assert response.status == 404
    assert response.why == "no listing at this path"
    assert response.body == b"no listing at this path\n"
    assert response.headers == []


@pytest.mark.parametrize("method", [b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"get"])
def test_respond_allows_get_and_head_only(method: bytes) -> None:
    response = answer(method, b"/events/politics")
    assert response.status == 405
    assert response.headers == [("Allow", "GET, HEAD")]
    assert method.decode() in response.why
    assert response.body == (response.why + "\n").encode()


def test_respond_checks_the_method_before_the_path() -> None:
    assert answer(b"DELETE", b"/nowhere").status == 405


def test_respond_follows_the_catalogue() -> None:
    empty = Catalogue()
    response = answer(b"GET", b"/events/politics", empty)
    assert response.status == 200
    assert seto_pb2.Events.FromString(response.body) == seto_pb2.Events()


def test_response_error_and_defaults() -> None:
    error = Response.error(418, "a teapot", [("X-A", "b")])
    assert (error.status, error.body, error.why, error.headers) == (
        418,
        b"a teapot\n",
        "a teapot",
        [("X-A", "b")],
    )
    assert error.content_type == "text/plain; charset=utf-8"
    plain = Response(200, b"x")
    assert plain.headers == [] and plain.why == ""


def test_url_names_the_scheme_host_and_port(server_ssl_context: ssl.SSLContext) -> None:
    plain = CatalogueHttpServer(CATALOGUE)
    assert plain.port == 0
    assert plain.url("127.0.0.1") == "http://127.0.0.1:0/events/"
    assert plain.url("::1", "/events/politics") == "http://[::1]:0/events/politics"
    assert plain.url("[::1]") == "http://[::1]:0/events/"
    secure = CatalogueHttpServer(CATALOGUE, ssl_context=server_ssl_context)
    assert secure.scheme == "https"
    assert secure.url("localhost", FOOTBALL_TODAY.path).startswith("https://localhost:0/events/")


# -- the server on real sockets -----------------------------------------------------------------


@dataclass
class Mode:
    """Plain TCP or TLS: the server's context and a client context trusting it."""

    name: str
    server: ssl.SSLContext | None
    client: ssl.SSLContext | None

    @property
    def scheme(self) -> str:
        return "https" if self.client else "http"


@pytest.fixture(params=["plain", "tls"])
def mode(request: pytest.FixtureRequest, server_ssl_context: ssl.SSLContext, ca_file: Path) -> Mode:
    if request.param == "plain":
        return Mode("plain", None, None)
    return Mode("tls", server_ssl_context, ssl.create_default_context(cafile=str(ca_file)))


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return caplog


@contextlib.asynccontextmanager
async def serving(mode: Mode, **kwargs: Any) -> AsyncIterator[CatalogueHttpServer]:
    """A listing server on a free port of 127.0.0.1, dated :data:`TODAY`."""
    kwargs.setdefault("timeout", WAIT)
    server = CatalogueHttpServer(
        CATALOGUE, window_days=WINDOW, ssl_context=mode.server, today=lambda: TODAY, **kwargs
    )
    await server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        await server.close()


@dataclass
class Reply:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


class Peer:
    """A raw client connection (asyncio streams): send anything, read what comes back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        host, port = writer.get_extra_info("sockname")[:2]
        #: How the server's log names this connection.
        self.name = f"{host}:{port}"

    @classmethod
    async def open(
        cls,
        server: CatalogueHttpServer,
        mode: Mode,
        sock: socket.socket | None = None,
        limit: int = 1 << 16,
    ) -> Peer:
        """Connect to ``server`` (through ``sock`` if given, already connected); past 2 x
        ``limit`` bytes unread, the stream stops reading from its socket."""
        if sock is None:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", server.port, ssl=mode.client
            )
        else:
            reader, writer = await asyncio.open_connection(
                sock=sock,
                ssl=mode.client,
                server_hostname="127.0.0.1" if mode.client else None,
                limit=limit,
            )
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), WAIT)

    async def reply(self, head_only: bool = False) -> Reply:
        """The next response (its body read by Content-Length, none when ``head_only``)."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), WAIT)
        lines = head.decode("latin-1").split("\r\n")
        version, status, reason = lines[0].split(" ", 2)
        assert version == "HTTP/1.1"
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, value = line.split(":", 1)
                assert name.lower() not in headers, f"{name} twice"
                headers[name.lower()] = value.strip()
        length = 0 if head_only else int(headers["content-length"])
        body = await asyncio.wait_for(self.reader.readexactly(length), WAIT)
        return Reply(int(status), reason, headers, body)

    async def rest(self) -> bytes:
        """Everything until the server closes the connection (which it must, within WAIT)."""
        try:
            return await asyncio.wait_for(self.reader.read(), WAIT)
        except (ConnectionResetError, ssl.SSLError):
            return b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), WAIT)


async def eventually(predicate: Callable[[], object], what: str) -> None:
    """Wait (up to WAIT) until ``predicate()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not predicate():
        assert loop.time() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.01)


def logged(caplog: pytest.LogCaptureFixture, peer: Peer, status: int) -> list[str]:
    """The lines the server logged about ``peer`` getting ``status``."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER
        and record.getMessage().startswith(f"{peer.name}: HTTP {status} (")
        and record.levelno >= logging.INFO
    ]


async def refused(
    peer: Peer, status: int, caplog: pytest.LogCaptureFixture, head_only: bool = False
) -> Reply:
    """The connection's next reply has ``status``, says it closes, closes, and is logged."""
    reply = await peer.reply(head_only)
    assert reply.status == status, reply
    assert reply.headers["connection"] == "close"
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert await peer.rest() == b"", "more after an error response"
    if not head_only:
        why = reply.body.decode().strip()
        assert why
        lines = logged(caplog, peer, status)
        assert len(lines) == 1, caplog.text
        assert f"HTTP {status} ({why})" in lines[0]
    else:
        assert len(logged(caplog, peer, status)) == 1, caplog.text
    await peer.close()
    return reply


def fetch(mode: Mode, port: int, path: str, method: str = "GET") -> http.client.HTTPResponse:
    connection = connect_http(mode, port)
    connection.request(method, path)
    return connection.getresponse()


def connect_http(mode: Mode, port: int) -> http.client.HTTPConnection:
    if mode.client is None:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=WAIT, context=mode.client)


# -- the normal path ---------------------------------------------------------------------------


@asyncio_test
async def test_get_a_listing_with_urllib(mode: Mode) -> None:
    async with serving(mode) as server:
        url = server.url("127.0.0.1", POLITICS.path)
        assert url.startswith(f"{mode.scheme}://127.0.0.1:{server.port}/")

        def download() -> tuple[int, Any, bytes]:
            with urllib.request.urlopen(url, timeout=WAIT, context=mode.client) as response:
                return response.status, response.headers, response.read()

        status, headers, body = await asyncio.to_thread(download)
    assert status == 200
    assert headers["Content-Type"] == "application/x-protobuf"
    assert headers["Content-Length"] == str(len(body))
    assert headers["Cache-Control"] == "no-cache"
    events = seto_pb2.Events.FromString(body)
    assert events.with_markets[0].name == "Next General Election"
    assert body == body_of(POLITICS)


@asyncio_test
async def test_head_gives_the_headers_of_get_without_the_body(mode: Mode) -> None:
    async with serving(mode) as server:

        def head_then_get() -> tuple[http.client.HTTPResponse, bytes, str | None, bytes]:
            connection = connect_http(mode, server.port)
            connection.request("HEAD", FOOTBALL_TODAY.path)
            head = connection.getresponse()
            head_body = head.read()
            connection.request("GET", FOOTBALL_TODAY.path)
            got = connection.getresponse()
            result = (head, head_body, got.getheader("Content-Length"), got.read())
            connection.close()
            return result

        head, head_body, get_length, get_body = await asyncio.to_thread(head_then_get)
    assert head.status == 200
    assert head_body == b""
    assert head.getheader("Content-Type") == PROTOBUF
    assert head.getheader("Content-Length") == get_length == str(len(body_of(FOOTBALL_TODAY)))
    # No body bytes followed the HEAD's headers: the GET after it on the same connection
    # parses cleanly.
    assert get_body == body_of(FOOTBALL_TODAY)


@asyncio_test
async def test_keep_alive_serves_two_requests_on_one_connection(mode: Mode) -> None:
    async with serving(mode) as server:

        def twice() -> list[tuple[int, bytes, bool]]:
            connection = connect_http(mode, server.port)
            out = []
            first_socket = None
            for path in (POLITICS.path, FOOTBALL_TODAY.path):
                connection.request("GET", path)
                response = connection.getresponse()
                out.append((response.status, response.read(), response.will_close))
                first_socket = first_socket or connection.sock
                # http.client drops a socket the server closes, and opens a new one.
                assert connection.sock is not None and connection.sock is first_socket
            connection.close()
            return out

        results = await asyncio.to_thread(twice)
    assert results == [
        (200, body_of(POLITICS), False),
        (200, body_of(FOOTBALL_TODAY), False),
    ]


@asyncio_test
async def test_keep_alive_over_a_raw_connection(mode: Mode) -> None:
    async with serving(mode) as server:
        peer = await Peer.open(server, mode)
        for listing in (POLITICS, FOOTBALL_TODAY, POLITICS):
            await peer.send(get(listing.path))
            reply = await peer.reply()
            assert reply.status == 200
            assert "connection" not in reply.headers
            assert reply.body == body_of(listing)
        assert len(server.connections) == 1
        await peer.close()


@asyncio_test
async def test_pipelined_requests_are_answered_in_order(mode: Mode) -> None:
    listings = [POLITICS, FOOTBALL_TODAY, POLITICS, Listing(seto_pb2.EVENTS_REQUEST_SPORT_OTHER)]
    async with serving(mode) as server:
        peer = await Peer.open(server, mode)
        await peer.send(b"".join(get(listing.path) for listing in listings))
        for listing in listings:
            reply = await peer.reply()
            assert (reply.status, reply.body) == (200, body_of(listing))
        await peer.close()


@asyncio_test
async def test_a_pipelined_head_then_get(mode: Mode) -> None:
    async with serving(mode) as server:
        peer = await Peer.open(server, mode)
        head = f"HEAD {POLITICS.path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        await peer.send(head + get(FOOTBALL_TODAY.path))
        first = await peer.reply(head_only=True)
        assert first.status == 200
        assert first.headers["content-length"] == str(len(body_of(POLITICS)))
        second = await peer.reply()
        assert (second.status, second.body) == (200, body_of(FOOTBALL_TODAY))
        await peer.close()


@asyncio_test
async def test_the_query_string_is_ignored(mode: Mode) -> None:
    async with serving(mode) as server:
        response = await asyncio.to_thread(
            lambda: fetch(mode, server.port, POLITICS.path + "?when=tomorrow&x=1")
        )
        assert response.status == 200
        assert response.read() == body_of(POLITICS)


@asyncio_test
async def test_a_request_body_within_the_limit_is_read_and_dropped(mode: Mode) -> None:
    async with serving(mode) as server:
        peer = await Peer.open(server, mode)
        body = b"b" * MAX_BODY_SIZE
        request = (
            f"GET {POLITICS.path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        chunked = (
            f"GET {POLITICS.path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n0\r\n\r\n"
        ).encode()
        await peer.send(request + body + chunked + get(FOOTBALL_TODAY.path))
        for listing in (POLITICS, POLITICS, FOOTBALL_TODAY):
            reply = await peer.reply()
            assert (reply.status, reply.body) == (200, body_of(listing))
        await peer.close()


@asyncio_test
async def test_http_1_0_is_answered_and_closed(mode: Mode) -> None:
    async with serving(mode) as server:
        peer = await Peer.open(server, mode)
        await peer.send(f"GET {POLITICS.path} HTTP/1.0\r\n\r\n".encode())
        reply = await peer.reply()
        assert (reply.status, reply.body) == (200, body_of(POLITICS))
        assert await peer.rest() == b""
        await peer.close()


# -- hostile requests: each gets its status, is logged, and closes the connection ---------------

_BIG = "a" * (MAX_HEADER_SIZE + 1)
_PAST = (TODAY + datetime.timedelta(days=WINDOW + 1)).isoformat()

#: Name -> (what the client sends in one write, the status it must get).
BAD_REQUESTS: dict[str, tuple[bytes, int]] = {
    "unknown-path": (get("/nowhere"), 404),
    "unknown-listing": (get("/events/darts"), 404),
    "date-outside-the-window": (get(f"/events/football/{_PAST}"), 404),
    "no-such-date": (get("/events/football/2026-02-30"), 404),
    "head-of-an-unknown-path": (b"HEAD /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    "post": (
        b"POST /events/politics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        405,
    ),
    "delete": (b"DELETE /events/politics HTTP/1.1\r\nHost: x\r\n\r\n", 405),
    "garbage": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
    "no-version": (b"GET /events/politics\r\n\r\n", 400),
    "http-2-preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 405),
    "no-host": (b"GET /events/politics HTTP/1.1\r\n\r\n", 400),
    "header-without-colon": (b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400),
    "space-before-colon": (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    "bad-content-length": (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    "two-content-lengths": (
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        400,
    ),
    "bad-chunk": (
        b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        400,
    ),
    "gzip-transfer-coding": (
        b"GET /events/politics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        501,
    ),
    "huge-header-in-one-write": (
        f"GET /events/politics HTTP/1.1\r\nHost: x\r\nX-Big: {_BIG}\r\n\r\n".encode(),
        431,
    ),
    "many-headers-in-one-write": (
        b"GET /events/politics HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: y\r\n" % i for i in range(MAX_HEADER_SIZE // 8))
        + b"\r\n",
        431,
    ),
    "huge-target-in-one-write": (get("/events/" + _BIG), 431),
    "body-over-the-limit": (
        b"GET /events/politics HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
        % (MAX_BODY_SIZE + 1)
        + b"b" * (MAX_BODY_SIZE + 1),
        413,
    ),
    "chunked-body-over-the-limit": (
        b"POST /events/politics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"1000\r\n" + b"c" * 0x1000 + b"\r\n"
        + (b"1000\r\n" + b"c" * 0x1000 + b"\r\n") * (MAX_BODY_SIZE // 0x1000),
        413,
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BAD_REQUESTS))
@asyncio_test
async def test_a_bad_request_gets_its_status(
    mode: Mode, log: pytest.LogCaptureFixture, kind: str
) -> None:
    data, status = BAD_REQUESTS[kind]
    async with serving(mode) as server:
        peer = await Peer.open(server, mode)
        await peer.send(data)
        reply = await refused(peer, status, log, head_only=data.startswith(b"HEAD"))
        if status == 405:
            assert reply.headers["allow"] == "GET, HEAD"
        await eventually(lambda: not server.connections, "the connection to be gone")
        # The server goes on.
        again = await Peer.open(server, mode)
        await again.send(get(POLITICS.path))
        assert (await again.reply()).body == body_of(POLITICS)
        await again.close()


@asyncio_test
async def test_a_bad_request_after_good_ones_on_one_connection(
    mode: Mode, log: pytest.LogCaptureFixture
) -> None:
    async with serving(mode) as server:
        peer = await Peer.open(server, mode)
        await peer.send(get(POLITICS.path) + get("/nowhere") + get(POLITICS.path))
        assert (await peer.reply()).status == 200
        reply = await refused(peer, 404, log)  # nothing after it is answered
        assert reply.body == b"no listing at this path\n"
        assert "GET b'/nowhere'" in logged(log, peer, 404)[0]


@pytest.mark.parametrize("after", ["garbage", "slow"])
@asyncio_test
async def test_an_error_after_a_head_still_has_its_body(
    mode: Mode, log: pytest.LogCaptureFixture, after: str
) -> None:
    """The error answers the new request, not the HEAD before it on the connection."""
    async with serving(mode, timeout=SHORT) as server:
        peer = await Peer.open(server, mode)
        head = f"HEAD {POLITICS.path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        await peer.send(head + (b"\x00garbage\r\n\r\n" if after == "garbage" else b"GET /"))
        assert (await peer.reply(head_only=True)).status == 200
        reply = await refused(peer, 400 if after == "garbage" else 408, log)
        assert reply.body
        assert "HEAD" not in logged(log, peer, reply.status)[0]


@asyncio_test
async def test_a_huge_head_dribbled_gets_431(mode: Mode, log: pytest.LogCaptureFixture) -> None:
    async with serving(mode) as server:
        peer = await Peer.open(server, mode)
        await peer.send(b"GET /events/politics HTTP/1.1\r\nHost: x\r\n")
        reply_task = asyncio.create_task(peer.reply())
        sent = 0
        with contextlib.suppress(OSError, ssl.SSLError):
            while not reply_task.done() and sent < 4 * MAX_HEADER_SIZE:
                await peer.send(b"X-Dribble-%06d: %s\r\n" % (sent, b"d" * 1000))
                sent += 1024
                await asyncio.sleep(0.002)
        reply = await reply_task
        assert sent <= 2 * MAX_HEADER_SIZE, "the server read on past the limit"
        assert reply.status == 431
        assert reply.body == b"request header fields too large\n"
        assert reply.headers["connection"] == "close"
        assert await peer.rest() == b""
        assert len(logged(log, peer, 431)) == 1
        await peer.close()


@asyncio_test
async def test_a_body_declared_over_the_limit_gets_413_at_once(
    mode: Mode, log: pytest.LogCaptureFixture
) -> None:
    """No need to wait for the body: its declared length is enough."""
    async with serving(mode) as server:
        peer = await Peer.open(server, mode)
        await peer.send(
            b"POST /events/politics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
        )
        reply = await refused(peer, 413, log)
        assert str(MAX_BODY_SIZE) in reply.body.decode()


# -- timeouts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        b"G",
        b"GET /events/politics HTTP/1.1\r\n",
        b"GET /events/politics HTTP/1.1\r\nHost: x\r\n",
        b"POST /events/politics HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    ],
    ids=["one-byte", "request-line", "no-blank-line", "body-cut-short"],
)
@asyncio_test
async def test_a_request_not_complete_in_time_gets_408(
    mode: Mode, log: pytest.LogCaptureFixture, sent: bytes
) -> None:
    async with serving(mode, timeout=SHORT) as server:
        peer = await Peer.open(server, mode)
        await peer.send(sent)
        reply = await refused(peer, 408, log)
        assert reply.body == f"no complete request within {SHORT} s\n".encode()


@asyncio_test
async def test_a_slowloris_gets_408(mode: Mode, log: pytest.LogCaptureFixture) -> None:
    """A header line now and then, each well within the timeout, never a whole request."""
    async with serving(mode, timeout=SHORT) as server:
        peer = await Peer.open(server, mode)
        await peer.send(b"GET /events/politics HTTP/1.1\r\nHost: x\r\n")
        reply_task = asyncio.create_task(peer.reply())
        sent = 0
        with contextlib.suppress(OSError, ssl.SSLError):
            while not reply_task.done() and sent < 100:
                await peer.send(b"X-Slow-%d: 1\r\n" % sent)
                sent += 1
                await asyncio.sleep(SHORT / 6)
        reply = await reply_task
        assert reply.status == 408
        assert sent < 100, "the server waited for ever"
        assert await peer.rest() == b""
        assert len(logged(log, peer, 408)) == 1
        await peer.close()


@asyncio_test
async def test_a_slow_second_request_gets_408(mode: Mode, log: pytest.LogCaptureFixture) -> None:
    async with serving(mode, timeout=SHORT) as server:
        peer = await Peer.open(server, mode)
        await peer.send(get(POLITICS.path) + b"GET /events/politics HTTP/1.1\r\n")
        assert (await peer.reply()).status == 200
        await refused(peer, 408, log)


@asyncio_test
async def test_an_idle_connection_is_closed(mode: Mode, log: pytest.LogCaptureFixture) -> None:
    async with serving(mode, timeout=SHORT) as server:
        silent = await Peer.open(server, mode)
        kept_alive = await Peer.open(server, mode)
        await kept_alive.send(get(POLITICS.path))
        assert (await kept_alive.reply()).status == 200
        # Closed without a response: neither has a request in progress.
        assert await silent.rest() == b""
        assert await kept_alive.rest() == b""
        await eventually(lambda: not server.connections, "the connections to be gone")
        assert not [r for r in log.records if "HTTP 4" in r.getMessage()]
        await silent.close()
        await kept_alive.close()


# -- limits on clients ---------------------------------------------------------------------------


@asyncio_test
async def test_beyond_max_connections_503(mode: Mode, log: pytest.LogCaptureFixture) -> None:
    async with serving(mode, max_connections=2) as server:
        first = await Peer.open(server, mode)
        second = await Peer.open(server, mode)
        await eventually(lambda: len(server.connections) == 2, "two connections")
        third = await Peer.open(server, mode)
        reply = await refused(third, 503, log)
        assert reply.body == b"too many connections; try again later\n"
        await eventually(lambda: len(server.connections) == 2, "the third to be gone")
        # The first two are served as before.
        for peer in (first, second):
            await peer.send(get(POLITICS.path))
            assert (await peer.reply()).body == body_of(POLITICS)
        # A place is free once one of them goes.
        await first.close()
        await eventually(lambda: len(server.connections) == 1, "the first to be gone")
        fourth = await Peer.open(server, mode)
        await fourth.send(get(POLITICS.path))
        assert (await fourth.reply()).status == 200
        await second.close()
        await fourth.close()


@asyncio_test
async def test_a_client_that_never_reads_is_no_longer_read_from(
    mode: Mode, log: pytest.LogCaptureFixture
) -> None:
    """Pipelined requests, no reads: the server stops reading, its output for the connection
    stays bounded, and after the timeout the connection is dropped (not left to drain)."""
    timeout = 1.0
    async with serving(mode, timeout=timeout) as server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.setblocking(False)
        peer = await Peer.open(server, mode, sock, limit=1024)
        await eventually(lambda: server.connections, "the connection")
        (conn,) = server.connections
        transport = conn.transport
        assert transport is not None
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        request = get(POLITICS.path)
        batch = request * 200
        sent = 0

        def answered() -> int:
            return sum(1 for r in log.records if r.getMessage().startswith(f"{peer.name}: GET "))

        # Write (without waiting for the writes to drain) until the server stops reading.
        while transport.is_reading():
            assert sent < 20_000, "the server never stopped reading"
            peer.writer.write(batch)
            sent += 200
            await asyncio.sleep(0.005)
        high = transport.get_write_buffer_limits()[1]
        response_size = 200 + len(body_of(POLITICS))
        count = answered()
        assert 0 < count < sent
        # More requests, more time: nothing more is read or answered, nothing piles up.
        for _ in range(10):
            peer.writer.write(batch)
            sent += 200
            await asyncio.sleep(0.02)
            assert not transport.is_reading()
            assert transport.get_write_buffer_size() <= 2 * high + response_size
        assert answered() == count
        # After the timeout the connection is dropped, though the client never read.
        await eventually(lambda: not server.connections, "the connection to be dropped")
        assert transport.is_closing()
        lines = [
            r.getMessage()
            for r in log.records
            if r.getMessage().startswith(f"{peer.name}: ") and r.levelno >= logging.INFO
        ]
        assert any("does not read" in line for line in lines), lines
        peer.writer.transport.abort()


@asyncio_test
async def test_a_close_does_not_wait_for_ever_for_a_client_that_never_reads(
    mode: Mode, log: pytest.LogCaptureFixture
) -> None:
    """An error closes the connection after the responses buffered for it are written; a
    client that never reads them is dropped after the timeout instead."""
    async with serving(mode, timeout=SHORT) as server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.setblocking(False)
        peer = await Peer.open(server, mode, sock, limit=1024)
        await eventually(lambda: server.connections, "the connection")
        (conn,) = server.connections
        transport = conn.transport
        assert transport is not None
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        transport.set_write_buffer_limits(high=64 << 20)  # never paused: only the close waits
        batch = get(POLITICS.path) * 100
        while not transport.get_write_buffer_size():
            peer.writer.write(batch)
            await asyncio.sleep(0.005)
        peer.writer.write(get("/nowhere"))
        await eventually(lambda: logged(log, peer, 404), "the 404")
        assert transport.is_closing()
        await eventually(lambda: not server.connections, "the connection to be dropped")
        peer.writer.transport.abort()


@asyncio_test
async def test_a_tls_handshake_never_finished_is_dropped(
    server_ssl_context: ssl.SSLContext, ca_file: Path
) -> None:
    mode = Mode("tls", server_ssl_context, ssl.create_default_context(cafile=str(ca_file)))
    async with serving(mode, timeout=SHORT) as server:
        silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", server.port)
        hello_reader, hello_writer = await asyncio.open_connection("127.0.0.1", server.port)
        # The start of a ClientHello record, never finished.
        hello_writer.write(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        for reader in (silent_reader, hello_reader):
            try:
                rest = await asyncio.wait_for(reader.read(), WAIT)
            except ConnectionResetError:
                rest = b""
            assert rest == b""
        # Never counted as connections being served.
        assert not server.connections
        for writer in (silent_writer, hello_writer):
            writer.close()
        # The server goes on.
        peer = await Peer.open(server, mode)
        await peer.send(get(POLITICS.path))
        assert (await peer.reply()).status == 200
        await peer.close()


@asyncio_test
async def test_close_closes_every_connection(mode: Mode) -> None:
    server = CatalogueHttpServer(CATALOGUE, ssl_context=mode.server, today=lambda: TODAY)
    await server.start("127.0.0.1", 0)
    assert server.port
    peer = await Peer.open(server, mode)
    await peer.send(get(POLITICS.path))
    assert (await peer.reply()).status == 200
    await server.close()
    assert await peer.rest() == b""
    assert server.port == 0
    await server.close()  # twice is harmless
    await peer.close()
