"""The client's session behaviour over real sockets: login, resume, replay, heartbeats."""

from __future__ import annotations

import logging

import pytest
from conftest import PASSWORD
from scripted_server import ScriptedServer, ServerConnection, payload, uuid

import smarkets
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol.names import payload_name

OPEN = seto_pb2.MARKET_STATUS_OPEN


def market_state(n: int) -> seto_pb2.Payload:
    """An exchange payload telling one market (numbered ``n``) apart from the others."""
    return payload("market_state", market=uuid(n), state=OPEN)


def connect(settings: smarkets.SessionSettings, **kwargs) -> tuple[smarkets.Smarkets, list[int]]:
    """A logged-in client whose ``seto.market_state`` handler records the market numbers."""
    session = smarkets.Session(settings, **kwargs)
    client = smarkets.Smarkets(session)
    markets: list[int] = []
    client.add_handler("seto.market_state", lambda message: markets.append(message.market.low))
    client.login()
    return client, markets


def names_of(payloads: list[seto_pb2.Payload]) -> list[str]:
    return [payload_name(p)[0] for p in payloads]


def test_new_session(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.expect_end()

    with ScriptedServer(script) as server:
        client, _ = connect(make_settings(server.port))
        session = client.session
        assert session.logged_in
        assert session.session == "a19999"
        assert (session.inseq, session.outseq) == (2, 2)
        client.logout()
        assert not session.logged_in


def test_resume_after_disconnect_loses_nothing_and_repeats_nothing(make_settings) -> None:
    def first(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.send(market_state(1))
        conn.wait_closed()
        # Sent while the connection was dying: numbered and kept, never delivered.
        conn.send(market_state(2), drop=True)
        conn.send(market_state(3), drop=True)

    def second(conn: ServerConnection) -> None:
        assert conn.expect_login().session_id == "a19999"
        conn.accept_login()
        replay = conn.expect("eto.replay")  # the core has answered it
        assert replay.eto_payload.replay.seq == 3
        conn.expect_end()

    with ScriptedServer(first, second) as server:
        client, markets = connect(make_settings(server.port))
        assert names_of(client.read()) == ["seto.market_state"]
        client.session.disconnect()
        assert not client.session.logged_in
        client.login()
        assert client.session.session == "a19999"
        client.read(2)
        assert markets == [1, 2, 3]
        client.logout()
    # login response 1, market states 2-4, the second login response 5, the logout
    # confirmation 6.
    assert client.session.inseq == 7


def test_resume_in_a_new_process_with_explicit_numbers(make_settings) -> None:
    def first(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.send(market_state(1))
        conn.wait_closed()
        conn.send(market_state(2), drop=True)

    def second(conn: ServerConnection) -> None:
        request = conn.expect_login()
        assert (request.session_id, request.seq) == ("a19999", 2)
        conn.accept_login()
        conn.expect_end()

    with ScriptedServer(first, second) as server:
        settings = make_settings(server.port)
        client, markets = connect(settings)
        client.read()
        numbers = (client.session.session, client.session.inseq, client.session.outseq)
        client.session.disconnect()
        # A restarted script: a new Session from the saved numbers.
        client2, markets2 = connect(settings, session_id=numbers[0], inseq=numbers[1], outseq=2)
        client2.read()
        assert markets == [1]
        assert markets2 == [2]
        client2.logout()


def test_state_store_resumes_a_restarted_script(make_settings, tmp_path) -> None:
    store = smarkets.FileStateStore(tmp_path / "session.json")

    def first(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.send(market_state(1))
        conn.wait_closed()
        conn.send(market_state(2), drop=True)

    def second(conn: ServerConnection) -> None:
        assert conn.expect_login().session_id == "a19999"
        conn.accept_login()
        conn.expect_end()

    with ScriptedServer(first, second) as server:
        settings = make_settings(server.port)
        client, markets = connect(settings, state_store=store)
        client.read()
        assert store.load() == smarkets.SavedSession("a19999", 3, 2)
        client.session.disconnect()
        client2, markets2 = connect(settings, state_store=store)
        assert client2.session.session == "a19999"
        client2.read()
        assert markets + markets2 == [1, 2]
        # In: login responses 1 and 4, market states 2 and 3.  Out: logins 1 and 2,
        # the REPLAY asking for market state 3.
        assert store.load() == smarkets.SavedSession("a19999", 5, 4)
        client2.logout()
    assert store.load() is None  # a logged-out session cannot be resumed


def test_server_asks_again_for_what_it_missed_after_a_resume(make_settings) -> None:
    def first(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.expect("seto.market_subscribe")
        conn.wait_closed()

    def second(conn: ServerConnection) -> None:
        request = conn.expect_login()
        # Pretend the subscription (seq 2) never reached the server.
        conn.server.sessions[request.session_id].inseq = 2
        conn.accept_login()  # the core asks the client for a replay from 2
        again = conn.expect("seto.market_subscribe")
        assert again.eto_payload.is_replay
        assert again.eto_payload.seq == 2
        conn.expect_end()

    with ScriptedServer(first, second) as server:
        client, _ = connect(make_settings(server.port))
        client.subscribe("fc024")
        client.flush()
        client.session.disconnect()
        client.login()
        assert names_of(client.read()) == ["eto.replay"]
        client.logout()


def test_ping_answered_with_pong(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.send_ping()
        conn.expect("eto.pong")
        conn.expect("eto.ping")
        conn.expect_end()

    with ScriptedServer(script) as server:
        client, _ = connect(make_settings(server.port))
        assert names_of(client.read()) == ["eto.ping"]
        client.ping()
        client.flush()
        assert names_of(client.read()) == ["eto.pong"]
        client.logout()


def test_server_heartbeat_answered(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.send_heartbeat()
        conn.expect("eto.heartbeat")
        conn.expect_end()

    with ScriptedServer(script) as server:
        client, _ = connect(make_settings(server.port))
        beats: list[object] = []
        client.add_handler("eto.heartbeat", beats.append)
        client.read()
        assert len(beats) == 1
        client.logout()


def test_heartbeats_go_out_while_idle_in_read(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.expect("eto.heartbeat")
        conn.expect("eto.heartbeat")
        conn.send(market_state(7))
        conn.expect_end()

    with ScriptedServer(script) as server:
        settings = make_settings(server.port, heartbeat_interval=0.05, heartbeat_timeout=10.0)
        client, markets = connect(settings)
        client.read()  # the server answers only once it has two heartbeats
        assert markets == [7]
        client.logout()


def test_gap_is_replayed_and_each_seq_delivered_once_in_order(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.send(market_state(1))
        conn.send(market_state(2), drop=True)
        conn.send(market_state(3))
        conn.send(market_state(4))
        replay = conn.expect("eto.replay")
        assert replay.eto_payload.replay.seq == 3
        conn.expect_end()
        replays = [p for p in conn.received if p.eto_payload.type == eto_pb2.PAYLOAD_REPLAY]
        assert len(replays) == 1  # asked once per gap

    with ScriptedServer(script) as server:
        client, markets = connect(make_settings(server.port))
        seqs: list[int] = []
        client.add_global_handler(lambda name, p: seqs.append(p.eto_payload.seq))
        client.read(4)
        assert markets == [1, 2, 3, 4]
        assert seqs == [2, 3, 4, 5]
        client.logout()


def test_duplicates_are_dropped(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.send(market_state(1))
        conn.send_duplicate()
        conn.send_duplicate()
        conn.send(market_state(2))
        conn.expect_end()

    with ScriptedServer(script) as server:
        client, markets = connect(make_settings(server.port))
        client.read(2)
        assert markets == [1, 2]
        assert client.session.read_events(timeout=0) == []
        client.logout()


def test_gapfill_is_consumed_not_dispatched_nor_counted(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.send_heartbeat(drop=True)  # lost: replayed as a GAPFILL
        conn.send(market_state(1))
        conn.expect("eto.replay")
        conn.expect_end()
        assert not any(p.eto_payload.type == eto_pb2.PAYLOAD_HEARTBEAT for p in conn.received)

    with ScriptedServer(script) as server:
        client, markets = connect(make_settings(server.port))
        names: list[str] = []
        client.add_global_handler(lambda name, p: names.append(name))
        dispatched = client.read(1)
        assert names_of(dispatched) == ["seto.market_state"]
        assert names == ["seto.market_state"]
        assert markets == [1]
        assert client.session.inseq == 4
        client.logout()


def replayed_of(conn: ServerConnection) -> list[seto_pb2.Payload]:
    """What the client resent (``is_replay``), as the server received it."""
    return [p for p in conn.received if p.eto_payload.is_replay]


def test_server_replay_request_answered_from_what_was_sent(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.expect("eto.ping")
        conn.expect("seto.market_subscribe")
        conn.request_replay(2)
        conn.wait_until("the replay", lambda: len(replayed_of(conn)) == 2)
        conn.expect_end()

    with ScriptedServer(script) as server:
        client, _ = connect(make_settings(server.port))
        client.ping()
        client.subscribe("fc024")
        client.flush()
        assert names_of(client.read(2)) == ["eto.pong", "eto.replay"]
        client.logout()
    replayed = replayed_of(server.connections[0])
    # The ping comes back as a GAPFILL (never acted on twice); the subscription as itself.
    assert [(p.eto_payload.seq, p.eto_payload.type) for p in replayed] == [
        (2, eto_pb2.PAYLOAD_GAPFILL),
        (3, eto_pb2.PAYLOAD_NONE),
    ]
    assert replayed[1].market_subscribe.market == uuid(0xF)


def test_our_logout_ends_quietly_and_the_next_login_is_a_new_session(make_settings) -> None:
    def first(conn: ServerConnection) -> None:
        conn.accept_login()
        logout = conn.expect("eto.logout")
        assert logout.eto_payload.logout.reason == eto_pb2.LOGOUT_NONE
        conn.wait_closed()

    def second(conn: ServerConnection) -> None:
        request = conn.expect_login()
        assert (request.session_id, request.seq) == (None, 1)
        conn.accept_login()
        conn.expect_end()

    with ScriptedServer(first, second) as server:
        client, _ = connect(make_settings(server.port))
        confirmations: list[int] = []
        client.add_handler("eto.logout", lambda eto: confirmations.append(eto.logout.reason))
        client.logout()
        assert confirmations == [eto_pb2.LOGOUT_CONFIRMATION]
        assert not client.session.logged_in
        with pytest.raises(smarkets.NotLoggedInError):
            client.read()
        client.login()
        assert client.session.session == "a29999"
        client.logout()


def test_handler_may_flush_from_inside_read(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        for n in range(5):
            create = conn.expect("seto.order_create")
            conn.send(payload("order_accepted", seq=create.eto_payload.seq, order=uuid(n + 1)))
        conn.expect_end()

    with ScriptedServer(script) as server:
        client, _ = connect(make_settings(server.port))
        placed: list[smarkets.Order] = []

        def place(*_args) -> None:
            if len(placed) < 5:
                order = smarkets.Order(400000, 2500, smarkets.Order.BUY, "fc024", "1cccc")
                order.on_accepted = place
                placed.append(client.order(order))
                client.flush()

        place()
        client.read(5)
        assert [o.state for o in placed] == ["accepted"] * 5
        assert [o.id.low for o in placed] == [1, 2, 3, 4, 5]
        client.logout()


def test_credentials_never_logged(make_settings, caplog: pytest.LogCaptureFixture) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.expect("eto.ping")
        conn.expect_end()

    caplog.set_level(logging.DEBUG, logger="smarkets")
    with ScriptedServer(script) as server:
        client, _ = connect(make_settings(server.port))
        client.ping()
        client.flush()
        client.read()
        client.logout()
    assert "LOGIN" in caplog.text  # the wire log shows the login payload …
    assert PASSWORD not in caplog.text  # … with the password masked
    assert {r.name for r in caplog.records} >= {"smarkets.session", "smarkets.wire"}


def test_read_events_polls_without_blocking(make_settings) -> None:
    def script(conn: ServerConnection) -> None:
        conn.accept_login()
        conn.expect("eto.ping")
        conn.expect_end()

    with ScriptedServer(script) as server:
        client, _ = connect(make_settings(server.port))
        assert client.session.read_events(timeout=0) == []
        client.ping()
        client.flush()
        client.read()
        client.logout()
