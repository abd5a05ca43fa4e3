"""How the client fails over real sockets: logouts, refusals, timeouts, TLS, closed sockets."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
from scripted_server import ScriptedServer, ServerConnection

import smarkets
from smarkets.proto import eto_pb2
from smarkets.protocol.framing import encode_frame

R = eto_pb2

#: Every logout reason, and the exception the client raises when the server ends with it.
EXPECTED = {
    R.LOGOUT_NONE: smarkets.LoggedOutError,
    R.LOGOUT_HEARTBEAT_TIMEOUT: smarkets.HeartbeatTimeoutError,
    R.LOGOUT_CONFIRMATION: smarkets.LoggedOutError,
    R.LOGOUT_LOGIN_TIMEOUT: smarkets.LoginTimeoutError,
    R.LOGOUT_LOGIN_NOT_FIRST_SEQ: smarkets.LoggedOutError,
    R.LOGOUT_UNKNOWN_SESSION: smarkets.UnknownSessionError,
    R.LOGOUT_UNAUTHORISED: smarkets.LoginError,
    R.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE: smarkets.LoggedOutError,
    R.LOGOUT_DOWNTIME: smarkets.DowntimeError,
    R.LOGOUT_INVALID_PAYLOAD: smarkets.PayloadRejectedError,
    R.LOGOUT_UNSUPPORTED_PAYLOAD: smarkets.PayloadRejectedError,
}
RESUMABLE = {R.LOGOUT_HEARTBEAT_TIMEOUT, R.LOGOUT_LOGIN_TIMEOUT}


def test_every_reason_is_covered() -> None:
    assert set(EXPECTED) == set(eto_pb2.LogoutReason.values())


@pytest.mark.parametrize("reason", sorted(EXPECTED), ids=eto_pb2.LogoutReason.Name)
def test_server_logout_surfaces_as_exception(make_settings, tmp_path: Path, reason: int) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login(extensions=1)  # extension reasons go to extension sessions only
        conn.logout(reason)
        conn.expect_end()  # the client confirmed
        confirmation = conn.received[-1].eto_payload
        assert confirmation.logout.reason == R.LOGOUT_CONFIRMATION

    store = smarkets.FileStateStore(tmp_path / "state.json")
    with ScriptedServer(script) as server:
        session = smarkets.Session(make_settings(server.port), state_store=store)
        client = smarkets.Smarkets(session)
        reasons: list[int] = []
        client.add_handler("eto.logout", lambda eto: reasons.append(eto.logout.reason))
        client.login()
        with pytest.raises(EXPECTED[reason]) as caught:
            client.read()
    error = caught.value
    assert isinstance(error, smarkets.SessionEndedError)
    assert error.reason == reason
    assert error.reason_name == eto_pb2.LogoutReason.Name(reason)
    assert error.reason_name in str(error)
    assert error.resumable == (reason in RESUMABLE)
    assert error.by_peer
    assert reasons == [reason]  # the logout payload was dispatched before the raise
    assert not session.logged_in
    # A resumable session keeps its saved numbers; an ended one forgets them.
    assert (store.load() is not None) == (reason in RESUMABLE)


REFUSALS = {
    R.LOGOUT_UNAUTHORISED: smarkets.LoginError,
    R.LOGOUT_UNKNOWN_SESSION: smarkets.UnknownSessionError,
    R.LOGOUT_LOGIN_NOT_FIRST_SEQ: smarkets.LoggedOutError,
    R.LOGOUT_SERVICE_TEMPORARILY_UNAVAILABLE: smarkets.LoggedOutError,
    R.LOGOUT_DOWNTIME: smarkets.DowntimeError,
}


@pytest.mark.parametrize("reason", sorted(REFUSALS), ids=eto_pb2.LogoutReason.Name)
def test_login_refused(make_settings, reason: int) -> None:
    def script(conn: ServerConnection) -> None:
        conn.refuse_login(reason)

    with ScriptedServer(script) as server:
        session = smarkets.Session(make_settings(server.port))
        with pytest.raises(REFUSALS[reason]) as caught:
            session.login()
    assert caught.value.reason == reason
    assert not caught.value.resumable
    assert not session.logged_in
    assert session.session is None


def test_unknown_session_then_a_new_one(make_settings) -> None:
    def refuse(conn: ServerConnection) -> None:
        assert conn.expect_login().session_id == "dead9999"
        conn.refuse_login(R.LOGOUT_UNKNOWN_SESSION)

    def accept(conn: ServerConnection) -> None:
        request = conn.expect_login()
        assert (request.session_id, request.seq) == (None, 1)
        conn.accept_login()
        conn.expect_end()

    with ScriptedServer(refuse, accept) as server:
        session = smarkets.Session(make_settings(server.port), "dead9999", 5, 7)
        with pytest.raises(smarkets.UnknownSessionError):
            session.login()
        session.login()  # the old session is gone: a new one starts
        assert (session.session, session.outseq) == ("a19999", 2)
        session.logout()


def test_client_heartbeat_timeout(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.go_silent()

    with ScriptedServer(script) as server:
        settings = make_settings(server.port, heartbeat_interval=0.05, heartbeat_timeout=0.3)
        client = smarkets.Smarkets(smarkets.Session(settings))
        client.login()
        with pytest.raises(smarkets.HeartbeatTimeoutError) as caught:
            client.read()
        assert caught.value.resumable
        assert not caught.value.by_peer
        assert not client.session.logged_in


def test_login_timeout(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.expect_login()
        conn.go_silent()

    with ScriptedServer(script) as server:
        session = smarkets.Session(make_settings(server.port, login_timeout=0.2))
        with pytest.raises(smarkets.LoginTimeoutError) as caught:
            session.login()
        assert caught.value.resumable
        assert not session.logged_in


def test_read_timeout(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.go_silent()

    with ScriptedServer(script) as server:
        client = smarkets.Smarkets(smarkets.Session(make_settings(server.port, socket_timeout=0.2)))
        client.login()
        with pytest.raises(smarkets.SocketTimeout) as caught:
            client.read()
        assert isinstance(caught.value, TimeoutError)
        assert f"127.0.0.1:{server.port}" in str(caught.value)
        assert client.session.logged_in  # a quiet server is not a failure yet
        client.session.disconnect()


def test_close_mid_frame(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.close_mid_frame()

    with ScriptedServer(script) as server:
        client = smarkets.Smarkets(smarkets.Session(make_settings(server.port)))
        client.login()
        with pytest.raises(smarkets.ConnectionClosed) as caught:
            client.read()
    assert caught.value.mid_frame
    assert caught.value.buffered == 20
    assert "middle of a frame" in str(caught.value)
    assert f"127.0.0.1:{server.port}" in str(caught.value)
    assert not client.session.logged_in


def test_clean_close_then_resume(make_settings) -> None:
    def first(conn: ServerConnection) -> None:
        conn.accept_login()

    def second(conn: ServerConnection) -> None:
        assert conn.expect_login().session_id == "a19999"
        conn.accept_login()
        conn.expect_end()

    with ScriptedServer(first, second) as server:
        client = smarkets.Smarkets(smarkets.Session(make_settings(server.port)))
        client.login()
        with pytest.raises(smarkets.ConnectionClosed) as caught:
            client.read()
        assert not caught.value.mid_frame
        client.login()  # a dropped connection leaves the session resumable
        client.logout()


def test_oversized_frame_is_a_protocol_error(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.expect("eto.ping")
        conn.sock.sendall(bytes.fromhex("80 80 80 01"))  # declares 2 MiB

    with ScriptedServer(script) as server:
        client = smarkets.Smarkets(smarkets.Session(make_settings(server.port)))
        client.login()
        client.ping()
        client.flush()
        with pytest.raises(smarkets.ProtocolError, match=f"127.0.0.1:{server.port}"):
            client.read(2)  # the pong, if it came in a read of its own, then the bad frame
    assert not client.session.logged_in


@pytest.mark.parametrize(
    ("garbage", "match"),
    [
        (b"\xff\xff\xff\xff", "undecodable"),
        # An order_accepted without its order id: a required field is missing.
        (bytes.fromhex("0805 1204 0802 1001 3202 0801"), "required"),
    ],
    ids=["undecodable", "missing-required-field"],
)
@pytest.mark.parametrize(("grant", "told"), [(1, R.LOGOUT_INVALID_PAYLOAD), (0, R.LOGOUT_NONE)])
def test_a_bad_payload_is_answered_by_logout_before_closing(
    make_settings, tmp_path: Path, garbage: bytes, match: str, grant: int, told: int
) -> None:
    reasons: list[int] = []

    def script(conn: ServerConnection) -> None:
        conn.accept_login(extensions=grant)
        conn.expect("eto.ping")
        conn.sock.sendall(encode_frame(garbage))
        ended = conn.expect_end()  # the client said why before closing
        assert ended.by_peer
        reasons.append(conn.received[-1].eto_payload.logout.reason)

    store = smarkets.FileStateStore(tmp_path / "state.json")
    with ScriptedServer(script) as server:
        session = smarkets.Session(make_settings(server.port), state_store=store)
        client = smarkets.Smarkets(session)
        client.login()
        client.ping()
        client.flush()
        with pytest.raises(smarkets.ProtocolError, match=match):
            client.read(2)
    assert reasons == [told]
    assert not session.logged_in
    assert store.load() is None  # ended by logout: not resumable


def test_connection_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    settings = smarkets.SessionSettings("alice", "pw", host="127.0.0.1", port=port, ssl=False)
    with pytest.raises(smarkets.ConnectError, match=f"127.0.0.1:{port}") as caught:
        smarkets.Smarkets(smarkets.Session(settings)).login()
    assert (caught.value.host, caught.value.port) == ("127.0.0.1", port)


# -- TLS ---------------------------------------------------------------------------


def tls_script(conn: ServerConnection) -> None:
    conn.accept_login()
    conn.expect("eto.ping")
    conn.expect_end()


def never_runs(conn: ServerConnection) -> None:
    raise AssertionError("the TLS handshake should have failed")


@pytest.mark.parametrize("key", ["ca_file", "cafile"])
def test_tls_with_a_ca_file(make_settings, server_ssl_context, ca_file: Path, key: str) -> None:
    with ScriptedServer(tls_script, ssl_context=server_ssl_context) as server:
        settings = make_settings(server.port, ssl=True, ssl_kwargs={key: str(ca_file)})
        client = smarkets.Smarkets(smarkets.Session(settings))
        client.login()
        assert isinstance(client.session.socket._sock, ssl.SSLSocket)
        client.ping()
        client.flush()
        client.read()
        client.logout()


def test_tls_with_a_context(make_settings, server_ssl_context, ca_file: Path) -> None:
    context = ssl.create_default_context(cafile=str(ca_file))
    with ScriptedServer(tls_script, ssl_context=server_ssl_context) as server:
        settings = make_settings(server.port, ssl=True, ssl_kwargs={"context": context})
        client = smarkets.Smarkets(smarkets.Session(settings))
        client.login()
        client.ping()
        client.flush()
        client.read()
        client.logout()


@pytest.mark.parametrize("with_ca", [True, False], ids=["test-ca", "system-store"])
def test_tls_unverified_certificate_refused(
    make_settings, untrusted_ssl_context, ca_file: Path, with_ca: bool
) -> None:
    with ScriptedServer(never_runs, ssl_context=untrusted_ssl_context) as server:
        kwargs = {"ca_file": str(ca_file)} if with_ca else {}
        settings = make_settings(server.port, ssl=True, ssl_kwargs=kwargs)
        with pytest.raises(smarkets.TLSError, match="certificate") as caught:
            smarkets.Session(settings).login()
    assert f"127.0.0.1:{server.port}" in str(caught.value)


def test_tls_host_name_mismatch_refused(
    make_settings, wrong_host_ssl_context, ca_file: Path
) -> None:
    with ScriptedServer(never_runs, ssl_context=wrong_host_ssl_context) as server:
        settings = make_settings(server.port, ssl=True, ssl_kwargs={"ca_file": str(ca_file)})
        with pytest.raises(smarkets.TLSError, match="(?i)mismatch|doesn't match") as caught:
            smarkets.Session(settings).login()
    assert f"127.0.0.1:{server.port}" in str(caught.value)


def test_plain_client_is_not_silently_downgraded(make_settings, server_ssl_context) -> None:
    """TLS is the default: a client left at defaults refuses a plain-TCP server."""

    def script(conn: ServerConnection) -> None:
        conn.go_silent()

    with ScriptedServer(script) as server:
        settings = smarkets.SessionSettings("alice", "pw", host="127.0.0.1", port=server.port)
        settings.socket_timeout = 0.3
        with pytest.raises(smarkets.TLSError):
            smarkets.Session(settings).login()


def test_undecodable_payload_ends_the_session_and_the_next_login_starts_anew(
    make_settings,
) -> None:
    def first(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.expect("eto.ping")
        conn.write([b"\xff\xff\xff"])  # not a seto Payload
        conn.expect_end()  # the client's LOGOUT: the session is over (PROTOCOL.md 4.7)

    def second(conn: ServerConnection) -> None:
        assert conn.expect_login().session_id is None  # a new session, not a resume
        conn.accept_login()
        conn.expect_end()

    with ScriptedServer(first, second) as server:
        client = smarkets.Smarkets(smarkets.Session(make_settings(server.port)))
        client.login()
        client.ping()
        client.flush()
        with pytest.raises(smarkets.ProtocolError, match=f"127.0.0.1:{server.port}"):
            client.read(2)
        assert not client.session.logged_in
        client.login()
        assert client.session.logged_in and client.session.session != "a19999"
        client.logout()
