"""Unit tests of :mod:`smarkets.protocol.core`, the session rules of PROTOCOL.md §4.

No sockets and no clock, in the style of h11's tests: a client and a server talk through a
:class:`~smarkets.protocol.testing.ConnectedPair` (a pair of
:class:`~smarkets.protocol.connection.Connection` objects joined in memory, which moves one
side's bytes to the other and logs every payload that crossed), and single cores are fed
hand-built payloads with ``receive_payloads()``.  Every call gets an explicit, fake
``now`` (a pair's is ``pair.now``).

Frames and events are compared through small tuple summaries (:func:`kind` and
:func:`summary`) so that every assertion names exact seqs, types and reasons.

The tests at the end of the module were written as failing tests for bugs found
in the core; they now guard against those bugs coming back.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import event as hypothesis_event
from hypothesis import given, settings
from hypothesis import strategies as st

from smarkets.errors import ProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HEARTBEAT_TIMEOUT,
    DEFAULT_LOGIN_TIMEOUT,
    Event,
    LoggedIn,
    LoginRequested,
    Received,
    ReplayStore,
    Role,
    SessionCore,
    SessionEnded,
    SessionState,
    State,
    is_session_level,
    logout_reason_name,
    session_payload,
)
from smarkets.protocol.framing import encode_frames
from smarkets.protocol.testing import ConnectedPair
from smarkets.redact import redacted_text as describe

Payload = seto_pb2.Payload

# ---------------------------------------------------------------------------
# Helpers

T0 = 1000.0  # not 0, so that a core mixing up "now" and "elapsed" shows
INTERVAL = DEFAULT_HEARTBEAT_INTERVAL
TIMEOUT = DEFAULT_HEARTBEAT_TIMEOUT
LOGIN_TIMEOUT = DEFAULT_LOGIN_TIMEOUT
SID = "9999-session-1"
CREDS = seto_pb2.Login(username="alice", password="hunter2")
MAX_U64 = 2**64 - 1

PING = eto_pb2.PAYLOAD_PING
PONG = eto_pb2.PAYLOAD_PONG
GAPFILL = eto_pb2.PAYLOAD_GAPFILL
HEARTBEAT = eto_pb2.PAYLOAD_HEARTBEAT
REPLAY = eto_pb2.PAYLOAD_REPLAY
LOGIN_RESPONSE = eto_pb2.PAYLOAD_LOGIN_RESPONSE
LOGOUT = eto_pb2.PAYLOAD_LOGOUT
THROTTLE = eto_pb2.PAYLOAD_THROTTLE_EXCEEDED

_ETO_NAMES = {value: name.removeprefix("PAYLOAD_") for name, value in eto_pb2.PayloadType.items()}
_REASON_NAMES = {
    value: name.removeprefix("LOGOUT_") for name, value in eto_pb2.LogoutReason.items()
}


def reason_name(reason: int) -> str | int:
    return _REASON_NAMES.get(reason, reason)


def app(tag: int) -> Payload:
    """An application payload (a market subscription) recognisable by ``tag``."""
    payload = Payload(type=seto_pb2.PAYLOAD_MARKET_SUBSCRIBE)
    payload.market_subscribe.market.low = tag
    return payload


def app_frame(seq: int, tag: int | None = None, *, is_replay: bool = False) -> bytes:
    """The bytes of an application payload with eto ``seq`` (tag defaults to the seq)."""
    payload = app(seq if tag is None else tag)
    payload.eto_payload.seq = seq
    payload.eto_payload.type = eto_pb2.PAYLOAD_NONE
    if is_replay:
        payload.eto_payload.is_replay = True
    return payload.SerializeToString()


def eto_frame(
    eto_type: int,
    seq: int,
    *,
    is_replay: bool = False,
    replay: int | None = None,
    reason: int | None = None,
    session: str | None = None,
    reset: int | None = None,
) -> bytes:
    """The bytes of a session-only payload (seto type ETO)."""
    payload = session_payload(eto_type)
    eto = payload.eto_payload
    eto.seq = seq
    if is_replay:
        eto.is_replay = True
    if replay is not None:
        eto.replay.seq = replay
    if reason is not None:
        eto.logout.reason = reason
    if session is not None:
        eto.login_response.session = session
    if reset is not None:
        eto.login_response.reset = reset
    return payload.SerializeToString()


def lr_frame(seq: int, session: str = SID, reset: int | None = None) -> bytes:
    return eto_frame(LOGIN_RESPONSE, seq, session=session, reset=reset)


def logout_frame(seq: int, reason: int = eto_pb2.LOGOUT_NONE) -> bytes:
    return eto_frame(LOGOUT, seq, reason=reason)


def login_frame(seq: int, session: str | None = None) -> bytes:
    """A client's login, as :meth:`SessionCore.login` builds it."""
    payload = Payload(type=seto_pb2.PAYLOAD_LOGIN)
    payload.login.CopyFrom(CREDS)
    payload.eto_payload.seq = seq
    payload.eto_payload.type = eto_pb2.PAYLOAD_LOGIN
    if session is not None:
        payload.eto_payload.login.session = session
    return payload.SerializeToString()


def parse(frame: bytes) -> Payload:
    return Payload.FromString(frame)


def kind(item: bytes | Payload) -> tuple:
    """A payload as a tuple: ``("APP", seq, tag)``, ``("REPLAY", seq, from)``, …

    Replayed copies end with ``"replay"``.
    """
    payload = parse(item) if isinstance(item, bytes) else item
    eto = payload.eto_payload
    seq = eto.seq
    if payload.type == seto_pb2.PAYLOAD_LOGIN:
        out: tuple = ("LOGIN", seq, eto.login.session if eto.HasField("login") else None)
    elif payload.type != seto_pb2.PAYLOAD_ETO:
        out = ("APP", seq, payload.market_subscribe.market.low)
    else:
        name = _ETO_NAMES.get(eto.type, eto.type)
        if eto.type == REPLAY:
            out = (name, seq, eto.replay.seq)
        elif eto.type == LOGOUT:
            out = (name, seq, reason_name(eto.logout.reason))
        elif eto.type == LOGIN_RESPONSE:
            resp = eto.login_response
            out = (name, seq, resp.session, resp.reset if resp.HasField("reset") else None)
        else:
            out = (name, seq)
    return (*out, "replay") if eto.is_replay else out


def kinds(frames: Iterable[bytes]) -> list[tuple]:
    return [kind(frame) for frame in frames]


def summary(events: Iterable[Event]) -> list[tuple]:
    """Events as tuples: ``("Received", *kind)``, ``("LoggedIn", id, reset)``, …"""
    out: list[tuple] = []
    for event in events:
        if isinstance(event, Received):
            out.append(("Received", *kind(event.payload)))
        elif isinstance(event, LoggedIn):
            out.append(("LoggedIn", event.session_id, event.reset))
        elif isinstance(event, LoginRequested):
            out.append(("LoginRequested", event.session_id, event.seq))
        elif isinstance(event, SessionEnded):
            out.append(("SessionEnded", reason_name(event.reason), event.by_peer))
        else:  # pragma: no cover - the core returned something unknown
            raise AssertionError(f"unknown event {event!r}")
    return out


def received_apps(events: Iterable[Event]) -> list[tuple[int, int]]:
    """``(seq, tag)`` of every application payload delivered, in order."""
    return [
        (e.payload.eto_payload.seq, e.payload.market_subscribe.market.low)
        for e in events
        if isinstance(e, Received) and not is_session_level(e.payload)
    ]


def new_pair(
    now: float = T0, *, client_state: SessionState | None = None, **timing: float
) -> ConnectedPair:
    """A client and a server connection joined in memory, neither logged in."""
    return ConnectedPair(now=now, client_state=client_state or SessionState(), **timing)


def wire(pair: ConnectedPair) -> list[tuple[str, tuple]]:
    """Every payload that crossed ``pair``, as ``("c>s" | "s>c", kind)``."""
    return [(direction, kind(payload)) for direction, payload in pair.wire]


def forget(pair: ConnectedPair) -> None:
    """Clear the pair's logs (after the handshake, say)."""
    pair.wire.clear()
    pair.client_events.clear()
    pair.server_events.clear()


def connect(
    now: float = T0,
    *,
    client_state: SessionState | None = None,
    server_state: SessionState | None = None,
    **timing: float,
) -> ConnectedPair:
    """A logged-in pair (new session ``SID`` unless states are given); logs cleared."""
    pair = new_pair(now, client_state=client_state, **timing)
    pair.client.login(CREDS, now)
    [requested] = summary(pair.to_server())
    assert requested[0] == "LoginRequested"
    pair.server.accept_login(server_state or SessionState(session_id=SID), now)
    pair.settle()
    assert pair.client.state is State.LOGGED_IN
    assert pair.server.state is State.LOGGED_IN
    forget(pair)
    return pair


def logged_in_client(now: float = T0, **timing: float) -> SessionCore:
    """A client answered by a hand-built LOGIN_RESPONSE (seq 1, reset 2): inseq 2, outseq 2."""
    client = SessionCore(Role.CLIENT, SessionState(), now=now, **timing)
    client.login(CREDS, now)
    client.payloads_to_send()
    client.receive_payloads([lr_frame(1, SID, 2)], now)
    assert client.state is State.LOGGED_IN
    assert (client.inseq, client.outseq) == (2, 2)
    return client


def logged_in_server(
    now: float = T0, state: SessionState | None = None, **timing: float
) -> SessionCore:
    """A server that accepted a hand-built new-session login: inseq 2, outseq 2."""
    server = SessionCore(Role.SERVER, now=now, **timing)
    server.receive_payloads([login_frame(1)], now)
    server.accept_login(state or SessionState(session_id=SID), now)
    server.payloads_to_send()
    assert (server.inseq, server.outseq) == (2, 2)
    return server


ALL_REASONS = sorted(eto_pb2.LogoutReason.values())


# ---------------------------------------------------------------------------
# Small pieces: helpers of the module, ReplayStore, SessionState, constructor


def test_is_session_level() -> None:
    assert is_session_level(session_payload(HEARTBEAT))
    assert is_session_level(Payload(type=seto_pb2.PAYLOAD_LOGIN))
    assert not is_session_level(app(1))
    assert not is_session_level(Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE))
    # eto news for the application is sequenced like an application payload.
    assert not is_session_level(session_payload(eto_pb2.PAYLOAD_DOWNTIME_ALERT))
    assert not is_session_level(session_payload(THROTTLE))


def test_session_payload() -> None:
    payload = session_payload(PING)
    assert payload.type == seto_pb2.PAYLOAD_ETO
    assert payload.eto_payload.type == PING
    assert not payload.eto_payload.HasField("seq")


@pytest.mark.parametrize("reason", ALL_REASONS)
def test_logout_reason_name(reason: int) -> None:
    assert logout_reason_name(reason) == eto_pb2.LogoutReason.Name(reason)


def test_logout_reason_name_unknown_number() -> None:
    assert logout_reason_name(99) == "99"


def test_describe_masks_the_password() -> None:
    payload = parse(login_frame(1))
    text = describe(payload)
    assert "hunter2" not in text
    assert "alice" in text
    # describe leaves the payload itself alone
    assert payload.login.password == "hunter2"


def test_login_requested_repr_hides_the_credentials() -> None:
    server = SessionCore(Role.SERVER, now=T0)
    [event] = server.receive_payloads([login_frame(7, SID)], T0)
    text = repr(event)
    assert text == f"LoginRequested(session_id={SID!r}, seq=7)"
    assert "hunter2" not in text and "alice" not in text


def test_other_event_reprs() -> None:
    assert repr(LoggedIn(SID, 2)) == f"LoggedIn(session_id={SID!r}, reset=2, extensions=0)"
    assert repr(SessionEnded(eto_pb2.LOGOUT_DOWNTIME, by_peer=True)) == (
        f"SessionEnded(reason={eto_pb2.LOGOUT_DOWNTIME}, by_peer=True)"
    )


def test_received_repr_masks_secrets() -> None:
    payload = parse(login_frame(3))
    text = repr(Received(payload))
    assert text.startswith("Received(")
    assert "hunter2" not in text
    assert "alice" in text


def test_replay_store_keeps_everything_by_default() -> None:
    store = ReplayStore()
    assert (len(store), store.first_seq, store.next_seq) == (0, 1, 1)
    store.append(1, None)
    store.append(2, b"two")
    store.append(3, b"three")
    assert (len(store), store.first_seq, store.next_seq) == (3, 1, 4)
    assert list(store.since(1)) == [(1, None), (2, b"two"), (3, b"three")]
    assert list(store.since(3)) == [(3, b"three")]
    assert list(store.since(4)) == []
    # below what is kept: from the oldest kept on
    assert list(store.since(0)) == [(1, None), (2, b"two"), (3, b"three")]


def test_replay_store_limit_drops_the_oldest() -> None:
    store = ReplayStore(limit=2)
    for seq in range(1, 6):
        store.append(seq, bytes([seq]))
    assert (len(store), store.first_seq, store.next_seq) == (2, 4, 6)
    assert list(store.since(1)) == [(4, b"\x04"), (5, b"\x05")]


def test_replay_store_limit_zero_keeps_nothing() -> None:
    store = ReplayStore(limit=0)
    store.append(7, b"x")
    assert (len(store), store.first_seq, store.next_seq) == (0, 8, 8)
    assert list(store.since(1)) == []


def test_replay_store_refuses_a_seq_out_of_turn() -> None:
    store = ReplayStore()
    store.append(5, None)
    with pytest.raises(ValueError, match="expected seq 6, got 8"):
        store.append(8, None)
    with pytest.raises(ValueError):
        store.append(5, None)


def test_replay_store_first_append_sets_the_start_and_clear_resets() -> None:
    store = ReplayStore(first_seq=10)
    assert (store.first_seq, store.next_seq) == (10, 10)
    store.append(12, b"a")  # an empty store takes whatever comes first
    assert (store.first_seq, store.next_seq) == (12, 13)
    store.clear(first_seq=40)
    assert (len(store), store.first_seq, store.next_seq) == (0, 40, 40)


def test_session_state_defaults() -> None:
    state = SessionState()
    assert (state.session_id, state.inseq, state.outseq) == (None, 1, 1)
    assert (len(state.sent), state.sent.first_seq) == (0, 1)
    # each state has its own store
    assert SessionState().sent is not state.sent


def test_session_state_empty_store_starts_at_outseq() -> None:
    state = SessionState(session_id=SID, inseq=9, outseq=30)
    assert (state.sent.first_seq, state.sent.next_seq) == (30, 30)


@pytest.mark.parametrize(("inseq", "outseq"), [(0, 1), (1, 0), (-5, 3)])
def test_session_state_rejects_seqs_below_one(inseq: int, outseq: int) -> None:
    with pytest.raises(ValueError):
        SessionState(inseq=inseq, outseq=outseq)


@pytest.mark.parametrize(
    "timing",
    [
        {"heartbeat_interval": 0},
        {"heartbeat_timeout": 0},
        {"login_timeout": 0},
        {"heartbeat_interval": -1.0},
    ],
)
def test_core_rejects_non_positive_timings(timing: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SessionCore(Role.CLIENT, SessionState(), now=T0, **timing)


def test_fresh_cores() -> None:
    for role in Role:
        core = SessionCore(role, now=T0)
        assert core.state is State.AWAITING_LOGIN
        assert (core.inseq, core.outseq) == (1, 1)
        assert core.payloads_to_send() == []
        assert core.receive_payloads([], T0) == []


# ---------------------------------------------------------------------------
# Rule 1-2: a new session logs in


def test_new_login_handshake() -> None:
    pair = new_pair()
    client, server = pair.client, pair.server

    assert client.login(CREDS, T0 + 1) == 1
    assert client.state is State.LOGGING_IN
    assert (client.inseq, client.outseq) == (1, 2)
    frames = client.payloads_to_send()
    assert kinds(frames) == [("LOGIN", 1, None)]
    login = parse(frames[0])
    assert login.type == seto_pb2.PAYLOAD_LOGIN
    assert login.eto_payload.type == eto_pb2.PAYLOAD_LOGIN
    assert not login.eto_payload.HasField("login")  # a new session names none
    assert login.login == CREDS

    events = server.receive_payloads(frames, T0 + 2)
    assert summary(events) == [("LoginRequested", None, 1)]
    assert events[0].payload == login
    assert server.state is State.LOGGING_IN
    assert server.payloads_to_send() == []  # nothing until the application decides

    state = SessionState(session_id=SID)
    events = server.accept_login(state, T0 + 3, extensions=1)
    assert summary(events) == [("LoggedIn", SID, 2)]
    assert events[0].extensions == 1 and server.extensions == 1
    assert server.session is state
    assert server.state is State.LOGGED_IN
    assert (server.inseq, server.outseq) == (2, 2)
    frames = server.payloads_to_send()
    assert kinds(frames) == [("LOGIN_RESPONSE", 1, SID, 2)]
    response = parse(frames[0]).eto_payload.login_response
    assert response.extensions == 1

    events = client.receive_payloads(frames, T0 + 4)
    assert summary(events) == [
        ("Received", "LOGIN_RESPONSE", 1, SID, 2),
        ("LoggedIn", SID, 2),
    ]
    assert client.state is State.LOGGED_IN
    assert client.session.session_id == SID
    assert (client.inseq, client.outseq) == (2, 2)
    assert client.payloads_to_send() == []


def test_after_login_application_payloads_flow_both_ways() -> None:
    pair = connect()
    assert pair.client.send(app(10), T0) == 2
    assert pair.client.send(app(11), T0) == 3
    assert pair.server.send(app(20), T0) == 2
    assert summary(pair.to_server()) == [("Received", "APP", 2, 10), ("Received", "APP", 3, 11)]
    assert summary(pair.to_client()) == [("Received", "APP", 2, 20)]
    assert (pair.client.inseq, pair.client.outseq) == (3, 4)
    assert (pair.server.inseq, pair.server.outseq) == (4, 3)
    # the sent payload was numbered in place
    payload = app(12)
    pair.client.send(payload, T0)
    assert (payload.eto_payload.seq, payload.eto_payload.type) == (4, eto_pb2.PAYLOAD_NONE)


def test_payloads_behind_the_login_are_held_until_accepted() -> None:
    server = SessionCore(Role.SERVER, now=T0)
    frames = [login_frame(1), app_frame(2), app_frame(3), eto_frame(PING, 4)]
    assert summary(server.receive_payloads(frames, T0)) == [("LoginRequested", None, 1)]
    # more arrive while the application is still deciding
    assert server.receive_payloads([app_frame(5)], T0 + 1) == []
    assert server.payloads_to_send() == []
    assert server.inseq == 1

    events = server.accept_login(SessionState(session_id=SID), T0 + 2)
    assert summary(events) == [
        ("LoggedIn", SID, 2),
        ("Received", "APP", 2, 2),
        ("Received", "APP", 3, 3),
        ("Received", "PING", 4),
        ("Received", "APP", 5, 5),
    ]
    assert kinds(server.payloads_to_send()) == [("LOGIN_RESPONSE", 1, SID, 2), ("PONG", 2)]
    assert (server.inseq, server.outseq) == (6, 3)
    # and after that, straight through
    assert summary(server.receive_payloads([app_frame(6)], T0 + 3)) == [("Received", "APP", 6, 6)]


def test_refused_login_drops_what_was_held() -> None:
    server = SessionCore(Role.SERVER, now=T0)
    server.receive_payloads([login_frame(1), app_frame(2)], T0)
    events = server.refuse_login(eto_pb2.LOGOUT_UNAUTHORISED, T0)
    assert summary(events) == [("SessionEnded", "UNAUTHORISED", False)]
    assert kinds(server.payloads_to_send()) == [("LOGOUT", 1, "UNAUTHORISED")]
    assert server.receive_payloads([app_frame(3)], T0) == []
    assert server.payloads_to_send() == []


def test_resuming_login_names_the_session_and_uses_outseq() -> None:
    state = SessionState(session_id=SID, inseq=12, outseq=30)
    client = SessionCore(Role.CLIENT, state, now=T0)
    assert client.login(CREDS, T0) == 30
    frames = client.payloads_to_send()
    assert kinds(frames) == [("LOGIN", 30, SID)]
    assert parse(frames[0]).login == CREDS
    assert (state.inseq, state.outseq) == (12, 31)

    server = SessionCore(Role.SERVER, now=T0)
    assert summary(server.receive_payloads(frames, T0)) == [("LoginRequested", SID, 30)]


def test_login_with_an_empty_session_name_is_a_new_session() -> None:
    payload = parse(login_frame(1))
    payload.eto_payload.login.session = ""
    server = SessionCore(Role.SERVER, now=T0)
    events = server.receive_payloads([payload.SerializeToString()], T0)
    assert summary(events) == [("LoginRequested", None, 1)]


def test_login_misuse_raises_protocol_error() -> None:
    server = SessionCore(Role.SERVER, now=T0)
    with pytest.raises(ProtocolError):
        server.login(CREDS, T0)  # only a client logs in

    client = SessionCore(Role.CLIENT, SessionState(), now=T0)
    client.login(CREDS, T0)
    with pytest.raises(ProtocolError):
        client.login(CREDS, T0)  # twice
    assert kinds(client.payloads_to_send()) == [("LOGIN", 1, None)]

    # a new session (no id) that already sent something cannot log in again
    stale = SessionCore(Role.CLIENT, client.session, now=T0)
    with pytest.raises(ProtocolError):
        stale.login(CREDS, T0)
    assert stale.state is State.AWAITING_LOGIN
    assert stale.payloads_to_send() == []


def test_accept_and_refuse_misuse() -> None:
    client = SessionCore(Role.CLIENT, SessionState(), now=T0)
    with pytest.raises(ProtocolError):
        client.accept_login(SessionState(session_id=SID), T0)
    with pytest.raises(ProtocolError):
        client.refuse_login(eto_pb2.LOGOUT_UNAUTHORISED, T0)

    server = SessionCore(Role.SERVER, now=T0)
    with pytest.raises(ProtocolError):  # no login yet
        server.accept_login(SessionState(session_id=SID), T0)
    with pytest.raises(ProtocolError):
        server.refuse_login(eto_pb2.LOGOUT_UNAUTHORISED, T0)

    server.receive_payloads([login_frame(1)], T0)
    with pytest.raises(ValueError):
        server.accept_login(SessionState(), T0)  # no id
    assert server.state is State.LOGGING_IN
    server.accept_login(SessionState(session_id=SID), T0)
    with pytest.raises(ProtocolError):  # already accepted
        server.accept_login(SessionState(session_id=SID), T0)
    with pytest.raises(ProtocolError):
        server.refuse_login(eto_pb2.LOGOUT_UNAUTHORISED, T0)


@pytest.mark.parametrize("role", list(Role))
def test_send_while_not_logged_in_raises(role: Role) -> None:
    core = SessionCore(role, SessionState(), now=T0)
    with pytest.raises(ProtocolError):
        core.send(app(1), T0)  # AWAITING_LOGIN
    if role is Role.CLIENT:
        core.login(CREDS, T0)
    else:
        core.receive_payloads([login_frame(1)], T0)
    assert core.state is State.LOGGING_IN
    with pytest.raises(ProtocolError):
        core.send(app(1), T0)
    assert core.outseq == (2 if role is Role.CLIENT else 1)


def test_send_of_an_incomplete_payload_raises_and_numbers_nothing() -> None:
    pair = connect()
    with pytest.raises(ProtocolError):
        pair.client.send(Payload(), T0)  # seto type missing
    incomplete = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL)
    incomplete.order_cancel.SetInParent()  # its required `order` missing
    with pytest.raises(ProtocolError):
        pair.client.send(incomplete, T0)
    assert pair.client.outseq == 2
    assert len(pair.client.session.sent) == 1  # the login only
    assert pair.client.payloads_to_send() == []
    assert pair.client.send(app(1), T0) == 2


# ---------------------------------------------------------------------------
# Rule 1: refusals


NOT_A_LOGIN = {
    "application payload": app_frame(1),
    "heartbeat": eto_frame(HEARTBEAT, 1),
    "replay request": eto_frame(REPLAY, 1, replay=1),
    "logout": logout_frame(1),
    "seto login, eto none": parse(login_frame(1))
    .SerializeToString()
    .replace(b"\x10\x07", b"\x10\x01"),
    "seto eto, eto login": eto_frame(eto_pb2.PAYLOAD_LOGIN, 1),
}


def test_not_a_login_fixture_is_what_it_says() -> None:
    mixed = parse(NOT_A_LOGIN["seto login, eto none"])
    assert (mixed.type, mixed.eto_payload.type) == (
        seto_pb2.PAYLOAD_LOGIN,
        eto_pb2.PAYLOAD_NONE,
    )


@pytest.mark.parametrize("first", list(NOT_A_LOGIN.values()), ids=list(NOT_A_LOGIN))
def test_first_payload_not_a_login_is_refused(first: bytes) -> None:
    server = SessionCore(Role.SERVER, now=T0)
    # a proper login right behind it does not rescue the connection
    events = server.receive_payloads([first, login_frame(1)], T0)
    assert summary(events) == [("SessionEnded", "LOGIN_NOT_FIRST_SEQ", False)]
    assert kinds(server.payloads_to_send()) == [("LOGOUT", 1, "LOGIN_NOT_FIRST_SEQ")]
    assert server.state is State.CLOSED
    assert not events[0].resumable
    assert server.receive_payloads([login_frame(1)], T0) == []
    assert server.payloads_to_send() == []


@pytest.mark.parametrize("seq", [0, 2, 3, 1000, MAX_U64])
def test_new_session_login_with_seq_other_than_one_is_refused(seq: int) -> None:
    server = SessionCore(Role.SERVER, now=T0)
    events = server.receive_payloads([login_frame(seq)], T0)
    assert summary(events) == [("SessionEnded", "LOGIN_NOT_FIRST_SEQ", False)]
    assert kinds(server.payloads_to_send()) == [("LOGOUT", 1, "LOGIN_NOT_FIRST_SEQ")]
    assert server.state is State.CLOSED


@pytest.mark.parametrize("seq", [0, 1, 2, 77, MAX_U64])
def test_resuming_login_may_have_any_seq(seq: int) -> None:
    server = SessionCore(Role.SERVER, now=T0)
    events = server.receive_payloads([login_frame(seq, SID)], T0)
    assert summary(events) == [("LoginRequested", SID, seq)]
    assert server.payloads_to_send() == []


def test_client_gets_the_refusal_of_the_server_core() -> None:
    pair = new_pair()
    pair.client.login(CREDS, T0)
    pair.client.payloads_to_send()  # the login is lost; something else arrives first
    assert summary(pair.to_server(encode_frames([app_frame(1)]))) == [
        ("SessionEnded", "LOGIN_NOT_FIRST_SEQ", False)
    ]
    events = summary(pair.to_client())
    assert events == [
        ("Received", "LOGOUT", 1, "LOGIN_NOT_FIRST_SEQ"),
        ("SessionEnded", "LOGIN_NOT_FIRST_SEQ", True),
    ]
    assert pair.client.state is State.CLOSED
    assert pair.client.payloads_to_send() == []  # no confirmation while logging in


@pytest.mark.parametrize(
    "reason",
    [
        eto_pb2.LOGOUT_UNAUTHORISED,
        eto_pb2.LOGOUT_UNKNOWN_SESSION,
        eto_pb2.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE,
        eto_pb2.LOGOUT_DOWNTIME,
    ],
    ids=reason_name,
)
def test_refusal_ends_a_new_clients_login(reason: int) -> None:
    pair = new_pair()
    pair.client.login(CREDS, T0)
    assert summary(pair.to_server()) == [("LoginRequested", None, 1)]
    events = pair.server.refuse_login(reason, T0 + 1)
    assert summary(events) == [("SessionEnded", reason_name(reason), False)]
    assert pair.server.state is State.CLOSED
    pair.now = T0 + 1
    assert summary(pair.to_client()) == [
        ("Received", "LOGOUT", 1, reason_name(reason)),
        ("SessionEnded", reason_name(reason), True),
    ]
    assert pair.client.state is State.CLOSED
    assert pair.client.payloads_to_send() == []
    assert not pair.client_events[-1].resumable


@pytest.mark.parametrize(
    "reason", [eto_pb2.LOGOUT_UNAUTHORISED, eto_pb2.LOGOUT_UNKNOWN_SESSION], ids=reason_name
)
def test_refusal_reaches_a_resuming_client_whose_inseq_is_large(reason: int) -> None:
    # The refusal comes from a server connection with no session: it is seq 1,
    # far below the resuming client's inseq, and must still end the login.
    state = SessionState(session_id=SID, inseq=50, outseq=30)
    pair = new_pair(client_state=state)
    pair.client.login(CREDS, T0)
    assert summary(pair.to_server()) == [("LoginRequested", SID, 30)]
    pair.server.refuse_login(reason, T0)
    assert wire(pair)[-1:] == [("c>s", ("LOGIN", 30, SID))]
    pair.now = T0 + 1
    assert summary(pair.to_client()) == [
        ("Received", "LOGOUT", 1, reason_name(reason)),
        ("SessionEnded", reason_name(reason), True),
    ]
    assert pair.client.state is State.CLOSED
    assert pair.client.payloads_to_send() == []
    assert (state.inseq, state.outseq) == (50, 31)  # the refusal took no seq of ours
    assert pair.client.next_deadline() is None
    assert pair.client.tick(T0 + 10 * LOGIN_TIMEOUT) == []


def test_server_login_timeout_with_no_login() -> None:
    server = SessionCore(Role.SERVER, now=T0)
    assert server.next_deadline() == T0 + LOGIN_TIMEOUT
    assert server.tick(T0 + LOGIN_TIMEOUT - 0.001) == []
    assert server.payloads_to_send() == []
    events = server.tick(T0 + LOGIN_TIMEOUT)
    assert summary(events) == [("SessionEnded", "LOGIN_TIMEOUT", False)]
    assert events[0].resumable
    assert kinds(server.payloads_to_send()) == [("LOGOUT", 1, "LOGIN_TIMEOUT")]
    assert server.state is State.CLOSED
    assert server.next_deadline() is None
    assert server.tick(T0 + 100) == []
    assert server.receive_payloads([login_frame(1)], T0 + 100) == []
    assert server.payloads_to_send() == []


def test_server_login_timeout_while_the_application_decides() -> None:
    server = SessionCore(Role.SERVER, now=T0, login_timeout=3.0)
    server.receive_payloads([login_frame(1), app_frame(2)], T0 + 1)
    assert server.next_deadline() == T0 + 3.0  # counted from the connection's start
    assert server.tick(T0 + 2.9) == []
    events = server.tick(T0 + 3.0)
    assert summary(events) == [("SessionEnded", "LOGIN_TIMEOUT", False)]
    assert kinds(server.payloads_to_send()) == [("LOGOUT", 1, "LOGIN_TIMEOUT")]
    with pytest.raises(ProtocolError):
        server.accept_login(SessionState(session_id=SID), T0 + 4)
    assert server.payloads_to_send() == []


def test_client_login_timeout_gives_up_without_sending() -> None:
    client = SessionCore(Role.CLIENT, SessionState(), now=T0)
    assert client.next_deadline() is None  # nothing to wait for before login()
    assert client.tick(T0 + 1000) == []
    client.login(CREDS, T0 + 5)
    client.payloads_to_send()
    assert client.next_deadline() == T0 + 5 + LOGIN_TIMEOUT
    assert client.tick(T0 + 5 + LOGIN_TIMEOUT - 0.001) == []
    events = client.tick(T0 + 5 + LOGIN_TIMEOUT)
    assert summary(events) == [("SessionEnded", "LOGIN_TIMEOUT", False)]
    assert events[0].resumable
    assert client.state is State.CLOSED
    assert client.payloads_to_send() == []
    assert client.next_deadline() is None
    # a late answer is ignored
    assert client.receive_payloads([lr_frame(1, SID, 2)], T0 + 30) == []
    assert client.session.session_id is None


def test_server_login_timeout_reaches_the_client() -> None:
    pair = new_pair()
    pair.client.login(CREDS, T0)
    pair.client.payloads_to_send()  # lost: the server never hears of it
    pair.server.tick(T0 + LOGIN_TIMEOUT)
    pair.now = T0 + LOGIN_TIMEOUT
    assert summary(pair.to_client()) == [
        ("Received", "LOGOUT", 1, "LOGIN_TIMEOUT"),
        ("SessionEnded", "LOGIN_TIMEOUT", True),
    ]
    assert pair.client_events[-1].resumable
    assert pair.client.payloads_to_send() == []


@pytest.mark.parametrize("by_peer", [False, True])
@pytest.mark.parametrize("reason", ALL_REASONS, ids=reason_name)
def test_session_ended_resumable(reason: int, by_peer: bool) -> None:
    resumable = reason in (eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT, eto_pb2.LOGOUT_LOGIN_TIMEOUT)
    assert SessionEnded(reason, by_peer=by_peer).resumable is resumable


# ---------------------------------------------------------------------------
# Rule 3: sequencing, on a single client fed hand-built server payloads


def test_in_order_delivery() -> None:
    client = logged_in_client()
    events = client.receive_payloads([app_frame(s) for s in range(2, 7)], T0)
    assert summary(events) == [("Received", "APP", s, s) for s in range(2, 7)]
    assert client.inseq == 7
    assert client.payloads_to_send() == []


def test_one_payload_per_call_and_split_batches() -> None:
    client = logged_in_client()
    got = []
    for seq in range(2, 6):
        got += summary(client.receive_payloads([app_frame(seq)], T0))
    assert got == [("Received", "APP", s, s) for s in range(2, 6)]


def test_gap_asks_exactly_one_replay_and_drops_what_came_early() -> None:
    client = logged_in_client()
    # 3 is lost; 4..40 came early
    events = client.receive_payloads([app_frame(2)] + [app_frame(s) for s in range(4, 41)], T0)
    assert summary(events) == [("Received", "APP", 2, 2)]
    assert kinds(client.payloads_to_send()) == [("REPLAY", 2, 3)]
    assert client.inseq == 3
    # still more early ones, in later calls: no second request for the same gap
    assert client.receive_payloads([app_frame(41), app_frame(42)], T0) == []
    assert client.receive_payloads([eto_frame(GAPFILL, 43)], T0) == []
    assert client.payloads_to_send() == []

    # the replay: every payload once, in order, each taken from the replayed copy
    replay = [app_frame(s, is_replay=True) for s in range(3, 43)] + [
        eto_frame(GAPFILL, 43, is_replay=True)
    ]
    events = client.receive_payloads(replay, T0 + 1)
    assert summary(events) == [("Received", "APP", s, s, "replay") for s in range(3, 43)]
    assert client.inseq == 44
    assert client.payloads_to_send() == []
    # the originals arriving late again are duplicates
    assert client.receive_payloads([app_frame(s) for s in range(2, 44)], T0 + 2) == []
    assert client.payloads_to_send() == []


def test_gap_the_client_reports_uses_its_own_seq() -> None:
    client = logged_in_client()
    client.send(app(1), T0)
    client.send(app(2), T0)
    client.payloads_to_send()
    client.receive_payloads([app_frame(5)], T0)
    assert kinds(client.payloads_to_send()) == [("REPLAY", 4, 2)]
    assert client.outseq == 5


def test_a_new_gap_asks_again() -> None:
    client = logged_in_client()
    client.receive_payloads([app_frame(3)], T0)
    client.receive_payloads([app_frame(2, is_replay=True), app_frame(3, is_replay=True)], T0)
    assert client.inseq == 4
    client.receive_payloads([app_frame(6), app_frame(7)], T0)
    assert kinds(client.payloads_to_send()) == [("REPLAY", 2, 2), ("REPLAY", 3, 4)]


def test_a_late_payload_moves_inseq_and_the_next_gap_is_asked_for() -> None:
    # 2 arrives late (reordered) after the replay for it was asked; then 4 is
    # missing: that is a new gap, asked for at the new inseq.
    client = logged_in_client()
    events = client.receive_payloads([app_frame(3), app_frame(2), app_frame(5)], T0)
    assert summary(events) == [("Received", "APP", 2, 2)]
    assert kinds(client.payloads_to_send()) == [("REPLAY", 2, 2), ("REPLAY", 3, 3)]


def test_duplicates_are_dropped() -> None:
    client = logged_in_client()
    frames = [app_frame(2), app_frame(3), app_frame(2), app_frame(3), app_frame(1), app_frame(0)]
    events = client.receive_payloads(frames, T0)
    assert summary(events) == [("Received", "APP", 2, 2), ("Received", "APP", 3, 3)]
    assert client.inseq == 4
    assert client.payloads_to_send() == []


def test_replayed_copies_below_inseq_are_dropped() -> None:
    client = logged_in_client()
    client.receive_payloads([app_frame(2), app_frame(3)], T0)
    frames = [
        eto_frame(GAPFILL, 1, is_replay=True),
        app_frame(2, is_replay=True),
        app_frame(3, is_replay=True),
        app_frame(4, is_replay=True),
    ]
    events = client.receive_payloads(frames, T0)
    assert summary(events) == [("Received", "APP", 4, 4, "replay")]
    assert client.inseq == 5


@pytest.mark.parametrize("is_replay", [True, False])
def test_gapfill_takes_its_seq_and_is_never_delivered(is_replay: bool) -> None:
    client = logged_in_client()
    frames = [app_frame(2), eto_frame(GAPFILL, 3, is_replay=is_replay), app_frame(4)]
    events = client.receive_payloads(frames, T0)
    assert summary(events) == [("Received", "APP", 2, 2), ("Received", "APP", 4, 4)]
    assert client.inseq == 5
    assert client.payloads_to_send() == []


def test_early_gapfill_reveals_a_gap() -> None:
    client = logged_in_client()
    assert client.receive_payloads([eto_frame(GAPFILL, 4, is_replay=True)], T0) == []
    assert kinds(client.payloads_to_send()) == [("REPLAY", 2, 2)]
    assert client.inseq == 2


def test_early_session_level_payload_is_acted_on_and_not_again_on_replay() -> None:
    client = logged_in_client()
    events = client.receive_payloads([eto_frame(PING, 4)], T0)
    assert summary(events) == [("Received", "PING", 4)]
    # acted on at once (PONG), and the gap below it reported
    assert kinds(client.payloads_to_send()) == [("PONG", 2), ("REPLAY", 3, 2)]
    assert client.inseq == 2
    replay = [
        app_frame(2, is_replay=True),
        app_frame(3, is_replay=True),
        eto_frame(GAPFILL, 4, is_replay=True),
    ]
    events = client.receive_payloads(replay, T0)
    assert summary(events) == [
        ("Received", "APP", 2, 2, "replay"),
        ("Received", "APP", 3, 3, "replay"),
    ]
    assert client.inseq == 5
    assert client.payloads_to_send() == []  # no second PONG


@pytest.mark.parametrize("eto_type", [PING, HEARTBEAT, REPLAY, LOGOUT, PONG])
def test_session_level_duplicate_is_not_acted_on(eto_type: int) -> None:
    client = logged_in_client()
    client.receive_payloads([app_frame(2), app_frame(3)], T0)
    frame = eto_frame(eto_type, 2, replay=1 if eto_type == REPLAY else None)
    assert client.receive_payloads([frame], T0) == []
    assert client.payloads_to_send() == []
    assert client.state is State.LOGGED_IN


def test_session_level_replayed_copy_takes_its_seq_without_effect() -> None:
    for eto_type in (PING, HEARTBEAT, REPLAY, LOGOUT, PONG, LOGIN_RESPONSE):
        client = logged_in_client()
        frame = eto_frame(
            eto_type,
            2,
            is_replay=True,
            replay=1 if eto_type == REPLAY else None,
            session=SID if eto_type == LOGIN_RESPONSE else None,
        )
        events = client.receive_payloads([frame, app_frame(3)], T0)
        assert summary(events) == [("Received", "APP", 3, 3)], _ETO_NAMES[eto_type]
        assert client.payloads_to_send() == [], _ETO_NAMES[eto_type]
        assert client.state is State.LOGGED_IN
        assert client.inseq == 4


def test_in_order_session_level_payloads_are_received() -> None:
    client = logged_in_client()
    frames = [eto_frame(PONG, 2), eto_frame(THROTTLE, 3), eto_frame(eto_pb2.PAYLOAD_NONE, 4)]
    events = client.receive_payloads(frames, T0)
    assert summary(events) == [
        ("Received", "PONG", 2),
        ("Received", "THROTTLE_EXCEEDED", 3),
        ("Received", "NONE", 4),
    ]
    assert client.payloads_to_send() == []
    assert client.inseq == 5


@pytest.mark.parametrize("eto_type", [eto_pb2.PAYLOAD_DOWNTIME_ALERT, THROTTLE])
def test_eto_news_is_delivered_once_in_order_and_its_replay_too(eto_type: int) -> None:
    """A downtime alert or throttle notice is news: a replayed copy is delivered when it
    fills a gap (not swallowed as a session-level replay), a duplicate never."""
    client = logged_in_client()
    # seq 2 lost: 3 arrives early and waits for the replay.
    events = client.receive_payloads([app_frame(3)], T0)
    assert events == []
    assert kinds(client.payloads_to_send()) == [("REPLAY", 2, 2)]
    replayed = eto_frame(eto_type, 2, is_replay=True)
    events = client.receive_payloads([replayed, app_frame(3, is_replay=True)], T0)
    assert summary(events) == [
        ("Received", _ETO_NAMES[eto_type], 2, "replay"),
        ("Received", "APP", 3, 3, "replay"),
    ]
    assert client.receive_payloads([eto_frame(eto_type, 2)], T0) == []
    assert client.inseq == 4


def test_eto_news_is_replayed_in_full_not_as_gapfill() -> None:
    server = logged_in_server()
    alert = session_payload(eto_pb2.PAYLOAD_DOWNTIME_ALERT)
    alert.eto_payload.downtime_alert.type = eto_pb2.DOWNTIME_ALERT_CONNECTION
    alert.eto_payload.downtime_alert.description = "upgrade"
    seq = server.send(alert, T0)
    server.payloads_to_send()  # lost on the way
    server.receive_payloads([eto_frame(REPLAY, 2, replay=seq)], T0)
    (frame,) = server.payloads_to_send()
    resent = parse(frame)
    assert resent.eto_payload.is_replay and resent.eto_payload.seq == seq
    assert resent.eto_payload.type == eto_pb2.PAYLOAD_DOWNTIME_ALERT
    assert resent.eto_payload.downtime_alert.description == "upgrade"


def test_abort_sends_the_reason_and_closes() -> None:
    pair = connect()
    pair.server.extensions = 1
    events = pair.server.abort(eto_pb2.LOGOUT_INVALID_PAYLOAD, T0)
    assert summary(events) == [("SessionEnded", "INVALID_PAYLOAD", False)]
    assert pair.server.state is State.CLOSED
    (frame,) = pair.server.payloads_to_send()
    assert parse(frame).eto_payload.logout.reason == eto_pb2.LOGOUT_INVALID_PAYLOAD
    assert pair.server.abort(eto_pb2.LOGOUT_INVALID_PAYLOAD, T0) == []  # once


def test_abort_tells_a_published_session_the_stand_in() -> None:
    pair = connect()
    assert pair.server.extensions == 0
    events = pair.server.abort(eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD, T0)
    assert summary(events) == [("SessionEnded", "UNSUPPORTED_PAYLOAD", False)]
    (frame,) = pair.server.payloads_to_send()
    assert parse(frame).eto_payload.logout.reason == eto_pb2.LOGOUT_NONE


def test_abort_before_login() -> None:
    server = SessionCore(Role.SERVER, now=T0)
    events = server.abort(eto_pb2.LOGOUT_INVALID_PAYLOAD, T0)
    assert summary(events) == [("SessionEnded", "INVALID_PAYLOAD", False)]
    (frame,) = server.payloads_to_send()
    assert parse(frame).eto_payload.logout.reason == eto_pb2.LOGOUT_NONE


def test_client_learns_the_extensions_granted() -> None:
    pair = new_pair()
    pair.client.login(CREDS, T0)
    pair.to_server()
    pair.server.accept_login(SessionState(session_id=SID), T0, extensions=1)
    pair.to_client()
    logged_in = [e for e in pair.client_events if isinstance(e, LoggedIn)]
    assert logged_in and logged_in[0].extensions == 1
    assert pair.client.extensions == 1


def test_login_response_on_a_logged_in_connection_is_ignored() -> None:
    client = logged_in_client()
    events = client.receive_payloads([lr_frame(2, "other", 99), app_frame(3)], T0)
    assert summary(events) == [("Received", "APP", 3, 3)]
    assert client.session.session_id == SID
    assert client.outseq == 2


def test_login_on_a_logged_in_server_is_ignored() -> None:
    server = logged_in_server()
    events = server.receive_payloads([login_frame(2, SID), app_frame(3)], T0)
    assert summary(events) == [("Received", "APP", 3, 3)]
    assert server.payloads_to_send() == []
    assert server.inseq == 4


def test_server_sequencing_mirrors_the_client() -> None:
    server = logged_in_server()
    server.send(app(1), T0)
    server.payloads_to_send()
    events = server.receive_payloads([app_frame(2), app_frame(4), app_frame(5), app_frame(2)], T0)
    assert summary(events) == [("Received", "APP", 2, 2)]
    assert kinds(server.payloads_to_send()) == [("REPLAY", 3, 3)]
    events = server.receive_payloads(
        [app_frame(3, is_replay=True), app_frame(4, is_replay=True), app_frame(5, is_replay=True)],
        T0,
    )
    assert [e[1:3] for e in summary(events)] == [("APP", 3), ("APP", 4), ("APP", 5)]
    assert server.inseq == 6


# ---------------------------------------------------------------------------
# Rule 4: answering a replay request


def _server_with_history() -> tuple[ConnectedPair, list[bytes]]:
    """Server sent: LR 1, APP 2, PING 3, APP 4, HEARTBEAT 5, REPLAY 6, APP 7, PONG 8."""
    pair = connect()
    server = pair.server
    server.send(app(102), T0)
    server.send(session_payload(PING), T0)
    server.send(app(104), T0)
    server.tick(T0 + INTERVAL)  # HEARTBEAT 5
    # a gap from the client makes the server ask a REPLAY (6)
    server.receive_payloads([app_frame(3)], T0 + INTERVAL)
    server.send(app(107), T0 + INTERVAL)
    server.receive_payloads([eto_frame(PING, 4)], T0 + INTERVAL)  # PONG 8
    originals = server.payloads_to_send()
    assert kinds(originals) == [
        ("APP", 2, 102),
        ("PING", 3),
        ("APP", 4, 104),
        ("HEARTBEAT", 5),
        ("REPLAY", 6, 2),
        ("APP", 7, 107),
        ("PONG", 8),
    ]
    return pair, originals


def test_replay_resends_everything_with_original_seqs_and_gapfills() -> None:
    pair, originals = _server_with_history()
    server = pair.server
    events = server.receive_payloads([eto_frame(REPLAY, 2, replay=1)], T0 + 20)
    assert summary(events) == [("Received", "REPLAY", 2, 1)]
    frames = server.payloads_to_send()
    assert kinds(frames) == [
        ("GAPFILL", 1, "replay"),  # the login response
        ("APP", 2, 102, "replay"),
        ("GAPFILL", 3, "replay"),  # ping
        ("APP", 4, 104, "replay"),
        ("GAPFILL", 5, "replay"),  # heartbeat
        ("GAPFILL", 6, "replay"),  # replay request
        ("APP", 7, 107, "replay"),
        ("GAPFILL", 8, "replay"),  # pong
    ]
    assert server.outseq == 9  # a replay takes no new seq
    # the replayed application payloads parse as the originals with is_replay set
    for original, copy in zip(originals, frames[1:], strict=True):
        original_payload = parse(original)
        if is_session_level(original_payload):
            gapfill = parse(copy)
            assert gapfill.type == seto_pb2.PAYLOAD_ETO
            assert gapfill.eto_payload.type == GAPFILL
            assert gapfill.eto_payload.is_replay
            assert gapfill.eto_payload.seq == original_payload.eto_payload.seq
            assert gapfill.ListFields()[0][1] == seto_pb2.PAYLOAD_ETO
            assert not gapfill.HasField("login")
            continue
        original_payload.eto_payload.is_replay = True
        assert parse(copy) == original_payload


def test_replay_from_the_middle_and_from_the_end() -> None:
    pair, _ = _server_with_history()
    server = pair.server
    server.receive_payloads([eto_frame(REPLAY, 2, replay=7)], T0 + 20)
    assert kinds(server.payloads_to_send()) == [
        ("APP", 7, 107, "replay"),
        ("GAPFILL", 8, "replay"),
    ]
    # nothing sent from 9 on yet, nor from far beyond
    server.receive_payloads([eto_frame(REPLAY, 3, replay=9)], T0 + 20)
    server.receive_payloads([eto_frame(REPLAY, 4, replay=MAX_U64)], T0 + 20)
    assert server.payloads_to_send() == []
    assert server.state is State.LOGGED_IN


def test_replay_of_zero_is_ignored() -> None:
    pair, _ = _server_with_history()
    events = pair.server.receive_payloads([eto_frame(REPLAY, 2, replay=0)], T0 + 20)
    assert events == []
    assert pair.server.payloads_to_send() == []
    assert pair.server.inseq == 3  # its seq is taken all the same


def test_client_replays_login_pong_heartbeat_replay_and_logout_as_gapfill() -> None:
    client = logged_in_client()
    assert client.send(app(2), T0) == 2
    client.receive_payloads([eto_frame(PING, 2)], T0)  # PONG 3
    client.receive_payloads([eto_frame(HEARTBEAT, 3)], T0)  # HEARTBEAT 4
    client.receive_payloads([app_frame(5)], T0)  # gap: REPLAY 5 (asks 4)
    assert client.send(app(6), T0) == 6
    client.logout(T0)  # LOGOUT 7
    originals = client.payloads_to_send()
    assert kinds(originals) == [
        ("APP", 2, 2),
        ("PONG", 3),
        ("HEARTBEAT", 4),
        ("REPLAY", 5, 4),
        ("APP", 6, 6),
        ("LOGOUT", 7, "NONE"),
    ]
    # still answering a replay while waiting for the logout's confirmation
    events = client.receive_payloads([eto_frame(REPLAY, 4, replay=1)], T0)
    assert summary(events) == [("Received", "REPLAY", 4, 1)]
    assert kinds(client.payloads_to_send()) == [
        ("GAPFILL", 1, "replay"),
        ("APP", 2, 2, "replay"),
        ("GAPFILL", 3, "replay"),
        ("GAPFILL", 4, "replay"),
        ("GAPFILL", 5, "replay"),
        ("APP", 6, 6, "replay"),
        ("GAPFILL", 7, "replay"),
    ]


REPLAYABLE = [
    app(5),
    Payload(
        type=seto_pb2.PAYLOAD_ORDER_CREATE,
        order_create=seto_pb2.OrderCreate(
            type=seto_pb2.ORDER_CREATE_LIMIT,
            market=seto_pb2.Uuid128(low=0xF, high=3),
            contract=seto_pb2.Uuid128(low=1),
            side=seto_pb2.SIDE_SELL,
            quantity_type=seto_pb2.QUANTITY_PAYOFF_CURRENCY,
            quantity=400000,
            price_type=seto_pb2.PRICE_PERCENT_ODDS,
            price=2500,
            tif=seto_pb2.IMMEDIATE_OR_CANCEL,
            reference="ref-é-1",
        ),
    ),
    Payload(type=seto_pb2.PAYLOAD_MARKETS_REQUEST, markets_request=seto_pb2.MarketsRequest()),
]


@pytest.mark.parametrize("payload", REPLAYABLE, ids=["subscribe", "order_create", "empty body"])
def test_replayed_bytes_parse_as_the_original_with_is_replay(payload: Payload) -> None:
    pair = connect()
    sent = Payload()
    sent.CopyFrom(payload)
    seq = pair.client.send(sent, T0)
    [original] = pair.client.payloads_to_send()
    pair.client.receive_payloads([eto_frame(REPLAY, 2, replay=seq)], T0)
    [copy] = pair.client.payloads_to_send()
    expected = parse(original)
    assert not expected.eto_payload.is_replay
    expected.eto_payload.is_replay = True
    assert parse(copy) == expected
    assert parse(copy).eto_payload.seq == seq
    # and the server takes it as that payload
    events = pair.to_server(encode_frames([copy]))
    assert [e.payload for e in events] == [expected]


@settings(max_examples=50, deadline=None)
@given(
    low=st.integers(0, MAX_U64),
    high=st.integers(0, MAX_U64),
    reference=st.text(max_size=40),
    quantity=st.integers(0, 2**32 - 1),
)
def test_replayed_bytes_parse_as_the_original_property(
    low: int, high: int, reference: str, quantity: int
) -> None:
    pair = connect()
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
    payload.order_create.CopyFrom(REPLAYABLE[1].order_create)
    payload.order_create.market.low = low
    payload.order_create.market.high = high
    payload.order_create.reference = reference
    payload.order_create.quantity = quantity
    pair.client.send(payload, T0)
    [original] = pair.client.payloads_to_send()
    pair.client.receive_payloads([eto_frame(REPLAY, 2, replay=2)], T0)
    [copy] = pair.client.payloads_to_send()
    expected = parse(original)
    expected.eto_payload.is_replay = True
    assert parse(copy) == expected


def test_replay_below_the_store_limit_ends_the_session() -> None:
    state = SessionState(session_id=SID, sent=ReplayStore(limit=3))
    pair = connect(server_state=state)
    for tag in range(2, 7):
        pair.server.send(app(tag), T0)
    pair.server.payloads_to_send()  # lost
    assert (state.sent.first_seq, state.sent.next_seq) == (4, 7)

    # what is kept can be served
    pair.server.receive_payloads([eto_frame(REPLAY, 2, replay=4)], T0)
    assert kinds(pair.server.payloads_to_send()) == [
        ("APP", 4, 4, "replay"),
        ("APP", 5, 5, "replay"),
        ("APP", 6, 6, "replay"),
    ]
    # one seq further back cannot: the session ends rather than skip it
    pair.client.receive_payloads([], T0)
    events = pair.server.receive_payloads([eto_frame(REPLAY, 3, replay=3)], T0)
    assert summary(events) == [("SessionEnded", "UNKNOWN_SESSION", False)]
    assert not events[0].resumable
    assert pair.server.state is State.CLOSED
    frames = pair.server.payloads_to_send()
    assert kinds(frames) == [("LOGOUT", 7, "UNKNOWN_SESSION")]
    # the client, which had not seen 2..6, acts on the early logout
    assert summary(pair.to_client(encode_frames(frames))) == [
        ("Received", "LOGOUT", 7, "UNKNOWN_SESSION"),
        ("SessionEnded", "UNKNOWN_SESSION", True),
    ]
    assert pair.client.state is State.CLOSED
    assert kinds(pair.client.payloads_to_send()) == [("LOGOUT", 2, "CONFIRMATION")]


def test_replay_with_limit_zero_store_serves_nothing_old() -> None:
    state = SessionState(session_id=SID, sent=ReplayStore(limit=0))
    server = logged_in_server(state=state)
    server.send(app(2), T0)
    server.payloads_to_send()
    server.receive_payloads([eto_frame(REPLAY, 2, replay=3)], T0)  # nothing to send: fine
    assert server.payloads_to_send() == []
    events = server.receive_payloads([eto_frame(REPLAY, 3, replay=2)], T0)
    assert summary(events) == [("SessionEnded", "UNKNOWN_SESSION", False)]
    assert kinds(server.payloads_to_send()) == [("LOGOUT", 3, "UNKNOWN_SESSION")]


def test_empty_store_of_a_resumed_client_ends_rather_than_skips() -> None:
    # A client resumed from saved numbers, without its sent payloads.
    state = SessionState(session_id=SID, inseq=10, outseq=20)
    client = SessionCore(Role.CLIENT, state, now=T0)
    client.login(CREDS, T0)
    assert kinds(client.payloads_to_send()) == [("LOGIN", 20, SID)]
    # the server missed 15..19: it answers reset 15 and asks for them
    events = client.receive_payloads([lr_frame(10, SID, 15), eto_frame(REPLAY, 11, replay=15)], T0)
    assert summary(events) == [
        ("Received", "LOGIN_RESPONSE", 10, SID, 15),
        ("LoggedIn", SID, 15),
        ("SessionEnded", "UNKNOWN_SESSION", False),
    ]
    assert kinds(client.payloads_to_send()) == [("LOGOUT", 21, "UNKNOWN_SESSION")]
    assert client.state is State.CLOSED


def test_empty_store_of_a_resumed_server_ends_rather_than_skips() -> None:
    state = SessionState(session_id=SID, inseq=4, outseq=50)  # store lost
    server = SessionCore(Role.SERVER, now=T0)
    server.receive_payloads([login_frame(4, SID)], T0)
    server.accept_login(state, T0)
    assert kinds(server.payloads_to_send()) == [("LOGIN_RESPONSE", 50, SID, 5)]
    # the login response is kept, 49 and below are not
    server.receive_payloads([eto_frame(REPLAY, 5, replay=50)], T0)
    assert kinds(server.payloads_to_send()) == [("GAPFILL", 50, "replay")]
    events = server.receive_payloads([eto_frame(REPLAY, 6, replay=40)], T0)
    assert summary(events) == [("SessionEnded", "UNKNOWN_SESSION", False)]
    assert kinds(server.payloads_to_send()) == [("LOGOUT", 51, "UNKNOWN_SESSION")]


# ---------------------------------------------------------------------------
# Rules 5-6: heartbeats and pings


def test_next_deadline_while_logged_in() -> None:
    pair = connect()
    for core in (pair.client, pair.server):
        assert core.next_deadline() == T0 + INTERVAL
    pair.client.send(app(1), T0 + 5)
    assert pair.client.next_deadline() == T0 + 5 + INTERVAL
    pair.now = T0 + 6
    pair.to_server()
    # the server last sent at T0 and last heard at T0 + 6
    assert pair.server.next_deadline() == T0 + INTERVAL


def test_next_deadline_is_the_timeout_when_that_comes_first() -> None:
    pair = connect(heartbeat_interval=10.0, heartbeat_timeout=25.0)
    core = pair.client
    assert core.next_deadline() == T0 + 10
    core.tick(T0 + 10)
    core.tick(T0 + 20)
    assert core.next_deadline() == T0 + 25  # min(T0 + 30, T0 + 25)


def test_idle_side_sends_heartbeat_and_client_answers_it() -> None:
    pair = connect()
    assert pair.server.tick(T0 + INTERVAL - 0.001) == []
    assert pair.server.payloads_to_send() == []
    assert pair.server.tick(T0 + INTERVAL) == []
    frames = pair.server.payloads_to_send()
    assert kinds(frames) == [("HEARTBEAT", 2)]
    assert pair.server.next_deadline() == T0 + 2 * INTERVAL
    # the client answers the server's heartbeat with its own
    pair.now = T0 + INTERVAL
    assert summary(pair.to_client(encode_frames(frames))) == [("Received", "HEARTBEAT", 2)]
    answer = pair.client.payloads_to_send()
    assert kinds(answer) == [("HEARTBEAT", 2)]
    # it counts as having sent: no second heartbeat of its own now
    assert pair.client.tick(T0 + INTERVAL) == []
    assert pair.client.payloads_to_send() == []
    assert pair.client.next_deadline() == T0 + 2 * INTERVAL
    # the server does not answer the client's heartbeat
    assert summary(pair.to_server(encode_frames(answer))) == [("Received", "HEARTBEAT", 2)]
    assert pair.server.payloads_to_send() == []


def test_server_does_not_answer_a_clients_idle_heartbeat() -> None:
    pair = connect()
    pair.client.tick(T0 + INTERVAL)
    pair.now = T0 + INTERVAL
    assert summary(pair.to_server()) == [("Received", "HEARTBEAT", 2)]
    assert pair.server.payloads_to_send() == []


def test_traffic_defers_the_heartbeat() -> None:
    pair = connect()
    pair.server.send(app(1), T0 + 10)
    pair.server.tick(T0 + INTERVAL)
    assert kinds(pair.server.payloads_to_send()) == [("APP", 2, 1)]
    pair.server.tick(T0 + 10 + INTERVAL)
    assert kinds(pair.server.payloads_to_send()) == [("HEARTBEAT", 3)]


@pytest.mark.parametrize("role", list(Role))
def test_silence_for_the_timeout_ends_the_connection(role: Role) -> None:
    pair = connect()
    core = pair.client if role is Role.CLIENT else pair.server
    assert core.tick(T0 + INTERVAL) == []
    assert core.tick(T0 + 2 * INTERVAL) == []
    assert kinds(core.payloads_to_send()) == [("HEARTBEAT", 2), ("HEARTBEAT", 3)]
    assert core.next_deadline() == T0 + TIMEOUT
    assert core.tick(T0 + TIMEOUT - 0.001) == []
    assert core.payloads_to_send() == []
    events = core.tick(T0 + TIMEOUT)
    assert summary(events) == [("SessionEnded", "HEARTBEAT_TIMEOUT", False)]
    assert events[0].resumable
    assert kinds(core.payloads_to_send()) == [("LOGOUT", 4, "HEARTBEAT_TIMEOUT")]
    assert core.state is State.CLOSED
    assert core.next_deadline() is None
    assert core.tick(T0 + 1000) == []
    assert core.payloads_to_send() == []


def test_heartbeat_timeout_reaches_the_peer_as_resumable() -> None:
    pair = connect()
    pair.server.tick(T0 + TIMEOUT)
    pair.now = T0 + TIMEOUT
    assert summary(pair.to_client()) == [
        ("Received", "LOGOUT", 2, "HEARTBEAT_TIMEOUT"),
        ("SessionEnded", "HEARTBEAT_TIMEOUT", True),
    ]
    assert pair.client_events[-1].resumable
    assert pair.client.state is State.CLOSED
    # its confirmation goes nowhere: the server is closed
    assert summary(pair.to_server()) == []
    assert pair.server.payloads_to_send() == []


def test_hearing_anything_resets_the_timeout() -> None:
    pair = connect()
    for step in range(1, 8):  # well past one timeout in total
        now = T0 + step * INTERVAL
        pair.server.tick(now)
        pair.client.tick(now)
        pair.now = now
        pair.settle()
    assert pair.client.state is State.LOGGED_IN
    assert pair.server.state is State.LOGGED_IN
    assert all(k[1][0] == "HEARTBEAT" for k in wire(pair))
    assert pair.client.next_deadline() == T0 + 8 * INTERVAL


def test_custom_timings() -> None:
    pair = connect(heartbeat_interval=1.0, heartbeat_timeout=3.0)
    pair.client.tick(T0 + 1)
    pair.client.tick(T0 + 2)
    events = pair.client.tick(T0 + 3)
    assert summary(events) == [("SessionEnded", "HEARTBEAT_TIMEOUT", False)]
    assert kinds(pair.client.payloads_to_send()) == [
        ("HEARTBEAT", 2),
        ("HEARTBEAT", 3),
        ("LOGOUT", 4, "HEARTBEAT_TIMEOUT"),
    ]


@pytest.mark.parametrize("pinger", ["client", "server"])
def test_ping_is_answered_by_pong(pinger: str) -> None:
    pair = connect()
    if pinger == "client":
        assert pair.client.send(session_payload(PING), T0) == 2
        assert summary(pair.to_server()) == [("Received", "PING", 2)]
        assert summary(pair.to_client()) == [("Received", "PONG", 2)]
        assert pair.client.payloads_to_send() == []
    else:
        assert pair.server.send(session_payload(PING), T0) == 2
        assert summary(pair.to_client()) == [("Received", "PING", 2)]
        assert summary(pair.to_server()) == [("Received", "PONG", 2)]
        assert pair.server.payloads_to_send() == []


# ---------------------------------------------------------------------------
# Rule 7: logout


def test_client_logout_is_confirmed() -> None:
    pair = connect()
    pair.client.logout(T0 + 1, reason=eto_pb2.LOGOUT_NONE)
    assert pair.client.state is State.LOGGING_OUT
    with pytest.raises(ProtocolError):
        pair.client.send(app(1), T0 + 1)
    with pytest.raises(ProtocolError):
        pair.client.logout(T0 + 1)
    pair.now = T0 + 1
    assert summary(pair.to_server()) == [
        ("Received", "LOGOUT", 2, "NONE"),
        ("SessionEnded", "NONE", True),
    ]
    assert pair.server.state is State.CLOSED
    pair.now = T0 + 2
    assert summary(pair.to_client()) == [
        ("Received", "LOGOUT", 2, "CONFIRMATION"),
        ("SessionEnded", "CONFIRMATION", False),
    ]
    assert pair.client.state is State.CLOSED
    assert wire(pair) == [
        ("c>s", ("LOGOUT", 2, "NONE")),
        ("s>c", ("LOGOUT", 2, "CONFIRMATION")),
    ]
    ended = [e for e in pair.client_events + pair.server_events if isinstance(e, SessionEnded)]
    assert len(ended) == 2
    assert not any(e.resumable for e in ended)
    pair.now = T0 + 3
    pair.settle()
    assert len(wire(pair)) == 2


def test_logout_reason_is_carried() -> None:
    pair = connect()
    pair.client.logout(T0, reason=eto_pb2.LOGOUT_DOWNTIME)
    assert summary(pair.to_server()) == [
        ("Received", "LOGOUT", 2, "DOWNTIME"),
        ("SessionEnded", "DOWNTIME", True),
    ]


def test_server_logout_reaches_the_client_which_confirms() -> None:
    pair = connect()
    pair.server.logout(T0, reason=eto_pb2.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE)
    assert pair.server.state is State.LOGGING_OUT
    assert summary(pair.to_client()) == [
        ("Received", "LOGOUT", 2, "SERVICE_TEMPORARILY_UNAVAILABLE"),
        ("SessionEnded", "SERVICE_TEMPORARILY_UNAVAILABLE", True),
    ]
    assert pair.client.state is State.CLOSED
    assert kinds(pair.client.payloads_to_send()) == [("LOGOUT", 2, "CONFIRMATION")]


def test_simultaneous_logouts_client_side() -> None:
    pair = connect()
    pair.client.logout(T0)
    pair.server.logout(T0)
    # the server's logout reaches the client, which is waiting for a confirmation
    assert summary(pair.to_client()) == [
        ("Received", "LOGOUT", 2, "NONE"),
        ("SessionEnded", "NONE", False),
    ]
    assert pair.client.state is State.CLOSED
    # only its own logout, queued before; no confirmation of the server's
    assert kinds(pair.client.payloads_to_send()) == [("LOGOUT", 2, "NONE")]


def test_client_logging_out_still_takes_application_payloads() -> None:
    client = logged_in_client()
    client.logout(T0)
    client.payloads_to_send()
    events = client.receive_payloads([app_frame(2), eto_frame(PING, 3)], T0)
    assert summary(events) == [("Received", "APP", 2, 2), ("Received", "PING", 3)]
    assert client.payloads_to_send() == []  # no pong while logging out
    assert client.state is State.LOGGING_OUT


def test_nothing_is_sent_or_delivered_after_closed() -> None:
    client = logged_in_client()
    events = client.receive_payloads(
        [logout_frame(2), app_frame(3), eto_frame(PING, 4), eto_frame(REPLAY, 5, replay=1)], T0
    )
    assert summary(events) == [
        ("Received", "LOGOUT", 2, "NONE"),
        ("SessionEnded", "NONE", True),
    ]
    assert kinds(client.payloads_to_send()) == [("LOGOUT", 2, "CONFIRMATION")]
    assert client.state is State.CLOSED
    assert client.receive_payloads([app_frame(3), eto_frame(REPLAY, 4, replay=1)], T0) == []
    assert client.tick(T0 + 10 * TIMEOUT) == []
    assert client.next_deadline() is None
    with pytest.raises(ProtocolError):
        client.send(app(1), T0)
    with pytest.raises(ProtocolError):
        client.logout(T0)
    with pytest.raises(ProtocolError):
        client.login(CREDS, T0)
    assert client.payloads_to_send() == []
    assert client.inseq == 3


def test_closed_core_ignores_even_garbage() -> None:
    client = logged_in_client()
    client.receive_payloads([logout_frame(2)], T0)
    assert client.receive_payloads([b"\xff\xff"], T0) == []


def test_peer_logout_arriving_early_still_ends() -> None:
    client = logged_in_client()
    events = client.receive_payloads([logout_frame(5, eto_pb2.LOGOUT_DOWNTIME)], T0)
    assert summary(events) == [
        ("Received", "LOGOUT", 5, "DOWNTIME"),
        ("SessionEnded", "DOWNTIME", True),
    ]
    # confirmed, and no replay asked of a session that is over
    assert kinds(client.payloads_to_send()) == [("LOGOUT", 2, "CONFIRMATION")]


def test_unknown_logout_reason_reads_as_none() -> None:
    client = logged_in_client()
    raw = logout_frame(2, eto_pb2.LOGOUT_DOWNTIME).replace(b"\x08\x09", b"\x08\x63")
    assert parse(raw).eto_payload.logout.reason == eto_pb2.LOGOUT_NONE  # 99 is unknown
    events = client.receive_payloads([raw], T0)
    assert summary(events) == [("Received", "LOGOUT", 2, "NONE"), ("SessionEnded", "NONE", True)]
    assert kinds(client.payloads_to_send()) == [("LOGOUT", 2, "CONFIRMATION")]


def test_logout_without_its_body_reads_as_none() -> None:
    client = logged_in_client()
    events = client.receive_payloads([eto_frame(LOGOUT, 2)], T0)
    assert summary(events) == [("Received", "LOGOUT", 2, "NONE"), ("SessionEnded", "NONE", True)]


# ---------------------------------------------------------------------------
# Bad input


GARBAGE = [
    b"\xff",
    b"\x0a",
    b"\x08",
    b"\x0f",
    b"\x00",
    b"\x80" * 11,
    b"\x12\x05\x08",
    b"\x12\x01\xff",
    b"\x08\x01\x12\x02\x08",
    b"not protobuf at all",
]


def _cores_in_every_state() -> dict[str, SessionCore]:
    server_waiting = SessionCore(Role.SERVER, now=T0)
    server_deciding = SessionCore(Role.SERVER, now=T0)
    server_deciding.receive_payloads([login_frame(1)], T0)
    client_waiting = SessionCore(Role.CLIENT, SessionState(), now=T0)
    client_logging_in = SessionCore(Role.CLIENT, SessionState(), now=T0)
    client_logging_in.login(CREDS, T0)
    client_logging_out = logged_in_client()
    client_logging_out.logout(T0)
    return {
        "server awaiting login": server_waiting,
        "server deciding": server_deciding,
        "server logged in": logged_in_server(),
        "client awaiting login": client_waiting,
        "client logging in": client_logging_in,
        "client logged in": logged_in_client(),
        "client logging out": client_logging_out,
    }


CORE_STATES = list(_cores_in_every_state())


@pytest.mark.parametrize("where", CORE_STATES)
@pytest.mark.parametrize("garbage", GARBAGE)
def test_undecodable_bytes_raise_protocol_error(where: str, garbage: bytes) -> None:
    core = _cores_in_every_state()[where]
    with pytest.raises(ProtocolError):
        core.receive_payloads([garbage], T0)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=40), where=st.sampled_from(CORE_STATES))
def test_random_bytes_raise_nothing_but_protocol_error(data: bytes, where: str) -> None:
    core = _cores_in_every_state()[where]
    try:
        core.receive_payloads([data], T0)
    except ProtocolError:
        pass
    if core.state is State.CLOSED:
        core.payloads_to_send()
        assert core.receive_payloads([app_frame(2)], T0) == []
        assert core.payloads_to_send() == []


def test_unknown_eto_type_in_a_session_payload_reads_as_none() -> None:
    client = logged_in_client()
    # seto ETO, eto {seq 2, type 42}
    raw = bytes([0x08, 0x01, 0x12, 0x04, 0x08, 0x02, 0x10, 0x2A])
    assert parse(raw).eto_payload.type == eto_pb2.PAYLOAD_NONE
    events = client.receive_payloads([raw, app_frame(3)], T0)
    assert summary(events) == [("Received", "NONE", 2), ("Received", "APP", 3, 3)]
    assert client.payloads_to_send() == []


def test_unknown_eto_type_on_an_application_payload_is_delivered() -> None:
    client = logged_in_client()
    payload = parse(app_frame(2))
    raw = payload.SerializeToString().replace(b"\x10\x01", b"\x10\x2a")
    events = client.receive_payloads([raw], T0)
    assert summary(events) == [("Received", "APP", 2, 2)]


@pytest.mark.parametrize("seq", [0, 1])
def test_wild_low_seqs_are_duplicates(seq: int) -> None:
    client = logged_in_client()
    frames = [app_frame(seq), eto_frame(HEARTBEAT, seq), eto_frame(PING, seq)]
    assert client.receive_payloads(frames, T0) == []
    assert client.payloads_to_send() == []
    assert client.inseq == 2


def test_wild_high_seq_application_payload_asks_one_replay() -> None:
    client = logged_in_client()
    assert client.receive_payloads([app_frame(MAX_U64), app_frame(MAX_U64 - 1)], T0) == []
    assert kinds(client.payloads_to_send()) == [("REPLAY", 2, 2)]
    assert client.inseq == 2
    # and the session carries on normally
    assert summary(client.receive_payloads([app_frame(2)], T0)) == [("Received", "APP", 2, 2)]


def test_wild_high_seq_session_payload() -> None:
    client = logged_in_client()
    events = client.receive_payloads([eto_frame(HEARTBEAT, MAX_U64)], T0)
    assert summary(events) == [("Received", "HEARTBEAT", MAX_U64)]
    assert kinds(client.payloads_to_send()) == [("HEARTBEAT", 2), ("REPLAY", 3, 2)]
    assert client.inseq == 2


def test_wild_seq_on_the_server() -> None:
    server = logged_in_server()
    assert server.receive_payloads([app_frame(MAX_U64), app_frame(0)], T0) == []
    assert kinds(server.payloads_to_send()) == [("REPLAY", 2, 2)]


@settings(max_examples=200, deadline=None)
@given(
    frames=st.lists(
        st.tuples(
            st.sampled_from(
                [seto_pb2.PAYLOAD_ETO, seto_pb2.PAYLOAD_LOGIN, seto_pb2.PAYLOAD_MARKET_SUBSCRIBE]
            ),
            st.sampled_from(sorted(eto_pb2.PayloadType.values())),
            st.one_of(st.integers(0, 12), st.just(MAX_U64)),
            st.booleans(),
            st.integers(0, 12),
        ),
        max_size=12,
    ),
    role=st.sampled_from(list(Role)),
)
def test_structured_fuzz_keeps_the_invariants(
    frames: list[tuple[int, int, int, bool, int]], role: Role
) -> None:
    """Whatever the peer sends: no exception; an application payload is delivered
    only when its seq is the one expected, and then inseq moves past it; inseq never
    goes back; no two REPLAY requests for the same seq; nothing after CLOSED."""
    core = logged_in_client() if role is Role.CLIENT else logged_in_server()
    delivered: list[int] = []
    asked: list[int] = []
    for seto_type, eto_type, seq, is_replay, extra in frames:
        payload = Payload(type=seto_type)
        eto = payload.eto_payload
        eto.seq, eto.type, eto.is_replay = seq, eto_type, is_replay
        if eto_type == REPLAY:
            eto.replay.seq = extra
        elif eto_type == LOGOUT:
            eto.logout.reason = ALL_REASONS[extra % len(ALL_REASONS)]
        elif eto_type == LOGIN_RESPONSE:
            eto.login_response.session = SID
            eto.login_response.reset = extra
        was_closed = core.state is State.CLOSED
        inseq_before = core.inseq
        events = core.receive_payloads([payload.SerializeToString()], T0)
        out = kinds(core.payloads_to_send())
        if was_closed:
            assert events == [] and out == []
        assert core.inseq in (inseq_before, inseq_before + 1)
        apps = [seq for seq, _ in received_apps(events)]
        if apps:
            assert apps == [inseq_before]
            assert core.inseq == inseq_before + 1
        delivered += apps
        asked += [k[2] for k in out if k[0] == "REPLAY"]
    assert delivered == sorted(set(delivered))
    assert asked == sorted(set(asked))


# ---------------------------------------------------------------------------
# Rule 3 end to end: a lossy connection, then the replay mechanism


@st.composite
def lossy_runs(draw: st.DrawFn) -> tuple[int, list[list[int]], list[int]]:
    """N payloads; for each, the delays (0-3 places later) of the copies that get
    through (no copy: dropped; two: duplicated); and the sizes of the batches the
    client reads."""
    n = draw(st.integers(1, 30))
    fates = draw(
        st.lists(
            st.lists(st.integers(0, 3), max_size=2),
            min_size=n,
            max_size=n,
        )
    )
    batches = draw(st.lists(st.integers(1, 6), min_size=1, max_size=8))
    return n, fates, batches


@settings(max_examples=300, deadline=None)
@given(run=lossy_runs())
def test_lossy_connection_then_replay_delivers_each_seq_once_in_order(
    run: tuple[int, list[list[int]], list[int]],
) -> None:
    n, fates, batches = run
    pair = connect()
    client, server = pair.client, pair.server
    for tag in range(1, n + 1):
        server.send(app(tag), T0)
    frames = server.payloads_to_send()
    assert [parse(f).eto_payload.seq for f in frames] == list(range(2, n + 2))

    # The adversary: drop, duplicate, move frames a few places later.
    copies = [
        (index + delay, index, copy, frame)
        for index, (frame, delays) in enumerate(zip(frames, fates, strict=True))
        for copy, delay in enumerate(delays)
    ]
    queue = [frame for *_, frame in sorted(copies)]
    # Afterwards the server idles and heartbeats: that reveals lost tail frames.
    pair.now = T0 + INTERVAL
    server.tick(pair.now)
    queue += server.payloads_to_send()

    delivered: list[Event] = []
    asked: list[int] = []
    step = 0
    while queue:
        size = batches[step % len(batches)]
        step += 1
        batch, queue = queue[:size], queue[size:]
        delivered += pair.to_client(encode_frames(batch))  # one read
        out = client.payloads_to_send()
        asked += [k[2] for k in kinds(out) if k[0] == "REPLAY"]
        server_events = pair.to_server(encode_frames(out))
        assert received_apps(server_events) == []
        queue += server.payloads_to_send()  # what the server sends comes after, in order

    hypothesis_event(f"replay requests: {min(len(asked), 3)}")
    assert received_apps(delivered) == [(seq, seq - 1) for seq in range(2, n + 2)]
    assert asked == sorted(set(asked))  # never the same REPLAY twice
    assert not any(isinstance(e, SessionEnded) for e in delivered)
    assert client.inseq == server.outseq
    assert client.state is State.LOGGED_IN and server.state is State.LOGGED_IN


def test_lossy_connection_example_exact_wire() -> None:
    pair = connect()
    for tag in range(1, 6):
        pair.server.send(app(tag), T0)
    frames = pair.server.payloads_to_send()  # seqs 2..6
    # 3 lost, 5 duplicated and early, 6 lost
    got = [frames[0], frames[3], frames[2], frames[3]]
    # delivered by the adversary, not through the pair: not on its wire log
    assert summary(pair.client.receive_payloads(got, T0)) == [("Received", "APP", 2, 1)]
    assert summary(pair.to_server()) == [("Received", "REPLAY", 2, 3)]
    assert summary(pair.to_client()) == [
        ("Received", "APP", 3, 2, "replay"),
        ("Received", "APP", 4, 3, "replay"),
        ("Received", "APP", 5, 4, "replay"),
        ("Received", "APP", 6, 5, "replay"),
    ]
    assert wire(pair) == [
        ("c>s", ("REPLAY", 2, 3)),
        ("s>c", ("APP", 3, 2, "replay")),
        ("s>c", ("APP", 4, 3, "replay")),
        ("s>c", ("APP", 5, 4, "replay")),
        ("s>c", ("APP", 6, 5, "replay")),
    ]
    pair.settle()
    assert (pair.client.inseq, pair.server.outseq) == (7, 7)


# ---------------------------------------------------------------------------
# Rule 8: resume after a dropped connection


def resume(
    pair: ConnectedPair, now: float, client_state: SessionState | None = None
) -> tuple[ConnectedPair, list[tuple]]:
    """New connections for the same session states; the client logs in and the server
    accepts.  Returns the new pair and the server's accept events."""
    client_state = client_state or pair.client.session
    server_state = pair.server.session
    new = new_pair(now, client_state=client_state)
    seq = new.client.login(CREDS, now)
    assert summary(new.to_server()) == [("LoginRequested", SID, seq)]
    accepted = new.server.accept_login(server_state, now)
    new.server_events.extend(accepted)
    return new, summary(accepted)


def test_resume_when_both_sides_missed_payloads_exact_wire() -> None:
    pair = connect()
    pair.server.send(app(100), T0)
    pair.client.send(app(200), T0)
    pair.settle()
    # sent, then lost with the connection
    pair.server.send(app(300), T0)
    pair.server.send(app(301), T0)
    pair.client.send(app(400), T0)
    pair.client.send(app(401), T0)
    cstate, sstate = pair.client.session, pair.server.session
    assert (cstate.inseq, cstate.outseq, sstate.inseq, sstate.outseq) == (3, 5, 3, 5)
    pair.drop()

    new, accepted = resume(pair, T0 + 1)
    # login 5 > inseq 3: reset 3, and the server asks for 3 on at once
    assert accepted == [("LoggedIn", SID, 3)]
    new.settle()
    assert wire(new) == [
        ("c>s", ("LOGIN", 5, SID)),
        # the client hears of the server's 3..4 only from the login response's seq
        ("s>c", ("LOGIN_RESPONSE", 5, SID, 3)),
        ("s>c", ("REPLAY", 6, 3)),
        # both sides need a replay at once: the early REPLAY is still served
        ("c>s", ("REPLAY", 6, 3)),
        ("c>s", ("APP", 3, 400, "replay")),
        ("c>s", ("APP", 4, 401, "replay")),
        ("c>s", ("GAPFILL", 5, "replay")),
        ("c>s", ("GAPFILL", 6, "replay")),
        ("s>c", ("APP", 3, 300, "replay")),
        ("s>c", ("APP", 4, 301, "replay")),
        ("s>c", ("GAPFILL", 5, "replay")),
        ("s>c", ("GAPFILL", 6, "replay")),
    ]
    assert summary(new.client_events) == [
        ("Received", "LOGIN_RESPONSE", 5, SID, 3),
        ("LoggedIn", SID, 3),
        ("Received", "REPLAY", 6, 3),
        ("Received", "APP", 3, 300, "replay"),
        ("Received", "APP", 4, 301, "replay"),
    ]
    assert summary(new.server_events) == [
        ("LoginRequested", SID, 5),
        ("LoggedIn", SID, 3),
        ("Received", "REPLAY", 6, 3),
        ("Received", "APP", 3, 400, "replay"),
        ("Received", "APP", 4, 401, "replay"),
    ]
    assert (cstate.inseq, cstate.outseq, sstate.inseq, sstate.outseq) == (7, 7, 7, 7)
    assert new.client.session is cstate and new.server.session is sstate
    # and the session simply carries on
    new.client.send(app(500), T0 + 2)
    new.server.send(app(600), T0 + 2)
    new.now = T0 + 2
    assert summary(new.to_server()) == [("Received", "APP", 7, 500)]
    assert summary(new.to_client()) == [("Received", "APP", 7, 600)]


@pytest.mark.parametrize(
    ("k", "m"), [(0, 0), (1, 0), (3, 0), (0, 1), (0, 3), (2, 4), (5, 5)], ids=lambda v: str(v)
)
def test_resume_delivers_exactly_what_was_missed(k: int, m: int) -> None:
    pair = connect()
    for tag in (10, 11):
        pair.server.send(app(tag), T0)
        pair.client.send(app(tag + 10), T0)
    pair.settle()
    assert received_apps(pair.client_events) == [(2, 10), (3, 11)]
    assert received_apps(pair.server_events) == [(2, 20), (3, 21)]
    lost_to_client = [pair.server.send(app(100 + i), T0) for i in range(k)]
    lost_to_server = [pair.client.send(app(200 + i), T0) for i in range(m)]
    assert pair.server.inseq == 4
    pair.drop()

    new, accepted = resume(pair, T0 + 5)
    # the login is seq 4 + m: taken in turn when the server missed nothing
    assert accepted == [("LoggedIn", SID, 4 if m else 5)]
    new.settle()
    assert received_apps(new.client_events) == [
        (seq, 100 + i) for i, seq in enumerate(lost_to_client)
    ]
    assert received_apps(new.server_events) == [
        (seq, 200 + i) for i, seq in enumerate(lost_to_server)
    ]
    replays = [w for w in wire(new) if w[1][0] == "REPLAY"]
    assert replays == (
        ([("s>c", ("REPLAY", 5 + k, 4))] if m else [])
        + ([("c>s", ("REPLAY", 5 + m, 4))] if k else [])
    )
    ended = [e for e in new.client_events + new.server_events if isinstance(e, SessionEnded)]
    assert ended == []
    assert new.client.inseq == new.server.outseq
    assert new.server.inseq == new.client.outseq


def test_resume_with_nothing_missed_needs_no_replay() -> None:
    pair = connect()
    pair.server.send(app(1), T0)
    pair.settle()
    pair.drop()
    new, accepted = resume(pair, T0 + 1)
    assert accepted == [("LoggedIn", SID, 3)]
    new.settle()
    assert wire(new) == [("c>s", ("LOGIN", 2, SID)), ("s>c", ("LOGIN_RESPONSE", 3, SID, 3))]
    assert summary(new.client_events) == [
        ("Received", "LOGIN_RESPONSE", 3, SID, 3),
        ("LoggedIn", SID, 3),
    ]


def test_resume_early_payload_from_the_client_is_taken_from_the_replay() -> None:
    # The client sends at once after its login is answered, before it has
    # served the server's REPLAY: the server drops it as early and takes the copy.
    pair = connect()
    pair.client.send(app(1), T0)  # 2, lost
    pair.drop()
    new, accepted = resume(pair, T0 + 1)
    assert accepted == [("LoggedIn", SID, 2)]
    lr, replay = new.server.payloads_to_send()
    assert kinds([lr, replay]) == [("LOGIN_RESPONSE", 2, SID, 2), ("REPLAY", 3, 2)]
    assert summary(new.to_client(encode_frames([lr]))) == [
        ("Received", "LOGIN_RESPONSE", 2, SID, 2),
        ("LoggedIn", SID, 2),
    ]
    assert new.client.send(app(2), T0 + 1) == 4
    assert summary(new.to_server()) == []  # 4 is early: dropped, gap already asked
    assert new.server.payloads_to_send() == []
    assert summary(new.to_client(encode_frames([replay]))) == [("Received", "REPLAY", 3, 2)]
    assert summary(new.to_server()) == [
        ("Received", "APP", 2, 1, "replay"),
        ("Received", "APP", 4, 2, "replay"),
    ]
    new.settle()
    assert (new.server.inseq, new.client.outseq) == (5, 5)


def test_resume_with_reset_above_outseq_continues_from_reset() -> None:
    # The client lost track of what it sent (restored from older numbers): the
    # server already has up to 4, so it answers reset 5 and the client jumps.
    pair = connect()
    for tag in (1, 2, 3):
        pair.client.send(app(tag), T0)
    pair.settle()
    assert pair.server.inseq == 5
    restored = SessionState(session_id=SID, inseq=pair.client.inseq, outseq=2)
    pair.drop()

    new, accepted = resume(pair, T0 + 1, client_state=restored)
    assert accepted == [("LoggedIn", SID, 5)]
    new.settle()
    assert wire(new) == [("c>s", ("LOGIN", 2, SID)), ("s>c", ("LOGIN_RESPONSE", 2, SID, 5))]
    assert summary(new.client_events) == [
        ("Received", "LOGIN_RESPONSE", 2, SID, 5),
        ("LoggedIn", SID, 5),
    ]
    assert (restored.inseq, restored.outseq) == (3, 5)
    assert (restored.sent.first_seq, len(restored.sent)) == (5, 0)
    # what it sends now is taken, not dropped as a duplicate
    assert new.client.send(app(9), T0 + 2) == 5
    new.now = T0 + 2
    assert summary(new.to_server()) == [("Received", "APP", 5, 9)]


def test_resume_with_reset_below_outseq_gets_the_rest_by_replay() -> None:
    pair = connect()
    pair.client.send(app(1), T0)
    pair.settle()
    pair.client.send(app(2), T0)  # 3, lost
    pair.client.send(app(3), T0)  # 4, lost
    pair.drop()
    new, accepted = resume(pair, T0 + 1)
    assert accepted == [("LoggedIn", SID, 3)]
    frames = new.server.payloads_to_send()
    assert kinds(frames) == [("LOGIN_RESPONSE", 2, SID, 3), ("REPLAY", 3, 3)]
    assert summary(new.to_client(encode_frames(frames))) == [
        ("Received", "LOGIN_RESPONSE", 2, SID, 3),
        ("LoggedIn", SID, 3),
        ("Received", "REPLAY", 3, 3),
    ]
    assert new.client.outseq == 6  # it does not rewind: 3..5 come as the replay
    assert kinds(new.client.payloads_to_send()) == [
        ("APP", 3, 2, "replay"),
        ("APP", 4, 3, "replay"),
        ("GAPFILL", 5, "replay"),
    ]


def test_resume_twice_in_a_row_without_traffic() -> None:
    pair = connect()
    pair.server.send(app(1), T0)
    pair.drop()
    # the second connection drops right after the login
    second, _ = resume(pair, T0 + 1)
    second.drop()
    third, accepted = resume(second, T0 + 2)
    assert accepted == [("LoggedIn", SID, 4)]  # logins 2 and 3 both reached the server
    third.settle()
    assert received_apps(third.client_events) == [(2, 1)]
    assert [w[1] for w in wire(third) if w[0] == "s>c"] == [
        ("LOGIN_RESPONSE", 4, SID, 4),
        ("APP", 2, 1, "replay"),
        ("GAPFILL", 3, "replay"),
        ("GAPFILL", 4, "replay"),
    ]


Op = tuple[str, int]


@st.composite
def connection_lives(draw: st.DrawFn) -> list[list[Op]]:
    """Per connection, a list of steps: ("s", tag) the server sends, ("c", tag)
    the client sends, (">s", n) / (">c", n) n frames in flight get through."""
    lives = []
    tag = 0
    for _ in range(draw(st.integers(1, 4))):
        ops: list[Op] = []
        for _ in range(draw(st.integers(0, 12))):
            what = draw(st.sampled_from(["s", "c", ">s", ">c"]))
            if what in ("s", "c"):
                tag += 1
                ops.append((what, tag))
            else:
                ops.append((what, draw(st.integers(1, 4))))
        lives.append(ops)
    return lives


@settings(max_examples=200, deadline=None)
@given(lives=connection_lives())
def test_resume_property_nothing_lost_nothing_twice(lives: list[list[Op]]) -> None:
    """Connections that drop at any point, even mid-handshake or mid-replay:
    after a last reconnect, each side has every payload of the other once, in order."""
    pair = connect()
    now = T0
    sent_by = {"s": [], "c": []}
    got_by = {"s": [], "c": []}

    replayed = [0]

    def collect(events: list[Event], side: str) -> None:
        assert not any(isinstance(e, SessionEnded) for e in events)
        got_by[side].extend(tag for _, tag in received_apps(events))
        replayed[0] += sum(
            1 for e in events if isinstance(e, Received) and e.payload.eto_payload.is_replay
        )
        for event in events:
            if isinstance(event, LoginRequested):
                accepted = pair.server.accept_login(server_state, now)
                collect(accepted, "s")

    server_state = pair.server.session
    client_state = pair.client.session
    for index, ops in enumerate(lives):
        if index:
            pair.drop()
            now += 1
            pair = new_pair(now, client_state=client_state)
            pair.client.login(CREDS, now)
        pending = {"s": [], "c": []}  # frames in flight towards s / c
        for what, value in ops:
            pending["s"] += pair.client.payloads_to_send()
            pending["c"] += pair.server.payloads_to_send()
            if what in ("s", "c"):
                core = pair.server if what == "s" else pair.client
                if core.state is State.LOGGED_IN:
                    core.send(app(value), now)
                    sent_by[what].append(value)
            else:
                side = what[1]
                frames, pending[side] = pending[side][:value], pending[side][value:]
                deliver = pair.to_server if side == "s" else pair.to_client
                collect(deliver(encode_frames(frames)), side)

    # a last connection that does not drop
    pair.drop()
    now += 1
    pair = new_pair(now, client_state=client_state)
    pair.client.login(CREDS, now)
    for _ in range(20):
        c_out = pair.client.data_to_send()
        collect(pair.to_server(c_out), "s")
        s_out = pair.server.data_to_send()
        collect(pair.to_client(s_out), "c")
        if not c_out and not s_out:
            break
    hypothesis_event(f"connections: {len(lives) + 1}")
    hypothesis_event(f"replayed payloads delivered: {'yes' if replayed[0] else 'no'}")
    assert got_by["c"] == sent_by["s"]
    assert got_by["s"] == sent_by["c"]
    assert client_state.inseq == server_state.outseq
    assert server_state.inseq == client_state.outseq


# ---------------------------------------------------------------------------
# Bugs: each test states the expected behaviour and fails today.


def test_server_logout_is_confirmed() -> None:
    pair = connect()
    pair.server.logout(T0, reason=eto_pb2.LOGOUT_DOWNTIME)
    pair.to_client()
    assert summary(pair.to_server()) == [
        ("Received", "LOGOUT", 2, "CONFIRMATION"),
        ("SessionEnded", "CONFIRMATION", False),
    ]
    assert pair.server.state is State.CLOSED
    assert pair.server.payloads_to_send() == []


def test_simultaneous_logouts_server_side() -> None:
    pair = connect()
    pair.client.logout(T0)
    pair.server.logout(T0)
    pair.server.payloads_to_send()  # (its logout, delivered elsewhere)
    assert summary(pair.to_server()) == [
        ("Received", "LOGOUT", 2, "NONE"),
        ("SessionEnded", "NONE", False),
    ]
    assert pair.server.state is State.CLOSED
    assert pair.server.payloads_to_send() == []


def test_server_logging_out_still_takes_payloads_and_serves_replays() -> None:
    server = logged_in_server()
    server.send(app(7), T0)
    server.logout(T0)
    server.payloads_to_send()
    events = server.receive_payloads([app_frame(2), eto_frame(REPLAY, 3, replay=2)], T0)
    assert summary(events) == [("Received", "APP", 2, 2), ("Received", "REPLAY", 3, 2)]
    assert kinds(server.payloads_to_send()) == [
        ("APP", 2, 7, "replay"),
        ("GAPFILL", 3, "replay"),
    ]
    assert server.state is State.LOGGING_OUT


def test_payloads_held_behind_the_login_stop_at_a_logout() -> None:
    server = SessionCore(Role.SERVER, now=T0)
    frames = [login_frame(1), logout_frame(2), app_frame(3), eto_frame(REPLAY, 4, replay=1)]
    server.receive_payloads(frames, T0)
    events = server.accept_login(SessionState(session_id=SID), T0)
    assert summary(events) == [
        ("LoggedIn", SID, 2),
        ("Received", "LOGOUT", 2, "NONE"),
        ("SessionEnded", "NONE", True),
    ]
    assert kinds(server.payloads_to_send()) == [
        ("LOGIN_RESPONSE", 1, SID, 2),
        ("LOGOUT", 2, "CONFIRMATION"),
    ]


def _missing_required() -> dict[str, tuple[str, bytes]]:
    no_eto = app(5)
    no_seq = app(5)
    no_seq.eto_payload.type = eto_pb2.PAYLOAD_NONE
    replay_no_seq = session_payload(REPLAY)
    replay_no_seq.eto_payload.seq = 2
    replay_no_seq.eto_payload.replay.SetInParent()
    lr_no_session = session_payload(LOGIN_RESPONSE)
    lr_no_session.eto_payload.seq = 1
    lr_no_session.eto_payload.login_response.reset = 2
    login_no_session = parse(login_frame(1))
    login_no_session.eto_payload.login.SetInParent()
    cancel_no_order = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL)
    cancel_no_order.eto_payload.seq = 2
    cancel_no_order.order_cancel.SetInParent()
    cases = {
        "empty payload": ("client logged in", Payload()),
        "no seto type": ("client logged in", parse(eto_frame(HEARTBEAT, 2))),
        "no eto_payload": ("client logged in", no_eto),
        "no eto seq": ("client logged in", no_seq),
        "replay without seq": ("client logged in", replay_no_seq),
        "login response without session": ("client logging in", lr_no_session),
        "eto login without session": ("server awaiting login", login_no_session),
        "nested required field": ("client logged in", cancel_no_order),
    }
    cases["no seto type"][1].ClearField("type")
    return {
        name: (where, payload.SerializePartialToString())
        for name, (where, payload) in cases.items()
    }


MISSING_REQUIRED = _missing_required()


def test_missing_required_fixtures_are_incomplete() -> None:
    for where, frame in MISSING_REQUIRED.values():
        assert where in CORE_STATES
        payload = Payload()
        payload.ParseFromString(frame)
        assert not payload.IsInitialized()


@pytest.mark.parametrize("name", list(MISSING_REQUIRED))
def test_payload_missing_required_fields_raises_protocol_error(name: str) -> None:
    where, frame = MISSING_REQUIRED[name]
    core = _cores_in_every_state()[where]
    with pytest.raises(ProtocolError):
        core.receive_payloads([frame], T0)


def test_unknown_seto_payload_type_raises_protocol_error() -> None:
    client = logged_in_client()
    raw = app_frame(2).replace(b"\x08\x0a", b"\x08\x63", 1)  # seto type 99
    assert not parse(raw).HasField("type")
    with pytest.raises(ProtocolError):
        client.receive_payloads([raw], T0)


def test_login_response_reset_at_the_top_of_the_seq_range() -> None:
    client = SessionCore(Role.CLIENT, SessionState(), now=T0)
    client.login(CREDS, T0)
    client.payloads_to_send()
    try:
        client.receive_payloads([lr_frame(1, SID, MAX_U64)], T0)
        client.receive_payloads([eto_frame(PING, 2)], T0)
        client.receive_payloads([eto_frame(PING, 3)], T0)
    except ProtocolError:
        return  # refusing the reset, or the seq overflow, as a protocol error: fine
    # or carrying on without ever numbering a payload beyond the uint64 range
    assert all(parse(f).eto_payload.seq <= MAX_U64 for f in client.payloads_to_send())


def test_payloads_before_an_undecodable_one_are_not_lost() -> None:
    pair = connect()
    pair.server.send(app(42), T0)
    [good] = pair.server.payloads_to_send()
    delivered: list[tuple[int, int]] = []
    with pytest.raises(ProtocolError) as info:
        pair.to_client(encode_frames([good, b"\xff"]))
    delivered += received_apps(getattr(info.value, "events", []))
    # the connection is unusable: the session resumes on a new one
    pair.drop()
    new, _ = resume(pair, T0 + 1)
    new.settle()
    delivered += received_apps(new.client_events)
    assert delivered == [(2, 42)]


def test_unconfirmed_logout_closes_at_the_heartbeat_timeout() -> None:
    pair = connect()
    pair.client.logout(T0 + 1)
    pair.client.payloads_to_send()  # the confirmation never comes
    # No heartbeats while logging out: the only deadline is the timeout.
    assert pair.client.next_deadline() == T0 + TIMEOUT
    assert pair.client.tick(T0 + TIMEOUT - 0.5) == []
    assert pair.client.tick(T0 + TIMEOUT) == [
        SessionEnded(eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT, by_peer=False)
    ]
    # Closed quietly: a second logout would be pointless.
    assert pair.client.payloads_to_send() == []
    assert pair.client.next_deadline() is None


def test_client_sends_nothing_before_its_login() -> None:
    pair = connect()
    pair.client.send(app(1), T0)
    pair.drop()
    client = SessionCore(Role.CLIENT, pair.client.session, now=T0 + 1)
    try:
        client.receive_payloads([eto_frame(REPLAY, 3, replay=2)], T0 + 1)
    except ProtocolError:
        pass
    assert client.payloads_to_send() == []
    client.login(CREDS, T0 + 1)
    assert kinds(client.payloads_to_send()) == [("LOGIN", 3, SID)]


def test_gapfill_is_never_delivered_whatever_its_seto_type() -> None:
    client = logged_in_client()
    payload = parse(app_frame(2, is_replay=True))
    payload.eto_payload.type = GAPFILL
    events = client.receive_payloads([payload.SerializeToString(), app_frame(3)], T0)
    assert summary(events) == [("Received", "APP", 3, 3)]
    assert client.inseq == 4


def _with_bad_utf8(frame: bytes, text: str) -> bytes:
    encoded = text.encode()
    assert frame.count(bytes([len(encoded)]) + encoded) == 1
    return frame.replace(bytes([len(encoded)]) + encoded, b"\x01\xff")


def test_login_with_a_non_utf8_session_id() -> None:
    server = SessionCore(Role.SERVER, now=T0)
    try:
        events = server.receive_payloads([_with_bad_utf8(login_frame(4, "X"), "X")], T0)
    except ProtocolError:
        return
    assert all(isinstance(e.session_id, str) for e in events if isinstance(e, LoginRequested))


def test_login_response_with_a_non_utf8_session_id() -> None:
    client = SessionCore(Role.CLIENT, SessionState(), now=T0)
    client.login(CREDS, T0)
    client.payloads_to_send()
    try:
        client.receive_payloads([_with_bad_utf8(lr_frame(1, "X", 2), "X")], T0)
    except ProtocolError:
        return
    assert isinstance(client.session.session_id, str)


def test_wire_debug_logging_works_and_hides_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("DEBUG", logger="smarkets.wire"):
        pair = connect()
        pair.client.send(app(1), T0)
        pair.settle()
    assert "hunter2" not in caplog.text
    assert "client sent" in caplog.text and "server received" in caplog.text
