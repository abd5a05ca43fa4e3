"""A small real server that a test scripts, for the client's integration tests.

It listens on 127.0.0.1 (port 0), optionally with TLS, and runs one *script*
per accepted connection, in order, in a background thread.  A script is a
function taking a :class:`ServerConnection`::

    def script(conn):
        conn.accept_login()
        conn.expect("eto.ping")                    # the connection answers PONG
        sub = conn.expect("seto.market_subscribe")
        conn.send(payload("market_quotes", market=sub.market_subscribe.market, seq=...))

    with ScriptedServer(script) as server:
        ...  # run the client against server.port

The session rules are not reimplemented here: each connection is driven by a
:class:`~smarkets.protocol.connection.Connection` in the server role (bytes read in, events
out, bytes to write out).  The script only adds the misbehaviour a test needs:
dropping a payload (to make a gap the client must ask to replay), resending
one (a duplicate), asking the client for a replay, going silent, closing in
the middle of a frame.  An exception in a script (a failed expectation, a
timeout) is raised again in the test when the server is closed.
"""

from __future__ import annotations

import itertools
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    Connection,
    Event,
    LoggedIn,
    LoginRequested,
    Received,
    Role,
    SessionEnded,
    SessionState,
    session_payload,
)
from smarkets.protocol.framing import encode_frame, encode_frames
from smarkets.protocol.names import payload_name

#: How long a script waits for anything before failing the test.
DEFAULT_TIMEOUT = 5.0

Script = Callable[["ServerConnection"], None]


def payload(kind: str, **fields: Any) -> seto_pb2.Payload:
    """A seto payload of ``kind`` (a Payload field name) with the message built from ``fields``."""
    result = seto_pb2.Payload(type=seto_pb2.PayloadType.Value("PAYLOAD_" + kind.upper()))
    message = getattr(result, kind)
    message.SetInParent()
    for name, value in fields.items():
        target = getattr(message, name)
        if hasattr(target, "CopyFrom"):
            target.CopyFrom(value)
        elif hasattr(target, "extend"):
            target.extend(value)
        else:
            setattr(message, name, value)
    return result


def uuid(n: int) -> seto_pb2.Uuid128:
    """A Uuid128 carrying ``n`` (below 2**64)."""
    return seto_pb2.Uuid128(low=n)


class _Arrivals:
    """Every payload the client sent, as it arrived (a :class:`PayloadTap` on the connection).

    Duplicates and replayed copies included, decoded before the session rules see them
    (which drop what they do not deliver).
    """

    def __init__(self) -> None:
        self.payloads: list[seto_pb2.Payload] = []

    def record_in(self, payloads: list[bytes]) -> None:
        self.payloads.extend(seto_pb2.Payload.FromString(data) for data in payloads)

    def record_out(self, payloads: list[bytes], inseq: int | None = None) -> None:
        pass


class ServerConnection:
    """One accepted connection, driven by a server-role :class:`Connection` (``protocol``).

    ``received`` holds every payload exactly as it arrived (duplicates and
    replayed copies included), for tests to inspect; ``events`` the connection's
    events not yet taken by an ``expect``.
    """

    def __init__(self, server: ScriptedServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.timeout = server.timeout
        self._arrivals = _Arrivals()
        self.protocol = Connection(
            Role.SERVER,
            now=time.monotonic(),
            heartbeat_interval=3600,
            heartbeat_timeout=3600,
            login_timeout=3600,
            tap=self._arrivals,
        )
        self.events: list[Event] = []
        self.login_request: LoginRequested | None = None
        #: The bytes of the last write (whole frames), for :meth:`send_duplicate`.
        self.last_written: bytes | None = None
        self.closed_by_peer = False

    @property
    def state(self) -> SessionState:
        """The session this connection serves."""
        return self.protocol.session

    @property
    def received(self) -> list[seto_pb2.Payload]:
        """Every payload the client sent, as it arrived."""
        return self._arrivals.payloads

    # -- low level ---------------------------------------------------------

    def write_bytes(self, data: bytes) -> None:
        """Write ``data`` as it is (whole frames, or anything a test needs to send)."""
        if data:
            self.sock.sendall(data)
            self.last_written = data

    def write(self, payloads: list[bytes]) -> None:
        """Frame and write raw payload bytes (which need not be valid payloads)."""
        self.write_bytes(encode_frames(payloads))

    def flush(self) -> None:
        """Write whatever the connection has produced (pongs, replays, confirmations)."""
        self.write_bytes(self.protocol.data_to_send())

    def _read(self, until: float) -> None:
        """Read once (up to ``until``) and feed the connection; raise if the client closed."""
        remaining = until - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the client sent nothing in time")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            raise
        except OSError:  # reset, TLS EOF
            data = b""
        if not data:
            self.closed_by_peer = True
            raise ConnectionError("the client closed the connection")
        self.events.extend(self.protocol.receive_data(data, time.monotonic()))
        self.flush()

    def wait_for(self, what: str, predicate: Callable[[Event], bool]) -> Event:
        """Take the first event matching ``predicate``, reading as needed."""
        until = time.monotonic() + self.timeout
        while True:
            for index, event in enumerate(self.events):
                if predicate(event):
                    return self.events.pop(index)
            try:
                self._read(until)
            except (TimeoutError, ConnectionError) as exc:
                raise AssertionError(f"waiting for {what}: {exc}; events: {self.events}") from exc

    def wait_until(self, what: str, condition: Callable[[], bool]) -> None:
        """Keep reading (and answering through the connection) until ``condition()`` holds."""
        until = time.monotonic() + self.timeout
        while not condition():
            try:
                self._read(until)
            except (TimeoutError, ConnectionError) as exc:
                raise AssertionError(f"waiting for {what}: {exc}") from exc

    # -- login ---------------------------------------------------------------

    def expect_login(self) -> LoginRequested:
        """Wait for the client's login."""
        if self.login_request is None:
            event = self.wait_for("the login", lambda e: isinstance(e, LoginRequested))
            self.login_request = event  # type: ignore[assignment]
        return self.login_request  # type: ignore[return-value]

    def accept_login(self, **response: Any) -> SessionState:
        """Accept the login: a new session, or the one the client resumes."""
        request = self.expect_login()
        sessions = self.server.sessions
        state = sessions.get(request.session_id) if request.session_id else None
        if state is None:
            if request.session_id:
                raise AssertionError(f"unknown session {request.session_id} (refuse it instead)")
            state = SessionState(session_id=self.server.new_session_id())
            sessions[state.session_id] = state  # type: ignore[index]
        events = self.protocol.accept_login(state, time.monotonic(), **response)
        self.events.extend(e for e in events if not isinstance(e, LoggedIn))
        self.flush()
        return state

    def refuse_login(self, reason: int) -> None:
        """Answer the login with LOGOUT ``reason`` and close."""
        self.expect_login()
        self.protocol.refuse_login(reason, time.monotonic())
        self.flush()
        self.close()

    # -- receiving ---------------------------------------------------------------

    def expect(self, name: str) -> seto_pb2.Payload:
        """Wait for the next payload named ``name`` (``'eto.ping'``, ``'seto.order_create'``)."""
        event = self.wait_for(
            name,
            lambda e: isinstance(e, Received) and payload_name(e.payload)[0] == name,
        )
        return event.payload  # type: ignore[union-attr]

    def expect_end(self) -> SessionEnded:
        """Wait for the session to end (the client's logout, or its confirmation of ours)."""
        return self.wait_for("the end", lambda e: isinstance(e, SessionEnded))  # type: ignore[return-value]

    def wait_closed(self) -> None:
        """Keep serving until the client closes the connection."""
        until = time.monotonic() + self.timeout
        while not self.closed_by_peer:
            try:
                self._read(until)
            except ConnectionError:
                return
            except TimeoutError as exc:
                raise AssertionError("the client did not close the connection") from exc

    def go_silent(self) -> None:
        """Read and ignore everything (answer nothing) until the client closes."""
        until = time.monotonic() + self.timeout
        while True:
            remaining = until - time.monotonic()
            if remaining <= 0:
                raise AssertionError("the client did not close the connection")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return

    # -- sending -------------------------------------------------------------------

    def send(self, message: seto_pb2.Payload, *, drop: bool = False) -> int:
        """Send ``message`` through the connection; return its seq.

        With ``drop=True`` it is numbered and kept for replay but never written,
        as if lost on the way: the client sees a gap at the next payload.
        """
        seq = self.protocol.send(message, time.monotonic())
        data = self.protocol.data_to_send()
        if not drop:
            self.write_bytes(data)
        return seq

    def send_heartbeat(self, *, drop: bool = False) -> int:
        """Send a HEARTBEAT (the client must answer with one)."""
        return self.send(session_payload(eto_pb2.PAYLOAD_HEARTBEAT), drop=drop)

    def send_ping(self) -> int:
        """Send a PING (the client must answer PONG)."""
        return self.send(session_payload(eto_pb2.PAYLOAD_PING))

    def request_replay(self, seq: int) -> int:
        """Ask the client to resend everything from ``seq`` on."""
        message = session_payload(eto_pb2.PAYLOAD_REPLAY)
        message.eto_payload.replay.seq = seq
        return self.send(message)

    def send_duplicate(self) -> None:
        """Write the last write again, unchanged (its payloads not marked as replays)."""
        assert self.last_written is not None, "nothing written yet"
        self.write_bytes(self.last_written)

    def logout(self, reason: int) -> None:
        """End the session with LOGOUT ``reason``; the client must confirm."""
        self.protocol.logout(time.monotonic(), reason)
        self.flush()

    def close_mid_frame(self) -> None:
        """Write the first part of a frame, then close."""
        frame = encode_frame(b"\x08" * 50)
        self.sock.sendall(frame[:20])
        self.close()

    def close(self, linger: float = 1.0) -> None:
        """Close gracefully: end our side, let the client read what was sent, then close.

        Reading until the client closes too (at most ``linger`` seconds) keeps
        the kernel from answering the client's late bytes with a reset that
        could overtake what we wrote.
        """
        sock = self.sock
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(linger)
            while sock.recv(65536):
                pass
        except OSError:
            pass
        finally:
            sock.close()

    def abort(self) -> None:
        """Close at once, waking a script blocked on the socket."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class ScriptedServer:
    """Runs ``scripts[i]`` on the i-th accepted connection, one connection at a time.

    ``sessions`` maps session ids to their :class:`SessionState`, shared by
    all connections (so a client can resume).  ``connections`` lists the
    connections served; ``tls_errors`` the handshakes that failed.
    """

    def __init__(
        self,
        *scripts: Script,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.scripts = list(scripts)
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.sessions: dict[str, SessionState] = {}
        self.connections: list[ServerConnection] = []
        self.tls_errors: list[Exception] = []
        self.errors: list[BaseException] = []
        self._ids = itertools.count(0xA1)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(timeout)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="scripted-server", daemon=True)
        self._thread.start()

    def new_session_id(self) -> str:
        """A fresh session id, as tagged hex."""
        return f"{next(self._ids):x}9999"

    def _serve(self) -> None:
        for script in self.scripts:
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                self.errors.append(AssertionError(f"no client came for {script.__name__}"))
                return
            except OSError:  # the server was closed
                return
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock: socket.socket = raw
            if self.ssl_context is not None:
                raw.settimeout(self.timeout)
                try:
                    sock = self.ssl_context.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    self.tls_errors.append(exc)
                    raw.close()
                    continue
            conn = ServerConnection(self, sock)
            self.connections.append(conn)
            try:
                script(conn)
            except BaseException as exc:  # reported by close()
                self.errors.append(exc)
            finally:
                conn.close()

    def close(self) -> None:
        """Stop serving, wait for the scripts, and raise the first script error."""
        self._thread.join(self.timeout * 2)
        self._listener.close()
        for conn in self.connections:
            conn.abort()
        self._thread.join(self.timeout)
        if self.errors:
            raise self.errors[0]
        if self._thread.is_alive():
            raise AssertionError("the scripted server did not finish")

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is None:
            self.close()
            return
        # The test failed already: stop quickly, and let its error show.
        self._listener.close()
        for conn in self.connections:
            conn.abort()
        self._thread.join(self.timeout)
