"""SessionCore.detached: a core with no connection that keeps a session numbered and stored."""

from __future__ import annotations

import pytest

from smarkets.errors import ProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    LoggedIn,
    LoginRequested,
    Received,
    ReplayStore,
    Role,
    SessionCore,
    SessionState,
    State,
    is_session_level,
    session_payload,
)
from smarkets.protocol.testing import ConnectedPair

NOW = 100.0


def market_state(n: int) -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)
    payload.market_state.market.low = n
    payload.market_state.state = seto_pb2.MARKET_STATUS_OPEN
    return payload


def logged_in_state(outseq: int = 5, inseq: int = 3) -> SessionState:
    return SessionState("a9999", inseq, outseq, sent=ReplayStore(first_seq=outseq))


@pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT])
def test_numbers_and_keeps_without_output(role: Role) -> None:
    state = logged_in_state()
    core = SessionCore.detached(role, state, now=NOW)
    assert core.is_detached
    assert core.state is State.LOGGED_IN
    assert [core.send(market_state(n), NOW) for n in (1, 2)] == [5, 6]
    assert core.payloads_to_send() == []  # nothing to write: no connection
    assert state.outseq == 7
    assert [seq for seq, _ in state.sent.since(5)] == [5, 6]
    kept = [seto_pb2.Payload.FromString(data) for _, data in state.sent.since(5)]
    assert [p.market_state.market.low for p in kept] == [1, 2]
    assert state.inseq == 3  # nothing received


def test_has_no_timers_and_takes_no_input() -> None:
    core = SessionCore.detached(Role.SERVER, logged_in_state(), now=NOW)
    assert core.next_deadline() is None
    assert core.tick(NOW + 10_000) == []  # no heartbeat, no heartbeat timeout
    assert core.payloads_to_send() == []
    heartbeat = session_payload(eto_pb2.PAYLOAD_HEARTBEAT)
    heartbeat.eto_payload.seq = 3
    with pytest.raises(ProtocolError, match="detached"):
        core.receive_payloads([heartbeat.SerializeToString()], NOW)
    with pytest.raises(ProtocolError, match="detached"):
        core.logout(NOW)
    with pytest.raises(ProtocolError):
        core.login(seto_pb2.Login(username="u", password="p"), NOW)


def test_needs_a_session_with_an_id() -> None:
    with pytest.raises(ValueError, match="id"):
        SessionCore.detached(Role.SERVER, SessionState(), now=NOW)


def test_a_live_core_is_not_detached() -> None:
    assert not SessionCore(Role.CLIENT, now=NOW).is_detached


def test_what_a_parked_server_session_kept_is_replayed_on_resume() -> None:
    """The sandbox's use: a session whose connection dropped keeps receiving its messages."""
    server_state = SessionState("a9999", sent=ReplayStore())
    server_state.sent.clear(first_seq=1)
    client_state = SessionState()
    # First connection: login, one payload delivered.
    pair = ConnectedPair(now=NOW, client_state=client_state)
    pair.client.login(seto_pb2.Login(username="u", password="p"), NOW)
    (requested,) = pair.to_server()
    assert isinstance(requested, LoginRequested)
    pair.server.accept_login(server_state, NOW)
    pair.server.send(market_state(1), NOW)
    events = pair.to_client()
    assert [type(e) for e in events] == [Received, LoggedIn, Received]
    # The connection drops; the server parks the session on a detached core.
    pair.drop()
    parked = SessionCore.detached(Role.SERVER, server_state, now=NOW)
    for n in (2, 3):
        parked.send(market_state(n), NOW)
    parked.send(session_payload(eto_pb2.PAYLOAD_HEARTBEAT), NOW)  # kept as a marker
    parked.send(market_state(4), NOW)
    # The client resumes on a new connection; the server replays what it missed.
    pair = ConnectedPair(now=NOW, client_state=client_state)
    pair.client.login(seto_pb2.Login(username="u", password="p"), NOW)
    (requested,) = pair.to_server()
    assert requested.session_id == "a9999"
    pair.server.accept_login(server_state, NOW)
    pair.settle()  # login response, REPLAY, the replay
    delivered = [
        event.payload.market_state.market.low
        for event in pair.client_events
        if isinstance(event, Received) and not is_session_level(event.payload)
    ]
    assert delivered == [2, 3, 4]  # each once, in order; the heartbeat was a gapfill
    assert client_state.inseq == server_state.outseq
