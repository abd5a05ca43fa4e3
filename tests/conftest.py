"""Shared fixtures: a test CA with server certificates (trustme), and client settings."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

import smarkets
from smarkets.protocol.extensions import EXTENSIONS_VERSION

USERNAME = "alice"
PASSWORD = "s3cret-pa55word"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A certificate authority that only the tests trust."""
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test CA's certificate as a PEM file (for ``ssl_kwargs['ca_file']``)."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


@pytest.fixture(scope="session")
def server_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server context with a certificate for ``localhost`` and ``127.0.0.1``."""
    return _server_context(ca, "localhost", "127.0.0.1")


@pytest.fixture(scope="session")
def wrong_host_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server context whose certificate (from the test CA) names another host."""
    return _server_context(ca, "example.org")


@pytest.fixture(scope="session")
def untrusted_ssl_context() -> ssl.SSLContext:
    """A server context whose certificate comes from a CA nobody trusts."""
    return _server_context(trustme.CA(), "localhost", "127.0.0.1")


@pytest.fixture
def make_settings() -> Callable[..., smarkets.SessionSettings]:
    """Settings for a local test server: plain TCP, 127.0.0.1, short timings."""

    def make(port: int = 3701, **overrides: Any) -> smarkets.SessionSettings:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": port,
            "ssl": False,
            "socket_timeout": 5.0,
            "heartbeat_interval": 5.0,
            "heartbeat_timeout": 15.0,
            "login_timeout": 5.0,
        }
        values.update(overrides)
        return smarkets.SessionSettings(USERNAME, PASSWORD, **values)

    return make


# -- an in-memory server for Session and Smarkets unit tests -------------------------


class FakeClock:
    """A clock that moves only when told (or when the loopback waits)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Loopback:
    """A transport with a server-role protocol Connection behind it, and no socket at all.

    It stands in for :class:`smarkets.SessionSocket`: the bytes the client writes go
    straight into the server's connection, which accepts logins by itself (set
    ``refuse`` to a logout reason to refuse them).  ``received`` holds every
    payload the server got; :meth:`send` makes the server send one; ``inbox`` holds the
    payloads (bytes, unframed) the client reads next, so a test may put anything there.
    It grants
    the extensions a login asks for (up to ``grant``; set ``grant = 0`` to play a
    server that speaks only the published schema).  Waiting
    for input advances the fake clock by the time waited, so timers fire
    without real sleeps.
    """

    address = "loopback:3701"

    def __init__(self, clock: FakeClock) -> None:
        from smarkets.protocol import SessionState

        self.clock = clock
        self.connected = False
        self.core: Any = None
        self.inbox: list[bytes] = []
        self.received: list[Any] = []
        self.events: list[Any] = []
        self.sessions: dict[str, SessionState] = {}
        self.refuse: int | None = None
        self.grant = EXTENSIONS_VERSION
        self.connects = 0
        self.writes = 0

    def connect(self) -> None:
        from smarkets.protocol import Connection, Role

        if self.connected:
            return
        self.connected = True
        self.connects += 1
        self.inbox = []  # a new connection: nothing of the old one arrives on it
        self.core = Connection(
            Role.SERVER,
            now=self.clock(),
            tap=self,
            heartbeat_interval=3600,
            heartbeat_timeout=3600,
            login_timeout=3600,
        )

    def close(self) -> None:
        self.connected = False

    def fileno(self) -> int:
        return -1

    def record_in(self, payloads: list[bytes]) -> None:
        """The server connection's tap: keep every payload it receives."""
        from smarkets.proto import seto_pb2

        self.received.extend(seto_pb2.Payload.FromString(p) for p in payloads)

    def record_out(self, payloads: list[bytes], inseq: int | None = None) -> None:
        pass

    def send_data(self, data: bytes) -> None:
        from smarkets.protocol import LoggedIn, LoginRequested, SessionState

        if not self.connected:
            raise smarkets.SocketError("not connected")
        self.writes += 1
        for event in self.core.receive_data(data, self.clock()):
            if isinstance(event, LoginRequested):
                if self.refuse is not None:
                    self.core.refuse_login(self.refuse, self.clock())
                    continue
                state = self.sessions.get(event.session_id or "")
                if state is None:
                    state = SessionState(session_id=f"{len(self.sessions) + 1:x}9999")
                    self.sessions[state.session_id] = state
                asked = event.payload.login.extensions
                granted = min(asked, self.grant)
                more = self.core.accept_login(state, self.clock(), extensions=granted)
                self.events.extend(e for e in more if not isinstance(e, LoggedIn))
            else:
                self.events.append(event)
        self.inbox.extend(self.core.payloads_to_send())

    def send(self, payload: Any) -> int:
        """Make the server send ``payload``; the client reads it at its next read."""
        seq = self.core.send(payload, self.clock())
        self.inbox.extend(self.core.payloads_to_send())
        return seq

    def wait_readable(self, timeout: float | None) -> bool:
        if self.inbox or not self.connected:
            return True
        self.clock.advance(timeout if timeout is not None else 3600)
        return False

    def recv_data(self) -> bytes:
        from smarkets.protocol.framing import encode_frames

        if not self.connected:
            return b""  # closed
        out, self.inbox = self.inbox, []
        return encode_frames(out)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock for Sessions under test."""
    return FakeClock()


@pytest.fixture
def loopback(clock: FakeClock) -> Loopback:
    """An in-memory server transport."""
    return Loopback(clock)


@pytest.fixture
def make_session(loopback: Loopback, clock: FakeClock) -> Callable[..., smarkets.Session]:
    """``make_session(**kwargs)``: a Session on the loopback transport and the fake clock."""

    def make(*args: Any, settings: smarkets.SessionSettings | None = None, **kwargs: Any):
        if settings is None:
            settings = smarkets.SessionSettings(USERNAME, PASSWORD, ssl=False, socket_timeout=5.0)
        return smarkets.Session(settings, *args, transport=loopback, clock=clock, **kwargs)

    return make
