"""The login gate on its own: the connection cap, downtime, where passwords are checked, and
what each login is given (no sockets, no event loop)."""

from __future__ import annotations

import pytest

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import Connection, LoggedIn, LoginRequested, Role, SessionEnded
from smarkets.protocol.extensions import EXTENSIONS_VERSION
from smarkets.sandbox.server.config import ServerConfig
from smarkets.sandbox.server.credentials import CredentialStore
from smarkets.sandbox.server.login import Admission, LoginGate
from smarkets.sandbox.server.sessions import SessionRegistry

from .fakes import Stream, Timers

ACCOUNTS = {"alice": 1, "bob": 2}
ADMITTED = Admission.ADMITTED


def gate(**config: object) -> LoginGate:
    config.setdefault("login_workers", 0)
    credentials = CredentialStore(n=2)
    for name in ACCOUNTS:
        credentials.add(name, f"{name}-pw")
    registry = SessionRegistry(expiry=60.0, replay_limit=None, call_later=Timers().call_later)
    return LoginGate(ServerConfig(**config), registry, credentials, ACCOUNTS.__getitem__)  # type: ignore[arg-type]


def login(
    username: str | bytes = "alice",
    password: str = "alice-pw",
    session_id: str | None = None,
    extensions: int = 1,
) -> LoginRequested:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_LOGIN)
    payload.eto_payload.type = eto_pb2.PAYLOAD_LOGIN
    if isinstance(username, bytes):  # as upb hands back a name that is not valid UTF-8
        payload.login.MergeFromString(b"\x0a" + bytes([len(username)]) + username)
    else:
        payload.login.username = username
    payload.login.password = password
    if extensions:
        payload.login.extensions = extensions
    return LoginRequested(payload, session_id, 1)


def test_the_connection_cap() -> None:
    g = gate(max_connections=2)
    assert [g.connection_opened("p", n) for n in (1, 2)] == [ADMITTED, ADMITTED]
    assert g.connection_opened("p", 3) is Admission.OVER_CAP
    assert g.connection_opened("p", 4) is Admission.OVER_CAP
    # Even the connections waiting to be refused are too many: closed without a word.
    assert g.connection_opened("p", 5) is Admission.ABORT
    g.connection_closed(Admission.OVER_CAP)
    g.connection_closed(None)
    assert g.admitted == 2
    g.connection_closed(ADMITTED)
    assert g.connection_opened("p", 4) is ADMITTED


def test_screening_before_the_password_is_checked() -> None:
    g = gate()
    stu = eto_pb2.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE
    assert g.screen("p", Admission.OVER_CAP, login(), False).reason == stu
    assert g.screen("p", ADMITTED, login(), False).verified is True  # checked on the loop
    assert g.screen("p", ADMITTED, login(password="no"), False).verified is False
    assert g.screen("p", ADMITTED, login(""), False).verified is False
    assert g.screen("p", ADMITTED, login(b"\xff\xfe"), False).verified is False
    g.connection_down = True
    assert g.screen("p", ADMITTED, login(), False).reason == eto_pb2.LOGOUT_DOWNTIME


def test_at_most_max_pending_logins_checks_wait_on_the_workers() -> None:
    g = gate(login_workers=1, max_pending_logins=2)
    stu = eto_pb2.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE
    first, second = (g.screen("p", ADMITTED, login(), False) for _ in range(2))
    assert first.reason == second.reason == 0 and first.verified is None  # to a worker
    assert g.pending == 2
    assert g.screen("p", ADMITTED, login(), False).reason == stu
    g.release()
    assert g.screen("p", ADMITTED, login(), closing=True).reason == stu  # closing: none
    assert g.screen("p", ADMITTED, login(), False).reason == 0


def test_decisions() -> None:
    g = gate(throttle_rate=10)
    refused = g.decide("alice", False, None, 1, 0.0)
    assert refused.reason == eto_pb2.LOGOUT_UNAUTHORISED and refused.session is None
    assert "login refused for 'alice': bad credentials" in refused.why
    new = g.decide("alice", True, None, 99, 0.0)
    session = new.session
    assert session is not None and not new.resumed and new.reason == 0
    assert session.extensions == EXTENSIONS_VERSION  # the most the server speaks
    assert session.throttle is not None and session.throttle.rate == 10
    assert g.registry.get(session.session_id) is session
    resumed = g.decide("alice", True, session.session_id, 0, 1.0)
    assert resumed.session is session and resumed.resumed
    assert session.extensions == EXTENSIONS_VERSION  # the grant is the session's
    for name, session_id in (("alice", "abc9999"), ("bob", session.session_id)):
        unknown = g.decide(name, True, session_id, 1, 0.0)
        assert unknown.reason == eto_pb2.LOGOUT_UNKNOWN_SESSION and unknown.session is None
    g.connection_down = True
    assert g.decide("alice", True, None, 1, 0.0).reason == eto_pb2.LOGOUT_DOWNTIME
    unthrottled = gate(throttle_rate=0).decide("bob", True, None, 0, 0.0).session
    assert unthrottled is not None and unthrottled.throttle is None


def core(now: float = 0.0) -> Connection:
    """A server connection whose client has sent its login."""
    client = Connection(Role.CLIENT, now=now)
    client.login(seto_pb2.Login(username="alice", password="alice-pw"), now)
    server = Connection(Role.SERVER, now=now)
    (requested,) = server.receive_data(client.data_to_send(), now)
    assert isinstance(requested, LoginRequested)
    return server


def test_answer_accepts_attaches_and_takes_a_session_from_its_old_connection() -> None:
    g = gate()
    first = Stream("10.0.0.1:1")
    (logged_in,) = [
        e for e in g.answer(first, core(), login(), True, 0.0) if isinstance(e, LoggedIn)
    ]
    session = first.session
    assert session is not None and session.stream is first
    assert logged_in.session_id == session.session_id
    second = Stream("10.0.0.1:2")
    events = g.answer(second, core(), login(session_id=session.session_id), True, 1.0)
    assert any(isinstance(e, LoggedIn) for e in events)
    assert first.was_displaced and first.session is None
    assert second.session is session and session.stream is second


@pytest.mark.parametrize("verified", [False, True])
def test_answer_refuses(verified: bool) -> None:
    g = gate()
    stream = Stream()
    request = login(session_id="abc9999") if verified else login(password="no")
    (ended,) = [
        e for e in g.answer(stream, core(), request, verified, 0.0) if isinstance(e, SessionEnded)
    ]
    expected = eto_pb2.LOGOUT_UNKNOWN_SESSION if verified else eto_pb2.LOGOUT_UNAUTHORISED
    assert ended.reason == expected and stream.session is None and len(g.registry) == 0
