"""The sandbox run as a separate process (its command line), spoken to over real sockets.

The client side is the protocol's own connection (``Connection(Role.CLIENT)``) over a plain
blocking socket, with and without TLS, so these tests depend on nothing but the protocol.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    Connection,
    LoggedIn,
    Received,
    Role,
    SessionEnded,
    SessionState,
    is_session_level,
)
from smarkets.protocol.framing import FrameDecoder, encode_frame
from smarkets.sandbox.process import SandboxAdminError, SandboxProcess

Payload = seto_pb2.Payload
WAIT = 10.0

ACCOUNTS = {
    "alice": {"password": "alice-pw", "balance": 10_000_000},
    "bob": {"password": "bob-pw", "balance": 10_000_000},
    "carol": {"password": "carol-pw", "balance": 10_000_000},
}


class WireClient:
    """A client connection on a blocking socket (TLS verified against the sandbox's CA)."""

    def __init__(
        self, sandbox: SandboxProcess, state: SessionState | None = None, **timings: float
    ) -> None:
        raw = socket.create_connection((sandbox.host, sandbox.port), timeout=WAIT)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock: socket.socket = raw
        if sandbox.tls:
            context = ssl.create_default_context(cafile=sandbox.ca_file)
            self.sock = context.wrap_socket(raw, server_hostname=sandbox.host)
        self.core = Connection(Role.CLIENT, state, now=time.monotonic(), **timings)
        self.received: list[Payload] = []
        self.logged_in: LoggedIn | None = None
        self.ended: SessionEnded | None = None
        self.eof = False

    @property
    def state(self) -> SessionState:
        return self.core.session

    def flush(self) -> None:
        out = self.core.data_to_send()
        if out and not self.eof:
            try:
                self.sock.sendall(out)
            except OSError:
                self.eof = True

    def login(self, username: str, password: str) -> LoggedIn | SessionEnded:
        credentials = seto_pb2.Login(username=username, password=password, extensions=1)
        self.core.login(credentials, time.monotonic())
        self.flush()
        self.wait(lambda: self.logged_in or self.ended)
        result = self.logged_in or self.ended
        assert result is not None
        return result

    def send(self, payload: Payload) -> int:
        seq = self.core.send(payload, time.monotonic())
        self.flush()
        return seq

    def pump(self, timeout: float = 0.05) -> None:
        """Read once (waiting up to ``timeout``), handle it, answer what needs answering."""
        if not self.eof:
            self.sock.settimeout(timeout)
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
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
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; received {[p.type for p in self.received]}")
            if self.eof and not self.core.buffered:
                result = predicate()
                if result:
                    return result
                raise AssertionError("the server closed the connection")
            self.pump()

    def app(self, ptype: int | None = None) -> list[Payload]:
        return [
            p
            for p in self.received
            if not is_session_level(p) and (ptype is None or p.type == ptype)
        ]

    def wait_for(self, ptype: int, count: int = 1, timeout: float = WAIT) -> list[Payload]:
        """Wait until ``count`` application payloads of ``ptype`` have arrived; return all."""
        return self.wait(lambda: len(self.app(ptype)) >= count and self.app(ptype), timeout)

    def wait_closed(self, timeout: float = WAIT) -> None:
        self.wait(lambda: self.eof, timeout)

    def close(self) -> None:
        self.sock.close()


def raw_connect(sandbox: SandboxProcess) -> socket.socket:
    sock = socket.create_connection((sandbox.host, sandbox.port), timeout=WAIT)
    if sandbox.tls:
        context = ssl.create_default_context(cafile=sandbox.ca_file)
        sock = context.wrap_socket(sock, server_hostname=sandbox.host)
    return sock


def read_until_closed(sock: socket.socket) -> list[Payload]:
    """Every payload the server sends until it closes the connection."""
    decoder = FrameDecoder()
    payloads = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            break
        except OSError:
            data = b""
        if not data:
            return payloads
        payloads += [Payload.FromString(frame) for frame in decoder.feed(data)]
    raise AssertionError("the server did not close the connection")


def order(market: int, contract: int, side: int, price: int, quantity: int) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
    create = payload.order_create
    create.type = seto_pb2.ORDER_CREATE_LIMIT
    create.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    create.market.low = market
    create.contract.low = contract
    create.side = side
    create.price = price
    create.quantity = quantity
    return payload


def subscribe(market: int) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_MARKET_SUBSCRIBE)
    payload.market_subscribe.market.low = market
    return payload


def account_state_request() -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
    payload.account_state_request.SetInParent()
    return payload


@pytest.fixture(scope="module", params=[True, False], ids=["tls", "plain"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxProcess]:
    with SandboxProcess(tls=request.param, accounts=ACCOUNTS) as process:
        yield process


@pytest.fixture(scope="module")
def fast_sandbox() -> Iterator[SandboxProcess]:
    """Short timers, a low throttle: for the timing-related behaviours."""
    extra = ["--login-timeout", "0.5", "--heartbeat-interval", "0.3", "--throttle", "100"]
    with SandboxProcess(tls=False, accounts=ACCOUNTS, extra_args=extra) as process:
        yield process


# -- start-up and shutdown ------------------------------------------------------------------


def test_startup_lines(sandbox: SandboxProcess) -> None:
    lines = sandbox.startup_lines
    assert "listening on" in lines[-1]
    assert f"{sandbox.host}:{sandbox.port}" in lines[-1]
    assert sum("listening on" in line for line in lines) == 1
    if sandbox.tls:
        assert lines[0].startswith("CA certificate: ")
        assert sandbox.ca_file is not None and os.path.exists(sandbox.ca_file)
    else:
        assert sandbox.ca_file is None


def test_default_accounts_are_printed() -> None:
    with SandboxProcess(tls=False) as process:
        printed = [line for line in process.startup_lines if line.startswith("demo account:")]
        assert "demo account: alice password alice-pw balance 10000000" in printed
        client = WireClient(process)
        assert isinstance(client.login("bob", "bob-pw"), LoggedIn)
        client.close()


def test_sigterm_exits_zero_and_logs_out_sessions() -> None:
    process = SandboxProcess(tls=False, accounts=ACCOUNTS)
    process.start()
    try:
        client = WireClient(process)
        client.login("alice", "alice-pw")
        assert process.process is not None
        process.process.send_signal(signal.SIGTERM)
        client.wait(lambda: client.ended)
        assert client.ended is not None and client.ended.reason == eto_pb2.LOGOUT_DOWNTIME
        assert process.process.wait(WAIT) == 0
    finally:
        assert process.stop() == 0


def test_sigint_exits_zero() -> None:
    process = SandboxProcess(tls=True, bots=2)
    process.start()
    assert process.process is not None
    process.process.send_signal(signal.SIGINT)
    assert process.process.wait(WAIT) == 0
    process.stop()


@pytest.mark.parametrize(
    ("option", "content", "expected"),
    [
        ("--accounts", "{not json", "not valid JSON"),
        ("--accounts", json.dumps({"alice": {"password": "x", "balance": -1}}), ">= 0"),
        ("--markets", json.dumps({"markets": []}), "non-empty"),
        ("--markets", json.dumps({"markets": [{"id": "1cccc"}]}), "markets[0]"),
    ],
)
def test_bad_files_exit_2_with_one_line(
    tmp_path: Any, option: str, content: str, expected: str
) -> None:
    path = tmp_path / "file.json"
    path.write_text(content)
    result = subprocess.run(
        [sys.executable, "-m", "smarkets.sandbox", "--no-tls", "--port", "0", option, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "error" in lines[0]
    assert "listening on" not in result.stdout


def test_missing_file_exits_2(tmp_path: Any) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "smarkets.sandbox", "--no-tls", "--accounts", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "cannot read accounts file" in result.stderr


def test_smarkets_command_runs_the_sandbox() -> None:
    code = "import sys; from smarkets.cli import main; sys.exit(main())"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "sandbox", "--no-tls", "--port", "0", "--bots", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "listening on" in line:
                break
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- login -----------------------------------------------------------------------------------


def test_login_new_session(sandbox: SandboxProcess) -> None:
    client = WireClient(sandbox)
    result = client.login("alice", "alice-pw")
    assert isinstance(result, LoggedIn)
    assert result.session_id.endswith("9999")
    response = client.received[0].eto_payload.login_response
    assert response.session.endswith("9999")
    client.close()


def test_bad_password_is_unauthorised(sandbox: SandboxProcess) -> None:
    client = WireClient(sandbox)
    result = client.login("alice", "nope")
    assert isinstance(result, SessionEnded)
    assert result.reason == eto_pb2.LOGOUT_UNAUTHORISED
    client.wait_closed()


def test_unknown_session(sandbox: SandboxProcess) -> None:
    client = WireClient(sandbox, SessionState(session_id="123abc9999", inseq=3, outseq=4))
    result = client.login("alice", "alice-pw")
    assert isinstance(result, SessionEnded)
    assert result.reason == eto_pb2.LOGOUT_UNKNOWN_SESSION
    client.wait_closed()


def test_not_login_first(sandbox: SandboxProcess) -> None:
    sock = raw_connect(sandbox)
    first = order(1, 1, seto_pb2.SIDE_BUY, 5000, 10_000)
    first.eto_payload.seq = 1
    sock.sendall(encode_frame(first.SerializeToString()))
    payloads = read_until_closed(sock)
    assert payloads[0].eto_payload.type == eto_pb2.PAYLOAD_LOGOUT
    assert payloads[0].eto_payload.logout.reason == eto_pb2.LOGOUT_LOGIN_NOT_FIRST_SEQ
    sock.close()


def test_silence_is_login_timeout(fast_sandbox: SandboxProcess) -> None:
    sock = raw_connect(fast_sandbox)
    payloads = read_until_closed(sock)
    assert payloads[0].eto_payload.logout.reason == eto_pb2.LOGOUT_LOGIN_TIMEOUT
    sock.close()


def test_heartbeat_when_idle(fast_sandbox: SandboxProcess) -> None:
    client = WireClient(fast_sandbox, heartbeat_interval=0.3, heartbeat_timeout=5)
    client.login("alice", "alice-pw")
    client.wait(
        lambda: any(p.eto_payload.type == eto_pb2.PAYLOAD_HEARTBEAT for p in client.received)
    )
    client.close()


# -- trading ---------------------------------------------------------------------------------


def test_crossing_orders_fill(sandbox: SandboxProcess) -> None:
    # market 3c024 (contracts 6, 7) is used by this test alone
    sandbox.add_account("xa" + ("t" if sandbox.tls else "p"), "pw-a", 10_000_000)
    sandbox.add_account("xb" + ("t" if sandbox.tls else "p"), "pw-b", 10_000_000)
    names = [name for name in sandbox.accounts if name.startswith(("xa", "xb"))][-2:]
    a, b = WireClient(sandbox), WireClient(sandbox)
    a.login(names[0], "pw-a")
    b.login(names[1], "pw-b")
    a.send(subscribe(3))
    b.send(subscribe(3))
    a.wait_for(seto_pb2.PAYLOAD_MARKET_QUOTES)
    b.wait_for(seto_pb2.PAYLOAD_MARKET_QUOTES)
    buy_seq = a.send(order(3, 6, seto_pb2.SIDE_BUY, 4000, 100_000))
    (accepted,) = a.wait_for(seto_pb2.PAYLOAD_ORDER_ACCEPTED)
    assert accepted.order_accepted.seq == buy_seq
    b.send(order(3, 6, seto_pb2.SIDE_SELL, 3500, 60_000))
    (a_fill,) = a.wait_for(seto_pb2.PAYLOAD_ORDER_EXECUTED)
    (b_fill,) = b.wait_for(seto_pb2.PAYLOAD_ORDER_EXECUTED)
    assert (a_fill.order_executed.price, a_fill.order_executed.quantity) == (4000, 60_000)
    assert a_fill.order_executed.remaining == 40_000
    assert a_fill.order_executed.order == accepted.order_accepted.order
    assert (b_fill.order_executed.price, b_fill.order_executed.remaining) == (4000, 0)

    def traded(client: WireClient) -> Any:
        return [
            q for q in client.app(seto_pb2.PAYLOAD_CONTRACT_QUOTES) if q.contract_quotes.executions
        ]

    for client in (a, b):
        (update,) = client.wait(lambda c=client: traded(c))
        quotes = update.contract_quotes
        assert quotes.contract.low == 6
        assert [(q.price, q.quantity) for q in quotes.bids] == [(4000, 40_000)]
        assert (quotes.executions[0].price, quotes.executions[0].quantity) == (4000, 60_000)
    # balances, by the admin console and by the protocol
    maker_stake = 60_000 * 4000 // 10_000
    balance = sandbox.balance(names[0])
    assert (balance.cash, balance.staked) == (10_000_000 - maker_stake, maker_stake)
    assert balance.exposure == 40_000 * 4000 // 10_000
    assert sandbox.balance(names[1]).staked == 60_000 - maker_stake
    seq = b.send(account_state_request())
    (state,) = b.wait_for(seto_pb2.PAYLOAD_ACCOUNT_STATE)
    assert state.account_state.seq == seq
    assert state.account_state.cash.value == 10_000_000 - (60_000 - maker_stake)
    a.close()
    b.close()


def test_resume_gets_exactly_what_was_missed(sandbox: SandboxProcess) -> None:
    # market 4c024 (contracts 8 .. 11) is used by this test alone
    alice, bob, carol = WireClient(sandbox), WireClient(sandbox), WireClient(sandbox)
    alice.login("alice", "alice-pw")
    bob.login("bob", "bob-pw")
    carol.login("carol", "carol-pw")
    alice.send(subscribe(4))
    carol.send(subscribe(4))
    alice.wait_for(seto_pb2.PAYLOAD_MARKET_QUOTES)  # connections are not ordered together:
    carol.wait_for(seto_pb2.PAYLOAD_MARKET_QUOTES)  # both snapshots first, then the order
    alice.send(order(4, 8, seto_pb2.SIDE_BUY, 2000, 50_000))
    alice.wait_for(seto_pb2.PAYLOAD_ORDER_ACCEPTED)
    carol.wait_for(seto_pb2.PAYLOAD_CONTRACT_QUOTES)
    before = len(alice.app())
    carol_before = len(carol.app())
    state = alice.state
    alice.sock.shutdown(socket.SHUT_RDWR)  # the connection drops
    alice.close()
    bob.send(order(4, 8, seto_pb2.SIDE_SELL, 2000, 20_000))
    bob.send(order(4, 9, seto_pb2.SIDE_SELL, 7000, 10_000))
    bob.wait_for(seto_pb2.PAYLOAD_ORDER_ACCEPTED, 2)
    carol.wait(lambda: len(carol.app()) >= carol_before + 2)
    missed = [p.contract_quotes for p in carol.app()[carol_before:]]
    # alice comes back with her session's numbering, and gets the rest
    again = WireClient(sandbox, state)
    assert isinstance(again.login("alice", "alice-pw"), LoggedIn)
    again.wait_for(seto_pb2.PAYLOAD_CONTRACT_QUOTES, 2)
    again.wait_for(seto_pb2.PAYLOAD_ORDER_EXECUTED)
    for _ in range(5):
        again.pump()
    # what she got before the drop (or during it, unread) plus what she got after, each once
    everything = alice.app()[:before] + again.app()
    executed = [p for p in everything if p.type == seto_pb2.PAYLOAD_ORDER_EXECUTED]
    assert len(executed) == 1 and executed[0].order_executed.quantity == 20_000
    replayed = again.app(seto_pb2.PAYLOAD_CONTRACT_QUOTES)
    assert [p.contract_quotes for p in replayed][-2:] == missed
    assert all(p.eto_payload.is_replay for p in replayed)
    seqs = [p.eto_payload.seq for p in alice.received + again.received]
    assert len(seqs) == len(set(seqs))
    # and it goes on live
    seq = again.send(account_state_request())
    (state_reply,) = again.wait_for(seto_pb2.PAYLOAD_ACCOUNT_STATE)
    assert state_reply.account_state.seq == seq and not state_reply.eto_payload.is_replay
    for client in (again, bob, carol):
        client.close()


def test_garbage_from_one_client_leaves_another_untouched(sandbox: SandboxProcess) -> None:
    alice = WireClient(sandbox)
    alice.login("alice", "alice-pw")
    for garbage in (b"\xff" * 11, b"\xff\xff\xff\x7f", b"\x05not a protobuf at all"):
        sock = raw_connect(sandbox)
        sock.sendall(garbage)
        read_until_closed(sock)
        sock.close()
    mallory = WireClient(sandbox)
    mallory.login("bob", "bob-pw")
    mallory.sock.sendall(b"\x04\xff\xff\xff\xff")  # a frame that is not a payload
    mallory.wait_closed()
    seq = alice.send(account_state_request())
    (reply,) = alice.wait_for(seto_pb2.PAYLOAD_ACCOUNT_STATE)
    assert reply.account_state.seq == seq
    assert not alice.eof
    alice.close()


def test_unknown_market_subscription_is_rejected(sandbox: SandboxProcess) -> None:
    client = WireClient(sandbox)
    client.login("carol", "carol-pw")
    seq = client.send(subscribe(0xABC))
    (rejected,) = client.wait_for(seto_pb2.PAYLOAD_MARKET_SUBSCRIBE_REJECTED)
    assert rejected.market_subscribe_rejected.seq == seq
    client.close()


def test_throttle_notice_and_every_request_answered(fast_sandbox: SandboxProcess) -> None:
    client = WireClient(fast_sandbox, heartbeat_interval=5, heartbeat_timeout=30)
    client.login("carol", "carol-pw")
    seqs = [client.core.send(account_state_request(), time.monotonic()) for _ in range(300)]
    client.flush()
    answers = client.wait_for(seto_pb2.PAYLOAD_ACCOUNT_STATE, 300, timeout=30)
    assert [p.account_state.seq for p in answers] == seqs
    notices = [
        p for p in client.received if p.eto_payload.type == eto_pb2.PAYLOAD_THROTTLE_EXCEEDED
    ]
    assert len(notices) >= 1
    client.close()


# -- admin console ---------------------------------------------------------------------------


def test_admin_console() -> None:
    markets = {
        "markets": [
            {
                "id": "1c024",
                "name": "Winner",
                "event": "Final",
                "contracts": [{"id": "1cccc", "name": "Home"}, {"id": "2cccc", "name": "Away"}],
            }
        ]
    }
    with SandboxProcess(tls=False, accounts=ACCOUNTS, markets=markets) as sb:
        alice, bob = WireClient(sb), WireClient(sb)
        alice.login("alice", "alice-pw")
        bob.login("bob", "bob-pw")
        alice.send(subscribe(1))
        alice.wait_for(seto_pb2.PAYLOAD_MARKET_QUOTES)
        sb.halt("1c024")
        (halted,) = alice.wait_for(seto_pb2.PAYLOAD_MARKET_STATE)
        assert halted.market_state.state == seto_pb2.MARKET_STATUS_HALTED
        bob.send(order(1, 1, seto_pb2.SIDE_BUY, 5000, 10_000))
        (rejected,) = bob.wait_for(seto_pb2.PAYLOAD_ORDER_REJECTED)
        assert rejected.order_rejected.reason == seto_pb2.ORDER_REJECTED_MARKET_HALTED
        sb.reopen("1c024")
        alice.wait_for(seto_pb2.PAYLOAD_MARKET_STATE, 2)
        alice.send(order(1, 1, seto_pb2.SIDE_BUY, 5000, 20_000))
        bob.send(order(1, 1, seto_pb2.SIDE_SELL, 5000, 10_000))
        alice.wait_for(seto_pb2.PAYLOAD_ORDER_EXECUTED)
        sb.settle("1c024", "1cccc")
        (cancelled,) = alice.wait_for(seto_pb2.PAYLOAD_ORDER_CANCELLED)
        assert cancelled.order_cancelled.reason == seto_pb2.ORDER_CANCELLED_MARKET_SETTLED
        (state,) = alice.wait_for(seto_pb2.PAYLOAD_ACCOUNT_STATE)
        assert state.account_state.cash.value == 10_000_000 + 5_000
        assert sb.balance("alice").cash == 10_000_000 + 5_000
        assert sb.balance("bob").cash == 10_000_000 - 5_000
        # new accounts and markets
        sb.add_account("zoe", "zoe-pw", 123)
        sb.add_market(
            {
                "id": "2c024",
                "name": "Next",
                "event": "Final",
                "contracts": [{"id": "3cccc", "name": "X"}],
            }
        )
        zoe = WireClient(sb)
        assert isinstance(zoe.login("zoe", "zoe-pw"), LoggedIn)
        zoe.send(subscribe(2))
        zoe.wait_for(seto_pb2.PAYLOAD_MARKET_QUOTES)
        assert sb.balance("zoe").available == 123
        # refusals
        for bad in (
            "halt 9c024",
            "settle 2c024 1cccc",
            "balance nobody",
            "frobnicate",
            "halt",
            "reopen 2c024 extra",
            "add-market {",
        ):
            with pytest.raises(SandboxAdminError):
                sb.command_line(bad)
        assert sb.running
        assert sb.command_line("quit") == "bye"
        assert sb.process is not None and sb.process.wait(WAIT) == 0
        for client in (alice, bob, zoe):
            client.close()
