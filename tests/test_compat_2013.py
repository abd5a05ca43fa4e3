"""The 2013 SDK's names and signatures, on the in-memory server (tests/conftest.py)."""

from __future__ import annotations

import builtins
import importlib
import inspect

import pytest

import smarkets
from smarkets import errors
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import session_payload


def U(n: int) -> seto_pb2.Uuid128:
    return seto_pb2.Uuid128(low=n)


# -- module paths and exception names --------------------------------------------------------


def test_the_2013_module_paths() -> None:
    sessions = importlib.import_module("smarkets.sessions")
    clients = importlib.import_module("smarkets.clients")
    assert sessions.SessionSettings is smarkets.SessionSettings
    assert sessions.Session is smarkets.Session
    assert sessions.SessionSocket is smarkets.SessionSocket
    assert clients.Smarkets is smarkets.Smarkets
    assert importlib.import_module("smarkets.orders").Order is smarkets.Order
    assert importlib.import_module("smarkets.events").Politics is smarkets.Politics


def test_the_2013_exception_names() -> None:
    from smarkets import exceptions

    assert exceptions.Error is errors.Error
    assert exceptions.ConnectionError is errors.SocketError
    assert exceptions.SocketDisconnected is errors.ConnectionClosed
    assert exceptions.InvalidCallbackError is errors.UnknownHandlerError
    assert exceptions.DecodeError is errors.ProtocolError
    assert exceptions.ParseError is errors.ProtocolError
    assert exceptions.InvalidUrlError is errors.InvalidUrlError
    assert exceptions.DownloadError is errors.DownloadError
    for name in ("SocketDisconnected", "InvalidCallbackError", "DecodeError", "ParseError"):
        assert getattr(smarkets, name) is getattr(exceptions, name)
        assert name in smarkets.__all__
    for name in ("InvalidUrlError", "DownloadError", "InvalidRequestError"):
        assert name in smarkets.__all__
        assert issubclass(getattr(smarkets, name), smarkets.Error)


def test_connection_error_does_not_hide_the_builtin() -> None:
    assert smarkets.ConnectionError is smarkets.SocketError
    assert "ConnectionError" not in smarkets.__all__
    from smarkets import exceptions

    assert "ConnectionError" not in exceptions.__all__
    namespace: dict[str, object] = {}
    exec("from smarkets import *", namespace)
    exec("from smarkets.exceptions import *", namespace)
    assert "ConnectionError" not in namespace
    assert builtins.ConnectionError is not smarkets.ConnectionError


def test_the_2013_exceptions_are_what_is_raised(make_session, loopback) -> None:
    client = smarkets.Smarkets(make_session())
    with pytest.raises(smarkets.InvalidCallbackError):
        client.add_handler("eto.no_such_kind", print)
    client.login()

    def closed_by_the_server() -> bytes:
        loopback.connected = False
        return b""  # what SessionSocket reads at EOF

    loopback.recv_data = closed_by_the_server
    loopback.inbox.append(b"")  # readable
    with pytest.raises(smarkets.SocketDisconnected):
        client.read()
    with pytest.raises(smarkets.exceptions.ConnectionError):
        client.session.socket.send_data(b"\x00\x00\x00\x00")  # not connected any more


def test_invalid_request_error_names_its_reason() -> None:
    error = smarkets.InvalidRequestError(5, seto_pb2.INVALID_REQUEST_DATE_OUT_OF_RANGE)
    assert (error.seq, error.reason) == (5, 1)
    assert error.reason_name == "INVALID_REQUEST_DATE_OUT_OF_RANGE"
    assert "5" in str(error) and "DATE_OUT_OF_RANGE" in str(error)
    assert smarkets.InvalidRequestError(1, 99).reason_name == "99"


# -- signatures ----------------------------------------------------------------------------------


def test_the_2013_signatures() -> None:
    def params(fn: object) -> list[str]:
        return list(inspect.signature(fn).parameters)  # type: ignore[arg-type]

    assert params(smarkets.Session)[:4] == ["settings", "session_id", "inseq", "outseq"]
    assert params(smarkets.Smarkets) == ["session", "auto_flush"]
    assert params(smarkets.Smarkets.login) == ["self", "receive"]
    assert params(smarkets.Smarkets.logout) == ["self", "receive"]
    assert params(smarkets.Smarkets.read)[:2] == ["self", "num"]  # then this project's timeout
    assert params(smarkets.Smarkets.str_to_uuid128) == ["uuid_str", "uuid128", "strip_tag"]
    assert params(smarkets.Smarkets.copy_payload) == ["payload"]
    assert params(smarkets.Smarkets.fetch_http_found) == ["self", "payload", "incoming_payload"]
    assert params(smarkets.Smarkets.order_cancel) == ["self", "order_id"]
    assert params(smarkets.Smarkets.request_events) == ["self", "request"]
    for name in (
        "flush",
        "send",
        "ping",
        "subscribe",
        "unsubscribe",
        "order",
        "request_account_state",
        "request_orders_for_account",
        "request_orders_for_market",
        "add_handler",
        "add_global_handler",
        "del_handler",
        "del_global_handler",
    ):
        assert callable(getattr(smarkets.Smarkets, name)), name


def test_str_to_uuid128_fills_a_given_uuid128() -> None:
    target = seto_pb2.Uuid128(low=1, high=2)
    result = smarkets.Smarkets.str_to_uuid128("fc024", target)
    assert result is target
    assert target == U(0xF) and not target.HasField("high")
    assert smarkets.Smarkets.str_to_uuid128("fc024") == U(0xF)
    assert smarkets.Smarkets.str_to_uuid128("fc024", strip_tag=False) == U(0xFC024)
    assert smarkets.Smarkets.str_to_uuid128("fc024", None, False) == U(0xFC024)
    with pytest.raises(TypeError):
        smarkets.Smarkets.str_to_uuid128("fc024", seto_pb2.Payload())  # type: ignore[arg-type]
    untouched = U(7)
    with pytest.raises(smarkets.InvalidIdError):
        smarkets.Smarkets.str_to_uuid128("xyz", untouched)
    assert untouched == U(7)


def test_copy_payload_is_an_independent_copy() -> None:
    payload = seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_ACCEPTED)
    payload.order_accepted.seq = 3
    payload.order_accepted.order.low = 9
    copy = smarkets.Smarkets.copy_payload(payload)
    assert copy == payload and copy is not payload and type(copy) is seto_pb2.Payload
    payload.order_accepted.seq = 4
    assert copy.order_accepted.seq == 3
    eto = session_payload(eto_pb2.PAYLOAD_PONG).eto_payload
    assert smarkets.Smarkets.copy_payload(eto) == eto
    with pytest.raises(TypeError):
        smarkets.Smarkets.copy_payload({"type": 1})  # type: ignore[arg-type]


# -- the client ------------------------------------------------------------------------------


def test_auto_flush_sends_each_payload_at_once(make_session, loopback) -> None:
    client = smarkets.Smarkets(make_session(), auto_flush=True)
    client.login()
    writes = loopback.writes
    client.ping()
    assert client.queued == 0
    assert loopback.writes == writes + 1
    assert loopback.received[-1].eto_payload.type == eto_pb2.PAYLOAD_PING
    order = client.order(smarkets.Order(400000, 2500, smarkets.Order.BUY, "fc024", "1cccc"))
    assert order.state == "sent" and order.seq == loopback.received[-1].eto_payload.seq
    assert loopback.writes == writes + 2
    client.request_events(smarkets.Politics())
    assert loopback.received[-1].type == seto_pb2.PAYLOAD_EVENTS_REQUEST
    client.logout()


def test_without_auto_flush_nothing_is_sent_until_flush(make_session, loopback) -> None:
    client = smarkets.Smarkets(make_session())
    assert client.auto_flush is False
    client.login()
    writes = loopback.writes
    client.ping()
    client.send(session_payload(eto_pb2.PAYLOAD_PING))  # the 2013 name of queue()
    assert (client.queued, loopback.writes) == (2, writes)
    client.flush()
    assert (client.queued, loopback.writes) == (0, writes + 1)


def test_auto_flush_before_the_login_raises_and_keeps_the_payload(make_session, loopback) -> None:
    client = smarkets.Smarkets(make_session(), auto_flush=True)
    with pytest.raises(smarkets.NotLoggedInError):
        client.ping()
    assert client.queued == 1
    client.login()
    client.flush()
    assert loopback.received[-1].eto_payload.type == eto_pb2.PAYLOAD_PING


def test_order_cancel_is_cancel(make_session, loopback) -> None:
    client = smarkets.Smarkets(make_session())
    client.login()
    client.order_cancel("9fff0")
    client.order_cancel(U(0xA))
    client.flush()
    cancels = [p.order_cancel.order for p in loopback.received[-2:]]
    assert cancels == [U(9), U(0xA)]
    assert all(p.type == seto_pb2.PAYLOAD_ORDER_CANCEL for p in loopback.received[-2:])
    with pytest.raises(smarkets.InvalidIdError):
        client.order_cancel("9c024")  # a market id is not an order id


def test_request_events_queues_the_request(make_session, loopback) -> None:
    client = smarkets.Smarkets(make_session())
    client.login()
    import datetime

    queued = client.request_events(smarkets.TennisByDate(datetime.date(2024, 1, 2)))
    (seq,) = client.flush()
    sent = loopback.received[-1]
    assert sent.eto_payload.seq == seq == queued.eto_payload.seq
    assert sent.events_request == smarkets.TennisByDate(datetime.date(2024, 1, 2)).to_message()
    with pytest.raises(TypeError):
        client.request_events(seto_pb2.EventsRequest())  # type: ignore[arg-type]


def test_fetch_http_found_refuses_a_payload_without_one(make_session) -> None:
    client = smarkets.Smarkets(make_session())
    with pytest.raises(ValueError, match="no http_found"):
        client.fetch_http_found(seto_pb2.Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE))
    with pytest.raises(TypeError):
        client.fetch_http_found("https://localhost/events")  # type: ignore[arg-type]
    found = seto_pb2.HttpFound(seq=1, url="ftp://localhost/events")
    with pytest.raises(smarkets.InvalidUrlError):
        client.fetch_http_found(found)


# -- login(receive=False) and logout(receive=False) ----------------------------------------------


def test_session_connected(make_session) -> None:
    session = make_session()
    assert session.connected is False
    session.login()
    assert session.connected is True
    session.disconnect()
    assert session.connected is False


def test_login_without_receiving_leaves_the_response_to_read(make_session, loopback) -> None:
    session = make_session()
    client = smarkets.Smarkets(session)
    seen: list[tuple[str, seto_pb2.Payload]] = []
    client.add_global_handler(lambda name, payload: seen.append((name, payload)))
    assert (session.connected, session.session, session.inseq, session.outseq) == (
        False,
        None,
        1,
        1,
    )
    client.login(False)
    assert session.connected and not session.logged_in
    assert seen == []  # nothing read yet
    assert loopback.received[-1].type == seto_pb2.PAYLOAD_LOGIN
    with pytest.raises(smarkets.NotLoggedInError):
        session.send(session_payload(eto_pb2.PAYLOAD_PING))  # not before the response
    client.login(False)  # already sent: not sent again
    assert sum(p.type == seto_pb2.PAYLOAD_LOGIN for p in loopback.received) == 1
    (payload,) = client.read()
    assert seen[0][0] == "eto.login_response"
    assert payload.eto_payload.login_response.session == session.session == "19999"
    # The session took the response as login() would have.
    assert session.logged_in
    assert session.extensions == smarkets.protocol.extensions.EXTENSIONS_VERSION
    assert (session.inseq, session.outseq) == (2, 2)
    client.ping()
    client.flush()
    client.read()
    assert seen[-1][0] == "eto.pong"


def test_a_refused_login_is_raised_by_read(make_session, loopback) -> None:
    loopback.refuse = eto_pb2.LOGOUT_UNAUTHORISED
    client = smarkets.Smarkets(make_session())
    client.login(receive=False)
    with pytest.raises(smarkets.LoginError):
        client.read()
    with pytest.raises(smarkets.NotLoggedInError):
        client.read()
    loopback.refuse = None
    client.login()
    assert client.session.logged_in


def test_a_blocking_login_completes_one_sent_without_receiving(make_session, loopback) -> None:
    client = smarkets.Smarkets(make_session())
    names: list[str] = []
    client.add_global_handler(lambda name, payload: names.append(name))
    client.login(receive=False)
    client.login()
    assert names == ["eto.login_response"]
    assert sum(p.type == seto_pb2.PAYLOAD_LOGIN for p in loopback.received) == 1


def test_logout_without_receiving_leaves_the_confirmation_to_read(make_session, loopback) -> None:
    client = smarkets.Smarkets(make_session())
    names: list[str] = []
    client.add_global_handler(lambda name, payload: names.append(name))
    client.login()
    client.logout(receive=False)
    assert loopback.received[-1].eto_payload.type == eto_pb2.PAYLOAD_LOGOUT
    client.read()
    assert names[-1] == "eto.logout"
    assert not client.session.connected
    with pytest.raises(smarkets.SocketDisconnected, match="after the logout"):
        client.read()
    with pytest.raises(smarkets.NotLoggedInError):
        client.read()  # told once; then it is an ended session like any other
    client.login()
    assert client.session.session == "29999"  # a logged-out session is not resumed


def test_a_blocking_logout_still_ends_with_not_logged_in(make_session) -> None:
    client = smarkets.Smarkets(make_session())
    client.login()
    client.logout()
    with pytest.raises(smarkets.NotLoggedInError):
        client.read()
