"""The trading script of the README runs unchanged against a real server over TCP/TLS."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripted_server import ScriptedServer, ServerConnection, payload, uuid

import smarkets
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol.extensions import EXTENSIONS_VERSION

ORDER_ID = uuid(0x99)


def exchange_script(conn: ServerConnection) -> None:
    """Answer login, the ping, the subscription and the order, then the logout."""
    request = conn.expect_login()
    login = request.payload.login
    assert (login.username, login.password) == ("alice", "s3cret-pa55word")
    assert login.extensions == EXTENSIONS_VERSION  # asked for by default
    conn.accept_login()  # a server of 2013: grants none, and the script works all the same
    conn.expect("eto.ping")  # the core answers PONG
    sub = conn.expect("seto.market_subscribe")
    assert sub.market_subscribe.market == uuid(0xF)
    conn.send(
        payload(
            "market_quotes",
            market=sub.market_subscribe.market,
            price_type=seto_pb2.PRICE_PERCENT_ODDS,
            quantity_type=seto_pb2.QUANTITY_PAYOFF_CURRENCY,
        )
    )
    create = conn.expect("seto.order_create").order_create
    assert (create.quantity, create.price, create.side) == (400000, 2500, smarkets.Order.BUY)
    assert create.contract == uuid(0xF)
    conn.send(
        payload(
            "order_accepted",
            seq=conn.received[-1].eto_payload.seq,
            order=ORDER_ID,
        )
    )
    conn.expect_end()
    conn.wait_closed()


def run_script(username: str, password: str, port: int) -> tuple[list[str], smarkets.Order]:
    """The script from the brief, word for word but for the port (the server's is
    random) and a global handler that records what arrives."""
    seen: list[str] = []
    settings = smarkets.SessionSettings(username, password)
    settings.host = "localhost"
    settings.port = port
    session = smarkets.Session(settings)
    client = smarkets.Smarkets(session)
    client.add_global_handler(lambda name, message: seen.append(name))
    client.login()
    client.ping()
    client.flush()
    client.read()
    market_id = client.str_to_uuid128("fc024")
    client.subscribe(market_id)
    client.flush()
    client.read()
    order = smarkets.Order()
    order.quantity = 400000
    order.price = 2500
    order.side = smarkets.Order.BUY
    order.market = market_id
    order.contract = client.str_to_uuid128("fcccc")
    client.order(order)
    client.flush()
    client.read()
    client.logout()
    return seen, order


def test_script_runs_unchanged_over_tls(
    server_ssl_context, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The script sets no CA: make the test CA the "system" trust store.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with ScriptedServer(exchange_script, ssl_context=server_ssl_context) as server:
        seen, order = run_script("alice", "s3cret-pa55word", server.port)
    assert seen == [
        "eto.login_response",
        "eto.pong",
        "seto.market_quotes",
        "seto.order_accepted",
        "eto.logout",
    ]
    assert order.state == "accepted"
    assert order.id == ORDER_ID
    assert order.seq == 4  # login 1, ping 2, subscribe 3, order 4


@pytest.mark.parametrize("read_chunksize", [65536, 3])
def test_script_runs_over_plain_tcp(make_settings, read_chunksize: int) -> None:
    with ScriptedServer(exchange_script) as server:
        settings = make_settings(server.port)
        settings.read_chunksize = read_chunksize  # the 2013 setting: any read size works
        session = smarkets.Session(settings)
        client = smarkets.Smarkets(session)
        names: list[str] = []
        client.add_global_handler(lambda name, _payload: names.append(name))
        client.login()
        client.ping()
        client.flush()
        assert [p.eto_payload.type for p in client.read()] == [eto_pb2.PAYLOAD_PONG]
        client.subscribe("fc024")
        client.flush()
        client.read()
        order = client.order(smarkets.Order(400000, 2500, smarkets.Order.BUY, "fc024", "fcccc"))
        client.flush()
        client.read()
        client.logout()
    assert names[-2:] == ["seto.order_accepted", "eto.logout"]
    assert order.state == "accepted"
    assert not session.logged_in
