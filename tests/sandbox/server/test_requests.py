"""What each payload a client sends does, on its own: requests served, and the LOGOUT for
what cannot be (no sockets; a router over sessions with recording cores)."""

from __future__ import annotations

import datetime

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import session_payload
from smarkets.sandbox.exchange import Exchange
from smarkets.sandbox.exchange.markets_file import default_markets
from smarkets.sandbox.server.catalogue_http import CatalogueHttpServer
from smarkets.sandbox.server.requests import Requests
from smarkets.sandbox.server.routing import Router
from smarkets.sandbox.server.sessions import ServerSession, SessionRegistry
from smarkets.sandbox.server.throttle import Throttle

from .fakes import Core, Stream, Timers

Payload = seto_pb2.Payload
UNSUPPORTED = eto_pb2.LOGOUT_UNSUPPORTED_PAYLOAD


class Rig:
    def __init__(self) -> None:
        self.exchange = Exchange(clock=lambda: 1_700_000_000.0)
        self.account = self.exchange.add_account("alice", 10_000_000)
        for spec in default_markets():
            self.exchange.open_market(spec)
        self.registry = SessionRegistry(expiry=1, replay_limit=None, call_later=Timers().call_later)
        self.router = Router(self.registry)
        listings = CatalogueHttpServer(
            self.exchange.catalogue, today=lambda: datetime.date(2026, 12, 2)
        )
        self.requests = Requests(
            self.exchange, self.registry, self.router, listings, lambda s: "exchange.example"
        )

    def session(self, extensions: int = 1, throttle: Throttle | None = None) -> ServerSession:
        session = self.registry.create("alice", self.account, extensions, throttle)
        session.core = Core()  # type: ignore[assignment]
        session.stream = Stream()
        return session


def request(ptype: int, seq: int = 2, field: str | None = None) -> Payload:
    payload = Payload(type=ptype)
    payload.eto_payload.seq = seq
    if field is not None:
        getattr(payload, field).SetInParent()
    return payload


def sent(session: ServerSession) -> list[Payload]:
    return session.core.sent  # type: ignore[union-attr, no-any-return]


def test_what_cannot_be_served_is_answered_with_a_logout() -> None:
    rig = Rig()
    ext, plain = rig.session(), rig.session(extensions=0)
    handle = rig.requests.handle
    server_kind = request(seto_pb2.PAYLOAD_ORDER_ACCEPTED, 4)
    assert handle(ext, server_kind, 0.0) == (
        UNSUPPORTED,
        "sent PAYLOAD_ORDER_ACCEPTED, which is not a request the sandbox serves (seq 4)",
    )
    markets = request(seto_pb2.PAYLOAD_MARKETS_REQUEST)
    reason, why = handle(plain, markets, 0.0)  # type: ignore[misc]
    assert reason == UNSUPPORTED and "an extension kind, without extensions" in why
    assert handle(ext, markets, 0.0) is None
    lacking = request(seto_pb2.PAYLOAD_ORDER_CREATE)
    assert handle(ext, lacking, 0.0) == (
        eto_pb2.LOGOUT_INVALID_PAYLOAD,
        "PAYLOAD_ORDER_CREATE without its order_create",
    )
    unknown_eto = Payload(type=seto_pb2.PAYLOAD_ETO)
    unknown_eto.eto_payload.MergeFromString(b"\x08\x05\x10\x63")  # seq 5, type 99
    reason, why = handle(ext, unknown_eto, 0.0)  # type: ignore[misc]
    assert reason == UNSUPPORTED and "an eto payload of a kind it does not know" in why
    heartbeat = session_payload(eto_pb2.PAYLOAD_HEARTBEAT)
    assert handle(ext, heartbeat, 0.0) is None  # the core's business


def test_subscriptions_and_unknown_markets() -> None:
    rig = Rig()
    ext, plain = rig.session(), rig.session(extensions=0)
    subscribe = request(seto_pb2.PAYLOAD_MARKET_SUBSCRIBE)
    subscribe.market_subscribe.market.low = 1
    for session in (ext, plain):
        assert rig.requests.handle(session, subscribe, 0.0) is None
    assert list(rig.registry.subscribed(1)) == [ext, plain]
    assert sent(ext)[0].market_quotes.seq == 2 and sent(ext)[0].market_quotes.contract_quotes
    unknown = request(seto_pb2.PAYLOAD_MARKET_SUBSCRIBE)
    unknown.market_subscribe.market.low = 0x77
    rig.requests.handle(ext, unknown, 0.0)
    rig.requests.handle(plain, unknown, 0.0)
    rejected = sent(ext)[-1].market_subscribe_rejected
    assert rejected.reason == seto_pb2.MARKET_SUBSCRIBE_REJECTED_MARKET_NOT_FOUND
    empty = sent(plain)[-1].market_quotes  # the published schema has no refusal
    assert empty.market.low == 0x77 and not empty.contract_quotes
    assert 0x77 not in rig.registry.subscribers
    unsubscribe = request(seto_pb2.PAYLOAD_MARKET_UNSUBSCRIBE)
    unsubscribe.market_unsubscribe.market.low = 1
    rig.requests.handle(ext, unsubscribe, 0.0)
    assert list(rig.registry.subscribed(1)) == [plain]


def test_listing_urls_and_dates_out_of_range() -> None:
    rig = Rig()
    session = rig.session()
    politics = request(seto_pb2.PAYLOAD_EVENTS_REQUEST, 3)
    politics.events_request.type = seto_pb2.EVENTS_REQUEST_POLITICS
    rig.requests.handle(session, politics, 0.0)
    found = sent(session)[-1].http_found
    assert found.seq == 3 and found.url == "http://exchange.example:0/events/politics"
    by_date = request(seto_pb2.PAYLOAD_EVENTS_REQUEST, 4)
    by_date.events_request.type = seto_pb2.EVENTS_REQUEST_SPORT_BY_DATE
    by_date.events_request.sport_by_date.type = seto_pb2.SPORT_BY_DATE_FOOTBALL
    date = by_date.events_request.sport_by_date.date
    date.year, date.month, date.day = 2027, 1, 30  # beyond the window (30 days)
    rig.requests.handle(session, by_date, 0.0)
    invalid = sent(session)[-1].invalid_request
    assert (invalid.seq, invalid.type) == (4, seto_pb2.INVALID_REQUEST_DATE_OUT_OF_RANGE)


def test_orders_are_placed_and_their_answers_routed() -> None:
    rig = Rig()
    session = rig.session()
    create = request(seto_pb2.PAYLOAD_ORDER_CREATE, 7, "order_create")
    order = create.order_create
    order.type = seto_pb2.ORDER_CREATE_LIMIT
    order.market.low, order.contract.low = 1, 1
    order.side, order.quantity, order.price = seto_pb2.SIDE_BUY, 10_000, 4000
    order.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY
    assert rig.requests.handle(session, create, 0.0) is None
    (accepted,) = sent(session)
    assert accepted.order_accepted.seq == 7
    assert rig.registry.owner_of(accepted.order_accepted.order.low) is session


def test_a_session_outrunning_its_throttle_is_told_once() -> None:
    rig = Rig()
    session = rig.session(throttle=Throttle(rate=1, burst=2, now=0.0))
    for seq in range(2, 7):
        rig.requests.handle(session, request(seto_pb2.PAYLOAD_ACCOUNT_STATE_REQUEST, seq), 0.0)
    kinds = [
        p.eto_payload.type if p.type == seto_pb2.PAYLOAD_ETO else p.type for p in sent(session)
    ]
    throttled = eto_pb2.PAYLOAD_THROTTLE_EXCEEDED
    state = seto_pb2.PAYLOAD_ACCOUNT_STATE
    assert kinds == [state, state, throttled, state, state, state]  # every request answered
