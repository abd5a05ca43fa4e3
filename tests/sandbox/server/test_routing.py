"""The router on its own: who receives each output, in which view (no sockets, no loop)."""

from __future__ import annotations

import logging

import pytest

from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol.extensions import has_extensions
from smarkets.sandbox.exchange.messages import ToAccount, ToMarket
from smarkets.sandbox.server.routing import Router
from smarkets.sandbox.server.sessions import ServerSession, SessionRegistry

from .fakes import Core, Stream, Timers

Payload = seto_pb2.Payload
ALICE, BOB, CAROL = 1, 2, 3


def setup() -> tuple[Router, SessionRegistry]:
    registry = SessionRegistry(expiry=60.0, replay_limit=None, call_later=Timers().call_later)
    return Router(registry), registry


def session(
    registry: SessionRegistry, account_id: int, extensions: int = 1, attached: bool = True
) -> ServerSession:
    new = registry.create(f"user{account_id}", account_id, extensions, None)
    new.core = Core()  # type: ignore[assignment]
    new.stream = Stream() if attached else None
    return new


def sent(s: ServerSession) -> list[Payload]:
    return s.core.sent  # type: ignore[union-attr, no-any-return]


def test_targets_rules() -> None:
    """The routing table, decided on the full payload."""
    router, registry = setup()
    a, b = session(registry, ALICE), session(registry, BOB)
    accepted = Payload(type=seto_pb2.PAYLOAD_ORDER_ACCEPTED)
    accepted.order_accepted.seq = 5
    accepted.order_accepted.order.low = 42
    assert router.targets(ALICE, accepted, a) == [a]
    assert registry.order_owner[42] is a
    # a reply for another account than the requester's is not delivered
    assert router.targets(BOB, accepted, a) == []
    executed = Payload(type=seto_pb2.PAYLOAD_ORDER_EXECUTED)
    executed.order_executed.order.low = 42
    executed.order_executed.price = 5000
    executed.order_executed.quantity = 1000
    executed.order_executed.remaining = 1000
    assert router.targets(ALICE, executed, b) == [a]  # placed by a, filled by b's request
    assert router.targets(ALICE, executed, None) == [a]
    state = Payload(type=seto_pb2.PAYLOAD_ACCOUNT_STATE)
    state.account_state.account.low = ALICE
    assert router.targets(ALICE, state, None) == [a]
    state.account_state.seq = 9
    assert router.targets(ALICE, state, a) == [a]
    assert router.targets(ALICE, state, None) == []
    cancelled = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCELLED)
    cancelled.order_cancelled.order.low = 42
    assert router.targets(ALICE, cancelled, None) == [a]
    assert 42 not in registry.order_owner
    # An order no live or parked session placed (its session ended): every session of
    # the account gets its news.
    assert router.targets(ALICE, cancelled, None) == [a]
    assert router.targets(ALICE, executed, b) == [a]
    # An account with no session at all: nobody.
    assert router.targets(CAROL, executed, b) == []
    assert router.targets(CAROL, cancelled, None) == []


def test_a_fill_that_finishes_an_order_forgets_its_owner() -> None:
    router, registry = setup()
    a, a2 = session(registry, ALICE), session(registry, ALICE)
    registry.own_order(a, 7)
    executed = Payload(type=seto_pb2.PAYLOAD_ORDER_EXECUTED)
    executed.order_executed.order.low = 7
    executed.order_executed.remaining = 0
    assert router.targets(ALICE, executed, None) == [a]  # the last fill, to its owner
    assert registry.order_owner == {} and a.orders == set()
    assert router.targets(ALICE, executed, None) == [a, a2]  # later news: every session


def test_a_cancel_answering_a_request_goes_to_the_requester_of_that_account() -> None:
    router, registry = setup()
    a, b = session(registry, ALICE), session(registry, BOB)
    cancelled = Payload(type=seto_pb2.PAYLOAD_ORDER_CANCELLED)
    cancelled.order_cancelled.order.low = 9
    cancelled.order_cancelled.seq = 3
    assert router.targets(ALICE, cancelled, a) == [a]
    assert router.targets(ALICE, cancelled, b) == []


def test_a_reply_for_another_account_is_dropped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router, registry = setup()
    a = session(registry, ALICE)
    reply = Payload(type=seto_pb2.PAYLOAD_ORDERS_FOR_ACCOUNT)
    with caplog.at_level(logging.WARNING, logger="smarkets.sandbox.server"):
        router.route([(ToAccount(BOB), reply)], a, 0.0)
    assert sent(a) == []
    assert "PAYLOAD_ORDERS_FOR_ACCOUNT for account 2 produced by a request of account 1" in (
        caplog.text
    )


def market_state(market: int) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)
    payload.market_state.market.low = market
    payload.market_state.state = seto_pb2.MARKET_STATUS_HALTED
    return payload


def contract_quotes(market: int) -> Payload:
    payload = Payload(type=seto_pb2.PAYLOAD_CONTRACT_QUOTES)
    quotes = payload.contract_quotes
    quotes.contract.low = 1
    quotes.market.low = market  # an extension field
    quotes.volume = 10  # and another
    quotes.bids.add(price=4000, quantity=1000)
    return payload


def test_market_data_goes_to_subscribers_once_per_variant() -> None:
    router, registry = setup()
    ext, ext2, plain = session(registry, ALICE), session(registry, BOB), session(registry, CAROL, 0)
    other = session(registry, ALICE)
    for s in (ext, ext2, plain):
        registry.subscribe(s, 5)
    router.route([(ToMarket(5), contract_quotes(5)), (ToMarket(5), market_state(5))], None, 1.0)
    assert sent(other) == []
    ext_bodies = [ext.core.serialized, ext2.core.serialized]  # type: ignore[union-attr]
    assert ext_bodies[0] == ext_bodies[1] and len(ext_bodies[0]) == 2
    # The published view: extension fields left out, an extension kind not sent at all.
    (view,) = sent(plain)
    assert view.type == seto_pb2.PAYLOAD_CONTRACT_QUOTES and not has_extensions(view)
    assert [(q.price, q.quantity) for q in view.contract_quotes.bids] == [(4000, 1000)]
    assert has_extensions(sent(ext)[0])
    # Each payload marks its session's connection for writing, parked ones excepted.
    assert set(router.dirty) == {ext.stream, ext2.stream, plain.stream}


def test_market_data_for_nobody_and_payloads_that_cannot_be_sent_are_dropped() -> None:
    router, registry = setup()
    a = session(registry, ALICE)
    registry.subscribe(a, 5)
    lacking = Payload(type=seto_pb2.PAYLOAD_MARKET_STATE)  # market_state lacks its market
    lacking.market_state.SetInParent()
    router.route([(ToMarket(6), market_state(6)), (ToMarket(5), lacking)], None, 0.0)
    assert sent(a) == [] and router.dirty == {}


def test_a_parked_session_is_sent_but_not_marked_for_writing() -> None:
    router, registry = setup()
    parked = session(registry, ALICE, attached=False)
    router.send(parked, market_state(1), 0.0)
    assert len(sent(parked)) == 1 and router.dirty == {}


def test_announce_reaches_every_session_in_its_view() -> None:
    router, registry = setup()
    ext, plain = session(registry, ALICE), session(registry, BOB, 0)
    alert = Payload(type=seto_pb2.PAYLOAD_ETO)
    alert.eto_payload.type = eto_pb2.PAYLOAD_THROTTLE_EXCEEDED  # an extension eto kind
    router.announce(alert, 0.0)
    assert len(sent(ext)) == 1 and sent(plain) == []
