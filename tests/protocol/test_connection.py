"""The Connection (framing + session rules) and the in-memory ConnectedPair."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smarkets.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import LoggedIn, LoginRequested, Received, SessionEnded, SessionState
from smarkets.protocol.connection import Connection
from smarkets.protocol.framing import encode_frame
from smarkets.protocol.states import Role, State
from smarkets.protocol.testing import ConnectedPair

LOGIN = seto_pb2.Login(username="alice", password="pw")


def logged_in_pair() -> ConnectedPair:
    pair = ConnectedPair(now=100.0)
    pair.client.login(LOGIN, pair.now)
    pair.settle()
    (request,) = pair.server_events
    assert isinstance(request, LoginRequested) and request.session_id is None
    pair.server.accept_login(SessionState("s-1"), pair.now)
    pair.settle()
    # The login response reaches the application too (eto.login_response), then LoggedIn.
    assert [type(e) for e in pair.client_events] == [Received, LoggedIn]
    return pair


def ping() -> seto_pb2.Payload:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ETO)
    payload.eto_payload.type = eto_pb2.PAYLOAD_PING
    return payload


def test_a_pair_logs_in_pings_and_logs_out() -> None:
    pair = logged_in_pair()
    assert pair.client.state is pair.server.state is State.LOGGED_IN
    pair.client.send(ping(), pair.now)
    pair.settle()  # the server answers PONG by itself: session mechanics, no event
    assert pair.client.inseq == pair.server.outseq == 3  # login response 1, pong 2
    pair.client.logout(pair.now)
    pair.settle()
    assert isinstance(pair.server_events[-1], SessionEnded)
    assert pair.server_events[-1].by_peer
    assert pair.client.state is pair.server.state is State.CLOSED
    assert pair.client.data_to_send() == b"" and pair.server.data_to_send() == b""


@given(cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_bytes_split_anywhere_give_the_same_events(cuts: list[int]) -> None:
    pair = logged_in_pair()
    for n in range(5):
        news = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
        news.account_state_request.account.low = n
        pair.server.send(news, pair.now)
    data = pair.server.data_to_send()
    received = []
    start = 0
    for cut in sorted({min(c, len(data)) for c in cuts}) + [len(data)]:
        received += pair.client.receive_data(data[start:cut], pair.now)
        start = cut
    assert [e.payload.account_state_request.account.low for e in received] == list(range(5))
    assert all(isinstance(e, Received) for e in received)
    assert pair.client.buffered == 0


def test_an_unfinished_frame_is_held_and_counted() -> None:
    pair = logged_in_pair()
    pair.server.send(ping(), pair.now)
    data = pair.server.data_to_send()
    assert pair.client.receive_data(data[:-2], pair.now) == []
    assert pair.client.buffered > 0
    pair.client.receive_data(data[-2:], pair.now)
    assert pair.client.buffered == 0


def test_a_bad_frame_header_fails_the_framing() -> None:
    conn = Connection(Role.SERVER, now=0.0, max_payload_size=16)
    with pytest.raises(ProtocolError):
        conn.receive_data(b"\x80" * 11, 0.0)  # a header longer than 10 bytes
    assert conn.framing_failed
    big = Connection(Role.SERVER, now=0.0, max_payload_size=16)
    with pytest.raises(ProtocolError, match="16"):
        big.receive_data(encode_frame(b"x" * 17), 0.0)


def test_an_undecodable_payload_is_a_protocol_error_not_a_framing_one() -> None:
    conn = Connection(Role.SERVER, now=0.0)
    with pytest.raises(ProtocolError):
        conn.receive_data(encode_frame(b"\xff\xff\xff"), 0.0)
    assert not conn.framing_failed


def test_time_moves_only_when_the_test_says() -> None:
    pair = ConnectedPair(heartbeat_interval=5.0, heartbeat_timeout=15.0)
    pair.client.login(LOGIN, pair.now)
    pair.settle()
    pair.server.accept_login(SessionState("s-1"), pair.now)
    pair.settle()
    assert pair.client.data_to_send() == b""
    pair.advance(5.0)  # a heartbeat is due on both sides
    assert pair.client.data_to_send() != b""
    assert pair.advance(60.0)  # nobody heard anything: both time out
    assert pair.client.state is State.CLOSED


def test_a_pair_that_never_settles_is_reported() -> None:
    pair = logged_in_pair()
    for side in (pair.client, pair.server):
        receive = side.receive_data

        # Each side answers whatever it receives with a ping of its own, forever.
        def chatty(data: bytes, now: float, side=side, receive=receive) -> list:
            events = receive(data, now)
            side.send(ping(), now)
            return events

        side.receive_data = chatty  # type: ignore[method-assign]
    pair.client.send(ping(), pair.now)
    with pytest.raises(AssertionError, match="still talking after 5 rounds"):
        pair.settle(max_rounds=5)


def test_misuse_is_a_local_error_and_bad_input_a_remote_one() -> None:
    conn = Connection(Role.CLIENT, now=0.0)
    with pytest.raises(LocalProtocolError, match="cannot send while awaiting login"):
        conn.send(ping(), 0.0)
    with pytest.raises(LocalProtocolError, match="cannot log out"):
        conn.logout(0.0)
    incomplete = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
    incomplete.order_create.SetInParent()  # its required fields unset
    pair = logged_in_pair()
    with pytest.raises(LocalProtocolError, match="cannot encode"):
        pair.client.send(incomplete, pair.now)
    assert pair.client.data_to_send() == b""  # nothing went out
    with pytest.raises(RemoteProtocolError, match="undecodable"):
        pair.client.receive_data(encode_frame(b"\xff\xff"), pair.now)
    with pytest.raises(RemoteProtocolError):
        Connection(Role.SERVER, now=0.0).receive_data(b"\xff" * 11, 0.0)
    # Both are ProtocolErrors, for a script that does not care which.
    assert issubclass(LocalProtocolError, ProtocolError)
    assert issubclass(RemoteProtocolError, ProtocolError)
