"""Session expiry: the sandbox keeps a dropped session, with what it owes it, until it expires.

* Within ``--session-expiry``: Alice's connection is cut; while she is away Bob fills her
  resting order. The parked session is still numbered and stored, so when her reconnect
  policy resumes it she gets the fill -- exactly once -- and her account reconciles.
* After it: the sandbox forgets the session. The resume is refused with
  ``UNKNOWN_SESSION``; the client raises :class:`~smarkets.errors.UnknownSessionError`
  (not resumable, the listener is told ``ENDED``), clears its state store, and the next
  ``login()`` starts a new session, from which the script can reconcile (its orders are
  still on the book).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from faultproxy import FaultProxy
from support import sandbox_settings

import smarkets
from smarkets.reconnect import ConnectionEvent, ConnectionState, ReconnectPolicy
from smarkets.sandbox.exchange import buy_cost
from smarkets.sandbox.process import SandboxProcess

BALANCE = 10**10
ACCOUNTS = {
    "alice": {"password": "alice-pw", "balance": BALANCE},
    "bob": {"password": "bob-pw", "balance": BALANCE},
}
WAIT = 30.0


def wait_for(condition, what: str) -> None:
    limit = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < limit, f"never happened: {what}"
        time.sleep(0.02)


def order(side: int, price: int = 5000) -> smarkets.Order:
    return smarkets.Order(quantity=10_000, price=price, side=side, market="1c024", contract="1cccc")


def sandbox_with_expiry(seconds: float) -> SandboxProcess:
    args = ["--session-expiry", str(seconds), "--heartbeat-interval", "1"]
    return SandboxProcess(tls=False, bots=0, accounts=ACCOUNTS, extra_args=args)


@pytest.fixture
def short_expiry() -> Iterator[SandboxProcess]:
    with sandbox_with_expiry(0.5) as sb:
        yield sb


@pytest.fixture
def long_expiry() -> Iterator[SandboxProcess]:
    with sandbox_with_expiry(60) as sb:
        yield sb


def read_until(client: smarkets.Smarkets, condition, what: str) -> None:
    limit = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < limit, f"never happened: {what}"
        try:
            client.read(1)
        except smarkets.SocketTimeout:
            pass


def test_within_expiry_the_resume_gets_what_the_session_was_sent(long_expiry) -> None:
    sandbox = long_expiry
    with FaultProxy((sandbox.host, sandbox.port)) as proxy:
        events: list[ConnectionEvent] = []
        settings = sandbox_settings(sandbox, "alice", port=proxy.port, socket_timeout=1.0)
        policy = ReconnectPolicy(max_attempts=5, initial_delay=0.01, jitter=0.0)
        session = smarkets.Session(settings, reconnect=policy, on_connection_event=events.append)
        alice = smarkets.Smarkets(session)
        fills: list[int] = []
        alice.add_handler("seto.order_executed", lambda message: fills.append(message.quantity))
        alice.login()
        resting = alice.order(order(smarkets.Order.BUY))
        alice.flush()
        read_until(alice, lambda: resting.state == "accepted", "alice's order accepted")

        assert proxy.cut_all() == 1
        parked = f"session {session.session} parked"
        wait_for(lambda: parked in sandbox.log_text, "the sandbox parks the session")
        bob = smarkets.Smarkets(
            smarkets.Session(sandbox_settings(sandbox, "bob", socket_timeout=1.0))
        )
        bob.login()
        taker = bob.order(order(smarkets.Order.SELL))
        bob.flush()
        read_until(bob, lambda: taker.state == "filled", "bob's order filled")
        bob.logout()

        read_until(alice, lambda: bool(fills), "alice's fill, after the resume")
        alice.request_account_state()
        alice.flush()
        states: list = []
        alice.add_handler("seto.account_state", states.append)
        read_until(alice, lambda: bool(states), "alice's account state")
    assert fills == [10_000]  # exactly once, though it happened while she was away
    assert resting.state == "filled"
    assert [e.state for e in events] == [
        ConnectionState.DISCONNECTED,
        ConnectionState.RECONNECTING,
        ConnectionState.CONNECTED,
    ]
    stake = buy_cost(10_000, 5000)
    assert len(states) == 1
    # money is a seto.Decimal on the wire; the client's account view is in 1/10,000 units
    state = alice.account
    assert state is not None
    assert (state.cash, state.staked, state.exposure) == (BALANCE - stake, stake, 0)
    admin = sandbox.balance("alice")
    assert (admin.cash, admin.staked, admin.exposure) == (BALANCE - stake, stake, 0)
    alice.logout()


def test_after_expiry_the_resume_is_refused_and_a_new_session_starts(
    short_expiry, tmp_path
) -> None:
    sandbox = short_expiry
    store = smarkets.FileStateStore(tmp_path / "alice.session")
    with FaultProxy((sandbox.host, sandbox.port)) as proxy:
        events: list[ConnectionEvent] = []
        old_id: list[str] = []

        def expired() -> bool:
            return (
                re.search(rf"session {old_id[0]} of 'alice' expired", sandbox.log_text) is not None
            )

        def on_event(event: ConnectionEvent) -> None:
            events.append(event)
            if event.state is ConnectionState.RECONNECTING:
                wait_for(expired, "the session's expiry")  # come back too late

        settings = sandbox_settings(sandbox, "alice", port=proxy.port, socket_timeout=1.0)
        policy = ReconnectPolicy(max_attempts=5, initial_delay=0.01, jitter=0.0)
        session = smarkets.Session(
            settings, state_store=store, reconnect=policy, on_connection_event=on_event
        )
        client = smarkets.Smarkets(session)
        client.login()
        old_id.append(session.session or "")
        resting = client.order(order(smarkets.Order.BUY, price=1000))
        client.flush()
        read_until(client, lambda: resting.state == "accepted", "the order accepted")
        assert store.load() is not None

        proxy.cut_all()
        with pytest.raises(smarkets.UnknownSessionError) as caught:
            read_until(client, lambda: False, "the refusal")
        error = caught.value
        assert not error.resumable and "UNKNOWN_SESSION" in str(error)
        assert "not resumable" in str(error)
        assert [e.state for e in events] == [
            ConnectionState.DISCONNECTED,
            ConnectionState.RECONNECTING,
            ConnectionState.ENDED,
        ]
        assert events[-1].error is error
        assert store.load() is None  # nothing left to resume
        with pytest.raises(smarkets.NotLoggedInError, match="ended"):
            client.read(1)

        # Starting afresh: a new session; the old one's order is still on the book.
        client.login()
        assert session.session not in (None, old_id[0])
        assert store.load() is not None and store.load().session_id == session.session
        listed: list = []
        client.add_handler("seto.orders_for_market", listed.append)
        client.request_orders("1c024")
        client.flush()
        read_until(client, lambda: bool(listed), "the open orders")
        rows = smarkets.account.open_orders(listed[0])
        assert [(row.price, row.order) for row in rows] == [(1000, resting.id)]
        client.logout()
