"""ReconnectPolicy and the Session's reconnect-and-resume, on an in-memory server.

The transport is the loopback of ``conftest.py`` (a server-role SessionCore, no socket)
with a fake clock, made able to fail: a connection that resets, writes that fail, a peer
that goes silent, connects that are refused.
"""

from __future__ import annotations

import logging
import random

import pytest
from conftest import PASSWORD, USERNAME, FakeClock, Loopback

import smarkets
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import LoggedIn, Received, is_session_level
from smarkets.reconnect import ConnectionEvent, ConnectionState, ReconnectPolicy

CS = ConnectionState


class FaultyLoopback(Loopback):
    """The loopback server, with faults on demand."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        #: The next read finds the connection reset.
        self.reset_pending = False
        #: Writes fail (and the connection is then closed).
        self.writes_fail = False
        #: The server says nothing and hears nothing on the current connection.
        self.silent = False
        #: Connects refused before one succeeds.
        self.refuse_connects = 0

    def drop(self) -> None:
        """The connection fails under the client; it notices at its next read."""
        self.reset_pending = True

    def connect(self) -> None:
        if self.refuse_connects:
            self.refuse_connects -= 1
            raise smarkets.ConnectError("loopback refused", "loopback", 3701)
        self.silent = False
        self.reset_pending = False
        super().connect()

    def send_data(self, data: bytes) -> None:
        if self.connected and self.writes_fail:
            self.connected = False
            raise smarkets.ConnectionClosed("loopback reset while writing")
        if self.connected and self.silent:
            self.writes += 1
            return
        super().send_data(data)

    def send(self, payload: seto_pb2.Payload) -> int:
        """Make the server send ``payload`` (lost if the connection is down or silent)."""
        seq = self.core.send(payload, self.clock())
        out = self.core.payloads_to_send()
        if self.connected and not self.silent and not self.reset_pending:
            self.inbox.extend(out)
        return seq

    def wait_readable(self, timeout: float | None) -> bool:
        if self.reset_pending:
            return True
        if self.silent and self.connected:
            self.clock.advance(timeout if timeout is not None else 3600)
            return False
        return super().wait_readable(timeout)

    def recv_data(self) -> bytes:
        if self.reset_pending:
            self.reset_pending = False
            self.connected = False
            raise smarkets.ConnectionClosed("loopback reset")
        return super().recv_data()

    def app_received(self) -> list[int]:
        """Market numbers of the application payloads the server got, in order."""
        return [
            e.payload.market_state.market.low
            for e in self.events
            if isinstance(e, Received) and not is_session_level(e.payload)
        ]


def market_state(n: int) -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)
    payload.market_state.market.low = n
    payload.market_state.state = seto_pb2.MARKET_STATUS_OPEN
    return payload


def markets(events: list) -> list[int]:
    return [
        e.payload.market_state.market.low
        for e in events
        if isinstance(e, Received) and e.payload.type == seto_pb2.PAYLOAD_MARKET_STATE
    ]


@pytest.fixture
def link(clock: FakeClock) -> FaultyLoopback:
    return FaultyLoopback(clock)


@pytest.fixture
def events() -> list[ConnectionEvent]:
    return []


@pytest.fixture
def make(link, clock, events):
    """``make(**policy)``: a Session on the faulty loopback with a policy (fake sleeps)."""

    def make_session(policy: ReconnectPolicy | None = None, **kwargs) -> smarkets.Session:
        settings = smarkets.SessionSettings(
            USERNAME,
            PASSWORD,
            ssl=False,
            socket_timeout=10.0,
            heartbeat_interval=1.0,
            heartbeat_timeout=3.0,
            login_timeout=2.0,
        )
        if policy is None:
            policy = ReconnectPolicy(initial_delay=0.5, jitter=0.0, sleep=clock.advance)
        return smarkets.Session(
            settings,
            transport=link,
            clock=clock,
            reconnect=policy,
            on_connection_event=events.append,
            **kwargs,
        )

    return make_session


def states(events: list[ConnectionEvent]) -> list[tuple[ConnectionState, int]]:
    return [(e.state, e.attempt) for e in events]


# -- the policy ------------------------------------------------------------------------------


def test_delays_grow_and_are_capped() -> None:
    policy = ReconnectPolicy(initial_delay=0.5, max_delay=4.0, multiplier=2.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert policy.base_delay(10_000) == 4.0  # no overflow however many attempts


def test_jitter_takes_off_at_most_its_share_and_is_reproducible() -> None:
    policy = ReconnectPolicy(initial_delay=1.0, max_delay=1.0, jitter=0.25, seed=3)
    first = [policy.delay(1, policy.rng()) for _ in range(3)]
    rng = policy.rng()
    drawn = [policy.delay(1, rng) for _ in range(200)]
    assert all(0.75 <= d <= 1.0 for d in drawn)
    assert len(set(drawn)) > 100
    assert first == [drawn[0]] * 3  # the same seed, the same delays
    assert drawn == [policy.delay(1, r) for r in [policy.rng()] for _ in range(200)]


def test_defaults_are_documented_values() -> None:
    policy = ReconnectPolicy()
    assert (policy.max_attempts, policy.initial_delay, policy.max_delay) == (10, 0.5, 30.0)
    assert (policy.multiplier, policy.jitter) == (2.0, 0.2)
    total = sum(policy.base_delay(n) for n in range(1, 11))
    assert total < 300  # gives up well before the sandbox's default session expiry


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": True},
        {"max_attempts": 1.5},
        {"initial_delay": -1},
        {"initial_delay": 2.0, "max_delay": 1.0},
        {"multiplier": 0.5},
        {"jitter": 1.5},
        {"jitter": -0.1},
    ],
)
def test_bad_policies_are_refused(kwargs) -> None:
    with pytest.raises(ValueError):
        ReconnectPolicy(**kwargs)


def test_attempts_are_numbered_from_one() -> None:
    with pytest.raises(ValueError):
        ReconnectPolicy().base_delay(0)


def test_event_text_says_what_happened() -> None:
    event = ConnectionEvent(CS.RECONNECTING, "a9999", 2, 0.25, smarkets.ConnectError("refused"))
    assert str(event) == "session a9999: reconnecting, attempt 2 in 0.25s (ConnectError: refused)"


# -- off by default ----------------------------------------------------------------------------


def test_off_by_default_a_drop_is_raised(link, clock) -> None:
    settings = smarkets.SessionSettings(USERNAME, PASSWORD, ssl=False, socket_timeout=5.0)
    session = smarkets.Session(settings, transport=link, clock=clock)
    assert session.reconnect_policy is None
    session.login()
    link.drop()
    with pytest.raises(smarkets.ConnectionClosed):
        session.read_events()
    assert link.connects == 1
    with pytest.raises(smarkets.NotLoggedInError):
        session.send(market_state(1))


# -- resuming ------------------------------------------------------------------------------------


def test_a_dropped_connection_is_resumed_and_nothing_is_lost(make, link, events) -> None:
    session = make()
    session.login()
    assert states(events) == []  # the script's own login is not an event
    link.send(market_state(1))
    assert markets(session.read_events()) == [1]
    link.drop()
    link.send(market_state(2))  # lost on the way: the server keeps it for replay
    link.send(market_state(3))
    resumed = session.read_events()
    assert any(isinstance(e, LoggedIn) for e in resumed)
    assert session.logged_in and link.connects == 2
    got = markets(resumed)
    while len(got) < 2:
        got += markets(session.read_events())
    assert got == [2, 3]  # once each, in order
    assert states(events) == [(CS.DISCONNECTED, 0), (CS.RECONNECTING, 1), (CS.CONNECTED, 1)]
    assert isinstance(events[0].error, smarkets.ConnectionClosed)
    assert events[1].delay == 0.5
    assert {e.session_id for e in events} == {session.session}


def test_what_is_sent_while_down_reaches_the_server_after_the_resume(make, link, events) -> None:
    session = make()
    session.login()
    session.send(market_state(1))
    link.writes_fail = True
    assert session.send(market_state(2)) == 3  # the write fails: kept, no error
    link.writes_fail = False
    assert not session.logged_in
    assert session.send_all([market_state(3), market_state(4)]) == [4, 5]  # numbered, kept
    session.read_events()  # reconnects; the server asks for 2..4 and gets them
    for _ in range(3):
        session.read_events(timeout=0)
    assert link.app_received() == [1, 2, 3, 4]
    assert [e.state for e in events][:1] == [CS.DISCONNECTED]


def test_smarkets_flush_while_down_is_not_an_error(make, link) -> None:
    client = smarkets.Smarkets(make())
    client.login()
    link.writes_fail = True
    client.queue(market_state(7))
    client.flush()
    link.writes_fail = False
    client.queue(market_state(8))
    assert client.flush() == [3]
    link.send(market_state(9))
    got = []
    client.add_handler("seto.market_state", lambda m: got.append(m.market.low))
    for _ in range(10):
        if got:
            break
        client.read(1)  # the resume's login response, then the replayed payload
    assert got == [9]
    assert link.app_received() == [7, 8]


def test_a_heartbeat_timeout_is_resumed(make, link, events) -> None:
    session = make()
    session.login()
    link.silent = True  # the server stops talking and listening on this connection
    resumed = session.read_events()
    assert [e.state for e in events] == [CS.DISCONNECTED, CS.RECONNECTING, CS.CONNECTED]
    assert isinstance(events[0].error, smarkets.HeartbeatTimeoutError)
    assert any(isinstance(e, LoggedIn) for e in resumed)
    assert session.logged_in


def test_an_unanswered_login_is_retried(make, link, events) -> None:
    session = make()
    session.login()
    link.drop()
    original = link.connect

    def connect_silently() -> None:
        original()
        link.silent = link.connects == 2  # the first attempt's login is never answered

    link.connect = connect_silently
    session.read_events()
    assert states(events) == [
        (CS.DISCONNECTED, 0),
        (CS.RECONNECTING, 1),
        (CS.RECONNECTING, 2),
        (CS.CONNECTED, 2),
    ]
    assert isinstance(events[2].error, smarkets.LoginTimeoutError)
    assert session.logged_in


def test_the_servers_resumable_logout_is_resumed(make, link, clock, events) -> None:
    session = make()
    session.login()
    link.core.logout(clock(), eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT)
    link.inbox.extend(link.core.payloads_to_send())
    (logout,) = session.read_events()  # the server's LOGOUT first, then its end
    assert logout.payload.eto_payload.type == eto_pb2.PAYLOAD_LOGOUT and events == []
    session.read_events()
    assert [e.state for e in events] == [CS.DISCONNECTED, CS.RECONNECTING, CS.CONNECTED]
    error = events[0].error
    assert isinstance(error, smarkets.HeartbeatTimeoutError) and error.by_peer
    assert session.logged_in and link.connects == 2


def test_gives_up_after_max_attempts_and_raises_the_last_error(link, clock, make, events) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    policy = ReconnectPolicy(max_attempts=3, initial_delay=1.0, jitter=0.0, sleep=sleep)
    session = make(policy)
    session.login()
    link.drop()
    link.refuse_connects = 99
    with pytest.raises(smarkets.ConnectError, match="refused"):
        session.read_events()
    assert slept == [1.0, 2.0, 4.0]
    assert states(events)[-1] == (CS.GAVE_UP, 3)
    assert isinstance(events[-1].error, smarkets.ConnectError)
    # Still resumable: once the server is back, the next read (or login) resumes.
    link.refuse_connects = 0
    session.read_events()
    assert session.logged_in and states(events)[-1] == (CS.CONNECTED, 1)


def test_unlimited_attempts(link, clock, make) -> None:
    session = make(ReconnectPolicy(max_attempts=None, initial_delay=0.1, sleep=clock.advance))
    session.login()
    link.drop()
    link.refuse_connects = 50
    session.read_events()
    assert session.logged_in and link.connects == 2


# -- final ends ------------------------------------------------------------------------------------


def test_an_expired_session_is_reported_and_a_new_one_can_start(make, link, events, tmp_path):
    store = smarkets.FileStateStore(tmp_path / "s.json")
    session = make(state_store=store)
    session.login()
    first = session.session
    link.drop()
    link.refuse = eto_pb2.LOGOUT_UNKNOWN_SESSION  # as a server whose session expired
    (refusal,) = session.read_events()  # the server's LOGOUT first, then its end
    assert refusal.payload.eto_payload.logout.reason == eto_pb2.LOGOUT_UNKNOWN_SESSION
    with pytest.raises(smarkets.UnknownSessionError, match="UNKNOWN_SESSION") as caught:
        session.read_events()
    assert not caught.value.resumable
    assert "not resumable" in str(caught.value)
    assert states(events)[-1] == (CS.ENDED, 1)
    assert store.load() is None
    with pytest.raises(smarkets.NotLoggedInError, match="ended"):
        session.read_events()  # no reconnecting a session that is over
    link.refuse = None
    session.reset()
    session.login()
    assert session.session != first
    assert link.received[-1].eto_payload.seq == 1  # a new session starts at seq 1


def test_a_final_logout_is_not_retried(make, link, clock, events) -> None:
    session = make()
    session.login()
    link.core.logout(clock(), eto_pb2.LOGOUT_DOWNTIME)
    link.inbox.extend(link.core.payloads_to_send())
    session.read_events()  # the server's LOGOUT
    with pytest.raises(smarkets.LoggedOutError, match="DOWNTIME"):
        session.read_events()
    assert link.connects == 1
    assert states(events) == [(CS.ENDED, 0)]


def test_a_refused_login_is_not_retried(make, link, events) -> None:
    session = make()
    session.login()
    link.drop()
    link.refuse = eto_pb2.LOGOUT_UNAUTHORISED
    session.read_events()  # the server's LOGOUT
    with pytest.raises(smarkets.LoginError):
        session.read_events()
    assert states(events)[-1] == (CS.ENDED, 1)
    assert link.connects == 2


def test_disconnect_means_stay_disconnected(make, link) -> None:
    session = make()
    session.login()
    session.disconnect()
    with pytest.raises(smarkets.NotLoggedInError):
        session.read_events()
    with pytest.raises(smarkets.NotLoggedInError):
        session.send(market_state(1))
    assert link.connects == 1
    session.login()  # resumes, and reconnecting is on again
    link.drop()
    session.read_events()
    assert session.logged_in and link.connects == 3


def test_a_read_timeout_is_not_a_failure(make, link) -> None:
    session = make()
    session.login()
    with pytest.raises(smarkets.SocketTimeout):
        link_silence_shorter_than_the_heartbeat_timeout(session)
    assert link.connects == 1 and session.logged_in


def link_silence_shorter_than_the_heartbeat_timeout(session: smarkets.Session) -> None:
    session.settings.socket_timeout = 0.5  # well under the heartbeat interval
    session.read_events()


def test_reconnect_without_a_policy_makes_one_attempt(link, clock) -> None:
    settings = smarkets.SessionSettings(USERNAME, PASSWORD, ssl=False, socket_timeout=5.0)
    session = smarkets.Session(settings, transport=link, clock=clock)
    session.login()
    link.drop()
    with pytest.raises(smarkets.ConnectionClosed):
        session.read_events()
    link.refuse_connects = 1
    with pytest.raises(smarkets.ConnectError):
        session.reconnect()
    events = session.reconnect()
    assert isinstance(events[-1], LoggedIn) and session.logged_in


def test_a_listener_that_raises_does_not_stop_the_resume(make, link, caplog) -> None:
    def listener(event: ConnectionEvent) -> None:
        raise RuntimeError("listener bug")

    session = make()
    session.on_connection_event = listener
    session.login()
    link.drop()
    with caplog.at_level(logging.ERROR, logger="smarkets.session"):
        session.read_events()
    assert session.logged_in
    assert "listener raised" in caplog.text


def test_jitter_is_drawn_from_the_seed(link, clock, make, events) -> None:
    policy = ReconnectPolicy(initial_delay=1.0, jitter=0.5, seed=11, sleep=clock.advance)
    session = make(policy)
    session.login()
    for _ in range(3):
        link.drop()
        session.read_events()
    delays = [e.delay for e in events if e.state is CS.RECONNECTING]
    rng = random.Random(11)
    assert delays == [1.0 * (1 - 0.5 * rng.random()) for _ in range(3)]


def test_the_reliability_page_names_tests_that_exist() -> None:
    """docs/reliability.rst says which test proves each guarantee: those tests exist."""
    import re
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    page = (tests.parent / "docs" / "reliability.rst").read_text(encoding="utf-8")
    named = set(re.findall(r"``(?:tests/[\w/]+\.py::)?(test_\w+)``", page))
    assert len(named) >= 15
    defined = {
        name
        for path in tests.rglob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M)
    }
    assert named <= defined, sorted(named - defined)
    for path in re.findall(r"``(tests/[\w/]+\.py)", page):
        assert (tests.parent / path).is_file(), path
