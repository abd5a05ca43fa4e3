"""smarkets.protocol.testing: what ConnectedPair offers tests (log_in, the wire log, drop...)."""

from __future__ import annotations

import pytest

from smarkets.errors import LocalProtocolError, RemoteProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import LoggedIn, LoginRequested, Received, SessionState, State
from smarkets.protocol.framing import encode_frame
from smarkets.protocol.testing import TO_CLIENT, TO_SERVER, ConnectedPair


def logged_in_pair(**options: float) -> ConnectedPair:
    pair = ConnectedPair(now=5.0, **options)
    pair.log_in()
    return pair


def ping() -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ETO)
    payload.eto_payload.type = eto_pb2.PAYLOAD_PING
    return payload


def crossed(pair: ConnectedPair) -> list[tuple[str, int, int]]:
    """The wire log as (direction, seto type, eto seq)."""
    out = []
    for direction, data in pair.wire:
        payload = seto_pb2.Payload.FromString(data)
        out.append((direction, payload.type, payload.eto_payload.seq))
    return out


def test_log_in_does_the_whole_handshake() -> None:
    pair = ConnectedPair(now=5.0)
    pair.log_in()
    assert pair.client.state is pair.server.state is State.LOGGED_IN
    assert [type(e) for e in pair.server_events] == [LoginRequested]
    assert [type(e) for e in pair.client_events] == [Received, LoggedIn]
    assert pair.client.session.session_id == pair.server.session.session_id == "s-1"
    (login,) = [seto_pb2.Payload.FromString(data) for d, data in pair.wire if d == TO_SERVER]
    assert login.login.username == "alice"


def test_log_in_with_a_session_credentials_and_extensions() -> None:
    pair = ConnectedPair()
    session = SessionState("b-2")
    pair.log_in(session, seto_pb2.Login(username="bob", password="pw2"), extensions=1)
    assert pair.server.session is session and pair.client.session.session_id == "b-2"
    assert pair.client.extensions == pair.server.extensions == 1
    assert pair.server_events[0].payload.login.username == "bob"


def test_log_in_that_cannot_happen_raises() -> None:
    stale = ConnectedPair()
    # The server serves a session whose first 6 payloads it no longer keeps: the client,
    # new, asks for them, and the server ends the session.
    with pytest.raises(AssertionError, match="not logged in: State.CLOSED, State.CLOSED"):
        stale.log_in(SessionState("b-2", inseq=1, outseq=7))
    pair = ConnectedPair()
    pair.client.login(seto_pb2.Login(username="alice", password="pw"), pair.now)
    with pytest.raises(LocalProtocolError, match="cannot log in"):  # it did already
        pair.log_in()
    pair = ConnectedPair()
    with pytest.raises(ValueError, match="id"):  # the server needs a session with an id
        pair.log_in(SessionState())


def test_the_wire_logs_each_payload_that_crossed_in_order() -> None:
    pair = logged_in_pair()
    assert crossed(pair) == [
        (TO_SERVER, seto_pb2.PAYLOAD_LOGIN, 1),
        (TO_CLIENT, seto_pb2.PAYLOAD_ETO, 1),  # the login response
    ]
    pair.client.send(ping(), pair.now)
    pair.client.send(ping(), pair.now)
    pair.settle()  # two pings in one write, two pongs back
    assert crossed(pair)[2:] == [
        (TO_SERVER, seto_pb2.PAYLOAD_ETO, 2),
        (TO_SERVER, seto_pb2.PAYLOAD_ETO, 3),
        (TO_CLIENT, seto_pb2.PAYLOAD_ETO, 2),
        (TO_CLIENT, seto_pb2.PAYLOAD_ETO, 3),
    ]
    assert (TO_SERVER, TO_CLIENT) == ("c>s", "s>c")


def test_the_wire_logs_a_payload_once_its_frame_is_complete() -> None:
    pair = logged_in_pair()
    pair.server.send(ping(), pair.now)
    data = pair.server.data_to_send()
    before = len(pair.wire)
    assert pair.to_client(data[:2]) == []
    assert len(pair.wire) == before  # half a frame: nothing crossed yet, as far as anyone knows
    assert [type(e) for e in pair.to_client(data[2:])] == [Received]
    assert crossed(pair)[before:] == [(TO_CLIENT, seto_pb2.PAYLOAD_ETO, 2)]


def test_what_a_test_gives_is_logged_and_delivered() -> None:
    pair = logged_in_pair()
    heartbeat = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ETO)
    heartbeat.eto_payload.type = eto_pb2.PAYLOAD_HEARTBEAT
    heartbeat.eto_payload.seq = 2
    (event,) = pair.to_client(encode_frame(heartbeat.SerializeToString()))
    assert isinstance(event, Received) and event.seq == 2
    assert pair.client_events[-1] is event
    assert pair.wire[-1] == (TO_CLIENT, heartbeat.SerializeToString())
    assert pair.to_client(b"") == [] and pair.wire[-1] == (TO_CLIENT, heartbeat.SerializeToString())


def test_drop_loses_what_both_sides_had_to_send() -> None:
    pair = logged_in_pair()
    before = list(pair.wire)
    pair.client.send(ping(), pair.now)
    pair.server.send(ping(), pair.now)
    pair.drop()
    assert pair.client.data_to_send() == b"" and pair.server.data_to_send() == b""
    pair.settle()
    assert pair.wire == before  # nothing crossed
    # the payloads were numbered all the same: the next one shows the peer a gap
    assert (pair.client.outseq, pair.server.outseq) == (3, 3)
    assert (pair.client.inseq, pair.server.inseq) == (2, 2)


def test_bytes_that_break_the_framing_end_the_log_not_the_test_harness() -> None:
    pair = logged_in_pair()
    before = list(pair.wire)
    with pytest.raises(RemoteProtocolError):
        pair.to_client(b"\x80" * 11)  # a length header longer than 10 bytes
    assert pair.client.framing_failed
    assert pair.wire == before
    with pytest.raises(RemoteProtocolError):
        pair.to_client(encode_frame(b"\x08\x01"))  # the client reads nothing more
    assert pair.wire == before
    pair.client.send(ping(), pair.now)
    pair.to_server()  # the other direction is not affected
    assert crossed(pair)[-1] == (TO_SERVER, seto_pb2.PAYLOAD_ETO, 2)


def test_options_reach_both_connections() -> None:
    pair = logged_in_pair(heartbeat_interval=2.0, heartbeat_timeout=6.0, max_payload_size=64)
    for side in (pair.client, pair.server):
        assert (side.heartbeat_interval, side.heartbeat_timeout) == (2.0, 6.0)
    with pytest.raises(RemoteProtocolError, match="64"):
        pair.to_server(encode_frame(b"x" * 65))


def test_time_is_the_pairs_and_a_test_may_set_it() -> None:
    pair = logged_in_pair(heartbeat_interval=2.0, heartbeat_timeout=6.0)
    pair.now += 1.0  # no timers run: only advance() runs them
    assert pair.client.data_to_send() == b""
    pair.advance(1.0)  # both sides last sent at 5.0: heartbeats due at 7.0
    assert pair.now == 7.0
    pair.settle()
    assert [k[1:] for k in crossed(pair)[-3:]] == [(seto_pb2.PAYLOAD_ETO, s) for s in (2, 2, 3)]
