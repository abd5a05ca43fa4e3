"""The sandbox server through its asyncio shell, in memory (fake transports, no sockets).

Each test runs an asyncio loop (timers are real, but short) and drives
:class:`smarkets.sandbox.server.StreamProtocol` objects directly: a client-side
:class:`smarkets.protocol.Connection` writes its bytes into ``data_received`` and reads back
what the server wrote to its fake transport.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from smarkets.errors import RemoteProtocolError
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import (
    Connection,
    LoggedIn,
    Received,
    Role,
    SessionEnded,
    SessionState,
    is_session_level,
)
from smarkets.protocol.framing import FrameDecoder, encode_frame
from smarkets.sandbox.exchange import Exchange, ToAccount, ToMarket
from smarkets.sandbox.exchange.markets_file import default_markets
from smarkets.sandbox.server import SandboxServer, ServerConfig, StreamProtocol
from smarkets.sandbox.server.credentials import CredentialStore

Payload = seto_pb2.Payload
M1 = 1  # market 1c024: contracts 1, 2, 3
M2 = 2  # market 2c024: contracts 4, 5
DAY = datetime.timedelta(days=1)


def run(coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coro_fn())


class FakeTransport(asyncio.Transport):
    """Collects what the server writes; close/abort report the loss like a real one."""

    _count = 0

    def __init__(self, protocol: StreamProtocol) -> None:
        super().__init__()
        FakeTransport._count += 1
        self.protocol = protocol
        self.buffer = bytearray()
        self.closing = False
        self.aborted = False
        self.reading = True
        self.pauses = 0
        self.peer = ("10.0.0.1", 40000 + FakeTransport._count)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default

    def write(self, data: bytes) -> None:
        assert not self.closing, "write after close"
        self.buffer += data

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self._lose()

    def abort(self) -> None:
        self.aborted = True
        self._lose()

    def _lose(self) -> None:
        if not self.closing:
            self.closing = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def pause_reading(self) -> None:
        self.reading = False
        self.pauses += 1

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading


class Client:
    """A client connection wired to a server StreamProtocol through a FakeTransport."""

    def __init__(self, server: SandboxServer, state: SessionState | None = None) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.conn = StreamProtocol(server)
        self.transport = FakeTransport(self.conn)
        self.conn.connection_made(self.transport)
        self.core = Connection(Role.CLIENT, state, now=self.loop.time())
        self.events: list[Any] = []
        self.received: list[Payload] = []

    @property
    def state(self) -> SessionState:
        return self.core.session

    def _write(self) -> None:
        data = self.core.data_to_send()
        if data:
            self.conn.data_received(data)

    def read(self) -> list[Any]:
        """Take what the server wrote and feed it to the client core."""
        data = bytes(self.transport.buffer)
        self.transport.buffer.clear()
        events = self.core.receive_data(data, self.loop.time()) if data else []
        for event in events:
            if isinstance(event, Received):
                self.received.append(event.payload)
        self.events.extend(events)
        self._write()  # replay requests, heartbeats answered...
        return events

    def login(
        self, username: str = "alice", password: str = "alice-pw", extensions: int = 1
    ) -> Any:
        """Log in; ``extensions`` 1 asks for them (0: a published-only client)."""
        credentials = seto_pb2.Login(username=username, password=password)
        if extensions:
            credentials.extensions = extensions
        self.core.login(credentials, self.loop.time())
        self._write()
        events = self.read()
        return next(e for e in events if isinstance(e, (LoggedIn, SessionEnded)))

    def send(self, payload: Payload) -> int:
        seq = self.core.send(payload, self.loop.time())
        self._write()
        return seq

    def app(self, ptype: int | None = None) -> list[Payload]:
        """Application payloads received so far (of one type if given)."""
        return [
            p
            for p in self.received
            if not is_session_level(p) and (ptype is None or p.type == ptype)
        ]

    def logout(self) -> None:
        self.core.logout(self.loop.time())
        self._write()


def uuid(value: int) -> seto_pb2.Uuid128:
    return seto_pb2.Uuid128(low=value)


def order(market: int, contract: int, side: int, price: int, quantity: int, **kw: Any) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_ORDER_CREATE)
    create = payload.order_create
    create.type = seto_pb2.ORDER_CREATE_LIMIT
    create.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    create.price_type = seto_pb2.PRICE_PERCENT_ODDS
    create.market.low = market
    create.contract.low = contract
    create.side = side
    create.price = price
    create.quantity = quantity
    for name, value in kw.items():
        setattr(create, name, value)
    return payload


def subscribe(market: int) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_MARKET_SUBSCRIBE)
    payload.market_subscribe.market.low = market
    return payload


def request(ptype: int) -> Payload:
    payload = Payload(type=ptype)
    field = {
        seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST: "account_state_request",
        seto_pb2.PAYLOAD_MARKETS_REQUEST: "markets_request",
        seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT_REQUEST: "orders_for_account_request",
    }[ptype]
    getattr(payload, field).SetInParent()
    return payload


_STORE: CredentialStore | None = None


def make_server(**config: Any) -> SandboxServer:
    config.setdefault("port", 0)
    config.setdefault("login_workers", 0)  # check passwords inline: logins answer at once
    server = SandboxServer(
        Exchange(clock=lambda: 1_700_000_000.0, order_ids=itertools.count(1).__next__),
        ServerConfig(**config),
        credentials=CredentialStore(n=2),
    )
    for name in ("alice", "bob", "carol"):
        server.add_account(name, f"{name}-pw", 10_000_000)
    for spec in default_markets():
        server.add_market(spec)
    return server


async def settle_loop() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


# -- login -----------------------------------------------------------------------------------


def test_login_new_session() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        result = alice.login()
        assert isinstance(result, LoggedIn)
        assert result.session_id.endswith("9999") and len(result.session_id) > 4
        response = alice.received[0].eto_payload.login_response
        assert response.extensions == 1 and result.extensions == 1
        assert server.session_count() == 1
        # without extensions asked for, none granted (and the field is absent)
        plain = Client(server)
        result = plain.login(extensions=0)
        assert result.extensions == 0
        assert not plain.received[0].eto_payload.login_response.HasField("extensions")
        # a client asking for a later version gets the one the server speaks
        future = Client(server)
        assert future.login(extensions=7).extensions == 1

    run(main)


def test_bad_password_unauthorised_and_closed() -> None:
    async def main() -> None:
        server = make_server()
        client = Client(server)
        result = client.login(password="wrong")
        assert isinstance(result, SessionEnded)
        assert result.reason == eto_pb2.LOGOUT_UNAUTHORISED
        assert client.transport.closing
        unknown = Client(server)
        assert unknown.login("nobody", "x").reason == eto_pb2.LOGOUT_UNAUTHORISED
        assert server.session_count() == 0

    run(main)


def test_unknown_session_and_other_accounts_session() -> None:
    async def main() -> None:
        server = make_server()
        client = Client(server, SessionState(session_id="abc9999"))
        assert client.login().reason == eto_pb2.LOGOUT_UNKNOWN_SESSION
        alice = Client(server)
        alice.login()
        # bob may not take alice's session over, even with his own good password
        bob = Client(server, SessionState(session_id=alice.state.session_id))
        assert bob.login("bob", "bob-pw").reason == eto_pb2.LOGOUT_UNKNOWN_SESSION
        assert not alice.transport.closing

    run(main)


def test_not_login_first() -> None:
    async def main() -> None:
        server = make_server()
        client = Client(server)
        bogus = order(M1, 1, seto_pb2.SIDE_BUY, 5000, 10000)
        bogus.eto_payload.seq = 1
        client.conn.data_received(encode_frame(bogus.SerializeToString()))
        frames = FrameDecoder().feed(bytes(client.transport.buffer))
        reply = Payload.FromString(frames[0])
        assert reply.eto_payload.type == eto_pb2.PAYLOAD_LOGOUT
        assert reply.eto_payload.logout.reason == eto_pb2.LOGOUT_LOGIN_NOT_FIRST_SEQ
        assert client.transport.closing

    run(main)


def test_login_timeout() -> None:
    async def main() -> None:
        server = make_server(login_timeout=0.05)
        client = Client(server)
        await asyncio.sleep(0.15)
        frames = FrameDecoder().feed(bytes(client.transport.buffer))
        reply = Payload.FromString(frames[0])
        assert reply.eto_payload.logout.reason == eto_pb2.LOGOUT_LOGIN_TIMEOUT
        assert client.transport.closing

    run(main)


# -- requests and routing --------------------------------------------------------------------


def test_crossing_orders_route_to_the_right_sessions() -> None:
    async def main() -> None:
        server = make_server()
        alice, alice2, bob, carol = Client(server), Client(server), Client(server), Client(server)
        alice.login()
        alice2.login()  # a second session of the same account
        bob.login("bob", "bob-pw")
        carol.login("carol", "carol-pw")
        carol.send(subscribe(M1))
        carol.read()
        snapshot = carol.app(seto_pb2.PAYLOAD_MARKET_QUOTES)[0].market_quotes
        assert snapshot.seq == 2 and snapshot.market.low == M1
        assert len(snapshot.contract_quotes) == 3

        seq = alice.send(order(M1, 1, seto_pb2.SIDE_BUY, 4000, 100_000, reference="a1"))
        alice.read()
        (accepted,) = alice.app(seto_pb2.PAYLOAD_ORDER_ACCEPTED)
        assert accepted.order_accepted.seq == seq
        assert accepted.order_accepted.reference == "a1"
        bob.send(order(M1, 1, seto_pb2.SIDE_SELL, 3900, 60_000))
        for client in (alice, alice2, bob, carol):
            client.read()
        (alice_fill,) = alice.app(seto_pb2.PAYLOAD_ORDER_EXECUTED)
        fill = alice_fill.order_executed
        assert (fill.price, fill.quantity, fill.remaining) == (4000, 60_000, 40_000)
        assert fill.order == accepted.order_accepted.order and fill.account_sequence == 1
        (bob_fill,) = bob.app(seto_pb2.PAYLOAD_ORDER_EXECUTED)
        assert bob_fill.order_executed.remaining == 0
        # the other session of alice's account sees neither the fill nor the acceptance
        assert alice2.app() == []
        # the subscriber sees the book and the trade, alice (not subscribed) does not
        quotes = carol.app(seto_pb2.PAYLOAD_CONTRACT_QUOTES)
        assert quotes[-1].contract_quotes.executions[0].quantity == 60_000
        assert alice.app(seto_pb2.PAYLOAD_CONTRACT_QUOTES) == []
        balance = server.balance("alice")
        assert balance.staked == 60_000 * 4000 // 10_000
        assert balance.exposure == 40_000 * 4000 // 10_000
        assert server.balance("bob").staked == 60_000 - 24_000
        server.exchange.check_invariants()

    run(main)


def test_requests_are_answered_to_the_requester() -> None:
    async def main() -> None:
        server = make_server()
        alice, alice2 = Client(server), Client(server)
        alice.login()
        alice2.login()
        seq = alice.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST))
        alice.send(request(seto_pb2.PAYLOAD_MARKETS_REQUEST))
        alice.send(request(seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT_REQUEST))
        alice.send(subscribe(0x77))
        cancel = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL)
        cancel.order_cancel.order.low = 999
        alice.send(cancel)
        alice.read()
        alice2.read()
        types = [p.type for p in alice.app()]
        assert types == [
            seto_pb2.PAYLOAD_ACCOUNT_STATE,
            seto_pb2.PAYLOAD_MARKETS,
            seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT,
            seto_pb2.PAYLOAD_MARKET_SUBSCRIBE_REJECTED,
            seto_pb2.PAYLOAD_ORDER_CANCEL_REJECTED,
        ]
        assert alice.app()[0].account_state.seq == seq
        assert alice.app()[0].account_state.cash.value == 10_000_000
        assert len(alice.app()[1].markets.events) == len({m.event_id for m in default_markets()})
        rejected = alice.app()[3].market_subscribe_rejected
        assert rejected.reason == seto_pb2.MARKET_SUBSCRIBE_REJECTED_MARKET_NOT_FOUND
        assert rejected.market.low == 0x77
        assert alice2.app() == []

    run(main)


def events_request(
    kind: int, sport: int | None = None, day: datetime.date | None = None
) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_EVENTS_REQUEST)
    payload.events_request.type = kind
    payload.events_request.content_type = seto_pb2.CONTENT_TYPE_PROTOBUF
    if sport is not None:
        payload.events_request.sport_by_date.type = sport
    if day is not None:
        date = payload.events_request.sport_by_date.date
        date.year, date.month, date.day = day.year, day.month, day.day
    return payload


@pytest.mark.parametrize("extensions", [1, 0])
def test_events_request_is_answered_with_the_listings_url(extensions: int) -> None:
    today = datetime.date(2026, 12, 2)

    async def main() -> None:
        server = make_server(url_host="exchange.example", listing_days=3)
        server.catalogue_http.today = lambda: today
        alice = Client(server)
        alice.login(extensions=extensions)
        football = seto_pb2.SPORT_BY_DATE_FOOTBALL
        no_such_day = events_request(seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, football, today)
        no_such_day.events_request.sport_by_date.date.month = 13
        asked = [
            alice.send(events_request(seto_pb2.EVENTS_REQUEST_POLITICS)),
            alice.send(events_request(seto_pb2.EVENTS_REQUEST_SPORT_OTHER)),
            alice.send(
                events_request(seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, football, today + DAY * 3)
            ),
            alice.send(
                events_request(seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE, football, today - DAY * 4)
            ),
            alice.send(no_such_day),
            alice.send(events_request(seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE)),
        ]
        alice.read()
        answers = alice.app()
        port = server.catalogue_http.port
        assert [p.type for p in answers] == [seto_pb2.PAYLOAD_HTTP_FOUND] * 3 + [
            seto_pb2.PAYLOAD_INVALID_REQUEST
        ] * 3
        assert [p.http_found.url for p in answers[:3]] == [
            f"http://exchange.example:{port}/events/politics",
            f"http://exchange.example:{port}/events/sport-other",
            f"http://exchange.example:{port}/events/football/2026-12-05",
        ]
        assert [p.http_found.seq for p in answers[:3]] == asked[:3]
        assert [p.invalid_request.seq for p in answers[3:]] == asked[3:]
        assert {p.invalid_request.type for p in answers[3:]} == {
            seto_pb2.INVALID_REQUEST_DATE_OUT_OF_RANGE
        }
        assert alice.core.state.name == "LOGGED_IN"  # the session goes on

    run(main)


def test_listing_urls_name_the_host_listened_on_and_https_with_tls() -> None:
    async def main() -> None:
        server = make_server(host="localhost")
        server.catalogue_http.ssl_context = object()  # what the scheme is decided by
        alice = Client(server)
        alice.login()
        alice.send(events_request(seto_pb2.EVENTS_REQUEST_CURRENT_AFFAIRS))
        alice.read()
        (answer,) = alice.app()
        assert answer.http_found.url.startswith("https://localhost:")
        assert answer.http_found.url.endswith("/events/current-affairs")

    run(main)


def test_client_payload_that_is_not_a_request_ends_the_session_with_a_logout() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        alice.login()
        bogus = Payload(type=seto_pb2.PAYLOAD_ORDER_ACCEPTED)
        bogus.order_accepted.seq = 1
        bogus.order_accepted.order.low = 1
        alice.send(bogus)
        alice.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST))
        alice.read()
        assert alice.app() == []  # the request behind it is not served
        (ended,) = [e for e in alice.events if isinstance(e, SessionEnded)]
        assert ended.reason == eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD and ended.by_peer
        assert alice.transport.closing
        assert server.session_count() == 0  # not resumable

    run(main)


def test_ioc_remainder_and_cancel_go_to_the_placing_session() -> None:
    async def main() -> None:
        server = make_server()
        alice, bob = Client(server), Client(server)
        alice.login()
        bob.login("bob", "bob-pw")
        bob.send(order(M1, 2, seto_pb2.SIDE_SELL, 5000, 10_000))
        alice.send(
            order(
                M1,
                2,
                seto_pb2.SIDE_BUY,
                5000,
                30_000,
                tif=seto_pb2.IMMEDIATE_OR_CANCEL,
            )
        )
        alice.read()
        bob.read()
        (cancelled,) = alice.app(seto_pb2.PAYLOAD_ORDER_CANCELLED)
        assert cancelled.order_cancelled.reason == seto_pb2.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY
        assert cancelled.order_cancelled.quantity == 20_000
        # a resting order, cancelled on request: the answer names the request
        bob.send(order(M1, 2, seto_pb2.SIDE_SELL, 6000, 10_000))
        bob.read()
        order_id = bob.app(seto_pb2.PAYLOAD_ORDER_ACCEPTED)[-1].order_accepted.order
        cancel = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCEL)
        cancel.order_cancel.order.CopyFrom(order_id)
        seq = bob.send(cancel)
        bob.read()
        (bob_cancelled,) = bob.app(seto_pb2.PAYLOAD_ORDER_CANCELLED)
        assert bob_cancelled.order_cancelled.seq == seq
        assert server.registry.order_owner == {}  # filled and cancelled orders are forgotten

    run(main)


def test_settlement_reaches_every_session_of_the_account() -> None:
    async def main() -> None:
        server = make_server()
        alice, alice2, bob = Client(server), Client(server), Client(server)
        alice.login()
        alice2.login()
        bob.login("bob", "bob-pw")
        alice2.send(subscribe(M2))
        alice.send(order(M2, 4, seto_pb2.SIDE_BUY, 5000, 20_000))
        bob.send(order(M2, 4, seto_pb2.SIDE_SELL, 5000, 10_000))
        for client in (alice, alice2, bob):
            client.read()
        server.settle("2c024", "4cccc")
        for client in (alice, alice2, bob):
            client.read()
        # the resting remainder's cancellation goes to the session that placed it
        (cancelled,) = alice.app(seto_pb2.PAYLOAD_ORDER_CANCELLED)
        assert cancelled.order_cancelled.reason == seto_pb2.ORDER_CANCELLED_MARKET_SETTLED
        assert alice2.app(seto_pb2.PAYLOAD_ORDER_CANCELLED) == []
        # the unsolicited account state goes to both of alice's sessions
        for client in (alice, alice2):
            (state,) = client.app(seto_pb2.PAYLOAD_ACCOUNT_STATE)
            assert not state.account_state.HasField("seq")
            assert state.account_state.cash.value == 10_000_000 + 5_000
        # the market state goes to the subscriber only
        states = alice2.app(seto_pb2.PAYLOAD_MARKET_STATE)
        assert states[-1].market_state.state == seto_pb2.MARKET_STATUS_SETTLED
        assert alice.app(seto_pb2.PAYLOAD_MARKET_STATE) == []
        assert server.balance("bob").cash == 10_000_000 - 5_000

    run(main)


def test_unsubscribe_stops_market_data() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        alice.login()
        alice.send(subscribe(M1))
        server.halt("1c024")
        unsubscribe = Payload(type=seto_pb2.PAYLOAD_MARKET_UNSUBSCRIBE)
        unsubscribe.market_unsubscribe.market.low = M1
        alice.send(unsubscribe)
        server.reopen("1c024")
        alice.read()
        states = [p.market_state.state for p in alice.app(seto_pb2.PAYLOAD_MARKET_STATE)]
        assert states == [seto_pb2.MARKET_STATUS_HALTED]
        assert server.registry.subscribers == {}

    run(main)


def test_news_of_an_order_whose_session_ended_goes_to_the_accounts_sessions() -> None:
    async def main() -> None:
        server = make_server()
        alice, bob = Client(server), Client(server)
        alice.login()
        bob.login("bob", "bob-pw")
        alice.send(order(M1, 1, seto_pb2.SIDE_BUY, 4000, 30_000, reference="left"))
        alice.send(order(M1, 2, seto_pb2.SIDE_BUY, 4000, 30_000, reference="settled"))
        alice.read()
        order_ids = [p.order_accepted.order for p in alice.app(seto_pb2.PAYLOAD_ORDER_ACCEPTED)]
        alice.logout()
        alice.read()
        assert server.session_count() == 1  # bob's
        # nobody of alice's account is there when bob fills part of the first order
        bob.send(order(M1, 1, seto_pb2.SIDE_SELL, 4000, 10_000))
        bob.read()
        # a new session, and another one whose connection then drops (parked)
        again, parked = Client(server), Client(server)
        again.login()
        parked.login()
        parked.transport.abort()
        await settle_loop()
        bob.send(order(M1, 1, seto_pb2.SIDE_SELL, 4000, 5_000))
        again.read()
        (fill,) = again.app(seto_pb2.PAYLOAD_ORDER_EXECUTED)
        msg = fill.order_executed
        assert msg.order == order_ids[0] and msg.reference == "left"
        assert (msg.quantity, msg.remaining) == (5_000, 15_000)
        server.settle("1c024", "1cccc")
        again.read()
        cancelled = again.app(seto_pb2.PAYLOAD_ORDER_CANCELLED)
        assert sorted(
            (c.order_cancelled.reference, c.order_cancelled.quantity) for c in cancelled
        ) == [
            ("left", 15_000),
            ("settled", 30_000),
        ]
        assert all(
            c.order_cancelled.reason == seto_pb2.ORDER_CANCELLED_MARKET_SETTLED for c in cancelled
        )
        # the parked session gets the same when it resumes
        resumed = Client(server, parked.state)
        assert isinstance(resumed.login(), LoggedIn)
        resumed.read()
        news = [
            p.type
            for p in resumed.app()
            if p.type in (seto_pb2.PAYLOAD_ORDER_EXECUTED, seto_pb2.PAYLOAD_ORDER_CANCELLED)
        ]
        assert news == [seto_pb2.PAYLOAD_ORDER_EXECUTED] + [seto_pb2.PAYLOAD_ORDER_CANCELLED] * 2
        assert server.registry.order_owner == {}

    run(main)


def test_a_parked_placing_session_keeps_its_orders_news_to_itself() -> None:
    async def main() -> None:
        server = make_server()
        alice, alice2, bob = Client(server), Client(server), Client(server)
        alice.login()
        alice2.login()
        bob.login("bob", "bob-pw")
        seq = alice.send(order(M1, 1, seto_pb2.SIDE_BUY, 4000, 30_000))
        alice.read()
        state = alice.state
        alice.transport.abort()  # parked, not ended
        await settle_loop()
        bob.send(order(M1, 1, seto_pb2.SIDE_SELL, 4000, 10_000))
        alice2.read()
        assert alice2.app() == []
        again = Client(server, state)
        assert isinstance(again.login(), LoggedIn)
        again.read()
        (fill,) = again.app(seto_pb2.PAYLOAD_ORDER_EXECUTED)
        assert fill.order_executed.account_sequence == 1 and fill.eto_payload.is_replay
        assert seq

    run(main)


def test_bots_outputs_are_routed_to_subscribers() -> None:
    async def main() -> None:
        server = SandboxServer(
            Exchange(),
            ServerConfig(port=0, host="127.0.0.1", login_workers=0),
            credentials=CredentialStore(n=2),
            bots=2,
            seed=7,
        )
        server.add_account("alice", "alice-pw", 10_000_000)
        for spec in default_markets():
            server.add_market(spec)
        await server.start()
        try:
            assert server.exchange.account_id("alice") == 1  # bots come after
            alice = Client(server)
            alice.login()
            for market in (1, 2, 3, 4):
                alice.send(subscribe(market))
            await asyncio.sleep(0.7)
            alice.read()
            assert alice.app(seto_pb2.PAYLOAD_CONTRACT_QUOTES)
        finally:
            await server.close()

    run(main)


# -- sessions outlive connections ------------------------------------------------------------


def test_resume_replays_exactly_what_was_missed() -> None:
    async def main() -> None:
        server = make_server()
        alice, bob, carol = Client(server), Client(server), Client(server)
        alice.login()
        bob.login("bob", "bob-pw")
        carol.login("carol", "carol-pw")
        alice.send(subscribe(M1))
        carol.send(subscribe(M1))
        alice.send(order(M1, 3, seto_pb2.SIDE_BUY, 2000, 50_000))
        alice.read()
        carol.read()
        before = len(alice.app())
        carol_before = len(carol.app())
        state = alice.state
        # the connection drops; what bob does meanwhile is kept for alice
        alice.transport.abort()
        await settle_loop()
        session = server.registry.sessions[state.session_id or ""]
        assert session.stream is None
        bob.send(order(M1, 3, seto_pb2.SIDE_SELL, 2000, 20_000))
        bob.send(order(M1, 1, seto_pb2.SIDE_SELL, 7000, 10_000))
        carol.read()
        missed_quotes = [p.SerializeToString() for p in carol.app()[carol_before:]]
        assert len(missed_quotes) == 2
        # alice comes back on a new connection with her numbering
        again = Client(server, state)
        assert isinstance(again.login(), LoggedIn)
        again.read()
        replayed = again.app()
        assert len(alice.app()) == before
        types = [p.type for p in replayed]
        assert types.count(seto_pb2.PAYLOAD_ORDER_EXECUTED) == 1
        quotes = [p for p in replayed if p.type == seto_pb2.PAYLOAD_CONTRACT_QUOTES]
        assert [q.contract_quotes.SerializeToString() for q in quotes] == [
            Payload.FromString(q).contract_quotes.SerializeToString() for q in missed_quotes
        ]
        assert all(p.eto_payload.is_replay for p in replayed)
        # and live traffic flows again, once
        bob.send(order(M1, 1, seto_pb2.SIDE_SELL, 7100, 10_000))
        again.read()
        assert len(again.app()) == len(replayed) + 1
        seqs = [p.eto_payload.seq for p in alice.received + again.received]
        assert len(seqs) == len(set(seqs))

    run(main)


def test_resume_while_connected_closes_the_old_connection() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        alice.login()
        again = Client(server, alice.state)
        assert isinstance(again.login(), LoggedIn)
        assert alice.transport.aborted
        assert alice.transport.buffer == b""  # no logout sent on the old one
        await settle_loop()
        session = server.registry.sessions[alice.state.session_id or ""]
        assert session.stream is again.conn  # the old one's loss does not park it
        again.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST))
        again.read()
        assert again.app(seto_pb2.PAYLOAD_ACCOUNT_STATE)

    run(main)


def test_logout_forgets_the_session() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        alice.login()
        alice.send(subscribe(M1))
        alice.logout()
        events = alice.read()
        assert any(isinstance(e, SessionEnded) for e in events)
        assert alice.transport.closing
        assert server.session_count() == 0 and server.registry.subscribers == {}
        again = Client(server, SessionState(session_id=alice.state.session_id))
        assert again.login().reason == eto_pb2.LOGOUT_UNKNOWN_SESSION

    run(main)


def test_parked_session_expires() -> None:
    async def main() -> None:
        server = make_server(session_expiry=0.05)
        alice = Client(server)
        alice.login()
        alice.transport.abort()
        await settle_loop()
        assert server.session_count() == 1
        await asyncio.sleep(0.15)
        assert server.session_count() == 0
        again = Client(server, alice.state)
        assert again.login().reason == eto_pb2.LOGOUT_UNKNOWN_SESSION

    run(main)


def test_heartbeat_timeout_parks_the_session() -> None:
    async def main() -> None:
        server = make_server(heartbeat_interval=0.02, heartbeat_timeout=0.06)
        alice = Client(server)
        alice.login()
        await asyncio.sleep(0.2)  # alice never answers
        assert alice.transport.closing
        frames = FrameDecoder().feed(bytes(alice.transport.buffer))
        kinds = [Payload.FromString(f).eto_payload for f in frames]
        assert kinds[0].type == eto_pb2.PAYLOAD_HEARTBEAT
        assert kinds[-1].logout.reason == eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT
        assert server.session_count() == 1
        # the parked session still takes what is sent to it
        bob = Client(server)
        bob.login("bob", "bob-pw")
        alice_session = server.registry.sessions[alice.state.session_id or ""]
        alice_session.markets.add(M1)
        server.registry.subscribers.setdefault(M1, {})[alice_session] = None
        outseq = alice_session.state.outseq
        bob.send(order(M1, 1, seto_pb2.SIDE_BUY, 1000, 10_000))
        assert alice_session.state.outseq == outseq + 1

    run(main)


def test_garbage_closes_only_that_connection() -> None:
    async def main() -> None:
        server = make_server(max_payload_size=1000)
        alice, bob, mallory, oscar = Client(server), Client(server), Client(server), Client(server)
        alice.login()
        bob.login("bob", "bob-pw")
        mallory.login("carol", "carol-pw")
        oscar.login("carol", "carol-pw")
        mallory.conn.data_received(b"\xff" * 11)  # a length header longer than 10 bytes
        oscar.conn.data_received(b"\x80\x80\x01")  # declares 16 KiB > max 1000
        # Each is told why (LOGOUT INVALID_PAYLOAD) before its connection is closed.
        for client in (mallory, oscar):
            assert client.transport.closing
            client.read()
            (ended,) = [e for e in client.events if isinstance(e, SessionEnded)]
            assert ended.reason == eto_pb2.LOGOUT_INVALID_PAYLOAD
        await settle_loop()
        alice.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST))
        alice.read()
        assert alice.app(seto_pb2.PAYLOAD_ACCOUNT_STATE)
        assert not alice.transport.closing and not bob.transport.closing
        # undecodable protobuf inside a good frame
        bob.conn.data_received(encode_frame(b"\x0a\xff\xff\xff"))
        assert bob.transport.closing
        bob.read()
        (ended,) = [e for e in bob.events if isinstance(e, SessionEnded)]
        assert ended.reason == eto_pb2.LOGOUT_INVALID_PAYLOAD
        assert not alice.transport.closing

    run(main)


def test_exception_in_one_session_leaves_others_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        server = make_server()
        alice, bob = Client(server), Client(server)
        alice.login()
        bob.login("bob", "bob-pw")
        real = server.exchange.account_state

        def broken(account_id: int, seq: int | None = None) -> Payload:
            if account_id == server.exchange.account_id("bob"):
                raise RuntimeError("boom")
            return real(account_id, seq)

        monkeypatch.setattr(server.exchange, "account_state", broken)
        bob.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST))
        assert bob.transport.aborted
        alice.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST))
        alice.read()
        assert alice.app(seto_pb2.PAYLOAD_ACCOUNT_STATE)

    run(main)


def test_errors_are_handled_alike_whatever_was_running(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One error block (StreamProtocol.guard) for a read, a timer and a write: the client's
    protocol errors end its session with a LOGOUT; anything else drops the connection, its
    session parked (resumable); the other connections carry on."""

    async def main() -> None:
        server = make_server(heartbeat_interval=0.05, heartbeat_timeout=10)
        alice, bob, carol = Client(server), Client(server), Client(server)
        alice.login()
        bob.login("bob", "bob-pw")
        carol.login("carol", "carol-pw")
        handle = server.requests.handle

        def peer_breaks_the_protocol(session: Any, payload: Payload, now: float) -> Any:
            if session is alice.conn.session:
                raise RemoteProtocolError("alice's request makes no sense")
            return handle(session, payload, now)

        monkeypatch.setattr(server.requests, "handle", peer_breaks_the_protocol)
        with caplog.at_level(logging.WARNING, logger="smarkets.sandbox.server"):
            alice.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST))
        (ended,) = [e for e in alice.read() if isinstance(e, SessionEnded)]
        assert ended.reason == eto_pb2.LOGOUT_INVALID_PAYLOAD and not alice.transport.aborted
        assert "protocol error, closing the connection: alice's request" in caplog.text
        # A timer that fails: bob's connection dropped, his session parked.
        bob_core = bob.conn.core
        assert bob_core is not None

        def broken_tick(now: float) -> list[Any]:
            raise RuntimeError("boom")

        monkeypatch.setattr(bob_core, "tick", broken_tick)
        with caplog.at_level(logging.ERROR, logger="smarkets.sandbox.server"):
            await asyncio.sleep(0.2)
        assert bob.transport.aborted
        assert "error while running the session's timers; closing" in caplog.text
        bob_session = server.registry.sessions[bob.state.session_id or ""]
        assert bob_session.stream is None  # parked: resumable
        # A write that fails: the same.
        carol_transport = carol.transport

        def broken_write(data: bytes) -> None:
            raise OSError("the disk is on fire")

        monkeypatch.setattr(carol_transport, "write", broken_write)
        carol.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST))
        assert carol_transport.aborted
        assert "error while writing; closing" in caplog.text
        assert server.registry.sessions[carol.state.session_id or ""].stream is None
        assert server.session_count() == 2  # bob's and carol's, parked

    run(main)


# -- throttling ------------------------------------------------------------------------------


def test_throttle_notice_once_and_backpressure_without_loss() -> None:
    async def main() -> None:
        server = make_server(throttle_rate=100, throttle_burst=10)
        alice = Client(server)
        alice.login()
        for _ in range(30):
            alice.core.send(request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST), alice.loop.time())
        alice._write()  # all 30 in one read
        assert not alice.transport.reading and alice.transport.pauses == 1
        alice.read()
        notices = [
            p for p in alice.received if p.eto_payload.type == eto_pb2.PAYLOAD_THROTTLE_EXCEEDED
        ]
        assert len(notices) == 1
        answers = alice.app(seto_pb2.PAYLOAD_ACCOUNT_STATE)
        assert [p.account_state.seq for p in answers] == list(range(2, 32))
        await asyncio.sleep(0.3)
        assert alice.transport.reading

    run(main)


# -- administration and shutdown -------------------------------------------------------------


def test_admin_methods() -> None:
    async def main() -> None:
        server = make_server()
        account_id = server.add_account("zoe", "zoe-pw", 5)
        assert server.exchange.account_id("zoe") == account_id
        with pytest.raises(ValueError):
            server.add_account("zoe", "x", 1)
        with pytest.raises(ValueError):
            server.add_account("bad name", "x", 1)
        with pytest.raises(ValueError):
            server.add_account("yan", "x", -1)
        assert "yan" not in server.credentials  # nothing half-made
        spec = server.add_market(
            {
                "id": "7c024",
                "name": "New",
                "event": "E",
                "contracts": [{"id": "70cccc", "name": "X"}],
            }
        )
        assert spec.id == 7 and server.exchange.has_market(7)
        with pytest.raises(ValueError):
            server.add_market(
                {
                    "id": "7c024",
                    "name": "New",
                    "event": "E",
                    "contracts": [{"id": "71cccc", "name": "X"}],
                }
            )
        with pytest.raises(ValueError):
            server.halt("7cccc")  # a contract id is not a market id
        with pytest.raises(KeyError):
            server.halt("99c024")
        server.halt(7)
        server.reopen("7c024")
        server.settle("7c024", "70cccc")
        assert server.balance("zoe").cash == 5

    run(main)


def test_max_open_orders_configures_the_exchange_the_server_builds() -> None:
    assert SandboxServer().exchange.max_open_orders == 1000
    server = SandboxServer(config=ServerConfig(max_open_orders=3))
    assert server.exchange.max_open_orders == 3
    assert SandboxServer(config=ServerConfig(max_open_orders=0)).exchange.max_open_orders == 0
    given = Exchange(max_open_orders=7)
    assert SandboxServer(given, ServerConfig(max_open_orders=3)).exchange is given
    assert given.max_open_orders == 7  # an exchange given keeps its own
    for bad in (-1, 1 << 32, 2.5, True):
        with pytest.raises(ValueError, match="max_open_orders"):
            ServerConfig(max_open_orders=bad)  # type: ignore[arg-type]


def test_close_logs_everyone_out() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        alice.login()
        await server.close()
        events = alice.read()
        ended = [e for e in events if isinstance(e, SessionEnded)]
        assert ended and ended[0].reason == eto_pb2.LOGOUT_DOWNTIME
        assert alice.transport.closing and server.session_count() == 0

    run(main)


def test_routing_tolerates_market_data_for_nobody() -> None:
    async def main() -> None:
        server = make_server()
        payload = Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)
        payload.market_state.market.low = 1
        payload.market_state.state = seto_pb2.MARKET_STATUS_HALTED
        server.router.route([(ToMarket(1), payload), (ToAccount(1), payload)], None, 0.0)

    run(main)


def test_resume_asks_the_client_for_what_the_server_missed() -> None:
    async def main() -> None:
        server = make_server()
        alice = Client(server)
        alice.login()
        # an order leaves the client but never reaches the server: the connection drops
        alice.core.send(order(M1, 1, seto_pb2.SIDE_BUY, 3000, 10_000), alice.loop.time())
        alice.core.data_to_send()
        alice.transport.abort()
        await settle_loop()
        assert not server.exchange.orders_for_account(1).orders_for_account.markets
        again = Client(server, alice.state)
        assert isinstance(again.login(), LoggedIn)
        again.read()  # the server's REPLAY request is answered; the order arrives once
        again.read()
        (accepted,) = again.app(seto_pb2.PAYLOAD_ORDER_ACCEPTED)
        assert accepted.order_accepted.seq == 2
        assert len(server.exchange.orders_for_account(1).orders_for_account.markets) == 1

    run(main)


def test_resume_after_heartbeat_timeout_replays_what_was_sent_meanwhile() -> None:
    async def main() -> None:
        server = make_server(heartbeat_interval=0.02, heartbeat_timeout=0.06)
        alice, bob = Client(server), Client(server)
        alice.login()
        alice.send(subscribe(M1))
        alice.read()
        await asyncio.sleep(0.2)  # alice stops reading and answering: the server gives up
        alice.read()  # she does get the heartbeats and the logout, late
        assert alice.events and isinstance(alice.events[-1], SessionEnded)
        assert alice.events[-1].reason == eto_pb2.LOGOUT_HEARTBEAT_TIMEOUT
        bob.login("bob", "bob-pw")
        bob.send(order(M1, 2, seto_pb2.SIDE_SELL, 6000, 10_000))
        again = Client(server, alice.state)
        assert isinstance(again.login(), LoggedIn)
        again.read()
        (quotes,) = again.app(seto_pb2.PAYLOAD_CONTRACT_QUOTES)
        assert quotes.eto_payload.is_replay
        assert [(q.price, q.quantity) for q in quotes.contract_quotes.offers] == [(6000, 10_000)]

    run(main)
