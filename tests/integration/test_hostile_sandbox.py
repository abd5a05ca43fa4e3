"""The sandbox (a separate process) against hostile clients, while a good client keeps trading.

Every attack runs next to a well-behaved trader (the library's own client, logged in as
alice) that places an order and gets its answer before, during and after the attack. The
offender is logged out with the right LOGOUT reason, or disconnected with the right reason
in the sandbox's log, and nobody else is touched:

* garbage of every kind, before and after the login: random bytes, an 11-byte varint, a
  length header over the maximum, a frame cut short, a payload that is not protobuf or lacks
  required fields; an unfinished frame larger than a login before the login;
* payloads before the login (``LOGIN_NOT_FIRST_SEQ``), silence and a login dribbled byte by
  byte (``LOGIN_TIMEOUT``);
* a flood of bad logins: passwords are checked on worker threads (the event loop never waits
  for scrypt: shown in-process with a check that blocks until the test lets it go) and at most
  ``max_pending_logins`` checks wait at once (``SERVICE_TEMPORARILY_UNAVAILABLE`` beyond);
* 500 connections at once, and a connection cap (``SERVICE_TEMPORARILY_UNAVAILABLE``);
* a flood of orders (a ``THROTTLE_EXCEEDED`` notice, backpressure, every order answered once);
* a client that never reads (dropped past the output buffer cap, its session resumable, and
  every request of it answered exactly once after the resume).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import resource
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import sandbox_settings, soak

import smarkets
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    Connection,
    LoggedIn,
    Received,
    Role,
    SessionEnded,
    SessionState,
    session_payload,
)
from smarkets.protocol.framing import FrameDecoder, encode_frame, uleb128
from smarkets.sandbox.exchange import Exchange
from smarkets.sandbox.exchange.markets_file import default_markets
from smarkets.sandbox.process import SandboxProcess
from smarkets.sandbox.server import SandboxServer, ServerConfig, TokenBucket
from smarkets.sandbox.server.credentials import CredentialStore

Payload = seto_pb2.Payload
R = eto_pb2
WAIT = 20.0

ACCOUNTS = {
    name: {"password": f"{name}-pw", "balance": 10_000_000}
    for name in ("alice", "bob", "carol", "dave", "erin")
}


@pytest.fixture(scope="module", autouse=True)
def enough_file_descriptors() -> Iterator[None]:
    """Raise the soft limit on open files (the sandbox inherits it) for 500+ connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    """Plain TCP; a low throttle, a small output buffer cap."""
    extra = ["--throttle", "200", "--max-write-buffer", "65536"]
    with SandboxProcess(tls=False, accounts=ACCOUNTS, extra_args=extra) as process:
        yield process


# -- the well-behaved trader -------------------------------------------------------------------


class Trader:
    """alice, with the library's client: places an order and waits for its answer."""

    def __init__(self, sandbox: SandboxProcess, name: str = "alice") -> None:
        settings = sandbox_settings(sandbox, name, socket_timeout=10.0)
        self.client = smarkets.Smarkets(smarkets.Session(settings))
        self.client.login()
        self.trades = 0

    def trade(self) -> None:
        """An unmatched IMMEDIATE_OR_CANCEL order: accepted, then its remainder cancelled."""
        order = smarkets.Order(
            1000, 1, smarkets.Order.BUY, "4c024", "8cccc", smarkets.Order.IMMEDIATE_OR_CANCEL
        )
        self.client.order(order)
        self.client.flush()
        for _ in range(100):
            if order.state in ("accepted", "cancelled"):
                break
            self.client.read()
        assert order.state in ("accepted", "cancelled"), f"the trader's order is {order.state}"
        self.trades += 1

    def close(self) -> None:
        assert self.client.session.logged_in, "the trader was logged out"
        self.trade()
        self.client.logout()


@pytest.fixture
def trader(sandbox: SandboxProcess) -> Iterator[Trader]:
    trader = Trader(sandbox)
    trader.trade()
    yield trader
    trader.close()


# -- hostile clients -----------------------------------------------------------------------------


class RawClient:
    """A client :class:`~smarkets.protocol.Connection` on a blocking socket, to misbehave with."""

    def __init__(
        self, sandbox: SandboxProcess, state: SessionState | None = None, rcvbuf: int = 0
    ) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(WAIT)
        sock.connect((sandbox.host, sandbox.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.core = Connection(
            Role.CLIENT, state, now=time.monotonic(), heartbeat_interval=5, heartbeat_timeout=120
        )
        self.received: list[Payload] = []
        self.logged_in: LoggedIn | None = None
        self.ended: SessionEnded | None = None
        self.eof = False

    @property
    def peer(self) -> str:
        """How the sandbox's log names this connection."""
        return f"127.0.0.1:{self.port}"

    def flush(self) -> None:
        out = self.core.data_to_send()
        if out and not self.eof:
            try:
                self.sock.sendall(out)
            except OSError:
                self.eof = True

    def login(self, username: str, password: str | None = None) -> LoggedIn | SessionEnded:
        credentials = seto_pb2.Login(
            username=username, password=password or f"{username}-pw", extensions=1
        )
        self.core.login(credentials, time.monotonic())
        self.flush()
        result = self.wait(lambda: self.logged_in or self.ended)
        assert isinstance(result, (LoggedIn, SessionEnded))
        return result

    def pump(self, timeout: float = 0.05) -> None:
        if not self.eof:
            self.sock.settimeout(timeout)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                data = None
            except OSError:
                data = b""
            if data == b"":
                self.eof = True
            elif data:
                self._handle(self.core.receive_data(data, time.monotonic()))
        self._handle(self.core.tick(time.monotonic()))
        self.flush()

    def _handle(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, Received):
                self.received.append(event.payload)
            elif isinstance(event, LoggedIn):
                self.logged_in = event
            elif isinstance(event, SessionEnded):
                self.ended = event

    def wait(self, predicate: Callable[[], Any], timeout: float = WAIT) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if self.eof or time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting (eof={self.eof})")
            self.pump()

    def answers(self, ptype: int) -> list[Payload]:
        return [p for p in self.received if p.type == ptype]

    def close(self) -> None:
        self.sock.close()


def raw(sandbox: SandboxProcess) -> socket.socket:
    sock = socket.create_connection((sandbox.host, sandbox.port), timeout=WAIT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def until_closed(sock: socket.socket, timeout: float = WAIT) -> list[Payload]:
    """Every payload the sandbox sends until it closes the connection (which it must)."""
    decoder = FrameDecoder()
    payloads: list[Payload] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            break
        except OSError:
            data = b""
        if not data:
            return payloads
        payloads += [Payload.FromString(frame) for frame in decoder.feed(data)]
    raise AssertionError("the sandbox did not close the connection")


def logout_reason(payloads: list[Payload]) -> int | None:
    for payload in payloads:
        if payload.eto_payload.type == R.PAYLOAD_LOGOUT:
            return payload.eto_payload.logout.reason
    return None


def wait_for_log(sandbox: SandboxProcess, *fragments: str, timeout: float = WAIT) -> str:
    """The first line of the sandbox's log holding every fragment (waiting for it)."""
    deadline = time.monotonic() + timeout
    while True:
        for line in sandbox.log_text.splitlines():
            if all(fragment in line for fragment in fragments):
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line with {fragments}")
        time.sleep(0.02)


def frame(payload: Payload) -> bytes:
    return encode_frame(payload.SerializePartialToString())


def order(
    market: int, contract: int, price: int, quantity: int = 1000, ioc: bool = True
) -> Payload:
    """A buy order (IMMEDIATE_OR_CANCEL by default: nothing stays on the book)."""
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
    create = payload.order_create
    create.type = seto_pb2.ORDER_CREATE_LIMIT
    create.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    create.market.low = market
    create.contract.low = contract
    create.side = seto_pb2.SIDE_BUY
    create.price = price
    create.quantity = quantity
    if ioc:
        create.tif = seto_pb2.IMMEDIATE_OR_CANCEL
    return payload


# -- garbage -------------------------------------------------------------------------------------

_NO_REQUIRED = Payload(type=seto_pb2.PAYLOAD_LOGIN)  # no eto_payload: a required field

GARBAGE = {
    "random-1": (random.Random(1).randbytes(4096), "logging out"),
    "random-2": (random.Random(2).randbytes(4096), "logging out"),
    "11-byte-varint": (b"\x80" * 10 + b"\x01", "longer than 10 bytes"),
    "over-the-maximum": (uleb128(2**60) + bytes(100), "exceeds the maximum payload size"),
    "not-protobuf": (encode_frame(b"\xff\xff\xff\xff"), "undecodable payload"),
    "required-missing": (frame(_NO_REQUIRED), "lacks required fields"),
    "big-frame-before-login": (uleb128(500_000) + bytes(70_000), "before the login"),
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_before_login_is_disconnected(
    sandbox: SandboxProcess, trader: Trader, kind: str
) -> None:
    data, reason = GARBAGE[kind]
    sock = raw(sandbox)
    port = sock.getsockname()[1]
    with contextlib.suppress(OSError):
        sock.sendall(data)
    trader.trade()
    # Told why (LOGOUT_INVALID_PAYLOAD, NONE without extensions), then closed; nothing after
    # the bad bytes is guessed at.
    assert logout_reason(until_closed(sock)) == R.LOGOUT_NONE
    sock.close()
    wait_for_log(sandbox, f"127.0.0.1:{port}: session (not logged in)", reason)
    trader.trade()


@pytest.mark.parametrize("kind", sorted(set(GARBAGE) - {"big-frame-before-login"}))
def test_garbage_mid_session_ends_the_session_with_a_logout(
    sandbox: SandboxProcess, trader: Trader, kind: str
) -> None:
    data, reason = GARBAGE[kind]
    bob = RawClient(sandbox)
    assert isinstance(bob.login("bob"), LoggedIn)
    with contextlib.suppress(OSError):
        bob.sock.sendall(data)
    trader.trade()
    bob.wait(lambda: bob.eof)
    # Told why (an extension session: the extension reason); not resumable.
    assert bob.ended is not None
    assert bob.ended.reason in (R.LOGOUT_INVALID_PAYLOAD, R.LOGOUT_UNSUPPORTED_PAYLOAD)
    wait_for_log(sandbox, f"{bob.peer}: session", reason)
    state = bob.core.session
    bob.close()
    again = RawClient(sandbox, state)
    refused = again.login("bob")
    assert isinstance(refused, SessionEnded) and refused.reason == R.LOGOUT_UNKNOWN_SESSION
    again.close()
    trader.trade()


def test_frame_cut_short_then_closed(sandbox: SandboxProcess, trader: Trader) -> None:
    bob = RawClient(sandbox)
    assert isinstance(bob.login("bob"), LoggedIn)
    state = bob.core.session
    bob.sock.sendall(frame(order(3, 6, 5000))[:7])
    bob.sock.shutdown(socket.SHUT_WR)
    bob.wait(lambda: bob.eof)
    bob.close()
    wait_for_log(sandbox, f"{bob.peer}: connection lost", "parked")
    trader.trade()
    again = RawClient(sandbox, state)
    assert isinstance(again.login("bob"), LoggedIn)
    again.close()


@pytest.fixture(scope="module")
def login_sandbox() -> Iterator[SandboxProcess]:
    """One password-checking thread, at most 4 checks waiting at once, 1.5 s to log in."""
    extra = ["--login-workers", "1", "--max-pending-logins", "4", "--login-timeout", "1.5"]
    with SandboxProcess(tls=False, accounts=ACCOUNTS, extra_args=extra) as process:
        yield process


# -- before the login ----------------------------------------------------------------------------


def _first(build: Callable[[], Payload], seq: int = 1) -> bytes:
    payload = build()
    payload.eto_payload.seq = seq
    if not payload.eto_payload.HasField("type"):
        payload.eto_payload.type = R.PAYLOAD_NONE
    return frame(payload)


def _login(seq: int) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_LOGIN)
    payload.eto_payload.type = R.PAYLOAD_LOGIN
    payload.login.username = "bob"
    payload.login.password = "bob-pw"
    payload.eto_payload.seq = seq
    return payload


BEFORE_LOGIN = {
    "an-order": _first(lambda: order(3, 6, 5000)),
    "a-heartbeat": _first(lambda: session_payload(R.PAYLOAD_HEARTBEAT)),
    "a-login-response": _first(lambda: session_payload(R.PAYLOAD_LOGIN_RESPONSE)),
    "a-new-session-at-seq-5": frame(_login(5)),
    "an-order-then-a-login": _first(lambda: order(3, 6, 5000)) + frame(_login(2)),
}


@pytest.mark.parametrize("kind", sorted(BEFORE_LOGIN))
def test_payloads_before_the_login_are_logged_out(
    sandbox: SandboxProcess, trader: Trader, kind: str
) -> None:
    sock = raw(sandbox)
    sock.sendall(BEFORE_LOGIN[kind])
    assert logout_reason(until_closed(sock)) == R.LOGOUT_LOGIN_NOT_FIRST_SEQ
    sock.close()
    trader.trade()


@pytest.mark.parametrize("how", ["silence", "a-login-dribbled"])
def test_no_login_in_time_is_logged_out(login_sandbox: SandboxProcess, how: str) -> None:
    trader = Trader(login_sandbox)
    sock = raw(login_sandbox)
    if how == "a-login-dribbled":
        data = frame(_login(1))
        for byte in data[:-1]:  # never the last byte: the login is never whole
            sock.sendall(bytes([byte]))
            time.sleep(0.05)
    trader.trade()
    assert logout_reason(until_closed(sock)) == R.LOGOUT_LOGIN_TIMEOUT
    sock.close()
    trader.close()


# -- login floods ----------------------------------------------------------------------------------


def flood_logins(sandbox: SandboxProcess, count: int, password: str) -> list[socket.socket]:
    """Open ``count`` connections and send a login on each, as fast as possible."""
    socks = []
    for index in range(count):
        sock = raw(sandbox)
        core = Connection(Role.CLIENT, now=time.monotonic())
        name = ("bob", "carol", f"nobody{index}")[index % 3]
        core.login(seto_pb2.Login(username=name, password=password), time.monotonic())
        sock.sendall(core.data_to_send())
        socks.append(sock)
    return socks


def answers_of(socks: list[socket.socket], timeout: float = 60.0) -> list[int | None]:
    """Read every connection until the sandbox closes it; each one's LOGOUT reason."""
    decoders = {sock: FrameDecoder() for sock in socks}
    received: dict[socket.socket, list[Payload]] = {sock: [] for sock in socks}
    open_ = set(socks)
    deadline = time.monotonic() + timeout
    while open_ and time.monotonic() < deadline:
        readable, _, _ = select.select(list(open_), [], [], 0.5)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                open_.discard(sock)
                continue
            received[sock] += [Payload.FromString(f) for f in decoders[sock].feed(data)]
    assert not open_, f"{len(open_)} connections were not closed"
    return [logout_reason(received[sock]) for sock in socks]


def test_a_flood_of_bad_logins(login_sandbox: SandboxProcess) -> None:
    trader = Trader(login_sandbox)
    socks = flood_logins(login_sandbox, 60, "not-the-password")
    trader.trade()  # while the flood is being checked
    reasons = answers_of(socks)
    trader.trade()
    for sock in socks:
        sock.close()
    allowed = {R.LOGOUT_UNAUTHORISED, R.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE}
    assert set(reasons) <= allowed, reasons
    assert R.LOGOUT_UNAUTHORISED in reasons  # passwords were checked, and refused
    if R.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE in reasons:
        wait_for_log(login_sandbox, "login refused", "logins are being checked already")
    bob = RawClient(login_sandbox)
    assert isinstance(bob.login("bob"), LoggedIn)  # and a good login still goes through
    bob.close()
    trader.close()


@contextlib.contextmanager
def server_thread(server: SandboxServer) -> Iterator[SandboxServer]:
    """Run ``server`` in this process, on an event loop of its own thread."""
    ready = threading.Event()
    stop: list[Callable[[], None]] = []

    async def main() -> None:
        done = asyncio.Event()
        stop.append(lambda: server.loop.call_soon_threadsafe(done.set))
        await server.start()
        ready.set()
        await done.wait()
        await server.close()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(WAIT), "the server did not start"
    try:
        yield server
    finally:
        stop[0]()
        thread.join(WAIT)


class GatedStore(CredentialStore):
    """A credential store whose checks for ``mallory`` wait until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__(n=2)
        self.gate = threading.Event()
        self.waiting = threading.Semaphore(0)

    def verify(self, name: str, password: str) -> bool:
        if name == "mallory":
            self.waiting.release()
            self.gate.wait(WAIT)
        return super().verify(name, password)


class _Process:
    """Enough of a SandboxProcess for RawClient: where to connect."""

    def __init__(self, server: SandboxServer) -> None:
        self.host = "127.0.0.1"
        self.port = server.port


def test_password_checks_run_off_the_event_loop_and_are_bounded() -> None:
    store = GatedStore()
    server = SandboxServer(
        Exchange(),
        ServerConfig(host="127.0.0.1", port=0, login_workers=2, max_pending_logins=2),
        credentials=store,
    )
    for name in ("alice", "mallory"):
        server.add_account(name, f"{name}-pw", 10_000_000)
    for spec in default_markets():
        server.add_market(spec)
    with server_thread(server):
        where: Any = _Process(server)
        alice = RawClient(where)
        assert isinstance(alice.login("alice"), LoggedIn)
        # two logins whose password checks hang on their worker threads...
        mallories = [RawClient(where), RawClient(where)]
        for mallory in mallories:
            mallory.core.login(
                seto_pb2.Login(username="mallory", password="mallory-pw"), time.monotonic()
            )
            mallory.flush()
        for _ in mallories:
            assert store.waiting.acquire(timeout=WAIT), "the check did not start"
        # ...and the loop serves everyone else meanwhile
        seq = alice.core.send(order(4, 8, 1), time.monotonic())
        alice.flush()
        alice.wait(lambda: alice.answers(seto_pb2.PAYLOAD_ORDER_ACCEPTED))
        assert alice.answers(seto_pb2.PAYLOAD_ORDER_ACCEPTED)[0].order_accepted.seq == seq
        assert not store.gate.is_set() and all(m.logged_in is None for m in mallories)
        # a third login while two checks are pending: refused at once
        third = RawClient(where)
        refused = third.login("alice")
        assert isinstance(refused, SessionEnded)
        assert refused.reason == R.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE
        store.gate.set()
        for mallory in mallories:
            assert isinstance(mallory.wait(lambda m=mallory: m.logged_in), LoggedIn)
        for client in (alice, third, *mallories):
            client.close()


# -- many connections --------------------------------------------------------------------------


def test_500_connections_at_once(sandbox: SandboxProcess, trader: Trader) -> None:
    socks = []
    for index in range(500):  # all open at once (in batches: the listen backlog is 100)
        socks.append(raw(sandbox))
        if index % 50 == 49:
            trader.trade()
    for index, sock in enumerate(socks):
        # half send something else than a login, the other half garbage
        sock.sendall(BEFORE_LOGIN["a-heartbeat"] if index % 2 else GARBAGE["11-byte-varint"][0])
    trader.trade()
    reasons = answers_of(socks)
    for sock in socks:
        sock.close()
    # the garbage is told why too: LOGOUT_INVALID_PAYLOAD, whose published stand-in is NONE
    expected = [
        R.LOGOUT_LOGIN_NOT_FIRST_SEQ if index % 2 else R.LOGOUT_NONE for index in range(500)
    ]
    assert reasons == expected
    trader.trade()


@pytest.fixture(scope="module")
def capped_sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(
        tls=False, accounts=ACCOUNTS, extra_args=["--max-connections", "20"]
    ) as process:
        yield process


def test_connections_beyond_the_cap_are_refused(capped_sandbox: SandboxProcess) -> None:
    trader = Trader(capped_sandbox)  # one of the 20
    clients = [RawClient(capped_sandbox) for _ in range(30)]  # all connected before any login
    results = [client.login("bob") for client in clients]
    trader.trade()
    logged_in = [c for c, r in zip(clients, results, strict=True) if isinstance(r, LoggedIn)]
    refused = [r for r in results if isinstance(r, SessionEnded)]
    assert len(logged_in) == 19 and len(refused) == 11
    assert {r.reason for r in refused} == {R.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE}
    wait_for_log(capped_sandbox, "login refused: too many connections")
    for client in logged_in:  # the ones let in work as usual
        seq = client.core.send(order(3, 6, 1), time.monotonic())
        client.flush()
        client.wait(lambda c=client: c.answers(seto_pb2.PAYLOAD_ORDER_ACCEPTED))
        assert client.answers(seto_pb2.PAYLOAD_ORDER_ACCEPTED)[0].order_accepted.seq == seq
    for client in clients:
        client.close()
    trader.trade()
    for _ in range(200):  # once the sandbox has seen them go, there is room again
        late = RawClient(capped_sandbox)
        result = late.login("bob")
        late.close()
        if isinstance(result, LoggedIn):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("no room after the connections closed")
    trader.close()


# -- floods of requests, and a client that never reads -----------------------------------------


def test_a_flood_of_orders_is_throttled_and_every_order_answered_once(
    sandbox: SandboxProcess, trader: Trader
) -> None:
    bob = RawClient(sandbox)
    assert isinstance(bob.login("bob"), LoggedIn)
    seqs = []
    for _ in range(8):  # 800 orders in 8 writes, 4 times the throttle's rate
        seqs += [
            bob.core.send(order(3, 6 + n % 2, 1 + n % 50), time.monotonic()) for n in range(100)
        ]
        bob.flush()
    trader.trade()

    def answered() -> list[int]:
        return [
            p.order_accepted.seq
            for p in bob.answers(seto_pb2.PAYLOAD_ORDER_ACCEPTED)
            if p.order_accepted.seq in seqs
        ]

    while len(answered()) < len(seqs):
        bob.wait(lambda: len(answered()) >= min(len(answered()) + 100, len(seqs)), timeout=30)
        trader.trade()  # throughout the flood
    assert answered() == seqs  # every order answered, once, in order
    notices = [p for p in bob.received if p.eto_payload.type == R.PAYLOAD_THROTTLE_EXCEEDED]
    assert notices
    wait_for_log(sandbox, "payloads/s: throttled")
    assert bob.logged_in and not bob.eof
    bob.close()


def test_a_burst_costs_one_bucket_of_waiting_at_most() -> None:
    bucket = TokenBucket(rate=100, burst=10, now=0.0)
    assert not bucket.take(100_000, 0.0)  # thousands of requests in one read
    assert bucket.tokens == -10 and bucket.time_until(0.0) == pytest.approx(0.1)


def test_a_throttled_session_is_not_ended_by_its_own_silence() -> None:
    """A burst far past the bucket is served; the pause it earns is shorter than the
    heartbeat timeout, so the session is not ended while the server does not read it."""
    server = SandboxServer(
        Exchange(),
        ServerConfig(
            host="127.0.0.1",
            port=0,
            login_workers=0,
            throttle_rate=50,
            throttle_burst=10,
            heartbeat_interval=0.2,
            heartbeat_timeout=0.6,
        ),
        credentials=CredentialStore(n=2),
    )
    server.add_account("bob", "bob-pw", 10_000_000)
    with server_thread(server):
        bob = RawClient(_Process(server))  # type: ignore[arg-type]
        bob.core.heartbeat_interval = 0.1
        assert isinstance(bob.login("bob"), LoggedIn)
        request = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
        request.account_state_request.SetInParent()
        seqs = [bob.core.send(request, time.monotonic()) for _ in range(2000)]  # 40 s worth
        bob.flush()
        bob.wait(lambda: len(bob.answers(seto_pb2.PAYLOAD_ACCOUNT_STATE)) >= len(seqs))
        deadline = time.monotonic() + 1.5  # 2.5 heartbeat timeouts, heartbeating meanwhile
        while time.monotonic() < deadline:
            bob.pump()
        assert bob.ended is None and not bob.eof
        seq = bob.core.send(request, time.monotonic())
        bob.flush()
        bob.wait(lambda: bob.answers(seto_pb2.PAYLOAD_ACCOUNT_STATE)[-1].account_state.seq == seq)
        bob.close()


def subscribe(market: int) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_MARKET_SUBSCRIBE)
    payload.market_subscribe.market.low = market
    return payload


@pytest.fixture(scope="module")
def reader_sandbox() -> Iterator[SandboxProcess]:
    """64 KiB of output buffer per connection, on 16 KiB of kernel buffer; no throttle."""
    extra = ["--max-write-buffer", "65536", "--socket-send-buffer", "16384", "--throttle", "0"]
    with SandboxProcess(tls=False, accounts=ACCOUNTS, extra_args=extra) as process:
        yield process


CANCEL_ALL_ACCEPTED = seto_pb2.PAYLOAD_ORDER_CANCEL_ALL_ACCEPTED


def cancel_all(market: int) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL_ALL)
    payload.order_cancel_all.market.low = market
    return payload


def test_a_client_that_never_reads_is_dropped_and_resumes(reader_sandbox: SandboxProcess) -> None:
    """carol subscribes to a market, then never reads again while bob trades there."""
    sandbox = reader_sandbox
    trader = Trader(sandbox)
    carol = RawClient(sandbox, rcvbuf=4096)
    assert isinstance(carol.login("carol"), LoggedIn)
    carol.core.send(subscribe(2), time.monotonic())
    carol.flush()  # and never a read from here
    bob = RawClient(sandbox)
    assert isinstance(bob.login("bob"), LoggedIn)
    bob.core.send(subscribe(2), time.monotonic())  # bob sees what carol should have seen
    bob.flush()
    batches = 0
    dropped = f"{carol.peer}: more than 65536 bytes unsent"
    while dropped not in sandbox.log_text:
        assert batches < 100, "carol was never dropped"
        for n in range(200):  # 200 orders, then all cancelled: quote updates for carol
            bob.core.send(order(2, 4 + n % 2, 1 + n % 50, 1000, ioc=False), time.monotonic())
        bob.core.send(cancel_all(2), time.monotonic())
        bob.flush()
        batches += 1
        bob.wait(lambda b=batches: len(bob.answers(CANCEL_ALL_ACCEPTED)) >= b)
        trader.trade()
    line = wait_for_log(sandbox, dropped)
    assert "the session stays resumable" in line
    for _ in range(20):
        bob.pump()
    assert bob.logged_in and not bob.eof  # bob and the trader were not touched
    seen = [p.contract_quotes for p in bob.answers(seto_pb2.PAYLOAD_CONTRACT_QUOTES)]
    state = carol.core.session
    carol.close()
    # a new connection resumes the session: every update it missed, once and in order
    again = RawClient(sandbox, state)
    resumed = again.login("carol")
    assert isinstance(resumed, LoggedIn) and resumed.session_id == state.session_id

    def updates() -> list[Any]:
        return [p.contract_quotes for p in again.answers(seto_pb2.PAYLOAD_CONTRACT_QUOTES)]

    again.wait(lambda: len(updates()) >= len(seen), timeout=60)
    for _ in range(10):
        again.pump()
    assert updates() == seen  # what bob saw, in the same order, each once
    assert not again.eof
    for client in (again, bob):
        client.close()
    trader.close()


# -- soak ----------------------------------------------------------------------------------------


@soak
def test_500_connections_log_in_and_trade() -> None:
    """500 sessions logged in at once (500 password checks), each placing an order."""
    extra = ["--max-pending-logins", "1000"]
    with SandboxProcess(tls=False, accounts=ACCOUNTS, extra_args=extra) as sb:
        trader = Trader(sb)
        clients = [RawClient(sb) for _ in range(500)]
        for client in clients:
            client.core.login(seto_pb2.Login(username="bob", password="bob-pw"), time.monotonic())
            client.flush()
        trader.trade()
        for client in clients:
            client.wait(lambda c=client: c.logged_in, timeout=120)
            client.core.send(order(3, 6, 1), time.monotonic())
            client.flush()
        for client in clients:
            client.wait(lambda c=client: c.answers(seto_pb2.PAYLOAD_ORDER_ACCEPTED), timeout=60)
            client.close()
        trader.close()
