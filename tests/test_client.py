"""Unit tests of Smarkets: handler names and registry, queueing, dispatch, order tracking."""

from __future__ import annotations

import pytest

import smarkets
import smarkets.account
import smarkets.protocol.extensions
from smarkets.proto import eto_pb2, seto_pb2
from smarkets.protocol import session_payload
from smarkets.protocol.extensions import EXTENSIONS_VERSION
from smarkets.protocol.names import (
    ETO_HANDLER_NAMES,
    HANDLER_NAMES,
    SETO_HANDLER_NAMES,
    payload_name,
)


def seto(kind: str, **fields) -> seto_pb2.Payload:
    p = seto_pb2.Payload(type=seto_pb2.PayloadType.Value("PAYLOAD_" + kind.upper()))
    message = getattr(p, kind)
    message.SetInParent()
    if kind == "order_executed":
        message.quantity_type = seto_pb2.QUANTITY_PAYOFF_CURRENCY  # required, one value
    for name, value in fields.items():
        if isinstance(value, (seto_pb2.Uuid128, seto_pb2.Decimal)):
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return p


def U(n: int) -> seto_pb2.Uuid128:
    return seto_pb2.Uuid128(low=n)


def D(value: int, exponent: int = 2) -> seto_pb2.Decimal:
    return seto_pb2.Decimal(value=value, exponent=exponent)


@pytest.fixture
def client(make_session) -> smarkets.Smarkets:
    client = smarkets.Smarkets(make_session())
    client.login()
    return client


def order(**changes) -> smarkets.Order:
    o = smarkets.Order(400000, 2500, smarkets.Order.BUY, "fc024", "1cccc")
    for name, value in changes.items():
        setattr(o, name, value)
    return o


# -- names ---------------------------------------------------------------------------


def test_handler_names_come_from_the_schemas() -> None:
    assert {
        "eto.login_response",
        "eto.pong",
        "eto.heartbeat",
        "eto.ping",
        "eto.replay",
        "eto.logout",
        "eto.throttle_exceeded",
        "eto.gapfill",
    } <= ETO_HANDLER_NAMES
    assert {
        "seto.order_accepted",
        "seto.market_quotes",
        "seto.contract_quotes",
        "seto.account_state",
        "seto.markets",
        "seto.orders_for_account",
        "seto.orders_for_market",
        "seto.market_subscribe_rejected",
        "seto.order_executed",
    } <= SETO_HANDLER_NAMES
    assert "seto.eto_payload" not in HANDLER_NAMES
    assert len(ETO_HANDLER_NAMES) == len(eto_pb2.PayloadType.values())


@pytest.mark.parametrize(
    ("payload", "name", "message_type"),
    [
        (session_payload(eto_pb2.PAYLOAD_PONG), "eto.pong", eto_pb2.Payload),
        (session_payload(eto_pb2.PAYLOAD_LOGIN_RESPONSE), "eto.login_response", eto_pb2.Payload),
        (
            session_payload(eto_pb2.PAYLOAD_THROTTLE_EXCEEDED),
            "eto.throttle_exceeded",
            eto_pb2.Payload,
        ),
        (seto("login", username="u"), "eto.none", eto_pb2.Payload),
        (seto("order_accepted", seq=1, order=U(1)), "seto.order_accepted", seto_pb2.OrderAccepted),
        (seto("market_quotes", market=U(1)), "seto.market_quotes", seto_pb2.MarketQuotes),
        (
            seto("account_state", account=U(1), cash=D(0), bonus=D(0), exposure=D(0)),
            "seto.account_state",
            seto_pb2.AccountState,
        ),
        (
            seto("market_subscribe_rejected", seq=1, market=U(1), reason=1),
            "seto.market_subscribe_rejected",
            seto_pb2.MarketSubscribeRejected,
        ),
    ],
)
def test_payload_name(payload, name: str, message_type: type) -> None:
    got_name, message = payload_name(payload)
    assert got_name == name
    assert isinstance(message, message_type)


def test_unknown_handler_name_lists_the_valid_ones(client) -> None:
    with pytest.raises(smarkets.UnknownHandlerError) as caught:
        client.add_handler("seto.order_acepted", print)
    assert "seto.order_accepted" in str(caught.value)
    assert "eto.pong" in str(caught.value)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(smarkets.UnknownHandlerError):
        client.del_handler("pong", print)
    with pytest.raises(TypeError):
        client.add_handler("eto.pong", "not callable")


def test_add_and_del_handlers(client, loopback) -> None:
    named: list[object] = []
    everything: list[tuple[str, object]] = []

    def on_state(message):
        named.append(message)

    def on_any(name, payload):
        everything.append((name, payload))

    client.add_handler("seto.market_state", on_state)
    client.add_global_handler(on_any)
    loopback.send(seto("market_state", market=U(3), state=seto_pb2.MARKET_STATUS_HALTED))
    (payload,) = client.read()
    assert isinstance(named[0], seto_pb2.MarketState) and named[0].market.low == 3
    assert everything == [("seto.market_state", payload)]
    client.del_handler("seto.market_state", on_state)
    client.del_global_handler(on_any)
    loopback.send(seto("market_state", market=U(4), state=seto_pb2.MARKET_STATUS_OPEN))
    client.read()
    assert len(named) == 1 and len(everything) == 1
    with pytest.raises(smarkets.UnknownHandlerError):
        client.del_handler("seto.market_state", on_state)
    with pytest.raises(smarkets.UnknownHandlerError):
        client.del_global_handler(on_any)


def test_login_response_is_dispatched_by_login(make_session) -> None:
    client = smarkets.Smarkets(make_session())
    seen: list[str] = []
    client.add_handler("eto.login_response", lambda eto: seen.append(eto.login_response.session))
    client.login()
    assert seen == ["19999"]


# -- queueing -------------------------------------------------------------------------


def test_nothing_is_written_before_flush(client, loopback) -> None:
    writes = loopback.writes
    received = len(loopback.received)
    client.ping()
    client.subscribe("fc024")
    client.unsubscribe(U(0xF))
    placed = client.order(order())
    client.cancel("42fff0")
    client.cancel_all()
    client.cancel_all("fc024")
    client.request_account_state()
    client.request_markets()
    client.request_orders()
    client.request_orders(0xF)
    assert client.queued == 11
    assert (loopback.writes, len(loopback.received)) == (writes, received)
    assert placed.state == "queued" and placed.seq is None
    seqs = client.flush()
    assert seqs == list(range(2, 13))
    assert loopback.writes == writes + 1  # one write for the whole batch
    sent = loopback.received[received:]
    assert [payload_name(p)[0] for p in sent] == [
        "eto.ping",
        "seto.market_subscribe",
        "seto.market_unsubscribe",
        "seto.order_create",
        "seto.order_cancel",
        "seto.order_cancel_all",
        "seto.order_cancel_all",
        "seto.account_state_request",
        "seto.markets_request",
        "seto.orders_for_account_request",
        "seto.orders_for_market_request",
    ]
    assert sent[1].market_subscribe.market == U(0xF)
    assert sent[4].order_cancel.order == U(0x42)
    assert not sent[5].order_cancel_all.HasField("market")
    assert sent[6].order_cancel_all.market == U(0xF)
    assert sent[10].orders_for_market_request.market == U(0xF)
    create = sent[3].order_create
    assert (create.type, create.quantity_type, create.price_type, create.tif) == (
        seto_pb2.ORDER_CREATE_LIMIT,
        seto_pb2.QUANTITY_PAYOFF_CURRENCY,
        seto_pb2.PRICE_PERCENT_ODDS,
        seto_pb2.GOOD_TIL_CANCELLED,
    )
    assert (placed.state, placed.seq) == ("sent", 5)
    assert client.flush() == []


def test_invalid_order_is_not_queued(client) -> None:
    with pytest.raises(smarkets.InvalidOrderError, match="price"):
        client.order(order(price=0))
    assert client.queued == 0
    placed = client.order(order())
    with pytest.raises(smarkets.InvalidOrderError, match="already placed"):
        client.order(placed)
    with pytest.raises(TypeError):
        client.order("an order")
    with pytest.raises(smarkets.InvalidIdError):
        client.subscribe("1cccc")  # a contract id is not a market id


def test_flush_when_not_logged_in_keeps_the_queue(make_session) -> None:
    client = smarkets.Smarkets(make_session())
    client.ping()
    with pytest.raises(smarkets.NotLoggedInError):
        client.flush()
    assert client.queued == 1
    client.login()
    assert client.flush() == [2]


def test_cancel_needs_an_accepted_order(client) -> None:
    with pytest.raises(smarkets.InvalidOrderError, match="no id yet"):
        client.cancel(client.order(order()))


# -- reading ---------------------------------------------------------------------------


def test_read_counts_exactly_num_payloads(client, loopback) -> None:
    for n in range(3):
        loopback.send(seto("market_state", market=U(n), state=seto_pb2.MARKET_STATUS_OPEN))
    loopback.send(session_payload(eto_pb2.PAYLOAD_HEARTBEAT))
    first = client.read(2)
    assert [p.market_state.market.low for p in first] == [0, 1]
    rest = client.read(2)  # the other two were received in the same batch: kept
    assert [payload_name(p)[0] for p in rest] == ["seto.market_state", "eto.heartbeat"]
    with pytest.raises(ValueError):
        client.read(0)


def test_read_timeout(client) -> None:
    with pytest.raises(smarkets.SocketTimeout):
        client.read()


def test_read_with_a_timeout_returns_what_came_in_time(client, loopback, clock) -> None:
    start = clock()
    assert client.read(timeout=5.0) == []  # nothing came: no error
    assert clock() - start >= 5.0  # it waited the whole time (on the session's clock)
    assert client.read(3, timeout=0) == []  # a poll
    seen: list[int] = []
    client.add_handler("seto.market_state", lambda m: seen.append(m.market.low))
    for n in range(2):
        loopback.send(seto("market_state", market=U(n), state=seto_pb2.MARKET_STATUS_OPEN))
    got = client.read(5, timeout=1.0)  # fewer than asked for: what there was
    assert [p.market_state.market.low for p in got] == [0, 1] == seen
    loopback.send(seto("market_state", market=U(7), state=seto_pb2.MARKET_STATUS_OPEN))
    loopback.send(seto("market_state", market=U(8), state=seto_pb2.MARKET_STATUS_OPEN))
    assert [p.market_state.market.low for p in client.read(1, timeout=1.0)] == [7]
    assert [p.market_state.market.low for p in client.read(1, timeout=0)] == [8]  # kept


def test_end_of_session_dispatches_what_came_before(client, loopback) -> None:
    names: list[str] = []
    client.add_global_handler(lambda name, payload: names.append(name))
    loopback.send(seto("market_state", market=U(1), state=seto_pb2.MARKET_STATUS_OPEN))
    loopback.send(seto("market_state", market=U(2), state=seto_pb2.MARKET_STATUS_OPEN))
    loopback.core.logout(loopback.clock(), eto_pb2.LOGOUT_DOWNTIME)
    loopback.inbox.extend(loopback.core.payloads_to_send())
    # All arrive in one batch: whatever came before the end is dispatched, even
    # beyond ``num``, and the end is raised in the same read.
    with pytest.raises(smarkets.LoggedOutError):
        client.read(1)
    assert names == ["seto.market_state", "seto.market_state", "eto.logout"]


def test_handler_exception_propagates_and_keeps_the_rest(client, loopback) -> None:
    def boom(message):
        if message.market.low == 1:
            raise RuntimeError("handler failed")

    client.add_handler("seto.market_state", boom)
    loopback.send(seto("market_state", market=U(1), state=seto_pb2.MARKET_STATUS_OPEN))
    loopback.send(seto("market_state", market=U(2), state=seto_pb2.MARKET_STATUS_OPEN))
    with pytest.raises(RuntimeError):
        client.read()
    (payload,) = client.read()
    assert payload.market_state.market.low == 2


# -- order tracking ----------------------------------------------------------------------


def test_order_callbacks_and_state(client, loopback) -> None:
    calls: list[tuple[str, object]] = []

    def record(kind):
        return lambda o, message: calls.append((kind, o.state))

    placed = order(quantity=5000, reference="ref-1")
    for kind in ("accepted", "rejected", "invalid", "executed", "cancelled"):
        setattr(placed, f"on_{kind}", record(kind))
    accepted_by_handler: list[int] = []
    client.add_handler("seto.order_accepted", lambda m: accepted_by_handler.append(m.seq))
    client.order(placed)
    (seq,) = client.flush()
    loopback.send(seto("order_accepted", seq=seq, order=U(0x77), reference="ref-1"))
    loopback.send(
        seto(
            "order_executed",
            quantity_type=1,
            order=U(0x77),
            price=2500,
            quantity=2000,
            remaining=3000,
        )
    )
    loopback.send(seto("order_executed", order=U(0x77), price=2500, quantity=1000))
    loopback.send(seto("order_cancelled", order=U(0x77), reason=1, quantity=2000))
    client.read(4)
    assert calls == [
        ("accepted", "accepted"),
        ("executed", "accepted"),
        ("executed", "accepted"),
        ("cancelled", "cancelled"),
    ]
    assert accepted_by_handler == [seq]
    assert placed.id == U(0x77)
    assert (placed.filled, placed.remaining) == (3000, 0)
    # Everything about a finished order is forgotten.
    assert len(client.orders) == 0 and client.orders.cancels_pending == 0


def test_fill_completes_an_order(client, loopback) -> None:
    placed = client.order(order(quantity=2000))
    (seq,) = client.flush()
    loopback.send(seto("order_accepted", seq=seq, order=U(9)))
    loopback.send(seto("order_executed", order=U(9), price=2500, quantity=2000, remaining=0))
    client.read(2)
    assert placed.state == "filled" and placed.done


def test_rejected_and_invalid_matched_by_seq(client, loopback) -> None:
    rejected = client.order(order(on_rejected=None))
    invalid = client.order(order())
    got: list[str] = []
    rejected.on_rejected = lambda o, m: got.append("rejected")
    invalid.on_invalid = lambda o, m: got.append("invalid")
    first, second = client.flush()
    loopback.send(seto("order_invalid", seq=second))
    loopback.send(seto("order_rejected", seq=first, reason=1))
    client.read(2)
    assert got == ["invalid", "rejected"]
    assert (rejected.state, invalid.state) == ("rejected", "invalid")


def test_replies_for_unknown_orders_still_reach_handlers(client, loopback) -> None:
    seen: list[int] = []
    client.add_handler("seto.order_accepted", lambda m: seen.append(m.order.low))
    loopback.send(seto("order_accepted", seq=999, order=U(5)))
    loopback.send(seto("order_cancelled", order=U(6), reason=1))
    client.read(2)
    assert seen == [5]


def test_other_order_replies_reach_handlers(client, loopback) -> None:
    seen: list[str] = []
    for name in (
        "seto.order_cancel_rejected",
        "seto.order_cancel_all_accepted",
        "seto.order_cancel_all_rejected",
    ):
        client.add_handler(name, lambda m, name=name: seen.append(name))
    loopback.send(seto("order_cancel_rejected", seq=2, reason=1))
    loopback.send(seto("order_cancel_all_accepted", seq=3, count=2))
    loopback.send(seto("order_cancel_all_rejected", seq=4, reason=1))
    client.read(3)
    assert seen == [
        "seto.order_cancel_rejected",
        "seto.order_cancel_all_accepted",
        "seto.order_cancel_all_rejected",
    ]


def test_order_matched_by_reference_when_the_seq_is_unknown(client, loopback) -> None:
    placed = client.order(order(reference="by-ref"))
    client.flush()
    loopback.send(seto("order_accepted", seq=12345, order=U(8), reference="by-ref"))
    client.read()
    assert placed.state == "accepted"


# -- ids -------------------------------------------------------------------------------------


def test_id_helpers(client) -> None:
    assert client.str_to_uuid128("fc024") == U(0xF)
    assert client.str_to_uuid128("fc024", strip_tag=False) == U(0xFC024)
    assert client.uuid_to_str(U(0xF), "market") == "fc024"
    assert client.uuid128_to_int(U(7)) == 7
    assert client.int_to_uuid128(7) == U(7)
    assert client.str_to_int("1cccc") == 1
    assert smarkets.uuid_to_str(U(1), "contract") == "1cccc"


def test_queue_any_payload(client, loopback) -> None:
    client.queue(seto("markets_request"))
    with pytest.raises(TypeError):
        client.queue(b"raw bytes")
    (seq,) = client.flush()
    assert payload_name(loopback.received[-1])[0] == "seto.markets_request"
    assert loopback.received[-1].eto_payload.seq == seq


# -- the published wire: what works without extensions ---------------------------------------


@pytest.fixture
def published(make_session, loopback) -> smarkets.Smarkets:
    """A client logged in to a server that grants no extensions (a 2013 server)."""
    loopback.grant = 0
    client = smarkets.Smarkets(make_session())
    client.login()
    return client


def test_login_asks_for_extensions_and_exposes_the_grant(client, loopback) -> None:
    login = loopback.received[0].login
    assert login.extensions == smarkets.protocol.extensions.EXTENSIONS_VERSION
    assert client.session.extensions == client.extensions == EXTENSIONS_VERSION


def test_login_without_extensions_speaks_the_published_schema(make_session, loopback) -> None:
    settings = smarkets.SessionSettings("u", "p", ssl=False, extensions=False)
    client = smarkets.Smarkets(make_session(settings=settings))
    assert client.extensions is None
    with pytest.raises(smarkets.ExtensionNotGrantedError, match="not logged in"):
        client.cancel_all()  # before the login: the settings say none will be asked for
    client.login()
    assert not loopback.received[0].login.HasField("extensions")
    assert client.extensions == 0


def test_extension_features_raise_when_not_granted(published) -> None:
    assert published.extensions == 0
    for attempt in (
        published.cancel_all,
        lambda: published.cancel_all("fc024"),
        published.request_markets,
        lambda: published.order(order(reference="label")),
    ):
        with pytest.raises(smarkets.ExtensionNotGrantedError) as caught:
            attempt()
        assert "extensions" in str(caught.value)
    assert published.queued == 0
    # The published features queue as usual.
    published.order(order())
    published.cancel(U(0x42))
    published.request_account_state()
    published.request_orders()
    published.request_orders_for_market("fc024")
    assert published.queued == 5


def test_fills_and_cancel_with_published_fields_only(published, loopback) -> None:
    placed = published.order(order(quantity=10000))
    (seq,) = published.flush()
    loopback.send(seto("order_accepted", seq=seq, order=U(0x77)))
    loopback.send(seto("order_executed", order=U(0x77), price=2500, quantity=3000))
    published.read(2)
    assert (placed.state, placed.filled, placed.remaining) == ("accepted", 3000, 7000)
    # The client knows the order's side, market and contract from its own records.
    known = published.order_for(U(0x77))
    assert known is placed and known.side == smarkets.Order.BUY
    assert known.market == U(0xF) and known.contract == U(1)
    loopback.send(seto("order_cancelled", order=U(0x77), reason=1))
    published.read()
    assert (placed.state, placed.cancelled_quantity, placed.remaining) == ("cancelled", 7000, 0)
    assert published.order_for(U(0x77)) is None


def test_fills_complete_an_order_without_remaining(published, loopback) -> None:
    placed = published.order(order(quantity=2000))
    (seq,) = published.flush()
    loopback.send(seto("order_accepted", seq=seq, order=U(9)))
    loopback.send(seto("order_executed", order=U(9), price=2500, quantity=1500))
    loopback.send(seto("order_executed", order=U(9), price=2500, quantity=500))
    published.read(3)
    assert placed.state == "filled" and placed.filled == 2000 and placed.remaining == 0


NOT_FOUND = seto_pb2.ORDER_CANCEL_REJECTED_NOT_FOUND
NOT_LIVE = seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE


def test_cancel_rejected_is_matched_by_the_seq_of_the_cancel(published, loopback) -> None:
    placed = published.order(order())
    (seq,) = published.flush()
    loopback.send(seto("order_accepted", seq=seq, order=U(5)))
    published.read()
    refused: list[int] = []
    placed.on_cancel_rejected = lambda o, m: refused.append(m.reason)
    published.cancel(placed)
    published.cancel(U(0x99))  # not ours: NOT_FOUND, matches no order
    cancel_seq, other_seq = published.flush()
    loopback.send(
        seto(
            "order_cancel_rejected", seq=other_seq, reason=seto_pb2.ORDER_CANCEL_REJECTED_NOT_FOUND
        )
    )
    loopback.send(
        seto(
            "order_cancel_rejected", seq=cancel_seq, reason=seto_pb2.ORDER_CANCEL_REJECTED_NOT_LIVE
        )
    )
    published.read(2)
    assert refused == [NOT_LIVE]
    assert placed.state == "accepted"
    assert published.orders.cancels_pending == 0 and len(published.orders) == 1


def test_extension_fields_track_an_order_of_another_session(client, loopback) -> None:
    executed = seto(
        "order_executed",
        order=U(0x55),
        price=4000,
        quantity=1000,
        side=seto_pb2.SIDE_SELL,
        market=U(0xF),
        contract=U(2),
        remaining=4000,
    )
    loopback.send(executed)
    client.read()
    other = client.order_for(U(0x55))
    assert other is not None and other.side == smarkets.Order.SELL
    assert (other.contract, other.filled, other.remaining) == (U(2), 1000, 4000)
    loopback.send(seto("order_cancelled", order=U(0x55), reason=1, quantity=4000))
    client.read()
    assert other.cancelled_quantity == 4000 and client.order_for(U(0x55)) is None


def test_account_state_with_published_fields(published, loopback) -> None:
    loopback.send(
        seto(
            "account_state",
            account=U(1),
            currency=seto_pb2.CURRENCY_GBP,
            cash=D(100000),
            bonus=D(0),
            exposure=D(1250),
        )
    )
    published.read()
    account = published.account
    assert (account.cash, account.exposure, account.available) == (10_000_000, 125_000, 9_875_000)
    assert account.staked is None and account.seq is None and account.currency == "GBP"


def test_account_state_with_extension_fields(client, loopback) -> None:
    loopback.send(
        seto(
            "account_state",
            account=U(1),
            currency=seto_pb2.CURRENCY_EUR,
            cash=D(1000, 0),
            bonus=D(5, 1),
            exposure=D(10, 0),
            available=D(990, 0),
            staked=D(2500, 4),
            seq=7,
        )
    )
    client.read()
    account = client.account
    assert (account.cash, account.bonus, account.available, account.staked, account.seq) == (
        10_000_000,
        5000,
        9_900_000,
        2500,
        7,
    )


def test_open_orders_are_read_from_the_published_answer(published, loopback) -> None:
    payload = seto("orders_for_account")
    market = payload.orders_for_account.markets.add(price_type=seto_pb2.PRICE_PERCENT_ODDS)
    market.market.CopyFrom(U(0xF))
    contract = market.contracts.add()
    contract.contract.CopyFrom(U(1))
    for levels, price, oid in ((contract.bids, 2500, 0x61), (contract.offers, 3000, 0x62)):
        level = levels.add(price=price)
        state = level.orders.add(
            type=1, status=1, quantity_type=1, quantity=5000, created_microseconds=1
        )
        state.order.CopyFrom(U(oid))
        state.quantity_filled = 1000
    loopback.send(payload)
    (got,) = published.read()
    rows = smarkets.account.open_orders(got.orders_for_account)
    assert [(r.side, r.price, r.remaining) for r in rows] == [
        (seto_pb2.SIDE_BUY, 2500, 4000),
        (seto_pb2.SIDE_SELL, 3000, 4000),
    ]
    bid = published.order_for(U(0x61))
    assert bid is not None and bid.side == smarkets.Order.BUY and bid.remaining == 4000


def test_eto_news_reach_handlers_in_order(client, loopback) -> None:
    seen: list[str] = []
    client.add_global_handler(lambda name, payload: seen.append(name))
    alert = session_payload(eto_pb2.PAYLOAD_DOWNTIME_ALERT)
    alert.eto_payload.downtime_alert.type = eto_pb2.DOWNTIME_ALERT_CONNECTION
    alert.eto_payload.downtime_alert.description = "maintenance"
    loopback.send(alert)
    loopback.send(seto("market_state", market=U(1), state=seto_pb2.MARKET_STATUS_OPEN))
    loopback.send(session_payload(eto_pb2.PAYLOAD_THROTTLE_EXCEEDED))
    client.read(3)
    assert seen == ["eto.downtime_alert", "seto.market_state", "eto.throttle_exceeded"]


def test_logout_downtime_raises_downtime_error(client, loopback) -> None:
    loopback.core.logout(loopback.clock(), eto_pb2.LOGOUT_DOWNTIME)
    loopback.inbox.extend(loopback.core.payloads_to_send())
    with pytest.raises(smarkets.DowntimeError) as caught:
        client.read()
    assert caught.value.reason_name == "LOGOUT_DOWNTIME" and not caught.value.resumable
