"""A published-schema client against a real sandbox: every published kind, the session rules.

The sandbox runs as a subprocess with TLS (the client verifies it against the CA file the
sandbox prints) and no bots. The clients are :class:`ForeignClient`: built from PROTOCOL.md
and the wire tables only, they refuse any payload holding a field or enum value the
published schemas do not know, so every test also checks that a session that did not ask
for extensions never sees one.

The shared sandbox's books are split so that tests do not meet: market 1 (contracts 1-3)
for orders, market 2 (4, 5) for cancels, market 3 (6, 7) for market data, market 4 (8-b)
for the orders requests (carol) and resumes. Halts, settlement, downtime and account
balances get a sandbox of their own.
"""

from __future__ import annotations

import re
import secrets
import socket
import ssl
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from .foreign_client import ForeignClient, kind_of, uuid, uuid_int
from .published_schema import UnpublishedContent, eto, seto
from .sandbox_runner import Sandbox

Connect = Callable[..., ForeignClient]
BUY, SELL = seto.SIDE_BUY, seto.SIDE_SELL
M1, M2, M3, M4 = 1, 2, 3, 4  # '1c024' ... '4c024'


def money(decimal: Any) -> Decimal:
    """A ``seto.Decimal`` as a Python Decimal, exactly."""
    return Decimal(decimal.value).scaleb(-decimal.exponent)


def levels(quotes: Any) -> list[tuple[int, int]]:
    """``[(price, quantity), ...]`` of repeated ``seto.Quote``."""
    return [(q.price, q.quantity) for q in quotes]


def assert_best_first(contract_quotes: Any) -> None:
    """Bids by descending price, offers by ascending price."""
    bids = [q.price for q in contract_quotes.bids]
    offers = [q.price for q in contract_quotes.offers]
    assert bids == sorted(bids, reverse=True) and len(set(bids)) == len(bids), bids
    assert offers == sorted(offers) and len(set(offers)) == len(offers), offers


def cancelled(client: ForeignClient, order_id: int) -> Any:
    """Wait for the order_cancelled of ``order_id``."""
    return client.wait_for(
        "order_cancelled", where=lambda p: uuid_int(p.order_cancelled.order) == order_id
    ).order_cancelled


def cancel_rejected(client: ForeignClient, seq: int) -> Any:
    """Wait for the order_cancel_rejected answering ``seq``."""
    return client.wait_for(
        "order_cancel_rejected", where=lambda p: p.order_cancel_rejected.seq == seq
    ).order_cancel_rejected


def executed(client: ForeignClient, order_id: int) -> Any:
    """Wait for an order_executed of ``order_id``."""
    return client.wait_for(
        "order_executed", where=lambda p: uuid_int(p.order_executed.order) == order_id
    ).order_executed


def quotes_for(client: ForeignClient, contract: int) -> Any:
    """Wait for a contract_quotes update of ``contract``."""
    return client.wait_for(
        "contract_quotes", where=lambda p: uuid_int(p.contract_quotes.contract) == contract
    ).contract_quotes


def subscribe(client: ForeignClient, market: int) -> Any:
    """market_subscribe; the market_quotes snapshot."""
    client.send_app("market_subscribe", seto.MarketSubscribe(market=uuid(market)))
    return client.wait_for(
        "market_quotes", where=lambda p: uuid_int(p.market_quotes.market) == market
    ).market_quotes


def account_state(client: ForeignClient) -> Any:
    """account_state_request; the account_state."""
    client.send_app("account_state_request", seto.AccountStateRequest())
    return client.wait_for("account_state").account_state


def delivered_seqs_are_each_once_in_order(client: ForeignClient) -> None:
    """What the client delivered is seq 1, 2, 3, ... each once."""
    seqs = [p.eto_payload.seq for p in client.delivered]
    assert seqs == list(range(1, client.inseq)), seqs


# -- transport and login ----------------------------------------------------------------------


def test_tls_is_verified_against_the_printed_ca(sandbox: Sandbox, connect: Connect) -> None:
    assert sandbox.ca_file is not None
    alice = connect("alice")
    assert isinstance(alice.sock, ssl.SSLSocket)
    with socket.create_connection((sandbox.host, sandbox.port), timeout=5) as raw:
        untrusting = ssl.create_default_context()  # the system store: no sandbox CA
        with pytest.raises(ssl.SSLCertVerificationError):
            untrusting.wrap_socket(raw, server_hostname=sandbox.host)


def test_a_new_session_logs_in_with_seq_1_and_no_eto_login(connect: Connect) -> None:
    alice = connect("alice")
    login = alice.written[0]
    assert login.type == seto.PAYLOAD_LOGIN
    assert login.eto_payload.type == eto.PAYLOAD_LOGIN
    assert login.eto_payload.seq == 1
    assert not login.eto_payload.HasField("login")
    answer = alice.login_answer
    assert answer.eto_payload.type == eto.PAYLOAD_LOGIN_RESPONSE
    assert answer.eto_payload.seq == 1
    response = answer.eto_payload.login_response
    assert re.fullmatch(r"[0-9a-f]+9999", response.session), response.session
    assert response.HasField("reset") and response.reset == 2
    assert alice.outseq == 2
    alice.sync()
    delivered_seqs_are_each_once_in_order(alice)


def test_a_session_that_asks_for_extensions_gets_them(connect: Connect) -> None:
    """The control: the check does catch extensions when the server sends them."""
    client = connect("alice", login=False)
    client.login_extra = bytes([0xA0, 0x06, 0x01])  # seto.Login field 100 = 1
    with pytest.raises(UnpublishedContent, match="unknown field 100"):
        client.login()


def test_bad_credentials_are_unauthorised(connect: Connect) -> None:
    mallory = connect("alice", login=False, password="not-alices-password")
    answer = mallory.try_login()
    assert kind_of(answer) == "eto.logout"
    assert answer.eto_payload.logout.reason == eto.LOGOUT_UNAUTHORISED


def test_a_first_payload_other_than_a_login_is_refused(connect: Connect) -> None:
    client = connect("alice", login=False)
    client.connect()
    client.send_eto(eto.PAYLOAD_PING)
    logout = client.wait_for("eto.logout")
    assert logout.eto_payload.logout.reason == eto.LOGOUT_LOGIN_NOT_FIRST_SEQ


def test_a_new_session_logging_in_with_seq_2_is_refused(connect: Connect) -> None:
    client = connect("alice", login=False)
    client.connect()
    client.outseq = 2
    login = seto.Payload(type=seto.PAYLOAD_LOGIN)
    login.eto_payload.type = eto.PAYLOAD_LOGIN
    login.login.username, login.login.password = "alice", "alice-pw"
    client.send(login)
    logout = client.wait_for("eto.logout")
    assert logout.eto_payload.logout.reason == eto.LOGOUT_LOGIN_NOT_FIRST_SEQ


def test_resuming_an_unknown_session_is_refused(connect: Connect) -> None:
    client = connect("alice", login=False)
    client.session_id = f"{secrets.randbits(60):x}9999"
    client.outseq = 5
    answer = client.try_login()
    assert kind_of(answer) == "eto.logout"
    assert answer.eto_payload.logout.reason == eto.LOGOUT_UNKNOWN_SESSION


def test_ping_is_answered_by_pong(connect: Connect) -> None:
    alice = connect("alice")
    seq = alice.send_eto(eto.PAYLOAD_PING)
    pong = alice.wait_for("eto.pong")
    assert pong.type == seto.PAYLOAD_ETO
    assert seq == 2


def test_logout_is_confirmed_and_the_session_cannot_be_resumed(connect: Connect) -> None:
    alice = connect("alice")
    answer = alice.logout()
    assert answer.eto_payload.logout.reason == eto.LOGOUT_CONFIRMATION
    alice.connect()
    again = alice.try_login()
    assert kind_of(again) == "eto.logout"
    assert again.eto_payload.logout.reason == eto.LOGOUT_UNKNOWN_SESSION


# -- orders -----------------------------------------------------------------------------------


def test_order_accepted_then_executed_when_crossed(connect: Connect) -> None:
    alice, bob = connect("alice"), connect("bob")
    seq = alice.order_create(M1, 1, BUY, 20_000, 4000)
    answer = alice.answer(seq)
    assert kind_of(answer) == "order_accepted", answer
    assert answer.order_accepted.seq == seq
    alice_order = uuid_int(answer.order_accepted.order)

    bob_seq = bob.order_create(M1, 1, SELL, 20_000, 4000)
    bob_answer = bob.answer(bob_seq)
    assert kind_of(bob_answer) == "order_accepted", bob_answer
    bob_order = uuid_int(bob_answer.order_accepted.order)
    assert bob_order != alice_order
    assert abs(bob_order - alice_order) != 1, "order ids must not be consecutive numbers"

    for client, order_id in ((alice, alice_order), (bob, bob_order)):
        fill = executed(client, order_id)
        assert fill.price == 4000
        assert fill.quantity_type == seto.QUANTITY_PAYOFF_CURRENCY
        assert fill.quantity == 20_000
    # A filled order is no longer live.
    rejected = cancel_rejected(alice, alice.cancel(alice_order))
    assert rejected.reason == seto.ORDER_CANCEL_REJECTED_NOT_LIVE


def test_order_rejected_insufficient_funds(connect: Connect) -> None:
    alice = connect("alice")
    seq = alice.order_create(M1, 1, BUY, 500_000_000, 9999)  # reserves 49,995.00
    answer = alice.answer(seq)
    assert kind_of(answer) == "order_rejected", answer
    assert answer.order_rejected.seq == seq
    assert answer.order_rejected.reason == seto.ORDER_REJECTED_INSUFFICIENT_FUNDS == 1


@pytest.mark.parametrize(
    ("market", "contract", "reason"),
    [
        (0xABCDEF, 1, seto.ORDER_REJECTED_MARKET_NOT_FOUND),
        (M1, 0x99, seto.ORDER_REJECTED_CONTRACT_NOT_FOUND),
        (M1, 4, seto.ORDER_REJECTED_CONTRACT_NOT_FOUND),  # a contract of market 2
    ],
    ids=["market-not-found", "contract-not-found", "contract-of-another-market"],
)
def test_order_rejected_unknown_market_or_contract(
    connect: Connect, market: int, contract: int, reason: int
) -> None:
    assert (seto.ORDER_REJECTED_MARKET_NOT_FOUND, seto.ORDER_REJECTED_CONTRACT_NOT_FOUND) == (7, 9)
    alice = connect("alice")
    seq = alice.order_create(market, contract, BUY, 10_000, 5000)
    answer = alice.answer(seq)
    assert kind_of(answer) == "order_rejected", answer
    assert answer.order_rejected.seq == seq
    assert answer.order_rejected.reason == reason


def test_order_rejected_crossed_self(connect: Connect) -> None:
    alice = connect("alice")
    resting = alice.place(M1, 2, SELL, 10_000, 6000)
    for price in (6000, 6500):
        seq = alice.order_create(M1, 2, BUY, 10_000, price)
        answer = alice.answer(seq)
        assert kind_of(answer) == "order_rejected", answer
        assert answer.order_rejected.reason == seto.ORDER_REJECTED_CROSSED_SELF == 6
    alice.cancel(resting)
    assert cancelled(alice, resting).reason == seto.ORDER_CANCELLED_MEMBER_REQUESTED


@pytest.mark.parametrize("price", [0, 10_000, None], ids=["0", "10000", "missing"])
def test_order_invalid_price(connect: Connect, price: int | None) -> None:
    alice = connect("alice")
    seq = alice.order_create(M1, 1, BUY, 10_000, price)
    answer = alice.answer(seq)
    assert kind_of(answer) == "order_invalid", answer
    assert answer.order_invalid.seq == seq
    assert list(answer.order_invalid.reasons) == [seto.ORDER_INVALID_INVALID_PRICE]


@pytest.mark.parametrize("quantity", [0, 999, 500_000_001])
def test_order_invalid_quantity(connect: Connect, quantity: int) -> None:
    alice = connect("alice")
    seq = alice.order_create(M1, 1, BUY, quantity, 100)
    answer = alice.answer(seq)
    assert kind_of(answer) == "order_invalid", answer
    assert answer.order_invalid.seq == seq
    assert list(answer.order_invalid.reasons) == [seto.ORDER_INVALID_INVALID_QUANTITY]


def test_order_quantity_limits_are_inclusive(connect: Connect) -> None:
    alice = connect("alice")
    smallest = alice.place(M1, 1, BUY, 1000, 100)
    alice.cancel(smallest)
    cancelled(alice, smallest)
    seq = alice.order_create(M1, 1, BUY, 500_000_000, 9999)  # valid, but 49,995.00
    answer = alice.answer(seq)
    assert kind_of(answer) == "order_rejected", answer
    assert answer.order_rejected.reason == seto.ORDER_REJECTED_INSUFFICIENT_FUNDS


def test_immediate_or_cancel_without_liquidity(connect: Connect) -> None:
    alice = connect("alice")
    seq = alice.order_create(M1, 3, BUY, 10_000, 5000, tif=seto.IMMEDIATE_OR_CANCEL)
    answer = alice.answer(seq)
    assert kind_of(answer) == "order_accepted", answer
    order_id = uuid_int(answer.order_accepted.order)
    gone = alice.wait_for("order_cancelled")
    assert uuid_int(gone.order_cancelled.order) == order_id
    assert gone.order_cancelled.reason == seto.ORDER_CANCELLED_INSUFFICIENT_LIQUIDITY == 3
    assert gone.eto_payload.seq > answer.eto_payload.seq


# -- cancels ----------------------------------------------------------------------------------


def test_cancel_by_member_then_not_live(connect: Connect) -> None:
    alice = connect("alice")
    order_id = alice.place(M2, 4, BUY, 10_000, 1000)
    alice.cancel(order_id)
    assert cancelled(alice, order_id).reason == seto.ORDER_CANCELLED_MEMBER_REQUESTED == 1
    seq = alice.cancel(order_id)
    rejected = cancel_rejected(alice, seq)
    assert rejected.reason == seto.ORDER_CANCEL_REJECTED_NOT_LIVE == 2


def test_cancel_of_an_unknown_id_is_not_found(connect: Connect) -> None:
    alice = connect("alice")
    seq = alice.cancel(secrets.randbits(64) | 1)
    assert cancel_rejected(alice, seq).reason == seto.ORDER_CANCEL_REJECTED_NOT_FOUND == 1


def test_cancel_of_another_accounts_order_is_not_found(connect: Connect) -> None:
    alice, bob = connect("alice"), connect("bob")
    bobs = bob.place(M2, 4, BUY, 10_000, 1100)
    seq = alice.cancel(bobs)
    assert cancel_rejected(alice, seq).reason == seto.ORDER_CANCEL_REJECTED_NOT_FOUND
    bob.sync()
    assert "order_cancelled" not in bob.kinds()
    bob.cancel(bobs)
    assert cancelled(bob, bobs).reason == seto.ORDER_CANCELLED_MEMBER_REQUESTED


# -- market data ------------------------------------------------------------------------------


def test_subscribe_snapshot_then_updates_best_first(connect: Connect) -> None:
    carol, dave, bob = connect("carol"), connect("dave"), connect("bob")
    snapshot = subscribe(carol, M3)
    assert uuid_int(snapshot.market) == M3
    assert snapshot.price_type == seto.PRICE_PERCENT_ODDS
    assert snapshot.quantity_type == seto.QUANTITY_PAYOFF_CURRENCY
    for contract_quotes in snapshot.contract_quotes:
        assert uuid_int(contract_quotes.contract) in (6, 7)
        assert_best_first(contract_quotes)

    low = dave.place(M3, 6, BUY, 10_000, 3000)
    assert (3000, 10_000) in levels(quotes_for(carol, 6).bids)
    high = dave.place(M3, 6, BUY, 20_000, 3500)
    assert (3500, 20_000) in levels(quotes_for(carol, 6).bids)
    carol.sync()
    carol.take_all("contract_quotes")

    # bob's sell takes both bid levels, best first, and rests 10,000 at 3000.
    seller = bob.place(M3, 6, SELL, 40_000, 3000)
    executed(dave, high)
    executed(dave, low)
    carol.sync()
    updates = [p.contract_quotes for p in carol.take_all("contract_quotes")]
    updates = [u for u in updates if uuid_int(u.contract) == 6]
    assert updates, "no contract_quotes after the trade"
    bids: dict[int, int] = {}
    offers: dict[int, int] = {}
    executions = []
    for update in updates:
        assert_best_first(update)
        bids.update(levels(update.bids))
        offers.update(levels(update.offers))
        executions.extend(update.executions)
        if update.executions:
            assert update.HasField("last_execution")
            assert update.last_execution == update.executions[-1]
    assert bids == {3500: 0, 3000: 0}
    assert offers == {3000: 10_000}
    assert [(e.price, e.quantity) for e in executions] == [(3500, 20_000), (3000, 10_000)]
    for execution in executions:
        assert execution.liquidity in (BUY, SELL)
        assert execution.microseconds > 0
    bob.cancel(seller)
    cancelled(bob, seller)


def test_unsubscribe_stops_the_updates(connect: Connect) -> None:
    carol, dave = connect("carol"), connect("dave")
    subscribe(carol, M3)
    first = dave.place(M3, 7, BUY, 10_000, 2000)
    assert (2000, 10_000) in levels(quotes_for(carol, 7).bids)
    carol.sync()
    carol.take_all("contract_quotes")

    carol.send_app("market_unsubscribe", seto.MarketUnsubscribe(market=uuid(M3)))
    carol.sync()  # the unsubscribe has been handled
    second = dave.place(M3, 7, BUY, 10_000, 2100)
    carol.sync()  # anything sent for dave's order came before this pong
    assert not carol.take_all("contract_quotes")
    assert not carol.take_all("market_quotes")
    for order_id in (first, second):
        dave.cancel(order_id)
        cancelled(dave, order_id)


def test_market_quotes_request_sends_one_snapshot(connect: Connect) -> None:
    carol, dave = connect("carol"), connect("dave")
    first = dave.place(M3, 7, BUY, 30_000, 1234)
    carol.send_app("market_quotes_request", seto.MarketQuotesRequest(market=uuid(M3)))
    snapshot = carol.wait_for("market_quotes").market_quotes
    assert uuid_int(snapshot.market) == M3
    assert snapshot.price_type == seto.PRICE_PERCENT_ODDS
    assert snapshot.quantity_type == seto.QUANTITY_PAYOFF_CURRENCY
    by_contract = {uuid_int(c.contract): c for c in snapshot.contract_quotes}
    assert (1234, 30_000) in levels(by_contract[7].bids)
    for contract_quotes in snapshot.contract_quotes:
        assert_best_first(contract_quotes)
    second = dave.place(M3, 7, BUY, 10_000, 1235)
    carol.sync()
    assert not carol.take_all("contract_quotes"), "a quotes request is not a subscription"
    assert not carol.take_all("market_quotes")
    for order_id in (first, second):
        dave.cancel(order_id)
        cancelled(dave, order_id)


# -- the account's orders and money -----------------------------------------------------------


def _orders_by_id(orders_for_market: Any) -> dict[int, tuple[int, str, int, Any]]:
    """order id -> (contract, 'bid'/'offer', price, OrderState)."""
    out = {}
    for contract in orders_for_market.contracts:
        for side, prices in (("bid", contract.bids), ("offer", contract.offers)):
            for level in prices:
                for state in level.orders:
                    order_id = uuid_int(state.order)
                    assert order_id not in out, f"order {order_id:x} listed twice"
                    out[order_id] = (uuid_int(contract.contract), side, level.price, state)
    return out


def test_orders_for_account_and_for_market(connect: Connect) -> None:
    carol, dave = connect("carol"), connect("dave")
    first = carol.place(M4, 8, BUY, 10_000, 2000)
    second = carol.place(M4, 8, BUY, 20_000, 2000)
    offer = carol.place(M4, 9, SELL, 30_000, 8000)
    gone = carol.place(M4, 8, BUY, 10_000, 1500)
    carol.cancel(gone)
    cancelled(carol, gone)
    dave_order = dave.place(M4, 8, SELL, 5000, 2000)  # fills 5,000 of `first`
    assert executed(carol, first).quantity == 5000
    executed(dave, dave_order)

    expected = {
        first: (8, "bid", 2000, seto.ORDER_STATUS_PARTIALLY_FILLED, 10_000, 5000),
        second: (8, "bid", 2000, seto.ORDER_STATUS_LIVE, 20_000, 0),
        offer: (9, "offer", 8000, seto.ORDER_STATUS_LIVE, 30_000, 0),
    }

    def check(orders_for_market: Any) -> None:
        assert uuid_int(orders_for_market.market) == M4
        assert orders_for_market.price_type == seto.PRICE_PERCENT_ODDS
        found = _orders_by_id(orders_for_market)
        assert set(found) == set(expected), {f"{k:x}" for k in found}
        for order_id, (contract, side, price, status, quantity, filled) in expected.items():
            state = found[order_id][3]
            assert found[order_id][:3] == (contract, side, price)
            assert state.type == seto.ORDER_CREATE_LIMIT
            assert state.status == status
            assert state.quantity_type == seto.QUANTITY_PAYOFF_CURRENCY
            assert state.quantity == quantity
            assert state.quantity_filled == filled
            assert state.created_microseconds > 0

    carol.send_app("orders_for_account_request")
    by_account = carol.wait_for("orders_for_account").orders_for_account
    assert [uuid_int(m.market) for m in by_account.markets] == [M4]
    check(by_account.markets[0])

    carol.send_app("orders_for_market_request", seto.orders_for_market_request(market=uuid(M4)))
    check(carol.wait_for("orders_for_market").orders_for_market)
    for order_id in expected:
        carol.cancel(order_id)
        cancelled(carol, order_id)


def test_account_state_exact_money(start_sandbox: Callable[..., Sandbox]) -> None:
    alice = start_sandbox().client("alice")
    state = account_state(alice)
    assert state.HasField("account")
    assert state.currency in (seto.CURRENCY_GBP, seto.CURRENCY_EUR)
    assert money(state.cash) == Decimal("1000.00")
    assert money(state.bonus) == 0
    assert money(state.exposure) == 0
    alice.place(M1, 1, BUY, 100_000, 2500)  # reserves 100,000 x 25.00% = 2.50
    state = account_state(alice)
    assert money(state.cash) == Decimal("1000.00")
    assert money(state.exposure) == Decimal("2.50")


# -- resume and replay ------------------------------------------------------------------------


def test_resume_replays_what_was_missed_once(connect: Connect) -> None:
    alice, bob = connect("alice"), connect("bob")
    order_id = alice.place(M4, 0xA, BUY, 10_000, 6000)
    alice.sync()
    next_out = alice.outseq
    session = alice.session_id
    alice.drop()  # no logout: the session is parked

    bobs = bob.place(M4, 0xA, SELL, 10_000, 6000)
    executed(bob, bobs)

    response = alice.login()
    resume = [p for p in alice.written if kind_of(p) == "login"][-1]
    assert resume.eto_payload.login.session == session
    assert resume.eto_payload.seq == next_out
    assert response.eto_payload.login_response.session == session
    assert response.eto_payload.login_response.reset == next_out + 1
    fill = executed(alice, order_id)
    assert fill.quantity == 10_000 and fill.price == 6000
    alice.sync()
    delivered_seqs_are_each_once_in_order(alice)
    fills = [p for p in alice.delivered if kind_of(p) == "order_executed"]
    assert len(fills) == 1
    accepted = [p for p in alice.delivered if kind_of(p) == "order_accepted"]
    assert len(accepted) == 1
    assert alice.logout().eto_payload.logout.reason == eto.LOGOUT_CONFIRMATION


def _alices_orders(alice: ForeignClient) -> dict[int, tuple[int, str, int, Any]]:
    alice.send_app("orders_for_market_request", seto.orders_for_market_request(market=uuid(M4)))
    return _orders_by_id(alice.wait_for("orders_for_market").orders_for_market)


def test_resume_replays_what_the_server_missed(connect: Connect) -> None:
    alice = connect("alice")
    first = alice.place(M4, 0xB, BUY, 10_000, 1500)
    lost_seq = alice.order_create(M4, 0xB, BUY, 10_000, 1600, lose=True)
    alice.drop()

    response = alice.login()  # logs in with seq lost_seq + 1: the server misses lost_seq
    assert response.eto_payload.login_response.reset == lost_seq
    answer = alice.answer(lost_seq)  # the server asked for it (REPLAY) and got it
    assert kind_of(answer) == "order_accepted", answer
    second = uuid_int(answer.order_accepted.order)
    resent = [p for p in alice.written if p.eto_payload.seq == lost_seq]
    assert len(resent) == 1 and resent[0].eto_payload.is_replay
    login_copies = [kind_of(p) for p in alice.written if p.eto_payload.seq == lost_seq + 1]
    assert login_copies == ["login", "eto.gapfill"]  # the login is not replayed as a login
    found = _alices_orders(alice)
    assert {k for k, v in found.items() if v[0] == 0xB} == {first, second}
    delivered_seqs_are_each_once_in_order(alice)
    for order_id in (first, second):
        alice.cancel(order_id)
        cancelled(alice, order_id)


def test_a_gap_on_a_live_connection_is_filled_by_replay(connect: Connect) -> None:
    alice = connect("alice")
    lost_seq = alice.order_create(M4, 0xB, BUY, 10_000, 1700, lose=True)
    next_seq = alice.order_create(M4, 0xB, BUY, 10_000, 1800)
    first = alice.answer(lost_seq)
    then = alice.answer(next_seq)
    assert kind_of(first) == kind_of(then) == "order_accepted"
    assert first.eto_payload.seq < then.eto_payload.seq  # applied in seq order
    alice.sync()
    accepted = [p.order_accepted.seq for p in alice.delivered if kind_of(p) == "order_accepted"]
    assert accepted == [lost_seq, next_seq]
    for answer in (first, then):
        order_id = uuid_int(answer.order_accepted.order)
        alice.cancel(order_id)
        cancelled(alice, order_id)


# -- halts, settlement: a sandbox each --------------------------------------------------------


def test_halt_cancels_resting_orders_and_rejects_new_ones(
    start_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = start_sandbox()
    alice, bob = sandbox.client("alice"), sandbox.client("bob")
    resting = alice.place(M1, 1, BUY, 10_000, 3000)
    subscribe(bob, M1)
    answer = sandbox.admin("halt 1c024")
    assert answer.startswith("ok"), answer

    assert cancelled(alice, resting).reason == seto.ORDER_CANCELLED_MARKET_HALTED == 2
    seq = alice.order_create(M1, 1, BUY, 10_000, 3000)
    rejected = alice.answer(seq)
    assert kind_of(rejected) == "order_rejected", rejected
    assert rejected.order_rejected.reason == seto.ORDER_REJECTED_MARKET_HALTED == 5
    assert (3000, 0) in levels(quotes_for(bob, 1).bids)  # the book lost the order

    answer = sandbox.admin("reopen 1c024")
    assert answer.startswith("ok"), answer
    alice.place(M1, 1, BUY, 10_000, 3000)
    bob.sync()
    alice.sync()


def test_settlement_told_the_published_way(start_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = start_sandbox()
    alice, bob = sandbox.client("alice"), sandbox.client("bob")
    subscribe(bob, M2)
    bought = alice.place(M2, 4, BUY, 10_000, 3000)
    sold = bob.place(M2, 4, SELL, 10_000, 3000)
    executed(alice, bought)
    executed(bob, sold)
    resting = alice.place(M2, 4, BUY, 10_000, 2000)
    answer = sandbox.admin("settle 2c024 4cccc")
    assert answer.startswith("ok"), answer

    assert cancelled(alice, resting).reason == seto.ORDER_CANCELLED_MARKET_HALTED
    pushed = alice.wait_for("account_state").account_state  # a changed account state
    assert money(pushed.cash) == Decimal("1000.70")  # paid 0.30, won 1.00
    assert money(pushed.exposure) == 0
    seq = alice.order_create(M2, 4, BUY, 10_000, 3000)
    rejected = alice.answer(seq)
    assert kind_of(rejected) == "order_rejected", rejected
    assert rejected.order_rejected.reason == seto.ORDER_REJECTED_MARKET_SETTLED == 4
    bob.sync()
    alice.sync()


# -- downtime: a sandbox each -----------------------------------------------------------------


def _start(alert: Any) -> datetime:
    date, time_ = alert.datetime.date, alert.datetime.time
    return datetime(date.year, date.month, date.day, time_.hour, time_.minute, tzinfo=timezone.utc)


def test_connection_downtime_alert_then_logout(start_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = start_sandbox()
    clients = [sandbox.client("alice"), sandbox.client("bob")]
    expected = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    answer = sandbox.admin("downtime connection 1 maintenance")
    assert answer.startswith("ok"), answer
    for client in clients:
        alert = client.wait_for("eto.downtime_alert").eto_payload.downtime_alert
        assert alert.type == eto.DOWNTIME_ALERT_CONNECTION
        assert alert.HasField("datetime")
        assert abs(_start(alert) - expected) <= timedelta(minutes=1), alert.datetime
        assert alert.description == "maintenance"
    for client in clients:
        logout = client.wait_for("eto.logout", timeout=7)
        assert logout.eto_payload.logout.reason == eto.LOGOUT_DOWNTIME


def test_connection_downtime_cancelled(start_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = start_sandbox()
    alice = sandbox.client("alice")
    assert sandbox.admin("downtime connection 30 maintenance").startswith("ok")
    alert = alice.wait_for("eto.downtime_alert").eto_payload.downtime_alert
    assert alert.type == eto.DOWNTIME_ALERT_CONNECTION
    assert sandbox.admin("downtime cancel").startswith("ok")
    alert = alice.wait_for("eto.downtime_alert").eto_payload.downtime_alert
    assert alert.type == eto.DOWNTIME_ALERT_CANCELLED
    alice.sync()
    assert alice.logout().eto_payload.logout.reason == eto.LOGOUT_CONFIRMATION


def test_order_downtime_rejects_orders_until_resumed(
    start_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = start_sandbox()
    alice = sandbox.client("alice")
    announced = time.monotonic()
    assert sandbox.admin("downtime orders 1 maintenance").startswith("ok")
    alert = alice.wait_for("downtime_alert")
    assert alert.downtime_alert.type == seto.DOWNTIME_ALERT_ORDER_CREATE
    before = alice.place(M1, 1, BUY, 10_000, 3000)  # the downtime starts in a second
    alice.cancel(before)
    cancelled(alice, before)
    alice.pump(announced + 1.5 - time.monotonic())  # until the downtime has begun
    seq = alice.order_create(M1, 1, BUY, 10_000, 3000)
    rejected = alice.answer(seq)
    assert kind_of(rejected) == "order_rejected", rejected
    assert rejected.order_rejected.reason == seto.ORDER_REJECTED_SERVICE_TEMPORARILY_UNAVAILABLE
    assert sandbox.admin("downtime resumed").startswith("ok")
    resumed = alice.wait_for(
        "eto.downtime_alert",
        where=lambda p: p.eto_payload.downtime_alert.type == eto.DOWNTIME_ALERT_SERVICE_RESUMED,
    )
    assert resumed.eto_payload.downtime_alert.type == eto.DOWNTIME_ALERT_SERVICE_RESUMED
    alice.place(M1, 1, BUY, 10_000, 3000)


# -- settings: a sandbox each -----------------------------------------------------------------


def test_heartbeats_are_answered_and_keep_the_session(
    start_sandbox: Callable[..., Sandbox],
) -> None:
    alice = start_sandbox("--heartbeat-interval", "0.5").client("alice")
    alice.pump(2.2)  # beyond the server's heartbeat timeout (3 intervals)
    heard = [p for p in alice.delivered if kind_of(p) == "eto.heartbeat"]
    answered = [p for p in alice.written if kind_of(p) == "eto.heartbeat"]
    assert len(heard) >= 2
    assert len(answered) == len(heard)
    assert alice.logout_reason is None
    alice.sync()
    assert alice.logout().eto_payload.logout.reason == eto.LOGOUT_CONFIRMATION


def test_max_order_quantity_setting(start_sandbox: Callable[..., Sandbox]) -> None:
    alice = start_sandbox("--max-order-quantity", "100000").client("alice")
    seq = alice.order_create(M1, 1, BUY, 100_001, 100)
    answer = alice.answer(seq)
    assert kind_of(answer) == "order_invalid", answer
    assert list(answer.order_invalid.reasons) == [seto.ORDER_INVALID_INVALID_QUANTITY]
    alice.place(M1, 1, BUY, 100_000, 100)


def test_plain_tcp_when_tls_is_turned_off(start_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = start_sandbox(tls=False)
    assert sandbox.ca_file is None
    alice = sandbox.client("alice")
    assert not isinstance(alice.sock, ssl.SSLSocket)
    alice.sync()
    assert alice.logout().eto_payload.logout.reason == eto.LOGOUT_CONFIRMATION


def test_open_order_limit(start_sandbox: Callable[..., Sandbox]) -> None:
    alice = start_sandbox("--max-open-orders", "1").client("alice")
    alice.place(M1, 1, BUY, 10_000, 100)
    seq = alice.order_create(M1, 1, BUY, 10_000, 200)
    answer = alice.answer(seq)
    assert kind_of(answer) == "order_rejected", answer
    assert answer.order_rejected.reason == seto.ORDER_REJECTED_LIMIT_EXCEEDED == 2


def test_suspended_account(start_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = start_sandbox()
    alice = sandbox.client("alice")
    assert sandbox.admin("suspend alice").startswith("ok")
    seq = alice.order_create(M1, 1, BUY, 10_000, 100)
    answer = alice.answer(seq)
    assert kind_of(answer) == "order_rejected", answer
    assert answer.order_rejected.reason == seto.ORDER_REJECTED_ACCOUNT_SUSPENDED == 10
    assert sandbox.admin("unsuspend alice").startswith("ok")
    alice.place(M1, 1, BUY, 10_000, 100)
