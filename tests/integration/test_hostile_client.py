"""The client against hostile servers, over real sockets.

Whatever a server sends -- random bytes, a length header over the maximum, an 11-byte varint,
a frame cut short, payloads that are not protobuf or lack required fields, nothing at all,
one byte at a time, endless duplicates, a flood of replay requests -- the client raises the
specific exception (naming ``host:port``) within its configured timeouts, its memory stays
bounded (``tracemalloc``), and after garbage mid-session ``inseq`` is unchanged by the bad
batch. A broken frame (a length header over the maximum, a frame cut short) leaves the
session resumable: a new connection resumes it. A frame that holds a payload the client
cannot read (not protobuf, a required field missing, ...) is answered by LOGOUT
``INVALID_PAYLOAD`` (``NONE`` to a server that granted no extensions) before the client
closes: a session ended by logout cannot be resumed, so the next login starts a new one
(PROTOCOL.md 3.1 and section 4 rule 7), against a scripted server and against the real
sandbox (through a proxy that injects garbage).

What bounds a server that dribbles: the session's timers count only *complete* payloads, so
a server that sends a byte now and then but never a whole payload is a silent server: the
login timeout ends a login, the heartbeat timeout a session (``HeartbeatTimeoutError``), and a
read that gets nothing whole raises ``SocketTimeout`` after ``socket_timeout``.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from scripted_server import ScriptedServer, ServerConnection, payload, uuid
from support import sandbox_settings, soak

import smarkets
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import session_payload
from smarkets.protocol.extensions import logout_reason_for
from smarkets.protocol.framing import DEFAULT_MAX_PAYLOAD_SIZE, encode_frame, uleb128
from smarkets.sandbox.process import SandboxProcess

Payload = seto_pb2.Payload
MiB = 1 << 20
MakeSettings = Callable[..., smarkets.SessionSettings]


@contextlib.contextmanager
def traced() -> Iterator[Callable[[], int]]:
    """Trace allocations (every thread); yields a function giving the peak so far, in bytes."""
    tracemalloc.start()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def endless(conn: ServerConnection, chunk: bytes, seconds: float = 20.0) -> None:
    """Write ``chunk`` again and again until the client goes away (or ``seconds`` pass)."""
    sock = conn.sock
    sock.settimeout(0.5)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sock.sendall(chunk)
        except TimeoutError:
            continue  # the client is not reading right now
        except OSError:
            return


def dribble(conn: ServerConnection, data: bytes, interval: float, seconds: float) -> None:
    """Write ``data`` one byte every ``interval`` seconds until the client goes away."""
    deadline = time.monotonic() + seconds
    for byte in data:
        if time.monotonic() > deadline:
            return
        try:
            conn.sock.sendall(bytes([byte]))
        except OSError:
            return
        time.sleep(interval)


def resume_script(session_id: str = "a19999") -> Callable[[ServerConnection], None]:
    """A script accepting the resume of ``session_id`` and then the client's logout."""

    def resume(conn: ServerConnection) -> None:
        assert conn.expect_login().session_id == session_id
        conn.accept_login()
        conn.expect_end()

    return resume


def resume_or_new_script(
    logins: list[str | None], session_id: str = "a19999"
) -> Callable[[ServerConnection], None]:
    """A script accepting a login (the resume of ``session_id`` or a new session), recording
    the session id the login named (``None``: a new session), then the client's logout."""

    def script(conn: ServerConnection) -> None:
        asked = conn.expect_login().session_id or None
        assert asked in (None, session_id)
        logins.append(asked)
        conn.accept_login()
        conn.expect_end()

    return script


def new_session_script(logins: list[str | None]) -> Callable[[ServerConnection], None]:
    """A script accepting a new session's login (recording what it named), then the logout."""

    def script(conn: ServerConnection) -> None:
        logins.append(conn.expect_login().session_id or None)
        conn.accept_login()
        conn.expect_end()

    return script


def told_why(session: smarkets.Session) -> int:
    """The LOGOUT reason a client sends over a payload it cannot read, as the server hears it."""
    return logout_reason_for(eto_pb2.LOGOUT_INVALID_PAYLOAD, session.extensions or 0)


def logged_in(conn: ServerConnection) -> None:
    """Accept the login and wait for the client's ping: the client is logged in by then, and
    what the script sends next cannot come in the same read as the login response."""
    conn.accept_login()
    conn.expect("eto.ping")


def login_and_ping(client: smarkets.Smarkets) -> None:
    client.login()
    client.ping()
    client.flush()


def where(server: ScriptedServer) -> str:
    return f"127.0.0.1:{server.port}"


def application_payload(n: int) -> Payload:
    return payload("market_state", market=uuid(n), state=seto_pb2.MARKET_STATUS_OPEN)


# -- garbage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("when", ["instead-of-the-login-response", "mid-session"])
def test_random_bytes(make_settings: MakeSettings, when: str, seed: int) -> None:
    garbage = random.Random(seed).randbytes(1 << 16)
    mid_session = when == "mid-session"

    def script(conn: ServerConnection) -> None:
        if mid_session:
            logged_in(conn)
        else:
            conn.expect_login()
        endless(conn, garbage)

    logins: list[str | None] = []
    scripts = [script, resume_or_new_script(logins)] if mid_session else [script]
    with ScriptedServer(*scripts) as server:
        session = smarkets.Session(make_settings(server.port))
        client = smarkets.Smarkets(session)
        inseq = session.inseq
        with traced() as peak, pytest.raises(smarkets.ProtocolError) as caught:
            login_and_ping(client)
            inseq = session.inseq
            for _ in range(100):
                client.read()
                inseq = session.inseq  # the pong, if it came in a read of its own
        assert peak() < 4 * DEFAULT_MAX_PAYLOAD_SIZE + MiB  # a frame's worth, never more
        assert where(server) in str(caught.value)
        assert not session.logged_in
        if mid_session:
            assert session.inseq == inseq  # nothing of the garbage was taken
            # A broken frame leaves the session resumable; a whole frame that is not a
            # payload the client can read ends it (LOGOUT INVALID_PAYLOAD): a new one starts.
            client.login()
            assert session.logged_in and len(logins) == 1
            if logins == ["a19999"]:
                assert session.session == "a19999"
            else:
                assert logins == [None] and session.session not in (None, "a19999")
                assert "payload" in str(caught.value)
            client.logout()
        else:
            assert session.session is None


@pytest.mark.parametrize(
    "length",
    [DEFAULT_MAX_PAYLOAD_SIZE + 1, 2**31, 2**60, 2**64 - 1],
    ids=["max+1", "2**31", "2**60", "2**64-1"],
)
def test_length_header_over_the_maximum(make_settings: MakeSettings, length: int) -> None:
    def script(conn: ServerConnection) -> None:
        logged_in(conn)
        conn.sock.sendall(uleb128(length))
        endless(conn, bytes(1 << 16))  # what would be the payload, for ever

    with ScriptedServer(script, resume_script()) as server:
        session = smarkets.Session(make_settings(server.port))
        client = smarkets.Smarkets(session)
        login_and_ping(client)
        with traced() as peak, pytest.raises(smarkets.ProtocolError, match="exceeds the maximum"):
            client.read(2)
        assert peak() < MiB  # refused at the header: nothing of that size allocated
        assert not session.logged_in
        client.login()
        client.logout()


@pytest.mark.parametrize(
    "header",
    [b"\x80" * 10 + b"\x01", b"\xff" * 11, b"\xff" * 64],
    ids=["80x10-01", "ffx11", "ffx64"],
)
@pytest.mark.parametrize("delivery", ["at-once", "byte-by-byte"])
def test_length_header_longer_than_ten_bytes(
    make_settings: MakeSettings, header: bytes, delivery: str
) -> None:
    def script(conn: ServerConnection) -> None:
        logged_in(conn)
        if delivery == "at-once":
            conn.sock.sendall(header)
        else:
            dribble(conn, header, 0.01, 10)
        conn.go_silent()

    with ScriptedServer(script, resume_script()) as server:
        client = smarkets.Smarkets(smarkets.Session(make_settings(server.port)))
        login_and_ping(client)
        with pytest.raises(smarkets.ProtocolError, match="longer than 10 bytes") as caught:
            for _ in range(100):
                client.read()
        assert where(server) in str(caught.value)
        client.login()
        client.logout()


@pytest.mark.parametrize(
    ("when", "cut"),
    [("login", 1), ("login", 100), ("session", 1)],
    ids=["login-in-the-header", "login-in-the-payload", "session-in-the-header"],
)
def test_frame_cut_short_then_closed(make_settings: MakeSettings, when: str, cut: int) -> None:
    """(A cut in the payload of a frame mid-session: test_client_errors.py.)"""
    frame = encode_frame(application_payload(1).SerializePartialToString() + bytes(300))
    assert frame[0] & 0x80  # a 2-byte header: a cut at 1 leaves half of it

    def script(conn: ServerConnection) -> None:
        if when == "session":
            conn.accept_login()
        else:
            conn.expect_login()
        conn.sock.sendall(frame[:cut])
        conn.close()

    scripts = [script, resume_script()] if when == "session" else [script]
    with ScriptedServer(*scripts) as server:
        session = smarkets.Session(make_settings(server.port))
        client = smarkets.Smarkets(session)
        with pytest.raises(smarkets.ConnectionClosed) as caught:
            client.login()
            client.read()
        error = caught.value
        assert error.mid_frame and error.buffered == cut
        assert where(server) in str(error)
        assert (error.host, error.port) == ("127.0.0.1", server.port)
        if when == "session":
            client.login()
            client.logout()
        else:
            assert session.session is None


def _payload_bytes(build: Callable[[Payload], None]) -> bytes:
    message = Payload()
    build(message)
    return message.SerializePartialToString()


def _eto(message: Payload, seq: int = 99) -> None:
    message.type = seto_pb2.PAYLOAD_ETO
    message.eto_payload.seq = seq


BAD_PAYLOADS = {
    "not-protobuf": b"\xff\xff\xff",
    "truncated-field": b"\x12\x05\x08",
    "wrong-wire-type": b"\x0a\x01\x00",
    "empty": b"",
    "no-eto-payload": _payload_bytes(lambda m: setattr(m, "type", seto_pb2.PAYLOAD_ETO)),
    "eto-without-seq": _payload_bytes(
        lambda m: (setattr(m, "type", seto_pb2.PAYLOAD_ETO), m.eto_payload.SetInParent())
    ),
    "unknown-payload-type": b"\x08\xe7\x07\x12\x02\x08\x05",  # type 999, eto seq 5
    "nested-required-missing": _payload_bytes(
        lambda m: (
            _eto(m),
            setattr(m, "type", seto_pb2.PAYLOAD_ORDER_ACCEPTED),
            m.order_accepted.SetInParent(),
        )
    ),
}


@pytest.mark.parametrize("bad", sorted(BAD_PAYLOADS))
def test_invalid_payload_spoils_its_batch_and_ends_the_session(
    make_settings: MakeSettings, bad: str
) -> None:
    """A valid payload and a bad one in one read: neither is taken; the client tells the
    server why (LOGOUT INVALID_PAYLOAD) and closes; the next login starts a new session."""
    ended: list[int] = []

    def first(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.expect("eto.ping")
        conn.protocol.send(application_payload(7), time.monotonic())
        data = conn.protocol.data_to_send() + encode_frame(BAD_PAYLOADS[bad])
        conn.write_bytes(data)  # one write
        ended.append(conn.expect_end().reason)
        conn.wait_closed()

    logins: list[str | None] = []
    with ScriptedServer(first, new_session_script(logins)) as server:
        session = smarkets.Session(make_settings(server.port))
        client = smarkets.Smarkets(session)
        markets: list[int] = []
        client.add_handler("seto.market_state", lambda message: markets.append(message.market.low))
        client.login()
        first_session = session.session
        client.ping()
        client.flush()
        inseq = session.inseq
        with pytest.raises(smarkets.ProtocolError) as caught:
            for _ in range(10):
                client.read()
                inseq = session.inseq  # after the pong, if it came in a read of its own
        assert where(server) in str(caught.value)
        assert session.inseq == inseq and markets == []
        assert not session.logged_in
        client.login()  # not a resume: the session ended by logout
        assert logins == [None]
        assert session.logged_in and session.session not in (None, first_session)
        assert ended == [told_why(session)]
        assert markets == []  # what the bad batch carried is gone with the session
        client.logout()


def test_invalid_login_response(make_settings: MakeSettings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.expect_login()
        response = session_payload(eto_pb2.PAYLOAD_LOGIN_RESPONSE)
        response.eto_payload.seq = 1
        response.eto_payload.login_response.SetInParent()  # no session id: required
        conn.write([response.SerializePartialToString()])
        conn.go_silent()

    with ScriptedServer(script) as server:
        session = smarkets.Session(make_settings(server.port))
        with pytest.raises(smarkets.ProtocolError, match="required") as caught:
            session.login()
        assert where(server) in str(caught.value)
        assert session.session is None


# -- silence and dribbles ----------------------------------------------------------------------


def test_server_that_never_reads_the_login(make_settings: MakeSettings) -> None:
    done = threading.Event()

    def script(conn: ServerConnection) -> None:
        done.wait(20)  # accepts, and then neither reads nor writes

    with ScriptedServer(script) as server:
        session = smarkets.Session(make_settings(server.port, login_timeout=0.3))
        try:
            with pytest.raises(smarkets.LoginTimeoutError) as caught:
                session.login()
        finally:
            done.set()
    assert where(server) in str(caught.value)
    assert caught.value.resumable and not caught.value.by_peer
    assert not session.logged_in


def test_tls_handshake_never_answered(make_settings: MakeSettings) -> None:
    done = threading.Event()

    def script(conn: ServerConnection) -> None:
        done.wait(20)  # a TCP server that says nothing: no ServerHello ever

    with ScriptedServer(script) as server:
        settings = make_settings(server.port, ssl=True, socket_timeout=0.3)
        try:
            with pytest.raises(smarkets.TLSError, match="timed out") as caught:
                smarkets.Session(settings).login()
        finally:
            done.set()
    assert where(server) in str(caught.value)


ENDLESS_FRAME = uleb128(DEFAULT_MAX_PAYLOAD_SIZE - 1) + bytes(4096)


def run_dribble(
    make_settings: MakeSettings, when: str, interval: float, timings: dict[str, float]
) -> None:
    """A server that sends one byte every ``interval`` seconds, never a whole payload."""
    done = threading.Event()

    def script(conn: ServerConnection) -> None:
        if when == "session":
            conn.accept_login()
        else:
            conn.expect_login()
        dribble(conn, ENDLESS_FRAME, interval, 60)
        done.wait(5)

    scripts = [script, resume_script()] if when == "session" else [script]
    with ScriptedServer(*scripts) as server:
        session = smarkets.Session(make_settings(server.port, **timings))
        client = smarkets.Smarkets(session)
        expected = (
            smarkets.HeartbeatTimeoutError if when == "session" else smarkets.LoginTimeoutError
        )
        try:
            with pytest.raises(expected) as caught:
                client.login()
                for _ in range(1000):
                    try:
                        client.read()
                    except smarkets.SocketTimeout:
                        assert session.logged_in  # a quiet read; the heartbeat timer runs on
        finally:
            done.set()
        error = caught.value
        assert where(server) in str(error)
        assert error.resumable and not error.by_peer
        assert not session.logged_in
        if when == "session":
            client.login()
            client.logout()


@pytest.mark.parametrize("when", ["login", "session"])
def test_a_server_that_dribbles(make_settings: MakeSettings, when: str) -> None:
    timings = {
        "login_timeout": 0.5,
        "heartbeat_interval": 0.2,
        "heartbeat_timeout": 0.8,
        "socket_timeout": 0.3,
    }
    run_dribble(make_settings, when, 0.02, timings)


@soak
@pytest.mark.parametrize("when", ["login", "session"])
def test_a_server_that_dribbles_one_byte_per_second(make_settings: MakeSettings, when: str) -> None:
    timings = {
        "login_timeout": 5.0,
        "heartbeat_interval": 2.0,
        "heartbeat_timeout": 6.0,
        "socket_timeout": 3.0,
    }
    run_dribble(make_settings, when, 1.0, timings)


# -- floods ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["duplicates", "far-ahead"])
def test_endless_payloads_that_deliver_nothing(make_settings: MakeSettings, kind: str) -> None:
    """Duplicates, or payloads past a gap, for ever: dropped, memory flat, reads time out."""

    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.send(application_payload(1))
        if kind == "duplicates":
            frame = conn.last_written or b""
        else:
            ahead = application_payload(2)
            ahead.eto_payload.seq = conn.protocol.outseq + 1000
            frame = encode_frame(ahead.SerializeToString())
        endless(conn, frame * 2000)

    with ScriptedServer(script, resume_script()) as server:
        session = smarkets.Session(make_settings(server.port, socket_timeout=0.5))
        client = smarkets.Smarkets(session)
        client.login()
        client.read()  # the one real payload
        inseq = session.inseq
        with traced() as peak:
            for _ in range(3):
                with pytest.raises(smarkets.SocketTimeout):
                    client.read()
        assert peak() < 4 * MiB
        assert session.inseq == inseq and session.logged_in
        session.disconnect()
        client.login()
        client.logout()


def test_a_flood_of_replay_requests_is_answered_once(make_settings: MakeSettings) -> None:
    """5,000 requests to replay everything, in one write: each payload is resent once."""
    kept = 300
    flood = 5000
    counts: dict[str, int] = {}

    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.wait_until("the requests", lambda: len(conn.received) > kept)
        replay = session_payload(eto_pb2.PAYLOAD_REPLAY)
        replay.eto_payload.replay.seq = 2
        for _ in range(flood):
            conn.protocol.send(replay, time.monotonic())
        conn.flush()
        conn.expect("eto.ping")  # sent by the client once it has read the flood
        copies = [p.eto_payload.seq for p in conn.received if p.eto_payload.is_replay]
        counts["copies"] = len(copies)
        counts["most"] = max(copies.count(seq) for seq in set(copies))
        conn.expect_end()

    with ScriptedServer(script) as server:
        client = smarkets.Smarkets(smarkets.Session(make_settings(server.port)))
        client.login()
        for _ in range(kept):
            client.request_account_state()
        client.flush()
        with traced() as peak:
            client.read(flood)
        assert peak() < 16 * MiB  # answered one by one, it would have been ~1.5M payloads
        client.ping()
        client.flush()
        client.logout()
    # the flood may have come in a few reads; a payload is resent once per read at most
    assert kept <= counts["copies"] <= 4 * kept
    assert counts["most"] <= 4


# -- garbage mid-session, then a resume against the real sandbox --------------------------------


class Proxy:
    """A TCP proxy to the sandbox that can hold back the sandbox's bytes and inject its own."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port: int = self.listener.getsockname()[1]
        #: While set, what the sandbox sends is kept here instead of being forwarded.
        self.hold = threading.Event()
        self.held = bytearray()
        self.clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(self.upstream, timeout=5)
            with self._lock:
                self.clients.append(client)
            for source, target, held in ((client, server, False), (server, client, True)):
                thread = threading.Thread(
                    target=self._pump, args=(source, target, held), daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def _pump(self, source: socket.socket, target: socket.socket, held: bool) -> None:
        source.settimeout(0.05)
        try:
            while not self._stop.is_set():
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                with self._lock:
                    if held and self.hold.is_set():
                        self.held += data
                    else:
                        target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def inject(self, data: bytes) -> None:
        """Write ``data`` to the latest client, in one write, as if the sandbox had sent it."""
        with self._lock:
            self.clients[-1].sendall(data)

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        for thread in self._threads:
            thread.join(5)


def test_garbage_mid_session_ends_the_session_against_the_sandbox() -> None:
    """Garbage injected after a valid payload: the whole batch is refused, the client tells the
    sandbox why (LOGOUT INVALID_PAYLOAD) and closes; the session cannot be resumed, and a new
    session of the account finds both its orders open on the exchange."""
    accounts = {"alice": {"password": "alice-pw", "balance": 10_000_000}}
    with SandboxProcess(tls=False, accounts=accounts) as sandbox:
        proxy = Proxy((sandbox.host, sandbox.port))
        try:
            settings = sandbox_settings(sandbox, "alice", host="127.0.0.1", port=proxy.port)
            settings.socket_timeout = 10.0
            session = smarkets.Session(settings)
            client = smarkets.Smarkets(session)
            accepted: list[int] = []
            states: list[int] = []
            listed: list[Any] = []
            client.add_handler("seto.order_accepted", lambda m: accepted.append(m.seq))
            client.add_handler("seto.market_state", lambda m: states.append(m.market.low))
            client.add_handler("seto.orders_for_account", listed.append)
            client.login()
            session_id = session.session
            first = client.order(smarkets.Order(10_000, 2000, smarkets.Order.BUY, "4c024", "8cccc"))
            client.flush()
            while first.state != "accepted":
                client.read()
            # the sandbox's answer to the second order is held in the proxy, never delivered
            proxy.hold.set()
            second = client.order(
                smarkets.Order(10_000, 2100, smarkets.Order.BUY, "4c024", "8cccc")
            )
            client.flush()
            for _ in range(500):  # until the sandbox has answered (into the proxy's hands)
                if proxy.held:
                    break
                time.sleep(0.01)
            assert proxy.held, "the sandbox did not answer the second order"
            inseq = session.inseq
            fake = application_payload(99)  # a payload the sandbox never sent...
            fake.eto_payload.seq = inseq
            fake_frame = encode_frame(fake.SerializeToString())
            proxy.inject(fake_frame + encode_frame(b"\xff\xff\xff"))  # ...and garbage after it
            with pytest.raises(smarkets.ProtocolError, match=f"127.0.0.1:{proxy.port}"):
                client.read()
            assert session.inseq == inseq and states == []  # the whole batch was refused
            assert second.state != "accepted"
            assert not session.logged_in
            proxy.hold.clear()
            client.login()  # a new session: one ended by logout cannot be resumed
            assert session.session not in (None, session_id)
            client.request_orders()
            client.flush()
            for _ in range(50):
                if listed:
                    break
                client.read()
            (orders,) = listed
            rows = smarkets.account.open_orders(orders)
            assert sorted(row.price for row in rows) == [2000, 2100]  # nothing was lost
            assert first.id in [row.order for row in rows]
            assert accepted == [first.seq]  # the held answer went with the old session
            assert states == []  # the injected payload was never taken
            client.logout()
        finally:
            proxy.close()
