"""The sandbox's catalogue over HTTPS (a separate process) against hostile HTTP clients, while a
client of the project keeps trading on the stream.

The trader is the library's own client (``smarkets.Smarkets``, logged in as alice with TLS and
the sandbox's CA): it places an order and a PING before, between and after the attacks, and
each is answered (the order accepted, then its unmatched remainder cancelled; the PING
PONGed), nothing lost. Meanwhile a hostile client, with raw sockets on the catalogue's port,
sends every kind of bad request; each gets its status code and its connection is closed:

* at once: 404 (unknown path, a date outside the window), 405 (``Allow: GET, HEAD``), 400
  (garbage, no ``Host``), 501 (``Transfer-Encoding: gzip``), 431 (a huge head in one write, and
  dribbled), 413 (a body over the limit, sent or declared), a plain-text request to the TLS
  port (closed);
* after the sandbox's HTTP timeout (its default: there is no command-line flag for it, so these
  run side by side): 408 for a slowloris, an idle connection closed (new, and kept alive after
  a request), a TLS handshake never finished dropped, a client that pipelines requests but
  never reads is no longer read from and then dropped;
* more connections held at once than the sandbox serves (its default limit): 503 beyond.

After the abuse a listing is still fetched the published way (``events_request``, then the
URL) and with ``urllib``.
"""

from __future__ import annotations

import contextlib
import datetime
import select
import socket
import ssl
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from support import sandbox_settings

import smarkets
from smarkets.proto import seto_pb2
from smarkets.sandbox.process import SandboxProcess
from smarkets.sandbox.server.catalogue_http import MAX_BODY_SIZE, MAX_HEADER_SIZE

#: How long one wait may take before the test fails.
WAIT = 10.0
#: The sandbox's HTTP timeout and connection limit (short and small: the test waits for them).
HTTP_TIMEOUT = 2.0
MAX_HTTP_CONNECTIONS = 16
#: How long the attacks that wait for the HTTP timeout may take.
SLOW_WAIT = HTTP_TIMEOUT + WAIT

ACCOUNTS = {name: {"password": f"{name}-pw", "balance": 10_000_000} for name in ("alice", "bob")}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    """TLS on (the default), no bots: the trader's orders never match."""
    limits = [
        "--http-timeout",
        str(HTTP_TIMEOUT),
        "--max-http-connections",
        str(MAX_HTTP_CONNECTIONS),
    ]
    with SandboxProcess(accounts=ACCOUNTS, extra_args=limits) as process:
        assert process.catalogue_url.startswith("https://")
        yield process


# -- the trader ------------------------------------------------------------------------------------


class Trader:
    """alice, with the library's client: an order and a PING at a time, each answered."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        settings = sandbox_settings(sandbox, "alice", socket_timeout=WAIT)
        self.client = smarkets.Smarkets(smarkets.Session(settings))
        self.pings = self.pongs = 0
        self.accepted = self.cancelled = 0
        self.orders: list[smarkets.Order] = []
        self.client.add_handler("eto.pong", self._pong)
        self.client.login()

    def _pong(self, message: Any) -> None:
        self.pongs += 1

    def _accepted(self, order: smarkets.Order, message: Any) -> None:
        self.accepted += 1

    def _cancelled(self, order: smarkets.Order, message: Any) -> None:
        self.cancelled += 1

    def trade(self) -> None:
        """An unmatched IMMEDIATE_OR_CANCEL order and a PING: accepted, cancelled, PONGed."""
        order = smarkets.Order(
            1000,
            1,
            smarkets.Order.BUY,
            "4c024",
            "8cccc",
            smarkets.Order.IMMEDIATE_OR_CANCEL,
            on_accepted=self._accepted,
            on_cancelled=self._cancelled,
        )
        self.client.order(order)
        self.client.ping()
        self.pings += 1
        self.orders.append(order)
        self.client.flush()
        deadline = time.monotonic() + WAIT
        while order.state != "cancelled" or self.pongs < self.pings:
            assert order.state in ("sent", "accepted"), f"the trader's order is {order.state}"
            assert time.monotonic() < deadline, "the trader's order or PING went unanswered"
            self.client.read()
        self.check()

    def check(self) -> None:
        """Every order and PING so far answered exactly once."""
        assert self.client.session.logged_in, "the trader was logged out"
        assert self.pongs == self.pings
        assert self.accepted == self.cancelled == len(self.orders)
        assert all(order.id is not None for order in self.orders)


@pytest.fixture
def trader(sandbox: SandboxProcess) -> Iterator[Trader]:
    trader = Trader(sandbox)
    trader.trade()
    yield trader
    trader.trade()
    trader.client.logout()


# -- the hostile client ------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class Catalogue:
    """The sandbox's catalogue port, reached with raw sockets (TLS with the sandbox's CA)."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        url = urlsplit(sandbox.catalogue_url)
        assert url.hostname is not None and url.port is not None
        self.host, self.port = url.hostname, url.port
        self.context = ssl.create_default_context(cafile=sandbox.ca_file)

    def tcp(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=WAIT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self, rcvbuf: int = 0) -> ssl.SSLSocket:
        if rcvbuf:
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            raw.settimeout(WAIT)
            raw.connect((self.host, self.port))
        else:
            raw = self.tcp()
        return self.context.wrap_socket(raw, server_hostname=self.host)

    def send(self, data: bytes) -> Reply:
        """Send ``data`` on a new connection; the reply, once the sandbox has closed it."""
        with self.connect() as sock:
            with contextlib.suppress(OSError):
                sock.sendall(data)
            return until_closed(sock)


def until_closed(sock: socket.socket, timeout: float = WAIT, start: bytes = b"") -> Reply:
    """The one response on ``sock`` (``start``: its first bytes, read already), read until
    the sandbox closes the connection."""
    data = start + rest(sock, timeout)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), data[:200]
    headers = {
        name.strip().lower(): value.strip()
        for name, value in (line.split(":", 1) for line in lines[1:])
    }
    assert len(body) == int(headers["content-length"]), "more than one response"
    return Reply(int(lines[0].split()[1]), headers, body)


def rest(sock: socket.socket, timeout: float = WAIT) -> bytes:
    """Every byte until the sandbox closes the connection (which it must within ``timeout``)."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(
                f"the sandbox did not close the connection: {data[:200]!r}"
            ) from None
        except (ConnectionResetError, ssl.SSLError):
            chunk = b""
        if not chunk:
            return data
        data += chunk


def answer(sock: ssl.SSLSocket, timeout: float) -> bytes | None:
    """What the sandbox has sent on ``sock`` within ``timeout`` (``b""``: it closed), or
    ``None``: nothing yet. (A readable socket may hold TLS records that carry no data, such
    as the session tickets a TLS 1.3 server sends after the handshake.)"""
    if not sock.pending() and not select.select([sock], [], [], timeout)[0]:
        return None
    sock.settimeout(0)
    try:
        return sock.recv(65536)
    except ssl.SSLWantReadError:
        return None
    except (ConnectionResetError, ssl.SSLError):
        return b""
    finally:
        sock.settimeout(WAIT)


def request(method: str, path: str, *headers: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: sandbox", *headers, "", ""]
    return "\r\n".join(lines).encode() + body


PAST_THE_WINDOW = (datetime.date.today() + datetime.timedelta(days=400)).isoformat()

#: Name -> (what the hostile client sends in one write, the status it must get).
BAD_REQUESTS: dict[str, tuple[bytes, int]] = {
    "unknown-path": (request("GET", "/admin"), 404),
    "date-outside-the-window": (request("GET", f"/events/football/{PAST_THE_WINDOW}"), 404),
    "post": (request("POST", "/events/politics", "Content-Length: 2", body=b"{}"), 405),
    "garbage": (b"\x00\xff\x13garbage\r\n\r\n", 400),
    "no-host": (b"GET /events/politics HTTP/1.1\r\n\r\n", 400),
    "gzip-transfer-coding": (request("GET", "/events/politics", "Transfer-Encoding: gzip"), 501),
    "huge-head": (request("GET", "/events/politics", "X-Big: " + "a" * MAX_HEADER_SIZE), 431),
    "body-over-the-limit": (
        request(
            "GET",
            "/events/politics",
            f"Content-Length: {MAX_BODY_SIZE + 1}",
            body=b"b" * (MAX_BODY_SIZE + 1),
        ),
        413,
    ),
    "body-declared-over-the-limit": (
        request("PUT", "/events/politics", "Content-Length: 99999999999"),
        413,
    ),
}


def wait_for_log(sandbox: SandboxProcess, *fragments: str, timeout: float = WAIT) -> str:
    """The first line of the sandbox's log holding every fragment (waiting for it)."""
    deadline = time.monotonic() + timeout
    while True:
        for line in sandbox.log_text.splitlines():
            if all(fragment in line for fragment in fragments):
                return line
        assert time.monotonic() < deadline, f"no log line with {fragments}"
        time.sleep(0.02)


def peer_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"{host}:{port}"


# -- the attacks that wait for the HTTP timeout (each in a thread) --------------------------------


def slowloris(catalogue: Catalogue, sandbox: SandboxProcess) -> int:
    """A header line now and then (well within the timeout), never a whole request: 408."""
    with catalogue.connect() as sock:
        sock.sendall(b"GET /events/politics HTTP/1.1\r\nHost: sandbox\r\n")
        deadline = time.monotonic() + SLOW_WAIT
        lines = 0
        while (start := answer(sock, HTTP_TIMEOUT / 10)) is None:
            assert time.monotonic() < deadline, "the slowloris was waited for for ever"
            sock.sendall(b"X-Slow-%d: 1\r\n" % lines)
            lines += 1
        reply = until_closed(sock, start=start)
        assert reply.status == 408, reply
        wait_for_log(sandbox, f"{peer_of(sock)}: HTTP 408")
        return lines


def idle(catalogue: Catalogue, after_a_request: bool) -> None:
    """A connection that sends nothing (or nothing after its first request): closed."""
    with catalogue.connect() as sock:
        if after_a_request:
            sock.sendall(request("GET", "/events/politics"))
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(1)
                assert chunk, "closed before the response"
                head += chunk
            assert head.startswith(b"HTTP/1.1 200 "), head
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            body = b""
            while len(body) < length:
                body += sock.recv(length - len(body))
            assert seto_pb2.Events.FromString(body).with_markets
        assert rest(sock, SLOW_WAIT) == b"", "an idle connection got a response"


def handshake_never_finished(catalogue: Catalogue) -> None:
    """TCP, and the start of a ClientHello, never finished: dropped."""
    with catalogue.tcp() as sock:
        sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        assert rest(sock, SLOW_WAIT) == b""


def never_reads(catalogue: Catalogue, sandbox: SandboxProcess) -> int:
    """Pipelined requests and no reads: the sandbox stops reading them (the client's writes
    block), then drops the connection; the number of requests written is returned."""
    with catalogue.connect(rcvbuf=4096) as sock:
        batch = request("GET", "/events/politics") * 500
        sent = 0
        sock.settimeout(2.0)
        while True:
            try:
                sock.sendall(batch)
            except TimeoutError:
                break  # the sandbox reads no more
            except OSError:
                break  # ... and has dropped the connection already (a short HTTP timeout)
            sent += 500
            assert sent < 1_000_000, "the sandbox never stopped reading"
        peer = peer_of(sock)
        deadline = time.monotonic() + SLOW_WAIT
        sock.settimeout(0.5)
        while True:  # until the sandbox drops the connection: a write fails
            assert time.monotonic() < deadline, "the sandbox never dropped the connection"
            try:
                sock.sendall(b"x" * 1024)
            except TimeoutError:
                time.sleep(0.1)
            except OSError:
                break
        wait_for_log(sandbox, f"{peer}: dropped: does not read its responses")
        return sent


# -- the tests -------------------------------------------------------------------------------


def test_hostile_http_gets_its_status_and_the_stream_goes_on(
    sandbox: SandboxProcess, trader: Trader
) -> None:
    catalogue = Catalogue(sandbox)
    with ThreadPoolExecutor(max_workers=5, thread_name_prefix="hostile") as pool:
        slow: dict[str, Future[Any]] = {
            "slowloris": pool.submit(slowloris, catalogue, sandbox),
            "idle": pool.submit(idle, catalogue, False),
            "idle-after-a-request": pool.submit(idle, catalogue, True),
            "handshake-never-finished": pool.submit(handshake_never_finished, catalogue),
            "never-reads": pool.submit(never_reads, catalogue, sandbox),
        }
        # The quick ones, one after the other, with a trade after each.
        for kind, (data, status) in BAD_REQUESTS.items():
            with catalogue.connect() as sock:
                peer = peer_of(sock)
                with contextlib.suppress(OSError):
                    sock.sendall(data)
                reply = until_closed(sock)
            assert reply.status == status, (kind, reply)
            assert reply.headers["connection"] == "close"
            if status == 405:
                assert reply.headers["allow"] == "GET, HEAD"
            wait_for_log(sandbox, f"{peer}: HTTP {status} (")
            trader.trade()
        dribbled(catalogue, sandbox)
        trader.trade()
        with catalogue.tcp() as sock:  # plain text to the TLS port
            sock.sendall(request("GET", "/events/politics"))
            assert b"HTTP/1.1 200" not in rest(sock)
        trader.trade()
        # The slow ones: the stream is answered all along.
        deadline = time.monotonic() + SLOW_WAIT + WAIT
        while not all(future.done() for future in slow.values()):
            assert time.monotonic() < deadline, [k for k, f in slow.items() if not f.done()]
            trader.trade()
            time.sleep(0.2)
        for kind, future in slow.items():
            assert future.exception() is None, (kind, future.exception())
        assert slow["slowloris"].result() > 0
        assert slow["never-reads"].result() >= 500
    assert len(trader.orders) > 20
    # A listing still comes, the published way and with urllib.
    events = trader.client.fetch_events(smarkets.Politics())
    assert [event.name for event in events.with_markets] == ["Next General Election"]
    trader.check()
    fetched = urllib.request.urlopen(
        sandbox.catalogue_url + "politics", timeout=WAIT, context=catalogue.context
    )
    with fetched:
        assert fetched.headers["Content-Type"] == "application/x-protobuf"
        assert seto_pb2.Events.FromString(fetched.read()) == events


def dribbled(catalogue: Catalogue, sandbox: SandboxProcess) -> None:
    """A request head sent 1 KiB at a time, never ending: 431 once it is over the limit."""
    with catalogue.connect() as sock:
        sock.sendall(b"GET /events/politics HTTP/1.1\r\nHost: sandbox\r\n")
        sent = 0
        start = None
        with contextlib.suppress(OSError):  # the sandbox may close while we write
            while sent < 4 * MAX_HEADER_SIZE and (start := answer(sock, 0.005)) is None:
                sock.sendall(b"X-%06d: %s\r\n" % (sent, b"d" * 1013))
                sent += 1024
        # Beyond the limit: 431 at once (a sandbox reading on would answer 408 much later).
        reply = until_closed(sock, start=start or b"")
        assert reply.status == 431, reply
        assert sent >= MAX_HEADER_SIZE - 1024
        wait_for_log(sandbox, f"{peer_of(sock)}: HTTP 431 (")


def test_more_connections_than_the_limit_do_not_stop_the_stream(
    sandbox: SandboxProcess, trader: Trader
) -> None:
    catalogue = Catalogue(sandbox)
    held: list[ssl.SSLSocket] = []
    try:
        for index in range(MAX_HTTP_CONNECTIONS + 4):
            held.append(catalogue.connect())
            if index % 64 == 0:
                trader.trade()
        # Beyond the limit: 503, and closed.
        for sock in held[MAX_HTTP_CONNECTIONS:]:
            reply = until_closed(sock)
            assert reply.status == 503, reply
            assert reply.body == b"too many connections; try again later\n"
        # The stream goes on: the trader trades, and a new session logs in and out.
        trader.trade()
        bob = smarkets.Smarkets(
            smarkets.Session(sandbox_settings(sandbox, "bob", socket_timeout=WAIT))
        )
        bob.login()
        bob.logout()
        # A connection held within the limit is served.
        held[0].sendall(request("GET", "/events/politics", "Connection: close"))
        reply = until_closed(held[0])
        assert reply.status == 200
        assert seto_pb2.Events.FromString(reply.body).with_markets
    finally:
        for sock in held:
            sock.close()
    trader.trade()
    # Once they are gone, a new connection is served (the sandbox sees the closes soon).
    deadline = time.monotonic() + WAIT
    while True:
        reply = catalogue.send(request("GET", "/events/politics", "Connection: close"))
        if reply.status == 200:
            break
        assert reply.status == 503 and time.monotonic() < deadline, reply
        time.sleep(0.05)
