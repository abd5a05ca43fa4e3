"""Unit tests of Session: the shell around SessionCore, on an in-memory transport."""

from __future__ import annotations

import pytest
from conftest import PASSWORD, USERNAME

import smarkets
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import SessionEnded, session_payload
from smarkets.protocol.extensions import EXTENSIONS_VERSION
from smarkets.session import LoggedIn, Received, State, error_for_end


def market_state(n: int) -> seto_pb2.Payload:
    p = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)
    p.market_state.market.low = n
    p.market_state.state = seto_pb2.MARKET_STATUS_OPEN
    return p


def test_new_session_logs_in_with_the_credentials(make_session, loopback) -> None:
    session = make_session()
    assert (session.session, session.inseq, session.outseq) == (None, 1, 1)
    assert session.state is State.AWAITING_LOGIN
    events = session.login()
    assert [type(e) for e in events] == [Received, LoggedIn]
    login = loopback.received[0]
    assert login.type == seto_pb2.PAYLOAD_LOGIN
    assert login.eto_payload.type == eto_pb2.PAYLOAD_LOGIN
    assert (login.login.username, login.login.password) == (USERNAME, PASSWORD)
    assert not login.eto_payload.login.session
    assert session.logged_in
    assert session.state is State.LOGGED_IN
    assert (session.session, session.inseq, session.outseq) == ("19999", 2, 2)
    assert session.login() == []  # already logged in


def test_cookie_is_sent(make_session, loopback) -> None:
    settings = smarkets.SessionSettings(USERNAME, cookie=b"token", ssl=False)
    make_session(settings=settings).login()
    login = loopback.received[0].login
    assert login.cookie == b"token"
    assert not login.HasField("password")


def test_missing_credentials_refused_before_connecting(make_session, loopback) -> None:
    session = make_session(settings=smarkets.SessionSettings(USERNAME, ssl=False))
    with pytest.raises(smarkets.SettingsError, match="password or a cookie"):
        session.login()
    assert loopback.connects == 0


def test_send_numbers_and_writes_at_once(make_session, loopback) -> None:
    session = make_session()
    session.login()
    assert session.send(market_state(1)) == 2
    assert session.send_all([market_state(2), market_state(3)]) == [3, 4]
    assert [p.eto_payload.seq for p in loopback.received] == [1, 2, 3, 4]
    assert loopback.writes == 3  # one write per call
    assert session.outseq == 5


def test_send_needs_a_login(make_session) -> None:
    session = make_session()
    with pytest.raises(smarkets.NotLoggedInError, match="login"):
        session.send(market_state(1))
    with pytest.raises(smarkets.NotLoggedInError):
        session.read_events()


def test_events_behind_the_login_response_wait_for_the_next_read(make_session, loopback) -> None:
    session = make_session()
    # Make the server send a payload in the same batch as its login response.
    original = loopback.send_data

    def send_data(data):
        original(data)
        if loopback.core.state is State.LOGGED_IN and loopback.core.outseq == 2:
            loopback.send(market_state(9))

    loopback.send_data = send_data
    session.login()
    assert session.pending_events == 1
    (event,) = session.read_events(timeout=0)
    assert event.payload.market_state.market.low == 9


def test_read_timeouts(make_session, clock) -> None:
    session = make_session()
    session.login()
    assert session.read_events(timeout=0) == []
    assert session.read_events(timeout=1.0) == []
    before = clock()
    with pytest.raises(smarkets.SocketTimeout, match="loopback:3701") as caught:
        session.read_events()
    assert isinstance(caught.value, TimeoutError)
    assert clock() - before >= 5.0


def test_heartbeat_sent_while_waiting(make_session, loopback) -> None:
    settings = smarkets.SessionSettings(
        USERNAME, PASSWORD, ssl=False, heartbeat_interval=2.0, heartbeat_timeout=100.0
    )
    session = make_session(settings=settings)
    session.login()
    assert session.read_events(timeout=5.0) == []
    beats = [p for p in loopback.received if p.eto_payload.type == eto_pb2.PAYLOAD_HEARTBEAT]
    assert len(beats) == 2


def test_heartbeat_timeout_raises_and_stays_resumable(make_session, loopback) -> None:
    settings = smarkets.SessionSettings(
        USERNAME, PASSWORD, ssl=False, heartbeat_interval=2.0, heartbeat_timeout=5.0
    )
    session = make_session(settings=settings)
    session.login()
    with pytest.raises(smarkets.HeartbeatTimeoutError) as caught:
        session.read_events(timeout=60.0)
    assert caught.value.resumable and not caught.value.by_peer
    last = loopback.received[-1].eto_payload
    assert last.logout.reason == eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT
    assert not loopback.connected
    session.login()  # resumes
    logins = [p for p in loopback.received if p.type == seto_pb2.PAYLOAD_LOGIN]
    assert logins[-1].eto_payload.login.session == "19999"
    assert session.logged_in


def test_server_logout_is_raised_after_the_events_before_it(make_session, loopback) -> None:
    session = make_session()
    session.login()
    loopback.send(market_state(1))
    loopback.core.logout(loopback.clock(), eto_pb2.LOGOUT_DOWNTIME)
    loopback.inbox.extend(loopback.core.payloads_to_send())
    # What came before the end first: the end travels after the payloads, not with them.
    events = session.read_events()
    names = [e.payload.eto_payload.type for e in events]
    assert names == [eto_pb2.PAYLOAD_NONE, eto_pb2.PAYLOAD_LOGOUT]
    assert not session.logged_in
    with pytest.raises(smarkets.LoggedOutError) as caught:
        session.read_events()
    error = caught.value
    assert (error.reason, error.reason_name) == (eto_pb2.LOGOUT_DOWNTIME, "LOGOUT_DOWNTIME")
    assert not error.resumable
    # The client confirmed, and the ended session is not resumed by the next login.
    assert loopback.received[-1].eto_payload.logout.reason == eto_pb2.LOGOUT_CONFIRMATION
    with pytest.raises(smarkets.NotLoggedInError, match="ended"):
        session.read_events()
    session.login()
    assert session.session == "29999"


def test_logout_is_quiet_and_final(make_session, loopback, tmp_path) -> None:
    store = smarkets.FileStateStore(tmp_path / "s.json")
    session = make_session(state_store=store)
    session.login()
    assert store.load() is not None
    session.logout()
    assert not session.logged_in
    assert session.state is State.CLOSED
    assert store.load() is None
    assert loopback.received[-1].eto_payload.type == eto_pb2.PAYLOAD_LOGOUT
    assert session.logout() == []  # twice is harmless


def test_logout_returns_the_confirmation(make_session) -> None:
    session = make_session()
    session.login()
    (event,) = session.logout()
    assert event.payload.eto_payload.logout.reason == eto_pb2.LOGOUT_CONFIRMATION


def test_disconnect_then_login_resumes(make_session, loopback) -> None:
    session = make_session()
    session.login()
    session.send(market_state(1))
    session.disconnect()
    assert not session.logged_in
    assert session.state is State.CLOSED
    numbers = (session.session, session.inseq, session.outseq)
    session.login()
    login = loopback.received[-1]
    assert login.eto_payload.login.session == numbers[0]
    assert login.eto_payload.seq == numbers[2]
    assert loopback.connects == 2


def test_new_session_after_an_unanswered_login(make_session, loopback) -> None:
    settings = smarkets.SessionSettings(USERNAME, PASSWORD, ssl=False, login_timeout=1.0)
    session = make_session(settings=settings)
    loopback.refuse = None
    original = loopback.send_data
    loopback.send_data = lambda data: None  # the server never answers
    with pytest.raises(smarkets.LoginTimeoutError):
        session.login()
    loopback.send_data = original
    session.login()  # a new session again logs in with seq 1
    assert loopback.received[-1].eto_payload.seq == 1


def test_refused_login(make_session, loopback) -> None:
    loopback.refuse = eto_pb2.LOGOUT_UNAUTHORISED
    session = make_session()
    with pytest.raises(smarkets.LoginError, match="LOGOUT_UNAUTHORISED") as caught:
        session.login()
    assert not caught.value.resumable
    assert not session.logged_in


def test_state_store_loaded_and_saved(make_session, loopback, tmp_path) -> None:
    store = smarkets.FileStateStore(tmp_path / "s.json")
    session = make_session(state_store=store)
    session.login()
    assert store.load() == smarkets.SavedSession("19999", 2, 2)
    session.send(market_state(1))
    assert store.load() == smarkets.SavedSession("19999", 2, 3)
    session.disconnect()
    again = make_session(state_store=store)
    assert (again.session, again.inseq, again.outseq) == ("19999", 2, 3)
    explicit = make_session("other9999", 4, 5, state_store=store)
    assert (explicit.session, explicit.inseq, explicit.outseq) == ("other9999", 4, 5)


def test_new_session_must_start_at_one(make_session) -> None:
    with pytest.raises(ValueError, match="session_id"):
        make_session(None, 3, 4)


def test_server_replay_answered_at_once(make_session, loopback) -> None:
    session = make_session()
    session.login()
    session.send(market_state(1))
    replay = session_payload(eto_pb2.PAYLOAD_REPLAY)
    replay.eto_payload.replay.seq = 2
    loopback.send(replay)
    (event,) = session.read_events(timeout=0)
    assert event.payload.eto_payload.type == eto_pb2.PAYLOAD_REPLAY
    again = loopback.received[-1]
    assert again.eto_payload.is_replay and again.eto_payload.seq == 2
    assert again.market_state.market.low == 1


@pytest.mark.parametrize(
    ("reason", "cls", "resumable"),
    [
        (eto_pb2.LOGOUT_UNAUTHORISED, smarkets.LoginError, False),
        (eto_pb2.LOGOUT_UNKNOWN_SESSION, smarkets.UnknownSessionError, False),
        (eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT, smarkets.HeartbeatTimeoutError, True),
        (eto_pb2.LOGOUT_LOGIN_TIMEOUT, smarkets.LoginTimeoutError, True),
        (eto_pb2.LOGOUT_DOWNTIME, smarkets.DowntimeError, False),
        (eto_pb2.LOGOUT_INVALID_PAYLOAD, smarkets.PayloadRejectedError, False),
        (eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD, smarkets.PayloadRejectedError, False),
        (eto_pb2.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE, smarkets.LoggedOutError, False),
        (eto_pb2.LOGOUT_NONE, smarkets.LoggedOutError, False),
        (99, smarkets.LoggedOutError, False),
    ],
)
def test_error_for_end(reason: int, cls: type, resumable: bool) -> None:
    error = error_for_end(SessionEnded(reason, by_peer=True), "host:1")
    assert type(error) is cls
    assert error.reason == reason
    assert error.resumable == resumable
    assert "host:1" in str(error)
    assert error.reason_name in str(error)


def test_repr_shows_numbers_not_secrets(make_session) -> None:
    session = make_session()
    session.login()
    text = repr(session)
    assert "inseq=2" in text and "19999" in text
    assert PASSWORD not in text


def test_reset_forgets_the_session(make_session, loopback, tmp_path) -> None:
    store = smarkets.FileStateStore(tmp_path / "s.json")
    session = make_session(state_store=store)
    session.login()
    with pytest.raises(smarkets.Error, match="disconnect"):
        session.reset()
    session.disconnect()
    session.reset()
    assert (session.session, session.inseq, session.outseq) == (None, 1, 1)
    assert store.load() is None
    session.login()
    assert session.session == "29999"


@pytest.mark.parametrize(
    ("grant", "told"), [(1, eto_pb2.LOGOUT_INVALID_PAYLOAD), (0, eto_pb2.LOGOUT_NONE)]
)
def test_an_undecodable_payload_is_answered_by_logout_before_closing(
    make_session, loopback, tmp_path, grant: int, told: int
) -> None:
    loopback.grant = grant
    store = smarkets.FileStateStore(tmp_path / "s.json")
    session = make_session(state_store=store)
    session.login()
    loopback.inbox.append(b"\xff\xff\xff")  # not a seto.Payload
    with pytest.raises(smarkets.ProtocolError, match="undecodable"):
        session.read_events(timeout=0)
    logout = loopback.received[-1].eto_payload
    assert logout.type == eto_pb2.PAYLOAD_LOGOUT and logout.logout.reason == told
    assert not loopback.connected
    # A session ended by logout cannot be resumed: the next login starts a new one.
    assert store.load() is None
    session.login()
    assert session.session == "29999"


def test_a_payload_lacking_required_fields_is_answered_by_logout(make_session, loopback) -> None:
    session = make_session()
    session.login()
    bad = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_ACCEPTED)
    bad.eto_payload.seq = 2
    bad.order_accepted.seq = 1  # no order id: a required field is missing
    loopback.inbox.append(bad.SerializePartialToString())
    with pytest.raises(smarkets.ProtocolError, match="required"):
        session.read_events(timeout=0)
    assert loopback.received[-1].eto_payload.logout.reason == eto_pb2.LOGOUT_INVALID_PAYLOAD


def test_extensions_granted_at_login(make_session, loopback) -> None:
    session = make_session()
    assert session.extensions is None
    session.login()
    assert loopback.received[0].login.extensions == EXTENSIONS_VERSION
    assert session.extensions == EXTENSIONS_VERSION
    session.require_extensions("anything")
    session.disconnect()
    loopback.grant = 0
    session.login()  # a resume: granted again at each login
    assert session.extensions == 0
    with pytest.raises(smarkets.ExtensionNotGrantedError, match="cancel_all"):
        session.require_extensions("cancel_all")


def test_a_read_takes_at_most_limit_events_and_the_rest_wait(make_session, loopback) -> None:
    session = make_session()
    session.login()
    for n in range(5):
        loopback.send(market_state(n))
    first = session.read_events(limit=2)
    assert [e.payload.market_state.market.low for e in first] == [0, 1]
    assert session.pending_events == 3
    assert [e.payload.market_state.market.low for e in session.read_pending(1)] == [2]
    session.unread(first[1:])  # given back: read again first
    rest = session.read_events()
    assert [e.payload.market_state.market.low for e in rest] == [1, 3, 4]
    assert session.read_pending() == []  # nothing waits


def test_the_end_is_raised_after_every_event_before_it(make_session, loopback) -> None:
    session = make_session()
    session.login()
    loopback.send(market_state(1))
    loopback.core.logout(loopback.clock(), eto_pb2.LOGOUT_DOWNTIME)
    loopback.inbox.extend(loopback.core.payloads_to_send())
    (first,) = session.read_events(limit=1)
    assert first.payload.market_state.market.low == 1
    assert session.ending  # known, and raised once the rest is read
    (logout,) = session.read_events(limit=1)
    assert logout.payload.eto_payload.logout.reason == eto_pb2.LOGOUT_DOWNTIME
    with pytest.raises(smarkets.DowntimeError):
        session.read_events(limit=1)
