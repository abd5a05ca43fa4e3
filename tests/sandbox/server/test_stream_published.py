"""The sandbox server on the published wire (PROTOCOL.md 3.1, 3.2): extensions negotiated at
login, what a published-only session is sent, LOGOUTs instead of silent drops, quotes and
account requests, and downtime. In memory, through the fake transports of test_stream."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import LoggedIn, SessionEnded
from smarkets.protocol.framing import FrameDecoder, encode_frame

from .test_stream import M1, M2, Client, Payload, make_server, order, request, run, subscribe

BUY, SELL = seto_pb2.SIDE_BUY, seto_pb2.SIDE_SELL


def extension_parts(message: Message, path: str = "") -> list[str]:
    """Every extension field or enum value (code >= 100) set anywhere in ``message``."""
    found = []
    for field, value in message.ListFields():
        name = f"{path}{field.name}"
        if field.number >= 100:
            found.append(name)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            items = value if field.is_repeated else [value]
            for item in items:
                found += extension_parts(item, f"{name}.")
        elif field.type == FieldDescriptor.TYPE_ENUM:
            values = value if field.is_repeated else [value]
            found += [f"{name}={v}" for v in values if v >= 100]
    return found


def ended(client: Client) -> SessionEnded:
    client.read()
    (event,) = [e for e in client.events if isinstance(e, SessionEnded)]
    return event


def raw_payload(seq: int, seto_type: int, body: bytes = b"") -> bytes:
    """A seto payload built by hand: ``type`` may be any number, ``body`` raw fields."""
    eto = eto_pb2.Payload(seq=seq, type=eto_pb2.PAYLOAD_NONE).SerializeToString()
    return bytes([0x08, seto_type]) + bytes([0x12, len(eto)]) + eto + body


def order_with_unknown_side(seq: int) -> bytes:
    """An order_create whose required side is the number 9, unknown to the schema."""
    create = order(M1, 1, BUY, 4000, 10_000).order_create
    create.ClearField("side")
    body = create.SerializePartialToString() + bytes([0x20, 0x09])  # field 4 (side) = 9
    return raw_payload(seq, seto_pb2.PAYLOAD_ORDER_CREATE, bytes([0x22, len(body)]) + body)


def cancel(order_id: int) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL)
    payload.order_cancel.order.low = order_id
    return payload


# -- what a session without extensions is sent -----------------------------------------------


def test_a_published_only_session_never_receives_an_extension() -> None:
    async def main() -> None:
        server = make_server(throttle_rate=5, throttle_burst=5)
        plain, ext, bob = Client(server), Client(server), Client(server)
        assert plain.login(extensions=0).extensions == 0
        ext.login()
        bob.login("bob", "bob-pw")
        for client in (plain, ext):
            client.send(subscribe(M1))
            client.send(subscribe(M2))
            client.send(subscribe(0x77))  # unknown market
        plain.send(order(M1, 1, BUY, 4000, 30_000, reference="mine"))
        plain.send(order(M2, 4, BUY, 4000, 30_000))
        plain.send(order(M1, 2, BUY, 4000, 10_000, tif=seto_pb2.IMMEDIATE_OR_CANCEL))
        bob.send(order(M1, 1, SELL, 4000, 10_000))
        bob.send(order(M2, 4, SELL, 4000, 10_000))
        for _ in range(6):  # beyond the throttle: a notice for extension sessions only
            plain.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST))
            ext.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST))
        plain.send(request(seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT_REQUEST))
        plain.send(cancel(12345))
        for client in (plain, ext, bob):
            client.read()
        server.halt("1c024")
        server.settle("2c024", "4cccc")
        await asyncio.sleep(1.3)  # the throttle lets the rest in
        for client in (plain, ext, bob):
            client.read()
        got = plain.received
        kinds = {p.type for p in got}
        assert all(k < 100 for k in kinds)
        assert all(p.eto_payload.type < 100 for p in got)
        leaks = [(p.type, extension_parts(p)) for p in got if extension_parts(p)]
        assert leaks == []
        # ...yet it was told everything the published way
        assert seto_pb2.PAYLOAD_MARKET_QUOTES in kinds
        assert seto_pb2.PAYLOAD_CONTRACT_QUOTES in kinds
        assert seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT in kinds
        assert seto_pb2.PAYLOAD_ORDER_CANCEL_REJECTED in kinds
        reasons = {
            p.order_cancelled.reason for p in got if p.type == seto_pb2.PAYLOAD_ORDER_CANCELLED
        }
        # the IOC remainder, the halt, and the settlement (MARKET_SETTLED's stand-in)
        assert reasons == {
            seto_pb2.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY,
            seto_pb2.ORDER_CANCELLED_MARKET_HALTED,
        }
        states = [p for p in got if p.type == seto_pb2.PAYLOAD_ACCOUNT_STATE]
        assert len(states) == 7  # six answers and the settlement's news
        # the extension session got the extension kinds and fields
        ext_kinds = {p.type for p in ext.received}
        assert seto_pb2.PAYLOAD_MARKET_STATE in ext_kinds
        assert seto_pb2.PAYLOAD_MARKET_SUBSCRIBE_REJECTED in ext_kinds
        assert any(p.eto_payload.type == eto_pb2.PAYLOAD_THROTTLE_EXCEEDED for p in ext.received)
        ext_quotes = [p for p in ext.received if p.type == seto_pb2.PAYLOAD_CONTRACT_QUOTES]
        assert all(q.contract_quotes.HasField("market") for q in ext_quotes)
        # a published session's unknown market: a market_quotes with no contract quotes
        empty = [
            p.market_quotes
            for p in got
            if p.type == seto_pb2.PAYLOAD_MARKET_QUOTES and p.market_quotes.market.low == 0x77
        ]
        assert len(empty) == 1 and not empty[0].contract_quotes
        assert empty[0].price_type == seto_pb2.PRICE_PERCENT_ODDS

    run(main)


def test_a_resume_keeps_the_grant_of_the_session() -> None:
    async def main() -> None:
        server = make_server()
        plain = Client(server)
        plain.login(extensions=0)
        state = plain.state
        plain.transport.abort()
        await asyncio.sleep(0)
        again = Client(server, state)
        result = again.login(extensions=1)
        assert isinstance(result, LoggedIn) and result.extensions == 0
        again.send(subscribe(0x77))
        again.read()
        assert again.app()[-1].type == seto_pb2.PAYLOAD_MARKET_QUOTES

    run(main)


# -- LOGOUT, never a silent drop ------------------------------------------------------------


CASES = {
    "unknown kind": (
        lambda c: c.conn.data_received(encode_frame(raw_payload(2, 77))),
        eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD,
        "unknown kind 77",
    ),
    "missing required field": (
        lambda c: c.conn.data_received(
            encode_frame(
                Payload(
                    type=seto_pb2.PAYLOAD_ORDER_CANCEL,
                    eto_payload=eto_pb2.Payload(seq=2),
                    order_cancel=seto_pb2.OrderCancel(),
                ).SerializePartialToString()
            )
        ),
        eto_pb2.LOGOUT_INVALID_PAYLOAD,
        "lacks required fields: order_cancel.order",
    ),
    "undecodable bytes": (
        lambda c: c.conn.data_received(encode_frame(b"\x0a\xff\xff\xff")),
        eto_pb2.LOGOUT_INVALID_PAYLOAD,
        "undecodable payload",
    ),
    "unknown required enum value": (
        lambda c: c.conn.data_received(encode_frame(order_with_unknown_side(2))),
        eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD,
        "unknown enum value in order_create.side",
    ),
    "a kind only a server sends": (
        lambda c: c.send(
            Payload(type=seto_pb2.PAYLOAD_HTTP_FOUND, http_found=seto_pb2.HttpFound(seq=1, url="x"))
        ),
        eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD,
        "PAYLOAD_HTTP_FOUND",
    ),
}


@pytest.mark.parametrize("extensions", [0, 1])
@pytest.mark.parametrize("case", list(CASES))
def test_what_cannot_be_served_ends_the_session_with_a_logout(
    case: str, extensions: int, caplog: pytest.LogCaptureFixture
) -> None:
    send, reason, why = CASES[case]

    async def main() -> None:
        server = make_server()
        client, other = Client(server), Client(server)
        client.login(extensions=extensions)
        other.login("bob", "bob-pw")
        session_id = client.state.session_id
        with caplog.at_level(logging.WARNING, logger="smarkets.sandbox.server"):
            send(client)
        event = ended(client)
        # the published stand-in for a session without extensions
        assert event.reason == (reason if extensions else eto_pb2.LOGOUT_NONE)
        assert event.by_peer
        assert client.transport.closing and not client.transport.aborted
        lines = [r.getMessage() for r in caplog.records if why in r.getMessage()]
        assert lines, [r.getMessage() for r in caplog.records]
        assert client.conn.peer in lines[0] and session_id in lines[0]
        assert server.session_count() == 1  # ended for good; the other session unharmed
        assert not other.transport.closing

    run(main)


def test_an_extension_kind_from_a_published_session_is_unsupported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        server = make_server()
        plain, ext = Client(server), Client(server)
        plain.login(extensions=0)
        ext.login()
        with caplog.at_level(logging.WARNING, logger="smarkets.sandbox.server"):
            plain.send(request(seto_pb2.PAYLOAD_MARKETS_REQUEST))
        assert ended(plain).reason == eto_pb2.LOGOUT_NONE
        assert any("extension kind" in r.getMessage() for r in caplog.records)
        ext.send(request(seto_pb2.PAYLOAD_MARKETS_REQUEST))
        ext.read()
        assert ext.app()[-1].type == seto_pb2.PAYLOAD_MARKETS

    run(main)


def test_a_bad_login_frame_gets_a_logout_too() -> None:
    async def main() -> None:
        server = make_server()
        client = Client(server)
        client.conn.data_received(encode_frame(raw_payload(1, 77)))
        assert client.transport.closing
        frames = FrameDecoder().feed(bytes(client.transport.buffer))
        (logout,) = [Payload.FromString(f) for f in frames]
        assert logout.eto_payload.type == eto_pb2.PAYLOAD_LOGOUT
        assert logout.eto_payload.logout.reason == eto_pb2.LOGOUT_NONE

    run(main)


# -- quotes and account requests ------------------------------------------------------------


def test_market_quotes_request_is_one_snapshot_without_a_subscription() -> None:
    async def main() -> None:
        server = make_server()
        alice, bob = Client(server), Client(server)
        alice.login()
        bob.login("bob", "bob-pw")
        request_ = Payload(type=seto_pb2.PAYLOAD_MARKET_QUOTES_REQUEST)
        request_.market_quotes_request.market.low = M1
        seq = alice.send(request_)
        alice.read()
        (snapshot,) = alice.app(seto_pb2.PAYLOAD_MARKET_QUOTES)
        msg = snapshot.market_quotes
        assert (msg.market.low, msg.seq, len(msg.contract_quotes)) == (M1, seq, 3)
        assert msg.price_type == seto_pb2.PRICE_PERCENT_ODDS
        assert msg.quantity_type == seto_pb2.QUANTITY_PAYOFF_CURRENCY
        bob.send(order(M1, 1, SELL, 6000, 10_000))
        alice.read()
        assert alice.app(seto_pb2.PAYLOAD_CONTRACT_QUOTES) == []  # not subscribed

    run(main)


def test_account_state_request_answers_the_sessions_own_account() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        alice.login(extensions=0)
        payload = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST)
        payload.account_state_request.account.low = server.exchange.account_id("bob")
        alice.send(payload)
        alice.read()
        (state,) = alice.app(seto_pb2.PAYLOAD_ACCOUNT_STATE)
        msg = state.account_state
        assert msg.account.low == server.exchange.account_id("alice")
        assert msg.currency == seto_pb2.CURRENCY_GBP
        assert (msg.cash.value, msg.cash.exponent) == (10_000_000, 4)
        assert (msg.bonus.value, msg.exposure.value) == (0, 0)
        assert not msg.HasField("available") and not msg.HasField("seq")

    run(main)


def test_orders_for_market_request() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        alice.login(extensions=0)
        alice.send(order(M1, 1, BUY, 4000, 10_000, reference="x"))
        payload = Payload(type=seto_pb2.PAYLOAD_ORDERS_FOR_MARKET_REQUEST)
        payload.orders_for_market_request.market.low = M1
        alice.send(payload)
        alice.read()
        (orders,) = alice.app(seto_pb2.PAYLOAD_ORDERS_FOR_MARKET)
        (contract,) = orders.orders_for_market.contracts
        (state,) = contract.bids[0].orders
        assert (state.quantity, state.status) == (10_000, seto_pb2.ORDER_STATUS_LIVE)
        assert not state.HasField("reference") and not state.HasField("remaining")

    run(main)


def test_suspended_account() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        alice.login(extensions=0)
        server.suspend("alice")
        alice.send(order(M1, 1, BUY, 4000, 10_000))
        alice.read()
        (rejected,) = alice.app(seto_pb2.PAYLOAD_ORDER_REJECTED)
        assert rejected.order_rejected.reason == seto_pb2.ORDER_REJECTED_ACCOUNT_SUSPENDED
        server.unsuspend("alice")
        alice.send(order(M1, 1, BUY, 4000, 10_000))
        alice.read()
        assert alice.app(seto_pb2.PAYLOAD_ORDER_ACCEPTED)

    run(main)


# -- downtime --------------------------------------------------------------------------------


def eto_alerts(client: Client) -> list[eto_pb2.DowntimeAlert]:
    return [
        p.eto_payload.downtime_alert
        for p in client.received
        if p.eto_payload.type == eto_pb2.PAYLOAD_DOWNTIME_ALERT
    ]


def test_connection_downtime_logs_everyone_out_and_refuses_logins() -> None:
    async def main() -> None:
        server = make_server()
        alice, bob = Client(server), Client(server)
        alice.login(extensions=0)
        bob.login("bob", "bob-pw")
        start = server.downtime_connection(0.05, "upgrade")
        for client in (alice, bob):
            client.read()
            (alert,) = eto_alerts(client)
            assert alert.type == eto_pb2.DOWNTIME_ALERT_CONNECTION
            assert alert.description == "upgrade"
            moment = alert.datetime
            assert (moment.date.year, moment.date.month, moment.date.day) == (
                start.year,
                start.month,
                start.day,
            )
            assert (moment.time.hour, moment.time.minute) == (start.hour, start.minute)
        await asyncio.sleep(0.1)
        for client in (alice, bob):
            assert ended(client).reason == eto_pb2.LOGOUT_DOWNTIME
        assert server.session_count() == 0
        refused = Client(server).login()
        assert isinstance(refused, SessionEnded) and refused.reason == eto_pb2.LOGOUT_DOWNTIME
        assert server.downtime == "connection"
        server.downtime_resumed()
        assert isinstance(Client(server).login(), LoggedIn)

    run(main)


def test_order_create_downtime_cancel_and_resume() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        alice.login(extensions=0)
        server.downtime_orders(0, "orders off")
        await asyncio.sleep(0.01)
        alice.send(order(M1, 1, BUY, 4000, 10_000))
        alice.read()
        (seto_alert,) = alice.app(seto_pb2.PAYLOAD_DOWNTIME_ALERT)
        assert seto_alert.downtime_alert.type == seto_pb2.DOWNTIME_ALERT_ORDER_CREATE
        (alert,) = eto_alerts(alice)
        assert (alert.type, alert.description) == (
            eto_pb2.DOWNTIME_ALERT_FUNCTIONALITY,
            "orders off",
        )
        (rejected,) = alice.app(seto_pb2.PAYLOAD_ORDER_REJECTED)
        reason = rejected.order_rejected.reason
        assert reason == seto_pb2.ORDER_REJECTED_SERVICE_TEMPORARILY_UNAVAILABLE
        server.downtime_resumed()
        alice.send(order(M1, 1, BUY, 4000, 10_000))
        alice.read()
        assert alice.app(seto_pb2.PAYLOAD_ORDER_ACCEPTED)
        assert eto_alerts(alice)[-1].type == eto_pb2.DOWNTIME_ALERT_SERVICE_RESUMED
        # announced, then cancelled: nothing happens
        server.downtime_connection(0.05)
        server.downtime_cancel()
        await asyncio.sleep(0.1)
        alice.read()
        assert [a.type for a in eto_alerts(alice)[-2:]] == [
            eto_pb2.DOWNTIME_ALERT_CONNECTION,
            eto_pb2.DOWNTIME_ALERT_CANCELLED,
        ]
        assert not alice.transport.closing and server.downtime is None

    run(main)


def test_max_order_quantity_setting() -> None:
    from smarkets.sandbox.server import ServerConfig

    assert ServerConfig().max_order_quantity == 500_000_000
    # The exchange's own check (one home): a uint32 on the wire.
    with pytest.raises(ValueError, match="max_order_quantity must be >= 1000 and <= 4294967295"):
        ServerConfig(max_order_quantity=1 << 32)
    with pytest.raises(ValueError, match="max_order_quantity must be >= 1000"):
        ServerConfig(max_order_quantity=999)
    server = make_server(max_order_quantity=20_000)
    assert server.config.max_order_quantity == 20_000
    assert make_server_default_quantity() == 500_000_000


def make_server_default_quantity() -> Any:
    from smarkets.sandbox.server import SandboxServer, ServerConfig

    return SandboxServer(
        config=ServerConfig(max_order_quantity=500_000_000)
    ).exchange.max_order_quantity
