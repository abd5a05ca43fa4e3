"""A silent peer: both sides notice it by heartbeats, and the session resumes.

The :class:`~faultproxy.FaultProxy` between Alice and the sandbox stalls: no byte goes
through in either direction, and neither side's closing reaches the other -- a link that
died without a word. Both timeouts are short. The client's read notices the silence and
reports :class:`~smarkets.errors.HeartbeatTimeoutError` (as a ``DISCONNECTED`` connection
event; its reconnect policy then resumes); the sandbox notices it on its side, logs the
session out with ``HEARTBEAT_TIMEOUT`` and keeps it resumable. The reconnect attempt is
held until the sandbox has logged that (the listener waits for it), then the link
recovers and the same session resumes: the order sent into the silence is answered
exactly once. Only detection is asserted, never how long it took.
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
from smarkets.sandbox.exchange import reservation
from smarkets.sandbox.process import SandboxProcess

ACCOUNTS = {"alice": {"password": "alice-pw", "balance": 10**10}}
WAIT = 30.0


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    args = ["--heartbeat-interval", "0.2", "--heartbeat-timeout", "1", "--session-expiry", "60"]
    with SandboxProcess(tls=False, bots=0, accounts=ACCOUNTS, extra_args=args) as sb:
        yield sb


def wait_for(condition, what: str) -> None:
    limit = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < limit, f"never happened: {what}"
        time.sleep(0.02)


def order(price: int) -> smarkets.Order:
    return smarkets.Order(
        quantity=10_000, price=price, side=smarkets.Order.BUY, market="1c024", contract="1cccc"
    )


def test_a_silent_link_is_detected_on_both_sides_and_the_session_resumes(sandbox) -> None:
    with FaultProxy((sandbox.host, sandbox.port)) as proxy:
        events: list[ConnectionEvent] = []
        session_id: list[str] = []

        def server_timed_out() -> bool:
            pattern = rf"session {session_id[0]} parked \(LOGOUT_HEARTBEAT_TIMEOUT\)"
            return re.search(pattern, sandbox.log_text) is not None

        def on_event(event: ConnectionEvent) -> None:
            events.append(event)
            if event.state is ConnectionState.RECONNECTING and proxy.stalled:
                wait_for(server_timed_out, "the sandbox's heartbeat timeout")
                proxy.resume()

        settings = sandbox_settings(
            sandbox,
            "alice",
            port=proxy.port,
            heartbeat_interval=0.2,
            heartbeat_timeout=1.0,
            login_timeout=2.0,
            socket_timeout=10.0,
        )
        policy = ReconnectPolicy(max_attempts=5, initial_delay=0.01, jitter=0.0)
        session = smarkets.Session(settings, reconnect=policy, on_connection_event=on_event)
        client = smarkets.Smarkets(session)
        answers: list[int] = []
        client.add_handler("seto.order_accepted", lambda message: answers.append(message.seq))
        client.login()
        session_id.append(session.session or "")
        first = client.order(order(1000))
        client.flush()
        wait_for(lambda: client.read(1) and bool(answers), "the first answer")

        proxy.stall()
        second = client.order(order(2000))  # sent into the silence
        client.flush()
        limit = time.monotonic() + WAIT
        while not any(e.state is ConnectionState.CONNECTED for e in events) or len(answers) < 2:
            assert time.monotonic() < limit, f"no resume: {[str(e) for e in events]}"
            client.read(1)

    # The client noticed the silence itself ...
    assert [e.state for e in events][:2] == [
        ConnectionState.DISCONNECTED,
        ConnectionState.RECONNECTING,
    ]
    error = events[0].error
    assert isinstance(error, smarkets.HeartbeatTimeoutError)
    assert not error.by_peer and error.resumable
    # ... so did the sandbox, which kept the session for the resume.
    assert server_timed_out()
    assert f"resumes session {session_id[0]}" in sandbox.log_text
    assert session.session == session_id[0] and session.logged_in
    assert sorted(answers) == sorted({first.seq, second.seq})  # each answered once
    balance = sandbox.balance("alice")
    assert balance.exposure == sum(
        reservation(o.side, o.quantity, o.price) for o in (first, second)
    )
    client.logout()
